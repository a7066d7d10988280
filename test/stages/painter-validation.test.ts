/**
 * The painter validation on synthetic boxes whose answers are known: a painter equal to the
 * truth, a noiseless mean painter against Poisson-sampled truth (the shot-noise convention), a
 * painter uncorrelated with the truth, and the linear-bias fit.
 */
import { describe, expect, it } from "vitest";
import { poissonSampleCounts } from "../../src/cosmo/bias-baselines.js";
import { crossPowerSpectrum } from "../../src/cosmo/power-spectrum.js";
import {
  DEFAULT_VALIDATION_SETTINGS,
  validatePainter,
  type PaintedBox,
  type PainterValidationSettings,
} from "../../src/stages/painter-validation.js";
import { gaussianField } from "../cosmo/random-fields.js";

const n = 32;
const box = 128;
const settings = (over: Partial<PainterValidationSettings> = {}): PainterValidationSettings => ({
  ...DEFAULT_VALIDATION_SETTINGS,
  baselineFit: "held-out",
  threads: 1,
  ...over,
});
const deltaOf = (seed: number, amplitude: number) =>
  gaussianField(n, box, (k) => amplitude * Math.pow(k / 0.1, -1.2), seed);
/** λ = n̄ (1 + b δ) (clipped at 0) and Poisson counts of it. */
function linearBox(
  name: string,
  seed: number,
  nbar: number,
  b: number,
  amplitude = 1500,
): PaintedBox & { mean: Float32Array } {
  const delta = deltaOf(seed, amplitude);
  const mean = delta.map((d) => nbar * Math.max(0, 1 + b * d));
  const truth = poissonSampleCounts(mean, seed, 1);
  return { name, side: n, boxSize: box, delta, truth: [truth], painted: [mean], mean };
}

describe("painter validation", () => {
  it("a painter equal to the truth has T = 1, r_c = 1, s = 0 and passes every check (no shot noise)", () => {
    const b = linearBox("a", 1, 2, 1.5);
    const v = validatePainter([{ ...b, painted: [b.truth[0]] }], settings({ shotNoise: "none" }), ["all"]);
    const c = v.channels[0].combined;
    expect(c.k.length).toBeGreaterThan(10);
    for (let i = 0; i < c.k.length; i++) {
      expect(c.painter.transfer[i]).toBeCloseTo(1, 6);
      expect(c.painter.correlation[i]).toBeCloseTo(1, 6);
      expect(Math.abs(c.painter.stochasticity[i])).toBeLessThan(1e-6 * c.truth.power[i]);
      // Without shot-noise subtraction no predictor can correlate better than perfectly.
      expect(c.linearBias.correlation[i]).toBeLessThanOrEqual(1 + 1e-9);
      expect(c.localBias.correlation[i]).toBeLessThanOrEqual(1 + 1e-9);
    }
    const checks = v.channels[0].checks;
    expect(checks.correlation.passed).toBe(true);
    expect(checks.transfer.passed).toBe(true);
    expect(checks.stochasticity.passed).toBe(true);
    expect(checks.stochasticity.shells).toBe(1); // k_F = 0.049: one shell at k ≤ 0.1
    expect(v.passed).toBe(true);
    // Conditional distribution of the identity painter: painted = true in every voxel.
    for (const r of c.conditional) expect([r.mean, r.p16, r.p50, r.p84]).toEqual(Array(4).fill(r.trueCount));
  });

  it("a noiseless mean painter against Poisson truth: T ≈ 1 after subtracting V/N, T < 1 without", () => {
    const nbar = 4;
    // A small amplitude (σ_δ ≈ 0.13 per voxel) keeps 1 + bδ > 0, so λ is exactly linear in δ.
    const boxes = [linearBox("a", 2, nbar, 1.2, 10), linearBox("b", 3, nbar, 1.2, 10)];
    for (const bx of boxes) expect(bx.mean.every((v) => v > 0)).toBe(true);
    const poisson = validatePainter(boxes, settings(), ["all"]).channels[0];
    const none = validatePainter(boxes, settings({ shotNoise: "none" }), ["all"]).channels[0];
    const p = poisson.combined;
    const shot = p.truth.shotNoise;
    const totals = boxes.map((bx) => bx.truth[0].reduce((a, v) => a + v, 0));
    expect(shot).toBeCloseTo((box ** 3 / totals[0] + box ** 3 / totals[1]) / 2, 9);
    expect(poisson.simulations.map((s) => s.name)).toEqual(["a", "b"]);
    let checked = 0;
    for (let i = 0; i < p.k.length; i++) {
      if (p.modes[i] < 100) continue;
      // P_hh,raw scatters by ≈ P_hh,raw / sqrt(M) (M modes over both boxes); T = sqrt(P_pp / (P_hh,raw − N)).
      const raw = p.truth.power[i] + shot;
      const sigmaT = (0.5 * raw) / p.truth.power[i] / Math.sqrt(p.modes[i]);
      expect(Math.abs(p.painter.transfer[i] - 1)).toBeLessThan(5 * sigmaT);
      // Without the subtraction T² = P_pp / P_hh,raw: biased low by the shot noise.
      expect(none.combined.painter.transfer[i]).toBeCloseTo(Math.sqrt(p.painter.power[i] / raw), 9);
      expect(none.combined.painter.transfer[i]).toBeLessThan(p.painter.transfer[i]);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
    // The fitted bias is the input's b within the error the truth's shot noise allows:
    // per mode Re(n δ*) has variance N P_δ / 2.
    let varNum = 0;
    let den = 0;
    for (const bx of boxes) {
      const t = crossPowerSpectrum(bx.delta, bx.delta, [n, n, n], { boxSize: box, threads: 1 });
      for (let i = 0; i < t.k.length; i++)
        if (t.k[i] <= 0.1) {
          varNum += (t.modes[i] * shot * t.power[i]) / 2;
          den += t.modes[i] * t.power[i];
        }
    }
    expect(Math.abs(poisson.baselines.linearBias.bias - 1.2)).toBeLessThan(4 * (Math.sqrt(varNum) / den));
    // Combined spectra are the means of the simulations'.
    expect(p.truth.power[3]).toBeCloseTo(
      (poisson.simulations[0].truth.power[3] + poisson.simulations[1].truth.power[3]) / 2,
      9,
    );
  });

  it("an uncorrelated painter fails the correlation and stochasticity checks", () => {
    const b = linearBox("a", 4, 2, 1.5);
    const other = linearBox("x", 5, 2, 1.5);
    const v = validatePainter([{ ...b, painted: other.painted }], settings(), ["all"]).channels[0];
    expect(v.checks.correlation.passed).toBe(false);
    expect(v.checks.correlation.failingK.length).toBe(v.checks.correlation.shells);
    expect(v.checks.stochasticity.passed).toBe(false);
    expect(v.passed).toBe(false);
    expect(v.checks.correlation.worst?.value).toBeLessThan(0.5);
  });

  it("fits the baselines on separate boxes when given", () => {
    const held = linearBox("held", 7, 4, 1.2, 10);
    const fit = linearBox("fit", 8, 4, 2.0, 10);
    const v = validatePainter([held], settings(), ["all"], [fit]).channels[0];
    const own = validatePainter([fit], settings(), ["all"]).channels[0];
    expect(v.baselines.linearBias.bias).toBe(own.baselines.linearBias.bias);
    expect(v.baselines.localBias).toEqual(own.baselines.localBias);
    expect(v.simulations.map((s) => s.name)).toEqual(["held"]);
  });

  it("samples baselines deterministically from the seed and refuses boxes of different grids", () => {
    const b = linearBox("a", 6, 1, 1);
    const one = validatePainter([b], settings({ seed: 3 }), ["all"]);
    const two = validatePainter([b], settings({ seed: 3 }), ["all"]);
    const other = validatePainter([b], settings({ seed: 4 }), ["all"]);
    expect(two.channels[0].combined.localBias.power).toEqual(one.channels[0].combined.localBias.power);
    expect(other.channels[0].combined.localBias.power).not.toEqual(one.channels[0].combined.localBias.power);
    const small = { ...b, name: "s", side: 16, delta: b.delta.subarray(0, 16 ** 3) };
    expect(() => validatePainter([b, small], settings(), ["all"])).toThrow(
      /s: grid 16³ over 128 Mpc\/h differs/,
    );
  });
});
