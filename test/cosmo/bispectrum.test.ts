import { describe, expect, it } from "vitest";
import {
  angleTriangles,
  bispectrum,
  equilateralTriangles,
  type TriangleConfig,
} from "../../src/cosmo/bispectrum.js";
import { gaussianField, whiteNoise } from "./random-fields.js";

const box = 200;
const kF = (2 * Math.PI) / box;
const n = 32;
const shape = [n, n, n] as const;
// Every shell stays below N/3 · k_F = 10.7 k_F, where no triangle aliases.
const configs: TriangleConfig[] = [
  ...equilateralTriangles([3 * kF, 5 * kF, 7 * kF]),
  ...angleTriangles(3 * kF, 6 * kF, [0.3, 1.5, 2.8]),
];

/** Ordered closed triangles by enumeration of the full grid's modes. */
function bruteForceTriangles(side: number, centres: [number, number, number], width: number): number {
  const inShell = (s: number, c: number) =>
    s >= Math.max(0, c - width / 2) ** 2 && s < (c + width / 2) ** 2 && s > 0;
  const h = Math.floor(side / 2);
  const lists: [number, number, number][][] = [[], [], []];
  for (let a = -h + (side % 2 === 0 ? 1 : 0); a <= h; a++)
    for (let b = -h + (side % 2 === 0 ? 1 : 0); b <= h; b++)
      for (let c = -h + (side % 2 === 0 ? 1 : 0); c <= h; c++)
        centres.forEach((centre, i) => {
          if (inShell(a * a + b * b + c * c, centre)) lists[i].push([a, b, c]);
        });
  let count = 0;
  for (const p of lists[0])
    for (const q of lists[1]) {
      const s = (p[0] + q[0]) ** 2 + (p[1] + q[1]) ** 2 + (p[2] + q[2]) ** 2;
      if (inShell(s, centres[2])) count++;
    }
  return count;
}

describe("bispectrum triangle counts", () => {
  const side = 24;
  const kf = (2 * Math.PI) / 100;
  const cases: { centres: [number, number, number]; width: number }[] = [
    { centres: [4, 4, 4], width: 1 },
    { centres: [3, 3, 5], width: 1 },
    { centres: [3, 4, 5], width: 1 },
    { centres: [2.5, 4, 5.5], width: 2 },
  ];
  it.each(cases)("shells $centres (width $width k_F) match a brute-force count", ({ centres, width }) => {
    const field = whiteNoise(side ** 3, 3);
    const [row] = bispectrum(
      field,
      [side, side, side],
      [{ k1: centres[0] * kf, k2: centres[1] * kf, k3: centres[2] * kf }],
      { boxSize: 100, shellWidth: width * kf, threads: 1 },
    );
    expect(row.triangles).toBe(bruteForceTriangles(side, centres, width));
  });
});

describe("bispectrum of constructed fields", () => {
  const power = (k: number) => 2000 * Math.pow(k / 0.1, -1.5);

  it("is consistent with zero for Gaussian fields (χ² with Gaussian errors)", () => {
    let chi2 = 0;
    let dof = 0;
    for (let s = 0; s < 5; s++) {
      const g = gaussianField(n, box, power, 100 + s);
      for (const row of bispectrum(g, shape, configs, { boxSize: box, threads: 1 })) {
        chi2 += (row.bispectrum / row.gaussianError) ** 2;
        dof++;
      }
    }
    expect(dof).toBe(30); // the central 99.8% of χ² with 30 dof lies in [11.6, 59.7]
    expect(chi2).toBeGreaterThan(11.6);
    expect(chi2).toBeLessThan(59.7);
  });

  it("gives the tree-level 2 f_NL (P1P2 + P2P3 + P1P3) for δ = g + f_NL (g² − ⟨g²⟩)", () => {
    // [B(δ_f) − B(δ_−f)] / 2 keeps the odd powers of f_NL: the tree level and the f_NL³ loop term
    // (≈ 0.4 (f_NL σ)² of it here), and cancels the sample bispectrum of g itself, which is noise
    // ∝ 1/f_NL. With f_NL σ = 0.05 the loop term is 0.1%, far below the statistical error.
    const cells = n ** 3;
    const width = 2 * kF;
    const perConfig: number[][] = configs.map(() => []);
    for (let s = 0; s < 10; s++) {
      const g = gaussianField(n, box, power, 200 + s);
      const g2 = g.reduce((a, v) => a + v * v, 0) / cells;
      const fNL = 0.05 / Math.sqrt(g2);
      const options = { boxSize: box, shellWidth: width, threads: 1 };
      const gauss = bispectrum(g, shape, configs, options);
      const plus = bispectrum(
        g.map((v) => v + fNL * (v * v - g2)),
        shape,
        configs,
        options,
      );
      const minus = bispectrum(
        g.map((v) => v - fNL * (v * v - g2)),
        shape,
        configs,
        options,
      );
      gauss.forEach((p, i) => {
        const tree = 2 * fNL * (p.power1 * p.power2 + p.power2 * p.power3 + p.power1 * p.power3);
        perConfig[i].push((plus[i].bispectrum - minus[i].bispectrum) / 2 / tree);
      });
    }
    const meanAndError = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
      return { m, err: sd / Math.sqrt(v.length) };
    };
    for (const ratios of perConfig) {
      const c = meanAndError(ratios);
      expect(Math.abs(c.m - 1)).toBeLessThan(4 * c.err);
    }
    const all = meanAndError(perConfig.flat());
    expect(all.err).toBeLessThan(0.05);
    expect(Math.abs(all.m - 1)).toBeLessThan(3 * all.err);
  });

  it("gives the exact B = (6f + 8f³)(V/N_c)² and Q for a white local quadratic field", () => {
    // Independent voxels: ⟨δ_k1 δ_k2 δ_k3⟩ = N_c κ3 with κ3 = ⟨δ³⟩ = 6f + 8f³ for unit g.
    const f = 0.5;
    const cells = n ** 3;
    const cellVolume = box ** 3 / cells;
    const exact = (6 * f + 8 * f ** 3) * cellVolume ** 2;
    const exactQ = (6 * f + 8 * f ** 3) / (3 * (1 + 2 * f * f) ** 2);
    const means: number[] = [];
    const qs: number[] = [];
    const reals = 10;
    for (let s = 0; s < reals; s++) {
      const g = whiteNoise(cells, 300 + s);
      const d = g.map((v) => v + f * (v * v - 1));
      const rows = bispectrum(d, shape, configs, { boxSize: box, shellWidth: 3 * kF, threads: 1 });
      means.push(rows.reduce((a, r) => a + r.bispectrum, 0) / rows.length);
      qs.push(rows.reduce((a, r) => a + r.reduced, 0) / rows.length);
    }
    const stats = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
      return { m, err: sd / Math.sqrt(v.length) };
    };
    const b = stats(means);
    const q = stats(qs);
    // Errors from the scatter between realisations (the field is far from Gaussian).
    expect(Math.abs(b.m - exact)).toBeLessThan(3 * b.err);
    expect(b.err).toBeLessThan(0.25 * exact);
    expect(Math.abs(q.m - exactQ)).toBeLessThan(3 * q.err + 0.05 * exactQ);
  });

  it("rejects shells without modes", () => {
    expect(() =>
      bispectrum(whiteNoise(8 ** 3, 1), [8, 8, 8], [{ k1: 0.1 * kF, k2: 0.1 * kF, k3: 0.1 * kF }], {
        boxSize: box,
        shellWidth: 0.1 * kF,
        threads: 1,
      }),
    ).toThrow(/holds no modes/);
  });
});
