/**
 * Per-halo summaries of friends-of-friends groups: periodic-safe centre of mass, mean velocity,
 * mass, and the shape tensor with its principal axes (for halo/galaxy orientation models).
 */
import type { FofGroups } from "./friends-of-friends.js";
import { symmetricEigen3 } from "./symmetric-eigen.js";

type Vec3 = [number, number, number];

export interface Halo {
  /** Number of member particles. */
  members: number;
  /** Centre of mass, Mpc/h, wrapped into [0, L) (also after rounding to float32). */
  centre: Vec3;
  /** Mean member velocity, km/s ([0, 0, 0] when no velocities were given). */
  velocity: Vec3;
  /** members × particle mass, Msun/h. */
  mass: number;
  /** b/a and c/a, the square roots of the shape-tensor eigenvalue ratios λ2/λ1 and λ3/λ1. */
  axisRatios: [number, number];
  /** Unit vectors of the major, intermediate and minor axes (largest component positive). */
  axes: [Vec3, Vec3, Vec3];
  /**
   * Shape tensor S_ij = (1/n) Σ Δx_i Δx_j about the centre of mass, (Mpc/h)², as
   * [xx, yy, zz, xy, xz, yz]. This is the plain (unreduced) second moment with equal particle
   * weights: a uniform ellipsoid of semi-axes a ≥ b ≥ c has eigenvalues a²/5, b²/5, c²/5.
   */
  inertia: [number, number, number, number, number, number];
}

/**
 * Computes {@link Halo} summaries for each group, in the order of `groups.groups`.
 * Members are unwrapped relative to the group's first member before averaging, which is exact
 * for any group smaller than half the box.
 */
export function haloProperties(
  groups: FofGroups,
  positions: Float32Array,
  velocities: Float32Array | null,
  particleMass: number,
  boxSize: number,
): Halo[] {
  const L = boxSize;
  if (!(L > 0)) throw new RangeError(`haloProperties: boxSize must be > 0, got ${L}`);
  if (velocities !== null && velocities.length !== positions.length) {
    throw new RangeError(
      `haloProperties: velocities length ${velocities.length} differs from positions length ${positions.length}`,
    );
  }
  const minimumImage = (d: number): number => d - L * Math.round(d / L);

  return groups.groups.map((members) => {
    const n = members.length;
    const ref = members[0];
    const rx = positions[3 * ref];
    const ry = positions[3 * ref + 1];
    const rz = positions[3 * ref + 2];
    let sx = 0;
    let sy = 0;
    let sz = 0;
    for (let k = 0; k < n; k++) {
      const i = members[k];
      sx += minimumImage(positions[3 * i] - rx);
      sy += minimumImage(positions[3 * i + 1] - ry);
      sz += minimumImage(positions[3 * i + 2] - rz);
    }
    const mx = sx / n;
    const my = sy / n;
    const mz = sz / n;

    // Second moments about the centre, from offsets relative to the (unwrapped) mean.
    const s = [0, 0, 0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      const i = members[k];
      const dx = minimumImage(positions[3 * i] - rx) - mx;
      const dy = minimumImage(positions[3 * i + 1] - ry) - my;
      const dz = minimumImage(positions[3 * i + 2] - rz) - mz;
      s[0] += dx * dx;
      s[1] += dy * dy;
      s[2] += dz * dz;
      s[3] += dx * dy;
      s[4] += dx * dz;
      s[5] += dy * dz;
    }
    const inertia = s.map((v) => v / n) as Halo["inertia"];

    const velocity: Vec3 = [0, 0, 0];
    if (velocities !== null) {
      for (let k = 0; k < n; k++) {
        const i = members[k];
        velocity[0] += velocities[3 * i];
        velocity[1] += velocities[3 * i + 1];
        velocity[2] += velocities[3 * i + 2];
      }
      for (let d = 0; d < 3; d++) velocity[d] /= n;
    }

    const { values, vectors } = symmetricEigen3(inertia);
    // A single particle (or coincident ones) has no shape: report a sphere along the frame axes.
    const degenerate = !(values[0] > 0);
    const axisRatios: [number, number] = degenerate
      ? [1, 1]
      : [Math.sqrt(Math.max(0, values[1]) / values[0]), Math.sqrt(Math.max(0, values[2]) / values[0])];

    return {
      members: n,
      centre: [wrapInto(rx + mx, L), wrapInto(ry + my, L), wrapInto(rz + mz, L)],
      velocity,
      mass: n * particleMass,
      axisRatios,
      axes: degenerate
        ? [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ]
        : vectors,
      inertia,
    };
  });
}

function wrapInto(x: number, L: number): number {
  const w = x - Math.floor(x / L) * L;
  // x slightly below 0 can round to exactly L, here or when a catalog stores it as float32;
  // [0, L) is the contract, and 0 is the same point.
  return w >= L || Math.fround(w) >= L ? 0 : w;
}
