/**
 * Halo mass functions: the universal fits calibrated on FoF (b = 0.2) haloes and a binned
 * estimator for catalogs.
 *
 *   dn/dlnM = f(σ) (ρ̄_m / M) |dln σ / dln M|,   σ(M) the linear rms in top-hat spheres of mass M
 *   Jenkins et al. (2001, eq. 9, FoF 0.2):   f = 0.315 exp(−|ln σ⁻¹ + 0.61|^3.8)
 *   Warren et al. (2006, eq. 5):             f = 0.7234 (σ^−1.625 + 0.2538) exp(−1.1982/σ²)
 */
import type { Cosmology } from "./cosmology.js";
import { CRITICAL_DENSITY_MSUN_H_PER_MPC_H3 } from "./halo-count-grid.js";
import type { LinearPower } from "./linear-power.js";

export type MassFunctionFit = "warren" | "jenkins";

export function multiplicity(fit: MassFunctionFit, sigma: number): number {
  if (fit === "warren")
    return 0.7234 * (Math.pow(sigma, -1.625) + 0.2538) * Math.exp(-1.1982 / (sigma * sigma));
  return 0.315 * Math.exp(-Math.pow(Math.abs(Math.log(1 / sigma) + 0.61), 3.8));
}

/** Mean comoving matter density, Msun/h per (Mpc/h)³. */
export function meanMatterDensity(c: Cosmology): number {
  return CRITICAL_DENSITY_MSUN_H_PER_MPC_H3 * c.omegaM;
}

/** Lagrangian radius (Mpc/h) of mass M (Msun/h). */
export function lagrangianRadius(c: Cosmology, mass: number): number {
  return Math.cbrt((3 * mass) / (4 * Math.PI * meanMatterDensity(c)));
}

/** dn/dlnM in (h/Mpc)³ at mass M (Msun/h) and redshift z. */
export function massFunction(power: LinearPower, fit: MassFunctionFit, mass: number, z = 0): number {
  const c = power.cosmology;
  const r = lagrangianRadius(c, mass);
  const sigma = power.sigmaR(r, z);
  // dlnσ/dlnM = (1/3) dlnσ/dlnR by a centred difference in ln R.
  const h = 0.01;
  const dlnSigma =
    (Math.log(power.sigmaR(r * Math.exp(h), z)) - Math.log(power.sigmaR(r * Math.exp(-h), z))) / (2 * h) / 3;
  return (multiplicity(fit, sigma) * meanMatterDensity(c) * Math.abs(dlnSigma)) / mass;
}

/** Expected number of haloes per unit volume with mass in [m1, m2), by integrating dn/dlnM. */
export function numberDensityInRange(
  power: LinearPower,
  fit: MassFunctionFit,
  m1: number,
  m2: number,
  z = 0,
): number {
  const steps = 32;
  const a = Math.log(m1);
  const b = Math.log(m2);
  const h = (b - a) / steps;
  let s = 0;
  for (let i = 0; i <= steps; i++) {
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    s += w * massFunction(power, fit, Math.exp(a + i * h), z);
  }
  return (s * h) / 3;
}

export interface MassFunctionBin {
  massLow: number;
  massHigh: number;
  count: number;
  /** dn/dlnM estimate, (h/Mpc)³, with its Poisson error. */
  dndlnm: number;
  error: number;
}

/** Binned dn/dlnM of a catalog in a periodic box. */
export function binnedMassFunction(
  masses: ArrayLike<number>,
  boxSize: number,
  edges: readonly number[],
): MassFunctionBin[] {
  const volume = boxSize ** 3;
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < masses.length; i++) {
    const m = masses[i];
    for (let b = 0; b + 1 < edges.length; b++) {
      if (m >= edges[b] && m < edges[b + 1]) {
        counts[b]++;
        break;
      }
    }
  }
  return counts.map((count, b) => {
    const dln = Math.log(edges[b + 1] / edges[b]);
    return {
      massLow: edges[b],
      massHigh: edges[b + 1],
      count,
      dndlnm: count / volume / dln,
      error: Math.sqrt(count) / volume / dln,
    };
  });
}
