/**
 * Worker threads that run units of WebAssembly kernel jobs on one shared WebAssembly.Memory
 * (unit-worker.mjs), with the calling thread taking its share and blocking (Atomics.wait)
 * until the job is done, which keeps kernel calls synchronous as TensorFlow.js expects.
 * Workers are unref()ed so they never keep the process alive.
 */
import { Worker } from "node:worker_threads";
import type { WasmMemory } from "./conv3d-wasm.js";
import { CONTROL_WORDS, runUnits, waitUnits } from "./unit-share.mjs";

export type UnitKernel = "forward_unit" | "input_grad_unit" | "filter_grad_unit";

export class UnitPool {
  private readonly workers: Worker[];

  /** One worker per entry of `stacks` (the stack top each worker's instance uses). */
  constructor(module: WebAssembly.Module, memory: WasmMemory, stacks: readonly number[]) {
    this.workers = stacks.map((stack) => {
      const w = new Worker(new URL("./unit-worker.mjs", import.meta.url), {
        workerData: { module, memory, stack },
      });
      w.unref();
      return w;
    });
  }

  /**
   * Runs units [0, units) of `kernel` with the parameter block at `params` on every worker and,
   * the calling thread through `runHere`.
   */
  run(kernel: UnitKernel, params: number, units: number, runHere: (unit: number) => void): void {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    this.workers.forEach((w) => w.postMessage({ kernel, params, units, control }));
    runUnits(control, units, runHere);
    waitUnits(control, units);
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}
