/**
 * Turning painted (real-valued) halo counts into discrete haloes: integer counts, masses within a
 * bin and random numbers keyed by position.
 *
 * Random numbers: every voxel of every mass bin owns a counter-based stream keyed by
 * (seed, bin, voxel index); draw j of that stream is a pure function of the four, built from the
 * triple32 mixer of white-noise.ts. A catalog therefore does not depend on the order in which
 * voxels are visited, on slab sizes, tiles, workers or shards (DESIGN.md "Deterministic").
 *   key(s, b, i) = h(lo32(i) ^ h(hi(i) ^ h(b ^ h(s ^ 0x85ebca6b))))
 *   draw j:      a = h(key ^ h(2j + 0x632be5ab)), c = h(key ^ h(2j + 1 + 0x632be5ab))
 *   u            = (a·2^21 + (c >>> 11) + 0.5) / 2^53 ∈ (0, 1)       (53 random bits)
 *
 * Integer counts from a painted mean λ (negative or zero painted values give none):
 *   "poisson": N ~ Poisson(λ) — what a halo count is if the painter predicts its expectation;
 *   "stochastic-rounding": N = ⌊λ⌋ + [u < λ − ⌊λ⌋] — keeps E[N] = λ with the least variance.
 */
import { triple32 } from "./white-noise.js";

export type CountRule = "poisson" | "stochastic-rounding";
export const COUNT_RULES: readonly CountRule[] = ["poisson", "stochastic-rounding"];
export const HALO_RANDOM_ALGORITHM = "triple32-counter-v1";

const TWO_POW_21 = 2097152;
const TWO_POW_32 = 4294967296;
const INV_TWO_POW_53 = 1 / 9007199254740992;

/** The uniform-number stream of one (seed, bin, voxel); draws are numbered from 0. */
export class VoxelStream {
  private key = 0;
  private draw = 0;

  /** Re-keys the stream (reused across voxels to avoid allocation) and rewinds it. */
  reset(seed: number, bin: number, voxel: number): this {
    const hi = Math.floor(voxel / TWO_POW_32);
    const lo = voxel - hi * TWO_POW_32;
    let k = triple32((seed ^ 0x85ebca6b) >>> 0);
    k = triple32((bin ^ k) >>> 0);
    k = triple32((hi ^ k) >>> 0);
    this.key = triple32((lo ^ k) >>> 0);
    this.draw = 0;
    return this;
  }

  /** The next uniform in (0, 1). */
  uniform(): number {
    const j = 2 * this.draw++;
    const a = triple32((this.key ^ triple32((j + 0x632be5ab) >>> 0)) >>> 0);
    const c = triple32((this.key ^ triple32((j + 1 + 0x632be5ab) >>> 0)) >>> 0);
    return (a * TWO_POW_21 + (c >>> 11) + 0.5) * INV_TWO_POW_53;
  }
}

/** ln(k!) exactly summed for small k, by Stirling's series beyond (error < 1e-15 for k ≥ 16). */
function logFactorial(k: number): number {
  if (k < 16) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}

/**
 * A Poisson deviate of mean λ. λ < 30: inversion by sequential search (one uniform).
 * λ ≥ 30: Hörmann's (1993) transformed rejection with squeeze, PTRS, two uniforms per try.
 */
export function poissonDeviate(lambda: number, stream: VoxelStream): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 30) {
    const u = stream.uniform();
    let p = Math.exp(-lambda);
    let cdf = p;
    let k = 0;
    // Past k ≈ λ + 40√λ the tail is below 1e-300: stop rather than loop on rounding.
    const kMax = Math.ceil(lambda + 40 * Math.sqrt(lambda) + 40);
    while (u > cdf && k < kMax) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const logLam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = stream.uniform() - 0.5;
    const v = stream.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v * invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * logLam - logFactorial(k))
      return k;
  }
}

/** The integer halo count of a voxel whose painted mean is λ. */
export function integerCount(rule: CountRule, lambda: number, stream: VoxelStream): number {
  if (Number.isNaN(lambda)) throw new RangeError("painted halo count is NaN");
  if (!(lambda > 0)) return 0;
  if (rule === "poisson") return poissonDeviate(lambda, stream);
  const floor = Math.floor(lambda);
  return floor + (stream.uniform() < lambda - floor ? 1 : 0);
}

/**
 * Masses within one bin [m1, m2) drawn from dn/dlnM by inverse-CDF sampling in ln M: the CDF is
 * tabulated by the trapezoid rule on `nodes` equal steps in ln M and inverted by linear
 * interpolation (a piecewise-constant density per step; 256 steps resolve any smooth mass
 * function within a bin far below the KS distance of a million draws).
 */
export class BinMassSampler {
  private readonly lnMass: Float64Array;
  private readonly cdf: Float64Array;

  constructor(
    readonly low: number,
    readonly high: number,
    dndlnm: (mass: number) => number,
    nodes = 256,
  ) {
    if (!(low > 0 && high > low))
      throw new RangeError(`mass bin needs 0 < low < high, got [${low}, ${high})`);
    const a = Math.log(low);
    const step = (Math.log(high) - a) / nodes;
    this.lnMass = new Float64Array(nodes + 1);
    this.cdf = new Float64Array(nodes + 1);
    let prev = 0;
    for (let i = 0; i <= nodes; i++) {
      const lnm = a + i * step;
      this.lnMass[i] = lnm;
      const f = dndlnm(Math.exp(lnm));
      if (!(f >= 0) || !Number.isFinite(f)) {
        throw new RangeError(`mass function is ${f} at M = ${Math.exp(lnm).toExponential(3)} Msun/h`);
      }
      if (i > 0) this.cdf[i] = this.cdf[i - 1] + 0.5 * (prev + f) * step;
      prev = f;
    }
    const total = this.cdf[nodes];
    if (!(total > 0)) throw new RangeError(`mass function vanishes in the bin [${low}, ${high})`);
    for (let i = 0; i <= nodes; i++) this.cdf[i] /= total;
  }

  /** The mass (Msun/h) at cumulative probability u ∈ (0, 1); always in [low, high). */
  massAt(u: number): number {
    const cdf = this.cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] <= u) lo = mid;
      else hi = mid;
    }
    const span = cdf[hi] - cdf[lo];
    const t = span > 0 ? (u - cdf[lo]) / span : 0.5;
    const m = Math.exp(this.lnMass[lo] + t * (this.lnMass[hi] - this.lnMass[lo]));
    return Math.min(Math.max(m, this.low), this.high * (1 - 1e-12));
  }

  /** The model CDF at mass m (for tests: the KS statistic of a sample against the fit). */
  cdfAt(mass: number): number {
    const x = Math.log(mass);
    const ln = this.lnMass;
    if (x <= ln[0]) return 0;
    if (x >= ln[ln.length - 1]) return 1;
    const step = ln[1] - ln[0];
    const i = Math.min(ln.length - 2, Math.floor((x - ln[0]) / step));
    const t = (x - ln[i]) / step;
    return this.cdf[i] + t * (this.cdf[i + 1] - this.cdf[i]);
  }
}
