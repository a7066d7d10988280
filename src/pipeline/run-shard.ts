/**
 * `mocksmith run --shard i/n`: the main job's catalog split into deterministic shards, and their
 * merge.
 *
 * Units: the catalog's Parquet parts, each `halos.planesPerPart` x-planes of the halo grid. Every
 * shard recomputes the (deterministic) 2LPT box and painted halo counts, then samples and writes
 * only its own parts; halo ids and random streams are keyed by voxel (stages/catalog.ts), so a part
 * does not depend on which shard made it. Shard 0 also writes input_delta.npy. Statistics and the
 * report need the whole catalog and the painted grids, so a shard skips them (run `mocksmith pk`
 * or an unsharded run for them).
 *
 * The merge copies the parts and input_delta.npy (byte-identical to a single-process run's) and
 * joins the shards' catalog.shard-SSSSS.arrows streams, batch by batch, into catalog/catalog.arrows.
 */
import fs from "node:fs";
import path from "node:path";
import { RecordBatchReader, RecordBatchStreamWriter, type RecordBatch } from "apache-arrow";
import { temporaryPathFor, writeAtomically } from "../io/atomic-file.js";
import {
  fileRecord,
  writeShardManifest,
  type Shard,
  type ShardFileRecord,
  type ShardManifest,
} from "./shard.js";

/** Unit kind in shard manifests. */
export const RUN_SHARD_UNIT = "catalog-part";

/** A shard's slice of the catalog's IPC stream, beside its parts. */
export function shardIpcName(shard: Shard): string {
  return `catalog.shard-${String(shard.index).padStart(5, "0")}.arrows`;
}

const SHARD_IPC = /^catalog\/catalog\.shard-\d{5}\.arrows$/;

/** Writes the shard manifest of a finished `run --shard`: the files under `outDir` that it made. */
export function writeRunShardManifest(
  outDir: string,
  m: {
    shard: Shard;
    units: { total: number; start: number; end: number };
    config: unknown;
    files: { path: string; rows?: number }[];
  },
): ShardManifest {
  return writeShardManifest(outDir, {
    command: "run",
    unit: RUN_SHARD_UNIT,
    config: m.config,
    shard: m.shard,
    units: m.units,
    files: m.files.map((f) => fileRecord(outDir, f.path, f.rows)),
  });
}

/**
 * Commits a checked set of run shards (shard-merge.ts has verified manifests, coverage and
 * checksums): their files under OUT/ as they are, the IPC slices joined into catalog/catalog.arrows.
 */
export function commitRunShards(
  shards: readonly { dir: string; manifest: ShardManifest }[],
  output: string,
  datasetManifest: { name: string; text: (files: ShardFileRecord[]) => string },
): ShardFileRecord[] {
  const tmp = temporaryPathFor(path.resolve(output));
  fs.mkdirSync(tmp);
  try {
    const files: ShardFileRecord[] = [];
    const batches: RecordBatch[] = [];
    for (const s of shards) {
      for (const f of s.manifest.files) {
        const from = path.join(s.dir, f.path);
        if (SHARD_IPC.test(f.path)) {
          for (const b of RecordBatchReader.from(fs.readFileSync(from))) batches.push(b);
          continue;
        }
        const dest = path.join(tmp, f.path);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(from, dest, fs.constants.COPYFILE_EXCL);
        files.push(f);
      }
    }
    if (batches.length > 0) {
      const ipc = path.join(tmp, "catalog", "catalog.arrows");
      fs.mkdirSync(path.dirname(ipc), { recursive: true });
      const writer = new RecordBatchStreamWriter();
      for (const b of batches) writer.write(b);
      writer.finish();
      const bytes = writer.toUint8Array(true);
      writeAtomically(ipc, (t) => fs.writeFileSync(t, bytes));
      files.push(fileRecord(tmp, "catalog/catalog.arrows"));
    }
    const text = datasetManifest.text(files);
    writeAtomically(path.join(tmp, datasetManifest.name), (t) => fs.writeFileSync(t, text));
    fs.renameSync(tmp, output);
    return files;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
