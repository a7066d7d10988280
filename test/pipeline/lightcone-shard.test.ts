/**
 * `lightcone --shard i/n` (pipeline/lightcone-shard.ts) and its merge: the merged light cone is
 * byte-identical, file by file (Parquet parts and lightcone.arrows), to the single-process one;
 * bad shard sets are refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { vec2pixNest } from "../../src/cosmo/healpix.js";
import { catalogMetadataRecord, catalogTable } from "../../src/io/halo-catalog.js";
import { readParquet, writeParquet } from "../../src/io/parquet-table.js";
import { skyUnitOf, writeLightconeShard } from "../../src/pipeline/lightcone-shard.js";
import { SHARD_MANIFEST, type Shard } from "../../src/pipeline/shard.js";
import { mergeShards, ShardSetError } from "../../src/pipeline/shard-merge.js";
import { openCatalogSnapshot, writeLightcone, type LightconeGeometry } from "../../src/stages/lightcone.js";
import { datasetDifferences } from "./dataset-equality.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-lc-shard-"));
const at = (name: string) => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cosmology = makeCosmology();
const L = 100;

/** A deterministic pseudo-random generator (mulberry32), so the catalog is the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A catalog directory of `parts` parts of `n` random haloes each, at `redshift`. */
function writeCatalog(name: string, redshift: number, parts: number, n: number, seed: number): string {
  const rnd = random(seed);
  const out = at(name);
  fs.mkdirSync(out);
  const metadata = catalogMetadataRecord({ boxSize: L, redshift, cosmology: { ...cosmology }, seed });
  for (let p = 0; p < parts; p++) {
    const f = () => Float32Array.from({ length: n }, () => rnd() * L);
    const v = () => Float32Array.from({ length: n }, () => (rnd() - 0.5) * 600);
    const table = catalogTable(
      {
        id: BigUint64Array.from({ length: n }, (_, i) => BigInt(p * n + i)),
        x: f(),
        y: f(),
        z: f(),
        vx: v(),
        vy: v(),
        vz: v(),
        mass: Float32Array.from({ length: n }, () => 1e12 * (1 + 100 * rnd())),
        massBin: Int8Array.from({ length: n }, () => Math.floor(rnd() * 3)),
      },
      metadata,
    );
    writeParquet(path.join(out, `part-${String(p).padStart(5, "0")}.parquet`), table, metadata);
  }
  return out;
}

const snapshots = [
  openCatalogSnapshot(writeCatalog("cat-z0", 0, 2, 150, 1)),
  openCatalogSnapshot(writeCatalog("cat-z005", 0.05, 2, 150, 2)),
];
const geometry = (over: Partial<LightconeGeometry> = {}): LightconeGeometry => ({
  boxSize: L,
  cosmology,
  observer: [50, 50, 50],
  chiMax: 180,
  nside: 16,
  ...over,
});
const extra = { test: "lightcone-shard" };

function shards(name: string, count: number, g = geometry()): string[] {
  return Array.from({ length: count }, (_, index) => {
    const out = at(`${name}-${index}`);
    writeLightconeShard(snapshots, g, { index, count } satisfies Shard, { outDir: out, extra });
    return out;
  });
}

const refusal = (dirs: string[], out: string): string => {
  let message = "";
  try {
    mergeShards(dirs, at(out));
  } catch (err) {
    expect(err).toBeInstanceOf(ShardSetError);
    message = (err as Error).message;
  }
  expect(fs.existsSync(at(out))).toBe(false);
  return message;
};

describe("sky units", () => {
  it("are the nested parent pixels: a direction's unit is its pixel at the unit nside", () => {
    const rnd = random(7);
    for (let i = 0; i < 2000; i++) {
      const v = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
      for (const nside of [8, 16, 64])
        expect(skyUnitOf(vec2pixNest(nside, v[0], v[1], v[2]), nside, 8)).toBe(
          vec2pixNest(8, v[0], v[1], v[2]),
        );
      expect(skyUnitOf(vec2pixNest(4, v[0], v[1], v[2]), 4, 4)).toBe(vec2pixNest(4, v[0], v[1], v[2]));
    }
  });
});

describe("sharded light cone and merge", () => {
  const single = at("single");
  let rowsSingle = 0;
  const three = shards("three", 3);
  beforeAll(async () => {
    rowsSingle = (await writeLightcone(snapshots, geometry(), { outDir: single, extra })).rows;
  });

  it("splits the rows disjointly by sky pixel, each shard holding only its units", () => {
    expect(rowsSingle).toBeGreaterThan(1000);
    let rows = 0;
    for (const d of three) {
      const m = JSON.parse(fs.readFileSync(path.join(d, SHARD_MANIFEST), "utf8"));
      expect(m.unit).toBe("sky-pixel");
      expect(m.units.total).toBe(768);
      for (const f of m.files.filter((x: { path: string }) => x.path.endsWith(".parquet"))) {
        const pix = readParquet(path.join(d, f.path)).table.getChild("healpix")!.toArray() as BigInt64Array;
        for (const p of pix) {
          const u = skyUnitOf(Number(p), 16, 8);
          expect(u >= m.units.start && u < m.units.end).toBe(true);
        }
        rows += f.rows;
      }
    }
    expect(rows).toBe(rowsSingle);
  });

  it("merges into files byte-identical to the single-process light cone", async () => {
    const r = mergeShards(three, at("merged"));
    expect(r.shards).toBe(3);
    expect(datasetDifferences(single, at("merged"), ["dataset-manifest.json"])).toEqual([]);
    // nside 2 gives 48 units: of 60 shards some own no pixels, most see none of the cone's rows.
    const g = geometry({ nside: 2, cone: { ra: 30, dec: 20, radius: 25 } });
    const many = shards("many", 60, g);
    const cone = at("single-cone");
    await writeLightcone(snapshots, g, { outDir: cone, extra });
    mergeShards(many, at("merged-cone"));
    expect(datasetDifferences(cone, at("merged-cone"), ["dataset-manifest.json"])).toEqual([]);
  });

  it("refuses missing, duplicate, overlapping, mismatched and damaged shard sets", () => {
    expect(refusal([three[0], three[2]], "m1")).toMatch(/missing shard\(s\) of 3: 1/);
    expect(refusal([three[0], three[1], three[1], three[2]], "m2")).toMatch(/given 2 times \(duplicate\)/);
    const halves = shards("half", 2);
    expect(refusal([three[0], halves[1], three[2]], "m3")).toMatch(/overlapping partitions/);
    const other = shards("other", 3, geometry({ chiMax: 170 }));
    expect(refusal([three[0], other[1], three[2]], "m4")).toMatch(/different configuration/);
    const damaged = at("damaged-1");
    fs.cpSync(three[1], damaged, { recursive: true });
    const order = fs.readdirSync(damaged).find((f) => f.endsWith(".order"))!;
    const bytes = fs.readFileSync(path.join(damaged, order));
    bytes[0] ^= 1;
    fs.writeFileSync(path.join(damaged, order), bytes);
    expect(refusal([three[0], damaged, three[2]], "m5")).toMatch(
      new RegExp(`${order} \\(sha256 mismatch\\)`),
    );
  });
});
