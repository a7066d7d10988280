import { describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { numberDensityInRange, massFunction } from "../../src/cosmo/halo-mass-function.js";
import { LinearPower } from "../../src/cosmo/linear-power.js";
import { tabulatedMassFunction } from "../../src/cosmo/mass-function-table.js";
import { BinMassSampler, integerCount, poissonDeviate, VoxelStream } from "../../src/cosmo/halo-sampling.js";

/** Pearson χ² of observed counts of k = 0…K (tail lumped into K) against Poisson(λ). */
function poissonChiSquare(samples: number[], lambda: number, kMax: number): { chi2: number; dof: number } {
  const observed = new Array<number>(kMax + 1).fill(0);
  for (const s of samples) observed[Math.min(s, kMax)]++;
  let p = Math.exp(-lambda);
  let cdf = 0;
  let chi2 = 0;
  for (let k = 0; k <= kMax; k++) {
    if (k > 0) p *= lambda / k;
    const prob = k === kMax ? 1 - cdf : p;
    cdf += p;
    const expected = prob * samples.length;
    chi2 += (observed[k] - expected) ** 2 / expected;
  }
  return { chi2, dof: kMax };
}

describe("VoxelStream", () => {
  it("gives the same draws for the same key, whatever was drawn before, and uniform values", () => {
    const s = new VoxelStream();
    const a = [s.reset(7, 2, 12345).uniform(), s.uniform(), s.uniform()];
    s.reset(8, 2, 12345).uniform();
    const b = [s.reset(7, 2, 12345).uniform(), s.uniform(), s.uniform()];
    expect(b).toEqual(a);
    expect(s.reset(7, 3, 12345).uniform()).not.toBe(a[0]);
    expect(s.reset(7, 2, 12345 + 2 ** 32).uniform()).not.toBe(a[0]); // voxel indices beyond 32 bits
    // Mean and variance of 20 000 first draws of distinct voxels: 1/2 and 1/12 within 5σ.
    const n = 20000;
    let sum = 0;
    let sum2 = 0;
    for (let v = 0; v < n; v++) {
      const u = s.reset(1, 0, v).uniform();
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThan(1);
      sum += u;
      sum2 += u * u;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sum2 / n - (sum / n) ** 2 - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n));
  });
});

describe("integer counts", () => {
  const stream = new VoxelStream();
  for (const [lambda, kMax] of [
    [0.3, 4],
    [4.2, 12],
    [55, 80],
  ] as const) {
    it(`Poisson deviates of mean ${lambda} follow the Poisson pmf (χ² test)`, () => {
      const samples = Array.from({ length: 20000 }, (_, v) => poissonDeviate(lambda, stream.reset(11, 0, v)));
      // Bins beyond kMax are lumped; for λ = 55, start the table at 0 anyway (low bins have tiny expectations,
      // so test mean and variance there instead).
      const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
      const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / samples.length;
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / samples.length));
      expect(Math.abs(variance / lambda - 1)).toBeLessThan(5 * Math.sqrt(2 / samples.length));
      if (lambda < 30) {
        const { chi2, dof } = poissonChiSquare(samples, lambda, kMax);
        // 99.9% quantile of χ²: dof + 3.1√(2 dof) + ... is generous; use the Wilson–Hilferty bound.
        const q = dof * (1 - 2 / (9 * dof) + 3.09 * Math.sqrt(2 / (9 * dof))) ** 3;
        expect(chi2).toBeLessThan(q);
      }
    });
  }

  it("stochastic rounding gives ⌊λ⌋ or ⌊λ⌋+1 with mean λ; non-positive means give none", () => {
    const lambda = 2.37;
    let sum = 0;
    const n = 20000;
    for (let v = 0; v < n; v++) {
      const c = integerCount("stochastic-rounding", lambda, stream.reset(5, 1, v));
      expect(c === 2 || c === 3).toBe(true);
      sum += c;
    }
    expect(Math.abs(sum / n - lambda)).toBeLessThan(5 * Math.sqrt((0.37 * 0.63) / n));
    expect(integerCount("poisson", -0.5, stream)).toBe(0);
    expect(integerCount("stochastic-rounding", 0, stream)).toBe(0);
    expect(() => integerCount("poisson", NaN, stream)).toThrow(/NaN/);
  });
});

/** Kolmogorov–Smirnov statistic of `sample` against `cdf`. */
function ksStatistic(sample: number[], cdf: (x: number) => number): number {
  const s = [...sample].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  });
  return d;
}

describe("BinMassSampler", () => {
  it("samples dn/dlnM ∝ M^-1 with the analytic CDF (KS test) and stays in the bin", () => {
    const [m1, m2] = [1e12, 1e14];
    const sampler = new BinMassSampler(m1, m2, (m) => 1 / m);
    // CDF of dn/dlnM ∝ 1/M in ln M: (1/m1 − 1/m) / (1/m1 − 1/m2).
    const cdf = (m: number) => (1 / m1 - 1 / m) / (1 / m1 - 1 / m2);
    const stream = new VoxelStream();
    const masses = Array.from({ length: 5000 }, (_, v) => sampler.massAt(stream.reset(2, 0, v).uniform()));
    for (const m of masses) {
      expect(m).toBeGreaterThanOrEqual(m1);
      expect(m).toBeLessThan(m2);
    }
    // KS critical value at 1%: 1.63/√n.
    expect(ksStatistic(masses, cdf)).toBeLessThan(1.63 / Math.sqrt(masses.length));
    expect(sampler.massAt(1e-300)).toBeGreaterThanOrEqual(m1);
    expect(sampler.massAt(1 - 1e-16)).toBeLessThan(m2);
  });

  it("samples the tabulated Warren fit within a bin (KS test against its Simpson-integrated CDF)", () => {
    const power = new LinearPower(makeCosmology());
    const [m1, m2] = [1e13, 1e14];
    const dndlnm = tabulatedMassFunction(power, "warren", 0.5, m1, m2);
    const sampler = new BinMassSampler(m1, m2, dndlnm);
    // Reference CDF: composite Simpson in ln M on 2000 panels, independent of the sampler's trapezoid table.
    const panels = 2000;
    const h = Math.log(m2 / m1) / panels;
    const cum = new Float64Array(panels + 1);
    for (let i = 1; i <= panels; i++) {
      const x = Math.log(m1) + (i - 1) * h;
      const f = (t: number) => dndlnm(Math.exp(t));
      cum[i] = cum[i - 1] + (h / 6) * (f(x) + 4 * f(x + h / 2) + f(x + h));
    }
    const cdf = (m: number) => {
      const u = Math.log(m / m1) / h;
      const i = Math.min(panels - 1, Math.floor(u));
      return (cum[i] + (u - i) * (cum[i + 1] - cum[i])) / cum[panels];
    };
    const stream = new VoxelStream();
    const masses = Array.from({ length: 5000 }, (_, v) => sampler.massAt(stream.reset(9, 1, v).uniform()));
    expect(ksStatistic(masses, cdf)).toBeLessThan(1.63 / Math.sqrt(masses.length));
    // The fit's integrated number density in the bin agrees with halo-mass-function.ts to 1e-3.
    expect(cum[panels] / numberDensityInRange(power, "warren", m1, m2, 0.5)).toBeCloseTo(1, 3);
  });

  it("the tabulated fit matches the direct dn/dlnM to 1e-3 across and at the ends of its range", () => {
    const power = new LinearPower(makeCosmology());
    const dndlnm = tabulatedMassFunction(power, "warren", 0, 1e12, 1e15);
    for (const m of [1e12, 4.4e12, 3.1e13, 2e14, 1e15]) {
      expect(dndlnm(m) / massFunction(power, "warren", m, 0)).toBeCloseTo(1, 3);
    }
  });
});
