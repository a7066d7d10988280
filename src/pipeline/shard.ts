/**
 * Deterministic shards for batch schedulers (Slurm job arrays, Kubernetes Indexed Jobs).
 *
 * Partition rule: a command's work is a list of `total` units numbered 0 … total−1 (simulations
 * of a training set, tile batches of a painting, …). Shard i of n owns the contiguous range
 *   [floor(i·total/n), floor((i+1)·total/n)),
 * so the ranges are disjoint, cover every unit exactly once, and differ in size by at most one.
 * The rule depends on nothing but (i, n, total), never on which machine runs a shard or when, so
 * a failed shard rerun later owns exactly the units it owned before.
 *
 * Each shard writes its units into its own directory together with a shard manifest
 * (`shard-manifest.json`): which units, every file with its size, row count and sha256, the hash of
 * the command's configuration and the software version. `mocksmith merge` checks these manifests
 * before it commits the final dataset.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InvalidArgumentError } from "commander";
import { writeAtomically } from "../io/atomic-file.js";
import { sha256File } from "../io/checksum.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";

export interface Shard {
  /** 0-based index, < count. */
  readonly index: number;
  readonly count: number;
}

export interface UnitRange {
  /** First unit (inclusive). */
  readonly start: number;
  /** One past the last unit. */
  readonly end: number;
}

export const SHARD_MANIFEST = "shard-manifest.json";
export const SHARD_MANIFEST_FORMAT = "mocksmith-shard-manifest";

/** Parses `i/n` (0 ≤ i < n); for commander options and for the scheduler's environment. */
export function parseShard(v: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError("expected i/n with 0 ≤ i < n, e.g. 0/4.");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1_000_000 || index >= count) {
    throw new InvalidArgumentError(`expected i/n with 0 ≤ i < n ≤ 1000000, got ${index}/${count}.`);
  }
  return { index, count };
}

/** The units shard `shard` owns out of `total` (see the partition rule above). */
export function shardRange(total: number, shard: Shard): UnitRange {
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`unit count ${total} is not a count`);
  // BigInt-free exact arithmetic: total·count stays far below 2^53 for any realistic job.
  return {
    start: Math.floor((shard.index * total) / shard.count),
    end: Math.floor(((shard.index + 1) * total) / shard.count),
  };
}

/** JSON with object keys sorted recursively, so equal configurations hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** sha256 of the canonical JSON of a command's configuration (shard and output excluded by the caller). */
export function configHash(config: unknown): string {
  return crypto.createHash("sha256").update(canonicalJson(config)).digest("hex");
}

export interface ShardFileRecord {
  /** Path relative to the shard directory, with `/` separators. */
  path: string;
  bytes: number;
  sha256: string;
  /** Rows of a table (Parquet), when the file is one. */
  rows?: number;
}

export interface ShardManifest {
  format: typeof SHARD_MANIFEST_FORMAT;
  formatVersion: 1;
  software: { name: string; version: string };
  /** The command whose work is sharded, e.g. "nbody-set". */
  command: string;
  /** What a unit is, e.g. "simulation". */
  unit: string;
  configHash: string;
  config: unknown;
  shard: Shard;
  units: { total: number; start: number; end: number };
  /** The file that holds the shard's units when they share one (paint: the sparse .npy). */
  primary?: string;
  files: ShardFileRecord[];
}

/** Size and sha256 of a file under `dir`, as a manifest record. */
export function fileRecord(dir: string, relative: string, rows?: number): ShardFileRecord {
  const file = path.join(dir, relative);
  return {
    path: relative.split(path.sep).join("/"),
    bytes: fs.statSync(file).size,
    sha256: sha256File(file),
    ...(rows === undefined ? {} : { rows }),
  };
}

/** Writes the shard manifest last and atomically: its presence means the shard is complete. */
export function writeShardManifest(
  dir: string,
  m: Omit<ShardManifest, "format" | "formatVersion" | "software" | "configHash">,
): ShardManifest {
  const manifest: ShardManifest = {
    format: SHARD_MANIFEST_FORMAT,
    formatVersion: 1,
    software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
    configHash: configHash(m.config),
    ...m,
  };
  writeAtomically(path.join(dir, SHARD_MANIFEST), (tmp) =>
    fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n"),
  );
  return manifest;
}
