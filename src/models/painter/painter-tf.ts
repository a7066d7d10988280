/**
 * Builds the halo painter (./architecture.ts) from TensorFlow.js ops on trainable variables,
 * for training: input (batch, S, S, S, 1) NDHWC, ρ/ρ̄ → output (batch, S − 8, S − 8, S − 8, C).
 * The same weights as the ONNX graph (./painter-onnx.ts): ONNX's OIDHW kernels are transposed
 * to TensorFlow.js's DHWIO, with the grid's x, y, z as depth, height, width in both.
 */
import type { Tensor, Tensor5D, Variable } from "@tensorflow/tfjs";
import {
  convLayers,
  LEAKY_RELU_SLOPE,
  type Activation,
  type ConvLayer,
  type PainterArchitecture,
} from "./architecture.js";
import type { PainterWeights } from "./painter-onnx.js";
import type { ConvWeights } from "../weight-init.js";
import type { TensorFlow } from "../kernels/tf-engine.js";

export interface ConvVariables {
  /** (k, k, k, in, out), DHWIO. */
  filter: Variable;
  bias: Variable;
}

/** ONNX OIDHW weights → TensorFlow.js DHWIO. */
export function onnxToTfFilter(w: Float32Array, out: number, inC: number, k: number): Float32Array {
  const t = new Float32Array(w.length);
  const k3 = k * k * k;
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let s = 0; s < k3; s++) t[(s * inC + i) * out + o] = w[(o * inC + i) * k3 + s];
  return t;
}

/** TensorFlow.js DHWIO weights → ONNX OIDHW (for export after training). */
export function tfToOnnxFilter(t: Float32Array, out: number, inC: number, k: number): Float32Array {
  const w = new Float32Array(t.length);
  const k3 = k * k * k;
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let s = 0; s < k3; s++) w[(o * inC + i) * k3 + s] = t[(s * inC + i) * out + o];
  return w;
}

export function convVariables(
  tf: TensorFlow,
  layer: ConvLayer,
  w: ConvWeights,
  trainable = true,
): ConvVariables {
  const k = layer.kernel;
  const filter = onnxToTfFilter(w.weight, layer.outChannels, layer.inChannels, k);
  return {
    filter: tf.variable(
      tf.tensor5d(filter, [k, k, k, layer.inChannels, layer.outChannels]),
      trainable,
      `${layer.name}.filter`,
    ),
    bias: tf.variable(tf.tensor1d(w.bias), trainable, `${layer.name}.bias`),
  };
}

export function activate(tf: TensorFlow, x: Tensor5D, a: Activation): Tensor5D {
  if (a === "relu") return tf.relu(x);
  if (a === "leaky-relu") return tf.leakyRelu(x, LEAKY_RELU_SLOPE);
  return x;
}

/** x without `c` voxels on each face of the three spatial axes. */
export function cropSpatial(tf: TensorFlow, x: Tensor5D, c: number): Tensor5D {
  if (c === 0) return x;
  const [b, d, h, w, ch] = x.shape;
  return tf.slice(x, [0, c, c, c, 0], [b, d - 2 * c, h - 2 * c, w - 2 * c, ch]);
}

export class PainterTf {
  readonly layers: ReadonlyMap<string, ConvVariables>;

  constructor(
    private readonly tf: TensorFlow,
    readonly arch: PainterArchitecture,
    weights: PainterWeights,
  ) {
    const m = new Map<string, ConvVariables>();
    for (const c of convLayers(arch)) {
      const w = weights.get(c.name);
      if (!w) throw new RangeError(`painter weights lack layer ${c.name}`);
      m.set(c.name, convVariables(tf, c, w));
    }
    this.layers = m;
  }

  private conv(x: Tensor5D, layer: ConvLayer): Tensor5D {
    const v = this.layers.get(layer.name);
    if (!v) throw new RangeError(`no variables for layer ${layer.name}`);
    const y = this.tf.conv3d(x, v.filter as Tensor as Tensor5D, 1, "valid").add(v.bias) as Tensor5D;
    return activate(this.tf, y, layer.activation);
  }

  /** The painted field for input (batch, S, S, S, 1). */
  apply(x: Tensor5D): Tensor5D {
    const tf = this.tf;
    let h = x;
    for (const b of this.arch.blocks) {
      const branches = b.branches.map((br) =>
        br.layers.reduce((y, l) => this.conv(y, l), cropSpatial(tf, h, br.crop)),
      );
      const merged = this.conv(tf.concat(branches, 4), b.merge);
      const res = this.conv(cropSpatial(tf, h, b.residual.crop), b.residual.layer);
      h = activate(tf, merged.add(res), b.activation);
    }
    for (const layer of this.arch.head) h = this.conv(h, layer);
    return h;
  }

  variables(): Variable[] {
    return [...this.layers.values()].flatMap((v) => [v.filter, v.bias]);
  }

  /** Current weights in the ONNX layout (for ./painter-onnx.ts). */
  weights(): PainterWeights {
    const m = new Map<string, ConvWeights>();
    for (const c of convLayers(this.arch)) {
      const v = this.layers.get(c.name);
      if (!v) continue;
      const t = v.filter.dataSync() as Float32Array;
      m.set(c.name, {
        weight: tfToOnnxFilter(t, c.outChannels, c.inChannels, c.kernel),
        bias: Float32Array.from(v.bias.dataSync()),
      });
    }
    return m;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
