/**
 * Where a sampled halo sits inside its voxel, and how fast it moves.
 *
 * Positions ("particles" rule): a halo picks one of the 2LPT particles whose NGP voxel is its
 * own (uniformly, by a keyed random number) and lands uniformly in the intersection of that
 * particle's Lagrangian cell (a cube of the mean inter-particle spacing Δp centred on it) with
 * the voxel. The haloes then follow the sub-voxel matter distribution smoothed on Δp, stay in
 * their voxel (so the catalog's NGP count grid is the sampled integer grid exactly), and two
 * haloes picking one particle do not coincide. A voxel without particles falls back to uniform.
 * ("uniform" rule: uniform in the voxel.)
 *
 * Velocities: the 2LPT velocity field as the ratio of CIC-interpolated momentum and mass grids,
 *   v(x) = Σ_c W(x − x_c) p_c / Σ_c W(x − x_c) m_c,   p_c = Σ_p W(x_p − x_c) v_p, m_c = Σ_p W(x_p − x_c),
 * which is the mass-weighted mean velocity of the particles near x and is defined wherever any
 * of the eight surrounding grid points received mass (zero velocity is returned elsewhere).
 */
import type { GridShape } from "./fft/real-fft3d.js";
import { depositParticles, interpolateAtParticles } from "./mass-assignment.js";

/** Particles grouped by the voxel (side³ grid over [0, L)³) holding them, in particle order. */
export class VoxelParticleIndex {
  /** offsets[v] .. offsets[v+1] index `order` for voxel v. */
  readonly offsets: Uint32Array;
  readonly order: Uint32Array;
  /** Mean inter-particle spacing, Mpc/h. */
  readonly spacing: number;

  constructor(
    readonly positions: Float32Array,
    readonly side: number,
    readonly boxSize: number,
  ) {
    const n = positions.length / 3;
    if (!Number.isInteger(n) || n === 0) throw new RangeError("particle positions must be x,y,z triples");
    const cells = side ** 3;
    if (n >= 2 ** 32 || cells >= 2 ** 32)
      throw new RangeError("too many particles or voxels for a 32-bit index");
    this.spacing = boxSize / Math.cbrt(n);
    const voxel = new Uint32Array(n);
    const counts = new Uint32Array(cells + 1);
    const scale = side / boxSize;
    for (let p = 0; p < n; p++) {
      const v = voxelOf(positions, p, scale, side);
      voxel[p] = v;
      counts[v + 1]++;
    }
    for (let v = 0; v < cells; v++) counts[v + 1] += counts[v];
    this.offsets = counts;
    const next = counts.slice(0, cells);
    this.order = new Uint32Array(n);
    for (let p = 0; p < n; p++) this.order[next[voxel[p]]++] = p;
  }
}

function axisIndex(x: number, scale: number, side: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`particle position ${x} is not finite`);
  let i = Math.floor(x * scale);
  i %= side;
  if (i < 0) i += side;
  return i;
}

function voxelOf(positions: Float32Array, p: number, scale: number, side: number): number {
  const i = axisIndex(positions[3 * p], scale, side);
  const j = axisIndex(positions[3 * p + 1], scale, side);
  const k = axisIndex(positions[3 * p + 2], scale, side);
  return (i * side + j) * side + k;
}

/** The largest float32 strictly below `limit` if fround(x) is not, else fround(x): keeps f32 coordinates inside a voxel. */
export function float32Below(x: number, limit: number): number {
  const f = Math.fround(x);
  if (f < limit) return f;
  let g = Math.fround(limit);
  while (g >= limit) g = nextFloat32Down(g);
  return g;
}

/** The smallest float32 ≥ `limit` if fround(x) is below it. */
export function float32AtLeast(x: number, limit: number): number {
  const f = Math.fround(x);
  if (f >= limit) return f;
  let g = Math.fround(limit);
  while (g < limit) g = nextFloat32Up(g);
  return g;
}

const scratch = new Float32Array(1);
const bits = new Int32Array(scratch.buffer);

function nextFloat32Down(f: number): number {
  if (f === 0) return -1.401298464324817e-45;
  scratch[0] = f;
  bits[0] += f > 0 ? -1 : 1;
  return scratch[0];
}

function nextFloat32Up(f: number): number {
  if (f === 0) return 1.401298464324817e-45;
  scratch[0] = f;
  bits[0] += f > 0 ? 1 : -1;
  return scratch[0];
}

/**
 * One coordinate of a halo in voxel cell [lo, hi) along an axis: uniform in [a, b) ⊂ [lo, hi),
 * returned as a float32 inside [lo, hi).
 */
export function coordinateIn(a: number, b: number, u: number, lo: number, hi: number): number {
  return float32AtLeast(float32Below(a + u * (b - a), hi), lo);
}

/** Mass-weighted CIC velocity field of a particle set on a side³ grid (see the module comment). */
export class VelocityField {
  private readonly momentum: Float32Array[];
  private readonly mass: Float32Array;
  private readonly shape: GridShape;

  constructor(
    positions: Float32Array,
    velocities: Float32Array,
    side: number,
    readonly boxSize: number,
  ) {
    if (velocities.length !== positions.length) {
      throw new RangeError(`velocities have length ${velocities.length}, positions ${positions.length}`);
    }
    this.shape = [side, side, side];
    const n = positions.length / 3;
    const component = new Float32Array(n);
    this.momentum = [0, 1, 2].map((c) => {
      for (let p = 0; p < n; p++) component[p] = velocities[3 * p + c];
      return depositParticles(positions, this.shape, boxSize, "cic", { weights: component });
    });
    this.mass = depositParticles(positions, this.shape, boxSize, "cic");
  }

  /** Velocities (interleaved, km/s) at interleaved positions. */
  at(positions: Float32Array): Float32Array {
    const n = positions.length / 3;
    const out = new Float32Array(3 * n);
    if (n === 0) return out;
    const m = interpolateAtParticles(this.mass, this.shape, this.boxSize, positions, "cic");
    for (let c = 0; c < 3; c++) {
      const p = interpolateAtParticles(this.momentum[c], this.shape, this.boxSize, positions, "cic");
      for (let h = 0; h < n; h++) out[3 * h + c] = m[h] > 0 ? p[h] / m[h] : 0;
    }
    return out;
  }
}
