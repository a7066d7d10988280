import { describe, expect, it } from "vitest";
import { DEFAULT_COSMOLOGY, hubbleE, makeCosmology, omegaMAt } from "../../src/cosmo/cosmology.js";

describe("cosmology parameters", () => {
  it("defaults to the halo painter paper's cosmology (Kodi Ramanah et al. 2019)", () => {
    expect(DEFAULT_COSMOLOGY).toEqual({
      omegaM: 0.315,
      omegaB: 0.049,
      h: 0.68,
      sigma8: 0.81,
      nS: 0.97,
      tCmb: 2.7255,
    });
    expect(makeCosmology()).toEqual(DEFAULT_COSMOLOGY);
  });

  it("applies overrides and returns a frozen object", () => {
    const c = makeCosmology({ omegaM: 0.3, h: 0.7 });
    expect(c.omegaM).toBe(0.3);
    expect(c.h).toBe(0.7);
    expect(c.omegaB).toBe(0.049);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ omegaM: 0 }, "omegaM"],
    [{ omegaM: 1.2 }, "omegaM"],
    [{ omegaB: 0 }, "omegaB"],
    [{ omegaB: 0.4, omegaM: 0.3 }, "omegaB"],
    [{ h: -0.7 }, "h"],
    [{ h: Number.NaN }, "h"],
    [{ sigma8: 0 }, "sigma8"],
    [{ nS: Infinity }, "nS"],
    [{ tCmb: -1 }, "tCmb"],
  ])("rejects %o with a RangeError naming %s", (overrides, name) => {
    expect(() => makeCosmology(overrides)).toThrow(RangeError);
    expect(() => makeCosmology(overrides)).toThrow(new RegExp(`\\b${name}\\b`));
  });
});

describe("flat ΛCDM expansion", () => {
  const c = makeCosmology({ omegaM: 0.3 });

  it("E(0) = 1 and E(z)² = Ω_m (1+z)³ + 1 − Ω_m", () => {
    expect(hubbleE(c, 0)).toBe(1);
    for (const z of [0.5, 1, 3, 100]) {
      expect(hubbleE(c, z) ** 2).toBeCloseTo(0.3 * (1 + z) ** 3 + 0.7, 9);
    }
  });

  it("Ω_m(z) goes from Ω_m today to 1 at high z, and is 1 at all z in Einstein–de Sitter", () => {
    expect(omegaMAt(c, 0)).toBeCloseTo(0.3, 15);
    expect(omegaMAt(c, 1)).toBeCloseTo(2.4 / 3.1, 15);
    expect(omegaMAt(c, 1000)).toBeGreaterThan(1 - 1e-8);
    const eds = makeCosmology({ omegaM: 1 });
    expect(omegaMAt(eds, 2)).toBe(1);
    expect(hubbleE(eds, 3)).toBeCloseTo(8, 14);
  });

  it("rejects z ≤ −1", () => {
    expect(() => hubbleE(c, -1)).toThrow(RangeError);
    expect(() => omegaMAt(c, Number.NaN)).toThrow(RangeError);
  });
});
