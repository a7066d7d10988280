/**
 * Streaming readers for cubic grids: a GridSource hands out runs of x-planes (x fastest-varying
 * first index, so a plane is one contiguous N² block in C order) without holding the grid, so a
 * tiler can read just the slabs the next tiles need. .npy and raw files are read by positional
 * reads; HDF5 datasets by hyperslab selections through h5wasm. A leading channel axis
 * (C, N, N, N) is supported for multi-channel inputs.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { InputError } from "./atomic-file.js";
import { readNpyHeader } from "./npy.js";

export interface GridSource {
  /** File (and dataset) the values come from, for error messages. */
  readonly path: string;
  /** Cubic side N. */
  readonly side: number;
  readonly channels: number;
  /** Fills `out` (count·N² values) with planes x0 … x0+count−1 of `channel`, converted to float32. */
  readPlanes(channel: number, x0: number, count: number, out: Float32Array): Promise<void>;
  close(): void;
}

function gridShape(file: string, shape: readonly number[]): { side: number; channels: number } {
  const bad = (): never => {
    throw new InputError(
      file,
      `expected a cubic grid (N, N, N) or (C, N, N, N), got shape (${shape.join(", ")})`,
    );
  };
  if (shape.length !== 3 && shape.length !== 4) bad();
  const s = shape.slice(-3);
  if (s[0] !== s[1] || s[1] !== s[2] || s[0] < 1) bad();
  const channels = shape.length === 4 ? shape[0] : 1;
  if (channels < 1) bad();
  return { side: s[0], channels };
}

const CHUNK_BYTES = 1 << 24;

function readFully(fd: number, file: string, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const got = fs.readSync(fd, buf, done, Math.min(CHUNK_BYTES, buf.length - done), position + done);
    if (got === 0) throw new InputError(file, `truncated: no data at byte ${position + done}`);
    done += got;
  }
}

/** A float32 or float64 little-endian array stored contiguously at `dataOffset` in C order. */
class PositionalGridSource implements GridSource {
  private fd: number;
  private scratch = new Uint8Array(0);

  constructor(
    readonly path: string,
    readonly side: number,
    readonly channels: number,
    private readonly dataOffset: number,
    private readonly itemSize: 4 | 8,
  ) {
    this.fd = fs.openSync(path, "r");
  }

  async readPlanes(channel: number, x0: number, count: number, out: Float32Array): Promise<void> {
    const n2 = this.side * this.side;
    const values = count * n2;
    const position = this.dataOffset + (channel * this.side + x0) * n2 * this.itemSize;
    if (this.itemSize === 4) {
      readFully(this.fd, this.path, new Uint8Array(out.buffer, out.byteOffset, values * 4), position);
      return;
    }
    if (this.scratch.length < values * 8) this.scratch = new Uint8Array(values * 8);
    const raw = this.scratch.subarray(0, values * 8);
    readFully(this.fd, this.path, raw, position);
    const f64 = new Float64Array(raw.buffer, 0, values);
    for (let i = 0; i < values; i++) out[i] = f64[i];
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Opens a .npy grid for streaming: little-endian float32 or float64, C order, (N,N,N) or (C,N,N,N). */
export function openNpyGrid(file: string): GridSource {
  const h = readNpyHeader(file);
  if (h.fortranOrder) throw new InputError(file, "Fortran-order arrays are not supported; save with C order");
  if (h.dtype !== "<f4" && h.dtype !== "<f8")
    throw new InputError(file, `dtype '${h.dtype}': expected little-endian float32 '<f4' (or float64 '<f8')`);
  const { side, channels } = gridShape(file, h.shape);
  return new PositionalGridSource(file, side, channels, h.dataOffset, h.itemSize as 4 | 8);
}

/** Opens a headerless little-endian float32 file of `channels`·N³ values. */
export function openRawGrid(file: string, side: number, channels = 1): GridSource {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    throw new InputError(file, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const expected = channels * side ** 3 * 4;
  if (size !== expected)
    throw new InputError(
      file,
      `raw float32 grid of ${channels}×${side}³ needs ${expected} bytes, the file has ${size}`,
    );
  return new PositionalGridSource(file, side, channels, 0, 4);
}

interface H5Dataset {
  shape: number[] | null;
  dtype: unknown;
  slice(ranges: Array<[number, number] | []>): unknown;
}
interface H5File {
  get(path: string): unknown;
  close(): void;
}
interface H5Module {
  ready: Promise<unknown>;
  File: new (path: string, mode: string) => H5File;
}

/** Opens dataset `dataset` of HDF5 file `file`, read plane-runs at a time by hyperslab selection. */
export async function openHdf5Grid(file: string, dataset: string): Promise<GridSource> {
  if (!fs.existsSync(file)) throw new InputError(file, "cannot open: ENOENT");
  const h5 = (await import("h5wasm/node")) as unknown as H5Module;
  await h5.ready;
  let f: H5File;
  try {
    f = new h5.File(file, "r");
  } catch (err) {
    throw new InputError(file, `not a readable HDF5 file (${(err as Error).message})`);
  }
  const ds = f.get(dataset) as H5Dataset | null | undefined;
  if (!ds || typeof ds.slice !== "function" || !Array.isArray(ds.shape)) {
    f.close();
    throw new InputError(`${file}:${dataset}`, "no such dataset");
  }
  const { side, channels } = gridShape(`${file}:${dataset}`, ds.shape);
  const rank = ds.shape.length;
  return {
    path: `${file}:${dataset}`,
    side,
    channels,
    async readPlanes(channel, x0, count, out) {
      const sel: Array<[number, number] | []> =
        rank === 4 ? [[channel, channel + 1], [x0, x0 + count], [], []] : [[x0, x0 + count], [], []];
      const v = ds.slice(sel);
      if (!(v instanceof Float32Array || v instanceof Float64Array)) {
        throw new InputError(
          `${file}:${dataset}`,
          `dtype ${JSON.stringify(ds.dtype)}: expected a float32 or float64 dataset`,
        );
      }
      out.set(v);
    },
    close: () => f.close(),
  };
}

/** An in-memory grid (C·N³ values, channel-major) seen as a GridSource. */
export function arrayGridSource(
  data: Float32Array,
  side: number,
  channels = 1,
  path = "<memory>",
): GridSource {
  if (data.length !== channels * side ** 3)
    throw new RangeError(`${path}: ${data.length} values is not ${channels}×${side}³`);
  const n2 = side * side;
  return {
    path,
    side,
    channels,
    async readPlanes(channel, x0, count, out) {
      const start = (channel * side + x0) * n2;
      out.set(data.subarray(start, start + count * n2));
    },
    close: () => undefined,
  };
}

/**
 * One streaming pass over a grid: its sha256 (of the float32 values, channel-major C order, so
 * equal grids hash equal whatever the file format) and a check that every value is finite.
 */
export async function scanGrid(source: GridSource, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash("sha256");
  const n2 = source.side * source.side;
  const planesPerRead = Math.max(1, Math.min(source.side, Math.floor((1 << 24) / n2)));
  const buf = new Float32Array(planesPerRead * n2);
  for (let c = 0; c < source.channels; c++) {
    for (let x0 = 0; x0 < source.side; x0 += planesPerRead) {
      signal?.throwIfAborted();
      const count = Math.min(planesPerRead, source.side - x0);
      const part = buf.subarray(0, count * n2);
      await source.readPlanes(c, x0, count, part);
      for (let i = 0; i < part.length; i++) {
        if (!Number.isFinite(part[i])) {
          const flat = (c * source.side + x0) * n2 + i;
          const iz = flat % source.side;
          const iy = Math.floor(flat / source.side) % source.side;
          const ix = Math.floor(flat / n2) % source.side;
          throw new InputError(
            source.path,
            `non-finite value (${part[i]}) at ${source.channels > 1 ? `channel ${c}, ` : ""}[${ix}, ${iy}, ${iz}]; inputs must be finite`,
          );
        }
      }
      hash.update(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    }
  }
  return hash.digest("hex");
}
