/**
 * The GAN (./architecture.ts) from TensorFlow.js ops on variables, for training. Tensors are
 * NDHWC with the grid's x, y, z as depth, height, width (the ONNX graph's NCDHW uses the same
 * axis order). Filters: a transposed convolution's ONNX (in, out, k, k, k) becomes TF.js's
 * (k, k, k, out, in), an ordinary convolution's (out, in, k, k, k) becomes (k, k, k, in, out).
 *
 * Padding: TF.js "same" with kernel 4 and stride 2 pads one voxel on each side — PyTorch's
 * padding 1 — both for the convolution (S → S/2) and the transposed one (S → 2S); the first
 * generator layer and the last discriminator layer are "valid" (padding 0).
 *
 * Batch norm: training mode normalises by the batch's biased mean and variance over batch and
 * space (gradients flow through them) and records them; `commitStatistics` then moves the
 * moving averages (moving ← 0.9·moving + 0.1·batch). Inference mode uses the moving averages,
 * which is what the ONNX export folds into its convolutions.
 */
import type { Tensor, Tensor1D, Tensor5D, Variable } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";
import { onnxToTfFilter, tfToOnnxFilter } from "../painter/painter-tf.js";
import {
  GAN_BATCH_NORM_EPSILON,
  GAN_BATCH_NORM_MOMENTUM,
  GAN_LEAKY_SLOPE,
  type GanArchitecture,
  type GanLayer,
} from "./architecture.js";
import { checkGanWeights, ganLayers, type GanLayerWeights, type GanWeights } from "./gan-weights.js";
import {
  expandResizeKernel,
  expandResizeKernelTf,
  projectToResizeKernel,
  RESIZE_KERNEL,
} from "./resize-kernels.js";

/** ONNX ConvTranspose (in, out, k³) → TF.js conv3dTranspose (k³, out, in). */
export function onnxToTfTransposedFilter(w: Float32Array, inC: number, out: number, k: number): Float32Array {
  const t = new Float32Array(w.length);
  const k3 = k * k * k;
  for (let i = 0; i < inC; i++)
    for (let o = 0; o < out; o++)
      for (let s = 0; s < k3; s++) t[(s * out + o) * inC + i] = w[(i * out + o) * k3 + s];
  return t;
}

export function tfToOnnxTransposedFilter(t: Float32Array, inC: number, out: number, k: number): Float32Array {
  const w = new Float32Array(t.length);
  const k3 = k * k * k;
  for (let i = 0; i < inC; i++)
    for (let o = 0; o < out; o++)
      for (let s = 0; s < k3; s++) w[(i * out + o) * k3 + s] = t[(s * out + o) * inC + i];
  return w;
}

interface LayerVariables {
  layer: GanLayer;
  transposed: boolean;
  /** `filter` is a resize kernel W (3³) whose tied 4³ kernel the layer uses (./resize-kernels.ts). */
  resize: boolean;
  filter: Variable;
  bias?: Variable;
  gamma?: Variable;
  beta?: Variable;
  movingMean?: Variable;
  movingVariance?: Variable;
}

export type GanNetwork = "generator" | "discriminator";

export interface GanTfOptions {
  /**
   * The generator's stride-2 layers train a 3³ kernel W and use W ⊛ box 2³ (nearest-neighbour
   * upsampling then a 3³ convolution, ./resize-kernels.ts); 4³ kernels given are projected.
   */
  resizeKernels?: boolean;
}

/** TF.js variable names are global; each model gets its own prefix. */
let instances = 0;

export class GanTf {
  private readonly vars = new Map<string, LayerVariables>();
  /** Batch statistics of the last training-mode passes, by layer, awaiting commitStatistics. */
  private readonly pending = new Map<string, { mean: Float32Array; variance: Float32Array }[]>();
  /** Per resize layer: the relative residual of projecting the given 4³ kernel onto tied ones. */
  readonly projectionResiduals = new Map<string, number>();

  constructor(
    private readonly tf: TensorFlow,
    readonly arch: GanArchitecture,
    weights: GanWeights,
    options: GanTfOptions = {},
  ) {
    checkGanWeights(arch, weights);
    const prefix = `gan${instances++}/`;
    const gen = new Set(arch.generator.map((l) => l.name));
    for (const l of ganLayers(arch)) {
      const w = weights.get(l.name) as GanLayerWeights;
      const transposed = gen.has(l.name);
      const resize = transposed && options.resizeKernels === true && l.stride === 2;
      const k = l.kernel;
      let data = transposed
        ? onnxToTfTransposedFilter(w.weight, l.inChannels, l.outChannels, k)
        : onnxToTfFilter(w.weight, l.outChannels, l.inChannels, k);
      let side = k;
      if (resize) {
        const p = projectToResizeKernel(data, l.outChannels * l.inChannels);
        this.projectionResiduals.set(l.name, p.residual);
        data = p.kernel;
        side = RESIZE_KERNEL;
      }
      const filter = transposed
        ? tf.tensor5d(data, [side, side, side, l.outChannels, l.inChannels])
        : tf.tensor5d(data, [k, k, k, l.inChannels, l.outChannels]);
      const v = (data: Float32Array | undefined, name: string, trainable: boolean): Variable | undefined =>
        data ? tf.variable(tf.tensor1d(data), trainable, `${prefix}${l.name}.${name}`) : undefined;
      this.vars.set(l.name, {
        layer: l,
        transposed,
        resize,
        filter: tf.variable(filter, true, `${prefix}${l.name}.filter`),
        bias: v(w.bias, "bias", true),
        gamma: v(w.gamma, "gamma", true),
        beta: v(w.beta, "beta", true),
        movingMean: v(w.movingMean, "movingMean", false),
        movingVariance: v(w.movingVariance, "movingVariance", false),
      });
    }
  }

  private layerVars(name: string): LayerVariables {
    const v = this.vars.get(name);
    if (!v) throw new RangeError(`no variables for GAN layer ${name}`);
    return v;
  }

  private apply(x: Tensor5D, v: LayerVariables, training: boolean): Tensor5D {
    const tf = this.tf;
    const l = v.layer;
    const pad = l.pad === 0 ? "valid" : "same";
    let y: Tensor5D;
    if (v.transposed) {
      const b = x.shape[0];
      const filter = v.filter as Tensor as Tensor5D;
      y = tf.conv3dTranspose(
        x,
        v.resize ? expandResizeKernelTf(tf, filter) : filter,
        [b, l.outSide, l.outSide, l.outSide, l.outChannels],
        l.stride,
        pad,
      );
    } else y = tf.conv3d(x, v.filter as Tensor as Tensor5D, l.stride, pad);
    if (v.bias) y = y.add(v.bias);
    if (l.batchNorm) {
      const gamma = v.gamma as Variable as Tensor as Tensor1D;
      const beta = v.beta as Variable as Tensor as Tensor1D;
      if (training) {
        // Batch moments over (batch, x, y, z) per channel as matrix products with a row of
        // 1/N: TF.js's CPU reductions over leading axes transpose the whole tensor first,
        // which made them the slowest part of a step. Two passes (mean, then the mean
        // square deviation) avoid the cancellation of E[y²] − E[y]².
        const c = l.outChannels;
        const n = y.size / c;
        const rows = y.reshape([n, c]);
        const w = tf.fill([1, n], 1 / n);
        const mean = tf.matMul(w, rows).reshape([c]);
        const d = rows.sub(mean);
        const variance = tf.matMul(w, d.square()).reshape([c]);
        const list = this.pending.get(l.name) ?? [];
        list.push({
          mean: Float32Array.from(mean.dataSync()),
          variance: Float32Array.from(variance.dataSync()),
        });
        this.pending.set(l.name, list);
        const scale = gamma.mul(tf.rsqrt(variance.add(GAN_BATCH_NORM_EPSILON)));
        y = d.mul(scale).add(beta).reshape(y.shape) as Tensor5D;
      } else {
        // Written out with broadcasting ops (tf.batchNorm's gradient fails on rank-5 inputs).
        const scale = gamma.mul(tf.rsqrt((v.movingVariance as Variable).add(GAN_BATCH_NORM_EPSILON)));
        y = y
          .sub(v.movingMean as Variable)
          .mul(scale)
          .add(beta);
      }
    }
    if (l.activation === "relu") return tf.relu(y);
    if (l.activation === "leaky-relu") return tf.leakyRelu(y, GAN_LEAKY_SLOPE);
    if (l.activation === "tanh") return tf.tanh(y);
    return y;
  }

  /** Scaled density c, (B, S, S, S, 1), from latent rows (B, L) (with z appended for a cGAN). */
  generate(latent: Tensor, training: boolean): Tensor5D {
    const b = latent.shape[0];
    let h = latent.reshape([b, 1, 1, 1, this.arch.generator[0].inChannels]) as Tensor5D;
    for (const l of this.arch.generator) h = this.apply(h, this.layerVars(l.name), training);
    return h;
  }

  /**
   * Logits (B) of fields (B, S, S, S, 1); a cGAN's discriminator gets the redshifts `z` (B) as
   * a constant second channel.
   */
  discriminate(c: Tensor5D, training: boolean, z?: Tensor1D): Tensor1D {
    const tf = this.tf;
    let h = c;
    if (this.arch.conditional) {
      if (!z) throw new RangeError("a conditional discriminator needs the redshifts");
      const [b, s] = c.shape;
      h = tf.concat([c, z.reshape([b, 1, 1, 1, 1]).tile([1, s, s, s, 1]) as Tensor5D], 4);
    }
    for (const l of this.arch.discriminator) h = this.apply(h, this.layerVars(l.name), training);
    return h.reshape([h.shape[0]]) as Tensor1D;
  }

  /** Moves the moving averages of the layers of `network` seen in training mode since the last call. */
  commitStatistics(network: GanNetwork, momentum = GAN_BATCH_NORM_MOMENTUM): void {
    const tf = this.tf;
    const layers = network === "generator" ? this.arch.generator : this.arch.discriminator;
    const m = momentum;
    tf.tidy(() => {
      for (const l of layers) {
        const v = this.layerVars(l.name);
        // In the order the passes ran (e.g. the discriminator's real, then fake batch).
        for (const s of this.pending.get(l.name) ?? []) {
          (v.movingMean as Variable).assign(v.movingMean!.mul(m).add(tf.tensor1d(s.mean).mul(1 - m)));
          (v.movingVariance as Variable).assign(
            v.movingVariance!.mul(m).add(tf.tensor1d(s.variance).mul(1 - m)),
          );
        }
        this.pending.delete(l.name);
      }
    });
  }

  /** Drops the recorded batch statistics of one network (or both) without using them. */
  discardStatistics(network?: GanNetwork): void {
    if (network === undefined) return this.pending.clear();
    for (const l of network === "generator" ? this.arch.generator : this.arch.discriminator)
      this.pending.delete(l.name);
  }

  /** Trainable variables of one network, in layer order. */
  trainable(network: GanNetwork, only?: ReadonlySet<string>): Variable[] {
    const layers = (network === "generator" ? this.arch.generator : this.arch.discriminator).filter(
      (l) => !only || only.has(l.name),
    );
    return layers.flatMap((l) => {
      const v = this.layerVars(l.name);
      return [v.filter, v.bias, v.gamma, v.beta].filter((x): x is Variable => x !== undefined);
    });
  }

  /** Every variable keyed by "layer.field" (independent of the instance prefix), for checkpoints. */
  namedVariables(): Map<string, Variable> {
    const m = new Map<string, Variable>();
    for (const v of this.vars.values())
      for (const k of ["filter", "bias", "gamma", "beta", "movingMean", "movingVariance"] as const) {
        const x = v[k];
        if (x) m.set(`${v.layer.name}.${k}`, x);
      }
    return m;
  }

  /** Every variable (trainable and moving statistics). */
  allVariables(): Variable[] {
    return [...this.vars.values()].flatMap((v) =>
      [v.filter, v.bias, v.gamma, v.beta, v.movingMean, v.movingVariance].filter(
        (x): x is Variable => x !== undefined,
      ),
    );
  }

  /** Current weights in the ONNX layouts. */
  weights(): Map<string, GanLayerWeights> {
    const out = new Map<string, GanLayerWeights>();
    const read = (x: Variable | undefined) => (x ? Float32Array.from(x.dataSync()) : undefined);
    for (const v of this.vars.values()) {
      const l = v.layer;
      const free = Float32Array.from(v.filter.dataSync());
      const t = v.resize ? expandResizeKernel(free, l.outChannels * l.inChannels) : free;
      const weight = v.transposed
        ? tfToOnnxTransposedFilter(t, l.inChannels, l.outChannels, l.kernel)
        : tfToOnnxFilter(t, l.outChannels, l.inChannels, l.kernel);
      const w: GanLayerWeights = { weight };
      const put = (k: keyof Omit<GanLayerWeights, "weight">, x: Variable | undefined) => {
        const d = read(x);
        if (d) w[k] = d;
      };
      put("bias", v.bias);
      put("gamma", v.gamma);
      put("beta", v.beta);
      put("movingMean", v.movingMean);
      put("movingVariance", v.movingVariance);
      out.set(l.name, w);
    }
    return out;
  }

  dispose(): void {
    for (const v of this.allVariables()) v.dispose();
  }
}
