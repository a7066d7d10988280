/**
 * The native x86-64 build of our kernels (native/x86-64/: a committed Node-API binary built by
 * its build.sh), used in place of the WebAssembly ones where it loads — Linux on x86-64:
 *   - convolutions (conv3d.c at AVX-512 and AVX2 + FMA vector widths; needs AVX2 and FMA),
 *     run by conv3d-wasm.ts on the same memory and parameter blocks as the WebAssembly kernels;
 *   - elementwise ops and sums (elementwise.c), in place on TensorFlow.js's Float32Arrays.
 * Anywhere else — or with MOCKSMITH_NATIVE_KERNELS=0 — both are null and the WebAssembly SIMD
 * kernels run.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { packageRoot } from "../../package-root.js";
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type ElementwiseEngine, type UnaryOp } from "./elementwise-wasm.js";

/** Kernel indices of addon.c's run(). */
export const NATIVE_KERNEL = { forward_unit: 0, input_grad_unit: 1, filter_grad_unit: 2, up2_unit: 3, up2_last_unit: 4 } as const;

export interface NativeConv3d {
  /** Vector widths (floats) this CPU runs, ascending. */
  readonly lanes: readonly number[];
  /** Runs units [0, units) of a kernel on `threads` threads over the memory `memory` views. */
  run(memory: Uint8Array, kernel: number, lanes: number, params: number, units: number, threads: number): void;
  /** x (N, D, H, W, C) into the memory at byte offset `at`, zero-padded (d0, d1, h0, h1, w0, w1). */
  padIn(memory: Uint8Array, at: number, x: Float32Array, ...shapeAndPads: number[]): void;
  /** Rows of C floats of x into the memory at `at`, widened to S floats with zeros. */
  widenIn(memory: Uint8Array, at: number, x: Float32Array, count: number, C: number, S: number): void;
  /** x[from..] as a (rows × cols) matrix, transposed into the memory at `at` with rows padded to `stride` floats. */
  transposeIn(
    memory: Uint8Array,
    at: number,
    x: Float32Array,
    from: number,
    rows: number,
    cols: number,
    stride: number,
  ): void;
  /** The first C floats of each of `count` rows of S floats at `at` in the memory, into out. */
  compactOut(out: Float32Array, memory: Uint8Array, at: number, count: number, S: number, C: number): void;
}

interface Addon extends Omit<NativeConv3d, "lanes"> {
  lanes(): number[];
  binary(op: number, out: Float32Array, a: Float32Array, b: Float32Array): void;
  unary(op: number, alpha: number, out: Float32Array, x: Float32Array): void;
  reduceSum(out: Float32Array, x: Float32Array, outer: number, mid: number, inner: number): void;
  copyRows(
    dst: Float32Array,
    dstAt: number,
    ds: number,
    src: Float32Array,
    srcAt: number,
    ss: number,
    rows: number,
    run: number,
  ): void;
}

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.MOCKSMITH_NATIVE_KERNELS === "0" || process.platform !== "linux" || process.arch !== "x64")
    return addon;
  try {
    const file = path.join(packageRoot(), "native", "x86-64", "mocksmith-linux-x64.node");
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch {
    // Not loadable here (another libc, a damaged file): the WebAssembly kernels run instead.
  }
  return addon;
}

let conv: NativeConv3d | null | undefined;

/** The native convolution kernels, or null where they do not load or the CPU lacks AVX2 + FMA. */
export function nativeConv3d(): NativeConv3d | null {
  if (conv !== undefined) return conv;
  const a = loadAddon();
  const lanes = a?.lanes() ?? [];
  // The addon's functions do not use `this`: they serve as the interface's methods as they are.
  conv = a === null || lanes.length === 0 ? null : { ...a, lanes };
  return conv;
}

/**
 * The vector width that wastes least on padding `channels` to a multiple of it, weighting
 * wider vectors by their width (useful floats per vector instruction); ties go to the narrower
 * one, which moves less memory. 10 channels → 16 lanes (10 of 16 useful), 8 → 8, 1 → 4.
 */
export function lanesFor(channels: number, available: readonly number[]): number {
  let best = available[0];
  let bestUseful = -1;
  for (const l of available) {
    const useful = (channels / (Math.ceil(channels / l) * l)) * l;
    if (useful > bestUseful + 1e-9) {
      best = l;
      bestUseful = useful;
    }
  }
  return best;
}

/** The elementwise engine on the native kernels: results written straight into new arrays. */
class NativeElementwise implements ElementwiseEngine {
  constructor(private readonly a: Addon) {}

  binary(op: BinaryOp, a: Float32Array, b: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n);
    this.a.binary(BINARY_OPS[op], out, a, b);
    return out;
  }

  unary(op: UnaryOp, x: Float32Array, alpha = 0): Float32Array {
    const out = new Float32Array(x.length);
    this.a.unary(UNARY_OPS[op], alpha, out, x);
    return out;
  }

  reduceSum(x: Float32Array, outer: number, mid: number, inner: number): Float32Array {
    const out = new Float32Array(outer * inner);
    this.a.reduceSum(out, x, outer, mid, inner);
    return out;
  }

  splitRows(x: Float32Array, outer: number, runs: readonly number[]): Float32Array[] {
    const total = x.length / outer;
    let col = 0;
    return runs.map((r) => {
      const out = new Float32Array(outer * r);
      this.a.copyRows(out, 0, r, x, col, total, outer, r);
      col += r;
      return out;
    });
  }

  concatRows(parts: readonly Float32Array[], outer: number): Float32Array {
    const runs = parts.map((p) => p.length / outer);
    const total = runs.reduce((s, r) => s + r, 0);
    const out = new Float32Array(outer * total);
    let col = 0;
    parts.forEach((p, i) => {
      this.a.copyRows(out, col, total, p, 0, runs[i], outer, runs[i]);
      col += runs[i];
    });
    return out;
  }
}

let elementwise: NativeElementwise | null | undefined;

/** The native elementwise kernels, or null where the binary does not load. */
export function nativeElementwise(): ElementwiseEngine | null {
  if (elementwise === undefined) {
    const a = loadAddon();
    elementwise = a === null ? null : new NativeElementwise(a);
  }
  return elementwise;
}
