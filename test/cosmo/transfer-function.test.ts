import { describe, expect, it } from "vitest";
import { type Cosmology, DEFAULT_COSMOLOGY, makeCosmology } from "../../src/cosmo/cosmology.js";
import {
  type TransferModel,
  eisensteinHuScales,
  transferFunction,
} from "../../src/cosmo/transfer-function.js";

/** EH98 no-wiggle form written out again from the paper, eqs 26 and 28–31, k in h/Mpc. */
function noWiggleFromPaper(c: Cosmology, kHMpc: number): number {
  const omh2 = c.omegaM * c.h ** 2;
  const obh2 = c.omegaB * c.h ** 2;
  const fb = c.omegaB / c.omegaM;
  const theta = c.tCmb / 2.7;
  const s = (44.5 * Math.log(9.83 / omh2)) / Math.sqrt(1 + 10 * obh2 ** 0.75); // eq 26, Mpc
  const alphaGamma = 1 - 0.328 * Math.log(431 * omh2) * fb + 0.38 * Math.log(22.3 * omh2) * fb ** 2; // eq 31
  const kMpc = kHMpc * c.h;
  const gammaEff = c.omegaM * c.h * (alphaGamma + (1 - alphaGamma) / (1 + (0.43 * kMpc * s) ** 4)); // eq 30
  const q = (kHMpc * theta ** 2) / gammaEff; // eq 28
  const l0 = Math.log(2 * Math.E + 1.8 * q);
  const c0 = 14.2 + 731 / (1 + 62.5 * q);
  return l0 / (l0 + c0 * q * q); // eq 29
}

const logGrid = (k0: number, k1: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => k0 * Math.pow(k1 / k0, i / (n - 1)));

const planck = makeCosmology({ omegaM: 0.143 / 0.6736 ** 2, omegaB: 0.02237 / 0.6736 ** 2, h: 0.6736 });

describe("Eisenstein & Hu (1998) transfer functions", () => {
  it("no-wiggle form equals the paper's closed form (eqs 26–31) to 1e-13", () => {
    for (const c of [DEFAULT_COSMOLOGY, planck, makeCosmology({ omegaM: 0.25, omegaB: 0.06, h: 0.72 })]) {
      for (const k of logGrid(1e-4, 50, 40)) {
        expect(
          Math.abs(transferFunction(c, k, "eisenstein-hu-nowiggle") / noWiggleFromPaper(c, k) - 1),
        ).toBeLessThan(1e-13);
      }
    }
  });

  it.each<TransferModel>(["eisenstein-hu", "eisenstein-hu-nowiggle"])("%s tends to 1 as k → 0", (model) => {
    const c = DEFAULT_COSMOLOGY;
    expect(transferFunction(c, 0, model)).toBe(1);
    expect(Math.abs(transferFunction(c, 1e-7, model) - 1)).toBeLessThan(1e-6);
    expect(Math.abs(transferFunction(c, 1e-4, model) - 1)).toBeLessThan(1e-3);
    expect(transferFunction(c, 1e-3, model)).toBeLessThan(transferFunction(c, 1e-4, model));
  });

  it("sound horizon: eq 6 gives 150.8 Mpc for Planck 2018 (ω_m 0.143, ω_b 0.02237), within 3% of its r_drag = 147.09 Mpc, and eq 26 agrees with eq 6 to 1%", () => {
    const s = eisensteinHuScales(planck);
    expect(Math.abs(s.soundHorizon / 147.09 - 1)).toBeLessThan(0.03);
    expect(Math.abs(s.soundHorizonFit / s.soundHorizon - 1)).toBeLessThan(0.01);
    // Drag and equality epochs (eqs 4, 2) vs Planck 2018 (z_drag = 1059.9, z_eq = 3402): EH98's z_d fit
    // runs ~4% low (1021), which with eq 6 is why its s sits ~2.5% above the Boltzmann-code r_drag.
    expect(s.zDrag).toBeGreaterThan(1000);
    expect(s.zDrag).toBeLessThan(1070);
    expect(Math.abs(s.zEquality / 3402 - 1)).toBeLessThan(0.02);
  });

  it("full form oscillates around the no-wiggle form with few-percent BAO at the sound-horizon period", () => {
    const c = DEFAULT_COSMOLOGY;
    const sHMpc = eisensteinHuScales(c).soundHorizon * c.h; // Mpc/h
    const ks = logGrid(0.03, 0.35, 4000);
    const wiggle = ks.map(
      (k) => (transferFunction(c, k) / transferFunction(c, k, "eisenstein-hu-nowiggle")) ** 2 - 1,
    );
    const amplitude = Math.max(...wiggle.map(Math.abs));
    expect(amplitude).toBeGreaterThan(0.02);
    expect(amplitude).toBeLessThan(0.15);
    const maxima: number[] = [];
    for (let i = 1; i < ks.length - 1; i++) {
      if (wiggle[i] > wiggle[i - 1] && wiggle[i] >= wiggle[i + 1] && wiggle[i] > 0) maxima.push(ks[i]);
    }
    // Peaks of sin(k s̃)/(k s̃) recur every Δk = 2π/s once the node shift s̃ → s (eq 22).
    expect(maxima.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < maxima.length; i++) {
      expect(Math.abs((maxima[i] - maxima[i - 1]) / ((2 * Math.PI) / sHMpc) - 1)).toBeLessThan(0.05);
    }
    let signChanges = 0;
    for (let i = 1; i < wiggle.length; i++) if (wiggle[i] * wiggle[i - 1] < 0) signChanges++;
    expect(signChanges).toBeGreaterThanOrEqual(4);
  });

  it("full and no-wiggle agree at high k, where Silk damping has erased the oscillations (within 1.5%)", () => {
    for (const k of logGrid(2, 100, 30)) {
      const ratio =
        transferFunction(DEFAULT_COSMOLOGY, k) /
        transferFunction(DEFAULT_COSMOLOGY, k, "eisenstein-hu-nowiggle");
      expect(Math.abs(ratio - 1)).toBeLessThan(0.015);
    }
  });

  it("the two fits agree to 1% at all k without baryons", () => {
    const c = makeCosmology({ omegaB: 1e-5 });
    for (const k of logGrid(1e-4, 100, 200)) {
      expect(
        Math.abs(transferFunction(c, k) / transferFunction(c, k, "eisenstein-hu-nowiggle") - 1),
      ).toBeLessThan(0.01);
    }
  });

  it("decreases monotonically in the no-wiggle form", () => {
    const ts = logGrid(1e-4, 100, 300).map((k) =>
      transferFunction(DEFAULT_COSMOLOGY, k, "eisenstein-hu-nowiggle"),
    );
    for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeLessThan(ts[i - 1]);
  });

  it("rejects negative or non-finite k and unknown models", () => {
    expect(() => transferFunction(DEFAULT_COSMOLOGY, -0.1)).toThrow(RangeError);
    expect(() => transferFunction(DEFAULT_COSMOLOGY, Number.NaN)).toThrow(RangeError);
    expect(() => transferFunction(DEFAULT_COSMOLOGY, Infinity)).toThrow(RangeError);
    expect(() => transferFunction(DEFAULT_COSMOLOGY, 0.1, "bbks" as TransferModel)).toThrow(
      /unknown transfer model/,
    );
  });
});
