/*
 * Native x86-64 builds of the elementwise and reduction kernels of
 * native/elementwise/elementwise.c, working in place on TensorFlow.js's own Float32Arrays (no
 * copies in and out of a module memory). Plain C loops that GCC vectorises; same results bit
 * for bit as the WebAssembly build and the stock kernels (IEEE + − × sqrt are correctly rounded
 * either way; no contraction, no reassociation), sums in float64 in the same order.
 */
#include <math.h>
#include <string.h>

enum { OP_ADD, OP_SUB, OP_MUL };
enum { U_RELU, U_LEAKY, U_STEP, U_SQUARE, U_SQRT };

#define BINARY(NAME, EXPR)                                                                   \
  static void NAME(float *restrict out, const float *restrict a, long pa,                    \
                   const float *restrict b, long pb, long n) {                               \
    if (pa == n && pb == n) {                                                                \
      for (long i = 0; i < n; i++) {                                                         \
        const float u = a[i], v = b[i];                                                      \
        out[i] = EXPR;                                                                       \
      }                                                                                      \
    } else if (pa == 1) {                                                                    \
      const float u = a[0];                                                                  \
      for (long i = 0; i < n; i++) {                                                         \
        const float v = b[i];                                                                \
        out[i] = EXPR;                                                                       \
      }                                                                                      \
    } else if (pb == 1) {                                                                    \
      const float v = b[0];                                                                  \
      for (long i = 0; i < n; i++) {                                                         \
        const float u = a[i];                                                                \
        out[i] = EXPR;                                                                       \
      }                                                                                      \
    } else if (pa < pb) {                                                                    \
      for (long r = 0; r < n; r += pa)                                                       \
        for (long k = 0; k < pa; k++) {                                                      \
          const float u = a[k], v = b[r + k];                                                \
          out[r + k] = EXPR;                                                                 \
        }                                                                                    \
    } else {                                                                                 \
      for (long r = 0; r < n; r += pb)                                                       \
        for (long k = 0; k < pb; k++) {                                                      \
          const float u = a[r + k], v = b[k];                                                \
          out[r + k] = EXPR;                                                                 \
        }                                                                                    \
    }                                                                                        \
  }

BINARY(bin_add, u + v)
BINARY(bin_sub, u - v)
BINARY(bin_mul, u * v)

/* out[i] = a[i mod pa] op b[i mod pb], i < n; each period is n, 1 or a divisor of n. */
void ew_binary(int op, float *out, const float *a, long pa, const float *b, long pb, long n) {
  if (op == OP_ADD) bin_add(out, a, pa, b, pb, n);
  else if (op == OP_SUB) bin_sub(out, a, pa, b, pb, n);
  else bin_mul(out, a, pa, b, pb, n);
}

/* TensorFlow.js's definitions, NaN included (elementwise.c unary). */
void ew_unary(int op, double alpha, float *restrict out, const float *restrict x, long n) {
  const float af = (float)alpha;
  switch (op) {
    case U_RELU:
      for (long i = 0; i < n; i++) {
        const float v = x[i];
        out[i] = v != v ? v : (v > 0.0f ? v : 0.0f);
      }
      break;
    case U_LEAKY:
      for (long i = 0; i < n; i++) {
        const float v = x[i];
        out[i] = v < 0.0f ? (float)(alpha * v) : v;
      }
      break;
    case U_STEP:
      for (long i = 0; i < n; i++) {
        const float v = x[i];
        out[i] = v != v ? v : (v > 0.0f ? 1.0f : af);
      }
      break;
    case U_SQUARE:
      for (long i = 0; i < n; i++) out[i] = x[i] * x[i];
      break;
    default:
      for (long i = 0; i < n; i++) out[i] = sqrtf(x[i]);
  }
}

/* out[o][i] = Σ_m x[o][m][i] in float64, in order of m (elementwise.c reduce_sum). */
void ew_reduce_sum(float *out, const float *x, long outer, long mid, long inner, double *acc) {
  for (long o = 0; o < outer; o++) {
    const float *xo = x + o * mid * inner;
    if (inner == 1) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      long m = 0;
      for (; m + 4 <= mid; m += 4) {
        s0 += xo[m];
        s1 += xo[m + 1];
        s2 += xo[m + 2];
        s3 += xo[m + 3];
      }
      for (; m < mid; m++) s0 += xo[m];
      out[o] = (float)((s0 + s1) + (s2 + s3));
      continue;
    }
    for (long i = 0; i < inner; i++) acc[i] = 0;
    for (long m = 0; m < mid; m++) {
      const float *r = xo + m * inner;
      for (long i = 0; i < inner; i++) acc[i] += r[i];
    }
    for (long i = 0; i < inner; i++) out[o * inner + i] = (float)acc[i];
  }
}

/* dst[r * ds + k] = src[r * ss + k] for r < rows, k < run (splits and concatenations). */
void ew_copy_rows(float *dst, long ds, const float *src, long ss, long rows, long run) {
  if (run > 16) {
    for (long r = 0; r < rows; r++) memcpy(dst + r * ds, src + r * ss, (size_t)run * sizeof(float));
    return;
  }
  for (long r = 0; r < rows; r++)
    for (long k = 0; k < run; k++) dst[r * ds + k] = src[r * ss + k];
}
