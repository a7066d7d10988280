/**
 * The generator weight average as checkpoint readers see it: checkpointAsModel hands on the
 * average in place of the raw generator tensors and leaves the discriminator's and a run
 * without an average alone. (The average's arithmetic, resume and export: cli-gan.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../src/models/painter/training-checkpoint.js";
import { averageTensorName, checkpointAsModel } from "../../../src/models/gan/weight-average.js";

const checkpoint = (tensors: [string, number[]][]): Checkpoint => ({
  file: "run/checkpoints/step-00000100.ckpt",
  header: {} as Checkpoint["header"],
  tensors: new Map(tensors.map(([k, v]) => [k, Float32Array.from(v)])),
});

describe("checkpointAsModel", () => {
  it("replaces the averaged generator tensors and drops the ema entries", () => {
    const ckpt = checkpoint([
      ["gan/g0.filter", [1, 2]],
      ["gan/g0.gamma", [3]],
      ["gan/d0.filter", [4]],
      ["adam.generator.m/g0.filter", [0, 0]],
      [averageTensorName("g0.filter"), [1.5, 2.5]],
      [averageTensorName("g0.gamma"), [2.5]],
    ]);
    const model = checkpointAsModel(ckpt);
    expect(averageTensorName("g0.filter")).toBe("ema/gan/g0.filter");
    expect([...model.tensors.keys()].sort()).toEqual(
      ["adam.generator.m/g0.filter", "gan/d0.filter", "gan/g0.filter", "gan/g0.gamma"].sort(),
    );
    expect(Array.from(model.tensors.get("gan/g0.filter") ?? [])).toEqual([1.5, 2.5]);
    expect(Array.from(model.tensors.get("gan/g0.gamma") ?? [])).toEqual([2.5]);
    expect(Array.from(model.tensors.get("gan/d0.filter") ?? [])).toEqual([4]);
    // The checkpoint read stays as it was (resume needs the raw weights).
    expect(Array.from(ckpt.tensors.get("gan/g0.filter") ?? [])).toEqual([1, 2]);
  });

  it("returns a checkpoint without an average as it is", () => {
    const ckpt = checkpoint([["gan/g0.filter", [1]]]);
    expect(checkpointAsModel(ckpt)).toBe(ckpt);
  });
});
