/**
 * Replaces TensorFlow.js's pure-JavaScript CPU kernels for the 3D convolution family (Conv3D,
 * Conv3DBackpropInputV2 — which is also conv3dTranspose — and Conv3DBackpropFilterV2) by the
 * WebAssembly SIMD kernels of conv3d-wasm.ts, keeping each stock kernel as the fallback for
 * what ours do not cover (dilations, NCDHW, non-float32, runtimes without wasm threads).
 *
 * It also registers the gradients TensorFlow.js lacks that second-order gradients (the WGAN-GP
 * gradient penalty) differentiate: Conv3DBackpropInputV2, Conv3DBackpropFilterV2, and the
 * comparisons (Greater, …) that the stock leaky-ReLU gradient builds its mask with; and it
 * replaces the leaky-ReLU gradient by a cheaper equal one. Those are engine-independent and
 * registered for every backend.
 */
import * as tf from "@tensorflow/tfjs";
import { availableParallelism } from "node:os";
import { WasmConv3d, conv3dWasmModule, type Conv3dGeometry } from "./conv3d-wasm.js";
import { nativeConv3d, nativeElementwise } from "./native-x86.js";
import {
  BLOCK_COPY_KERNELS,
  floatValues as floats,
  type CpuBackend,
  type FastKernel,
  type KernelArgs,
} from "./block-copy-kernels.js";
import { elementwiseKernels } from "./elementwise-kernels.js";
import { wasmElementwise } from "./elementwise-wasm.js";

type Kernel = ReturnType<typeof tf.getKernel>;
type Strides = number | [number, number, number];
type Shape5 = [number, number, number, number, number];

export const CONV3D_KERNELS = ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"] as const;
type Conv3dKernelName = (typeof CONV3D_KERNELS)[number];

const originals = new Map<string, NonNullable<Kernel>>();
let engine: WasmConv3d | null = null;

const ones = (d: Strides | undefined): boolean =>
  d === undefined || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

function fast(name: Conv3dKernelName, args: KernelArgs, wasm: WasmConv3d): tf.TensorInfo | null {
  const backend = args.backend as unknown as CpuBackend;
  const attrs = args.attrs as Record<string, unknown>;
  const strides = attrs.strides as Strides;
  const pad = attrs.pad as "valid" | "same";
  if (pad !== "valid" && pad !== "same") return null;
  if (name === "Conv3D") {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NDHWC") return null;
    if (!ones(attrs.dilations as Strides | undefined)) return null;
    const xv = floats(backend, x);
    const fv = floats(backend, filter);
    if (xv === null || fv === null) return null;
    const info = tf.backend_util.computeConv3DInfo(
      x.shape as Shape5,
      filter.shape as Shape5,
      strides,
      1,
      pad,
    );
    if (!usable(info)) return null;
    return backend.makeTensorInfo(info.outShape, "float32", wasm.forward(xv, fv, pointwise(info)));
  }
  if (name === "Conv3DBackpropInputV2") {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const dyv = floats(backend, dy);
    const fv = floats(backend, filter);
    if (dyv === null || fv === null) return null;
    const inputShape = attrs.inputShape as Shape5;
    const info = tf.backend_util.computeConv3DInfo(inputShape, filter.shape as Shape5, strides, 1, pad);
    if (!usable(info)) return null;
    return backend.makeTensorInfo(info.inShape, "float32", wasm.inputGrad(dyv, fv, pointwise(info)));
  }
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const xv = floats(backend, x);
  const dyv = floats(backend, dy);
  if (xv === null || dyv === null) return null;
  const filterShape = attrs.filterShape as Shape5;
  const info = tf.backend_util.computeConv3DInfo(x.shape as Shape5, filterShape, strides, 1, pad);
  if (!usable(info)) return null;
  return backend.makeTensorInfo(filterShape, "float32", wasm.filterGrad(xv, dyv, pointwise(info)));
}

/**
 * A 1×1×1 convolution with unit strides is a plain product over channels,
 * (voxels × Ci) · (Ci × Co): its geometry is rewritten as one row of all N·D·H·W voxels, so the
 * kernels run it as a single register-tiled GEMM (forward and input gradient: one unit on the
 * calling thread, no worker hand-off; filter gradient: one tap, row blocks of dW) instead of
 * one unit per depth slice. The painter has 12 such layers per pass. Same sums in the same
 * order as the general path (j = channel), so the results do not change.
 */
export function pointwise<G extends Conv3dGeometry>(g: G): G {
  const k1 = g.filterDepth === 1 && g.filterHeight === 1 && g.filterWidth === 1;
  const s1 = g.strideDepth === 1 && g.strideHeight === 1 && g.strideWidth === 1;
  if (!k1 || !s1 || g.padInfo.front !== 0 || g.padInfo.top !== 0 || g.padInfo.left !== 0) return g;
  const m = g.batchSize * g.inDepth * g.inHeight * g.inWidth;
  const flat = { batchSize: 1, inDepth: 1, inHeight: 1, inWidth: m, outDepth: 1, outHeight: 1, outWidth: m };
  return { ...g, ...flat };
}

/**
 * Shapes our kernels handle: non-empty, pads within [0, kernel), tap counts within scratch.
 * (TensorFlow.js computes a negative 'same' pad when a stride skips past the input's end, e.g.
 * a 1³ kernel with stride 2 on an even side, and then shifts the windows; the stock kernels
 * keep those cases.)
 */
function usable(g: Conv3dGeometry & { outShape: number[]; inShape: number[] }): boolean {
  const sizes = [...g.outShape, ...g.inShape, g.filterDepth, g.filterHeight, g.filterWidth];
  return (
    sizes.every((s) => s > 0) &&
    g.filterDepth * g.filterHeight <= 4096 &&
    Math.min(g.padInfo.front, g.padInfo.top, g.padInfo.left) >= 0 &&
    g.padInfo.front < g.filterDepth &&
    g.padInfo.top < g.filterHeight &&
    g.padInfo.left < g.filterWidth
  );
}

/** Replaces the stock CPU kernel `name` by `fast`, falling back to the stock one where it returns null. */
function override(name: string, fast: FastKernel): void {
  const stock = tf.getKernel(name, "cpu");
  if (stock === undefined) return;
  // The first override of a name keeps the true stock kernel; later ones fall back to the one
  // they replace (an earlier fast path), which falls back to the stock one in turn.
  if (!originals.has(name)) originals.set(name, stock);
  tf.unregisterKernel(name, "cpu");
  tf.registerKernel({
    ...stock,
    kernelFunc: (args: KernelArgs) => fast(args) ?? (stock.kernelFunc(args) as tf.TensorInfo),
  });
}

/**
 * Routes the CPU backend's 3D convolutions to the WebAssembly kernels, its block copies and
 * bias broadcasts to block-copy-kernels.ts, and its hot elementwise ops and sums to the
 * WebAssembly ones of elementwise-kernels.ts (falling back to block-copy-kernels.ts). Returns false (and changes nothing but the
 * gradients) where this runtime cannot run the WebAssembly kernels. Idempotent.
 * The convolutions and elementwise ops run the native x86-64 build of the kernels where it loads
 * (native-x86.ts) unless options.native is false.
 * @param options.threads threads per convolution, the calling thread included (default: all cores)
 */
export function enableFastKernels(options: { threads?: number; native?: boolean } = {}): boolean {
  registerSecondOrderGradients();
  if (engine !== null) return true;
  const module = conv3dWasmModule();
  if (module === null) return false;
  const native = options.native === false ? null : nativeConv3d();
  const wasm = new WasmConv3d(module, Math.max(1, options.threads ?? availableParallelism()), native);
  for (const name of CONV3D_KERNELS) override(name, (args) => fast(name, args, wasm));
  for (const [name, kernel] of Object.entries(BLOCK_COPY_KERNELS)) override(name, kernel);
  const elementwise = (options.native === false ? null : nativeElementwise()) ?? wasmElementwise();
  if (elementwise !== null)
    for (const [name, kernel] of Object.entries(elementwiseKernels(elementwise))) override(name, kernel);
  engine = wasm;
  return true;
}

/** Restores the stock CPU kernels (for comparisons) and stops the worker threads. */
export function disableFastKernels(): void {
  for (const [name, stock] of originals) {
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel(stock);
  }
  originals.clear();
  engine?.dispose();
  engine = null;
}

export function fastKernelsEnabled(): boolean {
  return engine !== null;
}

/** Which convolution kernels are enabled: "native" (x86-64), "wasm", or null (stock). */
export function fastKernelKind(): "native" | "wasm" | null {
  return engine?.kind ?? null;
}

/**
 * Gradients for second-order differentiation. The two backprop kernels, by the bilinearity of
 * convolution:
 *   dx = Bi(dy, W)  ⇒  ∂/∂dy = conv3d(g, W),          ∂/∂W = Bf(g, dy)
 *   dW = Bf(x, dy)  ⇒  ∂/∂x  = Bi(dy, g) (x's shape), ∂/∂dy = conv3d(x, g)
 * with Bi = Conv3DBackpropInputV2, Bf = Conv3DBackpropFilterV2, same strides and padding.
 */
export function registerSecondOrderGradients(): void {
  registerLeakyReluGradient();
  // A comparison is piecewise constant: zero gradient almost everywhere.
  for (const kernelName of ["Greater", "Less", "LessEqual", "Equal", "NotEqual"]) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ["a", "b"],
      gradFunc: (_g, saved) => {
        const [a, b] = saved;
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
  if (tf.getGradient("Conv3DBackpropInputV2") === undefined) {
    tf.registerGradient({
      kernelName: "Conv3DBackpropInputV2",
      inputsToSave: ["dy", "filter"],
      gradFunc: (g, saved, attrs) => {
        const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
        const { strides, pad } = attrs as unknown as { strides: Strides; pad: "valid" | "same" };
        const grad = g as tf.Tensor5D;
        return {
          dy: () => tf.conv3d(grad, filter, strides, pad),
          filter: () =>
            tf.engine().runKernel(
              "Conv3DBackpropFilterV2",
              { x: grad, dy },
              {
                strides,
                pad,
                filterShape: filter.shape,
              },
            ) as tf.Tensor5D,
        };
      },
    });
  }
  if (tf.getGradient("Conv3DBackpropFilterV2") === undefined) {
    tf.registerGradient({
      kernelName: "Conv3DBackpropFilterV2",
      inputsToSave: ["x", "dy"],
      gradFunc: (g, saved, attrs) => {
        const [x, dy] = saved as [tf.Tensor5D, tf.Tensor5D];
        const { strides, pad } = attrs as unknown as { strides: Strides; pad: "valid" | "same" };
        const grad = g as tf.Tensor5D;
        return {
          x: () =>
            tf.engine().runKernel(
              "Conv3DBackpropInputV2",
              { dy, filter: grad },
              {
                strides,
                pad,
                inputShape: x.shape,
              },
            ) as tf.Tensor5D,
          dy: () => tf.conv3d(x, grad, strides, pad),
        };
      },
    });
  }
}

let leakyReluGradient = false;

/**
 * The leaky-ReLU gradient as dy · step(x, α) (step: 1 where x > 0, else α) instead of the
 * stock where(x > 0, dy, α dy): the same values (NaN inputs aside) in two elementwise ops
 * instead of three, and twice differentiable (Step's gradient is zero). The gradient penalty
 * runs it over every activation of the critic and the painter several times per step.
 */
function registerLeakyReluGradient(): void {
  if (leakyReluGradient) return;
  leakyReluGradient = true;
  tf.unregisterGradient("LeakyRelu");
  tf.registerGradient({
    kernelName: "LeakyRelu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { alpha } = attrs as unknown as { alpha: number };
      return { x: () => tf.mul(dy as tf.Tensor, tf.step(x, alpha)) };
    },
  });
}
