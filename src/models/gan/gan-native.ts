/**
 * The GAN generator evaluated on our native x86-64 convolution kernels (native/conv3d/conv3d.c
 * through models/kernels/conv3d-wasm.ts) instead of ONNX Runtime, for sampling on the CPU.
 * Weights come from the generator's .onnx file (batch norm already folded, ./gan-onnx.ts), so
 * any exported model runs here; values agree with ONNX Runtime's to float32 summation order.
 *
 * Layout is NDHWC (the kernels' layout); with one output channel the final (B, S³) volume is
 * the same in NCDHW. The 1³ → 4³ first layer is one matrix product z · W over all 4³ taps (a
 * 1×1×1 forward convolution with the batch as rows, 64·C_out columns). Every kernel-4, stride-2
 * layer is conv3d.c's up2_unit: one stride-1 2³ convolution per output parity with bias and
 * activation fused, writing straight into the next layer's zero-padded input, so activations
 * never leave the kernels' memory and no multiply-add is spent on zero taps (layers with fewer
 * output channels than a vector stack the 8 parities as channels, the sub-pixel form). The last
 * tanh is 1 − 2/(e^{2y} + 1). Each output element is summed in a fixed order whatever the
 * thread count, so samples do not depend on how they are spread over workers.
 */
import { readOnnxInitializers } from "../onnx/onnx-reader.js";
import { CONV_PARAM, conv3dWasmModule, WasmConv3d } from "../kernels/conv3d-wasm.js";
import { nativeConv3d, type NativeConv3d } from "../kernels/native-x86.js";
import { pointwiseGeometry } from "../kernels/input-grad-forms.js";
import { GAN_LEAKY_SLOPE, type GanArchitecture, type GanLayer } from "./architecture.js";
import { foldBatchNorm, transposedFromSubpixel } from "./gan-onnx.js";
import { checkGanWeights, type GanLayerWeights, type GanWeights } from "./gan-weights.js";
import { checkKappa, MAX_SCALED } from "./data-scaling.js";

/** A generator layer with batch norm folded in: ConvTranspose weight (in, out, k, k, k) and bias. */
export interface FoldedGanLayer {
  layer: GanLayer;
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * The folded generator layers an .onnx file written by gan-onnx.ts holds (stride-2 layers are
 * stored in sub-pixel form and converted back); a RangeError names the first layer that is
 * missing or has other dimensions than `arch` says.
 */
export function generatorLayersFromOnnx(bytes: Uint8Array, arch: GanArchitecture): FoldedGanLayer[] {
  const tensors = new Map(readOnnxInitializers(bytes).map((t) => [t.name, t]));
  return arch.generator.map((l) => {
    const w = tensors.get(`${l.name}.weight`);
    const b = tensors.get(`${l.name}.bias`);
    const k = l.kernel;
    const subpixel = isSubpixelLayer(l);
    const wantW = subpixel ? [8 * l.outChannels, l.inChannels, 2, 2, 2] : [l.inChannels, l.outChannels, k, k, k];
    const wantB = subpixel ? 8 * l.outChannels : l.outChannels;
    if (!w || !(w.data instanceof Float32Array) || w.dims.join() !== wantW.join())
      throw new RangeError(`generator layer ${l.name}: expected float weights of shape (${wantW.join(", ")})`);
    if (!b || !(b.data instanceof Float32Array) || b.dims.join() !== String(wantB))
      throw new RangeError(`generator layer ${l.name}: expected a float bias of shape (${wantB})`);
    if (!subpixel) return { layer: l, weight: w.data, bias: b.data };
    return {
      layer: l,
      weight: transposedFromSubpixel(w.data, l.inChannels, l.outChannels),
      bias: b.data.slice(0, l.outChannels),
    };
  });
}

/** The folded generator layers of in-memory weights (what buildGeneratorOnnx would store). */
export function foldedGeneratorLayers(arch: GanArchitecture, weights: GanWeights): FoldedGanLayer[] {
  checkGanWeights(arch, weights);
  return arch.generator.map((l) => ({ layer: l, ...foldBatchNorm(l, weights.get(l.name) as GanLayerWeights, true) }));
}

/** Layers gan-onnx.ts exports in sub-pixel form (kernel 4, stride 2, padding 1). */
export function isSubpixelLayer(l: GanLayer): boolean {
  return l.stride === 2 && l.pad === 1 && l.kernel === 4;
}

/** Floats of up2_unit's stack scratch (conv3d.c UP_SCRATCH): a padded row plane must fit. */
const UP_SCRATCH = 16384;
/** Largest coarse side of up2_last_unit (conv3d.c UP_LAST_MAX: its 8·n² sums are on the stack). */
const UP_LAST_MAX = 64;
/** Phase taps T(r, a) of a kernel-4, stride-2, padding-1 transposed convolution (see conv3d.c). */
const TAP = [
  [3, 1],
  [2, 0],
] as const;
/**
 * Weights per parity above which up2_unit runs parity-major (measured on the paper generator:
 * faster for the 256 → 128-channel layer's 1 MB, slower for the 128 → 64 layer's 256 KB).
 */
const PARITY_MAJOR_BYTES = 512 * 1024;
const ceil16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Why the native engine cannot run `arch` (null: it can): it needs a 1³ → 4³ first layer,
 * then kernel-4, stride-2, padding-1 layers whose padded input row plane fits up2_unit's
 * scratch (every preset does).
 */
export function nativeEngineProblem(arch: GanArchitecture): string | null {
  const l0 = arch.generator[0];
  if (!(l0.inSide === 1 && l0.stride === 1 && l0.pad === 0 && l0.outSide === 4 && l0.kernel === 4))
    return `generator layer ${l0.name} is not a 1³ → 4³ layer`;
  for (const [k, l] of arch.generator.entries()) {
    const last = k === arch.generator.length - 1;
    if (!last && l.activation !== "relu" && l.activation !== "leaky-relu")
      return `generator layer ${l.name}: activation ${l.activation} (the kernels fuse ReLU and leaky ReLU)`;
    if (k === 0) continue;
    if (!isSubpixelLayer(l)) return `generator layer ${l.name} is not kernel 4, stride 2, padding 1`;
    // Channel rows: parities stacked below 16 channels, else padded to the widest vector.
    const np = l.outChannels < 16 ? ceil16(8 * l.outChannels) : ceil16(l.outChannels);
    if ((l.inSide + 2) * np > UP_SCRATCH)
      return `generator layer ${l.name}: a ${l.inSide}-voxel plane of ${l.outChannels} channels is too large`;
  }
  return null;
}

/** Whether the native x86-64 kernels (which this engine needs) load on this machine. */
export function nativeKernelsAvailable(): boolean {
  return nativeConv3d() !== null;
}

/** The engines that evaluate a generator on the CPU: ONNX Runtime, or this module. */
export type GanEngine = "ort" | "native";

/** Why the native engine cannot run `arch` on this machine's CPU (null: it can). */
export function nativeEngineUnavailable(arch: GanArchitecture): string | null {
  if (!nativeKernelsAvailable()) return "the native x86-64 kernels do not load here (Linux x64 with AVX2 + FMA)";
  return nativeEngineProblem(arch);
}

const ACT = { none: 0, relu: 1, "leaky-relu": 2, tanh: 3 } as const;

export interface NativeGanOptions {
  /** Kernel threads (default 1: in a worker pool the workers are the parallelism). */
  threads?: number;
  /** The kernels (default: this CPU's; tests pass narrower vector widths). */
  kernels?: NativeConv3d | null;
  /** Samples per pass (default: as many as MAX_ACTIVATION_BYTES of activations hold). */
  maxRows?: number;
}

/**
 * Activation memory a generator holds (its buffers live in a WebAssembly memory of at most
 * 4 GiB): 1 GiB is 130 samples of the paper's 64³ generator.
 */
const MAX_ACTIVATION_BYTES = 1 << 30;

/** What the densities are: ρ/ρ̄ = min(κ(1 + c)/(1 − c), cap) + offset (offset −1 for δ). */
export interface DensityOutput {
  kappa: number;
  cap: number;
  offset: number;
}

interface FirstLayer {
  layer: GanLayer;
  /** (in × 4³·out) with columns (t, o), t = (kd·4 + kh)·4 + kw. */
  matrix: Float32Array;
  bias: Float32Array;
}

interface UpLayer {
  layer: GanLayer;
  /**
   * "up2": conv3d.c up2_unit (channels-last input); "last": up2_last_unit, a one-channel last
   * layer vectorised over z (channel-major input, which the layer before then writes).
   */
  kernel: "up2_unit" | "up2_last_unit";
  /** up2_unit: 1 one product per output parity; 8 parities stacked as channels. */
  group: 1 | 8;
  lanes: number;
  np: number;
  /** Byte offsets in the kernels' memory. */
  weights: number;
  bias: number;
  act: number;
}

/** Activation buffers for a batch of up to `rows` samples (byte offsets, zero borders). */
interface Buffers {
  rows: number;
  /** Input of each up-sampling layer, padded by one voxel; then the (rows, S³) output. */
  inputs: number[];
  output: number;
}

export class NativeGanGenerator {
  private readonly conv: WasmConv3d;
  private readonly first: FirstLayer;
  private readonly up: UpLayer[];
  private buffers: Buffers | null = null;

  /** Samples per pass of the layers; larger batches run in passes of this many. */
  readonly maxRows: number;

  constructor(
    readonly arch: GanArchitecture,
    folded: readonly FoldedGanLayer[],
    options: NativeGanOptions = {},
  ) {
    const { threads = 1, kernels: native = nativeConv3d() } = options;
    const module = conv3dWasmModule();
    if (module === null || native === null)
      throw new Error("the native GAN engine needs the x86-64 kernels (Linux x64 with AVX2 + FMA)");
    const why = nativeEngineProblem(arch);
    if (why !== null) throw new RangeError(`the native GAN engine cannot run this generator: ${why}`);
    this.conv = new WasmConv3d(module, threads, native);
    const [f0, ...rest] = folded;
    const l0 = f0.layer;
    const matrix = new Float32Array(f0.weight.length);
    const co0 = l0.outChannels;
    for (let i = 0; i < l0.inChannels; i++)
      for (let o = 0; o < co0; o++)
        for (let t = 0; t < 64; t++) matrix[(i * 64 + t) * co0 + o] = f0.weight[(i * co0 + o) * 64 + t];
    this.first = { layer: l0, matrix, bias: f0.bias };
    this.up = rest.map((f, k) => this.prepare(f, k === rest.length - 1));
    // Activation floats per sample: every up-sampling layer's padded input and the output.
    const perSample = this.up.reduce((n, u) => n + (u.layer.inSide + 2) ** 3 * u.layer.inChannels, arch.side ** 3);
    this.maxRows = options.maxRows ?? Math.max(1, Math.floor(MAX_ACTIVATION_BYTES / (4 * perSample)));
  }

  /** Lays out one kernel-4, stride-2 layer's weights for up2_unit in the kernels' memory. */
  private prepare({ layer: l, weight, bias }: FoldedGanLayer, last: boolean): UpLayer {
    const ci = l.inChannels;
    const co = l.outChannels;
    const zLanes = this.conv.nativeLanes.filter((v) => l.inSide % v === 0).pop();
    if (last && co === 1 && zLanes !== undefined && l.inSide <= UP_LAST_MAX && this.arch.generator.length > 2) {
      // w[c][r][a] = W[c][0][T(rx, ax)][T(ry, ay)][T(rz, az)], a = (ax·2 + ay)·2 + az.
      const w = new Float32Array(64 * ci);
      for (let r = 0; r < 8; r++)
        for (let a = 0; a < 8; a++) {
          const t = (TAP[r >> 2][a >> 2] * 4 + TAP[(r >> 1) & 1][(a >> 1) & 1]) * 4 + TAP[r & 1][a & 1];
          for (let c = 0; c < ci; c++) w[c * 64 + r * 8 + a] = weight[c * 64 + t];
        }
      const weights = this.conv.reserve(w.length);
      this.conv.floats().set(w, weights / 4);
      const b = this.conv.reserve(1);
      this.conv.floats().set(bias, b / 4);
      return { layer: l, kernel: "up2_last_unit", group: 8, lanes: zLanes, np: 1, weights, bias: b, act: ACT.tanh };
    }
    const wide = this.conv.lanesFor(co);
    const group: 1 | 8 = co < wide ? 8 : 1;
    const lanes = this.conv.lanesFor(group * co);
    const np = Math.ceil((group * co) / lanes) * lanes;
    // [phase block][tap (ax, ay)][j = (az, c)][np]; group 8: one block, column r·co + o.
    const blocks = 8 / group;
    const w = new Float32Array(blocks * 4 * 2 * ci * np);
    for (let r = 0; r < 8; r++) {
      const [rx, ry, rz] = [r >> 2, (r >> 1) & 1, r & 1];
      const block = group === 1 ? r * 8 * ci * np : 0;
      const col = group === 1 ? 0 : r * co;
      for (let ax = 0; ax < 2; ax++)
        for (let ay = 0; ay < 2; ay++)
          for (let az = 0; az < 2; az++) {
            const t = (TAP[rx][ax] * 4 + TAP[ry][ay]) * 4 + TAP[rz][az];
            for (let c = 0; c < ci; c++) {
              const row = block + (((ax * 2 + ay) * 2 + az) * ci + c) * np + col;
              for (let o = 0; o < co; o++) w[row + o] = weight[(c * co + o) * 64 + t];
            }
          }
    }
    const weights = this.conv.reserve(w.length);
    this.conv.floats().set(w, weights / 4);
    const b = this.conv.reserve(co);
    this.conv.floats().set(bias, b / 4);
    const act = last ? ACT.tanh : ACT[l.activation as "relu" | "leaky-relu"];
    return { layer: l, kernel: "up2_unit", group, lanes, np, weights, bias: b, act };
  }

  /**
   * Activation buffers for `rows` samples, reserved once and reused (borders stay zero); a later,
   * larger batch gets buffers for maxRows, so there are at most two reservations.
   */
  private buffersFor(batch: number): Buffers {
    if (this.buffers !== null && this.buffers.rows >= batch) return this.buffers;
    const rows = this.buffers === null ? batch : this.maxRows;
    const inputs = this.up.map((u) => this.conv.reserve(rows * (u.layer.inSide + 2) ** 3 * u.layer.inChannels));
    const s = this.arch.side;
    const output = this.conv.reserve(rows * s ** 3);
    const f = this.conv.floats();
    inputs.forEach((at, k) => {
      const u = this.up[k].layer;
      f.fill(0, at / 4, at / 4 + rows * (u.inSide + 2) ** 3 * u.inChannels);
    });
    this.buffers = { rows, inputs, output };
    return this.buffers;
  }

  /**
   * For `rows` latent vectors (rows × latent width): the tanh output c, (rows, S³), or with
   * `density` the density it stands for, min(κ(1 + c)/(1 − c), cap) + offset as
   * data-scaling.ts's unscaleDensityArray gives it, computed as κe^{2y} from the last layer's
   * pre-activation y (the same function; no float32 rounding of c near ±1).
   */
  generate(latents: Float32Array, rows: number, density?: DensityOutput): Float32Array {
    const width = this.first.layer.inChannels;
    if (latents.length !== rows * width)
      throw new RangeError(`${latents.length} latent values for ${rows} sample(s) of width ${width}`);
    if (rows <= this.maxRows) return this.pass(latents, rows, density);
    // Samples never mix inside the kernels, so passes of fewer rows give the same values.
    const s3 = this.arch.side ** 3;
    const out = new Float32Array(rows * s3);
    for (let r = 0; r < rows; r += this.maxRows) {
      const n = Math.min(this.maxRows, rows - r);
      out.set(this.pass(latents.subarray(r * width, (r + n) * width), n, density), r * s3);
    }
    return out;
  }

  /** generate() for at most maxRows samples. */
  private pass(latents: Float32Array, rows: number, density?: DensityOutput): Float32Array {
    const l0 = this.first.layer;
    const width = l0.inChannels;
    const buf = this.buffersFor(rows);
    // First layer: (rows × in) · (in × 4³·out), then bias and activation into the padded input
    // of the next layer (rows, 6, 6, 6, out).
    const co = l0.outChannels;
    const y = this.conv.forward(latents, this.first.matrix, pointwiseGeometry([1, 1, 1, rows], width, 64 * co));
    const f = this.conv.floats();
    const slope = l0.activation === "leaky-relu" ? GAN_LEAKY_SLOPE : 0;
    for (let r = 0; r < rows; r++)
      for (let t = 0; t < 64; t++) {
        const [d, h, w] = [t >> 4, (t >> 2) & 3, t & 3];
        const dst = buf.inputs[0] / 4 + (((r * 6 + d + 1) * 6 + h + 1) * 6 + w + 1) * co;
        const src = (r * 64 + t) * co;
        for (let o = 0; o < co; o++) {
          const v = y[src + o] + this.first.bias[o];
          f[dst + o] = v > 0 ? v : slope * v;
        }
      }
    this.up.forEach((u, k) => {
      const l = u.layer;
      const last = k === this.up.length - 1;
      const words = new Int32Array(CONV_PARAM.WORDS);
      if (u.kernel === "up2_last_unit") {
        words[CONV_PARAM.X] = buf.inputs[k];
        words[CONV_PARAM.W] = u.weights;
        words[CONV_PARAM.Y] = buf.output;
        words[CONV_PARAM.AOFF] = u.bias;
        words[CONV_PARAM.D] = l.inSide;
        words[CONV_PARAM.C] = l.inChannels;
        densityWords(words, density);
        this.conv.runNative(u.kernel, words, rows * l.inSide, rows * 64 * l.inSide ** 3 * l.inChannels, u.lanes);
        return;
      }
      words[CONV_PARAM.X] = buf.inputs[k];
      words[CONV_PARAM.W] = u.weights;
      words[CONV_PARAM.Y] = last ? buf.output : buf.inputs[k + 1];
      words[CONV_PARAM.AOFF] = u.bias;
      words[CONV_PARAM.D] = l.inSide;
      words[CONV_PARAM.C] = l.inChannels;
      words[CONV_PARAM.KD] = l.outChannels;
      words[CONV_PARAM.NP] = u.np;
      words[CONV_PARAM.PD] = last ? 0 : 1;
      words[CONV_PARAM.PH] = u.act;
      words[CONV_PARAM.PW] = u.group;
      words[CONV_PARAM.QH] = floatBits(GAN_LEAKY_SLOPE);
      words[CONV_PARAM.QW] = !last && this.up[k + 1].kernel === "up2_last_unit" ? 1 : 0;
      if (last) densityWords(words, density);
      words[CONV_PARAM.N] = rows;
      // Parity-major units where one parity's weights (4 taps × 2C × NP) outgrow the L2 cache.
      words[CONV_PARAM.JB] = 4 * 2 * l.inChannels * u.np * 4 > PARITY_MAJOR_BYTES ? 1 : 0;
      const n = l.inSide;
      const units = u.group === 1 ? rows * 8 * n : rows * (n + 1);
      const macs = rows * 8 * n ** 3 * 8 * l.inChannels * u.np;
      this.conv.runNative(u.kernel, words, units, macs, u.lanes);
    });
    const s3 = this.arch.side ** 3;
    const out = this.conv.floats().slice(buf.output / 4, buf.output / 4 + rows * s3);
    return out;
  }

  dispose(): void {
    this.conv.dispose();
  }
}

/** The output words of both up2 kernels: c (P_QD 0), or the density with its parameters. */
function densityWords(words: Int32Array, density: DensityOutput | undefined): void {
  if (!density) return;
  checkKappa(density.kappa);
  if (!(density.cap > 0)) throw new RangeError(`density cap must be > 0, got ${density.cap}`);
  words[CONV_PARAM.QD] = 1;
  words[CONV_PARAM.OD] = floatBits(density.kappa);
  words[CONV_PARAM.OH] = floatBits(density.cap);
  words[CONV_PARAM.OW] = floatBits(density.offset);
  // 2y at the c clamp of data-scaling.ts's inversion: ρ = κ(1 + M)/(1 − M) there.
  words[CONV_PARAM.SH] = floatBits(Math.log((1 + MAX_SCALED) / (1 - MAX_SCALED)));
}

/** The float32 nearest x as the int32 with its bits (parameter words carry floats so). */
function floatBits(x: number): number {
  return new Int32Array(Float32Array.of(x).buffer)[0];
}

