/**
 * The GAN's weights in one framework-neutral form (ONNX layouts), shared by the TensorFlow.js
 * model (./gan-tf.ts), the ONNX export (./gan-onnx.ts) and the weights JSON (./gan-weights-json.ts).
 *
 * Layouts: a transposed convolution's weight is (in, out, k, k, k) (ONNX ConvTranspose), an
 * ordinary convolution's (out, in, k, k, k) (ONNX Conv). Batch-norm layers carry γ, β and the
 * moving mean and variance used in inference.
 */
import { normalQuantile } from "../../cosmo/normal-quantile.js";
import { uniformStream } from "../weight-init.js";
import type { GanArchitecture, GanLayer } from "./architecture.js";

export interface GanLayerWeights {
  weight: Float32Array;
  /** Layers without batch norm. */
  bias?: Float32Array;
  /** Layers with batch norm. */
  gamma?: Float32Array;
  beta?: Float32Array;
  movingMean?: Float32Array;
  movingVariance?: Float32Array;
}

export type GanWeights = ReadonlyMap<string, GanLayerWeights>;

export function ganLayers(arch: GanArchitecture): GanLayer[] {
  return [...arch.generator, ...arch.discriminator];
}

/**
 * DCGAN initialisation (Radford et al. 2016, as the PyTorch peer): weights ~ N(0, 0.02²),
 * γ ~ N(1, 0.02²), β = 0, biases 0, moving mean 0 and variance 1; seeded per layer name.
 */
export function initialGanWeights(arch: GanArchitecture, seed: number): Map<string, GanLayerWeights> {
  const m = new Map<string, GanLayerWeights>();
  for (const l of ganLayers(arch)) {
    const u = uniformStream(seed, `gan.${l.name}`);
    const normal = () => normalQuantile(Math.min(Math.max(u(), 1e-12), 1 - 1e-12));
    const weight = new Float32Array(l.inChannels * l.outChannels * l.kernel ** 3);
    for (let i = 0; i < weight.length; i++) weight[i] = 0.02 * normal();
    const c = l.outChannels;
    if (l.batchNorm) {
      m.set(l.name, {
        weight,
        gamma: Float32Array.from({ length: c }, () => 1 + 0.02 * normal()),
        beta: new Float32Array(c),
        movingMean: new Float32Array(c),
        movingVariance: new Float32Array(c).fill(1),
      });
    } else m.set(l.name, { weight, bias: new Float32Array(c) });
  }
  return m;
}

/** Checks every layer is present with the sizes the architecture gives; names the first that is not. */
export function checkGanWeights(arch: GanArchitecture, w: GanWeights): void {
  for (const l of ganLayers(arch)) {
    const lw = w.get(l.name);
    const c = l.outChannels;
    const n = l.inChannels * c * l.kernel ** 3;
    const bad = (what: string) => new RangeError(`GAN weights of layer ${l.name}: ${what}`);
    if (!lw) throw bad("missing");
    if (lw.weight.length !== n) throw bad(`${lw.weight.length} weights, expected ${n}`);
    if (l.batchNorm) {
      for (const k of ["gamma", "beta", "movingMean", "movingVariance"] as const)
        if (lw[k]?.length !== c) throw bad(`${k} must hold ${c} values`);
    } else if (lw.bias?.length !== c) throw bad(`bias must hold ${c} values`);
  }
}
