/**
 * Pure-TypeScript 3D real FFT (float64 internally), the reference and fallback path.
 *
 * Forward: per x-plane, r2c along z (even nz: the n/2-point complex transform of packed
 * even/odd samples, then the standard split; odd nz: a plain complex transform), then c2c
 * along y; afterwards c2c along x on blocks of y-rows. Inverse runs the same passes backwards.
 */
import { BatchedComplexFft } from "./batched-complex-fft.js";

type Shape = readonly [number, number, number];

/** Number of doubles (per re/im array) in one x-pass block: keeps scratch within L2. */
const X_BLOCK_VALUES = 1 << 15;

export class ScalarRealFft3d {
  private readonly nx: number;
  private readonly ny: number;
  private readonly nz: number;
  private readonly nkz: number;
  private readonly even: boolean;
  private readonly fftX: BatchedComplexFft;
  private readonly fftY: BatchedComplexFft;
  private readonly fftZ: BatchedComplexFft;
  /** cos/sin of 2π k / nz for the packed-real split, k ≤ nz/2. */
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;
  private readonly planeRe: Float64Array;
  private readonly planeIm: Float64Array;
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  private readonly yRows: number;
  private readonly blockRe: Float64Array;
  private readonly blockIm: Float64Array;

  constructor(shape: Shape) {
    [this.nx, this.ny, this.nz] = shape;
    const { nx, ny, nz } = this;
    this.nkz = Math.floor(nz / 2) + 1;
    this.even = nz % 2 === 0;
    this.fftX = new BatchedComplexFft(nx);
    this.fftY = new BatchedComplexFft(ny);
    this.fftZ = new BatchedComplexFft(this.even ? nz / 2 : nz);
    this.splitCos = new Float64Array(this.nkz);
    this.splitSin = new Float64Array(this.nkz);
    for (let k = 0; k < this.nkz; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / nz);
      this.splitSin[k] = Math.sin((2 * Math.PI * k) / nz);
    }
    this.planeRe = new Float64Array(ny * this.nkz);
    this.planeIm = new Float64Array(ny * this.nkz);
    this.zRe = new Float64Array(ny * this.fftZ.n);
    this.zIm = new Float64Array(ny * this.fftZ.n);
    this.yRows = Math.max(1, Math.min(ny, Math.floor(X_BLOCK_VALUES / (nx * this.nkz))));
    this.blockRe = new Float64Array(nx * this.yRows * this.nkz);
    this.blockIm = new Float64Array(nx * this.yRows * this.nkz);
  }

  forward(real: Float32Array, out: Float32Array): void {
    for (let ix = 0; ix < this.nx; ix++) this.forwardPlane(real, out, ix);
    this.xPass(out, out, false);
  }

  /** `work` is a spectral-size buffer that receives the x-transformed spectrum. */
  inverse(spectrum: Float32Array, out: Float32Array, work: Float32Array): void {
    this.xPass(spectrum, work, true);
    const scale = 1 / (this.nx * this.ny * this.nz);
    for (let ix = 0; ix < this.nx; ix++) this.inversePlane(work, out, ix, scale);
  }

  private forwardPlane(real: Float32Array, out: Float32Array, ix: number): void {
    const { ny, nz, nkz, zRe, zIm, planeRe, planeIm } = this;
    const base = ix * ny * nz;
    if (this.even) {
      const h = nz / 2;
      for (let y = 0; y < ny; y++) {
        const row = base + y * nz;
        for (let m = 0; m < h; m++) {
          zRe[m * ny + y] = real[row + 2 * m];
          zIm[m * ny + y] = real[row + 2 * m + 1];
        }
      }
      this.fftZ.run(zRe, zIm, ny, false);
      // X[k] = E[k] + e^{-2πik/nz} O[k], E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i.
      for (let k = 0; k <= h; k++) {
        const a = (k % h) * ny;
        const b = ((h - k) % h) * ny;
        const c = this.splitCos[k];
        const s = this.splitSin[k];
        for (let y = 0; y < ny; y++) {
          const zr = zRe[a + y];
          const zi = zIm[a + y];
          const wr = zRe[b + y];
          const wi = -zIm[b + y];
          const er = 0.5 * (zr + wr);
          const ei = 0.5 * (zi + wi);
          const or = 0.5 * (zi - wi);
          const oi = -0.5 * (zr - wr);
          planeRe[y * nkz + k] = er + c * or + s * oi;
          planeIm[y * nkz + k] = ei + c * oi - s * or;
        }
      }
    } else {
      for (let y = 0; y < ny; y++) {
        const row = base + y * nz;
        for (let z = 0; z < nz; z++) {
          zRe[z * ny + y] = real[row + z];
          zIm[z * ny + y] = 0;
        }
      }
      this.fftZ.run(zRe, zIm, ny, false);
      for (let k = 0; k < nkz; k++) {
        for (let y = 0; y < ny; y++) {
          planeRe[y * nkz + k] = zRe[k * ny + y];
          planeIm[y * nkz + k] = zIm[k * ny + y];
        }
      }
    }
    this.fftY.run(planeRe, planeIm, nkz, false);
    const o = ix * ny * nkz * 2;
    for (let j = 0; j < ny * nkz; j++) {
      out[o + 2 * j] = planeRe[j];
      out[o + 2 * j + 1] = planeIm[j];
    }
  }

  private inversePlane(work: Float32Array, out: Float32Array, ix: number, scale: number): void {
    const { ny, nz, nkz, zRe, zIm, planeRe, planeIm } = this;
    const o = ix * ny * nkz * 2;
    for (let j = 0; j < ny * nkz; j++) {
      planeRe[j] = work[o + 2 * j];
      planeIm[j] = work[o + 2 * j + 1];
    }
    this.fftY.run(planeRe, planeIm, nkz, true);
    const base = ix * ny * nz;
    if (this.even) {
      const h = nz / 2;
      // Self-conjugate modes of the z transform are real: drop their imaginary parts (numpy).
      for (let y = 0; y < ny; y++) {
        planeIm[y * nkz] = 0;
        planeIm[y * nkz + h] = 0;
      }
      // Z[k] = E + iO with E = X[k] + conj X[h-k], O = (X[k] - conj X[h-k]) e^{+2πik/nz} (2× scaled).
      for (let k = 0; k < h; k++) {
        const c = this.splitCos[k];
        const s = this.splitSin[k];
        for (let y = 0; y < ny; y++) {
          const xr = planeRe[y * nkz + k];
          const xi = planeIm[y * nkz + k];
          const wr = planeRe[y * nkz + h - k];
          const wi = -planeIm[y * nkz + h - k];
          const er = xr + wr;
          const ei = xi + wi;
          const dr = xr - wr;
          const di = xi - wi;
          const or = dr * c - di * s;
          const oi = dr * s + di * c;
          zRe[k * ny + y] = er - oi;
          zIm[k * ny + y] = ei + or;
        }
      }
      this.fftZ.run(zRe, zIm, ny, true);
      for (let y = 0; y < ny; y++) {
        const row = base + y * nz;
        for (let m = 0; m < h; m++) {
          out[row + 2 * m] = zRe[m * ny + y] * scale;
          out[row + 2 * m + 1] = zIm[m * ny + y] * scale;
        }
      }
    } else {
      for (let y = 0; y < ny; y++) {
        zRe[y] = planeRe[y * nkz];
        zIm[y] = 0;
        for (let k = 1; k < nkz; k++) {
          const re = planeRe[y * nkz + k];
          const im = planeIm[y * nkz + k];
          zRe[k * ny + y] = re;
          zIm[k * ny + y] = im;
          zRe[(nz - k) * ny + y] = re;
          zIm[(nz - k) * ny + y] = -im;
        }
      }
      this.fftZ.run(zRe, zIm, ny, true);
      for (let y = 0; y < ny; y++) {
        const row = base + y * nz;
        for (let z = 0; z < nz; z++) out[row + z] = zRe[z * ny + y] * scale;
      }
    }
  }

  /** c2c along x on blocks of y-rows; `src` and `dst` may be the same array. */
  private xPass(src: Float32Array, dst: Float32Array, inverse: boolean): void {
    const { nx, ny, nkz, blockRe, blockIm } = this;
    const planeStride = ny * nkz * 2;
    for (let y0 = 0; y0 < ny; y0 += this.yRows) {
      const rows = Math.min(this.yRows, ny - y0);
      const run = rows * nkz;
      for (let ix = 0; ix < nx; ix++) {
        const s = ix * planeStride + y0 * nkz * 2;
        for (let j = 0; j < run; j++) {
          blockRe[ix * run + j] = src[s + 2 * j];
          blockIm[ix * run + j] = src[s + 2 * j + 1];
        }
      }
      this.fftX.run(blockRe, blockIm, run, inverse);
      for (let ix = 0; ix < nx; ix++) {
        const s = ix * planeStride + y0 * nkz * 2;
        for (let j = 0; j < run; j++) {
          dst[s + 2 * j] = blockRe[ix * run + j];
          dst[s + 2 * j + 1] = blockIm[ix * run + j];
        }
      }
    }
  }
}
