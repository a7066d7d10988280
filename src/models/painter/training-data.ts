/**
 * Training pairs for the halo painter from simulations made by `mocksmith nbody` / `nbody-set`:
 * the 2LPT density contrast (input, normalised to ρ/ρ̄ = 1 + δ as the paper's code does) and the
 * halo counts on the same voxel grid (target; all haloes, or one channel per mass bin).
 *
 * Simulations are split into training and validation sets by simulation, never by patch, so a
 * validation score measures fields the network has not seen. Patches are drawn at random
 * positions (periodic wrap) and transformed by a random one of the 48 cube symmetries
 * (./cube-symmetry.ts), all from a counter-based stream keyed by (seed, purpose, step, sample):
 * the patches of step s do not depend on what was drawn before, so a resumed run draws exactly
 * the patches an uninterrupted one would.
 */
import fs from "node:fs";
import path from "node:path";
import { VoxelStream } from "../../cosmo/halo-sampling.js";
import { InputError } from "../../io/atomic-file.js";
import { sha256File } from "../../io/checksum.js";
import { readGridMetadata } from "../../io/grid-metadata.js";
import { readNpyFloat32, requireCubicGrid } from "../../io/npy.js";
import { applySymmetry, CUBE_SYMMETRIES } from "./cube-symmetry.js";
import type { ModelCardMassBin } from "../model-card.js";

export type MassBinChoice = "total" | "all";

export interface TrainingSimulation {
  /** The simulation directory as found (data root joined with sim-NNN). */
  directory: string;
  side: number;
  boxSize: number;
  /** ρ/ρ̄ = 1 + δ_2LPT, C order. */
  input: Float32Array;
  /** One grid per output channel, C order. */
  targets: Float32Array[];
  manifestSha256: string;
  /** Spacing of the 2LPT particles (box / particles per side, Mpc/h), when the sidecar says. */
  particleSpacing?: number;
}

export interface TrainingSet {
  /** Voxel side, Mpc/h (the same for every simulation). */
  voxelSize: number;
  redshift: number;
  channels: number;
  massBins: ModelCardMassBin[];
  /** The simulations' 2LPT particle spacing, Mpc/h (absent when a sidecar does not say). */
  inputParticleSpacing?: number;
  train: TrainingSimulation[];
  validation: TrainingSimulation[];
}

export interface TrainingSetOptions {
  /** Data roots, each holding sim-NNN directories with a manifest.json. */
  data: readonly string[];
  redshift: number;
  massBins: MassBinChoice;
  /** Validation simulations: a count (≥ 1 or 0 for none) or a fraction in (0, 1). */
  validation: number;
}

const VOXEL_TOLERANCE = 1e-6;

/** Simulation directories of a root, sorted by name. */
function simulationDirectories(root: string): string[] {
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

function readGrid(file: string): {
  data: Float32Array;
  side: number;
  boxSize: number;
  provenance?: Record<string, unknown>;
} {
  if (!fs.existsSync(file)) throw new InputError(file, "missing (expected from `mocksmith nbody`)");
  const { data, shape } = readNpyFloat32(file);
  const side = requireCubicGrid(file, shape);
  const meta = readGridMetadata(file);
  if (!meta) throw new InputError(file, "has no sidecar (.json) giving its box size");
  if (meta.shape.some((v) => v !== side))
    throw new InputError(file, `sidecar shape (${meta.shape.join(", ")}) differs from the array's`);
  return { data, side, boxSize: meta.boxSize, provenance: meta.provenance };
}

interface BinFile {
  file: string;
  bin: number | null;
}

function targetFiles(dir: string, tag: string, choice: MassBinChoice): BinFile[] {
  if (choice === "total") return [{ file: path.join(dir, `halo_counts_${tag}.npy`), bin: null }];
  const re = new RegExp(`^halo_counts_${tag.replace(/\./g, "\\.")}_bin(\\d+)\\.npy$`);
  const bins = fs
    .readdirSync(dir)
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (bins.length === 0)
    throw new InputError(dir, `no halo_counts_${tag}_binB.npy files for --mass-bins all`);
  return bins.map((b) => ({ file: path.join(dir, `halo_counts_${tag}_bin${b}.npy`), bin: b }));
}

function massBinOf(file: string, channel: number, bin: number | null): ModelCardMassBin {
  const range = readGridMetadata(file)?.provenance?.massRange;
  const bound = (v: unknown): number | null => (typeof v === "number" && v > 0 ? v : null);
  const [lo, hi] = Array.isArray(range) ? range : [null, null];
  return { channel, massBin: bin, minMass: bound(lo), maxMass: bound(hi) };
}

function loadSimulation(
  dir: string,
  tag: string,
  choice: MassBinChoice,
): {
  sim: TrainingSimulation;
  bins: ModelCardMassBin[];
} {
  const lpt = readGrid(path.join(dir, `lpt_delta_${tag}.npy`));
  // `mocksmith nbody` records the particle grid side in the sidecar's provenance.
  const particles = lpt.provenance?.gridSide;
  const input = lpt.data;
  for (let i = 0; i < input.length; i++) input[i] += 1;
  const files = targetFiles(dir, tag, choice);
  const targets = files.map(({ file }) => {
    const t = readGrid(file);
    if (t.side !== lpt.side || Math.abs(t.boxSize - lpt.boxSize) > VOXEL_TOLERANCE * lpt.boxSize)
      throw new InputError(
        file,
        `grid ${t.side}³ over ${t.boxSize} Mpc/h differs from the 2LPT input's ${lpt.side}³ over ${lpt.boxSize} Mpc/h`,
      );
    return t.data;
  });
  return {
    sim: {
      directory: dir,
      side: lpt.side,
      boxSize: lpt.boxSize,
      input,
      targets,
      manifestSha256: sha256File(path.join(dir, "manifest.json")),
      ...(typeof particles === "number" && particles > 0 ? { particleSpacing: lpt.boxSize / particles } : {}),
    },
    bins: files.map((f, c) => massBinOf(f.file, c, f.bin)),
  };
}

/** Number of validation simulations for `validation` (a count or a fraction) of `total`. */
export function validationCount(validation: number, total: number): number {
  const k = validation > 0 && validation < 1 ? Math.max(1, Math.round(validation * total)) : validation;
  if (!Number.isInteger(k) || k < 0)
    throw new InputError(
      "--validation-sims",
      `expected a count ≥ 0 or a fraction in (0, 1), got ${validation}`,
    );
  if (k >= total)
    throw new InputError(
      "--validation-sims",
      `${k} validation simulation(s) leave none of the ${total} for training`,
    );
  return k;
}

/**
 * Loads every simulation of the data roots and splits them: the last K (in root order, then by
 * name) validate, the rest train, so the split is a fixed choice of directories.
 */
export function loadTrainingSet(options: TrainingSetOptions): TrainingSet {
  const tag = `z${options.redshift.toFixed(3)}`;
  const dirs = options.data.flatMap(simulationDirectories);
  if (dirs.length === 0)
    throw new InputError(
      options.data.join(", "),
      "no simulations found (expected sim-NNN/ directories with a manifest.json, made by `mocksmith nbody-set`)",
    );
  const k = validationCount(options.validation, dirs.length);
  const sims: TrainingSimulation[] = [];
  let bins: ModelCardMassBin[] = [];
  for (const dir of dirs) {
    const { sim, bins: b } = loadSimulation(dir, tag, options.massBins);
    if (sims.length === 0) bins = b;
    const first = sims[0] ?? sim;
    const voxel = sim.boxSize / sim.side;
    const voxel0 = first.boxSize / first.side;
    if (Math.abs(voxel - voxel0) > VOXEL_TOLERANCE * voxel0)
      throw new InputError(
        dir,
        `voxel size ${voxel} Mpc/h (${sim.boxSize} / ${sim.side}) differs from ${voxel0} Mpc/h of ${first.directory}; all simulations must share one voxel size`,
      );
    if (b.length !== bins.length || b.some((x, i) => x.massBin !== bins[i].massBin))
      throw new InputError(dir, `mass bins differ from those of ${first.directory}`);
    const s0 = first.particleSpacing;
    if (
      (sim.particleSpacing === undefined) !== (s0 === undefined) ||
      (s0 !== undefined && Math.abs(sim.particleSpacing! - s0) > VOXEL_TOLERANCE * s0)
    )
      throw new InputError(
        dir,
        `2LPT particle spacing ${sim.particleSpacing ?? "(not recorded)"} Mpc/h differs from ${s0 ?? "(not recorded)"} Mpc/h of ${first.directory}; all simulations must share one particle spacing`,
      );
    sims.push(sim);
  }
  const first = sims[0];
  return {
    voxelSize: first.boxSize / first.side,
    redshift: options.redshift,
    channels: bins.length,
    massBins: bins,
    ...(first.particleSpacing !== undefined ? { inputParticleSpacing: first.particleSpacing } : {}),
    train: sims.slice(0, sims.length - k),
    validation: sims.slice(sims.length - k),
  };
}

/** One batch of patches, NDHWC: input (B, P, P, P, 1), target (B, P − 2·pad, …, C). */
export interface PatchBatch {
  batch: number;
  patch: number;
  targetSide: number;
  channels: number;
  input: Float32Array;
  target: Float32Array;
}

/** Where and how a patch is cut: simulation index, corner of the input patch, symmetry index. */
export interface PatchDraw {
  simulation: number;
  origin: [number, number, number];
  symmetry: number;
}

/** Purposes of the counter-based streams (the "bin" key of VoxelStream). */
export const STREAM_TRAINING_PATCHES = 0x7a110001;
export const STREAM_VALIDATION_PATCHES = 0x7a110002;
export const STREAM_CRITIC_EPSILON = 0x7a110003;

const uniformInt = (stream: VoxelStream, n: number): number =>
  Math.min(n - 1, Math.floor(stream.uniform() * n));

/** The draw of sample `index` (step × batch + b for training) of a stream. */
export function drawPatch(
  seed: number,
  purpose: number,
  index: number,
  sims: readonly TrainingSimulation[],
): PatchDraw {
  const s = new VoxelStream().reset(seed, purpose, index);
  const simulation = uniformInt(s, sims.length);
  const n = sims[simulation].side;
  const origin: [number, number, number] = [uniformInt(s, n), uniformInt(s, n), uniformInt(s, n)];
  return { simulation, origin, symmetry: uniformInt(s, CUBE_SYMMETRIES.length) };
}

/** The periodic cube of side p at `origin` of a C-order grid of side n. */
export function extractPeriodicCube(
  grid: Float32Array,
  n: number,
  origin: readonly [number, number, number],
  p: number,
): Float32Array {
  const out = new Float32Array(p * p * p);
  let o = 0;
  for (let i = 0; i < p; i++) {
    const x = (origin[0] + i) % n;
    for (let j = 0; j < p; j++) {
      const row = (x * n + ((origin[1] + j) % n)) * n;
      for (let k = 0; k < p; k++) out[o++] = grid[row + ((origin[2] + k) % n)];
    }
  }
  return out;
}

/** Interleaves channel cubes (each p³) into one channel-last cube. */
function interleave(cubes: Float32Array[], p3: number): Float32Array {
  const c = cubes.length;
  if (c === 1) return cubes[0];
  const out = new Float32Array(p3 * c);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < p3; i++) out[i * c + ch] = cubes[ch][i];
  return out;
}

/**
 * The (input, target) pair of a draw: input cube of side `patch` at the origin, target cube of
 * side patch − 2·padding at origin + padding, both under the draw's symmetry (which maps each
 * cube about its own centre, so the two stay aligned).
 */
export function cutPair(
  sim: TrainingSimulation,
  draw: PatchDraw,
  patch: number,
  padding: number,
): { input: Float32Array; target: Float32Array } {
  const n = sim.side;
  const t = patch - 2 * padding;
  const sym = CUBE_SYMMETRIES[draw.symmetry];
  const inner: [number, number, number] = [0, 1, 2].map((a) => (draw.origin[a] + padding) % n) as [
    number,
    number,
    number,
  ];
  const input = applySymmetry(extractPeriodicCube(sim.input, n, draw.origin, patch), patch, sym);
  const target = applySymmetry(
    interleave(
      sim.targets.map((g) => extractPeriodicCube(g, n, inner, t)),
      t ** 3,
    ),
    t,
    sym,
    sim.targets.length,
  );
  return { input, target };
}

/** Samples first … first + batch − 1 of a stream as one batch. */
export function patchBatch(
  sims: readonly TrainingSimulation[],
  options: { seed: number; purpose: number; first: number; batch: number; patch: number; padding: number },
): PatchBatch {
  const { patch, padding, batch } = options;
  const targetSide = patch - 2 * padding;
  const channels = sims[0].targets.length;
  const input = new Float32Array(batch * patch ** 3);
  const target = new Float32Array(batch * targetSide ** 3 * channels);
  for (let b = 0; b < batch; b++) {
    const draw = drawPatch(options.seed, options.purpose, options.first + b, sims);
    const pair = cutPair(sims[draw.simulation], draw, patch, padding);
    input.set(pair.input, b * patch ** 3);
    target.set(pair.target, b * pair.target.length);
  }
  return { batch, patch, targetSide, channels, input, target };
}
