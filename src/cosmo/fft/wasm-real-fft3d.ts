/**
 * 3D real FFT on WebAssembly SIMD kernels (native/fft/fft.c), shared between the calling
 * thread and `threads - 1` pooled worker threads (fft-thread-pool.ts). The calling thread
 * takes a share of the work and blocks (Atomics.wait) until the transform is complete, which
 * keeps the public API synchronous.
 */
import { fftWasmBase64 } from "./fft-wasm.generated.js";
import { acquireFftWorkers, postFftJob, releaseFftWorkers } from "./fft-thread-pool.js";
import { CONTROL_WORDS, runShare, type FftJob } from "./fft-work-share.mjs";
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
  private readonly shape: Shape;
  /** Worker threads taking part besides the calling thread (0: single-threaded). */
  private workers: number;
  private readonly realLength: number;
  private readonly spectralLength: number;
  /** Shared scratch, allocated on first need. */
  private realScratch: Float32Array | null = null;
  private spectrumScratch: Float32Array | null = null;
  private work: Float32Array | null = null;

  constructor(module: WebAssembly.Module, shape: Shape, threads: number) {
    this.kernel = new WasmFftKernel(module, shape);
    this.shape = [shape[0], shape[1], shape[2]];
    this.realLength = shape[0] * shape[1] * shape[2];
    this.spectralLength = shape[0] * shape[1] * this.kernel.nkz * 2;
    // More threads than units of work would idle.
    this.workers = Math.min(threads, shape[0], this.kernel.blockCount) - 1;
    if (this.workers > 0) acquireFftWorkers(module, this.workers);
  }

  forward(real: Float32Array, out: Float32Array): void {
    if (this.workers === 0) {
      runShare(this.kernel, this.job("forward", real, out, out));
      return;
    }
    let src = real;
    if (!isShared(real)) {
      this.realScratch ??= sharedFloats(this.realLength);
      this.realScratch.set(real);
      src = this.realScratch;
    }
    const dst = isShared(out) ? out : (this.spectrumScratch ??= sharedFloats(this.spectralLength));
    this.run(this.job("forward", src, dst, dst));
    if (dst !== out) out.set(dst);
  }

  inverse(spectrum: Float32Array, out: Float32Array): void {
    const threaded = this.workers > 0;
    this.work ??= threaded ? sharedFloats(this.spectralLength) : new Float32Array(this.spectralLength);
    if (!threaded) {
      runShare(this.kernel, this.job("inverse", out, spectrum, this.work));
      return;
    }
    let src = spectrum;
    if (!isShared(spectrum)) {
      this.spectrumScratch ??= sharedFloats(this.spectralLength);
      this.spectrumScratch.set(spectrum);
      src = this.spectrumScratch;
    }
    const dst = isShared(out) ? out : (this.realScratch ??= sharedFloats(this.realLength));
    this.run(this.job("inverse", dst, src, this.work));
    if (dst !== out) out.set(dst);
  }

  dispose(): void {
    if (this.workers > 0) releaseFftWorkers();
    this.workers = 0;
    this.realScratch = null;
    this.spectrumScratch = null;
    this.work = null;
  }

  private job(op: FftJob["op"], real: Float32Array, spectrum: Float32Array, work: Float32Array): FftJob {
    // A fresh control block per job: a worker that reaches a job late finds it complete.
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    return { op, shape: this.shape, control, real, spectrum, work };
  }

  private run(job: FftJob): void {
    postFftJob(job, this.workers);
    runShare(this.kernel, job);
  }
}
