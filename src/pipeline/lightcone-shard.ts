/**
 * `mocksmith lightcone --shard i/n`: the sky split into deterministic shards, and their merge.
 *
 * Units: the nested HEALPix pixels at nside_u = min(nside, 8) (768 pixels for the full sky). A
 * light-cone row belongs to the unit containing its own `healpix` pixel; in the nested scheme the
 * parent of pixel p at nside N is p >> 2·log2(N / nside_u), so every row has exactly one unit and
 * the shards (contiguous unit ranges, shard.ts) are disjoint and complete. A contiguous range of
 * nested pixels is a compact patch of sky.
 *
 * A shard writes, per input catalog part that gives it rows, `input-KKKKK.shard-SSSSS.parquet`
 * (the light-cone table, metadata identical to a single-process run's) and a `.order` file: one
 * float64 (little endian) per row, halo index · replicas + replica index, the row's position in
 * the single-process part. The merge interleaves the shards' rows of each input part by that key,
 * so the merged part files (and lightcone.arrows) are byte-identical to a single-process run's.
 */
import fs from "node:fs";
import path from "node:path";
import type { Table, Vector } from "apache-arrow";
import { InputError, temporaryPathFor, writeAtomically } from "../io/atomic-file.js";
import {
  catalogColumnsOf,
  lightconeTable,
  type CatalogColumns,
  type LightconeColumns,
} from "../io/halo-catalog.js";
import { readParquet, writeParquet } from "../io/parquet-table.js";
import {
  lightconeMetadata,
  lightconeRowsKept,
  planLightcone,
  writeLightconeIpc,
  type CatalogSnapshot,
  type LightconeGeometry,
  type LightconePlan,
} from "../stages/lightcone.js";
import { silentProgress, type Progress } from "./progress.js";
import {
  fileRecord,
  shardRange,
  writeShardManifest,
  type Shard,
  type ShardFileRecord,
  type ShardManifest,
} from "./shard.js";

/** Unit kind in shard manifests. */
export const SKY_UNIT = "sky-pixel";
/** Largest nside of the sharding units (768 pixels: fine enough for hundreds of shards). */
export const SKY_UNIT_NSIDE_MAX = 8;

/** The nside of the sharding units for a light cone whose `healpix` column has `nside`. */
export function skyUnitNside(nside: number): number {
  return Math.min(nside, SKY_UNIT_NSIDE_MAX);
}

/** The unit (nested pixel at `unitNside`) of nested pixel `pixel` at `nside` (both powers of two). */
export function skyUnitOf(pixel: number, nside: number, unitNside: number): number {
  const levels = Math.round(Math.log2(nside / unitNside));
  return Math.floor(pixel / 4 ** levels);
}

/** What the shards of one light cone share; hashed into the shard manifests. */
interface LightconeShardConfig {
  metadata: Record<string, string>;
  inputParts: number;
  replicas: number;
  nside: number;
  unitNside: number;
  ipc: boolean;
}

export interface LightconeShardOptions {
  outDir: string;
  ipc?: boolean;
  progress?: Progress;
  extra?: Record<string, unknown>;
}

export interface LightconeShardResult {
  rows: number;
  files: ShardFileRecord[];
  units: { total: number; start: number; end: number };
}

const PART = /^input-(\d{5})\.shard-\d{5}\.parquet$/;

/** Shard `shard` of the light cone of `snapshots`: its sky units' rows and a shard manifest in `outDir`. */
export function writeLightconeShard(
  snapshots: readonly CatalogSnapshot[],
  geometry: LightconeGeometry,
  shard: Shard,
  write: LightconeShardOptions,
): LightconeShardResult {
  for (const s of snapshots) {
    if (Math.abs(s.boxSize - geometry.boxSize) > 1e-9 * geometry.boxSize)
      throw new InputError(s.source, `box size ${s.boxSize} Mpc/h differs from ${geometry.boxSize} Mpc/h`);
  }
  const plan = planLightcone(
    geometry,
    snapshots.map((s) => s.redshift),
  );
  const metadata = lightconeMetadata(geometry, plan, snapshots, write.extra);
  const inputParts = snapshots.reduce((n, s) => n + s.parts.length, 0);
  const writer = new LightconeShardWriter(geometry, plan, metadata, shard, inputParts, write);
  const progress = write.progress ?? silentProgress;
  let k = 0;
  progress.start("lightcone", inputParts);
  for (let s = 0; s < snapshots.length; s++) {
    for (const file of snapshots[s].parts) {
      // A shard that owns no units (more shards than units) reads nothing.
      if (writer.ownsUnits) writer.add(catalogColumnsOf(readParquet(file).table, file), s);
      else writer.skip();
      progress.advance("lightcone", ++k);
    }
  }
  const result = writer.finish();
  const { start, end, total } = result.units;
  progress.finish("lightcone", `${result.rows} haloes in sky units ${start}…${end - 1} of ${total}`);
  return result;
}

/**
 * Writes one shard of a light cone input part by input part (a catalog part, or a painted
 * shell's catalog; `inputParts` of them, added or skipped in order), then its shard manifest.
 */
export class LightconeShardWriter {
  private readonly files: ShardFileRecord[] = [];
  private rows = 0;
  private k = 0;
  private readonly units: { total: number; start: number; end: number };
  private readonly keep: (pixel: number) => boolean;
  private readonly unitNside: number;

  constructor(
    private readonly geometry: LightconeGeometry,
    private readonly plan: LightconePlan,
    private readonly metadata: Record<string, string>,
    private readonly shard: Shard,
    private readonly inputParts: number,
    private readonly write: LightconeShardOptions,
  ) {
    this.unitNside = skyUnitNside(geometry.nside);
    const total = 12 * this.unitNside * this.unitNside;
    const { start, end } = shardRange(total, shard);
    this.units = { total, start, end };
    this.keep = (pixel: number) => {
      const u = skyUnitOf(pixel, geometry.nside, this.unitNside);
      return u >= start && u < end;
    };
    fs.mkdirSync(write.outDir, { recursive: true });
  }

  /** Whether this shard owns any sky units (with none, every input part can be skipped). */
  get ownsUnits(): boolean {
    return this.units.end > this.units.start;
  }

  /** Passes over the next input part without reading it (a shard owning no units). */
  skip(): void {
    this.k++;
  }

  /** The shard's rows of the next input part, taken for shell `shell`; returns how many. */
  add(halos: CatalogColumns, shell: number): number {
    const k = this.k++;
    const { columns, source } = lightconeRowsKept(
      halos,
      this.plan.shells[shell],
      this.plan,
      this.geometry,
      this.keep,
    );
    if (source.length === 0) return 0;
    const R = this.plan.replicas.length;
    const dir = this.write.outDir;
    const base = `input-${String(k).padStart(5, "0")}.shard-${String(this.shard.index).padStart(5, "0")}`;
    writeParquet(path.join(dir, `${base}.parquet`), lightconeTable(columns, this.metadata), this.metadata);
    const keys = Float64Array.from(source, (h, i) => h * R + columns.replica[i]);
    writeAtomically(path.join(dir, `${base}.order`), (tmp) =>
      fs.writeFileSync(tmp, new Uint8Array(keys.buffer)),
    );
    this.files.push(fileRecord(dir, `${base}.parquet`, source.length), fileRecord(dir, `${base}.order`));
    this.rows += source.length;
    return source.length;
  }

  finish(): LightconeShardResult {
    if (this.k !== this.inputParts)
      throw new Error(`internal: ${this.k} of ${this.inputParts} light-cone input parts were given`);
    const config: LightconeShardConfig = {
      metadata: this.metadata,
      inputParts: this.inputParts,
      replicas: this.plan.replicas.length,
      nside: this.geometry.nside,
      unitNside: this.unitNside,
      ipc: this.write.ipc !== false,
    };
    writeShardManifest(this.write.outDir, {
      command: "lightcone",
      unit: SKY_UNIT,
      config,
      shard: this.shard,
      units: this.units,
      files: this.files,
    });
    return { rows: this.rows, files: this.files, units: this.units };
  }
}

function lightconeColumnsOf(table: Table, source: string): LightconeColumns {
  const column = <T>(name: string, ctor: abstract new (n: number) => T): T => {
    const values = (table.getChild(name) as Vector | null)?.toArray() as unknown;
    if (!(values instanceof ctor))
      throw new InputError(source, `light-cone column '${name}' is missing or mistyped`);
    return values as T;
  };
  return {
    ...catalogColumnsOf(table, source),
    ra: column("ra", Float64Array),
    dec: column("dec", Float64Array),
    zCos: column("z_cos", Float64Array),
    zObs: column("z_obs", Float64Array),
    chi: column("chi", Float32Array),
    healpix: column("healpix", BigInt64Array),
    replica: column("replica", Int32Array),
  };
}

type Columns = LightconeColumns;
type ColumnArray = Columns[keyof Columns];

/** Rows `order` of the concatenation of `pieces`, column by column. */
function gather(pieces: Columns[], order: Int32Array): Columns {
  const names = Object.keys(pieces[0]) as (keyof Columns)[];
  const out = {} as Record<keyof Columns, ColumnArray>;
  for (const name of names) {
    const first = pieces[0][name];
    const all = new (first.constructor as new (n: number) => typeof first)(
      pieces.reduce((n, p) => n + p[name].length, 0),
    );
    let at = 0;
    for (const p of pieces) {
      (all as Float64Array).set(p[name] as Float64Array, at);
      at += p[name].length;
    }
    const picked = new (first.constructor as new (n: number) => typeof first)(order.length);
    for (let i = 0; i < order.length; i++) (picked as Float64Array)[i] = (all as Float64Array)[order[i]];
    out[name] = picked;
  }
  return out as unknown as Columns;
}

/**
 * Commits a checked set of light-cone shards (shard-merge.ts has verified manifests, coverage and
 * checksums) as OUT/part-NNNNN.parquet, OUT/lightcone.arrows and the dataset manifest.
 */
export function commitLightcone(
  shards: readonly { dir: string; manifest: ShardManifest }[],
  output: string,
  datasetManifest: { name: string; text: (files: ShardFileRecord[]) => string },
): ShardFileRecord[] {
  const config = shards[0].manifest.config as LightconeShardConfig;
  const byInput = new Map<number, { dir: string; base: string }[]>();
  for (const s of shards)
    for (const f of s.manifest.files) {
      const m = PART.exec(f.path);
      if (!m) continue;
      const k = Number(m[1]);
      byInput.set(k, [...(byInput.get(k) ?? []), { dir: s.dir, base: f.path.replace(/\.parquet$/, "") }]);
    }
  const tmp = temporaryPathFor(path.resolve(output));
  fs.mkdirSync(tmp);
  try {
    const files: ShardFileRecord[] = [];
    const tables: Table[] = [];
    for (let k = 0; k < config.inputParts; k++) {
      const pieces = byInput.get(k);
      if (!pieces) continue;
      const columns: Columns[] = [];
      const keys: number[] = [];
      for (const p of pieces) {
        const file = path.join(p.dir, `${p.base}.parquet`);
        const c = lightconeColumnsOf(readParquet(file).table, file);
        const bytes = fs.readFileSync(path.join(p.dir, `${p.base}.order`));
        const order = new Float64Array(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        );
        if (order.length !== c.id.length)
          throw new InputError(`${p.base}.order`, `${order.length} keys for ${c.id.length} rows`);
        columns.push(c);
        for (const key of order) keys.push(key);
      }
      const order = Int32Array.from(keys.keys()).sort((a, b) => keys[a] - keys[b]);
      for (let i = 1; i < order.length; i++)
        if (keys[order[i]] === keys[order[i - 1]])
          throw new InputError("merge", `input part ${k}: one light-cone row held by two shards (overlap)`);
      const table = lightconeTable(gather(columns, order), config.metadata);
      const name = `part-${String(tables.length).padStart(5, "0")}.parquet`;
      writeParquet(path.join(tmp, name), table, config.metadata);
      tables.push(table);
      files.push(fileRecord(tmp, name, order.length));
    }
    if (config.ipc) {
      writeLightconeIpc(path.join(tmp, "lightcone.arrows"), tables, config.metadata);
      files.push(fileRecord(tmp, "lightcone.arrows"));
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
