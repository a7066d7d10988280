/**
 * Unfolding an exported generator (batch norm folded into its convolutions) back to trainable
 * weights with batch norm (src/models/gan/gan-unfold.ts): inference mode reproduces the .onnx
 * to float32 rounding (ONNX Runtime is the reference), a card's latent width is carried into
 * the first layer's latent inputs only, and training mode (batch moments) stays within the
 * batch's moment noise of it — which a naive import (γ = 1, β = b', moments 0 and 1) does not.
 */
import fs from "node:fs";
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { GAN_BATCH_NORM_EPSILON, ganArchitecture, type GanArchitecture } from "../../../src/models/gan/architecture.js";
import { buildGeneratorOnnx, GAN_LATENT_INPUT, GAN_OUTPUT } from "../../../src/models/gan/gan-onnx.js";
import { generatorLayersFromOnnx } from "../../../src/models/gan/gan-native.js";
import { GanTf } from "../../../src/models/gan/gan-tf.js";
import { unfoldGenerator } from "../../../src/models/gan/gan-unfold.js";
import { initialGanWeights, type GanLayerWeights } from "../../../src/models/gan/gan-weights.js";
import { generatorParity, GAN_PARITY_TOLERANCE } from "../../../src/models/gan/gan-export.js";
import { modelStart, modelStartWeights } from "../../../src/models/gan/gan-init-model.js";
import { defaultGanPath } from "../../../src/models/default-model.js";
import { latentBatch } from "../../../src/models/gan/latent.js";
import { enableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { uniformStream } from "../../../src/models/weight-init.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  enableFastKernels({ threads: 2 });
});

/** Weights as after training: γ, β, biases and moving moments far from their initial values. */
function trainedLike(arch: GanArchitecture, seed: number): Map<string, GanLayerWeights> {
  const w = initialGanWeights(arch, seed);
  const u = uniformStream(seed, "trained-like");
  for (const lw of w.values()) {
    lw.weight = lw.weight.map((v) => v * 10);
    for (const k of ["gamma", "beta", "bias", "movingMean"] as const) if (lw[k]) lw[k] = lw[k].map((v) => v + (u() - 0.5));
    if (lw.movingVariance) lw.movingVariance = lw.movingVariance.map(() => 0.2 + u());
  }
  return w;
}

async function onnxRun(bytes: Uint8Array, z: Float32Array, rows: number, width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z, [rows, width, 1, 1, 1]) });
    return Float32Array.from(out[GAN_OUTPUT].data as Float32Array);
  } finally {
    await session.release();
  }
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const rms = (a: Float32Array, b?: Float32Array) =>
  Math.sqrt(a.reduce((s, v, i) => s + (v - (b ? b[i] : 0)) ** 2, 0) / a.length);

function generate(gan: GanTf, z: Float32Array, rows: number, width: number, training: boolean): Float32Array {
  return tf.tidy(() => Float32Array.from(gan.generate(tf.tensor2d(z, [rows, width]), training).dataSync()));
}

test.each([
  ["unconditional, width 1", false, 1],
  ["unconditional, width 1.1", false, 1.1],
  ["conditional, width 0.9", true, 0.9],
])("%s: the unfolded generator in inference mode is the .onnx", async (_, conditional, scale) => {
  const arch = ganArchitecture({ filters: [16, 8, 1], latentDim: 10, conditional });
  const bytes = buildGeneratorOnnx(arch, trainedLike(arch, 4));
  const width = arch.generator[0].inChannels;
  const redshift = conditional ? 0.7 : undefined;
  const probe = latentBatch(1, 2, 0, 256, arch.latentDim, undefined, redshift);
  const unfolded = unfoldGenerator(tf, arch, generatorLayersFromOnnx(bytes, arch), probe, scale);
  const gan = new GanTf(tf, arch, new Map([...initialGanWeights(arch, 9), ...unfolded]));
  try {
    const rows = 3;
    const z = latentBatch(2, 0, 0, rows, arch.latentDim, undefined, redshift);
    // The reference: the .onnx on latents drawn at the card's width (z channel unscaled).
    const scaled = z.map((v, k) => (k % width < arch.latentDim ? v * scale : v));
    const ref = await onnxRun(bytes, scaled, rows, width);
    const ours = generate(gan, z, rows, width, false);
    expect(maxAbs(ours, ref)).toBeLessThanOrEqual(GAN_PARITY_TOLERANCE * Math.max(1, rms(ref)));
    expect(rms(ref)).toBeGreaterThan(0.05);
  } finally {
    gan.dispose();
  }
});

test("training mode of the unfolded generator stays within batch noise of inference; a naive import does not", async () => {
  const arch = ganArchitecture({ filters: [16, 8, 1], latentDim: 10, conditional: false });
  const bytes = buildGeneratorOnnx(arch, trainedLike(arch, 5));
  const folded = generatorLayersFromOnnx(bytes, arch);
  const width = arch.generator[0].inChannels;
  const rows = 64;
  const z = latentBatch(3, 0, 0, rows, arch.latentDim);
  const ref = await onnxRun(bytes, z, rows, width);
  const spread = rms(ref, new Float32Array(ref.length).fill(ref.reduce((s, v) => s + v, 0) / ref.length));
  const probe = latentBatch(1, 2, 0, 256, arch.latentDim);
  const unfolded = new GanTf(tf, arch, new Map([...initialGanWeights(arch, 9), ...unfoldGenerator(tf, arch, folded, probe)]));
  const naiveWeights = new Map(initialGanWeights(arch, 9));
  for (const f of folded)
    naiveWeights.set(
      f.layer.name,
      f.layer.batchNorm
        ? {
            weight: f.weight,
            gamma: new Float32Array(f.bias.length).fill(1),
            beta: f.bias,
            movingMean: new Float32Array(f.bias.length),
            movingVariance: new Float32Array(f.bias.length).fill(1 - GAN_BATCH_NORM_EPSILON),
          }
        : { weight: f.weight, bias: f.bias },
    );
  const naive = new GanTf(tf, arch, naiveWeights);
  try {
    // Both equal the .onnx in inference mode …
    for (const g of [unfolded, naive])
      expect(maxAbs(generate(g, z, rows, width, false), ref)).toBeLessThanOrEqual(GAN_PARITY_TOLERANCE * Math.max(1, spread));
    // … but in training mode the naive import normalises each channel to unit variance and
    // zero mean, while the unfolded one differs only by the moment noise of 64 latents against
    // 256: at most ~1/√64 ≈ 0.12 of the field's spread (whole latents, not voxels, are the
    // independent samples of each channel's moments; the layers' noise partly averages out).
    const unfoldedError = rms(generate(unfolded, z, rows, width, true), ref) / spread;
    const naiveError = rms(generate(naive, z, rows, width, true), ref) / spread;
    expect(unfoldedError).toBeLessThan(0.15);
    expect(naiveError).toBeGreaterThan(3 * unfoldedError);
  } finally {
    unfolded.dispose();
    naive.dispose();
  }
});

test("the bundled GAN unfolds to a generator ONNX Runtime agrees with (export parity tolerance)", async () => {
  const start = await modelStart("default", {
    architecture: { filters: [64, 32, 32, 1], latentDim: 100, conditional: false },
    latentPrior: { kind: "student-t", nu: 10, scale: 1 },
    kappa: 2,
  }, ganArchitecture({ filters: [64, 32, 32, 1], latentDim: 100, conditional: false }));
  expect(start.file).toBe(defaultGanPath());
  const arch = ganArchitecture(start.card.architecture);
  const gan = new GanTf(tf, arch, modelStartWeights(tf, arch, start, 1));
  try {
    const bytes = fs.readFileSync(start.file);
    const parity = await generatorParity(tf, gan, bytes, start.card.latentPrior);
    expect(parity.maxAbsDifference).toBeLessThanOrEqual(GAN_PARITY_TOLERANCE * Math.max(1, parity.scale));
  } finally {
    gan.dispose();
  }
}, 120_000);
