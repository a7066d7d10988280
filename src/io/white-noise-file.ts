/**
 * White noise supplied by another code (`mocksmith lpt --noise white.npy`): read as float32 and
 * checked for shape, finiteness and unit variance, so that a δ field or a grid of the wrong size
 * passed by mistake is refused with the file's name.
 */
import { InputError } from "./atomic-file.js";
import { readNpyFloat32 } from "./npy.js";

export function readWhiteNoise(file: string, expected: readonly number[]): Float32Array {
  const arr = readNpyFloat32(file, { shared: true });
  checkExternalNoise(file, arr.data, arr.shape, expected);
  return arr.data;
}

/** Validates externally supplied white noise (e.g. read from another code's .npy). */
export function checkExternalNoise(
  source: string,
  data: Float32Array,
  shape: readonly number[],
  expected: readonly number[],
): void {
  if (shape.length !== expected.length || shape.some((v, i) => v !== expected[i])) {
    throw new InputError(
      source,
      `white noise has shape (${shape.join(", ")}), expected (${expected.join(", ")})`,
    );
  }
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new InputError(source, `non-finite white-noise value at flat index ${i}`);
    sum += v;
    sum2 += v * v;
  }
  // The sample variance of n ≥ 512 unit Gaussians lies within 1 ± 0.3 with overwhelming probability
  // (σ = √(2/n) ≤ 0.0625); anything else is a field in other units (a δ field, say) passed by mistake.
  const n = data.length;
  const variance = sum2 / n - (sum / n) ** 2;
  if (n >= 512 && (variance < 0.7 || variance > 1.3)) {
    throw new InputError(source, `white noise must have unit variance, found ${variance.toPrecision(4)}`);
  }
}
