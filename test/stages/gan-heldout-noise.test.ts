/**
 * The held-out noise of validate gan: a delete-one-simulation jackknife of ln P̄(k) and
 * ln Var P(k). Checked against the sampling theory of the mean and variance on synthetic
 * "spectra" whose distribution is known, with R independent shells as replicas: the RMS jackknife
 * error over shells must match the theoretical standard error; tolerances from the jackknife's
 * own scatter (relative sd ≈ √(2/(G − 1)) per replica in the variance, /√R averaged) plus the
 * delta method's O(σ²) bias in the logarithm.
 */
import { describe, expect, it } from "vitest";
import {
  GAN_NOISE_GROUPS,
  heldOutNoise,
  MIN_JACKKNIFE_SIMULATIONS,
  samplingNoise,
} from "../../src/stages/gan-validation.js";
import { mulberry32 } from "../seeded-random.js";

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);

describe("heldOutNoise (delete-one-simulation jackknife)", () => {
  it("gives the standard errors of ln mean and ln variance of independent fields", () => {
    // One field per simulation, Gaussian values: SE(ln x̄) = σ/(μ√N), SE(ln s²) = √(2/(N − 1)).
    const normal = gaussian(mulberry32(11));
    const n = 96;
    const shells = 400;
    const mu = 10;
    const sigma = 2;
    const power = Array.from({ length: n }, () =>
      Float64Array.from({ length: shells }, () => mu + sigma * normal()),
    );
    const noise = heldOutNoise(
      power,
      power.map((_, i) => i),
    );
    expect(noise?.simulations).toBe(n);
    // Replica scatter of the RMS: ≈ √(1/(2(G − 1)))/√R ≈ 0.4 %; the log's bias O(σ²) ≈ 0.4 %.
    expect(Math.abs(rms(noise!.lnMean) / (sigma / (mu * Math.sqrt(n))) - 1)).toBeLessThan(0.03);
    // ln s² has kurtosis-driven scatter of its own jackknife (≈ √(2/(G − 1))·√(κ_s²)); averaged
    // over 400 shells the RMS is within ~3 %; the log bias at σ ≈ 0.145 is ~1 %.
    expect(Math.abs(rms(noise!.lnVariance) / Math.sqrt(2 / (n - 1)) - 1)).toBeLessThan(0.06);
  });

  it("sees the scatter the cubes of one simulation share, which a per-cube error would miss", () => {
    // G simulations of m cubes: P = A_g e_i, A_g lognormal (ln-sd τ) shared by a simulation's
    // cubes, e_i exponential (mean 1). Var P̄ = (G/N²)[E A² (mσ_e² + m²μ_e²) − μ_A² m² μ_e²].
    const rand = mulberry32(23);
    const normal = gaussian(rand);
    const g = 16;
    const m = 8;
    const tau = 0.5;
    const shells = 400;
    const simulation: number[] = [];
    const power: Float64Array[] = [];
    const a = Array.from({ length: g }, () =>
      Float64Array.from({ length: shells }, () => Math.exp(tau * normal())),
    );
    for (let s = 0; s < g; s++)
      for (let i = 0; i < m; i++) {
        simulation.push(s);
        power.push(Float64Array.from({ length: shells }, (_, j) => a[s][j] * -Math.log(1 - rand())));
      }
    const noise = heldOutNoise(power, simulation)!;
    const n = g * m;
    const muA = Math.exp(tau ** 2 / 2);
    const eA2 = Math.exp(2 * tau ** 2);
    const varMean = (g / n ** 2) * (eA2 * (m + m * m) - muA ** 2 * m * m);
    const theory = Math.sqrt(varMean) / muA;
    const perCube = Math.sqrt((eA2 * 2 - muA ** 2) / n) / muA; // fields taken as independent
    expect(theory / perCube).toBeGreaterThan(1.4);
    // 16 groups: the jackknife variance scatters by √(2/15) ≈ 37 % per shell, ≈ 1.8 % over 400;
    // in σ half that; the log's bias at σ ≈ 0.16 ≈ 2 %.
    expect(Math.abs(rms(noise.lnMean) / theory - 1)).toBeLessThan(0.06);
  });

  it("needs sub-volumes from several simulations and one label per field", () => {
    const power = Array.from({ length: 6 }, () => Float64Array.of(1, 2));
    expect(heldOutNoise(power, [0, 0, 0, 1, 1, 1])).toBeNull();
    expect(MIN_JACKKNIFE_SIMULATIONS).toBeGreaterThan(2);
    expect(() => heldOutNoise(power, [0, 1])).toThrow(/2 simulation labels for 6 fields/);
  });
});

describe("samplingNoise (the GAN side: jackknife over groups of independent samples)", () => {
  it("gives the standard errors of ln mean and ln variance of n independent samples, whatever the grouping", () => {
    // n = 1280 Gaussian samples, R = 200 shells as replicas: SE(ln x̄) = σ/(μ√n) = 0.0028,
    // SE(ln s²) = √(2/(n − 1)) = 0.040. With G = 20 groups the jackknife's relative scatter is
    // √(2/19) ≈ 0.32 per replica, ≈ 0.023 in the RMS over 200; 0.12 is > 5 of it (plus the
    // O(σ²/μ²) delta-method bias, < 0.01 here).
    const normal = gaussian(mulberry32(5));
    const n = 1280;
    const shells = 200;
    const mu = 10;
    const sigma = 1;
    const power = Array.from({ length: n }, () =>
      Float64Array.from({ length: shells }, () => mu + sigma * normal()),
    );
    const noise = samplingNoise(power)!;
    expect(noise.simulations).toBe(GAN_NOISE_GROUPS);
    expect(Math.abs(rms(noise.lnMean) / (sigma / (mu * Math.sqrt(n))) - 1)).toBeLessThan(0.12);
    expect(Math.abs(rms(noise.lnVariance) / Math.sqrt(2 / (n - 1)) - 1)).toBeLessThan(0.12);
    // Fewer samples than groups: one group per sample (a delete-one jackknife).
    expect(samplingNoise(power.slice(0, 8))!.simulations).toBe(8);
  });
});
