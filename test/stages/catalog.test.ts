import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { depositParticles, toDensityContrast } from "../../src/cosmo/mass-assignment.js";
import { particlePowerSpectrum, powerSpectrum } from "../../src/cosmo/power-spectrum.js";
import { arrayGridSource } from "../../src/io/grid-reader.js";
import { catalogColumnsOf, type CatalogColumns } from "../../src/io/halo-catalog.js";
import { readParquet } from "../../src/io/parquet-table.js";
import {
  fitMassFunction,
  sampleCatalog,
  sampleCatalogSlabs,
  concatCatalogColumns,
  writeCatalog,
  type CatalogSamplingOptions,
} from "../../src/stages/catalog.js";

const cosmology = makeCosmology();
const L = 500;
const side = 32;
const edges = [1e12, 1e13, 1e14];

/**
 * A 2LPT box at z = 0 and a "painted-like" field from it: λ_b = n̄_b max(0, 1 + b_b δ), with δ the
 * CIC density at the voxel centres (shift −½ cell), since count voxel i covers [iΔ, (i+1)Δ).
 */
function paintedLike(): { counts: Float32Array; positions: Float32Array; velocities: Float32Array } {
  const lpt = runLpt({
    gridSide: side,
    boxSize: L,
    redshift: 0,
    seed: 42,
    cosmology,
    want: { particles: true },
  });
  const delta = depositParticles(lpt.positions!, [side, side, side], L, "cic", { shift: -0.5 });
  toDensityContrast(delta);
  const cells = side ** 3;
  const counts = new Float32Array(2 * cells);
  const [nbar, bias] = [
    [0.8, 1.2],
    [0.25, 2.0],
  ].reduce<[number[], number[]]>(
    (acc, [n, b]) => {
      acc[0].push(n);
      acc[1].push(b);
      return acc;
    },
    [[], []],
  );
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < cells; i++) counts[b * cells + i] = nbar[b] * Math.max(0, 1 + bias[b] * delta[i]);
  return { counts, positions: lpt.positions!, velocities: lpt.velocities! };
}

let field: ReturnType<typeof paintedLike>;
let options: CatalogSamplingOptions;
let catalog: CatalogColumns;
let tmp: string;

beforeAll(async () => {
  field = paintedLike();
  options = {
    boxSize: L,
    massEdges: edges,
    dndlnm: fitMassFunction(cosmology, 0, edges),
    seed: 7,
    particles: { positions: field.positions, velocities: field.velocities },
  };
  catalog = await sampleCatalog(arrayGridSource(field.counts, side, 2), options);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-test-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Bitwise equality of two catalogs, column by column. */
function expectSameCatalog(a: CatalogColumns, b: CatalogColumns): void {
  for (const key of Object.keys(a) as (keyof CatalogColumns)[]) {
    const [u, v] = [a[key], b[key]];
    expect(u.length, key).toBe(v.length);
    expect(
      Buffer.compare(
        Buffer.from(u.buffer, u.byteOffset, u.byteLength),
        Buffer.from(v.buffer, v.byteOffset, v.byteLength),
      ),
      key,
    ).toBe(0);
  }
}

function sum(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

describe("catalog sampling", () => {
  it("draws as many haloes per bin as the painted field holds, within Poisson error", () => {
    const cells = side ** 3;
    for (let b = 0; b < 2; b++) {
      const expected = sum(field.counts.subarray(b * cells, (b + 1) * cells));
      const drawn = catalog.massBin.filter((m) => m === b).length;
      expect(Math.abs(drawn - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
  });

  it("puts each halo in its id's voxel, inside the box, with its mass in its bin", () => {
    const dx = L / side;
    const bad: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok && bad.length < 5) bad.push(what);
    };
    for (let h = 0; h < catalog.id.length; h++) {
      const voxel = Number(catalog.id[h] >> 24n);
      const bin = Number((catalog.id[h] >> 16n) & 0xffn);
      const ix = Math.floor(catalog.x[h] / dx);
      const iy = Math.floor(catalog.y[h] / dx);
      const iz = Math.floor(catalog.z[h] / dx);
      check((ix * side + iy) * side + iz === voxel, `halo ${h} outside its voxel`);
      check(catalog.x[h] >= 0 && catalog.x[h] < L, `halo ${h} at x = ${catalog.x[h]}`);
      check(bin === catalog.massBin[h], `halo ${h} id bin ${bin} vs mass_bin ${catalog.massBin[h]}`);
      const m = catalog.mass[h];
      check(m >= edges[bin] && m < edges[bin + 1], `halo ${h} mass ${m} outside bin ${bin}`);
    }
    expect(bad).toEqual([]);
  });

  it("has the painted field's shot-noise-subtracted P(k) for k < 0.1 h/Mpc, within the sampling noise", async () => {
    // With uniform placement the catalog is a Poisson sample of the piecewise-constant painted
    // field (λ constant in each voxel), so its expected power is that field's: computed here by
    // upsampling the painted grid ×4 (each voxel → 4³ equal cells) on a 128³ mesh, against the
    // catalog's interlaced, CIC-compensated, shot-noise-subtracted spectrum on the same mesh.
    const cells = side ** 3;
    const up = 4;
    const fine = side * up;
    const painted = new Float32Array(fine ** 3);
    let total = 0;
    for (let i = 0; i < cells; i++) total += field.counts[i] + field.counts[cells + i];
    const mean = total / cells;
    for (let x = 0; x < fine; x++)
      for (let y = 0; y < fine; y++)
        for (let z = 0; z < fine; z++) {
          const v = (((x / up) | 0) * side + ((y / up) | 0)) * side + ((z / up) | 0);
          painted[(x * fine + y) * fine + z] = (field.counts[v] + field.counts[cells + v]) / mean - 1;
        }
    const pPainted = powerSpectrum(painted, [fine, fine, fine], { boxSize: L });
    const uniform = await sampleCatalog(arrayGridSource(field.counts, side, 2), {
      ...options,
      placement: "uniform",
    });
    const positions = new Float32Array(3 * uniform.id.length);
    for (let h = 0; h < uniform.id.length; h++) {
      positions[3 * h] = uniform.x[h];
      positions[3 * h + 1] = uniform.y[h];
      positions[3 * h + 2] = uniform.z[h];
    }
    const pCat = particlePowerSpectrum(positions, fine, L, { interlaced: true, subtractShotNoise: true });
    const shot = pCat.shotNoise;
    let chi2 = 0;
    let bins = 0;
    for (let i = 0; i < pCat.k.length; i++) {
      if (!(pCat.k[i] < 0.1) || pCat.modes[i] === 0) continue;
      // Variance of the difference: the Poisson noise's own power and its cross with the field
      // (both fields share the painted realisation, so there is no cosmic variance between them).
      const sigma = Math.sqrt((shot * shot + 2 * pPainted.power[i] * shot) / pCat.modes[i]);
      const z = (pCat.power[i] - pPainted.power[i]) / sigma;
      expect(Math.abs(z)).toBeLessThan(4);
      chi2 += z * z;
      bins++;
    }
    expect(bins).toBeGreaterThan(5);
    expect(chi2 / bins).toBeLessThan(3);
  });

  it("is identical whatever the slab size, and when sampled in shards of x-planes", async () => {
    for (const slabPlanes of [1, 3, 32]) {
      const other = await sampleCatalog(arrayGridSource(field.counts, side, 2), { ...options, slabPlanes });
      expectSameCatalog(other, catalog);
    }
    const shards: CatalogColumns[] = [];
    for (const [from, to] of [
      [0, 13],
      [13, 32],
    ]) {
      for await (const s of sampleCatalogSlabs(arrayGridSource(field.counts, side, 2), options, { from, to }))
        shards.push(s.columns);
    }
    expectSameCatalog(concatCatalogColumns(shards), catalog);
  });

  it("places haloes inside the Lagrangian cells of the voxel's particles, or uniformly", async () => {
    // One particle per voxel at a quarter of the voxel: its cell ∩ voxel is [0, 3/4) of the voxel.
    const n = 8;
    const dx = 10;
    const positions = new Float32Array(3 * n ** 3);
    for (let i = 0, p = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++, p++)
          positions.set([(i + 0.25) * dx, (j + 0.25) * dx, (k + 0.25) * dx], 3 * p);
    const counts = new Float32Array(n ** 3).fill(3);
    const base = { boxSize: n * dx, massEdges: [1e12, 1e13], dndlnm: (m: number) => 1 / m, seed: 1 };
    const follow = await sampleCatalog(arrayGridSource(counts, n), { ...base, particles: { positions } });
    const uniform = await sampleCatalog(arrayGridSource(counts, n), { ...base, placement: "uniform" });
    const frac = (c: CatalogColumns) => Array.from(c.x, (x) => x / dx - Math.floor(x / dx));
    expect(Math.max(...frac(follow))).toBeLessThan(0.75);
    expect(Math.max(...frac(uniform))).toBeGreaterThan(0.9);
    // No particle velocities given: zero velocities.
    expect(follow.vx.every((v) => v === 0)).toBe(true);
  });

  it("gives every halo the velocity of a uniform particle flow exactly", async () => {
    const n = 8;
    // Four particles per voxel (a 16³ lattice over the 8³ voxels), all moving alike.
    const positions = new Float32Array(3 * 16 ** 3).map((_, i) => {
      const p = Math.floor(i / 3);
      const axis = [Math.floor(p / 256), Math.floor(p / 16) % 16, p % 16][i % 3];
      return (axis + 0.3) * 5;
    });
    const velocities = new Float32Array(3 * 16 ** 3).map((_, i) => [120, -45.5, 7.25][i % 3]);
    const counts = new Float32Array(n ** 3).fill(0.7);
    const c = await sampleCatalog(arrayGridSource(counts, n), {
      boxSize: 80,
      massEdges: [1e12, 1e13],
      dndlnm: (m) => 1 / m,
      seed: 3,
      placement: "uniform",
      particles: { positions, velocities },
    });
    expect(c.id.length).toBeGreaterThan(100);
    for (let h = 0; h < c.id.length; h++) {
      expect(c.vx[h]).toBeCloseTo(120, 3);
      expect(c.vy[h]).toBeCloseTo(-45.5, 3);
      expect(c.vz[h]).toBeCloseTo(7.25, 3);
    }
  });

  it("rejects a grid whose channels do not match the mass bins, and NaN counts, naming the source", async () => {
    const src = arrayGridSource(new Float32Array(2 * 8 ** 3), 8, 2, "painted.npy");
    await expect(sampleCatalog(src, { ...options, massEdges: [1e12, 1e13] })).rejects.toThrow(
      /painted\.npy.*2 channel\(s\).*\(1\)/,
    );
    const bad = new Float32Array(8 ** 3);
    bad[5] = NaN;
    await expect(
      sampleCatalog(arrayGridSource(bad, 8, 1, "nan.npy"), {
        ...options,
        massEdges: [1e12, 1e13],
        particles: undefined,
      }),
    ).rejects.toThrow(/nan\.npy.*NaN.*voxel \(0, 0, 5\)/);
  });
});

describe("catalog files", () => {
  it("writes Parquet parts and an Arrow IPC stream that read back with the schema, metadata and rows", async () => {
    const out = path.join(tmp, "cat");
    const result = await writeCatalog(arrayGridSource(field.counts, side, 2), options, {
      outDir: out,
      planesPerPart: 12,
      metadata: {
        redshift: 0,
        cosmology: { omegaM: cosmology.omegaM },
        extra: { model: { id: "m", sha256: "ab" } },
      },
    });
    expect(result.parts.map((p) => path.basename(p))).toEqual([
      "part-00000.parquet",
      "part-00001.parquet",
      "part-00002.parquet",
    ]);
    expect(result.rows).toBe(catalog.id.length);
    const read = result.parts.map((file) => {
      const { table, metadata } = readParquet(file);
      expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
        "id:Uint64",
        "x:Float32",
        "y:Float32",
        "z:Float32",
        "vx:Float32",
        "vy:Float32",
        "vz:Float32",
        "mass:Float32",
        "mass_bin:Int8",
      ]);
      expect(Number(metadata["mocksmith.box_size"])).toBe(L);
      expect(Number(metadata["mocksmith.seed"])).toBe(7);
      expect(JSON.parse(metadata["mocksmith.cosmology"])).toEqual({ omegaM: cosmology.omegaM });
      expect(JSON.parse(metadata["mocksmith.model"])).toEqual({ id: "m", sha256: "ab" });
      expect(JSON.parse(metadata["mocksmith.mass_bin_edges"])).toEqual(edges);
      expect(metadata["mocksmith.units"]).toContain("Msun/h");
      expect(metadata["mocksmith.software"]).toMatch(/^mocksmith /);
      return catalogColumnsOf(table, file);
    });
    expectSameCatalog(concatCatalogColumns(read), catalog);
    const ipc = tableFromIPC(fs.readFileSync(result.ipc!));
    expectSameCatalog(catalogColumnsOf(ipc, result.ipc!), catalog);
    expect(ipc.schema.metadata.get("mocksmith.seed")).toBe("7");
    expect(fs.readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]); // no temporaries left
  });

  it("is read back by DuckDB, an independent Parquet reader, when @duckdb/node-api is installed", async (ctx) => {
    // Typed locally: the package is optional, so the test must compile without it.
    type Rows = { getRows(): unknown[][] };
    type DuckDb = {
      DuckDBInstance: {
        create(path: string): Promise<{ connect(): Promise<{ runAndReadAll(sql: string): Promise<Rows> }> }>;
      };
    };
    let duckdb: DuckDb;
    try {
      const name = "@duckdb/node-api";
      duckdb = (await import(name)) as DuckDb;
    } catch {
      ctx.skip();
      return;
    }
    const out = path.join(tmp, "duck");
    const result = await writeCatalog(arrayGridSource(field.counts, side, 2), options, {
      outDir: out,
      metadata: { redshift: 0, cosmology: { omegaM: cosmology.omegaM } },
    });
    const db = await duckdb.DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const glob = path.join(out, "part-*.parquet");
    const types = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}')`);
    expect(types.getRows().map((r) => `${String(r[0])}:${String(r[1])}`)).toEqual([
      "id:UBIGINT",
      "x:FLOAT",
      "y:FLOAT",
      "z:FLOAT",
      "vx:FLOAT",
      "vy:FLOAT",
      "vz:FLOAT",
      "mass:FLOAT",
      "mass_bin:TINYINT",
    ]);
    const agg = await conn.runAndReadAll(
      `SELECT count(*), sum(mass_bin), min(x), max(x) FROM read_parquet('${glob}')`,
    );
    const [count, bins, minX, maxX] = agg.getRows()[0].map(Number);
    expect(count).toBe(catalog.id.length);
    expect(bins).toBe(catalog.massBin.reduce((s, b) => s + b, 0));
    expect(minX).toBe(Math.min(...catalog.x));
    expect(maxX).toBe(Math.max(...catalog.x));
    const kv = await conn.runAndReadAll(
      `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${result.parts[0]}')`,
    );
    const kvRows = Object.fromEntries(kv.getRows().map((r) => [String(r[0]), String(r[1])]));
    // All metadata sits in one file-level entry (see io/parquet-table.ts) as sorted JSON.
    const meta = JSON.parse(kvRows["mocksmith"]) as Record<string, string>;
    expect(Number(meta["mocksmith.box_size"])).toBe(L);
    expect(meta["mocksmith.seed"]).toBe("7");
  });
});
