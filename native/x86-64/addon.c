/*
 * Node-API entry of the native x86-64 convolution kernels (conv3d.c): runs the units of one
 * kernel call on the calling thread and threads-1 pthreads, each claiming units with an atomic
 * counter until none are left (as unit-share.mjs does for the WebAssembly workers), and returns
 * when all are done, so the call stays synchronous as TensorFlow.js expects. Each unit writes
 * a disjoint part of the output with a fixed summation order: results do not depend on the
 * thread count. Node-API keeps the binary usable across Node.js versions.
 *
 * It also exposes the elementwise kernels of elementwise.c, which work directly on the
 * Float32Arrays they are given (single-threaded: they are memory-bound).
 *
 *   lanes()                                   vector widths this CPU can run ([] if none)
 *   run(memory, kernel, lanes, params, units, threads)
 *       memory: a Uint8Array over the kernels' WebAssembly.Memory (its base address);
 *       kernel: 0 forward, 1 input gradient, 2 filter gradient; params: byte offset of the
 *       parameter block in memory.
 *   binary(op, out, a, b)                     out[i] = a[i mod |a|] op b[i mod |b|]
 *   unary(op, alpha, out, x)                  out = f(x)
 *   reduceSum(out, x, outer, mid, inner)      out (outer, inner) = Σ over mid, float64
 *   copyRows(dst, dstAt, ds, src, srcAt, ss, rows, run)
 * and the operand layouts of the convolutions, straight between a Float32Array and the memory
 * (the WebAssembly build copies in, then lays out with a second pass):
 *   padIn(memory, at, x, N, D, H, W, C, d0, d1, h0, h1, w0, w1)   x zero-padded spatially
 *   widenIn(memory, at, x, count, C, S)       rows of C floats widened to S with zeros
 *   compactOut(out, memory, at, count, S, C)  rows of S floats cut to their first C
 *   transposeIn(memory, at, x, from, rows, cols, stride)   a block of x transposed, rows padded
 */
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*UnitFn)(char *base, const int *p, int u);
#define DECLARE(P)                                     \
  void P##forward_unit(char *, const int *, int);     \
  void P##input_grad_unit(char *, const int *, int);  \
  void P##filter_grad_unit(char *, const int *, int); \
  void P##up2_unit(char *, const int *, int);        \
  void P##up2_last_unit(char *, const int *, int);
DECLARE(k16_)
DECLARE(k8_)
DECLARE(k4_)

static const UnitFn table[3][5] = {
    {k4_forward_unit, k4_input_grad_unit, k4_filter_grad_unit, k4_up2_unit, k4_up2_last_unit},
    {k8_forward_unit, k8_input_grad_unit, k8_filter_grad_unit, k8_up2_unit, k8_up2_last_unit},
    {k16_forward_unit, k16_input_grad_unit, k16_filter_grad_unit, k16_up2_unit, k16_up2_last_unit},
};

void ew_binary(int op, float *out, const float *a, long pa, const float *b, long pb, long n);
void ew_unary(int op, double alpha, float *out, const float *x, long n);
void ew_reduce_sum(float *out, const float *x, long outer, long mid, long inner, double *acc);
void ew_copy_rows(float *dst, long ds, const float *src, long ss, long rows, long run);

enum { MAX_THREADS = 64 };

typedef struct {
  UnitFn fn;
  char *base;
  const int *params;
  int units;
  int next;
} Job;

static void *claim_units(void *arg) {
  Job *job = arg;
  for (;;) {
    const int u = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (u >= job->units) return NULL;
    job->fn(job->base, job->params, u);
  }
}

static int avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
static int avx512(void) { return avx2() && __builtin_cpu_supports("avx512f"); }

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value Lanes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  uint32_t n = 0;
  napi_create_array(env, &out);
  __builtin_cpu_init();
  if (avx2()) {
    napi_create_int32(env, 4, &v);
    napi_set_element(env, out, n++, v);
    napi_create_int32(env, 8, &v);
    napi_set_element(env, out, n++, v);
  }
  if (avx512()) {
    napi_create_int32(env, 16, &v);
    napi_set_element(env, out, n++, v);
  }
  return out;
}

static napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6)
    return throw_error(env, "conv3d native run: expected 6 arguments");
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array || data == NULL)
    return throw_error(env, "conv3d native run: memory must be a Uint8Array");
  int32_t a[5];
  for (int i = 0; i < 5; i++)
    if (napi_get_value_int32(env, argv[i + 1], &a[i]) != napi_ok)
      return throw_error(env, "conv3d native run: integer arguments expected");
  const int kernel = a[0], lanes = a[1], params = a[2], units = a[3];
  int threads = a[4];
  const int width = lanes == 4 ? 0 : lanes == 8 ? 1 : lanes == 16 ? 2 : -1;
  if (kernel < 0 || kernel > 4 || width < 0 || (width == 2 ? !avx512() : !avx2()))
    return throw_error(env, "conv3d native run: kernel or vector width not available");
  if (params < 0 || (size_t)params + 27 * 4 > length || units < 0)
    return throw_error(env, "conv3d native run: parameter block outside the memory");
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads > units) threads = units > 0 ? units : 1;
  Job job = {table[width][kernel], (char *)data, (const int *)((char *)data + params), units, 0};
  pthread_t ids[MAX_THREADS];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create(&ids[started], NULL, claim_units, &job) == 0) started++;
  claim_units(&job);
  for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
  return NULL;
}

/* A Float32Array argument's data and length; 0 if it is not one. */
static int f32(napi_env env, napi_value v, float **data, long *length) {
  napi_typedarray_type type;
  size_t n, offset;
  void *p;
  napi_value buffer;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, &buffer, &offset) != napi_ok ||
      type != napi_float32_array)
    return 0;
  *data = p;
  *length = (long)n;
  return 1;
}

static int ints(napi_env env, const napi_value *argv, int count, int64_t *out) {
  for (int i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[i], &out[i]) != napi_ok) return 0;
  return 1;
}

static napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *out, *a, *b;
  long n, na, nb;
  int64_t op;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      !ints(env, argv, 1, &op) || !f32(env, argv[1], &out, &n) || !f32(env, argv[2], &a, &na) ||
      !f32(env, argv[3], &b, &nb) || na == 0 || nb == 0 || n % na != 0 || n % nb != 0)
    return throw_error(env, "native binary: (op, out, a, b) with |a| and |b| dividing |out|");
  ew_binary((int)op, out, a, na, b, nb, n);
  return NULL;
}

static napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *out, *x;
  long n, nx;
  int64_t op;
  double alpha;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      !ints(env, argv, 1, &op) || napi_get_value_double(env, argv[1], &alpha) != napi_ok ||
      !f32(env, argv[2], &out, &n) || !f32(env, argv[3], &x, &nx) || n != nx)
    return throw_error(env, "native unary: (op, alpha, out, x) with |out| = |x|");
  ew_unary((int)op, alpha, out, x, n);
  return NULL;
}

static napi_value ReduceSum(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  float *out, *x;
  long n, nx;
  int64_t d[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      !f32(env, argv[0], &out, &n) || !f32(env, argv[1], &x, &nx) || !ints(env, argv + 2, 3, d) ||
      d[0] < 0 || d[1] < 0 || d[2] < 1 || d[0] * d[2] != n || d[0] * d[1] * d[2] != nx)
    return throw_error(env, "native reduceSum: (out, x, outer, mid, inner) with matching sizes");
  double *acc = malloc((size_t)d[2] * sizeof(double));
  if (acc == NULL) return throw_error(env, "native reduceSum: out of memory");
  ew_reduce_sum(out, x, d[0], d[1], d[2], acc);
  free(acc);
  return NULL;
}

static napi_value CopyRows(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  float *dst, *src;
  long nd, ns;
  int64_t a[6]; /* dstAt, ds, (src), srcAt, ss, rows, run */
  int64_t b[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8 ||
      !f32(env, argv[0], &dst, &nd) || !ints(env, argv + 1, 2, a) || !f32(env, argv[3], &src, &ns) ||
      !ints(env, argv + 4, 4, b))
    return throw_error(env, "native copyRows: (dst, dstAt, ds, src, srcAt, ss, rows, run)");
  const int64_t dat = a[0], ds = a[1], sat = b[0], ss = b[1], rows = b[2], run = b[3];
  if (rows < 0 || run < 0 || dat < 0 || sat < 0 ||
      (rows > 0 && (dat + (rows - 1) * ds + run > nd || sat + (rows - 1) * ss + run > ns)))
    return throw_error(env, "native copyRows: rows outside the arrays");
  if (rows > 0) ew_copy_rows(dst + dat, ds, src + sat, ss, rows, run);
  return NULL;
}

/* The memory (a Uint8Array over it) and a float offset range [at, at + n floats) inside it. */
static float *in_memory(napi_env env, napi_value v, int64_t at, int64_t n) {
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array || at < 0 || n < 0 || at % 4 != 0 || (size_t)(at + 4 * n) > length)
    return NULL;
  return (float *)((char *)data + at);
}

static napi_value PadIn(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  float *x;
  long nx;
  int64_t d[11]; /* at, then N D H W C d0 d1 h0 h1 w0 w1 */
  int64_t at;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 14 ||
      !ints(env, argv + 1, 1, &at) || !f32(env, argv[2], &x, &nx) || !ints(env, argv + 3, 11, d))
    return throw_error(env, "native padIn: (memory, at, x, N, D, H, W, C, d0, d1, h0, h1, w0, w1)");
  const int64_t N = d[0], D = d[1], H = d[2], W = d[3], C = d[4];
  const int64_t Dp = D + d[5] + d[6], Hp = H + d[7] + d[8], Wp = W + d[9] + d[10];
  for (int i = 0; i < 11; i++)
    if (d[i] < 0) return throw_error(env, "native padIn: negative size");
  if (N * D * H * W * C != nx) return throw_error(env, "native padIn: x does not have the given shape");
  float *dst = in_memory(env, argv[0], at, N * Dp * Hp * Wp * C);
  if (dst == NULL) return throw_error(env, "native padIn: destination outside the memory");
  const int64_t row = Wp * C, lead = d[9] * C, trail = d[10] * C, run = W * C;
  for (int64_t n = 0; n < N; n++)
    for (int64_t z = 0; z < Dp; z++)
      for (int64_t y = 0; y < Hp; y++) {
        float *o = dst + ((n * Dp + z) * Hp + y) * row;
        const int64_t sz = z - d[5], sy = y - d[7];
        if (sz < 0 || sz >= D || sy < 0 || sy >= H) {
          memset(o, 0, (size_t)row * sizeof(float));
          continue;
        }
        memset(o, 0, (size_t)lead * sizeof(float));
        memcpy(o + lead, x + ((n * D + sz) * H + sy) * run, (size_t)run * sizeof(float));
        memset(o + lead + run, 0, (size_t)trail * sizeof(float));
      }
  return NULL;
}

static napi_value WidenIn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  float *x;
  long nx;
  int64_t at, d[3]; /* count, C, S */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6 ||
      !ints(env, argv + 1, 1, &at) || !f32(env, argv[2], &x, &nx) || !ints(env, argv + 3, 3, d) ||
      d[0] < 0 || d[1] < 1 || d[2] < d[1] || d[0] * d[1] != nx)
    return throw_error(env, "native widenIn: (memory, at, x, count, C, S) with |x| = count C, C <= S");
  float *dst = in_memory(env, argv[0], at, d[0] * d[2]);
  if (dst == NULL) return throw_error(env, "native widenIn: destination outside the memory");
  const int64_t C = d[1], S = d[2];
  for (int64_t i = 0; i < d[0]; i++) {
    memcpy(dst + i * S, x + i * C, (size_t)C * sizeof(float));
    memset(dst + i * S + C, 0, (size_t)(S - C) * sizeof(float));
  }
  return NULL;
}

static napi_value CompactOut(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  float *out;
  long nout;
  int64_t at, d[3]; /* count, S, C */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6 ||
      !f32(env, argv[0], &out, &nout) || !ints(env, argv + 2, 1, &at) || !ints(env, argv + 3, 3, d) ||
      d[0] < 0 || d[2] < 1 || d[1] < d[2] || d[0] * d[2] != nout)
    return throw_error(env, "native compactOut: (out, memory, at, count, S, C) with |out| = count C");
  const float *src = in_memory(env, argv[1], at, d[0] * d[1]);
  if (src == NULL) return throw_error(env, "native compactOut: source outside the memory");
  const int64_t S = d[1], C = d[2];
  if (S == C) memcpy(out, src, (size_t)(d[0] * C) * sizeof(float));
  else
    for (int64_t i = 0; i < d[0]; i++)
      for (int64_t k = 0; k < C; k++) out[i * C + k] = src[i * S + k];
  return NULL;
}

static napi_value TransposeIn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  float *x;
  long nx;
  int64_t at, d[4]; /* from, rows, cols, stride */
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7 ||
      !ints(env, argv + 1, 1, &at) || !f32(env, argv[2], &x, &nx) || !ints(env, argv + 3, 4, d) ||
      d[0] < 0 || d[1] < 0 || d[2] < 0 || d[3] < d[1] || d[0] + d[1] * d[2] > nx)
    return throw_error(env, "native transposeIn: (memory, at, x, from, rows, cols, stride), stride >= rows");
  const int64_t rows = d[1], cols = d[2], stride = d[3];
  float *dst = in_memory(env, argv[0], at, cols * stride);
  if (dst == NULL) return throw_error(env, "native transposeIn: destination outside the memory");
  const float *src = x + d[0];
  /* dst[c][i] = src[i][c]; blocks of 16 × 16 keep both sides in cache lines. */
  for (int64_t c0 = 0; c0 < cols; c0 += 16)
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
      const int64_t c1 = c0 + 16 < cols ? c0 + 16 : cols, i1 = i0 + 16 < rows ? i0 + 16 : rows;
      for (int64_t c = c0; c < c1; c++)
        for (int64_t i = i0; i < i1; i++) dst[c * stride + i] = src[i * cols + c];
    }
  for (int64_t c = 0; c < cols; c++) memset(dst + c * stride + rows, 0, (size_t)(stride - rows) * sizeof(float));
  return NULL;
}

/*
 * Every export runs through this: the call, then VZEROUPPER. Kernels and the libc routines they
 * call (AVX-512 memset/memcpy) can return with the upper halves of the vector registers dirty;
 * V8's Math.exp/Math.log are SSE code called from AVX-encoded JIT code, and with a dirty upper
 * state each such transition stalls: Math.exp ran 18× slower (268 vs 15 ms per 10⁶ calls) in
 * `train gan` right after a generator step. VZEROUPPER needs AVX, which every kernel here does.
 */
static int has_avx;

static napi_value clean_call(napi_env env, napi_callback_info info) {
  void *fn = NULL;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &fn);
  napi_value result = ((napi_callback)fn)(env, info);
  if (has_avx) __asm__ volatile("vzeroupper" ::: "memory");
  return result;
}

NAPI_MODULE_INIT() {
  __builtin_cpu_init();
  has_avx = __builtin_cpu_supports("avx");
  static const struct {
    const char *name;
    napi_callback fn;
  } exported[] = {{"lanes", Lanes},       {"run", Run},         {"binary", Binary},
                  {"unary", Unary},       {"reduceSum", ReduceSum}, {"copyRows", CopyRows},
                  {"padIn", PadIn},       {"widenIn", WidenIn}, {"compactOut", CompactOut},
                  {"transposeIn", TransposeIn}};
  for (size_t i = 0; i < sizeof exported / sizeof exported[0]; i++) {
    napi_value fn;
    napi_create_function(env, exported[i].name, NAPI_AUTO_LENGTH, clean_call, (void *)exported[i].fn, &fn);
    napi_set_named_property(env, exports, exported[i].name, fn);
  }
  return exports;
}
