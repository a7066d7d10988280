/**
 * The tile core side `paint --tile auto` chooses. A tile of core T carries (T + 2p)³ input
 * voxels for T³ output voxels, and a grid of side N needs ⌈N/T⌉³ tiles (the last row of tiles
 * overhangs the grid and its excess is computed and thrown away), so the work is
 *   W(T) = ⌈N/T⌉³ (T + 2p)³ patch voxels.
 * Larger tiles waste less on padding but each patch's activations grow as (T + 2p)³: the halo
 * painter's ONNX Runtime session holds ~0.3 GB per worker at 72³ patches (2 workers paint a
 * 256³ grid in 0.77 GB peak RSS at 72³, 1.3 GB at 96³), so patches stop at `maxPatchSide`.
 * Measured on a 256³ grid (2 workers, ORT, training paused): T = 50 (216 tiles, 42 M patch
 * voxels) 55 s, T = 64 (64 tiles, 24 M) 31 s.
 */
export const AUTO_TILE_MAX_PATCH_SIDE = 72;

/** The core side T ≤ maxPatchSide − 2p minimising W(T) (ties: the larger T). */
export function autoTileSide(side: number, padding: number, maxPatchSide = AUTO_TILE_MAX_PATCH_SIDE): number {
  if (!Number.isInteger(side) || side < 1)
    throw new RangeError(`grid side must be a positive integer, got ${side}`);
  const largest = Math.min(side, maxPatchSide - 2 * padding);
  if (largest < 1)
    throw new RangeError(`padding ${padding} leaves no core within patches of ${maxPatchSide}³`);
  let best = 1;
  let bestWork = Infinity;
  for (let t = 1; t <= largest; t++) {
    const work = Math.ceil(side / t) ** 3 * (t + 2 * padding) ** 3;
    if (work <= bestWork) {
      best = t;
      bestWork = work;
    }
  }
  return best;
}
