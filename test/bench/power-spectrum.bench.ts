/**
 * Timings of the power-spectrum estimator and of CIC mass assignment, in seconds (median of 3
 * runs after a warm-up):
 * - `pk.<n>.auto_s`: `powerSpectrum` of an n³ float32 field (r2c FFT + Pylians binning);
 * - `pk.<n>.binning_s`: the binning pass alone, on a precomputed spectrum;
 * - `cic.<n>.lattice_s`: CIC deposit of n³ particles onto an n³ grid, particles in lattice
 *   (Lagrangian) order with sub-cell displacements, as 2LPT produces them;
 * - `cic.<n>.random_s`: the same number of uniformly random particles (cache-unfriendly order).
 */
import { availableParallelism } from "node:os";
import { RealFft3d } from "../../src/cosmo/fft/real-fft3d.js";
import { binSpectrum } from "../../src/cosmo/k-binning.js";
import { depositParticles } from "../../src/cosmo/mass-assignment.js";
import { powerSpectrum } from "../../src/cosmo/power-spectrum.js";
import { mulberry32 } from "../seeded-random.js";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(fn: () => void, repeats = 3): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(samples);
}

const uniform = mulberry32;

export async function benchPowerSpectrum(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const threads = Math.min(8, availableParallelism());
  const box = 1000;
  results["pk.threads"] = threads;
  for (const n of [128, 256]) {
    const u = uniform(n);
    const shape = [n, n, n] as const;
    const field = new Float32Array(n ** 3);
    for (let i = 0; i < field.length; i++) field[i] = u() - 0.5;
    results[`pk.${n}.auto_s`] = time(() => powerSpectrum(field, shape, { boxSize: box, threads }));
    const fft = new RealFft3d(shape, { threads });
    const spectrum = fft.forward(field);
    fft.dispose();
    results[`pk.${n}.binning_s`] = time(() => binSpectrum(spectrum, undefined, shape, { boxSize: box }));
  }
  for (const n of [128, 256]) {
    const u = uniform(n + 1);
    const shape = [n, n, n] as const;
    const cell = box / n;
    const pos = new Float32Array(3 * n ** 3);
    let p = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) {
          for (const q of [i, j, k]) {
            const x = Math.fround((q + 2 * u() - 0.5) * cell);
            pos[p++] = x >= box ? x - box : x < 0 ? x + box : x;
          }
        }
    const out = new Float32Array(n ** 3);
    results[`cic.${n}.lattice_s`] = time(() => depositParticles(pos, shape, box, "cic", { out }));
    for (let i = 0; i < pos.length; i++) pos[i] = Math.fround(u() * box) % box;
    results[`cic.${n}.random_s`] = time(() => depositParticles(pos, shape, box, "cic", { out }));
  }
  return results;
}
