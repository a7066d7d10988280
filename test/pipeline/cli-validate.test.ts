/**
 * `mocksmith validate painter` through the compiled CLI on tiny held-out simulations (32³ voxels
 * of 4 Mpc/h, two mass bins) with random-weight painters: JSON, PNG plots and index.html are
 * written, a two-channel model is validated bin by bin (or summed against the total counts),
 * and bad inputs give one clear line and no output directory.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardPathFor, loadModel } from "../../src/io/model-file.js";
import { CLI } from "../cli-process.js";
import { writeRandomPainter } from "./painter-fixture.js";

const exec = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-validate-"));
const data = path.join(dir, "heldout");

async function run(...args: string[]): Promise<{ status: number; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { encoding: "utf8" });
    return { status: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { status: e.code ?? -1, stderr: e.stderr ?? "" };
  }
}

const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";
const one = writeRandomPainter(dir, { voxelSize: 4, positiveOutput: true, name: "one", seed: 2 });
const two = writeRandomPainter(dir, {
  voxelSize: 4,
  positiveOutput: true,
  name: "two",
  outChannels: 2,
  seed: 3,
});
const coarse = writeRandomPainter(dir, { voxelSize: 2, positiveOutput: true, name: "coarse" });
const otherSpacing = writeRandomPainter(dir, {
  voxelSize: 4,
  positiveOutput: true,
  name: "spacing",
  card: {
    training: {
      method: "test",
      data: [],
      redshift: 0,
      steps: 0,
      warmStartSteps: 0,
      seed: 1,
      patch: 31,
      batch: 1,
      optimiser: {},
      engine: "none",
      losses: [],
      inputParticleSpacing: 2,
    },
  },
});

interface ValidationJson {
  format: string;
  passed: boolean;
  data: { simulations: unknown[]; channels: { file: string }[]; massBins: string; baselineFit: unknown };
  conventions: Record<string, string>;
  settings: { shotNoise: string; transferTolerance: number };
  channels: {
    label: string;
    combined: {
      k: number[];
      truth: { power: number[]; shotNoise: number; meanCount: number };
      painter: { transfer: number[]; correlation: (number | null)[]; shotNoise: number; meanCount: number };
      linearBias: { correlation: (number | null)[] };
      localBias: { correlation: (number | null)[] };
      conditional: { trueCount: number; voxels: number }[];
    };
    simulations: { name: string }[];
    baselines: { linearBias: { bias: number } };
    checks: Record<
      "correlation" | "transfer" | "stochasticity",
      { passed: boolean | null; kMax: number; shells: number; worst: { value: number; k: number } | null }
    >;
  }[];
}
const readJson = (out: string) =>
  JSON.parse(fs.readFileSync(path.join(out, "validation.json"), "utf8")) as ValidationJson;

beforeAll(async () => {
  const r = await run(
    "nbody-set",
    ...["--sims", "2", "--grid", "32", "--box", "128", "--voxel", "4", "--steps", "5"],
    ...["--min-members", "2", "--mass-bins", "1e13,1e15,2", "--seed", "5", "-o", data],
  );
  expect(r.status, r.stderr).toBe(0);
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("mocksmith validate painter", () => {
  it("writes validation.json, PNG plots and index.html for a one-channel model", async () => {
    const out = path.join(dir, "one");
    const r = await run(
      "validate",
      "painter",
      "--model",
      one.path,
      "--data",
      data,
      "-o",
      out,
      "--workers",
      "1",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /^validated one.onnx on 2 simulation\(s\): all haloes: \(i\) r_c (pass|FAIL)/,
    );
    const v = readJson(out);
    expect(v.format).toBe("mocksmith-painter-validation");
    expect(v.data.simulations).toHaveLength(2);
    expect(v.data.channels.map((c) => c.file)).toEqual(["halo_counts_z0.000.npy"]);
    expect(v.settings).toMatchObject({ shotNoise: "poisson", transferTolerance: 0.1 });
    expect(v.conventions.shotNoise).toMatch(/V\/N/);
    const c = v.channels[0];
    expect(c.simulations.map((s) => s.name)).toEqual(["sim-000", "sim-001"]);
    expect(c.combined.k.length).toBeGreaterThan(10);
    expect(c.combined.truth.shotNoise).toBeGreaterThan(0);
    expect(c.combined.painter.shotNoise).toBe(0); // a mean field, not sampled
    expect(Number.isFinite(c.baselines.linearBias.bias)).toBe(true);
    expect(c.combined.conditional[0].trueCount).toBe(0);
    expect(c.combined.conditional.reduce((s, r) => s + r.voxels, 0)).toBe(2 * 32 ** 3);
    // k_F = 0.049 h/Mpc: shells at k = 0.07, 0.12, …; one at k ≤ 0.1 and five at k ≤ 0.3.
    expect(c.checks.stochasticity).toMatchObject({ kMax: 0.1, shells: 1 });
    expect(c.checks.correlation).toMatchObject({ kMax: 0.3, shells: 5 });
    for (const check of Object.values(c.checks)) expect(typeof check.passed).toBe("boolean");
    expect(v.passed).toBe(Object.values(c.checks).every((x) => x.passed));
    const plots = fs.readdirSync(path.join(out, "plots")).sort();
    expect(plots).toEqual([
      "ch0-conditional.png",
      "ch0-correlation.png",
      "ch0-power.png",
      "ch0-stochasticity.png",
      "ch0-transfer.png",
    ]);
    for (const p of plots)
      expect(
        fs
          .readFileSync(path.join(out, "plots", p))
          .subarray(1, 4)
          .toString("latin1"),
      ).toBe("PNG");
    const html = fs.readFileSync(path.join(out, "index.html"), "utf8");
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).toContain('href="plots/ch0-transfer.png"');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".one"))).toEqual([]);
  }, 240_000);

  it("records the acceptance scores in the model card with --record-in-card, one convention at a time", async () => {
    const rec = path.join(dir, "rec.onnx");
    fs.copyFileSync(one.path, rec);
    fs.copyFileSync(cardPathFor(one.path), cardPathFor(rec));
    const validate = (out: string, ...extra: string[]) =>
      run(
        "validate",
        "painter",
        "--model",
        rec,
        "--data",
        data,
        "-o",
        out,
        "--workers",
        "1",
        "--record-in-card",
        ...extra,
      );
    const first = await validate(path.join(dir, "rec-poisson"));
    expect(first.status, first.stderr).toBe(0);
    expect(lastLine(first.stderr)).toMatch(/and the scores into .*rec\.card\.json/);
    const second = await validate(path.join(dir, "rec-none"), "--shot-noise", "none");
    expect(second.status, second.stderr).toBe(0);
    const { card } = await loadModel(rec); // still a valid card for the same graph
    const entries = card.validation ?? {};
    for (const [convention, out] of [
      ["poisson", "rec-poisson"],
      ["none", "rec-none"],
    ] as const) {
      const ch = readJson(path.join(dir, out)).channels[0];
      const checks = ch.checks;
      expect(entries[`heldout.${convention}.volume`]).toBe(2 * 128 ** 3);
      expect(entries[`heldout.${convention}.ch0.meanCount.painted`]).toBe(ch.combined.painter.meanCount);
      expect(entries[`heldout.${convention}.ch0.meanCount.true`]).toBe(ch.combined.truth.meanCount);
      for (const [name, chk] of Object.entries(checks)) {
        expect(entries[`heldout.${convention}.ch0.${name}.passed`]).toBe(chk.passed ? 1 : 0);
        expect(entries[`heldout.${convention}.ch0.${name}.value`]).toBe(chk.worst?.value);
        expect(entries[`heldout.${convention}.ch0.${name}.k`]).toBe(chk.worst?.k);
      }
    }
  }, 240_000);

  it("validates a two-channel model bin by bin, or summed against the total counts", async () => {
    const out = path.join(dir, "two");
    const r = await run(
      "validate",
      "painter",
      "--model",
      two.path,
      "--data",
      data,
      "-o",
      out,
      "--workers",
      "1",
    );
    expect(r.status, r.stderr).toBe(0);
    const v = readJson(out);
    expect(v.data.massBins).toBe("all");
    expect(v.data.channels.map((c) => c.file)).toEqual([
      "halo_counts_z0.000_bin0.npy",
      "halo_counts_z0.000_bin1.npy",
    ]);
    expect(v.channels.map((c) => c.label)).toEqual([
      "mass bin 0 (1.00e+13–1.00e+14 Msun/h)",
      "mass bin 1 (1.00e+14–1.00e+15 Msun/h)",
    ]);
    expect(fs.readdirSync(path.join(out, "plots"))).toHaveLength(10);
    const total = path.join(dir, "two-total");
    const t = await run(
      ...["validate", "painter", "--model", two.path, "--data", data, "-o", total, "--workers", "1"],
      ...["--mass-bins", "total", "--shot-noise", "none", "--sample-painter", "--baseline-fit-data", data],
    );
    expect(t.status, t.stderr).toBe(0);
    const vt = readJson(total);
    expect(vt.channels.map((c) => c.label)).toEqual(["all haloes"]);
    expect(vt.settings.shotNoise).toBe("none");
    expect(vt.channels[0].combined.truth.shotNoise).toBe(0);
    expect(vt.data.baselineFit).toMatchObject({ directories: [data] });
    expect(vt.conventions.baselineFit).toMatch(/not on the held-out simulations/);
  }, 360_000);

  it("documents the shot-noise convention in --help", async () => {
    const r = await exec(process.execPath, [CLI, "validate", "painter", "--help"], { encoding: "utf8" });
    expect(r.stdout).toMatch(/--shot-noise <convention>/);
    expect(r.stdout).toMatch(/subtracted from the auto spectra of the true haloes/);
    expect(r.stdout).toMatch(/--sample-painter/);
  });

  it.each([
    [
      "a missing data directory",
      () => ["--model", one.path, "--data", path.join(dir, "nope")],
      /nope: cannot read the data directory/,
    ],
    [
      "a model trained at another voxel size",
      () => ["--model", coarse.path, "--data", data],
      /voxel size 4 Mpc\/h differs from the 2 Mpc\/h the model coarse.onnx was trained at/,
    ],
    [
      "a missing model file",
      () => ["--model", path.join(dir, "missing.onnx"), "--data", data],
      /missing.onnx: cannot read model/,
    ],
    [
      "a model trained on another particle spacing",
      () => ["--model", otherSpacing.path, "--data", data],
      /2LPT particle spacing 4 Mpc\/h differs from the 2 Mpc\/h the model spacing.onnx was trained on/,
    ],
    [
      "--mass-bins all with a one-channel model",
      () => ["--model", one.path, "--data", data, "--mass-bins", "all"],
      /--mass-bins all: the model .* paints one channel/,
    ],
  ])(
    "refuses %s with one line and no output",
    async (_what, args, message) => {
      const out = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
      const r = await run("validate", "painter", ...args(), "-o", out, "--workers", "1");
      expect(r.status).toBe(1);
      expect(
        r.stderr
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("mocksmith: error")),
      ).toHaveLength(1);
      expect(lastLine(r.stderr)).toMatch(message);
      expect(fs.existsSync(out)).toBe(false);
    },
    120_000,
  );

  it("refuses NaN in a 2LPT field, counts that are not counts, and an existing output directory", async () => {
    const bad = path.join(dir, "nan");
    fs.cpSync(data, bad, { recursive: true });
    const file = path.join(bad, "sim-001", "lpt_delta_z0.000.npy");
    const bytes = fs.readFileSync(file);
    bytes.writeFloatLE(NaN, bytes.length - 4 * 100);
    fs.writeFileSync(file, bytes);
    const out = path.join(dir, "nan-out");
    const r = await run(
      "validate",
      "painter",
      "--model",
      one.path,
      "--data",
      bad,
      "-o",
      out,
      "--workers",
      "1",
    );
    expect(r.status).toBe(1);
    expect(lastLine(r.stderr)).toMatch(
      /sim-001\/lpt_delta_z0.000.npy: non-finite value \(NaN\) at flat index 32668; inputs must be finite/,
    );
    expect(fs.existsSync(out)).toBe(false);
    fs.copyFileSync(path.join(data, "sim-001", "lpt_delta_z0.000.npy"), file);
    const counts = path.join(bad, "sim-000", "halo_counts_z0.000.npy");
    const c = fs.readFileSync(counts);
    c.writeFloatLE(0.5, c.length - 4);
    fs.writeFileSync(counts, c);
    const half = await run(
      "validate",
      "painter",
      "--model",
      one.path,
      "--data",
      bad,
      "-o",
      out,
      "--workers",
      "1",
    );
    expect(half.status).toBe(1);
    expect(lastLine(half.stderr)).toMatch(
      /sim-000\/halo_counts_z0.000.npy: value 0.5 at voxel 32767 is not a halo count \(a non-negative integer\)/,
    );
    expect(fs.existsSync(out)).toBe(false);
    const again = await run(
      "validate",
      "painter",
      "--model",
      one.path,
      "--data",
      data,
      "-o",
      dir,
      "--workers",
      "1",
    );
    expect(again.status).toBe(1);
    expect(lastLine(again.stderr)).toMatch(/already exists; name a new output directory/);
  }, 240_000);
});
