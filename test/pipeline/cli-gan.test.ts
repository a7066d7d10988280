/**
 * `mocksmith train gan` and `mocksmith sample-gan` end to end through the compiled CLI on a tiny
 * simulation set (16³ grids) with a small custom generator (filters 8, 4, 1 → 16³): training
 * exports a model loadGanModel accepts, a run resumed from a checkpoint equals the uninterrupted
 * one bit for bit, sampling is identical for any worker count and for shards merged by
 * `mocksmith merge`, samples are the ONNX generator's output inverted with κ, and bad inputs give
 * one clear line. `--save-latent`/`--latent` round-trip the drawn latents byte for byte (also
 * sharded), bad latent files are refused naming the file, and `--stitch` tiles the samples into
 * one volume whose sidecar records the seam statistics of what was written.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { loadGanModel } from "../../src/io/gan-model-file.js";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { readGridMetadata } from "../../src/io/grid-metadata.js";
import { tileSeamStats, type SeamStats } from "../../src/cosmo/tile-seams.js";
import { unscaleDensity } from "../../src/models/gan/data-scaling.js";
import { latentBatch } from "../../src/models/gan/latent.js";
import type { GanCard } from "../../src/models/gan/gan-card.js";
import { generatorLayersFromOnnx, nativeKernelsAvailable } from "../../src/models/gan/gan-native.js";
import { ganArchitecture } from "../../src/models/gan/architecture.js";
import { onnxToTfTransposedFilter } from "../../src/models/gan/gan-tf.js";
import { applySymmetry, CUBE_SYMMETRIES } from "../../src/models/painter/cube-symmetry.js";
import { sampleSymmetryIndex } from "../../src/models/gan/sample-orientation.js";
import { readCheckpoint } from "../../src/models/painter/training-checkpoint.js";
import { parityClassSums } from "../gan-fixture.js";

const cli = path.resolve("dist/src/pipeline/cli/main.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-gan-"));
const run = (...args: string[]) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [cli, ...args]);
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (status) => resolve({ status, stderr }));
  });
const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";
const data = path.join(dir, "data");
const full = path.join(dir, "full");
const part = path.join(dir, "part");
const model = path.join(full, "gan.onnx");
const cgan = path.join(dir, "cgan");
const train = (out: string, ...extra: string[]) =>
  run(
    "train",
    "gan",
    ...["--data", data, "--filters", "8,4,1", "--latent-dim", "8", "--batch", "2", "--seed", "5"],
    ...["--checkpoint-every", "2", "--threads", "1", "-o", out, ...extra],
  );
/** The layers of a run's TF.js weights file (gan.weights.json). */
const layers = (dirName: string) =>
  (
    JSON.parse(fs.readFileSync(path.join(dirName, "gan.weights.json"), "utf8")) as {
      layers: {
        name: string;
        filter: number[];
        bias?: number[];
        gamma?: number[];
        movingMean?: number[];
        movingVariance?: number[];
      }[];
    }
  ).layers;
const sample = (out: string, ...extra: string[]) =>
  run("sample-gan", "--model", model, "--n", "7", "--seed", "9", "--batch", "2", "-o", out, ...extra);

beforeAll(async () => {
  const made = await run(
    "nbody-set",
    ...[
      "--sims",
      "2",
      "--grid",
      "16",
      "--box",
      "64",
      "--voxel",
      "4",
      "--steps",
      "2",
      "--min-members",
      "2",
      "--z",
      "0,0.5",
    ],
    ...["-o", data],
  );
  expect(made.status, made.stderr).toBe(0);
  const [a, b, c] = await Promise.all([
    train(full, "--steps", "4"),
    train(part, "--steps", "2"),
    train(cgan, "--steps", "1", "--conditional", "--redshift", "0,0.5"),
  ]);
  expect(a.status, a.stderr).toBe(0);
  expect(b.status, b.stderr).toBe(0);
  expect(c.status, c.stderr).toBe(0);
}, 300_000);

describe("mocksmith train gan", () => {
  it("exports a loadable GAN whose card records preset, prior, κ, data, losses and parity", async () => {
    const { card } = await loadGanModel(model);
    expect(card.architecture).toEqual({
      preset: "custom",
      filters: [8, 4, 1],
      latentDim: 8,
      conditional: false,
      side: 16,
    });
    expect(card.trained).toBe(true);
    expect(card.voxelSize).toBe(4);
    expect(card.redshift).toBe(0);
    expect(card.kappa).toBe(45);
    expect(card.latentPrior).toEqual({ kind: "student-t", nu: 10, scale: 1 });
    const t = card.training as {
      losses: { step: number }[];
      data: unknown[];
      optimiser: Record<string, number>;
    };
    expect(t.losses.map((l) => l.step)).toEqual([2, 4]);
    expect(t.data).toHaveLength(2);
    expect(t.optimiser).toMatchObject({
      learningRateGenerator: 1e-4,
      learningRateDiscriminator: 5e-5,
      beta1: 0.5,
      accuracyThreshold: 0.8,
      halveEvery: 1000,
    });
    expect(card.parity?.maxAbsDifference).toBeLessThanOrEqual(1e-5);
  });

  it("a run resumed from its step-2 checkpoint equals the uninterrupted 4-step run bit for bit", async () => {
    const resumed = await train(part, "--steps", "4", "--resume");
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(lastLine(resumed.stderr)).toMatch(/trained 2 GAN step\(s\) after resuming at step 2/);
    for (const f of ["gan.onnx", "gan.weights.json"])
      expect(fs.readFileSync(path.join(part, f)).equals(fs.readFileSync(path.join(full, f))), f).toBe(true);
    const again = await train(part, "--steps", "4");
    expect(again.status).not.toBe(0);
    expect(lastLine(again.stderr)).toMatch(/holds checkpoints of an earlier run: pass --resume/);
  });

  it("--stats-weight adds the summary-statistics term: recorded on the card and in the loss lines, part of the resume fingerprint", async () => {
    const out = path.join(dir, "stats");
    const r = await train(out, "--steps", "2", "--stats-weight", "0.5", "--stats-variance-weight", "0.1");
    expect(r.status, r.stderr).toBe(0);
    const { card } = await loadGanModel(path.join(out, "gan.onnx"));
    const t = card.training as { statisticsLoss: Record<string, number>; losses: Record<string, number>[] };
    expect(t.statisticsLoss).toMatchObject({ weight: 0.5, varianceWeight: 0.1, targetCubes: 1024 });
    const last = t.losses.at(-1) ?? {};
    for (const k of ["statisticsPower", "statisticsVariance", "statisticsPdf"])
      expect(Number.isFinite(last[k]) && last[k] >= 0, k).toBe(true);
    const other = await train(out, "--steps", "3", "--resume");
    expect(other.status).not.toBe(0);
    expect(lastLine(other.stderr)).toMatch(
      /cannot resume: settings differ from the checkpoint.s: .*statistics/,
    );
    // --stats-orientation random: recorded in the settings (and so in the resume fingerprint).
    const oriented = path.join(dir, "stats-oriented");
    const o = await train(
      oriented,
      "--steps",
      "2",
      "--stats-weight",
      "0.5",
      "--stats-homogeneity-weight",
      "1",
      "--stats-orientation",
      "random",
    );
    expect(o.status, o.stderr).toBe(0);
    const oc = (await loadGanModel(path.join(oriented, "gan.onnx"))).card;
    expect((oc.training as { statisticsLoss: Record<string, unknown> }).statisticsLoss).toMatchObject({
      homogeneityWeight: 1,
      orientation: "random",
    });
    const cg = await train(path.join(dir, "x4"), "--steps", "1", "--conditional", "--stats-weight", "1");
    expect(lastLine(cg.stderr)).toMatch(/--stats-weight: not available for a conditional GAN/);
  });

  it("--init fine-tunes another run's checkpoint: its filters are the start, the card names it, wider filters are widened and another κ carried over, a narrower architecture or another prior is refused", async () => {
    const ckpt = path.join(full, "checkpoints", "step-00000004.ckpt");
    const filters = (dirName: string) =>
      (
        JSON.parse(fs.readFileSync(path.join(dirName, "gan.weights.json"), "utf8")) as {
          layers: { name: string; filter: number[] }[];
        }
      ).layers.map((l) => l.filter);
    // A learning rate of 1e-30 leaves every filter where it started (Adam steps are ~lr).
    const frozen = ["--steps", "1", "--lr-g", "1e-30", "--lr-d", "1e-30", "--seed", "6"];
    const tuned = path.join(dir, "tuned");
    const r = await train(tuned, ...frozen, "--init", ckpt);
    expect(r.status, r.stderr).toBe(0);
    const fresh = path.join(dir, "fresh");
    expect((await train(fresh, ...frozen)).status).toBe(0);
    expect(filters(tuned)).toEqual(filters(full));
    expect(filters(fresh)).not.toEqual(filters(full));
    const { card } = await loadGanModel(path.join(tuned, "gan.onnx"));
    const t = card.training as { initialisedFrom: { checkpoint: string; step: number; sha256: string } };
    expect(t.initialisedFrom).toMatchObject({ checkpoint: ckpt, step: 4 });
    expect(t.initialisedFrom.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(card.description).toMatch(/after 4 steps of an earlier run/);
    const arch = await train(path.join(dir, "x5"), "--steps", "1", "--filters", "8,2,1", "--init", ckpt);
    expect(lastLine(arch.stderr)).toMatch(
      /step-00000004\.ckpt: cannot fine-tune from this checkpoint: architecture .*narrower than the checkpoint's 8,4,1 at layer 1/,
    );
    // Wider filters at the same depth start from the checkpoint widened (Net2Wider).
    const wider = path.join(dir, "wider");
    const w = await train(wider, ...frozen, "--filters", "16,4,1", "--init", ckpt);
    expect(w.status, w.stderr).toBe(0);
    const wcard = (await loadGanModel(path.join(wider, "gan.onnx"))).card;
    expect((wcard.training as { initialisedFrom: unknown }).initialisedFrom).toMatchObject({
      step: 4,
      widenedFrom: { filters: [8, 4, 1], noise: 0.01 },
    });
    // Another κ: the generator is carried over unchanged in ρ = κe^{2y} by adding ½ ln(45/2) to
    // the tanh layer's bias; every filter stays (1e-30 learning rate).
    const rescaled = path.join(dir, "kappa2");
    const k2 = await train(rescaled, ...frozen, "--kappa", "2", "--init", ckpt);
    expect(k2.status, k2.stderr).toBe(0);
    expect(filters(rescaled)).toEqual(filters(full));
    const bias = (dirName: string) =>
      (
        JSON.parse(fs.readFileSync(path.join(dirName, "gan.weights.json"), "utf8")) as {
          layers: { name: string; bias?: number[] }[];
        }
      ).layers.find((l) => l.name === "g2")?.bias?.[0] ?? NaN;
    expect(bias(rescaled) - bias(full)).toBeCloseTo(0.5 * Math.log(45 / 2), 5);
    const k2card = (await loadGanModel(path.join(rescaled, "gan.onnx"))).card;
    expect(k2card.kappa).toBe(2);
    expect((k2card.training as { initialisedFrom: unknown }).initialisedFrom).toMatchObject({
      kappaFrom: 45,
    });
    const prior = await train(path.join(dir, "x6"), "--steps", "1", "--latent", "gaussian", "--init", ckpt);
    expect(lastLine(prior.stderr)).toMatch(/cannot fine-tune from this checkpoint: latentPrior/);
    const missing = await train(path.join(dir, "x7"), "--steps", "1", "--init", path.join(dir, "nope.ckpt"));
    expect(lastLine(missing.stderr)).toMatch(/nope\.ckpt: --init needs a checkpoint file/);
  });

  it("--init MODEL fine-tunes an exported model: with its weights file from its own generator and discriminator, without it from its folded generator and a fresh discriminator warmed up; another architecture or prior is refused", async () => {
    const frozen = ["--steps", "1", "--lr-g", "1e-30", "--lr-d", "1e-30", "--seed", "6"];
    // A model with its weights file (the card lists it): every filter, D's too, is the model's.
    const own = path.join(dir, "from-model-weights");
    const w = await train(own, ...frozen, "--init", model);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/fine-tuning .*gan\.onnx \(generator and discriminator from its weights file\)/);
    expect(layers(own).map((l) => l.filter)).toEqual(layers(full).map((l) => l.filter));
    const wcard = (await loadGanModel(path.join(own, "gan.onnx"))).card;
    expect((wcard.training as { initialisedFrom: unknown }).initialisedFrom).toMatchObject({
      model,
      discriminator: "the model's (its weights file)",
    });
    // The same model without its weights file: its card no longer lists one.
    const bare = path.join(dir, "bare-model");
    fs.mkdirSync(bare);
    fs.copyFileSync(model, path.join(bare, "gan.onnx"));
    const bareCard = JSON.parse(fs.readFileSync(path.join(full, "gan.card.json"), "utf8")) as Record<
      string,
      unknown
    >;
    delete bareCard.weights;
    fs.writeFileSync(path.join(bare, "gan.card.json"), JSON.stringify(bareCard));
    const out = path.join(dir, "from-model");
    // The model's directory names its gan.onnx.
    // Warm-up threshold 1: D is updated on every pass (the generator is frozen).
    const r = await train(
      out,
      ...frozen,
      "--init",
      bare,
      "--discriminator-warmup",
      "2",
      "--warmup-accuracy-threshold",
      "1",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fine-tuning the generator of .*gan\.onnx \(unfolded; a fresh discriminator\)/);
    expect(r.stderr).toMatch(/discriminator warm-up: 2 passes, 2 updated it/);
    const { card } = await loadGanModel(path.join(out, "gan.onnx"));
    const t = card.training as {
      initialisedFrom: Record<string, unknown>;
      discriminatorWarmup: number;
      warmupAccuracyThreshold: number;
    };
    expect(t.initialisedFrom).toMatchObject({
      model: path.join(bare, "gan.onnx"),
      step: 4,
      discriminator: "fresh (seed 6)",
    });
    expect(t.initialisedFrom.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.discriminatorWarmup).toBe(2);
    expect(t.warmupAccuracyThreshold).toBe(1);
    // The generator's filters are the .onnx's folded ones (TF.js layout), the discriminator's
    // are the seed's, not the trained run's.
    const arch = ganArchitecture({ filters: [8, 4, 1], latentDim: 8, conditional: false });
    const folded = generatorLayersFromOnnx(fs.readFileSync(model), arch);
    const tuned = layers(out);
    for (const f of folded) {
      const l = f.layer;
      const tfLayout = onnxToTfTransposedFilter(f.weight, l.inChannels, l.outChannels, l.kernel);
      expect(tuned.find((x) => x.name === l.name)?.filter, l.name).toEqual(Array.from(tfLayout));
    }
    expect(tuned.find((x) => x.name === "d0")?.filter).not.toEqual(
      layers(full).find((x) => x.name === "d0")?.filter,
    );
    // Another κ, with and without the weights file: the tanh layer's bias (no batch norm, the
    // same in both forms) moves by ½ ln(45/2), so ρ = κe^{2y} stays; the card says from which κ.
    const lastBias = (dirName: string) => layers(dirName).find((l) => l.name === "g2")?.bias?.[0] ?? NaN;
    for (const [name, from] of [
      ["own", model],
      ["bare", bare],
    ] as const) {
      const k2 = path.join(dir, `kappa2-${name}`);
      const rk = await train(k2, ...frozen, "--kappa", "2", "--init", from);
      expect(rk.status, rk.stderr).toBe(0);
      expect(lastBias(k2) - lastBias(full), from).toBeCloseTo(0.5 * Math.log(45 / 2), 5);
      const kc = (await loadGanModel(path.join(k2, "gan.onnx"))).card;
      expect((kc.training as { initialisedFrom: unknown }).initialisedFrom).toMatchObject({ kappaFrom: 45 });
    }
    const narrower = await train(path.join(dir, "x8"), "--steps", "1", "--filters", "8,2,1", "--init", full);
    expect(lastLine(narrower.stderr)).toMatch(
      /gan\.onnx: cannot fine-tune from this model: its generator is filters 8,4,1, latent 8; this run's is filters 8,2,1, latent 8/,
    );
    const prior = await train(path.join(dir, "x9"), "--steps", "1", "--latent", "gaussian", "--init", model);
    expect(lastLine(prior.stderr)).toMatch(
      /cannot fine-tune from this model: its latent prior is student-t ν = 10, this run's gaussian/,
    );
  });

  it("--stats-memory keeps running averages in the checkpoints: a resumed run equals the uninterrupted one bit for bit; --stats-kmax sets the inner shells", async () => {
    const memory = ["--stats-weight", "1", "--stats-memory", "10"];
    const whole = path.join(dir, "memory-4");
    const half = path.join(dir, "memory-2");
    const [a, b] = await Promise.all([
      train(whole, "--steps", "4", ...memory),
      train(half, "--steps", "2", ...memory),
    ]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const resumed = await train(half, "--steps", "4", "--resume", ...memory);
    expect(resumed.status, resumed.stderr).toBe(0);
    for (const f of ["gan.onnx", "gan.weights.json"])
      expect(fs.readFileSync(path.join(half, f)).equals(fs.readFileSync(path.join(whole, f))), f).toBe(true);
    const t = (await loadGanModel(path.join(whole, "gan.onnx"))).card.training as {
      statisticsLoss: Record<string, number>;
    };
    expect(t.statisticsLoss.memory).toBe(10);
    // --stats-kmax 0.5 on 16³ cubes of 4 Mpc/h (k_F = 2π/64): shells j with (j + ½) k_F ≤ 0.5, j ≤ 4.
    const shells = path.join(dir, "kmax");
    const k = await train(
      shells,
      ...["--steps", "1", "--stats-weight", "1", "--stats-kmax", "0.5"],
      "--stats-shell-norm",
      "6",
    );
    expect(k.status, k.stderr).toBe(0);
    const kc = (await loadGanModel(path.join(shells, "gan.onnx"))).card.training as {
      statisticsLoss: Record<string, number>;
    };
    expect(kc.statisticsLoss).toMatchObject({ kMax: 0.5, innerShells: 4, shellNorm: 6 });
    const none = await train(
      path.join(dir, "x14"),
      "--steps",
      "1",
      "--stats-weight",
      "1",
      "--stats-kmax",
      "0.1",
    );
    expect(lastLine(none.stderr)).toMatch(
      /--stats-kmax: 0\.1 h\/Mpc holds no shell of a 16³ cube of 4 Mpc\/h voxels/,
    );
    const bad = await train(
      path.join(dir, "x12"),
      "--steps",
      "1",
      "--stats-weight",
      "1",
      "--stats-memory",
      "0.5",
    );
    expect(lastLine(bad.stderr)).toMatch(
      /--stats-memory: must be 0 \(the batch alone\) or ≥ 1 steps, got 0\.5/,
    );
    const both = await train(
      path.join(dir, "x13"),
      ...["--steps", "1", ...memory, "--stats-variance-offset", "empirical"],
    );
    expect(lastLine(both.stderr)).toMatch(
      /--stats-variance-offset: empirical corrects a single batch's ln s²/,
    );
  });

  it("--adversarial-weight 0 trains the generator on the statistics term alone: the discriminator is neither run nor updated; --freeze-batch-norm keeps its moving statistics; --train-layers moves only the layers named", async () => {
    const out = path.join(dir, "stats-only");
    const r = await train(
      out,
      "--steps",
      "2",
      "--init",
      model,
      "--adversarial-weight",
      "0",
      "--stats-weight",
      "1",
    );
    expect(r.status, r.stderr).toBe(0);
    const start = layers(full);
    const tuned = layers(out);
    for (const l of tuned.filter((x) => x.name.startsWith("d")))
      expect(l.filter, l.name).toEqual(start.find((x) => x.name === l.name)?.filter);
    expect(tuned.find((x) => x.name === "g0")?.filter).not.toEqual(
      start.find((x) => x.name === "g0")?.filter,
    );
    const t = (await loadGanModel(path.join(out, "gan.onnx"))).card.training as {
      adversarialWeight: number;
      losses: Record<string, number>[];
    };
    expect(t.adversarialWeight).toBe(0);
    // With --freeze-batch-norm the generator trains in inference mode: its moving statistics stay
    // the start's while γ (and the filters) move; without it they move too.
    const frozen = path.join(dir, "frozen-batch-norm");
    // (The adversarial loss here: with this tiny model's 4-step-old moving statistics the
    // statistics term diverges at once in inference mode — P_b = 0 at a shell, L_P infinite.)
    const f = await train(frozen, "--steps", "2", "--init", model, "--freeze-batch-norm");
    expect(f.status, f.stderr).toBe(0);
    const bn = (dirName: string) => layers(dirName).find((l) => l.name === "g0");
    expect(bn(frozen)?.movingMean).toEqual(bn(full)?.movingMean);
    expect(bn(frozen)?.movingVariance).toEqual(bn(full)?.movingVariance);
    expect(bn(frozen)?.gamma).not.toEqual(bn(full)?.gamma);
    expect(bn(out)?.movingMean).not.toEqual(bn(full)?.movingMean);
    const fc = (await loadGanModel(path.join(frozen, "gan.onnx"))).card.training as Record<string, unknown>;
    expect(fc.freezeGeneratorBatchNorm).toBe(true);
    // --train-layers g0: only the first generator layer moves.
    const first = path.join(dir, "train-g0");
    const g0 = await train(
      first,
      ...["--steps", "2", "--init", model, "--train-layers", "g0", "--seed", "7"],
    );
    expect(g0.status, g0.stderr).toBe(0);
    const moved = (name: string) =>
      JSON.stringify(layers(first).find((l) => l.name === name)?.filter) !==
      JSON.stringify(layers(full).find((l) => l.name === name)?.filter);
    expect(moved("g0")).toBe(true);
    for (const name of ["g1", "g2"]) expect(moved(name), name).toBe(false);
    expect(layers(first).find((l) => l.name === "g1")?.gamma).toEqual(
      layers(full).find((l) => l.name === "g1")?.gamma,
    );
    const unknownLayer = await train(path.join(dir, "x15"), "--steps", "1", "--train-layers", "g0,g7");
    expect(lastLine(unknownLayer.stderr)).toMatch(
      /--train-layers: no generator layer g7; this generator's are g0, g1, g2/,
    );
    const last = t.losses.at(-1) ?? {};
    expect(last.generatorLoss).toBe(0);
    expect(last.statisticsPower).toBeGreaterThan(0);
    expect("discriminatorAccuracy" in last).toBe(false);
    const none = await train(path.join(dir, "x10"), "--steps", "1", "--adversarial-weight", "0");
    expect(lastLine(none.stderr)).toMatch(/--adversarial-weight: 0 leaves the generator no loss/);
    const warm = await train(
      path.join(dir, "x11"),
      ...["--steps", "1", "--adversarial-weight", "0", "--stats-weight", "1", "--discriminator-warmup", "1"],
    );
    expect(lastLine(warm.stderr)).toMatch(/--discriminator-warmup: there is no discriminator to warm up/);
  });

  it("--weight-average β keeps θ̄ ← β θ̄ + (1 − β) θ of the generator beside the unchanged trajectory; checkpoints, resume, --init and the export carry it", async () => {
    const start = path.join(full, "checkpoints", "step-00000002.ckpt");
    const every = path.join(dir, "average-raw");
    const avg = path.join(dir, "average");
    const half = path.join(dir, "average-half");
    const opts = ["--init", start, "--checkpoint-every", "1", "--keep-checkpoints", "0"];
    const beta = ["--weight-average", "0.5"];
    const results = await Promise.all([
      train(every, "--steps", "3", ...opts),
      train(avg, "--steps", "3", ...opts, ...beta),
      train(half, "--steps", "2", ...opts, ...beta),
    ]);
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const resumed = await train(half, "--steps", "3", ...opts, ...beta, "--resume");
    expect(resumed.status, resumed.stderr).toBe(0);
    for (const f of ["gan.onnx", "gan.weights.json"])
      expect(fs.readFileSync(path.join(half, f)).equals(fs.readFileSync(path.join(avg, f))), f).toBe(true);
    const ckpt = (out: string, step: number) =>
      readCheckpoint(path.join(out, "checkpoints", `step-${String(step).padStart(8, "0")}.ckpt`));
    // The average does not steer training: raw weights step for step as without it.
    const raw = [readCheckpoint(start), ...[1, 2, 3].map((s) => ckpt(every, s))];
    const last = ckpt(avg, 3);
    for (const [name, v] of raw[3].tensors)
      if (name.startsWith("gan/")) expect(last.tensors.get(name), name).toEqual(v);
    // The average of the generator's tensors (weights and moving statistics) over steps 0–3,
    // β = 0.5: θ̄₃ = θ₀/8 + θ₁/8 + θ₂/4 + θ₃/2; none of the discriminator's.
    const names = [...raw[0].tensors.keys()].filter((k) => k.startsWith("gan/"));
    const generator = names.filter((k) => /^gan\/g\d+\./.test(k));
    expect(generator.length).toBeGreaterThan(0);
    for (const name of generator) {
      const [t0, t1, t2, t3] = raw.map((c) => c.tensors.get(name) as Float32Array);
      const got = last.tensors.get(`ema/${name}`) as Float32Array;
      expect(got, name).toBeDefined();
      let err = 0;
      let scale = 0;
      for (let i = 0; i < got.length; i++) {
        err = Math.max(err, Math.abs(got[i] - (t0[i] / 8 + t1[i] / 8 + t2[i] / 4 + t3[i] / 2)));
        scale = Math.max(scale, Math.abs(t3[i]));
      }
      expect(err, name).toBeLessThanOrEqual(1e-6 * scale + 1e-12);
    }
    expect([...last.tensors.keys()].filter((k) => k.startsWith("ema/gan/d"))).toEqual([]);
    // The export writes the average (γ, β and the moving statistics are stored as they are).
    const g0 = layers(avg).find((l) => l.name === "g0");
    expect(Float32Array.from(g0?.gamma ?? [])).toEqual(last.tensors.get("ema/gan/g0.gamma"));
    expect(Float32Array.from(g0?.movingMean ?? [])).toEqual(last.tensors.get("ema/gan/g0.movingMean"));
    expect(g0?.gamma).not.toEqual(Array.from(last.tensors.get("gan/g0.gamma") ?? []));
    const card = (await loadGanModel(path.join(avg, "gan.onnx"))).card.training as Record<string, unknown>;
    expect(card.weightAverageDecay).toBe(0.5);
    // --init from an averaged run's checkpoint starts from the average (g0's γ, not trained here, keeps it).
    const next = path.join(dir, "average-next");
    const from = path.join(avg, "checkpoints", "step-00000003.ckpt");
    const n = await train(next, "--steps", "1", "--init", from, "--train-layers", "g1");
    expect(n.status, n.stderr).toBe(0);
    expect(Float32Array.from(layers(next).find((l) => l.name === "g0")?.gamma ?? [])).toEqual(
      last.tensors.get("ema/gan/g0.gamma"),
    );
    const bad = await train(path.join(dir, "x16"), "--steps", "1", "--weight-average", "1");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--weight-average.*expected a number < 1/);
  });

  it("--resize-kernels ties the strided kernels to W ⊛ box 2³, projecting an untied start, and refuses an untied checkpoint", async () => {
    const out = path.join(dir, "resize");
    const r = await train(out, "--steps", "2", "--init", model, "--resize-kernels");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /resize kernels: the strided layers' 4³ kernels projected onto W ⊛ box 2³, relative change g1 0\.\d{3}, g2 0\.\d{3}/,
    );
    const { card } = await loadGanModel(path.join(out, "gan.onnx"));
    expect((card.training as Record<string, unknown>).resizeKernels).toBe(true);
    expect(card.parity?.maxAbsDifference).toBeLessThanOrEqual(1e-5);
    // Exported kernels are tied: per axis K_j = W_t + W_(t−1), so with the eight corners K(0|3, 0|3, 0|3)
    // = W's corners, K(1,0,0) − K(0,0,0) = W(1,0,0), etc. The sum over each output parity class is
    // the same for all eight classes (the no-checkerboard property) in every channel pair.
    for (const l of layers(out).filter((x) => x.name === "g1" || x.name === "g2"))
      for (const sums of parityClassSums(l.filter)) for (const v of sums) expect(v).toBeCloseTo(sums[0], 5);
    const untied = await train(
      path.join(dir, "x16"),
      ...["--steps", "1", "--resize-kernels", "--init", path.join(full, "checkpoints", "step-00000004.ckpt")],
    );
    expect(lastLine(untied.stderr)).toMatch(
      /its generator's kernels are untied and this run has --resize-kernels/,
    );
  });

  it("refuses bad settings with one line", async () => {
    const r1 = await train(path.join(dir, "x1"), "--steps", "1", "--redshift", "0,1");
    expect(lastLine(r1.stderr)).toMatch(/--redshift: 2 redshifts need --conditional/);
    const r2 = await train(path.join(dir, "x2"), "--steps", "1", "--filters", "8,4,2,1");
    expect(lastLine(r2.stderr)).toMatch(/grid side 16 is smaller than the generator's output side 32/);
    const r3 = await train(path.join(dir, "x3"), "--steps", "1", "--redshift", "1");
    expect(lastLine(r3.stderr)).toMatch(/nbody_delta_z1\.000\.npy: missing/);
    const r4 = await train(
      path.join(dir, "x4h"),
      "--steps",
      "1",
      "--stats-weight",
      "1",
      "--stats-homogeneity-of",
      "density",
    );
    expect(lastLine(r4.stderr)).toMatch(
      /--stats-homogeneity-of: density sets what the homogeneity part measures: give --stats-weight and --stats-homogeneity-weight > 0/,
    );
    const r5 = await train(path.join(dir, "x5o"), "--steps", "1", "--stats-orientation", "random");
    expect(lastLine(r5.stderr)).toMatch(
      /--stats-orientation: random orients the fields the statistics term measures: give --stats-weight > 0/,
    );
  });
});

describe("conditional GAN", () => {
  it("records its redshift range; sampling needs --z inside it", async () => {
    const onnx = path.join(cgan, "gan.onnx");
    const { card } = await loadGanModel(onnx);
    expect(card.architecture.conditional).toBe(true);
    expect(card.redshift).toBeNull();
    expect(card.redshiftRange).toEqual([0, 0.5]);
    const cs = (out: string, ...extra: string[]) =>
      run("sample-gan", "--model", onnx, "--n", "2", "--workers", "1", "-o", path.join(dir, out), ...extra);
    const ok = await cs("c1", "--z", "0.25");
    expect(ok.status, ok.stderr).toBe(0);
    const other = await cs("c2", "--z", "0.5");
    expect(other.status, other.stderr).toBe(0);
    // The redshift input changes the output.
    expect(
      fs
        .readFileSync(path.join(dir, "c1", "samples.npy"))
        .equals(fs.readFileSync(path.join(dir, "c2", "samples.npy"))),
    ).toBe(false);
    expect(lastLine((await cs("c3", "--z", "1")).stderr)).toMatch(
      /--z: 1 is outside the redshift range \[0, 0.5\]/,
    );
    expect(lastLine((await cs("c4")).stderr)).toMatch(
      /--z: the conditional GAN .* needs a redshift in \[0, 0.5\]/,
    );
  }, 60_000);
});

describe("mocksmith sample-gan", () => {
  it("samples ρ/ρ̄ = κ(1 + c)/(1 − c) of the ONNX generator at latents keyed by (seed, i), for any worker count and sharding", async () => {
    const one = path.join(dir, "s1");
    const two = path.join(dir, "s2");
    const [a, b] = await Promise.all([sample(one, "--workers", "1"), sample(two, "--workers", "2")]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const x = fs.readFileSync(path.join(one, "samples.npy"));
    expect(x.equals(fs.readFileSync(path.join(two, "samples.npy")))).toBe(true);
    const { data: rho, shape } = readNpyFloat32(path.join(one, "samples.npy"));
    expect(shape).toEqual([7, 16, 16, 16]);
    const side = JSON.parse(fs.readFileSync(path.join(one, "samples.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(side).toMatchObject({
      quantity: "density",
      shape: [7, 16, 16, 16],
      seed: 9,
      kappa: 45,
      voxelSize: 4,
      boxSize: 64,
      orientation: { mode: "random" },
    });
    // Sample 5 by hand: its own latent, alone in a batch of one, under its own cube symmetry.
    const card = JSON.parse(fs.readFileSync(model.replace(/\.onnx$/, ".card.json"), "utf8")) as GanCard;
    const z = latentBatch(9, 0, 5, 1, 8, card.latentPrior);
    const session = await ort.InferenceSession.create(model);
    const c = (await session.run({ latent: new ort.Tensor("float32", z, [1, 8, 1, 1, 1]) })).scaled_density
      .data as Float32Array;
    await session.release();
    const drawn = Float32Array.from(c, (v) => unscaleDensity(v, 45));
    const mine = rho.subarray(5 * 4096, 6 * 4096);
    const byHand = applySymmetry(drawn, 16, CUBE_SYMMETRIES[sampleSymmetryIndex(9, 5)]);
    for (let i = 0; i < 4096; i += 97)
      expect(Math.abs(mine[i] - byHand[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, mine[i]));
    // --orientation generator: the generator's own output, unpermuted.
    const plain = path.join(dir, "s-plain");
    const p = await sample(plain, "--workers", "1", "--orientation", "generator");
    expect(p.status, p.stderr).toBe(0);
    const own = readNpyFloat32(path.join(plain, "samples.npy")).data.subarray(5 * 4096, 6 * 4096);
    for (let i = 0; i < 4096; i += 97)
      expect(Math.abs(own[i] - drawn[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, own[i]));
    expect(JSON.parse(fs.readFileSync(path.join(plain, "samples.json"), "utf8"))).toMatchObject({
      orientation: { mode: "generator" },
    });

    const shards = [0, 1, 2].map((i) => path.join(dir, `shard${i}`));
    const results = await Promise.all(shards.map((d, i) => sample(d, "--workers", "1", "--shard", `${i}/3`)));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const merged = path.join(dir, "merged");
    const m = await run("merge", ...shards, "-o", merged);
    expect(m.status, m.stderr).toBe(0);
    expect(fs.readFileSync(path.join(merged, "samples.npy")).equals(x)).toBe(true);
    expect(
      fs
        .readFileSync(path.join(merged, "samples.json"))
        .equals(fs.readFileSync(path.join(one, "samples.json"))),
    ).toBe(true);
    const missing = await run("merge", shards[0], shards[2], "-o", path.join(dir, "merged2"));
    expect(missing.stderr).toMatch(/missing shard\(s\) of 3: 1/);
  }, 120_000);

  it("refuses a redshift the model was not trained for, a damaged model and an existing output, in one line", async () => {
    const z = await sample(path.join(dir, "z"), "--z", "0.5");
    expect(lastLine(z.stderr)).toMatch(
      /--z: .*unconditional GAN trained at z = 0; --z 0.5 needs a conditional GAN/,
    );
    const again = await sample(path.join(dir, "s1"));
    expect(lastLine(again.stderr)).toMatch(/samples\.npy: already exists/);
    const bad = path.join(dir, "bad");
    fs.mkdirSync(bad);
    for (const f of ["gan.onnx", "gan.card.json", "gan.weights.json"])
      fs.copyFileSync(path.join(full, f), path.join(bad, f));
    fs.appendFileSync(path.join(bad, "gan.onnx"), "x");
    const r = await run(
      "sample-gan",
      "--model",
      path.join(bad, "gan.onnx"),
      "--n",
      "1",
      "-o",
      path.join(dir, "b"),
    );
    expect(r.status).not.toBe(0);
    expect(lastLine(r.stderr)).toMatch(/bad\/gan\.onnx: sha256 .* differs from the card's/);
    expect(fs.existsSync(path.join(dir, "b", "samples.npy"))).toBe(false);
    const gpu = await sample(path.join(dir, "g"), "--engine", "native", "--device", "cuda");
    expect(gpu.status).not.toBe(0);
    expect(lastLine(gpu.stderr)).toMatch(
      /--engine: native cannot sample this model: it runs on the cpu, not cuda/,
    );
    const unknown = await sample(path.join(dir, "u"), "--engine", "tpu");
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/--engine/);
  });

  it.skipIf(!nativeKernelsAvailable())(
    "--engine native and ort agree to float32 rounding of c, each recorded in samples.json",
    async () => {
      const [n, o] = [path.join(dir, "en"), path.join(dir, "eo")];
      const [a, b] = await Promise.all([sample(n, "--engine", "native"), sample(o, "--engine", "ort")]);
      expect(a.status, a.stderr).toBe(0);
      expect(b.status, b.stderr).toBe(0);
      const engineOf = (d: string) =>
        (JSON.parse(fs.readFileSync(path.join(d, "samples.json"), "utf8")) as { engine: string }).engine;
      expect([engineOf(n), engineOf(o)]).toEqual(["native", "ort"]);
      const x = readNpyFloat32(path.join(n, "samples.npy")).data;
      const y = readNpyFloat32(path.join(o, "samples.npy")).data;
      // Through c = (ρ − κ)/(ρ + κ): the inversion amplifies c's float32 rounding near c = ±1.
      const c = (rho: number) => (rho - 45) / (rho + 45);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(c(x[i]) - c(y[i])));
      expect(worst).toBeLessThanOrEqual(1e-5);
      // The default (auto) is the native engine here: the first test's samples are these.
      expect(
        fs
          .readFileSync(path.join(n, "samples.npy"))
          .equals(fs.readFileSync(path.join(dir, "s1", "samples.npy"))),
      ).toBe(true);
    },
  );
});

/** A .npy of any dtype/shape from raw bytes (numpy.save's layout, version 1.0). */
function writeNpy(file: string, descr: string, shape: number[], bytes: Uint8Array): void {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict += " ".repeat(total - 10 - dict.length - 1) + "\n";
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(dict.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(dict, "latin1"), bytes]));
}
const f32 = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sampleBytes = (out: string) => fs.readFileSync(path.join(out, "samples.npy"));

describe("sample-gan --latent / --save-latent", () => {
  it("saved latents reproduce the drawn run byte for byte (float32 and float64 files, sharded and merged); a changed row changes only its sample", async () => {
    const drawn = path.join(dir, "L-drawn");
    const latent = path.join(dir, "L.npy");
    const d = await sample(drawn, "--workers", "1", "--save-latent", latent);
    expect(d.status, d.stderr).toBe(0);
    expect(lastLine(d.stderr)).toMatch(/latents to .*L\.npy/);
    // The saved file is the latents keyed by (seed 9, i), (7, 8) float32.
    const card = JSON.parse(fs.readFileSync(model.replace(/\.onnx$/, ".card.json"), "utf8")) as GanCard;
    const saved = readNpyFloat32(latent);
    expect(saved.shape).toEqual([7, 8]);
    expect(saved.storedDtype).toBe("<f4");
    expect(Array.from(saved.data)).toEqual(Array.from(latentBatch(9, 0, 0, 7, 8, card.latentPrior)));

    const fromFile = path.join(dir, "L-file");
    // The same --seed: it keys the orientations as well.
    const f = await run(
      "sample-gan",
      "--model",
      model,
      "--latent",
      latent,
      "--seed",
      "9",
      "--batch",
      "2",
      "--workers",
      "1",
      "-o",
      fromFile,
    );
    expect(f.status, f.stderr).toBe(0);
    expect(sampleBytes(fromFile).equals(sampleBytes(drawn))).toBe(true);
    const meta = JSON.parse(fs.readFileSync(path.join(fromFile, "samples.json"), "utf8")) as {
      samples: number;
      latent: { source: string; file: { name: string; sha256: string } };
    };
    expect(meta.samples).toBe(7);
    expect(meta.latent.source).toBe("file");
    expect(meta.latent.file.name).toBe("L.npy");

    // float64 copy of the same values: converted to the same float32 rows.
    const latent64 = path.join(dir, "L64.npy");
    writeNpy(latent64, "<f8", [7, 8], new Uint8Array(Float64Array.from(saved.data).buffer));
    const f64 = path.join(dir, "L-f64");
    const r64 = await sample(f64, "--workers", "1", "--latent", latent64);
    expect(r64.status, r64.stderr).toBe(0);
    expect(sampleBytes(f64).equals(sampleBytes(drawn))).toBe(true);

    // Shards take the rows of their batches; merged, they equal the unsharded --latent run.
    const shards = [0, 1, 2].map((i) => path.join(dir, `Lshard${i}`));
    const rs = await Promise.all(
      shards.map((s, i) => sample(s, "--workers", "1", "--latent", latent, "--shard", `${i}/3`)),
    );
    for (const r of rs) expect(r.status, r.stderr).toBe(0);
    const merged = path.join(dir, "L-merged");
    const m = await run("merge", ...shards, "-o", merged);
    expect(m.status, m.stderr).toBe(0);
    expect(sampleBytes(merged).equals(sampleBytes(fromFile))).toBe(true);
    // … and its sidecar, given the same flags (the sidecar records --seed even where the file's rows replace it).
    const whole = path.join(dir, "L-whole");
    expect((await sample(whole, "--workers", "1", "--latent", latent)).status).toBe(0);
    expect(
      fs
        .readFileSync(path.join(merged, "samples.json"))
        .equals(fs.readFileSync(path.join(whole, "samples.json"))),
    ).toBe(true);
    // Shards of another latent file do not merge with these (their configuration differs).
    const other = Float32Array.from(saved.data);
    other[3 * 8 + 2] += 0.5;
    const perturbed = path.join(dir, "Lp.npy");
    writeNpy(perturbed, "<f4", [7, 8], f32(other));
    const odd = path.join(dir, "Lshard-odd");
    expect((await sample(odd, "--workers", "1", "--latent", perturbed, "--shard", "1/3")).status).toBe(0);
    const bad = await run("merge", shards[0], odd, shards[2], "-o", path.join(dir, "L-merged2"));
    expect(bad.status).not.toBe(0);
    expect(lastLine(bad.stderr)).toMatch(/different configuration/);

    // Perturbing row 3 changes sample 3 and no other.
    const p = path.join(dir, "L-perturbed");
    expect((await sample(p, "--workers", "1", "--latent", perturbed)).status).toBe(0);
    const a = readNpyFloat32(path.join(drawn, "samples.npy")).data;
    const b = readNpyFloat32(path.join(p, "samples.npy")).data;
    for (let i = 0; i < 7; i++) {
      const same = a.subarray(i * 4096, (i + 1) * 4096).every((v, k) => v === b[i * 4096 + k]);
      expect(same, `sample ${i}`).toBe(i !== 3);
    }
  }, 180_000);

  it("a cGAN takes latent rows without the redshift and appends --z", async () => {
    const onnx = path.join(cgan, "gan.onnx");
    const latent = path.join(dir, "Lc.npy");
    const base = ["sample-gan", "--model", onnx, "--n", "2", "--workers", "1", "--z", "0.25"];
    const a = await run(...base, "--save-latent", latent, "-o", path.join(dir, "Lc1"));
    expect(a.status, a.stderr).toBe(0);
    expect(readNpyFloat32(latent).shape).toEqual([2, 8]);
    const b = await run(
      ...base.filter((x) => x !== "--n" && x !== "2"),
      "--latent",
      latent,
      "-o",
      path.join(dir, "Lc2"),
    );
    expect(b.status, b.stderr).toBe(0);
    expect(sampleBytes(path.join(dir, "Lc2")).equals(sampleBytes(path.join(dir, "Lc1")))).toBe(true);
    const out = await run(
      "sample-gan",
      "--model",
      onnx,
      "--latent",
      latent,
      "--z",
      "0.7",
      "-o",
      path.join(dir, "Lc3"),
    );
    expect(lastLine(out.stderr)).toMatch(/--z: 0.7 is outside the redshift range \[0, 0.5\]/);
    expect(fs.existsSync(path.join(dir, "Lc3"))).toBe(false);
  }, 60_000);

  it("refuses a bad latent file with one line naming it, leaving nothing under the output name", async () => {
    const good = latentBatch(1, 0, 0, 7, 8);
    const cases: { name: string; write: (f: string) => void; extra?: string[]; error: RegExp }[] = [
      {
        name: "dim.npy",
        write: (f) => writeNpy(f, "<f4", [7, 7], f32(good.subarray(0, 49))),
        error:
          /dim\.npy: latent array has shape \(7, 7\): the model's latent dimension is 8, expected \(n, 8\)/,
      },
      {
        name: "rows.npy",
        write: (f) => writeNpy(f, "<f4", [5, 8], f32(good.subarray(0, 40))),
        extra: ["--n", "7"],
        error: /rows\.npy: holds 5 latent vector\(s\) but --n asks for 7/,
      },
      {
        name: "flat.npy",
        write: (f) => writeNpy(f, "<f4", [56], f32(good)),
        error: /flat\.npy: latent array has shape \(56\), expected 2D \(n, 8\)/,
      },
      {
        name: "int.npy",
        write: (f) => writeNpy(f, "<i4", [7, 8], new Uint8Array(7 * 8 * 4)),
        error: /int\.npy: latent dtype '<i4' is not float32 or float64/,
      },
      {
        name: "nan.npy",
        write: (f) => {
          const v = Float32Array.from(good);
          v[2 * 8 + 5] = NaN;
          writeNpy(f, "<f4", [7, 8], f32(v));
        },
        error: /nan\.npy: non-finite latent component NaN at row 2, column 5/,
      },
      {
        name: "huge.npy",
        write: (f) => {
          const v = Float64Array.from(good);
          v[8 * 6] = 1e300;
          writeNpy(f, "<f8", [7, 8], new Uint8Array(v.buffer));
        },
        error:
          /huge\.npy: non-finite latent component Infinity at row 6, column 0 \(or a float64 beyond float32's range\)/,
      },
      {
        name: "short.npy",
        write: (f) => writeNpy(f, "<f4", [7, 8], f32(good.subarray(0, 50))),
        error: /short\.npy: truncated: .* needs/,
      },
      {
        name: "text.npy",
        write: (f) => fs.writeFileSync(f, "0.1 0.2\n"),
        error: /text\.npy: not a \.npy file/,
      },
      { name: "absent.npy", write: () => undefined, error: /absent\.npy: cannot open: ENOENT/ },
    ];
    for (const c of cases) {
      const f = path.join(dir, c.name);
      c.write(f);
      const out = path.join(dir, `Lbad-${c.name}`);
      const r = await run("sample-gan", "--model", model, "--latent", f, ...(c.extra ?? []), "-o", out);
      expect(r.status, c.name).not.toBe(0);
      expect(r.stderr.trim().split("\n"), c.name).toHaveLength(1);
      expect(lastLine(r.stderr), c.name).toMatch(c.error);
      expect(fs.existsSync(out), c.name).toBe(false);
    }
    const noN = await run("sample-gan", "--model", model, "-o", path.join(dir, "Lbad-noN"));
    expect(lastLine(noN.stderr)).toMatch(/--n: the number of sub-volumes is required/);
    const sharded = await sample(
      path.join(dir, "Lbad-sh"),
      "--save-latent",
      path.join(dir, "x.npy"),
      "--shard",
      "0/2",
    );
    expect(lastLine(sharded.stderr)).toMatch(/--save-latent: latents do not depend on sharding/);
    const exists = await sample(path.join(dir, "Lbad-ex"), "--save-latent", path.join(dir, "dim.npy"));
    expect(lastLine(exists.stderr)).toMatch(/dim\.npy: already exists/);
    expect(fs.existsSync(path.join(dir, "Lbad-ex"))).toBe(false);
  }, 120_000);
});

describe("sample-gan --stitch", () => {
  it("tiles n³ samples into one (nS)³ volume with its grid sidecar and the measured seams", async () => {
    const out = path.join(dir, "St");
    const r = await run(
      "--log",
      "json",
      ...[
        "sample-gan",
        "--model",
        model,
        "--stitch",
        "2",
        "--seed",
        "9",
        "--batch",
        "3",
        "--workers",
        "1",
        "-o",
        out,
      ],
    );
    expect(r.status, r.stderr).toBe(0);
    const samples = readNpyFloat32(path.join(out, "samples.npy"));
    expect(samples.shape).toEqual([8, 16, 16, 16]);
    const st = readNpyFloat32(path.join(out, "stitched.npy"));
    expect(st.shape).toEqual([32, 32, 32]);
    // Voxel (tx·16 + x, ty·16 + y, tz·16 + z) is sample (tx·2 + ty)·2 + tz's (x, y, z).
    for (let X = 0; X < 32; X += 3)
      for (let Y = 0; Y < 32; Y += 5)
        for (let Z = 0; Z < 32; Z++) {
          const i = (Math.floor(X / 16) * 2 + Math.floor(Y / 16)) * 2 + Math.floor(Z / 16);
          const v = ((X % 16) * 16 + (Y % 16)) * 16 + (Z % 16);
          expect(st.data[(X * 32 + Y) * 32 + Z]).toBe(samples.data[i * 4096 + v]);
        }
    const meta = readGridMetadata(path.join(out, "stitched.npy"));
    expect(meta).toMatchObject({
      kind: "density",
      shape: [32, 32, 32],
      boxSize: 128,
      redshift: 0,
      periodic: false,
      seed: 9,
    });
    const b = (meta?.provenance as { boundary: { treatment: string; artefacts: SeamStats } }).boundary;
    expect(b.treatment).toMatch(/plain tiling/);
    // The recorded seams are those of the written volume, recomputed here.
    const seams = tileSeamStats(st.data, 32, 16);
    expect(b.artefacts.ratio).toBeCloseTo(seams.ratio, 12);
    expect(b.artefacts.continuity).toBeCloseTo(seams.continuity, 12);
    expect(b.artefacts.pairsAcross).toBe(3 * 2 * 32 * 32);
    const summary = JSON.parse(lastLine(r.stderr)) as { event: string; seams: SeamStats; stitched: string };
    expect(summary.event).toBe("summary");
    expect(summary.stitched).toBe(path.join(out, "stitched.npy"));
    expect(summary.seams.ratio).toBeCloseTo(seams.ratio, 12);

    const wrongN = await sample(path.join(dir, "St2"), "--stitch", "2");
    expect(lastLine(wrongN.stderr)).toMatch(/--stitch: 2³ tiles need --n 8, got --n 7/);
    const sh = await run(
      "sample-gan",
      "--model",
      model,
      "--stitch",
      "2",
      "--shard",
      "0/2",
      "-o",
      path.join(dir, "St3"),
    );
    expect(lastLine(sh.stderr)).toMatch(/--stitch: needs all n³ samples in one run/);
    const seven = path.join(dir, "St7.npy");
    writeNpy(seven, "<f4", [7, 8], f32(latentBatch(2, 0, 0, 7, 8)));
    const lat = await run(
      "sample-gan",
      "--model",
      model,
      "--stitch",
      "2",
      "--latent",
      seven,
      "-o",
      path.join(dir, "St4"),
    );
    expect(lastLine(lat.stderr)).toMatch(/St7\.npy: holds 7 latent vector\(s\) but --stitch 2 asks for 8/);
    for (const d of ["St2", "St3", "St4"]) expect(fs.existsSync(path.join(dir, d))).toBe(false);
  }, 60_000);
});
