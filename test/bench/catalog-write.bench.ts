/** Catalog Parquet write throughput: 2 M haloes (DESIGN schema) to ZSTD Parquet, rows per second. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { catalogTable, catalogMetadataRecord } from "../../src/io/halo-catalog.js";
import { writeParquet } from "../../src/io/parquet-table.js";
import { mulberry32 } from "../seeded-random.js";

export async function benchCatalogWrite(rows = 2_000_000): Promise<Record<string, number>> {
  const u = mulberry32(5);
  const f = (scale: number) => Float32Array.from({ length: rows }, () => u() * scale);
  const columns = {
    id: BigUint64Array.from({ length: rows }, (_, i) => BigInt(i)),
    x: f(1000),
    y: f(1000),
    z: f(1000),
    vx: f(600),
    vy: f(600),
    vz: f(600),
    mass: f(1e14),
    massBin: Int8Array.from({ length: rows }, () => Math.floor(u() * 4)),
  };
  const meta = catalogMetadataRecord({ boxSize: 1000, redshift: 0, cosmology: { omegaM: 0.315 }, seed: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-bench-parquet-"));
  try {
    const file = path.join(dir, "catalog.parquet");
    const t0 = performance.now();
    writeParquet(file, catalogTable(columns, meta), meta);
    const seconds = (performance.now() - t0) / 1000;
    return { rows, seconds, rows_per_s: rows / seconds, megabytes: fs.statSync(file).size / 2 ** 20 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
