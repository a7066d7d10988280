/** The painter's fit to a box (voxel size, 2LPT particle spacing) and the mass bins of its channels. */
import { describe, expect, it } from "vitest";
import type { ModelCard } from "../../src/models/model-card.js";
import { ConfigError } from "../../src/pipeline/config-schema.js";
import {
  checkPainterCompatibility,
  PAINTED_MASS_CAP,
  paintedMassEdges,
} from "../../src/pipeline/painted-catalog.js";

const keys = {
  model: "halos.model",
  voxel: "box.voxel",
  particles: "box.particles",
  massBins: "halos.massBins",
};
const card = (extra: Partial<ModelCard> = {}): ModelCard => ({
  format: "mocksmith-model-card",
  formatVersion: 1,
  name: "p",
  architecture: "a",
  inputName: "in",
  outputName: "out",
  inputChannels: 1,
  outputChannels: 2,
  padding: 4,
  voxelSize: 4,
  inputNormalisation: "rho-over-mean",
  trained: true,
  sha256: "0".repeat(64),
  ...extra,
});
const training = (spacing: number): ModelCard["training"] => ({
  method: "wgan-gp",
  data: [],
  redshift: 0,
  steps: 1,
  warmStartSteps: 0,
  seed: 1,
  patch: 31,
  batch: 1,
  optimiser: {},
  engine: "x",
  inputParticleSpacing: spacing,
  losses: [],
});

describe("checkPainterCompatibility", () => {
  const box = { size: 256, particles: 128, voxels: 64 };
  it("accepts a box at the card's voxel size and particle spacing (within 1 %)", () => {
    expect(() => checkPainterCompatibility(card({ training: training(2) }), "m", box, keys)).not.toThrow();
    expect(() =>
      checkPainterCompatibility(card({ training: training(2.019) }), "m", box, keys),
    ).not.toThrow();
    // Cards that do not record the spacing are not checked for it.
    expect(() => checkPainterCompatibility(card(), "m", { ...box, particles: 256 }, keys)).not.toThrow();
  });
  it("refuses another voxel size or particle spacing, naming the key", () => {
    expect(() => checkPainterCompatibility(card(), "m", { ...box, voxels: 128 }, keys)).toThrow(
      /box\.voxel: 2 Mpc\/h differs from the 4 Mpc\/h/,
    );
    const twice = () =>
      checkPainterCompatibility(card({ training: training(2) }), "m", { ...box, particles: 256 }, keys);
    expect(twice).toThrow(ConfigError);
    expect(twice).toThrow(
      /box\.particles: 256 particles over 256 Mpc\/h are 1 Mpc\/h apart.*use 128 particles/,
    );
    expect(() => checkPainterCompatibility(card({ training: training(2.03) }), "m", box, keys)).toThrow(
      /box\.particles/,
    );
  });
});

describe("paintedMassEdges", () => {
  it("takes the card's bins, capping an unbounded top bin", () => {
    const bins = [
      { channel: 0, massBin: 0, minMass: 1e12, maxMass: 1e13 },
      { channel: 1, massBin: 1, minMass: 1e13, maxMass: null },
    ];
    expect(paintedMassEdges(card({ massBins: bins }), "m", [1e13, 1e15, 2], keys)).toEqual([
      1e12,
      1e13,
      PAINTED_MASS_CAP,
    ]);
  });
  it("falls back to the given bins for a card without them, if the channel count agrees", () => {
    expect(paintedMassEdges(card(), "m", [1e12, 1e14, 2], keys)).toEqual([1e12, 1e13, 1e14]);
    expect(() => paintedMassEdges(card(), "m", [1e12, 1e14, 3], keys)).toThrow(
      /halos\.massBins: 3 bins, but the model m paints 2/,
    );
    expect(() => paintedMassEdges(card(), "m", undefined, keys)).toThrow(/halos\.massBins: the card of m/);
  });
  it("refuses bins without a lower mass, with gaps, or unbounded below the top", () => {
    const bin = (channel: number, minMass: number | null, maxMass: number | null) => ({
      channel,
      massBin: channel,
      minMass,
      maxMass,
    });
    const edges = (b: ModelCard["massBins"]) => () =>
      paintedMassEdges(card({ massBins: b }), "m", undefined, keys);
    expect(edges([bin(0, null, 1e13), bin(1, 1e13, null)])).toThrow(
      /halos\.model: .*channel 0 no lower mass/,
    );
    expect(edges([bin(0, 1e12, 1e13), bin(1, 2e13, null)])).toThrow(/channel 1 starts at 20000000000000/);
    expect(edges([bin(0, 1e12, null), bin(1, 1e13, null)])).toThrow(/channel 0 has no usable upper mass/);
  });
});
