/**
 * 3D real FFT on WebAssembly SIMD kernels (native/fft/fft.c), shared between the calling
 * thread and `threads - 1` worker threads. Workers are unref()ed: they never keep the process
 * alive. The calling thread takes a share of the work and blocks (Atomics.wait) until the
 * transform is complete, which keeps the public API synchronous.
 */
import { Worker } from "node:worker_threads";
import { fftWasmBase64 } from "./fft-wasm.generated.js";
import { CONTROL_WORDS, runShare } from "./fft-work-share.mjs";
import { WasmFftKernel } from "./wasm-fft-kernel.mjs";

type Shape = readonly [number, number, number];

let compiled: WebAssembly.Module | null | undefined;

/** The runtime's WebAssembly object (the "DOM"-less TypeScript libs only declare its types). */
const wasmRuntime = (
  globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WebAssembly.Module } }
).WebAssembly;

/** The compiled kernel module, or null where this runtime lacks WebAssembly SIMD. */
export function fftWasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new wasmRuntime.Module(Buffer.from(fftWasmBase64, "base64"));
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

const isShared = (a: Float32Array): boolean => a.buffer instanceof SharedArrayBuffer;

function sharedFloats(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

export class WasmRealFft3d {
  private readonly kernel: WasmFftKernel;
  private readonly workers: Worker[] = [];
  private readonly realLength: number;
  private readonly spectralLength: number;
  /** Shared scratch, allocated on first need. */
  private realScratch: Float32Array | null = null;
  private spectrumScratch: Float32Array | null = null;
  private work: Float32Array | null = null;

  constructor(module: WebAssembly.Module, shape: Shape, threads: number) {
    this.kernel = new WasmFftKernel(module, shape);
    this.realLength = shape[0] * shape[1] * shape[2];
    this.spectralLength = shape[0] * shape[1] * this.kernel.nkz * 2;
    // More threads than units of work would idle.
    const useful = Math.min(threads, shape[0], this.kernel.blockCount);
    for (let t = 1; t < useful; t++) {
      const worker = new Worker(new URL("./fft-worker.mjs", import.meta.url), {
        workerData: { module, shape: [shape[0], shape[1], shape[2]] },
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  forward(real: Float32Array, out: Float32Array): void {
    if (this.workers.length === 0) {
      const work = this.work ?? new Float32Array(0);
      runShare(this.kernel, { op: "forward", control: newControl(), real, spectrum: out, work });
      return;
    }
    let src = real;
    if (!isShared(real)) {
      this.realScratch ??= sharedFloats(this.realLength);
      this.realScratch.set(real);
      src = this.realScratch;
    }
    const dst = isShared(out) ? out : (this.spectrumScratch ??= sharedFloats(this.spectralLength));
    this.run({ op: "forward", control: newControl(), real: src, spectrum: dst, work: dst });
    if (dst !== out) out.set(dst);
  }

  inverse(spectrum: Float32Array, out: Float32Array): void {
    const threaded = this.workers.length > 0;
    this.work ??= threaded ? sharedFloats(this.spectralLength) : new Float32Array(this.spectralLength);
    if (!threaded) {
      runShare(this.kernel, { op: "inverse", control: newControl(), real: out, spectrum, work: this.work });
      return;
    }
    let src = spectrum;
    if (!isShared(spectrum)) {
      this.spectrumScratch ??= sharedFloats(this.spectralLength);
      this.spectrumScratch.set(spectrum);
      src = this.spectrumScratch;
    }
    const dst = isShared(out) ? out : (this.realScratch ??= sharedFloats(this.realLength));
    this.run({ op: "inverse", control: newControl(), real: dst, spectrum: src, work: this.work });
    if (dst !== out) out.set(dst);
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
    this.realScratch = null;
    this.spectrumScratch = null;
    this.work = null;
  }

  private run(job: Parameters<typeof runShare>[1]): void {
    for (const w of this.workers) w.postMessage(job);
    runShare(this.kernel, job);
  }
}

function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
}
