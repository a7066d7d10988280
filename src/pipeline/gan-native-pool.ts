/**
 * The GAN generator on our native kernels (models/gan/gan-native.ts) as a worker pool: W piscina
 * threads, each holding one NativeGanGenerator built once from the model's bytes (those
 * loadGanModel checked against the card's sha256, not the file read again), one kernel thread
 * each (the workers are the parallelism). A batch is generated whole by one worker with a fixed
 * summation order, so samples do not depend on the worker count.
 *
 * Which engine samples: "ort" runs the ONNX graph in ONNX Runtime on any device; "native" runs
 * the generator on the x86-64 kernels (CPU only, needs AVX2 + FMA), about 1.5–2× ONNX Runtime's
 * CPU throughput per thread (README, benchmarks); "auto" takes native where it applies.
 */
import { InputError } from "../io/atomic-file.js";
import type { LoadedGanModel } from "../io/gan-model-file.js";
import type { GanArchitecture } from "../models/gan/architecture.js";
import { cardArchitecture } from "../models/gan/gan-card.js";
import {
  generatorLayersFromOnnx,
  nativeEngineUnavailable,
  type DensityOutput,
  type GanEngine,
} from "../models/gan/gan-native.js";
import { TransferringPool, type DeviceSpec } from "./worker-pool.js";

export const GAN_ENGINE_CHOICES = ["auto", "ort", "native"] as const;
export type GanEngineChoice = (typeof GAN_ENGINE_CHOICES)[number];
export type { GanEngine };

/** Resolves --engine for `model` on `device`; an impossible explicit choice is an InputError. */
export function chooseGanEngine(
  choice: GanEngineChoice,
  model: LoadedGanModel,
  device: DeviceSpec,
): GanEngine {
  if (choice === "ort") return "ort";
  let why: string | null = null;
  if (device.kind !== "cpu") why = `it runs on the cpu, not ${device.kind}`;
  else {
    try {
      const arch = cardArchitecture(model.card);
      why = nativeEngineUnavailable(arch);
      if (why === null) generatorLayersFromOnnx(model.bytes, arch);
    } catch (err) {
      why = `${model.path}: ${(err as Error).message}`;
    }
  }
  return engineFor(choice, why);
}

/** The engine of `choice` given why native cannot run (null: it can); auto falls back to ort. */
export function engineFor(choice: GanEngineChoice, whyNotNative: string | null): GanEngine {
  if (choice === "ort") return "ort";
  if (whyNotNative === null) return "native";
  if (choice === "auto") return "ort";
  throw new InputError("--engine", `native cannot sample this model: ${whyNotNative}`);
}

export interface NativeGanPoolOptions {
  /** The .onnx file's bytes (copied to each worker). */
  modelBytes: Uint8Array;
  arch: GanArchitecture;
  workers: number;
}

export class NativeGanPool extends TransferringPool {
  constructor(options: NativeGanPoolOptions) {
    super(
      new URL("./gan-native-worker.mjs", import.meta.url),
      options.workers,
      { modelBytes: options.modelBytes, arch: options.arch },
      "native GAN worker",
    );
  }

  /**
   * `rows` latent vectors in (transferred) → rows × S³ densities out, inverted from the last
   * layer's pre-activation on the worker (NativeGanGenerator.generate), which keeps that pass
   * off the calling thread.
   */
  async density(values: Float32Array, rows: number, density: DensityOutput): Promise<Float32Array> {
    return this.run(values, { rows, density });
  }
}
