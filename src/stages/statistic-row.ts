/**
 * The statistics table (DESIGN.md, "Statistics"): one row per point of a measured curve, the same
 * shape for every statistic so one JSON-lines log and one Parquet table hold them all.
 *
 * Sinks: `JsonLinesSink` appends each row to `stats.jsonl` as it arrives (written straight to the
 * file descriptor, so a reader tailing the file sees every finished statistic; the file is a log,
 * not the atomic product); `writeStatisticsTable` writes the complete table to Parquet (ZSTD)
 * under a temporary name and renames it, and `statisticsTable` gives the Arrow table itself.
 */
import fs from "node:fs";
import { Float64, Table, Utf8, vectorFromArray } from "apache-arrow";
import { writeParquet } from "../io/parquet-table.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";

export interface StatisticRow {
  /** What was measured, e.g. "power_spectrum", "correlation_coefficient", "bispectrum". */
  statistic: string;
  /** Which field(s): "input", "painted", "catalog", "painted×input", a fit's name, … */
  fields: string;
  /** Abscissa in the unit `xName` implies: k h/Mpc, r Mpc/h, 1+δ, count, mass Msun/h, z, θ rad, HEALPix pixel. */
  x: number;
  xName: string;
  value: number;
  /** What the value averages over: modes, pairs, triangles, voxels or objects. */
  count: number;
  /** 1σ error where the estimator gives one. */
  error?: number;
  /** Further abscissae of bispectrum rows: k2, k3 when x = k1 (equilateral); k1, k2 when x = θ (angle sweeps). */
  x2?: number;
  x3?: number;
}

/** JSON.stringify writes non-finite numbers as null; keep them readable as strings instead. */
function jsonNumber(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
}

export class JsonLinesSink {
  private fd: number | null;
  rows = 0;

  /** Creates (truncates) `file`. */
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w");
  }

  write(rows: StatisticRow | readonly StatisticRow[]): void {
    if (this.fd === null) throw new Error(`${this.file}: statistics sink used after close()`);
    const list = Array.isArray(rows) ? (rows as readonly StatisticRow[]) : [rows as StatisticRow];
    if (list.length === 0) return;
    fs.writeSync(this.fd, list.map((r) => JSON.stringify(r, jsonNumber)).join("\n") + "\n");
    this.rows += list.length;
  }

  close(): void {
    if (this.fd === null) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Arrow table: statistic, fields, x_name (utf8); x, value, count (f64); error, x2, x3 (nullable f64). */
export function statisticsTable(rows: readonly StatisticRow[], metadata: Record<string, string> = {}): Table {
  const f64 = (get: (r: StatisticRow) => number | undefined) =>
    vectorFromArray(
      rows.map((r) => get(r) ?? null),
      new Float64(),
    );
  const str = (get: (r: StatisticRow) => string) =>
    vectorFromArray(
      rows.map((r) => get(r)),
      new Utf8(),
    );
  const table = new Table({
    statistic: str((r) => r.statistic),
    fields: str((r) => r.fields),
    x: f64((r) => r.x),
    x_name: str((r) => r.xName),
    value: f64((r) => r.value),
    count: f64((r) => r.count),
    error: f64((r) => r.error),
    x2: f64((r) => r.x2),
    x3: f64((r) => r.x3),
  });
  const meta: Record<string, string> = {
    "mocksmith.format": "statistics/1",
    "mocksmith.software": `${SOFTWARE_NAME} ${SOFTWARE_VERSION}`,
    ...metadata,
  };
  for (const [k, v] of Object.entries(meta)) table.schema.metadata.set(k, v);
  return table;
}

/** Writes the rows to Parquet atomically. */
export function writeStatisticsTable(
  file: string,
  rows: readonly StatisticRow[],
  metadata: Record<string, string> = {},
): void {
  const table = statisticsTable(rows, metadata);
  const meta: Record<string, string> = {};
  for (const [k, v] of table.schema.metadata) meta[k] = v;
  writeParquet(file, table, meta);
}

/** Rows back from an Arrow table written by `statisticsTable` (nulls → absent fields). */
export function rowsFromTable(table: Table): StatisticRow[] {
  const out: StatisticRow[] = [];
  const col = (name: string) => {
    const c = table.getChild(name);
    if (c === null) throw new RangeError(`statistics table has no column ${name}`);
    return c;
  };
  const [statistic, fields, x, xName, value, count, error, x2, x3] = [
    "statistic",
    "fields",
    "x",
    "x_name",
    "value",
    "count",
    "error",
    "x2",
    "x3",
  ].map(col);
  for (let i = 0; i < table.numRows; i++) {
    const row: StatisticRow = {
      statistic: String(statistic.get(i)),
      fields: String(fields.get(i)),
      x: Number(x.get(i)),
      xName: String(xName.get(i)),
      value: Number(value.get(i)),
      count: Number(count.get(i)),
    };
    const e = error.get(i) as number | null;
    const a = x2.get(i) as number | null;
    const b = x3.get(i) as number | null;
    if (e !== null) row.error = e;
    if (a !== null) row.x2 = a;
    if (b !== null) row.x3 = b;
    out.push(row);
  }
  return out;
}
