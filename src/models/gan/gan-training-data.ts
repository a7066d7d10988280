/**
 * The GAN's training data: N-body density sub-volumes from `mocksmith nbody` / `nbody-set`
 * simulations (nbody_delta_zZ.npy, δ on the voxel grid), scaled to c = 2ρ/(ρ + κ) − 1 with
 * ρ = 1 + δ (./data-scaling.ts). Each training sample is a periodic sub-cube of the generator's
 * side at a random corner of a random simulation (and, for a cGAN, a random one of the
 * redshifts), under a random one of the 48 cube symmetries — all drawn from a counter-based
 * stream keyed by (seed, step·batch + b), so a resumed run draws what an uninterrupted one would.
 */
import fs from "node:fs";
import path from "node:path";
import { VoxelStream } from "../../cosmo/halo-sampling.js";
import { InputError } from "../../io/atomic-file.js";
import { sha256File } from "../../io/checksum.js";
import { readGridMetadata } from "../../io/grid-metadata.js";
import { readNpyFloat32, requireCubicGrid } from "../../io/npy.js";
import { applySymmetry, CUBE_SYMMETRIES } from "../painter/cube-symmetry.js";
import { extractPeriodicCube } from "../painter/training-data.js";
import { scaleDensityArray } from "./data-scaling.js";

export const STREAM_GAN_CUBES = 0x6a4e0001;

export interface GanSimulation {
  directory: string;
  side: number;
  /** Scaled density c, one C-order grid per redshift (in the order of GanDataSet.redshifts). */
  scaled: Float32Array[];
  manifestSha256: string;
}

export interface GanDataSet {
  voxelSize: number;
  redshifts: number[];
  kappa: number;
  sims: GanSimulation[];
}

/** The sim-NNN/ directories (with a manifest.json) of a data directory, sorted. */
export function simulationDirectories(root: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    throw new InputError(root, "cannot read the data directory");
  }
  return entries
    .filter((e) => /^sim-\d+$/.test(e) && fs.existsSync(path.join(root, e, "manifest.json")))
    .sort()
    .map((e) => path.join(root, e));
}

/** Relative tolerance on voxel sizes compared between grids (and with a model card). */
export const VOXEL_TOLERANCE = 1e-6;

/** The N-body density contrast grid of a simulation at redshift z (`mocksmith nbody`). */
export function nbodyDensityFile(dir: string, z: number): string {
  return path.join(dir, `nbody_delta_z${z.toFixed(3)}.npy`);
}

export function loadGanDataSet(options: {
  data: readonly string[];
  redshifts: readonly number[];
  kappa: number;
  side: number;
}): GanDataSet {
  const dirs = options.data.flatMap(simulationDirectories);
  if (dirs.length === 0)
    throw new InputError(
      options.data.join(", "),
      "no simulations found (expected sim-NNN/ directories with a manifest.json, made by `mocksmith nbody-set`)",
    );
  let voxel = 0;
  const sims = dirs.map((dir): GanSimulation => {
    let side = 0;
    const scaled = options.redshifts.map((z) => {
      const file = nbodyDensityFile(dir, z);
      if (!fs.existsSync(file))
        throw new InputError(file, `missing (run \`mocksmith nbody\` with --z including ${z})`);
      const { data, shape } = readNpyFloat32(file);
      const n = requireCubicGrid(file, shape);
      const meta = readGridMetadata(file);
      if (!meta) throw new InputError(file, "has no sidecar (.json) giving its box size");
      const v = meta.boxSize / n;
      if (voxel === 0) voxel = v;
      else if (Math.abs(v - voxel) > VOXEL_TOLERANCE * voxel)
        throw new InputError(
          file,
          `voxel size ${v} Mpc/h differs from ${voxel} Mpc/h of the first simulation`,
        );
      if (n < options.side)
        throw new InputError(
          file,
          `grid side ${n} is smaller than the generator's output side ${options.side}`,
        );
      if (side !== 0 && n !== side)
        throw new InputError(file, `grid side ${n} differs from ${side} at another redshift`);
      side = n;
      for (let i = 0; i < data.length; i++) data[i] += 1;
      return scaleDensityArray(data, options.kappa);
    });
    return { directory: dir, side, scaled, manifestSha256: sha256File(path.join(dir, "manifest.json")) };
  });
  return { voxelSize: voxel, redshifts: [...options.redshifts], kappa: options.kappa, sims };
}

const uniformInt = (s: VoxelStream, n: number): number => Math.min(n - 1, Math.floor(s.uniform() * n));

/** Real samples first … first + batch − 1: scaled cubes (B, S, S, S) and their redshifts (B). */
export function realBatch(
  set: GanDataSet,
  seed: number,
  first: number,
  batch: number,
  side: number,
): { cubes: Float32Array; redshifts: Float32Array } {
  const cubes = new Float32Array(batch * side ** 3);
  const redshifts = new Float32Array(batch);
  const s = new VoxelStream();
  for (let b = 0; b < batch; b++) {
    s.reset(seed, STREAM_GAN_CUBES, first + b);
    const sim = set.sims[uniformInt(s, set.sims.length)];
    const zi = uniformInt(s, set.redshifts.length);
    const n = sim.side;
    const origin: [number, number, number] = [uniformInt(s, n), uniformInt(s, n), uniformInt(s, n)];
    const sym = CUBE_SYMMETRIES[uniformInt(s, CUBE_SYMMETRIES.length)];
    cubes.set(applySymmetry(extractPeriodicCube(sim.scaled[zi], n, origin, side), side, sym), b * side ** 3);
    redshifts[b] = set.redshifts[zi];
  }
  return { cubes, redshifts };
}
