/**
 * Where the bundled, trained models live: the halo painter in models/painter/default/
 * (painter.onnx, its card and its TF.js weights) and the density GAN in models/gan/default/
 * (gan.onnx and its card), trained by `mocksmith train painter` / `train gan` + `select-gan` on
 * mocksmith's own N-body sets (the README says how to reproduce them; the cards record data,
 * settings and held-out scores). A package without them (a trimmed install) fails
 * `--model default` with a clear message rather than running untrained weights.
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

/** models/gan/default/gan.onnx at the package root. */
export function defaultGanPath(): string {
  return path.join(packageRoot(), "models", "gan", "default", "gan.onnx");
}

/**
 * A GAN named "default" (the bundled one), by its .onnx, its card (X.card.json → X.onnx) or its
 * directory (DIR/gan.onnx).
 */
export function resolveGanModelPath(given: string, key = "--model"): string {
  if (given === "default") {
    if (!fs.existsSync(defaultGanPath()))
      throw new InputError(
        `${key} default`,
        `no trained default GAN found at ${defaultGanPath()}; pass a model PATH.onnx (with its .card.json beside it)`,
      );
    return defaultGanPath();
  }
  if (given.endsWith(".card.json")) return given.slice(0, -".card.json".length) + ".onnx";
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(given);
  } catch {
    stat = undefined;
  }
  return stat?.isDirectory() ? path.join(given, "gan.onnx") : given;
}
