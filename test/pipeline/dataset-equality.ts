/**
 * Compares two dataset trees file by file, for "the merged output equals the single-process
 * output" tests. Files must be byte-identical, with one documented exception: parquet-wasm writes
 * a Parquet footer's key-value metadata in the iteration order of a Rust HashMap whose seed moves
 * on with every map the process creates, so the same table written as the 1st or the 3rd file of a
 * process differs in footer byte order only. Such files are compared decoded (every column value
 * and every metadata key), and the sha256 they leave in a simulation's manifest.json is ignored.
 */
import fs from "node:fs";
import path from "node:path";
import { readParquet } from "../../src/io/parquet-table.js";

function listFiles(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out.sort();
}

function parquetEqual(a: string, b: string): boolean {
  const x = readParquet(a);
  const y = readParquet(b);
  if (JSON.stringify(Object.entries(x.metadata).sort()) !== JSON.stringify(Object.entries(y.metadata).sort()))
    return false;
  if (x.table.numRows !== y.table.numRows) return false;
  const names = x.table.schema.fields.map((f) => f.name);
  if (names.join() !== y.table.schema.fields.map((f) => f.name).join()) return false;
  return names.every((n) => {
    const u = x.table.getChild(n)!.toArray() as ArrayLike<unknown>;
    const v = y.table.getChild(n)!.toArray() as ArrayLike<unknown>;
    if (u.length !== v.length) return false;
    for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) return false;
    return true;
  });
}

function withoutParquetHashes(file: string): unknown {
  const m = JSON.parse(fs.readFileSync(file, "utf8")) as { outputs?: { file: string; sha256?: string }[] };
  for (const o of m.outputs ?? []) if (o.file.endsWith(".parquet")) delete o.sha256;
  return m;
}

/** Differences between the trees (empty when equal); files named in `ignore` are skipped in `b`. */
export function datasetDifferences(a: string, b: string, ignore: readonly string[] = []): string[] {
  const fa = listFiles(a);
  const fb = listFiles(b).filter((f) => !ignore.includes(f));
  const diffs: string[] = [];
  for (const f of fb) if (!fa.includes(f)) diffs.push(`${f}: only in ${b}`);
  for (const f of fa) {
    if (!fb.includes(f)) {
      diffs.push(`${f}: only in ${a}`);
      continue;
    }
    const pa = path.join(a, f);
    const pb = path.join(b, f);
    if (fs.readFileSync(pa).equals(fs.readFileSync(pb))) continue;
    if (f.endsWith(".parquet") && parquetEqual(pa, pb)) continue;
    if (
      path.basename(f) === "manifest.json" &&
      JSON.stringify(withoutParquetHashes(pa)) === JSON.stringify(withoutParquetHashes(pb))
    )
      continue;
    diffs.push(`${f}: contents differ`);
  }
  return diffs;
}
