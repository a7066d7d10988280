// Dynamic work sharing of one 3D FFT between the calling thread and worker threads, through
// a small Int32Array on a SharedArrayBuffer. A transform is two phases of independent units
// (x-planes and x-pass blocks); each thread claims units with Atomics.add until none are left,
// and phase two starts once every unit of phase one is done. Each unit is computed by the same
// code whichever thread claims it, so results are bitwise identical for any thread count.

export const CONTROL_WORDS = 5;
const NEXT_A = 0;
const DONE_A = 1;
const NEXT_B = 2;
const DONE_B = 3;
const FAILED = 4;

/**
 * @typedef {object} FftJob
 * @property {"forward" | "inverse"} op
 * @property {readonly [number, number, number]} shape grid sides (nx, ny, nz)
 * @property {Int32Array} control CONTROL_WORDS zeroed words on a SharedArrayBuffer
 * @property {Float32Array} real real grid (input of forward, output of inverse)
 * @property {Float32Array} spectrum half-complex spectrum (output of forward, input of inverse)
 * @property {Float32Array} work spectral-size scratch (inverse only; may alias spectrum for forward)
 */

/**
 * @param {Int32Array} ctl
 * @param {number} index
 * @param {number} target
 */
function waitFor(ctl, index, target) {
  for (;;) {
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error("FFT worker thread failed");
    const v = Atomics.load(ctl, index);
    if (v >= target) return;
    Atomics.wait(ctl, index, v, 1000);
  }
}

/**
 * @param {Int32Array} ctl
 * @param {number} next
 * @param {number} done
 * @param {number} count
 * @param {(unit: number) => void} run
 */
function drain(ctl, next, done, count, run) {
  for (;;) {
    const unit = Atomics.add(ctl, next, 1);
    if (unit >= count) return;
    run(unit);
    if (Atomics.add(ctl, done, 1) + 1 === count) Atomics.notify(ctl, done);
  }
}

/**
 * Takes this thread's share of `job` and returns once every unit of the job is finished.
 * @param {import("./wasm-fft-kernel.mjs").WasmFftKernel} kernel
 * @param {FftJob} job
 */
export function runShare(kernel, job) {
  const ctl = job.control;
  const { nx, ny, nz, blockCount } = kernel;
  try {
    if (job.op === "forward") {
      drain(ctl, NEXT_A, DONE_A, nx, (ix) => kernel.forwardPlane(job.real, job.spectrum, ix));
      waitFor(ctl, DONE_A, nx);
      drain(ctl, NEXT_B, DONE_B, blockCount, (b) => kernel.xBlock(job.spectrum, job.spectrum, b, false));
      waitFor(ctl, DONE_B, blockCount);
    } else {
      const scale = 1 / (nx * ny * nz);
      drain(ctl, NEXT_A, DONE_A, blockCount, (b) => kernel.xBlock(job.spectrum, job.work, b, true));
      waitFor(ctl, DONE_A, blockCount);
      drain(ctl, NEXT_B, DONE_B, nx, (ix) => kernel.inversePlane(job.work, job.real, ix, scale));
      waitFor(ctl, DONE_B, nx);
    }
  } catch (error) {
    Atomics.store(ctl, FAILED, 1);
    Atomics.notify(ctl, DONE_A);
    Atomics.notify(ctl, DONE_B);
    throw error;
  }
}
