/**
 * Power spectrum estimators on periodic cubic grids: auto, cross, and from particles.
 *
 * Conventions (default "pylians", equal to Pylians3 `Pk_library.Pk` so tables agree bin by bin):
 * - δ_k is the unnormalised DFT Σ_x δ(x) e^{−i k·x} of the grid, and P(k⃗) = |δ_k|² V / N_cells²
 *   (V = L³); a cross spectrum uses Re(δa_k δb_k*) instead of |δ_k|².
 * - k⃗ = k_F n⃗ with k_F = 2π/L and n_a the signed index (i > N/2 → i − N); k_Ny = π N / L.
 * - Shell j = floor(|k|/k_F), j = 1 … int(√3·⌊N/2⌋) (the grid corner); the DC mode (j = 0) is
 *   dropped. Each independent mode is counted once: on the kz = 0 plane and, for even N, the
 *   kz = N/2 plane, modes with kx < 0 are skipped, and where also kx = 0 or kx = N/2, ky < 0.
 * - Reported k is the mean |k| of the shell's modes; P is the mean over those modes; `modes` is
 *   their number. Shells without modes are omitted.
 * - Compensation for a mass-assignment scheme of order p (NGP 1, CIC 2, TSC 3) multiplies δ_k by
 *   Π_a (x_a / sin x_a)^p, x_a = π n_a / N, i.e. divides by the window Π sinc^p (Hockney &
 *   Eastwood 1988; Jing 2005, eq. 9 without the alias sum).
 * - A constant shot noise, when given, is subtracted from every shell of an auto spectrum.
 * Option "nbodykit" (FFTPower with dk = k_F, kmin = 0): same P, k and compensation, but shells
 * [j k_F, (j+1) k_F) stop at ⌊N/2⌋ k_F (edges arange(0, k_Ny + k_F/2, k_F)) and modes are
 * counted on the full grid (k and −k separately), so `modes` is about twice Pylians'. The DC shell
 * that nbodykit reports (k = 0, P = 0, modes = 1) is dropped. Details in `k-binning.ts`.
 *
 * Particles (`particlePowerSpectrum`): counts on the mesh by NGP/CIC/TSC (`mass-assignment.ts`,
 * grid points at x = iΔ), δ_k = counts_k / n̄_cell for k ≠ 0, optional interlacing (Sefusatti et
 * al. 2016, eq. 33): a second grid with every particle displaced by +Δ/2 on each axis samples
 * the field at x − Δ/2, so its modes carry e^{−i k·(Δ/2)(1,1,1)}; multiplying them by
 * e^{+i k·(Δ/2)(1,1,1)} and averaging with the first grid cancels the odd aliased images.
 * Shot noise V / N_particles is subtracted on request (Poisson sampling).
 */
import { RealFft3d, type GridShape } from "./fft/real-fft3d.js";
import { binSpectrum, checkCubic, compensateSpectrum, signedFrequency, type Binning } from "./k-binning.js";
import { depositParticles, schemeOrder, type MassAssignmentScheme } from "./mass-assignment.js";

export type { Binning } from "./k-binning.js";

export interface PowerSpectrumOptions {
  /** Box side, Mpc/h. */
  boxSize: number;
  /** Mass-assignment window to divide out of δ_k; default "none". */
  compensate?: MassAssignmentScheme | "none";
  /** Default "pylians". */
  binning?: Binning;
  /** Cross spectra only: the second field's window when it differs from the first's (e.g. a CIC field × a linear field). */
  compensateB?: MassAssignmentScheme | "none";
  /** Subtracted from every shell of an auto spectrum, (Mpc/h)^3. Default 0. */
  shotNoise?: number;
  /** FFT threads. */
  threads?: number;
}

export interface PowerSpectrumTable {
  /** Mean |k| of the shell's modes, h/Mpc. */
  k: Float64Array;
  /** (Mpc/h)^3, shot noise already subtracted. */
  power: Float64Array;
  /** Number of modes in the shell as counted by `binning`. */
  modes: Float64Array;
  boxSize: number;
  shape: GridShape;
  binning: Binning;
  /** Compensated window ("none", "ngp", "cic", "tsc"), plus "+interlaced" for interlaced particle spectra. */
  compensate: string;
  /** The constant subtracted from `power`, (Mpc/h)^3 (0: none). */
  shotNoise: number;
  kFundamental: number;
  kNyquist: number;
}

export interface CrossPowerTable extends PowerSpectrumTable {
  /** Auto spectrum of the first field (shot noise subtracted as for `power` of an auto table). */
  powerA: Float64Array;
  powerB: Float64Array;
  /** r_c = P_ab / sqrt(P_aa P_bb), shell by shell. */
  correlation: Float64Array;
}

/** Auto power spectrum of a real grid (δ, or anything whose DC mode may be ignored). */
export function powerSpectrum(
  delta: Float32Array,
  shape: GridShape,
  options: PowerSpectrumOptions,
): PowerSpectrumTable {
  const n = checkCubic(shape, options.boxSize);
  checkGridLength(delta, n, "field");
  const fft = new RealFft3d(shape, fftOptions(options.threads));
  try {
    return autoTable(fft.forward(delta), shape, options, compensationName(options.compensate));
  } finally {
    fft.dispose();
  }
}

/**
 * Cross power spectrum P_ab = <Re(δa δb*)> of two grids, with the two auto spectra from the same
 * pass and their correlation coefficient. `shotNoise` applies to the autos only (`powerA`,
 * `powerB`); the cross `power` of independent tracers has none.
 */
export function crossPowerSpectrum(
  a: Float32Array,
  b: Float32Array,
  shape: GridShape,
  options: PowerSpectrumOptions,
): CrossPowerTable {
  const n = checkCubic(shape, options.boxSize);
  checkGridLength(a, n, "first field");
  checkGridLength(b, n, "second field");
  const fft = new RealFft3d(shape, fftOptions(options.threads));
  let ka: Float32Array;
  let kb: Float32Array;
  try {
    ka = fft.forward(a);
    kb = fft.forward(b);
  } finally {
    fft.dispose();
  }
  const shot = checkShotNoise(options.shotNoise);
  const compensateA = compensationName(options.compensate);
  let compensate: string = compensateA;
  let order = compensateA === "none" ? 0 : schemeOrder(compensateA);
  if (options.compensateB !== undefined && compensationName(options.compensateB) !== compensateA) {
    // Different windows: divide each field by its own before binning.
    const b = compensationName(options.compensateB);
    compensateSpectrum(ka, n, order);
    compensateSpectrum(kb, n, b === "none" ? 0 : schemeOrder(b));
    compensate = `${compensate}×${b}`;
    order = 0;
  }
  const binned = binSpectrum(ka, kb, shape, {
    boxSize: options.boxSize,
    binning: options.binning,
    compensationOrder: order,
    normalisation: normalisation(n, options.boxSize),
  });
  const powerA = binned.powerA.map((v) => v - shot);
  const powerB = binned.powerB!.map((v) => v - shot);
  const power = binned.cross!;
  const correlation = power.map((v, i) => v / Math.sqrt(powerA[i] * powerB[i]));
  return {
    k: binned.k,
    power,
    modes: binned.modes,
    powerA,
    powerB,
    correlation,
    boxSize: options.boxSize,
    shape: [n, n, n],
    binning: options.binning ?? "pylians",
    compensate,
    shotNoise: shot,
    kFundamental: binned.kFundamental,
    kNyquist: binned.kNyquist,
  };
}

export interface ParticlePowerSpectrumOptions {
  /** Default "cic"; its window is always compensated. */
  scheme?: MassAssignmentScheme;
  /** Average with a grid shifted by half a cell to cancel odd aliases. Default false. */
  interlaced?: boolean;
  /** Subtract the Poisson shot noise V / N. Default false. */
  subtractShotNoise?: boolean;
  binning?: Binning;
  threads?: number;
}

/** Power spectrum of a set of particles (interleaved positions, Mpc/h, periodic in [0, L)). */
export function particlePowerSpectrum(
  positions: Float32Array,
  meshSide: number,
  boxSize: number,
  options: ParticlePowerSpectrumOptions = {},
): PowerSpectrumTable {
  const shape: GridShape = [meshSide, meshSide, meshSide];
  const n = checkCubic(shape, boxSize);
  const count = positions.length / 3;
  if (!Number.isInteger(count) || count === 0) {
    throw new RangeError(
      `positions have length ${positions.length}; expected 3 per particle and at least one particle`,
    );
  }
  const scheme = options.scheme ?? "cic";
  schemeOrder(scheme);
  const cells = n * n * n;
  const meanPerCell = count / cells;

  const fft = new RealFft3d(shape, fftOptions(options.threads));
  let spectrum: Float32Array;
  try {
    const grid = depositParticles(positions, shape, boxSize, scheme);
    spectrum = fft.forward(grid);
    if (options.interlaced) {
      depositParticles(positions, shape, boxSize, scheme, { shift: 0.5, out: grid });
      interlace(spectrum, fft.forward(grid), n);
    }
  } finally {
    fft.dispose();
  }
  // counts_k / n̄ = δ_k for k ≠ 0 (the DC mode is never binned).
  const inv = 1 / meanPerCell;
  for (let i = 0; i < spectrum.length; i++) spectrum[i] *= inv;

  const shot = options.subtractShotNoise ? (boxSize * boxSize * boxSize) / count : 0;
  return autoTable(
    spectrum,
    shape,
    { boxSize, binning: options.binning, compensate: scheme, shotNoise: shot },
    options.interlaced ? `${scheme}+interlaced` : scheme,
  );
}

/**
 * In place: s1 ← (s1 + e^{+iπ(nx+ny+nz)/N} s2) / 2, where s2 is the spectrum of the grid whose
 * particles were displaced by +Δ/2 per axis (k·Δ/2 = π n_a / N per axis).
 */
function interlace(s1: Float32Array, s2: Float32Array, n: number): void {
  const nzh = Math.floor(n / 2) + 1;
  const phase = new Float64Array(2 * n); // (cos, sin) of π m / N for the signed index of each i
  for (let i = 0; i < n; i++) {
    const t = (Math.PI * signedFrequency(i, n)) / n;
    phase[2 * i] = Math.cos(t);
    phase[2 * i + 1] = Math.sin(t);
  }
  for (let ix = 0; ix < n; ix++) {
    for (let iy = 0; iy < n; iy++) {
      // e^{i(a+b)} from the per-axis factors
      const cxy = phase[2 * ix] * phase[2 * iy] - phase[2 * ix + 1] * phase[2 * iy + 1];
      const sxy = phase[2 * ix] * phase[2 * iy + 1] + phase[2 * ix + 1] * phase[2 * iy];
      const row = (ix * n + iy) * nzh;
      for (let iz = 0; iz < nzh; iz++) {
        const c = cxy * phase[2 * iz] - sxy * phase[2 * iz + 1];
        const s = cxy * phase[2 * iz + 1] + sxy * phase[2 * iz];
        const o = 2 * (row + iz);
        const re = s2[o];
        const im = s2[o + 1];
        s1[o] = 0.5 * (s1[o] + c * re - s * im);
        s1[o + 1] = 0.5 * (s1[o + 1] + c * im + s * re);
      }
    }
  }
}

function autoTable(
  spectrum: Float32Array,
  shape: GridShape,
  options: PowerSpectrumOptions,
  compensateLabel: string,
): PowerSpectrumTable {
  const n = shape[0];
  const shot = checkShotNoise(options.shotNoise);
  const compensate = compensationName(options.compensate);
  const binned = binSpectrum(spectrum, undefined, shape, {
    boxSize: options.boxSize,
    binning: options.binning,
    compensationOrder: compensate === "none" ? 0 : schemeOrder(compensate),
    normalisation: normalisation(n, options.boxSize),
  });
  return {
    k: binned.k,
    power: shot === 0 ? binned.powerA : binned.powerA.map((v) => v - shot),
    modes: binned.modes,
    boxSize: options.boxSize,
    shape: [n, n, n],
    binning: options.binning ?? "pylians",
    compensate: compensateLabel,
    shotNoise: shot,
    kFundamental: binned.kFundamental,
    kNyquist: binned.kNyquist,
  };
}

/** V / N_cells²: |DFT|² → P in (Mpc/h)^3. */
function normalisation(n: number, boxSize: number): number {
  const cells = n * n * n;
  return (boxSize * boxSize * boxSize) / (cells * cells);
}

function compensationName(c: MassAssignmentScheme | "none" | undefined): MassAssignmentScheme | "none" {
  const name = c ?? "none";
  if (name !== "none") schemeOrder(name);
  return name;
}

function checkShotNoise(s: number | undefined): number {
  const shot = s ?? 0;
  if (!Number.isFinite(shot))
    throw new RangeError(`shot noise must be a finite number of (Mpc/h)^3, got ${shot}`);
  return shot;
}

function checkGridLength(g: Float32Array, n: number, what: string): void {
  if (g.length !== n * n * n)
    throw new RangeError(`${what} has length ${g.length}, expected ${n}³ = ${n * n * n}`);
}

function fftOptions(threads: number | undefined): { threads?: number } {
  return threads === undefined ? {} : { threads };
}
