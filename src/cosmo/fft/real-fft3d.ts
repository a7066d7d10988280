/**
 * 3D real-to-complex FFT and its inverse on C-ordered float32 grids `[ix][iy][iz]`.
 *
 * Spectrum layout: `[ix][iy][kz]` with kz < nz/2+1, interleaved (re, im), unnormalised forward
 * and 1/(nx ny nz) inverse — the numpy rfftn/irfftn conventions.
 */
import { availableParallelism } from "node:os";
import { fftFactors } from "./batched-complex-fft.js";
import { ScalarRealFft3d } from "./scalar-real-fft3d.js";
import { WasmRealFft3d, fftWasmModule } from "./wasm-real-fft3d.js";

export type GridShape = readonly [number, number, number];

/** Number of float32 values of a half-complex spectrum: nx*ny*(nz/2+1)*2, interleaved re,im, layout [ix][iy][kz]. */
export function spectralLength(shape: GridShape): number {
  return shape[0] * shape[1] * (Math.floor(shape[2] / 2) + 1) * 2;
}

/** Float32Array backed by a SharedArrayBuffer (so worker threads can see it), zero-filled. */
export function allocShared(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

/** Sides allowed: products of 2, 3 and 5. */
export function isFftFriendly(n: number): boolean {
  return fftFactors(n) !== null;
}

export interface RealFft3dOptions {
  /** Threads to use; default os.availableParallelism() capped at 8. */
  threads?: number;
}

export class RealFft3d {
  readonly shape: GridShape;
  readonly spectralLength: number;
  private readonly realLength: number;
  /** WebAssembly SIMD engine, or the float64 TypeScript reference where WebAssembly is unavailable. */
  private readonly engine: WasmRealFft3d | ScalarRealFft3d;
  private work: Float32Array | null = null;
  private disposed = false;

  constructor(shape: GridShape, options: RealFft3dOptions = {}) {
    if (shape.length !== 3) throw new RangeError(`FFT shape must have 3 sides, got ${shape.length}`);
    for (const n of shape) {
      if (!isFftFriendly(n)) {
        throw new RangeError(
          `FFT side ${n} must be a positive product of 2, 3 and 5 (shape ${shape.join("x")})`,
        );
      }
    }
    const threads = options.threads ?? Math.min(8, availableParallelism());
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    }
    this.shape = [shape[0], shape[1], shape[2]];
    this.spectralLength = spectralLength(shape);
    this.realLength = shape[0] * shape[1] * shape[2];
    const module = fftWasmModule();
    this.engine = module ? new WasmRealFft3d(module, this.shape, threads) : new ScalarRealFft3d(this.shape);
  }

  /** r2c, unnormalised: F[k] = sum_x f[x] exp(-2πi k·x/n). Input not modified. Returns `out` (allocated with allocShared if omitted). */
  forward(real: Float32Array, out?: Float32Array): Float32Array {
    this.checkLive();
    checkLength("real input", real, this.realLength);
    const dst = out ?? allocShared(this.spectralLength);
    checkLength("spectral output", dst, this.spectralLength);
    this.engine.forward(real, dst);
    return dst;
  }

  /** c2r, normalised by 1/(nx ny nz) (numpy irfftn convention). Input spectrum not modified. Imaginary parts of self-conjugate modes are ignored as numpy does. */
  inverse(spectrum: Float32Array, out?: Float32Array): Float32Array {
    this.checkLive();
    checkLength("spectral input", spectrum, this.spectralLength);
    const dst = out ?? allocShared(this.realLength);
    checkLength("real output", dst, this.realLength);
    if (this.engine instanceof WasmRealFft3d) {
      this.engine.inverse(spectrum, dst);
    } else {
      this.work ??= new Float32Array(this.spectralLength);
      this.engine.inverse(spectrum, dst, this.work);
    }
    return dst;
  }

  /** Frees worker threads; the object must not be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.work = null;
    if (this.engine instanceof WasmRealFft3d) this.engine.dispose();
  }

  private checkLive(): void {
    if (this.disposed) throw new Error("RealFft3d used after dispose()");
  }
}

function checkLength(what: string, a: Float32Array, expected: number): void {
  if (a.length !== expected) {
    throw new RangeError(`FFT ${what} has length ${a.length}, expected ${expected}`);
  }
}
