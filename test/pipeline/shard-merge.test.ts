/**
 * `nbody-set --shard i/n` and `mocksmith merge` through the compiled CLI: the merged set equals
 * the single-process set, and every kind of bad shard set is refused with one error naming it.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SHARD_MANIFEST } from "../../src/pipeline/shard.js";
import { datasetDifferences } from "./dataset-equality.js";

const cli = path.resolve("dist/src/pipeline/cli/main.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-shard-"));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
const set = ["nbody-set", "--sims", "3", "--grid", "16", "--box", "64", "--steps", "2", "--voxel", "8"];
const at = (name: string) => path.join(dir, name);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("sharded nbody-set and merge", () => {
  const single = run(...set, "-o", at("single"));
  const shards = [0, 1, 2].map((i) => run(...set, "--shard", `${i}/3`, "-o", at(`shard-${i}`)));
  const shardDirs = [0, 1, 2].map((i) => at(`shard-${i}`));
  /** Copies shard `i` to a fresh directory so a test may damage it. */
  const copyShard = (i: number, name: string) => {
    fs.cpSync(shardDirs[i], at(name), { recursive: true });
    return at(name);
  };
  const refused = (dirs: string[], out: string) => {
    const r = run("merge", ...dirs, "-o", at(out));
    expect(r.status).toBe(1);
    expect(fs.existsSync(at(out))).toBe(false);
    expect(r.stderr.match(/mocksmith: error/g)).toHaveLength(1);
    return r.stderr;
  };

  it("makes each shard's simulations only, with a manifest", () => {
    expect(single.status, single.stderr).toBe(0);
    for (const [i, r] of shards.entries()) {
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readdirSync(shardDirs[i]).sort()).toEqual([SHARD_MANIFEST, `sim-00${i}`]);
      const m = JSON.parse(fs.readFileSync(path.join(shardDirs[i], SHARD_MANIFEST), "utf8"));
      expect(m.units).toEqual({ total: 3, start: i, end: i + 1 });
      expect(m.files.map((f: { path: string }) => f.path)).toContain(`sim-00${i}/halos_z0.000.parquet`);
    }
  });

  it("merges into the single-process set", () => {
    const r = run("merge", ...shardDirs, "-o", at("merged"));
    expect(r.status, r.stderr).toBe(0);
    expect(datasetDifferences(at("single"), at("merged"), ["dataset-manifest.json"])).toEqual([]);
    // and the merge itself copies every shard file bit for bit
    for (const d of shardDirs)
      for (const s of fs.readdirSync(d).filter((f) => f.startsWith("sim-")))
        for (const f of fs.readdirSync(path.join(d, s)))
          expect(
            fs.readFileSync(path.join(d, s, f)).equals(fs.readFileSync(path.join(at("merged"), s, f))),
          ).toBe(true);
    const again = run("merge", ...shardDirs, "-o", at("merged"));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; merge never overwrites/);
  });

  it("refuses a missing shard", () => {
    expect(refused([shardDirs[0], shardDirs[2]], "m-missing")).toMatch(/missing shard\(s\) of 3: 1/);
  });

  it("refuses an unfinished shard (no manifest)", () => {
    const d = copyShard(1, "unfinished");
    fs.rmSync(path.join(d, SHARD_MANIFEST));
    expect(refused([shardDirs[0], d, shardDirs[2]], "m-unfinished")).toMatch(
      /unfinished.*no shard-manifest\.json[\s\S]*missing shard\(s\) of 3: 1/,
    );
  });

  it("refuses duplicate and overlapping shards", () => {
    const dup = copyShard(1, "dup");
    const err = refused([...shardDirs, dup], "m-dup");
    expect(err).toMatch(/shard 1\/3 given 2 times \(duplicate\)/);
    expect(err).toMatch(/both hold \d+ file\(s\), e\.g\. sim-001\/.* \(overlap\)/);
    const two = run(...set, "--shard", "0/2", "-o", at("half-0"));
    expect(two.status, two.stderr).toBe(0);
    expect(refused([at("half-0"), ...shardDirs.slice(1)], "m-overlap")).toMatch(
      /split into 3 shards of 3 units, shard 0\/2 .* into 2 of 3 \(overlapping partitions\)/,
    );
  });

  it("refuses a tampered file, naming it", () => {
    const d = copyShard(2, "tampered");
    const f = path.join(d, "sim-002", "nbody_delta_z0.000.npy");
    const bytes = fs.readFileSync(f);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(f, bytes);
    fs.rmSync(path.join(d, "sim-002", "lpt_delta_z0.000.json"));
    const err = refused([shardDirs[0], shardDirs[1], d], "m-tampered");
    expect(err).toMatch(/shard 2\/3 \(.*tampered\): damaged: .*sim-002\/lpt_delta_z0\.000\.json \(missing\)/);
    expect(err).toMatch(/sim-002\/nbody_delta_z0\.000\.npy \(sha256 mismatch\)/);
  });

  it("refuses shards of another configuration or software version", () => {
    const other = run(...set.map((a) => (a === "2" ? "3" : a)), "--shard", "1/3", "-o", at("other-steps"));
    expect(other.status, other.stderr).toBe(0);
    expect(refused([shardDirs[0], at("other-steps"), shardDirs[2]], "m-config")).toMatch(
      /shard 1\/3 .*config hash .* differs .* \(different configuration\)/,
    );
    const d = copyShard(1, "old-version");
    const file = path.join(d, SHARD_MANIFEST);
    const m = JSON.parse(fs.readFileSync(file, "utf8"));
    m.software.version = "0.0.9";
    fs.writeFileSync(file, JSON.stringify(m));
    expect(refused([shardDirs[0], d, shardDirs[2]], "m-version")).toMatch(
      /shard 1\/3 .*software mocksmith 0\.0\.9 differs from mocksmith \d+\.\d+\.\d+/,
    );
  });
});
