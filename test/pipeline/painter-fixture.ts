/** Writes random-weight painter models with cards into a directory, for the engine's tests. */
import path from "node:path";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import {
  buildPainterOnnx,
  PAINTER_INPUT,
  PAINTER_OUTPUT,
  randomPainterWeights,
} from "../../src/models/painter/painter-onnx.js";
import { writeModelWithCard } from "../../src/io/model-file.js";
import type { ModelCard } from "../../src/models/model-card.js";

export function writeRandomPainter(
  dir: string,
  options: {
    seed?: number;
    outChannels?: number;
    voxelSize?: number;
    name?: string;
    /** Output layer scaled by 0.1 with bias 1, so every channel paints positive counts (ReLU). */
    positiveOutput?: boolean;
    /** Card fields a trained model would carry (mass bins, training provenance). */
    card?: Pick<ModelCard, "massBins" | "training">;
  } = {},
): { path: string; card: ModelCard; bytes: Uint8Array } {
  const arch = painterArchitecture(options.outChannels ?? 1);
  const weights = new Map(randomPainterWeights(arch, options.seed ?? 1));
  if (options.positiveOutput) {
    const last = arch.head[arch.head.length - 1].name;
    const w = weights.get(last)!;
    weights.set(last, { weight: w.weight.map((v) => 0.1 * v), bias: w.bias.map(() => 1) });
  }
  const bytes = buildPainterOnnx(arch, weights);
  const file = path.join(dir, `${options.name ?? "painter"}.onnx`);
  const card = writeModelWithCard(file, bytes, {
    name: "halo-painter-random",
    architecture: arch.name,
    inputName: PAINTER_INPUT,
    outputName: PAINTER_OUTPUT,
    inputChannels: arch.inChannels,
    outputChannels: arch.outChannels,
    padding: arch.padding,
    voxelSize: options.voxelSize ?? 2,
    inputNormalisation: "rho-over-mean",
    trained: false,
    ...options.card,
  });
  return { path: file, card, bytes };
}
