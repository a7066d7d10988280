/** `mocksmith run`: the main job on tiny boxes through the compiled CLI, and config validation. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readParquet } from "../../src/io/parquet-table.js";
import { defaultPainterPath } from "../../src/models/default-model.js";
import { resolveRunConfig } from "../../src/pipeline/run-config.js";
import { writeRandomPainter } from "./painter-fixture.js";
import { runCliAsync, type CliResult } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-run-"));
const run = runCliAsync;
const tiny = [
  "--set",
  "box.particles=32",
  "--set",
  "box.size=64",
  "--set",
  "halos.nbody.steps=3",
  "--set",
  "halos.massBins=[1e12,1e15,3]",
];
/** The reference path is no longer the default (the bundled painter is). */
const nbodyTiny = [...tiny, "--set", "halos.source=nbody"];

describe("mocksmith run (reference N-body path)", () => {
  const out = path.join(dir, "nbody");
  // Async and with generous timeouts: a tiny run takes seconds alone, minutes on a loaded 2-core machine.
  let r: CliResult;
  beforeAll(async () => {
    r = await run("run", "--out", out, ...nbodyTiny);
  }, 300_000);

  it("writes the catalog, statistics, report and the resolved config, and says where", () => {
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/catalog: .*catalog\/ \(\d+ haloes\); report: .*report\.html/);
    for (const f of [
      "config.yaml",
      "input_delta.npy",
      "input_delta.json",
      "catalog/part-00000.parquet",
      "stats.jsonl",
      "stats.parquet",
      "report.html",
    ]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    const lines = fs
      .readFileSync(path.join(out, "stats.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(new Set(lines.map((l) => l.statistic))).toContain("power_spectrum");
    expect(fs.readFileSync(path.join(out, "report.html"), "utf8")).toMatch(/<svg/);
  });

  it("reproduces the same catalog from its saved config", async () => {
    const again = path.join(dir, "again");
    const r2 = await run("run", path.join(out, "config.yaml"), "--out", again);
    expect(r2.status, r2.stderr).toBe(0);
    const a = readParquet(path.join(out, "catalog/part-00000.parquet")).table;
    const b = readParquet(path.join(again, "catalog/part-00000.parquet")).table;
    expect(b.numRows).toBe(a.numRows);
    expect(Array.from(b.getChild("x")!.toArray() as Float32Array)).toEqual(
      Array.from(a.getChild("x")!.toArray() as Float32Array),
    );
  }, 300_000);
});

describe("mocksmith run (painter path)", () => {
  it("paints with a given model, samples a catalog and reports", async () => {
    const model = writeRandomPainter(dir, { seed: 2, outChannels: 3, voxelSize: 4 });
    const out = path.join(dir, "painter");
    const r = await run(
      "run",
      "--out",
      out,
      "--halos",
      "painter",
      "--model",
      model.path,
      ...tiny,
      "--set",
      "stats.report=false",
    );
    expect(r.status, r.stderr).toBe(0);
    const { metadata } = readParquet(path.join(out, "catalog/part-00000.parquet"));
    expect(metadata["mocksmith.source"]).toBe('"painter"');
    expect(fs.existsSync(path.join(out, "report.html"))).toBe(false);
  }, 300_000);

  it("gives byte-identical catalogs and statistics for 1 and 4 painting workers", async () => {
    const model = writeRandomPainter(dir, { seed: 3, outChannels: 3, voxelSize: 4, name: "workers" });
    const outs: string[] = [];
    for (const w of [1, 4]) {
      const out = path.join(dir, `workers-${w}`);
      const r = await run(
        "run",
        "--out",
        out,
        "--halos",
        "painter",
        "--model",
        model.path,
        ...tiny,
        "--set",
        `halos.workers=${w}`,
        "--set",
        "stats.report=false",
      );
      expect(r.status, r.stderr).toBe(0);
      outs.push(out);
    }
    for (const f of ["catalog/part-00000.parquet", "catalog/catalog.arrows", "input_delta.npy"]) {
      expect(fs.readFileSync(path.join(outs[0], f)).equals(fs.readFileSync(path.join(outs[1], f))), f).toBe(
        true,
      );
    }
  }, 600_000);

  it("refuses a model trained at another voxel size, naming the key", async () => {
    const model = writeRandomPainter(dir, { seed: 2, outChannels: 3, voxelSize: 2, name: "vox2" });
    const r = await run(
      "run",
      "--out",
      path.join(dir, "bad-voxel"),
      "--halos",
      "painter",
      "--model",
      model.path,
      ...tiny,
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/box\.voxel: 4 Mpc\/h differs from the 2 Mpc\/h/);
  }, 300_000);

  it("paints with the bundled default painter when nothing is said, its mass bin from the card", async () => {
    // 64³ particles over 64 Mpc/h: the 1 Mpc/h spacing the default painter was trained on.
    const out = path.join(dir, "default");
    const r = await run(
      "run",
      "--out",
      out,
      ...["--set", "box.particles=64", "--set", "box.size=64", "--set", "stats.report=false"],
    );
    expect(r.status, r.stderr).toBe(0);
    const { table, metadata } = readParquet(path.join(out, "catalog/part-00000.parquet"));
    expect(metadata["mocksmith.source"]).toBe('"painter"');
    const card = JSON.parse(
      fs.readFileSync(defaultPainterPath().replace(/\.onnx$/, ".card.json"), "utf8"),
    ) as {
      massBins: { minMass: number }[];
    };
    const masses = table.getChild("mass")!.toArray() as Float32Array;
    expect(masses.length).toBeGreaterThan(0);
    // Float32 storage: compare with a relative margin.
    for (const m of masses) expect(m).toBeGreaterThanOrEqual(card.massBins[0].minMass * (1 - 1e-6));
  }, 300_000);

  it("refuses a box whose particle spacing differs from the default painter's, naming box.particles", async () => {
    const r = await run("run", "--out", path.join(dir, "spacing"), ...tiny);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/box\.particles: 32 particles over 64 Mpc\/h are 2 Mpc\/h apart/);
    expect(fs.existsSync(path.join(dir, "spacing", "catalog"))).toBe(false);
  }, 300_000);
});

describe("run configuration", () => {
  it.each([
    [{ box: { sise: 10 } }, /box\.sise: unknown key/],
    [{ box: { size: "big" } }, /box\.size: expected a number/],
    [{ box: { size: 100, voxel: 3 } }, /box\.voxel: .*not an integer/],
    [{ halos: { source: "magic" } }, /halos\.source: expected one of nbody, painter/],
    [{ halos: { massBins: [1e14, 1e12, 3] } }, /halos\.massBins/],
    [{ seed: -1 }, /seed: must be ≥ 0/],
    [{ cosmology: { omegaB: 0.5 } }, /cosmology\.omegaB: must be below/],
  ])("rejects %j naming the key", (doc, message) => {
    expect(() => resolveRunConfig(doc)).toThrow(message);
  });

  it("reports a bad file through the CLI in one line, with the file name", async () => {
    const bad = path.join(dir, "bad.yaml");
    fs.writeFileSync(bad, "box:\n  particles: 3.5\n");
    const r = await run("run", bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.yaml: box\.particles: expected an integer/);
  }, 300_000);

  it("prints the resolved configuration", async () => {
    const r = await run("run", "--print-config", "--seed", "5");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seed: 5/);
    expect(r.stdout).toMatch(/source: painter/);
  }, 300_000);
});
