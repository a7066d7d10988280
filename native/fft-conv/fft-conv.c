/*
 * WebAssembly SIMD kernels for convolution networks evaluated with FFTs
 * (src/models/fft-convolution.ts, src/models/painter/painter-fft.ts):
 *
 *   pointwise     1^3 convolution (channel mixing) + bias + activation, channel-major grids
 *   bias_act      bias + activation in place (after an inverse FFT)
 *   spectral_mix  Y[o](k) = sum_i W[o][i](k) X[i](k), complex, per Fourier mode k — the
 *                 convolution theorem applied to a multi-channel k^3 convolution
 *
 * Every output element is computed by a fixed sequence of float32 operations that does not
 * depend on where the data lies or on which thread calls, so results are reproducible.
 * No libc; the host lays out every buffer. Build: native/fft-conv/build.sh.
 */
#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define ADD wasm_f32x4_add
#define MUL wasm_f32x4_mul

enum { ACT_NONE = 0, ACT_LRELU = 1, ACT_RELU = 2 };
static const float SLOPE = 0.1f;

static inline V act4(V v, int act) {
  if (act == ACT_LRELU) return wasm_f32x4_max(v, MUL(v, wasm_f32x4_splat(SLOPE)));
  if (act == ACT_RELU) return wasm_f32x4_max(v, wasm_f32x4_splat(0.0f));
  return v;
}

static inline float act1(float v, int act) {
  if (act == ACT_LRELU) return v > 0.0f ? v : SLOPE * v;
  if (act == ACT_RELU) return v > 0.0f ? v : 0.0f;
  return v;
}

/*
 * y[o][v] = act(b[o] + sum_i w[o*cin + i] x[i][v]  (+ y[o][v] when mode & 1)), n voxels per
 * channel (channel stride n), act = mode >> 1. Accumulation order: bias, then i ascending,
 * then the previous y — the same in the vector body and the scalar tail.
 */
void pointwise(const float *x, int cin, const float *w, const float *b, float *y, int cout,
               int n, int mode) {
  const int acc = mode & 1, act = mode >> 1;
  const int n16 = n & ~15;
  for (int v = 0; v < n16; v += 16) {
    for (int o = 0; o < cout; o++) {
      V bo = wasm_f32x4_splat(b[o]);
      V a0 = bo, a1 = bo, a2 = bo, a3 = bo;
      const float *wo = w + o * cin;
      for (int i = 0; i < cin; i++) {
        V wi = wasm_f32x4_splat(wo[i]);
        const float *xi = x + (long)i * n + v;
        a0 = ADD(a0, MUL(wi, LD(xi)));
        a1 = ADD(a1, MUL(wi, LD(xi + 4)));
        a2 = ADD(a2, MUL(wi, LD(xi + 8)));
        a3 = ADD(a3, MUL(wi, LD(xi + 12)));
      }
      float *yo = y + (long)o * n + v;
      if (acc) {
        a0 = ADD(a0, LD(yo));
        a1 = ADD(a1, LD(yo + 4));
        a2 = ADD(a2, LD(yo + 8));
        a3 = ADD(a3, LD(yo + 12));
      }
      ST(yo, act4(a0, act));
      ST(yo + 4, act4(a1, act));
      ST(yo + 8, act4(a2, act));
      ST(yo + 12, act4(a3, act));
    }
  }
  for (int v = n16; v < n; v++) {
    for (int o = 0; o < cout; o++) {
      float a = b[o];
      for (int i = 0; i < cin; i++) a = a + w[o * cin + i] * x[(long)i * n + v];
      if (acc) a = a + y[(long)o * n + v];
      y[(long)o * n + v] = act1(a, act);
    }
  }
}

/* y[c][v] = act(y[c][v] + b[c]) for c < channels, n voxels per channel. */
void bias_act(float *y, int channels, int n, const float *b, int act) {
  const int n4 = n & ~3;
  for (int c = 0; c < channels; c++) {
    float *yc = y + (long)c * n;
    V bc = wasm_f32x4_splat(b[c]);
    for (int v = 0; v < n4; v += 4) ST(yc + v, act4(ADD(LD(yc + v), bc), act));
    for (int v = n4; v < n; v++) yc[v] = act1(yc[v] + b[c], act);
  }
}

/* Complex modes per block: the block's X, swapped X and Y stay in L1 (10 channels: 30 KiB). */
#define BLOCK 64
#define MAXC 16

/*
 * Y[o][k] = sum_i W[o*cin + i][k] X[i][k] over nmodes complex modes, interleaved (re, im);
 * channel stride 2*nmodes floats for X, Y and W. cin, cout <= MAXC.
 * (a + ib)(c + id): with x = (c, d) and w = (a, b): y = (a, a)*(c, d) + (b, b)*(-d, c).
 */
void spectral_mix(const float *X, int cin, const float *W, float *Y, int cout, int nmodes) {
  static V xs[MAXC][BLOCK / 2];
  static V xw[MAXC][BLOCK / 2];
  const long stride = 2L * nmodes;
  const V sign = wasm_f32x4_make(-1.0f, 1.0f, -1.0f, 1.0f);
  const int full = nmodes & ~(BLOCK - 1);
  for (int k0 = 0; k0 < full; k0 += BLOCK) {
    for (int i = 0; i < cin; i++) {
      const float *xi = X + i * stride + 2L * k0;
      for (int q = 0; q < BLOCK / 2; q++) {
        V x = LD(xi + 4 * q);
        xs[i][q] = x;
        xw[i][q] = MUL(wasm_i32x4_shuffle(x, x, 1, 0, 3, 2), sign);
      }
    }
    for (int o = 0; o < cout; o++) {
      float *yo = Y + o * stride + 2L * k0;
      for (int q = 0; q < BLOCK / 2; q += 2) {
        V y0 = wasm_f32x4_splat(0.0f), y1 = y0;
        for (int i = 0; i < cin; i++) {
          const float *wp = W + (long)(o * cin + i) * stride + 2L * k0 + 4 * q;
          V w0 = LD(wp), w1 = LD(wp + 4);
          y0 = ADD(y0, MUL(wasm_i32x4_shuffle(w0, w0, 0, 0, 2, 2), xs[i][q]));
          y0 = ADD(y0, MUL(wasm_i32x4_shuffle(w0, w0, 1, 1, 3, 3), xw[i][q]));
          y1 = ADD(y1, MUL(wasm_i32x4_shuffle(w1, w1, 0, 0, 2, 2), xs[i][q + 1]));
          y1 = ADD(y1, MUL(wasm_i32x4_shuffle(w1, w1, 1, 1, 3, 3), xw[i][q + 1]));
        }
        ST(yo + 4 * q, y0);
        ST(yo + 4 * q + 4, y1);
      }
    }
  }
  for (int k = full; k < nmodes; k++) {
    for (int o = 0; o < cout; o++) {
      float re = 0.0f, im = 0.0f;
      for (int i = 0; i < cin; i++) {
        const float *wp = W + (long)(o * cin + i) * stride + 2L * k;
        const float *xp = X + i * stride + 2L * k;
        re = re + wp[0] * xp[0];
        re = re + wp[1] * -xp[1];
        im = im + wp[0] * xp[1];
        im = im + wp[1] * xp[0];
      }
      Y[o * stride + 2L * k] = re;
      Y[o * stride + 2L * k + 1] = im;
    }
  }
}
