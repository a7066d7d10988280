/**
 * Flat ΛCDM background cosmology: parameters and the expansion history.
 *
 * The background ignores radiation (Ω_r ≈ 9e-5 changes E(z) by < 0.1% for z < 10, and the
 * 2LPT/halo pipeline works at z ≲ 5); T_CMB is only used by the transfer function.
 * Curvature is zero, so Ω_Λ = 1 − Ω_m.
 */

export interface Cosmology {
  /** Total matter density today, Ω_m (CDM + baryons). */
  omegaM: number;
  /** Baryon density today, Ω_b (< Ω_m). */
  omegaB: number;
  /** Dimensionless Hubble constant, H0 = 100 h km/s/Mpc. */
  h: number;
  /** rms linear density contrast in top-hat spheres of 8 Mpc/h at z = 0. */
  sigma8: number;
  /** Scalar spectral index of the primordial power spectrum. */
  nS: number;
  /** CMB temperature today in K (2.7255, Fixsen 2009). */
  tCmb: number;
}

/** The halo painter paper's cosmology (Kodi Ramanah et al. 2019). */
export const DEFAULT_COSMOLOGY: Cosmology = Object.freeze({
  omegaM: 0.315,
  omegaB: 0.049,
  h: 0.68,
  sigma8: 0.81,
  nS: 0.97,
  tCmb: 2.7255,
});

function requireFinite(name: keyof Cosmology, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`cosmology parameter ${name} must be a finite number, got ${String(value)}`);
  }
}

/**
 * Returns a frozen, validated cosmology: the defaults with `overrides` applied.
 * Throws a RangeError naming the first offending parameter.
 */
export function makeCosmology(overrides: Partial<Cosmology> = {}): Cosmology {
  const c: Cosmology = { ...DEFAULT_COSMOLOGY, ...overrides };
  for (const name of ["omegaM", "omegaB", "h", "sigma8", "nS", "tCmb"] as const) requireFinite(name, c[name]);
  if (!(c.omegaM > 0 && c.omegaM <= 1)) {
    throw new RangeError(`cosmology parameter omegaM must be in (0, 1] for flat ΛCDM, got ${c.omegaM}`);
  }
  if (!(c.omegaB > 0 && c.omegaB < c.omegaM)) {
    throw new RangeError(`cosmology parameter omegaB must be in (0, omegaM = ${c.omegaM}), got ${c.omegaB}`);
  }
  if (!(c.h > 0 && c.h < 10)) throw new RangeError(`cosmology parameter h must be in (0, 10), got ${c.h}`);
  if (!(c.sigma8 > 0)) throw new RangeError(`cosmology parameter sigma8 must be > 0, got ${c.sigma8}`);
  if (!(c.nS > 0 && c.nS < 3)) throw new RangeError(`cosmology parameter nS must be in (0, 3), got ${c.nS}`);
  if (!(c.tCmb > 0)) throw new RangeError(`cosmology parameter tCmb must be > 0 K, got ${c.tCmb}`);
  return Object.freeze(c);
}

function requireRedshift(z: number): void {
  if (!(z > -1) || !Number.isFinite(z)) throw new RangeError(`redshift must be finite and > -1, got ${z}`);
}

/** E(z) = H(z)/H0 = sqrt(Ω_m (1+z)³ + Ω_Λ) for flat ΛCDM without radiation. */
export function hubbleE(c: Cosmology, z: number): number {
  requireRedshift(z);
  const zp1 = 1 + z;
  return Math.sqrt(c.omegaM * zp1 * zp1 * zp1 + (1 - c.omegaM));
}

/** Ω_m(z) = Ω_m (1+z)³ / E(z)². */
export function omegaMAt(c: Cosmology, z: number): number {
  requireRedshift(z);
  const zp1 = 1 + z;
  const m = c.omegaM * zp1 * zp1 * zp1;
  return m / (m + (1 - c.omegaM));
}
