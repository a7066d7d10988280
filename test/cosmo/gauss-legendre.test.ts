import { describe, expect, it } from "vitest";
import { gaussLegendreRule, integrateGaussLegendre } from "../../src/cosmo/gauss-legendre.js";

describe("Gauss–Legendre quadrature", () => {
  it("has the textbook 2- and 3-point nodes and weights", () => {
    const r2 = gaussLegendreRule(2);
    expect(r2.nodes[0]).toBeCloseTo(-1 / Math.sqrt(3), 15);
    expect(r2.nodes[1]).toBeCloseTo(1 / Math.sqrt(3), 15);
    expect(r2.weights[0]).toBeCloseTo(1, 15);
    const r3 = gaussLegendreRule(3);
    expect(r3.nodes[0]).toBeCloseTo(-Math.sqrt(3 / 5), 15);
    expect(r3.nodes[1]).toBeCloseTo(0, 15);
    expect(r3.weights[1]).toBeCloseTo(8 / 9, 15);
    expect(r3.weights[2]).toBeCloseTo(5 / 9, 15);
  });

  it("integrates polynomials of degree 2n − 1 exactly and not degree 2n", () => {
    for (const n of [1, 4, 12, 20]) {
      const rule = gaussLegendreRule(n);
      const deg = 2 * n - 1;
      // ∫_0^1 x^d dx = 1/(d + 1)
      expect(integrateGaussLegendre((x) => Math.pow(x, deg), 0, 1, 1, rule)).toBeCloseTo(1 / (deg + 1), 13);
      const wrong = integrateGaussLegendre((x) => Math.pow(x, deg + 1), 0, 1, 1, rule);
      expect(Math.abs(wrong - 1 / (deg + 2))).toBeGreaterThan(1e-16);
      let wsum = 0;
      for (const w of rule.weights) wsum += w;
      expect(wsum).toBeCloseTo(2, 14);
    }
  });

  it("converges geometrically on analytic integrands with panels", () => {
    const exact = Math.atan(10) - Math.atan(-10); // ∫ 1/(1+x²) over [−10, 10]
    expect(integrateGaussLegendre((x) => 1 / (1 + x * x), -10, 10, 20)).toBeCloseTo(exact, 12);
  });

  it("rejects a non-positive order", () => {
    expect(() => gaussLegendreRule(0)).toThrow(RangeError);
  });
});
