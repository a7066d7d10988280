/**
 * Reading and writing an ONNX model together with its card (models/model-card.ts), with the
 * checks that turn every way a model can be wrong into one error naming the file: card missing
 * or malformed, file not ONNX or truncated, hash mismatch, and card and graph disagreeing on
 * tensor names, channel counts or padding (found by running a one-voxel-output probe).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { InputError, writeAtomically } from "./atomic-file.js";
import { modelCardProblems, type ModelCard } from "../models/model-card.js";

export function cardPathFor(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/i, "") + ".card.json";
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

/** Writes `model.onnx` and `model.card.json` (the card's sha256 filled in from the bytes). */
export function writeModelWithCard(
  onnxPath: string,
  bytes: Uint8Array,
  card: Omit<ModelCard, "sha256" | "format" | "formatVersion">,
): ModelCard {
  const full: ModelCard = {
    format: "mocksmith-model-card",
    formatVersion: 1,
    ...card,
    sha256: sha256Hex(bytes),
  };
  writeAtomically(onnxPath, (tmp) => fs.writeFileSync(tmp, bytes));
  writeAtomically(cardPathFor(onnxPath), (tmp) =>
    fs.writeFileSync(tmp, JSON.stringify(full, null, 2) + "\n"),
  );
  return full;
}

export interface LoadedModel {
  path: string;
  card: ModelCard;
}

/** The card beside an ONNX file as parsed JSON (not yet validated), or a one-line InputError. */
export function readCardJson(onnxPath: string): { file: string; parsed: unknown } {
  const file = cardPathFor(onnxPath);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new InputError(onnxPath, `model card ${file} not found; every model needs a card beside it`);
  }
  try {
    return { file, parsed: JSON.parse(text) as unknown };
  } catch (err) {
    throw new InputError(file, `model card is not valid JSON (${(err as Error).message})`);
  }
}

/** The painter card beside an ONNX file, validated, or a one-line InputError naming the card. */
export function readModelCard(onnxPath: string): ModelCard {
  const { file, parsed } = readCardJson(onnxPath);
  const problems = modelCardProblems(parsed);
  if (problems.length > 0) throw new InputError(file, `invalid model card: ${problems.join("; ")}`);
  return parsed as ModelCard;
}

function dimsText(d: readonly (number | string)[]): string {
  return `(${d.join(", ")})`;
}

/** Where the weights file a card names lies: beside the ONNX file. */
export function cardWeightsPath(onnxPath: string, file: string): string {
  return path.join(path.dirname(onnxPath), file);
}

/**
 * The weights file a card lists beside its ONNX file, checked against the card's sha256, or a
 * one-line InputError naming the file.
 */
export function readCardWeights(onnxPath: string, weights: { file: string; sha256: string }): Buffer {
  const wp = cardWeightsPath(onnxPath, weights.file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(wp);
  } catch {
    throw new InputError(wp, "weights file named by the card is missing");
  }
  const hash = sha256Hex(bytes);
  if (hash !== weights.sha256)
    throw new InputError(
      wp,
      `sha256 ${hash} differs from the card's ${weights.sha256} (damaged or replaced)`,
    );
  return bytes;
}

/** The ONNX file's bytes, or a one-line InputError naming it. */
export function readModelBytes(onnxPath: string): Buffer {
  try {
    return fs.readFileSync(onnxPath);
  } catch (err) {
    throw new InputError(
      onnxPath,
      `cannot read model: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** The card's sha256 must be the ONNX file's: otherwise the card describes another model. */
export function checkModelHash(onnxPath: string, bytes: Uint8Array, expected: string): void {
  const hash = sha256Hex(bytes);
  if (hash !== expected)
    throw new InputError(
      onnxPath,
      `sha256 ${hash} differs from the card's ${expected}; the card belongs to another model`,
    );
}

/** An ONNX Runtime session on the bytes (the caller releases it), or "not a valid ONNX model". */
export async function openModelSession(onnxPath: string, bytes: Uint8Array): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes);
  } catch (err) {
    const why = String((err as Error).message ?? err).split("\n")[0];
    throw new InputError(onnxPath, `not a valid ONNX model (ONNX Runtime: ${why})`);
  }
}

/** Loads and checks a model and its card; the session used for the probe is released. */
export async function loadModel(onnxPath: string): Promise<LoadedModel> {
  const bytes = readModelBytes(onnxPath);
  const card = readModelCard(onnxPath);
  const session = await openModelSession(onnxPath, bytes);
  try {
    checkModelHash(onnxPath, bytes, card.sha256);
    const input = session.inputMetadata.find((m) => m.name === card.inputName);
    const output = session.outputMetadata.find((m) => m.name === card.outputName);
    if (!input || !input.isTensor) {
      throw new InputError(
        onnxPath,
        `card input '${card.inputName}' is not a graph input (graph inputs: ${session.inputNames.join(", ")})`,
      );
    }
    if (!output || !output.isTensor) {
      throw new InputError(
        onnxPath,
        `card output '${card.outputName}' is not a graph output (graph outputs: ${session.outputNames.join(", ")})`,
      );
    }
    if (input.shape.length !== 5 || output.shape.length !== 5) {
      throw new InputError(
        onnxPath,
        `expected 5D input and output (batch, channels, x, y, z), graph has ${dimsText(input.shape)} → ${dimsText(output.shape)}`,
      );
    }
    if (input.shape[1] !== card.inputChannels) {
      throw new InputError(
        onnxPath,
        `card says ${card.inputChannels} input channel(s), graph input is ${dimsText(input.shape)}`,
      );
    }
    if (typeof output.shape[1] === "number" && output.shape[1] !== card.outputChannels) {
      throw new InputError(
        onnxPath,
        `card says ${card.outputChannels} output channel(s), graph output is ${dimsText(output.shape)}`,
      );
    }
    // Probe: an input of side 2·padding + 2 must give an output of side 2.
    const side = 2 * card.padding + 2;
    const probe = new ort.Tensor("float32", new Float32Array(card.inputChannels * side ** 3).fill(1), [
      1,
      card.inputChannels,
      side,
      side,
      side,
    ]);
    let dims: readonly number[];
    try {
      const result = await session.run({ [card.inputName]: probe });
      dims = result[card.outputName].dims;
    } catch (err) {
      const why = String((err as Error).message ?? err).split("\n")[0];
      throw new InputError(
        onnxPath,
        `card and graph disagree: a probe of input side ${side} (card padding ${card.padding}) fails: ${why}`,
      );
    }
    const expected = [1, card.outputChannels, 2, 2, 2];
    if (dims.length !== 5 || dims.some((d, i) => d !== expected[i])) {
      throw new InputError(
        onnxPath,
        `card and graph disagree: input side ${side} with card padding ${card.padding} should give output ${dimsText(expected)}, the graph gives ${dimsText(dims)}`,
      );
    }
    return { path: onnxPath, card };
  } finally {
    await session.release();
  }
}
