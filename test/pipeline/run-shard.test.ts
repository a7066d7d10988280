/**
 * `run --shard i/n` (pipeline/run-shard.ts) and its merge, in process: the merged catalog parts,
 * catalog.arrows and input_delta.npy are byte-identical to a single-process run's; bad shard sets
 * and the N-body path are refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMainJob } from "../../src/pipeline/main-job.js";
import { silentProgress } from "../../src/pipeline/progress.js";
import { resolveRunConfig } from "../../src/pipeline/run-config.js";
import { SHARD_MANIFEST } from "../../src/pipeline/shard.js";
import { mergeShards, ShardSetError } from "../../src/pipeline/shard-merge.js";
import { datasetDifferences } from "./dataset-equality.js";
import { writeRandomPainter } from "./painter-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-run-shard-"));
const at = (name: string) => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 64 Mpc/h at 4 Mpc/h voxels: 16 x-planes, 3 planes per part → 6 parts (the last one short). */
const model = writeRandomPainter(dir, { seed: 2, outChannels: 3, voxelSize: 4 });
function config(output: string, over: Record<string, unknown> = {}) {
  return resolveRunConfig({
    output,
    seed: 5,
    box: { particles: 16, size: 64, voxel: 4 },
    halos: {
      source: "painter",
      model: model.path,
      tile: 8,
      workers: 1,
      massBins: [1e12, 1e15, 3],
      planesPerPart: 3,
    },
    stats: { enabled: false },
    ...over,
  });
}

async function shardRun(name: string, count: number, over: Record<string, unknown> = {}): Promise<string[]> {
  const dirs: string[] = [];
  for (let index = 0; index < count; index++) {
    dirs.push(at(`${name}-${index}`));
    await runMainJob(config(dirs[index], over), silentProgress, { shard: { index, count } });
  }
  return dirs;
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

describe("sharded main job and merge", () => {
  let three: string[] = [];
  let haloes = 0;
  beforeAll(async () => {
    haloes = (await runMainJob(config(at("single")), silentProgress)).haloes;
    three = await shardRun("three", 3);
  }, 300_000);

  it("gives each shard its own catalog parts; shard 0 also the input box", () => {
    expect(haloes).toBeGreaterThan(0);
    const parts = three.map((d) =>
      fs
        .readdirSync(path.join(d, "catalog"))
        .filter((f) => f.endsWith(".parquet"))
        .sort(),
    );
    expect(parts).toEqual([
      ["part-00000.parquet", "part-00001.parquet"],
      ["part-00002.parquet", "part-00003.parquet"],
      ["part-00004.parquet", "part-00005.parquet"],
    ]);
    expect(fs.existsSync(path.join(three[0], "input_delta.npy"))).toBe(true);
    expect(fs.existsSync(path.join(three[1], "input_delta.npy"))).toBe(false);
    const m = JSON.parse(fs.readFileSync(path.join(three[1], SHARD_MANIFEST), "utf8"));
    expect(m.unit).toBe("catalog-part");
    expect(m.units).toEqual({ total: 6, start: 2, end: 4 });
  });

  it("merges into a catalog and input box byte-identical to the single-process run", async () => {
    mergeShards(three, at("merged"));
    // The single run's config.yaml names its own output directory; the merge has the dataset manifest instead.
    expect(datasetDifferences(at("single"), at("merged"), ["dataset-manifest.json"])).toEqual([
      "config.yaml: only in " + at("single"),
    ]);
    // More shards than parts: shards 0 and 4 of 8 own no part; 4 computes nothing, 0 only the box.
    const eight = await shardRun("eight", 8);
    expect(fs.readdirSync(eight[4]).sort()).toEqual(["config.yaml", SHARD_MANIFEST]);
    expect(fs.readdirSync(eight[0]).sort()).toEqual([
      "config.yaml",
      "input_delta.json",
      "input_delta.npy",
      SHARD_MANIFEST,
    ]);
    mergeShards(eight, at("merged-eight"));
    expect(datasetDifferences(at("single"), at("merged-eight"), ["dataset-manifest.json"])).toEqual([
      "config.yaml: only in " + at("single"),
    ]);
  }, 300_000);

  it("refuses missing, overlapping and mismatched shard sets, and the N-body path", async () => {
    expect(refusal([three[0], three[2]], "m1")).toMatch(/missing shard\(s\) of 3: 1/);
    const halves = await shardRun("half", 2);
    expect(refusal([three[0], halves[1], three[2]], "m2")).toMatch(/overlapping partitions/);
    const other = [at("other-1")];
    await runMainJob(config(other[0], { seed: 6 }), silentProgress, { shard: { index: 1, count: 3 } });
    expect(refusal([three[0], other[0], three[2]], "m3")).toMatch(/different configuration/);
    const nbody = resolveRunConfig({
      output: at("nb"),
      box: { particles: 16, size: 64, voxel: 4 },
      halos: { source: "nbody" },
    });
    await expect(runMainJob(nbody, silentProgress, { shard: { index: 0, count: 2 } })).rejects.toThrow(
      /halos\.source.*--shard needs the painter path/,
    );
  }, 300_000);
});
