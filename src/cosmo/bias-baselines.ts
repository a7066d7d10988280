/**
 * Bias-model baselines for painted halo fields: what a halo count field looks like when predicted
 * from the 2LPT density alone by the two simplest models a painter must beat (Kodi Ramanah,
 * Charnock & Lavaux 2019, §VI):
 *
 * - linear bias: n(x) = n̄ max(0, 1 + b δ(x)), a noiseless mean field; b is the mode-weighted
 *   least-squares slope of δ_h on δ over shells with k ≤ k_max,
 *     b = Σ_shells N_k P_hδ(k) / Σ_shells N_k P_δδ(k)        (δ_h = b δ on large scales),
 *   pooled over every box given;
 * - local non-linear bias: n(x) = n_h(δ(x)), the mean true count of voxels in the same bin of δ
 *   (bins of equal voxel count in the fitting data, a piecewise-constant function), then
 *   Poisson-sampled with counter-based random numbers (./halo-sampling.ts), so a baseline
 *   realisation depends only on (seed, stream, voxel).
 */
import { integerCount, VoxelStream } from "./halo-sampling.js";

/** One box's spectra of halo overdensity × matter overdensity, on common shells. */
export interface BiasFitSpectra {
  k: ArrayLike<number>;
  modes: ArrayLike<number>;
  /** P_hδ(k), (Mpc/h)^3. */
  cross: ArrayLike<number>;
  /** P_δδ(k), (Mpc/h)^3. */
  powerMatter: ArrayLike<number>;
}

export interface LinearBiasFit {
  bias: number;
  kMax: number;
  /** Shells and modes (summed over boxes) that entered the fit. */
  shells: number;
  modes: number;
}

export function fitLinearBias(spectra: readonly BiasFitSpectra[], kMax: number): LinearBiasFit {
  let num = 0;
  let den = 0;
  let shells = 0;
  let modes = 0;
  for (const s of spectra)
    for (let i = 0; i < s.k.length; i++) {
      if (s.k[i] > kMax) continue;
      num += s.modes[i] * s.cross[i];
      den += s.modes[i] * s.powerMatter[i];
      shells++;
      modes += s.modes[i];
    }
  if (shells === 0)
    throw new RangeError(
      `no power-spectrum shell at k ≤ ${kMax} h/Mpc to fit the linear bias on (the box is too small: its first shell is at k ≈ ${spectra[0]?.k[0]?.toPrecision(3)} h/Mpc); raise the fitting range (--bias-k-max)`,
    );
  if (!(den > 0)) throw new RangeError(`the matter power at k ≤ ${kMax} h/Mpc is ${den}, expected > 0`);
  return { bias: num / den, kMax, shells, modes };
}

/** n̄ max(0, 1 + b δ) per voxel. */
export function linearBiasCounts(delta: Float32Array, meanCount: number, bias: number): Float32Array {
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = meanCount * Math.max(0, 1 + bias * delta[i]);
  return out;
}

/** n_h(δ): bin j covers [lower[j], lower[j + 1]) (the first from −∞, the last to +∞). */
export interface LocalBiasFunction {
  /** Lower δ edge of every bin but the first (length bins − 1). */
  edges: Float64Array;
  /** Mean true count per voxel in each bin. */
  meanCount: Float64Array;
  /** Mean δ of the fitting voxels in each bin (for plots). */
  meanDelta: Float64Array;
  /** Fitting voxels per bin. */
  voxels: Float64Array;
}

/** Pairs (δ, true counts) of the fitting boxes, voxel for voxel. */
export interface LocalBiasSample {
  delta: Float32Array;
  counts: Float32Array;
}

/**
 * Fits n_h(δ) on `bins` bins of equal voxel count over all samples (edges at the quantiles of
 * δ; a quantile tied with the edge below moves up to the next distinct value, so every bin
 * holds voxels and there may be fewer than `bins`).
 */
export function fitLocalBias(samples: readonly LocalBiasSample[], bins: number): LocalBiasFunction {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`local-bias bins must be ≥ 1, got ${bins}`);
  let total = 0;
  for (const s of samples) {
    if (s.delta.length !== s.counts.length)
      throw new RangeError(`δ has ${s.delta.length} voxels, the counts ${s.counts.length}`);
    total += s.delta.length;
  }
  if (total === 0) throw new RangeError("no voxels to fit the local bias on");
  const sorted = new Float32Array(total);
  let o = 0;
  for (const s of samples) {
    sorted.set(s.delta, o);
    o += s.delta.length;
  }
  sorted.sort();
  const inner: number[] = [];
  for (let j = 1; j < bins; j++) {
    const floor = inner.length === 0 ? sorted[0] : inner[inner.length - 1];
    let e = sorted[Math.floor((j * total) / bins)];
    // A quantile tied with the previous edge (e.g. many empty voxels at δ = −1): move the edge
    // to the next larger value, so the tie forms one bin and the rest are still split.
    if (e <= floor) e = sorted[firstAbove(sorted, floor)] ?? Infinity;
    if (e !== Infinity) inner.push(e);
  }
  const edges = Float64Array.from(inner);
  const m = edges.length + 1;
  const sumCount = new Float64Array(m);
  const sumDelta = new Float64Array(m);
  const voxels = new Float64Array(m);
  for (const s of samples)
    for (let i = 0; i < s.delta.length; i++) {
      const b = binOf(edges, s.delta[i]);
      sumCount[b] += s.counts[i];
      sumDelta[b] += s.delta[i];
      voxels[b]++;
    }
  return {
    edges,
    meanCount: sumCount.map((v, b) => v / voxels[b]),
    meanDelta: sumDelta.map((v, b) => v / voxels[b]),
    voxels,
  };
}

/** Index of the first element of ascending `a` greater than x (a.length when none). */
function firstAbove(a: Float32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of δ: the number of edges ≤ δ (binary search). */
function binOf(edges: Float64Array, delta: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= delta) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** n_h(δ) per voxel. */
export function localBiasCounts(fn: LocalBiasFunction, delta: Float32Array): Float32Array {
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = fn.meanCount[binOf(fn.edges, delta[i])];
  return out;
}

/**
 * Poisson counts of mean `mean[i]`, voxel i drawing from the stream (seed, stream, voxelOffset + i):
 * give each box its own offset (box index × voxels) and the draws never repeat across boxes.
 */
export function poissonSampleCounts(
  mean: Float32Array,
  seed: number,
  stream: number,
  voxelOffset = 0,
): Float32Array {
  const out = new Float32Array(mean.length);
  const s = new VoxelStream();
  for (let i = 0; i < mean.length; i++)
    out[i] = integerCount("poisson", mean[i], s.reset(seed, stream, voxelOffset + i));
  return out;
}
