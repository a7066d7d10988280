import { describe, expect, it } from "vitest";
import { DEFAULT_COSMOLOGY, makeCosmology } from "../../src/cosmo/cosmology.js";
import { growthD1 } from "../../src/cosmo/growth.js";
import { LinearPower, tophatWindow } from "../../src/cosmo/linear-power.js";
import { transferFunction } from "../../src/cosmo/transfer-function.js";

/** Brute-force σ(R): trapezoid in ln k over [1e-5, 1e3] h/Mpc with n points, direct W(kR). */
function sigmaTrapezoid(power: (k: number) => number, r: number, n = 100001): number {
  const a = Math.log(1e-5);
  const h = (Math.log(1e3) - a) / (n - 1);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.exp(a + i * h);
    const x = k * r;
    const w = x < 1e-3 ? 1 : (3 * (Math.sin(x) - x * Math.cos(x))) / x ** 3;
    s += (i === 0 || i === n - 1 ? 0.5 : 1) * k ** 3 * power(k) * w * w;
  }
  return Math.sqrt((s * h) / (2 * Math.PI ** 2));
}

describe("top-hat window", () => {
  it("is 1 at x = 0, even, continuous across its series/direct switch, and vanishes where tan x = x", () => {
    expect(tophatWindow(0)).toBe(1);
    expect(tophatWindow(-2.3)).toBe(tophatWindow(2.3));
    const below = tophatWindow(0.1 - 1e-12);
    const above = tophatWindow(0.1 + 1e-12);
    expect(Math.abs(below - above)).toBeLessThan(1e-13);
    expect(Math.abs(tophatWindow(4.493409457909064))).toBeLessThan(1e-14);
    const x = 1.7;
    expect(tophatWindow(x)).toBeCloseTo((3 * (Math.sin(x) - x * Math.cos(x))) / x ** 3, 15);
  });
});

describe("linear power spectrum", () => {
  const lp = new LinearPower(DEFAULT_COSMOLOGY);

  it("is normalised so that σ(8 Mpc/h) = σ8 to 1e-6, also for other σ8 and the no-wiggle model", () => {
    expect(Math.abs(lp.sigmaR(8) - 0.81)).toBeLessThan(1e-6);
    const other = new LinearPower(makeCosmology({ sigma8: 0.9 }), "eisenstein-hu-nowiggle");
    expect(Math.abs(other.sigmaR(8) - 0.9)).toBeLessThan(1e-6);
  });

  it("σ(R) matches a brute-force trapezoid integration to 1e-8 (the brief asks 1e-5)", () => {
    for (const r of [2, 8, 30]) {
      expect(Math.abs(lp.sigmaR(r) / sigmaTrapezoid((k) => lp.direct(k), r) - 1)).toBeLessThan(1e-8);
    }
  });

  it("σ(R) decreases with R and scales with D1(z)", () => {
    const radii = [1, 2, 4, 8, 16, 32, 64];
    const sig = radii.map((r) => lp.sigmaR(r));
    for (let i = 1; i < sig.length; i++) expect(sig[i]).toBeLessThan(sig[i - 1]);
    expect(lp.sigmaR(8, 1) / lp.sigmaR(8)).toBeCloseTo(growthD1(DEFAULT_COSMOLOGY, 1), 14);
  });

  it("is A k^n_s T(k)² with A fixed by σ8", () => {
    for (const k of [1e-3, 0.02, 0.15, 1]) {
      const t = transferFunction(DEFAULT_COSMOLOGY, k);
      expect(lp.direct(k) / (lp.amplitude * k ** 0.97 * t * t)).toBeCloseTo(1, 14);
    }
    const higher = new LinearPower(makeCosmology({ sigma8: 0.9 }));
    expect(higher.amplitude / lp.amplitude).toBeCloseTo((0.9 / 0.81) ** 2, 10);
  });

  it("tabulated at() agrees with direct evaluation to 1e-8 (the brief asks 1e-6) over the whole k range and beyond", () => {
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const k = 3e-6 * Math.pow(3e3 / 3e-6, (i + 0.5 * Math.sin(i * 1.618)) / 20000);
      worst = Math.max(worst, Math.abs(lp.at(k) / lp.direct(k) - 1));
    }
    expect(worst).toBeLessThan(1e-8);
    expect(lp.at(0)).toBe(0);
  });

  it("grows as P(k, z) = D1(z)² P(k, 0), whatever the order of redshifts", () => {
    for (const z of [0.5, 3, 0.5, 1, 0]) {
      const d = growthD1(DEFAULT_COSMOLOGY, z);
      for (const k of [0.01, 0.1, 0.5]) {
        expect(lp.at(k, z) / (d * d * lp.at(k))).toBeCloseTo(1, 13);
      }
    }
  });

  it("rejects negative or non-finite k and non-positive radii", () => {
    expect(() => lp.at(-0.1)).toThrow(RangeError);
    expect(() => lp.at(Number.NaN)).toThrow(RangeError);
    expect(() => lp.sigmaR(0)).toThrow(RangeError);
    expect(() => lp.at(0.1, -2)).toThrow(RangeError);
  });
});
