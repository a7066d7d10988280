/**
 * Halo catalogs as Arrow tables with the DESIGN.md schema: `id` u64, `x y z` f32 Mpc/h in
 * [0, L), `vx vy vz` f32 km/s, `mass` f32 Msun/h, `mass_bin` i8 (−1: outside every bin);
 * finder catalogs add `members` u32, `b_over_a c_over_a` f32 (shape-tensor axis ratios) and the
 * unit major axis `major_x major_y major_z` f32. File metadata: cosmology, box, redshift,
 * units, seed, software version and whatever the producer adds.
 */
import { Table, makeVector } from "apache-arrow";
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

type Column = { name: string; values: Float32Array | Int8Array | Uint32Array | BigUint64Array };

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
