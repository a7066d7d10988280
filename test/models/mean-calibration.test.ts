/**
 * Mean-count calibration of the painter's output layer (src/models/painter/mean-calibration.ts):
 * afterwards the painted mean over the simulations equals the true mean, and the painted field
 * is the old one times one factor per channel (so every overdensity statistic is unchanged).
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import type { Tensor5D } from "@tensorflow/tfjs";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { calibrateOutputMean } from "../../src/models/painter/mean-calibration.js";
import { PainterTf } from "../../src/models/painter/painter-tf.js";
import { initialPainterWeights } from "../../src/models/painter/training.js";
import { extractPeriodicCube, type TrainingSimulation } from "../../src/models/painter/training-data.js";
import { mulberry32 } from "../seeded-random.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function paintWhole(p: PainterTf, s: TrainingSimulation): Float32Array {
  const n = s.side;
  const side = n + 8;
  const x = extractPeriodicCube(s.input, n, [n - 4, n - 4, n - 4], side);
  return tf.tidy(() => p.apply(tf.tensor5d(x, [1, side, side, side, 1]) as Tensor5D).dataSync() as Float32Array);
}

test("calibration sets the painted mean to the true mean per channel and only rescales the field", () => {
  const arch = painterArchitecture(2);
  const painter = new PainterTf(tf, arch, initialPainterWeights(arch, 4, [0.5, 0.5]));
  const u = mulberry32(11);
  const n = 12;
  const sims: TrainingSimulation[] = [0, 1].map((i) => ({
    directory: `sim-${i}`,
    side: n,
    boxSize: 48,
    input: Float32Array.from({ length: n ** 3 }, () => 2 * u()),
    targets: [0.3, 2].map((m) => Float32Array.from({ length: n ** 3 }, () => (u() < 0.5 ? 0 : 2 * m))),
    manifestSha256: "",
  }));
  const before = sims.map((s) => paintWhole(painter, s));
  const r = calibrateOutputMean(tf, painter, sims, 4);
  const after = sims.map((s) => paintWhole(painter, s));
  for (let c = 0; c < 2; c++) {
    let sum = 0;
    let voxels = 0;
    for (const a of after) {
      for (let i = c; i < a.length; i += 2) sum += a[i];
      voxels += a.length / 2;
    }
    // The targets' means, computed here from the arrays the test made.
    let t = 0;
    for (const s of sims) for (const v of s.targets[c]) t += v;
    const trueMean = t / (sims.length * n ** 3);
    expect(r.trueMean[c]).toBeCloseTo(trueMean, 10);
    expect(Math.abs(sum / voxels - trueMean)).toBeLessThanOrEqual(1e-5 * trueMean);
    expect(r.factors[c]).not.toBeCloseTo(1, 2);
    // Voxel by voxel the new field is f_c times the old one (float32 rounding).
    for (let s = 0; s < sims.length; s++)
      for (let i = c; i < after[s].length; i += 2)
        expect(Math.abs(after[s][i] - r.factors[c] * before[s][i])).toBeLessThanOrEqual(
          1e-5 * Math.max(1e-3, Math.abs(after[s][i])),
        );
  }
  painter.dispose();
});
