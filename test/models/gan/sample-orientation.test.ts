/**
 * Random sample orientation (src/models/gan/sample-orientation.ts).
 *
 * The physics check: N fields share a pattern w locked to the grid (a plane wave along x, as a
 * generator's transposed convolutions lock structure) on top of independent lognormal noise.
 * Unoriented, the ensemble-mean field keeps the whole pattern: E rms² = r_w² + noise². Oriented,
 * its expectation is the group average w̄ = (1/48) Σ_g g·w, and a finite draw of orientations
 * adds (r_w² − r_w̄²)/N: E rms² = r_w̄² + noise² + (r_w² − r_w̄²)/N. For a wave cos(θx) along x
 * (θ = 2πk/S), w̄ is a third of it along each axis at cos(θ/2) of the amplitude (a reflection
 * x → S − 1 − x turns it into cos(θ(x + 1)), and the two average to cos(θ/2) cos(θ(x + ½))), so
 * the shared power drops to cos²(θ/2)/3, 0.28 for k = 2 on 16³. The scatter of the measured rms² about
 * its expectation is well under 1 % here (cross terms of the pattern with noise over 16³ voxels,
 * orientation counts of 480 draws), so 10 % is a wide margin.
 */
import { describe, expect, it } from "vitest";
import { applySymmetry, CUBE_SYMMETRIES } from "../../../src/models/painter/cube-symmetry.js";
import {
  ORIENTATION_ALGORITHM,
  orientSamples,
  sampleSymmetryIndex,
} from "../../../src/models/gan/sample-orientation.js";
import { LATENT_STREAM_ORIENTATION } from "../../../src/models/gan/latent.js";
import { VoxelStream } from "../../../src/cosmo/halo-sampling.js";
import { ensembleMeanField } from "../../../src/stages/ensemble-mean-field.js";
import { mulberry32 } from "../../seeded-random.js";

const S = 16;
const V = S ** 3;

function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** rms of f/mean(f) − 1 over the voxels. */
function relativeRms(f: Float32Array | Float64Array): number {
  let mean = 0;
  for (const v of f) mean += v / f.length;
  let s = 0;
  for (const v of f) s += (v / mean - 1) ** 2;
  return Math.sqrt(s / f.length);
}

describe("sample orientation", () => {
  it("draws each of the 48 symmetries equally often, keyed by (seed, i) alone", () => {
    const n = 48_000;
    const counts = new Array<number>(48).fill(0);
    for (let i = 0; i < n; i++) counts[sampleSymmetryIndex(5, i)]++;
    // χ² with 47 degrees of freedom: mean 47, sd 9.7; 100 is p ≈ 1e-5.
    const chi2 = counts.reduce((s, c) => s + (c - n / 48) ** 2 / (n / 48), 0);
    expect(chi2).toBeLessThan(100);
    // The documented draw (ORIENTATION_ALGORITHM): ⌊48·u⌋ of the first uniform of its stream.
    for (const i of [0, 123, 47_999])
      expect(sampleSymmetryIndex(5, i)).toBe(
        Math.floor(48 * new VoxelStream().reset(5, LATENT_STREAM_ORIENTATION, i).uniform()),
      );
    expect(ORIENTATION_ALGORITHM).toContain(`VoxelStream(seed, ${LATENT_STREAM_ORIENTATION}, i)`);
    let same = 0;
    for (let i = 0; i < 4800; i++) if (sampleSymmetryIndex(5, i) === sampleSymmetryIndex(6, i)) same++;
    // Another seed agrees 1/48 of the time (100 ± 10 of 4800).
    expect(same).toBeGreaterThan(60);
    expect(same).toBeLessThan(140);
  });

  it("orients each sample by its own index, whatever the batch it is in; generator leaves it alone", () => {
    const u = mulberry32(3);
    const rows = 6;
    const side = 5;
    const values = Float32Array.from({ length: rows * side ** 3 }, () => u());
    const whole = values.slice();
    orientSamples(whole, side, 11, 40, rows, "random");
    const split = values.slice();
    const n3 = side ** 3;
    orientSamples(split.subarray(0, 2 * n3), side, 11, 40, 2, "random");
    orientSamples(split.subarray(2 * n3), side, 11, 42, rows - 2, "random");
    expect(Array.from(split)).toEqual(Array.from(whole));
    for (let r = 0; r < rows; r++) {
      const want = applySymmetry(values.subarray(r * n3, (r + 1) * n3), side, CUBE_SYMMETRIES[sampleSymmetryIndex(11, 40 + r)]);
      expect(Array.from(whole.subarray(r * n3, (r + 1) * n3))).toEqual(Array.from(want));
    }
    const kept = values.slice();
    orientSamples(kept, side, 11, 40, rows, "generator");
    expect(Array.from(kept)).toEqual(Array.from(values));
    expect(() => orientSamples(values.subarray(1), side, 11, 40, rows, "random")).toThrow(/not 6 samples of 5³/);
    // applySymmetry into a buffer of the caller's: the same values; an overlapping one is refused.
    const cube = values.subarray(0, n3);
    const into = new Float32Array(n3);
    const g = CUBE_SYMMETRIES[17];
    expect(applySymmetry(cube, side, g, 1, into)).toBe(into);
    expect(Array.from(into)).toEqual(Array.from(applySymmetry(cube, side, g)));
    expect(() => applySymmetry(cube, side, g, 1, values.subarray(n3 - 1, 2 * n3 - 1))).toThrow(/apart from its input/);
  });

  it("a pattern every sample shares along one axis is shared ≈ 3.5× less in power once oriented", () => {
    const n = 480;
    const k = 2;
    const amplitude = 0.5;
    const w = new Float32Array(V);
    for (let x = 0, j = 0; x < S; x++)
      for (let y = 0; y < S; y++)
        for (let z = 0; z < S; z++, j++) w[j] = 1 + amplitude * Math.cos((2 * Math.PI * k * x) / S);
    const u = mulberry32(17);
    const fields = Array.from({ length: n }, () => {
      const f = new Float32Array(V);
      for (let j = 0; j < V; j++) f[j] = Math.exp(gaussian(u) - 0.5) * w[j];
      return f;
    });
    const oriented = fields.map((f, i) => {
      const g = f.slice();
      orientSamples(g, S, 9, i, 1, "random");
      return g;
    });
    const wBar = new Float64Array(V);
    for (const g of CUBE_SYMMETRIES) applySymmetry(w, S, g).forEach((v, j) => (wBar[j] += v / 48));
    const rw2 = relativeRms(w) ** 2;
    const rBar2 = relativeRms(wBar) ** 2;
    // The group average: a third along each axis, times cos(θ/2).
    expect(rBar2 / rw2).toBeCloseTo(Math.cos((Math.PI * k) / S) ** 2 / 3, 6);

    const before = ensembleMeanField(fields, S);
    const after = ensembleMeanField(oriented, S);
    const expectBefore = rw2 + before.noise ** 2;
    const expectAfter = rBar2 + after.noise ** 2 + (rw2 - rBar2) / n;
    expect(Math.abs(before.rms ** 2 / expectBefore - 1)).toBeLessThan(0.1);
    expect(Math.abs(after.rms ** 2 / expectAfter - 1)).toBeLessThan(0.1);
    // Each field's own statistics do not change: its voxels are only permuted.
    expect(Array.from(oriented[3]).sort()).toEqual(Array.from(fields[3]).sort());
  });
});
