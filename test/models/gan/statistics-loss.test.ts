import { describe, expect, it } from "vitest";
import { scaleDensity } from "../../../src/models/gan/data-scaling.js";
import {
  batchCoherence,
  digamma,
  empiricalLogVarianceOffset,
  logVarianceBias,
  shellNorm,
  StatisticsLoss,
  statisticsTargets,
} from "../../../src/models/gan/statistics-loss.js";
import { evaluateUnderSymmetries } from "../../../src/models/gan/sample-orientation.js";

/** `length` standard normal values (mulberry32 uniforms, Box–Muller). */
function whiteNoise(length: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++)
    out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Fields of c for ρ = exp(σ g − σ²/2) with g white noise, side n. */
function lognormalFields(count: number, n: number, sigma: number, kappa: number, seed: number): Float32Array {
  return whiteNoise(count * n ** 3, seed).map((g) => scaleDensity(Math.exp(sigma * g - (sigma * sigma) / 2), kappa));
}

describe("statistics loss (train gan --stats-weight)", () => {
  const n = 8;
  const kappa = 2;

  it("measures P_b of a plane wave as A² N³ / (2 M_b) in its shell and nothing elsewhere", () => {
    // ρ = 1 + A cos(2π·3x/N): X(±k) = A N³/2, so P_3 = 2 (A N³/2)² / (M_3 N³); other shells 0.
    const A = 0.5;
    const c = new Float32Array(2 * n ** 3);
    for (let f = 0; f < 2; f++)
      for (let x = 0; x < n; x++)
        for (let j = 0; j < n * n; j++)
          c[f * n ** 3 + x * n * n + j] = scaleDensity(1 + A * Math.cos((2 * Math.PI * 3 * x) / n), kappa);
    const t = statisticsTargets(n, kappa, 1e6, [c]);
    // Shell 3 of an 8³ grid: integer vectors with 3 ≤ |n| < 4 (full grid, Nyquist folded).
    let modes = 0;
    const sig = (i: number) => (i <= n / 2 ? i : i - n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) {
          const r = Math.sqrt(sig(i) ** 2 + sig(j) ** 2 + sig(k) ** 2);
          if (r >= 3 && r < 4) modes++;
        }
    // The full-grid count above double-counts nothing: kz runs over all n here, the loss's
    // half-complex count gives kz = 0 and kz = N/2 weight 1 and the rest 2 — the same total.
    expect(t.meanPower[2]).toBeCloseTo((A * A * n ** 3) / (2 * modes), 4);
    for (const b of [0, 1, 3]) expect(t.meanPower[b]).toBeLessThan(1e-9);
  });

  it("is zero on the cubes its targets came from, but for the small-batch variance offset", () => {
    const c = lognormalFields(6, n, 0.8, kappa, 1);
    const loss = new StatisticsLoss(statisticsTargets(n, kappa, 1e6, [c]), {
      weight: 1,
      varianceWeight: 1,
      environmentWeight: 1,
    });
    const e = loss.evaluate(c);
    loss.dispose();
    expect(e.power).toBeLessThan(1e-10);
    expect(e.pdf).toBeLessThan(1e-10);
    // s² = σ² exactly here, so every shell's L_V is (β_6 / ln 1.25)², β_6 = ψ(5/2) − ln(5/2);
    // L_E's residuals (the slope is the data's own) and its Var ln m too: ⟨l_b²⟩_b + l_m².
    expect(e.variance).toBeCloseTo((logVarianceBias(6) / Math.log(1.25)) ** 2, 10);
    expect(e.environment).toBeCloseTo(2 * (logVarianceBias(6) / Math.log(1.25)) ** 2, 8);
    // The empirical offset for a batch of all 6 target cubes is 0 (every resampled batch is the
    // whole set), so L_V vanishes on them.
    const empirical = new StatisticsLoss(statisticsTargets(n, kappa, 1e6, [c]), {
      weight: 1,
      varianceWeight: 1,
      varianceOffset: "empirical",
    });
    const v = empirical.evaluate(c).variance;
    empirical.dispose();
    expect(v).toBeLessThan(1e-10);
  });

  it("environment L_E: slope 2 and no scatter for one field at several mean densities; large for scatter of its own", () => {
    // P_b(m ρ₀) = m² P_b(ρ₀) at every shell b ≥ 1 and the mean is m ⟨ρ₀⟩, so ln P_b = 2 ln m + const.
    const base = whiteNoise(n ** 3, 21).map((g) => Math.exp(0.5 * g - 0.125));
    const m = [0.6, 0.8, 1, 1.3, 1.7, 2.2];
    const fields = new Float32Array(m.length * n ** 3);
    m.forEach((mi, i) => fields.set(base.map((r) => scaleDensity(mi * r, kappa)), i * n ** 3));
    const t = statisticsTargets(n, kappa, 1e6, [fields]);
    for (let b = 0; b < n / 2; b++) {
      expect(t.powerSlope[b]).toBeCloseTo(2, 3);
      expect(t.residualVariance[b]).toBeLessThan(1e-8);
    }
    // Against targets of independent lognormal cubes (their own scatter), a batch whose power
    // follows the mean exactly has s²_b ≪ σ²_b (L_E large, ln s² → −∞), and so does one whose
    // amplitude varies ≈ 3× at fixed mean: the part sees scatter in both directions.
    const data = lognormalFields(32, n, 0.5, kappa, 22);
    const loss = new StatisticsLoss(statisticsTargets(n, kappa, 1e6, [data]), {
      weight: 1,
      varianceWeight: 0,
      environmentWeight: 1,
    });
    const own = loss.evaluate(data.subarray(0, 16 * n ** 3)).environment;
    // ρ = e^{σg}/⟨e^{σg}⟩ of one white-noise field g at σ = 0.25 and 0.8: mean 1, power ≈ 10× apart.
    const g = whiteNoise(n ** 3, 23);
    const amplitude = new Float32Array(6 * n ** 3);
    [0.25, 0.8, 0.25, 0.8, 0.25, 0.8].forEach((sigma, i) => {
      const r = g.map((x) => Math.exp(sigma * x));
      const mean = r.reduce((a, x) => a + x, 0) / r.length;
      amplitude.set(
        r.map((x) => scaleDensity(x / mean, kappa)),
        i * n ** 3,
      );
    });
    const scattered = loss.evaluate(amplitude).environment;
    loss.dispose();
    // Own cubes: ln(s²/σ²) of 16 draws scatters by ≈ sqrt(2/15) ≈ 0.37 per shell, < 3 tolerance units.
    expect(own).toBeLessThan(9);
    expect(scattered).toBeGreaterThan(4 * own);
  });

  it("relative scatter L_S: blind to the amplitude that L_P and L_V see, large for a narrower P(k) distribution", () => {
    const data = lognormalFields(32, n, 0.5, kappa, 31);
    const targets = statisticsTargets(n, kappa, 1e6, [data]);
    const loss = new StatisticsLoss(targets, { weight: 1, varianceWeight: 1, scatterWeight: 1 });
    const v = n ** 3;
    // The data's own cubes, then the same cubes with every contrast scaled by 1.3: P × 1.69 and
    // Var P × 2.86 in every shell, Var P/P̄² unchanged.
    const own = loss.evaluate(data);
    const louder = Float32Array.from(data);
    for (let i = 0; i < louder.length; i++) {
      const rho = (kappa * (1 + data[i])) / (1 - data[i]);
      louder[i] = scaleDensity(Math.max(1e-6, 1 + 1.3 * (rho - 1)), kappa);
    }
    const scaled = loss.evaluate(louder);
    // Own cubes (all 32 of them, s² = σ² exactly): L_P = 0, L_V and L_S only the small-batch
    // offset β_32; scaled: L_P and L_V far out, L_S unchanged to the float32 fields' rounding.
    expect(own.power).toBeLessThan(1e-10);
    const offset = (logVarianceBias(32) / Math.log(1.25)) ** 2;
    expect(own.scatter).toBeCloseTo(offset, 8);
    expect(scaled.power).toBeGreaterThan(10);
    expect(scaled.variance).toBeGreaterThan(10);
    expect(Math.abs(scaled.scatter - own.scatter)).toBeLessThan(0.02);
    // Half the cubes at their own amplitude and half at 1/1.3 of it: the same shells, a wider
    // spread of P at its mean — L_S rises well above the offset.
    const mixed = Float32Array.from(data);
    for (let i = 0; i < 16 * v; i++) {
      const rho = (kappa * (1 + data[i])) / (1 - data[i]);
      mixed[i] = scaleDensity(Math.max(1e-6, 1 + (rho - 1) / 1.3), kappa);
    }
    expect(loss.evaluate(mixed).scatter).toBeGreaterThan(offset + 0.5);
    loss.dispose();
  });

  it("homogeneity: R ≈ 1 for independent fields, B(a²/2 + σ²/B)/(a²/2 + σ²) with a shared plane wave", () => {
    // B = 8 fields of 16³ white noise (σ = 0.2) with or without the same cos wave of amplitude a
    // = 0.3. Voxel variances over 4096 voxels scatter by √(2/4096) ≈ 2 % (the batch mean's as
    // much), so 10 % is 4–5σ.
    const B = 8;
    const side = 16;
    const v = side ** 3;
    const c0 = whiteNoise(B * v, 7).map((g) => 0.2 * g);
    const sigma2 = (() => {
      let s1 = 0;
      let s2 = 0;
      for (const x of c0) {
        s1 += x;
        s2 += x * x;
      }
      return s2 / c0.length - (s1 / c0.length) ** 2;
    })();
    expect(Math.abs(batchCoherence(c0, B, v).ratio - 1)).toBeLessThan(0.1);
    const a = 0.3;
    const c1 = Float32Array.from(c0);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < v; j++) c1[i * v + j] += a * Math.cos((2 * Math.PI * 3 * Math.floor(j / (side * side))) / side);
    const expected = (B * ((a * a) / 2 + sigma2 / B)) / ((a * a) / 2 + sigma2);
    const r = batchCoherence(c1, B, v).ratio;
    expect(Math.abs(r / expected - 1)).toBeLessThan(0.1);
    expect(r).toBeGreaterThan(3);
  });

  it("homogeneity of ρ (--stats-homogeneity-of density) sees dense peaks locked to a sub-lattice that c hardly shows", () => {
    // B = 16 fields of 16³: lognormal background (σ_ln 0.5) and 20 peaks of ρ = 300 each, at any
    // voxel or only where x, y, z ≡ 0 mod 4 (64 sites). Locked, the mean field holds ≈ 94 at those
    // sites: on ρ, R ≈ 16 (138 + 440/16)/440 ≈ 6 (ln R / ln 1.25 ≈ 8); on c (κ = 2), where a peak
    // is c ≈ 1 against a background spread of ≈ 0.3, R ≈ 1.4. Unlocked, both R ≈ 1 (|ln R| well
    // under ln 1.25, so L_M < 1).
    const B = 16;
    const side = 16;
    const v = side ** 3;
    const fields = (locked: boolean, seed: number): Float32Array => {
      const g = whiteNoise(B * v + B * 20 * 3, seed);
      const rho = Float32Array.from({ length: B * v }, (_, j) => Math.exp(0.5 * g[j] - 0.125));
      let u = B * v;
      const site = () => Math.min(side - 1, Math.floor(((g[u++] % 1) + 1) % 1 * side));
      for (let i = 0; i < B; i++)
        for (let p = 0; p < 20; p++) {
          let [x, y, z] = [site(), site(), site()];
          if (locked) [x, y, z] = [x - (x % 4), y - (y % 4), z - (z % 4)];
          rho[i * v + (x * side + y) * side + z] = 300;
        }
      return rho.map((r) => scaleDensity(r, kappa));
    };
    const targets = statisticsTargets(side, kappa, 1000, [fields(false, 11)]);
    const lossOf = (homogeneityOf: "scaled" | "density") =>
      new StatisticsLoss(targets, { weight: 1, varianceWeight: 0, homogeneityWeight: 1, homogeneityOf });
    const onRho = lossOf("density");
    const onC = lossOf("scaled");
    const locked = fields(true, 12);
    const free = fields(false, 13);
    expect(onRho.evaluate(locked).homogeneity).toBeGreaterThan(30);
    expect(onC.evaluate(locked).homogeneity).toBeLessThan(8);
    expect(onRho.evaluate(free).homogeneity).toBeLessThan(1);
    expect(onC.evaluate(free).homogeneity).toBeLessThan(1);
    onRho.dispose();
    onC.dispose();
  });

  it("coherence L_K: ln R_b within its chi-square scatter for independent fields, R_b ≈ B at a shared wave's shell", () => {
    const targets = statisticsTargets(n, kappa, 50, [lognormalFields(16, n, 0.5, kappa, 4)]);
    const loss = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0, coherenceWeight: 1 });
    const B = 16;
    const independent = lognormalFields(B, n, 0.5, kappa, 5);
    // Independent draws: P_b(ρ̄) sums M_b independent |X|² of mean P̄_b/B, so ln R_b scatters
    // by about 1/√M_b around 0 (a few tenths, like ln 1.25 itself): L_K of order 1.
    expect(loss.evaluate(independent).coherence).toBeLessThan(2);
    // The same plane wave (shell 3, amplitude 0.8 in c) added to every field: at its shell the
    // batch mean keeps all of its power, R_3 → B (ln 16 / ln 1.25 = 12.4, squared ≈ 154, over
    // n/2 = 8 shells ≈ 19).
    const shared = Float32Array.from(independent);
    for (let i = 0; i < B; i++)
      for (let x = 0; x < n; x++)
        for (let j = 0; j < n * n; j++) shared[(i * n + x) * n * n + j] += 0.8 * Math.cos((2 * Math.PI * 3 * x) / n);
    expect(loss.evaluate(shared).coherence).toBeGreaterThan(10);
    loss.dispose();
  });

  it("coherence with a fixed denominator: the gradient loses exactly L_K's pull on every field's power", () => {
    // R_b = B P_b(ρ̄)/P̄_b does not change when every field is scaled, ρ_i → λρ_i, so the full
    // gradient of L_K has no component along ρ; with P̄_b held constant, d/dλ ln R_b = 2 and
    // the component is w_K Σ_b 2 l_b · 2/ln 1.25 / n_b, l_b = ln R_b / ln 1.25 (P_b measured
    // here through statisticsTargets of two copies of a field).
    const B = 4;
    const c = lognormalFields(B, n, 0.5, kappa, 31);
    for (let i = 0; i < B; i++) for (let j = 0; j < n ** 3; j++) c[i * n ** 3 + j] += 0.2 * Math.sin(j / 3);
    const targets = statisticsTargets(n, kappa, 1e6, [lognormalFields(8, n, 0.5, kappa, 32)]);
    const settings = { weight: 1, varianceWeight: 0, pdfWeight: 0, coherenceWeight: 1 };
    const full = new StatisticsLoss(targets, settings);
    const fixed = new StatisticsLoss(targets, { ...settings, coherenceFixedPower: true });
    const eFull = full.evaluate(c);
    const eFixed = fixed.evaluate(c);
    expect(eFixed.loss).toBe(eFull.loss);
    const rho = Array.from(c, (x) => (kappa * (1 + x)) / (1 - x));
    let along = 0;
    for (let j = 0; j < c.length; j++) {
      const dRhoDc = (2 * kappa) / (1 - c[j]) ** 2;
      along += ((eFixed.gradient[j] - eFull.gradient[j]) * rho[j]) / dRhoDc;
    }
    const meanField = new Float32Array(n ** 3);
    for (let i = 0; i < B; i++) for (let j = 0; j < n ** 3; j++) meanField[j] += rho[i * n ** 3 + j] / B;
    const asC = meanField.map((r) => scaleDensity(r, kappa));
    const pMean = statisticsTargets(n, kappa, 1e6, [asC, asC]).meanPower;
    const pFields = statisticsTargets(n, kappa, 1e6, [c]).meanPower;
    let expected = 0;
    for (let b = 0; b < n / 2; b++) {
      const l = Math.log((B * pMean[b]) / pFields[b]) / Math.log(1.25);
      expected += (2 * l * 2) / Math.log(1.25) / (n / 2);
    }
    expect(Math.abs(expected)).toBeGreaterThan(0.1);
    expect(along).toBeCloseTo(expected, 2);
    full.dispose();
    fixed.dispose();
  });

  it("stays finite for a batch holding a uniform field (P_b = 0), with and without L_E", () => {
    // An early generator can put out a constant (or fully capped) cube: ln P_b = −∞ for it.
    const targets = statisticsTargets(n, kappa, 50, [lognormalFields(8, n, 0.6, kappa, 41)]);
    const c = lognormalFields(4, n, 0.6, kappa, 42);
    c.fill(scaleDensity(0.7, kappa), 0, n ** 3);
    for (const environmentWeight of [0, 1]) {
      const loss = new StatisticsLoss(targets, { weight: 1, varianceWeight: 1, environmentWeight });
      const e = loss.evaluate(c);
      loss.dispose();
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.gradient.every((g) => Number.isFinite(g))).toBe(true);
    }
  });

  it("digamma matches ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2 and ψ(x + 1) = ψ(x) + 1/x", () => {
    const gamma = 0.5772156649015329;
    expect(digamma(1)).toBeCloseTo(-gamma, 10);
    expect(digamma(0.5)).toBeCloseTo(-gamma - 2 * Math.LN2, 10);
    for (const x of [0.3, 2.7, 7.5, 40]) expect(digamma(x + 1) - digamma(x)).toBeCloseTo(1 / x, 10);
  });

  it("offsets ln s² by its Gaussian expectation (Monte Carlo, 4σ of the sampling error)", () => {
    // 20 000 batches of B = 16 standard normals: ln s² has variance ψ'(7.5) ≈ 0.143, so the
    // mean's standard error is 0.0027; the offset itself is −0.068.
    let a = 12345;
    const uniform = () => {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      return (a + 0.5) / 4294967296;
    };
    const B = 16;
    const trials = 20000;
    let sum = 0;
    for (let t = 0; t < trials; t++) {
      const x = Array.from({ length: B }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
      const m = x.reduce((p, q) => p + q, 0) / B;
      sum += Math.log(x.reduce((p, q) => p + (q - m) ** 2, 0) / (B - 1));
    }
    expect(logVarianceBias(B)).toBeCloseTo(-0.0682, 3);
    expect(Math.abs(sum / trials - logVarianceBias(B))).toBeLessThan(4 * Math.sqrt(0.143 / trials));
  });

  it("measures the batch's mass against ρ̄ = 1 (L_ρ)", () => {
    // Lognormal fields with E ρ = 1: over 4 × 8³ voxels of σ = 0.6 the mean is 1 within
    // sd ≈ sqrt(e^0.36 − 1)/sqrt(2048) ≈ 0.014, i.e. L_ρ < (3 · 0.014 / ln 1.1)² ≈ 0.2;
    // the same fields at 0.8 ρ give ln ⟨ρ⟩ = ln 0.8 + that scatter.
    const fields = whiteNoise(4 * n ** 3, 11).map((g) => Math.exp(0.6 * g - 0.18));
    const targets = statisticsTargets(n, kappa, 1e6, [lognormalFields(16, n, 0.6, kappa, 12)]);
    const loss = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0, massWeight: 1 });
    let mean = 0;
    for (const r of fields) mean += r / fields.length;
    const at = (s: number) => loss.evaluate(fields.map((r) => scaleDensity(s * r, kappa))).mass;
    expect(at(1)).toBeLessThan(0.2);
    expect(at(1)).toBeCloseTo((Math.log(mean) / Math.log(1.1)) ** 2, 3);
    expect(at(0.8)).toBeCloseTo((Math.log(0.8 * mean) / Math.log(1.1)) ** 2, 3);
    loss.dispose();
  });

  it.each([
    ["every shell alike, mean square", {}],
    ["inner shells, outer weight 0.25, p = 6", { innerShells: 2, outerShellWeight: 0.25, shellNorm: 6 }],
    ["homogeneity of ρ", { homogeneityOf: "density" as const }],
  ])("has the gradient of central finite differences (%s)", (_name, shells) => {
    const targets = statisticsTargets(n, kappa, 50, [lognormalFields(16, n, 0.9, kappa, 2)]);
    const loss = new StatisticsLoss(targets, {
      weight: 1.5,
      varianceWeight: 0.5,
      homogeneityWeight: 0.7,
      coherenceWeight: 0.6,
      pdfWeight: 1.3,
      massWeight: 0.8,
      environmentWeight: 0.9,
      scatterWeight: 1.1,
      ...shells,
    });
    const c = lognormalFields(3, n, 0.6, kappa, 3);
    // A shared pattern on the first 64 voxels makes L_M non-zero too.
    for (let i = 0; i < 3; i++) for (let j = 0; j < 64; j++) c[i * n ** 3 + j] += 0.3 * Math.sin(j);
    const e = loss.evaluate(c);
    expect(e.power).toBeGreaterThan(0.1);
    expect(e.pdf).toBeGreaterThan(0.1);
    expect(e.homogeneity).toBeGreaterThan(0.1);
    expect(e.coherence).toBeGreaterThan(0.1);
    expect(e.mass).toBeGreaterThan(0.01);
    expect(e.environment).toBeGreaterThan(0.1);
    expect(e.scatter).toBeGreaterThan(0.01);
    let scale = 0;
    for (const g of e.gradient) scale = Math.max(scale, Math.abs(g));
    // float32 fields and FFTs: a step of 1e-3 in c keeps rounding (~1e-7 relative) well below
    // the O(h²) truncation error; measured agreement is ~1e-4 of the largest gradient.
    const h = 1e-3;
    for (const j of [0, 17, 130, 511, 600, 1023, 1400]) {
      const plus = Float32Array.from(c);
      const minus = Float32Array.from(c);
      plus[j] += h;
      minus[j] -= h;
      const fd = (loss.evaluate(plus).loss - loss.evaluate(minus).loss) / (2 * h);
      expect(Math.abs(fd - e.gradient[j])).toBeLessThan(1e-3 * scale);
    }
    loss.dispose();
  });
});

describe("statistics term under random orientations (--stats-orientation random)", () => {
  const n = 8;
  const kappa = 2;
  it("leaves L_P, L_V and L_H alone, lowers L_M of a pattern shared along one axis, and has the gradient Pᵀ∇L(Pc)", () => {
    const B = 16;
    const v = n ** 3;
    const targets = statisticsTargets(n, kappa, 50, [lognormalFields(16, n, 0.9, kappa, 2)]);
    const loss = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0.5, homogeneityWeight: 1, coherenceWeight: 0.5 });
    const c = lognormalFields(B, n, 0.6, kappa, 5);
    // The same wave along x (period 4 voxels) in every field: a grid-locked pattern.
    for (let i = 0; i < B; i++)
      for (let j = 0; j < v; j++) c[i * v + j] += 0.4 * Math.cos((2 * Math.PI * Math.floor(j / (n * n))) / 4);
    // 16 different symmetries: 8 of them put the wave along x (with or without a reflection).
    const indices = Array.from({ length: B }, (_, r) => (r * 7) % 48);
    const plain = loss.evaluate(c);
    const oriented = evaluateUnderSymmetries(c, n, indices, (f) => loss.evaluate(f));
    // Shell powers and the PDF of each field do not depend on its orientation (float rounding).
    for (const part of ["power", "variance", "pdf"] as const)
      expect(Math.abs(oriented[part] / plain[part] - 1), part).toBeLessThan(1e-6);
    // The shared wave averages to cos(π/4)·(1/3) of its amplitude along each axis: R drops from
    // ≈ B·a²/2/(a²/2 + σ²) to a few, so L_M = (ln R/ln 1.25)² falls several-fold.
    expect(oriented.homogeneity).toBeLessThan(plain.homogeneity / 3);
    let scale = 0;
    for (const g of oriented.gradient) scale = Math.max(scale, Math.abs(g));
    const h = 1e-3;
    const at = (f: Float32Array) => evaluateUnderSymmetries(f, n, indices, (x) => loss.evaluate(x)).loss;
    for (const j of [3, 200, 777, 1500, 4000, 8000]) {
      const plus = Float32Array.from(c);
      const minus = Float32Array.from(c);
      plus[j] += h;
      minus[j] -= h;
      expect(Math.abs((at(plus) - at(minus)) / (2 * h) - oriented.gradient[j])).toBeLessThan(1e-3 * scale);
    }
    loss.dispose();
  });
});

describe("L_V's empirical offset (--stats-variance-offset empirical)", () => {
  const B = 16;
  const cubes = 1024;
  /** Per-cube "powers": shell 0 lognormal (σ_ln 0.65, a 32³ cube's P(k) spread), shell 1 Gaussian. */
  function population(seed: number): { powers: Float64Array[]; variance: Float64Array } {
    const g = whiteNoise(2 * cubes, seed);
    const powers = Array.from({ length: cubes }, (_, i) => Float64Array.of(Math.exp(0.65 * g[2 * i]), 100 + 10 * g[2 * i + 1]));
    const variance = Float64Array.from([0, 1], (b) => {
      const m = powers.reduce((a, p) => a + p[b], 0) / cubes;
      return powers.reduce((a, p) => a + (p[b] - m) ** 2, 0) / (cubes - 1);
    });
    return { powers, variance };
  }

  it("is the Gaussian ψ((B−1)/2) − ln((B−1)/2) for Gaussian values (to its resampling error) and no longer for skewed ones", () => {
    const { powers, variance } = population(11);
    const o = empiricalLogVarianceOffset(powers, variance, B);
    // Resampling error ≈ sd(ln s²_16) / √4096 ≈ 0.37/64 ≈ 0.006; 0.02 is > 3 of it.
    expect(Math.abs(o[1] - logVarianceBias(B))).toBeLessThan(0.02);
    expect(o[0]).toBeLessThan(logVarianceBias(B) - 0.1);
    expect(() => empiricalLogVarianceOffset(powers.slice(0, 8), variance, B)).toThrow(/a batch of 16 from 8 cubes/);
  });

  it("puts L_V's target E ln s²_B where fresh lognormal batches have it; the Gaussian offset is ≈ 0.2 high", () => {
    // Truth: E ln(s²_16 / σ²) of fresh lognormal batches, σ² = (e^{s²} − 1) e^{s²} of ρ = e^{s g}.
    const s2 = 0.65 ** 2;
    const trueVar = (Math.exp(s2) - 1) * Math.exp(s2);
    const trials = 50_000;
    const g = whiteNoise(trials * B, 3);
    let truth = 0;
    const x = new Float64Array(B);
    for (let t = 0; t < trials; t++) {
      let m = 0;
      for (let i = 0; i < B; i++) m += (x[i] = Math.exp(0.65 * g[t * B + i])) / B;
      let v = 0;
      for (let i = 0; i < B; i++) v += (x[i] - m) ** 2 / (B - 1);
      truth += Math.log(v / trueVar) / trials;
    }
    // The loss's target ln σ̂² + β from 1024 cubes, against ln σ² + truth: a 1024-cube set of
    // such skewed values leaves an error of ≈ 0.12 per set (its few largest values set both
    // terms), so 16 sets average to ≈ 0.03; 0.1 is > 3 of that.
    const sets = 16;
    let empirical = 0;
    let gaussian = 0;
    for (let k = 0; k < sets; k++) {
      const { powers, variance } = population(100 + k);
      const o = empiricalLogVarianceOffset(powers, variance, B);
      empirical += (Math.log(variance[0]) + o[0] - (Math.log(trueVar) + truth)) / sets;
      gaussian += (Math.log(variance[0]) + logVarianceBias(B) - (Math.log(trueVar) + truth)) / sets;
    }
    expect(Math.abs(empirical)).toBeLessThan(0.1);
    expect(gaussian).toBeGreaterThan(0.15);
  });
});

describe("running averages behind L_P, L_V and L_H (--stats-memory)", () => {
  const n = 8;
  const kappa = 2;
  const sigma = 0.8;
  const B = 4;

  it("a memory of 1 is the batch itself: L_P, L_H and their gradient equal the batch-only loss's; L_V drops the offset", () => {
    const c = lognormalFields(6, n, sigma, kappa, 1);
    const targets = statisticsTargets(n, kappa, 1e6, [lognormalFields(64, n, sigma, kappa, 2)]);
    const batchOnly = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0 });
    const one = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0, memory: 1 });
    const a = batchOnly.evaluate(c);
    const b = one.evaluate(c);
    expect(b.power).toBe(a.power);
    expect(b.pdf).toBe(a.pdf);
    expect(Array.from(b.gradient)).toEqual(Array.from(a.gradient));
    // On the target cubes themselves (s² = σ² exactly) L_V is 0 without the batch offset β_6.
    const own = new StatisticsLoss(statisticsTargets(n, kappa, 1e6, [c]), { weight: 1, varianceWeight: 1, memory: 1 });
    expect(own.evaluate(c).variance).toBeLessThan(1e-20);
    for (const l of [batchOnly, one, own]) l.dispose();
  });

  it("batches from the targets' own distribution: the averaged parts fall far below a lone batch's sampling noise", () => {
    // Targets from 512 cubes; then 300 fresh batches of 4. A lone batch of 4 knows s² to
    // ±√(2/3) ≈ 0.8 in ln for Gaussian values (≈ 3.7 tolerances of ln 1.25: L_V ≳ 10 from noise
    // alone, ≈ 27 here, these powers being skewed); an average over ≈ 2M − 1 = 99 batches to
    // ≈ 0.08 (L_V ≈ 0.15), plus the 512-cube targets' own ≈ 0.06. Measured: 0.26 against 27.
    const targets = statisticsTargets(n, kappa, 1e6, [lognormalFields(512, n, sigma, kappa, 7)]);
    const settings = { weight: 1, varianceWeight: 1 };
    const lone = new StatisticsLoss(targets, settings);
    const averaged = new StatisticsLoss(targets, { ...settings, memory: 50 });
    const tail = { lone: { p: 0, v: 0, h: 0 }, averaged: { p: 0, v: 0, h: 0 } };
    const steps = 300;
    const last = 100;
    for (let s = 0; s < steps; s++) {
      const c = lognormalFields(B, n, sigma, kappa, 1000 + s);
      for (const [name, loss] of [
        ["lone", lone],
        ["averaged", averaged],
      ] as const) {
        const e = loss.evaluate(c);
        if (s >= steps - last) {
          tail[name].p += e.power / last;
          tail[name].v += e.variance / last;
          tail[name].h += e.pdf / last;
        }
      }
    }
    expect(tail.lone.v).toBeGreaterThan(3);
    expect(tail.averaged.v).toBeLessThan(0.1 * tail.lone.v);
    expect(tail.averaged.p).toBeLessThan(0.1 * tail.lone.p);
    expect(tail.averaged.h).toBeLessThan(0.1 * tail.lone.h);
    lone.dispose();
    averaged.dispose();
  });

  it("a restored state continues exactly; the first batch is the whole (bias-corrected) average", () => {
    const targets = statisticsTargets(n, kappa, 1e6, [lognormalFields(64, n, sigma, kappa, 3)]);
    const settings = { weight: 1, varianceWeight: 1, memory: 20 };
    const batches = [0, 1, 2].map((i) => lognormalFields(B, n, sigma, kappa, 50 + i));
    const a = new StatisticsLoss(targets, settings);
    const first = a.evaluate(batches[0]);
    const lone = new StatisticsLoss(targets, { weight: 1, varianceWeight: 0 });
    expect(first.power).toBeCloseTo(lone.evaluate(batches[0]).power, 12);
    a.evaluate(batches[1]);
    const b = new StatisticsLoss(targets, settings);
    b.restoreRunning(a.runningState() as Float64Array);
    const ea = a.evaluate(batches[2]);
    const eb = b.evaluate(batches[2]);
    expect(eb.loss).toBe(ea.loss);
    expect(Array.from(eb.gradient)).toEqual(Array.from(ea.gradient));
    expect(() => lone.restoreRunning(new Float64Array(3))).toThrow(/keeps no running averages/);
    expect(() => b.restoreRunning(new Float64Array(3))).toThrow(/hold 3 values/);
    for (const l of [a, b, lone]) l.dispose();
  });
});

describe("shell weights and norm of L_P and L_V (--stats-kmax, --stats-outer-weight, --stats-shell-norm)", () => {
  const l = Float64Array.of(0.5, -2, 1, 0.25);
  const ones = new Float64Array(4).fill(1);

  it("p = 2 with equal weights is the mean square; large p tends to the largest square", () => {
    expect(shellNorm(l, ones, 2).value).toBeCloseTo((0.25 + 4 + 1 + 0.0625) / 4, 12);
    // (⟨|l|^p⟩)^{2/p} → max l² · 4^{−2/p}: within 1 % at p = 400.
    expect(shellNorm(l, ones, 400).value / 4).toBeGreaterThan(0.99);
    expect(shellNorm(l, ones, 6).value).toBeGreaterThan(shellNorm(l, ones, 2).value);
    // Weight 0 removes a shell: the worst one gone, the norm is that of the other three.
    const w = Float64Array.of(1, 0, 1, 1);
    expect(shellNorm(l, w, 2).value).toBeCloseTo((0.25 + 1 + 0.0625) / 3, 12);
    expect(Math.abs(shellNorm(l, w, 2).d[1])).toBe(0);
  });

  it("its derivative is that of central differences, and p > 2 shifts the pull to the worst shell", () => {
    const w = Float64Array.of(1, 1, 0.25, 0.25);
    for (const p of [2, 6]) {
      const { d } = shellNorm(l, w, p);
      for (let b = 0; b < 4; b++) {
        const h = 1e-6;
        const up = Float64Array.from(l);
        const down = Float64Array.from(l);
        up[b] += h;
        down[b] -= h;
        const fd = (shellNorm(up, w, p).value - shellNorm(down, w, p).value) / (2 * h);
        expect(Math.abs(fd - d[b])).toBeLessThan(1e-6);
      }
    }
    const share = (p: number) => {
      const { d } = shellNorm(l, ones, p);
      return Math.abs(d[1]) / d.reduce((a, x) => a + Math.abs(x), 0);
    };
    expect(share(6)).toBeGreaterThan(share(2) + 0.3);
  });
});
