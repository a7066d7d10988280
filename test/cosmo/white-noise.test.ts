import { describe, expect, it } from "vitest";
import { fillWhiteNoise, gaussianAt, triple32 } from "../../src/cosmo/white-noise.js";
import { normalQuantile } from "../../src/cosmo/normal-quantile.js";

/** Upper tail Q(a) = ∫_a^∞ φ(t) dt by composite Simpson over [a, a + 16] (independent of AS 241). */
function upperTail(a: number): number {
  const n = 40000;
  const h = 16 / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const t = a + i * h;
    const w = i === 0 || i === n ? 1 : i % 2 ? 4 : 2;
    s += w * Math.exp(-0.5 * t * t);
  }
  return (s * h) / 3 / Math.sqrt(2 * Math.PI);
}
/** Φ(x), computed as a tail integral so that far-tail probabilities keep full relative precision. */
function normalCdf(x: number): number {
  return x < 0 ? upperTail(-x) : 1 - upperTail(x);
}

describe("normal quantile (AS 241)", () => {
  it("matches published quantiles", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.8413447460685429)).toBeCloseTo(1.0, 13);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 13);
  });
  it("inverts an independently integrated CDF across the centre and both tail branches", () => {
    for (const x of [-7.5, -5.2, -3.1, -1.3, -0.2, 0.4, 1.7, 2.9, 4.4, 6.1]) {
      const p = normalCdf(x);
      // p = Φ(x) carries a relative error ~1e-15/p from 1 − Q for x > 0; a 1e-8 tolerance in x covers it.
      expect(normalQuantile(p)).toBeCloseTo(x, 8);
    }
  });
  it("is antisymmetric and handles the ends", () => {
    for (const p of [2 ** -20, 1e-5, 0.01, 0.2, 0.4])
      expect(normalQuantile(1 - p) + normalQuantile(p)).toBeCloseTo(0, 7);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe("white noise keyed by (seed, index)", () => {
  it("triple32 is the published mixer (fixed points of the algorithm documentation)", () => {
    // Bijective on 32 bits: distinct inputs never collide on a sample, and 0 maps to 0.
    expect(triple32(0)).toBe(0);
    const seen = new Set<number>();
    for (let i = 1; i < 20000; i++) seen.add(triple32(i));
    expect(seen.size).toBe(19999);
  });

  it("a sub-range equals the same slice of the whole field (sharding/tiling invariance)", () => {
    const whole = fillWhiteNoise(7, new Float32Array(5000));
    const part = fillWhiteNoise(7, new Float32Array(1234), 1701);
    expect(Array.from(part)).toEqual(Array.from(whole.subarray(1701, 1701 + 1234)));
    expect(gaussianAt(7, 4321)).toBeCloseTo(whole[4321], 6);
  });

  it("indices beyond 2^32 (boxes larger than 1625³) are distinct streams", () => {
    const a = fillWhiteNoise(1, new Float32Array(8), 2 ** 32 - 4);
    const b = fillWhiteNoise(1, new Float32Array(8), 0);
    expect(Array.from(a.subarray(4))).not.toEqual(Array.from(b.subarray(0, 4)));
    expect(gaussianAt(1, 2 ** 32 + 1)).toBeCloseTo(a[5], 6);
  });

  it("has unit-Gaussian moments within sampling error", () => {
    const n = 1 << 21;
    const w = fillWhiteNoise(123, new Float32Array(n));
    let m1 = 0,
      m2 = 0,
      m3 = 0,
      m4 = 0,
      lag = 0;
    for (let i = 0; i < n; i++) {
      const v = w[i];
      m1 += v;
      m2 += v * v;
      m3 += v * v * v;
      m4 += v * v * v * v;
      if (i > 0) lag += v * w[i - 1];
    }
    m1 /= n;
    m2 /= n;
    m3 /= n;
    m4 /= n;
    lag /= n - 1;
    // Standard errors: mean 1/√n, variance √(2/n), skewness √(6/n), kurtosis √(24/n); 5σ bounds.
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m3)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
    expect(Math.abs(lag)).toBeLessThan(5 / Math.sqrt(n));
    // Tail fraction beyond 3σ: p = 0.0026998, binomial error.
    let beyond = 0;
    for (let i = 0; i < n; i++) if (Math.abs(w[i]) > 3) beyond++;
    const p = 0.0026997960632601866;
    expect(Math.abs(beyond / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });

  it("different seeds give uncorrelated fields", () => {
    const n = 1 << 18;
    const a = fillWhiteNoise(1, new Float32Array(n));
    const b = fillWhiteNoise(2, new Float32Array(n));
    let c = 0;
    for (let i = 0; i < n; i++) c += a[i] * b[i];
    expect(Math.abs(c / n)).toBeLessThan(5 / Math.sqrt(n));
  });

  it("rejects bad seeds", () => {
    expect(() => fillWhiteNoise(-1, new Float32Array(2))).toThrow(RangeError);
    expect(() => fillWhiteNoise(1.5, new Float32Array(2))).toThrow(RangeError);
  });
});
