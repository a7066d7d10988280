/**
 * Gaussian white noise keyed by (seed, voxel index): the value of voxel i depends on nothing but
 * the seed and i, so a field is identical whatever the thread count, tiling or sharding, and any
 * sub-volume can be regenerated alone.
 *
 * Algorithm (fixed; changing it changes every field ever generated — bump NOISE_ALGORITHM):
 *   h(x)        = Wellons' "triple32" integer hash (bijective on 32 bits, near-ideal avalanche)
 *   stream(s,j) = h(j ^ h(s ^ 0x9e3779b9))           j = floor(i / 2^32), s a uint32 seed
 *   k           = h(lo32(i) ^ stream(s, j))
 *   u           = (k + 0.5) / 2^32                                        ∈ (0, 1)
 *   in the tails (k < 2^24 or k ≥ 2^32 − 2^24) u gains 21 more bits from m = h(k ^ 0x68e31da4):
 *   u           = (k·2^21 + (m >>> 11) + 0.5) / 2^53                      (reaches 8.3σ)
 *   w           = Φ⁻¹(u)                                                  (AS 241, normal-quantile.ts)
 */
import { normalQuantile } from "./normal-quantile.js";

export const NOISE_ALGORITHM = "triple32-quantile-v1";

/** Chris Wellons' triple32 (hash-prospector), a 32-bit bijective mixer. */
export function triple32(x: number): number {
  x ^= x >>> 17;
  x = Math.imul(x, 0xed5ad4bb);
  x ^= x >>> 11;
  x = Math.imul(x, 0xac4c1b51);
  x ^= x >>> 15;
  x = Math.imul(x, 0x31848bab);
  x ^= x >>> 14;
  return x >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_21 = 2097152;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const INV_TWO_POW_53 = 1 / 9007199254740992;
const TAIL = 16777216; // 2^24: u < 2^-8 or u > 1 − 2^-8

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return seed >>> 0;
}

function streamKey(seed: number, block: number): number {
  return triple32((block ^ triple32((seed ^ 0x9e3779b9) >>> 0)) >>> 0);
}

function gaussianFromKey(k: number): number {
  let u: number;
  if (k < TAIL || k >= TWO_POW_32 - TAIL) {
    const m = triple32((k ^ 0x68e31da4) >>> 0);
    u = (k * TWO_POW_21 + (m >>> 11) + 0.5) * INV_TWO_POW_53;
  } else {
    u = (k + 0.5) * INV_TWO_POW_32;
  }
  return normalQuantile(u);
}

/** The unit Gaussian of voxel `index` (flat C-order index, < 2^53) for `seed`. */
export function gaussianAt(seed: number, index: number): number {
  const block = Math.floor(index * INV_TWO_POW_32);
  const lo = index - block * TWO_POW_32;
  return gaussianFromKey(triple32((lo ^ streamKey(checkSeed(seed), block)) >>> 0));
}

/**
 * Fills `out[j]` with the Gaussian of flat index `start + j`. Filling any sub-range gives the
 * same values as filling the whole grid, which is what makes sharding and tiling exact.
 */
export function fillWhiteNoise(seed: number, out: Float32Array, start = 0): Float32Array {
  const s = checkSeed(seed);
  let j = 0;
  while (j < out.length) {
    const index = start + j;
    const block = Math.floor(index * INV_TWO_POW_32);
    const lo0 = index - block * TWO_POW_32;
    const stream = streamKey(s, block);
    const count = Math.min(out.length - j, TWO_POW_32 - lo0);
    for (let t = 0; t < count; t++) out[j + t] = gaussianFromKey(triple32(((lo0 + t) ^ stream) >>> 0));
    j += count;
  }
  return out;
}
