/**
 * The power–density relation of validate gan on ensembles built to have a known one. A cube
 * ρ = m (1 + ε s g), g one zero-mean pattern, has δ = (m − 1) + m ε s g, so every shell with
 * k > 0 holds P_b = m² ε² s² P_g: ln P_b = 2 ln m + 2 ln s + const. With s = 1 the slope is 2,
 * the correlation 1 and the residual 0; with ln s drawn independently (sd σ) the residual sd is
 * 2σ, estimated from n cubes to a relative error ≈ 1/√(2n).
 */
import { describe, expect, it } from "vitest";
import { powerEnvironment, describePowerEnvironment } from "../../src/cosmo/power-environment.js";
import { validateGan, DEFAULT_GAN_VALIDATION_SETTINGS } from "../../src/stages/gan-validation.js";
import { mulberry32 } from "../seeded-random.js";

const gauss = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

const side = 8;
function pattern(seed: number): Float32Array {
  const u = mulberry32(seed);
  const g = Float32Array.from({ length: side ** 3 }, () => gauss(u));
  const mean = g.reduce((a, v) => a + v, 0) / g.length;
  return g.map((v) => v - mean);
}

function ensemble(n: number, sigmaLnS: number, seed: number): Float32Array[] {
  const u = mulberry32(seed);
  const g = pattern(seed + 1);
  return Array.from({ length: n }, () => {
    const m = Math.exp(0.2 * gauss(u));
    const s = Math.exp(sigmaLnS * gauss(u));
    return g.map((v) => m * (1 + 0.1 * s * v));
  });
}

describe("power–density relation", () => {
  const settings = { ...DEFAULT_GAN_VALIDATION_SETTINGS, bispectrum: false };
  const asEnsemble = (fields: Float32Array[]) => ({ fields, side, boxSize: 16 });

  it("recovers P ∝ m²: slope 2, correlation 1, no residual", () => {
    const v = validateGan(asEnsemble(ensemble(64, 0, 3)), asEnsemble(ensemble(64, 0, 5)), settings);
    const e = v.environment;
    expect(e).toBeDefined();
    for (const p of [e!.gan, e!.nbody]) {
      for (let j = 0; j < p.slope.length; j++) {
        // float32 fields: relative errors ~1e-6 in P, far below these bounds
        expect(p.slope[j]).toBeCloseTo(2, 3);
        expect(p.correlation[j]).toBeCloseTo(1, 4);
        expect(p.residualSd[j]).toBeLessThan(1e-3);
      }
      expect(p.sdLnDensity).toBeGreaterThan(0.15);
      expect(p.sdLnDensity).toBeLessThan(0.25);
    }
    expect(describePowerEnvironment(v.power.k, e!, 10)).toMatch(
      /GAN slope 2\.00–2\.00, correlation 1\.00–1\.00, residual sd 0\.00–0\.00/,
    );
  });

  it("measures an independent amplitude scatter as residual sd 2σ", () => {
    const n = 800;
    const sigma = 0.15;
    const fields = ensemble(n, sigma, 11);
    const power = validateGan(asEnsemble(fields), asEnsemble(ensemble(16, 0, 13)), settings).environment!.gan;
    // sd of n draws: relative standard error 1/√(2n) = 2.5 %; 4 of them allowed. The slope's
    // standard error is 2σ/(√n · sd ln m) ≈ 0.05; 4 of them allowed.
    for (let j = 0; j < power.slope.length; j++) {
      expect(Math.abs(power.residualSd[j] / (2 * sigma) - 1)).toBeLessThan(4 / Math.sqrt(2 * n));
      expect(Math.abs(power.slope[j] - 2)).toBeLessThan(4 * ((2 * sigma) / (Math.sqrt(n) * 0.2)));
    }
  });

  it("refuses too few cubes and a non-positive mean", () => {
    expect(() => powerEnvironment([[1], [2]], [1, 1])).toThrow(/need ≥ 3 cubes/);
    expect(() => powerEnvironment([[1], [2], [3]], [1, 0, 1])).toThrow(/not > 0/);
  });
});
