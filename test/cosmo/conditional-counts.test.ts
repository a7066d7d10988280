import { describe, expect, it } from "vitest";
import { conditionalCounts, percentileOfSorted } from "../../src/cosmo/conditional-counts.js";

describe("painted counts given true counts", () => {
  it("percentiles interpolate between order statistics (numpy's default)", () => {
    // numpy.percentile([1, 2, 3, 4], [16, 50, 84]) = [1.48, 2.5, 3.52]
    expect(percentileOfSorted([1, 2, 3, 4], 0.16)).toBeCloseTo(1.48, 12);
    expect(percentileOfSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(percentileOfSorted([1, 2, 3, 4], 0.84)).toBeCloseTo(3.52, 12);
    expect(percentileOfSorted([7], 0.84)).toBe(7);
  });

  it("groups voxels by true count across boxes", () => {
    const rows = conditionalCounts([
      { truth: Float32Array.from([0, 1, 0, 2]), predicted: Float32Array.from([0.5, 1, 0.25, 4]) },
      { truth: Float32Array.from([1, 0]), predicted: Float32Array.from([3, 0.75]) },
    ]);
    expect(rows.map((r) => [r.trueCount, r.voxels, r.mean])).toEqual([
      [0, 3, 0.5],
      [1, 2, 2],
      [2, 1, 4],
    ]);
    expect(rows[0].p50).toBe(0.5);
    expect(rows[1].p16).toBeCloseTo(1 + 0.16 * 2, 12);
  });

  it("refuses true counts that are not non-negative integers", () => {
    expect(() =>
      conditionalCounts([{ truth: Float32Array.from([0, 1.5]), predicted: new Float32Array(2) }]),
    ).toThrow(/1.5 at voxel 1/);
  });
});
