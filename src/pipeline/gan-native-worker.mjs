// Piscina worker: one NativeGanGenerator (models/gan/gan-native.ts) per worker thread, built from
// the model's bytes when the worker starts and reused. Plain JavaScript (.mjs) like ./inference-worker.mjs;
// the generator itself is TypeScript, imported compiled from dist/ or, from the sources (tests),
// through ./typescript-source-hooks.mjs.
//
// workerData: { modelBytes: Uint8Array (the checked .onnx), arch: GanArchitecture }
import { existsSync } from "node:fs";
import { register } from "node:module";
import { move, workerData } from "piscina";
import { announceReady } from "./worker-ready.mjs";

const compiled = new URL("../models/gan/gan-native.js", import.meta.url);
const fromSources = !existsSync(compiled);
if (fromSources) register("./typescript-source-hooks.mjs", import.meta.url);
const engine = fromSources ? new URL("../models/gan/gan-native.ts", import.meta.url) : compiled;
const { NativeGanGenerator, generatorLayersFromOnnx } = await import(engine.href);

// Built as the worker starts (not on its first task), so that reading and laying out the weights
// overlaps the calling thread's own start-up.
const generator = new NativeGanGenerator(
  workerData.arch,
  generatorLayersFromOnnx(workerData.modelBytes, workerData.arch),
);

/**
 * task: { values: Float32Array (rows × latent width, transferred), rows, density: { kappa, cap,
 * offset } }; returns the rows × S³ densities (transferred; NativeGanGenerator.generate).
 *
 * @param {{ values: Float32Array, rows: number, density: { kappa: number, cap: number, offset: number } }} task
 * @returns {unknown}
 */
export default function generate(task) {
  return move(generator.generate(task.values, task.rows, task.density));
}

// Last: every import above has loaded (./worker-ready.mjs says why the pool waits for this).
announceReady();
