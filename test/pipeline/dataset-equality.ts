/**
 * Compares two dataset trees file by file, for "the merged output equals the single-process
 * output" tests: every file must be byte-identical (Parquet included: see io/parquet-table.ts for
 * how its metadata is kept in a deterministic order).
 */
import fs from "node:fs";
import path from "node:path";

function listFiles(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out.sort();
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
    if (!fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))))
      diffs.push(`${f}: contents differ`);
  }
  return diffs;
}
