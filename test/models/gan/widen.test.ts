/**
 * Net2Wider (src/models/gan/widen.ts): a GAN widened without noise computes the same generator
 * and discriminator, in inference mode and with batch statistics; the symmetry-breaking noise
 * changes the output by about its own size; narrowing or another depth is refused.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ganArchitecture, type GanArchitecture } from "../../../src/models/gan/architecture.js";
import { GanTf } from "../../../src/models/gan/gan-tf.js";
import { initialGanWeights } from "../../../src/models/gan/gan-weights.js";
import { latentBatch } from "../../../src/models/gan/latent.js";
import { widenGanTensors, widenRefusal } from "../../../src/models/gan/widen.js";
import { enableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { uniformStream } from "../../../src/models/weight-init.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  enableFastKernels({ threads: 2 });
});

const narrow = ganArchitecture({ filters: [8, 4, 3, 1], latentDim: 6, conditional: false });
// 4 → 8 doubles, 3 → 7 copies channel 0 three times (unequal split), 8 stays.
const wide = ganArchitecture({ filters: [8, 8, 7, 1], latentDim: 6, conditional: false });

/** A narrow GAN with weights, γ, β, biases and moving statistics all away from their defaults. */
function trainedLike(): GanTf {
  const w = initialGanWeights(narrow, 11);
  const u = uniformStream(11, "widen-test");
  for (const lw of w.values()) {
    lw.weight = lw.weight.map((v) => v * 10);
    for (const k of ["gamma", "beta", "bias", "movingMean"] as const)
      if (lw[k]) lw[k] = lw[k].map((v) => v + (u() - 0.5) * 0.6);
    if (lw.movingVariance) lw.movingVariance = lw.movingVariance.map(() => 0.3 + u());
  }
  return new GanTf(tf, narrow, w);
}

function checkpointTensors(gan: GanTf): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const [k, v] of gan.namedVariables()) m.set(`gan/${k}`, Float32Array.from(v.dataSync()));
  return m;
}

function loaded(arch: GanArchitecture, tensors: Map<string, Float32Array>): GanTf {
  const gan = new GanTf(tf, arch, initialGanWeights(arch, 1));
  for (const [k, v] of gan.namedVariables()) {
    const d = tensors.get(`gan/${k}`);
    if (!d || d.length !== v.size) throw new Error(`tensor ${k}: ${d?.length} values, ${v.size} expected`);
    v.assign(tf.tensor(d, v.shape));
  }
  return gan;
}

function outputs(gan: GanTf, training: boolean): { c: Float32Array; logits: Float32Array } {
  return tf.tidy(() => {
    const z = tf.tensor2d(latentBatch(3, 0, 0, 4, 6), [4, 6]);
    const c = gan.generate(z, training);
    const logits = gan.discriminate(c, training);
    return { c: Float32Array.from(c.dataSync()), logits: Float32Array.from(logits.dataSync()) };
  });
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

test("widened without noise: the same generator and discriminator, with moving and with batch statistics", () => {
  const small = trainedLike();
  const big = loaded(wide, widenGanTensors(narrow, wide, checkpointTensors(small), 5, 0));
  for (const training of [false, true]) {
    const a = outputs(small, training);
    const b = outputs(big, training);
    // The output is not degenerate, and only float32 summation order differs.
    expect(rms(a.c)).toBeGreaterThan(0.05);
    expect(maxDiff(a.c, b.c)).toBeLessThan(2e-5);
    expect(maxDiff(a.logits, b.logits)).toBeLessThan(1e-4 * Math.max(1, rms(a.logits)));
  }
  small.dispose();
  big.dispose();
});

test("the symmetry-breaking noise makes the copies differ and moves the output by about its size", () => {
  const small = trainedLike();
  const tensors = checkpointTensors(small);
  const widened = widenGanTensors(narrow, wide, tensors, 5, 0.01);
  const g1 = widened.get("gan/g1.filter") as Float32Array; // (k³, out 8, in 8)
  // Output channels 4…7 copy 0…3: equal but for the noise, whose size is 1% of the RMS weight.
  let d2 = 0;
  let n = 0;
  for (let s = 0; s < 64; s++)
    for (let o = 4; o < 8; o++)
      for (let i = 0; i < 8; i++) {
        d2 += (g1[(s * 8 + o) * 8 + i] - g1[(s * 8 + o - 4) * 8 + i]) ** 2;
        n++;
      }
  const old = tensors.get("gan/g1.filter") as Float32Array;
  // Each widened input channel carries half of the old weight, so the RMS weight halves.
  const ratio = Math.sqrt(d2 / n) / rms(old);
  expect(ratio).toBeGreaterThan(0.007);
  expect(ratio).toBeLessThan(0.013);
  const big = loaded(wide, widened);
  const a = outputs(small, false);
  const b = outputs(big, false);
  const rel = rms(a.c.map((v, i) => v - b.c[i])) / rms(a.c);
  expect(rel).toBeGreaterThan(1e-4);
  expect(rel).toBeLessThan(0.05);
  small.dispose();
  big.dispose();
});

test("only wider filters at the same depth and latent size are accepted", () => {
  const f = (filters: number[], latentDim = 6) => ganArchitecture({ filters, latentDim, conditional: false });
  expect(widenRefusal(narrow, wide)).toBeNull();
  expect(widenRefusal(narrow, narrow)).toBeNull();
  expect(widenRefusal(wide, narrow)).toMatch(/narrower than the checkpoint's 8,8,7,1 at layer 1/);
  expect(widenRefusal(narrow, f([8, 4, 4, 4, 1]))).toMatch(/4 generator layers in the checkpoint, 5 now/);
  expect(widenRefusal(narrow, f([8, 4, 3, 1], 7))).toMatch(/latent vector differs/);
  expect(() => widenGanTensors(wide, narrow, new Map(), 1)).toThrow(/narrower/);
});
