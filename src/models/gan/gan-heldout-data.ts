/**
 * Held-out N-body density sub-volumes for validating a GAN: each held-out simulation's density
 * grid (nbody_delta_zZ.npy of `mocksmith nbody` / `nbody-set`, read as train gan reads its
 * training data, ρ = 1 + δ) is cut into ⌊n/S⌋³ non-overlapping cubes of the generator's side S at
 * origins (i S, j S, k S) — the cut train gan makes at random corners, here on a fixed lattice
 * and without symmetry transforms, so no voxel is used twice.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../io/atomic-file.js";
import { sha256File } from "../../io/checksum.js";
import { readGridMetadata } from "../../io/grid-metadata.js";
import { readNpyFloat32, requireCubicGrid } from "../../io/npy.js";
import { extractPeriodicCube } from "../painter/training-data.js";
import { nbodyDensityFile, simulationDirectories, VOXEL_TOLERANCE } from "./gan-training-data.js";

export interface HeldOutSimulation {
  directory: string;
  file: string;
  side: number;
  boxSize: number;
  /** Sub-volumes cut from it. */
  cubes: number;
  /** sha256 of its manifest.json (which records the checksums of its files). */
  manifestSha256: string;
}

export interface HeldOutSubVolumes {
  /** ρ/ρ̄ cubes of side `side`, C order. */
  fields: Float32Array[];
  side: number;
  voxelSize: number;
  simulations: HeldOutSimulation[];
  /** Index into `simulations` of each field (cubes of one simulation share its large scales). */
  simulation: number[];
}

export function loadHeldOutSubVolumes(options: {
  data: readonly string[];
  redshift: number;
  side: number;
  /** Required voxel size, Mpc/h; undefined: the first simulation's, which the others must share. */
  voxelSize?: number;
}): HeldOutSubVolumes {
  const { side } = options;
  let voxelSize = options.voxelSize;
  for (const d of options.data) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(d);
    } catch {
      throw new InputError(d, "held-out data directory does not exist");
    }
    if (!stat.isDirectory()) throw new InputError(d, "is not a directory");
  }
  const dirs = options.data.flatMap(simulationDirectories);
  if (dirs.length === 0)
    throw new InputError(
      options.data.join(", "),
      "no simulations found (expected sim-NNN/ directories with a manifest.json, made by `mocksmith nbody-set`)",
    );
  const fields: Float32Array[] = [];
  const simulation: number[] = [];
  const simulations = dirs.map((dir, index): HeldOutSimulation => {
    const file = nbodyDensityFile(dir, options.redshift);
    if (!fs.existsSync(file))
      throw new InputError(file, `missing (run \`mocksmith nbody\` with --z including ${options.redshift})`);
    const meta = readGridMetadata(file);
    if (!meta) throw new InputError(file, "has no sidecar (.json) giving its box size");
    const { data, shape } = readNpyFloat32(file);
    const n = requireCubicGrid(file, shape);
    const v = meta.boxSize / n;
    voxelSize ??= v;
    if (Math.abs(v - voxelSize) > VOXEL_TOLERANCE * voxelSize)
      throw new InputError(
        file,
        `voxel size ${v} Mpc/h (box ${meta.boxSize} Mpc/h over ${n}³) differs from ${options.voxelSize === undefined ? "the first simulation's" : "the GAN's"} ${voxelSize} Mpc/h`,
      );
    if (n < side)
      throw new InputError(file, `grid side ${n} is smaller than the generator's output side ${side}`);
    for (let i = 0; i < data.length; i++) data[i] += 1;
    const per = Math.floor(n / side);
    for (let i = 0; i < per; i++)
      for (let j = 0; j < per; j++)
        for (let k = 0; k < per; k++) {
          fields.push(extractPeriodicCube(data, n, [i * side, j * side, k * side], side));
          simulation.push(index);
        }
    return {
      directory: dir,
      file: path.basename(file),
      side: n,
      boxSize: meta.boxSize,
      cubes: per ** 3,
      manifestSha256: sha256File(path.join(dir, "manifest.json")),
    };
  });
  return { fields, side, voxelSize: voxelSize as number, simulations, simulation };
}
