/**
 * Sample orientation: each GAN sample i is put under one of the 48 cube symmetries (axis
 * permutations × reflections, models/painter/cube-symmetry.ts), drawn from (seed, i) alone.
 *
 * Why. The N-body training cubes are augmented with all 48 symmetries, so the target
 * distribution P is invariant under them; a generator Q is not — its transposed convolutions and
 * zero-padded faces lock part of its structure to preferred voxels and directions, the same in
 * every sample (`validate gan`'s mean field, check (d)). The symmetrised mixture
 * Q̄ = (1/48) Σ_g g·Q is at least as close to P as Q in any convex divergence, e.g.
 * KL(Q̄‖P) ≤ (1/48) Σ_g KL(g·Q‖g·P) = KL(Q‖P), and strictly closer when Q is not symmetric.
 * Each sample's P(k) shells, voxel PDF and bispectrum are unchanged (a cube symmetry maps
 * |k| to |k| and permutes voxels); what changes is what samples share: the part of the shared
 * pattern that is not itself symmetric no longer lines up from sample to sample. The symmetric
 * part (e.g. a depleted face on all six faces) stays.
 *
 * Streams: the draw is keyed like the latents (models/gan/latent.ts) on a stream of its own,
 * so it does not depend on batches, workers or shards, and the latents are unchanged.
 */
import { VoxelStream } from "../../cosmo/halo-sampling.js";
import { applySymmetry, CUBE_SYMMETRIES, inverseSymmetry } from "../painter/cube-symmetry.js";
import { LATENT_STREAM_ORIENTATION } from "./latent.js";

/** "random": sample i under symmetry sampleSymmetryIndex(seed, i); "generator": as drawn. */
export type SampleOrientation = "random" | "generator";
export const SAMPLE_ORIENTATIONS: readonly SampleOrientation[] = ["random", "generator"];
export const ORIENTATION_ALGORITHM = `CUBE_SYMMETRIES[⌊48·u⌋], u the first uniform of VoxelStream(seed, ${LATENT_STREAM_ORIENTATION}, i)`;

const stream = new VoxelStream();

/** Index into CUBE_SYMMETRIES of sample i's orientation (training draws on a stream of its own). */
export function sampleSymmetryIndex(seed: number, i: number, streamId = LATENT_STREAM_ORIENTATION): number {
  const n = CUBE_SYMMETRIES.length;
  return Math.min(n - 1, Math.floor(stream.reset(seed, streamId, i).uniform() * n));
}

/**
 * Orients, in place, `rows` consecutive samples of side `side` held in `values`, the first
 * being sample `first` of the ensemble drawn with `seed`; "generator" leaves them as they are.
 */
export function orientSamples(
  values: Float32Array,
  side: number,
  seed: number,
  first: number,
  rows: number,
  orientation: SampleOrientation,
): void {
  const s3 = side ** 3;
  if (values.length !== rows * s3)
    throw new RangeError(`${values.length} values are not ${rows} samples of ${side}³`);
  if (orientation === "generator") return;
  const scratch = new Float32Array(s3);
  for (let r = 0; r < rows; r++) {
    const g = sampleSymmetryIndex(seed, first + r);
    if (g === 0) continue; // the identity
    const cube = values.subarray(r * s3, (r + 1) * s3);
    cube.set(applySymmetry(cube, side, CUBE_SYMMETRIES[g], 1, scratch));
  }
}

/**
 * A loss of a batch of fields measured on the fields under the symmetries `indices` (one per
 * field): L(Pc) with P the permutation of voxels, whose gradient with respect to c is Pᵀ∇L(Pc),
 * each field's gradient put back under the inverse symmetry. Training's statistics term uses it
 * (train gan --stats-orientation random) so that it sees the batch as sample-gan draws it.
 */
export function evaluateUnderSymmetries<T extends { gradient: Float32Array }>(
  c: Float32Array,
  side: number,
  indices: readonly number[],
  evaluate: (oriented: Float32Array) => T,
): T {
  const s3 = side ** 3;
  if (c.length !== indices.length * s3)
    throw new RangeError(`${c.length} values are not ${indices.length} fields of ${side}³`);
  const field = (a: Float32Array, r: number) => a.subarray(r * s3, (r + 1) * s3);
  const oriented = new Float32Array(c.length);
  indices.forEach((g, r) => applySymmetry(field(c, r), side, CUBE_SYMMETRIES[g], 1, field(oriented, r)));
  const result = evaluate(oriented);
  const gradient = new Float32Array(c.length);
  indices.forEach((g, r) =>
    applySymmetry(field(result.gradient, r), side, inverseSymmetry(CUBE_SYMMETRIES[g]), 1, field(gradient, r)),
  );
  return { ...result, gradient };
}
