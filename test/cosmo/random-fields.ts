/** Seeded random grids shared by the statistics tests (mulberry32 + Box–Muller). */
import { RealFft3d, type GridShape } from "../../src/cosmo/fft/real-fft3d.js";
import { mulberry32 } from "../seeded-random.js";

export const uniformRng = mulberry32;

export function whiteNoise(cells: number, seed: number): Float32Array {
  const r = uniformRng(seed);
  const g = new Float32Array(cells);
  for (let i = 0; i < cells; i += 2) {
    const m = Math.sqrt(-2 * Math.log(1 - r()));
    const v = 2 * Math.PI * r();
    g[i] = m * Math.cos(v);
    if (i + 1 < cells) g[i + 1] = m * Math.sin(v);
  }
  return g;
}

/**
 * Gaussian field on an n³ grid of side `box` with power spectrum `power(k)` ((Mpc/h)³, k in h/Mpc):
 * white noise of unit variance has P = V/N_c, so its modes are scaled by sqrt(P(k) N_c / V).
 */
export function gaussianField(
  n: number,
  box: number,
  power: (k: number) => number,
  seed: number,
): Float32Array {
  const shape: GridShape = [n, n, n];
  const cells = n ** 3;
  const fft = new RealFft3d(shape, { threads: 1 });
  try {
    const spec = fft.forward(whiteNoise(cells, seed));
    const nzh = Math.floor(n / 2) + 1;
    const kF = (2 * Math.PI) / box;
    const f = (i: number) => (2 * i > n ? i - n : i);
    for (let ix = 0; ix < n; ix++)
      for (let iy = 0; iy < n; iy++)
        for (let iz = 0; iz < nzh; iz++) {
          const k = kF * Math.hypot(f(ix), f(iy), iz);
          const a = k === 0 ? 0 : Math.sqrt((power(k) * cells) / box ** 3);
          const o = 2 * ((ix * n + iy) * nzh + iz);
          spec[o] *= a;
          spec[o + 1] *= a;
        }
    return Float32Array.from(fft.inverse(spec));
  } finally {
    fft.dispose();
  }
}
