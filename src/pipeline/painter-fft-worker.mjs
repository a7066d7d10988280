// Piscina worker: one FftPainter (models/painter/painter-fft.ts) per worker thread, built on the
// first task and reused. Plain JavaScript (.mjs) like ./inference-worker.mjs; the painter itself
// is TypeScript, imported compiled from dist/ or, from the sources (tests), through
// ./typescript-source-hooks.mjs.
//
// workerData: { arch: PainterArchitecture, weights: Map<layer name, { weight, bias }>,
//   maxFftSide: number, inputOffset: number }
import { existsSync } from "node:fs";
import { register } from "node:module";
import { move, workerData } from "piscina";
import { announceReady } from "./worker-ready.mjs";

const compiled = new URL("../models/painter/painter-fft.js", import.meta.url);
const fromSources = !existsSync(compiled);
if (fromSources) register("./typescript-source-hooks.mjs", import.meta.url);
const engine = fromSources ? new URL("../models/painter/painter-fft.ts", import.meta.url) : compiled;
const { FftPainter } = await import(engine.href);

let painter;

/**
 * task: { values: Float32Array (rows × inChannels × side³, transferred), rows, side }; returns
 * rows × outChannels × (side − 2·padding)³ values (transferred). Every patch is painted alone by
 * the same code, so results do not depend on how patches are spread over workers.
 *
 * @param {{ values: Float32Array, rows: number, side: number }} task
 * @returns {unknown}
 */
export default function paint(task) {
  const { arch, weights, maxFftSide, inputOffset } = workerData;
  painter ??= new FftPainter(arch, weights, { maxFftSide });
  const { values, rows, side } = task;
  if (inputOffset !== 0) for (let i = 0; i < values.length; i++) values[i] += inputOffset;
  const inSize = arch.inChannels * side ** 3;
  const outSize = arch.outChannels * (side - 2 * arch.padding) ** 3;
  if (values.length !== rows * inSize)
    throw new RangeError(`${values.length} values for ${rows} patch(es) of ${arch.inChannels}×${side}³`);
  const out = new Float32Array(rows * outSize);
  for (let r = 0; r < rows; r++)
    out.set(painter.paint(values.subarray(r * inSize, (r + 1) * inSize), side), r * outSize);
  return move(out);
}

// Last: every import above has loaded (./worker-ready.mjs says why the pool waits for this).
announceReady();
