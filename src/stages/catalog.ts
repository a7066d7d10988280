/**
 * The catalog stage: painted halo-count grids (one channel per mass bin, real-valued expected
 * counts) → a discrete halo catalog (DESIGN.md "Catalogs").
 *
 * For every voxel v (C order) and bin b, with the keyed stream of (seed, b, v) (cosmo/halo-sampling):
 *   1. N = integer count of the painted λ (Poisson by default, or stochastic rounding);
 *   2. for each of the N haloes: a position in the voxel (cosmo/halo-placement: following the
 *      2LPT particles when given, else uniform), then a mass from dn/dlnM within the bin;
 * velocities come from the 2LPT velocity field at the positions (zero when no particles are given).
 * Rows are voxel-major (v, then b, then k), and ids encode the same key:
 *   id = v·2^24 + b·2^16 + k       (b < 128, k < 65536; unique and independent of sharding).
 * The grids are read in x-slabs, so memory holds one slab of counts and the haloes of one part.
 * Parquet parts cover fixed ranges of x-planes (`planesPerPart`), so the files do not depend on
 * the slab size either.
 */
import fs from "node:fs";
import path from "node:path";
import { RecordBatchStreamWriter, type Table } from "apache-arrow";
import type { Cosmology } from "../cosmo/cosmology.js";
import { LinearPower } from "../cosmo/linear-power.js";
import type { MassFunctionFit } from "../cosmo/halo-mass-function.js";
import { tabulatedMassFunction } from "../cosmo/mass-function-table.js";
import {
  BinMassSampler,
  HALO_RANDOM_ALGORITHM,
  integerCount,
  VoxelStream,
  type CountRule,
} from "../cosmo/halo-sampling.js";
import {
  coordinateIn,
  float32AtLeast,
  float32Below,
  VelocityField,
  VoxelParticleIndex,
} from "../cosmo/halo-placement.js";
import { InputError, writeAtomicallyAsync } from "../io/atomic-file.js";
import type { GridSource } from "../io/grid-reader.js";
import {
  catalogMetadataRecord,
  catalogTable,
  emptyCatalogColumns,
  type CatalogColumns,
  type CatalogMetadata,
} from "../io/halo-catalog.js";
import { writeParquet } from "../io/parquet-table.js";
import { silentProgress, type Progress } from "../pipeline/progress.js";

export type PlacementRule = "particles" | "uniform";
export const PLACEMENT_RULES: readonly PlacementRule[] = ["particles", "uniform"];

export interface ParticleSet {
  /** Interleaved x, y, z in [0, L), Mpc/h. */
  positions: Float32Array;
  /** Interleaved peculiar velocities, km/s. */
  velocities?: Float32Array;
}

export interface CatalogSamplingOptions {
  /** Box side, Mpc/h. */
  boxSize: number;
  /** Bin edges in Msun/h, one more than the source's channels. */
  massEdges: readonly number[];
  /** dn/dlnM (any normalisation) at the grid's redshift, used only for the shape within each bin. */
  dndlnm: (mass: number) => number;
  seed: number;
  /** Default "poisson". */
  countRule?: CountRule;
  /** Default "particles" when particles are given, else "uniform". */
  placement?: PlacementRule;
  /** 2LPT (or N-body) particles at the grid's redshift, for positions and velocities. */
  particles?: ParticleSet;
  /** x-planes read at once (a memory knob; the catalog does not depend on it). Default 8. */
  slabPlanes?: number;
}

export interface CatalogSlab {
  /** First x-plane and number of planes covered. */
  x0: number;
  planes: number;
  columns: CatalogColumns;
}

/** dn/dlnM of a fit (Warren et al. 2006 by default) at redshift z, tabulated over the bins' range. */
export function fitMassFunction(
  cosmology: Cosmology,
  z: number,
  massEdges: readonly number[],
  fit: MassFunctionFit = "warren",
): (m: number) => number {
  return tabulatedMassFunction(
    new LinearPower(cosmology),
    fit,
    z,
    massEdges[0],
    massEdges[massEdges.length - 1],
  );
}

/** Growable float/int columns for one slab's haloes. */
class SlabBuilder {
  n = 0;
  private cap = 0;
  id = new BigUint64Array(0);
  pos = new Float32Array(0);
  mass = new Float32Array(0);
  bin = new Int8Array(0);

  push(id: bigint, x: number, y: number, z: number, mass: number, bin: number): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.id[i] = id;
    this.pos[3 * i] = x;
    this.pos[3 * i + 1] = y;
    this.pos[3 * i + 2] = z;
    this.mass[i] = mass;
    this.bin[i] = bin;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const id = new BigUint64Array(cap);
    id.set(this.id);
    const pos = new Float32Array(3 * cap);
    pos.set(this.pos);
    const mass = new Float32Array(cap);
    mass.set(this.mass);
    const bin = new Int8Array(cap);
    bin.set(this.bin);
    Object.assign(this, { id, pos, mass, bin, cap });
  }
}

function checkOptions(source: GridSource, o: CatalogSamplingOptions): void {
  const bins = o.massEdges.length - 1;
  if (bins < 1 || bins > 127) {
    throw new InputError("mass bins", `need 1 to 127 bins (2 to 128 edges), got ${o.massEdges.length} edges`);
  }
  for (let b = 0; b < bins; b++) {
    if (!(o.massEdges[b] > 0 && o.massEdges[b + 1] > o.massEdges[b]))
      throw new InputError(
        "mass bins",
        `edges must be positive and increasing, got ${o.massEdges.join(", ")}`,
      );
  }
  if (source.channels !== bins) {
    throw new InputError(
      source.path,
      `has ${source.channels} channel(s); expected one painted count grid per mass bin (${bins})`,
    );
  }
  if (!(o.boxSize > 0) || !Number.isFinite(o.boxSize))
    throw new InputError("box size", `must be a positive number of Mpc/h, got ${o.boxSize}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new InputError("seed", `must be an integer in [0, 2^32), got ${o.seed}`);
  if (o.placement === "particles" && !o.particles)
    throw new InputError("placement", "'particles' needs a particle set (2LPT positions)");
  if (o.slabPlanes !== undefined && !(Number.isInteger(o.slabPlanes) && o.slabPlanes >= 1))
    throw new InputError("slab planes", `must be a positive integer, got ${o.slabPlanes}`);
}

/** The haloes of x-planes [x0, x0 + planes) (see the module comment for the rules). */
async function sampleSlab(
  source: GridSource,
  o: CatalogSamplingOptions,
  x0: number,
  planes: number,
  ctx: {
    counts: Float32Array[];
    samplers: BinMassSampler[];
    index?: VoxelParticleIndex;
    velocity?: VelocityField;
  },
): Promise<CatalogSlab> {
  const n = source.side;
  const n2 = n * n;
  const bins = ctx.samplers.length;
  for (let b = 0; b < bins; b++)
    await source.readPlanes(b, x0, planes, ctx.counts[b].subarray(0, planes * n2));
  const rule = o.countRule ?? "poisson";
  const dx = o.boxSize / n;
  const stream = new VoxelStream();
  const out = new SlabBuilder();
  const index = ctx.index;
  const particles = index?.positions;
  const halfCell = index ? 0.5 * index.spacing : 0;
  const lo = [0, 0, 0];
  const hi = [0, 0, 0];
  const coord = [0, 0, 0];
  for (let ix = x0; ix < x0 + planes; ix++) {
    for (let iy = 0; iy < n; iy++) {
      for (let iz = 0; iz < n; iz++) {
        const local = ((ix - x0) * n + iy) * n + iz;
        const voxel = (ix * n + iy) * n + iz;
        lo[0] = ix * dx;
        lo[1] = iy * dx;
        lo[2] = iz * dx;
        hi[0] = (ix + 1) * dx;
        hi[1] = (iy + 1) * dx;
        hi[2] = (iz + 1) * dx;
        for (let b = 0; b < bins; b++) {
          const lambda = ctx.counts[b][local];
          if (!Number.isFinite(lambda)) {
            throw new InputError(
              source.path,
              `painted count ${lambda} in bin ${b} at voxel (${ix}, ${iy}, ${iz})`,
            );
          }
          if (!(lambda > 0)) continue;
          stream.reset(o.seed, b, voxel);
          const count = integerCount(rule, lambda, stream);
          if (count > 65535) {
            throw new InputError(
              source.path,
              `${count} haloes drawn in one voxel (λ = ${lambda}); at most 65535 are supported`,
            );
          }
          for (let k = 0; k < count; k++) {
            const first = index ? index.offsets[voxel] : 0;
            const inVoxel = index ? index.offsets[voxel + 1] - first : 0;
            if (particles && inVoxel > 0) {
              const p = index!.order[first + Math.min(inVoxel - 1, Math.floor(stream.uniform() * inVoxel))];
              for (let c = 0; c < 3; c++) {
                const xp = particles[3 * p + c];
                const a = Math.max(lo[c], xp - halfCell);
                const e = Math.min(hi[c], xp + halfCell);
                coord[c] = coordinateIn(a, e, stream.uniform(), lo[c], hi[c]);
              }
            } else {
              for (let c = 0; c < 3; c++)
                coord[c] = coordinateIn(lo[c], hi[c], stream.uniform(), lo[c], hi[c]);
            }
            const sampler = ctx.samplers[b];
            const mass = float32AtLeast(
              float32Below(sampler.massAt(stream.uniform()), sampler.high),
              sampler.low,
            );
            out.push((BigInt(voxel) << 24n) | BigInt((b << 16) | k), coord[0], coord[1], coord[2], mass, b);
          }
        }
      }
    }
  }
  const h = out.n;
  const positions = out.pos.slice(0, 3 * h);
  const velocities = ctx.velocity ? ctx.velocity.at(positions) : new Float32Array(3 * h);
  const axis = (arr: Float32Array, c: number): Float32Array => {
    const r = new Float32Array(h);
    for (let i = 0; i < h; i++) r[i] = arr[3 * i + c];
    return r;
  };
  return {
    x0,
    planes,
    columns: {
      id: out.id.slice(0, h),
      x: axis(positions, 0),
      y: axis(positions, 1),
      z: axis(positions, 2),
      vx: axis(velocities, 0),
      vy: axis(velocities, 1),
      vz: axis(velocities, 2),
      mass: out.mass.slice(0, h),
      massBin: out.bin.slice(0, h),
    },
  };
}

/**
 * Samples the catalog slab by slab over x-plane ranges [from, to) (default the whole grid),
 * never crossing a multiple of `boundary` planes (so parts can be cut at those planes).
 */
export async function* sampleCatalogSlabs(
  source: GridSource,
  options: CatalogSamplingOptions,
  range: { from?: number; to?: number; boundary?: number } = {},
): AsyncGenerator<CatalogSlab> {
  checkOptions(source, options);
  const n = source.side;
  const slab = Math.min(options.slabPlanes ?? 8, n);
  const edges = options.massEdges;
  const samplers = Array.from(
    { length: edges.length - 1 },
    (_, b) => new BinMassSampler(edges[b], edges[b + 1], options.dndlnm),
  );
  const particles = options.particles;
  const placement = options.placement ?? (particles ? "particles" : "uniform");
  const index =
    particles && placement === "particles"
      ? new VoxelParticleIndex(particles.positions, n, options.boxSize)
      : undefined;
  const velocity =
    particles?.velocities !== undefined
      ? new VelocityField(particles.positions, particles.velocities, n, options.boxSize)
      : undefined;
  const counts = samplers.map(() => new Float32Array(slab * n * n));
  const boundary = range.boundary ?? n;
  let x0 = range.from ?? 0;
  const end = range.to ?? n;
  while (x0 < end) {
    const nextBoundary = (Math.floor(x0 / boundary) + 1) * boundary;
    const planes = Math.min(slab, end - x0, nextBoundary - x0);
    yield await sampleSlab(source, options, x0, planes, { counts, samplers, index, velocity });
    x0 += planes;
  }
}

/** Concatenates slabs' columns. */
export function concatCatalogColumns(parts: readonly CatalogColumns[]): CatalogColumns {
  if (parts.length === 1) return parts[0];
  const out = emptyCatalogColumns();
  const keys = Object.keys(out) as (keyof CatalogColumns)[];
  const total = parts.reduce((s, p) => s + p.id.length, 0);
  for (const key of keys) {
    const Ctor = out[key].constructor as new (n: number) => CatalogColumns[typeof key];
    const dst = new Ctor(total);
    let at = 0;
    for (const p of parts) {
      (dst as Float32Array).set(p[key] as Float32Array, at);
      at += p.id.length;
    }
    (out as unknown as Record<string, unknown>)[key] = dst;
  }
  return out;
}

/** The whole catalog in memory (tests, small boxes). */
export async function sampleCatalog(
  source: GridSource,
  options: CatalogSamplingOptions,
): Promise<CatalogColumns> {
  const slabs: CatalogColumns[] = [];
  for await (const s of sampleCatalogSlabs(source, options)) slabs.push(s.columns);
  return slabs.length === 0 ? emptyCatalogColumns() : concatCatalogColumns(slabs);
}

export interface CatalogWriteOptions {
  /** Output directory (created if missing): part-00000.parquet … and catalog.arrows. */
  outDir: string;
  /** Box, redshift, cosmology and provenance (model id and hash go in `extra`). */
  metadata: Omit<CatalogMetadata, "seed" | "boxSize">;
  /** x-planes per Parquet part (a "tile group"); default min(side, 64). */
  planesPerPart?: number;
  /** Also write the Arrow IPC stream catalog.arrows (default true). */
  ipc?: boolean;
  /**
   * Only the parts [start, end) (a shard of `run --shard`): their x-planes are sampled and they
   * are written under their own part numbers, identical to the same parts of a whole catalog;
   * catalog.arrows then holds only their record batches (the whole stream's batches, in order).
   */
  parts?: { start: number; end: number };
  progress?: Progress;
}

export interface CatalogWriteResult {
  parts: string[];
  ipc?: string;
  rows: number;
  /** Rows of each written part. */
  partRows: number[];
  /** Haloes per mass bin. */
  binCounts: number[];
  metadata: Record<string, string>;
}

export function catalogPartName(part: number): string {
  return `part-${String(part).padStart(5, "0")}.parquet`;
}

/** The file-level metadata of a sampled catalog. */
export function sampledCatalogMetadata(
  sampling: CatalogSamplingOptions,
  meta: CatalogWriteOptions["metadata"],
  extra: Record<string, unknown> = {},
): Record<string, string> {
  return catalogMetadataRecord({
    ...meta,
    boxSize: sampling.boxSize,
    seed: sampling.seed,
    extra: {
      ...meta.extra,
      mass_bin_edges: sampling.massEdges,
      count_rule: sampling.countRule ?? "poisson",
      placement: sampling.placement ?? (sampling.particles ? "particles" : "uniform"),
      velocities: sampling.particles?.velocities ? "2lpt-cic-mass-weighted" : "none",
      random_algorithm: HALO_RANDOM_ALGORITHM,
      id_layout: "voxel*2^24 + mass_bin*2^16 + k",
      ...extra,
    },
  });
}

/**
 * Samples and writes the catalog: one ZSTD Parquet part per `planesPerPart` x-planes (each
 * written atomically) and, by default, the whole catalog as one Arrow IPC stream (written to a
 * temporary name, renamed when complete). Holds one part's haloes at a time.
 */
export async function writeCatalog(
  source: GridSource,
  sampling: CatalogSamplingOptions,
  write: CatalogWriteOptions,
): Promise<CatalogWriteResult> {
  checkOptions(source, sampling);
  const n = source.side;
  const perPart = write.planesPerPart ?? Math.min(n, 64);
  if (!(Number.isInteger(perPart) && perPart >= 1))
    throw new InputError("planes per part", `must be a positive integer, got ${perPart}`);
  const partCount = Math.ceil(n / perPart);
  const only = write.parts ?? { start: 0, end: partCount };
  if (!(
    Number.isInteger(only.start) &&
    Number.isInteger(only.end) &&
    0 <= only.start &&
    only.end <= partCount
  ))
    throw new InputError("catalog parts", `range ${only.start}…${only.end} is outside 0…${partCount}`);
  fs.mkdirSync(write.outDir, { recursive: true });
  const base = sampledCatalogMetadata(sampling, write.metadata, {
    parts: partCount,
    planes_per_part: perPart,
  });
  const progress = write.progress ?? silentProgress;
  const binCounts = new Array<number>(sampling.massEdges.length - 1).fill(0);
  const parts: string[] = [];
  const partRows: number[] = [];
  let rows = 0;
  const ipcPath = write.ipc === false ? undefined : path.join(write.outDir, "catalog.arrows");

  const run = async (ipcTmp?: string): Promise<void> => {
    const ipc = ipcTmp ? new IpcStreamFile(ipcTmp) : undefined;
    try {
      progress.start("catalog", n);
      let pending: CatalogColumns[] = [];
      let part = only.start;
      const range = { from: only.start * perPart, to: Math.min(n, only.end * perPart), boundary: perPart };
      for await (const slab of sampleCatalogSlabs(source, sampling, range)) {
        pending.push(slab.columns);
        const c = slab.columns;
        rows += c.id.length;
        for (let i = 0; i < c.massBin.length; i++) binCounts[c.massBin[i]]++;
        if (ipc) await ipc.write(catalogTable(c, base));
        const end = slab.x0 + slab.planes;
        progress.advance("catalog", end);
        if (end % perPart === 0 || end === n) {
          const columns = concatCatalogColumns(pending);
          const meta = {
            ...base,
            "mocksmith.part": JSON.stringify({ index: part, x_planes: [part * perPart, end] }),
          };
          const file = path.join(write.outDir, catalogPartName(part));
          writeParquet(file, catalogTable(columns, meta), meta);
          parts.push(file);
          partRows.push(columns.id.length);
          pending = [];
          part++;
        }
      }
      if (ipc) await ipc.close();
      progress.finish("catalog", `${rows} haloes in ${parts.length} part(s)`);
    } catch (err) {
      ipc?.abort();
      throw err;
    }
  };
  if (ipcPath) await writeAtomicallyAsync(ipcPath, run);
  else await run();
  return { parts, ipc: ipcPath, rows, partRows, binCounts, metadata: base };
}

/** An Arrow IPC stream written batch by batch to a file (the schema comes with the first batch). */
class IpcStreamFile {
  private readonly fd: number;
  private writer: RecordBatchStreamWriter | undefined;
  private readonly drained: Promise<void>;
  private failed: unknown;

  constructor(readonly file: string) {
    const fd = fs.openSync(file, "w");
    this.fd = fd;
    this.writer = new RecordBatchStreamWriter();
    const writer = this.writer;
    this.drained = (async () => {
      for await (const chunk of writer) fs.writeSync(fd, chunk);
    })().catch((err: unknown) => {
      this.failed = err;
    });
  }

  async write(table: Table): Promise<void> {
    if (this.failed) throw this.failed;
    for (const batch of table.batches) this.writer!.write(batch);
    await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    this.writer!.finish();
    this.writer = undefined;
    await this.drained;
    fs.closeSync(this.fd);
    if (this.failed) throw this.failed;
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
