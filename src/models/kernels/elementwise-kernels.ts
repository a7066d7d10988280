/**
 * TensorFlow.js CPU kernels on an elementwise engine (the WebAssembly SIMD module of
 * elementwise-wasm.ts, or the native build of native-x86.ts):
 * LeakyRelu, Relu, Step (the leaky-ReLU gradient's mask), Square, Sqrt, Add/Sub/Multiply with
 * equal shapes, a repeating trailing block (bias) or a scalar, Sum over a contiguous block of
 * axes, and SplitV. After the convolutions these were the hot kernels of a WGAN-GP step
 * (every activation of the painter and critic passes through several of them, forward, backward
 * and in the gradient penalty's second-order graph). Each returns null where it does not apply
 * (other dtypes, other broadcasts, small tensors) and the caller runs the kernel it replaced.
 * Concat: the native build's row copies; with the WebAssembly module it stays with
 * block-copy-kernels.ts (one JavaScript pass measured no slower than the copies in and out).
 */
import * as tf from "@tensorflow/tfjs";
import { floatValues, splitSizes, type CpuBackend, type FastKernel } from "./block-copy-kernels.js";
import type { BinaryOp, ElementwiseEngine, UnaryOp } from "./elementwise-wasm.js";

/** Below this many elements the copies in and out of the module are not worth it. */
export const MIN_ELEMENTS = 256;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function unaryKernel(wasm: ElementwiseEngine, op: UnaryOp, alphaOf?: (attrs: unknown) => number): FastKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const b = backend as unknown as CpuBackend;
    const xv = floatValues(b, x);
    if (xv === null || xv.length < MIN_ELEMENTS) return null;
    return b.makeTensorInfo([...x.shape], "float32", wasm.unary(op, xv, alphaOf ? alphaOf(attrs) : 0));
  };
}

/**
 * The period of `small` inside `big` when small's shape, leading ones dropped, equals big's
 * trailing dimensions (so its values repeat along big's leading axes); null otherwise.
 */
function repeats(big: readonly number[], small: readonly number[]): boolean {
  if (small.length > big.length) return false;
  const s = [...small];
  while (s.length > 0 && s[0] === 1) s.shift();
  const tail = big.slice(big.length - s.length);
  return s.every((d, i) => d === tail[i]);
}

function binaryKernel(wasm: ElementwiseEngine, op: BinaryOp): FastKernel {
  return ({ inputs, backend }) => {
    const { a, b: bb } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const be = backend as unknown as CpuBackend;
    const av = floatValues(be, a);
    const bv = floatValues(be, bb);
    if (av === null || bv === null) return null;
    const big = av.length >= bv.length ? a : bb;
    const small = big === a ? bb : a;
    const n = size(big.shape);
    if (n < MIN_ELEMENTS) return null;
    if (av.length === bv.length) {
      if (a.shape.length !== bb.shape.length || a.shape.some((d, i) => d !== bb.shape[i])) return null;
    } else if (!repeats(big.shape, small.shape)) return null;
    return be.makeTensorInfo([...big.shape], "float32", wasm.binary(op, av, bv, n));
  };
}

/** Sum over a contiguous block of axes (bias gradients: the leading ones; norms: the trailing ones). */
function sumKernel(wasm: ElementwiseEngine): FastKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const b = backend as unknown as CpuBackend;
    const xv = floatValues(b, x);
    const rank = x.shape.length;
    if (xv === null || rank === 0 || xv.length < MIN_ELEMENTS) return null;
    const a = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = [...new Set((Array.isArray(a.axis) ? a.axis : [a.axis]).map((v) => normAxis(v, rank)))].sort(
      (u, v) => u - v,
    );
    if (axes.length === 0 || axes.some((v, i) => v !== axes[0] + i)) return null;
    const k0 = axes[0];
    const k1 = axes[axes.length - 1] + 1;
    const outer = size(x.shape.slice(0, k0));
    const inner = size(x.shape.slice(k1));
    const out = wasm.reduceSum(xv, outer, size(x.shape.slice(k0, k1)), inner);
    const shape = a.keepDims
      ? x.shape.map((s, i) => (i >= k0 && i < k1 ? 1 : s))
      : x.shape.filter((_, i) => i < k0 || i >= k1);
    return b.makeTensorInfo(shape, "float32", out);
  };
}

function splitKernel(wasm: ElementwiseEngine): FastKernel {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const b = backend as unknown as CpuBackend;
    const xv = floatValues(b, x);
    if (xv === null || x.shape.length === 0 || xv.length < MIN_ELEMENTS) return null;
    const split = splitSizes(x, attrs);
    if (split === null) return null;
    const { axis, sizes } = split;
    const outer = size(x.shape.slice(0, axis));
    const inner = size(x.shape.slice(axis + 1));
    const parts = wasm.splitRows(
      xv,
      outer,
      sizes.map((s) => s * inner),
    );
    return parts.map((p, i) => {
      const shape = [...x.shape];
      shape[axis] = sizes[i];
      return b.makeTensorInfo(shape, "float32", p);
    });
  };
}

/** Concatenation along any axis: (outer, run_i) blocks joined row by row. */
function concatKernel(engine: ElementwiseEngine): FastKernel | null {
  const join = engine.concatRows?.bind(engine);
  if (join === undefined) return null;
  return ({ inputs, backend, attrs }) => {
    const list = Object.values(inputs) as tf.TensorInfo[];
    const b = backend as unknown as CpuBackend;
    if (list.length < 2 || list[0].shape.length === 0) return null;
    const rank = list[0].shape.length;
    const axis = normAxis((attrs as unknown as { axis: number }).axis, rank);
    const values = list.map((t) => floatValues(b, t));
    if (values.some((v) => v === null || v.length === 0)) return null;
    const outer = size(list[0].shape.slice(0, axis));
    const n = values.reduce((s, v) => s + (v as Float32Array).length, 0);
    if (n < MIN_ELEMENTS || list.some((t) => size(t.shape.slice(0, axis)) !== outer)) return null;
    const out = join(values as Float32Array[], outer);
    const shape = [...list[0].shape];
    shape[axis] = list.reduce((s, t) => s + t.shape[axis], 0);
    return b.makeTensorInfo(shape, "float32", out);
  };
}

/** Kernel name → fast path on the engine `wasm` (the WebAssembly module or the native build). */
export function elementwiseKernels(wasm: ElementwiseEngine): Record<string, FastKernel> {
  const alpha = (attrs: unknown): number => (attrs as { alpha: number }).alpha;
  const concat = concatKernel(wasm);
  return {
    ...(concat === null ? {} : { Concat: concat }),
    LeakyRelu: unaryKernel(wasm, "leaky", alpha),
    Relu: unaryKernel(wasm, "relu"),
    Step: unaryKernel(wasm, "step", alpha),
    Square: unaryKernel(wasm, "square"),
    Sqrt: unaryKernel(wasm, "sqrt"),
    Add: binaryKernel(wasm, "add"),
    Sub: binaryKernel(wasm, "sub"),
    Multiply: binaryKernel(wasm, "mul"),
    Sum: sumKernel(wasm),
    SplitV: splitKernel(wasm),
  };
}
