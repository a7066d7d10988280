/**
 * Second-order Lagrangian perturbation theory (2LPT) on a grid of particles, one per cell.
 *
 * Convention of Crocce, Pueblas & Scoccimarro (2006, eqs 2–5), q the Lagrangian grid position:
 *   x(q) = q − D1 ∇φ⁽¹⁾ + D2 ∇φ⁽²⁾,                 ∇²φ⁽¹⁾ = δ_L(q)  (linear δ at z = 0)
 *   ∇²φ⁽²⁾ = Σ_{i<j} [φ⁽¹⁾_ii φ⁽¹⁾_jj − (φ⁽¹⁾_ij)²]
 *   v(q)  = a H(a) [ −f1 D1 ∇φ⁽¹⁾ + f2 D2 ∇φ⁽²⁾ ]    (peculiar, km/s; positions in Mpc/h)
 * with D2 ≈ −3/7 D1² Ω_m(z)^(−1/143) (Bouchet et al. 1995). In Fourier space
 *   Ψ1 = −∇φ⁽¹⁾ = i k δ_k / k²,   φ⁽¹⁾_ij = k_i k_j δ_k / k²,   ∇φ⁽²⁾ = −i k S_k / k².
 *
 * The linear field: δ_k = W_k √(P_lin(k, 0) / Δx³) where W_k is the unnormalised DFT of unit
 * white noise (so ⟨|δ_k|²⟩ = N P/Δx³ and the estimator |δ_k|² V/N² returns P). That is 14 FFTs:
 * 1 forward (noise), 3 inverse (Ψ1), 6 inverse (Hessian), 1 forward (source), 3 inverse (Ψ2).
 */
import type { Cosmology } from "./cosmology.js";
import { hubbleE } from "./cosmology.js";
import { type GrowthFactors, growthFactors } from "./growth.js";
import { LinearPower } from "./linear-power.js";
import type { TransferModel } from "./transfer-function.js";
import { fillWhiteNoise } from "./white-noise.js";
import { derivativeFrequencies, maxSquaredFrequency, signedFrequencies } from "./fourier-grid.js";
import { RealFft3d, allocShared, isFftFriendly, spectralLength, type GridShape } from "./fft/real-fft3d.js";
import { depositParticles, toDensityContrast } from "./mass-assignment.js";

export interface LptOptions {
  /** Particles and grid cells per side. */
  gridSide: number;
  /** Box side, Mpc/h. */
  boxSize: number;
  redshift: number;
  seed: number;
  cosmology: Cosmology;
  /** 1 = Zel'dovich, 2 = 2LPT (default). */
  order?: 1 | 2;
  transfer?: TransferModel;
  /** Unit white noise to use instead of the seeded one (C order, length gridSide³). */
  noise?: Float32Array;
  threads?: number;
  /** What to return besides the growth factors. */
  want?: { density?: boolean; linearDensity?: boolean; particles?: boolean };
  /** Side of the grid the particles are CIC-deposited on for `density` (default: gridSide). */
  densityGridSide?: number;
  /** Called after each stage with a short name (progress reporting). */
  onStage?: (stage: string, done: number, total: number) => void;
}

export interface LptResult {
  shape: GridShape;
  boxSize: number;
  redshift: number;
  growth: GrowthFactors;
  /** CIC density contrast of the displaced particles (on densityGridSide³, default the particle grid). */
  density?: Float32Array;
  /** Linear density contrast D1(z) δ_L. */
  linearDensity?: Float32Array;
  /** Interleaved x,y,z in [0, L), Mpc/h; particle p = (ix·n + iy)·n + iz starts at q = (ix, iy, iz)·Δx. */
  positions?: Float32Array;
  /** Interleaved peculiar velocities, km/s. */
  velocities?: Float32Array;
  /** RMS of the total displacement, Mpc/h (a sanity figure for logs). */
  displacementRms: number;
}

const STAGES = 8;

/** Linear δ_k at z = 0 on the half-complex grid, from unit white noise (see the module comment). */
export function linearDensitySpectrum(
  fft: RealFft3d,
  noise: Float32Array,
  boxSize: number,
  power: LinearPower,
): Float32Array {
  const [nx, ny, nz] = fft.shape;
  const nzc = (nz >> 1) + 1;
  const spec = fft.forward(noise);
  const kf = (2 * Math.PI) / boxSize;
  const cell3 = (boxSize / nx) * (boxSize / ny) * (boxSize / nz);
  // |k|² takes integer values in units of k_F², so the amplitude is tabulated once per value.
  const amp = new Float64Array(maxSquaredFrequency(fft.shape) + 1);
  for (let m = 1; m < amp.length; m++) amp[m] = Math.sqrt(power.at(kf * Math.sqrt(m), 0) / cell3);
  const fx = signedFrequencies(nx);
  const fy = signedFrequencies(ny);
  for (let ix = 0; ix < nx; ix++) {
    const mx = fx[ix] * fx[ix];
    for (let iy = 0; iy < ny; iy++) {
      const mxy = mx + fy[iy] * fy[iy];
      let o = 2 * (ix * ny + iy) * nzc;
      for (let iz = 0; iz < nzc; iz++, o += 2) {
        const a = amp[mxy + iz * iz];
        spec[o] *= a;
        spec[o + 1] *= a;
      }
    }
  }
  return spec;
}

/**
 * Spectral derivative operators on the half-complex grid. Wavenumbers in units of k_F; first
 * derivatives drop the Nyquist plane (see fourier-grid.ts). Built once per grid and reused for
 * the 12 derivative fields of a 2LPT run.
 */
class SpectralDerivatives {
  private readonly k: [Int32Array, Int32Array, Int32Array];
  private readonly fx: Int32Array;
  private readonly fy: Int32Array;
  private readonly invK2: Float64Array;
  private readonly nzc: number;

  constructor(private readonly shape: GridShape) {
    const [nx, ny, nz] = shape;
    this.k = [derivativeFrequencies(nx), derivativeFrequencies(ny), derivativeFrequencies(nz)];
    this.fx = signedFrequencies(nx);
    this.fy = signedFrequencies(ny);
    this.invK2 = new Float64Array(maxSquaredFrequency(shape) + 1);
    for (let m = 1; m < this.invK2.length; m++) this.invK2[m] = 1 / m;
    this.nzc = (nz >> 1) + 1;
  }

  /**
   * out = factor · i k_a k_b^(0|1) / k² · src (first derivative when b is null: i k_a/k²), or
   * out = factor · k_a k_b / k² · src (Hessian). The row loop hoists everything but k_z.
   */
  apply(src: Float32Array, out: Float32Array, a: number, b: number | null, factor: number): void {
    const [nx, ny] = this.shape;
    const { k, fx, fy, invK2, nzc } = this;
    const kz = k[2];
    const first = b === null;
    for (let ix = 0; ix < nx; ix++) {
      const mx = fx[ix] * fx[ix];
      for (let iy = 0; iy < ny; iy++) {
        const mxy = mx + fy[iy] * fy[iy];
        const o0 = 2 * (ix * ny + iy) * nzc;
        // Constant part of the operator along this row, and whether k_z enters once or twice.
        let rowFactor = factor;
        let zPower = 0;
        for (let t = 0; t < (first ? 1 : 2); t++) {
          const axis = t === 0 ? a : (b as number);
          if (axis === 0) rowFactor *= k[0][ix];
          else if (axis === 1) rowFactor *= k[1][iy];
          else zPower++;
        }
        if (rowFactor === 0) {
          out.fill(0, o0, o0 + 2 * nzc);
          continue;
        }
        if (first) {
          // i·s·(re + i im) = −s im + i s re
          for (let iz = 0, o = o0; iz < nzc; iz++, o += 2) {
            const s = rowFactor * invK2[mxy + iz * iz] * (zPower ? kz[iz] : 1);
            const re = src[o];
            out[o] = -s * src[o + 1];
            out[o + 1] = s * re;
          }
        } else {
          for (let iz = 0, o = o0; iz < nzc; iz++, o += 2) {
            const kzf = zPower === 0 ? 1 : zPower === 1 ? kz[iz] : kz[iz] * kz[iz];
            const s = rowFactor * invK2[mxy + iz * iz] * kzf;
            out[o] = s * src[o];
            out[o + 1] = s * src[o + 1];
          }
        }
      }
    }
    out[0] = 0; // the DC mode carries no displacement
    out[1] = 0;
  }
}

/** Generates a 2LPT (or Zel'dovich) realisation. Deterministic in (options), whatever `threads`. */
export function runLpt(options: LptOptions): LptResult {
  const n = options.gridSide;
  if (!Number.isInteger(n) || n < 2 || !isFftFriendly(n)) {
    throw new RangeError(`grid side must be an integer ≥ 2 whose prime factors are 2, 3 and 5, got ${n}`);
  }
  if (!(options.boxSize > 0) || !Number.isFinite(options.boxSize))
    throw new RangeError(`box size must be > 0, got ${options.boxSize}`);
  if (!(options.redshift >= 0) || !Number.isFinite(options.redshift))
    throw new RangeError(`redshift must be ≥ 0, got ${options.redshift}`);
  const want = options.want ?? { density: true };
  const order = options.order ?? 2;
  const shape: GridShape = [n, n, n];
  const cells = n * n * n;
  const L = options.boxSize;
  const kf = (2 * Math.PI) / L;
  const stage = options.onStage ?? (() => undefined);
  const growth = growthFactors(options.cosmology, options.redshift);
  const power = new LinearPower(options.cosmology, options.transfer);
  const fft = new RealFft3d(shape, { threads: options.threads });
  try {
    let noise = options.noise;
    if (noise) {
      if (noise.length !== cells)
        throw new RangeError(`white noise has ${noise.length} values, expected ${cells}`);
    } else {
      noise = fillWhiteNoise(options.seed, allocShared(cells));
    }
    stage("noise", 1, STAGES);
    const deltaK = linearDensitySpectrum(fft, noise, L, power);
    noise = undefined;
    stage("linear field", 2, STAGES);

    const result: LptResult = { shape, boxSize: L, redshift: options.redshift, growth, displacementRms: 0 };
    const scratch = allocShared(spectralLength(shape));
    if (want.linearDensity) {
      for (let i = 0; i < scratch.length; i++) scratch[i] = deltaK[i] * growth.d1;
      result.linearDensity = fft.inverse(scratch);
    }
    if (!want.density && !want.particles) return result;

    // Ψ1 (derivatives carry 1/k_F: k = k_F·m, so i k/k² = (1/k_F) i m/m²).
    const ops = new SpectralDerivatives(shape);
    const psi1: Float32Array[] = [];
    for (let c = 0; c < 3; c++) {
      ops.apply(deltaK, scratch, c, null, 1 / kf);
      psi1.push(fft.inverse(scratch, allocShared(cells)));
    }
    stage("first order", 3, STAGES);

    let psi2: Float32Array[] | null = null;
    if (order === 2) {
      // Hessian φ_ij = k_i k_j δ_k/k² is dimensionless, so no k_F factor.
      const hess = (c: number, d: number, out: Float32Array): Float32Array => {
        ops.apply(deltaK, scratch, c, d, 1);
        return fft.inverse(scratch, out);
      };
      const pxx = hess(0, 0, allocShared(cells));
      const pyy = hess(1, 1, allocShared(cells));
      const pzz = hess(2, 2, allocShared(cells));
      const pij = allocShared(cells);
      const source = pxx; // S accumulates in place of φ_xx
      for (let i = 0; i < cells; i++) {
        const a = pxx[i];
        const b = pyy[i];
        const c = pzz[i];
        source[i] = a * b + a * c + b * c;
      }
      const offDiagonal: [number, number][] = [
        [0, 1],
        [0, 2],
        [1, 2],
      ];
      for (const [c, d] of offDiagonal) {
        hess(c, d, pij);
        for (let i = 0; i < cells; i++) source[i] -= pij[i] * pij[i];
      }
      stage("second-order source", 4, STAGES);
      const sourceK = fft.forward(source, deltaK); // δ_k is no longer needed
      psi2 = [];
      for (let c = 0; c < 3; c++) {
        // ∇φ2 = −i k S_k/k²
        ops.apply(sourceK, scratch, c, null, -1 / kf);
        psi2.push(fft.inverse(scratch, c === 0 ? pyy : c === 1 ? pzz : pij));
      }
      stage("second order", 5, STAGES);
    }

    // Positions and velocities; the Ψ1 buffers are overwritten component by component.
    const a = 1 / (1 + options.redshift);
    const aH = a * 100 * hubbleE(options.cosmology, options.redshift); // km/s per Mpc/h
    const { d1, f1, d2, f2 } = growth;
    const positions = new Float32Array(3 * cells);
    const velocities = want.particles ? new Float32Array(3 * cells) : null;
    const dx = L / n;
    let sumSq = 0;
    for (let c = 0; c < 3; c++) {
      const p1 = psi1[c];
      const p2 = psi2 ? psi2[c] : null;
      // q along axis c: constant on a row for x and y, stepping by Δx along the row for z.
      const stepZ = c === 2 ? dx : 0;
      for (let ix = 0, i = 0; ix < n; ix++) {
        for (let iy = 0; iy < n; iy++) {
          const qRow = c === 0 ? ix * dx : c === 1 ? iy * dx : 0;
          for (let iz = 0; iz < n; iz++, i++) {
            const s1 = d1 * p1[i];
            const s2 = p2 ? d2 * p2[i] : 0;
            const disp = s1 + s2;
            sumSq += disp * disp;
            let x = qRow + iz * stepZ + disp;
            if (x < 0 || x >= L) {
              x -= Math.floor(x / L) * L;
              if (x >= L) x -= L; // float rounding of values just below L
            }
            positions[3 * i + c] = x;
            if (velocities) velocities[3 * i + c] = aH * (f1 * s1 + f2 * s2);
          }
        }
      }
    }
    result.displacementRms = Math.sqrt(sumSq / cells);
    stage("particles", 6, STAGES);
    if (want.particles) {
      result.positions = positions;
      result.velocities = velocities ?? undefined;
    }
    if (want.density) {
      const m = options.densityGridSide ?? n;
      const counts = depositParticles(positions, [m, m, m], L, "cic", { out: allocShared(m * m * m) });
      toDensityContrast(counts);
      result.density = counts;
      stage("density", 7, STAGES);
    }
    stage("done", STAGES, STAGES);
    return result;
  } finally {
    fft.dispose();
  }
}
