/**
 * Mass assignment of particles to a periodic grid (NGP, CIC, TSC) and its adjoint, interpolation
 * of a grid back to particle positions (the force interpolation of particle-mesh codes).
 *
 * Convention (Pylians3 MAS_library and nbodykit/pmesh alike): grid point (i, j, l) sits at
 * x = (i Δx, j Δy, l Δz) with Δ = L / n per axis, and a particle at x contributes to the grid
 * points around u = x / Δ with the B-spline kernel of order p (Hockney & Eastwood 1988, §5-3):
 *   NGP (p = 1): the nearest point, round(u);
 *   CIC (p = 2): points floor(u), floor(u)+1 with weights 1 − f, f (f = u − floor u);
 *   TSC (p = 3): points i−1, i, i+1 around i = round(u), d = u − i, weights
 *                (1/2)(1/2 − d)², 3/4 − d², (1/2)(1/2 + d)².
 * The kernel's Fourier transform is W(k) = Π_axes sinc(k_a Δ_a / 2)^p, which is what
 * `power-spectrum.ts` divides out ("compensation"). Because the kernel is symmetric about the
 * grid point, W is real: deposit introduces no phase.
 *
 * Deposit is accumulated in float64 in particle order on one thread, so the result is exactly
 * reproducible and does not depend on any thread count; dense cells keep full precision.
 */
import type { GridShape } from "./fft/real-fft3d.js";

export type MassAssignmentScheme = "ngp" | "cic" | "tsc";

/** Order p of the kernel: the window is W = Π sinc^p. */
export function schemeOrder(s: MassAssignmentScheme): 1 | 2 | 3 {
  switch (s) {
    case "ngp":
      return 1;
    case "cic":
      return 2;
    case "tsc":
      return 3;
    default:
      throw new RangeError(`unknown mass-assignment scheme ${JSON.stringify(s)}; expected ngp, cic or tsc`);
  }
}

export interface DepositOptions {
  /** Per-particle weight (default 1). Length N. */
  weights?: Float32Array;
  /** Displacement of every particle by +shift cells on every axis before assignment (0.5 for interlacing). */
  shift?: number;
  /** Output grid, length nx*ny*nz; overwritten. */
  out?: Float32Array;
}

/**
 * Deposit particles (interleaved positions in Mpc/h, periodic in [0, L)) onto a grid of `shape`
 * covering a cube of side `boxSize`. Returns the summed weights per grid point.
 * Positions outside [0, L) (e.g. exactly L) are wrapped periodically; NaN or ±∞ throws RangeError.
 */
export function depositParticles(
  positions: Float32Array,
  shape: GridShape,
  boxSize: number,
  scheme: MassAssignmentScheme,
  options: DepositOptions = {},
): Float32Array {
  const n = particleCount(positions);
  const cells = checkGrid(shape, boxSize);
  const weights = options.weights;
  if (weights !== undefined && weights.length !== n) {
    throw new RangeError(`weights have length ${weights.length}, expected one per particle (${n})`);
  }
  const shift = options.shift ?? 0;
  if (!Number.isFinite(shift)) throw new RangeError(`shift must be finite, got ${shift}`);
  const out = options.out ?? new Float32Array(cells);
  if (out.length !== cells) throw new RangeError(`output grid has length ${out.length}, expected ${cells}`);

  const acc = new Float64Array(cells);
  const order = schemeOrder(scheme);
  if (order === 1) depositNgp(positions, n, shape, boxSize, shift, weights, acc);
  else if (order === 2) depositCic(positions, n, shape, boxSize, shift, weights, acc);
  else depositTsc(positions, n, shape, boxSize, shift, weights, acc);
  out.set(acc);
  return out;
}

/**
 * Value of `grid` at each particle with the same kernel as `depositParticles` — its exact adjoint:
 * Σ_p w_p interp(g)_p = Σ_c g_c deposit(w)_c. Returns one float32 per particle.
 */
export function interpolateAtParticles(
  grid: Float32Array,
  shape: GridShape,
  boxSize: number,
  positions: Float32Array,
  scheme: MassAssignmentScheme,
  out?: Float32Array,
): Float32Array {
  const n = particleCount(positions);
  const cells = checkGrid(shape, boxSize);
  if (grid.length !== cells) throw new RangeError(`grid has length ${grid.length}, expected ${cells}`);
  const dst = out ?? new Float32Array(n);
  if (dst.length !== n) throw new RangeError(`output has length ${dst.length}, expected ${n}`);
  const order = schemeOrder(scheme);
  const k = new Kernel(order, shape, boxSize, 0);
  const [, ny, nz] = shape;
  const strideX = ny * nz;
  for (let p = 0; p < n; p++) {
    k.axis(positions[3 * p], 0);
    k.axis(positions[3 * p + 1], 1);
    k.axis(positions[3 * p + 2], 2);
    let sum = 0;
    for (let a = 0; a < order; a++) {
      const ox = k.idx[a] * strideX;
      const wx = k.w[a];
      for (let b = 0; b < order; b++) {
        const oxy = ox + k.idx[3 + b] * nz;
        const wxy = wx * k.w[3 + b];
        for (let c = 0; c < order; c++) sum += wxy * k.w[6 + c] * grid[oxy + k.idx[6 + c]];
      }
    }
    dst[p] = sum;
  }
  return dst;
}

/** counts → δ = counts / mean − 1 in place; returns the mean (float64 sum). */
export function toDensityContrast(counts: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i];
  const mean = sum / counts.length;
  if (!(mean > 0) || !Number.isFinite(mean)) {
    throw new RangeError(`cannot form a density contrast: mean of the grid is ${mean}, expected > 0`);
  }
  const inv = 1 / mean;
  for (let i = 0; i < counts.length; i++) counts[i] = counts[i] * inv - 1;
  return mean;
}

function particleCount(positions: Float32Array): number {
  if (positions.length % 3 !== 0) {
    throw new RangeError(`positions have length ${positions.length}, expected 3 per particle (x, y, z)`);
  }
  return positions.length / 3;
}

function checkGrid(shape: GridShape, boxSize: number): number {
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new RangeError(`grid shape must be 3 positive integers, got [${shape.join(", ")}]`);
  }
  if (!(boxSize > 0) || !Number.isFinite(boxSize)) {
    throw new RangeError(`box size must be a positive number of Mpc/h, got ${boxSize}`);
  }
  return shape[0] * shape[1] * shape[2];
}

/**
 * Index of grid coordinate `i` (an integer, possibly outside [0, n)) on a periodic axis of n
 * points. Only reached off the fast path, which is also where NaN/∞ land (every comparison with
 * NaN is false), so the hot loops need no separate finiteness test.
 */
function wrap(i: number, n: number, x: number): number {
  if (!Number.isFinite(i)) throw new RangeError(`particle position ${x} is not a finite number`);
  const r = i % n;
  return r < 0 ? r + n : r;
}

// The three deposit loops are written out per scheme so each hot loop is monomorphic, allocation
// free, and wraps indices with compares instead of `%` (positions are normally in [0, L)).

function depositNgp(
  pos: Float32Array,
  n: number,
  shape: GridShape,
  boxSize: number,
  shift: number,
  weights: Float32Array | undefined,
  acc: Float64Array,
): void {
  const [nx, ny, nz] = shape;
  const sx = nx / boxSize;
  const sy = ny / boxSize;
  const sz = nz / boxSize;
  const strideX = ny * nz;
  const s = shift + 0.5; // round(u) = floor(u + 1/2)
  for (let p = 0; p < n; p++) {
    const x = pos[3 * p];
    const y = pos[3 * p + 1];
    const z = pos[3 * p + 2];
    let ix = Math.floor(x * sx + s);
    let iy = Math.floor(y * sy + s);
    let iz = Math.floor(z * sz + s);
    if (!(ix >= 0 && ix < nx)) ix = wrap(ix, nx, x);
    if (!(iy >= 0 && iy < ny)) iy = wrap(iy, ny, y);
    if (!(iz >= 0 && iz < nz)) iz = wrap(iz, nz, z);
    acc[ix * strideX + iy * nz + iz] += weights === undefined ? 1 : weights[p];
  }
}

function depositCic(
  pos: Float32Array,
  n: number,
  shape: GridShape,
  boxSize: number,
  shift: number,
  weights: Float32Array | undefined,
  acc: Float64Array,
): void {
  const [nx, ny, nz] = shape;
  const sx = nx / boxSize;
  const sy = ny / boxSize;
  const sz = nz / boxSize;
  const strideX = ny * nz;
  for (let p = 0; p < n; p++) {
    const x = pos[3 * p];
    const y = pos[3 * p + 1];
    const z = pos[3 * p + 2];
    const ux = x * sx + shift;
    const uy = y * sy + shift;
    const uz = z * sz + shift;
    let ix = Math.floor(ux);
    let iy = Math.floor(uy);
    let iz = Math.floor(uz);
    const fx = ux - ix;
    const fy = uy - iy;
    const fz = uz - iz;
    if (!(ix >= 0 && ix < nx)) ix = wrap(ix, nx, x);
    if (!(iy >= 0 && iy < ny)) iy = wrap(iy, ny, y);
    if (!(iz >= 0 && iz < nz)) iz = wrap(iz, nz, z);
    const jx = ix + 1 === nx ? 0 : ix + 1;
    const jy = iy + 1 === ny ? 0 : iy + 1;
    const jz = iz + 1 === nz ? 0 : iz + 1;
    const m = weights === undefined ? 1 : weights[p];
    const w0 = m * (1 - fx);
    const w1 = m * fx;
    const ox0 = ix * strideX;
    const ox1 = jx * strideX;
    const oy0 = iy * nz;
    const oy1 = jy * nz;
    const gy0 = 1 - fy;
    const gz0 = 1 - fz;
    let w = w0 * gy0;
    acc[ox0 + oy0 + iz] += w * gz0;
    acc[ox0 + oy0 + jz] += w * fz;
    w = w0 * fy;
    acc[ox0 + oy1 + iz] += w * gz0;
    acc[ox0 + oy1 + jz] += w * fz;
    w = w1 * gy0;
    acc[ox1 + oy0 + iz] += w * gz0;
    acc[ox1 + oy0 + jz] += w * fz;
    w = w1 * fy;
    acc[ox1 + oy1 + iz] += w * gz0;
    acc[ox1 + oy1 + jz] += w * fz;
  }
}

function depositTsc(
  pos: Float32Array,
  n: number,
  shape: GridShape,
  boxSize: number,
  shift: number,
  weights: Float32Array | undefined,
  acc: Float64Array,
): void {
  const [, ny, nz] = shape;
  const k = new Kernel(3, shape, boxSize, shift);
  const strideX = ny * nz;
  const idx = k.idx;
  const w = k.w;
  for (let p = 0; p < n; p++) {
    k.axis(pos[3 * p], 0);
    k.axis(pos[3 * p + 1], 1);
    k.axis(pos[3 * p + 2], 2);
    const m = weights === undefined ? 1 : weights[p];
    for (let a = 0; a < 3; a++) {
      const ox = idx[a] * strideX;
      const wx = m * w[a];
      for (let b = 0; b < 3; b++) {
        const oxy = ox + idx[3 + b] * nz;
        const wxy = wx * w[3 + b];
        acc[oxy + idx[6]] += wxy * w[6];
        acc[oxy + idx[7]] += wxy * w[7];
        acc[oxy + idx[8]] += wxy * w[8];
      }
    }
  }
}

/**
 * Per-axis kernel support (indices and weights) of one particle, reused across particles:
 * entries [3a, 3a + order) belong to axis a. Used by TSC deposit and by interpolation.
 */
class Kernel {
  readonly idx = new Int32Array(9);
  readonly w = new Float64Array(9);
  private readonly n: [number, number, number];
  private readonly scale: [number, number, number];

  constructor(
    private readonly order: 1 | 2 | 3,
    shape: GridShape,
    boxSize: number,
    private readonly shift: number,
  ) {
    this.n = [shape[0], shape[1], shape[2]];
    this.scale = [shape[0] / boxSize, shape[1] / boxSize, shape[2] / boxSize];
  }

  axis(x: number, a: 0 | 1 | 2): void {
    const n = this.n[a];
    const u = x * this.scale[a] + this.shift;
    const o = 3 * a;
    if (this.order === 1) {
      let i = Math.floor(u + 0.5);
      if (!(i >= 0 && i < n)) i = wrap(i, n, x);
      this.idx[o] = i;
      this.w[o] = 1;
    } else if (this.order === 2) {
      let i = Math.floor(u);
      const f = u - i;
      if (!(i >= 0 && i < n)) i = wrap(i, n, x);
      this.idx[o] = i;
      this.idx[o + 1] = i + 1 === n ? 0 : i + 1;
      this.w[o] = 1 - f;
      this.w[o + 1] = f;
    } else {
      let i = Math.floor(u + 0.5);
      const d = u - i;
      if (!(i >= 0 && i < n)) i = wrap(i, n, x);
      this.idx[o] = i === 0 ? n - 1 : i - 1;
      this.idx[o + 1] = i;
      this.idx[o + 2] = i + 1 === n ? 0 : i + 1;
      const l = 0.5 - d;
      const r = 0.5 + d;
      this.w[o] = 0.5 * l * l;
      this.w[o + 1] = 0.75 - d * d;
      this.w[o + 2] = 0.5 * r * r;
    }
  }
}
