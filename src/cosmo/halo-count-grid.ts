/**
 * Halo-count grids: nearest-grid-point counts of halo centres per mass bin, the painter's
 * training target (Kodi Ramanah et al. 2019 paint halo counts on a 4 Mpc/h grid).
 * Voxel (i, j, l) covers [iΔ, (i+1)Δ) on each axis, so a halo is counted in floor(x/Δ).
 */
export interface HaloCountGrids {
  side: number;
  /** Counts of all haloes given. */
  total: Float32Array;
  /** One grid per mass bin [edges[b], edges[b+1]). */
  bins: Float32Array[];
}

export function logMassEdges(min: number, max: number, bins: number): number[] {
  if (!(min > 0 && max > min) || !Number.isInteger(bins) || bins < 1) {
    throw new RangeError(
      `mass bins need 0 < min < max and a positive bin count, got ${min}, ${max}, ${bins}`,
    );
  }
  const lo = Math.log10(min);
  const step = (Math.log10(max) - lo) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => 10 ** (lo + i * step));
}

export function haloCountGrids(
  centres: Float32Array,
  masses: Float32Array,
  boxSize: number,
  side: number,
  edges: readonly number[],
): HaloCountGrids {
  const cells = side ** 3;
  const total = new Float32Array(cells);
  const bins = Array.from({ length: Math.max(0, edges.length - 1) }, () => new Float32Array(cells));
  const scale = side / boxSize;
  for (let h = 0; h < masses.length; h++) {
    const idx = [0, 1, 2].map((c) => {
      let i = Math.floor(centres[3 * h + c] * scale);
      if (i >= side) i -= side; // a centre rounded up to L
      if (i < 0) i += side;
      return i;
    });
    const o = (idx[0] * side + idx[1]) * side + idx[2];
    total[o] += 1;
    const m = masses[h];
    for (let b = 0; b < bins.length; b++) {
      if (m >= edges[b] && m < edges[b + 1]) {
        bins[b][o] += 1;
        break;
      }
    }
  }
  return { side, total, bins };
}

/** Particle mass for N particles in a box: ρ_crit Ω_m L³ / N, Msun/h (ρ_crit = 2.775e11 h² Msun/Mpc³). */
export const CRITICAL_DENSITY_MSUN_H_PER_MPC_H3 = 2.77536627e11;

export function particleMass(omegaM: number, boxSize: number, particles: number): number {
  return (CRITICAL_DENSITY_MSUN_H_PER_MPC_H3 * omegaM * boxSize ** 3) / particles;
}
