/**
 * Validation of a density GAN against held-out N-body sub-volumes (issue 8; Feder et al. 2020,
 * §4): two ensembles of ρ/ρ̄ cubes of one side and voxel size — GAN samples and non-overlapping
 * cuts of held-out simulations — compared through
 *  - the voxel PDF of ρ/ρ̄ in logarithmic bins (per sub-volume; mean and 16–84 % band),
 *  - P(k) (mean and 16–84 % band, ratio of the means, covariance and correlation matrices over
 *    the ensemble, ratio of the variances),
 *  - bispectra of equilateral and k1 = k2 triangles (mean, standard deviation, 16–84 %),
 *  - cross-correlation coefficients r(k) = P_ab / √(P_aa P_bb) of GAN × GAN (different samples)
 *    and N-body × GAN pairs: independent Gaussian fields give r ≈ 0 with standard deviation
 *    1/√(2 m) over m independent modes (Re(a b*) of independent complex modes has variance
 *    ⟨|a|²⟩⟨|b|²⟩/2),
 * the three acceptance checks of issue 8, and a fourth, (d): different samples must be independent
 * draws — the GAN × GAN r̄(k) consistent with 0 — which the first three cannot see (a pattern
 * every sample shares, like the fixed-phase checkerboard of stride-2 transposed convolutions,
 * moves P(k) and the PDF little while making the samples near-copies of one another).
 *
 * Every statistic is of δ = ρ/ρ̄ − 1 with ρ̄ the simulation's mean (the GAN's units), on the
 * sub-volume taken as a periodic box of side S·voxel: both ensembles are treated alike, so the
 * edge effects of a non-periodic cut enter both sides equally. The DC mode is never used.
 */
import { bispectrum, type TriangleConfig } from "../cosmo/bispectrum.js";
import { percentileOfSorted } from "../cosmo/conditional-counts.js";
import type { GridShape } from "../cosmo/fft/real-fft3d.js";
import { crossPowerSpectrum, powerSpectrum } from "../cosmo/power-spectrum.js";
import { meanDensity, powerEnvironment, type PowerEnvironment } from "../cosmo/power-environment.js";
import { densityPdf } from "../cosmo/voxel-pdf.js";
import { describeMeanField, ensembleMeanField, type MeanFieldSummary } from "./ensemble-mean-field.js";

export interface GanValidationSettings {
  /** Check (a): |P̄_GAN / P̄_N-body − 1| ≤ powerTolerance at every shell with k ≤ kMaxPower (h/Mpc). */
  kMaxPower: number;
  powerTolerance: number;
  /** Check (c): |Var_GAN P / Var_N-body P − 1| ≤ varianceTolerance at every shell with k ≤ kMaxVariance. */
  kMaxVariance: number;
  varianceTolerance: number;
  /** Log bins of ρ/ρ̄ over [pdfMin, pdfMax). */
  pdfMin: number;
  pdfMax: number;
  pdfBins: number;
  /** Check (b) on bins lying wholly at ρ/ρ̄ ≥ pdfCheckMin ... */
  pdfCheckMin: number;
  /** ... that hold on average at least this many voxels per N-body sub-volume (a sparser bin has no meaningful band). */
  pdfMinVoxels: number;
  /**
   * Check (d): |r̄_GAN×GAN(k)| ≤ independenceSigmas · s_r(k)/√pairs at every shell k ≤
   * kMaxIndependence, s_r the scatter of r over the pairs (the mean's standard error).
   */
  kMaxIndependence: number;
  independenceSigmas: number;
  /** Compute bispectra (the costliest statistic). */
  bispectrum: boolean;
  threads?: number;
}

export const DEFAULT_GAN_VALIDATION_SETTINGS: GanValidationSettings = {
  kMaxPower: 1,
  powerTolerance: 0.1,
  kMaxVariance: 1,
  varianceTolerance: 0.25,
  pdfMin: 1e-2,
  pdfMax: 1e3,
  pdfBins: 50,
  pdfCheckMin: 0.1,
  pdfMinVoxels: 5,
  kMaxIndependence: 1,
  independenceSigmas: 4,
  bispectrum: true,
};

/** An ensemble of cubes ρ/ρ̄ (C order, side³ each) over boxes of side `boxSize` Mpc/h. */
export interface DensityEnsemble {
  fields: readonly Float32Array[];
  side: number;
  boxSize: number;
  /**
   * The simulation each field was cut from (N-body sub-volumes): cubes of one simulation share
   * its large-scale modes, so the ensemble's statistics are uncertain by the scatter between
   * simulations, not between cubes (see heldOutNoise).
   */
  simulation?: readonly number[];
}

/**
 * How well the held-out ensemble pins down the statistics the checks compare with: standard
 * errors of ln P̄(k) and ln Var P(k) from a delete-one-simulation jackknife,
 * σ² = (G − 1)/G Σ_g (θ_(g) − θ̄)², θ_(g) the statistic without simulation g's cubes.
 */
export interface HeldOutNoise {
  simulations: number;
  lnMean: number[];
  lnVariance: number[];
}

/** Per-bin summary of an ensemble: mean, standard deviation (n − 1) and 16th/84th percentiles. */
export interface Band {
  mean: number[];
  std: number[];
  p16: number[];
  p84: number[];
}

export interface Check {
  description: string;
  /** What `at` is: "k [h/Mpc]" or "ρ/ρ̄". */
  variable: string;
  /** Bins (shells) checked; the check passes when every one does (null: none in range). */
  bins: number;
  passed: boolean | null;
  /** `at` of the bins that fail (NaN fails). */
  failingAt: number[];
  /** The statistic at its least favourable bin. */
  worst: { at: number; statistic: string; value: number; bound: number } | null;
}

export interface TriangleSummary extends TriangleConfig {
  /** Angle between k1 and k2 in units of π (k1 = k2 family), or null. */
  thetaOverPi: number | null;
  triangles: number;
  nbody: Band & { reducedMean: number; reducedStd: number };
  gan: Band & { reducedMean: number; reducedStd: number };
}

export interface CrossSummary {
  pairs: number;
  mean: number[];
  std: number[];
}

export interface GanValidation {
  settings: GanValidationSettings;
  side: number;
  boxSize: number;
  samples: number;
  subVolumes: number;
  pdf: {
    low: number[];
    high: number[];
    centre: number[];
    /** Mean voxels per N-body sub-volume in the bin. */
    nbodyMeanVoxels: number[];
    nbody: Band;
    gan: Band;
    /** Fraction of all voxels below pdfMin / at or above pdfMax. */
    underflow: { nbody: number; gan: number };
    overflow: { nbody: number; gan: number };
    /** Bins check (b) looks at. */
    checked: boolean[];
  };
  power: {
    k: number[];
    modes: number[];
    nbody: Band;
    gan: Band;
    /** P̄_GAN / P̄_N-body. */
    ratio: number[];
    variance: { nbody: number[]; gan: number[]; ratio: number[] };
    /** null: fewer than MIN_JACKKNIFE_SIMULATIONS simulations (or none given). */
    heldOutNoise: HeldOutNoise | null;
    /**
     * The GAN side's own sampling error: the same jackknife over GAN_NOISE_GROUPS groups of
     * samples (sample i in group i mod G; samples are independent draws). A sample's power
     * follows its overall amplitude at every k, so a latent draw's few extreme samples move P̄ at
     * all shells together: 1280 draws of the bundled GAN differ by 3–5 % between seeds.
     * `simulations` counts the groups. Absent in files written before it.
     */
    ganNoise?: HeldOutNoise | null;
    covariance: { nbody: number[][]; gan: number[][] };
    correlation: { nbody: number[][]; gan: number[][] };
  };
  bispectrum: { shellWidth: number; equilateral: TriangleSummary[]; isosceles: TriangleSummary[] } | null;
  /** gaussianScatter: 1/√(2 modes), the spread of r between independent Gaussian fields. */
  cross: { k: number[]; gaussianScatter: number[]; ganGan: CrossSummary; nbodyGan: CrossSummary };
  /**
   * Grid locking (./ensemble-mean-field.ts): each ensemble's mean field against its sampling
   * noise. A diagnostic beside the checks.
   */
  meanField: { gan: MeanFieldSummary; nbody: MeanFieldSummary };
  /**
   * ln P_b against each cube's ln m, per shell of power.k (./power-environment.ts). A diagnostic
   * beside the checks. Absent in files written before it.
   */
  environment?: { gan: PowerEnvironment; nbody: PowerEnvironment };
  checks: { meanPower: Check; pdf: Check; powerVariance: Check; independence: Check };
  passed: boolean;
}

const cube = (n: number): GridShape => [n, n, n];

/** The power–density relation of both ensembles, where each has ≥ 3 cubes of positive mean. */
function environmentOf(
  ganPower: readonly Float64Array[],
  ganFields: readonly Float32Array[],
  nbodyPower: readonly Float64Array[],
  nbodyFields: readonly Float32Array[],
): Pick<GanValidation, "environment"> {
  const g = ganFields.map(meanDensity);
  const n = nbodyFields.map(meanDensity);
  const usable = (m: number[]) => m.length >= 3 && m.every((x) => x > 0);
  if (!usable(g) || !usable(n)) return {};
  return { environment: { gan: powerEnvironment(ganPower, g), nbody: powerEnvironment(nbodyPower, n) } };
}

function toDelta(rho: Float32Array): Float32Array {
  const d = new Float32Array(rho.length);
  for (let i = 0; i < rho.length; i++) d[i] = rho[i] - 1;
  return d;
}

/** Mean, sample standard deviation and 16/84th percentiles per column of `rows` (one row per field). */
export function band(rows: readonly ArrayLike<number>[]): Band {
  const m = rows.length;
  const cols = m === 0 ? 0 : rows[0].length;
  const out: Band = { mean: [], std: [], p16: [], p84: [] };
  const column = new Float64Array(m);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += column[i] = rows[i][j];
    const mean = s / m;
    let ss = 0;
    for (let i = 0; i < m; i++) ss += (column[i] - mean) ** 2;
    column.sort();
    out.mean.push(mean);
    out.std.push(m > 1 ? Math.sqrt(ss / (m - 1)) : NaN);
    out.p16.push(percentileOfSorted(column, 0.16));
    out.p84.push(percentileOfSorted(column, 0.84));
  }
  return out;
}

/** Sample covariance (n − 1) of the columns of `rows`, and the correlation matrix. */
export function covariance(rows: readonly ArrayLike<number>[]): {
  covariance: number[][];
  correlation: number[][];
} {
  const m = rows.length;
  const k = m === 0 ? 0 : rows[0].length;
  const mean = new Float64Array(k);
  for (const r of rows) for (let j = 0; j < k; j++) mean[j] += r[j] / m;
  const cov = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const r of rows)
    for (let a = 0; a < k; a++) {
      const da = r[a] - mean[a];
      for (let b = a; b < k; b++) cov[a][b] += (da * (r[b] - mean[b])) / (m - 1);
    }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) cov[a][b] = cov[b][a];
  const corr = cov.map((row, a) => row.map((v, b) => v / Math.sqrt(cov[a][a] * cov[b][b])));
  return { covariance: cov, correlation: corr };
}

/** P(k) of each field's δ; every field must be of one side and box. */
export function ensemblePower(
  e: DensityEnsemble,
  threads?: number,
): { k: number[]; modes: number[]; power: Float64Array[] } {
  let k: number[] = [];
  let modes: number[] = [];
  const power = e.fields.map((f, i) => {
    const t = powerSpectrum(toDelta(f), cube(e.side), { boxSize: e.boxSize, threads });
    if (i === 0) {
      k = Array.from(t.k);
      modes = Array.from(t.modes);
    }
    return t.power;
  });
  return { k, modes, power };
}

/** Fewer simulations give a jackknife error too noisy to report. */
export const MIN_JACKKNIFE_SIMULATIONS = 4;

/**
 * Delete-one-simulation jackknife of ln P̄(k) and ln Var P(k) over per-field spectra `power`,
 * `simulation[i]` the simulation of field i (HeldOutNoise); null with fewer than
 * MIN_JACKKNIFE_SIMULATIONS simulations. Each simulation's sums of P and P² (about the column
 * means, so the variances do not cancel) give every leave-one-out mean and variance in one pass.
 */
export function heldOutNoise(
  power: readonly ArrayLike<number>[],
  simulation: readonly number[],
): HeldOutNoise | null {
  if (simulation.length !== power.length)
    throw new RangeError(`${simulation.length} simulation labels for ${power.length} fields`);
  const group = new Map<number, number>();
  for (const id of simulation) if (!group.has(id)) group.set(id, group.size);
  const g = group.size;
  if (g < MIN_JACKKNIFE_SIMULATIONS) return null;
  const n = power.length;
  const shells = power[0].length;
  const centre = new Float64Array(shells);
  for (const p of power) for (let j = 0; j < shells; j++) centre[j] += p[j] / n;
  const count = new Float64Array(g);
  const s1 = Array.from({ length: g }, () => new Float64Array(shells));
  const s2 = Array.from({ length: g }, () => new Float64Array(shells));
  power.forEach((p, i) => {
    const k = group.get(simulation[i]) as number;
    count[k]++;
    for (let j = 0; j < shells; j++) {
      const d = p[j] - centre[j];
      s1[k][j] += d;
      s2[k][j] += d * d;
    }
  });
  const lnMean = new Array<number>(shells);
  const lnVariance = new Array<number>(shells);
  const spread = (t: Float64Array) => {
    const mean = t.reduce((a, v) => a + v, 0) / g;
    return Math.sqrt(((g - 1) / g) * t.reduce((a, v) => a + (v - mean) ** 2, 0));
  };
  for (let j = 0; j < shells; j++) {
    let t1 = 0;
    let t2 = 0;
    for (let k = 0; k < g; k++) {
      t1 += s1[k][j];
      t2 += s2[k][j];
    }
    const m = new Float64Array(g);
    const v = new Float64Array(g);
    for (let k = 0; k < g; k++) {
      const rest = n - count[k];
      const d = (t1 - s1[k][j]) / rest;
      m[k] = Math.log(centre[j] + d);
      v[k] = Math.log((t2 - s2[k][j] - rest * d * d) / (rest - 1));
    }
    lnMean[j] = spread(m);
    lnVariance[j] = spread(v);
  }
  return { simulations: g, lnMean, lnVariance };
}

/** Groups of GAN samples of the sampling-error jackknife (power.ganNoise). */
export const GAN_NOISE_GROUPS = 20;

/** The jackknife of `heldOutNoise` over groups of independent samples (sample i in group i mod G). */
export function samplingNoise(
  power: readonly ArrayLike<number>[],
  groups = GAN_NOISE_GROUPS,
): HeldOutNoise | null {
  return heldOutNoise(
    power,
    power.map((_, i) => i % Math.min(groups, power.length)),
  );
}

/**
 * The held-out noise (or, with `which` = "gan", the GAN's sampling noise) over the shells
 * checks (a) and (c) look at (k ≤ kMaxPower, k ≤ kMaxVariance).
 */
export function checkedHeldOutNoise(
  v: GanValidation,
  which: "heldOut" | "gan" = "heldOut",
): HeldOutNoise | null {
  const noise = which === "gan" ? (v.power.ganNoise ?? null) : v.power.heldOutNoise;
  if (noise === null) return null;
  const upTo = (sigmas: number[], kMax: number) => sigmas.filter((_, i) => v.power.k[i] <= kMax);
  return {
    simulations: noise.simulations,
    lnMean: upTo(noise.lnMean, v.settings.kMaxPower),
    lnVariance: upTo(noise.lnVariance, v.settings.kMaxVariance),
  };
}

/**
 * One line on the held-out noise over the shells checks (a) and (c) look at, e.g. "held-out
 * noise (delete-one-simulation jackknife over 20 simulations, k ≤ 1 h/Mpc): P̄ ±1.2–3.4 %,
 * Var P ±8–15 %".
 */
export function describeHeldOutNoise(v: GanValidation): string {
  const noise = checkedHeldOutNoise(v);
  const s = v.settings;
  if (noise === null)
    return `held-out noise: not estimated (a jackknife needs sub-volumes from ≥ ${MIN_JACKKNIFE_SIMULATIONS} simulations)`;
  const range = (sigmas: number[]) => {
    const fmt = (x: number) => (100 * x < 10 ? (100 * x).toFixed(1) : (100 * x).toFixed(0));
    return `±${fmt(Math.min(...sigmas))}–${fmt(Math.max(...sigmas))} %`;
  };
  const gan = checkedHeldOutNoise(v, "gan");
  const ganPart = gan
    ? `; GAN sampling noise (jackknife over ${gan.simulations} groups of its ${v.samples} samples): P̄ ${range(gan.lnMean)}, Var P ${range(gan.lnVariance)}`
    : "";
  return `held-out noise (delete-one-simulation jackknife over ${noise.simulations} simulations, k ≤ ${Math.min(s.kMaxPower, s.kMaxVariance)} h/Mpc): P̄ ${range(noise.lnMean)}, Var P ${range(noise.lnVariance)}${ganPart}`;
}

/** One line on grid locking: both ensembles' mean fields. */
export function describeMeanFields(v: GanValidation): string {
  return `ensemble-mean field (grid locking; ≈ 1× its noise when homogeneous): GAN ${describeMeanField(v.meanField.gan)}; N-body ${describeMeanField(v.meanField.nbody)}`;
}

/** One check over bins: `margin(i)` ≥ 0 passes (NaN fails); value and bound are what is reported. */
function checkBins(
  at: readonly number[],
  include: (i: number) => boolean,
  description: string,
  variable: string,
  statistic: string,
  value: (i: number) => number,
  bound: (i: number) => number,
  margin: (i: number) => number,
): Check {
  const failingAt: number[] = [];
  let bins = 0;
  let worst: Check["worst"] = null;
  let worstMargin = Infinity;
  for (let i = 0; i < at.length; i++) {
    if (!include(i)) continue;
    bins++;
    const m = margin(i);
    if (!(m >= 0)) failingAt.push(at[i]);
    const rank = Number.isNaN(m) ? -Infinity : m;
    if (worst === null || rank < worstMargin) {
      worstMargin = rank;
      worst = { at: at[i], statistic, value: value(i), bound: bound(i) };
    }
  }
  return {
    description,
    variable,
    bins,
    passed: bins === 0 ? null : failingAt.length === 0,
    failingAt,
    worst,
  };
}

/** Check (a): the GAN's mean P(k) within `tolerance` of the N-body mean at every shell k ≤ kMax. */
export function meanPowerCheck(
  k: readonly number[],
  gan: readonly number[],
  nbody: readonly number[],
  kMax: number,
  tolerance: number,
): Check {
  const dev = (i: number) => Math.abs(gan[i] / nbody[i] - 1);
  return checkBins(
    k,
    (i) => k[i] <= kMax,
    `|P̄_GAN(k) / P̄_N-body(k) − 1| ≤ ${tolerance} at every shell with k ≤ ${kMax} h/Mpc`,
    "k [h/Mpc]",
    "|P̄_GAN / P̄_N-body − 1|",
    dev,
    () => tolerance,
    (i) => tolerance - dev(i),
  );
}

/** Check (c): the ensemble variance of P(k) within `tolerance` of the N-body one at every shell k ≤ kMax. */
export function powerVarianceCheck(
  k: readonly number[],
  ganVariance: readonly number[],
  nbodyVariance: readonly number[],
  kMax: number,
  tolerance: number,
): Check {
  const dev = (i: number) => Math.abs(ganVariance[i] / nbodyVariance[i] - 1);
  return checkBins(
    k,
    (i) => k[i] <= kMax,
    `|Var_GAN P(k) / Var_N-body P(k) − 1| ≤ ${tolerance} at every shell with k ≤ ${kMax} h/Mpc`,
    "k [h/Mpc]",
    "|Var_GAN P / Var_N-body P − 1|",
    dev,
    () => tolerance,
    (i) => tolerance - dev(i),
  );
}

/**
 * Check (d): independent samples have ⟨r_ab(k)⟩ = 0 for a ≠ b; the mean over P pairs has standard
 * error s_r/√P (s_r their measured scatter; 1/√(2 modes) for Gaussian fields), so |r̄| ≤ n s_r/√P
 * at every shell k ≤ kMax (n = 4: a false alarm in ~1 of 16 000 shells).
 */
export function independenceCheck(
  k: readonly number[],
  cross: CrossSummary,
  gaussianScatter: readonly number[],
  kMax: number,
  sigmas: number,
): Check {
  const bound = (i: number) => {
    const s = Number.isFinite(cross.std[i]) && cross.std[i] > 0 ? cross.std[i] : gaussianScatter[i];
    return (sigmas * s) / Math.sqrt(cross.pairs);
  };
  const dev = (i: number) => Math.abs(cross.mean[i]);
  // The bound differs per shell, so rank shells by |r̄|/bound (same sign as bound − |r̄|): the
  // least favourable bin is then the largest ratio, the d of select-gan's score.
  return checkBins(
    k,
    (i) => k[i] <= kMax && cross.pairs >= 2,
    `GAN × GAN samples independent: |r̄(k)| ≤ ${sigmas} standard errors of the mean over the pairs at every shell with k ≤ ${kMax} h/Mpc`,
    "k [h/Mpc]",
    "|r̄_GAN×GAN|",
    dev,
    bound,
    (i) => 1 - dev(i) / bound(i),
  );
}

/**
 * Check (b): "inside the N-body 1σ band" means that in every checked bin the GAN ensemble-mean
 * PDF lies in [p16, p84] of the N-body sub-volumes' PDFs in that bin (ends included). Checked
 * bins lie wholly at ρ/ρ̄ ≥ `checkMin` (lower edge ≥ checkMin) and hold on average ≥ `minVoxels`
 * voxels per N-body sub-volume. The margin ranks bins by the distance to the nearer band edge in
 * units of the band's width; the value reported is the GAN mean, the bound that nearer edge.
 */
export function pdfBandCheck(
  low: readonly number[],
  centre: readonly number[],
  ganMean: readonly number[],
  nbody: Band,
  nbodyMeanVoxels: readonly number[],
  checkMin: number,
  minVoxels: number,
): { check: Check; checked: boolean[] } {
  const checked = low.map((lo, i) => lo >= checkMin * (1 - 1e-12) && nbodyMeanVoxels[i] >= minVoxels);
  const lo = (i: number) => nbody.p16[i];
  const hi = (i: number) => nbody.p84[i];
  const nearer = (i: number) => (ganMean[i] - lo(i) < hi(i) - ganMean[i] ? lo(i) : hi(i));
  const margin = (i: number) => {
    const m = Math.min(ganMean[i] - lo(i), hi(i) - ganMean[i]);
    const width = hi(i) - lo(i);
    return width > 0 ? m / width : m >= 0 ? 0 : -Infinity;
  };
  const check = checkBins(
    centre,
    (i) => checked[i],
    `GAN ensemble-mean PDF of ρ/ρ̄ inside the N-body 16–84 % band across sub-volumes, in every log bin with lower edge ≥ ${checkMin} holding on average ≥ ${minVoxels} voxels per N-body sub-volume`,
    "ρ/ρ̄",
    "GAN mean PDF; bound: the nearer N-body band edge (16th or 84th percentile)",
    (i) => ganMean[i],
    nearer,
    margin,
  );
  return { check, checked };
}

/** Default triangles on an S³ grid of side L: all shells of width k_F clear of aliasing (k + k_F/2 ≤ S k_F/3). */
export function defaultTriangles(
  side: number,
  boxSize: number,
): {
  equilateral: (TriangleConfig & { thetaOverPi: null })[];
  isosceles: (TriangleConfig & { thetaOverPi: number })[];
} {
  const kF = (2 * Math.PI) / boxSize;
  const top = Math.floor(side / 3 - 0.5);
  if (top < 2) return { equilateral: [], isosceles: [] };
  const eq = [...new Set([2, 2 + (top - 2) / 3, 2 + (2 * (top - 2)) / 3, top].map(Math.round))];
  const k1 = Math.max(1, Math.floor(top / 2));
  const thetas = [0.1, 0.3, 0.5, 0.7, 0.9];
  return {
    equilateral: eq.map((j) => ({ k1: j * kF, k2: j * kF, k3: j * kF, thetaOverPi: null })),
    isosceles: thetas.map((t) => ({
      k1: k1 * kF,
      k2: k1 * kF,
      // k3 = |k1 + k2| for the angle θ between the vectors (bispectrum.ts angleTriangles).
      k3: k1 * kF * Math.sqrt(2 + 2 * Math.cos(t * Math.PI)),
      thetaOverPi: t,
    })),
  };
}

function bispectrumSummaries(
  gan: DensityEnsemble,
  nbody: DensityEnsemble,
  configs: (TriangleConfig & { thetaOverPi: number | null })[],
  threads?: number,
): TriangleSummary[] {
  if (configs.length === 0) return [];
  const rows = (e: DensityEnsemble) =>
    e.fields.map((f) => bispectrum(toDelta(f), cube(e.side), configs, { boxSize: e.boxSize, threads }));
  const g = rows(gan);
  const n = rows(nbody);
  const summary = (r: ReturnType<typeof rows>, c: number) => {
    const b = band(r.map((x) => [x[c].bispectrum]));
    const q = band(r.map((x) => [x[c].reduced]));
    return {
      mean: b.mean,
      std: b.std,
      p16: b.p16,
      p84: b.p84,
      reducedMean: q.mean[0],
      reducedStd: q.std[0],
    };
  };
  return configs.map((c, i) => ({
    k1: c.k1,
    k2: c.k2,
    k3: c.k3,
    thetaOverPi: c.thetaOverPi,
    triangles: n[0][i].triangles,
    nbody: summary(n, i),
    gan: summary(g, i),
  }));
}

function crossSummary(
  pairs: [Float32Array, Float32Array][],
  side: number,
  boxSize: number,
  threads?: number,
): CrossSummary {
  const r = pairs.map(
    ([a, b]) => crossPowerSpectrum(toDelta(a), toDelta(b), cube(side), { boxSize, threads }).correlation,
  );
  const s = band(r);
  return { pairs: pairs.length, mean: s.mean, std: s.std };
}

function checkEnsemble(e: DensityEnsemble, what: string): void {
  if (e.fields.length < 2)
    throw new RangeError(`${what}: ${e.fields.length} field(s); the statistics need at least 2`);
  for (const f of e.fields)
    if (f.length !== e.side ** 3)
      throw new RangeError(`${what}: a field of ${f.length} values, expected ${e.side}³ = ${e.side ** 3}`);
}

/** Compares GAN samples with held-out N-body sub-volumes (both ρ/ρ̄ cubes of one side and box). */
export function validateGan(
  gan: DensityEnsemble,
  nbody: DensityEnsemble,
  settings: GanValidationSettings,
): GanValidation {
  checkEnsemble(gan, "GAN samples");
  checkEnsemble(nbody, "N-body sub-volumes");
  if (gan.side !== nbody.side || Math.abs(gan.boxSize - nbody.boxSize) > 1e-6 * nbody.boxSize)
    throw new RangeError(
      `GAN samples are ${gan.side}³ over ${gan.boxSize} Mpc/h, the N-body sub-volumes ${nbody.side}³ over ${nbody.boxSize} Mpc/h`,
    );
  const s = settings;
  const threads = s.threads;

  // Voxel PDF per field.
  const pdfOf = (f: Float32Array) =>
    densityPdf(toDelta(f), { min: s.pdfMin, max: s.pdfMax, bins: s.pdfBins });
  const gp = gan.fields.map(pdfOf);
  const np = nbody.fields.map(pdfOf);
  const bins = np[0].bins;
  const nbodyPdf = band(np.map((p) => p.bins.map((b) => b.pdf)));
  const ganPdf = band(gp.map((p) => p.bins.map((b) => b.pdf)));
  const nbodyMeanVoxels = bins.map((_, j) => np.reduce((a, p) => a + p.bins[j].count, 0) / np.length);
  const fraction = (ps: typeof np, get: (p: (typeof np)[number]) => number) =>
    ps.reduce((a, p) => a + get(p), 0) / ps.reduce((a, p) => a + p.voxels, 0);
  const pdfCheck = pdfBandCheck(
    bins.map((b) => b.low),
    bins.map((b) => b.centre),
    ganPdf.mean,
    nbodyPdf,
    nbodyMeanVoxels,
    s.pdfCheckMin,
    s.pdfMinVoxels,
  );

  // Power spectra.
  const gPow = ensemblePower(gan, threads);
  const nPow = ensemblePower(nbody, threads);
  const gBand = band(gPow.power);
  const nBand = band(nPow.power);
  const gCov = covariance(gPow.power);
  const nCov = covariance(nPow.power);
  const gVar = gBand.std.map((v) => v * v);
  const nVar = nBand.std.map((v) => v * v);
  const k = nPow.k;

  // Cross-correlation of independent pairs.
  const ganPairs: [Float32Array, Float32Array][] = [];
  for (let i = 0; i + 1 < gan.fields.length; i += 2) ganPairs.push([gan.fields[i], gan.fields[i + 1]]);
  const mixedPairs: [Float32Array, Float32Array][] = [];
  for (let i = 0; i < Math.min(gan.fields.length, nbody.fields.length); i++)
    mixedPairs.push([nbody.fields[i], gan.fields[i]]);

  let bispec: GanValidation["bispectrum"] = null;
  if (s.bispectrum) {
    const t = defaultTriangles(nbody.side, nbody.boxSize);
    bispec = {
      shellWidth: (2 * Math.PI) / nbody.boxSize,
      equilateral: bispectrumSummaries(gan, nbody, t.equilateral, threads),
      isosceles: bispectrumSummaries(gan, nbody, t.isosceles, threads),
    };
  }

  const gaussianScatter = nPow.modes.map((m) => 1 / Math.sqrt(2 * m));
  const ganGan = crossSummary(ganPairs, gan.side, gan.boxSize, threads);
  const checks = {
    meanPower: meanPowerCheck(k, gBand.mean, nBand.mean, s.kMaxPower, s.powerTolerance),
    pdf: pdfCheck.check,
    powerVariance: powerVarianceCheck(k, gVar, nVar, s.kMaxVariance, s.varianceTolerance),
    independence: independenceCheck(k, ganGan, gaussianScatter, s.kMaxIndependence, s.independenceSigmas),
  };
  return {
    settings,
    side: nbody.side,
    boxSize: nbody.boxSize,
    samples: gan.fields.length,
    subVolumes: nbody.fields.length,
    pdf: {
      low: bins.map((b) => b.low),
      high: bins.map((b) => b.high),
      centre: bins.map((b) => b.centre),
      nbodyMeanVoxels,
      nbody: nbodyPdf,
      gan: ganPdf,
      underflow: { nbody: fraction(np, (p) => p.underflow), gan: fraction(gp, (p) => p.underflow) },
      overflow: { nbody: fraction(np, (p) => p.overflow), gan: fraction(gp, (p) => p.overflow) },
      checked: pdfCheck.checked,
    },
    power: {
      k,
      modes: nPow.modes,
      nbody: nBand,
      gan: gBand,
      ratio: gBand.mean.map((v, i) => v / nBand.mean[i]),
      variance: { nbody: nVar, gan: gVar, ratio: gVar.map((v, i) => v / nVar[i]) },
      heldOutNoise: nbody.simulation ? heldOutNoise(nPow.power, nbody.simulation) : null,
      // A null test's "samples" are N-body sub-volumes: their noise is between simulations.
      ganNoise: gan.simulation ? heldOutNoise(gPow.power, gan.simulation) : samplingNoise(gPow.power),
      covariance: { nbody: nCov.covariance, gan: gCov.covariance },
      correlation: { nbody: nCov.correlation, gan: gCov.correlation },
    },
    bispectrum: bispec,
    cross: {
      k,
      gaussianScatter,
      ganGan,
      nbodyGan: crossSummary(mixedPairs, gan.side, gan.boxSize, threads),
    },
    meanField: {
      gan: ensembleMeanField(gan.fields, gan.side),
      nbody: ensembleMeanField(nbody.fields, nbody.side),
    },
    ...environmentOf(gPow.power, gan.fields, nPow.power, nbody.fields),
    checks,
    passed: Object.values(checks).every((c) => c.passed === true),
  };
}
