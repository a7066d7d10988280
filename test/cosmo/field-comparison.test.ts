import { describe, expect, it } from "vitest";
import { compareFields } from "../../src/cosmo/field-comparison.js";
import { gaussianField } from "./random-fields.js";

describe("field comparison: T(k), r_c(k), s(k)", () => {
  const n = 32;
  const box = 100;
  const shape = [n, n, n] as const;
  const ref = gaussianField(n, box, (k) => 500 * Math.pow(k / 0.2, -1), 1);

  it("a scaled copy has T = scale, r_c = 1 and no stochasticity", () => {
    const pred = ref.map((v) => 2 * v);
    const c = compareFields(pred, ref, shape, { boxSize: box, threads: 1 });
    for (let i = 0; i < c.k.length; i++) {
      expect(c.transfer[i]).toBeCloseTo(2, 5);
      expect(c.correlation[i]).toBeCloseTo(1, 5);
      expect(Math.abs(c.stochasticity[i])).toBeLessThan(1e-5 * c.powerReference[i]);
    }
  });

  it("independent noise of equal power gives r_c = 1/√2 and s = P_ref/2 within errors", () => {
    // Noise with the reference's spectrum: r_c² = P_ref / (P_ref + P_noise) = 1/2.
    const noise = gaussianField(n, box, (k) => 500 * Math.pow(k / 0.2, -1), 2);
    const pred = ref.map((v, i) => v + noise[i]);
    const c = compareFields(pred, ref, shape, { boxSize: box, threads: 1 });
    let checked = 0;
    for (let i = 0; i < c.k.length; i++) {
      if (c.modes[i] < 200) continue;
      // r̂ of M modes scatters by ≈ (1 − r²)/sqrt(M) around r; s by ≈ P_ref sqrt(2/M)
      expect(Math.abs(c.correlation[i] - Math.SQRT1_2)).toBeLessThan(
        4 * (0.5 / Math.sqrt(c.modes[i])) + 0.01,
      );
      expect(Math.abs(c.stochasticity[i] / c.powerReference[i] - 0.5)).toBeLessThan(
        4 * Math.sqrt(2 / c.modes[i]),
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });
});

describe("field comparison with shot noise on one side", () => {
  const n = 16;
  const box = 64;
  const shape = [n, n, n] as const;
  const ref = gaussianField(n, box, (k) => 300 * Math.pow(k / 0.2, -1), 3);
  const pred = gaussianField(n, box, (k) => 300 * Math.pow(k / 0.2, -1), 4).map((v, i) => v + ref[i]);

  it("subtracts shotNoisePredicted and shotNoiseReference from their own autos only", () => {
    const raw = compareFields(pred, ref, shape, { boxSize: box, threads: 1 });
    const c = compareFields(pred, ref, shape, {
      boxSize: box,
      threads: 1,
      shotNoisePredicted: 10,
      shotNoiseReference: 25,
    });
    for (let i = 0; i < c.k.length; i++) {
      const pp = raw.powerPredicted[i] - 10;
      const pr = raw.powerReference[i] - 25;
      expect(c.powerPredicted[i]).toBeCloseTo(pp, 6);
      expect(c.powerReference[i]).toBeCloseTo(pr, 6);
      expect(c.cross[i]).toBe(raw.cross[i]);
      expect(c.transfer[i]).toBeCloseTo(Math.sqrt(pp / pr), 9);
      const r = raw.cross[i] / Math.sqrt(pp * pr);
      expect(c.correlation[i]).toBeCloseTo(r, 9);
      expect(c.stochasticity[i]).toBeCloseTo(pr * (1 - r * r), 6);
    }
  });
});
