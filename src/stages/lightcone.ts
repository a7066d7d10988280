/**
 * The light-cone stage: halo catalogs of periodic boxes at one or more redshifts → haloes on the
 * past light cone of an observer (DESIGN.md "Catalogs", light-cone columns).
 *
 * Geometry: the observer sits at `observer` (box coordinates, inside [0, L)³). The box is
 * replicated periodically: every copy n ∈ Z³ whose cube [nL, (n+1)L)³ reaches the distance
 * range [χ_min, χ_max) (and, for a cone, whose bounding sphere reaches the cone) contributes its
 * haloes at r = x + nL − observer. Sky frame: the box axes, RA = atan2(r_y, r_x) ∈ [0°, 360°),
 * Dec = asin(r_z / χ); HEALPix θ = 90° − Dec, φ = RA (nested, cosmo/healpix).
 * Shells: a halo at comoving distance χ = |r| has z_cos = z(χ) (cosmo/distance) and is taken
 * from the snapshot whose redshift is nearest z_cos, so shell boundaries sit at the midpoints
 * of consecutive snapshot redshifts. A shell may not reach further than `maxRedshiftGap` from its
 * snapshot's redshift (default 0.25): that is the redshift range the snapshots cover.
 * Redshift-space: z_obs = (1 + z_cos)(1 + v_los / c) − 1 with v_los = v·r̂ (receding > 0).
 * A halo exactly at the observer (χ = 0) has no direction and is dropped.
 */
import fs from "node:fs";
import path from "node:path";
import type { Cosmology } from "../cosmo/cosmology.js";
import { makeCosmology } from "../cosmo/cosmology.js";
import { comovingDistance, redshiftAtComovingDistance, SPEED_OF_LIGHT_KM_S } from "../cosmo/distance.js";
import { checkNside, vec2pixNest } from "../cosmo/healpix.js";
import { RecordBatchStreamWriter, Table } from "apache-arrow";
import { InputError, writeAtomically, writeDirectoryAtomically } from "../io/atomic-file.js";
import {
  catalogColumnsOf,
  CATALOG_UNITS,
  lightconeTable,
  type CatalogColumns,
  type LightconeColumns,
} from "../io/halo-catalog.js";
import { readParquet, writeParquet } from "../io/parquet-table.js";
import { silentProgress, type Progress } from "../pipeline/progress.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";

export interface Cone {
  /** Centre, degrees. */
  ra: number;
  dec: number;
  /** Angular radius, degrees (≤ 180; 180 is the full sky). */
  radius: number;
}

export interface LightconeGeometry {
  boxSize: number;
  cosmology: Cosmology;
  /** Observer position in box coordinates, Mpc/h. */
  observer: readonly [number, number, number];
  /** Comoving distance range [chiMin, chiMax), Mpc/h. */
  chiMin?: number;
  chiMax: number;
  /** Full sky when absent. */
  cone?: Cone;
  /** HEALPix nside of the `healpix` column (power of two). */
  nside: number;
  /** Largest |z_cos − z_snapshot| allowed (default 0.25). */
  maxRedshiftGap?: number;
  /** How the distance limit was given, for error messages (default "--chi-max"). */
  rangeKey?: string;
}

export interface LightconeShell {
  /** Snapshot redshift the shell's haloes come from. */
  redshift: number;
  chiLow: number;
  chiHigh: number;
}

export interface LightconePlan {
  /** Replica offsets in box units. */
  replicas: [number, number, number][];
  /** One shell per snapshot, in the snapshots' order (empty shells have chiLow ≥ chiHigh). */
  shells: LightconeShell[];
}

const DEG = Math.PI / 180;

function unitVector(ra: number, dec: number): [number, number, number] {
  return [
    Math.cos(dec * DEG) * Math.cos(ra * DEG),
    Math.cos(dec * DEG) * Math.sin(ra * DEG),
    Math.sin(dec * DEG),
  ];
}

/** Validates the geometry; errors name the offending key. */
export function checkLightconeGeometry(g: LightconeGeometry): void {
  const L = g.boxSize;
  if (!(L > 0) || !Number.isFinite(L)) throw new InputError("box size", `must be > 0 Mpc/h, got ${L}`);
  g.observer.forEach((v, c) => {
    if (!(v >= 0 && v < L)) {
      throw new InputError(
        "--observer",
        `${"xyz"[c]} = ${v} Mpc/h is outside the box [0, ${L}); the observer must be inside the box`,
      );
    }
  });
  const chiMin = g.chiMin ?? 0;
  const rangeKey = g.rangeKey ?? "--chi-max";
  if (!(g.chiMax > chiMin) || !Number.isFinite(g.chiMax))
    throw new InputError(rangeKey, `distance limit ${g.chiMax} Mpc/h must be finite and > χ_min = ${chiMin}`);
  if (g.cone) {
    const { ra, dec, radius } = g.cone;
    if (!(radius > 0)) throw new InputError("--cone", `radius must be > 0°, got ${radius}`);
    if (radius > 180)
      throw new InputError("--cone", `radius ${radius}° is wider than the sky (at most 180°, the full sky)`);
    if (!(dec >= -90 && dec <= 90)) throw new InputError("--cone", `Dec ${dec}° is outside [−90°, 90°]`);
    if (!Number.isFinite(ra)) throw new InputError("--cone", `RA ${ra} is not a number`);
  }
  try {
    checkNside(g.nside);
  } catch (err) {
    throw new InputError("--nside", (err as Error).message);
  }
}

/** Validates the geometry and works out replicas and shells; errors name the offending key. */
export function planLightcone(g: LightconeGeometry, snapshotRedshifts: readonly number[]): LightconePlan {
  checkLightconeGeometry(g);
  const chiMin = g.chiMin ?? 0;
  const rangeKey = g.rangeKey ?? "--chi-max";
  if (snapshotRedshifts.length === 0) throw new InputError("--catalog", "no catalog given");
  const zs = [...snapshotRedshifts];
  const sorted = [...new Set(zs)].sort((a, b) => a - b);
  if (sorted.length !== zs.length)
    throw new InputError("--catalog", `two catalogs share a redshift (${zs.join(", ")})`);
  const gap = g.maxRedshiftGap ?? 0.25;
  const shells = zs.map((z) => {
    const i = sorted.indexOf(z);
    const zLow = i === 0 ? 0 : 0.5 * (sorted[i - 1] + z);
    const chiLow = Math.max(chiMin, comovingDistance(g.cosmology, zLow));
    const chiHigh =
      i === sorted.length - 1
        ? g.chiMax
        : Math.min(g.chiMax, comovingDistance(g.cosmology, 0.5 * (z + sorted[i + 1])));
    if (chiHigh > chiLow) {
      const zNear = redshiftAtComovingDistance(g.cosmology, chiLow);
      const zFar = redshiftAtComovingDistance(g.cosmology, chiHigh);
      if (zFar - z > gap + 1e-12) {
        throw new InputError(
          rangeKey,
          `the light cone reaches z = ${zFar.toFixed(4)}, ${(zFar - z).toFixed(4)} beyond the nearest catalog (z = ${z}); the catalogs cover z ≤ ${(sorted[sorted.length - 1] + gap).toFixed(4)} (max redshift gap ${gap})`,
        );
      }
      if (z - zNear > gap + 1e-12) {
        throw new InputError(
          "--catalog",
          `the shell from z = ${zNear.toFixed(4)} is ${(z - zNear).toFixed(4)} below its nearest catalog (z = ${z}); add a catalog at lower redshift (max redshift gap ${gap})`,
        );
      }
    }
    return { redshift: z, chiLow, chiHigh };
  });
  return { replicas: lightconeReplicas(g), shells };
}

/**
 * Shells of a painted light cone: [edges[i], edges[i+1]) in comoving distance, each painted at the
 * redshift of its volume-weighted mean distance χ_eff = (3/4)(χ₂⁴ − χ₁⁴)/(χ₂³ − χ₁³) (the mean of
 * χ over the shell's volume, ∝ χ² dχ), z = z(χ_eff). The geometry's χ range must be the edges'.
 */
export function planPaintedLightcone(g: LightconeGeometry, edges: readonly number[]): LightconePlan {
  checkLightconeGeometry(g);
  if (
    edges.length < 2 ||
    edges.some((e, i) => !Number.isFinite(e) || e < 0 || (i > 0 && !(e > edges[i - 1])))
  )
    throw new InputError("--shell-edges", `need increasing distances ≥ 0 Mpc/h, got ${edges.join(", ")}`);
  if (edges[0] !== (g.chiMin ?? 0) || edges[edges.length - 1] !== g.chiMax)
    throw new Error("internal: the geometry's distance range must be the shell edges' range");
  const shells = edges.slice(1).map((chiHigh, i) => {
    const chiLow = edges[i];
    const chiEff = (0.75 * (chiHigh ** 4 - chiLow ** 4)) / (chiHigh ** 3 - chiLow ** 3);
    return { redshift: redshiftAtComovingDistance(g.cosmology, chiEff), chiLow, chiHigh };
  });
  return { replicas: lightconeReplicas(g), shells };
}

/** Replicas of the box (offsets in box units) that reach the distance range and the cone. */
export function lightconeReplicas(g: LightconeGeometry): [number, number, number][] {
  const L = g.boxSize;
  const chiMin = g.chiMin ?? 0;
  const replicas: [number, number, number][] = [];
  const reach = Math.ceil(g.chiMax / L) + 1;
  const axis = g.cone ? unitVector(g.cone.ra, g.cone.dec) : undefined;
  const halfDiagonal = (Math.sqrt(3) * L) / 2;
  for (let i = -reach; i <= reach; i++)
    for (let j = -reach; j <= reach; j++)
      for (let k = -reach; k <= reach; k++) {
        const n = [i, j, k];
        let near = 0;
        let far = 0;
        for (let c = 0; c < 3; c++) {
          const lo = n[c] * L - g.observer[c];
          const hi = lo + L;
          const d = lo > 0 ? lo : hi < 0 ? -hi : 0;
          near += d * d;
          far += Math.max(lo * lo, hi * hi);
        }
        if (Math.sqrt(near) >= g.chiMax || Math.sqrt(far) < chiMin) continue;
        if (axis && g.cone!.radius < 180) {
          const centre = n.map((v, c) => (v + 0.5) * L - g.observer[c]);
          const d = Math.hypot(centre[0], centre[1], centre[2]);
          if (d > halfDiagonal) {
            const cos = (centre[0] * axis[0] + centre[1] * axis[1] + centre[2] * axis[2]) / d;
            const angle = Math.acos(Math.min(1, Math.max(-1, cos)));
            if (angle - Math.asin(halfDiagonal / d) > g.cone!.radius * DEG) continue;
          }
        }
        replicas.push([i, j, k]);
      }
  return replicas;
}

/** Growable light-cone columns. */
class RowBuilder {
  n = 0;
  private cap = 0;
  f64 = {
    ra: new Float64Array(0),
    dec: new Float64Array(0),
    zCos: new Float64Array(0),
    zObs: new Float64Array(0),
  };
  chi = new Float32Array(0);
  pix = new BigInt64Array(0);
  replica = new Int32Array(0);
  source = new Uint32Array(0);

  push(
    ra: number,
    dec: number,
    zCos: number,
    zObs: number,
    chi: number,
    pix: number,
    replica: number,
    source: number,
  ): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.f64.ra[i] = ra;
    this.f64.dec[i] = dec;
    this.f64.zCos[i] = zCos;
    this.f64.zObs[i] = zObs;
    this.chi[i] = chi;
    this.pix[i] = BigInt(pix);
    this.replica[i] = replica;
    this.source[i] = source;
  }

  private grow(): void {
    const cap = Math.max(1024, 2 * this.cap);
    const grown = <T extends Float64Array | Float32Array | BigInt64Array | Int32Array | Uint32Array>(
      a: T,
    ): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      (b as Float64Array).set(a as Float64Array);
      return b;
    };
    this.f64 = {
      ra: grown(this.f64.ra),
      dec: grown(this.f64.dec),
      zCos: grown(this.f64.zCos),
      zObs: grown(this.f64.zObs),
    };
    this.chi = grown(this.chi);
    this.pix = grown(this.pix);
    this.replica = grown(this.replica);
    this.source = grown(this.source);
    this.cap = cap;
  }
}

/** The light-cone rows that the haloes of one catalog chunk give in `shell`. */
export function lightconeRows(
  halos: CatalogColumns,
  shell: LightconeShell,
  plan: LightconePlan,
  g: LightconeGeometry,
): LightconeColumns {
  return lightconeRowsKept(halos, shell, plan, g).columns;
}

/**
 * The rows of `lightconeRows` whose HEALPix pixel passes `keep` (all when absent), in the same
 * order, with each row's source halo index: a sky shard (pipeline/lightcone-shard.ts) keeps its own
 * pixels before paying for z(χ), and the merge restores the single-process order from
 * (halo, replica).
 */
export function lightconeRowsKept(
  halos: CatalogColumns,
  shell: LightconeShell,
  plan: LightconePlan,
  g: LightconeGeometry,
  keep?: (pixel: number) => boolean,
): { columns: LightconeColumns; source: Uint32Array } {
  const L = g.boxSize;
  const [ox, oy, oz] = g.observer;
  const axis = g.cone ? unitVector(g.cone.ra, g.cone.dec) : undefined;
  const cosRadius = g.cone && g.cone.radius < 180 ? Math.cos(g.cone.radius * DEG) : -2;
  const out = new RowBuilder();
  if (!(shell.chiHigh > shell.chiLow)) return { columns: select(halos, out), source: new Uint32Array(0) };
  for (let h = 0; h < halos.id.length; h++) {
    for (let r = 0; r < plan.replicas.length; r++) {
      const [i, j, k] = plan.replicas[r];
      const rx = halos.x[h] + i * L - ox;
      const ry = halos.y[h] + j * L - oy;
      const rz = halos.z[h] + k * L - oz;
      const chi = Math.sqrt(rx * rx + ry * ry + rz * rz);
      if (!(chi >= shell.chiLow && chi < shell.chiHigh) || chi === 0) continue;
      if (axis && (rx * axis[0] + ry * axis[1] + rz * axis[2]) / chi < cosRadius) continue;
      const pixel = vec2pixNest(g.nside, rx, ry, rz);
      if (keep && !keep(pixel)) continue;
      const zCos = redshiftAtComovingDistance(g.cosmology, chi);
      const vlos = (halos.vx[h] * rx + halos.vy[h] * ry + halos.vz[h] * rz) / chi;
      const zObs = (1 + zCos) * (1 + vlos / SPEED_OF_LIGHT_KM_S) - 1;
      let ra = Math.atan2(ry, rx) / DEG;
      if (ra < 0) ra += 360;
      if (ra >= 360) ra -= 360;
      const dec = Math.asin(Math.max(-1, Math.min(1, rz / chi))) / DEG;
      out.push(ra, dec, zCos, zObs, chi, pixel, r, h);
    }
  }
  return { columns: select(halos, out), source: out.source.slice(0, out.n) };
}

function select(halos: CatalogColumns, rows: RowBuilder): LightconeColumns {
  const n = rows.n;
  const idx = rows.source.subarray(0, n);
  const pick = <T extends Float32Array | Int8Array | BigUint64Array>(a: T): T => {
    const b = new (a.constructor as new (n: number) => T)(n);
    for (let i = 0; i < n; i++) b[i] = a[idx[i]];
    return b;
  };
  return {
    ra: rows.f64.ra.slice(0, n),
    dec: rows.f64.dec.slice(0, n),
    zCos: rows.f64.zCos.slice(0, n),
    zObs: rows.f64.zObs.slice(0, n),
    chi: rows.chi.slice(0, n),
    healpix: rows.pix.slice(0, n),
    replica: rows.replica.slice(0, n),
    id: pick(halos.id),
    x: pick(halos.x),
    y: pick(halos.y),
    z: pick(halos.z),
    vx: pick(halos.vx),
    vy: pick(halos.vy),
    vz: pick(halos.vz),
    mass: pick(halos.mass),
    massBin: pick(halos.massBin),
  };
}

/** A catalog snapshot on disk: a Parquet file or a directory of part-*.parquet, and its metadata. */
export interface CatalogSnapshot {
  source: string;
  parts: string[];
  redshift: number;
  boxSize: number;
  cosmology: Cosmology;
  metadata: Record<string, string>;
}

export function openCatalogSnapshot(source: string): CatalogSnapshot {
  let parts: string[];
  if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
    parts = fs
      .readdirSync(source)
      .filter((f) => /^part-\d+\.parquet$/.test(f))
      .sort()
      .map((f) => path.join(source, f));
    if (parts.length === 0) throw new InputError(source, "directory holds no part-NNNNN.parquet files");
  } else {
    parts = [source];
  }
  const { metadata } = readParquet(parts[0]);
  const number = (key: string): number => {
    const v = Number(metadata[`mocksmith.${key}`]);
    if (metadata[`mocksmith.${key}`] === undefined || !Number.isFinite(v))
      throw new InputError(
        parts[0],
        `metadata has no numeric 'mocksmith.${key}'; not a mocksmith halo catalog`,
      );
    return v;
  };
  let cosmology: Cosmology;
  try {
    cosmology = makeCosmology(JSON.parse(metadata["mocksmith.cosmology"] ?? "null") as Partial<Cosmology>);
  } catch (err) {
    throw new InputError(parts[0], `metadata 'mocksmith.cosmology' is unusable (${(err as Error).message})`);
  }
  return { source, parts, redshift: number("redshift"), boxSize: number("box_size"), cosmology, metadata };
}

export interface LightconeWriteOptions {
  outDir: string;
  /** Also write the Arrow IPC stream lightcone.arrows (default true). */
  ipc?: boolean;
  progress?: Progress;
  /** Extra provenance for the metadata. */
  extra?: Record<string, unknown>;
}

export interface LightconeWriteResult {
  parts: string[];
  ipc?: string;
  rows: number;
  plan: LightconePlan;
  metadata: Record<string, string>;
}

export function lightconeMetadata(
  g: LightconeGeometry,
  plan: LightconePlan,
  snapshots: readonly { source: string; redshift: number }[],
  extra: Record<string, unknown> = {},
): Record<string, string> {
  const { cosmology, boxSize } = g;
  return {
    "mocksmith.format": "lightcone/1",
    "mocksmith.box_size": String(boxSize),
    "mocksmith.cosmology": JSON.stringify(cosmology),
    "mocksmith.units": JSON.stringify({ ...CATALOG_UNITS, ra: "deg", dec: "deg", chi: "Mpc/h (comoving)" }),
    "mocksmith.observer": JSON.stringify(g.observer),
    "mocksmith.chi_range": JSON.stringify([g.chiMin ?? 0, g.chiMax]),
    "mocksmith.cone": JSON.stringify(g.cone ?? "full-sky"),
    "mocksmith.healpix_nside": String(g.nside),
    "mocksmith.healpix_ordering": "nested",
    "mocksmith.sky_frame": "box axes: RA = atan2(y, x), Dec = asin(z / chi), relative to the observer",
    "mocksmith.replicas": JSON.stringify(plan.replicas),
    "mocksmith.shells": JSON.stringify(plan.shells.map((s, i) => ({ ...s, source: snapshots[i]?.source }))),
    "mocksmith.z_obs": "(1 + z_cos)(1 + v_los/c) - 1",
    "mocksmith.software": `${SOFTWARE_NAME} ${SOFTWARE_VERSION}`,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`mocksmith.${k}`, JSON.stringify(v)])),
  };
}

/**
 * Builds the light cone from catalog snapshots on disk, one input part at a time (memory: one
 * part's haloes and their light-cone rows), writing one Parquet part per input part that
 * contributes rows and the Arrow IPC stream lightcone.arrows. `outDir` appears only when complete
 * (written under a temporary name, then renamed); an existing non-empty `outDir` is refused.
 */
export async function writeLightcone(
  snapshots: readonly CatalogSnapshot[],
  geometry: LightconeGeometry,
  write: LightconeWriteOptions,
): Promise<LightconeWriteResult> {
  for (const s of snapshots) {
    if (Math.abs(s.boxSize - geometry.boxSize) > 1e-9 * geometry.boxSize)
      throw new InputError(s.source, `box size ${s.boxSize} Mpc/h differs from ${geometry.boxSize} Mpc/h`);
  }
  const plan = planLightcone(
    geometry,
    snapshots.map((s) => s.redshift),
  );
  const metadata = lightconeMetadata(geometry, plan, snapshots, write.extra);
  const progress = write.progress ?? silentProgress;
  const totalParts = snapshots.reduce((n, s) => n + s.parts.length, 0);
  // Input parts are read only as they are placed, so a damaged one can fail the run late: the
  // cone is written whole into a temporary directory and renamed into place only when complete.
  const result = await writeDirectoryAtomically(write.outDir, (tmp) => {
    const writer = new LightconePartWriter(geometry, plan, metadata, { ...write, outDir: tmp });
    let done = 0;
    progress.start("lightcone", totalParts);
    for (let s = 0; s < snapshots.length; s++) {
      for (const file of snapshots[s].parts) {
        writer.add(catalogColumnsOf(readParquet(file).table, file), s);
        progress.advance("lightcone", ++done);
      }
    }
    return writer.finish();
  });
  const moved = (f: string) => path.join(write.outDir, path.basename(f));
  progress.finish("lightcone", `${result.rows} haloes from ${plan.replicas.length} replica(s)`);
  return { ...result, parts: result.parts.map(moved), ipc: result.ipc && moved(result.ipc) };
}

/**
 * Writes a light cone input part by input part (a catalog part, or a painted shell's catalog):
 * one Parquet part per input part that contributes rows, then the Arrow IPC stream.
 */
export class LightconePartWriter {
  private readonly tables: Table[] = [];
  private readonly parts: string[] = [];
  private rows = 0;

  constructor(
    private readonly geometry: LightconeGeometry,
    private readonly plan: LightconePlan,
    private readonly metadata: Record<string, string>,
    private readonly write: LightconeWriteOptions,
  ) {
    fs.mkdirSync(write.outDir, { recursive: true });
  }

  /** Places the haloes of one input part taken for shell `shell`; returns the rows it gave. */
  add(halos: CatalogColumns, shell: number): number {
    const columns = lightconeRows(halos, this.plan.shells[shell], this.plan, this.geometry);
    if (columns.id.length === 0) return 0;
    const t = lightconeTable(columns, this.metadata);
    const out = path.join(this.write.outDir, `part-${String(this.parts.length).padStart(5, "0")}.parquet`);
    writeParquet(out, t, this.metadata);
    this.parts.push(out);
    if (this.write.ipc !== false) this.tables.push(t);
    this.rows += columns.id.length;
    return columns.id.length;
  }

  finish(): LightconeWriteResult {
    let ipc: string | undefined;
    if (this.write.ipc !== false) {
      ipc = path.join(this.write.outDir, "lightcone.arrows");
      writeLightconeIpc(ipc, this.tables, this.metadata);
    }
    return { parts: this.parts, ipc, rows: this.rows, plan: this.plan, metadata: this.metadata };
  }
}

/** The whole light cone as one Arrow IPC stream (held in memory: light cones are a small subset of the box). */
export function writeLightconeIpc(file: string, tables: Table[], metadata: Record<string, string>): void {
  const batches = tables.flatMap((t) => t.batches);
  const empty = lightconeTable(
    select(
      {
        id: new BigUint64Array(0),
        x: new Float32Array(0),
        y: new Float32Array(0),
        z: new Float32Array(0),
        vx: new Float32Array(0),
        vy: new Float32Array(0),
        vz: new Float32Array(0),
        mass: new Float32Array(0),
        massBin: new Int8Array(0),
      },
      new RowBuilder(),
    ),
    metadata,
  );
  const table = batches.length > 0 ? new Table(batches) : empty;
  for (const [k, v] of Object.entries(metadata)) table.schema.metadata.set(k, v);
  const bytes = RecordBatchStreamWriter.writeAll(table).toUint8Array(true);
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, bytes));
}
