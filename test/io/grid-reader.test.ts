import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  arrayGridSource,
  openHdf5Grid,
  openNpyGrid,
  openRawGrid,
  scanGrid,
  type GridSource,
} from "../../src/io/grid-reader.js";
import { float32NpyHeader, readNpyFloat32, writeNpyFloat32 } from "../../src/io/npy.js";
import { NpyVolumeWriter } from "../../src/io/npy-volume-writer.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-grid-reader-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const n = 6;
const values = (count: number) => Float32Array.from({ length: count }, (_, i) => Math.fround(i * 0.25 - 7));

async function planes(src: GridSource, channel: number, x0: number, count: number): Promise<Float32Array> {
  const out = new Float32Array(count * src.side * src.side);
  await src.readPlanes(channel, x0, count, out);
  return out;
}

describe("streaming grid readers", () => {
  it("read x-plane runs of .npy (float32 and float64, 3D and 4D) at the right offsets", async () => {
    const data = values(2 * n ** 3);
    const f32 = path.join(dir, "g.npy");
    writeNpyFloat32(f32, data, [2, n, n, n]);
    const f64 = path.join(dir, "g64.npy");
    const hdr = float32NpyHeader([2, n, n, n]).toString("latin1").replace("'<f4'", "'<f8'");
    fs.writeFileSync(
      f64,
      Buffer.concat([Buffer.from(hdr, "latin1"), Buffer.from(Float64Array.from(data).buffer)]),
    );
    for (const file of [f32, f64]) {
      const src = openNpyGrid(file);
      expect([src.side, src.channels]).toEqual([n, 2]);
      expect(await planes(src, 1, 2, 3)).toEqual(data.subarray((n + 2) * n * n, (n + 5) * n * n));
      src.close();
    }
  });

  it("reads raw float32 and refuses a raw file of the wrong size", async () => {
    const data = values(n ** 3);
    const raw = path.join(dir, "g.f32");
    fs.writeFileSync(raw, Buffer.from(data.buffer));
    const src = openRawGrid(raw, n);
    expect(await planes(src, 0, 5, 1)).toEqual(data.subarray(5 * n * n));
    src.close();
    expect(() => openRawGrid(raw, n + 1)).toThrow(/needs 1372 bytes, the file has 864/);
  });

  it("reads HDF5 datasets by hyperslabs", async () => {
    const h5 = (await import("h5wasm/node")) as unknown as {
      ready: Promise<unknown>;
      File: new (
        p: string,
        m: string,
      ) => {
        create_dataset(o: { name: string; data: Float32Array; shape: number[] }): unknown;
        close(): void;
      };
    };
    await h5.ready;
    const data = values(n ** 3);
    const file = path.join(dir, "g.h5");
    const f = new h5.File(file, "w");
    f.create_dataset({ name: "delta", data, shape: [n, n, n] });
    f.close();
    const src = await openHdf5Grid(file, "delta");
    expect([src.side, src.channels]).toEqual([n, 1]);
    expect(await planes(src, 0, 1, 2)).toEqual(data.subarray(n * n, 3 * n * n));
    src.close();
    await expect(openHdf5Grid(file, "nope")).rejects.toThrow(/g\.h5:nope: no such dataset/);
  });

  it("scanGrid hashes the float32 values independently of the format and locates non-finite values", async () => {
    const data = values(n ** 3);
    const f = path.join(dir, "s.npy");
    writeNpyFloat32(f, data, [n, n, n]);
    const src = openNpyGrid(f);
    expect(await scanGrid(src)).toBe(await scanGrid(arrayGridSource(data, n)));
    src.close();
    data[(2 * n + 3) * n + 4] = -Infinity;
    await expect(scanGrid(arrayGridSource(data, n, 1, "m"))).rejects.toThrow(
      "m: non-finite value (-Infinity) at [2, 3, 4]",
    );
  });
});

describe("NpyVolumeWriter", () => {
  it("fills a preallocated .npy by positional runs, readable by the .npy reader, and reopens it", () => {
    const file = path.join(dir, "v.npy");
    const w = NpyVolumeWriter.create(file, 3, 2);
    w.writeRun(1, 2, 1, 1, Float32Array.of(5, 6));
    w.close();
    const w2 = NpyVolumeWriter.reopen(file, 3, 2);
    w2.writeRun(0, 0, 0, 0, Float32Array.of(9));
    w2.close();
    const r = readNpyFloat32(file);
    expect(r.shape).toEqual([2, 3, 3, 3]);
    const expected = new Float32Array(54);
    expected[27 + 2 * 9 + 3 + 1] = 5;
    expected[27 + 2 * 9 + 3 + 2] = 6;
    expected[0] = 9;
    expect(r.data).toEqual(expected);
    expect(() => NpyVolumeWriter.reopen(file, 4, 2)).toThrow(/partial output has shape \(2, 3, 3, 3\)/);
  });
});
