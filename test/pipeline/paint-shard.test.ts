/**
 * `paint --shard i/n` and `mocksmith merge` of painted grids: the stitched volume equals the
 * single-process painting bit for bit, and shards of another tiling are refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeRandomPainter } from "./painter-fixture.js";
import { main } from "../../src/pipeline/cli/main.js";
import { writeNpyFloat32 } from "../../src/io/npy.js";
import { makeGridMetadata, writeGridMetadata } from "../../src/io/grid-metadata.js";
import { SHARD_MANIFEST } from "../../src/pipeline/shard.js";
import { gridDatasetManifestPath } from "../../src/pipeline/shard-merge.js";

let dir: string;
let model: string;
let input: string;
const n = 12;
const box = 24; // voxel 2 Mpc/h, the fixture card's voxel size

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    return { code: await main(["node", "mocksmith", ...args]), stderr: lines.join("") };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-paint-shard-"));
  model = writeRandomPainter(dir, { seed: 3 }).path;
  input = path.join(dir, "delta.npy");
  writeNpyFloat32(
    input,
    Float32Array.from({ length: n ** 3 }, (_, i) => 0.4 * Math.sin(i * 0.37)),
    [n, n, n],
  );
  writeGridMetadata(
    input,
    makeGridMetadata({ kind: "density", shape: [n, n, n], boxSize: box, redshift: 0, periodic: true }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// 12³ in cores of 5: origins 0, 5, 7 (the last overlaps), 27 tiles, 14 batches of 2 over 3 shards.
const paintArgs = (out: string, tile = "5") => [
  "paint",
  "--input",
  input,
  "--model",
  model,
  "--tile",
  tile,
  "--tiles-per-batch",
  "2",
  "--workers",
  "1",
  "-o",
  out,
];

describe("sharded paint and merge", () => {
  it("stitches the shards into the single-process volume, bit for bit", async () => {
    const single = path.join(dir, "single.npy");
    const r = await cli(paintArgs(single));
    expect(r.code, r.stderr).toBe(0);
    const shardDirs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = path.join(dir, `shard-${i}`);
      fs.mkdirSync(d);
      shardDirs.push(d);
      const s = await cli([...paintArgs(path.join(d, "painted.npy")), "--shard", `${i}/3`]);
      expect(s.code, s.stderr).toBe(0);
      const m = JSON.parse(fs.readFileSync(path.join(d, SHARD_MANIFEST), "utf8"));
      expect(m.units.total).toBe(14);
      expect(m.primary).toBe("painted.npy");
      // a shard alone is not the answer: some voxels are left to the other shards
      expect(fs.readFileSync(path.join(d, "painted.npy")).equals(fs.readFileSync(single))).toBe(false);
    }
    const merged = path.join(dir, "merged.npy");
    const mr = await cli(["merge", ...shardDirs, "-o", merged]);
    expect(mr.code, mr.stderr).toBe(0);
    expect(fs.readFileSync(merged).equals(fs.readFileSync(single))).toBe(true);
    expect(fs.readFileSync(path.join(dir, "merged.json"), "utf8")).toBe(
      fs.readFileSync(path.join(dir, "single.json"), "utf8"),
    );
    expect(fs.existsSync(gridDatasetManifestPath(merged))).toBe(true);

    // a shard painted with another tiling is refused, and nothing is written
    const other = path.join(dir, "other-1");
    fs.mkdirSync(other);
    expect((await cli([...paintArgs(path.join(other, "painted.npy"), "4"), "--shard", "1/3"])).code).toBe(0);
    const bad = await cli(["merge", shardDirs[0], other, shardDirs[2], "-o", path.join(dir, "bad.npy")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/shard 1\/3 .*config hash .* \(different configuration\)/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("bad") || f.includes(".tmp-"))).toEqual([]);
  }, 300_000);
});
