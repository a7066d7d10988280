/**
 * The main job (`mocksmith run`, `npm start`): a 2LPT box → halo counts (painted by a model, or
 * the reference N-body + FoF path from the same phases) → a halo catalog (Parquet parts + Arrow
 * IPC) → streamed statistics (stats.jsonl, stats.parquet) → report.html. The resolved
 * configuration is saved first, so the run can be reproduced from its output directory.
 */
import fs from "node:fs";
import path from "node:path";
import type { Table } from "apache-arrow";
import YAML from "yaml";
import { makeCosmology, type Cosmology } from "../cosmo/cosmology.js";
import { friendsOfFriends, linkingLengthFor } from "../cosmo/friends-of-friends.js";
import { haloCountGrids, logMassEdges, particleMass } from "../cosmo/halo-count-grid.js";
import { haloProperties } from "../cosmo/halo-properties.js";
import { runLpt, type LptResult } from "../cosmo/lpt.js";
import { runNbody } from "../cosmo/nbody.js";
import { writeAtomically } from "../io/atomic-file.js";
import { arrayGridSource } from "../io/grid-reader.js";
import { makeGridMetadata, sidecarPathFor, writeGridMetadata } from "../io/grid-metadata.js";
import { haloTable, writeHaloCatalog } from "../io/halo-catalog.js";
import { writeNpyFloat32 } from "../io/npy.js";
import { readParquet } from "../io/parquet-table.js";
import { writeCatalog } from "../stages/catalog.js";
import { reportImages, writeReport } from "../stages/report.js";
import { runStatistics, type GridInput, type StatsInputs } from "../stages/stats.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import { ConfigError } from "./config-schema.js";
import { loadPainter, paintedProvenance, paintedSampling, paintLptDensity } from "./painted-catalog.js";
import type { Progress } from "./progress.js";
import type { RunConfig } from "./run-config.js";
import { shardIpcName, writeRunShardManifest } from "./run-shard.js";
import { shardRange, type Shard } from "./shard.js";

export interface MainJobResult {
  outDir: string;
  catalogDir: string;
  catalogParts: string[];
  haloes: number;
  report?: string;
  stats?: string;
  files: string[];
  /** With a shard: the catalog parts (units) it made. */
  shard?: { shard: Shard; units: { total: number; start: number; end: number } };
}

export interface MainJobOptions {
  /** Make only this shard's catalog parts (see run-shard.ts); statistics are skipped. */
  shard?: Shard;
}

/** The config keys the painter checks name. */
const RUN_PAINTER_KEYS = {
  model: "halos.model",
  voxel: "box.voxel",
  particles: "box.particles",
  massBins: "halos.massBins",
};

function cosmologyOf(c: RunConfig): Cosmology {
  return makeCosmology(c.cosmology);
}

interface HaloProducts {
  /** Halo-count grids (one per mass bin, plus the total as the last entry), for statistics. */
  painted: GridInput[];
  catalogParts: string[];
  /** Rows of each part. */
  partRows: number[];
  ipc?: string;
  haloes: number;
  provenance: Record<string, string>;
}

/** Reference path: N-body from the same phases, FoF haloes, their catalog and count grids. */
function nbodyHalos(
  c: RunConfig,
  cosmology: Cosmology,
  voxels: number,
  catalogDir: string,
  progress: Progress,
): HaloProducts {
  const nb = c.halos.nbody;
  const edges = logMassEdges(...c.halos.massBins);
  let products: HaloProducts | undefined;
  progress.start("n-body", nb.steps);
  runNbody(
    {
      cosmology,
      gridSide: c.box.particles,
      boxSize: c.box.size,
      seed: c.seed,
      zInit: nb.zInit,
      steps: nb.steps,
      meshFactor: nb.meshFactor,
      outputRedshifts: [c.box.redshift],
      onStep: (s) => progress.advance("n-body", s),
    },
    (snap) => {
      progress.finish("n-body");
      const mp = particleMass(cosmology.omegaM, c.box.size, c.box.particles ** 3);
      const groups = friendsOfFriends(snap.positions, {
        boxSize: c.box.size,
        linkingLength: linkingLengthFor(c.box.size, c.box.particles ** 3, nb.linking),
        minMembers: nb.minMembers,
      });
      const halos = haloProperties(groups, snap.positions, snap.velocities, mp, c.box.size);
      const part = path.join(catalogDir, "part-00000.parquet");
      fs.mkdirSync(catalogDir, { recursive: true });
      writeHaloCatalog(
        part,
        haloTable(halos, edges, {
          boxSize: c.box.size,
          redshift: c.box.redshift,
          cosmology: { ...c.cosmology },
          seed: c.seed,
          extra: {
            source: "nbody",
            finder: { algorithm: "fof", b: nb.linking, minMembers: nb.minMembers },
            particleMass: mp,
          },
        }),
      );
      const centres = new Float32Array(3 * halos.length);
      const masses = new Float32Array(halos.length);
      halos.forEach((h, i) => {
        centres.set(h.centre, 3 * i);
        masses[i] = h.mass;
      });
      const grids = haloCountGrids(centres, masses, c.box.size, voxels, edges);
      const shape = [voxels, voxels, voxels] as const;
      products = {
        painted: [{ name: "N-body FoF haloes (all)", data: grids.total, shape, kind: "counts" }],
        catalogParts: [part],
        partRows: [halos.length],
        haloes: halos.length,
        provenance: {
          haloes: `N-body (FastPM, ${nb.steps} steps from z = ${nb.zInit}) + FoF b = ${nb.linking}`,
        },
      };
    },
  );
  if (!products) throw new Error("internal: the N-body run produced no snapshot");
  return products;
}

/** Emulator path: paint the 2LPT δ with a model, then sample a discrete catalog from the counts. */
async function paintedHalos(
  c: RunConfig,
  cosmology: Cosmology,
  lpt: LptResult,
  voxels: number,
  catalogDir: string,
  progress: Progress,
  parts: { planesPerPart: number; start: number; end: number },
): Promise<HaloProducts> {
  const painter = await loadPainter(
    c.halos.model,
    { size: c.box.size, particles: c.box.particles, voxels },
    RUN_PAINTER_KEYS,
    c.halos.massBins,
  );
  const bins = painter.massEdges.length - 1;
  const counts = await paintLptDensity(painter, lpt.density!, { ...c.halos, progress });
  const modelName = path.basename(painter.modelPath);
  const written = await writeCatalog(
    arrayGridSource(counts, voxels, bins, "painted counts"),
    paintedSampling(painter, cosmology, c.box.redshift, c.box.size, c.seed, lpt),
    {
      outDir: catalogDir,
      planesPerPart: parts.planesPerPart,
      parts: { start: parts.start, end: parts.end },
      metadata: {
        redshift: c.box.redshift,
        cosmology: { ...c.cosmology },
        extra: paintedProvenance(painter, modelName),
      },
      progress,
    },
  );
  const n3 = voxels ** 3;
  const painted: GridInput[] = [];
  const total = new Float32Array(n3);
  for (let b = 0; b < bins; b++) {
    const channel = counts.subarray(b * n3, (b + 1) * n3);
    for (let i = 0; i < n3; i++) total[i] += channel[i];
    painted.push({
      name: `painted bin ${b}`,
      data: channel,
      shape: [voxels, voxels, voxels],
      kind: "counts",
    });
  }
  painted.push({ name: "painted (all bins)", data: total, shape: [voxels, voxels, voxels], kind: "counts" });
  return {
    painted,
    catalogParts: written.parts,
    partRows: written.partRows,
    ipc: written.ipc,
    haloes: written.rows,
    provenance: {
      haloes: `painted by ${modelName} (sha256 ${painter.card.sha256.slice(0, 12)}…), Poisson-sampled`,
    },
  };
}

function writeInputDelta(
  c: RunConfig,
  inputFile: string,
  density: Float32Array,
  shape: [number, number, number],
): void {
  writeNpyFloat32(inputFile, density, shape);
  writeGridMetadata(
    inputFile,
    makeGridMetadata({
      kind: "delta",
      shape,
      boxSize: c.box.size,
      redshift: c.box.redshift,
      periodic: true,
      cosmology: { ...c.cosmology },
      seed: c.seed,
      provenance: { command: "run", source: "2lpt", particles: c.box.particles, massAssignment: "cic" },
    }),
  );
}

/** A shard's manifest: shard 0's input box, its catalog parts and its slice of the IPC stream. */
function finishShard(
  c: RunConfig,
  shard: Shard,
  units: { total: number; start: number; end: number },
  inputFile: string,
  halos: HaloProducts | undefined,
  files: string[],
): MainJobResult {
  const outDir = c.output;
  const catalogDir = path.join(outDir, "catalog");
  const relative = (f: string) => path.relative(outDir, f).split(path.sep).join("/");
  const shardFiles: { path: string; rows?: number }[] = [];
  if (shard.index === 0)
    shardFiles.push({ path: relative(inputFile) }, { path: relative(sidecarPathFor(inputFile)) });
  const parts = halos?.catalogParts ?? [];
  parts.forEach((f, i) => shardFiles.push({ path: relative(f), rows: halos!.partRows[i] }));
  if (halos?.ipc) {
    const ipc = path.join(catalogDir, shardIpcName(shard));
    fs.renameSync(halos.ipc, ipc);
    shardFiles.push({ path: relative(ipc) });
  }
  writeRunShardManifest(outDir, { shard, units, config: shardConfig(c), files: shardFiles });
  return {
    outDir,
    catalogDir,
    catalogParts: parts,
    haloes: halos?.haloes ?? 0,
    files,
    shard: { shard, units },
  };
}

/** What the shards of one run share (the output directory aside); hashed into the shard manifests. */
function shardConfig(c: RunConfig): unknown {
  const { output: _output, ...rest } = c;
  return rest;
}

function readCatalog(parts: string[]): Table | undefined {
  if (parts.length === 0) return undefined;
  const tables = parts.map((p) => readParquet(p).table);
  return tables.length === 1 ? tables[0] : tables.slice(1).reduce((acc, t) => acc.concat(t), tables[0]);
}

export async function runMainJob(
  c: RunConfig,
  progress: Progress,
  options: MainJobOptions = {},
): Promise<MainJobResult> {
  const outDir = c.output;
  const shard = options.shard;
  if (shard && c.halos.source !== "painter")
    throw new ConfigError(
      "halos.source",
      "--shard needs the painter path (halos.source: painter); the N-body + FoF reference finds haloes in the whole box at once, so run it without --shard",
    );
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const configFile = path.join(outDir, "config.yaml");
  writeAtomically(configFile, (tmp) =>
    fs.writeFileSync(
      tmp,
      `# resolved configuration of this run (${SOFTWARE_NAME} ${SOFTWARE_VERSION}); rerun with: mocksmith run ${configFile}\n` +
        YAML.stringify(c),
    ),
  );
  files.push(configFile);
  const cosmology = cosmologyOf(c);
  const voxels = Math.round(c.box.size / c.box.voxel);
  const planesPerPart = Math.min(voxels, c.halos.planesPerPart);
  const partCount = Math.ceil(voxels / planesPerPart);
  const units = {
    total: partCount,
    ...(shard ? shardRange(partCount, shard) : { start: 0, end: partCount }),
  };
  const empty = units.end === units.start;
  const inputFile = path.join(outDir, "input_delta.npy");
  const catalogDir = path.join(outDir, "catalog");
  // More shards than catalog parts: a shard owning none computes nothing, but shard 0 always
  // writes the 2LPT box (the same in every shard).
  if (shard && empty && shard.index !== 0) return finishShard(c, shard, units, inputFile, undefined, files);

  progress.start("2lpt", 8);
  const lpt = runLpt({
    gridSide: c.box.particles,
    boxSize: c.box.size,
    redshift: c.box.redshift,
    seed: c.seed,
    cosmology,
    want: { density: true, particles: c.halos.source === "painter" && !empty },
    densityGridSide: voxels,
    onStage: (_s, done) => progress.advance("2lpt", done),
  });
  progress.finish("2lpt");
  const shape: [number, number, number] = [voxels, voxels, voxels];
  if (!shard || shard.index === 0) {
    writeInputDelta(c, inputFile, lpt.density!, shape);
    files.push(inputFile);
  }
  if (shard && empty) return finishShard(c, shard, units, inputFile, undefined, files);

  const halos =
    c.halos.source === "painter"
      ? await paintedHalos(c, cosmology, lpt, voxels, catalogDir, progress, { planesPerPart, ...units })
      : nbodyHalos(c, cosmology, voxels, catalogDir, progress);
  files.push(...halos.catalogParts);
  if (shard) return finishShard(c, shard, units, inputFile, halos, files);

  const result: MainJobResult = {
    outDir,
    catalogDir,
    catalogParts: halos.catalogParts,
    haloes: halos.haloes,
    files,
  };
  if (c.stats.enabled) {
    const inputs: StatsInputs = {
      boxSize: c.box.size,
      redshift: c.box.redshift,
      cosmology,
      input: { name: "2LPT δ", data: lpt.density!, shape, kind: "delta" },
      painted: halos.painted,
      catalog: readCatalog(halos.catalogParts),
    };
    const stats = await runStatistics(inputs, outDir, { progress });
    result.stats = stats.jsonLines;
    files.push(stats.jsonLines, stats.parquet);
    if (c.stats.report) {
      const report = path.join(outDir, "report.html");
      writeReport(report, {
        title: `mocksmith run — ${c.box.size} Mpc/h box at z = ${c.box.redshift}`,
        rows: stats.rows,
        images: reportImages(inputs),
        provenance: {
          software: `${SOFTWARE_NAME} ${SOFTWARE_VERSION}`,
          box: `${c.box.size} Mpc/h, ${c.box.particles}³ 2LPT particles, ${voxels}³ voxels of ${c.box.voxel} Mpc/h`,
          redshift: String(c.box.redshift),
          seed: String(c.seed),
          cosmology: Object.entries(c.cosmology)
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
          ...halos.provenance,
          catalog: `${halos.haloes} haloes in ${halos.catalogParts.length} Parquet part(s)`,
        },
      });
      result.report = report;
      files.push(report);
    }
  }
  return result;
}
