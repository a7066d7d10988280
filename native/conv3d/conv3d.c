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
