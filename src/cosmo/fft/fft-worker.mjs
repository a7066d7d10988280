// Worker-thread entry for RealFft3d: WebAssembly kernels (one per grid shape, a few cached),
// fed jobs by message from the shared thread pool.
import { parentPort, workerData } from "node:worker_threads";
import { WasmFftKernel } from "./wasm-fft-kernel.mjs";
import { runShare } from "./fft-work-share.mjs";

/** Kernels by shape, least recently used first. */
const kernels = new Map();
const MAX_KERNELS = 4;

/** @param {readonly [number, number, number]} shape */
function kernelFor(shape) {
  const key = shape.join("x");
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    kernel = new WasmFftKernel(workerData.module, shape);
    if (kernels.size >= MAX_KERNELS) kernels.delete(kernels.keys().next().value);
  } else {
    kernels.delete(key);
  }
  kernels.set(key, kernel);
  return kernel;
}

parentPort?.on("message", (job) => {
  try {
    runShare(kernelFor(job.shape), job);
  } catch (error) {
    // runShare has flagged the failure to the waiting thread, which throws; log the cause here.
    console.error(error);
  }
});
