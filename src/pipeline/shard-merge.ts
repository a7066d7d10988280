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
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import {
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
      if (prior && prior !== s && prior.dir !== s.dir) {
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
    writeAtomically(path.join(tmp, DATASET_MANIFEST), (t) =>
      fs.writeFileSync(t, JSON.stringify(manifest, null, 2) + "\n"),
    );
    // rename(2) of a directory onto a path that appeared meanwhile fails instead of mixing two merges.
    fs.renameSync(tmp, output);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return {
    output,
    shards: ref.shard.count,
    units: ref.units.total,
    files: files.length,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
  };
}
