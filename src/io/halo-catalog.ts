/**
 * Halo catalogs as Arrow tables with the DESIGN.md schema: `id` u64, `x y z` f32 Mpc/h in
 * [0, L), `vx vy vz` f32 km/s, `mass` f32 Msun/h, `mass_bin` i8 (−1: outside every bin);
 * finder catalogs add `members` u32, `b_over_a c_over_a` f32 (shape-tensor axis ratios) and the
 * unit major axis `major_x major_y major_z` f32. File metadata: cosmology, box, redshift,
 * units, seed, software version and whatever the producer adds.
 */
import { Table, makeVector, type Vector } from "apache-arrow";
import { InputError } from "./atomic-file.js";
import type { Halo } from "../cosmo/halo-properties.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import { writeParquet } from "./parquet-table.js";

export const CATALOG_UNITS = {
  x: "Mpc/h (comoving)",
  v: "km/s (peculiar)",
  mass: "Msun/h",
};

export interface CatalogMetadata {
  boxSize: number;
  redshift: number;
  cosmology: Record<string, number>;
  seed?: number;
  /** Anything else worth keeping (model id and hash, finder parameters, mass bins). */
  extra?: Record<string, unknown>;
}

type Column = {
  name: string;
  values: Float32Array | Float64Array | Int8Array | Int32Array | Uint32Array | BigUint64Array | BigInt64Array;
};

/** Arrow infers each column's type from its typed array (f32, i8, u32, u64). */
function tableOf(columns: Column[], metadata: Record<string, string>): Table {
  const table = new Table(Object.fromEntries(columns.map((c) => [c.name, makeVector(c.values)])));
  for (const [k, v] of Object.entries(metadata)) table.schema.metadata.set(k, v);
  return table;
}

export function catalogMetadataRecord(meta: CatalogMetadata): Record<string, string> {
  return {
    "mocksmith.format": "halo-catalog/1",
    "mocksmith.box_size": String(meta.boxSize),
    "mocksmith.redshift": String(meta.redshift),
    "mocksmith.cosmology": JSON.stringify(meta.cosmology),
    "mocksmith.units": JSON.stringify(CATALOG_UNITS),
    ...(meta.seed !== undefined ? { "mocksmith.seed": String(meta.seed) } : {}),
    "mocksmith.software": `${SOFTWARE_NAME} ${SOFTWARE_VERSION}`,
    ...Object.fromEntries(
      Object.entries(meta.extra ?? {}).map(([k, v]) => [`mocksmith.${k}`, JSON.stringify(v)]),
    ),
  };
}

/** Index of the bin [edges[i], edges[i+1]) holding `mass`, or −1. */
export function massBinOf(mass: number, edges: readonly number[]): number {
  for (let i = 0; i + 1 < edges.length; i++) if (mass >= edges[i] && mass < edges[i + 1]) return i;
  return -1;
}

/** A finder catalog (FoF haloes with shapes) as an Arrow table. */
export function haloTable(
  halos: readonly Halo[],
  massEdges: readonly number[],
  meta: CatalogMetadata,
): Table {
  const n = halos.length;
  const col = () => new Float32Array(n);
  const [x, y, z, vx, vy, vz, mass, ba, ca, mx, my, mz] = Array.from({ length: 12 }, col);
  const id = new BigUint64Array(n);
  const bin = new Int8Array(n);
  const members = new Uint32Array(n);
  halos.forEach((h, i) => {
    id[i] = BigInt(i);
    [x[i], y[i], z[i]] = h.centre;
    [vx[i], vy[i], vz[i]] = h.velocity;
    mass[i] = h.mass;
    bin[i] = massBinOf(h.mass, massEdges);
    members[i] = h.members;
    [ba[i], ca[i]] = h.axisRatios;
    [mx[i], my[i], mz[i]] = h.axes[0];
  });
  const columns: Column[] = [
    { name: "id", values: id },
    { name: "x", values: x },
    { name: "y", values: y },
    { name: "z", values: z },
    { name: "vx", values: vx },
    { name: "vy", values: vy },
    { name: "vz", values: vz },
    { name: "mass", values: mass },
    { name: "mass_bin", values: bin },
    { name: "members", values: members },
    { name: "b_over_a", values: ba },
    { name: "c_over_a", values: ca },
    { name: "major_x", values: mx },
    { name: "major_y", values: my },
    { name: "major_z", values: mz },
  ];
  const record = catalogMetadataRecord({ ...meta, extra: { ...meta.extra, mass_bin_edges: massEdges } });
  return tableOf(columns, record);
}

export function writeHaloCatalog(file: string, table: Table): void {
  const metadata: Record<string, string> = {};
  for (const [k, v] of table.schema.metadata) metadata[k] = v;
  writeParquet(file, table, metadata);
}

/** The columns of a sampled catalog (DESIGN.md "Catalogs"), one entry per halo. */
export interface CatalogColumns {
  id: BigUint64Array;
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
  vx: Float32Array;
  vy: Float32Array;
  vz: Float32Array;
  mass: Float32Array;
  massBin: Int8Array;
}

/** Light-cone rows: the catalog columns of the source halo plus its place on the sky. */
export interface LightconeColumns extends CatalogColumns {
  ra: Float64Array;
  dec: Float64Array;
  zCos: Float64Array;
  zObs: Float64Array;
  chi: Float32Array;
  healpix: BigInt64Array;
  /** Index of the periodic replica (metadata "replicas" lists their offsets in box units). */
  replica: Int32Array;
}

function catalogColumnList(c: CatalogColumns): Column[] {
  return [
    { name: "id", values: c.id },
    { name: "x", values: c.x },
    { name: "y", values: c.y },
    { name: "z", values: c.z },
    { name: "vx", values: c.vx },
    { name: "vy", values: c.vy },
    { name: "vz", values: c.vz },
    { name: "mass", values: c.mass },
    { name: "mass_bin", values: c.massBin },
  ];
}

/** A sampled catalog as an Arrow table with the DESIGN.md schema and `metadata` on its schema. */
export function catalogTable(columns: CatalogColumns, metadata: Record<string, string>): Table {
  return tableOf(catalogColumnList(columns), metadata);
}

/** Light-cone table: `ra dec` f64 deg, `z_cos z_obs` f64, `chi` f32, `healpix` i64, then the catalog columns. */
export function lightconeTable(columns: LightconeColumns, metadata: Record<string, string>): Table {
  return tableOf(
    [
      { name: "ra", values: columns.ra },
      { name: "dec", values: columns.dec },
      { name: "z_cos", values: columns.zCos },
      { name: "z_obs", values: columns.zObs },
      { name: "chi", values: columns.chi },
      { name: "healpix", values: columns.healpix },
      { name: "replica", values: columns.replica },
      ...catalogColumnList(columns),
    ],
    metadata,
  );
}

export function emptyCatalogColumns(): CatalogColumns {
  const f = () => new Float32Array(0);
  return {
    id: new BigUint64Array(0),
    x: f(),
    y: f(),
    z: f(),
    vx: f(),
    vy: f(),
    vz: f(),
    mass: f(),
    massBin: new Int8Array(0),
  };
}

type TypedCtor<T> = { new (n: number): T; readonly name: string };

function columnOf<T extends Column["values"]>(
  table: Table,
  name: string,
  ctor: TypedCtor<T>,
  source: string,
): T {
  const vector = table.getChild(name) as Vector | null;
  if (!vector) throw new InputError(source, `catalog has no column '${name}'`);
  if (vector.nullCount > 0)
    throw new InputError(source, `column '${name}' has ${vector.nullCount} null value(s)`);
  const values = vector.toArray() as unknown;
  if (!(values instanceof ctor)) {
    throw new InputError(source, `column '${name}' has type ${String(vector.type)}, expected ${ctor.name}`);
  }
  return values as T;
}

/** The catalog columns of a table read from `source` (a file name for errors), checking names and types. */
export function catalogColumnsOf(table: Table, source: string): CatalogColumns {
  return {
    id: columnOf(table, "id", BigUint64Array, source),
    x: columnOf(table, "x", Float32Array, source),
    y: columnOf(table, "y", Float32Array, source),
    z: columnOf(table, "z", Float32Array, source),
    vx: columnOf(table, "vx", Float32Array, source),
    vy: columnOf(table, "vy", Float32Array, source),
    vz: columnOf(table, "vz", Float32Array, source),
    mass: columnOf(table, "mass", Float32Array, source),
    massBin: columnOf(table, "mass_bin", Int8Array, source),
  };
}
