/**
 * Writing and loading a GAN model: `NAME.onnx` (the generator, batch norm folded), `NAME.card.json`
 * (models/gan/gan-card.ts) and `NAME.weights.json` (TF.js layout), with the checks that turn every
 * way a model can be wrong into one error naming the file: card missing or malformed, ONNX or
 * weights hash mismatch, file not ONNX, and card and graph disagreeing on tensor names, latent
 * width or output side (found by a one-sample probe run).
 */
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { InputError, writeAtomically } from "./atomic-file.js";
import {
  cardPathFor,
  checkModelHash,
  openModelSession,
  readCardJson,
  readCardWeights,
  readModelBytes,
  sha256Hex,
} from "./model-file.js";
import { GAN_CARD_FORMAT, ganCardProblems, type GanCard } from "../models/gan/gan-card.js";

export function ganWeightsPathFor(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/i, "") + ".weights.json";
}

/** Writes weights JSON (if given), then the .onnx, then the card (each atomically; the card last). */
export function writeGanModel(
  onnxPath: string,
  bytes: Uint8Array,
  card: Omit<GanCard, "sha256" | "format" | "formatVersion" | "weights">,
  weights?: { text: string; format: string },
): GanCard {
  let weightsRecord: GanCard["weights"];
  if (weights) {
    const wp = ganWeightsPathFor(onnxPath);
    writeAtomically(wp, (tmp) => fs.writeFileSync(tmp, weights.text));
    weightsRecord = {
      file: path.basename(wp),
      format: weights.format,
      sha256: sha256Hex(Buffer.from(weights.text, "utf8")),
    };
  }
  const full: GanCard = {
    format: GAN_CARD_FORMAT,
    formatVersion: 1,
    ...card,
    ...(weightsRecord ? { weights: weightsRecord } : {}),
    sha256: sha256Hex(bytes),
  };
  writeAtomically(onnxPath, (tmp) => fs.writeFileSync(tmp, bytes));
  writeAtomically(cardPathFor(onnxPath), (tmp) =>
    fs.writeFileSync(tmp, JSON.stringify(full, null, 2) + "\n"),
  );
  return full;
}

function readGanCard(onnxPath: string): GanCard {
  const { file, parsed } = readCardJson(onnxPath);
  if ((parsed as { format?: unknown })?.format === "mocksmith-model-card")
    throw new InputError(file, "is a painter model card, not a GAN's (format mocksmith-gan-card)");
  const problems = ganCardProblems(parsed);
  if (problems.length > 0) throw new InputError(file, `invalid GAN model card: ${problems.join("; ")}`);
  return parsed as GanCard;
}

export interface LoadedGanModel {
  path: string;
  card: GanCard;
  bytes: Uint8Array;
}

/** Loads and checks a GAN and its card (and its weights file when the card lists one). */
export async function loadGanModel(onnxPath: string): Promise<LoadedGanModel> {
  const bytes = readModelBytes(onnxPath);
  const card = readGanCard(onnxPath);
  checkModelHash(onnxPath, bytes, card.sha256);
  if (card.weights) readCardWeights(onnxPath, card.weights);
  const session = await openModelSession(onnxPath, bytes);
  try {
    const a = card.architecture;
    const width = a.latentDim + (a.conditional ? 1 : 0);
    if (!session.inputNames.includes(card.inputName))
      throw new InputError(
        onnxPath,
        `card input '${card.inputName}' is not a graph input (graph inputs: ${session.inputNames.join(", ")})`,
      );
    if (!session.outputNames.includes(card.outputName))
      throw new InputError(
        onnxPath,
        `card output '${card.outputName}' is not a graph output (graph outputs: ${session.outputNames.join(", ")})`,
      );
    let dims: readonly number[];
    try {
      const probe = new ort.Tensor("float32", new Float32Array(width), [1, width, 1, 1, 1]);
      dims = (await session.run({ [card.inputName]: probe }))[card.outputName].dims;
    } catch (err) {
      const why = String((err as Error).message ?? err).split("\n")[0];
      throw new InputError(
        onnxPath,
        `card and graph disagree: a latent of width ${width} (card) fails: ${why}`,
      );
    }
    const s = a.side;
    if (dims.join() !== [1, 1, s, s, s].join())
      throw new InputError(
        onnxPath,
        `card and graph disagree: the card promises output (1, 1, ${s}, ${s}, ${s}), the graph gives (${dims.join(", ")})`,
      );
    return { path: onnxPath, card, bytes };
  } finally {
    await session.release();
  }
}
