/**
 * The builds of our kernels a test runs against: the native x86-64 one where it loads (Linux on
 * x86-64 with AVX2 + FMA; native-x86.ts) and the WebAssembly one everywhere, so that each
 * equality test covers both.
 */
import { enableFastKernels, disableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { WasmConv3d } from "../../../src/models/kernels/conv3d-wasm.js";
import { nativeConv3d } from "../../../src/models/kernels/native-x86.js";

export type KernelBuild = "native" | "wasm";

export const KERNEL_BUILDS: readonly KernelBuild[] = nativeConv3d() === null ? ["wasm"] : ["native", "wasm"];

let current: KernelBuild = "wasm";

/** Selects the build the following enableBuild() and makeConv() calls use. */
export function useBuild(build: KernelBuild): void {
  current = build;
  disableFastKernels();
}

/** enableFastKernels on the current build, 2 threads. */
export function enableBuild(): boolean {
  return enableFastKernels({ threads: 2, native: current === "native" });
}

/** The convolution engine of the current build. */
export function makeConv(module: WebAssembly.Module, threads: number): WasmConv3d {
  const conv = new WasmConv3d(module, threads, current === "native" ? nativeConv3d() : null);
  if (conv.kind !== current) throw new Error(`asked for the ${current} kernels, got ${conv.kind}`);
  return conv;
}
