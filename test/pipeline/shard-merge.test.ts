/**
 * `nbody-set --shard i/n` and `mocksmith merge` through the compiled CLI: the merged set equals
 * the single-process set, and every kind of bad shard set is refused with one error naming it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARD_MANIFEST } from "../../src/pipeline/shard.js";
import { datasetDifferences } from "./dataset-equality.js";
import { runCliAsync, type CliResult } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-shard-"));
const run = runCliAsync;
const set = ["nbody-set", "--sims", "3", "--grid", "16", "--box", "64", "--steps", "2", "--voxel", "8"];
const at = (name: string) => path.join(dir, name);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("sharded nbody-set and merge", () => {
  // Async and in a hook: four small sets take seconds alone, minutes on a loaded 2-core machine.
  let single: CliResult;
  const shards: CliResult[] = [];
  beforeAll(async () => {
    single = await run(...set, "-o", at("single"));
    for (const i of [0, 1, 2]) shards.push(await run(...set, "--shard", `${i}/3`, "-o", at(`shard-${i}`)));
  }, 600_000);
  const shardDirs = [0, 1, 2].map((i) => at(`shard-${i}`));
  /** Copies shard `i` to a fresh directory so a test may damage it. */
  const copyShard = (i: number, name: string) => {
    fs.cpSync(shardDirs[i], at(name), { recursive: true });
    return at(name);
  };
  const refused = async (dirs: string[], out: string) => {
    const r = await run("merge", ...dirs, "-o", at(out));
    expect(r.status).toBe(1);
    expect(fs.existsSync(at(out))).toBe(false);
    expect(r.stderr.match(/mocksmith: error/g)).toHaveLength(1);
    return r.stderr;
  };

  it("makes each shard's simulations only, with a manifest", async () => {
    expect(single.status, single.stderr).toBe(0);
    for (const [i, r] of shards.entries()) {
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readdirSync(shardDirs[i]).sort()).toEqual([SHARD_MANIFEST, `sim-00${i}`]);
      const m = JSON.parse(fs.readFileSync(path.join(shardDirs[i], SHARD_MANIFEST), "utf8"));
      expect(m.units).toEqual({ total: 3, start: i, end: i + 1 });
      expect(m.files.map((f: { path: string }) => f.path)).toContain(`sim-00${i}/halos_z0.000.parquet`);
    }
  }, 300_000);

  it("merges into the single-process set", async () => {
    const r = await run("merge", ...shardDirs, "-o", at("merged"));
    expect(r.status, r.stderr).toBe(0);
    expect(datasetDifferences(at("single"), at("merged"), ["dataset-manifest.json"])).toEqual([]);
    // and the merge itself copies every shard file bit for bit
    for (const d of shardDirs)
      for (const s of fs.readdirSync(d).filter((f) => f.startsWith("sim-")))
        for (const f of fs.readdirSync(path.join(d, s)))
          expect(
            fs.readFileSync(path.join(d, s, f)).equals(fs.readFileSync(path.join(at("merged"), s, f))),
          ).toBe(true);
    const again = await run("merge", ...shardDirs, "-o", at("merged"));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; merge never overwrites/);
  }, 300_000);

  it("refuses a missing shard", async () => {
    expect(await refused([shardDirs[0], shardDirs[2]], "m-missing")).toMatch(/missing shard\(s\) of 3: 1/);
  }, 300_000);

  it("refuses an unfinished shard (no manifest)", async () => {
    const d = copyShard(1, "unfinished");
    fs.rmSync(path.join(d, SHARD_MANIFEST));
    expect(await refused([shardDirs[0], d, shardDirs[2]], "m-unfinished")).toMatch(
      /unfinished.*no shard-manifest\.json[\s\S]*missing shard\(s\) of 3: 1/,
    );
  }, 300_000);

  it("refuses duplicate and overlapping shards", async () => {
    const dup = copyShard(1, "dup");
    const err = await refused([...shardDirs, dup], "m-dup");
    expect(err).toMatch(/shard 1\/3 given 2 times \(duplicate\)/);
    expect(err).toMatch(/both hold \d+ file\(s\), e\.g\. sim-001\/.* \(overlap\)/);
    const two = await run(...set, "--shard", "0/2", "-o", at("half-0"));
    expect(two.status, two.stderr).toBe(0);
    expect(await refused([at("half-0"), ...shardDirs.slice(1)], "m-overlap")).toMatch(
      /split into 3 shards of 3 units, shard 0\/2 .* into 2 of 3 \(overlapping partitions\)/,
    );
  }, 300_000);

  it("refuses a tampered file, naming it", async () => {
    const d = copyShard(2, "tampered");
    const f = path.join(d, "sim-002", "nbody_delta_z0.000.npy");
    const bytes = fs.readFileSync(f);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(f, bytes);
    fs.rmSync(path.join(d, "sim-002", "lpt_delta_z0.000.json"));
    const err = await refused([shardDirs[0], shardDirs[1], d], "m-tampered");
    expect(err).toMatch(/shard 2\/3 \(.*tampered\): damaged: .*sim-002\/lpt_delta_z0\.000\.json \(missing\)/);
    expect(err).toMatch(/sim-002\/nbody_delta_z0\.000\.npy \(sha256 mismatch\)/);
  }, 300_000);

  it("refuses shards of another configuration or software version", async () => {
    const other = await run(
      ...set.map((a) => (a === "2" ? "3" : a)),
      "--shard",
      "1/3",
      "-o",
      at("other-steps"),
    );
    expect(other.status, other.stderr).toBe(0);
    expect(await refused([shardDirs[0], at("other-steps"), shardDirs[2]], "m-config")).toMatch(
      /shard 1\/3 .*config hash .* differs .* \(different configuration\)/,
    );
    const d = copyShard(1, "old-version");
    const file = path.join(d, SHARD_MANIFEST);
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    m.software.version = "0.0.9";
    fs.writeFileSync(file, JSON.stringify(m));
    expect(await refused([shardDirs[0], d, shardDirs[2]], "m-version")).toMatch(
      /shard 1\/3 .*software mocksmith 0\.0\.9 differs from mocksmith \d+\.\d+\.\d+/,
    );
  }, 300_000);
});
