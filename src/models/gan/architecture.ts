/**
 * The 3D DCGAN of Feder et al. 2020 (arXiv:2005.03050, Table I) as data, so the TensorFlow.js
 * builder (./gan-tf.ts, training) and the ONNX builder (./gan-onnx.ts, inference) consume one
 * definition.
 *
 * Generator: latent (B, L, 1, 1, 1) → transposed convolutions, kernel 4, strides 1, 2, 2, 2, …
 * (padding 0 for the first, 1 after), sides 1 → 4 → 8 → … → S; batch norm + ReLU after every
 * layer but the last, tanh on the last (the scaled density c ∈ (−1, 1), ./data-scaling.ts).
 * Discriminator (mirror image): strided convolutions, kernel 4, stride 2, padding 1, S → S/2 → …
 * → 4, leaky ReLU (slope 0.2) with batch norm on all but the first, then a 4³ valid convolution
 * to one logit and a sigmoid. Convolutions followed by batch norm carry no bias (the norm's β
 * is the bias); the others do.
 *
 * Conditional variant (cGAN): the redshift z is appended to the latent vector (one more input
 * channel of the generator) and given to the discriminator as an extra input channel that is z
 * in every voxel.
 */

export type GanActivation = "relu" | "leaky-relu" | "tanh" | "none";

export const GAN_LEAKY_SLOPE = 0.2;
/** Batch-norm ε (PyTorch's and the peer's default). */
export const GAN_BATCH_NORM_EPSILON = 1e-5;
/** Moving statistics: moving ← m·moving + (1 − m)·batch. */
export const GAN_BATCH_NORM_MOMENTUM = 0.9;

export interface GanLayer {
  /** Unique name, e.g. "g0", "d3"; weights are keyed by it. */
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Voxels of padding on each face (PyTorch's `padding`). */
  pad: number;
  batchNorm: boolean;
  /** Applied after batch norm (the discriminator's final logit has "none"; the sigmoid is separate). */
  activation: GanActivation;
  /** Input and output sides. */
  inSide: number;
  outSide: number;
}

export type GanPreset = "paper" | "reduced";
export const GAN_PRESETS: readonly GanPreset[] = ["paper", "reduced"];

export interface GanArchitectureOptions {
  /** Generator filters, the last being 1 (the density). */
  filters: readonly number[];
  latentDim: number;
  conditional: boolean;
}

export interface GanArchitecture extends GanArchitectureOptions {
  /** "paper", "reduced" or "custom". */
  preset: GanPreset | "custom";
  /** Output side S = 4 · 2^(layers − 1). */
  side: number;
  generator: readonly GanLayer[];
  discriminator: readonly GanLayer[];
}

export const PRESET_OPTIONS: Readonly<Record<GanPreset, GanArchitectureOptions>> = {
  // Table I of Feder et al. 2020: 100-d latent, 256-128-64-32-1 filters, 64³ output.
  paper: { filters: [256, 128, 64, 32, 1], latentDim: 100, conditional: false },
  // Four times fewer filters (about 16× fewer operations), same 64³ output, for CPU training.
  reduced: { filters: [64, 32, 16, 8, 1], latentDim: 100, conditional: false },
};

function layer(
  name: string,
  inChannels: number,
  outChannels: number,
  stride: number,
  pad: number,
  batchNorm: boolean,
  activation: GanActivation,
  inSide: number,
  outSide: number,
): GanLayer {
  return { name, inChannels, outChannels, kernel: 4, stride, pad, batchNorm, activation, inSide, outSide };
}

/** The architecture for explicit options (presets: ganPreset). */
export function ganArchitecture(
  options: GanArchitectureOptions,
  preset: GanPreset | "custom" = "custom",
): GanArchitecture {
  const f = options.filters;
  if (f.length < 2 || f[f.length - 1] !== 1 || f.some((v) => !Number.isInteger(v) || v < 1))
    throw new RangeError(`generator filters must be ≥ 2 positive integers ending in 1, got ${f.join(",")}`);
  if (!Number.isInteger(options.latentDim) || options.latentDim < 1)
    throw new RangeError(`latent dimension must be a positive integer, got ${options.latentDim}`);
  const cond = options.conditional ? 1 : 0;
  const generator: GanLayer[] = [];
  let side = 1;
  let cin = options.latentDim + cond;
  f.forEach((cout, i) => {
    const last = i === f.length - 1;
    const first = i === 0;
    const out = first ? 4 : 2 * side;
    generator.push(
      layer(`g${i}`, cin, cout, first ? 1 : 2, first ? 0 : 1, !last, last ? "tanh" : "relu", side, out),
    );
    side = out;
    cin = cout;
  });
  // Mirror: channels 1 (+1) → f[L−2] → … → f[0] → 1 logit.
  const dFilters = f.slice(0, -1).reverse();
  const discriminator: GanLayer[] = [];
  let dSide = side;
  let dIn = 1 + cond;
  dFilters.forEach((cout, i) => {
    discriminator.push(layer(`d${i}`, dIn, cout, 2, 1, i > 0, "leaky-relu", dSide, dSide / 2));
    dSide /= 2;
    dIn = cout;
  });
  discriminator.push(layer(`d${dFilters.length}`, dIn, 1, 1, 0, false, "none", dSide, 1));
  return { ...options, filters: [...f], preset, side, generator, discriminator };
}

export function ganPreset(
  preset: GanPreset,
  overrides: Partial<GanArchitectureOptions> = {},
): GanArchitecture {
  const o = { ...PRESET_OPTIONS[preset], ...overrides };
  const same =
    o.latentDim === PRESET_OPTIONS[preset].latentDim &&
    o.filters.join() === PRESET_OPTIONS[preset].filters.join();
  return ganArchitecture(o, same ? preset : "custom");
}

export function ganLayerParameters(l: GanLayer): number {
  const w = l.inChannels * l.outChannels * l.kernel ** 3;
  return w + (l.batchNorm ? 2 * l.outChannels : l.outChannels);
}

export function parameterCounts(arch: GanArchitecture): { generator: number; discriminator: number } {
  const sum = (ls: readonly GanLayer[]) => ls.reduce((s, l) => s + ganLayerParameters(l), 0);
  return { generator: sum(arch.generator), discriminator: sum(arch.discriminator) };
}
