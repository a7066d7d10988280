// Dynamic work sharing of one job of independent units between threads, through a small
// Int32Array on a SharedArrayBuffer: each thread claims units with Atomics.add until none are
// left. A unit is computed by the same code whichever thread claims it, so results do not
// depend on the number of threads.

export const CONTROL_WORDS = 3;
const NEXT = 0;
const DONE = 1;
const FAILED = 2;

/**
 * Claims and runs units of a job until none are left (does not wait for other threads).
 * @param {Int32Array} ctl CONTROL_WORDS words, zeroed when the job was created
 * @param {number} units
 * @param {(unit: number) => void} run
 */
export function runUnits(ctl, units, run) {
  try {
    for (;;) {
      const u = Atomics.add(ctl, NEXT, 1);
      if (u >= units) return;
      run(u);
      if (Atomics.add(ctl, DONE, 1) + 1 === units) Atomics.notify(ctl, DONE);
    }
  } catch (error) {
    Atomics.store(ctl, FAILED, 1);
    Atomics.notify(ctl, DONE);
    throw error;
  }
}

/**
 * Blocks until every unit of the job is done; throws if a thread failed.
 * @param {Int32Array} ctl
 * @param {number} units
 */
export function waitUnits(ctl, units) {
  for (;;) {
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error("a kernel worker thread failed");
    const v = Atomics.load(ctl, DONE);
    if (v >= units) return;
    Atomics.wait(ctl, DONE, v, 1000);
  }
}
