/**
 * The halo painter (./architecture.ts) evaluated with FFT convolutions (../fft-convolution.ts)
 * instead of direct ones: equal to the ONNX graph of ./painter-onnx.ts to float32 rounding.
 *
 * A valid 5³ convolution 10 → 10 costs 25,000 multiply-adds per voxel directly, but only ~100
 * complex multiply-adds per Fourier mode (half spectrum) plus 20 FFTs of the grid. Every layer
 * of the network lives in one frame (centred kernels, so the branch crops of the inception
 * blocks are no-ops) on a cubic FFT grid of side M, a product of 2, 3 and 5.
 *
 * Kernel spectra take cin·cout·M³ complex values per layer (M = 64: 108 MB per 10 → 10 layer),
 * so a patch is painted in sub-patches of input side ≤ maxFftSide, each placed at the origin of
 * a zeroed M³ grid; their cores tile the patch's core. Every sub-patch is computed by the same
 * code on the same grid, so results are deterministic for any number of painters or workers.
 */
import type { Activation, ConvLayer, PainterArchitecture } from "./architecture.js";
import type { PainterWeights } from "./painter-onnx.js";
import { FftConvWorkspace, kernelSpectra, type WasmArray } from "../fft-convolution.js";
import { fftFactors } from "../../cosmo/fft/batched-complex-fft.js";

export interface FftPainterOptions {
  /** Largest FFT grid side (bounds the kernel-spectrum memory, ~cin·cout·M³·8 bytes per layer). */
  maxFftSide?: number;
}

export const DEFAULT_MAX_FFT_SIDE = 72;

/** The smallest side ≥ n whose prime factors are 2, 3 and 5. */
export function fftFriendlyAtLeast(n: number): number {
  let m = Math.max(1, Math.ceil(n));
  while (fftFactors(m) === null) m++;
  return m;
}

/**
 * Per-axis sub-patch plan for a patch core of side `core` with padding `p`: `cores` sub-patches
 * of core `sub` on FFT grids of side `fftSide` ≤ maxFftSide, choosing the grid side that
 * paints the patch with the fewest grid voxels in total (the cost of FFTs and channel mixes).
 */
export function subPatchPlan(
  core: number,
  p: number,
  maxFftSide: number,
): { cores: number; sub: number; fftSide: number } {
  const smallest = fftFriendlyAtLeast(Math.min(core, Math.max(1, maxFftSide - 2 * p)) + 2 * p);
  if (smallest > maxFftSide)
    throw new RangeError(`maxFftSide ${maxFftSide} leaves no core with padding ${p}`);
  let best = { cores: 0, sub: 0, fftSide: 0 };
  let bestCost = Infinity;
  for (let m = smallest; m <= maxFftSide; m = fftFriendlyAtLeast(m + 1)) {
    const cores = Math.ceil(core / (m - 2 * p));
    const sub = Math.ceil(core / cores);
    const fftSide = fftFriendlyAtLeast(sub + 2 * p);
    const cost = (cores * fftSide) ** 3;
    if (cost < bestCost) [best, bestCost] = [{ cores, sub, fftSide }, cost];
  }
  return best;
}

interface LayerBuffers {
  layer: ConvLayer;
  w: WasmArray;
  b: WasmArray;
  /** Kernel spectra (k > 1 only). */
  g: WasmArray | null;
}

/** Buffers and kernel spectra for one FFT side. */
class FramePlan {
  readonly ws: FftConvWorkspace;
  readonly layers = new Map<string, LayerBuffers>();
  readonly input: WasmArray;
  readonly cur: WasmArray;
  readonly next: WasmArray;
  readonly temp: [WasmArray, WasmArray];
  readonly cat: WasmArray;
  readonly specIn: WasmArray;
  readonly specOut: WasmArray;

  constructor(
    arch: PainterArchitecture,
    weights: PainterWeights,
    side: number,
    layers: readonly ConvLayer[],
  ) {
    const ws = (this.ws = new FftConvWorkspace(side));
    const n = ws.voxels;
    let maxChannels = Math.max(arch.inChannels, arch.outChannels);
    let maxCat = 1;
    let maxSpec = 1;
    for (const c of layers) maxChannels = Math.max(maxChannels, c.inChannels, c.outChannels);
    for (const b of arch.blocks) maxCat = Math.max(maxCat, b.merge.inChannels);
    for (const c of layers) if (c.kernel > 1) maxSpec = Math.max(maxSpec, c.inChannels, c.outChannels);
    this.input = ws.alloc(arch.inChannels * n);
    this.cur = ws.alloc(maxChannels * n);
    this.next = ws.alloc(maxChannels * n);
    this.temp = [ws.alloc(maxChannels * n), ws.alloc(maxChannels * n)];
    this.cat = ws.alloc(maxCat * n);
    this.specIn = ws.alloc(maxSpec * ws.spectral);
    this.specOut = ws.alloc(maxSpec * ws.spectral);
    const pending: Array<[LayerBuffers, Float32Array]> = [];
    for (const c of layers) {
      const cw = weights.get(c.name);
      if (!cw) throw new RangeError(`painter weights lack layer ${c.name}`);
      if (
        cw.weight.length !== c.outChannels * c.inChannels * c.kernel ** 3 ||
        cw.bias.length !== c.outChannels
      )
        throw new RangeError(`painter weights for ${c.name} have the wrong size`);
      const lb: LayerBuffers = {
        layer: c,
        w: ws.alloc(c.kernel === 1 ? cw.weight.length : 0),
        b: ws.alloc(cw.bias.length),
        g: c.kernel > 1 ? ws.alloc(c.inChannels * c.outChannels * ws.spectral) : null,
      };
      this.layers.set(c.name, lb);
      pending.push([lb, cw.weight]);
    }
    // Views only after the last allocation (growing the memory detaches them).
    for (const [lb, weight] of pending) {
      const cw = weights.get(lb.layer.name);
      if (cw) ws.view(lb.b).set(cw.bias);
      if (lb.g) kernelSpectra(ws, weight, lb.layer.inChannels, lb.layer.outChannels, lb.layer.kernel, lb.g);
      else ws.view(lb.w).set(weight);
    }
  }

  /** One layer from x (channels at offset 0) into y at channel offset `yChannel`. */
  conv(
    name: string,
    x: WasmArray,
    y: WasmArray,
    yChannel = 0,
    accumulate = false,
    activation: Activation = this.layer(name).layer.activation,
  ): void {
    const lb = this.layer(name);
    const { ws } = this;
    const c = lb.layer;
    const n = ws.voxels;
    const yAt = { at: y.at + yChannel * n * 4, length: c.outChannels * n };
    if (!lb.g) {
      ws.pointwise(x, c.inChannels, lb.w, lb.b, yAt, c.outChannels, activation, accumulate);
      return;
    }
    if (accumulate) throw new RangeError(`layer ${name}: accumulating FFT convolutions is not supported`);
    const s = ws.spectral;
    for (let i = 0; i < c.inChannels; i++)
      ws.fft.forward(ws.view(x, i * n, n), ws.view(this.specIn, i * s, s));
    ws.spectralMix(this.specIn, c.inChannels, lb.g, this.specOut, c.outChannels);
    for (let o = 0; o < c.outChannels; o++)
      ws.fft.inverse(ws.view(this.specOut, o * s, s), ws.view(yAt, o * n, n));
    ws.biasAct(yAt, c.outChannels, lb.b, activation);
  }

  private layer(name: string): LayerBuffers {
    const lb = this.layers.get(name);
    if (!lb) throw new RangeError(`no buffers for layer ${name}`);
    return lb;
  }
}

export class FftPainter {
  private readonly plans = new Map<number, FramePlan>();
  private readonly maxFftSide: number;
  private readonly layers: ConvLayer[];

  constructor(
    readonly arch: PainterArchitecture,
    private readonly weights: PainterWeights,
    options: FftPainterOptions = {},
  ) {
    this.maxFftSide = options.maxFftSide ?? DEFAULT_MAX_FFT_SIDE;
    this.layers = [];
    for (const b of arch.blocks) {
      for (const br of b.branches) {
        // The frame is aligned only if every branch removes the block's trim in total.
        const removed = br.crop + br.layers.reduce((s, c) => s + (c.kernel - 1) / 2, 0);
        if (removed !== b.trim)
          throw new RangeError(`${b.name}: a branch removes ${removed} voxels, the block ${b.trim}`);
        this.layers.push(...br.layers);
      }
      if (b.residual.crop !== b.trim || b.merge.kernel !== 1 || b.residual.layer.kernel !== 1)
        throw new RangeError(
          `${b.name}: merge and residual must be 1³ convolutions cropped by the block's trim`,
        );
      this.layers.push(b.merge, b.residual.layer);
    }
    this.layers.push(...arch.head);
  }

  /**
   * Paints one patch: `input` holds inChannels × side³ values (channel-major, C order); returns
   * outChannels × (side − 2·padding)³ values.
   */
  paint(input: Float32Array, side: number): Float32Array {
    const { arch } = this;
    const p = arch.padding;
    const core = side - 2 * p;
    if (!Number.isInteger(side) || core < 1) throw new RangeError(`patch side ${side} must exceed ${2 * p}`);
    if (input.length !== arch.inChannels * side ** 3)
      throw new RangeError(`patch has ${input.length} values, expected ${arch.inChannels}×${side}³`);
    const { cores, sub, fftSide } = subPatchPlan(core, p, this.maxFftSide);
    const plan = this.plan(fftSide);
    const out = new Float32Array(arch.outChannels * core ** 3);
    const origins: number[] = [];
    for (let j = 0; j < cores; j++) origins.push(Math.min(j * sub, core - sub));
    for (const ox of origins)
      for (const oy of origins)
        for (const oz of origins) this.subPatch(plan, input, side, [ox, oy, oz], sub, out, core);
    return out;
  }

  /** Frees the FFT threads and memory of every grid side used. */
  dispose(): void {
    for (const plan of this.plans.values()) plan.ws.dispose();
    this.plans.clear();
  }

  private plan(side: number): FramePlan {
    let plan = this.plans.get(side);
    if (!plan) {
      // One grid side at a time: kernel spectra are large.
      this.dispose();
      plan = new FramePlan(this.arch, this.weights, side, this.layers);
      this.plans.set(side, plan);
    }
    return plan;
  }

  private subPatch(
    plan: FramePlan,
    input: Float32Array,
    side: number,
    origin: readonly number[],
    sub: number,
    out: Float32Array,
    core: number,
  ): void {
    const { arch } = this;
    const p = arch.padding;
    const { ws } = plan;
    const m = ws.side;
    const n = ws.voxels;
    const s = sub + 2 * p;
    // Zero the whole grid: values beyond the sub-patch do not reach the valid outputs, but they
    // enter the FFTs' rounding, so they must not depend on earlier sub-patches.
    const grid = ws.view(plan.input);
    grid.fill(0);
    const [ox, oy, oz] = origin;
    for (let c = 0; c < arch.inChannels; c++)
      for (let x = 0; x < s; x++)
        for (let y = 0; y < s; y++) {
          const from = ((c * side + ox + x) * side + oy + y) * side + oz;
          grid.set(input.subarray(from, from + s), c * n + (x * m + y) * m);
        }
    let x: WasmArray = plan.input;
    let next = plan.cur;
    const advance = (): void => {
      x = next;
      next = x === plan.cur ? plan.next : plan.cur;
    };
    for (const b of arch.blocks) {
      let channel = 0;
      for (const br of b.branches) {
        let y = x;
        br.layers.forEach((layer, i) => {
          const last = i === br.layers.length - 1;
          const to = last ? plan.cat : plan.temp[i % 2];
          plan.conv(layer.name, y, to, last ? channel : 0);
          y = to;
        });
        channel += br.layers[br.layers.length - 1].outChannels;
      }
      plan.conv(b.merge.name, plan.cat, next);
      // The residual adds onto the merge; the block activation applies to the sum.
      plan.conv(b.residual.layer.name, x, next, 0, true, b.activation);
      advance();
    }
    for (const layer of arch.head) {
      plan.conv(layer.name, x, next);
      advance();
    }
    const result = ws.view(x, 0, arch.outChannels * n);
    for (let c = 0; c < arch.outChannels; c++)
      for (let i = 0; i < sub; i++)
        for (let j = 0; j < sub; j++) {
          const from = c * n + ((p + i) * m + p + j) * m + p;
          const to = ((c * core + origin[0] + i) * core + origin[1] + j) * core + origin[2];
          out.set(result.subarray(from, from + sub), to);
        }
  }
}
