/**
 * Multi-channel 3D convolutions by the convolution theorem, on one cubic FFT grid of side M:
 * a 'valid' k³ cross-correlation y[p] = Σ_j w[j] x[p + j − c] (c = (k − 1)/2) equals the
 * circular convolution of x with g[q] = w[c − q] wherever p ± c stays inside the data, so a
 * layer is cin forward FFTs, a per-mode complex channel mix Y[o](k) = Σ_i G[o][i](k) X[i](k)
 * and cout inverse FFTs. Outputs keep the input's voxel positions ("centred" kernels), so the
 * layers of a network all share one frame and crops become no-ops.
 *
 * The channel mix, 1³ convolutions (channel mixing), biases and activations run on the
 * WebAssembly SIMD kernels of native/fft-conv/fft-conv.c; the FFTs on cosmo/fft/real-fft3d.ts.
 * Everything lives in one WebAssembly memory owned by an FftConvWorkspace.
 */
import { fftConvWasmBase64 } from "./fft-conv-wasm.generated.js";
import { RealFft3d, spectralLength } from "../cosmo/fft/real-fft3d.js";
import type { Activation } from "./painter/architecture.js";

/** The parts of WebAssembly.Memory and .Global we use (not in the "DOM"-less TypeScript libs). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface FftConvExports {
  memory: WasmMemory;
  __heap_base: { value: unknown };
  pointwise: (
    x: number,
    cin: number,
    w: number,
    b: number,
    y: number,
    cout: number,
    n: number,
    mode: number,
  ) => void;
  bias_act: (y: number, channels: number, n: number, b: number, act: number) => void;
  spectral_mix: (x: number, cin: number, w: number, y: number, cout: number, nmodes: number) => void;
}

const wasmRuntime = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => WebAssembly.Module;
      Instance: new (m: WebAssembly.Module, imports: object) => { exports: unknown };
    };
  }
).WebAssembly;

let compiled: WebAssembly.Module | undefined;

function fftConvModule(): WebAssembly.Module {
  compiled ??= new wasmRuntime.Module(Buffer.from(fftConvWasmBase64, "base64"));
  return compiled;
}

/** Channels the spectral mix handles at once (MAXC in fft-conv.c). */
export const MAX_MIX_CHANNELS = 16;

export function activationCode(a: Activation): number {
  return a === "leaky-relu" ? 1 : a === "relu" ? 2 : 0;
}

/** A float32 array inside the workspace memory: its byte address and length. */
export interface WasmArray {
  readonly at: number;
  readonly length: number;
}

/**
 * One WebAssembly instance and a bump allocator over its memory, for FFT grids of side `side`.
 * Allocate everything first (`alloc`), then `view` (views die when the memory grows).
 */
export class FftConvWorkspace {
  readonly side: number;
  /** Real voxels per channel (side³). */
  readonly voxels: number;
  /** Floats per half-complex spectrum channel. */
  readonly spectral: number;
  readonly fft: RealFft3d;
  private readonly exp: FftConvExports;
  private top: number;

  constructor(side: number) {
    this.side = side;
    this.voxels = side ** 3;
    this.spectral = spectralLength([side, side, side]);
    // One thread: parallelism comes from painting independent patches in separate workers.
    this.fft = new RealFft3d([side, side, side], { threads: 1 });
    const instance = new wasmRuntime.Instance(fftConvModule(), {});
    this.exp = instance.exports as FftConvExports;
    this.top = Number(this.exp.__heap_base.value);
  }

  alloc(length: number): WasmArray {
    // 64-byte alignment keeps SIMD loads on cache lines.
    const at = Math.ceil(this.top / 64) * 64;
    this.top = at + length * 4;
    const have = this.exp.memory.buffer.byteLength;
    if (this.top > have) this.exp.memory.grow(Math.ceil((this.top - have) / 65536));
    return { at, length };
  }

  view(a: WasmArray, offset = 0, length = a.length - offset): Float32Array {
    return new Float32Array(this.exp.memory.buffer, a.at + offset * 4, length);
  }

  /** y = act(b + w·x (+ y when accumulate)) over channel-major grids of `voxels` values. */
  pointwise(
    x: WasmArray,
    cin: number,
    w: WasmArray,
    b: WasmArray,
    y: WasmArray,
    cout: number,
    act: Activation,
    accumulate = false,
  ): void {
    this.exp.pointwise(
      x.at,
      cin,
      w.at,
      b.at,
      y.at,
      cout,
      this.voxels,
      (accumulate ? 1 : 0) | (activationCode(act) << 1),
    );
  }

  /** y[c] = act(y[c] + b[c]). */
  biasAct(y: WasmArray, channels: number, b: WasmArray, act: Activation): void {
    this.exp.bias_act(y.at, channels, this.voxels, b.at, activationCode(act));
  }

  /** Y[o] = Σ_i G[o·cin + i] X[i] per Fourier mode (spectra of `spectral` floats per channel). */
  spectralMix(x: WasmArray, cin: number, g: WasmArray, y: WasmArray, cout: number): void {
    if (cin > MAX_MIX_CHANNELS || cout > MAX_MIX_CHANNELS)
      throw new RangeError(`spectral mix takes at most ${MAX_MIX_CHANNELS} channels, got ${cin} → ${cout}`);
    this.exp.spectral_mix(x.at, cin, g.at, y.at, cout, this.spectral / 2);
  }

  dispose(): void {
    this.fft.dispose();
  }
}

/**
 * Spectra G[o][i] of the centred, flipped kernels of a k³ cross-correlation (weights OIDHW,
 * [o][i][jx][jy][jz]) on the workspace grid, written into `out` (cin·cout spectra).
 */
export function kernelSpectra(
  ws: FftConvWorkspace,
  weight: Float32Array,
  cin: number,
  cout: number,
  k: number,
  out: WasmArray,
): void {
  const m = ws.side;
  if (k > m) throw new RangeError(`kernel side ${k} exceeds the FFT side ${m}`);
  const c = (k - 1) / 2;
  const grid = new Float32Array(ws.voxels);
  const wrap = (j: number): number => (((c - j) % m) + m) % m;
  for (let pair = 0; pair < cin * cout; pair++) {
    grid.fill(0);
    for (let jx = 0; jx < k; jx++)
      for (let jy = 0; jy < k; jy++)
        for (let jz = 0; jz < k; jz++)
          grid[(wrap(jx) * m + wrap(jy)) * m + wrap(jz)] = weight[((pair * k + jx) * k + jy) * k + jz];
    ws.fft.forward(grid, ws.view(out, pair * ws.spectral, ws.spectral));
  }
}
