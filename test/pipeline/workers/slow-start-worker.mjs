// Test worker (worker-pool-close.test.ts): takes workerData.startMs to start, counts its finished
// start in workerData.started (Int32 on a SharedArrayBuffer), then echoes its tasks' values.
import { setTimeout } from "node:timers/promises";
import { move, workerData } from "piscina";
import { announceReady } from "../../../src/pipeline/worker-ready.mjs";

await setTimeout(workerData.startMs);
Atomics.add(new Int32Array(workerData.started), 0, 1);

/**
 * @param {{ values: Float32Array }} task
 * @returns {unknown}
 */
export default function echo(task) {
  return move(task.values);
}

announceReady();
