/**
 * Timings of the 3D real FFT: 128³ and 256³, forward (r2c) and inverse (c2r), median of 5
 * runs after a warm-up, in seconds; plus GFLOP/s counted as 2.5 N log2(N) per r2c (the usual
 * convention: half of the 5 N log2 N of a complex transform of the same size).
 */
import { availableParallelism } from "node:os";
import { RealFft3d, allocShared } from "../../src/cosmo/fft/real-fft3d.js";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function time(fn: () => void, repeats: number): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(samples);
}

export async function benchFft(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const threads = Math.min(8, availableParallelism());
  results["fft.threads"] = threads;
  for (const n of [128, 256]) {
    const fft = new RealFft3d([n, n, n], { threads });
    const real = allocShared(n * n * n);
    for (let i = 0; i < real.length; i++) real[i] = Math.sin(i * 0.618) + 0.1 * ((i * 7919) % 13);
    const spectrum = allocShared(fft.spectralLength);
    const back = allocShared(real.length);
    const tf = time(() => fft.forward(real, spectrum), 5);
    const ti = time(() => fft.inverse(spectrum, back), 5);
    fft.dispose();
    const flop = 2.5 * n ** 3 * Math.log2(n ** 3);
    results[`fft.${n}.forward_s`] = tf;
    results[`fft.${n}.inverse_s`] = ti;
    results[`fft.${n}.forward_gflops`] = flop / tf / 1e9;
    results[`fft.${n}.inverse_gflops`] = flop / ti / 1e9;
  }
  return results;
}
