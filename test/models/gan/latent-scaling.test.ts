/**
 * The latent prior (counter-based Student-t / Gaussian) and the data scaling c = 2ρ/(ρ + κ) − 1.
 * Tolerances: 5σ of the sampling error of the moment tested.
 */
import { expect, test } from "vitest";
import { VoxelStream } from "../../../src/cosmo/halo-sampling.js";
import {
  DEFAULT_KAPPA,
  MAX_SCALED,
  scaleDensity,
  scaleDensityArray,
  unscaleDensity,
  unscaleDensityArray,
} from "../../../src/models/gan/data-scaling.js";
import { gammaDeviate, latentBatch, latentComponent } from "../../../src/models/gan/latent.js";

test("latent: a vector depends on (seed, index) only, not on the batch it is drawn in", () => {
  const all = latentBatch(7, 0, 0, 10, 16);
  const part = latentBatch(7, 0, 6, 3, 16);
  expect(Array.from(part)).toEqual(Array.from(all.subarray(6 * 16, 9 * 16)));
  // The first components of a longer latent are the shorter latent.
  const long = latentBatch(7, 0, 6, 1, 32);
  expect(Array.from(long.subarray(0, 16))).toEqual(Array.from(all.subarray(6 * 16, 7 * 16)));
  expect(latentBatch(8, 0, 6, 1, 16)[0]).not.toBe(all[6 * 16]);
  expect(latentBatch(7, 1, 6, 1, 16)[0]).not.toBe(all[6 * 16]);
  // Conditional input: z appended.
  const c = latentBatch(7, 0, 6, 1, 16, undefined, 0.5);
  expect(c.length).toBe(17);
  expect(c[16]).toBe(0.5);
  expect(Array.from(c.subarray(0, 16))).toEqual(Array.from(all.subarray(6 * 16, 7 * 16)));
});

function moments(xs: Float64Array): { mean: number; variance: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) ** 2;
  return { mean, variance: v / (xs.length - 1) };
}

test("Student-t ν = 10: mean 0, variance ν/(ν − 2); Gaussian: variance σ²", () => {
  const n = 100_000;
  const t = Float64Array.from({ length: n }, (_, i) => latentComponent(3, 0, i, 0));
  const mt = moments(t);
  const varT = 10 / 8;
  // sd of the mean √(var/n); of the sample variance var·√((2 + excess kurtosis 6/(ν−4))/n).
  expect(Math.abs(mt.mean)).toBeLessThan(5 * Math.sqrt(varT / n));
  expect(Math.abs(mt.variance - varT)).toBeLessThan(5 * varT * Math.sqrt(3 / n));
  const g = Float64Array.from({ length: n }, (_, i) =>
    latentComponent(3, 0, i, 0, { kind: "gaussian", nu: 10, scale: 2 }),
  );
  const mg = moments(g);
  expect(Math.abs(mg.variance - 4)).toBeLessThan(5 * 4 * Math.sqrt(2 / n));
  // Heavier tails than the Gaussian: P(|t| > 3) = 0.01334 for ν = 10 (vs 0.0027).
  const tail = t.filter((x) => Math.abs(x) > 3).length / n;
  expect(Math.abs(tail - 0.01334)).toBeLessThan(5 * Math.sqrt(0.01334 / n));
});

test("gamma deviates (Marsaglia–Tsang): mean a and variance a, also for a < 1", () => {
  const s = new VoxelStream();
  for (const a of [0.7, 5]) {
    const n = 50_000;
    const xs = Float64Array.from({ length: n }, (_, i) => gammaDeviate(a, s.reset(11, 3, i)));
    const m = moments(xs);
    expect(Math.abs(m.mean - a)).toBeLessThan(5 * Math.sqrt(a / n));
    // Var of the sample variance of Γ(a): a²(2 + 6/a)/n.
    expect(Math.abs(m.variance - a)).toBeLessThan(5 * a * Math.sqrt((2 + 6 / a) / n));
  }
});

test("data scaling: limits, κ ↦ 0, round trip, array forms", () => {
  expect(scaleDensity(0)).toBe(-1);
  expect(scaleDensity(DEFAULT_KAPPA)).toBe(0);
  expect(scaleDensity(1e12)).toBeCloseTo(1, 9);
  expect(scaleDensity(2, 2)).toBe(0);
  for (const rho of [0, 1e-3, 0.5, 1, 10, 45, 1000, 1e5])
    expect(Math.abs(unscaleDensity(scaleDensity(rho, 7), 7) - rho)).toBeLessThanOrEqual(
      1e-9 * Math.max(1, rho),
    );
  expect(unscaleDensity(-1)).toBe(0);
  // A saturated tanh (c = 1 in float32) gives a finite density, the clamp's.
  expect(unscaleDensity(1)).toBe(unscaleDensity(MAX_SCALED));
  expect(Number.isFinite(unscaleDensity(1))).toBe(true);
  const rho = Float32Array.from([0, 0.5, 1, 3, 200]);
  const c = scaleDensityArray(Float32Array.from(rho), 4);
  expect(Math.max(...c)).toBeLessThan(1);
  expect(Math.min(...c)).toBe(-1);
  const back = unscaleDensityArray(Float32Array.from(c), 4);
  rho.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, v)));
  const delta = unscaleDensityArray(Float32Array.from(c), 4, -1);
  rho.forEach((v, i) => expect(Math.abs(delta[i] - (v - 1))).toBeLessThanOrEqual(1e-5 * Math.max(1, v)));
  expect(() => scaleDensityArray(new Float32Array(1), 0)).toThrow(/κ/);
});

test("density cap: ρ above the card's densityCap is clamped to it, values below are untouched", () => {
  const kappa = 2;
  const rho = [0, 0.5, 1, 10, 300, 1e5];
  const c = Float32Array.from(rho.map((r) => scaleDensity(r, kappa)));
  const uncapped = unscaleDensityArray(Float32Array.from(c), kappa);
  const capped = unscaleDensityArray(Float32Array.from(c), kappa, 0, 500);
  rho.forEach((r, i) => {
    if (r < 500) expect(capped[i]).toBe(uncapped[i]);
    else expect(capped[i]).toBe(500);
  });
  // δ = ρ − 1 with the cap applied to ρ.
  expect(unscaleDensityArray(Float32Array.from(c), kappa, -1, 500)[5]).toBe(499);
  expect(() => unscaleDensityArray(Float32Array.from(c), kappa, 0, 0)).toThrow(/density cap/);
});
