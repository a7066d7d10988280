/**
 * Angular counts of a light cone as an image in the equal-area cylindrical (Lambert) projection:
 * columns uniform in right ascension (0° at the left edge, increasing to the right), rows uniform
 * in sin(Dec) (north up), so every pixel covers the same solid angle and pixel counts compare
 * directly. Empty pixels are drawn at the bottom of the colour map.
 */
import { encodePng } from "../../io/png.js";
import { colourAt, type ColormapName } from "./colormap.js";
import type { SliceImage } from "./slice-image.js";

export function skyImage(
  ra: ArrayLike<number>,
  dec: ArrayLike<number>,
  options: { width?: number; colormap?: ColormapName } = {},
): SliceImage {
  if (ra.length !== dec.length) throw new RangeError(`ra has ${ra.length} values but dec has ${dec.length}`);
  const width = options.width ?? 512;
  const height = Math.round(width / Math.PI); // equal-area aspect: 2π wide, 2 high
  const counts = new Float64Array(width * height);
  for (let i = 0; i < ra.length; i++) {
    const a = ((ra[i] % 360) + 360) % 360;
    const s = Math.sin((dec[i] * Math.PI) / 180);
    if (!Number.isFinite(a) || !Number.isFinite(s)) continue;
    const col = Math.min(width - 1, Math.floor((a / 360) * width));
    const row = Math.min(height - 1, Math.max(0, Math.floor(((1 - s) / 2) * height)));
    counts[row * width + col]++;
  }
  let high = 0;
  for (const c of counts) high = Math.max(high, c);
  const stretch = (c: number) => Math.log10(1 + c);
  const top = Math.max(stretch(high), 1e-9);
  const rgb = new Uint8Array(width * height * 3);
  const cmap = options.colormap ?? "viridis";
  for (let p = 0; p < counts.length; p++) rgb.set(colourAt(cmap, stretch(counts[p]) / top), 3 * p);
  return { png: encodePng(width, height, rgb), width, height, low: 0, high: top };
}
