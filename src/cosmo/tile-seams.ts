/**
 * Seams of a volume tiled from independent cubes: the mean squared difference (MSD) of adjacent
 * voxels whose pair straddles a tile face ("across") against adjacent pairs inside a tile
 * ("within"), axis by axis. For a statistically homogeneous field, where a tiling is only a
 * bookkeeping cut, both are the same D₁ = 2σ²(1 − ξ₁) (ξ₁ the one-voxel correlation), so the ratio
 * is 1; for uncorrelated tiles the pairs across are two independent voxels, E[(a − b)²] = 2σ²,
 * and the ratio is 2σ²/D₁ = 1/(1 − ξ₁) > 1 for a smooth field. `uncorrelatedRatio` gives that
 * reference from the volume's own variance, so a measured ratio near it says the seams are as
 * sharp as between unrelated voxels.
 *
 * The interior of a generated tile need not be statistically like its faces (a transposed-
 * convolution generator's edge voxels have fewer contributions and another variance), so the
 * across-MSD is also compared with its face-matched uncorrelated value: var(hi) + var(lo) +
 * (mean(hi) − mean(lo))², hi/lo the voxels on the two sides of the seams. Independent tiles give
 * acrossMsd ≈ acrossUncorrelatedMsd whatever their edges look like; a continuous field gives less.
 *
 * The volume is read as periodic: the face between the last and the first tile of an axis is a
 * seam like the others (N/S seams per axis, N = n·S).
 */

export interface SeamAxisStats {
  /** 0: x (slowest), 1: y, 2: z (fastest). */
  axis: number;
  acrossMsd: number;
  withinMsd: number;
  /** acrossMsd / withinMsd. */
  ratio: number;
  /** Standard error of `ratio` from the scatter of the per-seam-plane MSDs (null with one plane). */
  ratioError: number | null;
  /** var(hi) + var(lo) + (mean(hi) − mean(lo))² of the voxels on either side of the seams. */
  acrossUncorrelatedMsd: number;
  /** acrossMsd / acrossUncorrelatedMsd: ≈ 1 for uncorrelated tiles, < 1 for a continuous field. */
  continuity: number;
}

export interface SeamStats {
  volumeSide: number;
  tileSide: number;
  /** Over the three axes. */
  acrossMsd: number;
  withinMsd: number;
  ratio: number;
  ratioError: number | null;
  /** Variance of the volume's values. */
  variance: number;
  /** 2σ² / withinMsd: the ratio expected if the tiles were uncorrelated. */
  uncorrelatedRatio: number;
  /** Over the three axes (see SeamAxisStats). */
  acrossUncorrelatedMsd: number;
  continuity: number;
  pairsAcross: number;
  pairsWithin: number;
  axes: SeamAxisStats[];
}

/** Seam statistics of a cubic C-order volume of side `side` cut into cubes of side `tile`. */
export function tileSeamStats(volume: Float32Array, side: number, tile: number): SeamStats {
  if (!Number.isInteger(side) || !Number.isInteger(tile) || tile < 2 || side % tile !== 0)
    throw new RangeError(`volume side ${side} must be a multiple of a tile side ≥ 2, got ${tile}`);
  if (volume.length !== side ** 3)
    throw new RangeError(`volume has ${volume.length} values, expected ${side}³`);
  const n = side / tile;
  const strides = [side * side, side, 1];
  // Per axis: sums of squared differences per seam plane, and within tiles.
  const planeSum = strides.map(() => new Float64Array(n));
  const withinSum = [0, 0, 0];
  // Per axis: sum and sum of squares of the voxels below (hi) and above (lo) each seam.
  const face = strides.map(() => ({ hi: 0, hi2: 0, lo: 0, lo2: 0 }));
  let sum = 0;
  let sum2 = 0;
  for (let x = 0; x < side; x++) {
    for (let y = 0; y < side; y++) {
      const row = (x * side + y) * side;
      const coords = [x, y, 0];
      for (let z = 0; z < side; z++) {
        const i = row + z;
        const v = volume[i];
        sum += v;
        sum2 += v * v;
        coords[2] = z;
        for (let a = 0; a < 3; a++) {
          const c = coords[a];
          const j = c === side - 1 ? i - c * strides[a] : i + strides[a];
          const d = volume[j] - v;
          if ((c + 1) % tile === 0) {
            planeSum[a][(c + 1) / tile - 1] += d * d;
            const f = face[a];
            f.hi += v;
            f.hi2 += v * v;
            f.lo += volume[j];
            f.lo2 += volume[j] * volume[j];
          } else withinSum[a] += d * d;
        }
      }
    }
  }
  const perPlane = side * side;
  const acrossPairsAxis = n * perPlane;
  const withinPairsAxis = side ** 3 - acrossPairsAxis;
  const uncorrelated = (f: { hi: number; hi2: number; lo: number; lo2: number }, pairs: number) => {
    const mh = f.hi / pairs;
    const ml = f.lo / pairs;
    return f.hi2 / pairs - mh * mh + (f.lo2 / pairs - ml * ml) + (mh - ml) ** 2;
  };
  const axes: SeamAxisStats[] = [0, 1, 2].map((a) => {
    const across = planeSum[a].reduce((s, v) => s + v, 0) / acrossPairsAxis;
    const within = withinSum[a] / withinPairsAxis;
    const ref = uncorrelated(face[a], acrossPairsAxis);
    return {
      axis: a,
      acrossMsd: across,
      withinMsd: within,
      ratio: across / within,
      ratioError: null,
      acrossUncorrelatedMsd: ref,
      continuity: across / ref,
    };
  });
  const planeMsds = planeSum.flatMap((p) => Array.from(p, (s) => s / perPlane));
  const acrossMsd = planeMsds.reduce((s, v) => s + v, 0) / planeMsds.length;
  const withinMsd = withinSum.reduce((s, v) => s + v, 0) / (3 * withinPairsAxis);
  const spread = (ms: number[], within: number) => {
    if (ms.length < 2) return null;
    const m = ms.reduce((s, v) => s + v, 0) / ms.length;
    const var1 = ms.reduce((s, v) => s + (v - m) ** 2, 0) / (ms.length - 1);
    return Math.sqrt(var1 / ms.length) / within;
  };
  for (const ax of axes)
    ax.ratioError = spread(
      Array.from(planeSum[ax.axis], (s) => s / perPlane),
      ax.withinMsd,
    );
  const acrossUncorrelatedMsd = axes.reduce((s, ax) => s + ax.acrossUncorrelatedMsd, 0) / 3;
  const cells = side ** 3;
  const mean = sum / cells;
  const variance = sum2 / cells - mean * mean;
  return {
    volumeSide: side,
    tileSide: tile,
    acrossMsd,
    withinMsd,
    ratio: acrossMsd / withinMsd,
    ratioError: spread(planeMsds, withinMsd),
    variance,
    uncorrelatedRatio: (2 * variance) / withinMsd,
    acrossUncorrelatedMsd,
    continuity: acrossMsd / acrossUncorrelatedMsd,
    pairsAcross: 3 * acrossPairsAxis,
    pairsWithin: 3 * withinPairsAxis,
    axes,
  };
}
