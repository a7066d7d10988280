/**
 * How a sub-volume's power follows its mean density: per shell, the least-squares line of
 * ln P_b against ln m over an ensemble of cubes (m the cube's mean ρ/ρ̄), its correlation and the
 * residual scatter. In N-body cubes the relation is tight (the separate-universe response of
 * small-scale power to the long mode the cube sits in: slope ≈ 3 at k ≈ 0.2–1 h/Mpc for 64 Mpc/h
 * cubes here, residual sd ≈ 0.25), so Var P(k) of sub-volumes is mostly the spread of m. A
 * generator can match Var P with too little spread of m and too much scatter about the line —
 * which the acceptance checks do not see. A diagnostic of `validate gan`, beside the checks; the
 * training loss's environment part (L_E, ../models/gan/statistics-loss.ts) fits the same line.
 */

export interface PowerEnvironment {
  /** Mean of m over the cubes. */
  meanDensity: number;
  /** Standard deviation of ln m. */
  sdLnDensity: number;
  /** Per shell: d ln P_b / d ln m (least squares). */
  slope: number[];
  /** Per shell: correlation of ln P_b with ln m. */
  correlation: number[];
  /** Per shell: standard deviation of ln P_b about the line. */
  residualSd: number[];
}

/** A cube's mean density: the mean of its ρ/ρ̄ voxels. */
export function meanDensity(rho: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < rho.length; j++) s += rho[j];
  return s / rho.length;
}

export interface LineFit {
  /** Least-squares slope of y on x (0 when x does not vary). */
  slope: number;
  /** Correlation of x and y (0 when either does not vary). */
  correlation: number;
  /** Σ (y − ȳ − slope (x − x̄))²: divide by n − 1 or n as the caller's estimator needs. */
  residualSumOfSquares: number;
}

/** The least-squares line of y on x: one fit for the training loss's L_E and validation's diagnostic. */
export function lineFit(y: ArrayLike<number>, x: ArrayLike<number>): LineFit {
  const n = y.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  let r = 0;
  for (let i = 0; i < n; i++) r += (y[i] - my - slope * (x[i] - mx)) ** 2;
  return { slope, correlation: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0, residualSumOfSquares: r };
}

/**
 * @param power per cube, P(k) per shell (rows of one length)
 * @param density per cube, its mean ρ/ρ̄ (> 0; meanDensity)
 */
export function powerEnvironment(
  power: readonly ArrayLike<number>[],
  density: readonly number[],
): PowerEnvironment {
  const n = power.length;
  if (n < 3 || density.length !== n)
    throw new RangeError(
      `power–density relation: need ≥ 3 cubes with one mean density each, got ${n} and ${density.length}`,
    );
  if (density.some((m) => !(m > 0)))
    throw new RangeError("power–density relation: a cube's mean density is not > 0");
  const x = density.map(Math.log);
  const mx = x.reduce((a, v) => a + v, 0) / n;
  const fits = Array.from({ length: power[0].length }, (_, j) =>
    lineFit(
      power.map((p) => Math.log(p[j])),
      x,
    ),
  );
  return {
    meanDensity: density.reduce((a, v) => a + v, 0) / n,
    sdLnDensity: Math.sqrt(x.reduce((a, v) => a + (v - mx) ** 2, 0) / n),
    slope: fits.map((f) => f.slope),
    correlation: fits.map((f) => f.correlation),
    // Population sd of the residuals (numpy's default), as in the README's figures.
    residualSd: fits.map((f) => Math.sqrt(f.residualSumOfSquares / n)),
  };
}

/** The range of `values` over the shells with 0 < k ≤ kMax, "lo–hi" to `digits` decimals. */
function rangeUpTo(k: readonly number[], values: readonly number[], kMax: number, digits: number): string {
  const v = values.filter((_, i) => k[i] > 0 && k[i] <= kMax && Number.isFinite(values[i]));
  if (v.length === 0) return "—";
  return `${Math.min(...v).toFixed(digits)}–${Math.max(...v).toFixed(digits)}`;
}

/** One line comparing the two ensembles' relations at k ≤ kMax. */
export function describePowerEnvironment(
  k: readonly number[],
  e: { gan: PowerEnvironment; nbody: PowerEnvironment },
  kMax: number,
): string {
  const side = (name: string, p: PowerEnvironment) =>
    `${name} slope ${rangeUpTo(k, p.slope, kMax, 2)}, correlation ${rangeUpTo(k, p.correlation, kMax, 2)}, residual sd ${rangeUpTo(k, p.residualSd, kMax, 2)}, sd ln m ${p.sdLnDensity.toFixed(3)} (mean m ${p.meanDensity.toFixed(3)})`;
  return `power–density relation (ln P_b on ln m per cube, k ≤ ${kMax} h/Mpc; a diagnostic beside the checks): ${side("GAN", e.gan)}; ${side("N-body", e.nbody)}`;
}
