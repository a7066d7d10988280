/**
 * One-point distributions of grids: the PDF of 1 + δ in logarithmic bins and the probability of
 * integer counts per voxel, each normalised over all voxels (so out-of-range voxels reduce the
 * integral below 1) with Poisson errors on the bin counts.
 */

export interface VoxelPdfBin {
  /** Bin edges and geometric (log bins) or integer centre. */
  low: number;
  high: number;
  centre: number;
  /** Voxels in the bin. */
  count: number;
  /** Probability density per unit of the variable (per unit 1+δ, or per count). */
  pdf: number;
  /** Poisson error of `pdf`: sqrt(count) / (N_voxels · width). */
  error: number;
}

export interface VoxelPdf {
  bins: VoxelPdfBin[];
  voxels: number;
  /** Voxels below the first edge (including 1 + δ ≤ 0 for log bins) and at or above the last. */
  underflow: number;
  overflow: number;
}

export interface DensityPdfOptions {
  /** Range of 1 + δ, default [1e-2, 1e2]. */
  min?: number;
  max?: number;
  /** Default 40 (10 per decade over the default range). */
  bins?: number;
}

/** PDF of 1 + δ in `bins` logarithmic bins over [min, max). */
export function densityPdf(delta: ArrayLike<number>, options: DensityPdfOptions = {}): VoxelPdf {
  const min = options.min ?? 1e-2;
  const max = options.max ?? 1e2;
  const nb = options.bins ?? 40;
  if (!(min > 0 && max > min && Number.isFinite(max)))
    throw new RangeError(`density PDF range must satisfy 0 < min < max, got [${min}, ${max}]`);
  if (!Number.isInteger(nb) || nb < 1) throw new RangeError(`bins must be a positive integer, got ${nb}`);
  const lmin = Math.log(min);
  const scale = nb / (Math.log(max) - lmin);
  const counts = new Float64Array(nb);
  let under = 0;
  let over = 0;
  for (let i = 0; i < delta.length; i++) {
    const x = 1 + delta[i];
    if (!(x >= min)) {
      if (Number.isNaN(x)) throw new RangeError(`density grid holds NaN at voxel ${i}`);
      under++;
    } else if (x >= max) over++;
    else counts[Math.min(nb - 1, Math.floor((Math.log(x) - lmin) * scale))]++;
  }
  const edge = (j: number) => Math.exp(lmin + j / scale);
  const voxels = delta.length;
  const bins = Array.from(counts, (count, j) => {
    const low = edge(j);
    const high = edge(j + 1);
    const width = high - low;
    return {
      low,
      high,
      centre: Math.sqrt(low * high),
      count,
      pdf: count / (voxels * width),
      error: Math.sqrt(count) / (voxels * width),
    };
  });
  return { bins, voxels, underflow: under, overflow: over };
}

/**
 * P(N) of integer counts per voxel for N = 0 … maxCount (default the largest count present);
 * values are rounded to the nearest integer first (painted counts are stored as float32).
 */
export function countPdf(counts: ArrayLike<number>, maxCount?: number): VoxelPdf {
  let top = maxCount ?? 0;
  if (maxCount === undefined)
    for (let i = 0; i < counts.length; i++) top = Math.max(top, Math.round(counts[i]));
  if (!Number.isInteger(top) || top < 0)
    throw new RangeError(`maxCount must be a non-negative integer, got ${top}`);
  const hist = new Float64Array(top + 1);
  let under = 0;
  let over = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = Math.round(counts[i]);
    if (Number.isNaN(c)) throw new RangeError(`count grid holds NaN at voxel ${i}`);
    if (c < 0) under++;
    else if (c > top) over++;
    else hist[c]++;
  }
  const voxels = counts.length;
  const bins = Array.from(hist, (count, c) => ({
    low: c - 0.5,
    high: c + 0.5,
    centre: c,
    count,
    pdf: count / voxels,
    error: Math.sqrt(count) / voxels,
  }));
  return { bins, voxels, underflow: under, overflow: over };
}

export interface ConditionalCounts {
  /** The reference count N_ref of this row. */
  reference: number;
  /** Voxels with that reference count. */
  voxels: number;
  /** Mean and standard deviation of the predicted counts in those voxels. */
  mean: number;
  std: number;
  /** P(N_pred = j | N_ref) for j = 0 … maxCount (predictions above maxCount are left out). */
  probability: Float64Array;
}

/**
 * The distribution of predicted counts given the reference count per voxel (rounded to integers),
 * for N_ref = 0 … maxReference: how a painted halo field scatters around the true one voxel by
 * voxel (validation of the halo painter, Kodi Ramanah et al. 2019 §VI).
 */
export function conditionalCounts(
  predicted: ArrayLike<number>,
  reference: ArrayLike<number>,
  maxReference: number,
  maxCount: number,
): ConditionalCounts[] {
  if (predicted.length !== reference.length)
    throw new RangeError(
      `predicted grid has ${predicted.length} voxels but the reference has ${reference.length}`,
    );
  if (!Number.isInteger(maxReference) || maxReference < 0 || !Number.isInteger(maxCount) || maxCount < 0)
    throw new RangeError(`count limits must be non-negative integers, got ${maxReference} and ${maxCount}`);
  const rows = Array.from({ length: maxReference + 1 }, (_, r) => ({
    reference: r,
    voxels: 0,
    sum: 0,
    sum2: 0,
    hist: new Float64Array(maxCount + 1),
  }));
  for (let i = 0; i < predicted.length; i++) {
    const r = Math.round(reference[i]);
    if (!(r >= 0 && r <= maxReference)) continue;
    const p = predicted[i];
    const row = rows[r];
    row.voxels++;
    row.sum += p;
    row.sum2 += p * p;
    const j = Math.round(p);
    if (j >= 0 && j <= maxCount) row.hist[j]++;
  }
  return rows.map((row) => {
    const mean = row.voxels > 0 ? row.sum / row.voxels : NaN;
    return {
      reference: row.reference,
      voxels: row.voxels,
      mean,
      std: row.voxels > 0 ? Math.sqrt(Math.max(0, row.sum2 / row.voxels - mean * mean)) : NaN,
      probability: row.hist.map((h) => (row.voxels > 0 ? h / row.voxels : NaN)),
    };
  });
}
