/*
 * WebAssembly SIMD kernels for the 3D real FFT (src/cosmo/fft/).
 *
 * Same algorithm as the TypeScript reference (batched-complex-fft.ts, scalar-real-fft3d.ts):
 * a Stockham autosort mixed-radix (4, 2, 3, 5) FFT over many pencils at once, stored as
 * separate re/im arrays in layout [j][b] (element j of pencil b at j * batch + b). The four
 * f32x4 lanes are four neighbouring pencils, so every butterfly is a plain vertical SIMD
 * operation. `batch` is always a multiple of 4 (callers pad with extra pencils).
 *
 * No libc: twiddles (computed in float64 by the host) and all buffers live at offsets the
 * host chooses and records in a Ctx block. Build: native/fft/build.sh.
 */
#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define SPLAT wasm_f32x4_splat

/* Plan: int32 words [nstages, (r, m, twiddle pointer) x nstages]; twiddles per stage are
 * cos/sin(2π p u / (r m)) for p < m, 1 <= u < r at ((p (r-1) + u-1) * 2). */
typedef struct {
  int nx, ny, nz, nkz;
  int zlen;      /* z transform length: nz/2 (even nz, packed) or nz */
  int nyp, nkp;  /* SIMD batch widths for ny and nkz pencils: multiples of 4 (see lanes() in wasm-fft-kernel.mjs) */
  float *io;     /* host <-> kernel transfer buffer */
  float *zr, *zi;       /* [zlen][nyp] */
  float *pr, *pi;       /* [ny][nkp] */
  float *br, *bi;       /* x-pass block [nx][chunk] */
  float *sr, *si;       /* Stockham scratch, as large as the largest of the above */
  float *split;         /* cos, sin of 2π k / nz for k < nkz, interleaved */
  int *planx, *plany, *planz;
} Ctx;

/* One complex rotation of (br, bi) by (c, s): returns re and im. */
#define ROT(outr, outi, br_, bi_, c, s)        \
  do {                                         \
    outr = SUB(MUL(br_, c), MUL(bi_, s));      \
    outi = ADD(MUL(br_, s), MUL(bi_, c));      \
  } while (0)

static void radix2(const float *xr, const float *xi, float *yr, float *yi, int m, int L,
                   const float *tw, float sg) {
  for (int p = 0; p < m; p++) {
    const V c1 = SPLAT(tw[p * 2]), s1 = SPLAT(sg * tw[p * 2 + 1]);
    const float *a0r = xr + p * L, *a0i = xi + p * L;
    const float *a1r = xr + (p + m) * L, *a1i = xi + (p + m) * L;
    float *o0r = yr + 2 * p * L, *o0i = yi + 2 * p * L;
    float *o1r = o0r + L, *o1i = o0i + L;
    for (int i = 0; i < L; i += 4) {
      V ar = LD(a0r + i), ai = LD(a0i + i), br = LD(a1r + i), bi = LD(a1i + i);
      ST(o0r + i, ADD(ar, br));
      ST(o0i + i, ADD(ai, bi));
      V dr = SUB(ar, br), di = SUB(ai, bi), tr, ti;
      ROT(tr, ti, dr, di, c1, s1);
      ST(o1r + i, tr);
      ST(o1i + i, ti);
    }
  }
}

static void radix3(const float *xr, const float *xi, float *yr, float *yi, int m, int L,
                   const float *tw, float sg) {
  const V k = SPLAT(sg * 0.86602540378443864676f), half = SPLAT(0.5f);
  for (int p = 0; p < m; p++) {
    const float *t = tw + p * 4;
    const V c1 = SPLAT(t[0]), s1 = SPLAT(sg * t[1]), c2 = SPLAT(t[2]), s2 = SPLAT(sg * t[3]);
    const float *a0r = xr + p * L, *a0i = xi + p * L;
    const float *a1r = xr + (p + m) * L, *a1i = xi + (p + m) * L;
    const float *a2r = xr + (p + 2 * m) * L, *a2i = xi + (p + 2 * m) * L;
    float *o0r = yr + 3 * p * L, *o0i = yi + 3 * p * L;
    for (int i = 0; i < L; i += 4) {
      V x0r = LD(a0r + i), x0i = LD(a0i + i), x1r = LD(a1r + i), x1i = LD(a1i + i);
      V x2r = LD(a2r + i), x2i = LD(a2i + i);
      V sr = ADD(x1r, x2r), si = ADD(x1i, x2i), dr = SUB(x1r, x2r), di = SUB(x1i, x2i);
      V mr = SUB(x0r, MUL(half, sr)), mi = SUB(x0i, MUL(half, si));
      V jr = wasm_f32x4_neg(MUL(k, di)), ji = MUL(k, dr);
      ST(o0r + i, ADD(x0r, sr));
      ST(o0i + i, ADD(x0i, si));
      V tr, ti;
      ROT(tr, ti, ADD(mr, jr), ADD(mi, ji), c1, s1);
      ST(o0r + L + i, tr);
      ST(o0i + L + i, ti);
      ROT(tr, ti, SUB(mr, jr), SUB(mi, ji), c2, s2);
      ST(o0r + 2 * L + i, tr);
      ST(o0i + 2 * L + i, ti);
    }
  }
}

static void radix4(const float *xr, const float *xi, float *yr, float *yi, int m, int L,
                   const float *tw, float sg) {
  const V vsg = SPLAT(sg);
  for (int p = 0; p < m; p++) {
    const float *t = tw + p * 6;
    const V c1 = SPLAT(t[0]), s1 = SPLAT(sg * t[1]), c2 = SPLAT(t[2]), s2 = SPLAT(sg * t[3]);
    const V c3 = SPLAT(t[4]), s3 = SPLAT(sg * t[5]);
    const float *a0r = xr + p * L, *a0i = xi + p * L;
    const float *a1r = xr + (p + m) * L, *a1i = xi + (p + m) * L;
    const float *a2r = xr + (p + 2 * m) * L, *a2i = xi + (p + 2 * m) * L;
    const float *a3r = xr + (p + 3 * m) * L, *a3i = xi + (p + 3 * m) * L;
    float *o0r = yr + 4 * p * L, *o0i = yi + 4 * p * L;
    if (p == 0) {
      /* w^0 = 1: no rotations. */
      for (int i = 0; i < L; i += 4) {
        V x0r = LD(a0r + i), x0i = LD(a0i + i), x1r = LD(a1r + i), x1i = LD(a1i + i);
        V x2r = LD(a2r + i), x2i = LD(a2i + i), x3r = LD(a3r + i), x3i = LD(a3i + i);
        V t0r = ADD(x0r, x2r), t0i = ADD(x0i, x2i), t1r = SUB(x0r, x2r), t1i = SUB(x0i, x2i);
        V t2r = ADD(x1r, x3r), t2i = ADD(x1i, x3i);
        V t3r = wasm_f32x4_neg(MUL(vsg, SUB(x1i, x3i))), t3i = MUL(vsg, SUB(x1r, x3r));
        ST(o0r + i, ADD(t0r, t2r));
        ST(o0i + i, ADD(t0i, t2i));
        ST(o0r + L + i, ADD(t1r, t3r));
        ST(o0i + L + i, ADD(t1i, t3i));
        ST(o0r + 2 * L + i, SUB(t0r, t2r));
        ST(o0i + 2 * L + i, SUB(t0i, t2i));
        ST(o0r + 3 * L + i, SUB(t1r, t3r));
        ST(o0i + 3 * L + i, SUB(t1i, t3i));
      }
      continue;
    }
    for (int i = 0; i < L; i += 4) {
      V x0r = LD(a0r + i), x0i = LD(a0i + i), x1r = LD(a1r + i), x1i = LD(a1i + i);
      V x2r = LD(a2r + i), x2i = LD(a2i + i), x3r = LD(a3r + i), x3i = LD(a3i + i);
      V t0r = ADD(x0r, x2r), t0i = ADD(x0i, x2i), t1r = SUB(x0r, x2r), t1i = SUB(x0i, x2i);
      V t2r = ADD(x1r, x3r), t2i = ADD(x1i, x3i);
      /* (x1 - x3) * (sg i) */
      V t3r = wasm_f32x4_neg(MUL(vsg, SUB(x1i, x3i))), t3i = MUL(vsg, SUB(x1r, x3r));
      ST(o0r + i, ADD(t0r, t2r));
      ST(o0i + i, ADD(t0i, t2i));
      V tr, ti;
      ROT(tr, ti, ADD(t1r, t3r), ADD(t1i, t3i), c1, s1);
      ST(o0r + L + i, tr);
      ST(o0i + L + i, ti);
      ROT(tr, ti, SUB(t0r, t2r), SUB(t0i, t2i), c2, s2);
      ST(o0r + 2 * L + i, tr);
      ST(o0i + 2 * L + i, ti);
      ROT(tr, ti, SUB(t1r, t3r), SUB(t1i, t3i), c3, s3);
      ST(o0r + 3 * L + i, tr);
      ST(o0i + 3 * L + i, ti);
    }
  }
}

static void radix5(const float *xr, const float *xi, float *yr, float *yi, int m, int L,
                   const float *tw, float sg) {
  const V ca = SPLAT(0.30901699437494742410f), cb = SPLAT(-0.80901699437494742410f);
  const V sa = SPLAT(sg * 0.95105651629515357212f), sb = SPLAT(sg * 0.58778525229247312917f);
  for (int p = 0; p < m; p++) {
    const float *t = tw + p * 8;
    const V c1 = SPLAT(t[0]), s1 = SPLAT(sg * t[1]), c2 = SPLAT(t[2]), s2 = SPLAT(sg * t[3]);
    const V c3 = SPLAT(t[4]), s3 = SPLAT(sg * t[5]), c4 = SPLAT(t[6]), s4 = SPLAT(sg * t[7]);
    const float *a0r = xr + p * L, *a0i = xi + p * L;
    const float *a1r = xr + (p + m) * L, *a1i = xi + (p + m) * L;
    const float *a2r = xr + (p + 2 * m) * L, *a2i = xi + (p + 2 * m) * L;
    const float *a3r = xr + (p + 3 * m) * L, *a3i = xi + (p + 3 * m) * L;
    const float *a4r = xr + (p + 4 * m) * L, *a4i = xi + (p + 4 * m) * L;
    float *o0r = yr + 5 * p * L, *o0i = yi + 5 * p * L;
    for (int i = 0; i < L; i += 4) {
      V x0r = LD(a0r + i), x0i = LD(a0i + i);
      V x1r = LD(a1r + i), x1i = LD(a1i + i), x4r = LD(a4r + i), x4i = LD(a4i + i);
      V x2r = LD(a2r + i), x2i = LD(a2i + i), x3r = LD(a3r + i), x3i = LD(a3i + i);
      V s14r = ADD(x1r, x4r), s14i = ADD(x1i, x4i), d14r = SUB(x1r, x4r), d14i = SUB(x1i, x4i);
      V s23r = ADD(x2r, x3r), s23i = ADD(x2i, x3i), d23r = SUB(x2r, x3r), d23i = SUB(x2i, x3i);
      V m1r = ADD(x0r, ADD(MUL(ca, s14r), MUL(cb, s23r)));
      V m1i = ADD(x0i, ADD(MUL(ca, s14i), MUL(cb, s23i)));
      V m2r = ADD(x0r, ADD(MUL(cb, s14r), MUL(ca, s23r)));
      V m2i = ADD(x0i, ADD(MUL(cb, s14i), MUL(ca, s23i)));
      /* i (sa d14 + sb d23) and i (sb d14 - sa d23) */
      V n1r = wasm_f32x4_neg(ADD(MUL(sa, d14i), MUL(sb, d23i))), n1i = ADD(MUL(sa, d14r), MUL(sb, d23r));
      V n2r = wasm_f32x4_neg(SUB(MUL(sb, d14i), MUL(sa, d23i))), n2i = SUB(MUL(sb, d14r), MUL(sa, d23r));
      ST(o0r + i, ADD(x0r, ADD(s14r, s23r)));
      ST(o0i + i, ADD(x0i, ADD(s14i, s23i)));
      V tr, ti;
      ROT(tr, ti, ADD(m1r, n1r), ADD(m1i, n1i), c1, s1);
      ST(o0r + L + i, tr);
      ST(o0i + L + i, ti);
      ROT(tr, ti, ADD(m2r, n2r), ADD(m2i, n2i), c2, s2);
      ST(o0r + 2 * L + i, tr);
      ST(o0i + 2 * L + i, ti);
      ROT(tr, ti, SUB(m2r, n2r), SUB(m2i, n2i), c3, s3);
      ST(o0r + 3 * L + i, tr);
      ST(o0i + 3 * L + i, ti);
      ROT(tr, ti, SUB(m1r, n1r), SUB(m1i, n1i), c4, s4);
      ST(o0r + 4 * L + i, tr);
      ST(o0i + 4 * L + i, ti);
    }
  }
}

/* Transforms `batch` pencils (batch % 4 == 0). The result lands either in (re, im) or in the
 * scratch (sr, si); returns 1 for the scratch. */
static int fft_batch(float *re, float *im, float *sr, float *si, const int *plan, int batch,
                     int inverse) {
  const float sg = inverse ? 1.0f : -1.0f;
  const int nst = plan[0];
  float *xr = re, *xi = im, *yr = sr, *yi = si;
  int s = 1;
  for (int k = 0; k < nst; k++) {
    const int r = plan[1 + 3 * k], m = plan[2 + 3 * k];
    const float *tw = (const float *)plan[3 + 3 * k];
    const int L = s * batch;
    switch (r) {
      case 2: radix2(xr, xi, yr, yi, m, L, tw, sg); break;
      case 3: radix3(xr, xi, yr, yi, m, L, tw, sg); break;
      case 4: radix4(xr, xi, yr, yi, m, L, tw, sg); break;
      default: radix5(xr, xi, yr, yi, m, L, tw, sg); break;
    }
    float *t;
    t = xr; xr = yr; yr = t;
    t = xi; xi = yi; yi = t;
    s *= r;
  }
  return xr != re;
}

/* 4x4 transpose of rows a, b, c, d (lane j of row i -> lane i of row j). */
static inline void transpose4(V *a, V *b, V *c, V *d) {
  V t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  V t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/* Interleaved complex src[0..2n) -> dr[0..n), di[0..n). */
static void deinterleave(const float *src, float *dr, float *di, int n) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    V a = LD(src + 2 * j), b = LD(src + 2 * j + 4);
    ST(dr + j, wasm_i32x4_shuffle(a, b, 0, 2, 4, 6));
    ST(di + j, wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
  }
  for (; j < n; j++) {
    dr[j] = src[2 * j];
    di[j] = src[2 * j + 1];
  }
}

/* sr[0..n), si[0..n) -> interleaved complex dst[0..2n). */
static void interleave(const float *sr, const float *si, float *dst, int n) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    V a = LD(sr + j), b = LD(si + j);
    ST(dst + 2 * j, wasm_i32x4_shuffle(a, b, 0, 4, 1, 5));
    ST(dst + 2 * j + 4, wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  }
  for (; j < n; j++) {
    dst[2 * j] = sr[j];
    dst[2 * j + 1] = si[j];
  }
}

/* Even nz: real rows io[y][2m + {0,1}] -> zr[m][y], zi[m][y] (even/odd samples packed as one
 * complex value), in 4x4 tiles. */
static void pack_rows(const Ctx *c) {
  const int ny = c->ny, nz = c->nz, nyp = c->nyp, h = c->zlen;
  const float *io = c->io;
  float *zr = c->zr, *zi = c->zi;
  const int y4 = ny & ~3, m4 = h & ~3;
  for (int y = 0; y < y4; y += 4) {
    const float *r0 = io + y * nz, *r1 = r0 + nz, *r2 = r1 + nz, *r3 = r2 + nz;
    for (int m = 0; m < m4; m += 4) {
      V a0 = LD(r0 + 2 * m), a1 = LD(r0 + 2 * m + 4), b0 = LD(r1 + 2 * m), b1 = LD(r1 + 2 * m + 4);
      V c0 = LD(r2 + 2 * m), c1 = LD(r2 + 2 * m + 4), d0 = LD(r3 + 2 * m), d1 = LD(r3 + 2 * m + 4);
      V ae = wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6), ao = wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7);
      V be = wasm_i32x4_shuffle(b0, b1, 0, 2, 4, 6), bo = wasm_i32x4_shuffle(b0, b1, 1, 3, 5, 7);
      V ce = wasm_i32x4_shuffle(c0, c1, 0, 2, 4, 6), co = wasm_i32x4_shuffle(c0, c1, 1, 3, 5, 7);
      V de = wasm_i32x4_shuffle(d0, d1, 0, 2, 4, 6), d_o = wasm_i32x4_shuffle(d0, d1, 1, 3, 5, 7);
      transpose4(&ae, &be, &ce, &de);
      transpose4(&ao, &bo, &co, &d_o);
      float *pr = zr + m * nyp + y, *pi = zi + m * nyp + y;
      ST(pr, ae);
      ST(pr + nyp, be);
      ST(pr + 2 * nyp, ce);
      ST(pr + 3 * nyp, de);
      ST(pi, ao);
      ST(pi + nyp, bo);
      ST(pi + 2 * nyp, co);
      ST(pi + 3 * nyp, d_o);
    }
    for (int m = m4; m < h; m++)
      for (int b = 0; b < 4; b++) {
        zr[m * nyp + y + b] = io[(y + b) * nz + 2 * m];
        zi[m * nyp + y + b] = io[(y + b) * nz + 2 * m + 1];
      }
  }
  for (int y = y4; y < ny; y++)
    for (int m = 0; m < h; m++) {
      zr[m * nyp + y] = io[y * nz + 2 * m];
      zi[m * nyp + y] = io[y * nz + 2 * m + 1];
    }
}

/* Inverse of pack_rows, scaled: zr[m][y], zi[m][y] -> io[y][2m + {0,1}]. */
static void unpack_rows(const Ctx *c, const float *zr, const float *zi, float scale) {
  const int ny = c->ny, nz = c->nz, nyp = c->nyp, h = c->zlen;
  float *io = c->io;
  const V sc = SPLAT(scale);
  const int y4 = ny & ~3, m4 = h & ~3;
  for (int y = 0; y < y4; y += 4) {
    float *r0 = io + y * nz, *r1 = r0 + nz, *r2 = r1 + nz, *r3 = r2 + nz;
    for (int m = 0; m < m4; m += 4) {
      const float *pr = zr + m * nyp + y, *pi = zi + m * nyp + y;
      V a = MUL(sc, LD(pr)), b = MUL(sc, LD(pr + nyp)), cc = MUL(sc, LD(pr + 2 * nyp)), d = MUL(sc, LD(pr + 3 * nyp));
      V ai = MUL(sc, LD(pi)), bi = MUL(sc, LD(pi + nyp)), ci = MUL(sc, LD(pi + 2 * nyp)), di = MUL(sc, LD(pi + 3 * nyp));
      transpose4(&a, &b, &cc, &d);
      transpose4(&ai, &bi, &ci, &di);
      ST(r0 + 2 * m, wasm_i32x4_shuffle(a, ai, 0, 4, 1, 5));
      ST(r0 + 2 * m + 4, wasm_i32x4_shuffle(a, ai, 2, 6, 3, 7));
      ST(r1 + 2 * m, wasm_i32x4_shuffle(b, bi, 0, 4, 1, 5));
      ST(r1 + 2 * m + 4, wasm_i32x4_shuffle(b, bi, 2, 6, 3, 7));
      ST(r2 + 2 * m, wasm_i32x4_shuffle(cc, ci, 0, 4, 1, 5));
      ST(r2 + 2 * m + 4, wasm_i32x4_shuffle(cc, ci, 2, 6, 3, 7));
      ST(r3 + 2 * m, wasm_i32x4_shuffle(d, di, 0, 4, 1, 5));
      ST(r3 + 2 * m + 4, wasm_i32x4_shuffle(d, di, 2, 6, 3, 7));
    }
    for (int m = m4; m < h; m++)
      for (int b = 0; b < 4; b++) {
        io[(y + b) * nz + 2 * m] = zr[m * nyp + y + b] * scale;
        io[(y + b) * nz + 2 * m + 1] = zi[m * nyp + y + b] * scale;
      }
  }
  for (int y = y4; y < ny; y++)
    for (int m = 0; m < h; m++) {
      io[y * nz + 2 * m] = zr[m * nyp + y] * scale;
      io[y * nz + 2 * m + 1] = zi[m * nyp + y] * scale;
    }
}

/* Even nz, forward split of the packed transform Z (rows k of zr/zi, lanes y) into the
 * half spectrum X[y][k] (rows y of pr/pi):
 * X[k] = E + e^{-2πik/nz} O, E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i.
 * Four k at a time, so that a 4x4 transpose turns lanes y into lanes k. */
typedef struct {
  const float *zr, *zi, *wr, *wi; /* rows k and h-k */
  V cs, sn;
} SplitRow;

static inline SplitRow split_row(const float *zr, const float *zi, const float *split, int nyp, int h, int k) {
  SplitRow r;
  const int a = (k % h) * nyp, b = ((h - k) % h) * nyp;
  r.zr = zr + a;
  r.zi = zi + a;
  r.wr = zr + b;
  r.wi = zi + b;
  r.cs = SPLAT(split[2 * k]);
  r.sn = SPLAT(split[2 * k + 1]);
  return r;
}

static inline void split_lanes(const SplitRow *r, int y, V *xr, V *xi) {
  const V half = SPLAT(0.5f);
  V zr4 = LD(r->zr + y), zi4 = LD(r->zi + y), wr = LD(r->wr + y), wi = wasm_f32x4_neg(LD(r->wi + y));
  V er = MUL(half, ADD(zr4, wr)), ei = MUL(half, ADD(zi4, wi));
  V or_ = MUL(half, SUB(zi4, wi)), oi = MUL(half, SUB(wr, zr4));
  *xr = ADD(er, ADD(MUL(r->cs, or_), MUL(r->sn, oi)));
  *xi = ADD(ei, SUB(MUL(r->cs, oi), MUL(r->sn, or_)));
}

static void split_forward(const Ctx *c, const float *zr, const float *zi) {
  const int ny = c->ny, nkp = c->nkp, nkz = c->nkz, nyp = c->nyp, h = c->zlen;
  const float *split = c->split;
  float *pr = c->pr, *pi = c->pi;
  const int k4 = nkz & ~3;
  /* Tiles of 16 lanes (one cache line of each input row) keep the working set in L1. */
  for (int y0 = 0; y0 < ny; y0 += 16) {
    const int y1 = ny < y0 + 16 ? ny : y0 + 16;
    for (int k = 0; k < k4; k += 4) {
      const SplitRow s0 = split_row(zr, zi, split, nyp, h, k), s1 = split_row(zr, zi, split, nyp, h, k + 1);
      const SplitRow s2 = split_row(zr, zi, split, nyp, h, k + 2), s3 = split_row(zr, zi, split, nyp, h, k + 3);
      for (int y = y0; y < y1; y += 4) {
        const int rows = ny - y < 4 ? ny - y : 4;
        V r0, r1, r2, r3, i0, i1, i2, i3;
        split_lanes(&s0, y, &r0, &i0);
        split_lanes(&s1, y, &r1, &i1);
        split_lanes(&s2, y, &r2, &i2);
        split_lanes(&s3, y, &r3, &i3);
        transpose4(&r0, &r1, &r2, &r3);
        transpose4(&i0, &i1, &i2, &i3);
        float *dr = pr + y * nkp + k, *di = pi + y * nkp + k;
        ST(dr, r0);
        ST(di, i0);
        if (rows > 1) {
          ST(dr + nkp, r1);
          ST(di + nkp, i1);
        }
        if (rows > 2) {
          ST(dr + 2 * nkp, r2);
          ST(di + 2 * nkp, i2);
        }
        if (rows > 3) {
          ST(dr + 3 * nkp, r3);
          ST(di + 3 * nkp, i3);
        }
      }
    }
  }
  for (int k = k4; k < nkz; k++) {
    const SplitRow sk = split_row(zr, zi, split, nyp, h, k);
    for (int y = 0; y < ny; y += 4) {
      const int rows = ny - y < 4 ? ny - y : 4;
      V r, i;
      split_lanes(&sk, y, &r, &i);
      float lr[4], li[4];
      ST(lr, r);
      ST(li, i);
      for (int b = 0; b < rows; b++) {
        pr[(y + b) * nkp + k] = lr[b];
        pi[(y + b) * nkp + k] = li[b];
      }
    }
  }
}

/* Even nz, inverse of split_forward (2x scaled): Z[k] = E + iO with E = X[k] + conj X[h-k],
 * O = (X[k] - conj X[h-k]) e^{+2πik/nz}, for k < h. Rows y of (pr, pi) -> rows k of (zr, zi). */
static void combine_inverse(const Ctx *c, const float *pr, const float *pi) {
  const int ny = c->ny, nyp = c->nyp, nkp = c->nkp, h = c->zlen;
  float *zr = c->zr, *zi = c->zi;
  const float *split = c->split;
  /* Vector path needs k + 3 < h so that the mirrored loads stay at index >= 1. */
  const int kv = h >= 4 ? ((h - 1) & ~3) : 0;
  const V zero = SPLAT(0.0f);
  for (int y = 0; y < ny; y += 4) {
    const int rows = ny - y < 4 ? ny - y : 4;
    for (int k = 0; k < kv; k += 4) {
      V cs = LD(split + 2 * k), cs2 = LD(split + 2 * k + 4);
      V vc = wasm_i32x4_shuffle(cs, cs2, 0, 2, 4, 6), vs = wasm_i32x4_shuffle(cs, cs2, 1, 3, 5, 7);
      V zrv[4], ziv[4];
      for (int b = 0; b < 4; b++) {
        if (b >= rows) {
          zrv[b] = zero;
          ziv[b] = zero;
          continue;
        }
        const float *rr = pr + (y + b) * nkp, *ri = pi + (y + b) * nkp;
        V xr = wasm_v128_load(rr + k), xi = wasm_v128_load(ri + k);
        V wr = wasm_v128_load(rr + h - k - 3), wi = wasm_v128_load(ri + h - k - 3);
        wr = wasm_i32x4_shuffle(wr, wr, 3, 2, 1, 0);
        wi = wasm_f32x4_neg(wasm_i32x4_shuffle(wi, wi, 3, 2, 1, 0));
        V er = ADD(xr, wr), ei = ADD(xi, wi), dr = SUB(xr, wr), di = SUB(xi, wi);
        V or_ = SUB(MUL(dr, vc), MUL(di, vs)), oi = ADD(MUL(dr, vs), MUL(di, vc));
        zrv[b] = SUB(er, oi);
        ziv[b] = ADD(ei, or_);
      }
      transpose4(&zrv[0], &zrv[1], &zrv[2], &zrv[3]);
      transpose4(&ziv[0], &ziv[1], &ziv[2], &ziv[3]);
      for (int a = 0; a < 4; a++) {
        ST(zr + (k + a) * nyp + y, zrv[a]);
        ST(zi + (k + a) * nyp + y, ziv[a]);
      }
    }
    for (int k = kv; k < h; k++) {
      const float cs = split[2 * k], sn = split[2 * k + 1];
      for (int b = 0; b < rows; b++) {
        const float *rr = pr + (y + b) * nkp, *ri = pi + (y + b) * nkp;
        const float xr = rr[k], xi = ri[k], wr = rr[h - k], wi = -ri[h - k];
        const float er = xr + wr, ei = xi + wi, ddr = xr - wr, ddi = xi - wi;
        const float or_ = ddr * cs - ddi * sn, oi = ddr * sn + ddi * cs;
        zr[k * nyp + y + b] = er - oi;
        zi[k * nyp + y + b] = ei + or_;
      }
    }
  }
}

/* Forward plane: real [ny][nz] in io -> interleaved half-complex [ny][nkz] in io, transformed
 * along z (r2c) and y. */
__attribute__((export_name("plane_forward"))) void plane_forward(const Ctx *c) {
  const int ny = c->ny, nz = c->nz, nkz = c->nkz, nyp = c->nyp, nkp = c->nkp;
  float *io = c->io, *zr = c->zr, *zi = c->zi, *pr = c->pr, *pi = c->pi;
  if ((nz & 1) == 0) {
    pack_rows(c);
  } else {
    for (int y = 0; y < ny; y++)
      for (int z = 0; z < nz; z++) {
        zr[z * nyp + y] = io[y * nz + z];
        zi[z * nyp + y] = 0.0f;
      }
  }
  if (fft_batch(zr, zi, c->sr, c->si, c->planz, nyp, 0)) {
    zr = c->sr;
    zi = c->si;
  }
  if ((nz & 1) == 0) {
    split_forward(c, zr, zi);
  } else {
    for (int k = 0; k < nkz; k++)
      for (int y = 0; y < ny; y++) {
        pr[y * nkp + k] = zr[k * nyp + y];
        pi[y * nkp + k] = zi[k * nyp + y];
      }
  }
  if (fft_batch(pr, pi, c->sr, c->si, c->plany, nkp, 0)) {
    pr = c->sr;
    pi = c->si;
  }
  for (int y = 0; y < ny; y++) interleave(pr + y * nkp, pi + y * nkp, io + y * nkz * 2, nkz);
}

/* Inverse plane: interleaved half-complex [ny][nkz] in io (already transformed along x) ->
 * real [ny][nz] in io, scaled by `scale`. */
__attribute__((export_name("plane_inverse"))) void plane_inverse(const Ctx *c, float scale) {
  const int ny = c->ny, nz = c->nz, nkz = c->nkz, nyp = c->nyp, nkp = c->nkp, h = c->zlen;
  float *io = c->io, *pr = c->pr, *pi = c->pi;
  for (int y = 0; y < ny; y++) deinterleave(io + y * nkz * 2, pr + y * nkp, pi + y * nkp, nkz);
  if (fft_batch(pr, pi, c->sr, c->si, c->plany, nkp, 1)) {
    pr = c->sr;
    pi = c->si;
  }
  float *zr = c->zr, *zi = c->zi;
  if ((nz & 1) == 0) {
    /* Self-conjugate z modes are real: numpy drops their imaginary parts. */
    for (int y = 0; y < ny; y++) {
      pi[y * nkp] = 0.0f;
      pi[y * nkp + h] = 0.0f;
    }
    combine_inverse(c, pr, pi);
  } else {
    for (int y = 0; y < ny; y++) {
      const float *rr = pr + y * nkp, *ri = pi + y * nkp;
      zr[y] = rr[0];
      zi[y] = 0.0f;
      for (int k = 1; k < nkz; k++) {
        zr[k * nyp + y] = rr[k];
        zi[k * nyp + y] = ri[k];
        zr[(nz - k) * nyp + y] = rr[k];
        zi[(nz - k) * nyp + y] = -ri[k];
      }
    }
  }
  if (fft_batch(zr, zi, c->sr, c->si, c->planz, nyp, 1)) {
    zr = c->sr;
    zi = c->si;
  }
  if ((nz & 1) == 0) {
    unpack_rows(c, zr, zi, scale);
  } else {
    for (int y = 0; y < ny; y++)
      for (int z = 0; z < nz; z++) io[y * nz + z] = zr[z * nyp + y] * scale;
  }
}

/* x-pass slab: io holds nx rows of `run` interleaved complex values (one row per x), which are
 * transformed along x in place, `chunk` columns at a time so the working set stays in L2. */
__attribute__((export_name("x_slab"))) void x_slab(const Ctx *c, int run, int chunk, int inverse) {
  const int nx = c->nx;
  for (int j0 = 0; j0 < run; j0 += chunk) {
    const int cols = run - j0 < chunk ? run - j0 : chunk;
    /* Lanes padded to a multiple of 4, avoiding strides that are multiples of 256 bytes
     * (cache-set aliasing between the radix-r input streams). */
    int batch = (cols + 3) & ~3;
    if ((batch & 63) == 0) batch += 4;
    float *br = c->br, *bi = c->bi;
    for (int x = 0; x < nx; x++) {
      float *dr = br + x * batch, *di = bi + x * batch;
      deinterleave(c->io + (x * run + j0) * 2, dr, di, cols);
      for (int j = cols; j < batch; j++) {
        dr[j] = 0.0f;
        di[j] = 0.0f;
      }
    }
    if (fft_batch(br, bi, c->sr, c->si, c->planx, batch, inverse)) {
      br = c->sr;
      bi = c->si;
    }
    for (int x = 0; x < nx; x++) interleave(br + x * batch, bi + x * batch, c->io + (x * run + j0) * 2, cols);
  }
}
