/**
 * paint --tile auto: the core side minimising the patch voxels ⌈N/T⌉³ (T + 2p)³ within the patch
 * cap, checked on cases worked by hand and against every admissible T.
 */
import { describe, expect, it } from "vitest";
import { autoTileSide, AUTO_TILE_MAX_PATCH_SIDE } from "../../src/stages/tile-size.js";

const work = (n: number, t: number, p: number) => Math.ceil(n / t) ** 3 * (t + 2 * p) ** 3;

describe("autoTileSide", () => {
  it("hand-worked cases (padding 4, patches ≤ 72³)", () => {
    // Multiples of 64: 64-voxel cores in 72³ patches, no overhang.
    for (const n of [64, 128, 256, 512, 1024]) expect(autoTileSide(n, 4)).toBe(64);
    // 100 = 2 × 50: 8 patches of 58³ (1.56 M voxels) beat 27 of 42³ (2.00 M) and 8 of 72³ (2.99 M).
    expect(autoTileSide(100, 4)).toBe(50);
    // A grid smaller than the cap is one tile.
    expect(autoTileSide(16, 4)).toBe(16);
    expect(autoTileSide(1, 0)).toBe(1);
  });

  it("never exceeds the patch cap and is optimal among the admissible sides", () => {
    for (const p of [0, 1, 4, 8])
      for (const n of [1, 7, 33, 64, 65, 97, 130, 300, 1000]) {
        const t = autoTileSide(n, p);
        expect(t).toBeGreaterThanOrEqual(1);
        expect(t).toBeLessThanOrEqual(n);
        expect(t + 2 * p).toBeLessThanOrEqual(AUTO_TILE_MAX_PATCH_SIDE);
        for (let u = 1; u <= Math.min(n, AUTO_TILE_MAX_PATCH_SIDE - 2 * p); u++)
          expect(work(n, t, p)).toBeLessThanOrEqual(work(n, u, p));
      }
  });

  it("refuses a padding that leaves no core", () => {
    expect(() => autoTileSide(100, 36)).toThrow(/padding 36/);
    expect(() => autoTileSide(0, 4)).toThrow(/grid side/);
  });
});
