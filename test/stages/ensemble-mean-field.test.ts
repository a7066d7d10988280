/**
 * The grid-locking diagnostic (src/stages/ensemble-mean-field.ts). Independent lognormal fields
 * give an ensemble-mean field at its sampling noise: E rms² = noise², and with V = 16³ voxels the
 * estimate of the ratio scatters by ≈ √(1/(2V)) ≈ 1.1 % (plus a skewness term of the same order),
 * so |excess − 1| < 0.06 holds with a wide margin. Fields whose peaks sit on a fixed
 * sub-lattice — the same structures at positions the grid prefers — give an excess far above 1
 * at the same mean density and PDF shape, and a depleted face is the plane reported.
 */
import { describe, expect, it } from "vitest";
import { describeMeanField, ensembleMeanField } from "../../src/stages/ensemble-mean-field.js";
import { mulberry32 } from "../seeded-random.js";

const S = 16;
const V = S ** 3;

function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** N lognormal fields of unit mean, σ_ln = 1; `weight(x, y, z)` multiplies the voxels. */
function ensemble(
  n: number,
  seed: number,
  weight: (x: number, y: number, z: number) => number,
): Float32Array[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const f = new Float32Array(V);
    for (let x = 0, j = 0; x < S; x++)
      for (let y = 0; y < S; y++)
        for (let z = 0; z < S; z++, j++) f[j] = Math.exp(gaussian(u) - 0.5) * weight(x, y, z);
    return f;
  });
}

describe("ensemble-mean field", () => {
  it("independent homogeneous fields sit at their sampling noise", () => {
    const s = ensembleMeanField(
      ensemble(200, 1, () => 1),
      S,
    );
    expect(Math.abs(s.excess - 1)).toBeLessThan(0.06);
    // Var of a unit-mean lognormal with σ_ln = 1 is e − 1: noise = √((e − 1)/200) ≈ 0.093.
    expect(s.noise).toBeCloseTo(Math.sqrt((Math.E - 1) / 200), 2);
    // A plane averages S² voxels: its deviation is ~ noise/S; the worst of 3S planes is < 4 of those.
    expect(Math.abs(s.worstPlane.deviation)).toBeLessThan((4 * s.noise) / S);
  });

  it("structure locked to a sub-lattice and a depleted face stand far above the noise", () => {
    // Every other voxel plane along y carries 1.5×, the others 0.5×.
    const s = ensembleMeanField(
      ensemble(200, 2, (_x, y) => (y % 2 === 0 ? 1.5 : 0.5)),
      S,
    );
    expect(s.excess).toBeGreaterThan(3);
    expect(s.rms).toBeCloseTo(0.5, 1);
    expect(s.worstPlane.axis).toBe(1);
    // The face z = 0 at 0.6× (the mean then 0.975): that plane, at 0.6/0.975 − 1 = −38 %.
    const face = ensembleMeanField(
      ensemble(200, 3, (_x, _y, z) => (z === 0 ? 0.6 : 1)),
      S,
    );
    expect(face.worstPlane).toMatchObject({ axis: 2, index: 0 });
    expect(face.worstPlane.deviation).toBeCloseTo(0.6 / 0.975 - 1, 1);
    expect(describeMeanField(s)).toMatch(
      /^rms 0\.\d{3} of ρ̄ \(\d+\.\d× its sampling noise 0\.\d{3}\), worst plane y = \d+ at [+−-]\d+ %$/,
    );
  });

  it("refuses fewer than two fields or a field of the wrong size", () => {
    expect(() => ensembleMeanField([new Float32Array(V)], S)).toThrow(/at least 2 fields/);
    expect(() => ensembleMeanField([new Float32Array(V), new Float32Array(V - 1)], S)).toThrow(
      /expected 16³/,
    );
  });
});
