/**
 * Colour maps for slice images: piecewise-linear interpolation between anchors sampled from
 * matplotlib's perceptually uniform "viridis" and "magma" (van der Walt & Smith 2015), at 1/8 steps.
 */
export type ColormapName = "viridis" | "magma";

const ANCHORS: Record<ColormapName, readonly (readonly [number, number, number])[]> = {
  viridis: [
    [68, 1, 84],
    [72, 36, 117],
    [65, 68, 135],
    [53, 95, 141],
    [42, 120, 142],
    [33, 145, 140],
    [34, 168, 132],
    [68, 191, 112],
    [122, 209, 81],
    [189, 223, 38],
    [253, 231, 37],
  ],
  magma: [
    [0, 0, 4],
    [20, 14, 54],
    [59, 15, 112],
    [100, 26, 128],
    [140, 41, 129],
    [183, 55, 121],
    [222, 73, 104],
    [247, 112, 92],
    [254, 159, 109],
    [254, 206, 145],
    [252, 253, 191],
  ],
};

/** RGB of the colour map at t ∈ [0, 1] (clamped; NaN → mid grey). */
export function colourAt(name: ColormapName, t: number): [number, number, number] {
  if (Number.isNaN(t)) return [128, 128, 128];
  const a = ANCHORS[name];
  const u = Math.min(1, Math.max(0, t)) * (a.length - 1);
  const i = Math.min(a.length - 2, Math.floor(u));
  const f = u - i;
  return [0, 1, 2].map((c) => Math.round(a[i][c] + f * (a[i + 1][c] - a[i][c]))) as [number, number, number];
}
