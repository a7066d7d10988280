/**
 * Where the bundled, trained halo painter lives: models/painter/default/ (painter.onnx, its card
 * and its TF.js weights), trained by `mocksmith train painter` on mocksmith's own N-body set (the
 * README says how to reproduce it; the card records data, settings and held-out scores). A
 * package without it (a trimmed install) fails `--model default` with a clear message rather
 * than painting with untrained weights.
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
      `no trained default painter found at ${defaultPainterPath()}; pass a model PATH.onnx (with its .card.json beside it)`,
    );
  }
  return defaultPainterPath();
}
