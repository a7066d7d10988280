/**
 * Worker threads shared by every RealFft3d of this thread: spawned on first need, grown to the
 * largest thread count asked for, unref()ed so they never keep the process alive, and
 * terminated when the last RealFft3d using them is disposed. Sharing avoids a thread spawn
 * (tens of ms) per FFT object and thread build-up when objects are created in loops.
 */
import { Worker } from "node:worker_threads";
import type { FftJob } from "./fft-work-share.mjs";

const workers: Worker[] = [];
let users = 0;

/** Registers a user that will post jobs to `count` workers; spawns missing ones. */
export function acquireFftWorkers(module: WebAssembly.Module, count: number): void {
  users++;
  while (workers.length < count) {
    const worker = new Worker(new URL("./fft-worker.mjs", import.meta.url), { workerData: { module } });
    worker.unref();
    workers.push(worker);
  }
}

/** Posts `job` to the first `count` workers (they take shares of it as they get to it). */
export function postFftJob(job: FftJob, count: number): void {
  for (let i = 0; i < count; i++) workers[i].postMessage(job);
}

/** Unregisters a user; the last one out terminates the workers. */
export function releaseFftWorkers(): void {
  users = Math.max(0, users - 1);
  if (users === 0) {
    for (const w of workers) void w.terminate();
    workers.length = 0;
  }
}
