/**
 * The halo painter on FFT convolutions (models/painter/painter-fft.ts) as a worker pool with the
 * inference stage's interface (PatchInference): W piscina threads, each holding one FftPainter
 * built once. Each patch is painted alone by identical code, so the output is bitwise the same
 * for any number of workers.
 *
 * Memory: every worker holds the kernel spectra for its FFT grid side M (400 complex M²(M/2+1)
 * grids for the 10-filter painter: 108 MB at M = 40, 184 MB at 48, 432 MB at 64, 613 MB at 72)
 * plus its work grids, so --max-fft-side bounds memory per worker. The spectra live inside each
 * worker's WebAssembly memory, which is not shared between threads.
 */
import type { PainterArchitecture } from "../models/painter/architecture.js";
import type { PainterWeights } from "../models/painter/painter-onnx.js";
import { TransferringPool, type PatchInference } from "./worker-pool.js";

export interface FftPainterPoolOptions {
  arch: PainterArchitecture;
  weights: PainterWeights;
  workers: number;
  /** Largest FFT grid side (see FftPainterOptions). */
  maxFftSide: number;
  /** Added to every input value before painting (the card's input normalisation). */
  inputOffset: number;
}

export class FftPainterPool extends TransferringPool implements PatchInference {
  constructor(options: FftPainterPoolOptions) {
    super(
      new URL("./painter-fft-worker.mjs", import.meta.url),
      options.workers,
      {
        arch: options.arch,
        weights: options.weights,
        maxFftSide: options.maxFftSide,
        inputOffset: options.inputOffset,
      },
      "FFT painter worker",
    );
  }

  async infer(values: Float32Array, rows: number, side: number): Promise<Float32Array> {
    return this.run(values, { rows, side });
  }
}
