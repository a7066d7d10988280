/**
 * Cuts a cubic grid into padded patches (DESIGN.md "Tiles"): one Arrow row per tile with its id,
 * core origin (ix, iy, iz), core side T, padding p and the padded values (C channels × (T+2p)³,
 * channel-major, C order) as a FixedSizeList<float32>.
 *
 * Any N works with a fixed core side: along each axis tiles start at 0, T, 2T, … and the last
 * one is shifted back to start at N − T, so every patch has the same shape (one session, fixed
 * list size) and the last core overlaps its neighbour. Each voxel is *owned* by exactly one
 * tile (ownedStart), and the stitcher writes only owned voxels, so outputs do not depend on
 * write order. T > N is clamped to N.
 *
 * Voxels outside the grid come from the boundary rule: periodic (wrap), zero, or reflect
 * (mirror without repeating the edge voxel, numpy's 'reflect': −1 → 1, N → N − 2).
 *
 * Patches are built from x-slabs (the T + 2p planes a row of tiles needs) read on demand from a
 * GridSource, so memory holds one slab plus the batches in flight, never the grid.
 */
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  type Data,
} from "apache-arrow";
import type { GridSource } from "../io/grid-reader.js";

export type Boundary = "periodic" | "zero" | "reflect";
export const BOUNDARIES: readonly Boundary[] = ["periodic", "zero", "reflect"];

export interface TileSpec {
  /** Grid side N. */
  side: number;
  /** Core side T (clamped to N). */
  core: number;
  padding: number;
  boundary: Boundary;
  channels: number;
}

/** Core origins along one axis. */
export function tileOrigins(side: number, core: number): number[] {
  const t = Math.min(core, side);
  const count = Math.ceil(side / t);
  return Array.from({ length: count }, (_, i) => Math.min(i * t, side - t));
}

/** First voxel (along one axis) that a tile with this core origin owns; it owns up to origin + T. */
export function ownedStart(origin: number, core: number): number {
  return Math.ceil(origin / core) * core;
}

/** Source index for grid coordinate i (may be outside [0, N)), or −1 for a zero voxel. */
export function boundaryIndex(i: number, side: number, boundary: Boundary): number {
  if (i >= 0 && i < side) return i;
  if (boundary === "zero") return -1;
  if (boundary === "periodic") return ((i % side) + side) % side;
  if (side === 1) return 0;
  const period = 2 * (side - 1);
  const m = ((i % period) + period) % period;
  return m < side ? m : period - m;
}

export interface TileLayout {
  spec: TileSpec;
  /** Clamped core side. */
  core: number;
  /** Patch side T + 2p. */
  patchSide: number;
  origins: number[];
  /** Number of tiles, (origins.length)³. */
  count: number;
}

export function tileLayout(spec: TileSpec): TileLayout {
  if (!Number.isInteger(spec.side) || spec.side < 1)
    throw new RangeError(`grid side must be a positive integer, got ${spec.side}`);
  if (!Number.isInteger(spec.core) || spec.core < 1)
    throw new RangeError(`tile core side must be a positive integer, got ${spec.core}`);
  if (!Number.isInteger(spec.padding) || spec.padding < 0)
    throw new RangeError(`padding must be an integer ≥ 0, got ${spec.padding}`);
  const core = Math.min(spec.core, spec.side);
  const origins = tileOrigins(spec.side, core);
  return { spec, core, patchSide: core + 2 * spec.padding, origins, count: origins.length ** 3 };
}

/** Core origin of tile `id` (x-major, z fastest). */
export function tileOrigin(layout: TileLayout, id: number): [number, number, number] {
  const n = layout.origins.length;
  return [
    layout.origins[Math.floor(id / (n * n))],
    layout.origins[Math.floor(id / n) % n],
    layout.origins[id % n],
  ];
}

export function tileSchema(valuesPerRow: number, channels: number): Schema {
  return new Schema(
    [
      new Field("tile_id", new Int32(), false),
      new Field("ix", new Int32(), false),
      new Field("iy", new Int32(), false),
      new Field("iz", new Int32(), false),
      new Field("core", new Int32(), false),
      new Field("padding", new Int32(), false),
      new Field("values", new FixedSizeList(valuesPerRow, new Field("value", new Float32(), false)), false),
    ],
    new Map([["channels", String(channels)]]),
  );
}

export interface TileRows {
  ids: Int32Array;
  origins: Int32Array; // 3 per row
  core: number;
  padding: number;
  channels: number;
  /** rows × channels × side³ values. */
  values: Float32Array;
}

/** Builds a tile batch from columns (the values array is wrapped, not copied). */
export function makeTileBatch(rows: TileRows): RecordBatch {
  const n = rows.ids.length;
  const per = rows.values.length / Math.max(1, n);
  const schema = tileSchema(per, rows.channels);
  const int = (f: (i: number) => number): Data<Int32> =>
    makeData({
      type: new Int32(),
      length: n,
      nullCount: 0,
      data: Int32Array.from({ length: n }, (_, i) => f(i)),
    });
  const valuesType = schema.fields[6].type as FixedSizeList<Float32>;
  const child = makeData({
    type: new Float32(),
    length: rows.values.length,
    nullCount: 0,
    data: rows.values,
  });
  const children = [
    makeData({ type: new Int32(), length: n, nullCount: 0, data: rows.ids }),
    int((i) => rows.origins[3 * i]),
    int((i) => rows.origins[3 * i + 1]),
    int((i) => rows.origins[3 * i + 2]),
    int(() => rows.core),
    int(() => rows.padding),
    makeData({ type: valuesType, length: n, nullCount: 0, child }),
  ];
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Reads a tile batch's columns back (values is a view on the batch's buffer). */
export function readTileBatch(batch: RecordBatch): TileRows {
  const n = batch.numRows;
  const col = (name: string): Int32Array => {
    const v = batch.getChild(name);
    if (!v) throw new RangeError(`tile batch lacks column ${name}`);
    return v.toArray() as Int32Array;
  };
  const ids = col("tile_id");
  const ix = col("ix");
  const iy = col("iy");
  const iz = col("iz");
  const origins = new Int32Array(3 * n);
  for (let i = 0; i < n; i++) {
    origins[3 * i] = ix[i];
    origins[3 * i + 1] = iy[i];
    origins[3 * i + 2] = iz[i];
  }
  const list = batch.getChild("values");
  if (!list) throw new RangeError("tile batch lacks column values");
  const childData = list.data[0].children[0];
  const values = (childData.values as Float32Array).subarray(
    childData.offset,
    childData.offset + childData.length,
  );
  return {
    ids,
    origins,
    core: n > 0 ? col("core")[0] : 0,
    padding: n > 0 ? col("padding")[0] : 0,
    channels: Number(batch.schema.metadata.get("channels") ?? "1"),
    values,
  };
}

/** A slab: the patchSide x-planes (per channel) that one row of tiles needs; null planes are zero. */
class SlabCache {
  private originX = -1;
  private planes: Array<Float32Array | null> = [];

  constructor(
    private readonly source: GridSource,
    private readonly layout: TileLayout,
  ) {}

  async planesFor(originX: number): Promise<Array<Float32Array | null>> {
    if (originX === this.originX) return this.planes;
    const { spec, patchSide } = this.layout;
    const n2 = spec.side * spec.side;
    const planes: Array<Float32Array | null> = [];
    for (let c = 0; c < spec.channels; c++) {
      const loaded = new Map<number, Float32Array>();
      for (let a = 0; a < patchSide; a++) {
        const src = boundaryIndex(originX - spec.padding + a, spec.side, spec.boundary);
        if (src < 0) {
          planes.push(null);
          continue;
        }
        let plane = loaded.get(src);
        if (!plane) {
          plane = new Float32Array(n2);
          await this.source.readPlanes(c, src, 1, plane);
          loaded.set(src, plane);
        }
        planes.push(plane);
      }
    }
    this.originX = originX;
    this.planes = planes;
    return planes;
  }
}

export interface TileStreamOptions {
  /** Tiles per record batch (the unit of work, checkpointing and inference batching). */
  tilesPerBatch: number;
  /** Batches to leave out (already finished in an interrupted run); their slabs are not read. */
  skip?: (batchIndex: number) => boolean;
  signal?: AbortSignal;
}

export function batchCount(layout: TileLayout, tilesPerBatch: number): number {
  return Math.ceil(layout.count / tilesPerBatch);
}

/** Builds the record batches of one tiling; slabs are read on demand and the last one is kept. */
export class Tiler {
  readonly layout: TileLayout;
  private readonly slabs: SlabCache;
  private readonly ymap: Int32Array;
  private readonly zmap: Int32Array;

  constructor(
    private readonly source: GridSource,
    spec: TileSpec,
    readonly tilesPerBatch: number,
  ) {
    if (source.side !== spec.side || source.channels !== spec.channels) {
      throw new RangeError(
        `${source.path}: grid is ${source.channels}×${source.side}³, the tiling expects ${spec.channels}×${spec.side}³`,
      );
    }
    if (!Number.isInteger(tilesPerBatch) || tilesPerBatch < 1)
      throw new RangeError(`tiles per batch must be a positive integer, got ${tilesPerBatch}`);
    this.layout = tileLayout(spec);
    this.slabs = new SlabCache(source, this.layout);
    this.ymap = new Int32Array(this.layout.patchSide);
    this.zmap = new Int32Array(this.layout.patchSide);
  }

  get batchCount(): number {
    return batchCount(this.layout, this.tilesPerBatch);
  }

  /** Batch `b`: tiles b·tilesPerBatch … (fewer in the last batch). */
  async batch(b: number): Promise<RecordBatch> {
    const { patchSide: s, core, spec: sp } = this.layout;
    const { ymap, zmap } = this;
    const per = sp.channels * s ** 3;
    const first = b * this.tilesPerBatch;
    const rows = Math.min(this.tilesPerBatch, this.layout.count - first);
    if (!(rows > 0) || !Number.isInteger(b))
      throw new RangeError(`no tile batch ${b} (there are ${this.batchCount})`);
    const values = new Float32Array(rows * per);
    const ids = new Int32Array(rows);
    const origins = new Int32Array(3 * rows);
    for (let r = 0; r < rows; r++) {
      const id = first + r;
      const [ox, oy, oz] = tileOrigin(this.layout, id);
      ids[r] = id;
      origins.set([ox, oy, oz], 3 * r);
      const planes = await this.slabs.planesFor(ox);
      for (let i = 0; i < s; i++) {
        ymap[i] = boundaryIndex(oy - sp.padding + i, sp.side, sp.boundary);
        zmap[i] = boundaryIndex(oz - sp.padding + i, sp.side, sp.boundary);
      }
      // Along z every step is +1 or a wrap/reflection; a span of exactly s − 1 means one
      // contiguous run, copied whole.
      const zInterior = zmap[0] >= 0 && zmap[s - 1] - zmap[0] === s - 1;
      let out = r * per;
      for (let c = 0; c < sp.channels; c++) {
        for (let a = 0; a < s; a++) {
          const plane = planes[c * s + a];
          for (let j = 0; j < s; j++) {
            const y = ymap[j];
            if (plane === null || y < 0) {
              out += s; // zero boundary: already zero
              continue;
            }
            const rowStart = y * sp.side;
            if (zInterior) {
              values.set(plane.subarray(rowStart + zmap[0], rowStart + zmap[0] + s), out);
              out += s;
            } else {
              for (let k = 0; k < s; k++, out++) {
                const z = zmap[k];
                if (z >= 0) values[out] = plane[rowStart + z];
              }
            }
          }
        }
      }
    }
    return makeTileBatch({ ids, origins, core, padding: sp.padding, channels: sp.channels, values });
  }
}

/** The tiles of `source` as record batches in tile-id order, tagged with their batch index. */
export async function* tileBatches(
  source: GridSource,
  spec: TileSpec,
  options: TileStreamOptions,
): AsyncGenerator<{ index: number; batch: RecordBatch }> {
  const tiler = new Tiler(source, spec, options.tilesPerBatch);
  for (let b = 0; b < tiler.batchCount; b++) {
    options.signal?.throwIfAborted();
    if (options.skip?.(b)) continue;
    yield { index: b, batch: await tiler.batch(b) };
  }
}
