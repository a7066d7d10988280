/**
 * Fast paths for the float32 CPU kernels that the painter's crops, concatenations and their
 * gradients spend their time in: Slice, PadV2, Concat, SplitV (pure block copies), and binary
 * Add/Sub/Multiply where one operand repeats along leading axes (bias adds, per-sample
 * scalars), plus Sum over leading axes (bias gradients). TensorFlow.js's stock CPU kernels
 * index 5D tensors element by element through generic broadcasting or transposes, which made
 * them cost more than the convolutions (measured: a painter WGAN-GP step spent 43 s in Slice
 * alone). Each function returns null where its fast path does not apply, and the caller then
 * runs the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";

type KernelFunc = NonNullable<ReturnType<typeof tf.getKernel>>["kernelFunc"];
export type KernelArgs = Parameters<KernelFunc>[0];
export type FastKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

/** What the fast paths use of the CPU backend (MathBackendCPU). */
export interface CpuBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): tf.TensorInfo;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function floatValues(backend: CpuBackend, t: tf.TensorInfo): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const v = backend.readSync(t.dataId);
  return v instanceof Float32Array ? v : null;
}

/** dst[to, to + n) = src[from, from + n): a loop for short runs, where subarray().set() costs more. */
function copyRun(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  if (n >= 64) dst.set(src.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
}

/**
 * Copies the box [begin, begin + box) of `src` (shape `shape`) to `dst` (shape `box`), or the
 * reverse when `scatter` (dst[box placed at begin] = src). Trailing axes the box spans whole
 * are merged into one contiguous run.
 */
function copyBox(
  src: Float32Array,
  dst: Float32Array,
  shape: readonly number[],
  begin: readonly number[],
  box: readonly number[],
  scatter: boolean,
): void {
  const r = shape.length;
  let j = r - 1;
  let run = box[j];
  while (j > 0 && box[j] === shape[j] && begin[j] === 0) {
    j--;
    run *= box[j];
  }
  // Axes 0..j-1 are looped over; axis j and the rest form runs of `run` values.
  const strides = new Array<number>(r).fill(1);
  for (let a = r - 2; a >= 0; a--) strides[a] = strides[a + 1] * shape[a + 1];
  const outer = size(box.slice(0, j));
  const idx = new Array<number>(j).fill(0);
  for (let o = 0; o < outer; o++) {
    let off = begin[j] * strides[j];
    for (let a = 0; a < j; a++) off += (begin[a] + idx[a]) * strides[a];
    if (scatter) copyRun(src, o * run, dst, off, run);
    else copyRun(src, off, dst, o * run, run);
    for (let a = j - 1; a >= 0; a--) {
      if (++idx[a] < box[a]) break;
      idx[a] = 0;
    }
  }
}

export const slice: FastKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as CpuBackend;
  const xv = floatValues(b, x);
  if (xv === null || x.shape.length === 0) return null;
  const { begin, size: sz } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [start, box] = tf.slice_util.parseSliceParams(x, begin, sz);
  if (box.some((s) => s <= 0)) return null;
  const out = new Float32Array(size(box));
  copyBox(xv, out, x.shape, start, box, false);
  return b.makeTensorInfo(box, "float32", out);
};

export const padV2: FastKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as CpuBackend;
  const xv = floatValues(b, x);
  const { paddings, constantValue } = attrs as unknown as {
    paddings: [number, number][];
    constantValue: number;
  };
  if (xv === null || x.shape.length === 0 || size(x.shape) === 0) return null;
  const shape = x.shape.map((s, a) => s + paddings[a][0] + paddings[a][1]);
  const out = new Float32Array(size(shape));
  if (constantValue !== 0) out.fill(constantValue);
  copyBox(
    xv,
    out,
    shape,
    paddings.map((p) => p[0]),
    x.shape,
    true,
  );
  return b.makeTensorInfo(shape, "float32", out);
};

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export const concat: FastKernel = ({ inputs, backend, attrs }) => {
  const list = Object.values(inputs) as tf.TensorInfo[];
  const b = backend as unknown as CpuBackend;
  if (list.length < 2) return null;
  const rank = list[0].shape.length;
  const axis = normAxis((attrs as unknown as { axis: number }).axis, rank);
  const values = list.map((t) => floatValues(b, t));
  if (rank === 0 || values.some((v) => v === null || v.length === 0)) return null;
  const outer = size(list[0].shape.slice(0, axis));
  const runs = list.map((t) => size(t.shape.slice(axis)));
  const total = runs.reduce((a, c) => a + c, 0);
  const out = new Float32Array(outer * total);
  let at = 0;
  list.forEach((_, i) => {
    const v = values[i] as Float32Array;
    const run = runs[i];
    for (let o = 0; o < outer; o++) copyRun(v, o * run, out, o * total + at, run);
    at += run;
  });
  const shape = [...list[0].shape];
  shape[axis] = list.reduce((s, t) => s + t.shape[axis], 0);
  return b.makeTensorInfo(shape, "float32", out);
};

/** SplitV's axis and part sizes (−1 = the rest), or null when they are not positive integers. */
export function splitSizes(x: tf.TensorInfo, attrs: unknown): { axis: number; sizes: number[] } | null {
  const a = attrs as { numOrSizeSplits: number | number[]; axis: number };
  const axis = normAxis(a.axis, x.shape.length);
  const n = x.shape[axis];
  let sizes: number[];
  if (typeof a.numOrSizeSplits === "number")
    sizes = new Array<number>(a.numOrSizeSplits).fill(n / a.numOrSizeSplits);
  else {
    const known = a.numOrSizeSplits.filter((s) => s !== -1).reduce((s, v) => s + v, 0);
    sizes = a.numOrSizeSplits.map((s) => (s === -1 ? n - known : s));
  }
  return sizes.some((s) => !Number.isInteger(s) || s <= 0) ? null : { axis, sizes };
}

export const splitV: FastKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as CpuBackend;
  const xv = floatValues(b, x);
  if (xv === null || x.shape.length === 0) return null;
  const split = splitSizes(x, attrs);
  if (split === null) return null;
  const { axis, sizes } = split;
  const n = x.shape[axis];
  const outer = size(x.shape.slice(0, axis));
  const inner = size(x.shape.slice(axis + 1));
  const total = n * inner;
  let at = 0;
  return sizes.map((s) => {
    const run = s * inner;
    const out = new Float32Array(outer * run);
    for (let o = 0; o < outer; o++) copyRun(xv, o * total + at, out, o * run, run);
    at += run;
    const shape = [...x.shape];
    shape[axis] = s;
    return b.makeTensorInfo(shape, "float32", out);
  });
};

/** Binary op on equal shapes, or where the smaller operand's values repeat with period = its size. */
function repeatingBinary(op: (u: number, v: number) => number): FastKernel {
  return ({ inputs, backend }) => {
    const { a, b: bb } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const be = backend as unknown as CpuBackend;
    const av = floatValues(be, a);
    const bv = floatValues(be, bb);
    if (av === null || bv === null) return null;
    const bigA = av.length >= bv.length;
    const [big, small] = bigA ? [a, bb] : [bb, a];
    if (av.length === bv.length) {
      if (a.shape.length !== bb.shape.length || a.shape.some((d, i) => d !== bb.shape[i])) return null;
      const out = new Float32Array(av.length);
      for (let i = 0; i < av.length; i++) out[i] = op(av[i], bv[i]);
      return be.makeTensorInfo([...a.shape], "float32", out);
    }
    // small, right-aligned, must equal big's trailing dims after leading ones.
    const s = [...small.shape];
    while (s.length > 0 && s[0] === 1) s.shift();
    const tail = big.shape.slice(big.shape.length - s.length);
    if (
      s.length > big.shape.length ||
      s.some((d, i) => d !== tail[i]) ||
      small.shape.length > big.shape.length
    )
      return null;
    const x = bigA ? av : bv;
    const y = bigA ? bv : av;
    const p = y.length;
    const out = new Float32Array(x.length);
    if (p === 1) {
      const c = y[0];
      if (bigA) for (let i = 0; i < x.length; i++) out[i] = op(x[i], c);
      else for (let i = 0; i < x.length; i++) out[i] = op(c, x[i]);
    } else if (bigA) {
      for (let i = 0; i < x.length; i += p) for (let k = 0; k < p; k++) out[i + k] = op(x[i + k], y[k]);
    } else {
      for (let i = 0; i < x.length; i += p) for (let k = 0; k < p; k++) out[i + k] = op(y[k], x[i + k]);
    }
    return be.makeTensorInfo([...big.shape], "float32", out);
  };
}

export const add = repeatingBinary((u, v) => u + v);
export const sub = repeatingBinary((u, v) => u - v);
export const multiply = repeatingBinary((u, v) => u * v);

/** Sum over the leading axes [0, k) (k < rank): a column sum. */
export const sum: FastKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as CpuBackend;
  const xv = floatValues(b, x);
  const rank = x.shape.length;
  if (xv === null || rank < 2) return null;
  const a = attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = (Array.isArray(a.axis) ? a.axis : [a.axis])
    .map((v) => normAxis(v, rank))
    .sort((u, v) => u - v);
  const k = axes.length;
  if (k === 0 || k >= rank || axes.some((v, i) => v !== i)) return null;
  const inner = size(x.shape.slice(k));
  const outer = size(x.shape.slice(0, k));
  // Float64 accumulation: a long column sum in float32 would lose digits.
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    for (let i = 0; i < inner; i++) acc[i] += xv[base + i];
  }
  const shape = a.keepDims ? x.shape.map((s, i) => (i < k ? 1 : s)) : x.shape.slice(k);
  return b.makeTensorInfo(shape, "float32", Float32Array.from(acc));
};

/** Kernel name → fast path. */
export const BLOCK_COPY_KERNELS: Readonly<Record<string, FastKernel>> = {
  Slice: slice,
  PadV2: padV2,
  Concat: concat,
  SplitV: splitV,
  Add: add,
  Sub: sub,
  Multiply: multiply,
  Sum: sum,
};
