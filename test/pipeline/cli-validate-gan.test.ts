/**
 * `mocksmith validate gan` through the compiled CLI: an untrained small GAN (filters 8, 4, 1 →
 * 16³ voxels of 4 Mpc/h) against held-out density grids written directly in the layout of
 * `mocksmith nbody-set` (sim-NNN/manifest.json, nbody_delta_z0.000.npy + sidecar; 32³ voxels, so
 * 8 non-overlapping sub-volumes each). The JSON, PNG plots and index.html are written, samples
 * are those of `sample-gan` with the same seed, scores go into the card on request, and bad
 * inputs give one clear line and no output directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGanModel, ganWeightsPathFor } from "../../src/io/gan-model-file.js";
import { cardPathFor } from "../../src/io/model-file.js";
import { ganArchitecture } from "../../src/models/gan/architecture.js";
import { runCliAsync } from "../cli-process.js";
import { writeDensitySimulation, writeUntrainedGan } from "../gan-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-validate-gan-"));
const modelDir = path.join(dir, "model");
const onnx = path.join(modelDir, "gan.onnx");
const heldout = path.join(dir, "heldout");
/** The error line: the last one, or the one before commander's usage hint. */
const lastLine = (s: string) =>
  s
    .trim()
    .split("\n")
    .filter((l) => l !== "(run with --help for usage)")
    .at(-1) ?? "";

beforeAll(async () => {
  await tf.setBackend("cpu");
  fs.mkdirSync(modelDir);
  const arch = ganArchitecture({ filters: [8, 4, 1], latentDim: 6, conditional: false });
  await writeUntrainedGan(tf, arch, onnx, 4, "tiny-gan");
  writeDensitySimulation(heldout, "sim-000", 32, 128, 11);
  writeDensitySimulation(heldout, "sim-001", 32, 128, 12);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const validate = (out: string, ...extra: string[]) =>
  runCliAsync(
    "validate",
    "gan",
    ...["--model", modelDir, "--data", heldout, "--n", "6", "--seed", "3", "--workers", "1"],
    ...["--threads", "1", "-o", out, ...extra],
  );

interface CheckJson {
  description: string;
  variable: string;
  bins: number;
  passed: boolean | null;
  worst: { at: number; value: number; bound: number } | null;
}

interface GanValidationJson {
  format: string;
  samples: number;
  subVolumes: number;
  side: number;
  boxSize: number;
  passed: boolean;
  data: { simulations: { cubes: number }[]; subVolumes: number };
  sampling: { seed: number; kept: string | null; orientation: string };
  model: { sha256: string };
  pdf: { centre: number[]; nbody: { p16: number[]; p84: number[] }; gan: { mean: number[] } };
  power: {
    k: number[];
    ratio: (number | null)[];
    covariance: { nbody: number[][]; gan: number[][] };
    correlation: { nbody: number[][]; gan: number[][] };
    variance: { ratio: (number | null)[] };
    heldOutNoise: { simulations: number; lnMean: number[]; lnVariance: number[] } | null;
  };
  bispectrum: { equilateral: unknown[]; isosceles: unknown[] } | null;
  cross: { ganGan: { pairs: number; mean: number[] }; nbodyGan: { pairs: number; mean: number[] } };
  checks: { meanPower: CheckJson; pdf: CheckJson; powerVariance: CheckJson; independence: CheckJson };
  conventions: Record<string, string>;
  environment?: Record<
    "gan" | "nbody",
    { slope: (number | null)[]; residualSd: (number | null)[]; sdLnDensity: number }
  >;
}

describe("mocksmith validate gan", () => {
  const first = path.join(dir, "v1");
  let doc: GanValidationJson;

  it("writes validation.json with the four checks, PNG plots and index.html; scores into the card", async () => {
    const out = first;
    const r = await validate(out, "--keep-samples", "--record-in-card");
    expect(r.status, r.stderr).toBe(0);
    expect(lastLine(r.stderr)).toMatch(
      /validated gan\.onnx: 6 samples against 16 held-out sub-volumes of 16³: \(a\) mean P\(k\) (pass|FAIL), \(b\) PDF (pass|FAIL), \(c\) P\(k\) variance (pass|FAIL), \(d\) independence (pass|FAIL); wrote .*validation\.json, index\.html and 9 images and the scores into .*gan\.card\.json/,
    );
    doc = JSON.parse(fs.readFileSync(path.join(out, "validation.json"), "utf8")) as GanValidationJson;
    expect(doc.format).toBe("mocksmith-gan-validation");
    expect(doc).toMatchObject({ samples: 6, subVolumes: 16, side: 16, boxSize: 64 });
    expect(doc.data.simulations.map((s) => s.cubes)).toEqual([8, 8]);
    for (const c of Object.values(doc.checks)) {
      expect(typeof c.passed).toBe("boolean");
      expect(c.bins).toBeGreaterThan(0);
      expect(c.worst).not.toBeNull();
      expect(Number.isFinite(c.worst!.bound)).toBe(true);
    }
    // k ≤ 1 h/Mpc on 16³ of 64 Mpc/h: shells with k ≤ 1 (k_F = 0.098).
    expect(doc.checks.meanPower.bins).toBe(doc.power.k.filter((k) => k <= 1).length);
    expect(doc.checks.meanPower.variable).toBe("k [h/Mpc]");
    expect(doc.checks.pdf.variable).toBe("ρ/ρ̄");
    expect(doc.passed).toBe(
      doc.checks.meanPower.passed &&
        doc.checks.pdf.passed &&
        doc.checks.powerVariance.passed &&
        doc.checks.independence.passed,
    );
    const K = doc.power.k.length;
    expect(doc.power.covariance.nbody).toHaveLength(K);
    expect(doc.power.correlation.gan[0]).toHaveLength(K);
    expect(doc.bispectrum!.equilateral.length).toBeGreaterThan(0);
    expect(doc.bispectrum!.isosceles).toHaveLength(5);
    expect(doc.cross.ganGan.pairs).toBe(3);
    expect(doc.cross.nbodyGan.pairs).toBe(6);
    for (const f of [
      "pdf",
      "power",
      "power-ratio",
      "variance-ratio",
      "cross-correlation",
      "bispectrum-equilateral",
      "bispectrum-angle",
      "power-correlation-nbody",
      "power-correlation-gan",
    ]) {
      const png = fs.readFileSync(path.join(out, "plots", `${f}.png`));
      expect(png.subarray(1, 4).toString(), f).toBe("PNG");
    }
    const html = fs.readFileSync(path.join(out, "index.html"), "utf8");
    expect(html).toMatch(/\(a\) mean P\(k\)/);
    expect(html).toMatch(/\(d\) independent samples/);
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/plots\/power-correlation-gan\.png/);
    // The power–density relation beside the checks: one value per shell for each side.
    for (const side of ["gan", "nbody"] as const) {
      expect(doc.environment?.[side].slope).toHaveLength(doc.power.k.length);
      expect(doc.environment?.[side].residualSd).toHaveLength(doc.power.k.length);
      expect(doc.environment?.[side].sdLnDensity).toBeGreaterThan(0);
    }
    expect(r.stderr).toMatch(
      /power–density relation \(ln P_b on ln m per cube, k ≤ 1 h\/Mpc.*GAN slope .*N-body slope /,
    );
    expect(html).toMatch(/power–density relation/);
    // Two held-out simulations: too few for the jackknife of the held-out noise.
    expect(doc.power.heldOutNoise).toBeNull();
    expect(r.stderr).toMatch(
      /held-out noise: not estimated \(a jackknife needs sub-volumes from ≥ 4 simulations\)/,
    );

    // Scores in the card, which still loads.
    const { card } = await loadGanModel(onnx);
    const v = card.validation!;
    expect(v["heldout.samples"]).toBe(6);
    expect(v["heldout.randomOrientation"]).toBe(1);
    expect(v["heldout.subVolumes"]).toBe(16);
    for (const name of ["meanPower", "pdf", "powerVariance", "independence"] as const) {
      const c = doc.checks[name];
      expect(v[`heldout.${name}.passed`]).toBe(c.passed ? 1 : 0);
      expect(v[`heldout.${name}.value`]).toBe(c.worst!.value);
      expect(v[`heldout.${name}.bound`]).toBe(c.worst!.bound);
      expect(v[`heldout.${name}.at`]).toBe(c.worst!.at);
    }
  }, 60_000);

  it("reports the held-out noise given four or more simulations, and runs the N-body null test", async () => {
    const four = path.join(dir, "heldout-4");
    for (let i = 0; i < 4; i++) writeDensitySimulation(four, `sim-00${i}`, 32, 128, 21 + i);
    const out = path.join(dir, "v-noise");
    const r = await runCliAsync(
      "validate",
      "gan",
      ...["--model", modelDir, "--data", four, "--n", "4", "--workers", "1", "--threads", "1"],
      ...["--no-bispectrum", "-o", out],
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /held-out noise \(delete-one-simulation jackknife over 4 simulations, k ≤ 1 h\/Mpc\): P̄ ±[\d.]+–[\d.]+ %, Var P ±[\d.]+–[\d.]+ %/,
    );
    // The GAN side's own sampling noise: 4 samples, one jackknife group each.
    expect(r.stderr).toMatch(
      /GAN sampling noise \(jackknife over 4 groups of its 4 samples\): P̄ ±[\d.]+–[\d.]+ %/,
    );
    const v = JSON.parse(fs.readFileSync(path.join(out, "validation.json"), "utf8")) as GanValidationJson;
    const noise = v.power.heldOutNoise!;
    expect(noise.simulations).toBe(4);
    expect(noise.lnMean).toHaveLength(v.power.k.length);
    for (const x of [...noise.lnMean, ...noise.lnVariance]) expect(x).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(out, "index.html"), "utf8")).toMatch(/held-out noise \(delete-one/);

    // The null test: the two other simulations' sub-volumes in place of GAN samples.
    const nullOut = path.join(dir, "v-null");
    const nt = await runCliAsync(
      "validate",
      "gan",
      ...["--model", modelDir, "--data", four, "--null-data", heldout, "--threads", "1"],
      ...["--no-bispectrum", "-o", nullOut],
    );
    expect(nt.status, nt.stderr).toBe(0);
    expect(lastLine(nt.stderr)).toMatch(
      /validated null test \(16 N-body sub-volumes of --null-data at gan\.onnx's side\) against 32 held-out sub-volumes of 16³: \(a\) mean P\(k\) (pass|FAIL)/,
    );
    const nv = JSON.parse(fs.readFileSync(path.join(nullOut, "validation.json"), "utf8")) as {
      samples: number;
      sampling: { nullTest: string; simulations: unknown[] };
    };
    expect(nv.samples).toBe(16);
    expect(nv.sampling.simulations).toHaveLength(2);
    expect(nv.sampling.nullTest).toMatch(/faithful emulator/);
    expect(fs.readFileSync(path.join(nullOut, "index.html"), "utf8")).toMatch(/null test/);
    const clash = await runCliAsync(
      "validate",
      "gan",
      ...["--model", modelDir, "--data", four, "--null-data", heldout, "--record-in-card"],
      ...["-o", path.join(dir, "v-null-card")],
    );
    expect(clash.status).not.toBe(0);
    expect(lastLine(clash.stderr)).toMatch(/--record-in-card: does not apply with --null-data/);
    expect(fs.existsSync(path.join(dir, "v-null-card"))).toBe(false);
  }, 90_000);

  it("samples as sample-gan's with the same seed; deterministic per seed", async () => {
    const out = first;
    // The samples are sample-gan's for the same seed, bit for bit (both randomly oriented).
    expect(doc.sampling.kept).toBe("samples/samples.npy");
    expect(doc.sampling.orientation).toBe("random");
    const s = path.join(dir, "s1");
    const again = path.join(dir, "v2");
    const other = path.join(dir, "v3");
    const [sg, r2, r3] = await Promise.all([
      runCliAsync("sample-gan", "--model", onnx, "--n", "6", "--seed", "3", "--workers", "2", "-o", s),
      validate(again),
      validate(other, "--seed", "4", "--no-bispectrum"),
    ]);
    expect(sg.status, sg.stderr).toBe(0);
    expect(
      fs
        .readFileSync(path.join(s, "samples.npy"))
        .equals(fs.readFileSync(path.join(out, "samples", "samples.npy"))),
    ).toBe(true);

    // Deterministic per seed: a second run writes the same JSON; another seed different samples.
    expect(r2.status, r2.stderr).toBe(0);
    const doc2 = JSON.parse(
      fs.readFileSync(path.join(again, "validation.json"), "utf8"),
    ) as GanValidationJson;
    expect({ ...doc2, sampling: null }).toEqual({ ...doc, sampling: null });
    expect(fs.existsSync(path.join(again, "samples"))).toBe(false);
    expect(r3.status, r3.stderr).toBe(0);
    const doc3 = JSON.parse(
      fs.readFileSync(path.join(other, "validation.json"), "utf8"),
    ) as GanValidationJson;
    expect(doc3.bispectrum).toBeNull();
    expect(doc3.power.ratio).not.toEqual(doc.power.ratio);
    expect(doc3.pdf.nbody).toEqual(doc.pdf.nbody);
  }, 60_000);

  const refuses = async (cases: { args: string[]; message: RegExp }[], tag: string) => {
    const results = await Promise.all(
      cases.map((c, i) =>
        runCliAsync(
          "validate",
          "gan",
          ...["--model", modelDir, "--workers", "1", "-o", path.join(dir, `${tag}${i}`), ...c.args],
        ),
      ),
    );
    results.forEach((r, i) => {
      expect(r.status, cases[i].args.join(" ")).not.toBe(0);
      expect(lastLine(r.stderr)).toMatch(cases[i].message);
      expect(fs.existsSync(path.join(dir, `${tag}${i}`))).toBe(false);
    });
    // No temporary directories left behind.
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  };

  it("refuses bad held-out data with one line naming the directory or file, leaving no output", async () => {
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    const coarse = path.join(dir, "coarse");
    const coarseFile = writeDensitySimulation(coarse, "sim-000", 32, 64, 21);
    const small = path.join(dir, "small");
    writeDensitySimulation(small, "sim-000", 16, 64, 22);
    await refuses(
      [
        {
          args: ["--data", path.join(dir, "nowhere")],
          message: /nowhere: held-out data directory does not exist/,
        },
        { args: ["--data", empty], message: /empty: no simulations found/ },
        {
          args: ["--data", coarse],
          message: new RegExp(
            `${coarseFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: voxel size 2 Mpc/h .* differs from the GAN's 4 Mpc/h`,
          ),
        },
        {
          args: ["--data", small],
          message: /--data: 1 held-out sub-volume\(s\) of 16³ voxels; .* at least 2/,
        },
      ],
      "bad-data",
    );
  }, 60_000);

  it("refuses bad flags, a missing model and an existing output with one line", async () => {
    await refuses(
      [
        { args: ["--data", heldout, "--n", "1"], message: /option '--n <N>' argument '1' is invalid/ },
        { args: ["--data", heldout, "--n", "x"], message: /option '--n <N>' argument 'x' is invalid/ },
        { args: ["--data", heldout, "--model", path.join(dir, "none.onnx")], message: /none\.onnx/ },
      ],
      "bad-flag",
    );
    const taken = path.join(dir, "taken");
    fs.mkdirSync(taken);
    const exists = await validate(taken);
    expect(exists.status).not.toBe(0);
    expect(lastLine(exists.stderr)).toMatch(/taken: already exists; name a new output directory/);
    expect(fs.readdirSync(taken)).toEqual([]);
  }, 60_000);

  it("accepts the model as its .onnx or its card", async () => {
    const byCard = await runCliAsync(
      "validate",
      "gan",
      ...["--model", cardPathFor(onnx), "--data", heldout, "--n", "2", "--no-bispectrum", "--workers", "1"],
      ...["-o", path.join(dir, "c1")],
    );
    expect(byCard.status, byCard.stderr).toBe(0);
    expect(fs.existsSync(ganWeightsPathFor(onnx))).toBe(true);
  }, 60_000);
});
