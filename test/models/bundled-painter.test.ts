/**
 * The bundled painter's card (models/painter/default/) states held-out scores written by
 * `validate painter --record-in-card` on simulations never used in training (README: The bundled
 * halo painter). Guard against shipping a model that fails them: the three acceptance checks of
 * issue 6 pass with Poisson shot noise subtracted, and the painted mean count is the true one.
 * The mean is not seen by T, r_c or s (they compare overdensities); over 2 × 64³ voxels with
 * ~0.14 haloes each the Poisson error of the true mean is 0.4 %, so 3 % is a generous bound that
 * a miscalibrated output layer (17 % low before mean calibration) fails.
 */
import fs from "node:fs";
import { expect, test } from "vitest";
import { defaultPainterPath } from "../../src/models/default-model.js";
import { modelCardProblems, type ModelCard } from "../../src/models/model-card.js";

const card = JSON.parse(fs.readFileSync(defaultPainterPath().replace(/\.onnx$/, ".card.json"), "utf8")) as ModelCard;

test("the bundled painter's card is valid and records held-out scores on ≥ (256 Mpc/h)³", () => {
  expect(modelCardProblems(card)).toEqual([]);
  const v = card.validation ?? {};
  // Volume in voxels of the card's size: (256 Mpc/h)³ at 4 Mpc/h is 64³.
  expect(v["heldout.poisson.volume"] * card.voxelSize ** 3).toBeGreaterThanOrEqual(256 ** 3);
});

test.each(["correlation", "transfer", "stochasticity"])("held-out check %s passes (Poisson shot noise subtracted)", (name) => {
  const v = card.validation ?? {};
  expect(v[`heldout.poisson.ch0.${name}.passed`]).toBe(1);
});

test("the held-out painted mean count is the true one within 3 %", () => {
  const v = card.validation ?? {};
  const painted = v["heldout.poisson.ch0.meanCount.painted"];
  const truth = v["heldout.poisson.ch0.meanCount.true"];
  expect(truth).toBeGreaterThan(0);
  expect(Math.abs(painted / truth - 1)).toBeLessThanOrEqual(0.03);
});
