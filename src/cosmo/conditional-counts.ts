/**
 * The distribution of a predicted (painted) count per voxel given the true integer count of the
 * same voxel: for each true count c, the number of voxels, the conditional mean E[pred | true = c]
 * and the 16th, 50th and 84th percentiles (the ±1σ band of a Gaussian), pooled over any number
 * of boxes. Percentiles interpolate linearly between order statistics at rank q·(n − 1) (numpy's
 * default), so they can be checked against any other code.
 */

export interface ConditionalCountRow {
  trueCount: number;
  voxels: number;
  mean: number;
  p16: number;
  p50: number;
  p84: number;
}

/** Percentile q ∈ [0, 1] of sorted values, linear between order statistics. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const r = q * (n - 1);
  const i = Math.floor(r);
  const f = r - i;
  return i + 1 < n ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * Rows for every true count present, ascending. `truth` must hold non-negative integers (the
 * caller names the file when it does not; here a RangeError says which voxel).
 */
export function conditionalCounts(
  pairs: readonly { predicted: Float32Array; truth: Float32Array }[],
): ConditionalCountRow[] {
  const groups = new Map<number, number[]>();
  for (const { predicted, truth } of pairs) {
    if (predicted.length !== truth.length)
      throw new RangeError(`predicted field has ${predicted.length} voxels, the truth ${truth.length}`);
    for (let i = 0; i < truth.length; i++) {
      const c = truth[i];
      if (!(c >= 0) || !Number.isInteger(c))
        throw new RangeError(`true count ${c} at voxel ${i} is not a non-negative integer`);
      let g = groups.get(c);
      if (!g) groups.set(c, (g = []));
      g.push(predicted[i]);
    }
  }
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((c) => {
      const v = Float64Array.from(groups.get(c)!).sort();
      let sum = 0;
      for (const x of v) sum += x;
      return {
        trueCount: c,
        voxels: v.length,
        mean: sum / v.length,
        p16: percentileOfSorted(v, 0.16),
        p50: percentileOfSorted(v, 0.5),
        p84: percentileOfSorted(v, 0.84),
      };
    });
}
