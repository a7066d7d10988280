/* global WebAssembly */
// Worker-thread entry of UnitPool (unit-pool.ts): one instance of a WebAssembly module on the
// pool's shared memory, with its own stack, running units of the jobs it is sent.
import { parentPort, workerData } from "node:worker_threads";
import { runUnits } from "./unit-share.mjs";

const { module, memory, stack } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
// Every instance starts with the linker's stack pointer; give this thread its own stack.
instance.exports.__stack_pointer.value = stack;

parentPort?.on("message", (job) => {
  const fn = instance.exports[job.kernel];
  try {
    runUnits(job.control, job.units, (u) => fn(job.params, u));
  } catch (error) {
    // runUnits has flagged the failure to the waiting thread, which throws; log the cause here.
    console.error(error);
  }
});
