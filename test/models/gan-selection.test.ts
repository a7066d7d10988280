/**
 * The model-selection score of a GAN (models/gan/gan-selection.ts) on fields with known answers:
 *  - scaling δ by f multiplies every P(k) shell by f² and the ensemble variance of P(k) by f⁴
 *    exactly, so a = (f² − 1)/0.1 and c = (f⁴ − 1)/0.25 to rounding;
 *  - the score is below 1 exactly when validate gan's four checks pass (each ratio is the
 *    check's statistic over its bound; the PDF band [p16, p84] is |x − mid| ≤ half-width), over
 *    ensembles that pass and fail each check.
 */
import { describe, expect, it } from "vitest";
import { selectionScore } from "../../src/models/gan/gan-selection.js";
import {
  DEFAULT_GAN_VALIDATION_SETTINGS,
  validateGan,
  type DensityEnsemble,
} from "../../src/stages/gan-validation.js";
import { gaussianField } from "../cosmo/random-fields.js";

const N = 16;
const L = 32;
const settings = { ...DEFAULT_GAN_VALIDATION_SETTINGS, bispectrum: false, threads: 1 };

/** Lognormal ρ with g of the given spectrum, shifted by `shift` in ln ρ. */
function lognormal(count: number, seed0: number, amplitude = 30, shift = 0): DensityEnsemble {
  const fields = Array.from({ length: count }, (_, i) => {
    const g = gaussianField(N, L, (k) => amplitude / (1 + (k / 0.5) ** 2), seed0 + i);
    let v = 0;
    for (const x of g) v += x * x;
    return g.map((x) => Math.exp(x - v / g.length / 2 + shift));
  });
  return { fields, side: N, boxSize: L };
}

describe("GAN selection score", () => {
  const reference = lognormal(120, 1);

  it("δ scaled by f: a = (f² − 1)/0.1 and c = (f⁴ − 1)/0.25 exactly", () => {
    const f = Math.sqrt(1.05);
    const scaled = {
      ...reference,
      fields: reference.fields.map((r) => r.map((x) => 1 + f * (x - 1))),
    };
    const s = selectionScore(validateGan(scaled, reference, settings));
    expect(s.meanPower).toBeCloseTo((f * f - 1) / 0.1, 4);
    expect(s.powerVariance).toBeCloseTo((f ** 4 - 1) / 0.25, 4);
    expect(s.score).toBe(Math.max(s.meanPower, s.pdf, s.powerVariance, s.independence));
  });

  it("score ≤ 1 exactly when validate gan's checks all pass", () => {
    const cases = [
      lognormal(120, 10_001), // same distribution: passes
      lognormal(120, 20_001, 36), // more power: (a) and (c) fail
      lognormal(120, 30_001, 30, Math.log(1.3)), // shifted PDF: (b) fails
      lognormal(120, 40_001, 31), // close
    ];
    const verdicts = cases.map((gan) => {
      const v = validateGan(gan, reference, settings);
      const s = selectionScore(v);
      expect(s.meanPower <= 1).toBe(v.checks.meanPower.passed);
      expect(s.pdf <= 1).toBe(v.checks.pdf.passed);
      expect(s.powerVariance <= 1).toBe(v.checks.powerVariance.passed);
      expect(s.independence <= 1).toBe(v.checks.independence.passed);
      expect(s.score <= 1).toBe(v.passed);
      return v.passed;
    });
    // The set holds both outcomes, so the equivalence was tested both ways.
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });
});
