import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { arrayGridSource } from "../../src/io/grid-reader.js";
import {
  boundaryIndex,
  makeTileBatch,
  ownedStart,
  readTileBatch,
  tileBatches,
  tileOrigins,
  type Boundary,
} from "../../src/stages/tile.js";
import { memoryVolume, stitchBatch } from "../../src/stages/stitch.js";

/** The identity model: keeps the core of each padded patch. */
function cropCores(batch: ReturnType<typeof makeTileBatch>) {
  const r = readTileBatch(batch);
  const s = r.core + 2 * r.padding;
  const t = r.core;
  const out = new Float32Array(r.ids.length * r.channels * t ** 3);
  let o = 0;
  for (let row = 0; row < r.ids.length; row++)
    for (let c = 0; c < r.channels; c++)
      for (let a = 0; a < t; a++)
        for (let b = 0; b < t; b++) {
          const start =
            row * r.channels * s ** 3 + ((c * s + a + r.padding) * s + b + r.padding) * s + r.padding;
          out.set(r.values.subarray(start, start + t), o);
          o += t;
        }
  return makeTileBatch({
    ids: r.ids,
    origins: r.origins,
    core: t,
    padding: 0,
    channels: r.channels,
    values: out,
  });
}

const boundaries: Boundary[] = ["periodic", "zero", "reflect"];

describe("tile → identity → stitch", () => {
  it("reproduces the grid bitwise for any N, T, p, boundary, channels and batch size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(...boundaries),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 4 }),
        async (n, t, p, boundary, channels, perBatch) => {
          const data = Float32Array.from({ length: channels * n ** 3 }, (_, i) =>
            Math.fround(Math.sin(i * 1.7) * 1e3 + i),
          );
          const volume = memoryVolume(n, channels);
          let rows = 0;
          for await (const { batch } of tileBatches(
            arrayGridSource(data, n, channels),
            { side: n, core: t, padding: p, boundary, channels },
            { tilesPerBatch: perBatch },
          )) {
            rows += stitchBatch(cropCores(batch), volume).rows;
          }
          expect(rows).toBe(Math.ceil(n / Math.min(t, n)) ** 3);
          expect(Buffer.from(volume.data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("tile layout", () => {
  it("owns every voxel along an axis exactly once, with all cores inside the grid", () => {
    for (let n = 1; n <= 20; n++)
      for (let t = 1; t <= 22; t++) {
        const tc = Math.min(t, n);
        const owners = new Array(n).fill(0);
        for (const o of tileOrigins(n, t)) {
          expect(o >= 0 && o + tc <= n).toBe(true);
          for (let i = ownedStart(o, tc); i < o + tc; i++) owners[i]++;
        }
        expect(owners.every((c) => c === 1)).toBe(true);
      }
  });

  it("fills padding by the boundary rule (numpy pad modes wrap, constant 0, reflect)", async () => {
    const n = 5;
    const p = 3;
    const data = Float32Array.from({ length: n ** 3 }, (_, i) => i + 1);
    // numpy.pad semantics written out independently for |offset| ≤ n − 1.
    const expectedIndex = (i: number, b: Boundary): number => {
      if (i >= 0 && i < n) return i;
      if (b === "zero") return -1;
      if (b === "periodic") return (i + n) % n;
      return i < 0 ? -i : 2 * (n - 1) - i;
    };
    for (const b of boundaries) {
      for (let i = -p; i < n + p; i++) expect(boundaryIndex(i, n, b)).toBe(expectedIndex(i, b));
      const it = tileBatches(
        arrayGridSource(data, n),
        { side: n, core: n, padding: p, boundary: b, channels: 1 },
        { tilesPerBatch: 1 },
      );
      const first = await it.next();
      if (first.done) throw new Error("no tiles");
      const patch = readTileBatch(first.value.batch).values;
      const s = n + 2 * p;
      for (let a = 0; a < s; a++)
        for (let c = 0; c < s; c++)
          for (let d = 0; d < s; d++) {
            const [x, y, z] = [a, c, d].map((v) => expectedIndex(v - p, b));
            const want = x < 0 || y < 0 || z < 0 ? 0 : data[(x * n + y) * n + z];
            expect(patch[(a * s + c) * s + d]).toBe(want);
          }
    }
  });

  it("reflects and wraps paddings wider than the grid", () => {
    expect([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5].map((i) => boundaryIndex(i, 2, "reflect"))).toEqual([
      0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
    ]);
    expect([-7, -1, 3, 9].map((i) => boundaryIndex(i, 3, "periodic"))).toEqual([2, 2, 0, 0]);
    expect(boundaryIndex(-5, 1, "reflect")).toBe(0);
  });
});
