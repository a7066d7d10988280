/**
 * A slab of a 3D grid as a colour image: the mean over `thickness` planes perpendicular to x,
 * starting at `start`, shown with y down the rows and z along the columns, each voxel drawn as
 * `scale`×`scale` pixels. Values map to colour linearly or through log10(1 + v) (densities),
 * between the 1st and 99.5th percentiles so a few peaks do not wash the image out.
 */
import type { GridShape } from "../../cosmo/fft/real-fft3d.js";
import { encodePng } from "../../io/png.js";
import { colourAt, type ColormapName } from "./colormap.js";

export interface SliceOptions {
  start?: number;
  thickness?: number;
  /** "log" plots log10(max(v, ε) + offset) with offset 1 (for δ: log10 ρ/ρ̄). Default "linear". */
  stretch?: "linear" | "log";
  offset?: number;
  colormap?: ColormapName;
  /** Pixels per voxel; default to make the image about 384 px wide. */
  scale?: number;
}

export interface SliceImage {
  png: Buffer;
  width: number;
  height: number;
  /** Values at the colour map's ends (after the stretch). */
  low: number;
  high: number;
}

export function sliceImage(grid: Float32Array, shape: GridShape, options: SliceOptions = {}): SliceImage {
  const [nx, ny, nz] = shape;
  if (grid.length !== nx * ny * nz)
    throw new RangeError(`grid has length ${grid.length}, expected ${nx * ny * nz}`);
  const start = options.start ?? 0;
  const thickness = Math.max(1, Math.min(options.thickness ?? 1, nx));
  if (!Number.isInteger(start) || start < 0 || start >= nx)
    throw new RangeError(`slice start ${start} outside [0, ${nx})`);
  const offset = options.offset ?? 1;
  const stretch =
    options.stretch === "log" ? (v: number) => Math.log10(Math.max(v + offset, 1e-3)) : (v: number) => v;
  const plane = new Float64Array(ny * nz);
  for (let t = 0; t < thickness; t++) {
    const ix = (start + t) % nx;
    for (let j = 0; j < ny * nz; j++) plane[j] += grid[ix * ny * nz + j] / thickness;
  }
  const values = plane.map(stretch);
  const sorted = Float64Array.from(values).sort();
  const low = sorted[Math.floor(0.01 * (sorted.length - 1))];
  let high = sorted[Math.floor(0.995 * (sorted.length - 1))];
  if (!(high > low)) high = low + 1;
  const scale = options.scale ?? Math.max(1, Math.round(384 / Math.max(ny, nz)));
  const width = nz * scale;
  const height = ny * scale;
  const rgb = new Uint8Array(width * height * 3);
  const cmap = options.colormap ?? "magma";
  for (let iy = 0; iy < ny; iy++)
    for (let iz = 0; iz < nz; iz++) {
      const c = colourAt(cmap, (values[iy * nz + iz] - low) / (high - low));
      for (let a = 0; a < scale; a++)
        for (let b = 0; b < scale; b++) rgb.set(c, ((iy * scale + a) * width + iz * scale + b) * 3);
    }
  return { png: encodePng(width, height, rgb), width, height, low, high };
}
