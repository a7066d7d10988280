/**
 * The TensorFlow.js engine for training, best first:
 *   1. `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` (libtensorflow; optional
 *      dependencies, whose install downloads binaries and so fails on machines without
 *      general internet access), used automatically wherever they are installed;
 *   2. otherwise `@tensorflow/tfjs` on its CPU backend with our 3D convolution kernels
 *      (register-kernels.ts: native x86-64 where they load, else WebAssembly SIMD) in place of
 *      the pure-JavaScript ones.
 * Every engine gets the gradients that second-order differentiation (the WGAN-GP gradient
 * penalty) needs. Set MOCKSMITH_TF_ENGINE=cpu to skip the native engines.
 */
import * as tfjs from "@tensorflow/tfjs";
import { enableFastKernels, fastKernelKind, registerSecondOrderGradients } from "./register-kernels.js";

export type TensorFlow = typeof tfjs;

export interface TensorFlowEngine {
  tf: TensorFlow;
  /** Which engine: the native package's name, or "tfjs-cpu+native" / "tfjs-cpu+wasm" / "tfjs-cpu". */
  name: string;
}

const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

let loaded: Promise<TensorFlowEngine> | undefined;

async function load(threads: number | undefined): Promise<TensorFlowEngine> {
  if (process.env.MOCKSMITH_TF_ENGINE !== "cpu") {
    for (const name of NATIVE_PACKAGES) {
      try {
        // A variable specifier: these packages are optional and absent from the type graph.
        const tf = (await import(name)) as TensorFlow;
        registerSecondOrderGradients();
        return { tf, name };
      } catch {
        // Not installed, or its native library failed to load: try the next engine.
      }
    }
  }
  await tfjs.setBackend("cpu");
  // The CPU backend's first tensor prints a banner recommending tfjs-node to stderr; the native
  // engines are tried above already, and the banner would break --log json's one-object-per-line.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    tfjs.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
  const fast = enableFastKernels(threads === undefined ? {} : { threads });
  return { tf: tfjs, name: fast ? `tfjs-cpu+${fastKernelKind() ?? "wasm"}` : "tfjs-cpu" };
}

/**
 * The best available engine with fast kernels enabled (loaded once per process).
 * @param options.threads threads per convolution for the WebAssembly kernels (default: all cores)
 */
export function loadTensorFlowEngine(options: { threads?: number } = {}): Promise<TensorFlowEngine> {
  loaded ??= load(options.threads);
  return loaded;
}

/** Shorthand for `(await loadTensorFlowEngine()).tf`. */
export async function loadTensorFlow(): Promise<TensorFlow> {
  return (await loadTensorFlowEngine()).tf;
}
