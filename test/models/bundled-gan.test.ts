/**
 * The bundled GAN (models/gan/default/) as shipped: a reduced CPU-trained model whose card must
 * say so and state its held-out metrics (issue 8, item 4), written by `validate gan
 * --record-in-card` on simulations used neither in training nor in selection. This guards the
 * artifact and its honesty, not the physics (the checks themselves are tested on synthetic fields
 * in test/stages/gan-validation.test.ts): the card loads (sha256, graph and card agree), every
 * recorded verdict agrees with its recorded value and bound, the held-out set is large enough for
 * the checks to mean something (its jackknife noise well inside their tolerances), the shipped
 * card records a pass of every check, and `sample-gan --model default` warns when a card records
 * a failure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadGanModel } from "../../src/io/gan-model-file.js";
import { defaultGanPath } from "../../src/models/default-model.js";
import { ganCardProblems } from "../../src/models/gan/gan-card.js";
import { runCliAsync } from "../cli-process.js";

describe("the bundled GAN", () => {
  it("loads, is marked trained, and states its reduced size", async () => {
    const model = await loadGanModel(defaultGanPath());
    const card = model.card;
    expect(ganCardProblems(card)).toEqual([]);
    expect(card.trained).toBe(true);
    if (card.architecture.preset !== "paper") expect(card.description).toMatch(/reduced from the paper's/);
    expect(card.densityCap).toBeGreaterThan(1);
  });

  it("records held-out metrics whose verdicts agree with their values and bounds", async () => {
    const v = (await loadGanModel(defaultGanPath())).card.validation ?? {};
    // The held-out set must pin down what the checks compare with: cubes of one simulation share
    // its large-scale modes, so the error of Var P is set by the number of simulations, not of
    // cubes (2 simulations: N-body itself passes check (c) 16 % of the time). The jackknife error
    // over the simulations must be well inside the checks' tolerances (25 %, 10 %).
    expect(v["heldout.noise.simulations"]).toBeGreaterThanOrEqual(10);
    expect(v["heldout.noise.powerVariance"]).toBeLessThan(0.25 / 1.5);
    expect(v["heldout.noise.meanPower"]).toBeLessThan(0.1 / 3);
    expect(v["heldout.samples"]).toBeGreaterThanOrEqual(v["heldout.subVolumes"]);
    // Measured on samples as sample-gan draws them by default (randomly oriented).
    expect(v["heldout.randomOrientation"]).toBe(1);
    for (const c of ["meanPower", "powerVariance", "independence"]) {
      const value = v[`heldout.${c}.value`];
      const bound = v[`heldout.${c}.bound`];
      expect(Number.isFinite(value) && Number.isFinite(bound)).toBe(true);
      expect(v[`heldout.${c}.passed`]).toBe(value <= bound ? 1 : 0);
    }
    expect([0, 1]).toContain(v["heldout.pdf.passed"]);
    const all = ["meanPower", "pdf", "powerVariance", "independence"].every((c) => v[`heldout.${c}.passed`] === 1);
    expect(v["heldout.passed"]).toBe(all ? 1 : 0);
  });

  it("passes the held-out acceptance checks (issue 8): a card recording a failure is not shipped", async () => {
    const v = (await loadGanModel(defaultGanPath())).card.validation ?? {};
    for (const c of ["meanPower", "pdf", "powerVariance", "independence"]) expect(v[`heldout.${c}.passed`], c).toBe(1);
    expect(v["heldout.passed"]).toBe(1);
    // Measured as issue 8 states them: k ≤ 1 h/Mpc for P̄ and Var P, the PDF from ρ/ρ̄ = 0.1.
    expect(v["heldout.meanPower.kMax"]).toBeGreaterThanOrEqual(1);
    expect(v["heldout.powerVariance.kMax"]).toBeGreaterThanOrEqual(1);
    expect(v["heldout.pdf.rhoMin"]).toBeLessThanOrEqual(0.1);
    expect(v["heldout.meanPower.bound"]).toBeLessThanOrEqual(0.1);
    expect(v["heldout.powerVariance.bound"]).toBeLessThanOrEqual(0.25);
  });

  it("sample-gan --model default samples, warning when the card records failed checks", async () => {
    const card = (await loadGanModel(defaultGanPath())).card;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-bundled-gan-"));
    try {
      const r = await runCliAsync("sample-gan", "--model", "default", "--n", "4", "--workers", "1", "-o", path.join(out, "s"));
      expect(r.status, r.stderr).toBe(0);
      if (card.validation?.["heldout.passed"] === 0) expect(r.stderr).toMatch(/warning: .* failed its held-out acceptance checks/);
      else expect(r.stderr).not.toMatch(/warning/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
