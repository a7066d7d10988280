/**
 * Where the bundled, trained halo painter lives. None is bundled in this version (training it
 * needs the fast training kernels of issue 5 and the training loop of issue 6); until then
 * `--model default` and `halos.model: default` fail with a clear message rather than paint with
 * untrained weights.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../io/atomic-file.js";
import { packageRoot } from "../package-root.js";

/** models/painter/default/painter.onnx at the package root (beside src/ and dist/). */
export function defaultPainterPath(): string {
  return path.join(packageRoot(), "models", "painter", "default", "painter.onnx");
}

export function defaultPainterAvailable(): boolean {
  return fs.existsSync(defaultPainterPath());
}

/** Resolves "default" to the bundled painter; any other value is a path and is returned as is. */
export function resolveModelPath(model: string, key = "--model"): string {
  if (model !== "default") return model;
  if (!defaultPainterAvailable()) {
    throw new InputError(
      `${key} default`,
      "no trained default painter is bundled with this version yet; pass a model PATH.onnx (with its .card.json beside it)",
    );
  }
  return defaultPainterPath();
}
