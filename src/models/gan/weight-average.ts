/**
 * An exponential moving average of the generator's weights (Polyak averaging; Yazıcı et al.
 * 2019 for GANs): after every generator step θ̄ ← β θ̄ + (1 − β) θ. The statistics term steers
 * the generator by running averages over past batches, so its weights circle the optimum a few
 * hundred steps behind; the average over a window of ≈ 1/(1 − β) steps sits nearer the centre
 * than any one iterate. The average starts at the run's starting weights (no bias correction
 * needed: a fine-tune starts from a trained generator, and a fresh run's first steps are
 * forgotten after a few windows).
 *
 * A checkpoint keeps the average beside the raw weights (`ema/gan/<layer.field>`): resume
 * carries both on, and whatever reads a checkpoint as a model — select-gan, --init of a later
 * run — takes the average (checkpointAsModel). The export at the end of the run writes it.
 */
import type { Variable } from "@tensorflow/tfjs";
import type { Checkpoint } from "../painter/training-checkpoint.js";

const AVERAGE_PREFIX = "ema/gan/";

/** Checkpoint tensor name of the average of the network tensor `key` ("g0.filter"). */
export const averageTensorName = (key: string): string => AVERAGE_PREFIX + key;

/**
 * A checkpoint as a model: where the run kept a weight average, its tensors replace the raw
 * `gan/…` ones (and the `ema/…` entries go), so that readers of network tensors see the model
 * the run would export. Discriminator tensors are never averaged and stay as they are.
 */
export function checkpointAsModel(ckpt: Checkpoint): Checkpoint {
  if (![...ckpt.tensors.keys()].some((k) => k.startsWith(AVERAGE_PREFIX))) return ckpt;
  const tensors = new Map<string, Float32Array>();
  for (const [k, v] of ckpt.tensors) if (!k.startsWith(AVERAGE_PREFIX)) tensors.set(k, v);
  for (const [k, v] of ckpt.tensors) if (k.startsWith(AVERAGE_PREFIX)) tensors.set(`gan/${k.slice(AVERAGE_PREFIX.length)}`, v);
  return { ...ckpt, tensors };
}

export class GeneratorWeightAverage {
  private readonly average = new Map<string, Float32Array>();

  /**
   * @param decay β in (0, 1)
   * @param variables the generator's variables by "layer.field" (weights and moving statistics,
   *   so that the averaged generator's batch norm folds statistics of its own epoch)
   */
  constructor(
    readonly decay: number,
    private readonly variables: ReadonlyMap<string, Variable>,
  ) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`the weight-average decay must lie in (0, 1), got ${decay}`);
    // The average starts at the variables' current values.
    for (const [k, v] of variables) this.average.set(k, Float32Array.from(v.dataSync()));
  }

  /** θ̄ ← β θ̄ + (1 − β) θ, after a generator step. */
  update(): void {
    const b = this.decay;
    for (const [k, v] of this.variables) {
      const a = this.average.get(k) as Float32Array;
      const x = v.dataSync() as Float32Array;
      for (let i = 0; i < a.length; i++) a[i] = b * a[i] + (1 - b) * x[i];
    }
  }

  /** Checkpoint tensors (names averageTensorName). */
  tensors(): Map<string, Float32Array> {
    return new Map([...this.average].map(([k, a]) => [averageTensorName(k), Float32Array.from(a)]));
  }

  /** Restores the average from a checkpoint (resume); `missing` names what is absent. */
  restore(tensors: ReadonlyMap<string, Float32Array>, missing: (name: string) => Error): void {
    for (const [k, a] of this.average) {
      const d = tensors.get(averageTensorName(k));
      if (!d || d.length !== a.length) throw missing(averageTensorName(k));
      a.set(d);
    }
  }

  /** The average's values, by "layer.field". */
  values(): ReadonlyMap<string, Float32Array> {
    return this.average;
  }
}
