/**
 * Scale-dependent comparison of a predicted field with a reference (Kodi Ramanah, Charnock &
 * Lavaux 2019, eqs 6.3–6.5), shell by shell from one cross-power pass:
 *   transfer function  T(k) = sqrt(P_pred / P_ref),
 *   correlation        r_c(k) = P_pred×ref / sqrt(P_pred P_ref),
 *   stochasticity      s(k) = P_ref (1 − r_c²), the reference power the prediction cannot explain.
 * Shot noise, when given, is subtracted from both autos before forming the ratios.
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

export function compareFields(
  predicted: Float32Array,
  reference: Float32Array,
  shape: GridShape,
  options: PowerSpectrumOptions,
): FieldComparison {
  const t = crossPowerSpectrum(predicted, reference, shape, options);
  const m = t.k.length;
  const transfer = new Float64Array(m);
  const stochasticity = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    transfer[i] = Math.sqrt(t.powerA[i] / t.powerB[i]);
    stochasticity[i] = t.powerB[i] * (1 - t.correlation[i] * t.correlation[i]);
  }
  return {
    k: t.k,
    modes: t.modes,
    powerPredicted: t.powerA,
    powerReference: t.powerB,
    cross: t.power,
    transfer,
    correlation: t.correlation,
    stochasticity,
  };
}
