import { describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import {
  binnedMassFunction,
  massFunction,
  meanMatterDensity,
  multiplicity,
} from "../../src/cosmo/halo-mass-function.js";
import { LinearPower } from "../../src/cosmo/linear-power.js";

describe("halo mass function fits", () => {
  const power = new LinearPower(makeCosmology());

  it("Warren and Jenkins multiplicities agree within ~20% where both are calibrated (0.3 < σ⁻¹ < 2)", () => {
    for (const invSigma of [0.4, 0.7, 1, 1.5, 2]) {
      const r = multiplicity("warren", 1 / invSigma) / multiplicity("jenkins", 1 / invSigma);
      expect(r).toBeGreaterThan(0.8);
      expect(r).toBeLessThan(1.25);
    }
  });

  it("reproduces the published forms at reference points", () => {
    // Jenkins peaks at ln σ⁻¹ = −0.61 with f = 0.315; Warren at σ = 1 is 0.7234·1.2538·e^−1.1982.
    expect(multiplicity("jenkins", Math.exp(0.61))).toBeCloseTo(0.315, 12);
    expect(multiplicity("warren", 1)).toBeCloseTo(0.7234 * 1.2538 * Math.exp(-1.1982), 12);
  });

  it("dn/dlnM decreases with mass, and the mass in haloes above 1e10 is a fraction of ρ̄", () => {
    let prev = Infinity;
    let rhoHalo = 0;
    const h = 0.05;
    for (let lnm = Math.log(1e10); lnm < Math.log(1e16); lnm += h) {
      const m = Math.exp(lnm);
      const n = massFunction(power, "warren", m);
      expect(n).toBeLessThan(prev);
      prev = n;
      rhoHalo += n * m * h;
    }
    const frac = rhoHalo / meanMatterDensity(power.cosmology);
    expect(frac).toBeGreaterThan(0.3);
    expect(frac).toBeLessThan(0.9);
  });

  it("bins a catalog with Poisson errors", () => {
    const bins = binnedMassFunction([1.5e12, 2e12, 5e12, 2e13, 3e14], 100, [1e12, 1e13, 1e14]);
    expect(bins.map((b) => b.count)).toEqual([3, 1]);
    expect(bins[0].dndlnm).toBeCloseTo(3 / 1e6 / Math.log(10), 12);
    expect(bins[0].error).toBeCloseTo(Math.sqrt(3) / 1e6 / Math.log(10), 12);
  });
});
