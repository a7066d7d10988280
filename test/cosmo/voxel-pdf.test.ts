import { describe, expect, it } from "vitest";
import { conditionalCounts, countPdf, densityPdf } from "../../src/cosmo/voxel-pdf.js";
import { uniformRng, whiteNoise } from "./random-fields.js";

/** Φ(x) from erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe("voxel PDFs", () => {
  it("recovers a log-normal 1 + δ bin by bin (χ² with Poisson errors)", () => {
    const sigma = 0.8;
    const cells = 40000;
    const g = whiteNoise(cells, 11);
    const delta = g.map((v) => Math.exp(sigma * v - (sigma * sigma) / 2) - 1);
    const pdf = densityPdf(delta, { min: 0.05, max: 20, bins: 26 });
    let chi2 = 0;
    let dof = 0;
    for (const b of pdf.bins) {
      const p = (x: number) => normalCdf((Math.log(x) + (sigma * sigma) / 2) / sigma);
      const expected = cells * (p(b.high) - p(b.low));
      if (expected < 10) continue;
      chi2 += (b.count - expected) ** 2 / expected;
      dof++;
      // the density is the count per unit 1 + δ
      expect(b.pdf * cells * (b.high - b.low)).toBeCloseTo(b.count, 6);
    }
    expect(dof).toBeGreaterThan(15);
    expect(chi2 / dof).toBeLessThan(2); // ~20 dof: P(χ²/dof > 2) < 0.5%
    const integral = pdf.bins.reduce((a, b) => a + b.pdf * (b.high - b.low), 0);
    expect(integral + (pdf.underflow + pdf.overflow) / cells).toBeCloseTo(1, 10);
  });

  it("recovers Poisson probabilities of integer counts", () => {
    const lambda = 2.5;
    const cells = 30000;
    const r = uniformRng(5);
    const counts = new Float32Array(cells);
    for (let i = 0; i < cells; i++) {
      // Knuth's multiplication method
      let k = 0;
      let p = r();
      while (p > Math.exp(-lambda)) {
        k++;
        p *= r();
      }
      counts[i] = k;
    }
    const pdf = countPdf(counts);
    let chi2 = 0;
    let dof = 0;
    let fact = 1;
    for (const b of pdf.bins) {
      if (b.centre > 0) fact *= b.centre;
      const pn = (Math.exp(-lambda) * lambda ** b.centre) / fact;
      if (cells * pn < 10) continue;
      chi2 += (b.count - cells * pn) ** 2 / (cells * pn);
      dof++;
      expect(Math.abs(b.pdf - pn)).toBeLessThan(5 * Math.sqrt(pn / cells));
    }
    expect(chi2 / dof).toBeLessThan(3);
    expect(pdf.bins.reduce((a, b) => a + b.pdf, 0)).toBeCloseTo(1, 12);
  });

  it("puts 1 + δ ≤ 0 and out-of-range values into underflow and overflow", () => {
    const pdf = densityPdf(Float32Array.from([-1, -2, 0, 500]), { min: 0.1, max: 10, bins: 2 });
    expect(pdf.underflow).toBe(2);
    expect(pdf.overflow).toBe(1);
    expect(pdf.bins[0].count + pdf.bins[1].count).toBe(1);
    expect(() => densityPdf([Number.NaN])).toThrow(/NaN/);
  });
});

describe("conditional counts", () => {
  it("tabulates P(N_pred | N_ref), the mean and the scatter per reference count", () => {
    const reference = [0, 0, 1, 1, 1, 2, 5];
    const predicted = [0, 1, 1, 1, 3, 2.2, 1];
    const rows = conditionalCounts(predicted, reference, 2, 3);
    expect(rows.map((r) => r.voxels)).toEqual([2, 3, 1]);
    expect(Array.from(rows[0].probability)).toEqual([0.5, 0.5, 0, 0]);
    expect(Array.from(rows[1].probability)).toEqual([0, 2 / 3, 0, 1 / 3]);
    expect(rows[1].mean).toBeCloseTo(5 / 3, 12);
    expect(rows[1].std).toBeCloseTo(Math.sqrt((1 + 1 + 9) / 3 - 25 / 9), 12);
    expect(rows[2].mean).toBeCloseTo(2.2, 12);
    expect(Array.from(rows[2].probability)).toEqual([0, 0, 1, 0]);
  });
});
