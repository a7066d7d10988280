import { describe, expect, it } from "vitest";
import { RealFft3d, type GridShape } from "../../src/cosmo/fft/real-fft3d.js";
import { binSpectrum } from "../../src/cosmo/k-binning.js";
import {
  crossPowerSpectrum,
  particlePowerSpectrum,
  powerSpectrum,
  type Binning,
  type PowerSpectrumTable,
} from "../../src/cosmo/power-spectrum.js";
import { mulberry32 } from "../seeded-random.js";

const rng = mulberry32;
function gaussianField(cells: number, seed: number): Float32Array {
  const r = rng(seed);
  const g = new Float32Array(cells);
  for (let i = 0; i < cells; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    g[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < cells) g[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return g;
}

const signed = (i: number, n: number) => (2 * i > n ? i - n : i);
const cube = (n: number): GridShape => [n, n, n];

/** δ = A cos(2π m·i / N) on an N³ grid. */
function planeWave(n: number, m: [number, number, number], amp: number): Float32Array {
  const g = new Float32Array(n * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let l = 0; l < n; l++) {
        g[(i * n + j) * n + l] = amp * Math.cos((2 * Math.PI * (m[0] * i + m[1] * j + m[2] * l)) / n);
      }
  return g;
}

/** Shell j of each row: the mean |k| of shell j lies in [j, j+1) k_F. */
const shellOf = (t: PowerSpectrumTable, r: number) => Math.floor(t.k[r] / t.kFundamental + 1e-9);

describe("plane waves: exactly one shell with the exact power", () => {
  const box = 50;
  const cases: { n: number; m: [number, number, number] }[] = [
    { n: 16, m: [3, -2, 0] }, // on the kz = 0 plane with kx > 0
    { n: 16, m: [-3, 2, 0] }, // its conjugate: stored as (3, −2, 0)
    { n: 16, m: [0, -5, 0] }, // kx = 0 row: ky < 0 is the skipped half
    { n: 16, m: [2, 1, 4] }, // interior kz
    { n: 16, m: [8, 3, 0] }, // kx = Nyquist row of the kz = 0 plane
    { n: 16, m: [1, -6, 8] }, // on the kz = Nyquist plane
    { n: 15, m: [-4, 7, 0] }, // odd N: only kz = 0 is special
    { n: 15, m: [5, 5, 7] },
  ];
  it.each(cases)("N = $n, m = $m", ({ n, m }) => {
    const amp = 0.7;
    const volume = box ** 3;
    const field = planeWave(n, m, amp);
    const norm2 = m[0] ** 2 + m[1] ** 2 + m[2] ** 2;
    // |δ_k|² V / N_c² = (A N_c / 2)² V / N_c² at ±m; a self-conjugate m (every component 0 or N/2)
    // holds both halves of the cosine: (A N_c)² V / N_c².
    const selfConjugate = m.every((c) => c === 0 || 2 * Math.abs(c) === n);
    const perMode = selfConjugate ? amp * amp * volume : (amp * amp * volume) / 4;
    for (const binning of ["pylians", "nbodykit"] as Binning[]) {
      const t = powerSpectrum(field, cube(n), { boxSize: box, binning });
      const expectedShell = Math.floor(Math.sqrt(norm2));
      const inRange = binning === "pylians" || expectedShell < Math.floor(n / 2);
      // nbodykit counts m and −m separately, each carrying |δ_m|²
      const total = binning === "pylians" || selfConjugate ? perMode : 2 * perMode;
      let hit = -1;
      for (let r = 0; r < t.k.length; r++) {
        if (Math.abs(t.power[r]) > 1e-6 * perMode) {
          expect(hit).toBe(-1);
          hit = r;
        }
      }
      if (!inRange) {
        expect(hit).toBe(-1);
        continue;
      }
      expect(shellOf(t, hit)).toBe(expectedShell);
      expect(t.power[hit] * t.modes[hit]).toBeCloseTo(total, 4 - Math.log10(total));
      // compensation multiplies δ_m by Π (x/sin x)^p, x = π m_a / N
      const c = m.reduce((acc, mi) => {
        const x = (Math.PI * mi) / n;
        return acc * (x === 0 ? 1 : (x / Math.sin(x)) ** 2);
      }, 1);
      const tc = powerSpectrum(field, cube(n), { boxSize: box, binning, compensate: "cic" });
      expect(tc.power[hit] / t.power[hit]).toBeCloseTo(c ** 2, 4);
    }
  });
});

describe("mode counting", () => {
  /** Pylians: shells j ≥ 1 of the classes {n, −n} of non-zero frequencies, found by brute force. */
  function independentModes(n: number): Map<number, number> {
    const counts = new Map<number, number>();
    const seen = new Set<number>();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let l = 0; l < n; l++) {
          const id = (i * n + j) * n + l;
          const conj = (((n - i) % n) * n + ((n - j) % n)) * n + ((n - l) % n);
          if (id === 0 || seen.has(conj)) continue;
          seen.add(id);
          const s = Math.floor(Math.sqrt(signed(i, n) ** 2 + signed(j, n) ** 2 + signed(l, n) ** 2));
          counts.set(s, (counts.get(s) ?? 0) + 1);
        }
    return counts;
  }
  /** nbodykit: every grid frequency (k and −k apart) with 0 < |n| < ⌊N/2⌋, by shell. */
  function fullGridModes(n: number): Map<number, number> {
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let l = 0; l < n; l++) {
          const r = Math.sqrt(signed(i, n) ** 2 + signed(j, n) ** 2 + signed(l, n) ** 2);
          if (r === 0 || r >= Math.floor(n / 2)) continue;
          const s = Math.floor(r);
          counts.set(s, (counts.get(s) ?? 0) + 1);
        }
    return counts;
  }
  const asMap = (t: PowerSpectrumTable) => new Map(Array.from(t.k, (_, r) => [shellOf(t, r), t.modes[r]]));

  it.each([8, 9, 10, 12, 15])("N = %i: per-shell counts and totals", (n) => {
    const field = gaussianField(n ** 3, n);
    const pyl = powerSpectrum(field, cube(n), { boxSize: 10 });
    const nbk = powerSpectrum(field, cube(n), { boxSize: 10, binning: "nbodykit" });
    expect(asMap(pyl)).toEqual(independentModes(n));
    expect(asMap(nbk)).toEqual(fullGridModes(n));
    // independent non-DC modes: (N³ + 8)/2 − 1 for even N (8 self-conjugate), (N³ + 1)/2 − 1 for odd
    const total = pyl.modes.reduce((a, b) => a + b, 0);
    expect(total).toBe(n % 2 === 0 ? (n ** 3 + 8) / 2 - 1 : (n ** 3 + 1) / 2 - 1);
    // Pylians' shells run to the grid corner, int(√3 ⌊N/2⌋)
    expect(shellOf(pyl, pyl.k.length - 1)).toBe(Math.floor(Math.sqrt(3) * Math.floor(n / 2)));
    expect(pyl.kNyquist).toBeCloseTo((Math.PI * n) / 10, 12);
    expect(pyl.kFundamental).toBeCloseTo((2 * Math.PI) / 10, 12);
  });
});

describe("Gaussian random field with a known power spectrum", () => {
  const n = 64;
  const box = 500;
  const cells = n ** 3;
  const volume = box ** 3;
  const kF = (2 * Math.PI) / box;
  const pk = (k: number) => 2e4 * (k / 0.1) ** -1.5;

  // White noise w has <|w_k|²> = N_c; scaling w_k by sqrt(P N_c / V) gives <|δ_k|²> V / N_c² = P.
  const fft = new RealFft3d(cube(n), { threads: 1 });
  const spectrum = fft.forward(gaussianField(cells, 42));
  const nzh = n / 2 + 1;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let l = 0; l < nzh; l++) {
        const k = kF * Math.hypot(signed(i, n), signed(j, n), l);
        const s = k === 0 ? 0 : Math.sqrt((pk(k) * cells) / volume);
        const o = 2 * ((i * n + j) * nzh + l);
        spectrum[o] *= s;
        spectrum[o + 1] *= s;
      }
  const delta = fft.inverse(spectrum);
  fft.dispose();

  // Expected shell means: the input P averaged over the shell's grid modes, by brute force.
  const sumP = new Float64Array(n);
  const count = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let l = 0; l < n; l++) {
        const r = Math.hypot(signed(i, n), signed(j, n), signed(l, n));
        const s = Math.floor(r);
        if (r === 0 || s >= n / 2) continue;
        sumP[s] += pk(kF * r);
        count[s] += 1;
      }

  /** χ²/dof over shells 1 … N/2 − 1 against amplitude × the input, with σ given per binning. */
  function chi2(
    t: PowerSpectrumTable,
    amplitude: number,
    sigma: (p: number, modes: number) => number,
  ): number {
    let c = 0;
    let dof = 0;
    for (let r = 0; r < t.k.length; r++) {
      const s = shellOf(t, r);
      if (s >= n / 2) continue;
      const expected = (amplitude * sumP[s]) / count[s];
      c += ((t.power[r] - expected) / sigma(expected, t.modes[r])) ** 2;
      dof++;
    }
    expect(dof).toBe(n / 2 - 1);
    return c / dof;
  }

  // Pylians counts each independent mode once: Var(P̂) = P²/N. nbodykit counts k and −k, so the
  // same variance reads P²·2/N: σ_P = P √(2/N_modes) holds with nbodykit's count.
  const pylians = powerSpectrum(delta, cube(n), { boxSize: box });
  const nbodykit = powerSpectrum(delta, cube(n), { boxSize: box, binning: "nbodykit" });
  const sigmaPylians = (p: number, m: number) => p / Math.sqrt(m);
  const sigmaNbodykit = (p: number, m: number) => p * Math.sqrt(2 / m);

  it("matches the input P(k): χ²/dof < 1.5 over 31 shells (both binnings)", () => {
    expect(chi2(pylians, 1, sigmaPylians)).toBeLessThan(1.5);
    expect(chi2(nbodykit, 1, sigmaNbodykit)).toBeLessThan(1.5);
    // mean |k| within its shell
    for (let r = 0; r < pylians.k.length; r++) {
      expect(pylians.k[r] / kF).toBeGreaterThanOrEqual(shellOf(pylians, r));
    }
  });

  it("has the power to detect a 5% amplitude error (χ²/dof > 3)", () => {
    for (const a of [0.95, 1.05]) {
      expect(chi2(pylians, a, sigmaPylians)).toBeGreaterThan(3);
      expect(chi2(nbodykit, a, sigmaNbodykit)).toBeGreaterThan(3);
    }
  });

  it("gives the same shell means in both binnings where both are defined", () => {
    for (let r = 0; r < nbodykit.k.length; r++) {
      expect(shellOf(pylians, r)).toBe(shellOf(nbodykit, r));
      expect(nbodykit.power[r] / pylians.power[r]).toBeCloseTo(1, 1);
      // nbodykit's count is 2× Pylians' minus the self-conjugate modes counted once by both
      expect(nbodykit.modes[r]).toBeGreaterThanOrEqual(2 * pylians.modes[r] - 8);
      expect(nbodykit.modes[r]).toBeLessThanOrEqual(2 * pylians.modes[r]);
    }
  });

  it("cross spectrum: r_c = 1 with itself, cross = 2 P for a doubled copy", () => {
    const doubled = delta.map((v) => 2 * v);
    const x = crossPowerSpectrum(delta, doubled, cube(n), { boxSize: box });
    for (let r = 0; r < x.k.length; r++) {
      expect(x.correlation[r]).toBeCloseTo(1, 6);
      expect(x.power[r] / pylians.power[r]).toBeCloseTo(2, 5);
      expect(x.powerA[r] / pylians.power[r]).toBeCloseTo(1, 5);
      expect(x.powerB[r] / pylians.power[r]).toBeCloseTo(4, 5);
    }
  });

  it("cross spectrum of independent fields: r_c consistent with 0 (σ_r = 1/√N_modes)", () => {
    const other = gaussianField(cells, 7);
    const x = crossPowerSpectrum(delta, other, cube(n), { boxSize: box });
    let c = 0;
    for (let r = 0; r < x.k.length; r++) {
      const z = x.correlation[r] * Math.sqrt(x.modes[r]);
      expect(Math.abs(z)).toBeLessThan(4);
      c += z * z;
    }
    expect(c / x.k.length).toBeLessThan(1.5);
  });

  it("does not depend on the FFT thread count", () => {
    const a = powerSpectrum(delta, cube(n), { boxSize: box, threads: 1 });
    const b = powerSpectrum(delta, cube(n), { boxSize: box, threads: 2 });
    expect(b.power).toEqual(a.power);
    expect(b.k).toEqual(a.k);
  });
});

describe("particles", () => {
  const n = 64;
  const box = 256;
  const count = n ** 3;
  const r = rng(2024);
  const uniform = Float32Array.from({ length: 3 * count }, () => Math.fround(r() * box) % box);
  const nbar = count / box ** 3;
  const kNy = (Math.PI * n) / box;

  /** Shells with k ≤ kmax: list of (P n̄, σ = 1/√N_modes). */
  function normalised(t: PowerSpectrumTable, kmin: number, kmax: number): { v: number; s: number }[] {
    const rows = [];
    for (let i = 0; i < t.k.length; i++) {
      if (t.k[i] >= kmin && t.k[i] <= kmax) rows.push({ v: t.power[i] * nbar, s: 1 / Math.sqrt(t.modes[i]) });
    }
    return rows;
  }

  it.each(["cic", "tsc"] as const)(
    "Poisson %s, compensated and interlaced: P n̄ = 1 within 3σ up to 0.7 k_Ny",
    (scheme) => {
      const t = particlePowerSpectrum(uniform, n, box, { scheme, interlaced: true, threads: 1 });
      expect(t.compensate).toBe(`${scheme}+interlaced`);
      const rows = normalised(t, 0, 0.7 * kNy);
      expect(rows.length).toBeGreaterThan(20);
      let c = 0;
      for (const { v, s } of rows) {
        expect(Math.abs(v - 1)).toBeLessThan(3 * s);
        c += ((v - 1) / s) ** 2;
      }
      expect(c / rows.length).toBeLessThan(1.5);
    },
  );

  it("without interlacing the compensated Poisson spectrum shows the aliased shot noise near k_Ny", () => {
    // Jing (2005) eq. 20: Σ_n W²(k + 2 k_N n) / W²(k) = Π_a (1 − (2/3) sin² x_a) / sinc⁴ x_a for
    // CIC (x_a = π n_a / N), averaged over each shell's grid modes here by brute force.
    const expected = new Float64Array(n);
    const counted = new Float64Array(n);
    const f = (m: number) => {
      const x = (Math.PI * m) / n;
      return x === 0 ? 1 : (1 - (2 / 3) * Math.sin(x) ** 2) / (Math.sin(x) / x) ** 4;
    };
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let l = 0; l <= n / 2; l++) {
          const s = Math.floor(Math.hypot(signed(i, n), signed(j, n), l));
          expected[s] += f(signed(i, n)) * f(signed(j, n)) * f(l);
          counted[s] += 1;
        }
    const cic = particlePowerSpectrum(uniform, n, box, { scheme: "cic" });
    const tsc = particlePowerSpectrum(uniform, n, box, { scheme: "tsc" });
    const near = (t: PowerSpectrumTable) => {
      const rows = normalised(t, 0.9 * kNy, kNy);
      return rows.reduce((a, b) => a + b.v, 0) / rows.length;
    };
    expect(near(cic)).toBeGreaterThan(1.15);
    expect(near(tsc)).toBeGreaterThan(1.1);
    for (let i = 0; i < cic.k.length; i++) {
      const s = shellOf(cic, i);
      if (s < 4) continue;
      const e = expected[s] / counted[s];
      expect(Math.abs(cic.power[i] * nbar - e)).toBeLessThan(4 * e * Math.sqrt(1 / cic.modes[i]));
    }
  });

  it("subtracting the shot noise V/N leaves a mean consistent with 0", () => {
    const t = particlePowerSpectrum(uniform, n, box, {
      scheme: "tsc",
      interlaced: true,
      subtractShotNoise: true,
    });
    expect(t.shotNoise).toBeCloseTo(box ** 3 / count, 9);
    let sum = 0;
    let modes = 0;
    for (let i = 0; i < t.k.length; i++) {
      if (t.k[i] > 0.7 * kNy) continue;
      sum += t.power[i] * nbar * t.modes[i];
      modes += t.modes[i];
    }
    expect(Math.abs(sum / modes)).toBeLessThan(3 / Math.sqrt(modes));
  });

  it("interlacing keeps the phase of low-k clustering (checks the sign of e^{+ik·Δ/2})", () => {
    // A lattice displaced by a small Zel'dovich wave: δ ≈ −∇·ψ = a cos(k·q) along m.
    const np = 32;
    const m = [3, 2, 1];
    const len = Math.hypot(m[0], m[1], m[2]);
    const pos = new Float32Array(3 * np ** 3);
    const dq = box / np;
    let p = 0;
    for (let i = 0; i < np; i++)
      for (let j = 0; j < np; j++)
        for (let l = 0; l < np; l++) {
          const q = [i * dq, j * dq, l * dq];
          const phase = (2 * Math.PI * (m[0] * i + m[1] * j + m[2] * l)) / np;
          const amp = 0.02 * dq * Math.sin(phase);
          for (let a = 0; a < 3; a++) pos[p++] = (q[a] + (amp * m[a]) / len + box) % box;
        }
    const plain = particlePowerSpectrum(pos, np, box, { scheme: "cic" });
    const inter = particlePowerSpectrum(pos, np, box, { scheme: "cic", interlaced: true });
    const shell = Math.floor(len);
    const row = (t: PowerSpectrumTable) => Array.from(t.k, (_, i) => i).find((i) => shellOf(t, i) === shell)!;
    // the opposite sign would multiply this mode's power by cos²(π Σm / N) = 0.69
    expect(inter.power[row(inter)] / plain.power[row(plain)]).toBeCloseTo(1, 2);
  });

  it("rejects bad input with RangeError", () => {
    expect(() => powerSpectrum(new Float32Array(10), cube(4), { boxSize: 1 })).toThrow(RangeError);
    expect(() => powerSpectrum(new Float32Array(48), [4, 4, 3], { boxSize: 1 })).toThrow(RangeError);
    expect(() => powerSpectrum(new Float32Array(64), cube(4), { boxSize: -1 })).toThrow(RangeError);
    expect(() => particlePowerSpectrum(new Float32Array(0), 8, 10)).toThrow(RangeError);
    expect(() =>
      binSpectrum(new Float32Array(10), undefined, cube(4), { boxSize: 1, binning: "other" as Binning }),
    ).toThrow(RangeError);
  });
});

describe("cross spectra of fields with different windows", () => {
  it("compensating each field by its own window equals compensating both when the windows agree", async () => {
    const { crossPowerSpectrum } = await import("../../src/cosmo/power-spectrum.js");
    const n = 16;
    const a = new Float32Array(n ** 3).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));
    const b = new Float32Array(n ** 3).map((_, i) => Math.cos(i * 0.21));
    const same = crossPowerSpectrum(a, b, [n, n, n], { boxSize: 100, compensate: "cic" });
    const split = crossPowerSpectrum(a, b, [n, n, n], {
      boxSize: 100,
      compensate: "cic",
      compensateB: "cic",
    });
    expect(Array.from(split.power)).toEqual(Array.from(same.power));
    // CIC on the first field only: the cross picks up one window, i.e. the geometric mean of
    // the both-compensated and uncompensated cross in every mode — checked on the autos.
    const one = crossPowerSpectrum(a, b, [n, n, n], { boxSize: 100, compensate: "cic", compensateB: "none" });
    const none = crossPowerSpectrum(a, b, [n, n, n], { boxSize: 100 });
    for (let i = 0; i < one.k.length; i++) {
      expect(one.powerA[i] / same.powerA[i]).toBeCloseTo(1, 5);
      expect(one.powerB[i] / none.powerB[i]).toBeCloseTo(1, 5);
    }
    expect(one.compensate).toBe("cic×none");
  });
});
