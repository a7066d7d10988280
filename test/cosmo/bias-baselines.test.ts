import { describe, expect, it } from "vitest";
import {
  fitLinearBias,
  fitLocalBias,
  linearBiasCounts,
  localBiasCounts,
  poissonSampleCounts,
} from "../../src/cosmo/bias-baselines.js";
import { crossPowerSpectrum } from "../../src/cosmo/power-spectrum.js";
import { gaussianField } from "./random-fields.js";

describe("linear bias baseline", () => {
  const n = 32;
  const box = 256;
  const shape = [n, n, n] as const;
  const kMax = 0.1;
  const delta = gaussianField(n, box, (k) => 2000 * Math.pow(k / 0.1, -1.5), 11);
  const spectraOf = (h: Float32Array) => {
    const t = crossPowerSpectrum(h, delta, shape, { boxSize: box, threads: 1 });
    return { k: t.k, modes: t.modes, cross: t.power, powerMatter: t.powerB, powerHalo: t.powerA };
  };

  it("recovers b exactly from δ_h = b δ", () => {
    const fit = fitLinearBias([spectraOf(delta.map((v) => 1.7 * v))], kMax);
    expect(fit.bias).toBeCloseTo(1.7, 5);
    expect(fit.shells).toBeGreaterThan(0);
  });

  it("recovers b from δ_h = b δ + independent noise within its statistical error", () => {
    const noise = gaussianField(n, box, () => 3000, 12);
    const b = 2.3;
    const s = spectraOf(delta.map((v, i) => b * v + noise[i]));
    const fit = fitLinearBias([s], kMax);
    // b̂ − b = Σ N P_nδ / Σ N P_δδ; per mode Re(n δ*) has variance P_n P_δ / 2.
    let varNum = 0;
    let den = 0;
    for (let i = 0; i < s.k.length; i++) {
      if (s.k[i] > kMax) continue;
      varNum += (s.modes[i] * 3000 * s.powerMatter[i]) / 2;
      den += s.modes[i] * s.powerMatter[i];
    }
    expect(Math.abs(fit.bias - b)).toBeLessThan(4 * (Math.sqrt(varNum) / den));
    expect(Math.abs(fit.bias - b)).toBeGreaterThan(0); // the noise does move it
  });

  it("pools boxes mode-weighted and refuses a range without shells", () => {
    const a = { k: [0.05, 0.2], modes: [10, 100], cross: [20, 1], powerMatter: [10, 1] };
    const c = { k: [0.08], modes: [30], cross: [30], powerMatter: [10] };
    expect(fitLinearBias([a, c], 0.1).bias).toBeCloseTo((10 * 20 + 30 * 30) / (10 * 10 + 30 * 10), 12);
    expect(() => fitLinearBias([a], 0.01)).toThrow(/no power-spectrum shell at k ≤ 0.01/);
  });

  it("paints n̄ (1 + b δ) clipped at zero", () => {
    const out = linearBiasCounts(Float32Array.from([-1, -0.5, 0, 0.5]), 2, 1.5);
    expect(Array.from(out)).toEqual([0, 0.5, 2, 3.5]);
  });
});

describe("local bias baseline n_h(δ)", () => {
  it("recovers a step function of δ on equal-count bins and maps δ back through it", () => {
    const delta = Float32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000).map((v) => v / 1000 - 0.5);
    const counts = delta.map((d) => (d < 0 ? 1 : 3));
    const fn = fitLocalBias([{ delta, counts }], 4);
    expect(Array.from(fn.voxels)).toEqual([250, 250, 250, 250]);
    expect(Array.from(fn.meanCount)).toEqual([1, 1, 3, 3]);
    expect(Array.from(fn.edges)).toEqual([-0.25, 0, 0.25].map((v) => Math.fround(v)));
    expect(Array.from(localBiasCounts(fn, Float32Array.from([-10, -0.1, 0, 0.3, 10])))).toEqual([
      1, 1, 3, 3, 3,
    ]);
  });

  it("pools boxes and moves tied quantiles up so every bin holds voxels", () => {
    const a = { delta: new Float32Array(90).fill(-1), counts: new Float32Array(90) };
    const b = { delta: Float32Array.from({ length: 10 }, (_, i) => i), counts: new Float32Array(10).fill(4) };
    const fn = fitLocalBias([a, b], 5);
    expect(fn.voxels.every((v) => v > 0)).toBe(true);
    expect(fn.voxels.reduce((s, v) => s + v, 0)).toBe(100);
    // The 90 tied voxels at δ = −1 form the first bin; the quantile edges then start at 0, 1, 2, 3.
    expect(Array.from(fn.edges)).toEqual([0, 1, 2, 3]);
    expect(Array.from(fn.voxels)).toEqual([90, 1, 1, 1, 7]);
    expect(Array.from(fn.meanCount)).toEqual([0, 4, 4, 4, 4]);
  });
});

describe("Poisson sampling of a mean field", () => {
  it("has the Poisson mean and variance, and depends only on (seed, stream, voxel)", () => {
    const lambda = 3;
    const m = 40000;
    const x = poissonSampleCounts(new Float32Array(m).fill(lambda), 5, 77);
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      expect(Number.isInteger(v) && v >= 0).toBe(true);
      s += v;
      s2 += v * v;
    }
    const mean = s / m;
    const variance = s2 / m - mean * mean;
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / m));
    // var of the sample variance of a Poisson: (λ + 2λ²)/m
    expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt((lambda + 2 * lambda ** 2) / m));
    const tail = poissonSampleCounts(new Float32Array(m - 100).fill(lambda), 5, 77, 100);
    expect(Array.from(tail)).toEqual(Array.from(x.subarray(100)));
    expect(Array.from(poissonSampleCounts(new Float32Array(100).fill(lambda), 6, 77))).not.toEqual(
      Array.from(x.subarray(0, 100)),
    );
  });
});
