/**
 * Seam statistics on fields whose answer is known: white noise smoothed by a periodic box filter
 * of width w = 3 on each axis has one-voxel correlation ξ₁ = (w − 1)/w = 2/3 along an axis, so
 * adjacent voxels differ by D₁ = 2σ²(1 − ξ₁) in the mean square and two independent voxels by
 * 2σ². Cutting one such field into tiles gives a seam ratio of 1; tiling independent fields gives
 * 2σ²/D₁ = 1/(1 − ξ₁) = 3; the across-MSD over its face-matched uncorrelated value
 * ("continuity") is 1 − ξ₁ = 1/3 for the cut field and 1 for independent tiles.
 *
 * Tolerance: a seam plane holds 64² = 4096 pairs whose differences are Gaussian and correlated over
 * the 5 × 5 transverse lags of the filter, Σρ² = (1 + 2(4/9 + 1/9))² ≈ 4.46, so one plane's mean
 * square has relative error √(2 · 4.46/4096) ≈ 4.7 %, and the mean over 12 planes ≈ 1.4 %
 * (the within-tile mean, over 15× more pairs, adds little). ±0.08 on 1 and ±0.25 on 3 are ≥ 5σ.
 */
import { describe, expect, it } from "vitest";
import { tileSeamStats } from "../../src/cosmo/tile-seams.js";
import { placeTile } from "../../src/pipeline/gan-stitch.js";
import { whiteNoise } from "./random-fields.js";

/** Periodic box filter of width 3 along each axis of a side³ C-order grid. */
function smooth3(u: Float32Array, side: number): Float32Array {
  let a = Float32Array.from(u);
  const strides = [side * side, side, 1];
  for (const st of strides) {
    const b = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const c = Math.floor(i / st) % side;
      const up = c === side - 1 ? i - (side - 1) * st : i + st;
      const down = c === 0 ? i + (side - 1) * st : i - st;
      b[i] = (a[down] + a[i] + a[up]) / 3;
    }
    a = b;
  }
  return a;
}

describe("tileSeamStats", () => {
  it("finds no seam in tiles cut from one smooth field", () => {
    const side = 64;
    const field = smooth3(whiteNoise(side ** 3, 11), side);
    const s = tileSeamStats(field, side, 16);
    expect(s.pairsAcross).toBe(3 * 4 * side * side);
    expect(s.pairsWithin).toBe(3 * side ** 3 - s.pairsAcross);
    expect(Math.abs(s.ratio - 1)).toBeLessThan(0.08);
    for (const ax of s.axes) expect(Math.abs(ax.ratio - 1)).toBeLessThan(0.14);
    // The reference for uncorrelated tiles is 1/(1 − ξ₁) = 3 for this field.
    expect(Math.abs(s.uncorrelatedRatio - 3)).toBeLessThan(0.1);
    // Continuous across the cuts: 2σ²(1 − ξ₁) over 2σ², i.e. 1 − ξ₁ = 1/3.
    expect(Math.abs(s.continuity - 1 / 3)).toBeLessThan(0.03);
  });

  it("measures the seams of independent tiles: ratio 1/(1 − ξ₁) = 3, as for uncorrelated voxels", () => {
    const n = 4;
    const tile = 16;
    const side = n * tile;
    const volume = new Float32Array(side ** 3);
    for (let i = 0; i < n ** 3; i++)
      placeTile(volume, n, tile, i, smooth3(whiteNoise(tile ** 3, 100 + i), tile));
    const s = tileSeamStats(volume, side, tile);
    expect(Math.abs(s.ratio - 3)).toBeLessThan(0.25);
    for (const ax of s.axes) expect(Math.abs(ax.ratio - 3)).toBeLessThan(0.45);
    expect(Math.abs(s.ratio / s.uncorrelatedRatio - 1)).toBeLessThan(0.08);
    expect(Math.abs(s.continuity - 1)).toBeLessThan(0.08);
    expect(s.ratioError).not.toBeNull();
    expect(s.ratioError as number).toBeLessThan(0.25);
  });

  it("tells uncorrelated tiles with quiet edges from a continuous field: continuity 1 where the ratio is < 1", () => {
    // White-noise tiles (ξ₁ = 0) whose face voxels are scaled by 1/2: pairs across are two
    // independent voxels of variance 1/4, MSD 1/2, while most pairs within have MSD 2.
    const n = 4;
    const tile = 16;
    const side = n * tile;
    const volume = new Float32Array(side ** 3);
    for (let i = 0; i < n ** 3; i++) {
      const t = whiteNoise(tile ** 3, 500 + i);
      for (let v = 0; v < t.length; v++) {
        const c = [Math.floor(v / (tile * tile)), Math.floor(v / tile) % tile, v % tile];
        if (c.some((x) => x === 0 || x === tile - 1)) t[v] *= 0.5;
      }
      placeTile(volume, n, tile, i, t);
    }
    const s = tileSeamStats(volume, side, tile);
    expect(s.ratio).toBeLessThan(0.4);
    expect(Math.abs(s.acrossMsd - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(s.continuity - 1)).toBeLessThan(0.06);
  });

  it("places sample i = (tx·n + ty)·n + tz at voxel offset (tx, ty, tz)·S", () => {
    const n = 3;
    const s = 2;
    const side = n * s;
    const volume = new Float32Array(side ** 3);
    for (let i = 0; i < n ** 3; i++) {
      const t = new Float32Array(s ** 3);
      for (let v = 0; v < t.length; v++) t[v] = 1000 * i + v;
      placeTile(volume, n, s, i, t);
    }
    for (let x = 0; x < side; x++)
      for (let y = 0; y < side; y++)
        for (let z = 0; z < side; z++) {
          const i = (Math.floor(x / s) * n + Math.floor(y / s)) * n + Math.floor(z / s);
          const v = ((x % s) * s + (y % s)) * s + (z % s);
          expect(volume[(x * side + y) * side + z]).toBe(1000 * i + v);
        }
  });

  it("refuses a volume that is not a whole number of tiles", () => {
    expect(() => tileSeamStats(new Float32Array(10 ** 3), 10, 4)).toThrow(/multiple of a tile side/);
  });
});
