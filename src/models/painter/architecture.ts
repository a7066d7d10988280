/**
 * The halo-painting network of Kodi Ramanah, Charnock & Lavaux 2019 (arXiv:1903.10524, §V,
 * Figs 4–5) as data: every layer, its kernel, channels and crop, so that the ONNX builder
 * (./painter-onnx.ts) and a training-framework builder consume one definition.
 *
 * The paper gives the topology and ≈31,930 parameters, not every layer; this reconstruction
 * matches the PyTorch reference peer (shared/peers/painter_torch.py, 31,921 parameters):
 *
 *   input (B, 1, S, S, S), ρ/ρ̄ = 1 + δ
 *   inception block (1 → 10), side S → S − 4; inception block (10 → 10), S − 4 → S − 8
 *   head: three 1³ conv (10 → 10) + leaky ReLU, one 1³ conv (10 → C) + ReLU
 *
 * Inception block (cin → f), all convolutions 'valid' with bias, leaky ReLU slope 0.1:
 *   branch 1: 1³ conv + LReLU            on the input cropped by 2
 *   branch 3: 1³ conv + LReLU, 3³ + LReLU on the input cropped by 1
 *   branch 5: 1³ conv + LReLU, 5³ + LReLU on the full input
 *   merge:    concat (3f) → 1³ conv (3f → f), no activation
 *   residual: input cropped by 2 → 1³ conv (cin → f), no activation
 *   out = LReLU(merge + residual)
 * Cropping before a 1³ convolution equals cropping after it, without the wasted work.
 */

export type Activation = "none" | "leaky-relu" | "relu";

export const LEAKY_RELU_SLOPE = 0.1;

export interface ConvLayer {
  /** Unique name; matches the PyTorch peer's module path (e.g. "inc1.b3r"). */
  name: string;
  inChannels: number;
  outChannels: number;
  /** Cubic kernel side; 'valid' padding, stride 1, with bias. */
  kernel: number;
  activation: Activation;
}

export interface InceptionBranch {
  /** Voxels removed from each face of the block input before the branch's first layer. */
  crop: number;
  layers: readonly ConvLayer[];
}

export interface InceptionBlock {
  name: string;
  inChannels: number;
  filters: number;
  branches: readonly InceptionBranch[];
  merge: ConvLayer;
  residual: { crop: number; layer: ConvLayer };
  /** Applied to merge + residual. */
  activation: Activation;
  /** Voxels the block removes from each face. */
  trim: number;
}

export interface PainterArchitecture {
  name: string;
  inChannels: number;
  outChannels: number;
  blocks: readonly InceptionBlock[];
  head: readonly ConvLayer[];
  /** (input side − output side) / 2. */
  padding: number;
}

function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  activation: Activation,
): ConvLayer {
  return { name, inChannels, outChannels, kernel, activation };
}

function inceptionBlock(name: string, cin: number, f: number): InceptionBlock {
  const l = "leaky-relu";
  return {
    name,
    inChannels: cin,
    filters: f,
    branches: [
      { crop: 2, layers: [conv(`${name}.b1`, cin, f, 1, l)] },
      { crop: 1, layers: [conv(`${name}.b3r`, cin, f, 1, l), conv(`${name}.b3`, f, f, 3, l)] },
      { crop: 0, layers: [conv(`${name}.b5r`, cin, f, 1, l), conv(`${name}.b5`, f, f, 5, l)] },
    ],
    merge: conv(`${name}.merge`, 3 * f, f, 1, "none"),
    residual: { crop: 2, layer: conv(`${name}.res`, cin, f, 1, "none") },
    activation: l,
    trim: 2,
  };
}

/** The painter for `outChannels` output fields (1: halo counts; 4: counts in mass bins). */
export function painterArchitecture(outChannels = 1, filters = 10): PainterArchitecture {
  const blocks = [inceptionBlock("inc1", 1, filters), inceptionBlock("inc2", filters, filters)];
  const head = [
    conv("h1", filters, filters, 1, "leaky-relu"),
    conv("h2", filters, filters, 1, "leaky-relu"),
    conv("h3", filters, filters, 1, "leaky-relu"),
    conv("h4", filters, outChannels, 1, "relu"),
  ];
  const padding = blocks.reduce((s, b) => s + b.trim, 0) + head.reduce((s, c) => s + (c.kernel - 1) / 2, 0);
  return { name: "halo-painter", inChannels: 1, outChannels, blocks, head, padding };
}

/** Every convolution of the network, in execution order. */
export function convLayers(arch: PainterArchitecture): ConvLayer[] {
  const out: ConvLayer[] = [];
  for (const b of arch.blocks) {
    for (const br of b.branches) out.push(...br.layers);
    out.push(b.merge, b.residual.layer);
  }
  out.push(...arch.head);
  return out;
}

export function parameterCount(arch: PainterArchitecture): number {
  return convLayers(arch).reduce((s, c) => s + c.outChannels * (c.inChannels * c.kernel ** 3 + 1), 0);
}
