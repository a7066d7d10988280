/**
 * Grid locking of a generator: the ensemble-mean field m(x) = ⟨ρ_i(x)⟩_i of statistically
 * homogeneous sub-volumes is flat up to sampling noise, whose per-voxel variance is Var_i ρ_i(x)/N.
 * A generator that puts its structures at preferred voxels (a transposed convolution's
 * checkerboard, depleted faces) has an m(x) far above that noise, even where its samples are
 * nearly independent on the scales the cross-spectra of check (d) test: a peak locked to a
 * sub-lattice of the grid shares its position mod 2–8 voxels with every other sample, not its
 * position. Diagnostic only (not one of the acceptance checks).
 */

export interface MeanFieldSummary {
  /** rms over voxels of m(x)/m̄ − 1. */
  rms: number;
  /** What sampling noise alone gives: √(⟨Var_i ρ_i(x)⟩_x / N) / m̄. */
  noise: number;
  /** rms / noise: ≈ 1 for a homogeneous ensemble of independent fields. */
  excess: number;
  /**
   * The voxel plane (axis 0, 1, 2 = x, y, z; index 0 … S−1) whose mean of m(x)/m̄ − 1 is furthest
   * from 0, e.g. a depleted face. Its noise is about noise/S.
   */
  worstPlane: { axis: number; index: number; deviation: number };
}

/** The mean-field summary of an ensemble of cubes of side `side` (at least 2 fields). */
export function ensembleMeanField(fields: readonly Float32Array[], side: number): MeanFieldSummary {
  const n = fields.length;
  const v = side ** 3;
  if (n < 2) throw new RangeError(`the ensemble-mean field needs at least 2 fields, got ${n}`);
  const sum = new Float64Array(v);
  const sumSq = new Float64Array(v);
  for (const f of fields) {
    if (f.length !== v) throw new RangeError(`a field of ${f.length} values, expected ${side}³ = ${v}`);
    for (let j = 0; j < v; j++) {
      sum[j] += f[j];
      sumSq[j] += f[j] * f[j];
    }
  }
  let total = 0;
  let varianceSum = 0;
  for (let j = 0; j < v; j++) {
    const m = sum[j] / n;
    total += m;
    varianceSum += Math.max(0, (sumSq[j] - n * m * m) / (n - 1));
  }
  const mean = total / v;
  let sq = 0;
  const planes = [new Float64Array(side), new Float64Array(side), new Float64Array(side)];
  for (let x = 0, j = 0; x < side; x++)
    for (let y = 0; y < side; y++)
      for (let z = 0; z < side; z++, j++) {
        const d = sum[j] / n / mean - 1;
        sq += d * d;
        planes[0][x] += d;
        planes[1][y] += d;
        planes[2][z] += d;
      }
  const rms = Math.sqrt(sq / v);
  const noise = Math.sqrt(varianceSum / v / n) / mean;
  let worstPlane = { axis: 0, index: 0, deviation: 0 };
  planes.forEach((p, axis) =>
    p.forEach((s, index) => {
      const deviation = s / (side * side);
      if (Math.abs(deviation) > Math.abs(worstPlane.deviation)) worstPlane = { axis, index, deviation };
    }),
  );
  return { rms, noise, excess: noise > 0 ? rms / noise : Infinity, worstPlane };
}

/** e.g. "rms 0.70 of ρ̄ (14.6× its sampling noise 0.048), worst plane x = 0 at −31 %". */
export function describeMeanField(s: MeanFieldSummary): string {
  const axis = "xyz"[s.worstPlane.axis];
  const pct = (100 * s.worstPlane.deviation).toFixed(0);
  return `rms ${s.rms.toFixed(3)} of ρ̄ (${s.excess.toFixed(1)}× its sampling noise ${s.noise.toFixed(3)}), worst plane ${axis} = ${s.worstPlane.index} at ${s.worstPlane.deviation >= 0 ? "+" : ""}${pct} %`;
}
