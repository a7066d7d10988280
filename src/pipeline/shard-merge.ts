/**
 * `mocksmith merge`: checks a set of shard directories (see shard.ts) and commits the final
 * dataset. Every problem found is collected first and reported in ONE error, so a user sees at
 * once which shards to rerun. The output is assembled in a temporary directory beside OUT and
 * renamed into place, and OUT must not exist: a merge either produces the whole dataset once or
 * nothing, never a partial or doubled one.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, temporaryPathFor, writeAtomically } from "../io/atomic-file.js";
import { sha256File } from "../io/checksum.js";
import { readParquet } from "../io/parquet-table.js";
import { sidecarPathFor } from "../io/grid-metadata.js";
import { readNpyHeader } from "../io/npy.js";
import { NpyVolumeWriter } from "../io/npy-volume-writer.js";
import { batchCount, ownedStart, tileLayout, tileOrigin, type Boundary } from "../stages/tile.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import { commitLightcone, SKY_UNIT } from "./lightcone-shard.js";
import { commitRunShards, RUN_SHARD_UNIT } from "./run-shard.js";
import { commitGanSamples } from "./gan-sample-merge.js";
import { GAN_SAMPLE_UNIT } from "./gan-sampling.js";
import {
  fileRecord,
  SHARD_MANIFEST,
  SHARD_MANIFEST_FORMAT,
  shardRange,
  type ShardFileRecord,
  type ShardManifest,
} from "./shard.js";

export const DATASET_MANIFEST = "dataset-manifest.json";

/** A shard set that cannot be merged; `problems` lists every missing, duplicate or damaged shard. */
export class ShardSetError extends InputError {
  constructor(readonly problems: string[]) {
    super(
      "merge",
      `refusing to merge: ${problems.length} problem(s); nothing was written\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ShardSetError";
  }
}

export interface MergeResult {
  output: string;
  shards: number;
  units: number;
  files: number;
  bytes: number;
}

interface LoadedShard {
  dir: string;
  manifest: ShardManifest;
}

function loadManifest(dir: string, problems: string[]): LoadedShard | undefined {
  const file = path.join(dir, SHARD_MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    problems.push(`${dir}: no ${SHARD_MANIFEST} (shard unfinished, or not a shard directory)`);
    return undefined;
  }
  let m: ShardManifest;
  try {
    m = JSON.parse(text) as ShardManifest;
  } catch {
    problems.push(`${dir}: ${SHARD_MANIFEST} is not valid JSON (damaged)`);
    return undefined;
  }
  if (
    m?.format !== SHARD_MANIFEST_FORMAT ||
    !m.shard ||
    !Number.isInteger(m.shard.index) ||
    !Number.isInteger(m.shard.count) ||
    !Array.isArray(m.files) ||
    !m.units
  ) {
    problems.push(`${dir}: ${SHARD_MANIFEST} is not a ${SHARD_MANIFEST_FORMAT} (damaged)`);
    return undefined;
  }
  return { dir, manifest: m };
}

const label = (s: LoadedShard) => `shard ${s.manifest.shard.index}/${s.manifest.shard.count} (${s.dir})`;

/** Checks that all shards belong to one run: same command, configuration, software and shard count. */
function checkConsistent(shards: LoadedShard[], problems: string[]): void {
  const ref = shards[0];
  const r = ref.manifest;
  for (const s of shards.slice(1)) {
    const m = s.manifest;
    if (m.command !== r.command)
      problems.push(`${label(s)}: command ${m.command} differs from ${r.command} of ${label(ref)}`);
    if (m.configHash !== r.configHash)
      problems.push(
        `${label(s)}: config hash ${m.configHash.slice(0, 12)}… differs from ${r.configHash.slice(0, 12)}… of ${label(ref)} (different configuration)`,
      );
    if (m.software?.version !== r.software?.version || m.software?.name !== r.software?.name)
      problems.push(
        `${label(s)}: software ${m.software?.name} ${m.software?.version} differs from ${r.software?.name} ${r.software?.version} of ${label(ref)}`,
      );
    if (m.shard.count !== r.shard.count || m.units.total !== r.units.total)
      problems.push(
        `${label(s)}: split into ${m.shard.count} shards of ${m.units.total} units, ${label(ref)} into ${r.shard.count} of ${r.units.total} (overlapping partitions)`,
      );
  }
  if (r.software?.version !== SOFTWARE_VERSION)
    problems.push(
      `${label(ref)}: written by ${r.software?.name} ${r.software?.version}, this is ${SOFTWARE_NAME} ${SOFTWARE_VERSION}`,
    );
}

/** Each index 0 … n−1 exactly once, each owning exactly the units of the partition rule. */
function checkCoverage(shards: LoadedShard[], problems: string[]): void {
  const n = shards[0].manifest.shard.count;
  const byIndex = new Map<number, LoadedShard[]>();
  for (const s of shards) {
    const i = s.manifest.shard.index;
    if (i < 0 || i >= n) problems.push(`${label(s)}: index out of range 0…${n - 1}`);
    byIndex.set(i, [...(byIndex.get(i) ?? []), s]);
  }
  for (const [i, list] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    if (list.length > 1)
      problems.push(
        `shard ${i}/${n} given ${list.length} times (duplicate): ${list.map((s) => s.dir).join(", ")}`,
      );
  }
  const missing = [];
  for (let i = 0; i < n; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) problems.push(`missing shard(s) of ${n}: ${missing.join(", ")}`);
  for (const s of shards) {
    const m = s.manifest;
    const want = shardRange(m.units.total, m.shard);
    if (m.units.start !== want.start || m.units.end !== want.end)
      problems.push(
        `${label(s)}: holds units ${m.units.start}…${m.units.end - 1}, the partition rule gives ${want.start}…${want.end - 1} (overlapping or damaged)`,
      );
  }
}

/** Every listed file present with its size, sha256 and (Parquet) row count; no path claimed twice. */
function checkFiles(shards: LoadedShard[], problems: string[]): void {
  const owner = new Map<string, LoadedShard>();
  const overlaps = new Map<string, { a: LoadedShard; b: LoadedShard; files: string[] }>();
  for (const s of shards) {
    const damaged: string[] = [];
    for (const f of s.manifest.files) {
      if (path.isAbsolute(f.path) || f.path.split("/").includes("..")) {
        damaged.push(`${f.path} (path outside the shard)`);
        continue;
      }
      const prior = owner.get(f.path);
      // Shards that each hold a whole-grid file (primary) share names by design; their units decide.
      if (prior && prior !== s && prior.dir !== s.dir && s.manifest.primary === undefined) {
        const key = `${prior.dir}\0${s.dir}`;
        const o = overlaps.get(key) ?? { a: prior, b: s, files: [] };
        o.files.push(f.path);
        overlaps.set(key, o);
      }
      owner.set(f.path, s);
      const file = path.join(s.dir, f.path);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        damaged.push(`${f.path} (missing)`);
        continue;
      }
      if (size !== f.bytes) damaged.push(`${f.path} (${size} bytes, manifest says ${f.bytes})`);
      else if (sha256File(file) !== f.sha256) damaged.push(`${f.path} (sha256 mismatch)`);
      else if (f.rows !== undefined && /\.parquet$/i.test(f.path)) {
        const rows = readParquet(file).table.numRows;
        if (rows !== f.rows) damaged.push(`${f.path} (${rows} rows, manifest says ${f.rows})`);
      }
    }
    if (damaged.length > 0) problems.push(`${label(s)}: damaged: ${damaged.join(", ")}`);
  }
  for (const { a, b, files } of overlaps.values())
    problems.push(
      `${label(a)} and ${label(b)} both hold ${files.length} file(s), e.g. ${files[0]} (overlap)`,
    );
}

/** Checks `dirs` as one complete shard set and commits its files under `output` (which must not exist). */
export function mergeShards(dirs: readonly string[], output: string): MergeResult {
  if (dirs.length === 0) throw new ShardSetError(["no shard directories given"]);
  if (fs.existsSync(output))
    throw new InputError(
      output,
      "already exists; merge never overwrites or adds to a dataset (remove it first)",
    );
  const parent = path.dirname(path.resolve(output));
  if (!fs.existsSync(parent)) throw new InputError(output, `output directory ${parent} does not exist`);

  const problems: string[] = [];
  const shards = dirs.map((d) => loadManifest(d, problems)).filter((s): s is LoadedShard => s !== undefined);
  if (shards.length > 0) {
    checkConsistent(shards, problems);
    checkCoverage(shards, problems);
    checkFiles(shards, problems);
  }
  if (problems.length > 0) throw new ShardSetError(problems);

  shards.sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
  const ref = shards[0].manifest;
  let files: ShardFileRecord[];
  if (ref.unit === "simulation") files = commitDirectories(shards, output);
  else if (ref.unit === "tile-batch") files = commitStitchedGrid(shards, output);
  else if (ref.unit === SKY_UNIT || ref.unit === RUN_SHARD_UNIT) {
    const commit = ref.unit === SKY_UNIT ? commitLightcone : commitRunShards;
    files = commit(shards, output, { name: DATASET_MANIFEST, text: (f) => datasetManifest(ref, f) });
  } else if (ref.unit === GAN_SAMPLE_UNIT)
    files = commitGanSamples(shards, output, {
      name: DATASET_MANIFEST,
      text: (f) => datasetManifest(ref, f),
    });
  else throw new ShardSetError([`${label(shards[0])}: units of kind "${ref.unit}" cannot be merged`]);
  return {
    output,
    shards: ref.shard.count,
    units: ref.units.total,
    files: files.length,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
  };
}

function datasetManifest(ref: ShardManifest, files: ShardFileRecord[]): string {
  const manifest = {
    format: "mocksmith-merged-dataset",
    formatVersion: 1,
    software: ref.software,
    command: ref.command,
    unit: ref.unit,
    configHash: ref.configHash,
    config: ref.config,
    shards: ref.shard.count,
    units: ref.units.total,
    files,
  };
  return JSON.stringify(manifest, null, 2) + "\n";
}

/** Simulations (one directory each): copies every shard's files into OUT/, then renames OUT into place. */
function commitDirectories(shards: LoadedShard[], output: string): ShardFileRecord[] {
  const files: ShardFileRecord[] = [];
  const tmp = temporaryPathFor(path.resolve(output));
  fs.mkdirSync(tmp);
  try {
    for (const s of shards) {
      for (const f of s.manifest.files) {
        const dest = path.join(tmp, f.path);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(path.join(s.dir, f.path), dest, fs.constants.COPYFILE_EXCL);
        files.push(f);
      }
    }
    const text = datasetManifest(shards[0].manifest, files);
    writeAtomically(path.join(tmp, DATASET_MANIFEST), (t) => fs.writeFileSync(t, text));
    // rename(2) of a directory onto a path that appeared meanwhile fails instead of mixing two merges.
    fs.renameSync(tmp, output);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return files;
}

interface PaintConfig {
  side: number;
  tile: number;
  padding: number;
  boundary: Boundary;
  tilesPerBatch: number;
  outputChannels: number;
}

/** Dataset manifest of a merged grid: OUT.npy → OUT.dataset-manifest.json. */
export function gridDatasetManifestPath(output: string): string {
  return output.replace(/\.npy$/i, "") + ".dataset-manifest.json";
}

/**
 * Painted tile batches: each shard's sparse full-size .npy holds its batches' owned cores; the
 * merge copies exactly those voxels (the ownership rule of stages/tile.ts gives every voxel one
 * tile) into OUT.npy, which appears under its name last, by link(2), which never overwrites.
 */
function commitStitchedGrid(shards: LoadedShard[], output: string): ShardFileRecord[] {
  if (!/\.npy$/i.test(output)) throw new InputError(output, "a painted grid merges into a .npy file");
  const ref = shards[0].manifest;
  const c = ref.config as PaintConfig;
  const layout = tileLayout({
    side: c.side,
    core: c.tile,
    padding: c.padding,
    boundary: c.boundary,
    channels: 1,
  });
  if (batchCount(layout, c.tilesPerBatch) !== ref.units.total)
    throw new ShardSetError([
      `${label(shards[0])}: ${ref.units.total} units, the tiling has ${batchCount(layout, c.tilesPerBatch)}`,
    ]);
  const n = c.side;
  const t = layout.core;
  const channels = c.outputChannels;
  const want = NpyVolumeWriter.shapeFor(n, channels).join(",");
  const tmp = temporaryPathFor(path.resolve(output));
  const sidecar = sidecarPathFor(output);
  const datasetPath = gridDatasetManifestPath(output);
  for (const f of [sidecar, datasetPath])
    if (fs.existsSync(f)) throw new InputError(f, "already exists; merge never overwrites (remove it first)");
  const written: string[] = [];
  const writer = NpyVolumeWriter.create(tmp, n, channels);
  try {
    for (const s of shards) {
      const m = s.manifest;
      const file = path.join(s.dir, m.primary ?? "");
      const h = readNpyHeader(file);
      if (h.dtype !== "<f4" || h.shape.join(",") !== want)
        throw new ShardSetError([
          `${label(s)}: ${m.primary} is (${h.shape.join(", ")}) ${h.dtype}, expected (${want}) <f4`,
        ]);
      const fd = fs.openSync(file, "r");
      try {
        for (let b = m.units.start; b < m.units.end; b++) {
          const last = Math.min(layout.count, (b + 1) * c.tilesPerBatch);
          for (let id = b * c.tilesPerBatch; id < last; id++) {
            const [ox, oy, oz] = tileOrigin(layout, id);
            const z0 = ownedStart(oz, t);
            const run = new Float32Array(oz + t - z0);
            const bytes = new Uint8Array(run.buffer);
            for (let ch = 0; ch < channels; ch++)
              for (let x = ownedStart(ox, t); x < ox + t; x++)
                for (let y = ownedStart(oy, t); y < oy + t; y++) {
                  const position = h.dataOffset + (((ch * n + x) * n + y) * n + z0) * 4;
                  let got = 0;
                  while (got < bytes.length) {
                    const r = fs.readSync(fd, bytes, got, bytes.length - got, position + got);
                    if (r === 0) throw new ShardSetError([`${label(s)}: ${m.primary} is truncated`]);
                    got += r;
                  }
                  writer.writeRun(ch, x, y, z0, run);
                }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    writer.sync();
    writer.close();
    const primary = ref.primary ?? "";
    const files: ShardFileRecord[] = [fileRecord(path.dirname(tmp), path.basename(tmp))];
    files[0].path = path.basename(output);
    // The grid's sidecar (box size, cosmology) is the same in every shard; take shard 0's.
    const shardSidecar = path.basename(sidecarPathFor(primary));
    if (ref.files.some((f) => f.path === shardSidecar)) {
      fs.copyFileSync(path.join(shards[0].dir, shardSidecar), sidecar, fs.constants.COPYFILE_EXCL);
      written.push(sidecar);
      files.push({ ...fileRecord(path.dirname(sidecar), path.basename(sidecar)) });
    }
    const text = datasetManifest(ref, files);
    writeAtomically(datasetPath, (tp) => fs.writeFileSync(tp, text));
    written.push(datasetPath);
    fs.linkSync(tmp, output);
    fs.rmSync(tmp);
    return files;
  } catch (err) {
    try {
      writer.close();
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    for (const f of written) fs.rmSync(f, { force: true });
    throw err;
  }
}
