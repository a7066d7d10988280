/** `mocksmith lightcone` end to end on the catalog of a tiny `mocksmith run`. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { comovingDistance } from "../../src/cosmo/distance.js";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { readParquet } from "../../src/io/parquet-table.js";
import { runCliAsync, type CliResult } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-lc-"));
const run = runCliAsync;

describe("mocksmith lightcone", () => {
  const box = path.join(dir, "box");
  // Async and in a hook with a generous timeout: tiny runs take seconds alone, minutes on a loaded 2-core machine.
  let made: CliResult;
  beforeAll(async () => {
    made = await run(
      "run",
      "--out",
      box,
      "--set",
      "box.particles=32",
      "--set",
      "box.size=64",
      "--set",
      "halos.nbody.steps=3",
      "--set",
      "halos.massBins=[1e12,1e15,3]",
      "--set",
      "stats.enabled=false",
      "--set",
      "halos.source=nbody",
    );
  }, 300_000);

  it("places the catalog on the light cone within the distance limit, with sky columns", async () => {
    expect(made.status, made.stderr).toBe(0);
    const out = path.join(dir, "lc");
    const r = await run(
      "lightcone",
      "--catalog",
      path.join(box, "catalog"),
      "--chi-max",
      "100",
      "--nside",
      "8",
      "-o",
      out,
    );
    expect(r.status, r.stderr).toBe(0);
    const parts = fs.readdirSync(out).filter((f) => f.endsWith(".parquet"));
    expect(parts.length).toBeGreaterThan(0);
    const { table, metadata } = readParquet(path.join(out, parts[0]));
    for (const c of ["ra", "dec", "z_cos", "z_obs", "chi", "healpix", "x", "mass"])
      expect(table.getChild(c), c).not.toBeNull();
    expect(JSON.stringify(metadata)).toMatch(/nside/);
    const chi = table.getChild("chi")!.toArray() as Float32Array;
    const zc = table.getChild("z_cos")!.toArray() as Float64Array;
    const c = makeCosmology();
    for (let i = 0; i < chi.length; i++) {
      expect(chi[i]).toBeLessThanOrEqual(100);
      expect(comovingDistance(c, zc[i])).toBeCloseTo(chi[i], 2);
    }
  }, 300_000);

  it("refuses impossible geometry, naming the option", async () => {
    const cat = path.join(box, "catalog");
    const wide = await run(
      "lightcone",
      "--catalog",
      cat,
      "--chi-max",
      "50",
      "--cone",
      "0,0,190",
      "-o",
      path.join(dir, "bad1"),
    );
    expect(wide.status).not.toBe(0);
    expect(wide.stderr).toMatch(/--cone/);
    const deep = await run("lightcone", "--catalog", cat, "--z-max", "2", "-o", path.join(dir, "bad2"));
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toMatch(/--z-max/);
    expect(fs.existsSync(path.join(dir, "bad1"))).toBe(false);
  }, 300_000);

  it("a damaged input part met late leaves nothing under the output name; a non-empty output is refused", async () => {
    expect(made.status, made.stderr).toBe(0);
    // The catalog's own parts, then one that is not Parquet: it is read only after the good parts
    // have been placed (and, written in place, would have left their output behind).
    const damaged = path.join(dir, "damaged-catalog");
    fs.mkdirSync(damaged);
    const good = fs.readdirSync(path.join(box, "catalog")).filter((f) => /^part-\d+\.parquet$/.test(f));
    expect(good.length).toBeGreaterThan(0);
    for (const f of good) fs.copyFileSync(path.join(box, "catalog", f), path.join(damaged, f));
    fs.writeFileSync(path.join(damaged, "part-99999.parquet"), "not parquet");
    const args = ["lightcone", "--catalog", damaged, "--chi-max", "100", "--nside", "8"];
    const late = await run(...args, "-o", path.join(dir, "lc-late"));
    expect(late.status).toBe(1);
    expect(late.stderr.trim().split("\n")).toHaveLength(1);
    expect(late.stderr).toMatch(/part-99999\.parquet: not a readable Parquet file/);
    expect(fs.existsSync(path.join(dir, "lc-late"))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".lc-late"))).toEqual([]); // no temporary left

    // Without the damaged part the same run succeeds into an existing empty directory…
    fs.rmSync(path.join(damaged, "part-99999.parquet"));
    const empty = path.join(dir, "lc-empty");
    fs.mkdirSync(empty);
    const ok = await run(...args, "-o", empty);
    expect(ok.status, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(empty, "lightcone.arrows"))).toBe(true);
    // …but not into one that holds files: they are neither mixed nor replaced.
    const again = await run(...args, "-o", empty);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/lc-empty: exists and is not empty/);
  }, 300_000);

  it("shards the sky with --shard i/n; merge gives the unsharded files byte for byte", async () => {
    const cat = path.join(box, "catalog");
    const args = ["lightcone", "--catalog", cat, "--chi-max", "100", "--nside", "8"];
    const whole = await run(...args, "-o", path.join(dir, "lc-whole"));
    expect(whole.status, whole.stderr).toBe(0);
    const shards = [0, 1].map((i) => path.join(dir, `lc-shard-${i}`));
    for (const [i, out] of shards.entries()) {
      const r = await run(...args, "--shard", `${i}/2`, "-o", out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`shard ${i}/2 .*sky pixels ${384 * i}…${384 * i + 383} of 768`));
    }
    const missing = await run("merge", shards[1], "-o", path.join(dir, "lc-bad"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/missing shard\(s\) of 2: 0/);
    const merged = await run("merge", ...shards, "-o", path.join(dir, "lc-merged"));
    expect(merged.status, merged.stderr).toBe(0);
    const files = fs.readdirSync(path.join(dir, "lc-whole")).sort();
    expect(files.filter((f) => f.endsWith(".parquet")).length).toBeGreaterThan(0);
    for (const f of files)
      expect(
        fs
          .readFileSync(path.join(dir, "lc-merged", f))
          .equals(fs.readFileSync(path.join(dir, "lc-whole", f))),
        f,
      ).toBe(true);
  }, 300_000);
});
