/**
 * 2LPT against linear theory. Tolerances come from cosmic variance: a shell with N independent
 * modes of a Gaussian field has σ_P = P/√N (= P √(2/N) with N counting k and −k separately).
 */
import { describe, expect, it } from "vitest";
import { makeCosmology, hubbleE } from "../../src/cosmo/cosmology.js";
import { growthFactors } from "../../src/cosmo/growth.js";
import { LinearPower } from "../../src/cosmo/linear-power.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { powerSpectrum, type PowerSpectrumTable } from "../../src/cosmo/power-spectrum.js";
import { fillWhiteNoise } from "../../src/cosmo/white-noise.js";

const cosmology = makeCosmology();

/** Theory averaged over exactly the modes of each shell (floor(|m|) binning, independent modes), per bin index. */
function binnedTheory(
  n: number,
  boxSize: number,
  p: (k: number) => number,
): Map<number, { k: number; p: number; modes: number }> {
  const kf = (2 * Math.PI) / boxSize;
  const sums = new Map<number, { k: number; p: number; modes: number }>();
  const h = n / 2;
  for (let a = -h + 1; a <= h; a++) {
    for (let b = -h + 1; b <= h; b++) {
      for (let c = -h + 1; c <= h; c++) {
        if (a === 0 && b === 0 && c === 0) continue;
        const m = Math.sqrt(a * a + b * b + c * c);
        const bin = Math.floor(m);
        const s = sums.get(bin) ?? { k: 0, p: 0, modes: 0 };
        // Every mode of the full cube, weight 1/2: each independent mode is counted once on average.
        s.k += 0.5 * m * kf;
        s.p += 0.5 * p(m * kf);
        s.modes += 0.5;
        sums.set(bin, s);
      }
    }
  }
  for (const s of sums.values()) {
    s.k /= s.modes;
    s.p /= s.modes;
  }
  return sums;
}

function chiSquare(
  table: PowerSpectrumTable,
  theory: Map<number, { p: number; modes: number }>,
  kMax: number,
  scale = 1,
) {
  let chi2 = 0;
  let dof = 0;
  for (let i = 0; i < table.k.length; i++) {
    if (table.k[i] > kMax) continue;
    const bin = Math.floor(table.k[i] / table.kFundamental + 1e-9);
    const t = theory.get(bin);
    if (!t) throw new Error(`no theory for bin ${bin}`);
    const expected = scale * t.p;
    // |δ_k|² of one independent Gaussian mode is exponential (sd = mean), so a shell of N
    // independent modes has σ_P = P/√N, i.e. P√(2/N) with N counted over ±k.
    const sigma = expected / Math.sqrt(table.modes[i]);
    chi2 += ((table.power[i] - expected) / sigma) ** 2;
    dof++;
  }
  return { chi2, dof };
}

describe("linear density field", () => {
  const n = 64;
  const box = 400;
  const z = 0.5;
  const res = runLpt({
    gridSide: n,
    boxSize: box,
    redshift: z,
    seed: 11,
    cosmology,
    want: { linearDensity: true },
  });
  const table = powerSpectrum(res.linearDensity!, [n, n, n], { boxSize: box });
  const d1 = growthFactors(cosmology, z).d1;
  const plin = new LinearPower(cosmology);
  const theory = binnedTheory(n, box, (k) => d1 * d1 * plin.at(k, 0));

  it("has P(k) = D1(z)² P_lin(k) within cosmic variance over all shells", () => {
    const { chi2, dof } = chiSquare(table, theory, Infinity);
    expect(dof).toBeGreaterThan(40);
    // χ² of dof independent shells: mean dof, sd √(2 dof); 5 sd is a ~1e-6 false alarm rate.
    expect(chi2).toBeLessThan(dof + 5 * Math.sqrt(2 * dof));
  });

  it("the same statistic rejects a 5% amplitude error", () => {
    const { chi2, dof } = chiSquare(table, theory, Infinity, 1.05);
    expect(chi2).toBeGreaterThan(dof + 5 * Math.sqrt(2 * dof));
  });

  it("reports the mean |k| and the independent-mode count of each shell", () => {
    for (let i = 0; i < table.k.length; i++) {
      const bin = Math.floor(table.k[i] / table.kFundamental + 1e-9);
      const t = theory.get(bin)!;
      // The half-weighted full cube differs from the independent-mode count only through the 7
      // self-conjugate Nyquist modes (weight 1/2 here, 1 in the estimator).
      expect(Math.abs(table.modes[i] - t.modes)).toBeLessThanOrEqual(1.5);
      expect(Math.abs(table.k[i] / t.k - 1)).toBeLessThan(1e-4);
    }
  });
});

describe("2LPT density at z = 0", () => {
  const n = 64;
  const box = 1000;
  const res = runLpt({
    gridSide: n,
    boxSize: box,
    redshift: 0,
    seed: 5,
    cosmology,
    want: { density: true, particles: true },
  });
  const delta = res.density!;

  it("agrees with linear theory for k ≤ 0.05 h/Mpc within cosmic variance", () => {
    const table = powerSpectrum(delta, [n, n, n], { boxSize: box, compensate: "cic" });
    const plin = new LinearPower(cosmology);
    const theory = binnedTheory(n, box, (k) => plin.at(k, 0));
    const { chi2, dof } = chiSquare(table, theory, 0.05);
    expect(dof).toBeGreaterThanOrEqual(7);
    expect(chi2).toBeLessThan(dof + 5 * Math.sqrt(2 * dof));
  });

  it("has zero mean and positive skewness (gravitational collapse)", () => {
    let m1 = 0,
      m2 = 0,
      m3 = 0;
    for (const v of delta) m1 += v;
    m1 /= delta.length;
    for (const v of delta) {
      m2 += (v - m1) ** 2;
      m3 += (v - m1) ** 3;
    }
    m2 /= delta.length;
    m3 /= delta.length;
    expect(Math.abs(m1)).toBeLessThan(1e-5);
    // Perturbation theory: skewness ≈ S3 σ with S3 ≈ 34/7 − (n+3) ≈ 3–4; ≫ its sampling error (~√(6/N)).
    const skew = m3 / m2 ** 1.5;
    expect(skew).toBeGreaterThan(10 * Math.sqrt(6 / delta.length));
    expect(skew).toBeGreaterThan(0.5);
  });

  it("keeps every particle inside [0, L)", () => {
    const pos = res.positions!;
    for (let i = 0; i < pos.length; i++) {
      if (!(pos[i] >= 0 && pos[i] < box)) throw new Error(`position ${pos[i]} at ${i}`);
    }
  });
});

describe("Zel'dovich velocities", () => {
  it("equal a H f1 times the displacement exactly", () => {
    const n = 16;
    const box = 200;
    const z = 1;
    const r = runLpt({
      gridSide: n,
      boxSize: box,
      redshift: z,
      seed: 3,
      cosmology,
      order: 1,
      want: { particles: true },
    });
    const g = growthFactors(cosmology, z);
    const aH = (100 * hubbleE(cosmology, z)) / (1 + z);
    const dx = box / n;
    let maxErr = 0;
    for (let p = 0; p < n ** 3; p++) {
      const q = [Math.floor(p / (n * n)) * dx, (Math.floor(p / n) % n) * dx, (p % n) * dx];
      for (let c = 0; c < 3; c++) {
        let disp = r.positions![3 * p + c] - q[c];
        disp -= Math.round(disp / box) * box;
        maxErr = Math.max(maxErr, Math.abs(r.velocities![3 * p + c] - aH * g.f1 * disp));
      }
    }
    // float32 positions near L = 200 carry ~1e-5 Mpc/h rounding; times aH f1 ≈ 100 km/s per Mpc/h.
    expect(maxErr).toBeLessThan(5e-3);
  });
});

describe("determinism", () => {
  const run = (threads: number, noise?: Float32Array) =>
    runLpt({
      gridSide: 30,
      boxSize: 300,
      redshift: 0,
      seed: 99,
      cosmology,
      threads,
      noise,
      want: { density: true },
    }).density!;

  it("gives bitwise-identical fields for 1, 2 and 3 threads", () => {
    const a = run(1);
    expect(Buffer.from(run(2).buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(Buffer.from(run(3).buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });

  it("external white noise equal to the seeded noise reproduces the seeded field", () => {
    const noise = fillWhiteNoise(99, new Float32Array(30 ** 3));
    expect(Buffer.from(run(2, noise).buffer).equals(Buffer.from(run(2).buffer))).toBe(true);
  });

  it("rejects a grid side with a prime factor above 5, and bad box or redshift", () => {
    expect(() => runLpt({ gridSide: 14, boxSize: 100, redshift: 0, seed: 1, cosmology })).toThrow(
      /prime factors/,
    );
    expect(() => runLpt({ gridSide: 16, boxSize: -1, redshift: 0, seed: 1, cosmology })).toThrow(RangeError);
    expect(() => runLpt({ gridSide: 16, boxSize: 100, redshift: -0.5, seed: 1, cosmology })).toThrow(
      RangeError,
    );
  });
});
