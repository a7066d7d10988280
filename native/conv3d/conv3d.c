/*
 * WebAssembly SIMD kernels for 3D convolutions in TensorFlow.js's NDHWC layout
 * (src/models/kernels/). Every convolution is reduced to one register-tiled product
 *
 *   C[m][n] (+)= sum_t sum_j A[aoff[t] + m * lda + j] * B[t][j][n]
 *
 * over "taps" t (the depth and height kernel offsets) and a contiguous inner index j (width
 * kernel offset x channel): in NDHWC a width-run of a kernel window is contiguous, so no
 * im2col copy is needed. The n index (output channels) is padded by the host to a multiple
 * of 4 so that B rows and C rows are whole f32x4 vectors; padded B columns are zero.
 *
 *   forward         C = output row (m: output x), A = zero-padded input row (lda = stride*C)
 *   input gradient  gather form split into stride phases (r = (i + pad) mod s): each phase
 *                   is a stride-1 correlation of the zero-padded output gradient with a
 *                   flipped, transposed sub-kernel; C rows are every s-th input voxel
 *   filter gradient C = dW[t] tile, reduced over every output voxel (own loop below)
 *
 * Work is cut into "units" (an output depth slice of one batch item, or a filter-gradient
 * tap block); each unit writes a disjoint part of the output with a fixed summation order, so
 * results do not depend on which thread runs which unit. No libc; the host lays out every
 * buffer and passes a parameter block (see src/models/kernels/conv3d-wasm.ts). Build: native/conv3d/build.sh.
 */
#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define SPL(p) wasm_v128_load32_splat(p)
#define ADD wasm_f32x4_add
#define MUL wasm_f32x4_mul

/* Parameter block words (int32), mirrored by P in conv3d-wasm.ts. */
enum {
  P_X, P_W, P_Y,             /* pointers: A source, B (prepared kernel), C destination */
  P_N, P_D, P_H, P_W_, P_C,  /* A source dims (spatially padded) and channels */
  P_KD, P_KH, P_KW,          /* kernel sides */
  P_SD, P_SH, P_SW,          /* strides */
  P_OD, P_OH, P_OW, P_NP,    /* C dims; padded channels of C */
  P_PD, P_PH, P_PW,          /* input-gradient: front pads of the forward convolution */
  P_QD, P_QH, P_QW,          /* input-gradient: front zero padding added to dy */
  P_PHASE,                   /* input-gradient: pointer to the phase table */
  P_AOFF,                    /* pointer to scratch for tap offsets (KD*KH ints) */
  P_JB,                      /* filter-gradient: rows of dW per unit (multiple of 4) */
  P_WORDS
};

/* One MR x (4 NV) tile of C, accumulated in registers over every tap and j. */
#define TILE(MR, NV)                                                                         \
  static void tile_##MR##_##NV(float *c, int ldc, const float *a, int lda, const int *aoff, \
                               int taps, const float *b, int kin, int np, int acc) {       \
    V s[MR][NV];                                                                             \
    for (int r = 0; r < MR; r++)                                                             \
      for (int q = 0; q < NV; q++)                                                           \
        s[r][q] = acc ? LD(c + r * ldc + 4 * q) : wasm_f32x4_splat(0.0f);                   \
    for (int t = 0; t < taps; t++) {                                                         \
      const float *ap = a + aoff[t];                                                         \
      const float *bp = b + t * kin * np;                                                    \
      for (int j = 0; j < kin; j++) {                                                        \
        V bv[NV];                                                                            \
        for (int q = 0; q < NV; q++) bv[q] = LD(bp + j * np + 4 * q);                        \
        for (int r = 0; r < MR; r++) {                                                       \
          V av = SPL(ap + r * lda + j);                                                      \
          for (int q = 0; q < NV; q++) s[r][q] = ADD(s[r][q], MUL(av, bv[q]));               \
        }                                                                                    \
      }                                                                                      \
    }                                                                                        \
    for (int r = 0; r < MR; r++)                                                             \
      for (int q = 0; q < NV; q++) ST(c + r * ldc + 4 * q, s[r][q]);                         \
  }

TILE(4, 2)
TILE(4, 1)
TILE(3, 3)
TILE(1, 2)
TILE(1, 1)
TILE(1, 3)

typedef void (*TileFn)(float *, int, const float *, int, const int *, int, const float *, int,
                       int, int);

/* C[m][n] = sum over taps and j, for m < M, n < np (np a multiple of 4). */
static void product(float *c, int ldc, const float *a, int lda, const int *aoff, int taps,
                    const float *b, int kin, int np, int M) {
  int n = 0;
  /* 12 columns: 3 x 3 tiles (9 accumulators) keep 10-channel layers free of a 4-wide tail. */
  if (np % 8 == 4 && np >= 12) {
    int m = 0;
    for (; m + 3 <= M; m += 3)
      tile_3_3(c + m * ldc, ldc, a + m * lda, lda, aoff, taps, b, kin, np, 0);
    for (; m < M; m++) tile_1_3(c + m * ldc, ldc, a + m * lda, lda, aoff, taps, b, kin, np, 0);
    n = 12;
  }
  for (; n < np; n += 8) {
    const int wide = np - n >= 8;
    TileFn t4 = wide ? tile_4_2 : tile_4_1;
    TileFn t1 = wide ? tile_1_2 : tile_1_1;
    int m = 0;
    for (; m + 4 <= M; m += 4) t4(c + m * ldc + n, ldc, a + m * lda, lda, aoff, taps, b + n, kin, np, 0);
    for (; m < M; m++) t1(c + m * ldc + n, ldc, a + m * lda, lda, aoff, taps, b + n, kin, np, 0);
    if (!wide) break;
  }
}

static void zero_rows(float *c, int ldc, int np, int M) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < np; n += 4) ST(c + m * ldc + n, wasm_f32x4_splat(0.0f));
}

/* Forward unit u = n * OD + od: output slice [n][od][*][*][0..NP). */
void forward_unit(const int *p, int u) {
  const float *x = (const float *)p[P_X];
  const float *w = (const float *)p[P_W];
  float *y = (float *)p[P_Y];
  int *aoff = (int *)p[P_AOFF];
  const int D = p[P_D], H = p[P_H], W = p[P_W_], C = p[P_C];
  const int KD = p[P_KD], KH = p[P_KH], KW = p[P_KW];
  const int OD = p[P_OD], OH = p[P_OH], OW = p[P_OW], np = p[P_NP];
  const int n = u / OD, od = u % OD;
  for (int kd = 0; kd < KD; kd++)
    for (int kh = 0; kh < KH; kh++) aoff[kd * KH + kh] = (kd * H + kh) * W * C;
  for (int oh = 0; oh < OH; oh++) {
    const float *a = x + ((n * D + od * p[P_SD]) * H + oh * p[P_SH]) * W * C;
    float *c = y + ((n * OD + od) * OH + oh) * OW * np;
    product(c, np, a, p[P_SW] * C, aoff, KD * KH, w, KW * C, np, OW);
  }
}

/*
 * Input-gradient unit u = n * OD + id (OD, OH, OW: dx dims; C: dy channels). A is dy with
 * QD/QH/QW zeros in front (dims D, H, W_ as padded). The phase table holds, for each phase
 * (rd, rh, rw) in row-major order, 4 words: Md, Mh, Mw (sub-kernel sides) and a pointer to
 * its kernel [Md][Mh][Mw][C][NP].
 */
void input_grad_unit(const int *p, int u) {
  const float *dy = (const float *)p[P_X];
  float *dx = (float *)p[P_Y];
  const int *phase = (const int *)p[P_PHASE];
  int *aoff = (int *)p[P_AOFF];
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
      float *c = dx + (((n * ID + id) * IH + ih) * IW + i0) * np;
      if (Md == 0 || Mh == 0 || Mw == 0) {
        zero_rows(c, SW * np, np, M);
        continue;
      }
      for (int a = 0; a < Md; a++)
        for (int b = 0; b < Mh; b++) aoff[a * Mh + b] = (a * H + b) * W * C;
      const int z = qd - Md + 1 + p[P_QD], y = qh - Mh + 1 + p[P_QH], x = q0 - Mw + 1 + p[P_QW];
      const float *a = dy + ((n * p[P_D] + z) * H + y) * W * C + x * C;
      product(c, SW * np, a, C, aoff, Md * Mh, (const float *)ph[3], Mw * C, np, M);
    }
  }
}

/*
 * Filter-gradient unit u = t * blocks + jb: rows [jb*JB, jb*JB + JB) of dW[t] ([J][NP] with
 * J = KW * C rounded up to 4; rows past J are scratch). A: padded input x (dims N, D, H, W_,
 * C); B: dy with channels padded to NP (dims N, OD, OH, OW).
 */
void filter_grad_unit(const int *p, int u) {
  const float *x = (const float *)p[P_X];
  const float *dy = (const float *)p[P_W];
  float *dw = (float *)p[P_Y];
  const int N = p[P_N], D = p[P_D], H = p[P_H], W = p[P_W_], C = p[P_C];
  const int KH = p[P_KH], KW = p[P_KW];
  const int OD = p[P_OD], OH = p[P_OH], OW = p[P_OW], np = p[P_NP], JB = p[P_JB];
  const int SD = p[P_SD], SH = p[P_SH], lda = p[P_SW] * C;
  const int J = (KW * C + 3) & ~3;
  const int blocks = (J + JB - 1) / JB;
  const int t = u / blocks, j0 = (u % blocks) * JB;
  const int j1 = j0 + JB < J ? j0 + JB : J;
  const int kd = t / KH, kh = t % KH;
  float *out = dw + t * J * np;
  for (int j = j0; j < j1; j++) zero_rows(out + j * np, np, np, 1);
  for (int n = 0; n < N; n++)
    for (int od = 0; od < OD; od++)
      for (int oh = 0; oh < OH; oh++) {
        const float *a = x + ((n * D + od * SD + kd) * H + oh * SH + kh) * W * C;
        const float *b = dy + ((n * OD + od) * OH + oh) * OW * np;
        for (int j = j0; j < j1; j += 4) {
          const float *aj = a + j;
          float *c = out + j * np;
          int q = 0;
          for (; q + 8 <= np; q += 8) {
            V s00 = LD(c + q), s01 = LD(c + q + 4), s10 = LD(c + np + q), s11 = LD(c + np + q + 4);
            V s20 = LD(c + 2 * np + q), s21 = LD(c + 2 * np + q + 4);
            V s30 = LD(c + 3 * np + q), s31 = LD(c + 3 * np + q + 4);
            for (int ow = 0; ow < OW; ow++) {
              const V b0 = LD(b + ow * np + q), b1 = LD(b + ow * np + q + 4);
              const float *ar = aj + ow * lda;
              V a0 = SPL(ar), a1 = SPL(ar + 1), a2 = SPL(ar + 2), a3 = SPL(ar + 3);
              s00 = ADD(s00, MUL(a0, b0)); s01 = ADD(s01, MUL(a0, b1));
              s10 = ADD(s10, MUL(a1, b0)); s11 = ADD(s11, MUL(a1, b1));
              s20 = ADD(s20, MUL(a2, b0)); s21 = ADD(s21, MUL(a2, b1));
              s30 = ADD(s30, MUL(a3, b0)); s31 = ADD(s31, MUL(a3, b1));
            }
            ST(c + q, s00); ST(c + q + 4, s01); ST(c + np + q, s10); ST(c + np + q + 4, s11);
            ST(c + 2 * np + q, s20); ST(c + 2 * np + q + 4, s21);
            ST(c + 3 * np + q, s30); ST(c + 3 * np + q + 4, s31);
          }
          for (; q < np; q += 4) {
            V s0 = LD(c + q), s1 = LD(c + np + q), s2 = LD(c + 2 * np + q), s3 = LD(c + 3 * np + q);
            for (int ow = 0; ow < OW; ow++) {
              const V b0 = LD(b + ow * np + q);
              const float *ar = aj + ow * lda;
              s0 = ADD(s0, MUL(SPL(ar), b0));
              s1 = ADD(s1, MUL(SPL(ar + 1), b0));
              s2 = ADD(s2, MUL(SPL(ar + 2), b0));
              s3 = ADD(s3, MUL(SPL(ar + 3), b0));
            }
            ST(c + q, s0); ST(c + np + q, s1); ST(c + 2 * np + q, s2); ST(c + 3 * np + q, s3);
          }
        }
      }
}

/* dst[i][0..C) = src[i][0..S) for i < count (C <= S); dst may equal src (it moves left). */
void compact_channels(float *dst, const float *src, int count, int S, int C) {
  for (int i = 0; i < count; i++)
    for (int k = 0; k < C; k++) dst[i * C + k] = src[i * S + k];
}

/* dst[i][0..S) = src[i][0..C) then zeros, for i < count (C <= S); dst and src distinct. */
void widen_channels(float *dst, const float *src, int count, int C, int S) {
  for (int i = 0; i < count; i++) {
    for (int k = 0; k < C; k++) dst[i * S + k] = src[i * C + k];
    for (int k = C; k < S; k++) dst[i * S + k] = 0.0f;
  }
}

/*
 * dst (N, D + d0 + d1, H + h0 + h1, W + w0 + w1, C) = src (N, D, H, W, C) with zeros around;
 * dst and src distinct.
 */
void pad_spatial(float *dst, const float *src, int N, int D, int H, int W, int C, int d0, int d1,
                 int h0, int h1, int w0, int w1) {
  const int Dp = D + d0 + d1, Hp = H + h0 + h1, Wp = W + w0 + w1;
  const int row = W * C;
  for (int n = 0; n < N; n++)
    for (int d = 0; d < Dp; d++)
      for (int h = 0; h < Hp; h++) {
        float *o = dst + ((n * Dp + d) * Hp + h) * Wp * C;
        const int sd = d - d0, sh = h - h0;
        if (sd < 0 || sd >= D || sh < 0 || sh >= H) {
          for (int k = 0; k < Wp * C; k++) o[k] = 0.0f;
          continue;
        }
        const float *s = src + ((n * D + sd) * H + sh) * row;
        for (int k = 0; k < w0 * C; k++) o[k] = 0.0f;
        for (int k = 0; k < row; k++) o[w0 * C + k] = s[k];
        for (int k = (w0 + W) * C; k < Wp * C; k++) o[k] = 0.0f;
      }
}
