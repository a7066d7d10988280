/** Model cards: cards without the optional training fields stay valid; malformed optional fields are named. */
import { expect, test } from "vitest";
import { modelCardProblems } from "../../src/models/model-card.js";

const base = {
  format: "mocksmith-model-card",
  formatVersion: 1,
  name: "halo-painter",
  architecture: "halo-painter",
  inputName: "density",
  outputName: "halos",
  inputChannels: 1,
  outputChannels: 2,
  padding: 4,
  voxelSize: 4,
  inputNormalisation: "rho-over-mean",
  trained: false,
  sha256: "a".repeat(64),
};

const full = {
  ...base,
  trained: true,
  massBins: [
    { channel: 0, massBin: 0, minMass: 1e12, maxMass: 1e13 },
    { channel: 1, massBin: 1, minMass: 1e13, maxMass: null },
  ],
  weights: { file: "painter.weights.json", format: "mocksmith-painter-tfjs-weights", sha256: "b".repeat(64) },
  training: { method: "wgan-gp", data: [], steps: 3, seed: 1, losses: [{ step: 3, critic: 0.5 }] },
  validation: { validationMse: 0.1 },
  parity: { reference: "onnxruntime", side: 31, maxAbsDifference: 0, scale: 1, tolerance: 1e-5 },
};

test("a card without the optional fields (written before training existed) is valid", () => {
  expect(modelCardProblems(base)).toEqual([]);
});

test("a card with training provenance, mass bins, weights, validation and parity is valid", () => {
  expect(modelCardProblems(full)).toEqual([]);
});

test("malformed optional fields are each named", () => {
  const bad = {
    ...full,
    massBins: [full.massBins[0]],
    weights: { ...full.weights, sha256: "xyz" },
    training: { ...full.training, steps: "3" },
    validation: { validationMse: "low" },
    parity: { side: 31 },
  };
  const p = modelCardProblems(bad).join("\n");
  for (const k of ["massBins", "weights", "training", "validation", "parity"]) expect(p).toContain(`'${k}'`);
  expect(modelCardProblems(bad)).toHaveLength(5);
});

test("training.inputParticleSpacing, when present, must be a positive number of Mpc/h", () => {
  expect(modelCardProblems({ ...full, training: { ...full.training, inputParticleSpacing: 2 } })).toEqual([]);
  for (const v of [0, -1, "2"])
    expect(modelCardProblems({ ...full, training: { ...full.training, inputParticleSpacing: v } })).toEqual([
      "'training.inputParticleSpacing' must be a positive number (Mpc/h)",
    ]);
});
