// Piscina worker: one NativeGanGenerator (models/gan/gan-native.ts) per worker thread, built from
// the model file on the first task and reused. Plain JavaScript (.mjs) like ./inference-worker.mjs;
// the generator itself is TypeScript, imported compiled from dist/ or, from the sources (tests),
// through ./typescript-source-hooks.mjs.
//
// workerData: { modelPath: string, arch: GanArchitecture }
import { existsSync, readFileSync } from "node:fs";
import { register } from "node:module";
import { move, workerData } from "piscina";

const compiled = new URL("../models/gan/gan-native.js", import.meta.url);
const fromSources = !existsSync(compiled);
if (fromSources) register("./typescript-source-hooks.mjs", import.meta.url);
const engine = fromSources ? new URL("../models/gan/gan-native.ts", import.meta.url) : compiled;
const { NativeGanGenerator, generatorLayersFromOnnx } = await import(engine.href);

let generator;

/**
 * task: { values: Float32Array (rows × latent width, transferred), rows, density? }; returns
 * rows × S³ values (transferred): the tanh output c, or with density = { kappa, cap, offset }
 * the densities it stands for (NativeGanGenerator.generate).
 *
 * @param {{ values: Float32Array, rows: number, density?: { kappa: number, cap: number, offset: number } }} task
 * @returns {unknown}
 */
export default function generate(task) {
  const { modelPath, arch } = workerData;
  generator ??= new NativeGanGenerator(arch, generatorLayersFromOnnx(readFileSync(modelPath), arch), 1);
  return move(generator.generate(task.values, task.rows, task.density));
}
