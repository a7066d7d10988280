/**
 * `mocksmith select-gan` through the compiled CLI: a tiny GAN (filters 8, 4, 1 → 16³ of 4 Mpc/h)
 * trained 6 steps with every checkpoint kept, selected against synthetic density grids in the
 * layout of `nbody-set`. The exported model is the chosen checkpoint with the chosen latent
 * width, its scores are reproduced by `validate gan` on the exported ONNX model with the same
 * latents (so the in-process generator of the selection is the shipped one), and bad inputs give
 * one line and no output.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GanCard } from "../../src/models/gan/gan-card.js";
import { writeCheckpoint } from "../../src/models/painter/training-checkpoint.js";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { runCliAsync } from "../cli-process.js";
import { parityClassSums, writeDensitySimulation } from "../gan-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-select-gan-"));
const data = path.join(dir, "data");
const run = path.join(dir, "run");
const lastLine = (s: string) =>
  s
    .trim()
    .split("\n")
    .filter((l) => l !== "(run with --help for usage)")
    .at(-1) ?? "";

interface Candidate {
  step: number;
  latentScale: number;
  meanPower: number;
  pdf: number;
  powerVariance: number;
  independence: number;
  score: number;
  noise: number;
}

beforeAll(async () => {
  writeDensitySimulation(data, "sim-000", 32, 128, 31);
  writeDensitySimulation(data, "sim-001", 32, 128, 32);
  const r = await runCliAsync(
    "train",
    "gan",
    ...["--data", data, "--filters", "8,4,1", "--latent-dim", "6", "--kappa", "2", "--batch", "2"],
    ...["--steps", "6", "--checkpoint-every", "2", "--threads", "1", "-o", run],
  );
  expect(r.status, r.stderr).toBe(0);
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const select = (out: string, ...extra: string[]) =>
  runCliAsync(
    "select-gan",
    ...["--run", run, "--data", data, "--n", "8", "--top", "2", "--scales", "0.5,2", "--threads", "1"],
    ...["-o", out, ...extra],
  );

describe("mocksmith select-gan", () => {
  it("keeps every checkpoint by default and exports the best (checkpoint, latent width)", async () => {
    expect(fs.readdirSync(path.join(run, "checkpoints")).sort()).toEqual([
      "step-00000002.ckpt",
      "step-00000004.ckpt",
      "step-00000006.ckpt",
    ]);
    const out = path.join(dir, "chosen");
    const r = await select(out);
    expect(r.status, r.stderr).toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /selected step \d at latent width × [\d.]+ \(score [\d.]+ ± [\d.]+: .*\) of 7 candidates, \d+ more within its sampling error; wrote .*gan\.onnx, its card, its TF\.js weights and selection\.json/,
    );
    const sel = JSON.parse(fs.readFileSync(path.join(out, "selection.json"), "utf8")) as {
      step: number;
      latentScale: number;
      candidates: Candidate[];
      scales: number[];
      orientation: string;
      withinNoise: { step: number; latentScale: number; score: number; noise: number }[];
    };
    // Scored on samples oriented as sample-gan draws them.
    expect(sel.orientation).toBe("random");
    // 3 checkpoints at width 1, then the 2 best at widths 0.5 and 2.
    expect(sel.scales).toEqual([0.5, 1, 2]);
    expect(sel.candidates).toHaveLength(7);
    const atUnit = sel.candidates.filter((c) => c.latentScale === 1).map((c) => c.step);
    expect(atUnit.sort()).toEqual([2, 4, 6]);
    const best = Math.min(...sel.candidates.map((c) => c.score));
    const chosen = sel.candidates.find((c) => c.step === sel.step && c.latentScale === sel.latentScale)!;
    expect(chosen.score).toBe(best);
    for (const c of sel.candidates) {
      expect(c.score).toBe(Math.max(c.meanPower, c.pdf, c.powerVariance, c.independence));
      expect(c.noise).toBeGreaterThanOrEqual(0);
    }
    // The candidates within the chosen one's sampling error, by the rule the summary states.
    expect(sel.withinNoise).toEqual(
      sel.candidates
        .filter((c) => c !== chosen && c.score - chosen.score < Math.hypot(c.noise, chosen.noise))
        .map((c) => ({ step: c.step, latentScale: c.latentScale, score: c.score, noise: c.noise })),
    );

    const card = JSON.parse(fs.readFileSync(path.join(out, "gan.card.json"), "utf8")) as GanCard;
    expect(card.latentPrior.scale).toBe(sel.latentScale);
    expect(card.kappa).toBe(2);
    expect(card.voxelSize).toBe(4);
    expect(card.training?.steps).toBe(sel.step);
    expect(card.validation?.["selection.score"]).toBe(best);
    // The density cap is the largest ρ/ρ̄ of the selection grids (every voxel is in a sub-volume).
    let max = 0;
    for (const sim of ["sim-000", "sim-001"])
      for (const d of readNpyFloat32(path.join(data, sim, "nbody_delta_z0.000.npy")).data)
        max = Math.max(max, 1 + d);
    expect(card.densityCap).toBeCloseTo(max, 4);
    const samples = path.join(dir, "capped-samples");
    const s = await runCliAsync("sample-gan", "--model", out, "--n", "16", "--seed", "3", "-o", samples);
    expect(s.status, s.stderr).toBe(0);
    const drawn = readNpyFloat32(path.join(samples, "samples.npy")).data;
    expect(drawn.every((v) => v <= card.densityCap!)).toBe(true);

    // validate gan on the exported ONNX with the selection's latents (seed 7, 8 samples) finds
    // the same statistics: ORT and TF.js agree to the export's parity tolerance.
    const v = path.join(dir, "validated");
    const val = await runCliAsync(
      "validate",
      "gan",
      ...["--model", out, "--data", data, "--n", "8", "--seed", "7", "--workers", "1", "--threads", "1"],
      ...["--no-bispectrum", "-o", v],
    );
    expect(val.status, val.stderr).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(v, "validation.json"), "utf8")) as {
      checks: Record<string, { worst: { value: number } | null }>;
    };
    expect(doc.checks.meanPower.worst!.value / 0.1).toBeCloseTo(chosen.meanPower, 3);
    expect(doc.checks.powerVariance.worst!.value / 0.25).toBeCloseTo(chosen.powerVariance, 3);
  }, 120_000);

  it("--no-tfjs-weights writes the ONNX generator and its card only, which sample-gan loads", async () => {
    const out = path.join(dir, "lean");
    const r = await select(out, "--no-tfjs-weights", "--top", "1", "--scales", "1", "--density-cap", "1.5");
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["gan.card.json", "gan.onnx", "selection.json"]);
    const card = JSON.parse(fs.readFileSync(path.join(out, "gan.card.json"), "utf8")) as GanCard;
    expect(card.weights).toBeUndefined();
    expect(card.densityCap).toBe(1.5);
    const samples = path.join(dir, "lean-samples");
    const s = await runCliAsync("sample-gan", "--model", out, "--n", "8", "-o", samples);
    expect(s.status, s.stderr).toBe(0);
    // The cap binds: no voxel above it, and some voxels (ρ/ρ̄ > 1.5 without the cap) on it.
    const drawn = readNpyFloat32(path.join(samples, "samples.npy")).data;
    expect(Math.max(...drawn)).toBe(Math.fround(1.5));
    expect(drawn.filter((v) => v === Math.fround(1.5)).length).toBeGreaterThan(0);
  }, 120_000);

  it("carries a fine-tuned run's statistics term and starting checkpoint into the card", async () => {
    const tuned = path.join(dir, "tuned-run");
    const t = await runCliAsync(
      "train",
      "gan",
      ...["--data", data, "--filters", "8,4,1", "--latent-dim", "6", "--kappa", "2", "--batch", "2"],
      ...["--steps", "2", "--checkpoint-every", "2", "--threads", "1", "--stats-weight", "0.5"],
      ...["--init", path.join(run, "checkpoints", "step-00000004.ckpt"), "-o", tuned],
    );
    expect(t.status, t.stderr).toBe(0);
    const out = path.join(dir, "tuned-chosen");
    const r = await runCliAsync(
      "select-gan",
      ...["--run", tuned, "--data", data, "--n", "8", "--top", "1", "--scales", "1", "--threads", "1"],
      ...["--no-tfjs-weights", "-o", out],
    );
    expect(r.status, r.stderr).toBe(0);
    const card = JSON.parse(fs.readFileSync(path.join(out, "gan.card.json"), "utf8")) as GanCard;
    const training = card.training as {
      statisticsLoss: unknown;
      initialisedFrom: { step: number; sha256: string };
    };
    expect(training.statisticsLoss).toEqual({ weight: 0.5, varianceWeight: 0.25 });
    expect(training.initialisedFrom.step).toBe(4);
    expect(training.initialisedFrom.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(card.description).toMatch(
      /with the summary-statistics loss term in a run fine-tuned from step 4 of an earlier one/,
    );
  }, 120_000);

  it("selects from a --resize-kernels run: its checkpoints hold 3³ kernels, the export the tied 4³ ones", async () => {
    const resized = path.join(dir, "resized-run");
    const t = await runCliAsync(
      "train",
      "gan",
      ...["--data", data, "--filters", "8,4,1", "--latent-dim", "6", "--kappa", "2", "--batch", "2"],
      ...["--steps", "2", "--checkpoint-every", "2", "--threads", "1", "--resize-kernels", "-o", resized],
    );
    expect(t.status, t.stderr).toBe(0);
    const out = path.join(dir, "resized-chosen");
    const r = await runCliAsync(
      "select-gan",
      ...[
        "--run",
        resized,
        "--data",
        data,
        "--n",
        "8",
        "--top",
        "1",
        "--scales",
        "2",
        "--threads",
        "1",
        "-o",
        out,
      ],
    );
    expect(r.status, r.stderr).toBe(0);
    const card = JSON.parse(fs.readFileSync(path.join(out, "gan.card.json"), "utf8")) as GanCard;
    expect((card.training as Record<string, unknown>).resizeKernels).toBe(true);
    // The exported g1 kernel gives all eight output parities the same total weight.
    const weights = JSON.parse(fs.readFileSync(path.join(out, "gan.weights.json"), "utf8")) as {
      layers: { name: string; filter: number[] }[];
    };
    const g1 = weights.layers.find((l) => l.name === "g1")!.filter;
    for (const sums of parityClassSums(g1)) for (const v of sums) expect(v).toBeCloseTo(sums[0], 5);
  });

  it("refuses bad input with one line and writes nothing", async () => {
    const empty = path.join(dir, "empty-run");
    fs.mkdirSync(empty);
    const painterLike = path.join(dir, "not-gan");
    // A valid checkpoint file whose run is not a GAN's (no architecture in its fingerprint).
    writeCheckpoint(
      path.join(painterLike, "checkpoints"),
      {
        step: 1,
        fingerprint: { painter: true },
        rng: { algorithm: "test", seed: 1, nextStep: 1 },
        optimiserSteps: {},
        history: [],
        interval: { count: 0, sums: {} },
      },
      new Map([["w", new Float32Array(4)]]),
    );
    const truncated = path.join(dir, "truncated");
    fs.mkdirSync(path.join(truncated, "checkpoints"), { recursive: true });
    fs.copyFileSync(
      path.join(run, "checkpoints", "step-00000002.ckpt"),
      path.join(truncated, "checkpoints", "step-00000002.ckpt"),
    );
    fs.truncateSync(path.join(truncated, "checkpoints", "step-00000002.ckpt"), 2000);
    const existing = path.join(dir, "existing");
    fs.mkdirSync(existing);
    fs.writeFileSync(path.join(existing, "x"), "keep");
    const cases: [string[], RegExp, string][] = [
      [["--run", empty], /empty-run: holds no checkpoint at step ≥ 0/, path.join(dir, "o1")],
      [
        ["--run", painterLike],
        /step-00000001\.ckpt: is not a checkpoint of `mocksmith train gan`/,
        path.join(dir, "o2"),
      ],
      [["--run", truncated], /step-00000002\.ckpt: checkpoint (header )?is truncated/, path.join(dir, "o6")],
      [["--from-step", "99"], /holds no checkpoint at step ≥ 99/, path.join(dir, "o3")],
      [["--scales", "0"], /--scales/, path.join(dir, "o4")],
      [
        ["--data", path.join(dir, "nothing")],
        /nothing: held-out data directory does not exist/,
        path.join(dir, "o5"),
      ],
      [[], /existing: exists and is not empty/, existing],
    ];
    for (const [extra, message, out] of cases) {
      const r = await select(out, ...extra);
      expect(r.status, extra.join(" ")).not.toBe(0);
      expect(lastLine(r.stderr)).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      if (out !== existing) expect(fs.existsSync(out)).toBe(false);
    }
    expect(fs.readdirSync(existing)).toEqual(["x"]);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  }, 120_000);
});
