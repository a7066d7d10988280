/**
 * Line-of-sight comoving distance in flat ΛCDM (no radiation, as in cosmology.ts).
 *
 * χ(z) = (c/H0) ∫_0^z dz'/E(z'). With u = √a = 1/√(1+z) this becomes
 *   χ = (c/H0) ∫_u^1 2 du' / √(Ω_m + Ω_Λ u'⁶),
 * an analytic integrand on a finite interval for every z (including z → ∞), and in Einstein–
 * de Sitter simply 2(c/H0)(1 − u). We integrate over t = 1 − u' from 0 to w = 1 − u, computing
 * w = z / (√(1+z)(√(1+z) + 1)) without cancellation so that small z keeps full relative accuracy.
 */

import type { Cosmology } from "./cosmology.js";
import { gaussLegendreRule } from "./gauss-legendre.js";

export const SPEED_OF_LIGHT_KM_S = 299792.458;

/** Hubble distance c/H0 in Mpc/h (H0 = 100 h km/s/Mpc). */
export const HUBBLE_DISTANCE_MPC_H = SPEED_OF_LIGHT_KM_S / 100;

/** a = 1/(1+z). */
export function scaleFactor(z: number): number {
  if (!(z > -1) || !Number.isFinite(z)) throw new RangeError(`redshift must be finite and > -1, got ${z}`);
  return 1 / (1 + z);
}

const RULE = gaussLegendreRule(20);

/** ∫_0^w 2 dt / √(Ω_m + Ω_Λ (1−t)⁶), the dimensionless distance χ H0/c at w = 1 − √a. */
function dimensionlessDistance(c: Cosmology, w: number): number {
  const om = c.omegaM;
  const ol = 1 - om;
  if (ol === 0) return 2 * w;
  // Panels no wider than the scale u* = (Ω_m/Ω_Λ)^(1/6) over which Ω_Λ u⁶ overtakes Ω_m
  // keep the integrand's complex singularities far from each panel (see growth.ts).
  const uStar = Math.pow(om / ol, 1 / 6);
  const panels = Math.max(1, Math.ceil(w / uStar));
  const { nodes, weights } = RULE;
  const half = (0.5 * w) / panels;
  let total = 0;
  // Inlined rather than passed as a callback: this runs per halo in light cones.
  for (let p = 0; p < panels; p++) {
    const mid = (2 * p + 1) * half;
    let s = 0;
    for (let i = 0; i < nodes.length; i++) {
      const u = 1 - (mid + half * nodes[i]);
      const u2 = u * u;
      s += weights[i] / Math.sqrt(om + ol * u2 * u2 * u2);
    }
    total += s;
  }
  return 2 * half * total;
}

function integrandAt(c: Cosmology, w: number): number {
  const u = 1 - w;
  const u2 = u * u;
  return 2 / Math.sqrt(c.omegaM + (1 - c.omegaM) * u2 * u2 * u2);
}

/** Comoving distance χ(z) in Mpc/h, for z ≥ 0 (z = ∞ gives the comoving horizon). */
export function comovingDistance(c: Cosmology, z: number): number {
  if (!(z >= 0)) throw new RangeError(`redshift must be >= 0 for a comoving distance, got ${z}`);
  if (z === Infinity) return HUBBLE_DISTANCE_MPC_H * dimensionlessDistance(c, 1);
  const s = Math.sqrt(1 + z);
  const w = z / (s * (s + 1));
  return HUBBLE_DISTANCE_MPC_H * dimensionlessDistance(c, w);
}

/**
 * Inverse of comovingDistance: the redshift at comoving distance chi (Mpc/h), to ~1e-14 relative.
 * Solves for w = 1 − √a by Newton's method, safeguarded by bisection. The integrand lies in
 * [2, 2/√Ω_m], which brackets w; w determines z = w(2 − w)/(1 − w)² without cancellation.
 */
export function redshiftAtComovingDistance(c: Cosmology, chi: number): number {
  if (!(chi >= 0) || !Number.isFinite(chi)) {
    throw new RangeError(`comoving distance must be finite and >= 0, got ${chi}`);
  }
  if (chi === 0) return 0;
  const target = chi / HUBBLE_DISTANCE_MPC_H;
  const horizon = dimensionlessDistance(c, 1);
  if (target >= horizon) {
    throw new RangeError(
      `comoving distance ${chi} Mpc/h is beyond the horizon ${horizon * HUBBLE_DISTANCE_MPC_H} Mpc/h`,
    );
  }
  let lo = Math.min(1, 0.5 * target * Math.sqrt(c.omegaM));
  let hi = Math.min(1, 0.5 * target);
  // g is convex in w, so Newton from the upper bracket approaches the root monotonically.
  let w = hi < 1 ? hi : 0.5 * (lo + hi);
  for (let iter = 0; iter < 200; iter++) {
    const g = dimensionlessDistance(c, w) - target;
    if (g > 0) hi = w;
    else lo = w;
    let next = w - g / integrandAt(c, w);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    const step = Math.abs(next - w);
    w = next;
    if (step <= 1e-15 * w || hi - lo <= 1e-16 * hi) break;
  }
  const v = 1 - w;
  return (w * (2 - w)) / (v * v);
}
