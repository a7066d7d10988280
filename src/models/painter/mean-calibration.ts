/**
 * Mean-count calibration after training with the band-power term. That term compares
 * overdensities δ = n/n̄ − 1, so it leaves the painter's mean free, and in a short fine-tune it
 * pulls it: lowering the mean raises the painted δ's power (30 steps at β = 3 left the mean 17 %
 * low, invisible to T, r_c and s, but not to a catalog's number density). The output layer is
 * linear before its ReLU, and ReLU(f·x) = f·ReLU(x) for f > 0, so scaling that layer's filter and
 * bias of channel c by f_c = n̄_true,c / λ̄_painted,c over the training simulations sets the mean
 * exactly and leaves every δ statistic unchanged.
 */
import type { Tensor5D } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { PainterTf } from "./painter-tf.js";
import { extractPeriodicCube, type TrainingSimulation } from "./training-data.js";

export interface MeanCalibration {
  /** Per channel: the factor applied, the painted mean before it and the true mean (counts per voxel). */
  factors: number[];
  paintedMean: number[];
  trueMean: number[];
}

/** Mean count per voxel of each target channel over the simulations. */
export function meanCountsOf(sims: readonly TrainingSimulation[]): number[] {
  const channels = sims[0].targets.length;
  return Array.from({ length: channels }, (_, c) => {
    let sum = 0;
    let n = 0;
    for (const s of sims) {
      for (const v of s.targets[c]) sum += v;
      n += s.targets[c].length;
    }
    return sum / n;
  });
}

/** Paints every simulation whole (periodic padding) and returns the mean count per channel. */
function paintedMeans(tf: TensorFlow, painter: PainterTf, sims: readonly TrainingSimulation[], padding: number): number[] {
  const channels = painter.arch.outChannels;
  const sums = new Array<number>(channels).fill(0);
  let voxels = 0;
  for (const s of sims) {
    const n = s.side;
    const side = n + 2 * padding;
    const input = extractPeriodicCube(s.input, n, [n - padding, n - padding, n - padding], side);
    const means = tf.tidy(() =>
      painter.apply(tf.tensor5d(input, [1, side, side, side, 1]) as Tensor5D).sum([0, 1, 2, 3]).dataSync(),
    );
    for (let c = 0; c < channels; c++) sums[c] += means[c];
    voxels += n ** 3;
  }
  return sums.map((v) => v / voxels);
}

/** Scales the output layer so the painted mean count equals the true one on `sims`; returns what it did. */
export function calibrateOutputMean(
  tf: TensorFlow,
  painter: PainterTf,
  sims: readonly TrainingSimulation[],
  padding: number,
): MeanCalibration {
  const paintedMean = paintedMeans(tf, painter, sims, padding);
  const trueMean = meanCountsOf(sims);
  const factors = paintedMean.map((p, c) => {
    const f = trueMean[c] / p;
    if (!(Number.isFinite(f) && f > 0))
      throw new Error(`cannot calibrate channel ${c}: painted mean ${p}, true mean ${trueMean[c]}`);
    return f;
  });
  const out = painter.arch.head[painter.arch.head.length - 1];
  const layer = painter.layers.get(out.name);
  if (!layer) throw new RangeError(`no variables for the output layer ${out.name}`);
  tf.tidy(() => {
    const f = tf.tensor1d(factors);
    layer.filter.assign(layer.filter.mul(f));
    layer.bias.assign(layer.bias.mul(f));
  });
  return { factors, paintedMean, trueMean };
}
