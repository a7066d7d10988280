/*
 * The WebAssembly build of the convolution kernels (conv3d.c at VL = 4, 128-bit SIMD) with the
 * entry points conv3d-wasm.ts and its worker threads call, and the operand layouts the host
 * runs on the calling thread (the native build does those in addon.c). Build: build.sh.
 */
#define VL 4
#define PFX k_
#include "conv3d.c"

void forward_unit(const int *p, int u) { k_forward_unit(0, p, u); }
void input_grad_unit(const int *p, int u) { k_input_grad_unit(0, p, u); }
void filter_grad_unit(const int *p, int u) { k_filter_grad_unit(0, p, u); }

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
