/**
 * The native GAN engine (models/gan/gan-native.ts on conv3d.c's up2 kernels) against ONNX
 * Runtime on the same .onnx: batch norm folded with moving statistics far from (0, 1), every
 * vector width this CPU runs (AVX-512, AVX2, SSE-width builds), the sub-pixel weights converted
 * back exactly, the parities-as-channels path (layers of fewer channels than a vector), the
 * channel-major hand-over to the last layer, and the density output against data-scaling.ts's
 * inversion of ONNX Runtime's c.
 *
 * Tolerances: c ∈ (−1, 1) is a float32 sum of ~10³ products per layer in another order than
 * ONNX Runtime's: |Δc| ≤ 1e-5. Densities are compared through c = (ρ − κ)/(ρ + κ) with the
 * same bound: ONNX Runtime's ρ = κ(1+c)/(1−c) amplifies the float32 rounding of c by
 * 2/(1 − c²) (≈ 10⁻⁵ relative at ρ/κ ≈ 80 for one ulp of c), which is not the engine's error.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { ganArchitecture, ganPreset, type GanArchitecture } from "../../../src/models/gan/architecture.js";
import { initialGanWeights, type GanLayerWeights } from "../../../src/models/gan/gan-weights.js";
import {
  buildGeneratorOnnx,
  GAN_LATENT_INPUT,
  GAN_OUTPUT,
  subpixelWeights,
  transposedFromSubpixel,
} from "../../../src/models/gan/gan-onnx.js";
import {
  generatorLayersFromOnnx,
  nativeEngineProblem,
  nativeKernelsAvailable,
  NativeGanGenerator,
} from "../../../src/models/gan/gan-native.js";
import { unscaleDensityArray } from "../../../src/models/gan/data-scaling.js";
import { latentBatch } from "../../../src/models/gan/latent.js";
import { nativeConv3d } from "../../../src/models/kernels/native-x86.js";
import { uniformStream } from "../../../src/models/weight-init.js";

it("sub-pixel weights convert back to the transposed convolution's exactly", () => {
  const u = uniformStream(1, "subpixel");
  const w = Float32Array.from({ length: 3 * 5 * 64 }, () => u() - 0.5);
  const { weight } = subpixelWeights(w, new Float32Array(5), 3, 5);
  expect(transposedFromSubpixel(weight, 3, 5)).toEqual(w);
});

it("refuses generators it cannot run, saying why", () => {
  expect(nativeEngineProblem(ganPreset("paper"))).toBeNull();
  expect(nativeEngineProblem(ganArchitecture({ filters: [8, 4096, 1], latentDim: 4, conditional: false }))).toMatch(
    /g1: .*too large/,
  );
});

/**
 * DCGAN weights scaled up (so that c spans much of (−1, 1)) with γ, β and the moving statistics
 * moved away from their defaults.
 */
function perturbed(arch: GanArchitecture, seed: number): Map<string, GanLayerWeights> {
  const w = initialGanWeights(arch, seed);
  const u = uniformStream(seed, "native-perturb");
  for (const lw of w.values()) {
    lw.weight = lw.weight.map((v) => 4 * v);
    for (const k of ["gamma", "beta", "bias"] as const) if (lw[k]) lw[k] = lw[k].map((v) => v + (u() - 0.5) * 0.4);
    if (lw.movingMean) lw.movingMean = lw.movingMean.map(() => (u() - 0.5) * 0.2);
    if (lw.movingVariance) lw.movingVariance = lw.movingVariance.map(() => 0.2 + u());
  }
  return w;
}

/** Vector widths to run: this CPU's set, then narrower builds (the AVX2 and 4-lane code paths). */
function laneSets(): number[][] {
  const all = nativeConv3d()?.lanes ?? [];
  const sets = [[...all]];
  for (const top of [8, 4]) if (all.includes(top) && all.at(-1) !== top) sets.push(all.filter((l) => l <= top));
  return sets;
}

describe.skipIf(!nativeKernelsAvailable())("native GAN engine", () => {
  const cases: [string, GanArchitecture][] = [
    // 1 → 4 → … → 64³: up2 layers with 16 or more channels, last layer vectorised over z.
    ["reduced preset, conditional", ganPreset("reduced", { conditional: true })],
    // A 2-channel layer (parities stacked as channels) writing channel-major for the last layer.
    ["custom 16-2-1", ganArchitecture({ filters: [16, 2, 1], latentDim: 6, conditional: false })],
    // Two layers: the last layer is up2 with parities as channels and tanh in its plane pass.
    ["custom 8-1", ganArchitecture({ filters: [8, 1], latentDim: 5, conditional: false })],
  ];
  for (const [name, arch] of cases)
    it(`${name}: equals ONNX Runtime's generator on every vector width`, async () => {
      const bytes = buildGeneratorOnnx(arch, perturbed(arch, 7));
      const rows = 2;
      const width = arch.generator[0].inChannels;
      const z = latentBatch(3, 0, 0, rows, arch.latentDim, undefined, arch.conditional ? 0.5 : undefined);
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z.slice(), [rows, width, 1, 1, 1]) });
      const ref = out[GAN_OUTPUT].data as Float32Array;
      await session.release();
      let spread = 0;
      for (const v of ref) spread = Math.max(spread, Math.abs(v));
      expect(spread).toBeGreaterThan(0.2); // not a degenerate (all-saturated or all-zero) output
      const kappa = 2;
      const refDensity = unscaleDensityArray(ref.slice(), kappa, -1, 1e4);
      for (const lanes of laneSets()) {
        const native = nativeConv3d();
        const gen = new NativeGanGenerator(arch, generatorLayersFromOnnx(bytes, arch), {
          kernels: native && { ...native, lanes },
        });
        const c = gen.generate(z, rows);
        expect(c.length).toBe(ref.length);
        let dc = 0;
        for (let i = 0; i < c.length; i++) dc = Math.max(dc, Math.abs(c[i] - ref[i]));
        expect(dc, `lanes ${lanes.join(",")}`).toBeLessThanOrEqual(1e-5);
        // A smaller batch reuses the buffers of the larger one (borders stay zero), and a batch
        // run in passes of one sample gives the same values.
        expect(gen.generate(z.subarray(width), rows - 1)).toEqual(c.subarray(c.length / rows));
        const single = new NativeGanGenerator(arch, generatorLayersFromOnnx(bytes, arch), {
          kernels: native && { ...native, lanes },
          maxRows: 1,
        });
        expect(single.generate(z, rows)).toEqual(c);
        single.dispose();
        const rho = gen.generate(z, rows, { kappa, cap: 1e4, offset: -1 });
        // Compared as c = (ρ − κ)/(ρ + κ) (float64): the inversion's own amplification of c's
        // float32 rounding (near c = ±1) is not the engine's error.
        const cOf = (delta: number) => (delta + 1 - kappa) / (delta + 1 + kappa);
        for (let i = 0; i < rho.length; i++)
          if (!(Math.abs(cOf(rho[i]) - cOf(refDensity[i])) <= 1e-5))
            throw new Error(`lanes ${lanes.join(",")}: δ ${rho[i]} vs ${refDensity[i]} at ${i}`);
        gen.dispose();
      }
    });

  // Both last-layer kernels: up2_last_unit (three layers) and up2_unit's plane pass (two).
  for (const filters of [[8, 4, 1], [8, 1]])
    it(`filters ${filters.join("-")}: ρ from the pre-activation, positive where c rounds to −1, capped, offset`, () => {
      const arch = ganArchitecture({ filters, latentDim: 5, conditional: false });
      const w = initialGanWeights(arch, 2);
      const last = `g${filters.length - 1}`;
      // A last-layer bias of −12 puts every pre-activation near −12: tanh rounds to −1 in
      // float32 (ρ = κ(1+c)/(1−c) = 0 there) while κe^{2y} ≈ κ·4e-11.
      (w.get(last) as GanLayerWeights).bias = Float32Array.of(-12);
      const gen = new NativeGanGenerator(arch, generatorLayersFromOnnx(buildGeneratorOnnx(arch, w), arch));
      const z = latentBatch(1, 0, 0, 2, 5);
      expect(Math.max(...gen.generate(z, 2))).toBe(-1);
      for (const v of gen.generate(z, 2, { kappa: 3, cap: Infinity, offset: 0 })) {
        expect(v).toBeGreaterThan(0);
        expect(Math.abs(Math.log(v / 3) + 24)).toBeLessThan(2); // 2y ≈ −24 ± the weights' share
      }
      (w.get(last) as GanLayerWeights).bias = Float32Array.of(12);
      const high = new NativeGanGenerator(arch, generatorLayersFromOnnx(buildGeneratorOnnx(arch, w), arch));
      expect(new Set(high.generate(z, 2, { kappa: 3, cap: 500, offset: -1 }))).toEqual(new Set([499]));
      expect(() => high.generate(z, 2, { kappa: 0, cap: 1, offset: 0 })).toThrow(/κ must be/);
      expect(() => high.generate(z, 3)).toThrow(/10 latent values for 3 sample/);
    });
});
