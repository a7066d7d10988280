/**
 * An optional summary-statistics term in the generator's loss (`train gan --stats-weight λ`).
 * Feder et al. (2020) train the generator against the discriminator alone; a CPU-sized run of
 * that recipe leaves the samples' P(k) 30–60 % low and their PDF outside the N-body band
 * (README, "The density GAN"). This term adds
 * λ (L_P + w_V L_V + w_H L_H + w_M L_M + w_K L_K + w_ρ L_ρ + w_E L_E + w_S L_S) on the generator's batch,
 * each part scaled so that 1 is the size of the issue-8 acceptance tolerance:
 *   L_P = ⟨[ln(P̄_G(k)/P̄_N(k)) / ln 1.1]²⟩_k          mean power of ρ = ρ/ρ̄ over the batch,
 *   L_V = ⟨[(ln(Var_G P(k)/Var_N P(k)) − β_B) / ln 1.25]²⟩_k   its sample variance across
 *                                                     the batch, β_B = E ln of a B-sample s²/σ²
 *                                                     (Gaussian values, or per shell as measured
 *                                                     on batches of the data cubes: empirical),
 *   L_H = ⟨[(H̄_G(m) − H̄_N(m)) / σ_N(m)]²⟩_m           soft-binned PDF of ln ρ,
 *   L_M = [ln(B Var_x c̄ / ⟨Var_x c_i⟩) / ln 1.25]²     homogeneity (batchCoherence below;
 *                                                     weight w_M, off unless asked for),
 *   L_K = ⟨[ln(B P_b(ρ̄) / P̄_G(b)) / ln 1.25]²⟩_b       the same per shell, of ρ̄ = the batch-mean
 *                                                     field (weight w_K, off unless asked for;
 *                                                     the shells where `validate gan` check (d)
 *                                                     sees samples sharing structure),
 *   L_ρ = [ln⟨ρ⟩ / ln 1.1]²                            mass: the batch's mean density against the
 *                                                     data's 1 (weight w_ρ, off unless asked for;
 *                                                     a generator short of dense peaks is short of
 *                                                     mass, which P(k) of ρ and the PDF in units of
 *                                                     its spread hardly see: 38 % of the N-body
 *                                                     mass sits at ρ/ρ̄ > 5, in < 3 % of voxels),
 *   L_S = ⟨[ln((Var_G P/P̄_G²) / (Var_N P/P̄_N²)) / ln 1.25]²⟩_k   relative scatter (weight w_S, off
 *                                                     unless asked for): the P(k) distribution's
 *                                                     width in units of its mean, which L_P and
 *                                                     L_V reach only through the amplitude they
 *                                                     share (README, "Where stage 14's excess comes from"),
 *   L_E = ⟨l_b²⟩_b + l_m²,  l_b = (ln(Var_G q_b / Var_N q_b) − β_B) / ln 1.25,
 *         q_b = ln P_b − a_b ln m,  l_m the same for Var ln m,  m a cube's mean density:
 *                                                     environment (weight w_E, off unless asked
 *                                                     for): a sub-volume's power follows its mean
 *                                                     density (slope a_b ≈ 2.8 of the training
 *                                                     cubes, 80 % of the scatter of ln P_b), so
 *                                                     Var P(k) is set by the spread of m and the
 *                                                     scatter about that relation; a generator
 *                                                     whose small-scale power varies on its own
 *                                                     has Var P(k) too large,
 * with P̄_N, Var_N, H̄_N and the cube-to-cube spread σ_N measured once on training cubes (the
 * same random sub-cubes and symmetries the discriminator sees). Shells are j k_F ≤ |k| < (j+1) k_F
 * for j = 1 … N/2 (every mode to the Nyquist shell, so a white-noise floor is penalised too);
 * PDF bins are the 50 log bins of `validate gan` over [0.01, 1000), smoothed by a Gaussian of
 * half a bin width so that the histogram is differentiable.
 *
 * Value and gradient are computed outside the autodiff graph, exactly: with X = DFT(ρ) and
 * P_b = Σ_{k∈b} |X_k|² / (M_b N³) over the M_b modes of shell b on the full grid,
 *   ∂P_b/∂ρ_j = (2/M_b) · irfftn(1_b X)_j,
 * so one inverse FFT per field carries every shell's weight; the PDF's derivative goes through
 * u = ln ρ, and both through ρ = κ(1 + c)/(1 − c) (dρ/dc = 2κ/(1 − c)², 0 where ρ is capped).
 */
import { RealFft3d } from "../../cosmo/fft/real-fft3d.js";
import { lineFit, meanDensity } from "../../cosmo/power-environment.js";
import { uniformStream } from "../weight-init.js";
import { MAX_SCALED } from "./data-scaling.js";

/** Part weights and the variance part's relative weight w_V (its batch estimate is noisy). */
export interface StatisticsLossSettings {
  weight: number;
  varianceWeight: number;
  /** Weight w_M of the homogeneity part L_M (absent: 0, the term of earlier runs). */
  homogeneityWeight?: number;
  /**
   * The fields L_M measures: "scaled", c (absent: the term of earlier runs), or "density", ρ. On c
   * a dense peak counts little more than a moderately dense voxel (c saturates), so peaks locked
   * to voxels the grid prefers barely move R (stage 13: R 1.19 on c, 1.42 on ρ over batches of
   * 16, its ensemble-mean field of ρ 6.4× the sampling noise).
   */
  homogeneityOf?: (typeof HOMOGENEITY_FIELDS)[number];
  /**
   * "random": the trainer measures the batch with each field under a cube symmetry drawn per
   * step (models/gan/sample-orientation.ts), as sample-gan --orientation random draws samples, so
   * L_M and L_K see only the shared structure that orientation leaves shared (its symmetric part);
   * the other parts do not change. Absent: the fields as generated (earlier runs).
   */
  orientation?: "random";
  /** Weight w_K of the shell-by-shell coherence part L_K (absent: 0). */
  coherenceWeight?: number;
  /** Weight w_H of the PDF part L_H (absent: 1, the weight of earlier runs). */
  pdfWeight?: number;
  /**
   * Weight w_S of the relative-scatter part L_S (absent: 0): ln(Var P_b / P̄_b²) against the
   * data's, with L_P's shells and norm. A generator whose P(k) scatters too little for its mean
   * (stage 14: 0.60 of the N-body's at k = 0.24) meets L_P and L_V only halfway, since both pull
   * on the amplitude; L_S pulls on the width alone.
   */
  scatterWeight?: number;
  /** Weight w_ρ of the mass part L_ρ (absent: 0). */
  massWeight?: number;
  /** Weight w_E of the environment part L_E (absent: 0). */
  environmentWeight?: number;
  /**
   * L_K's denominator P̄_b taken as a constant in the gradient (absent: false, the gradient of
   * earlier runs): then L_K can only shrink the structure the samples share, not lower its
   * ratio by raising every field's power at that shell.
   */
  coherenceFixedPower?: boolean;
  /**
   * β_B of L_V: "gaussian" (absent; earlier runs) for ψ((B−1)/2) − ln((B−1)/2), or "empirical"
   * for E ln(s²_B/σ²) per shell over batches of B data cubes (empiricalLogVarianceOffset). A
   * cube's P(k) is skewed (its relative spread is ≈ 0.7 at k < 0.7 h/Mpc), so a B = 16 batch's
   * ln s² falls 0.16–0.32 below ln σ² where Gaussian values fall 0.07: the Gaussian offset leaves
   * L_V's minimum at a generator variance 10–29 % above the data's when its P(k) is as skewed.
   */
  varianceOffset?: "gaussian" | "empirical";
  /**
   * Memory M of running estimates for L_P, L_V and L_H (absent or 0: the batch alone, earlier
   * runs). A batch of 16 knows the variance of P(k) to ±37 % — more than the 25 % tolerance — so
   * the batch-only parts are dominated by sampling noise and a systematic 20–50 % miss hardly
   * steers the generator. With M > 0 the batch's P̄_b, s²_b and H̄_m enter exponential moving
   * averages with factor 1/M (bias-corrected, as Adam's moments); each part's error (the log
   * ratio, the PDF offset) is taken from the averages and its direction from the batch:
   * ∂L/∂P_ib = 2 l_b / (tol · A_b) · ∂A_b^batch/∂P_ib, A the average. With many batches in
   * the averages s² is unbiased for σ², so L_V needs no offset β_B.
   */
  memory?: number;
  /**
   * Shells of L_P and L_V: the first `innerShells` (j = 1 … n, absent: all) weigh 1, the rest
   * `outerShellWeight` (absent: 1), and the parts are the weighted p-norm
   * (Σ_b w_b |l_b|^p / Σ_b w_b)^{2/p} with p = `shellNorm` (absent: 2, the mean square of
   * earlier runs). The acceptance checks are a maximum over the shells with k ≤ 1 h/Mpc; a mean
   * square over every shell to Nyquist lets one shell stay 15 % off while the others pull, and
   * p > 2 moves the gradient to the worst shells (p → ∞: the maximum).
   */
  innerShells?: number;
  /** The k (h/Mpc) that set innerShells: shells j with (j + ½) k_F ≤ kMax (`--stats-kmax`). */
  kMax?: number;
  outerShellWeight?: number;
  shellNorm?: number;
}

/**
 * (Σ_b w_b |l_b|^p / Σ_b w_b)^{2/p} and its derivative 2 S^{2/p−1} w_b |l_b|^{p−1} sgn(l_b) / Σ w
 * (S the weighted mean of |l|^p); p = 2 is the weighted mean square.
 */
export function shellNorm(l: Float64Array, w: Float64Array, p: number): { value: number; d: Float64Array } {
  let W = 0;
  let S = 0;
  for (let b = 0; b < l.length; b++) {
    W += w[b];
    S += w[b] * Math.abs(l[b]) ** p;
  }
  const d = new Float64Array(l.length);
  if (!(W > 0) || !(S > 0)) return { value: 0, d };
  S /= W;
  const k = (2 * S ** (2 / p - 1)) / W;
  for (let b = 0; b < l.length; b++) d[b] = k * w[b] * Math.abs(l[b]) ** (p - 1) * Math.sign(l[b]);
  return { value: S ** (2 / p), d };
}

export const VARIANCE_OFFSETS = ["gaussian", "empirical"] as const;
export const HOMOGENEITY_FIELDS = ["scaled", "density"] as const;

export const DEFAULT_VARIANCE_WEIGHT = 0.25;

export interface StatisticsTargets {
  side: number;
  kappa: number;
  /** ρ cap (the training data's maximum): beyond it ρ and its gradient are frozen. */
  cap: number;
  /** Per shell j = 1 … N/2: mean and sample variance over the data cubes of P_j. */
  meanPower: Float64Array;
  powerVariance: Float64Array;
  /** Each data cube's P_j (for the empirical offset of L_V). */
  cubePowers: readonly Float64Array[];
  /**
   * Per shell: the data cubes' least-squares slope a_b of ln P_b on the ln of the cube's mean
   * density, and the variance of the residual q_b = ln P_b − a_b ln ρ̄_cube (L_E).
   */
  powerSlope: Float64Array;
  residualVariance: Float64Array;
  /** Variance over the data cubes of ln m, m a cube's mean density (L_E). */
  lnMeanVariance: number;
  /** Per PDF bin: mean and spread over the data cubes of the smoothed histogram of ln ρ. */
  pdfMean: Float64Array;
  pdfSpread: Float64Array;
  /** PDF bins that enter L_H (data average ≥ 5 voxels per cube). */
  pdfBins: Int32Array;
  cubes: number;
}

export interface StatisticsEvaluation {
  /** λ-weighted total and its unweighted parts. */
  loss: number;
  power: number;
  variance: number;
  pdf: number;
  /** L_M: the batch-mean field's coherence (0 for a statistically homogeneous generator). */
  homogeneity: number;
  /** L_K: the batch-mean field's power shell by shell against 1/B of the fields' mean power. */
  coherence: number;
  /** L_ρ: the batch's mean density against 1, in units of 10 %. */
  mass: number;
  /** L_E: the scatter of ln P_b about the data's dependence on the cube's mean density. */
  environment: number;
  /** L_S: Var P_b / P̄_b² against the data's, shell by shell. */
  scatter: number;
  /** d loss / d c, the generator output's layout. */
  gradient: Float32Array;
}

const PDF_BINS = 50;
const PDF_LOG_MIN = Math.log(0.01);
const PDF_LOG_WIDTH = Math.log(1e5) / PDF_BINS;
const PDF_SIGMA = PDF_LOG_WIDTH / 2;
const MIN_VOXELS_PER_CUBE = 5;
const LN_POWER_TOL = Math.log(1.1);
const LN_VARIANCE_TOL = Math.log(1.25);

/** Digamma ψ(x), x > 0: recurrence up to x ≥ 10, then the asymptotic series (error < 1e-12). */
export function digamma(x: number): number {
  let acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const r = 1 / (x * x);
  return acc + Math.log(x) - 0.5 / x - r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r / 240)));
}

/**
 * E[ln(s²/σ²)] for the sample variance s² of n Gaussian values: ψ((n−1)/2) − ln((n−1)/2)
 * (s²(n−1)/σ² is χ² with n−1 degrees of freedom). L_V compares ln s² of a batch of B fields
 * with ln σ² of the data, so without this offset its minimum sits at σ_G² = σ_N² e^{1/(B−1)}
 * roughly (7 % high for B = 16).
 */
export function logVarianceBias(n: number): number {
  const h = (n - 1) / 2;
  return digamma(h) - Math.log(h);
}

/** Batches drawn for the empirical offset: its resampling error is ≈ 0.4/√draws ≈ 0.006 in ln s². */
export const OFFSET_DRAWS = 4096;

/**
 * β_B per shell as the data give it: the mean over `draws` batches of B of the cubes (each
 * without replacement, from a fixed stream) of ln(s²_B / σ²), σ² the variance over all cubes.
 */
export function empiricalLogVarianceOffset(
  powers: readonly Float64Array[],
  variance: Float64Array,
  batch: number,
  draws = OFFSET_DRAWS,
): Float64Array {
  const n = powers.length;
  if (!Number.isInteger(batch) || batch < 2 || batch > n)
    throw new RangeError(`empirical variance offset: a batch of ${batch} from ${n} cubes`);
  const shells = variance.length;
  const u = uniformStream(0x5eed, `variance-offset-${batch}`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const sum = new Float64Array(shells);
  const rows: Float64Array[] = new Array<Float64Array>(batch);
  for (let t = 0; t < draws; t++) {
    // The first B entries of a partial Fisher–Yates shuffle.
    for (let i = 0; i < batch; i++) {
      const j = i + Math.floor(u() * (n - i));
      const x = order[i];
      order[i] = order[j];
      order[j] = x;
      rows[i] = powers[order[i]];
    }
    for (let b = 0; b < shells; b++) sum[b] += Math.log(meanAndVariance(rows, b).variance / variance[b]);
  }
  return sum.map((x) => x / draws);
}

/** Per-field statistics of a batch and what their derivatives need. */
class FieldStatistics {
  readonly n: number;
  readonly voxels: number;
  readonly shells: number;
  /** Shell index (0 … shells−1) of each stored half-complex mode, −1 if outside 1 … N/2. */
  private readonly shellOf: Int16Array;
  /** Full-grid mode count M_b. */
  readonly modes: Float64Array;
  private readonly fft: RealFft3d;
  private readonly spectrum: Float32Array;
  private readonly real: Float32Array;

  constructor(n: number) {
    if (n % 2 !== 0) throw new RangeError(`statistics loss needs an even side, got ${n}`);
    this.n = n;
    this.voxels = n ** 3;
    this.shells = n / 2;
    const nkz = n / 2 + 1;
    this.shellOf = new Int16Array(n * n * nkz).fill(-1);
    this.modes = new Float64Array(this.shells);
    const sig = (i: number) => (i <= n / 2 ? i : i - n);
    for (let ix = 0; ix < n; ix++)
      for (let iy = 0; iy < n; iy++)
        for (let kz = 0; kz < nkz; kz++) {
          const n2 = sig(ix) ** 2 + sig(iy) ** 2 + kz * kz;
          let j = Math.floor(Math.sqrt(n2));
          if ((j + 1) ** 2 <= n2) j++;
          else if (j * j > n2) j--;
          if (j < 1 || j > this.shells) continue;
          this.shellOf[(ix * n + iy) * nkz + kz] = j - 1;
          this.modes[j - 1] += kz === 0 || kz === n / 2 ? 1 : 2;
        }
    this.fft = new RealFft3d([n, n, n], { threads: 1 });
    this.spectrum = new Float32Array(this.fft.spectralLength);
    this.real = new Float32Array(this.voxels);
  }

  /** P_b of ρ into `power` (length shells); leaves the spectrum in place for `powerGradient`. */
  power(rho: Float32Array, power: Float64Array): void {
    this.fft.forward(rho, this.spectrum);
    power.fill(0);
    const sp = this.spectrum;
    const nkz = this.n / 2 + 1;
    for (let m = 0; m < this.shellOf.length; m++) {
      const b = this.shellOf[m];
      if (b < 0) continue;
      const kz = m % nkz;
      const w = kz === 0 || kz === this.n / 2 ? 1 : 2;
      power[b] += w * (sp[2 * m] ** 2 + sp[2 * m + 1] ** 2);
    }
    for (let b = 0; b < this.shells; b++) power[b] /= this.modes[b] * this.voxels;
  }

  /** Σ_b g_b ∂P_b/∂ρ for the field last passed to `power`, into `out`. */
  powerGradient(g: Float64Array, out: Float32Array): Float32Array {
    const sp = this.spectrum;
    for (let m = 0; m < this.shellOf.length; m++) {
      const b = this.shellOf[m];
      const f = b < 0 ? 0 : (2 * g[b]) / this.modes[b];
      sp[2 * m] *= f;
      sp[2 * m + 1] *= f;
    }
    return this.fft.inverse(sp, out);
  }

  scratch(): Float32Array {
    return this.real;
  }

  dispose(): void {
    this.fft.dispose();
  }
}

/** ρ (capped) and dρ/dc of one field of c. */
function densities(c: Float32Array, kappa: number, cap: number, rho: Float32Array, dRho: Float32Array): void {
  for (let j = 0; j < c.length; j++) {
    const x = Math.min(c[j], MAX_SCALED);
    const r = (kappa * (1 + x)) / (1 - x);
    if (r >= cap) {
      rho[j] = cap;
      dRho[j] = 0;
    } else {
      rho[j] = r;
      dRho[j] = (2 * kappa) / (1 - x) ** 2;
    }
  }
}

/**
 * Kernel weights of a voxel at bin coordinate t (bin m's centre at t = m) for bins
 * m = ⌊t⌋ − 1 … ⌊t⌋ + 2: exp(−2 (t − m)²) (a Gaussian of σ = half a bin, cut at 2 bins = 4σ),
 * from two exponentials: exp(−2(f − k)²) = exp(−2f²) · exp(4f)^k · exp(−2k²), f = t − ⌊t⌋.
 * Returns ⌊t⌋; weights into w[0 … 3].
 */
const E2 = Math.exp(-2);
const E8 = Math.exp(-8);
function kernelWeights(t: number, w: Float64Array): number {
  const i = Math.floor(t);
  const f = t - i;
  const e = Math.exp(-2 * f * f);
  const r = Math.exp(4 * f);
  w[0] = (e / r) * E2;
  w[1] = e;
  w[2] = e * r * E2;
  w[3] = e * r * r * E8;
  return i;
}

function binCoordinate(rho: number): number {
  return (Math.log(rho) - PDF_LOG_MIN) / PDF_LOG_WIDTH - 0.5;
}

/** Smoothed histogram of ln ρ (per voxel, summed with weight 1/V) into `h`. */
function softHistogram(rho: Float32Array, h: Float64Array): void {
  h.fill(0);
  const inv = 1 / rho.length;
  const w = new Float64Array(4);
  for (let j = 0; j < rho.length; j++) {
    if (!(rho[j] > 0)) continue;
    const i = kernelWeights(binCoordinate(rho[j]), w);
    for (let k = 0; k < 4; k++) {
      const m = i - 1 + k;
      if (m >= 0 && m < PDF_BINS) h[m] += w[k] * inv;
    }
  }
}

/** Adds Σ_m g_m ∂h_m/∂ρ_j to out[j]. */
function softHistogramGradient(rho: Float32Array, g: Float64Array, out: Float32Array): void {
  // ∂/∂t exp(−2(t − m)²) = −4 (t − m) exp(…); t = (ln ρ − u0)/Δ − ½, ∂t/∂ρ = 1/(Δ ρ).
  const inv = 1 / rho.length;
  const w = new Float64Array(4);
  for (let j = 0; j < rho.length; j++) {
    if (!(rho[j] > 0)) continue;
    const t = binCoordinate(rho[j]);
    const i = kernelWeights(t, w);
    let s = 0;
    for (let k = 0; k < 4; k++) {
      const m = i - 1 + k;
      if (m >= 0 && m < PDF_BINS) s += g[m] * -4 * (t - m) * w[k];
    }
    out[j] += (s * inv) / (PDF_LOG_WIDTH * rho[j]);
  }
}

/** Mean and sample variance (n − 1) of `values`. */
function meanAndVarianceOf(values: ArrayLike<number>): { mean: number; variance: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - mean) ** 2;
  return { mean, variance: v / Math.max(1, n - 1) };
}

/** Mean and sample variance of column k of `rows`. */
function meanAndVariance(rows: Float64Array[], k: number): { mean: number; variance: number } {
  return meanAndVarianceOf(rows.map((r) => r[k]));
}

function concatenate(fields: Float32Array[]): Float32Array {
  const out = new Float32Array(fields.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of fields) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Measures the targets on `cubes` fields of c (each side³, from `next`, `count` in all). */
export function statisticsTargets(
  side: number,
  kappa: number,
  cap: number,
  batches: Iterable<Float32Array>,
): StatisticsTargets {
  const fields = new FieldStatistics(side);
  try {
    const v = side ** 3;
    const rho = new Float32Array(v);
    const dRho = new Float32Array(v);
    const powers: Float64Array[] = [];
    const pdfs: Float64Array[] = [];
    const lnMeans: number[] = [];
    for (const batch of batches)
      for (let i = 0; i < batch.length / v; i++) {
        densities(batch.subarray(i * v, (i + 1) * v), kappa, cap, rho, dRho);
        const p = new Float64Array(fields.shells);
        fields.power(rho, p);
        const h = new Float64Array(PDF_BINS);
        softHistogram(rho, h);
        powers.push(p);
        pdfs.push(h);
        lnMeans.push(Math.log(meanDensity(rho)));
      }
    if (powers.length < 2) throw new RangeError("statistics targets need at least 2 cubes");
    const meanPower = new Float64Array(fields.shells);
    const powerVariance = new Float64Array(fields.shells);
    const powerSlope = new Float64Array(fields.shells);
    const residualVariance = new Float64Array(fields.shells);
    for (let b = 0; b < fields.shells; b++) {
      const s = meanAndVariance(powers, b);
      meanPower[b] = s.mean;
      powerVariance[b] = s.variance;
      const fit = lineFit(
        powers.map((p) => Math.log(p[b])),
        lnMeans,
      );
      powerSlope[b] = fit.slope;
      // The sample variance (n − 1) of the residuals.
      residualVariance[b] = fit.residualSumOfSquares / Math.max(1, powers.length - 1);
    }
    const pdfMean = new Float64Array(PDF_BINS);
    const pdfSpread = new Float64Array(PDF_BINS);
    const bins: number[] = [];
    // A kernel of unit height and σ = half a bin holds ≈ 1.25 voxels' weight per voxel in range.
    const kernelMass = (PDF_SIGMA * Math.sqrt(2 * Math.PI)) / PDF_LOG_WIDTH;
    for (let m = 0; m < PDF_BINS; m++) {
      const s = meanAndVariance(pdfs, m);
      pdfMean[m] = s.mean;
      pdfSpread[m] = Math.sqrt(s.variance);
      if ((s.mean * v) / kernelMass >= MIN_VOXELS_PER_CUBE && s.variance > 0) bins.push(m);
    }
    return {
      side,
      kappa,
      cap,
      meanPower,
      powerVariance,
      cubePowers: powers,
      powerSlope,
      residualVariance,
      lnMeanVariance: meanAndVarianceOf(lnMeans).variance,
      pdfMean,
      pdfSpread,
      pdfBins: Int32Array.from(bins),
      cubes: powers.length,
    };
  } finally {
    fields.dispose();
  }
}

/**
 * L_M = [ln R / ln 1.25]² with R = B · Var_x(c̄) / ⟨Var_x(c_i)⟩_i, c̄ the batch-mean field of the
 * scaled outputs. Independent draws of a statistically homogeneous field have E[c̄(x)] the same at
 * every voxel, so E[Var_x(c̄)] = ⟨Var_x(c_i)⟩ / B and R ≈ 1; a pattern every sample shares (the
 * fixed-phase checkerboard of stride-2 transposed convolutions, quiet edges) makes R > 1 — it
 * puts power at the same modes of every sample, (8, 0, 0) of a 32³ output being 100× its shell.
 * Measured on c, which is bounded, so a single dense peak does not dominate. Exact gradient:
 * ∂ln R/∂c_i(x) = 2/(B N³) [(c̄(x) − ⟨c̄⟩)/Var_x(c̄) − (c_i(x) − ⟨c_i⟩)/⟨Var_x(c_i)⟩].
 */
export function batchCoherence(
  c: Float32Array,
  batch: number,
  voxels: number,
): { loss: number; ratio: number; gradient: Float64Array } {
  const mean = new Float64Array(voxels);
  const fieldMean = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    let s = 0;
    for (let j = 0; j < voxels; j++) {
      const x = c[i * voxels + j];
      mean[j] += x / batch;
      s += x;
    }
    fieldMean[i] = s / voxels;
  }
  let meanOfMean = 0;
  for (let j = 0; j < voxels; j++) meanOfMean += mean[j] / voxels;
  let varMean = 0;
  for (let j = 0; j < voxels; j++) varMean += (mean[j] - meanOfMean) ** 2 / voxels;
  let varFields = 0;
  for (let i = 0; i < batch; i++)
    for (let j = 0; j < voxels; j++) varFields += (c[i * voxels + j] - fieldMean[i]) ** 2 / (voxels * batch);
  const gradient = new Float64Array(c.length);
  if (!(varMean > 0) || !(varFields > 0)) return { loss: 0, ratio: NaN, gradient };
  const ratio = (batch * varMean) / varFields;
  const l = Math.log(ratio) / LN_VARIANCE_TOL;
  const scale = (2 * l) / LN_VARIANCE_TOL;
  const a = (2 / (batch * voxels)) * scale;
  for (let i = 0; i < batch; i++)
    for (let j = 0; j < voxels; j++) {
      const o = i * voxels + j;
      gradient[o] = a * ((mean[j] - meanOfMean) / varMean - (c[o] - fieldMean[i]) / varFields);
    }
  return { loss: l * l, ratio, gradient };
}

/**
 * Bias-corrected exponential moving averages (factor α = 1/M) of the batch's P̄_b, s²_b and H̄_m,
 * laid out [weight, P̄ (n_b), s² (n_b), H̄ (bins)] so a checkpoint can hold them exactly.
 */
class RunningStatistics {
  readonly state: Float64Array;

  constructor(
    readonly memory: number,
    private readonly shells: number,
  ) {
    this.state = new Float64Array(1 + 2 * shells + PDF_BINS);
  }

  /** Adds a batch and returns the averages (views into a copy normalised by the weight). */
  update(mean: Float64Array, variance: Float64Array, pdf: Float64Array): { mean: Float64Array; variance: Float64Array; pdf: Float64Array } {
    const a = 1 / this.memory;
    const s = this.state;
    const n = this.shells;
    s[0] = (1 - a) * s[0] + a;
    const blend = (offset: number, x: Float64Array) => {
      for (let i = 0; i < x.length; i++) s[offset + i] = (1 - a) * s[offset + i] + a * x[i];
    };
    blend(1, mean);
    blend(1 + n, variance);
    blend(1 + 2 * n, pdf);
    const avg = s.map((v) => v / s[0]);
    return { mean: avg.subarray(1, 1 + n), variance: avg.subarray(1 + n, 1 + 2 * n), pdf: avg.subarray(1 + 2 * n) };
  }

  restore(state: Float64Array): void {
    if (state.length !== this.state.length)
      throw new RangeError(`running statistics hold ${state.length} values, this loss needs ${this.state.length}`);
    this.state.set(state);
  }
}

/** The loss term of a batch of generator outputs c (B × side³) and its gradient. */
export class StatisticsLoss {
  private readonly fields: FieldStatistics;
  private readonly offsets = new Map<number, Float64Array>();
  /** Running averages of L_P's, L_V's and L_H's batch statistics (settings.memory > 0). */
  private readonly running: RunningStatistics | null;
  /** Per-shell weights w_b of L_P and L_V: 1 for the inner shells, outerShellWeight beyond. */
  private readonly shellWeights: Float64Array;

  constructor(
    readonly targets: StatisticsTargets,
    readonly settings: StatisticsLossSettings,
  ) {
    this.fields = new FieldStatistics(targets.side);
    const memory = settings.memory ?? 0;
    if (!(memory === 0 || memory >= 1)) throw new RangeError(`statistics memory must be 0 or ≥ 1, got ${memory}`);
    this.running = memory > 0 ? new RunningStatistics(memory, this.fields.shells) : null;
    const inner = settings.innerShells ?? this.fields.shells;
    this.shellWeights = Float64Array.from({ length: this.fields.shells }, (_, b) =>
      b < inner ? 1 : (settings.outerShellWeight ?? 1),
    );
  }


  get keepsRunningAverages(): boolean {
    return this.running !== null;
  }

  /** The running averages' state (null without memory), for a checkpoint. */
  runningState(): Float64Array | null {
    return this.running ? Float64Array.from(this.running.state) : null;
  }

  restoreRunning(state: Float64Array): void {
    if (!this.running) throw new RangeError("this statistics loss keeps no running averages");
    this.running.restore(state);
  }

  /** L_V's per-shell β_B for a batch of B (null: the Gaussian value), measured once per B. */
  varianceOffset(batch: number): Float64Array | null {
    if (this.settings.varianceOffset !== "empirical") return null;
    let o = this.offsets.get(batch);
    if (!o) {
      o = empiricalLogVarianceOffset(this.targets.cubePowers, this.targets.powerVariance, batch);
      this.offsets.set(batch, o);
    }
    return o;
  }

  evaluate(c: Float32Array): StatisticsEvaluation {
    const t = this.targets;
    const f = this.fields;
    const v = f.voxels;
    const batch = c.length / v;
    if (!Number.isInteger(batch) || batch < 2)
      throw new RangeError(`statistics loss needs ≥ 2 fields of ${t.side}³, got ${c.length} values`);
    const nb = f.shells;
    const rho = Array.from({ length: batch }, () => new Float32Array(v));
    const dRho = Array.from({ length: batch }, () => new Float32Array(v));
    const powers: Float64Array[] = [];
    const pdfs: Float64Array[] = [];
    for (let i = 0; i < batch; i++) {
      densities(c.subarray(i * v, (i + 1) * v), t.kappa, t.cap, rho[i], dRho[i]);
      const p = new Float64Array(nb);
      f.power(rho[i], p);
      powers.push(p);
      const h = new Float64Array(PDF_BINS);
      softHistogram(rho[i], h);
      pdfs.push(h);
    }
    // Loss parts and their derivatives with respect to each field's P_b and h_m.
    const dMean = new Float64Array(nb);
    const dVar = new Float64Array(nb);
    const dScatterVar = new Float64Array(nb);
    const stats = Array.from({ length: nb }, (_, b) => meanAndVariance(powers, b));
    const bias = logVarianceBias(batch);
    const pdfBatch = new Float64Array(PDF_BINS);
    for (const h of pdfs) for (let m = 0; m < PDF_BINS; m++) pdfBatch[m] += h[m];
    for (let m = 0; m < PDF_BINS; m++) pdfBatch[m] /= batch;
    // The estimates the parts compare with the targets: the batch's, or the running averages
    // (whose s² needs no offset: an average of many unbiased s² is unbiased, and nearly so its log).
    const est = this.running
      ? this.running.update(
          Float64Array.from(stats, (x) => x.mean),
          Float64Array.from(stats, (x) => x.variance),
          pdfBatch,
        )
      : { mean: Float64Array.from(stats, (x) => x.mean), variance: Float64Array.from(stats, (x) => x.variance), pdf: pdfBatch };
    const offset = this.running ? new Float64Array(nb) : this.varianceOffset(batch);
    const np = shellNorm(
      Float64Array.from(est.mean, (m, b) => Math.log(m / t.meanPower[b]) / LN_POWER_TOL),
      this.shellWeights,
      this.settings.shellNorm ?? 2,
    );
    const nv = shellNorm(
      Float64Array.from(
        est.variance,
        (v, b) => (Math.log(v / t.powerVariance[b]) - (offset ? offset[b] : bias)) / LN_VARIANCE_TOL,
      ),
      this.shellWeights,
      this.settings.shellNorm ?? 2,
    );
    const power = np.value;
    const variance = nv.value;
    const scatterWeight = this.settings.scatterWeight ?? 0;
    // L_S: s_b = ln(Var/P̄²) − ln(Var_N/P̄_N²); ∂s/∂ln Var = 1, ∂s/∂ln P̄ = −2.
    const ns = shellNorm(
      Float64Array.from(
        est.variance,
        (v, b) =>
          (Math.log(v / est.mean[b] ** 2) -
            Math.log(t.powerVariance[b] / t.meanPower[b] ** 2) -
            (offset ? offset[b] : bias)) /
          LN_VARIANCE_TOL,
      ),
      this.shellWeights,
      this.settings.shellNorm ?? 2,
    );
    for (let b = 0; b < nb; b++) {
      const ds = (scatterWeight * ns.d[b]) / LN_VARIANCE_TOL;
      dMean[b] = np.d[b] / LN_POWER_TOL / (est.mean[b] * batch) - (2 * ds) / (est.mean[b] * batch);
      // L_S reaches P_ib through Var as L_V does, but under its own weight (dVar gets w_V below).
      dVar[b] = nv.d[b] / LN_VARIANCE_TOL / est.variance[b];
      dScatterVar[b] = ds / est.variance[b];
    }
    let pdf = 0;
    const dPdf = new Float64Array(PDF_BINS);
    const nm = t.pdfBins.length;
    for (const m of t.pdfBins) {
      const e = (est.pdf[m] - t.pdfMean[m]) / t.pdfSpread[m];
      pdf += e * e;
      dPdf[m] = (2 * e) / t.pdfSpread[m] / (nm * batch);
    }
    pdf /= Math.max(1, nm);

    const { weight, varianceWeight } = this.settings;
    const homogeneityWeight = this.settings.homogeneityWeight ?? 0;
    const coherenceWeight = this.settings.coherenceWeight ?? 0;
    const pdfWeight = this.settings.pdfWeight ?? 1;
    const massWeight = this.settings.massWeight ?? 0;
    const environmentWeight = this.settings.environmentWeight ?? 0;
    const onDensity = this.settings.homogeneityOf === "density";
    const kM = weight * homogeneityWeight;
    const coherence = onDensity ? batchCoherence(concatenate(rho), batch, v) : batchCoherence(c, batch, v);
    const env = this.environment(powers, rho, bias);
    // The batch-mean field ρ̄(x), shared by L_K and L_ρ.
    const meanField = new Float32Array(v);
    for (const r of rho) for (let j = 0; j < v; j++) meanField[j] += r[j] / batch;
    // L_ρ: ⟨ρ⟩ = the mean of the fields' means (L_E's m_i), so ∂L_ρ/∂ρ_ij = 2 ln⟨ρ⟩ / (ln²1.1 ⟨ρ⟩ B V) at every voxel.
    const meanDensity = meanAndVarianceOf(env.means).mean;
    const lm = Math.log(meanDensity) / LN_POWER_TOL;
    const mass = lm * lm;
    const gMass = (weight * massWeight * 2 * lm) / (LN_POWER_TOL * meanDensity * batch * v);
    // L_K: independent draws give E P_b(ρ̄) = P̄_b / B (+ the mean's own shell power, 0 for
    // b ≥ 1), so ln R_b ≈ 0; its derivative reaches every field through ρ̄ (1/B each) and
    // through the mean power P̄_b (folded into that field's shell weights below).
    const meanPower = new Float64Array(nb);
    f.power(meanField, meanPower);
    let spectral = 0;
    const dK = new Float64Array(nb);
    for (let b = 0; b < nb; b++) {
      const lr = Math.log((batch * meanPower[b]) / stats[b].mean) / LN_VARIANCE_TOL;
      spectral += lr * lr;
      dK[b] = (2 * lr) / LN_VARIANCE_TOL / nb;
    }
    spectral /= nb;
    const gMean = new Float32Array(v);
    if (coherenceWeight > 0) {
      const gk = Float64Array.from(dK, (d, b) => (weight * coherenceWeight * d) / (meanPower[b] * batch));
      f.powerGradient(gk, gMean);
    }
    const gradient = new Float32Array(c.length);
    const g = new Float64Array(nb);
    const gh = new Float64Array(PDF_BINS);
    const gRho = f.scratch();
    const kE = weight * environmentWeight;
    const fixedPower = this.settings.coherenceFixedPower === true;
    for (let i = 0; i < batch; i++) {
      // L_E reaches field i through its P_b and its mean m_i (∂m/∂ρ_j = 1/V at every voxel).
      const gEnv = (kE * env.dMean[i]) / v;
      for (let b = 0; b < nb; b++)
        g[b] =
          weight *
            (dMean[b] +
              (varianceWeight * dVar[b] + dScatterVar[b]) * ((2 * (powers[i][b] - stats[b].mean)) / (batch - 1)) -
              (fixedPower ? 0 : (coherenceWeight * dK[b]) / (stats[b].mean * batch))) +
          kE * env.dPower[i][b];
      f.power(rho[i], powers[i]);
      f.powerGradient(g, gRho);
      for (let m = 0; m < PDF_BINS; m++) gh[m] = weight * pdfWeight * dPdf[m];
      softHistogramGradient(rho[i], gh, gRho);
      const out = gradient.subarray(i * v, (i + 1) * v);
      const d = dRho[i];
      // L_M's gradient is with respect to the fields it measured: ρ (then through dρ/dc) or c.
      const gM = coherence.gradient.subarray(i * v, (i + 1) * v);
      for (let j = 0; j < v; j++) {
        const m = kM * gM[j];
        out[j] = onDensity ? (gRho[j] + gMean[j] + gMass + gEnv + m) * d[j] : (gRho[j] + gMean[j] + gMass + gEnv) * d[j] + m;
      }
    }
    return {
      loss:
        weight *
        (power +
          varianceWeight * variance +
          pdfWeight * pdf +
          homogeneityWeight * coherence.loss +
          coherenceWeight * spectral +
          massWeight * mass +
          environmentWeight * env.loss +
          scatterWeight * ns.value),
      power,
      variance,
      pdf,
      homogeneity: coherence.loss,
      coherence: spectral,
      mass,
      environment: env.loss,
      scatter: ns.value,
      gradient,
    };
  }

  /**
   * L_E with its derivatives ∂L_E/∂P_ib and ∂L_E/∂m_i, where q_ib = ln P_ib − a_b ln m_i and m_i
   * is field i's mean density: ∂L_E/∂s²_b = 2 l_b / (ln 1.25 · s²_b · n_b),
   * ∂s²_b/∂q_ib = 2 (q_ib − q̄_b)/(B − 1), ∂q/∂P = 1/P, ∂q/∂m = −a_b/m; the same for s²_m of
   * ln m_i (without the 1/n_b). A shell where a field has P_b = 0, or a batch with a field of
   * m = 0 (uniform, empty), has no finite variance of logs and is left out, derivatives too.
   */
  private environment(
    powers: Float64Array[],
    rho: Float32Array[],
    bias: number,
  ): { loss: number; dPower: Float64Array[]; dMean: Float64Array; means: Float64Array } {
    const t = this.targets;
    const batch = powers.length;
    const nb = this.fields.shells;
    const means = Float64Array.from(rho, meanDensity);
    const lnMeans = means.map(Math.log);
    const dPower = powers.map(() => new Float64Array(nb));
    const dMean = new Float64Array(batch);
    // ∂ of a part [(ln(s²/σ²) − β)/ln 1.25]² / n with respect to each of the B values behind s².
    const part = (values: Float64Array, target: number, n: number): { loss: number; d: Float64Array } | null => {
      const { mean, variance } = meanAndVarianceOf(values);
      if (!(variance > 0) || !(target > 0)) return null;
      const l = (Math.log(variance / target) - bias) / LN_VARIANCE_TOL;
      const dv = (2 * l) / LN_VARIANCE_TOL / (variance * n);
      return { loss: (l * l) / n, d: values.map((x) => (dv * 2 * (x - mean)) / (batch - 1)) };
    };
    let loss = 0;
    for (let b = 0; b < nb; b++) {
      const q = Float64Array.from(powers, (p, i) => Math.log(p[b]) - t.powerSlope[b] * lnMeans[i]);
      const r = part(q, t.residualVariance[b], nb);
      if (!r) continue;
      loss += r.loss;
      for (let i = 0; i < batch; i++) {
        dPower[i][b] = r.d[i] / powers[i][b];
        dMean[i] -= (r.d[i] * t.powerSlope[b]) / means[i];
      }
    }
    const r = part(lnMeans, t.lnMeanVariance, 1);
    if (r) {
      loss += r.loss;
      for (let i = 0; i < batch; i++) dMean[i] += r.d[i] / means[i];
    }
    return { loss, dPower, dMean, means };
  }

  dispose(): void {
    this.fields.dispose();
  }
}
