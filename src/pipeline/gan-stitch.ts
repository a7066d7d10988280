/**
 * `sample-gan --stitch n`: the n³ samples tiled into one (nS)³ volume, sample i at tile
 * (tx, ty, tz) with i = (tx·n + ty)·n + tz (C order, like the voxels), voxel [tx·S + x][ty·S + y]
 * [tz·S + z] = sample i's [x][y][z].
 *
 * Boundary treatment: plain tiling, no overlap or blending. The samples are independent draws,
 * uncorrelated with each other, so the stitched field is discontinuous at every tile face and has
 * no modes longer than a tile beyond those of independent tiles. Blending overlapping margins would
 * hide the seams visually but averaging two independent fields lowers the variance and changes the
 * one-point PDF and P(k) in the blend zone, a less visible and less honest artefact; tiling keeps
 * every voxel a GAN output. The seams are measured (../cosmo/tile-seams.ts) and recorded in the
 * sidecar, so a user sees how sharp they are.
 */
import { writeGridMetadata, makeGridMetadata, type GridMetadata } from "../io/grid-metadata.js";
import { writeNpyFloat32 } from "../io/npy.js";
import { tileSeamStats, type SeamStats } from "../cosmo/tile-seams.js";
import type { GanSamplesSidecar } from "./gan-sampling.js";

export const STITCHED_FILE = "stitched.npy";

export const STITCH_TREATMENT =
  "plain tiling of independent samples (no overlap, no blending): the field is discontinuous at tile faces";

export interface StitchResult {
  file: string;
  sidecar: string;
  side: number;
  seams: SeamStats;
}

/** Copies sample `index` (S³, C order) into its tile of the (nS)³ volume. */
export function placeTile(
  volume: Float32Array,
  n: number,
  s: number,
  index: number,
  tile: Float32Array,
): void {
  const big = n * s;
  const tx = Math.floor(index / (n * n));
  const ty = Math.floor(index / n) % n;
  const tz = index % n;
  for (let x = 0; x < s; x++)
    for (let y = 0; y < s; y++) {
      const to = ((tx * s + x) * big + ty * s + y) * big + tz * s;
      volume.set(tile.subarray((x * s + y) * s, (x * s + y + 1) * s), to);
    }
}

/** The stitched volume's grid sidecar, before the seam statistics are added. */
export function stitchedSidecar(samples: GanSamplesSidecar, n: number): GridMetadata {
  const side = n * samples.shape[1];
  return makeGridMetadata({
    kind: samples.quantity,
    shape: [side, side, side],
    boxSize: n * samples.boxSize,
    redshift: samples.redshift,
    // Tiles of independent, non-periodic samples: not a periodic field (the wrap is one more seam).
    periodic: false,
    seed: samples.seed,
    provenance: {
      command: "sample-gan --stitch",
      tiles: n,
      tileSide: samples.shape[1],
      order: "sample i = (tx·n + ty)·n + tz at voxel offset (tx, ty, tz)·tileSide",
      samples: "samples.npy",
      model: samples.model,
      latent: samples.latent,
      kappa: samples.kappa,
      voxelSize: samples.voxelSize,
      boundary: { treatment: STITCH_TREATMENT },
    },
  });
}

/** Measures the seams, writes the volume and its sidecar (each atomically). */
export function writeStitchedVolume(
  file: string,
  volume: Float32Array,
  n: number,
  s: number,
  meta: GridMetadata,
): StitchResult {
  const side = n * s;
  const seams = tileSeamStats(volume, side, s);
  const provenance = meta.provenance ?? {};
  const boundary = (provenance.boundary ?? {}) as Record<string, unknown>;
  const full: GridMetadata = {
    ...meta,
    provenance: {
      ...provenance,
      boundary: {
        ...boundary,
        measure:
          "mean squared difference of adjacent voxels across tile faces vs within tiles (ratio 1: no seam; uncorrelatedRatio: what independent tiles give)",
        artefacts: seams,
      },
    },
  };
  writeNpyFloat32(file, volume, [side, side, side]);
  const sidecar = writeGridMetadata(file, full);
  return { file, sidecar, side, seams };
}
