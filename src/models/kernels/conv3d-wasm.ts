/**
 * 3D convolutions (NDHWC, float32, dilation 1) on the WebAssembly SIMD kernels of
 * native/conv3d/conv3d.c: forward, input gradient (also the transposed convolution) and filter
 * gradient, as plain functions of Float32Arrays so they can be tested apart from TensorFlow.js.
 *
 * All threads share one WebAssembly.Memory: the calling thread copies the operands in, every
 * thread (unit-pool.ts) claims "units" (output depth slices or filter-gradient row
 * blocks) until none are left, and the calling thread copies the result out. Each unit is
 * computed by the same code whichever thread runs it, so results are bitwise identical for
 * any thread count.
 */
import { conv3dWasmBase64 } from "./conv3d-wasm.generated.js";
import { UnitPool, type UnitKernel } from "./unit-pool.js";
import { NATIVE_KERNEL, lanesFor, type NativeConv3d } from "./native-x86.js";
import {
  chooseInputGradForm,
  scatterInputGrad,
  subpixelInputGrad,
  type InputGradForm,
} from "./input-grad-forms.js";

/** The subset of TensorFlow.js's Conv3DInfo the kernels need (same field names). */
export interface Conv3dGeometry {
  batchSize: number;
  inDepth: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outDepth: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterDepth: number;
  filterHeight: number;
  filterWidth: number;
  strideDepth: number;
  strideHeight: number;
  strideWidth: number;
  padInfo: { front: number; top: number; left: number };
}

/** Word indices of the parameter block (enum in conv3d.c). */
export const CONV_PARAM = {
  X: 0,
  W: 1,
  Y: 2,
  N: 3,
  D: 4,
  H: 5,
  W_: 6,
  C: 7,
  KD: 8,
  KH: 9,
  KW: 10,
  SD: 11,
  SH: 12,
  SW: 13,
  OD: 14,
  OH: 15,
  OW: 16,
  NP: 17,
  PD: 18,
  PH: 19,
  PW: 20,
  QD: 21,
  QH: 22,
  QW: 23,
  PHASE: 24,
  AOFF: 25, // up2_unit's bias (the tap offsets moved to each thread's stack, conv3d.c)
  JB: 26,
  WORDS: 27,
} as const;
const P = CONV_PARAM;

/** Bytes of stack per worker-thread instance (the calling thread uses the linker's stack). */
const STACK_BYTES = 65536;
/** Floats of slack after every buffer: kernels read up to 3 floats past a row's end. */
const SLACK = 16;
/** Below this many multiply-adds a call runs on the calling thread alone. */
const THREADED_MIN_MACS = 4e6;

const ceilTo = (n: number, m: number): number => Math.ceil(n / m) * m;
const ceil4 = (n: number): number => ceilTo(n, 4);

/** The parts of WebAssembly.Memory and .Global we use (not in the "DOM"-less TypeScript libs). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmGlobal {
  value: unknown;
}

type WasmExports = {
  __heap_base: WasmGlobal;
  __stack_pointer: WasmGlobal;
  forward_unit: (params: number, unit: number) => void;
  input_grad_unit: (params: number, unit: number) => void;
  filter_grad_unit: (params: number, unit: number) => void;
  compact_channels: (dst: number, src: number, count: number, stride: number, channels: number) => void;
  widen_channels: (dst: number, src: number, count: number, channels: number, stride: number) => void;
  pad_spatial: (...args: number[]) => void;
};

/** The runtime's WebAssembly object (the "DOM"-less TypeScript libs only declare its types). */
const wasmRuntime = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => WebAssembly.Module;
      Instance: new (m: WebAssembly.Module, imports: object) => { exports: unknown };
      Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
    };
  }
).WebAssembly;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where this runtime lacks WebAssembly SIMD or threads. */
export function conv3dWasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new wasmRuntime.Module(Buffer.from(conv3dWasmBase64, "base64"));
      // Shared memory needs SharedArrayBuffer; probe it once.
      new wasmRuntime.Memory({ initial: 1, maximum: 65536, shared: true });
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

/** A bump allocator over the data area of the shared memory, reset per call. */
class Arena {
  private top: number;
  constructor(
    private readonly memory: WasmMemory,
    private base: number,
  ) {
    this.top = base;
  }
  reset(): void {
    this.top = this.base;
  }
  /** Like take, but kept across resets (everything taken before it is kept too). */
  reserve(floats: number): number {
    this.reset();
    const at = this.take(floats);
    this.base = this.top;
    return at;
  }
  /** Byte offset of `floats` 4-byte words, 64-byte aligned, growing the memory as needed. */
  take(floats: number): number {
    const at = Math.ceil(this.top / 64) * 64;
    this.top = at + (floats + SLACK) * 4;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }
}

export class WasmConv3d {
  private readonly memory: WasmMemory;
  private readonly exp: WasmExports;
  private readonly arena: Arena;
  /** The parameter block of a call, read by every thread. */
  private readonly paramsAt: number;
  private readonly pool: UnitPool | null;
  private readonly nthreads: number;

  /**
   * @param threads threads taking part, the calling thread included (1: no workers).
   * @param native the native build of the kernels (native-x86.ts), run on this memory in place
   *   of the WebAssembly ones (its own threads, no workers); null: the WebAssembly kernels.
   */
  constructor(
    module: WebAssembly.Module,
    threads = 1,
    private readonly native: NativeConv3d | null = null,
  ) {
    this.nthreads = threads;
    this.memory = new wasmRuntime.Memory({ initial: 32, maximum: 65536, shared: true });
    const instance = new wasmRuntime.Instance(module, { env: { memory: this.memory } });
    this.exp = instance.exports as WasmExports;
    let top = Math.ceil(Number(this.exp.__heap_base.value) / 64) * 64;
    // A stack for each worker thread's instance (the calling thread uses the linker's).
    const stacks: number[] = [];
    for (let t = 1; t < (native === null ? threads : 1); t++) stacks.push((top += STACK_BYTES));
    this.paramsAt = top;
    top += 256;
    this.arena = new Arena(this.memory, top);
    this.arena.take(0);
    this.pool =
      threads > 1 && native === null
        ? new UnitPool(module, this.memory, stacks)
        : null;
  }

  get threads(): number {
    return this.nthreads;
  }

  /**
   * Byte offset of `floats` floats that stay valid across calls (an engine's constant operands,
   * e.g. models/gan/gan-native.ts's weights and activations); discards the per-call arena.
   */
  reserve(floats: number): number {
    return this.arena.reserve(floats);
  }

  /** The kernels' memory as floats: a fresh view (taking memory may have grown it). */
  floats(): Float32Array {
    return this.f32;
  }

  /** Vector widths (floats) the native kernels run on this CPU, ascending; [] for WebAssembly. */
  get nativeLanes(): readonly number[] {
    return this.native?.lanes ?? [];
  }

  /**
   * Runs `units` units of a native-only kernel (conv3d.c up2_unit, up2_last_unit) on the parameter block
   * `words`, with `threads` threads when there are at least `macs` multiply-adds to share.
   */
  runNative(kernel: "up2_unit" | "up2_last_unit", words: Int32Array, units: number, macs: number, lanes: number): void {
    if (this.native === null) throw new Error(`the ${kernel} kernel has no WebAssembly build`);
    this.params(words);
    const threads = macs < THREADED_MIN_MACS ? 1 : this.nthreads;
    this.native.run(new Uint8Array(this.memory.buffer), NATIVE_KERNEL[kernel], lanes, this.paramsAt, units, threads);
  }

  /** Which kernels run: "native" (x86-64 vector widths) or "wasm". */
  get kind(): "native" | "wasm" {
    return this.native === null ? "wasm" : "native";
  }

  /** Channel rows of the kernels' C operand are padded to a multiple of this (the vector width). */
  lanesFor(channels: number): number {
    return this.native === null ? 4 : lanesFor(channels, this.native.lanes);
  }

  private get f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  private put(data: Float32Array): number {
    const at = this.arena.take(data.length);
    this.f32.set(data, at / 4);
    return at;
  }

  private get(at: number, length: number): Float32Array {
    return this.f32.slice(at / 4, at / 4 + length);
  }

  /** Writes the parameter block of the next call. */
  private params(words: Int32Array): void {
    new Int32Array(this.memory.buffer).set(words, this.paramsAt / 4);
  }

  private run(kernel: UnitKernel, units: number, macs: number, lanes: number): void {
    const params0 = this.paramsAt;
    if (this.native !== null) {
      const threads = macs < THREADED_MIN_MACS ? 1 : this.nthreads;
      const memory = new Uint8Array(this.memory.buffer);
      this.native.run(memory, NATIVE_KERNEL[kernel], lanes, params0, units, threads);
      return;
    }
    const fn = this.exp[kernel];
    if (this.pool === null || macs < THREADED_MIN_MACS || units < 2) {
      for (let u = 0; u < units; u++) fn(params0, u);
      return;
    }
    this.pool.run(kernel, params0, units, (u) => fn(params0, u));
  }

  /**
   * Copies x (shape N, D, H, W, C) into the memory with `pads` zeros (front/back of D, H, W)
   * around; its byte offset. Native: one pass from x; WebAssembly: a copy, then pad_spatial.
   */
  private padIn(x: Float32Array, shape: readonly number[], pads: readonly number[]): number {
    const [N, D, H, W, C] = shape;
    const size = N * (D + pads[0] + pads[1]) * (H + pads[2] + pads[3]) * (W + pads[4] + pads[5]) * C;
    if (this.native !== null) {
      const at = this.arena.take(size);
      this.native.padIn(new Uint8Array(this.memory.buffer), at, x, N, D, H, W, C, ...pads);
      return at;
    }
    const raw = this.put(x);
    if (pads.every((p) => p === 0)) return raw;
    const at = this.arena.take(size);
    this.exp.pad_spatial(at, raw, N, D, H, W, C, ...pads);
    return at;
  }

  /** Rows of C floats of x copied into the memory widened to S floats with zeros; the byte offset. */
  private widenIn(x: Float32Array, count: number, C: number, S: number): number {
    const at = this.arena.take(count * S);
    if (this.native !== null) this.native.widenIn(new Uint8Array(this.memory.buffer), at, x, count, C, S);
    else this.exp.widen_channels(at, this.put(x), count, C, S);
    return at;
  }

  /** The first C floats of each of `count` rows of S floats at byte offset `at`, as a new array. */
  private compactOut(at: number, count: number, S: number, C: number): Float32Array {
    if (this.native !== null) {
      const out = new Float32Array(count * C);
      this.native.compactOut(out, new Uint8Array(this.memory.buffer), at, count, S, C);
      return out;
    }
    this.exp.compact_channels(at, at, count, S, C);
    return this.get(at, count * C);
  }

  /** x (N, D, H, W, Ci) zero-padded as the geometry says; returns its byte offset and dims. */
  private paddedInput(x: Float32Array, g: Conv3dGeometry): { at: number; dims: [number, number, number] } {
    const { front, top, left } = g.padInfo;
    // Pad so that every window of every output lies inside (the back pad may be one less than
    // TensorFlow's 'same' split when the stride skips the last voxels; never negative).
    const D = Math.max(g.inDepth + front, (g.outDepth - 1) * g.strideDepth + g.filterDepth);
    const H = Math.max(g.inHeight + top, (g.outHeight - 1) * g.strideHeight + g.filterHeight);
    const W = Math.max(g.inWidth + left, (g.outWidth - 1) * g.strideWidth + g.filterWidth);
    const at = this.padIn(x, [g.batchSize, g.inDepth, g.inHeight, g.inWidth, g.inChannels], [
      front,
      D - g.inDepth - front,
      top,
      H - g.inHeight - top,
      left,
      W - g.inWidth - left,
    ]);
    return { at, dims: [D, H, W] };
  }

  /** y = conv3d(x, filter): x (N, D, H, W, Ci), filter (KD, KH, KW, Ci, Co) → (N, OD, OH, OW, Co). */
  forward(x: Float32Array, filter: Float32Array, g: Conv3dGeometry): Float32Array {
    this.arena.reset();
    const lanes = this.lanesFor(g.outChannels);
    const np = ceilTo(g.outChannels, lanes);
    const { at: xp, dims } = this.paddedInput(x, g);
    const taps = g.filterDepth * g.filterHeight * g.filterWidth * g.inChannels;
    const w = this.widenIn(filter, taps, g.outChannels, np);
    const outVoxels = g.batchSize * g.outDepth * g.outHeight * g.outWidth;
    const y = this.arena.take(outVoxels * np);
    const words = new Int32Array(P.WORDS);
    words.set([xp, w, y, g.batchSize, dims[0], dims[1], dims[2], g.inChannels], 0);
    words.set(
      [g.filterDepth, g.filterHeight, g.filterWidth, g.strideDepth, g.strideHeight, g.strideWidth],
      P.KD,
    );
    words.set([g.outDepth, g.outHeight, g.outWidth, np], P.OD);
    this.params(words);
    this.run("forward_unit", g.batchSize * g.outDepth, outVoxels * taps * np, lanes);
    return this.compactOut(y, outVoxels, np, g.outChannels);
  }

  /**
   * dx = ∂(conv3d(x, filter) · dy)/∂x: dy (N, OD, OH, OW, Co), filter (KD, KH, KW, Ci, Co) →
   * (N, D, H, W, Ci). Also the transposed convolution of dy. Runs the cheapest form of
   * input-grad-forms.ts for this geometry unless `form` names one.
   */
  inputGrad(
    dy: Float32Array,
    filter: Float32Array,
    g: Conv3dGeometry,
    form: InputGradForm = chooseInputGradForm(g),
  ): Float32Array {
    const forward = (x: Float32Array, w: Float32Array, fg: Conv3dGeometry): Float32Array =>
      this.forward(x, w, fg);
    if (form === "subpixel") return subpixelInputGrad(dy, filter, g, forward);
    if (form === "scatter") return scatterInputGrad(dy, filter, g, forward);
    return this.phaseInputGrad(dy, filter, g);
  }

  /** The input gradient as one gather-form correlation per stride phase (conv3d.c input_grad_unit). */
  private phaseInputGrad(dy: Float32Array, filter: Float32Array, g: Conv3dGeometry): Float32Array {
    this.arena.reset();
    const co = g.outChannels;
    const ci = g.inChannels;
    const lanes = this.lanesFor(ci);
    const np = ceilTo(ci, lanes);
    const K = [g.filterDepth, g.filterHeight, g.filterWidth];
    const S = [g.strideDepth, g.strideHeight, g.strideWidth];
    const I = [g.inDepth, g.inHeight, g.inWidth];
    const O = [g.outDepth, g.outHeight, g.outWidth];
    const pad = [g.padInfo.front, g.padInfo.top, g.padInfo.left];
    // dy with zeros in front (Q) and behind so every phase's window lies inside.
    const Q = K.map((k, a) => Math.ceil(k / S[a]) - 1);
    const L = K.map((_, a) => Q[a] + Math.max(O[a], Math.floor((I[a] - 1 + pad[a]) / S[a]) + 1));
    const dyp = this.padIn(
      dy,
      [g.batchSize, O[0], O[1], O[2], co],
      [Q[0], L[0] - O[0] - Q[0], Q[1], L[1] - O[1] - Q[1], Q[2], L[2] - O[2] - Q[2]],
    );
    // Phase sub-kernels: B[md][mh][mw][co][ci] = W[rd + (Md-1-md) sd][..][..][ci][co].
    const phases = S[0] * S[1] * S[2];
    const table = this.arena.take(4 * phases);
    const tableWords = new Int32Array(4 * phases);
    // Sides and places first (taking memory may grow it), then the taps: each a transposed
    // (ci × co) block of W, rows padded to np.
    const sides: number[][] = [];
    for (let rd = 0; rd < S[0]; rd++)
      for (let rh = 0; rh < S[1]; rh++)
        for (let rw = 0; rw < S[2]; rw++) {
          const M = [rd, rh, rw].map((ra, a) => Math.max(0, Math.ceil((K[a] - ra) / S[a])));
          const at = this.arena.take(M[0] * M[1] * M[2] * co * np);
          tableWords.set([M[0], M[1], M[2], at], 4 * sides.length);
          sides.push([rd, rh, rw, ...M, at]);
        }
    const memory = new Uint8Array(this.memory.buffer);
    const f32 = this.f32;
    for (const [rd, rh, rw, Md, Mh, Mw, at] of sides) {
      let o = at / 4;
      for (let md = 0; md < Md; md++) {
        const kd = rd + (Md - 1 - md) * S[0];
        for (let mh = 0; mh < Mh; mh++) {
          const kh = rh + (Mh - 1 - mh) * S[1];
          for (let mw = 0; mw < Mw; mw++, o += co * np) {
            const kw = rw + (Mw - 1 - mw) * S[2];
            const base = ((kd * K[1] + kh) * K[2] + kw) * ci * co;
            if (this.native !== null) this.native.transposeIn(memory, 4 * o, filter, base, ci, co, np);
            else
              for (let c = 0; c < co; c++) {
                for (let i = 0; i < ci; i++) f32[o + c * np + i] = filter[base + i * co + c];
                f32.fill(0, o + c * np + ci, o + (c + 1) * np);
              }
          }
        }
      }
    }
    new Int32Array(this.memory.buffer).set(tableWords, table / 4);
    const inVoxels = g.batchSize * I[0] * I[1] * I[2];
    const dx = this.arena.take(inVoxels * np);
    const words = new Int32Array(P.WORDS);
    words.set([dyp, 0, dx, g.batchSize, L[0], L[1], L[2], co, K[0], K[1], K[2], S[0], S[1], S[2]], 0);
    words.set([I[0], I[1], I[2], np, pad[0], pad[1], pad[2], Q[0], Q[1], Q[2], table], P.OD);
    this.params(words);
    const macs = g.batchSize * O[0] * O[1] * O[2] * K[0] * K[1] * K[2] * co * np;
    this.run("input_grad_unit", g.batchSize * I[0], macs, lanes);
    return this.compactOut(dx, inVoxels, np, ci);
  }

  /**
   * dW = ∂(conv3d(x, filter) · dy)/∂filter: x (N, D, H, W, Ci), dy (N, OD, OH, OW, Co) →
   * (KD, KH, KW, Ci, Co).
   */
  filterGrad(x: Float32Array, dy: Float32Array, g: Conv3dGeometry): Float32Array {
    this.arena.reset();
    const co = g.outChannels;
    const lanes = this.lanesFor(co);
    const np = ceilTo(co, lanes);
    const { at: xp, dims } = this.paddedInput(x, g);
    const outVoxels = g.batchSize * g.outDepth * g.outHeight * g.outWidth;
    const dyw = this.widenIn(dy, outVoxels, co, np);
    const taps = g.filterDepth * g.filterHeight;
    const J = g.filterWidth * g.inChannels;
    const jp = ceil4(J);
    const dw = this.arena.take(taps * jp * np);
    // Row blocks: enough units to share among threads; the block size does not change any sum.
    const blocksPerTap = Math.min(jp / 4, Math.max(1, Math.ceil((4 * this.threads) / taps)));
    const jb = ceil4(Math.ceil(jp / blocksPerTap));
    const units = taps * Math.ceil(jp / jb);
    const words = new Int32Array(P.WORDS);
    words.set([xp, dyw, dw, g.batchSize, dims[0], dims[1], dims[2], g.inChannels], 0);
    words.set(
      [g.filterDepth, g.filterHeight, g.filterWidth, g.strideDepth, g.strideHeight, g.strideWidth],
      P.KD,
    );
    words.set([g.outDepth, g.outHeight, g.outWidth, np], P.OD);
    words[P.JB] = jb;
    this.params(words);
    this.run("filter_grad_unit", units, outVoxels * taps * jp * np, lanes);
    for (let t = 0; t < taps; t++)
      this.exp.compact_channels(dw + t * J * co * 4, dw + t * jp * np * 4, J, np, co);
    return this.get(dw, taps * J * co);
  }

  dispose(): void {
    this.pool?.dispose();
  }
}
