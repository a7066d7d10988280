/**
 * Scale-dependent comparison of a predicted field with a reference (Kodi Ramanah, Charnock &
 * Lavaux 2019, eqs 6.3–6.5), shell by shell from one cross-power pass:
 *   transfer function  T(k) = sqrt(P_pred / P_ref),
 *   correlation        r_c(k) = P_pred×ref / sqrt(P_pred P_ref),
 *   stochasticity      s(k) = P_ref (1 − r_c²), the reference power the prediction cannot explain.
 * Shot noise, when given, is subtracted from the autos before forming the ratios: `shotNoise`
 * from both, or `shotNoisePredicted` / `shotNoiseReference` from one each (a Poisson-sampled
 * reference against a noiseless mean-field prediction carries noise on one side only). The cross
 * spectrum of the two carries none when their noises are independent.
 */
import type { GridShape } from "./fft/real-fft3d.js";
import { crossPowerSpectrum, type PowerSpectrumOptions } from "./power-spectrum.js";

export interface FieldComparison {
  /** Mean |k| per shell, h/Mpc. */
  k: Float64Array;
  modes: Float64Array;
  powerPredicted: Float64Array;
  powerReference: Float64Array;
  cross: Float64Array;
  transfer: Float64Array;
  correlation: Float64Array;
  /** (Mpc/h)^3. */
  stochasticity: Float64Array;
}

export interface FieldComparisonOptions extends PowerSpectrumOptions {
  /** Subtracted from the predicted auto spectrum instead of `shotNoise`, (Mpc/h)^3. */
  shotNoisePredicted?: number;
  /** Subtracted from the reference auto spectrum instead of `shotNoise`, (Mpc/h)^3. */
  shotNoiseReference?: number;
}

/** T, r_c and s from auto and cross spectra already corrected for shot noise (eqs 6.3–6.5). */
export function comparisonFromSpectra(
  k: Float64Array,
  modes: Float64Array,
  powerPredicted: Float64Array,
  powerReference: Float64Array,
  cross: Float64Array,
): FieldComparison {
  const m = k.length;
  const transfer = new Float64Array(m);
  const correlation = new Float64Array(m);
  const stochasticity = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    transfer[i] = Math.sqrt(powerPredicted[i] / powerReference[i]);
    correlation[i] = cross[i] / Math.sqrt(powerPredicted[i] * powerReference[i]);
    stochasticity[i] = powerReference[i] * (1 - correlation[i] * correlation[i]);
  }
  return { k, modes, powerPredicted, powerReference, cross, transfer, correlation, stochasticity };
}

export function compareFields(
  predicted: Float32Array,
  reference: Float32Array,
  shape: GridShape,
  options: FieldComparisonOptions,
): FieldComparison {
  const { shotNoisePredicted, shotNoiseReference, ...spectrum } = options;
  const t = crossPowerSpectrum(predicted, reference, shape, { ...spectrum, shotNoise: 0 });
  const both = options.shotNoise ?? 0;
  const sp = shotNoisePredicted ?? both;
  const sr = shotNoiseReference ?? both;
  if (!Number.isFinite(sp) || !Number.isFinite(sr))
    throw new RangeError(`shot noise must be a finite number of (Mpc/h)^3, got ${sp} and ${sr}`);
  return comparisonFromSpectra(
    t.k,
    t.modes,
    t.powerA.map((v) => v - sp),
    t.powerB.map((v) => v - sr),
    t.power,
  );
}
