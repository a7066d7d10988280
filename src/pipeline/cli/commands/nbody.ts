/**
 * `mocksmith nbody`: a particle-mesh simulation from 2LPT initial conditions (or a Gadget IC
 * file), and per output redshift the training and reference products of the halo painter:
 * N-body δ, pure-2LPT δ from the same phases, the FoF halo catalog (Parquet) and halo-count
 * grids per mass bin, all on one voxel grid.
 */
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Cosmology } from "../../../cosmo/cosmology.js";
import { friendsOfFriends, linkingLengthFor } from "../../../cosmo/friends-of-friends.js";
import { haloCountGrids, logMassEdges, particleMass } from "../../../cosmo/halo-count-grid.js";
import { haloProperties } from "../../../cosmo/halo-properties.js";
import { runLpt } from "../../../cosmo/lpt.js";
import { depositParticles, toDensityContrast } from "../../../cosmo/mass-assignment.js";
import { runNbody, type InitialConditions, type NbodySnapshot } from "../../../cosmo/nbody.js";
import { isFftFriendly } from "../../../cosmo/fft/real-fft3d.js";
import { InputError, assertWritableDestination, writeAtomically } from "../../../io/atomic-file.js";
import { sha256File } from "../../../io/checksum.js";
import { readGadget, writeGadgetBinary, writeGadgetHdf5 } from "../../../io/gadget.js";
import { makeGridMetadata, writeGridMetadata, type GridKind } from "../../../io/grid-metadata.js";
import { haloTable, writeHaloCatalog } from "../../../io/halo-catalog.js";
import { writeNpyFloat32 } from "../../../io/npy.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../../../version.js";
import { makeContext, type CommandContext, type GlobalOptions } from "../command-context.js";
import {
  addCosmologyOptions,
  cosmologyFromFlags,
  cosmologyRecord,
  type CosmologyFlags,
} from "../cosmology-options.js";
import { parseInteger, parseNumber, parseNumberList } from "../option-parsers.js";

export interface NbodyFlags extends CosmologyFlags {
  grid: number;
  box: number;
  steps: number;
  z: number[];
  seed: number;
  zInit: number;
  meshFactor: number;
  voxel: number;
  linking: number;
  minMembers: number;
  massBins: number[];
  ics?: string;
  icsLengthUnit: "kpc" | "mpc";
  snapshot?: "gadget1" | "gadget2" | "hdf5";
  threads?: number;
  output: string;
}

export interface NbodyOutputRecord {
  file: string;
  kind: string;
  redshift: number;
  rows?: number;
  sha256: string;
}

function parseGridSide(v: string): number {
  const n = parseInteger(2, 2048)(v);
  if (!isFftFriendly(n))
    throw new InvalidArgumentError(`${n} has a prime factor above 5; use e.g. 64, 96, 128, 192, 256.`);
  return n;
}

function parseMassBins(v: string): number[] {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (
    parts.length !== 3 ||
    !parts.every(Number.isFinite) ||
    !(parts[0] > 0 && parts[1] > parts[0]) ||
    !Number.isInteger(parts[2]) ||
    parts[2] < 1
  ) {
    throw new InvalidArgumentError(
      "expected MIN,MAX,COUNT with 0 < MIN < MAX (Msun/h) and a positive integer COUNT, e.g. 1e12,1e14,4.",
    );
  }
  return parts;
}

export const redshiftTag = (z: number): string => `z${z.toFixed(3)}`;

function readInitialConditions(file: string, flags: NbodyFlags): InitialConditions {
  const snap = readGadget(file, { lengthUnitKpc: flags.icsLengthUnit === "mpc" ? 1000 : 1 });
  const n3 = flags.grid ** 3;
  const count = snap.positions.length / 3;
  if (count !== n3)
    throw new InputError(
      file,
      `holds ${count} particles but --grid ${flags.grid} needs ${flags.grid}³ = ${n3}`,
    );
  if (Math.abs(snap.header.boxSize - flags.box) > 1e-6 * flags.box) {
    throw new InputError(file, `box size ${snap.header.boxSize} Mpc/h disagrees with --box ${flags.box}`);
  }
  if (!(snap.header.redshift > 0))
    throw new InputError(file, `initial redshift ${snap.header.redshift} must be > 0`);
  return { positions: snap.positions, velocities: snap.velocities, redshift: snap.header.redshift };
}

/** Runs the simulation and writes all products; returns what it wrote. */
export function runNbodyProducts(
  flags: NbodyFlags,
  cosmology: Cosmology,
  ctx: CommandContext,
): NbodyOutputRecord[] {
  const dir = flags.output;
  const voxelSide = Math.round(flags.box / flags.voxel);
  const records: NbodyOutputRecord[] = [];
  const cosmo = cosmologyRecord(cosmology);
  const edges = logMassEdges(flags.massBins[0], flags.massBins[1], flags.massBins[2]);
  const mParticle = particleMass(cosmology.omegaM, flags.box, flags.grid ** 3);
  const initial = flags.ics ? readInitialConditions(flags.ics, flags) : undefined;
  const zInit = initial?.redshift ?? flags.zInit;
  const provenance = {
    command: "nbody",
    gridSide: flags.grid,
    steps: flags.steps,
    zInit,
    meshFactor: flags.meshFactor,
    ics: flags.ics ?? "2lpt",
  };

  const record = (file: string, kind: string, redshift: number, rows?: number) =>
    records.push({ file: path.basename(file), kind, redshift, rows, sha256: sha256File(file) });

  const writeGrid = (
    name: string,
    grid: Float32Array,
    kind: GridKind,
    z: number,
    extra: Record<string, unknown>,
  ) => {
    const file = path.join(dir, name);
    const shape: [number, number, number] = [voxelSide, voxelSide, voxelSide];
    writeNpyFloat32(file, grid, shape);
    writeGridMetadata(
      file,
      makeGridMetadata({
        kind,
        shape,
        boxSize: flags.box,
        redshift: z,
        periodic: true,
        cosmology: cosmo,
        seed: flags.ics ? undefined : flags.seed,
        provenance: { ...provenance, ...extra },
      }),
    );
    record(file, kind, z);
  };

  const onSnapshot = (snap: NbodySnapshot) => {
    const z = snap.redshift;
    const tag = redshiftTag(z);
    ctx.progress.info(`snapshot ${tag}: density, halo finding, catalog`);
    const delta = depositParticles(snap.positions, [voxelSide, voxelSide, voxelSide], flags.box, "cic");
    toDensityContrast(delta);
    writeGrid(`nbody_delta_${tag}.npy`, delta, "delta", z, { source: "nbody", massAssignment: "cic" });

    if (!initial) {
      const lpt = runLpt({
        gridSide: flags.grid,
        boxSize: flags.box,
        redshift: z,
        seed: flags.seed,
        cosmology,
        threads: flags.threads,
        want: { density: true },
        densityGridSide: voxelSide,
      });
      writeGrid(`lpt_delta_${tag}.npy`, lpt.density!, "delta", z, { source: "2lpt", massAssignment: "cic" });
    }

    const groups = friendsOfFriends(snap.positions, {
      boxSize: flags.box,
      linkingLength: linkingLengthFor(flags.box, flags.grid ** 3, flags.linking),
      minMembers: flags.minMembers,
    });
    const halos = haloProperties(groups, snap.positions, snap.velocities, mParticle, flags.box);
    const catalogFile = path.join(dir, `halos_${tag}.parquet`);
    writeHaloCatalog(
      catalogFile,
      haloTable(halos, edges, {
        boxSize: flags.box,
        redshift: z,
        cosmology: cosmo,
        seed: flags.ics ? undefined : flags.seed,
        extra: {
          finder: { algorithm: "fof", b: flags.linking, minMembers: flags.minMembers },
          particleMass: mParticle,
          ...provenance,
        },
      }),
    );
    record(catalogFile, "halo-catalog", z, halos.length);

    const centres = new Float32Array(3 * halos.length);
    const masses = new Float32Array(halos.length);
    halos.forEach((h, i) => {
      centres.set(h.centre, 3 * i);
      masses[i] = h.mass;
    });
    const counts = haloCountGrids(centres, masses, flags.box, voxelSide, edges);
    writeGrid(`halo_counts_${tag}.npy`, counts.total, "counts", z, {
      massRange: [mParticle * flags.minMembers, null],
    });
    counts.bins.forEach((g, b) =>
      writeGrid(`halo_counts_${tag}_bin${b}.npy`, g, "counts", z, {
        massRange: [edges[b], edges[b + 1]],
        massBin: b,
      }),
    );

    if (flags.snapshot) {
      const file = path.join(dir, `snapshot_${tag}${flags.snapshot === "hdf5" ? ".hdf5" : ".gadget"}`);
      const n = snap.positions.length / 3;
      const snapshot = {
        header: {
          numPart: [0, n, 0, 0, 0, 0],
          massTable: [0, mParticle, 0, 0, 0, 0],
          time: 1 / (1 + z),
          redshift: z,
          boxSize: flags.box,
          omega0: cosmology.omegaM,
          omegaLambda: 1 - cosmology.omegaM,
          hubbleParam: cosmology.h,
          numFiles: 1,
          numPartTotal: [0, n, 0, 0, 0, 0],
          flags: {
            sfr: 0,
            feedback: 0,
            cooling: 0,
            stellarAge: 0,
            metals: 0,
            entropyInsteadU: 0,
            doublePrecision: 0,
          },
        },
        positions: snap.positions,
        velocities: snap.velocities,
        ids: BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1)),
      };
      if (flags.snapshot === "hdf5") writeGadgetHdf5(file, snapshot);
      else writeGadgetBinary(file, snapshot, { format: flags.snapshot === "gadget1" ? 1 : 2 });
      record(file, `gadget-${flags.snapshot}`, z, n);
    }
  };

  ctx.progress.start("nbody", flags.steps + flags.z.length);
  runNbody(
    {
      cosmology,
      gridSide: flags.grid,
      boxSize: flags.box,
      seed: flags.seed,
      zInit,
      steps: flags.steps,
      outputRedshifts: [...flags.z].sort((a, b) => b - a),
      meshFactor: flags.meshFactor,
      threads: flags.threads,
      initial,
      onStep: (s) => ctx.progress.advance("nbody", s),
    },
    onSnapshot,
  );
  ctx.progress.finish("nbody");

  const manifest = {
    format: "mocksmith-dataset-manifest",
    formatVersion: 1,
    software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
    config: { ...flags, output: undefined, cosmology: cosmo },
    outputs: records,
  };
  writeAtomically(path.join(dir, "manifest.json"), (tmp) =>
    fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n"),
  );
  return records;
}

export function addNbodyOptions(cmd: Command): Command {
  cmd
    .requiredOption("--grid <n>", "particles per side (N³ particles; prime factors 2, 3, 5)", parseGridSide)
    .requiredOption("--box <L>", "box side, Mpc/h", parseNumber({ minExclusive: 0 }))
    .option(
      "--steps <s>",
      "time steps, linear in a, from z_init to the last output",
      parseInteger(1, 10000),
      20,
    )
    .option("--z <list>", "output redshifts, comma separated", parseNumberList(parseNumber({ min: 0 })), [0])
    .option("--seed <s>", "random seed of the 2LPT initial conditions", parseInteger(0, 0xffffffff), 1)
    .option(
      "--z-init <z>",
      "starting redshift of the 2LPT initial conditions",
      parseNumber({ minExclusive: 0 }),
      19,
    )
    .option(
      "--mesh-factor <b>",
      "force mesh side / particle grid side",
      parseNumber({ minExclusive: 0, max: 4 }),
      2,
    )
    .option(
      "--voxel <dx>",
      "voxel size of the output grids, Mpc/h (box/voxel must be an integer)",
      parseNumber({ minExclusive: 0 }),
      4,
    )
    .option(
      "--linking <b>",
      "FoF linking length in units of the mean interparticle separation",
      parseNumber({ minExclusive: 0, max: 1 }),
      0.2,
    )
    .option("--min-members <m>", "smallest FoF group kept", parseInteger(2, 1_000_000), 20)
    .option(
      "--mass-bins <min,max,count>",
      "logarithmic halo mass bins, Msun/h",
      parseMassBins,
      [1e12, 1e14, 4],
    )
    .option("--ics <file>", "Gadget initial conditions (format 1, 2 or HDF5) instead of 2LPT")
    .addOption(
      new Option(
        "--ics-length-unit <unit>",
        "length unit of a binary --ics file (HDF5 files carry their own)",
      )
        .choices(["kpc", "mpc"])
        .default("kpc"),
    )
    .addOption(
      new Option("--snapshot <format>", "also write particles at each output").choices([
        "gadget1",
        "gadget2",
        "hdf5",
      ]),
    )
    .option("--threads <t>", "FFT threads", parseInteger(1, 64));
  return addCosmologyOptions(cmd);
}

/** Validates cross-flag constraints before any work. */
export function checkNbodyFlags(flags: NbodyFlags): void {
  const side = flags.box / flags.voxel;
  if (Math.abs(side - Math.round(side)) > 1e-6) {
    throw new InputError(
      "--voxel",
      `box ${flags.box} / voxel ${flags.voxel} = ${side} is not an integer number of voxels`,
    );
  }
  if (Math.round(side) < 2)
    throw new InputError("--voxel", `voxel ${flags.voxel} Mpc/h leaves fewer than 2 voxels per side`);
  if (!flags.ics) {
    for (const z of flags.z) {
      if (z >= flags.zInit)
        throw new InputError("--z", `output redshift ${z} must be below --z-init ${flags.zInit}`);
    }
  }
  if (new Set(flags.z).size !== flags.z.length)
    throw new InputError("--z", "output redshifts must be distinct");
}

export function registerNbody(program: Command): void {
  const cmd = program
    .command("nbody")
    .description(
      "Particle-mesh N-body (FastPM) from 2LPT ICs; per redshift: N-body δ, 2LPT δ, FoF halo catalog, halo-count grids",
    )
    .requiredOption("-o, --output <dir>", "output directory (created if missing)");
  addNbodyOptions(cmd);
  cmd.action((flags: NbodyFlags, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
    const cosmology = cosmologyFromFlags(flags);
    checkNbodyFlags(flags);
    fs.mkdirSync(flags.output, { recursive: true });
    assertWritableDestination(path.join(flags.output, "manifest.json"));
    const t0 = performance.now();
    const records = runNbodyProducts(flags, cosmology, ctx);
    const halos = records.filter((r) => r.kind === "halo-catalog").map((r) => r.rows ?? 0);
    ctx.summary(
      `wrote ${records.length} files to ${flags.output}/ (${flags.z.length} redshift(s), ${halos.join("/")} haloes, manifest.json) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      { output: flags.output, files: records.length, halos },
    );
  });
}
