/**
 * The GAN's data scaling (Feder et al. 2020, eq. 1, after Rodríguez et al. 2018):
 *   c = 2ρ/(ρ + κ) − 1 = (ρ − κ)/(ρ + κ),   inverse ρ = κ (1 + c)/(1 − c),
 * which maps ρ ∈ [0, ∞) onto c ∈ [−1, 1) (ρ = κ ↦ 0), the range of the generator's tanh,
 * compressing the long high-density tail. κ = 45 is the paper's value at z = 0 for its density
 * units; here ρ is ρ/ρ̄ = 1 + δ of our grids, and κ is configurable (recorded in the model card).
 */

export const DEFAULT_KAPPA = 45;

/**
 * The largest c the inverse accepts: a tanh saturated in float32 gives exactly 1, which would
 * map to ρ = ∞; clamping at 1 − 1e-6 (as the PyTorch peer does) caps ρ at about 2·10⁶ κ.
 */
export const MAX_SCALED = 1 - 1e-6;

export function checkKappa(kappa: number): void {
  if (!(kappa > 0) || !Number.isFinite(kappa))
    throw new RangeError(`κ must be a positive number, got ${kappa}`);
}

export function scaleDensity(rho: number, kappa = DEFAULT_KAPPA): number {
  return (rho - kappa) / (rho + kappa);
}

export function unscaleDensity(c: number, kappa = DEFAULT_KAPPA): number {
  const x = Math.min(c, MAX_SCALED);
  return (kappa * (1 + x)) / (1 - x);
}

/**
 * The shift of the tanh layer's pre-activation y that carries a generator trained at κ₀ to κ
 * unchanged in ρ: ρ = κ e^{2y} (c = tanh y), so y + ½ ln(κ₀/κ) gives the same ρ at every voxel.
 */
export function kappaBiasShift(kappaThen: number, kappaNow: number): number {
  return 0.5 * Math.log(kappaThen / kappaNow);
}

/** In place: ρ (≥ 0) → c. */
export function scaleDensityArray(values: Float32Array, kappa = DEFAULT_KAPPA): Float32Array {
  checkKappa(kappa);
  for (let i = 0; i < values.length; i++) values[i] = scaleDensity(values[i], kappa);
  return values;
}

/**
 * In place: c → ρ, or δ = ρ − 1 with `offset` −1; ρ capped at `cap` (a GAN card's densityCap).
 * Why a cap: near c = 1 the inverse amplifies the generator's float error without bound
 * (dρ/dc = 2κ/(1 − c)²), and a handful of voxels a trained generator pushes to c ≈ 1 − 1e-5 —
 * ρ ~ 10⁵ κ, far beyond any N-body voxel — dominate P(k) and its variance as white noise.
 */
export function unscaleDensityArray(
  values: Float32Array,
  kappa = DEFAULT_KAPPA,
  offset = 0,
  cap = Infinity,
): Float32Array {
  checkKappa(kappa);
  if (!(cap > 0)) throw new RangeError(`density cap must be > 0, got ${cap}`);
  for (let i = 0; i < values.length; i++) values[i] = Math.min(unscaleDensity(values[i], kappa), cap) + offset;
  return values;
}
