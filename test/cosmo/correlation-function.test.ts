import { describe, expect, it } from "vitest";
import { DEFAULT_COSMOLOGY } from "../../src/cosmo/cosmology.js";
import { gridCorrelation, linearEdges, pairCorrelation } from "../../src/cosmo/correlation-function.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { depositParticles, toDensityContrast } from "../../src/cosmo/mass-assignment.js";
import { uniformRng } from "./random-fields.js";

function poissonPoints(count: number, box: number, seed: number): Float32Array {
  const r = uniformRng(seed);
  return Float32Array.from({ length: 3 * count }, () => r() * box);
}

/** Brute-force pair counts with minimum-image separations. */
function bruteForcePairs(pos: Float32Array, box: number, edges: Float64Array): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  const np = pos.length / 3;
  for (let i = 0; i < np; i++)
    for (let j = i + 1; j < np; j++) {
      let r2 = 0;
      for (let a = 0; a < 3; a++) {
        let d = Math.abs(pos[3 * j + a] - pos[3 * i + a]);
        if (d > box / 2) d = box - d;
        r2 += d * d;
      }
      const r = Math.sqrt(r2);
      for (let b = 0; b + 1 < edges.length; b++) if (r >= edges[b] && r < edges[b + 1]) counts[b]++;
    }
  return counts;
}

describe("two-point correlation function", () => {
  const box = 100;

  it("counts every pair once through the cell list (brute force, points near the faces)", () => {
    const pos = poissonPoints(600, box, 3);
    for (const rMax of [10, 30, 45]) {
      const edges = linearEdges(0.5, rMax, 7);
      expect(Array.from(pairCorrelation(pos, box, edges).count)).toEqual(bruteForcePairs(pos, box, edges));
    }
  });

  it("Poisson points give ξ consistent with 0 (χ² with Poisson errors)", () => {
    const pos = poissonPoints(20000, box, 7);
    const t = pairCorrelation(pos, box, linearEdges(1, 20, 19));
    const chi2 = t.xi.reduce((a, x, i) => a + (x / t.error[i]) ** 2, 0);
    // 19 dof: the central 99.8% of χ² lies in [5.4, 43.8]
    expect(chi2).toBeGreaterThan(5.4);
    expect(chi2).toBeLessThan(43.8);
  });

  it("pairs at a fixed separation give the expected excess in their bin only", () => {
    const np = 8000;
    const sep = 5.5;
    const r = uniformRng(9);
    const pos = new Float32Array(3 * np);
    for (let p = 0; p < np; p += 2) {
      const u = 2 * r() - 1;
      const phi = 2 * Math.PI * r();
      const dir = [Math.sqrt(1 - u * u) * Math.cos(phi), Math.sqrt(1 - u * u) * Math.sin(phi), u];
      for (let a = 0; a < 3; a++) {
        const c = r() * box;
        pos[3 * p + a] = c;
        pos[3 * p + 3 + a] = (((c + sep * dir[a]) % box) + box) % box;
      }
    }
    const edges = linearEdges(1, 10, 9); // bin 4 is [5, 6)
    const t = pairCorrelation(pos, box, edges);
    const pairs = (np * (np - 1)) / 2;
    for (let b = 0; b < 9; b++) {
      const f = ((4 / 3) * Math.PI * (edges[b + 1] ** 3 - edges[b] ** 3)) / box ** 3;
      const rr = pairs * f;
      // The np/2 planted pairs all land in bin 4; the other pairs are random.
      const expectedDD = (pairs - np / 2) * f + (b === 4 ? np / 2 : 0);
      expect(Math.abs(t.count[b] - expectedDD)).toBeLessThan(4 * Math.sqrt(expectedDD));
      if (b === 4) expect(t.xi[b]).toBeGreaterThan(10 * t.error[b]);
      expect(t.xi[b]).toBeCloseTo(expectedDD / rr - 1, 0);
    }
  });

  it("pair counts and the FFT of a CIC grid agree on clustered 2LPT particles at r ≥ 3 voxels", () => {
    const n = 32;
    const lbox = 64; // 2 Mpc/h voxels
    const lpt = runLpt({
      gridSide: n,
      boxSize: lbox,
      redshift: 0,
      seed: 42,
      cosmology: DEFAULT_COSMOLOGY,
      threads: 1,
      want: { particles: true },
    });
    const pos = lpt.positions!;
    const edges = linearEdges(6, 14, 4);
    const pc = pairCorrelation(pos, lbox, edges);
    const grid = depositParticles(pos, [n, n, n], lbox, "cic");
    toDensityContrast(grid);
    const fft = gridCorrelation(grid, [n, n, n], edges, { boxSize: lbox, compensate: "cic", threads: 1 });
    for (let b = 0; b < pc.xi.length; b++) {
      expect(pc.xi[b]).toBeGreaterThan(10 * pc.error[b]); // clustered
      expect(Math.abs(fft.xi[b] - pc.xi[b])).toBeLessThan(0.1 * pc.xi[b] + 3 * pc.error[b]);
    }
  });

  it("rejects r ranges beyond half the box", () => {
    expect(() => pairCorrelation(poissonPoints(10, box, 1), box, [1, 60])).toThrow(/half the box/);
  });
});
