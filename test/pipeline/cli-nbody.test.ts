/** `mocksmith nbody` and `nbody-set` end to end through the compiled CLI on tiny boxes. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { readParquet } from "../../src/io/parquet-table.js";
import { readGadget } from "../../src/io/gadget.js";
import { sha256File } from "../../src/io/checksum.js";
import { runCliAsync, type CliResult } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-nbody-"));
const run = runCliAsync;

describe("mocksmith nbody", () => {
  const out = path.join(dir, "sim");
  // Async and in a hook with generous timeouts: tiny runs take seconds alone, minutes on a loaded 2-core machine.
  let r: CliResult;
  beforeAll(async () => {
    r = await run(
      "nbody",
      "--grid",
      "32",
      "--box",
      "64",
      "--steps",
      "5",
      "--z",
      "1,0",
      "--voxel",
      "4",
      "--min-members",
      "10",
      "--mass-bins",
      "1e12,1e15,3",
      "--snapshot",
      "gadget2",
      "-o",
      out,
    );
  }, 300_000);

  it("writes δ grids, catalogs, count grids, snapshots and a manifest per redshift", async () => {
    expect(r.status, r.stderr).toBe(0);
    // Per redshift: N-body δ, 2LPT δ, catalog, total counts, 3 bins, snapshot.
    expect(r.stderr).toMatch(/wrote 16 files/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    expect(manifest.outputs).toHaveLength(16);
    for (const o of manifest.outputs) expect(sha256File(path.join(out, o.file))).toBe(o.sha256);
    for (const tag of ["z1.000", "z0.000"]) {
      const nb = readNpyFloat32(path.join(out, `nbody_delta_${tag}.npy`));
      expect(nb.shape).toEqual([16, 16, 16]);
      const lpt = readNpyFloat32(path.join(out, `lpt_delta_${tag}.npy`));
      expect(lpt.shape).toEqual([16, 16, 16]);
      const { table, metadata } = readParquet(path.join(out, `halos_${tag}.parquet`));
      expect(table.schema.fields.map((f) => f.name).slice(0, 9)).toEqual([
        "id",
        "x",
        "y",
        "z",
        "vx",
        "vy",
        "vz",
        "mass",
        "mass_bin",
      ]);
      expect(JSON.parse(metadata["mocksmith.cosmology"]).omegaM).toBe(0.315);
      expect(Number(metadata["mocksmith.redshift"])).toBe(tag === "z1.000" ? 1 : 0);
      // Every halo lands in exactly one voxel of the total count grid, and in at most one bin.
      const total = readNpyFloat32(path.join(out, `halo_counts_${tag}.npy`)).data.reduce((a, b) => a + b, 0);
      expect(total).toBe(table.numRows);
      let binned = 0;
      for (let b = 0; b < 3; b++)
        binned += readNpyFloat32(path.join(out, `halo_counts_${tag}_bin${b}.npy`)).data.reduce(
          (a, c) => a + c,
          0,
        );
      const inBins = Array.from(table.getChild("mass_bin")!.toArray() as Int8Array).filter(
        (v) => v >= 0,
      ).length;
      expect(binned).toBe(inBins);
      const snap = readGadget(path.join(out, `snapshot_${tag}.gadget`));
      expect(snap.positions.length).toBe(3 * 32 ** 3);
      expect(snap.header.boxSize).toBeCloseTo(64, 6);
    }
    // Structure grows: the z = 0 field has more variance than the z = 1 field.
    const v = (tag: string) =>
      readNpyFloat32(path.join(out, `nbody_delta_${tag}.npy`)).data.reduce((a, x) => a + x * x, 0);
    expect(v("z0.000")).toBeGreaterThan(v("z1.000"));
  }, 300_000);

  it("pk measures a snapshot's particles with interlacing and shot-noise subtraction", async () => {
    const snap = path.join(out, "snapshot_z0.000.gadget");
    const r2 = await run("pk", snap, "--mesh", "32", "--interlace", "--subtract-shot-noise", "--json");
    expect(r2.status, r2.stderr).toBe(0);
    const doc = JSON.parse(r2.stdout);
    expect(doc.compensate).toBe("cic+interlaced");
    expect(doc.shotNoise).toBeCloseTo(64 ** 3 / 32 ** 3, 6);
    expect((await run("pk", snap)).stderr).toMatch(/pass --mesh N/);
  }, 300_000);

  it("restarts from its own snapshot used as initial conditions", async () => {
    const out2 = path.join(dir, "from-ics");
    const r2 = await run(
      "nbody",
      "--grid",
      "32",
      "--box",
      "64",
      "--steps",
      "2",
      "--z",
      "0",
      "--voxel",
      "4",
      "--ics",
      path.join(out, "snapshot_z1.000.gadget"),
      "-o",
      out2,
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(fs.existsSync(path.join(out2, "halos_z0.000.parquet"))).toBe(true);
    expect(fs.existsSync(path.join(out2, "lpt_delta_z0.000.npy"))).toBe(false); // no phases known for external ICs
  }, 300_000);

  it.each([
    [["--grid", "16", "--box", "64", "--voxel", "5"], /not an integer number of voxels/],
    [["--grid", "16", "--box", "64", "--z", "25"], /below --z-init/],
    [["--grid", "17", "--box", "64"], /prime factor/],
  ])(
    "rejects %j",
    async (args, message) => {
      const res = await run("nbody", ...args, "-o", path.join(dir, "bad"));
      expect(res.status).not.toBe(0);
      expect(res.stderr).toMatch(message);
      expect(fs.existsSync(path.join(dir, "bad", "manifest.json"))).toBe(false);
    },
    300_000,
  );

  it("rejects ICs that disagree with the flags and truncated snapshots, naming the file", async () => {
    const ics = path.join(out, "snapshot_z1.000.gadget");
    const wrongCount = await run(
      "nbody",
      "--grid",
      "16",
      "--box",
      "64",
      "--ics",
      ics,
      "-o",
      path.join(dir, "bad2"),
    );
    expect(wrongCount.status).not.toBe(0);
    expect(wrongCount.stderr).toMatch(/holds 32768 particles but --grid 16/);
    const wrongBox = await run(
      "nbody",
      "--grid",
      "32",
      "--box",
      "100",
      "--ics",
      ics,
      "-o",
      path.join(dir, "bad3"),
    );
    expect(wrongBox.stderr).toMatch(/box size 64 Mpc\/h disagrees with --box 100/);
    const truncated = path.join(dir, "trunc.gadget");
    fs.writeFileSync(truncated, fs.readFileSync(ics).subarray(0, 5000));
    const t = await run(
      "nbody",
      "--grid",
      "32",
      "--box",
      "64",
      "--ics",
      truncated,
      "-o",
      path.join(dir, "bad4"),
    );
    expect(t.status).not.toBe(0);
    expect(t.stderr).toContain("trunc.gadget");
    expect(t.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  }, 300_000);
});

describe("mocksmith nbody-set", () => {
  it("makes independent simulations and skips complete ones on a re-run", async () => {
    const out = path.join(dir, "set");
    const args = [
      "nbody-set",
      "--sims",
      "2",
      "--grid",
      "16",
      "--box",
      "64",
      "--steps",
      "3",
      "--voxel",
      "8",
      "-o",
      out,
    ];
    const r = await run(...args);
    expect(r.status, r.stderr).toBe(0);
    const a = fs.readFileSync(path.join(out, "sim-000", "nbody_delta_z0.000.npy"));
    const b = fs.readFileSync(path.join(out, "sim-001", "nbody_delta_z0.000.npy"));
    expect(a.equals(b)).toBe(false);
    const again = await run(...args);
    expect(again.stderr).toMatch(/wrote 0 simulation\(s\).*2 already complete/);
  }, 300_000);
});
