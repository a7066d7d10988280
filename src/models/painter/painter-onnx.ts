/**
 * Builds the halo painter (./architecture.ts) as an ONNX graph: input "density"
 * (batch, 1, S, S, S) → output "halos" (batch, C, S − 8, S − 8, S − 8), all dims but the
 * channels symbolic so one session serves any tile size.
 */
import {
  convLayers,
  LEAKY_RELU_SLOPE,
  type Activation,
  type ConvLayer,
  type PainterArchitecture,
} from "./architecture.js";
import { initConvWeights, type ConvWeights } from "../weight-init.js";
import { encodeOnnxModel, type OnnxNode, type OnnxTensor } from "../onnx/onnx-model.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../../version.js";

export const PAINTER_INPUT = "density";
export const PAINTER_OUTPUT = "halos";

export type PainterWeights = ReadonlyMap<string, ConvWeights>;

/** Seeded random weights for every layer (untrained; for benchmarks and tests). */
export function randomPainterWeights(arch: PainterArchitecture, seed: number): PainterWeights {
  const m = new Map<string, ConvWeights>();
  for (const c of convLayers(arch))
    m.set(c.name, initConvWeights(seed, c.name, c.inChannels, c.outChannels, c.kernel));
  return m;
}

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly crops = new Map<number, [string, string, string]>();

  constructor(private readonly weights: PainterWeights) {}

  conv(x: string, layer: ConvLayer): string {
    const w = this.weights.get(layer.name);
    if (!w) throw new RangeError(`painter weights lack layer ${layer.name}`);
    const k = layer.kernel;
    if (
      w.weight.length !== layer.outChannels * layer.inChannels * k ** 3 ||
      w.bias.length !== layer.outChannels
    ) {
      throw new RangeError(`painter weights for ${layer.name} have the wrong size`);
    }
    this.initializers.push({
      name: `${layer.name}.weight`,
      dims: [layer.outChannels, layer.inChannels, k, k, k],
      data: w.weight,
    });
    this.initializers.push({ name: `${layer.name}.bias`, dims: [layer.outChannels], data: w.bias });
    const y = `${layer.name}.conv`;
    this.nodes.push({
      opType: "Conv",
      name: layer.name,
      inputs: [x, `${layer.name}.weight`, `${layer.name}.bias`],
      outputs: [y],
      attributes: [
        { name: "kernel_shape", type: "ints", value: [k, k, k] },
        { name: "pads", type: "ints", value: [0, 0, 0, 0, 0, 0] },
        { name: "strides", type: "ints", value: [1, 1, 1] },
      ],
    });
    return this.activate(y, layer.activation, layer.name);
  }

  activate(x: string, a: Activation, name: string, output?: string): string {
    if (a === "none") return x;
    const y = output ?? `${name}.act`;
    if (a === "relu") this.nodes.push({ opType: "Relu", name: `${name}.relu`, inputs: [x], outputs: [y] });
    else
      this.nodes.push({
        opType: "LeakyRelu",
        name: `${name}.lrelu`,
        inputs: [x],
        outputs: [y],
        attributes: [{ name: "alpha", type: "float", value: LEAKY_RELU_SLOPE }],
      });
    return y;
  }

  crop(x: string, c: number, name: string): string {
    if (c === 0) return x;
    let ids = this.crops.get(c);
    if (!ids) {
      ids = [`crop${c}.starts`, `crop${c}.ends`, `crop${c}.axes`];
      this.initializers.push({ name: ids[0], dims: [3], data: BigInt64Array.from([c, c, c].map(BigInt)) });
      this.initializers.push({ name: ids[1], dims: [3], data: BigInt64Array.from([-c, -c, -c].map(BigInt)) });
      this.initializers.push({ name: ids[2], dims: [3], data: BigInt64Array.from([2n, 3n, 4n]) });
      this.crops.set(c, ids);
    }
    const y = `${name}.crop${c}`;
    this.nodes.push({ opType: "Slice", name: y, inputs: [x, ...ids], outputs: [y] });
    return y;
  }
}

/** The painter as ONNX bytes. */
export function buildPainterOnnx(arch: PainterArchitecture, weights: PainterWeights): Uint8Array {
  const g = new GraphBuilder(weights);
  let x = PAINTER_INPUT;
  for (const b of arch.blocks) {
    const branchOutputs = b.branches.map((br, i) => {
      let y = g.crop(x, br.crop, `${b.name}.branch${i}`);
      for (const layer of br.layers) y = g.conv(y, layer);
      return y;
    });
    const cat = `${b.name}.concat`;
    g.nodes.push({
      opType: "Concat",
      name: cat,
      inputs: branchOutputs,
      outputs: [cat],
      attributes: [{ name: "axis", type: "int", value: 1 }],
    });
    const merged = g.conv(cat, b.merge);
    const res = g.conv(g.crop(x, b.residual.crop, `${b.name}.res`), b.residual.layer);
    const sum = `${b.name}.sum`;
    g.nodes.push({ opType: "Add", name: sum, inputs: [merged, res], outputs: [sum] });
    x = g.activate(sum, b.activation, b.name);
  }
  for (const layer of arch.head) x = g.conv(x, layer);
  g.nodes.push({ opType: "Identity", name: "output", inputs: [x], outputs: [PAINTER_OUTPUT] });
  return encodeOnnxModel({
    producerName: SOFTWARE_NAME,
    producerVersion: SOFTWARE_VERSION,
    docString: `${arch.name}: ${arch.blocks.length} inception blocks, padding ${arch.padding}`,
    graph: {
      name: arch.name,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: PAINTER_INPUT, dims: ["batch", arch.inChannels, "side", "side", "side"] }],
      outputs: [{ name: PAINTER_OUTPUT, dims: ["batch", arch.outChannels, "core", "core", "core"] }],
    },
  });
}
