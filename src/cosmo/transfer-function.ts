/**
 * Eisenstein & Hu (1998, ApJ 496, 605; "EH98") matter transfer functions.
 *
 * "eisenstein-hu": the full fit, CDM plus baryons with acoustic oscillations and Silk damping
 *   (eqs 2–24). "eisenstein-hu-nowiggle": the zero-baryon-oscillation form with the effective
 *   shape Γ_eff (eqs 26–31). The paper works in Mpc⁻¹; the API takes k in h/Mpc.
 * Equation numbers below are the paper's.
 */

import type { Cosmology } from "./cosmology.js";

export type TransferModel = "eisenstein-hu" | "eisenstein-hu-nowiggle";

/** k-independent quantities of the fit for one cosmology. Lengths in Mpc, wavenumbers in Mpc⁻¹. */
export interface EisensteinHuScales {
  /** Ω_m h². */
  readonly omhh: number;
  /** Ω_b h². */
  readonly obhh: number;
  /** Baryon fraction Ω_b/Ω_m. */
  readonly fBaryon: number;
  /** T_CMB / 2.7 K. */
  readonly thetaCmb: number;
  /** 1 + z_eq, eq 2. */
  readonly zEquality: number;
  /** k_eq, eq 3. */
  readonly kEquality: number;
  /** z_d, the drag epoch, eq 4. */
  readonly zDrag: number;
  /** R(z_d) and R(z_eq), eq 5. */
  readonly rDrag: number;
  readonly rEquality: number;
  /** Sound horizon at the drag epoch s, eq 6 (Mpc). */
  readonly soundHorizon: number;
  /** Silk damping scale, eq 7. */
  readonly kSilk: number;
  readonly alphaC: number;
  readonly betaC: number;
  readonly alphaB: number;
  readonly betaB: number;
  readonly betaNode: number;
  /** Approximate sound horizon of the no-wiggle form, eq 26 (Mpc). */
  readonly soundHorizonFit: number;
  /** α_Γ, eq 31. */
  readonly alphaGamma: number;
}

/** The k-independent parameters of the EH98 fit (eqs 2–7, 11–12, 14–15, 23–24, 26, 31). */
export function eisensteinHuScales(c: Cosmology): EisensteinHuScales {
  const omhh = c.omegaM * c.h * c.h;
  const obhh = c.omegaB * c.h * c.h;
  const fBaryon = c.omegaB / c.omegaM;
  const thetaCmb = c.tCmb / 2.7;
  const theta2 = thetaCmb * thetaCmb;
  const theta4 = theta2 * theta2;

  const zEquality = (2.5e4 * omhh) / theta4; // eq 2 (this is 1 + z_eq)
  const kEquality = (7.46e-2 * omhh) / theta2; // eq 3
  const b1 = 0.313 * Math.pow(omhh, -0.419) * (1 + 0.607 * Math.pow(omhh, 0.674));
  const b2 = 0.238 * Math.pow(omhh, 0.223);
  const zDrag =
    ((1291 * Math.pow(omhh, 0.251)) / (1 + 0.659 * Math.pow(omhh, 0.828))) * (1 + b1 * Math.pow(obhh, b2)); // eq 4
  // R = 3ρ_b/(4ρ_γ) = 31.5 Ω_b h² Θ⁻⁴ (1000/(1+z)), eq 5 with 1 + z as in the authors' tf_fit code.
  const rOf = (onePlusZ: number): number => ((31.5 * obhh) / theta4) * (1000 / onePlusZ);
  const rDrag = rOf(1 + zDrag);
  const rEquality = rOf(zEquality);
  const soundHorizon =
    (2 / (3 * kEquality)) *
    Math.sqrt(6 / rEquality) *
    Math.log((Math.sqrt(1 + rDrag) + Math.sqrt(rDrag + rEquality)) / (1 + Math.sqrt(rEquality))); // eq 6
  const kSilk = 1.6 * Math.pow(obhh, 0.52) * Math.pow(omhh, 0.73) * (1 + Math.pow(10.4 * omhh, -0.95)); // eq 7

  const a1 = Math.pow(46.9 * omhh, 0.67) * (1 + Math.pow(32.1 * omhh, -0.532));
  const a2 = Math.pow(12.0 * omhh, 0.424) * (1 + Math.pow(45.0 * omhh, -0.582));
  const alphaC = Math.pow(a1, -fBaryon) * Math.pow(a2, -(fBaryon * fBaryon * fBaryon)); // eq 11
  const bc1 = 0.944 / (1 + Math.pow(458 * omhh, -0.708));
  const bc2 = Math.pow(0.395 * omhh, -0.0266);
  const betaC = 1 / (1 + bc1 * (Math.pow(1 - fBaryon, bc2) - 1)); // eq 12

  const y = zEquality / (1 + zDrag);
  const sy = Math.sqrt(1 + y);
  const gY = y * (-6 * sy + (2 + 3 * y) * Math.log((sy + 1) / (sy - 1))); // eq 15
  const alphaB = 2.07 * kEquality * soundHorizon * Math.pow(1 + rDrag, -0.75) * gY; // eq 14
  const betaB = 0.5 + fBaryon + (3 - 2 * fBaryon) * Math.sqrt(Math.pow(17.2 * omhh, 2) + 1); // eq 24
  const betaNode = 8.41 * Math.pow(omhh, 0.435); // eq 23

  const soundHorizonFit = (44.5 * Math.log(9.83 / omhh)) / Math.sqrt(1 + 10 * Math.pow(obhh, 0.75)); // eq 26
  const alphaGamma =
    1 - 0.328 * Math.log(431 * omhh) * fBaryon + 0.38 * Math.log(22.3 * omhh) * fBaryon * fBaryon; // eq 31

  return Object.freeze({
    omhh,
    obhh,
    fBaryon,
    thetaCmb,
    zEquality,
    kEquality,
    zDrag,
    rDrag,
    rEquality,
    soundHorizon,
    kSilk,
    alphaC,
    betaC,
    alphaB,
    betaB,
    betaNode,
    soundHorizonFit,
    alphaGamma,
  });
}

/** sin(x)/x with its Taylor series where the quotient loses digits. */
function sinc(x: number): number {
  if (Math.abs(x) < 1e-3) {
    const x2 = x * x;
    return 1 - (x2 / 6) * (1 - x2 / 20);
  }
  return Math.sin(x) / x;
}

/** T̃_0(q, α_c, β_c), eqs 19–20. */
function pressurelessT0(q: number, alphaC: number, betaC: number): number {
  const l = Math.log(Math.E + 1.8 * betaC * q);
  const cq = 14.2 / alphaC + 386 / (1 + 69.9 * Math.pow(q, 1.08));
  return l / (l + cq * q * q);
}

/** Full EH98 transfer function at k in Mpc⁻¹ (eqs 16–24). */
function fullTransfer(s: EisensteinHuScales, k: number): number {
  const q = k / (13.41 * s.kEquality); // eq 10
  const ks = k * s.soundHorizon;

  // CDM, eqs 17–20: interpolate between the unsuppressed and suppressed forms around k s ≈ 5.4.
  const ks54 = ks / 5.4;
  const fInterp = 1 / (1 + ks54 * ks54 * ks54 * ks54); // eq 18
  const tc = fInterp * pressurelessT0(q, 1, s.betaC) + (1 - fInterp) * pressurelessT0(q, s.alphaC, s.betaC); // eq 17

  // Baryons, eqs 21–22: shifted acoustic oscillation with node shift s̃ and Silk damping.
  const bn = s.betaNode / ks;
  const sTilde = s.soundHorizon / Math.cbrt(1 + bn * bn * bn); // eq 22
  const ks52 = ks / 5.2;
  const bb = s.betaB / ks;
  const tb =
    sinc(k * sTilde) *
    (pressurelessT0(q, 1, 1) / (1 + ks52 * ks52) +
      (s.alphaB / (1 + bb * bb * bb)) * Math.exp(-Math.pow(k / s.kSilk, 1.4))); // eq 21

  return s.fBaryon * tb + (1 - s.fBaryon) * tc; // eq 16
}

/** No-wiggle EH98 transfer function at k in Mpc⁻¹ (eqs 28–31). */
function noWiggleTransfer(s: EisensteinHuScales, k: number): number {
  const x = 0.43 * k * s.soundHorizonFit;
  const x2 = x * x;
  // Γ_eff h, so that q = k[Mpc⁻¹] Θ² / (Γ_eff h) equals the paper's k[h/Mpc] Θ² / Γ_eff (eqs 28, 30).
  const gammaEffH = s.omhh * (s.alphaGamma + (1 - s.alphaGamma) / (1 + x2 * x2));
  const q = (k * s.thetaCmb * s.thetaCmb) / gammaEffH;
  const l0 = Math.log(2 * Math.E + 1.8 * q); // eq 29
  const c0 = 14.2 + 731 / (1 + 62.5 * q);
  return l0 / (l0 + c0 * q * q);
}

interface ScalesCacheEntry {
  readonly omegaM: number;
  readonly omegaB: number;
  readonly h: number;
  readonly tCmb: number;
  readonly scales: EisensteinHuScales;
}

// Keyed by object identity, re-validated on the parameters the fit uses, so a caller that
// mutates a plain-object cosmology never sees stale scales.
const scalesCache = new WeakMap<Cosmology, ScalesCacheEntry>();

function cachedScales(c: Cosmology): EisensteinHuScales {
  const e = scalesCache.get(c);
  if (e && e.omegaM === c.omegaM && e.omegaB === c.omegaB && e.h === c.h && e.tCmb === c.tCmb)
    return e.scales;
  const scales = eisensteinHuScales(c);
  scalesCache.set(c, { omegaM: c.omegaM, omegaB: c.omegaB, h: c.h, tCmb: c.tCmb, scales });
  return scales;
}

/**
 * EH98 transfer function T(k), normalised to T → 1 as k → 0, at k in h/Mpc.
 * Throws a RangeError for negative or non-finite k.
 */
export function transferFunction(c: Cosmology, k: number, model: TransferModel = "eisenstein-hu"): number {
  if (!(k >= 0) || !Number.isFinite(k))
    throw new RangeError(`wavenumber must be finite and >= 0 h/Mpc, got ${k}`);
  if (k === 0) return 1;
  const s = cachedScales(c);
  const kMpc = k * c.h;
  switch (model) {
    case "eisenstein-hu":
      return fullTransfer(s, kMpc);
    case "eisenstein-hu-nowiggle":
      return noWiggleTransfer(s, kMpc);
    default:
      throw new RangeError(`unknown transfer model ${String(model)}`);
  }
}
