import { describe, expect, it } from "vitest";
import type { GridShape } from "../../src/cosmo/fft/real-fft3d.js";
import {
  depositParticles,
  interpolateAtParticles,
  schemeOrder,
  toDensityContrast,
  type MassAssignmentScheme,
} from "../../src/cosmo/mass-assignment.js";
import { mulberry32 } from "../seeded-random.js";

const schemes: MassAssignmentScheme[] = ["ngp", "cic", "tsc"];

const rng = mulberry32;

function randomPositions(n: number, box: number, seed: number): Float32Array {
  const r = rng(seed);
  const p = new Float32Array(3 * n);
  for (let i = 0; i < p.length; i++) p[i] = Math.fround(r() * box) % box;
  return p;
}

function sum64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

const at = (g: Float32Array, shape: GridShape, i: number, j: number, k: number) =>
  g[(i * shape[1] + j) * shape[2] + k];

describe("schemeOrder", () => {
  it("maps schemes to window orders and rejects unknown names", () => {
    expect(schemes.map(schemeOrder)).toEqual([1, 2, 3]);
    expect(() => schemeOrder("pcs" as MassAssignmentScheme)).toThrow(RangeError);
  });
});

describe("depositParticles", () => {
  it.each(schemes)("%s conserves the total weight (float64 sum of the grid)", (scheme) => {
    const box = 100;
    const shape: GridShape = [12, 10, 8]; // non-cubic grid, cells differ per axis
    const pos = randomPositions(5000, box, 1);
    pos[0] = box; // exactly L wraps to 0
    pos[4] = 0;
    const r = rng(2);
    const w = Float32Array.from({ length: 5000 }, () => Math.fround(0.5 + r()));
    // float32 cells: every addition into a cell rounds by ≤ 2^-24 of the cell's value, and a cell
    // here takes ≲ 27 · 5000 / 960 ≈ 140 additions (TSC), so the total is off by < 200 · 2^-24 of
    // the sum (1.2e-5); rounding errors of random sign make the actual error far smaller
    const unit = depositParticles(pos, shape, box, scheme);
    expect(Math.abs(sum64(unit) - 5000)).toBeLessThan(200 * 2 ** -24 * 5000);
    const weighted = depositParticles(pos, shape, box, scheme, { weights: w, shift: 0.5 });
    expect(Math.abs(sum64(weighted) - sum64(w))).toBeLessThan(200 * 2 ** -24 * sum64(w));
  });

  it.each(schemes)("%s conserves the total exactly when every kernel weight is representable", (scheme) => {
    // positions on a lattice of Δ/4 make all kernel weights multiples of 2^-15: no rounding anywhere
    const shape: GridShape = [8, 8, 8];
    const r = rng(8);
    const pos = Float32Array.from({ length: 3 * 4000 }, () => Math.floor(r() * 32) / 4);
    const w = Float32Array.from({ length: 4000 }, () => 1 + Math.floor(r() * 4));
    expect(sum64(depositParticles(pos, shape, 8, scheme))).toBe(4000);
    expect(sum64(depositParticles(pos, shape, 8, scheme, { weights: w, shift: 0.5 }))).toBe(sum64(w));
  });

  it("puts all CIC and NGP weight of a particle on a grid point into that point; TSC spreads 3/4, 1/8", () => {
    const shape: GridShape = [8, 8, 8];
    const box = 16; // Δ = 2
    const pos = new Float32Array([6, 10, 0]); // grid point (3, 5, 0)
    for (const scheme of ["ngp", "cic"] as const) {
      const g = depositParticles(pos, shape, box, scheme);
      expect(at(g, shape, 3, 5, 0)).toBe(1);
      expect(sum64(g)).toBe(1);
    }
    const t = depositParticles(pos, shape, box, "tsc");
    expect(at(t, shape, 3, 5, 0)).toBeCloseTo(0.75 ** 3, 12);
    expect(at(t, shape, 2, 5, 0)).toBeCloseTo(0.125 * 0.75 ** 2, 12);
    expect(at(t, shape, 3, 5, 7)).toBeCloseTo(0.125 * 0.75 ** 2, 12); // z = −1 wraps to 7
    expect(at(t, shape, 4, 6, 1)).toBeCloseTo(0.125 ** 3, 12);
  });

  it("wraps periodically at both edges, and a position equal to L maps to 0", () => {
    const shape: GridShape = [4, 4, 4];
    const box = 4; // Δ = 1
    // x = L − 1/4: CIC weights 1/4 at i = 3 and 3/4 at i = 0 (wrapped)
    const g = depositParticles(new Float32Array([3.75, 0, 0]), shape, box, "cic");
    expect(at(g, shape, 3, 0, 0)).toBeCloseTo(0.25, 12);
    expect(at(g, shape, 0, 0, 0)).toBeCloseTo(0.75, 12);
    const atL = depositParticles(new Float32Array([4, 4, 4]), shape, box, "ngp");
    expect(at(atL, shape, 0, 0, 0)).toBe(1);
    // NGP rounds to the nearest grid point: 3.6 → 4 ≡ 0
    const ngp = depositParticles(new Float32Array([3.6, 1.4, 2.5]), shape, box, "ngp");
    expect(at(ngp, shape, 0, 1, 3)).toBe(1);
    // Slightly negative and beyond-L positions are wrapped too
    const off = depositParticles(new Float32Array([-0.25, 9, 0]), shape, box, "cic");
    expect(at(off, shape, 3, 1, 0)).toBeCloseTo(0.25, 12);
    expect(at(off, shape, 0, 1, 0)).toBeCloseTo(0.75, 12);
  });

  it("shift displaces every particle by that many cells on every axis", () => {
    const shape: GridShape = [6, 6, 6];
    const pos = randomPositions(300, 30, 3);
    const moved = pos.map((x) => x + 0.5 * 5); // Δ = 5
    for (const scheme of schemes) {
      const a = depositParticles(pos, shape, 30, scheme, { shift: 0.5 });
      const b = depositParticles(moved, shape, 30, scheme);
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
    }
  });

  it("rejects NaN and infinite positions, bad weights and wrong output length", () => {
    const shape: GridShape = [4, 4, 4];
    for (const scheme of schemes) {
      expect(() => depositParticles(new Float32Array([1, NaN, 1]), shape, 4, scheme)).toThrow(RangeError);
      expect(() => depositParticles(new Float32Array([Infinity, 1, 1]), shape, 4, scheme)).toThrow(
        RangeError,
      );
      expect(() =>
        interpolateAtParticles(new Float32Array(64), shape, 4, new Float32Array([1, 1, NaN]), scheme),
      ).toThrow(RangeError);
    }
    expect(() => depositParticles(new Float32Array(4), shape, 4, "cic")).toThrow(RangeError);
    expect(() =>
      depositParticles(new Float32Array(3), shape, 4, "cic", { weights: new Float32Array(2) }),
    ).toThrow(RangeError);
    expect(() =>
      depositParticles(new Float32Array(3), shape, 4, "cic", { out: new Float32Array(8) }),
    ).toThrow(RangeError);
    expect(() => depositParticles(new Float32Array(3), shape, 0, "cic")).toThrow(RangeError);
  });

  it("overwrites a supplied output grid and is bitwise reproducible", () => {
    const shape: GridShape = [8, 8, 8];
    const pos = randomPositions(2000, 50, 4);
    const out = new Float32Array(512).fill(7);
    const a = depositParticles(pos, shape, 50, "tsc", { out });
    expect(a).toBe(out);
    expect(depositParticles(pos, shape, 50, "tsc")).toEqual(a);
  });
});

describe("interpolateAtParticles", () => {
  it.each(schemes)("%s is the adjoint of deposit: <interp(g), w> = <g, deposit(w)>", (scheme) => {
    const shape: GridShape = [9, 8, 10];
    const box = 40;
    const pos = randomPositions(1000, box, 5);
    const r = rng(6);
    const g = Float32Array.from({ length: 9 * 8 * 10 }, () => r() - 0.5);
    const w = Float32Array.from({ length: 1000 }, () => r());
    const interp = interpolateAtParticles(g, shape, box, pos, scheme);
    const dep = depositParticles(pos, shape, box, scheme, { weights: w });
    let lhs = 0;
    let rhs = 0;
    let scale = 0;
    for (let p = 0; p < 1000; p++) {
      lhs += interp[p] * w[p];
      scale += Math.abs(interp[p] * w[p]);
    }
    for (let c = 0; c < g.length; c++) rhs += g[c] * dep[c];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-6 * scale);
  });

  it.each(schemes)("%s reproduces a constant grid exactly (partition of unity)", (scheme) => {
    const shape: GridShape = [5, 6, 7];
    const g = new Float32Array(210).fill(2.5);
    const v = interpolateAtParticles(g, shape, 10, randomPositions(500, 10, 7), scheme);
    for (const x of v) expect(x).toBeCloseTo(2.5, 6);
  });

  it("CIC interpolation is exact for a field linear between grid points", () => {
    const shape: GridShape = [8, 8, 8];
    const g = new Float32Array(512);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 512 / 8; j++) g[i * 64 + j] = i; // g = ix
    const pos = new Float32Array([2.25, 3, 3, 5.5, 1, 7]); // Δ = 1, x within [0, 7)
    const v = interpolateAtParticles(g, shape, 8, pos, "cic");
    expect(v[0]).toBeCloseTo(2.25, 6);
    expect(v[1]).toBeCloseTo(5.5, 6);
  });
});

describe("toDensityContrast", () => {
  it("turns counts into δ with zero mean and returns the mean", () => {
    const g = new Float32Array([1, 2, 3, 6]);
    expect(toDensityContrast(g)).toBe(3);
    expect(Array.from(g)).toEqual([-2 / 3, -1 / 3, 0, 1].map(Math.fround));
    expect(() => toDensityContrast(new Float32Array(4))).toThrow(RangeError);
  });
});
