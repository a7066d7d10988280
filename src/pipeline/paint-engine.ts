/**
 * Which engine paints: ONNX Runtime on any model ("ort"), or the halo painter evaluated with FFT
 * convolutions ("fft", models/painter/painter-fft.ts; about 2× ONNX Runtime's CPU throughput
 * per thread) for cards whose architecture is the halo painter. "auto" takes fft where it
 * applies (halo painter, cpu device), else ort.
 */
import fs from "node:fs";
import { InputError } from "../io/atomic-file.js";
import type { ModelCard } from "../models/model-card.js";
import { painterArchitecture, type PainterArchitecture } from "../models/painter/architecture.js";
import type { PainterWeights } from "../models/painter/painter-onnx.js";
import { painterFromOnnx } from "../models/painter/painter-onnx-weights.js";
import type { DeviceSpec } from "./worker-pool.js";

export const ENGINE_CHOICES = ["auto", "ort", "fft"] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

/**
 * Default largest FFT side: with 64-voxel tiles (72-voxel patches) the painter then works on
 * 2³ sub-patches of a 40³ grid, ~0.2 GB per worker (a 72³ grid would need ~0.9 GB per worker).
 */
export const DEFAULT_MAX_FFT_SIDE = 64;

export interface FftEngine {
  arch: PainterArchitecture;
  weights: PainterWeights;
  maxFftSide: number;
}

export type PaintEngine = { kind: "ort" } | ({ kind: "fft" } & FftEngine);

/** Resolves --engine for the model at `modelPath` with card `card`. */
export function choosePaintEngine(
  choice: EngineChoice,
  card: ModelCard,
  modelPath: string,
  device: DeviceSpec,
  maxFftSide = DEFAULT_MAX_FFT_SIDE,
): PaintEngine {
  if (choice === "ort") return { kind: "ort" };
  const isPainter = card.architecture === painterArchitecture(card.outputChannels).name;
  if (choice === "auto" && (!isPainter || device.kind !== "cpu")) return { kind: "ort" };
  if (!isPainter)
    throw new InputError(
      modelPath,
      `--engine fft evaluates the halo painter only; the card says architecture '${card.architecture}'`,
    );
  if (device.kind !== "cpu") throw new InputError("--engine", `fft runs on the cpu, not ${device.kind}`);
  try {
    const { arch, weights } = painterFromOnnx(fs.readFileSync(modelPath), card.outputChannels);
    if (arch.padding !== card.padding || arch.inChannels !== card.inputChannels)
      throw new RangeError(`the card's padding or input channels differ from the halo painter's`);
    return { kind: "fft", arch, weights, maxFftSide };
  } catch (err) {
    if (choice === "auto") return { kind: "ort" };
    throw new InputError(modelPath, `cannot read halo-painter weights: ${(err as Error).message}`);
  }
}
