/**
 * The band-power term of the painter's supervised loss (src/models/painter/band-power.ts): band
 * sums of |F_k|² equal a direct float64 DFT of the patch, the Poisson shot-noise subtraction is
 * unbiased (checked on Poisson draws of a known field, tolerance from the draws' scatter), and
 * the loss and its gradient push a painted field whose power is short towards the truth's.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import type { Tensor5D } from "@tensorflow/tfjs";
import { bandPowerLoss, bandPowerPlan, bandPowers } from "../../src/models/painter/band-power.js";
import { mulberry32 } from "../seeded-random.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Σ over each band of |F_k|² by a direct float64 DFT (patch mean removed), per channel. */
function directBandPowers(
  field: Float64Array[],
  side: number,
  voxelSize: number,
  edges: number[],
): number[][] {
  const kf = (2 * Math.PI) / (side * voxelSize);
  return field.map((f) => {
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    const bands = new Array<number>(edges.length - 1).fill(0);
    const h = Math.floor((side - 1) / 2);
    for (let a = -h; a <= h; a++)
      for (let b = -h; b <= h; b++)
        for (let c = -h; c <= h; c++) {
          const k = kf * Math.hypot(a, b, c);
          const band = edges.findIndex((e, i) => i < edges.length - 1 && k > e && k <= edges[i + 1]);
          if (k === 0 || band < 0) continue;
          let re = 0;
          let im = 0;
          for (let x = 0; x < side; x++)
            for (let y = 0; y < side; y++)
              for (let z = 0; z < side; z++) {
                const t = (-2 * Math.PI * (a * x + b * y + c * z)) / side;
                const v = f[(x * side + y) * side + z] - mean;
                re += v * Math.cos(t);
                im += v * Math.sin(t);
              }
          bands[band] += re * re + im * im;
        }
    return bands;
  });
}

/** [1, S, S, S, C] tensor from per-channel x-major fields. */
function toTensor(fields: Float64Array[], side: number): Tensor5D {
  const c = fields.length;
  const data = new Float32Array(side ** 3 * c);
  for (let i = 0; i < side ** 3; i++) for (let ch = 0; ch < c; ch++) data[i * c + ch] = fields[ch][i];
  return tf.tensor5d(data, [1, side, side, side, c]);
}

test.each([
  [9, 2, [0, 0.5, 1.2]],
  [10, 4, [0.2, 0.4, 0.6]],
])("band sums equal a direct DFT (side %i, voxel %i Mpc/h)", (side, voxel, edges) => {
  const u = mulberry32(side * 31 + voxel);
  const fields = [0, 1].map(() => Float64Array.from({ length: side ** 3 }, () => 3 * u()));
  const plan = bandPowerPlan({ side, voxelSize: voxel, edges });
  const got = tf.tidy(() => bandPowers(tf, toTensor(fields, side), plan).arraySync() as number[][][])[0];
  const want = directBandPowers(fields, side, voxel, edges);
  for (let ch = 0; ch < 2; ch++)
    for (let b = 0; b < edges.length - 1; b++) {
      expect(want[ch][b]).toBeGreaterThan(0);
      // float32 sums of ~side³ terms: 1e-4 relative is well above their rounding.
      expect(Math.abs(got[ch][b] - want[ch][b])).toBeLessThanOrEqual(1e-4 * want[ch][b]);
    }
});

test("a band holding no mode is refused, naming the band", () => {
  expect(() => bandPowerPlan({ side: 16, voxelSize: 4, edges: [0, 0.05] })).toThrow(/holds no mode/);
  expect(() => bandPowerPlan({ side: 16, voxelSize: 4, edges: [0.3, 0.1] })).toThrow(/increasing/);
});

/** Poisson draw (Knuth; means here are small). */
function poisson(u: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = u();
  while (p > l) {
    k++;
    p *= u();
  }
  return k;
}

test("shot-noise subtraction is unbiased: Poisson draws of λ give the power of λ in each band", () => {
  // λ = λ0 (1 + a cos(2π x / S)): in band (0, 0.2] its power 2 (λ0 a N / 2)² is about the shot
  // noise there (32 modes × Σ n), so an error in the subtraction would show as a bias of order 1.
  const side = 16;
  const n = side ** 3;
  const lambda = Float64Array.from({ length: n }, (_, i) => 2 * (1 + 0.1 * Math.cos((2 * Math.PI * Math.floor(i / (side * side))) / side)));
  const plan = bandPowerPlan({ side, voxelSize: 4, edges: [0, 0.2, 0.4] });
  const expected = tf.tidy(() => bandPowers(tf, toTensor([lambda], side), plan).arraySync() as number[][][])[0][0];
  const u = mulberry32(77);
  const draws = 40;
  const corrected: number[][] = [];
  for (let d = 0; d < draws; d++) {
    const counts = Float64Array.from(lambda, (l) => poisson(u, l));
    const total = counts.reduce((a, b) => a + b, 0);
    const p = tf.tidy(() => bandPowers(tf, toTensor([counts], side), plan).arraySync() as number[][][])[0][0];
    corrected.push(p.map((v, b) => v - plan.modes[b] * total));
  }
  for (let b = 0; b < 2; b++) {
    const xs = corrected.map((c) => c[b]);
    const mean = xs.reduce((a, c) => a + c, 0) / draws;
    const sd = Math.sqrt(xs.reduce((a, c) => a + (c - mean) ** 2, 0) / (draws - 1));
    // 4σ of the mean of the draws; the uncorrected sum would be off by modes × Σ n ≈ 8 × this.
    expect(Math.abs(mean - expected[b])).toBeLessThanOrEqual(4 * (sd / Math.sqrt(draws)) + 1e-6 * plan.modes[b] * 2 * n);
    expect(plan.modes[b] * 2 * n).toBeGreaterThan(8 * (sd / Math.sqrt(draws)));
  }
});

test("the loss is ≈ 0 for the right δ power (any mean), (2 ln s)² for power short by s², and its gradient raises s", () => {
  const side = 12;
  const u = mulberry32(5);
  // A field with plenty of power in both bands, and its counts at a high mean (shot noise small).
  const smooth = Float64Array.from({ length: side ** 3 }, () => u());
  const lambda = Float64Array.from(smooth, (v) => 1e4 * (1 + 0.9 * (v - 0.5)));
  const plan = bandPowerPlan({ side, voxelSize: 4, edges: [0, 0.3, 0.6] });
  const truthCounts = Float64Array.from(lambda, (l) => Math.round(l));
  const truth = toTensor([truthCounts], side);
  const mean = lambda.reduce((a, b) => a + b, 0) / lambda.length;
  const scaled = (s: number) => Float64Array.from(lambda, (l) => mean + s * (l - mean));
  const at = (s: number) => tf.tidy(() => bandPowerLoss(tf, toTensor([scaled(s)], side), truth, plan).dataSync()[0]);
  // The subtracted shot noise (mean 1e4 per voxel) is 1.5e-3 of the signal's variance 6.75e6.
  expect(at(1)).toBeLessThan(2e-3);
  // Overdensities are compared: a painted field 5 % too high everywhere has the truth's δ power.
  const high = Float64Array.from(lambda, (l) => 1.05 * l);
  expect(tf.tidy(() => bandPowerLoss(tf, toTensor([high], side), truth, plan).dataSync()[0])).toBeLessThan(2e-3);
  expect(Math.abs(at(0.8) - (2 * Math.log(0.8)) ** 2)).toBeLessThan(0.01);
  const base = toTensor([lambda], side);
  const m = tf.scalar(mean);
  const grad = tf.grad((s) =>
    bandPowerLoss(tf, base.sub(m).mul(s as tf.Scalar).add(m) as Tensor5D, truth, plan),
  )(tf.scalar(0.8));
  expect(grad.dataSync()[0]).toBeLessThan(0);
});
