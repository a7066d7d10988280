/**
 * The GAN validation statistics on synthetic fields with known answers (16³ cubes of 32 Mpc/h,
 * k_F = 0.196 h/Mpc, so k ≤ 1 h/Mpc holds the shells j = 1 … 4 with ≥ 13 independent modes):
 *  - for a Gaussian field of flat P the shell estimate P̂ is a mean of m independent exponential
 *    |δ_k|², so Var P̂ = P²/m and different shells are uncorrelated;
 *  - the mean-P(k) check (a) passes between independent ensembles of one spectrum and fails when
 *    one has 20 % more power; the variance check (c) likewise (the variance scales by 1.44);
 *  - the PDF band check (b) passes for two lognormal ensembles of one distribution and fails when
 *    one is shifted;
 *  - independent fields have cross-correlation r ≈ 0 within 1/√(2 m · pairs), a field with itself 1.
 * Tolerances are cosmic-variance errors of the finite ensembles (given at each assertion).
 */
import { describe, expect, it } from "vitest";
import {
  band,
  covariance,
  defaultTriangles,
  ensemblePower,
  meanPowerCheck,
  pdfBandCheck,
  powerVarianceCheck,
  validateGan,
  DEFAULT_GAN_VALIDATION_SETTINGS,
  type DensityEnsemble,
} from "../../src/stages/gan-validation.js";
import { densityPdf } from "../../src/cosmo/voxel-pdf.js";
import { gaussianField } from "../cosmo/random-fields.js";

const N = 16;
const L = 32;
const kF = (2 * Math.PI) / L;

/** ρ = 1 + δ of Gaussian fields (δ may go below −1; P(k) does not care). */
function gaussianEnsemble(count: number, seed0: number, power: (k: number) => number): DensityEnsemble {
  const fields = Array.from({ length: count }, (_, i) => {
    const d = gaussianField(N, L, power, seed0 + i);
    for (let j = 0; j < d.length; j++) d[j] += 1;
    return d;
  });
  return { fields, side: N, boxSize: L };
}

/** Lognormal ρ = exp(g + shift) / ⟨exp(g)⟩ with g Gaussian of variance ≈ 0.5. */
function lognormalEnsemble(count: number, seed0: number, shift = 0): DensityEnsemble {
  const power = (k: number) => 30 / (1 + (k / 0.5) ** 2);
  const fields = Array.from({ length: count }, (_, i) => {
    const g = gaussianField(N, L, power, seed0 + i);
    let v = 0;
    for (const x of g) v += x * x;
    const s2 = v / g.length;
    return g.map((x) => Math.exp(x - s2 / 2 + shift));
  });
  return { fields, side: N, boxSize: L };
}

const shaped = (k: number) => 200 / (1 + (k / 0.4) ** 2);

describe("P(k) ensemble statistics", () => {
  it("Var P̂ = P²/m and uncorrelated shells for a Gaussian field of flat P", () => {
    const M = 1000;
    const e = gaussianEnsemble(M, 1000, () => 50);
    const { k, modes, power } = ensemblePower(e, 1);
    const b = band(power);
    const c = covariance(power);
    let checked = 0;
    for (let i = 0; i < k.length; i++) {
      if (k[i] > 1) continue;
      checked++;
      // Mean: 50 within 4σ = 4 · 50/√(m M).
      expect(Math.abs(b.mean[i] - 50)).toBeLessThan((4 * 50) / Math.sqrt(modes[i] * M));
      // Var P̂ / (P²/m): relative error of a sample variance √((2 + 6/m)/M) ≤ 0.05; 4σ.
      const ratio = c.covariance[i][i] / (50 ** 2 / modes[i]);
      expect(Math.abs(ratio - 1)).toBeLessThan(4 * Math.sqrt((2 + 6 / modes[i]) / M));
      expect(c.correlation[i][i]).toBeCloseTo(1, 12);
      // Different shells: correlation ≈ 0 ± 1/√M.
      for (let j = 0; j < i; j++) expect(Math.abs(c.correlation[i][j])).toBeLessThan(4 / Math.sqrt(M));
    }
    expect(checked).toBe(4);
    expect(b.std[0] ** 2).toBeCloseTo(c.covariance[0][0], 6);
  });

  // 1000 fields per ensemble: the ratio of two shell means has σ ≤ √(2/(13 M)) = 0.013 and the
  // ratio of two variances σ ≤ √(2 (2 + 6/13)/M) = 0.07, so the 10 % and 25 % bounds are ≥ 3.5σ
  // away for equal spectra, and 20 % more power (variance × 1.44) exceeds them by ≥ 2.5σ.
  const M = 1000;
  const reference = ensemblePower(gaussianEnsemble(M, 1, shaped), 1);
  const same = ensemblePower(gaussianEnsemble(M, 100_001, shaped), 1);
  const more = ensemblePower(
    gaussianEnsemble(M, 200_001, (k) => 1.2 * shaped(k)),
    1,
  );
  const ref = band(reference.power);
  const k = reference.k;

  it("check (a): passes for an independent ensemble of the same P(k), fails for 20 % more power", () => {
    const pass = meanPowerCheck(k, band(same.power).mean, ref.mean, 1, 0.1);
    expect(pass.bins).toBe(4);
    expect(pass.passed, JSON.stringify(pass.worst)).toBe(true);
    const fail = meanPowerCheck(k, band(more.power).mean, ref.mean, 1, 0.1);
    expect(fail.passed).toBe(false);
    expect(fail.failingAt).toHaveLength(4);
    // The worst shell's deviation is the 20 % within its noise.
    expect(fail.worst!.value).toBeGreaterThan(0.15);
    expect(fail.worst!.bound).toBe(0.1);
    expect(fail.worst!.at).toBeLessThanOrEqual(1);
  });

  it("check (c): passes for the same spectrum, fails when the variance is 1.44 times larger", () => {
    const v = (p: Float64Array[]) => band(p).std.map((s) => s * s);
    const pass = powerVarianceCheck(k, v(same.power), v(reference.power), 1, 0.25);
    expect(pass.passed, JSON.stringify(pass.worst)).toBe(true);
    const fail = powerVarianceCheck(k, v(more.power), v(reference.power), 1, 0.25);
    expect(fail.passed).toBe(false);
    expect(fail.worst!.value).toBeGreaterThan(0.25);
    // A shell with zero variance (NaN or infinite ratio) fails.
    const zero = powerVarianceCheck(
      k,
      v(same.power),
      v(reference.power).map(() => 0),
      1,
      0.25,
    );
    expect(zero.passed).toBe(false);
  });
});

describe("voxel PDF band check (b)", () => {
  const s = DEFAULT_GAN_VALIDATION_SETTINGS;
  const pdfs = (e: DensityEnsemble) =>
    e.fields.map((f) =>
      densityPdf(
        f.map((x) => x - 1),
        { min: s.pdfMin, max: s.pdfMax, bins: s.pdfBins },
      ),
    );
  const reference = pdfs(lognormalEnsemble(200, 1));
  const bins = reference[0].bins;
  const nb = band(reference.map((p) => p.bins.map((b) => b.pdf)));
  const voxels = bins.map((_, j) => reference.reduce((a, p) => a + p.bins[j].count, 0) / reference.length);
  const run = (e: DensityEnsemble) =>
    pdfBandCheck(
      bins.map((b) => b.low),
      bins.map((b) => b.centre),
      band(pdfs(e).map((p) => p.bins.map((b) => b.pdf))).mean,
      nb,
      voxels,
      0.1,
      5,
    );

  it("passes for an independent ensemble of the same lognormal distribution", () => {
    const r = run(lognormalEnsemble(200, 10_001));
    // Checked bins: lower edge ≥ 0.1 and ≥ 5 voxels per sub-volume on average.
    expect(r.check.bins).toBeGreaterThan(8);
    bins.forEach((b, j) => expect(r.checked[j]).toBe(b.low >= 0.1 * (1 - 1e-12) && voxels[j] >= 5));
    expect(r.check.passed, JSON.stringify(r.check.worst)).toBe(true);
    expect(r.check.variable).toBe("ρ/ρ̄");
  });

  it("fails for a distribution shifted by 30 % in ρ/ρ̄", () => {
    const r = run(lognormalEnsemble(200, 10_001, Math.log(1.3)));
    expect(r.check.passed).toBe(false);
    expect(r.check.failingAt.length).toBeGreaterThan(1);
    const w = r.check.worst!;
    // The worst bin's GAN value lies outside its band edge.
    expect(w.value < w.bound || w.value > w.bound).toBe(true);
  });
});

describe("validateGan", () => {
  it("an ensemble against itself: ratios 1, r = 1, all checks pass; independent pairs r ≈ 0", () => {
    const e = lognormalEnsemble(12, 500);
    const v = validateGan(e, e, { ...DEFAULT_GAN_VALIDATION_SETTINGS, threads: 1 });
    expect(v.samples).toBe(12);
    expect(v.power.ratio.every((r) => Math.abs(r - 1) < 1e-12)).toBe(true);
    expect(v.power.variance.ratio.every((r) => Math.abs(r - 1) < 1e-9)).toBe(true);
    expect(v.checks.meanPower.passed).toBe(true);
    expect(v.checks.powerVariance.passed).toBe(true);
    expect(v.checks.pdf.passed).toBe(true);
    expect(v.checks.independence.passed).toBe(true);
    expect(v.passed).toBe(true);
    expect(v.cross.nbodyGan.pairs).toBe(12);
    expect(v.cross.nbodyGan.mean.every((r) => Math.abs(r - 1) < 1e-6)).toBe(true);
    // GAN × GAN: 6 pairs of independent fields, mean r within 4σ = 4/√(2 m · 6).
    expect(v.cross.ganGan.pairs).toBe(6);
    v.cross.k.forEach((_, i) =>
      expect(Math.abs(v.cross.ganGan.mean[i])).toBeLessThan((4 * v.cross.gaussianScatter[i]) / Math.sqrt(6)),
    );
    const K = v.power.k.length;
    expect(v.power.covariance.gan).toHaveLength(K);
    expect(v.power.correlation.nbody[0]).toHaveLength(K);
    const b = v.bispectrum!;
    expect(b.equilateral.map((t) => t.k1 / kF)).toEqual([2, 3, 4].map((j) => expect.closeTo(j, 9)));
    expect(b.isosceles).toHaveLength(5);
    for (const t of [...b.equilateral, ...b.isosceles]) {
      expect(t.gan.mean[0]).toBe(t.nbody.mean[0]);
      expect(t.triangles).toBeGreaterThan(0);
      expect(Number.isFinite(t.nbody.mean[0])).toBe(true);
    }
  });

  it("check (d) fails when every sample carries the same pattern, at the pattern's shell", () => {
    // Independent lognormal fields plus one shared wave cos(2π·3x/N): every pair shares the
    // power of the modes (±3, 0, 0), so r̄ of shell 3 is far beyond 4 standard errors (6 pairs).
    const e = lognormalEnsemble(12, 700);
    const shared = {
      ...e,
      fields: e.fields.map((f) =>
        f.map((x, j) => x + 0.5 * Math.cos((2 * Math.PI * 3 * Math.floor(j / (N * N))) / N)),
      ),
    };
    const v = validateGan(shared, e, { ...DEFAULT_GAN_VALIDATION_SETTINGS, bispectrum: false, threads: 1 });
    const d = v.checks.independence;
    expect(d.passed).toBe(false);
    expect(v.passed).toBe(false);
    expect(d.worst!.at / kF).toBeCloseTo(3, 0);
    expect(d.worst!.value).toBeGreaterThan(d.worst!.bound);
    // The bound is 4 standard errors of the mean over the 6 pairs.
    const i = v.cross.k.indexOf(d.worst!.at);
    expect(d.worst!.bound).toBeCloseTo((4 * v.cross.ganGan.std[i]) / Math.sqrt(6), 12);
  });

  it("refuses ensembles of fewer than 2 fields or of different boxes", () => {
    const e = lognormalEnsemble(2, 1);
    expect(() => validateGan({ ...e, fields: [e.fields[0]] }, e, DEFAULT_GAN_VALIDATION_SETTINGS)).toThrow(
      /GAN samples: 1 field\(s\); the statistics need at least 2/,
    );
    expect(() => validateGan({ ...e, boxSize: 64 }, e, DEFAULT_GAN_VALIDATION_SETTINGS)).toThrow(
      /over 64 Mpc\/h/,
    );
  });

  it("default triangles stay clear of aliasing: k + k_F/2 ≤ S k_F / 3", () => {
    for (const side of [16, 32, 64, 128]) {
      const t = defaultTriangles(side, side * 2);
      const kf = (2 * Math.PI) / (side * 2);
      for (const c of [...t.equilateral, ...t.isosceles])
        for (const x of [c.k1, c.k2, c.k3]) expect(x + kf / 2).toBeLessThanOrEqual((side * kf) / 3 + 1e-9);
      expect(t.equilateral.length).toBeGreaterThanOrEqual(2);
    }
  });
});
