/**
 * `mocksmith lightcone --painted` end to end on a tiny box (32³ particles, 64 Mpc/h, 4 Mpc/h
 * voxels) with a random-weight painter whose card gives mass bins and a training particle
 * spacing: shells hold only haloes of their χ range, z_cos = z(χ) exactly, the same seed gives
 * the same bytes, sharded + merged equals unsharded byte for byte, and misfits are refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { redshiftAtComovingDistance } from "../../src/cosmo/distance.js";
import { readParquet } from "../../src/io/parquet-table.js";
import { ConfigError } from "../../src/pipeline/config-schema.js";
import { loadPainter, PAINTED_MASS_CAP } from "../../src/pipeline/painted-catalog.js";
import type { ModelCardTraining } from "../../src/models/model-card.js";
import { runCliAsync } from "../cli-process.js";
import { datasetDifferences } from "./dataset-equality.js";
import { writeRandomPainter } from "./painter-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-lc-painted-"));
const at = (name: string) => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const L = 64;
const training: ModelCardTraining = {
  method: "test",
  data: [],
  redshift: 0,
  steps: 0,
  warmStartSteps: 0,
  seed: 0,
  patch: 0,
  batch: 0,
  optimiser: {},
  engine: "none",
  inputParticleSpacing: 2,
  losses: [],
};
const model = writeRandomPainter(dir, {
  seed: 4,
  outChannels: 2,
  voxelSize: 4,
  card: {
    massBins: [
      { channel: 0, massBin: 0, minMass: 1e13, maxMass: 1e14 },
      { channel: 1, massBin: 1, minMass: 1e14, maxMass: null },
    ],
    training,
  },
});
const edges = [0, 40, 80, 120];
const common = [
  "lightcone",
  "--painted",
  ...["--model", model.path, "--box", String(L), "--particles", "32", "--seed", "5"],
  ...["--shell-width", "40", "--chi-max", "120", "--nside", "8", "--workers", "1"],
];
const cosmology = makeCosmology();

describe("mocksmith lightcone --painted", () => {
  const results: Record<string, Awaited<ReturnType<typeof runCliAsync>>> = {};
  beforeAll(async () => {
    // Two at a time (a 2-core machine): the light cone and its repeat, then the two shards.
    [results.a, results.b] = await Promise.all([
      runCliAsync(...common, "-o", at("a")),
      runCliAsync(...common, "-o", at("b")),
    ]);
    [results.s0, results.s1] = await Promise.all(
      [0, 1].map((i) => runCliAsync(...common, "--shard", `${i}/2`, "-o", at(`shard-${i}`))),
    );
    results.merged = await runCliAsync("merge", at("shard-0"), at("shard-1"), "-o", at("merged"));
  }, 600_000);

  it("puts each shell's haloes in its χ range, at z_cos = z(χ), painted at z(χ_eff)", () => {
    expect(results.a.status, results.a.stderr).toBe(0);
    expect(results.a.stderr).toMatch(
      /painted light cone .*: \d+ haloes to χ = 120\.0 Mpc\/h in 3 shell\(s\)/,
    );
    const parts = fs
      .readdirSync(at("a"))
      .filter((f) => f.endsWith(".parquet"))
      .sort();
    // One part per shell (each of these shells holds haloes), in shell order.
    expect(parts).toHaveLength(3);
    let total = 0;
    parts.forEach((f, s) => {
      const { table, metadata } = readParquet(path.join(at("a"), f));
      const shells = JSON.parse(metadata["mocksmith.shells"]) as { redshift: number; chiLow: number }[];
      const [lo, hi] = [edges[s], edges[s + 1]];
      const chiEff = (0.75 * (hi ** 4 - lo ** 4)) / (hi ** 3 - lo ** 3);
      expect(shells[s].redshift).toBe(redshiftAtComovingDistance(cosmology, chiEff));
      const col = (name: string) => Array.from(table.getChild(name)!.toArray() as ArrayLike<number>);
      const [x, y, z, zCos, mass, bin, replica] = ["x", "y", "z", "z_cos", "mass", "mass_bin", "replica"].map(
        col,
      );
      const replicas = JSON.parse(metadata["mocksmith.replicas"]) as number[][];
      expect(x.length).toBeGreaterThan(0);
      // Ids carry the shell in their top 8 bits.
      for (const id of table.getChild("id")!.toArray() as BigUint64Array) expect(id >> 56n).toBe(BigInt(s));
      total += x.length;
      for (let i = 0; i < x.length; i++) {
        // χ recomputed in double from the stored float32 position and replica, as the stage does.
        const n = replicas[replica[i]];
        const [rx, ry, rz] = [x[i] + n[0] * L - L / 2, y[i] + n[1] * L - L / 2, z[i] + n[2] * L - L / 2];
        const chi = Math.sqrt(rx * rx + ry * ry + rz * rz);
        expect(chi >= lo && chi < hi, `shell ${s} row ${i}: χ = ${chi}`).toBe(true);
        expect(zCos[i]).toBe(redshiftAtComovingDistance(cosmology, chi));
        // Masses from the card's bins, the unbounded top bin capped.
        const [mLo, mHi] = bin[i] === 0 ? [1e13, 1e14] : [1e14, PAINTED_MASS_CAP];
        expect(mass[i] >= mLo * (1 - 1e-6) && mass[i] <= mHi * (1 + 1e-6), `mass ${mass[i]}`).toBe(true);
      }
    });
    expect(results.a.stderr).toMatch(new RegExp(`${total} haloes`));
  });

  it("is deterministic: the same seed gives the same files byte for byte", () => {
    expect(results.b.status, results.b.stderr).toBe(0);
    expect(datasetDifferences(at("a"), at("b"))).toEqual([]);
  });

  it("shards the sky; merged shards equal the unsharded light cone byte for byte", () => {
    for (const r of [results.s0, results.s1]) expect(r.status, r.stderr).toBe(0);
    expect(results.s0.stderr).toMatch(/shard 0\/2 .*sky pixels 0…383 of 768/);
    expect(results.merged.status, results.merged.stderr).toBe(0);
    const files = fs.readdirSync(at("a")).sort();
    expect(files).toContain("lightcone.arrows");
    for (const f of files)
      expect(fs.readFileSync(at(`merged/${f}`)).equals(fs.readFileSync(at(`a/${f}`))), f).toBe(true);
  });

  it("refuses a misfit model, box or geometry with one line naming the flag", async () => {
    const cases: [string[], RegExp][] = [];
    const bad = (args: string[], pattern: RegExp) => cases.push([args, pattern]);
    const without = (flag: string, args = common) => {
      const i = args.indexOf(flag);
      return [...args.slice(0, i), ...args.slice(i + 2)];
    };
    const replace = (flag: string, value: string) => {
      const args = [...common];
      args[args.indexOf(flag) + 1] = value;
      return args;
    };
    bad(without("--model"), /--model: --painted needs the painter/);
    // 64 particles over 64 Mpc/h are 1 Mpc/h apart; the model was trained on 2 Mpc/h spacing.
    bad(replace("--particles", "64"), /--particles: .*trained on 2LPT fields from particles 2 Mpc\/h apart/);
    // 62 / round(62 / 4) Mpc/h voxels differ from the model's 4 Mpc/h.
    bad(replace("--box", "62"), /--box: 3\.875 Mpc\/h differs from the 4 Mpc\/h/);
    bad([...common, "--cone", "0,0,200"], /--cone: radius 200° is wider than the sky/);
    // Trained at z = 0: shells out to χ = 1200 Mpc/h (z ≈ 0.45) leave its redshift range.
    bad(replace("--chi-max", "1200"), /--chi-max: shell \d+ .*beyond the redshift range of the model/);
    bad([...replace("--shell-width", "120"), "--max-redshift-gap", "0.01"], /--shell-width: shell 0 /);
    bad([...without("--shell-width"), "--shell-edges", "0,50,200"], /--shell-edges: the last edge 200/);
    bad(
      ["lightcone", "--catalog", "x.parquet", "--seed", "3", "--chi-max", "10"],
      /--seed: is an option of --painted/,
    );
    // All refused before any work, so they can run side by side.
    // An existing light cone is not overwritten (a later -o overrides the default "bad").
    bad([...common, "-o", at("a")], /\/a: exists and is not empty/);
    const runs = await Promise.all(
      cases.map(([args]) => runCliAsync(args[0], "-o", at("bad"), ...args.slice(1))),
    );
    runs.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(at("bad"))).toBe(false);
    // Nothing half-written is left: no temporary directories beside the outputs.
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  }, 120_000);

  it("names box.particles when the main job's particle spacing differs from the card's", async () => {
    await expect(
      loadPainter(
        model.path,
        { size: L, particles: 64 },
        { model: "halos.model", voxel: "box.voxel", particles: "box.particles", massBins: "halos.massBins" },
      ),
    ).rejects.toThrow(ConfigError);
    await expect(
      loadPainter(
        model.path,
        { size: L, particles: 64 },
        { model: "halos.model", voxel: "box.voxel", particles: "box.particles", massBins: "halos.massBins" },
      ),
    ).rejects.toThrow(/box\.particles: .*1 Mpc\/h apart/);
    const ok = await loadPainter(
      model.path,
      { size: L, particles: 32 },
      { model: "halos.model", voxel: "box.voxel", particles: "box.particles", massBins: "halos.massBins" },
    );
    expect(ok.massEdges).toEqual([1e13, 1e14, PAINTED_MASS_CAP]);
    expect(ok.voxels).toBe(16);
  });
});
