import { describe, expect, it } from "vitest";
import { type Cosmology, makeCosmology } from "../../src/cosmo/cosmology.js";
import {
  HUBBLE_DISTANCE_MPC_H,
  SPEED_OF_LIGHT_KM_S,
  comovingDistance,
  redshiftAtComovingDistance,
  scaleFactor,
} from "../../src/cosmo/distance.js";
import { hypergeometric2F1 } from "./hypergeometric-2f1.js";

/** Composite Simpson in z of (c/H0)/E(z) with n (even) intervals: an independent brute-force reference. */
function simpsonDistance(omegaM: number, z: number, n = 200000): number {
  const invE = (zz: number): number => 1 / Math.sqrt(omegaM * (1 + zz) ** 3 + 1 - omegaM);
  const h = z / n;
  let s = invE(0) + invE(z);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * invE(i * h);
  return ((HUBBLE_DISTANCE_MPC_H * h) / 3) * s;
}

/**
 * Closed form: with u = 1/√(1+z) and β = Ω_Λ/Ω_m,
 * χ = (c/H0)(2/√Ω_m)[J(1) − J(u)],  J(u) = u · 2F1(1/2, 1/6; 7/6; −β u⁶).
 */
function closedFormDistance(c: Cosmology, z: number): number {
  const beta = (1 - c.omegaM) / c.omegaM;
  const j = (u: number): number => u * hypergeometric2F1(0.5, 1 / 6, 7 / 6, -beta * u ** 6);
  const u = 1 / Math.sqrt(1 + z);
  return ((HUBBLE_DISTANCE_MPC_H * 2) / Math.sqrt(c.omegaM)) * (j(1) - j(u));
}

describe("comoving distance", () => {
  const lcdm = makeCosmology({ omegaM: 0.3 });

  it("uses c/H0 = 2997.92458 Mpc/h", () => {
    expect(SPEED_OF_LIGHT_KM_S).toBe(299792.458);
    expect(HUBBLE_DISTANCE_MPC_H).toBeCloseTo(2997.92458, 10);
  });

  it("gives χ(z=1) = 2312.68 Mpc/h for Ω_m = 0.3 (= 3303.8 Mpc at h = 0.7), as brute-force Simpson does", () => {
    const reference = simpsonDistance(0.3, 1);
    expect(Math.abs(reference - 2312.68)).toBeLessThan(0.01);
    expect(Math.abs(comovingDistance(lcdm, 1) - reference)).toBeLessThan(1e-6);
    expect(Math.abs(comovingDistance(lcdm, 1) / 0.7 - 3303.8)).toBeLessThan(0.1);
  });

  // The closed form loses digits to the cancellation J(1) − J(u) at low z, so compare absolutely.
  it("equals the hypergeometric closed form to 1e-12 c/H0 over Ω_m and z", () => {
    for (const om of [0.05, 0.2, 0.315, 0.6, 0.95]) {
      const c = makeCosmology({ omegaM: om, omegaB: 0.02 });
      for (const z of [1e-6, 0.01, 0.5, 1, 3, 10, 1100, 1e6]) {
        expect(Math.abs(comovingDistance(c, z) - closedFormDistance(c, z))).toBeLessThan(
          1e-12 * HUBBLE_DISTANCE_MPC_H,
        );
      }
    }
  });

  it("is exactly 2(c/H0)(1 − 1/√(1+z)) in Einstein–de Sitter", () => {
    const eds = makeCosmology({ omegaM: 1 });
    for (const z of [1e-8, 0.1, 1, 5, 1000]) {
      const exact = 2 * HUBBLE_DISTANCE_MPC_H * (1 - 1 / Math.sqrt(1 + z));
      expect(Math.abs(comovingDistance(eds, z) / exact - 1)).toBeLessThan(1e-8);
    }
    expect(comovingDistance(eds, Infinity)).toBeCloseTo(2 * HUBBLE_DISTANCE_MPC_H, 9);
  });

  it("is cz/H0 to first order at low z", () => {
    const z = 1e-7;
    expect(comovingDistance(lcdm, z) / (HUBBLE_DISTANCE_MPC_H * z)).toBeCloseTo(1, 6);
    expect(comovingDistance(lcdm, 0)).toBe(0);
  });

  it("inverts to 1e-10 relative in redshift, from 1e-6 to 1e4", () => {
    for (const om of [0.1, 0.315, 1]) {
      const c = makeCosmology({ omegaM: om, omegaB: 0.04 });
      for (const z of [1e-6, 1e-3, 0.1, 0.5, 1, 2.5, 7, 100, 1e4]) {
        const zBack = redshiftAtComovingDistance(c, comovingDistance(c, z));
        expect(Math.abs(zBack / z - 1)).toBeLessThan(1e-10);
      }
    }
    expect(redshiftAtComovingDistance(lcdm, 0)).toBe(0);
  });

  it("rejects negative z, negative or super-horizon distances", () => {
    expect(() => comovingDistance(lcdm, -0.1)).toThrow(RangeError);
    expect(() => comovingDistance(lcdm, Number.NaN)).toThrow(RangeError);
    expect(() => redshiftAtComovingDistance(lcdm, -1)).toThrow(RangeError);
    expect(() => redshiftAtComovingDistance(lcdm, comovingDistance(lcdm, Infinity) * 1.001)).toThrow(
      /horizon/,
    );
  });
});

describe("scale factor", () => {
  it("is 1/(1+z) and rejects z ≤ −1", () => {
    expect(scaleFactor(0)).toBe(1);
    expect(scaleFactor(3)).toBe(0.25);
    expect(() => scaleFactor(-1)).toThrow(RangeError);
  });
});
