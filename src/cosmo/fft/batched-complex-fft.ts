/**
 * Mixed-radix (4, 2, 3, 5) complex FFT of many pencils at once, in float64.
 *
 * Data layout is `[j][b]`: element j of pencil b sits at `j * batch + b`, so every butterfly
 * sweeps a contiguous run of the batch (cache friendly for strided axes). The Stockham
 * autosort formulation avoids a bit-reversal pass; each stage ping-pongs between the data and
 * a scratch buffer. This is the reference implementation that the WebAssembly kernels mirror.
 */

interface Stage {
  /** Radix of this stage. */
  readonly r: number;
  /** Sub-length: the current length is r * m. */
  readonly m: number;
  /** cos/sin of 2π p u / (r m) for p < m, 1 ≤ u < r, interleaved, index ((p (r-1) + u-1) * 2). */
  readonly twiddle: Float64Array;
}

/** Factors of n into 4, 2, 3, 5 (4s first), or null when n has another prime factor or n < 1. */
export function fftFactors(n: number): number[] | null {
  if (!Number.isInteger(n) || n < 1) return null;
  const factors: number[] = [];
  let rest = n;
  while (rest % 4 === 0) {
    factors.push(4);
    rest /= 4;
  }
  for (const r of [2, 3, 5]) {
    while (rest % r === 0) {
      factors.push(r);
      rest /= r;
    }
  }
  return rest === 1 ? factors : null;
}

const C5A = Math.cos((2 * Math.PI) / 5);
const C5B = Math.cos((4 * Math.PI) / 5);
const S5A = Math.sin((2 * Math.PI) / 5);
const S5B = Math.sin((4 * Math.PI) / 5);
const S3 = Math.sqrt(3) / 2;

export class BatchedComplexFft {
  readonly n: number;
  private readonly stages: Stage[];
  private scratchRe: Float64Array = new Float64Array(0);
  private scratchIm: Float64Array = new Float64Array(0);

  constructor(n: number) {
    const factors = fftFactors(n);
    if (factors === null) throw new RangeError(`FFT length ${n} is not a product of 2, 3 and 5`);
    this.n = n;
    this.stages = [];
    let len = n;
    for (const r of factors) {
      const m = len / r;
      const twiddle = new Float64Array(m * (r - 1) * 2);
      for (let p = 0; p < m; p++) {
        for (let u = 1; u < r; u++) {
          const theta = (2 * Math.PI * p * u) / len;
          const o = (p * (r - 1) + u - 1) * 2;
          twiddle[o] = Math.cos(theta);
          twiddle[o + 1] = Math.sin(theta);
        }
      }
      this.stages.push({ r, m, twiddle });
      len = m;
    }
  }

  /**
   * Transforms `batch` pencils in place: forward uses exp(-2πi jk/n), inverse exp(+2πi jk/n),
   * both unnormalised. `re` and `im` hold at least n * batch values.
   */
  run(re: Float64Array, im: Float64Array, batch: number, inverse: boolean): void {
    const total = this.n * batch;
    if (this.scratchRe.length < total) {
      this.scratchRe = new Float64Array(total);
      this.scratchIm = new Float64Array(total);
    }
    const sg = inverse ? 1 : -1;
    let xr: Float64Array = re;
    let xi: Float64Array = im;
    let yr = this.scratchRe;
    let yi = this.scratchIm;
    let s = 1;
    for (const stage of this.stages) {
      const L = s * batch;
      switch (stage.r) {
        case 2:
          radix2(xr, xi, yr, yi, stage, L, sg);
          break;
        case 3:
          radix3(xr, xi, yr, yi, stage, L, sg);
          break;
        case 4:
          radix4(xr, xi, yr, yi, stage, L, sg);
          break;
        default:
          radix5(xr, xi, yr, yi, stage, L, sg);
      }
      [xr, yr] = [yr, xr];
      [xi, yi] = [yi, xi];
      s *= stage.r;
    }
    if (xr !== re) {
      re.set(xr.subarray(0, total));
      im.set(xi.subarray(0, total));
    }
  }
}

// Each stage: for p < m and inner index i < L, reads x[(p + t m) L + i] for t < r, applies the
// radix-r DFT, multiplies output u by w^(p u) and writes y[(r p + u) L + i].

function radix2(
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  st: Stage,
  L: number,
  sg: number,
): void {
  const { m, twiddle } = st;
  for (let p = 0; p < m; p++) {
    const c1 = twiddle[p * 2];
    const s1 = sg * twiddle[p * 2 + 1];
    const i0 = p * L;
    const i1 = (p + m) * L;
    const o0 = 2 * p * L;
    const o1 = o0 + L;
    for (let i = 0; i < L; i++) {
      const ar = xr[i0 + i];
      const ai = xi[i0 + i];
      const br = xr[i1 + i];
      const bi = xi[i1 + i];
      yr[o0 + i] = ar + br;
      yi[o0 + i] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[o1 + i] = dr * c1 - di * s1;
      yi[o1 + i] = dr * s1 + di * c1;
    }
  }
}

function radix3(
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  st: Stage,
  L: number,
  sg: number,
): void {
  const { m, twiddle } = st;
  const k = sg * S3;
  for (let p = 0; p < m; p++) {
    const t = p * 4;
    const c1 = twiddle[t];
    const s1 = sg * twiddle[t + 1];
    const c2 = twiddle[t + 2];
    const s2 = sg * twiddle[t + 3];
    const i0 = p * L;
    const i1 = (p + m) * L;
    const i2 = (p + 2 * m) * L;
    const o0 = 3 * p * L;
    for (let i = 0; i < L; i++) {
      const a0r = xr[i0 + i];
      const a0i = xi[i0 + i];
      const a1r = xr[i1 + i];
      const a1i = xi[i1 + i];
      const a2r = xr[i2 + i];
      const a2i = xi[i2 + i];
      const sr = a1r + a2r;
      const si = a1i + a2i;
      const dr = a1r - a2r;
      const di = a1i - a2i;
      const mr = a0r - 0.5 * sr;
      const mi = a0i - 0.5 * si;
      // ± i k d
      const jr = -k * di;
      const ji = k * dr;
      yr[o0 + i] = a0r + sr;
      yi[o0 + i] = a0i + si;
      const b1r = mr + jr;
      const b1i = mi + ji;
      const b2r = mr - jr;
      const b2i = mi - ji;
      yr[o0 + L + i] = b1r * c1 - b1i * s1;
      yi[o0 + L + i] = b1r * s1 + b1i * c1;
      yr[o0 + 2 * L + i] = b2r * c2 - b2i * s2;
      yi[o0 + 2 * L + i] = b2r * s2 + b2i * c2;
    }
  }
}

function radix4(
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  st: Stage,
  L: number,
  sg: number,
): void {
  const { m, twiddle } = st;
  for (let p = 0; p < m; p++) {
    const t = p * 6;
    const c1 = twiddle[t];
    const s1 = sg * twiddle[t + 1];
    const c2 = twiddle[t + 2];
    const s2 = sg * twiddle[t + 3];
    const c3 = twiddle[t + 4];
    const s3 = sg * twiddle[t + 5];
    const i0 = p * L;
    const i1 = (p + m) * L;
    const i2 = (p + 2 * m) * L;
    const i3 = (p + 3 * m) * L;
    const o0 = 4 * p * L;
    for (let i = 0; i < L; i++) {
      const a0r = xr[i0 + i];
      const a0i = xi[i0 + i];
      const a1r = xr[i1 + i];
      const a1i = xi[i1 + i];
      const a2r = xr[i2 + i];
      const a2i = xi[i2 + i];
      const a3r = xr[i3 + i];
      const a3i = xi[i3 + i];
      const t0r = a0r + a2r;
      const t0i = a0i + a2i;
      const t1r = a0r - a2r;
      const t1i = a0i - a2i;
      const t2r = a1r + a3r;
      const t2i = a1i + a3i;
      // (a1 - a3) * (sg i)
      const t3r = -sg * (a1i - a3i);
      const t3i = sg * (a1r - a3r);
      yr[o0 + i] = t0r + t2r;
      yi[o0 + i] = t0i + t2i;
      const b1r = t1r + t3r;
      const b1i = t1i + t3i;
      const b2r = t0r - t2r;
      const b2i = t0i - t2i;
      const b3r = t1r - t3r;
      const b3i = t1i - t3i;
      yr[o0 + L + i] = b1r * c1 - b1i * s1;
      yi[o0 + L + i] = b1r * s1 + b1i * c1;
      yr[o0 + 2 * L + i] = b2r * c2 - b2i * s2;
      yi[o0 + 2 * L + i] = b2r * s2 + b2i * c2;
      yr[o0 + 3 * L + i] = b3r * c3 - b3i * s3;
      yi[o0 + 3 * L + i] = b3r * s3 + b3i * c3;
    }
  }
}

function radix5(
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  st: Stage,
  L: number,
  sg: number,
): void {
  const { m, twiddle } = st;
  const sa = sg * S5A;
  const sb = sg * S5B;
  for (let p = 0; p < m; p++) {
    const t = p * 8;
    const i0 = p * L;
    const i1 = (p + m) * L;
    const i2 = (p + 2 * m) * L;
    const i3 = (p + 3 * m) * L;
    const i4 = (p + 4 * m) * L;
    const o0 = 5 * p * L;
    const c1 = twiddle[t];
    const s1 = sg * twiddle[t + 1];
    const c2 = twiddle[t + 2];
    const s2 = sg * twiddle[t + 3];
    const c3 = twiddle[t + 4];
    const s3 = sg * twiddle[t + 5];
    const c4 = twiddle[t + 6];
    const s4 = sg * twiddle[t + 7];
    for (let i = 0; i < L; i++) {
      const a0r = xr[i0 + i];
      const a0i = xi[i0 + i];
      const a1r = xr[i1 + i];
      const a1i = xi[i1 + i];
      const a2r = xr[i2 + i];
      const a2i = xi[i2 + i];
      const a3r = xr[i3 + i];
      const a3i = xi[i3 + i];
      const a4r = xr[i4 + i];
      const a4i = xi[i4 + i];
      const s14r = a1r + a4r;
      const s14i = a1i + a4i;
      const d14r = a1r - a4r;
      const d14i = a1i - a4i;
      const s23r = a2r + a3r;
      const s23i = a2i + a3i;
      const d23r = a2r - a3r;
      const d23i = a2i - a3i;
      const m1r = a0r + C5A * s14r + C5B * s23r;
      const m1i = a0i + C5A * s14i + C5B * s23i;
      const m2r = a0r + C5B * s14r + C5A * s23r;
      const m2i = a0i + C5B * s14i + C5A * s23i;
      // i (sa d14 + sb d23) and i (sb d14 - sa d23)
      const n1r = -(sa * d14i + sb * d23i);
      const n1i = sa * d14r + sb * d23r;
      const n2r = -(sb * d14i - sa * d23i);
      const n2i = sb * d14r - sa * d23r;
      yr[o0 + i] = a0r + s14r + s23r;
      yi[o0 + i] = a0i + s14i + s23i;
      const b1r = m1r + n1r;
      const b1i = m1i + n1i;
      const b4r = m1r - n1r;
      const b4i = m1i - n1i;
      const b2r = m2r + n2r;
      const b2i = m2i + n2i;
      const b3r = m2r - n2r;
      const b3i = m2i - n2i;
      yr[o0 + L + i] = b1r * c1 - b1i * s1;
      yi[o0 + L + i] = b1r * s1 + b1i * c1;
      yr[o0 + 2 * L + i] = b2r * c2 - b2i * s2;
      yi[o0 + 2 * L + i] = b2r * s2 + b2i * c2;
      yr[o0 + 3 * L + i] = b3r * c3 - b3i * s3;
      yi[o0 + 3 * L + i] = b3r * s3 + b3i * c3;
      yr[o0 + 4 * L + i] = b4r * c4 - b4i * s4;
      yi[o0 + 4 * L + i] = b4r * s4 + b4i * c4;
    }
  }
}
