/**
 * `mocksmith train gan` and `mocksmith sample-gan` end to end through the compiled CLI on a tiny
 * simulation set (16³ grids) with a small custom generator (filters 8, 4, 1 → 16³): training
 * exports a model loadGanModel accepts, a run resumed from a checkpoint equals the uninterrupted
 * one bit for bit, sampling is identical for any worker count and for shards merged by
 * `mocksmith merge`, samples are the ONNX generator's output inverted with κ, and bad inputs give
 * one clear line.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { loadGanModel } from "../../src/io/gan-model-file.js";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { unscaleDensity } from "../../src/models/gan/data-scaling.js";
import { latentBatch } from "../../src/models/gan/latent.js";
import type { GanCard } from "../../src/models/gan/gan-card.js";

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

  it("refuses bad settings with one line", async () => {
    const r1 = await train(path.join(dir, "x1"), "--steps", "1", "--redshift", "0,1");
    expect(lastLine(r1.stderr)).toMatch(/--redshift: 2 redshifts need --conditional/);
    const r2 = await train(path.join(dir, "x2"), "--steps", "1", "--filters", "8,4,2,1");
    expect(lastLine(r2.stderr)).toMatch(/grid side 16 is smaller than the generator's output side 32/);
    const r3 = await train(path.join(dir, "x3"), "--steps", "1", "--redshift", "1");
    expect(lastLine(r3.stderr)).toMatch(/nbody_delta_z1\.000\.npy: missing/);
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
    });
    // Sample 5 by hand: its own latent, alone in a batch of one.
    const card = JSON.parse(fs.readFileSync(model.replace(/\.onnx$/, ".card.json"), "utf8")) as GanCard;
    const z = latentBatch(9, 0, 5, 1, 8, card.latentPrior);
    const session = await ort.InferenceSession.create(model);
    const c = (await session.run({ latent: new ort.Tensor("float32", z, [1, 8, 1, 1, 1]) })).scaled_density
      .data as Float32Array;
    await session.release();
    const mine = rho.subarray(5 * 4096, 6 * 4096);
    for (let i = 0; i < 4096; i += 97)
      expect(Math.abs(mine[i] - unscaleDensity(c[i], 45))).toBeLessThanOrEqual(1e-5 * Math.max(1, mine[i]));

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
  });
});
