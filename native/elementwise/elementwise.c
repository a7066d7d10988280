/*
 * WebAssembly SIMD elementwise and reduction kernels for TensorFlow.js's float32 CPU backend
 * (src/models/kernels/elementwise-wasm.ts): the activations, their gradients' masks, binary
 * arithmetic with the broadcasts the painter and critic use (equal shapes, a repeating trailing
 * block such as a bias, a scalar), sums over a contiguous block of axes, and the strided row
 * copies of channel splitting. Profiling a WGAN-GP step showed these
 * memory-bound ops, run by the stock pure-JavaScript kernels, costing as much as the
 * convolutions.
 *
 * Every result equals the stock kernel's bit for bit except sums: TensorFlow.js computes
 * a ⊕ b in float64 and rounds to float32, which is the correctly rounded float32 result of
 * + − × and sqrt, i.e. what the f32x4 instructions return. Sums accumulate in float64 in a
 * fixed order (deterministic; at least as accurate as the stock float32 sum). No libc; the host
 * lays out every buffer (elementwise-wasm.ts). Build: native/elementwise/build.sh.
 */
#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))

enum { OP_ADD, OP_SUB, OP_MUL };
enum { U_RELU, U_LEAKY, U_STEP, U_SQUARE, U_SQRT };

static inline V vop(int op, V a, V b) {
  switch (op) {
    case OP_ADD: return wasm_f32x4_add(a, b);
    case OP_SUB: return wasm_f32x4_sub(a, b);
    default: return wasm_f32x4_mul(a, b);
  }
}
static inline float sop(int op, float a, float b) {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    default: return a * b;
  }
}

/*
 * out[i] = a[i mod pa] op b[i mod pb] for i < n, where each period pa, pb is n (a full operand),
 * 1 (a scalar) or divides n (a block repeated along leading axes, e.g. a bias).
 */
#define BINARY(NAME, OP)                                                                     \
  static void NAME(float *out, const float *a, int pa, const float *b, int pb, int n) {     \
    if (pa == n && pb == n) {                                                                \
      int i = 0;                                                                             \
      for (; i + 16 <= n; i += 16) {                                                         \
        ST(out + i, vop(OP, LD(a + i), LD(b + i)));                                          \
        ST(out + i + 4, vop(OP, LD(a + i + 4), LD(b + i + 4)));                              \
        ST(out + i + 8, vop(OP, LD(a + i + 8), LD(b + i + 8)));                              \
        ST(out + i + 12, vop(OP, LD(a + i + 12), LD(b + i + 12)));                           \
      }                                                                                      \
      for (; i + 4 <= n; i += 4) ST(out + i, vop(OP, LD(a + i), LD(b + i)));                 \
      for (; i < n; i++) out[i] = sop(OP, a[i], b[i]);                                       \
      return;                                                                                \
    }                                                                                        \
    if (pb == 1 || pa == 1) {                                                                \
      const int sa = pa == 1;                                                                \
      const float *x = sa ? b : a;                                                           \
      const float c = sa ? a[0] : b[0];                                                      \
      const V cv = wasm_f32x4_splat(c);                                                      \
      int i = 0;                                                                             \
      if (sa)                                                                                \
        for (; i + 4 <= n; i += 4) ST(out + i, vop(OP, cv, LD(x + i)));                      \
      else                                                                                   \
        for (; i + 4 <= n; i += 4) ST(out + i, vop(OP, LD(x + i), cv));                      \
      for (; i < n; i++) out[i] = sa ? sop(OP, c, x[i]) : sop(OP, x[i], c);                  \
      return;                                                                                \
    }                                                                                        \
    const int p = pa < pb ? pa : pb, sa = pa < pb;                                           \
    for (int r = 0; r < n; r += p) {                                                         \
      const float *pa_ = sa ? a : a + r, *pb_ = sa ? b + r : b;                              \
      float *o = out + r;                                                                    \
      int k = 0;                                                                             \
      for (; k + 4 <= p; k += 4) ST(o + k, vop(OP, LD(pa_ + k), LD(pb_ + k)));               \
      for (; k < p; k++) o[k] = sop(OP, pa_[k], pb_[k]);                                     \
    }                                                                                        \
  }

BINARY(bin_add, OP_ADD)
BINARY(bin_sub, OP_SUB)
BINARY(bin_mul, OP_MUL)

void binary(int op, float *out, const float *a, int pa, const float *b, int pb, int n) {
  if (op == OP_ADD) bin_add(out, a, pa, b, pb, n);
  else if (op == OP_SUB) bin_sub(out, a, pa, b, pb, n);
  else bin_mul(out, a, pa, b, pb, n);
}

/*
 * out = f(x) with TensorFlow.js's definitions, NaN included:
 *   relu  max(0, x) (NaN stays NaN)      leaky  x < 0 ? αx : x (αx in float64, then rounded)
 *   step  x > 0 ? 1 : α (NaN → NaN)      square x²     sqrt √x
 */
void unary(int op, double alpha, float *out, const float *x, int n) {
  const V zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  const V al = wasm_f32x4_splat((float)alpha), al64 = wasm_f64x2_splat(alpha);
  int i = 0;
  switch (op) {
    case U_RELU:
      for (; i + 4 <= n; i += 4) ST(out + i, wasm_f32x4_max(LD(x + i), zero));
      break;
    case U_LEAKY:
      for (; i + 4 <= n; i += 4) {
        const V v = LD(x + i);
        /* αx in float64 then rounded, as TensorFlow.js does (α = 0.1 is not a float32). */
        const V lo = wasm_f32x4_demote_f64x2_zero(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(v), al64));
        const V hi = wasm_f32x4_demote_f64x2_zero(
            wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)), al64));
        const V ax = wasm_i32x4_shuffle(lo, hi, 0, 1, 4, 5);
        ST(out + i, wasm_v128_bitselect(ax, v, wasm_f32x4_lt(v, zero)));
      }
      break;
    case U_STEP:
      for (; i + 4 <= n; i += 4) {
        const V v = LD(x + i);
        const V s = wasm_v128_bitselect(one, al, wasm_f32x4_gt(v, zero));
        ST(out + i, wasm_v128_bitselect(v, s, wasm_f32x4_ne(v, v)));
      }
      break;
    case U_SQUARE:
      for (; i + 4 <= n; i += 4) {
        const V v = LD(x + i);
        ST(out + i, wasm_f32x4_mul(v, v));
      }
      break;
    default:
      for (; i + 4 <= n; i += 4) ST(out + i, wasm_f32x4_sqrt(LD(x + i)));
  }
  for (; i < n; i++) {
    const float v = x[i];
    switch (op) {
      case U_RELU: out[i] = v != v ? v : (v > 0.0f ? v : 0.0f); break;
      case U_LEAKY: out[i] = v < 0.0f ? (float)(alpha * v) : v; break;
      case U_STEP: out[i] = v != v ? v : (v > 0.0f ? 1.0f : (float)alpha); break;
      case U_SQUARE: out[i] = v * v; break;
      default: out[i] = __builtin_sqrtf(v);
    }
  }
}

/*
 * out[o][i] = Σ_m x[o][m][i] for x viewed as (outer, mid, inner): a sum over a contiguous block
 * of axes. Float64 accumulators (acc: inner doubles of scratch), summed in order of m.
 */
void reduce_sum(float *out, const float *x, int outer, int mid, int inner, double *acc) {
  for (int o = 0; o < outer; o++) {
    const float *xo = x + (long)o * mid * inner;
    if (inner == 1) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int m = 0;
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
    for (int i = 0; i < inner; i++) acc[i] = 0;
    for (int m = 0; m < mid; m++) {
      const float *r = xo + m * inner;
      int i = 0;
      for (; i + 4 <= inner; i += 4) {
        const V v = LD(r + i);
        wasm_v128_store(acc + i, wasm_f64x2_add(wasm_v128_load(acc + i), wasm_f64x2_promote_low_f32x4(v)));
        wasm_v128_store(acc + i + 2,
                        wasm_f64x2_add(wasm_v128_load(acc + i + 2),
                                       wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))));
      }
      for (; i < inner; i++) acc[i] += r[i];
    }
    for (int i = 0; i < inner; i++) out[o * inner + i] = (float)acc[i];
  }
}

/* dst[r * ds + k] = src[r * ss + k] for r < rows, k < run (a split along an axis). */
void copy_rows(float *dst, int ds, const float *src, int ss, int rows, int run) {
  for (int r = 0; r < rows; r++) {
    float *d = dst + (long)r * ds;
    const float *s = src + (long)r * ss;
    int k = 0;
    for (; k + 4 <= run; k += 4) ST(d + k, LD(s + k));
    for (; k < run; k++) d[k] = s[k];
  }
}
