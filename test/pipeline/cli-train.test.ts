/**
 * `mocksmith train painter` end to end through the compiled CLI on a tiny simulation set: a
 * 3-step run (1 warm-start + 2 WGAN-GP steps) exports a model that loadModel and `mocksmith
 * paint` accept, a run interrupted and resumed equals the uninterrupted one bit for bit, and bad
 * inputs give one clear line.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/io/model-file.js";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { buildPainterOnnx } from "../../src/models/painter/painter-onnx.js";
import { parsePainterWeightsJson } from "../../src/models/painter/painter-weights-json.js";
import { modelCardProblems } from "../../src/models/model-card.js";
import { runCliAsync, type CliResult } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-train-"));
// Asynchronous subprocesses: a long synchronous spawn starves vitest's worker RPC.
const run = runCliAsync;
const data = path.join(dir, "data");
let made: CliResult;
let trained: CliResult;
const makeData = () =>
  run(
    "nbody-set",
    ...["--sims", "2", "--grid", "16", "--box", "64", "--voxel", "4", "--steps", "2", "--min-members", "2"],
    ...["-o", data],
  );
const train = (out: string, ...extra: string[]) =>
  run(
    "train",
    "painter",
    ...["--data", data, "--patch", "31", "--seed", "3", "--warm-start-steps", "1"],
    ...["--checkpoint-every", "2", "--validation-sims", "1", "--validation-patches", "1", "--threads", "1"],
    ...["-o", out, ...extra],
  );
const full = path.join(dir, "full");
beforeAll(async () => {
  made = await makeData();
  trained = await train(full, "--steps", "2");
}, 600_000);
/** The last stderr line (a one-line error), without TensorFlow.js's banner. */
const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";

describe("mocksmith train painter", () => {
  it("exports a loadable model with a complete card and matching TF.js weights", async () => {
    expect(made.status, made.stderr).toBe(0);
    expect(trained.status, trained.stderr).toBe(0);
    const onnx = path.join(full, "painter.onnx");
    const { card } = await loadModel(onnx);
    expect(modelCardProblems(card)).toEqual([]);
    expect(card.trained).toBe(true);
    expect(card.padding).toBe(4);
    expect(card.voxelSize).toBe(4);
    expect(card.inputNormalisation).toBe("rho-over-mean");
    expect(card.massBins).toEqual([expect.objectContaining({ channel: 0, massBin: null })]);
    expect(card.training?.steps).toBe(2);
    // nbody-set's 16³ particles over 64 Mpc/h, from the simulations' sidecars.
    expect(card.training?.inputParticleSpacing).toBe(4);
    expect(card.training?.warmStartSteps).toBe(1);
    expect(card.training?.data.map((d) => [path.basename(d.directory), d.role])).toEqual([
      ["sim-000", "train"],
      ["sim-001", "validation"],
    ]);
    expect(card.training?.losses.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(card.parity?.maxAbsDifference).toBeLessThanOrEqual(1e-5 * Math.max(1, card.parity?.scale ?? 0));
    expect(card.parity?.scale).toBeGreaterThan(0);
    expect(Number.isFinite(card.validation?.validationMse)).toBe(true);
    // The TF.js weights file rebuilds the very ONNX graph exported.
    const text = fs.readFileSync(path.join(full, "painter.weights.json"), "utf8");
    const parsed = parsePainterWeightsJson(text, painterArchitecture(1));
    if (!("weights" in parsed)) throw new Error(parsed.problem);
    expect(Buffer.from(buildPainterOnnx(painterArchitecture(1), parsed.weights))).toEqual(
      fs.readFileSync(onnx),
    );
  });

  it("paints a 2LPT box with the trained model", async () => {
    const out = path.join(dir, "painted.npy");
    const r = await run(
      "paint",
      ...["--input", path.join(data, "sim-001", "lpt_delta_z0.000.npy")],
      ...["--model", path.join(full, "painter.onnx"), "--tile", "8", "--workers", "1", "-o", out],
    );
    expect(r.status, r.stderr).toBe(0);
    const painted = readNpyFloat32(out);
    expect(painted.shape).toEqual([16, 16, 16]);
    expect(painted.data.every((v) => v >= 0)).toBe(true);
  });

  it("resumed after an interruption (and on another thread count) equals the uninterrupted run bit for bit", async () => {
    const split = path.join(dir, "split");
    // The split run also uses two threads per convolution: results must not depend on it.
    const first = await train(split, "--steps", "1", "--threads", "2");
    expect(first.status, first.stderr).toBe(0);
    const again = await train(split, "--steps", "1");
    expect(again.status).not.toBe(0);
    expect(lastLine(again.stderr)).toMatch(/holds checkpoints of an earlier run: pass --resume/);
    const second = await train(split, "--steps", "2", "--resume", "--threads", "2");
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resumed from step-00000002\.ckpt/);
    for (const f of ["painter.onnx", "painter.weights.json", "painter.card.json"])
      expect(fs.readFileSync(path.join(split, f)), f).toEqual(fs.readFileSync(path.join(full, f)));
    const changed = await train(split, "--steps", "2", "--resume", "--warm-start-steps", "0");
    expect(lastLine(changed.stderr)).toMatch(/cannot resume: settings differ .*warmStartSteps/);
  }, 600_000); // four training runs: minutes on a loaded 2-core machine

  it("continues a warm-start-only run into WGAN-GP with --resume --steps K, equal to asking for K steps from the start", async () => {
    const warm = path.join(dir, "warm-only");
    const first = await train(warm, "--steps", "0");
    expect(first.status, first.stderr).toBe(0);
    const more = await train(warm, "--steps", "2", "--resume");
    expect(more.status, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/resumed from step-00000001\.ckpt/);
    // The warm-only checkpoint has no critic: it starts from its seeded initial weights, as in
    // the uninterrupted run. (The cards differ only in the warm-only run's history entries, which
    // lack the critic's validation distance.)
    for (const f of ["painter.onnx", "painter.weights.json"])
      expect(fs.readFileSync(path.join(warm, f)), f).toEqual(fs.readFileSync(path.join(full, f)));
  }, 600_000);

  it("fine-tunes from a trained painter (--init) with the band-power term, and refuses bad settings", async () => {
    const init = path.join(full, "painter.onnx");
    const weightsText = fs.readFileSync(path.join(full, "painter.weights.json"), "utf8");
    const arch = painterArchitecture(1);
    const parse = (t: string) => {
      const r = parsePainterWeightsJson(t, arch);
      if ("problem" in r) throw new Error(r.problem);
      return r.weights;
    };
    // A learning rate of 1e-12 leaves the weights where they started: the trained model's, not seeded ones.
    const still = path.join(dir, "fine-still");
    const r = await train(
      still,
      "--steps",
      "0",
      "--init",
      init,
      "--warm-start-lr",
      "1e-12",
      "--power-weight",
      "1",
      "--power-bands",
      "0,0.3,0.6",
    );
    expect(r.status, r.stderr).toBe(0);
    const before = parse(weightsText);
    const after = parse(fs.readFileSync(path.join(still, "painter.weights.json"), "utf8"));
    const { card } = await loadModel(path.join(still, "painter.onnx"));
    // …except the output layer, which the mean calibration scales by its factor.
    const output = arch.head[arch.head.length - 1].name;
    const f = card.training?.meanCalibration?.factors[0] ?? NaN;
    for (const [name, w] of before) {
      const a = after.get(name);
      expect(a, name).toBeDefined();
      const scale = name === output ? f : 1;
      w.weight.forEach((v, i) =>
        expect(Math.abs((a?.weight[i] ?? NaN) - scale * v)).toBeLessThanOrEqual(
          1e-7 * Math.max(1, Math.abs(v)),
        ),
      );
    }
    expect(card.training?.powerWeight).toBe(1);
    expect(card.training?.powerBands).toEqual([0, 0.3, 0.6]);
    expect(card.training?.initialWeights?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The band-power term leaves the mean free; the export calibrates it on the training set.
    const cal = card.training?.meanCalibration;
    expect(cal?.factors).toHaveLength(1);
    expect(cal?.factors[0]).toBeCloseTo((cal?.trueMean[0] ?? NaN) / (cal?.paintedMean[0] ?? NaN), 6);
    expect(card.description).toMatch(/fine-tuned .* band power/);
    expect(card.training?.losses.some((e) => typeof e.power === "number" && Number.isFinite(e.power))).toBe(
      true,
    );

    const noWarm = await train(
      path.join(dir, "o-pw"),
      "--steps",
      "1",
      "--warm-start-steps",
      "0",
      "--power-weight",
      "1",
    );
    expect(noWarm.status).not.toBe(0);
    expect(lastLine(noWarm.stderr)).toMatch(/--power-weight: .*needs --warm-start-steps/);
    const emptyBand = await train(
      path.join(dir, "o-pb"),
      "--steps",
      "0",
      "--power-weight",
      "1",
      "--power-bands",
      "0,0.01",
    );
    expect(emptyBand.status).not.toBe(0);
    expect(lastLine(emptyBand.stderr)).toMatch(/--power-bands: .*holds no mode/);
    const wrongVoxel = path.join(dir, "wrong-voxel");
    fs.mkdirSync(wrongVoxel);
    fs.copyFileSync(init, path.join(wrongVoxel, "painter.onnx"));
    fs.copyFileSync(path.join(full, "painter.weights.json"), path.join(wrongVoxel, "painter.weights.json"));
    const c = JSON.parse(fs.readFileSync(path.join(full, "painter.card.json"), "utf8")) as Record<
      string,
      unknown
    >;
    fs.writeFileSync(path.join(wrongVoxel, "painter.card.json"), JSON.stringify({ ...c, voxelSize: 2 }));
    const wv = await train(
      path.join(dir, "o-wv"),
      "--steps",
      "0",
      "--init",
      path.join(wrongVoxel, "painter.onnx"),
    );
    expect(wv.status).not.toBe(0);
    expect(lastLine(wv.stderr)).toMatch(
      /painter\.card\.json: voxel size 2 Mpc\/h differs from the training set's 4 Mpc\/h/,
    );
    for (const o of ["o-pw", "o-pb", "o-wv"])
      expect(fs.existsSync(path.join(dir, o, "painter.onnx"))).toBe(false);
  }, 600_000);

  it("gives one clear error for no simulations, mixed voxel sizes and a patch too small", async () => {
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    const none = await run("train", "painter", "--data", empty, "--steps", "1", "-o", path.join(dir, "o1"));
    expect(none.status).not.toBe(0);
    expect(lastLine(none.stderr)).toMatch(/empty: no simulations found/);

    // A third simulation at 2 Mpc/h voxels beside the 4 Mpc/h ones.
    const fine = path.join(dir, "fine");
    const f = await run(
      "nbody-set",
      ...[
        "--sims",
        "1",
        "--grid",
        "16",
        "--box",
        "64",
        "--voxel",
        "2",
        "--steps",
        "1",
        "--min-members",
        "2",
        "-o",
        fine,
      ],
    );
    expect(f.status, f.stderr).toBe(0);
    const mixed = path.join(dir, "mixed");
    fs.mkdirSync(mixed);
    fs.cpSync(path.join(data, "sim-000"), path.join(mixed, "sim-000"), { recursive: true });
    fs.cpSync(path.join(fine, "sim-000"), path.join(mixed, "sim-001"), { recursive: true });
    const m = await run(
      "train",
      "painter",
      "--data",
      mixed,
      "--steps",
      "1",
      "--patch",
      "31",
      "-o",
      path.join(dir, "o2"),
    );
    expect(m.status).not.toBe(0);
    expect(lastLine(m.stderr)).toMatch(/sim-001: voxel size 2 Mpc\/h .* differs from 4 Mpc\/h/);

    const small = await run(
      "train",
      "painter",
      "--data",
      data,
      "--steps",
      "1",
      "--patch",
      "8",
      "-o",
      path.join(dir, "o3"),
    );
    expect(lastLine(small.stderr)).toMatch(/--patch: 8 leaves no output: .*must be ≥ 9/);
    const critic = await run(
      "train",
      "painter",
      "--data",
      data,
      "--steps",
      "1",
      "--patch",
      "20",
      "-o",
      path.join(dir, "o4"),
    );
    expect(lastLine(critic.stderr)).toMatch(/--patch: 20 .* needs --patch ≥ 31/);
    for (const r of [none, m, small, critic]) expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 600_000); // a simulation and three refused runs
});
