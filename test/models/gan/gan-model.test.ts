/**
 * The GAN defined once (architecture.ts) and built twice: shapes of the paper's Table I, the
 * TensorFlow.js generator and discriminator in inference mode equal the ONNX graphs (batch norm
 * folded) run by ONNX Runtime, and weights round-trip through both layouts.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { ganArchitecture, ganPreset, parameterCounts } from "../../../src/models/gan/architecture.js";
import { initialGanWeights, type GanLayerWeights } from "../../../src/models/gan/gan-weights.js";
import { GanTf } from "../../../src/models/gan/gan-tf.js";
import {
  buildDiscriminatorOnnx,
  buildGeneratorOnnx,
  GAN_DISCRIMINATOR_INPUT,
  GAN_DISCRIMINATOR_OUTPUT,
  GAN_LATENT_INPUT,
  GAN_OUTPUT,
} from "../../../src/models/gan/gan-onnx.js";
import { latentBatch } from "../../../src/models/gan/latent.js";
import { enableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { uniformStream } from "../../../src/models/weight-init.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  enableFastKernels({ threads: 2 });
});

test("paper preset: Table I sides and filters, discriminator mirrors the generator", () => {
  const a = ganPreset("paper");
  expect(a.side).toBe(64);
  expect(a.generator.map((l) => [l.inChannels, l.outChannels, l.stride, l.outSide])).toEqual([
    [100, 256, 1, 4],
    [256, 128, 2, 8],
    [128, 64, 2, 16],
    [64, 32, 2, 32],
    [32, 1, 2, 64],
  ]);
  expect(a.generator.map((l) => l.activation)).toEqual(["relu", "relu", "relu", "relu", "tanh"]);
  expect(a.discriminator.map((l) => [l.inChannels, l.outChannels, l.outSide, l.batchNorm])).toEqual([
    [1, 32, 32, false],
    [32, 64, 16, true],
    [64, 128, 8, true],
    [128, 256, 4, true],
    [256, 1, 1, false],
  ]);
  // PyTorch peer (bias-free convolutions): G 100·256·64 + 256·128·64 + 128·64·64 + 64·32·64 +
  // 32·64 weights and 2·(256+128+64+32) BN parameters; ours adds the tanh layer's one bias.
  expect(parameterCounts(a).generator).toBe(
    100 * 256 * 64 + 256 * 128 * 64 + 128 * 64 * 64 + 64 * 32 * 64 + 32 * 64 + 2 * 480 + 1,
  );
  const c = ganPreset("reduced", { conditional: true });
  expect(c.generator[0].inChannels).toBe(101);
  expect(c.discriminator[0].inChannels).toBe(2);
  expect(c.preset).toBe("reduced");
  expect(() => ganArchitecture({ filters: [8, 4], latentDim: 8, conditional: false })).toThrow(/ending in 1/);
});

/** Initial weights with γ, β and biases moved away from their defaults, so folding matters. */
function perturbed(arch: ReturnType<typeof ganPreset>, seed: number): Map<string, GanLayerWeights> {
  const w = initialGanWeights(arch, seed);
  const u = uniformStream(seed, "perturb");
  for (const lw of w.values())
    for (const k of ["gamma", "beta", "bias"] as const)
      if (lw[k]) lw[k] = lw[k].map((v) => v + (u() - 0.5) * 0.4);
  return w;
}

/** Lets the test worker answer vitest's RPC between long synchronous TF.js passes. */
const breathe = () => new Promise((r) => setImmediate(r));

async function parity(conditional: boolean): Promise<void> {
  const arch = ganPreset("reduced", { conditional });
  const initial = perturbed(arch, 3);
  const b = 2;
  const width = arch.generator[0].inChannels;
  const z = latentBatch(5, 0, 0, b, arch.latentDim, undefined, conditional ? 0.5 : undefined);
  // Moving statistics as after training: those of a batch (momentum 0), far from (0, 1).
  const warm = new GanTf(tf, arch, initial);
  tf.tidy(() => {
    const zz = tf.tensor2d(
      latentBatch(6, 0, 0, 4, arch.latentDim, undefined, conditional ? 0.5 : undefined),
      [4, width],
    );
    const c = warm.generate(zz, true);
    warm.discriminate(c, true, conditional ? (tf.fill([4], 0.5) as tf.Tensor1D) : undefined);
  });
  await breathe();
  warm.commitStatistics("generator", 0);
  warm.commitStatistics("discriminator", 0);
  const weights = warm.weights();
  warm.dispose();
  expect(Math.abs((weights.get("g1")?.movingVariance ?? [1])[0] - 1)).toBeGreaterThan(0.1);
  const gan = new GanTf(tf, arch, weights);
  const ours = tf.tidy(() => gan.generate(tf.tensor2d(z, [b, width]), false).dataSync());
  await breathe();
  const session = await ort.InferenceSession.create(buildGeneratorOnnx(arch, weights));
  const out = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z, [b, width, 1, 1, 1]) });
  const ref = out[GAN_OUTPUT].data as Float32Array;
  expect(ref.length).toBe(b * 64 ** 3);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
  }
  expect(scale).toBeGreaterThan(0.5); // tanh output is not degenerate
  expect(diff).toBeLessThanOrEqual(1e-5 * scale);
  await session.release();

  // Discriminator on the generated fields (NDHWC = NCDHW for one channel).
  const dsess = await ort.InferenceSession.create(buildDiscriminatorOnnx(arch, weights));
  const s = arch.side;
  const field = new Float32Array(b * (conditional ? 2 : 1) * s ** 3);
  for (let r = 0; r < b; r++) {
    const base = r * (conditional ? 2 : 1) * s ** 3;
    field.set(ref.subarray(r * s ** 3, (r + 1) * s ** 3), base);
    if (conditional) field.fill(0.5, base + s ** 3, base + 2 * s ** 3);
  }
  const dout = await dsess.run({
    [GAN_DISCRIMINATOR_INPUT]: new ort.Tensor("float32", field, [b, conditional ? 2 : 1, s, s, s]),
  });
  const p = dout[GAN_DISCRIMINATOR_OUTPUT].data as Float32Array;
  await breathe();
  const logits = tf.tidy(() =>
    gan
      .discriminate(
        tf.tensor5d(ref, [b, s, s, s, 1]),
        false,
        conditional ? tf.tensor1d([0.5, 0.5]) : undefined,
      )
      .dataSync(),
  );
  for (let r = 0; r < b; r++)
    expect(Math.abs(1 / (1 + Math.exp(-logits[r])) - p[r])).toBeLessThanOrEqual(1e-5);
  await dsess.release();

  // ONNX layouts survive TF.js and back.
  const back = gan.weights();
  for (const [name, w] of weights)
    expect(Array.from(back.get(name)?.weight ?? [])).toEqual(Array.from(w.weight));
  gan.dispose();
}

test("reduced generator and discriminator: TF.js (inference mode) equals ONNX Runtime (BN folded) ≤ 1e-5", async () => {
  await parity(false);
}, 120_000);

test("conditional variant: z appended to the latent and as a constant discriminator channel, parity ≤ 1e-5", async () => {
  await parity(true);
}, 120_000);
