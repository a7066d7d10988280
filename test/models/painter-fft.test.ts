/**
 * The FFT-convolution painter against ONNX Runtime's direct convolutions on the same random
 * weights (≤ 1e-5 of the output scale), for several patch sides, 1 and 4 output channels, and
 * patches split into sub-patches.
 */
import { afterAll, expect, test } from "vitest";
import * as ort from "onnxruntime-node";
import { painterArchitecture, type PainterArchitecture } from "../../src/models/painter/architecture.js";
import {
  buildPainterOnnx,
  randomPainterWeights,
  type PainterWeights,
} from "../../src/models/painter/painter-onnx.js";
import { FftPainter, fftFriendlyAtLeast, subPatchPlan } from "../../src/models/painter/painter-fft.js";
import { uniformStream } from "../../src/models/weight-init.js";

const painters: FftPainter[] = [];
afterAll(() => painters.forEach((p) => p.dispose()));

async function reference(bytes: Uint8Array, x: Float32Array, side: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = await session.run({ density: new ort.Tensor("float32", x, [1, 1, side, side, side]) });
  await session.release();
  return out.halos.data as Float32Array;
}

function expectClose(got: Float32Array, ref: Float32Array): void {
  expect(got.length).toBe(ref.length);
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  expect(scale).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
  expect(worst).toBeLessThanOrEqual(1e-5 * scale);
}

/** Random weights with the output layer's bias raised, so the final ReLU passes most voxels. */
function liveWeights(arch: PainterArchitecture, seed: number): PainterWeights {
  const w = new Map(randomPainterWeights(arch, seed));
  const last = arch.head[arch.head.length - 1].name;
  const h = w.get(last)!;
  w.set(last, { weight: h.weight, bias: h.bias.map((b) => 0.5 + Math.abs(b)) });
  return w;
}

const cases: Array<[side: number, channels: number, maxFftSide: number]> = [
  [18, 1, 64],
  [26, 4, 64],
  [40, 1, 64],
  [40, 4, 24], // core 32 painted as 2³ sub-patches of core 16 on 24³ grids
  [31, 1, 20], // core 23 as 2³ sub-patches of core 12 (the last ones overlap), 20³ grids
];

for (const [side, channels, maxFftSide] of cases) {
  test(`side ${side}, ${channels} channel(s), FFT side ≤ ${maxFftSide}: equals ONNX Runtime`, async () => {
    const arch = painterArchitecture(channels);
    const weights = liveWeights(arch, 5 * side + channels);
    const u = uniformStream(side, "density");
    // ρ/ρ̄-like input: positive, mean ~1, with a few dense voxels.
    const x = Float32Array.from({ length: side ** 3 }, () => -Math.log(1 - u() * 0.999));
    const painter = new FftPainter(arch, weights, { maxFftSide });
    painters.push(painter);
    const got = painter.paint(x, side);
    expectClose(got, await reference(buildPainterOnnx(arch, weights), x, side));
    // Deterministic: painting again (after other work on the same grids) gives the same bits.
    expect(painter.paint(x, side)).toEqual(got);
  });
}

test("sub-patch plans cover the core with FFT-friendly grids no larger than asked", () => {
  for (let core = 1; core <= 200; core += 7) {
    for (const maxSide of [20, 48, 64]) {
      const { cores, sub, fftSide } = subPatchPlan(core, 4, maxSide);
      expect(cores * sub).toBeGreaterThanOrEqual(core);
      expect(sub).toBeLessThanOrEqual(core);
      expect(fftSide).toBeGreaterThanOrEqual(sub + 8);
      expect(fftSide).toBeLessThanOrEqual(maxSide);
    }
  }
  expect(fftFriendlyAtLeast(136)).toBe(144);
  expect(fftFriendlyAtLeast(49)).toBe(50);
});

test("bad patches are refused", () => {
  const arch = painterArchitecture(1);
  const painter = new FftPainter(arch, randomPainterWeights(arch, 1), { maxFftSide: 20 });
  painters.push(painter);
  expect(() => painter.paint(new Float32Array(8 ** 3), 8)).toThrow(/must exceed 8/);
  expect(() => painter.paint(new Float32Array(10), 12)).toThrow(/expected 1×12³/);
});
