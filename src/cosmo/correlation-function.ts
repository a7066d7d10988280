/**
 * Two-point correlation function ξ(r) of a periodic catalog or grid.
 *
 * Pair counts (`pairCorrelation`): every unordered pair within r_max is found once through a cell
 * list (cells of side ≥ r_max/2, each cell paired with itself and half of the 124 cells within two
 * cells of it), taking the neighbour cell's periodic image implied by the stencil offset. In a
 * periodic box the random-pair count is analytic,
 *   RR_i = N(N − 1)/2 · V_shell,i / V,
 * so the natural estimator ξ = DD/RR − 1 needs no random catalog. The error quoted is the Poisson
 * one, sqrt(DD)/RR, which underestimates the true error where pairs are correlated.
 *
 * From a grid (`gridCorrelation`): ξ(Δ) = (1/N_c) Σ_x δ(x) δ(x + Δ) for every lag Δ of the grid,
 * computed as the inverse FFT of |δ_k|², optionally with the mass-assignment window divided out
 * of |δ_k|² (which undoes most of the smoothing at small r), then averaged over the lags whose
 * length falls in each r bin.
 */
import { RealFft3d, type GridShape } from "./fft/real-fft3d.js";
import { checkCubic, compensationSquared, signedFrequency } from "./k-binning.js";
import { schemeOrder, type MassAssignmentScheme } from "./mass-assignment.js";

export interface CorrelationTable {
  /** Bin edges (length bins + 1), Mpc/h. */
  edges: Float64Array;
  /** Bin midpoints, Mpc/h. */
  r: Float64Array;
  xi: Float64Array;
  /** Poisson error sqrt(DD)/RR for pair counts; NaN for grid estimates. */
  error: Float64Array;
  /** Pairs (DD) per bin, or grid lags per bin. */
  count: Float64Array;
}

/** Linearly spaced edges from `min` to `max` (`bins` bins). */
export function linearEdges(min: number, max: number, bins: number): Float64Array {
  return Float64Array.from({ length: bins + 1 }, (_, i) => min + ((max - min) * i) / bins);
}

function checkEdges(edges: ArrayLike<number>, limit: number, what: string): void {
  if (edges.length < 2)
    throw new RangeError(`correlation function needs at least 2 bin edges, got ${edges.length}`);
  for (let i = 0; i < edges.length; i++) {
    if (!(edges[i] >= 0) || (i > 0 && !(edges[i] > edges[i - 1])))
      throw new RangeError(
        `r bin edges must be non-negative and increasing, got [${Array.from(edges).join(", ")}]`,
      );
  }
  if (!(edges[edges.length - 1] < limit))
    throw new RangeError(
      `largest r edge ${edges[edges.length - 1]} Mpc/h must be below ${what} (${limit} Mpc/h)`,
    );
}

/** ξ(r) of points (interleaved positions in [0, L)) in a periodic cube by pair counting. */
export function pairCorrelation(
  positions: Float32Array,
  boxSize: number,
  edges: ArrayLike<number>,
): CorrelationTable {
  const np = positions.length / 3;
  if (!Number.isInteger(np) || np < 2)
    throw new RangeError(`need at least 2 points as x,y,z triples, got ${positions.length} values`);
  checkEdges(edges, boxSize / 2, "half the box");
  const nb = edges.length - 1;
  const rMin = edges[0];
  const rMax = edges[nb];
  const e2 = Float64Array.from(edges, (e) => e * e);
  const dd = new Float64Array(nb);

  // Cell list: cells of side ≥ r_max/2 searched 2 cells deep (or ≥ r_max, 1 deep, for small
  // boxes), with at least 2·reach + 1 cells per side so the neighbours of a cell are distinct.
  let reach = 2;
  let m = Math.min(Math.floor((2 * boxSize) / rMax), 512);
  if (m < 5) {
    reach = 1;
    m = Math.max(3, Math.min(Math.floor(boxSize / rMax), 512));
  }
  const cellSide = boxSize / m;
  // Only when a cell is narrower than its reach (m forced up to 3) can a pair's nearest image
  // differ from the one the stencil offset implies; then separations take the minimum image.
  const minimumImage = cellSide * reach < rMax;
  const cellOf = new Int32Array(np);
  const start = new Int32Array(m * m * m + 1);
  const wrapIndex = (v: number) => {
    const i = Math.floor(v / cellSide);
    return i >= m ? i - m : i < 0 ? i + m : i;
  };
  for (let p = 0; p < np; p++) {
    const x = positions[3 * p];
    const y = positions[3 * p + 1];
    const z = positions[3 * p + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z))
      throw new RangeError(`point ${p} has a non-finite position`);
    const c = (wrapIndex(x) * m + wrapIndex(y)) * m + wrapIndex(z);
    cellOf[p] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < m * m * m; c++) start[c + 1] += start[c];
  const fill = start.slice(0, m * m * m);
  const px = new Float64Array(np);
  const py = new Float64Array(np);
  const pz = new Float64Array(np);
  for (let p = 0; p < np; p++) {
    const s = fill[cellOf[p]]++;
    px[s] = positions[3 * p];
    py[s] = positions[3 * p + 1];
    pz[s] = positions[3 * p + 2];
  }

  // Half stencil: offsets (a, b, c) > (0, 0, 0) lexicographically, so each cell pair is met once.
  const stencil: [number, number, number][] = [];
  for (let a = -reach; a <= reach; a++)
    for (let b = -reach; b <= reach; b++)
      for (let c = -reach; c <= reach; c++)
        if (a > 0 || (a === 0 && (b > 0 || (b === 0 && c > 0)))) stencil.push([a, b, c]);

  const half = boxSize / 2;
  const r2Min = rMin * rMin;
  const r2Max = rMax * rMax;
  /** Pairs (i in [i0, i1), j in [j0, j1)) with j's positions shifted by (sx, sy, sz) (its image). */
  const count = (
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    sx: number,
    sy: number,
    sz: number,
    same: boolean,
  ) => {
    for (let i = i0; i < i1; i++) {
      const xi = px[i] - sx;
      const yi = py[i] - sy;
      const zi = pz[i] - sz;
      for (let j = same ? i + 1 : j0; j < j1; j++) {
        let dx = px[j] - xi;
        let dy = py[j] - yi;
        let dz = pz[j] - zi;
        if (minimumImage) {
          if (dx > half) dx -= boxSize;
          else if (dx < -half) dx += boxSize;
          if (dy > half) dy -= boxSize;
          else if (dy < -half) dy += boxSize;
          if (dz > half) dz -= boxSize;
          else if (dz < -half) dz += boxSize;
        }
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= r2Max || r2 < r2Min) continue;
        let b = 0;
        while (r2 >= e2[b + 1]) b++;
        dd[b]++;
      }
    }
  };
  for (let cx = 0; cx < m; cx++)
    for (let cy = 0; cy < m; cy++)
      for (let cz = 0; cz < m; cz++) {
        const c = (cx * m + cy) * m + cz;
        if (start[c] === start[c + 1]) continue;
        count(start[c], start[c + 1], start[c], start[c + 1], 0, 0, 0, true);
        for (const [a, b, d] of stencil) {
          // the neighbour's image across the periodic boundary sits one box away
          const ox = cx + a;
          const oy = cy + b;
          const oz = cz + d;
          const wx = ox < 0 ? ox + m : ox >= m ? ox - m : ox;
          const wy = oy < 0 ? oy + m : oy >= m ? oy - m : oy;
          const wz = oz < 0 ? oz + m : oz >= m ? oz - m : oz;
          const o = (wx * m + wy) * m + wz;
          if (start[o] === start[o + 1]) continue;
          const sx = minimumImage ? 0 : (ox - wx) * cellSide;
          const sy = minimumImage ? 0 : (oy - wy) * cellSide;
          const sz = minimumImage ? 0 : (oz - wz) * cellSide;
          count(start[c], start[c + 1], start[o], start[o + 1], sx, sy, sz, false);
        }
      }

  const volume = boxSize ** 3;
  const pairs = (np * (np - 1)) / 2;
  const out = emptyTable(edges);
  for (let b = 0; b < nb; b++) {
    const rr = (pairs * (4 / 3) * Math.PI * (edges[b + 1] ** 3 - edges[b] ** 3)) / volume;
    out.xi[b] = dd[b] / rr - 1;
    out.error[b] = Math.sqrt(dd[b]) / rr;
    out.count[b] = dd[b];
  }
  return out;
}

export interface GridCorrelationOptions {
  boxSize: number;
  /** Mass-assignment window to divide out of |δ_k|² before transforming back; default "none". */
  compensate?: MassAssignmentScheme | "none";
  threads?: number;
}

/** ξ(r) of a density-contrast grid, averaged over grid lags in each r bin. */
export function gridCorrelation(
  delta: Float32Array,
  shape: GridShape,
  edges: ArrayLike<number>,
  options: GridCorrelationOptions,
): CorrelationTable {
  const n = checkCubic(shape, options.boxSize);
  if (delta.length !== n ** 3) throw new RangeError(`field has length ${delta.length}, expected ${n}³`);
  checkEdges(edges, options.boxSize / 2, "half the box");
  const compensate = options.compensate ?? "none";
  const comp = compensationSquared(n, compensate === "none" ? 0 : schemeOrder(compensate));
  const fft = new RealFft3d(shape, options.threads === undefined ? {} : { threads: options.threads });
  let xiGrid: Float32Array;
  try {
    const spec = fft.forward(delta);
    const nzh = Math.floor(n / 2) + 1;
    const cells = n ** 3;
    for (let ix = 0; ix < n; ix++)
      for (let iy = 0; iy < n; iy++)
        for (let iz = 0; iz < nzh; iz++) {
          const o = 2 * ((ix * n + iy) * nzh + iz);
          // |δ_k|²/N_c: its inverse (1/N_c normalised) is (1/N_c) Σ_x δ(x) δ(x + Δ)
          const p = ((spec[o] ** 2 + spec[o + 1] ** 2) * comp[ix] * comp[iy] * comp[iz]) / cells;
          spec[o] = ix === 0 && iy === 0 && iz === 0 ? 0 : p;
          spec[o + 1] = 0;
        }
    xiGrid = fft.inverse(spec);
  } finally {
    fft.dispose();
  }
  const nb = edges.length - 1;
  const sum = new Float64Array(nb);
  const lags = new Float64Array(nb);
  const cellSide = options.boxSize / n;
  const e2 = Float64Array.from(edges, (e) => (e / cellSide) ** 2);
  for (let ix = 0; ix < n; ix++) {
    const a = signedFrequency(ix, n);
    for (let iy = 0; iy < n; iy++) {
      const b = signedFrequency(iy, n);
      for (let iz = 0; iz < n; iz++) {
        const c = signedFrequency(iz, n);
        const s = a * a + b * b + c * c;
        if (s < e2[0] || s >= e2[nb]) continue;
        let bin = 0;
        while (s >= e2[bin + 1]) bin++;
        sum[bin] += xiGrid[(ix * n + iy) * n + iz];
        lags[bin]++;
      }
    }
  }
  const out = emptyTable(edges);
  for (let b = 0; b < nb; b++) {
    out.xi[b] = lags[b] > 0 ? sum[b] / lags[b] : NaN;
    out.error[b] = NaN;
    out.count[b] = lags[b];
  }
  return out;
}

function emptyTable(edges: ArrayLike<number>): CorrelationTable {
  const nb = edges.length - 1;
  return {
    edges: Float64Array.from(edges),
    r: Float64Array.from({ length: nb }, (_, i) => 0.5 * (edges[i] + edges[i + 1])),
    xi: new Float64Array(nb),
    error: new Float64Array(nb),
    count: new Float64Array(nb),
  };
}
