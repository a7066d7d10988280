/**
 * The GAN as ONNX graphs for inference, batch norm folded into the convolutions with the moving
 * statistics (inference mode): for a layer with output channel o,
 *   BN(y)_o = γ_o (y_o − μ_o)/√(σ²_o + ε) + β_o = s_o y_o + (β_o − s_o μ_o),  s_o = γ_o/√(σ²_o + ε),
 * so the weights feeding channel o are multiplied by s_o and the bias is β_o − s_o μ_o.
 *
 * Generator: input "latent" (batch, L [+1 for z], 1, 1, 1) → output "scaled_density"
 * (batch, 1, S, S, S), the tanh output c (./data-scaling.ts inverts it).
 * Discriminator: input "field" (batch, 1 [+1 for z], S, S, S) → "probability" (batch, 1, 1, 1, 1).
 */
import { encodeOnnxModel, type OnnxNode, type OnnxTensor } from "../onnx/onnx-model.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../../version.js";
import {
  GAN_BATCH_NORM_EPSILON,
  GAN_LEAKY_SLOPE,
  type GanArchitecture,
  type GanLayer,
} from "./architecture.js";
import { checkGanWeights, type GanLayerWeights, type GanWeights } from "./gan-weights.js";

export const GAN_LATENT_INPUT = "latent";
export const GAN_OUTPUT = "scaled_density";
export const GAN_DISCRIMINATOR_INPUT = "field";
export const GAN_DISCRIMINATOR_OUTPUT = "probability";

/** Weight and bias of a layer with its batch norm folded in (inference mode). */
export function foldBatchNorm(
  l: GanLayer,
  w: GanLayerWeights,
  transposed: boolean,
): { weight: Float32Array; bias: Float32Array } {
  const c = l.outChannels;
  if (!l.batchNorm) return { weight: w.weight, bias: w.bias ?? new Float32Array(c) };
  const gamma = w.gamma as Float32Array;
  const beta = w.beta as Float32Array;
  const mean = w.movingMean as Float32Array;
  const variance = w.movingVariance as Float32Array;
  // Folded in double precision, rounded once to float32.
  const s = Array.from({ length: c }, (_, o) => gamma[o] / Math.sqrt(variance[o] + GAN_BATCH_NORM_EPSILON));
  const bias = Float32Array.from({ length: c }, (_, o) => beta[o] - s[o] * mean[o]);
  const weight = new Float32Array(w.weight.length);
  const k3 = l.kernel ** 3;
  for (let a = 0; a < (transposed ? l.inChannels : c); a++)
    for (let b = 0; b < (transposed ? c : l.inChannels); b++) {
      const o = transposed ? b : a;
      const base = (a * (transposed ? c : l.inChannels) + b) * k3;
      for (let t = 0; t < k3; t++) weight[base + t] = w.weight[base + t] * s[o];
    }
  return { weight, bias };
}

/** Kernel taps of a k4 s2 p1 transposed convolution for output parity r, by ordinary-conv tap (0, 1). */
const PHASE_TAPS = [
  [3, 1],
  [2, 0],
] as const;

/**
 * A kernel-4, stride-2, padding-1 transposed convolution (in, out, 4³) rewritten as ONE ordinary
 * convolution with kernel 2, padding 1 and 8·out channels, one per output parity phase
 * (rx, ry, rz): output 2m + r reads inputs m − 1, m (taps 3, 1) for r = 0 and m, m + 1 (taps 2, 0)
 * for r = 1 — the same multiply-adds as the scatter form, but through ONNX Runtime's Conv, which
 * is much faster than its ConvTranspose (the "subpixel" form of shared/peers/gan_torch.py).
 */
export function subpixelWeights(
  w: Float32Array,
  bias: Float32Array,
  inC: number,
  out: number,
): { weight: Float32Array; bias: Float32Array } {
  const weight = new Float32Array(8 * out * inC * 8);
  forEachSubpixelTap(inC, out, (sub, full) => (weight[sub] = w[full]));
  const b8 = new Float32Array(8 * out);
  for (let ph = 0; ph < 8; ph++) b8.set(bias, ph * out);
  return { weight, bias: b8 };
}

/** The inverse of subpixelWeights' weight map: every one of the 4³ taps sits in exactly one phase. */
export function transposedFromSubpixel(sub: Float32Array, inC: number, out: number): Float32Array {
  const w = new Float32Array(inC * out * 64);
  forEachSubpixelTap(inC, out, (s, full) => (w[full] = sub[s]));
  return w;
}

/**
 * Calls visit(sub, full) for every weight: its index in the sub-pixel layout (8·out, in, 2, 2, 2)
 * and in the transposed convolution's (in, out, 4, 4, 4).
 */
function forEachSubpixelTap(inC: number, out: number, visit: (sub: number, full: number) => void): void {
  for (let ph = 0; ph < 8; ph++) {
    const r = [ph >> 2, (ph >> 1) & 1, ph & 1];
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inC; i++)
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++)
            for (let c = 0; c < 2; c++)
              visit(
                ((((ph * out + o) * inC + i) * 2 + a) * 2 + b) * 2 + c,
                (((i * out + o) * 4 + PHASE_TAPS[r[0]][a]) * 4 + PHASE_TAPS[r[1]][b]) * 4 + PHASE_TAPS[r[2]][c],
              );
  }
}

const int64 = (v: number[]) => BigInt64Array.from(v.map(BigInt));

/** Nodes of the subpixel form of layer l on input x; returns the (B, out, 2n, 2n, 2n) output name. */
function subpixelNodes(
  l: GanLayer,
  x: string,
  folded: { weight: Float32Array; bias: Float32Array },
  nodes: OnnxNode[],
  initializers: OnnxTensor[],
): string {
  const c = l.outChannels;
  const n = l.inSide;
  const sp = subpixelWeights(folded.weight, folded.bias, l.inChannels, c);
  initializers.push({ name: `${l.name}.weight`, dims: [8 * c, l.inChannels, 2, 2, 2], data: sp.weight });
  initializers.push({ name: `${l.name}.bias`, dims: [8 * c], data: sp.bias });
  const y = `${l.name}.phases`;
  nodes.push({
    opType: "Conv",
    name: l.name,
    inputs: [x, `${l.name}.weight`, `${l.name}.bias`],
    outputs: [y],
    attributes: [
      { name: "kernel_shape", type: "ints", value: [2, 2, 2] },
      { name: "pads", type: "ints", value: [1, 1, 1, 1, 1, 1] },
      { name: "strides", type: "ints", value: [1, 1, 1] },
    ],
  });
  // Phase (rx, ry, rz): channels ph·c … ph·c + c − 1, voxels r … r + n − 1 on each axis, as
  // (B, c, n, 1, n, 1, n, 1); concatenated along the unit axes and reshaped to (B, c, 2n, 2n, 2n).
  initializers.push({ name: `${l.name}.axes`, dims: [4], data: int64([1, 2, 3, 4]) });
  initializers.push({ name: `${l.name}.unsq`, dims: [3], data: int64([3, 5, 7]) });
  initializers.push({ name: `${l.name}.shape`, dims: [5], data: int64([0, c, 2 * n, 2 * n, 2 * n]) });
  const phase = (ph: number): string => {
    const r = [ph >> 2, (ph >> 1) & 1, ph & 1];
    const base = `${l.name}.ph${ph}`;
    initializers.push({ name: `${base}.starts`, dims: [4], data: int64([ph * c, r[0], r[1], r[2]]) });
    initializers.push({
      name: `${base}.ends`,
      dims: [4],
      data: int64([ph * c + c, r[0] + n, r[1] + n, r[2] + n]),
    });
    nodes.push({
      opType: "Slice",
      name: `${base}.slice`,
      inputs: [y, `${base}.starts`, `${base}.ends`, `${l.name}.axes`],
      outputs: [`${base}.s`],
    });
    nodes.push({
      opType: "Unsqueeze",
      name: `${base}.unsq`,
      inputs: [`${base}.s`, `${l.name}.unsq`],
      outputs: [`${base}.u`],
    });
    return `${base}.u`;
  };
  const concat = (inputs: string[], axis: number, name: string): string => {
    nodes.push({
      opType: "Concat",
      name,
      inputs,
      outputs: [name],
      attributes: [{ name: "axis", type: "int", value: axis }],
    });
    return name;
  };
  const xs = [0, 1].map((rx) =>
    concat(
      [0, 1].map((ry) =>
        concat(
          [0, 1].map((rz) => phase((rx * 2 + ry) * 2 + rz)),
          7,
          `${l.name}.cz${rx}${ry}`,
        ),
      ),
      5,
      `${l.name}.cy${rx}`,
    ),
  );
  const all = concat(xs, 3, `${l.name}.cx`);
  const out = `${l.name}.interleaved`;
  nodes.push({ opType: "Reshape", name: out, inputs: [all, `${l.name}.shape`], outputs: [out] });
  return out;
}

function buildNetwork(
  arch: GanArchitecture,
  weights: GanWeights,
  layers: readonly GanLayer[],
  transposed: boolean,
  input: string,
  output: string,
  finalActivation: "Tanh" | "Sigmoid",
): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let x = input;
  layers.forEach((l, i) => {
    const w = weights.get(l.name) as GanLayerWeights;
    const f = foldBatchNorm(l, w, transposed);
    const k = l.kernel;
    const last = i === layers.length - 1;
    let y: string;
    if (transposed && l.stride === 2 && l.pad === 1 && k === 4)
      y = subpixelNodes(l, x, f, nodes, initializers);
    else {
      initializers.push({
        name: `${l.name}.weight`,
        dims: transposed ? [l.inChannels, l.outChannels, k, k, k] : [l.outChannels, l.inChannels, k, k, k],
        data: f.weight,
      });
      initializers.push({ name: `${l.name}.bias`, dims: [l.outChannels], data: f.bias });
      y = `${l.name}.conv`;
      nodes.push({
        opType: transposed ? "ConvTranspose" : "Conv",
        name: l.name,
        inputs: [x, `${l.name}.weight`, `${l.name}.bias`],
        outputs: [y],
        attributes: [
          { name: "kernel_shape", type: "ints", value: [k, k, k] },
          { name: "pads", type: "ints", value: Array(6).fill(l.pad) as number[] },
          { name: "strides", type: "ints", value: [l.stride, l.stride, l.stride] },
        ],
      });
    }
    x = last ? output : `${l.name}.act`;
    if (l.activation === "relu")
      nodes.push({ opType: "Relu", name: `${l.name}.relu`, inputs: [y], outputs: [x] });
    else if (l.activation === "leaky-relu")
      nodes.push({
        opType: "LeakyRelu",
        name: `${l.name}.lrelu`,
        inputs: [y],
        outputs: [x],
        attributes: [{ name: "alpha", type: "float", value: GAN_LEAKY_SLOPE }],
      });
    else if (l.activation === "tanh" || last)
      nodes.push({ opType: finalActivation, name: `${l.name}.out`, inputs: [y], outputs: [x] });
    else throw new RangeError(`GAN layer ${l.name}: no activation is only allowed last`);
  });
  void arch;
  return { nodes, initializers };
}

/** The generator as ONNX bytes. */
export function buildGeneratorOnnx(arch: GanArchitecture, weights: GanWeights): Uint8Array {
  checkGanWeights(arch, weights);
  const g = buildNetwork(arch, weights, arch.generator, true, GAN_LATENT_INPUT, GAN_OUTPUT, "Tanh");
  const s = arch.side;
  return encodeOnnxModel({
    producerName: SOFTWARE_NAME,
    producerVersion: SOFTWARE_VERSION,
    docString: `3D DCGAN generator (Feder et al. 2020), preset ${arch.preset}, filters ${arch.filters.join("-")}, latent ${arch.latentDim}${arch.conditional ? " + z" : ""}, batch norm folded`,
    graph: {
      name: "gan-generator",
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: GAN_LATENT_INPUT, dims: ["batch", arch.generator[0].inChannels, 1, 1, 1] }],
      outputs: [{ name: GAN_OUTPUT, dims: ["batch", 1, s, s, s] }],
    },
  });
}

/** The discriminator (with its sigmoid) as ONNX bytes. */
export function buildDiscriminatorOnnx(arch: GanArchitecture, weights: GanWeights): Uint8Array {
  checkGanWeights(arch, weights);
  const d = buildNetwork(
    arch,
    weights,
    arch.discriminator,
    false,
    GAN_DISCRIMINATOR_INPUT,
    GAN_DISCRIMINATOR_OUTPUT,
    "Sigmoid",
  );
  const s = arch.side;
  return encodeOnnxModel({
    producerName: SOFTWARE_NAME,
    producerVersion: SOFTWARE_VERSION,
    docString: `3D DCGAN discriminator (Feder et al. 2020), preset ${arch.preset}, batch norm folded`,
    graph: {
      name: "gan-discriminator",
      nodes: d.nodes,
      initializers: d.initializers,
      inputs: [{ name: GAN_DISCRIMINATOR_INPUT, dims: ["batch", arch.discriminator[0].inChannels, s, s, s] }],
      outputs: [{ name: GAN_DISCRIMINATOR_OUTPUT, dims: ["batch", 1, 1, 1, 1] }],
    },
  });
}
