import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { symmetricEigen3 } from "../../src/cosmo/symmetric-eigen.js";

type Sym = [number, number, number, number, number, number];

function apply(m: Sym, v: readonly number[]): number[] {
  const [xx, yy, zz, xy, xz, yz] = m;
  return [
    xx * v[0] + xy * v[1] + xz * v[2],
    xy * v[0] + yy * v[1] + yz * v[2],
    xz * v[0] + yz * v[1] + zz * v[2],
  ];
}

describe("symmetricEigen3", () => {
  it("satisfies A v = λ v with orthonormal vectors and sorted values for random symmetric matrices", () => {
    const entry = fc.double({ min: -10, max: 10, noNaN: true });
    fc.assert(
      fc.property(fc.tuple(entry, entry, entry, entry, entry, entry), (t) => {
        const m = t as Sym;
        const { values, vectors } = symmetricEigen3(m);
        const scale = 1 + Math.max(...m.map(Math.abs));
        expect(values[0]).toBeGreaterThanOrEqual(values[1]);
        expect(values[1]).toBeGreaterThanOrEqual(values[2]);
        // Trace is invariant.
        expect(Math.abs(values[0] + values[1] + values[2] - (m[0] + m[1] + m[2]))).toBeLessThan(
          1e-12 * scale,
        );
        for (let k = 0; k < 3; k++) {
          const av = apply(m, vectors[k]);
          for (let d = 0; d < 3; d++)
            expect(Math.abs(av[d] - values[k] * vectors[k][d])).toBeLessThan(1e-12 * scale);
          for (let j = 0; j < 3; j++) {
            const dot =
              vectors[k][0] * vectors[j][0] + vectors[k][1] * vectors[j][1] + vectors[k][2] * vectors[j][2];
            expect(Math.abs(dot - (j === k ? 1 : 0))).toBeLessThan(1e-12);
          }
        }
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it("returns the frame axes for a diagonal matrix, largest first, with positive signs", () => {
    const { values, vectors } = symmetricEigen3([1, 5, 3, 0, 0, 0]);
    expect(values).toEqual([5, 3, 1]);
    expect(vectors).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
    ]);
  });

  it("resolves a nearly degenerate pair", () => {
    // diag(1, 1 + 1e-12, 2) rotated by 45° in the x–y plane.
    const e = 1e-12;
    const { values } = symmetricEigen3([1 + e / 2, 1 + e / 2, 2, e / 2, 0, 0]);
    expect(values[0]).toBe(2);
    expect(Math.abs(values[1] - (1 + e))).toBeLessThan(1e-15);
    expect(Math.abs(values[2] - 1)).toBeLessThan(1e-15);
  });
});
