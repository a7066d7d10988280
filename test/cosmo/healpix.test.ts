import { describe, expect, it } from "vitest";
import { ang2pixNest, pix2angNest, pixelCount, vec2pixNest, checkNside } from "../../src/cosmo/healpix.js";

describe("HEALPix nested", () => {
  it("puts the 12 base pixels' centres where Górski et al. (2005, fig. 3) place them", () => {
    for (let f = 0; f < 12; f++) {
      const { theta, phi } = pix2angNest(1, f);
      const row = Math.floor(f / 4);
      const zExpected = [2 / 3, 0, -2 / 3][row];
      const phiExpected = (row === 1 ? 0 : Math.PI / 4) + (f % 4) * (Math.PI / 2);
      expect(Math.cos(theta)).toBeCloseTo(zExpected, 14);
      expect(phi).toBeCloseTo(phiExpected, 14);
      expect(ang2pixNest(1, theta, phi)).toBe(f);
    }
  });

  for (const nside of [1, 2, 4, 16]) {
    it(`round-trips every pixel centre at nside ${nside}, with the paper's ring latitudes and counts`, () => {
      const rings = new Map<string, number>();
      for (let p = 0; p < pixelCount(nside); p++) {
        const { theta, phi } = pix2angNest(nside, p);
        expect(ang2pixNest(nside, theta, phi)).toBe(p);
        const key = Math.cos(theta).toFixed(12);
        rings.set(key, (rings.get(key) ?? 0) + 1);
      }
      // 4·nside − 1 rings; polar ring i (1 ≤ i < nside) at z = 1 − i²/(3 nside²) holds 4i pixels;
      // equatorial rings at z = 4/3 − 2i/(3 nside) hold 4 nside (paper §4, eqs. 4–5).
      expect(rings.size).toBe(4 * nside - 1);
      for (let i = 1; i < nside; i++) {
        expect(rings.get((1 - (i * i) / (3 * nside * nside)).toFixed(12))).toBe(4 * i);
        expect(rings.get((-(1 - (i * i) / (3 * nside * nside))).toFixed(12))).toBe(4 * i);
      }
      for (let i = nside; i <= 3 * nside; i++) {
        const z = 4 / 3 - (2 * i) / (3 * nside);
        expect(rings.get((Math.abs(z) < 1e-13 ? 0 : z).toFixed(12))).toBe(4 * nside);
      }
    });
  }

  it("gives equal counts to every pixel for uniform points on the sphere (χ² test)", () => {
    const nside = 4;
    const npix = pixelCount(nside);
    const counts = new Array<number>(npix).fill(0);
    const n = 192000;
    // A Fibonacci-free, seeded uniform sampling: z uniform in [−1, 1], φ uniform.
    let s = 12345;
    const u = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s + 0.5) / 4294967296;
    };
    for (let i = 0; i < n; i++) {
      const z = 2 * u() - 1;
      const phi = 2 * Math.PI * u();
      const r = Math.sqrt(1 - z * z);
      counts[vec2pixNest(nside, r * Math.cos(phi), r * Math.sin(phi), z)]++;
    }
    const expected = n / npix;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    // 191 degrees of freedom: mean 191, σ ≈ 19.5; 5σ bound.
    expect(chi2).toBeLessThan(191 + 5 * 19.5);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });

  it("maps the poles and φ wrap-around consistently and validates nside", () => {
    expect(ang2pixNest(8, 0, 0)).toBe(ang2pixNest(8, 1e-9, 0));
    expect(ang2pixNest(8, Math.PI / 2, 2 * Math.PI)).toBe(ang2pixNest(8, Math.PI / 2, 0));
    expect(ang2pixNest(8, Math.PI / 2, -0.1)).toBe(ang2pixNest(8, Math.PI / 2, 2 * Math.PI - 0.1));
    expect(vec2pixNest(2 ** 20, 1, 2, 3)).toBeLessThan(12 * 4 ** 20);
    const big = 2 ** 20;
    const p = vec2pixNest(big, 0.3, -0.2, 0.9);
    const { theta, phi } = pix2angNest(big, p);
    expect(ang2pixNest(big, theta, phi)).toBe(p);
    expect(() => checkNside(3)).toThrow(/power of two/);
  });
});
