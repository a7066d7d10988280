/**
 * Linear (D1, f1) and second-order (D2, f2) growth for flat ΛCDM.
 *
 * D1 is the exact growing mode for pressureless matter plus Λ (Heath 1977):
 *   D(a) = (5 Ω_m / 2) E(a) I(a),   I(a) = ∫_0^a da' / (a' E(a'))³,
 * normalised so that D → a deep in matter domination; the API returns D1(z)/D(z=0).
 * Differentiating, with dlnE/dlna = −3/2 Ω_m(a) and dI/da = 1/(aE)³,
 *   f1 = dlnD/dlna = Ω_m(a) [5a / (2 D(a)) − 3/2],
 * exact, not the Ω_m^0.55 fit. Substituting a = u² makes the integrand of I analytic,
 *   I(a) = ∫_0^{√a} 2u⁴ (Ω_m + Ω_Λ u⁶)^(−3/2) du,
 * so composite Gauss–Legendre reaches machine precision with a few panels.
 *
 * Second order (Bouchet et al. 1995, A&A 296, 575): D2 = −3/7 D1² Ω_m(z)^(−1/143) and
 * f2 = dlnD2/dlna ≈ 2 Ω_m(z)^(6/11), with D1 the normalised growth factor.
 */

import { type Cosmology, omegaMAt } from "./cosmology.js";
import { gaussLegendreRule } from "./gauss-legendre.js";

export interface GrowthFactors {
  /** Linear growth factor, D1(z = 0) = 1. */
  d1: number;
  /** Linear growth rate dlnD1/dlna. */
  f1: number;
  /** Second-order growth factor (negative), −3/7 D1² Ω_m(z)^(−1/143). */
  d2: number;
  /** Second-order growth rate dlnD2/dlna ≈ 2 Ω_m(z)^(6/11). */
  f2: number;
}

const RULE = gaussLegendreRule(20);

/**
 * Unnormalised growing mode D(a) → a as a → 0.
 * Panels are sized to the scale u* = (Ω_m/Ω_Λ)^(1/6) where Ω_Λ u⁶ overtakes Ω_m, which sets
 * the distance of the integrand's complex singularities from the real axis.
 */
function growingMode(omegaM: number, a: number): number {
  const om = omegaM;
  const ol = 1 - om;
  const uMax = Math.sqrt(a);
  const uStar = ol > 0 ? Math.pow(om / ol, 1 / 6) : Infinity;
  const panels = Math.max(1, Math.ceil(uMax / (0.5 * uStar)));
  const { nodes, weights } = RULE;
  const half = (0.5 * uMax) / panels;
  let integral = 0;
  for (let p = 0; p < panels; p++) {
    const mid = (2 * p + 1) * half;
    for (let i = 0; i < nodes.length; i++) {
      const u = mid + half * nodes[i];
      const u2 = u * u;
      const s = om + ol * u2 * u2 * u2;
      integral += (weights[i] * 2 * u2 * u2) / (s * Math.sqrt(s));
    }
  }
  integral *= half;
  const e = Math.sqrt(om / (a * a * a) + ol);
  return 2.5 * om * e * integral;
}

// D(a = 1) per Ω_m, the normalisation of D1; light cones ask for D1 once per halo.
let lastOmegaM = Number.NaN;
let lastToday = Number.NaN;

function growingModeToday(omegaM: number): number {
  if (omegaM !== lastOmegaM) {
    lastToday = growingMode(omegaM, 1);
    lastOmegaM = omegaM;
  }
  return lastToday;
}

function redshiftToA(z: number): number {
  if (!(z > -1) || !Number.isFinite(z)) throw new RangeError(`redshift must be finite and > -1, got ${z}`);
  return 1 / (1 + z);
}

/** Linear growth factor D1(z), normalised to D1(0) = 1. */
export function growthD1(c: Cosmology, z: number): number {
  const a = redshiftToA(z);
  return growingMode(c.omegaM, a) / growingModeToday(c.omegaM);
}

/** Linear growth rate f1 = dlnD1/dlna, exact for flat ΛCDM. */
export function growthRateF1(c: Cosmology, z: number): number {
  const a = redshiftToA(z);
  const om = omegaMAt(c, z);
  return om * ((2.5 * a) / growingMode(c.omegaM, a) - 1.5);
}

/** D1, f1, D2, f2 at redshift z (see the module comment for definitions). */
export function growthFactors(c: Cosmology, z: number): GrowthFactors {
  const a = redshiftToA(z);
  const dA = growingMode(c.omegaM, a);
  const om = omegaMAt(c, z);
  const d1 = dA / growingModeToday(c.omegaM);
  return {
    d1,
    f1: om * ((2.5 * a) / dA - 1.5),
    d2: (-3 / 7) * d1 * d1 * Math.pow(om, -1 / 143),
    f2: 2 * Math.pow(om, 6 / 11),
  };
}
