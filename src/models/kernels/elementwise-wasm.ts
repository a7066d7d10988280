/**
 * Elementwise and reduction kernels (float32) on the WebAssembly SIMD module of
 * native/elementwise/elementwise.c, as plain functions of Float32Arrays so they can be tested
 * apart from TensorFlow.js. One instance, one thread: these ops are memory-bound, and each call
 * copies its operands into the module's memory and the result out (memcpy speed), which still
 * costs far less than the stock kernels' generic JavaScript loops.
 */
import { elementwiseWasmBase64 } from "./elementwise-wasm.generated.js";
import type { WasmMemory } from "./conv3d-wasm.js";

/** Binary operations (enum in elementwise.c). */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2 } as const;
export type BinaryOp = keyof typeof BINARY_OPS;

/** Unary operations (enum in elementwise.c); `alpha` is the slope of leaky and the step's value at x ≤ 0. */
export const UNARY_OPS = { relu: 0, leaky: 1, step: 2, square: 3, sqrt: 4 } as const;
export type UnaryOp = keyof typeof UNARY_OPS;

type Exports = {
  memory: WasmMemory;
  __heap_base: { value: unknown };
  binary: (op: number, out: number, a: number, pa: number, b: number, pb: number, n: number) => void;
  unary: (op: number, alpha: number, out: number, x: number, n: number) => void;
  reduce_sum: (out: number, x: number, outer: number, mid: number, inner: number, acc: number) => void;
  copy_rows: (dst: number, ds: number, src: number, ss: number, rows: number, run: number) => void;
};

const wasmRuntime = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => WebAssembly.Module;
      Instance: new (m: WebAssembly.Module, imports: object) => { exports: unknown };
    };
  }
).WebAssembly;

/** What elementwise-kernels.ts runs on: this WebAssembly module or the native build (native-x86.ts). */
export interface ElementwiseEngine {
  /** out[i] = a[i mod |a|] op b[i mod |b|], i < n (|a|, |b| equal to n, 1 or a divisor of n). */
  binary(op: BinaryOp, a: Float32Array, b: Float32Array, n: number): Float32Array;
  unary(op: UnaryOp, x: Float32Array, alpha?: number): Float32Array;
  /** Sums of x viewed as (outer, mid, inner) over mid, in float64: (outer, inner). */
  reduceSum(x: Float32Array, outer: number, mid: number, inner: number): Float32Array;
  /** Split along an axis: x viewed as (outer, Σ runs) cut into (outer, runs[i]). */
  splitRows(x: Float32Array, outer: number, runs: readonly number[]): Float32Array[];
  /** The reverse: parts (outer, run_i) joined into (outer, Σ runs); absent where JavaScript is as fast. */
  concatRows?(parts: readonly Float32Array[], outer: number): Float32Array;
}

let instance: WasmElementwise | null | undefined;

/** The shared instance, or null where this runtime lacks WebAssembly SIMD. */
export function wasmElementwise(): WasmElementwise | null {
  if (instance === undefined) {
    try {
      const module = new wasmRuntime.Module(Buffer.from(elementwiseWasmBase64, "base64"));
      instance = new WasmElementwise(module);
    } catch {
      instance = null;
    }
  }
  return instance;
}

export class WasmElementwise implements ElementwiseEngine {
  private readonly exp: Exports;
  private readonly base: number;
  private top = 0;

  constructor(module: WebAssembly.Module) {
    this.exp = new wasmRuntime.Instance(module, {}).exports as Exports;
    this.base = Math.ceil(Number(this.exp.__heap_base.value) / 64) * 64;
  }

  /** Byte offsets of buffers of the given float counts (64-byte aligned), growing memory as needed. */
  private take(...floats: number[]): number[] {
    this.top = this.base;
    const at = floats.map((n) => {
      const a = Math.ceil(this.top / 64) * 64;
      this.top = a + n * 4;
      return a;
    });
    const have = this.exp.memory.buffer.byteLength;
    if (this.top > have) this.exp.memory.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  private get f32(): Float32Array {
    return new Float32Array(this.exp.memory.buffer);
  }

  /**
   * out[i] = a[i mod a.length] op b[i mod b.length], i < n; each operand's length is n, 1 or
   * a divisor of n (a block repeating along leading axes).
   */
  binary(op: BinaryOp, a: Float32Array, b: Float32Array, n: number): Float32Array {
    const [pa, pb, out] = this.take(a.length, b.length, n);
    const f = this.f32;
    f.set(a, pa / 4);
    f.set(b, pb / 4);
    this.exp.binary(BINARY_OPS[op], out, pa, a.length, pb, b.length, n);
    return f.slice(out / 4, out / 4 + n);
  }

  unary(op: UnaryOp, x: Float32Array, alpha = 0): Float32Array {
    const [px, out] = this.take(x.length, x.length);
    const f = this.f32;
    f.set(x, px / 4);
    this.exp.unary(UNARY_OPS[op], alpha, out, px, x.length);
    return f.slice(out / 4, out / 4 + x.length);
  }

  /** Sums of x viewed as (outer, mid, inner) over mid, in float64: (outer, inner). */
  reduceSum(x: Float32Array, outer: number, mid: number, inner: number): Float32Array {
    const [px, acc, out] = this.take(x.length, 2 * inner, outer * inner);
    this.f32.set(x, px / 4);
    this.exp.reduce_sum(out, px, outer, mid, inner, acc);
    return this.f32.slice(out / 4, out / 4 + outer * inner);
  }

  /** Split along an axis: x viewed as (outer, Σ runs) cut into (outer, runs[i]). */
  splitRows(x: Float32Array, outer: number, runs: readonly number[]): Float32Array[] {
    const total = x.length / outer;
    const at = this.take(x.length, ...runs.map((r) => outer * r));
    const f = this.f32;
    f.set(x, at[0] / 4);
    let col = 0;
    return runs.map((r, i) => {
      const dst = at[i + 1];
      this.exp.copy_rows(dst, r, at[0] + col * 4, total, outer, r);
      col += r;
      return f.slice(dst / 4, dst / 4 + outer * r);
    });
  }
}
