// Worker-thread entry for RealFft3d: one WebAssembly kernel per thread, fed jobs by message.
import { parentPort, workerData } from "node:worker_threads";
import { WasmFftKernel } from "./wasm-fft-kernel.mjs";
import { runShare } from "./fft-work-share.mjs";

const kernel = new WasmFftKernel(workerData.module, workerData.shape);

parentPort?.on("message", (job) => {
  try {
    runShare(kernel, job);
  } catch (error) {
    // runShare has flagged the failure to the waiting thread, which throws; log the cause here.
    console.error(error);
  }
});
