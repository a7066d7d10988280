/**
 * Exporting a GAN: the generator as ONNX (batch norm folded), checked against the TF.js model in
 * inference mode on a probe batch (relative tolerance 1e-5), then weights JSON, .onnx and card
 * written atomically (io/gan-model-file.ts). A graph that fails the check is not written.
 */
import * as ort from "onnxruntime-node";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { ModelCardParity } from "../model-card.js";
import { writeGanModel } from "../../io/gan-model-file.js";
import { cardArchitectureOf, type GanCard } from "./gan-card.js";
import { buildGeneratorOnnx, GAN_LATENT_INPUT, GAN_OUTPUT } from "./gan-onnx.js";
import type { GanTf } from "./gan-tf.js";
import { ganWeightsJson, GAN_WEIGHTS_FORMAT } from "./gan-weights-json.js";
import { latentBatch, LATENT_STREAM_SAMPLING, type LatentPrior } from "./latent.js";

export const GAN_PARITY_TOLERANCE = 1e-5;
const PROBE_SEED = 0x6a4e;

/** ONNX Runtime on `bytes` against the TF.js generator (inference mode) on two probe latents. */
export async function generatorParity(
  tf: TensorFlow,
  gan: GanTf,
  bytes: Uint8Array,
  prior: LatentPrior,
  redshift?: number,
): Promise<ModelCardParity> {
  const a = gan.arch;
  const b = 2;
  const width = a.generator[0].inChannels;
  const z = latentBatch(
    PROBE_SEED,
    LATENT_STREAM_SAMPLING,
    0,
    b,
    a.latentDim,
    prior,
    a.conditional ? (redshift ?? 0) : undefined,
  );
  const ours = tf.tidy(() => gan.generate(tf.tensor2d(z, [b, width]), false).dataSync());
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z, [b, width, 1, 1, 1]) });
    const ref = out[GAN_OUTPUT].data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    return {
      reference: "onnxruntime-node CPU",
      side: a.side,
      maxAbsDifference: diff,
      scale,
      tolerance: GAN_PARITY_TOLERANCE,
    };
  } finally {
    await session.release();
  }
}

export type GanCardFields = Omit<
  GanCard,
  "sha256" | "format" | "formatVersion" | "weights" | "architecture" | "inputName" | "outputName" | "parity"
>;

/**
 * Builds, checks and writes `onnxPath` with its card and (unless `tfjsWeights` is false) the
 * TF.js weights JSON of generator and discriminator, which fine-tuning needs and sampling does not.
 */
export async function exportGan(
  tf: TensorFlow,
  gan: GanTf,
  onnxPath: string,
  fields: GanCardFields,
  tfjsWeights = true,
): Promise<GanCard> {
  const weights = gan.weights();
  const bytes = buildGeneratorOnnx(gan.arch, weights);
  const parity = await generatorParity(
    tf,
    gan,
    bytes,
    fields.latentPrior,
    fields.redshiftRange?.[0] ?? fields.redshift ?? 0,
  );
  if (!(parity.maxAbsDifference <= GAN_PARITY_TOLERANCE * Math.max(1, parity.scale)))
    throw new Error(
      `exported ONNX generator differs from the TF.js model by ${parity.maxAbsDifference} (tolerance ${GAN_PARITY_TOLERANCE}); not exporting`,
    );
  return writeGanModel(
    onnxPath,
    bytes,
    {
      ...fields,
      architecture: cardArchitectureOf(gan.arch),
      inputName: GAN_LATENT_INPUT,
      outputName: GAN_OUTPUT,
      parity,
    },
    tfjsWeights ? { text: ganWeightsJson(gan.arch, weights), format: GAN_WEIGHTS_FORMAT } : undefined,
  );
}
