/**
 * Spherical binning of a half-complex 3D spectrum (the `RealFft3d` layout [ix][iy][kz], kz ≤ n/2)
 * into shells of width k_F = 2π/L. Shared by the power spectrum and later Fourier statistics.
 *
 * Modes are labelled by signed integer frequencies n = (nx, ny, nz), n_a = i_a for i_a ≤ N/2 and
 * i_a − N above (so for even N the Nyquist index maps to +N/2), k = k_F n. A mode's shell is
 * found from the exact integer |n|², so a mode with |k| exactly on an edge always falls in the
 * upper shell, as floor(|k|/k_F) does.
 *
 * "pylians" (Pylians3 Pk_library.Pk): shell j = floor(|n|) for j = 1 … floor(√3·⌊N/2⌋) (the grid
 * corner; j = 0 holds only the DC mode and is dropped). Each independent mode is counted once
 * with weight 1: on the kz = 0 plane and, for even N, the kz = N/2 plane, modes with nx < 0 are
 * skipped, and where in addition nx = 0 or (even N) nx = N/2, modes with ny < 0 are skipped.
 *
 * "nbodykit" (FFTPower, dk = k_F, kmin = 0): edges arange(0, k_Ny + k_F/2, k_F), i.e. right-open
 * shells [j k_F, (j+1) k_F) for j = 0 … ⌊N/2⌋ − 1, so nothing at or beyond ⌊N/2⌋ k_F (= k_Ny for
 * even N) is binned. Modes are counted on the full grid, k and −k separately: weight 1 on the
 * kz = 0 and (even N) kz = N/2 planes, whose conjugates are stored in the same plane, and 2 on
 * every other stored plane. nbodykit also reports the first shell [0, k_F), which holds only the
 * DC mode with its power set to 0 (modes = 1); we drop it as for Pylians. For odd N we stop at
 * ⌊N/2⌋ k_F, the last whole edge below k_Ny.
 *
 * Within a shell: k = weighted mean of |k| over its modes, P = weighted mean of Re(a b*)·C(n)²·norm,
 * modes = sum of weights, where C(n) = Π_a (x_a / sin x_a)^p, x_a = π n_a / N_a (1 at n_a = 0) is
 * the mass-assignment compensation of order p (0 = none) and norm is supplied by the caller.
 * Shells without modes are omitted from the result.
 */
import type { GridShape } from "./fft/real-fft3d.js";

export type Binning = "pylians" | "nbodykit";

export interface BinSpectrumOptions {
  /** Box side in Mpc/h (cubic box). */
  boxSize: number;
  binning?: Binning;
  /** Order p of the mass-assignment window to divide out of both spectra (0: none). */
  compensationOrder?: number;
  /** Multiplies every Re(a b*): V / N_cells² turns an unnormalised DFT into P(k) in (Mpc/h)^3. */
  normalisation?: number;
}

export interface BinnedSpectra {
  /** Mean |k| of the shell's modes, h/Mpc. */
  k: Float64Array;
  /** Number of modes (as counted by the binning convention). */
  modes: Float64Array;
  /** Shell mean of |a|² (times normalisation and compensation). */
  powerA: Float64Array;
  /** Shell mean of |b|², when b was given. */
  powerB?: Float64Array;
  /** Shell mean of Re(a b*), when b was given. */
  cross?: Float64Array;
  /** Shell index j of each row (shell [j k_F, (j+1) k_F)). */
  shell: Int32Array;
  kFundamental: number;
  kNyquist: number;
}

/** Box-side checks shared with the estimators: cubic grids and boxes only (k_F is one number). */
export function checkCubic(shape: GridShape, boxSize: number): number {
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new RangeError(`grid shape must be 3 positive integers, got [${shape.join(", ")}]`);
  }
  if (shape[0] !== shape[1] || shape[0] !== shape[2]) {
    throw new RangeError(`power spectra need a cubic grid, got ${shape.join("x")}`);
  }
  if (!(boxSize > 0) || !Number.isFinite(boxSize)) {
    throw new RangeError(`box size must be a positive number of Mpc/h, got ${boxSize}`);
  }
  return shape[0];
}

/** Signed integer frequency of FFT index i on an axis of n points (i > n/2 → i − n). */
export function signedFrequency(i: number, n: number): number {
  return 2 * i > n ? i - n : i;
}

/** Squared compensation factor per index along an axis of n points: (x / sin x)^(2p), x = π n_i / n. */
export function compensationSquared(n: number, p: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = (Math.PI * signedFrequency(i, n)) / n;
    c[i] = x === 0 || p === 0 ? 1 : Math.pow(x / Math.sin(x), 2 * p);
  }
  return c;
}

/** Divides a half-complex spectrum by the window of order p in place: δ_k ← δ_k Π_i (x_i / sin x_i)^p. */
export function compensateSpectrum(spec: Float32Array, n: number, p: number): void {
  if (p === 0) return;
  const c = compensationSquared(n, p).map(Math.sqrt);
  const nzc = (n >> 1) + 1;
  for (let ix = 0, o = 0; ix < n; ix++) {
    for (let iy = 0; iy < n; iy++) {
      const cxy = c[ix] * c[iy];
      for (let iz = 0; iz < nzc; iz++, o += 2) {
        const f = cxy * c[iz];
        spec[o] *= f;
        spec[o + 1] *= f;
      }
    }
  }
}

/**
 * Bin one spectrum (auto) or two (auto of each and their cross) in a single pass.
 * `a` and `b` are half-complex spectra of the same cubic grid, in the `RealFft3d` layout.
 */
export function binSpectrum(
  a: Float32Array,
  b: Float32Array | undefined,
  shape: GridShape,
  options: BinSpectrumOptions,
): BinnedSpectra {
  const n = checkCubic(shape, options.boxSize);
  const binning = options.binning ?? "pylians";
  if (binning !== "pylians" && binning !== "nbodykit") {
    throw new RangeError(`unknown binning ${JSON.stringify(binning)}; expected pylians or nbodykit`);
  }
  const p = options.compensationOrder ?? 0;
  const norm = options.normalisation ?? 1;
  const nzh = Math.floor(n / 2) + 1;
  const expected = n * n * nzh * 2;
  if (a.length !== expected || (b !== undefined && b.length !== expected)) {
    throw new RangeError(
      `spectrum length ${b !== undefined && b.length !== expected ? b.length : a.length} does not match grid ${n}³ (expected ${expected})`,
    );
  }
  const half = Math.floor(n / 2);
  const even = n % 2 === 0;
  const kF = (2 * Math.PI) / options.boxSize;

  // Shell of each integer |n|² (−1: not binned) and its |n|.
  const maxK2 = 3 * half * half;
  const nShells = binning === "pylians" ? Math.floor(Math.sqrt(maxK2)) + 1 : half;
  const shellOf = new Int32Array(maxK2 + 1);
  const modulus = new Float64Array(maxK2 + 1);
  for (let s = 0, j = 0; s <= maxK2; s++) {
    while ((j + 1) * (j + 1) <= s) j++;
    shellOf[s] = j < nShells ? j : -1;
    modulus[s] = Math.sqrt(s);
  }

  const comp = compensationSquared(n, p);
  const sumK = new Float64Array(nShells);
  const sumW = new Float64Array(nShells);
  const sumA = new Float64Array(nShells);
  const sumB = b === undefined ? undefined : new Float64Array(nShells);
  const sumX = b === undefined ? undefined : new Float64Array(nShells);

  const lastPlane = even ? nzh - 1 : -1; // the kz = N/2 plane, self-conjugate like kz = 0
  const interiorWeight = binning === "pylians" ? 1 : 2;
  for (let ix = 0; ix < n; ix++) {
    const kx = signedFrequency(ix, n);
    const cx = comp[ix];
    for (let iy = 0; iy < n; iy++) {
      const ky = signedFrequency(iy, n);
      const k2xy = kx * kx + ky * ky;
      const cxy = cx * comp[iy];
      // Weight on the self-conjugate planes (kz = 0, kz = N/2 for even N).
      let planeWeight = 1;
      if (binning === "pylians") {
        if (kx < 0) planeWeight = 0;
        else if ((kx === 0 || (even && kx === half)) && ky < 0) planeWeight = 0;
      }
      const row = (ix * n + iy) * nzh;
      for (let iz = 0; iz < nzh; iz++) {
        const w = iz === 0 || iz === lastPlane ? planeWeight : interiorWeight;
        if (w === 0) continue;
        const s = k2xy + iz * iz;
        const j = shellOf[s];
        if (j < 0) continue;
        const c = cxy * comp[iz] * w;
        const o = 2 * (row + iz);
        const ar = a[o];
        const ai = a[o + 1];
        sumW[j] += w;
        sumK[j] += w * modulus[s];
        sumA[j] += c * (ar * ar + ai * ai);
        if (b !== undefined) {
          const br = b[o];
          const bi = b[o + 1];
          sumB![j] += c * (br * br + bi * bi);
          sumX![j] += c * (ar * br + ai * bi);
        }
      }
    }
  }

  // Keep shells j ≥ 1 that received modes.
  const rows: number[] = [];
  for (let j = 1; j < nShells; j++) if (sumW[j] > 0) rows.push(j);
  const m = rows.length;
  const out: BinnedSpectra = {
    k: new Float64Array(m),
    modes: new Float64Array(m),
    powerA: new Float64Array(m),
    shell: Int32Array.from(rows),
    kFundamental: kF,
    kNyquist: (Math.PI * n) / options.boxSize,
  };
  if (b !== undefined) {
    out.powerB = new Float64Array(m);
    out.cross = new Float64Array(m);
  }
  rows.forEach((j, r) => {
    out.k[r] = (sumK[j] / sumW[j]) * kF;
    out.modes[r] = sumW[j];
    out.powerA[r] = (sumA[j] / sumW[j]) * norm;
    if (b !== undefined) {
      out.powerB![r] = (sumB![j] / sumW[j]) * norm;
      out.cross![r] = (sumX![j] / sumW[j]) * norm;
    }
  });
  return out;
}
