/*
 * 3D-convolution kernels for TensorFlow.js's NDHWC layout (src/models/kernels/), one source for
 * every target: WebAssembly SIMD (wasm.c: VL = 4) and native x86-64 (../x86-64/build.sh: VL = 16
 * with AVX-512, 8 and 4 with AVX2 + FMA), written with GCC/Clang vector extensions for VL-float
 * vectors, PFX naming each compiled copy. Every convolution is reduced to one register-tiled
 * product
 *
 *   C[m][n] = sum_t sum_j A[aoff[t] + m * lda + j] * B[t][j][n]
 *
 * over "taps" t (the depth and height kernel offsets) and a contiguous inner index j (width
 * kernel offset x channel): in NDHWC a width-run of a kernel window is contiguous, so no
 * im2col copy is needed. The n index (output channels) is padded by the host to a multiple of
 * VL (np) so that B rows and C rows are whole vectors; padded B columns are zero. The host picks
 * VL per call (the width that wastes least on padding).
 *
 *   forward         C = output row (m: output x), A = zero-padded input row (lda = stride*C)
 *   input gradient  gather form split into stride phases (r = (i + pad) mod s): each phase
 *                   is a stride-1 correlation of the zero-padded output gradient with a
 *                   flipped, transposed sub-kernel; C rows are every s-th input voxel
 *   filter gradient C = dW[t] tile, reduced over every output voxel (own loop below)
 *
 * Work is cut into "units" (an output depth slice of one batch item, or a filter-gradient
 * tap block); each unit writes a disjoint part of the output with a fixed summation order per
 * element (over t, then j), so results do not depend on which thread runs which unit. No libc;
 * the host lays out every buffer and passes a parameter block (conv3d-wasm.ts) whose pointers
 * are byte offsets into the kernels' WebAssembly.Memory: on wasm32 those are addresses, natively
 * they are added to the memory's base address `base`. The tap-offset scratch is on the stack.
 */
#include <stdint.h>
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define F(name) CAT(PFX, name)

typedef float V __attribute__((vector_size(4 * VL)));
typedef float VU __attribute__((vector_size(4 * VL), aligned(4)));
#define LD(p) (*(const VU *)(p))
#define ST(p, v) (*(VU *)(p) = (v))
/*
 * A broadcast operand: natively a scalar, which "scalar * vector" broadcasts (one vbroadcastss or
 * an embedded broadcast); in WebAssembly one v128.load32_splat (a scalar load and a splat cost
 * two instructions in the innermost loop).
 */
#ifdef __wasm__
#include <wasm_simd128.h>
typedef V Splat;
#define SPL(p) ((V)wasm_v128_load32_splat(p))
#else
typedef float Splat;
#define SPL(p) (*(p))
#endif
#ifdef __wasm__
#define ADDR(T, off) ((void)base, (T)(uintptr_t)(unsigned)(off))
#else
#define ADDR(T, off) ((T)(base + (unsigned)(off)))
#endif
#define PTR(T, w) ADDR(T, p[w])

enum {
  P_X, P_W, P_Y, P_N, P_D, P_H, P_W_, P_C, P_KD, P_KH, P_KW, P_SD, P_SH, P_SW,
  P_OD, P_OH, P_OW, P_NP, P_PD, P_PH, P_PW, P_QD, P_QH, P_QW, P_PHASE, P_AOFF, P_JB, P_WORDS
};
enum { MAX_TAPS = 4096 };

/* One MR x (NV vectors) tile of C, accumulated in registers over every tap and j. */
#define TILE(MR, NV)                                                                          \
  static inline void tile_##MR##_##NV(float *c, int ldc, const float *a, int lda,            \
                                      const int *aoff, int taps, const float *b, int kin,    \
                                      int np) {                                              \
    V s[MR][NV];                                                                              \
    for (int r = 0; r < MR; r++)                                                              \
      for (int q = 0; q < NV; q++) s[r][q] = (V){0};                                          \
    for (int t = 0; t < taps; t++) {                                                          \
      const float *ap = a + aoff[t];                                                          \
      const float *bp = b + t * kin * np;                                                     \
      for (int j = 0; j < kin; j++) {                                                         \
        V bv[NV];                                                                             \
        for (int q = 0; q < NV; q++) bv[q] = LD(bp + j * np + VL * q);                        \
        for (int r = 0; r < MR; r++) {                                                        \
          const Splat av = SPL(ap + r * lda + j);                                                 \
          for (int q = 0; q < NV; q++) s[r][q] += av * bv[q];                                 \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
    for (int r = 0; r < MR; r++)                                                              \
      for (int q = 0; q < NV; q++) ST(c + r * ldc + VL * q, s[r][q]);                         \
  }

/* Rows of tiles MR high, then (natively, where MR > 4) 4, then 1, over the column block [n, n + NV * VL). */
#ifdef __wasm__
#define ROWS_OF_4(NV)
#else
#define ROWS_OF_4(NV)                                                                         \
  for (; m + 4 <= M; m += 4)                                                                  \
    tile_4_##NV(c + m * ldc + n, ldc, a + m * lda, lda, aoff, taps, b + n, kin, np);
#endif
#define ROWS(MR, NV)                                                                          \
  {                                                                                           \
    int m = 0;                                                                                \
    for (; m + MR <= M; m += MR)                                                              \
      tile_##MR##_##NV(c + m * ldc + n, ldc, a + m * lda, lda, aoff, taps, b + n, kin, np);   \
    ROWS_OF_4(NV)                                                                             \
    for (; m < M; m++)                                                                        \
      tile_1_##NV(c + m * ldc + n, ldc, a + m * lda, lda, aoff, taps, b + n, kin, np);        \
  }

#ifdef __wasm__
/*
 * WebAssembly: V8 keeps about 16 vector values in registers; 4 x 2 tiles (and 3 x 3 for a
 * 12-column row, which keeps 10-channel layers free of a one-vector tail) measured fastest.
 */
TILE(4, 2)
TILE(4, 1)
TILE(3, 3)
TILE(1, 2)
TILE(1, 1)
TILE(1, 3)

static void product(float *c, int ldc, const float *a, int lda, const int *aoff, int taps,
                    const float *b, int kin, int np, int M) {
  int n = 0;
  if (np % 8 == 4 && np >= 12) {
    ROWS(3, 3)
    n = 12;
  }
  for (; n + 2 * VL <= np; n += 2 * VL) ROWS(4, 2)
  for (; n < np; n += VL) ROWS(4, 1)
}
#else
TILE(12, 1)
TILE(4, 1)
TILE(1, 1)
TILE(4, 2)
TILE(1, 2)
#if VL == 16
/* AVX-512's 32 vector registers: up to 24 accumulators. */
TILE(8, 2)
TILE(6, 4)
TILE(4, 4)
TILE(1, 4)
#else
/* AVX2's 16 vector registers: up to 12 accumulators. */
TILE(6, 2)
#endif

/* C[m][n] = sum over taps and j, for m < M, n < np (np a multiple of VL). */
static void product(float *c, int ldc, const float *a, int lda, const int *aoff, int taps,
                    const float *b, int kin, int np, int M) {
  int n = 0;
#if VL == 16
  for (; n + 4 * VL <= np; n += 4 * VL) ROWS(6, 4)
  for (; n + 2 * VL <= np; n += 2 * VL) ROWS(8, 2)
#else
  for (; n + 2 * VL <= np; n += 2 * VL) ROWS(6, 2)
#endif
  for (; n < np; n += VL) ROWS(12, 1)
}
#endif

static void zero_rows(float *c, int ldc, int np, int M) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < np; n += VL) ST(c + m * ldc + n, (V){0});
}

/* Forward unit u = n * OD + od: output slice [n][od][*][*][0..NP). */
void F(forward_unit)(char *base, const int *p, int u) {
  const float *x = PTR(const float *, P_X);
  const float *w = PTR(const float *, P_W);
  float *y = PTR(float *, P_Y);
  int aoff[MAX_TAPS];
  const int D = p[P_D], H = p[P_H], W = p[P_W_], C = p[P_C];
  const int KD = p[P_KD], KH = p[P_KH], KW = p[P_KW];
  const int OD = p[P_OD], OH = p[P_OH], OW = p[P_OW], np = p[P_NP];
  const int n = u / OD, od = u % OD;
  for (int kd = 0; kd < KD; kd++)
    for (int kh = 0; kh < KH; kh++) aoff[kd * KH + kh] = (kd * H + kh) * W * C;
  for (int oh = 0; oh < OH; oh++) {
    const float *a = x + ((long)(n * D + od * p[P_SD]) * H + oh * p[P_SH]) * W * C;
    float *c = y + ((long)(n * OD + od) * OH + oh) * OW * np;
    product(c, np, a, p[P_SW] * C, aoff, KD * KH, w, KW * C, np, OW);
  }
}

/*
 * Input-gradient unit u = n * OD + id (OD, OH, OW: dx dims; C: dy channels). A is dy with
 * QD/QH/QW zeros in front (dims D, H, W_ as padded). The phase table holds, for each phase
 * (rd, rh, rw) in row-major order, 4 words: Md, Mh, Mw (sub-kernel sides) and the byte offset
 * of its kernel [Md][Mh][Mw][C][NP].
 */
void F(input_grad_unit)(char *base, const int *p, int u) {
  const float *dy = PTR(const float *, P_X);
  float *dx = PTR(float *, P_Y);
  const int *phase = PTR(const int *, P_PHASE);
  int aoff[MAX_TAPS];
  const int H = p[P_H], W = p[P_W_], C = p[P_C];
  const int SD = p[P_SD], SH = p[P_SH], SW = p[P_SW];
  const int ID = p[P_OD], IH = p[P_OH], IW = p[P_OW], np = p[P_NP];
  const int n = u / ID, id = u % ID;
  const int td = id + p[P_PD], rd = td % SD, qd = td / SD;
  for (int ih = 0; ih < IH; ih++) {
    const int th = ih + p[P_PH], rh = th % SH, qh = th / SH;
    for (int rw = 0; rw < SW; rw++) {
      int i0 = (rw - p[P_PW]) % SW;
      if (i0 < 0) i0 += SW;
      if (i0 >= IW) continue;
      const int M = (IW - i0 + SW - 1) / SW;
      const int q0 = (i0 + p[P_PW]) / SW;
      const int *ph = phase + 4 * ((rd * SH + rh) * SW + rw);
      const int Md = ph[0], Mh = ph[1], Mw = ph[2];
      float *c = dx + ((long)((n * ID + id) * IH + ih) * IW + i0) * np;
      if (Md == 0 || Mh == 0 || Mw == 0) {
        zero_rows(c, SW * np, np, M);
        continue;
      }
      for (int a = 0; a < Md; a++)
        for (int b = 0; b < Mh; b++) aoff[a * Mh + b] = (a * H + b) * W * C;
      const int z = qd - Md + 1 + p[P_QD], y = qh - Mh + 1 + p[P_QH], x = q0 - Mw + 1 + p[P_QW];
      const float *a = dy + ((long)(n * p[P_D] + z) * H + y) * W * C + x * C;
      product(c, SW * np, a, C, aoff, Md * Mh, ADDR(const float *, ph[3]), Mw * C,
              np, M);
    }
  }
}

/*
 * Filter-gradient unit u = t * blocks + jb: rows [jb*JB, jb*JB + JB) of dW[t] ([J][NP] with
 * J = KW * C rounded up to 4; rows past J are scratch). A: padded input x (dims N, D, H, W_,
 * C); B: dy with channels padded to NP (dims N, OD, OH, OW).
 */
void F(filter_grad_unit)(char *base, const int *p, int u) {
  const float *x = PTR(const float *, P_X);
  const float *dy = PTR(const float *, P_W);
  float *dw = PTR(float *, P_Y);
  const int N = p[P_N], D = p[P_D], H = p[P_H], W = p[P_W_], C = p[P_C];
  const int KH = p[P_KH], KW = p[P_KW];
  const int OD = p[P_OD], OH = p[P_OH], OW = p[P_OW], np = p[P_NP], JB = p[P_JB];
  const int SD = p[P_SD], SH = p[P_SH], lda = p[P_SW] * C;
  const int J = (KW * C + 3) & ~3;
  const int blocks = (J + JB - 1) / JB;
  const int t = u / blocks, j0 = (u % blocks) * JB;
  const int j1 = j0 + JB < J ? j0 + JB : J;
  const int kd = t / KH, kh = t % KH;
  float *out = dw + (long)t * J * np;
  for (int j = j0; j < j1; j++) zero_rows(out + (long)j * np, np, np, 1);
  for (int n = 0; n < N; n++)
    for (int od = 0; od < OD; od++)
      for (int oh = 0; oh < OH; oh++) {
        const float *a = x + ((long)(n * D + od * SD + kd) * H + oh * SH + kh) * W * C;
        const float *b = dy + ((long)(n * OD + od) * OH + oh) * OW * np;
        for (int j = j0; j < j1; j += 4) {
          const float *aj = a + j;
          float *c = out + (long)j * np;
          int q = 0;
          for (; q + 2 * VL <= np; q += 2 * VL) {
            V s[4][2];
            for (int r = 0; r < 4; r++)
              for (int h = 0; h < 2; h++) s[r][h] = LD(c + r * np + q + h * VL);
            for (int ow = 0; ow < OW; ow++) {
              const V b0 = LD(b + ow * np + q), b1 = LD(b + ow * np + q + VL);
              const float *ar = aj + ow * lda;
              for (int r = 0; r < 4; r++) {
                const Splat av = SPL(ar + r);
                s[r][0] += av * b0;
                s[r][1] += av * b1;
              }
            }
            for (int r = 0; r < 4; r++)
              for (int h = 0; h < 2; h++) ST(c + r * np + q + h * VL, s[r][h]);
          }
          for (; q < np; q += VL) {
            V s[4];
            for (int r = 0; r < 4; r++) s[r] = LD(c + r * np + q);
            for (int ow = 0; ow < OW; ow++) {
              const V b0 = LD(b + ow * np + q);
              const float *ar = aj + ow * lda;
              for (int r = 0; r < 4; r++) s[r] += SPL(ar + r) * b0;
            }
            for (int r = 0; r < 4; r++) ST(c + r * np + q, s[r]);
          }
        }
      }
}

#ifndef __wasm__
/* The GAN's inference kernels below are native only (their WebAssembly build is not used). */

/*
 * GAN upsampling unit: a kernel-4, stride-2, padding-1 transposed convolution (inference) with
 * its bias and activation, reading xp = the input zero-padded by one voxel (N, L, L, L, C),
 * L = n + 2, and writing the interior of y (N, O, O, O, CO), O = 2n + 2·OP (the host keeps the
 * OP-voxel border zero: it is the next layer's padding). Per axis, output 2m + r is
 * sum_{a in {0,1}} xp[m + r + a] · W[T(r, a)], T = {{3, 1}, {2, 0}}, so each output parity r
 * ("phase") is a stride-1 convolution with a 2³ sub-kernel and no wasted multiply-adds:
 *   G = 1  unit u = (nb · n + mx) · 8 + phase (or parity-major, below); rows are the (my, mz) positions taken flat in the
 *          padded plane (row pitch L; the L − n rows past each z line are computed and dropped)
 *          so that one product covers many rows even for n = 4; taps (a_x, a_y), j = (a_z, c)
 *          contiguous (2C); B = that phase's weights [4][2C][NP];
 *   G = 8  all phases stacked as 8·CO channels (sub-pixel, for CO below the vector width):
 *          unit u = nb · (n + 1) + qx over positions q in [0, n + 1)³ reading xp[q + a]; output
 *          2(q − r) + r takes channel block r.
 * Epilogue: + bias, then ACT 0 none, 1 ReLU, 2 leaky ReLU (slope in P_QH as float bits), 3 tanh
 * (G = 8 only: or with P_QD = 1 the density, as up2_last_unit's output).
 * Parameter words: P_X xp, P_W weights, P_Y y, P_AOFF bias, P_D n, P_C C, P_KD CO, P_NP NP,
 * P_PD OP, P_PH ACT, P_PW G, P_QW 1 for a channel-major y, P_N N and P_JB 1 for parity-major units. Scratch on the stack: the host keeps
 * L · NP <= UP_SCRATCH.
 */
enum { UP_SCRATCH = 16384 };

/*
 * e^x = 2^k (1 + E), k = round(x log2 e) (the 1.5·2^23 trick: branch-free, so loops of it
 * vectorise), f = x − k ln 2 in two parts (|f| <= ln2/2), E = e^f − 1 by its Taylor series to
 * f^8/8! (truncation < 1e-9 relative). Needs |x| <= 80 (2^k stays a normal float).
 */
static inline float up_exp_parts(float x, float *two_k) {
  const float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float f = (x - k * 0.693145752f) - k * 1.42860682e-6f;
  float q = 1.0f / 40320;
  q = q * f + 1.0f / 5040;
  q = q * f + 1.0f / 720;
  q = q * f + 1.0f / 120;
  q = q * f + 1.0f / 24;
  q = q * f + 1.0f / 6;
  q = q * f + 0.5f;
  const int bits = ((int)k + 127) << 23;
  __builtin_memcpy(two_k, &bits, sizeof *two_k);
  return f + f * f * q;
}

/* tanh y = m/(m + 2), m = e^{2y} − 1 (no cancellation near 0); |2y| clamped to 40 (tanh = ±1). */
static inline float up_tanh(float y) {
  float x = 2 * y;
  x = x > 40 ? 40 : x;
  x = x < -40 ? -40 : x;
  float two_k;
  const float e = up_exp_parts(x, &two_k);
  const float m = two_k == 1 ? e : (e + 1) * two_k - 1;
  return m / (m + 2);
}

/*
 * The density the tanh output c = tanh y stands for, ρ = κ(1 + c)/(1 − c) = κ e^{2y}, from y
 * itself: no float32 rounding of c near ±1 (where c = −1 would give ρ = 0 and c near 1 loses
 * most digits). 2y is clamped to [−80, xmax] (xmax: the c clamp of the JavaScript inversion).
 */
static inline float up_density(float y, float kappa, float xmax, float cap, float offset) {
  float x = 2 * y;
  x = x > xmax ? xmax : x;
  x = x < -80 ? -80 : x;
  float two_k;
  const float e = up_exp_parts(x, &two_k);
  const float rho = kappa * ((e + 1) * two_k);
  return (rho < cap ? rho : cap) + offset;
}

/* One output voxel's co channels (channel stride cs: 1 channels-last, O³ channel-major). */
static inline void up_store(float *o, long cs, const float *s, const float *bias, int co, int act,
                            float alpha) {
  for (int c = 0; c < co; c++) {
    float v = s[c] + bias[c];
    if (act == 1) v = v > 0 ? v : 0;
    else if (act == 2) v = v > 0 ? v : alpha * v;
    else if (act == 3) v = up_tanh(v);
    o[c * cs] = v;
  }
}

void F(up2_unit)(char *base, const int *p, int u) {
  const float *xp = PTR(const float *, P_X);
  const float *w = PTR(const float *, P_W);
  float *y = PTR(float *, P_Y);
  const float *bias = PTR(const float *, P_AOFF);
  const int n = p[P_D], C = p[P_C], CO = p[P_KD], np = p[P_NP], OP = p[P_PD], act = p[P_PH];
  const int G = p[P_PW];
  union {
    int i;
    float f;
  } slope = {p[P_QH]};
  const int L = n + 2, O = 2 * n + 2 * OP, Q = G == 1 ? n : n + 1;
  /* P_QW = 1: y channel-major (N, CO, O, O, O), the input layout of up2_last_unit. */
  const int cm = p[P_QW];
  const long cs = cm ? (long)O * O * O : 1;
#define UP_VOXEL(X, Y, Z)                                                                      \
  (cm ? y + (((long)nb * CO * O + (X) + OP) * O + (Y) + OP) * O + (Z) + OP                     \
      : y + ((((long)nb * O + (X) + OP) * O + (Y) + OP) * O + (Z) + OP) * CO)
  /*
   * G = 1 unit order (P_JB): 0 the 8 parities of one mx consecutive (they share output cache
   * lines); 1 parity-major, u = (ph · N + nb) · n + mx (one parity's weights stay in cache).
   */
  const int N = p[P_N];
  const int pm = G == 1 && p[P_JB];
  const int qx = G == 1 ? (pm ? u % n : (u / 8) % n) : u % Q;
  const int ph = G == 1 ? (pm ? u / (N * n) : u % 8) : 0;
  const int nb = G == 1 ? (pm ? (u / n) % N : u / (8 * n)) : u / Q;
  const int rx = ph >> 2, ry = (ph >> 1) & 1, rz = ph & 1;
  int aoff[4];
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) aoff[a * 2 + b] = (a * L + b) * L * C;
  const float *bw = w + (long)ph * 8 * C * np;
  float scratch[UP_SCRATCH];
  int chunk = UP_SCRATCH / (np * L);
  if (chunk < 1) chunk = 1;
  for (int y0 = 0; y0 < Q; y0 += chunk) {
    const int y1 = y0 + chunk < Q ? y0 + chunk : Q;
    const float *a = xp + ((((long)nb * L + qx + rx) * L + y0 + ry) * L + rz) * C;
    product(scratch, np, a, C, aoff, 4, bw, 2 * C, np, (y1 - y0 - 1) * L + Q);
    if (cm && G == 1) {
      /* Channel-major: one channel plane at a time (scattered per-voxel stores thrash the TLB). */
      for (int c = 0; c < CO; c++)
        for (int yy = y0; yy < y1; yy++)
          for (int zz = 0; zz < Q; zz++)
            up_store(UP_VOXEL(2 * qx + rx, 2 * yy + ry, 2 * zz + rz) + c * cs, 0,
                     scratch + ((long)(yy - y0) * L + zz) * np + c, bias + c, 1, act, slope.f);
      continue;
    }
    for (int yy = y0; yy < y1; yy++)
      for (int zz = 0; zz < Q; zz++) {
        const float *s = scratch + ((long)(yy - y0) * L + zz) * np;
        if (G == 1) {
          up_store(UP_VOXEL(2 * qx + rx, 2 * yy + ry, 2 * zz + rz), cs, s, bias, CO, act, slope.f);
          continue;
        }
        for (int r = 0; r < 8; r++) {
          const int sx = r >> 2, sy = (r >> 1) & 1, sz = r & 1;
          const int mx = qx - sx, my = yy - sy, mz = zz - sz;
          if (mx < 0 || mx >= n || my < 0 || my >= n || mz < 0 || mz >= n) continue;
          up_store(UP_VOXEL(2 * mx + sx, 2 * my + sy, 2 * mz + sz), cs, s + r * CO, bias, CO,
                   act == 3 ? 0 : act, slope.f);
        }
      }
  }
  /* G = 8 with tanh: this unit wrote whole output planes x = 2qx − 1 and 2qx; one vector pass. */
#undef UP_VOXEL
  if (G == 8 && act == 3 && !cm) {
    union {
      int i;
      float f;
    } kappa = {p[P_OD]}, cap = {p[P_OH]}, offset = {p[P_OW]}, xmax = {p[P_SH]};
    for (int x = 2 * qx - 1; x <= 2 * qx; x++) {
      if (x < 0 || x >= 2 * n) continue;
      float *o = y + (((long)nb * O + x + OP) * O + OP) * O * CO;
      const long count = (long)(O - 2 * OP) * O * CO; /* rows y of the plane, borders included */
      if (p[P_QD] == 0)
        for (long i = 0; i < count; i++) o[i] = up_tanh(o[i]);
      else
        for (long i = 0; i < count; i++) o[i] = up_density(o[i], kappa.f, xmax.f, cap.f, offset.f);
    }
  }
}

/*
 * The GAN's last layer (one output channel) as a vector over z instead of over channels: a
 * kernel-4, stride-2, padding-1 transposed convolution of a channel-major input xp (N, C, L, L,
 * L), L = n + 2, zero-padded by one voxel (written by up2_unit with P_QW = 1), to y (N, 2n, 2n,
 * 2n), then + bias and tanh (or the density it stands for, below). For a run of VL z positions m of the coarse grid, the 27 vectors
 * xp[c][mx + ox][my + oy][m + oz] (o in {0, 1, 2}³) feed all 8 output parities r (output
 * 2m + r reads offsets o = r + a, a in {0, 1}³): per channel and pair of rows my, my + 1, 128
 * vector multiply-adds for 36 vector loads and 64 broadcast weights.
 * Weights w[c][r][a] (a = (ax·2 + ay)·2 + az). Unit u = nb · n + mx: output planes 2mx, 2mx + 1.
 * Output (P_QD): 0 c = tanh(y + bias); 1 the density up_density(y + bias) with κ, cap, offset
 * and xmax as float bits in P_OD, P_OH, P_OW, P_SH (as up2_unit's).
 * Parameter words: P_X xp, P_W w, P_Y y, P_AOFF bias (one float), P_D n, P_C C; n % VL == 0,
 * n <= UP_LAST_MAX.
 */
/*
 * Input plane mx + ox into the sums of rows my and my + 1 (acc[row][parity]) of the parities
 * rx = ox − ax: its 12 vectors (oy in 0..3, oz in 0..2) are loaded once for both rows, and each
 * weight serves two multiply-adds.
 */
static inline __attribute__((always_inline)) void up_last_plane(V acc[2][8], const float *row,
                                                                int L, const float *wc, int ox) {
  V xv[4][3];
  for (int oy = 0; oy < 4; oy++)
    for (int oz = 0; oz < 3; oz++) xv[oy][oz] = LD(row + oy * L + oz);
  for (int rx = 0; rx < 2; rx++) {
    const int ax = ox - rx;
    if (ax < 0 || ax > 1) continue;
    for (int ry = 0; ry < 2; ry++)
      for (int ay = 0; ay < 2; ay++)
        for (int rz = 0; rz < 2; rz++)
          for (int az = 0; az < 2; az++) {
            const int r = (rx * 2 + ry) * 2 + rz, a = (ax * 2 + ay) * 2 + az;
            const Splat wa = SPL(wc + r * 8 + a);
            acc[0][r] += xv[ry + ay][rz + az] * wa;
            acc[1][r] += xv[1 + ry + ay][rz + az] * wa;
          }
  }
}

enum { UP_LAST_MAX = 64, UP_LAST_CB = 4 };

void F(up2_last_unit)(char *base, const int *p, int u) {
  const float *xp = PTR(const float *, P_X);
  const float *w = PTR(const float *, P_W);
  float *y = PTR(float *, P_Y);
  const float bias = *PTR(const float *, P_AOFF);
  const int n = p[P_D], C = p[P_C], L = n + 2, S = 2 * n;
  const int nb = u / n, mx = u % n;
  const int mode = p[P_QD];
  union {
    int i;
    float f;
  } kappa = {p[P_OD]}, cap = {p[P_OH]}, offset = {p[P_OW]}, xmax = {p[P_SH]};
  /*
   * Blocks of UP_LAST_CB channels outermost with the 8 parities' sums of the whole (my, m) plane
   * kept in acc: each block's input planes are read once, contiguously (all channels inside the
   * innermost loop would touch 3·C pages per vector and miss the TLB every time; one channel per
   * block lets the compiler hoist its 64 weights out of the loop and spill them).
   */
  float acc[8 * UP_LAST_MAX * UP_LAST_MAX];
  for (long i = 0; i < 8L * n * n; i++) acc[i] = 0;
  for (int c0 = 0; c0 < C; c0 += UP_LAST_CB) {
    const int c1 = c0 + UP_LAST_CB < C ? c0 + UP_LAST_CB : C;
    for (int my = 0; my < n; my += 2)
      for (int m0 = 0; m0 < n; m0 += VL) {
        V s[2][8];
        for (int h = 0; h < 2; h++)
          for (int r = 0; r < 8; r++) s[h][r] = LD(acc + ((long)r * n + my + h) * n + m0);
        for (int c = c0; c < c1; c++) {
          const float *xc = xp + ((((long)nb * C + c) * L + mx) * L + my) * L + m0;
          const float *wc = w + (long)c * 64;
          up_last_plane(s, xc, L, wc, 0);
          up_last_plane(s, xc + (long)L * L, L, wc, 1);
          up_last_plane(s, xc + 2 * (long)L * L, L, wc, 2);
        }
        for (int h = 0; h < 2; h++)
          for (int r = 0; r < 8; r++) ST(acc + ((long)r * n + my + h) * n + m0, s[h][r]);
      }
  }
  for (int rx = 0; rx < 2; rx++)
    for (int ry = 0; ry < 2; ry++)
      for (int my = 0; my < n; my++) {
        float *o = y + (((long)nb * S + 2 * mx + rx) * S + 2 * my + ry) * S;
        const float *t0 = acc + ((long)((rx * 2 + ry) * 2) * n + my) * n;
        const float *t1 = t0 + (long)n * n;
        for (int i = 0; i < n; i++) {
          o[2 * i] = t0[i] + bias;
          o[2 * i + 1] = t1[i] + bias;
        }
        if (mode == 0)
          for (int i = 0; i < S; i++) o[i] = up_tanh(o[i]);
        else
          for (int i = 0; i < S; i++) o[i] = up_density(o[i], kappa.f, xmax.f, cap.f, offset.f);
      }
}
#endif
