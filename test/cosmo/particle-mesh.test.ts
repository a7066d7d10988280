/**
 * The particle-mesh integrator against linear theory. Comparing the evolved field with the
 * linear field of the same phases cancels cosmic variance, so percent-level tolerances are
 * meaningful even in small boxes.
 */
import { describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { depositParticles, toDensityContrast } from "../../src/cosmo/mass-assignment.js";
import { runNbody, type NbodySnapshot } from "../../src/cosmo/nbody.js";
import { FastPmFactors, stepSchedule } from "../../src/cosmo/particle-mesh.js";
import { crossPowerSpectrum } from "../../src/cosmo/power-spectrum.js";
import { LinearPower } from "../../src/cosmo/linear-power.js";

const cosmology = makeCosmology();

function densityOf(positions: Float32Array, n: number, box: number): Float32Array {
  const g = depositParticles(positions, [n, n, n], box, "cic");
  toDensityContrast(g);
  return g;
}

function runToZ(n: number, box: number, steps: number, zInit: number, zOut: number[]): NbodySnapshot[] {
  const out: NbodySnapshot[] = [];
  runNbody({ cosmology, gridSide: n, boxSize: box, seed: 21, zInit, steps, outputRedshifts: zOut }, (s) =>
    out.push({ redshift: s.redshift, positions: s.positions.slice(), velocities: s.velocities.slice() }),
  );
  return out;
}

describe("FastPM factors", () => {
  it("integrate the linear growing mode exactly in a single large step", () => {
    const f = new FastPmFactors(cosmology);
    // Linear theory: x = D Ψ, p = G_p Ψ, F = g_f Ψ with Ψ = 1. One KDK step from a = 0.1 to 1.
    const a0 = 0.1;
    const a1 = 1;
    const ah = 0.55;
    let x = f.growth(a0);
    let p = f.momentumGrowth(a0);
    p += f.forceGrowth(a0) * f.kickFactor(a0, ah, a0);
    x += p * f.driftFactor(a0, a1, ah);
    p += f.forceGrowth(a1) * f.kickFactor(ah, a1, a1);
    expect(x).toBeCloseTo(f.growth(a1), 12);
    expect(p).toBeCloseTo(f.momentumGrowth(a1), 12);
  });

  it("G_p is consistent with the growth ODE: dG_p/da = g_f / (a E)", () => {
    const f = new FastPmFactors(cosmology);
    for (const a of [0.2, 0.5, 0.9]) {
      const h = 1e-5;
      const dGp = (f.momentumGrowth(a + h) - f.momentumGrowth(a - h)) / (2 * h);
      const e = Math.sqrt(cosmology.omegaM / a ** 3 + 1 - cosmology.omegaM);
      expect(dGp / (f.forceGrowth(a) / (a * e))).toBeCloseTo(1, 6);
    }
  });

  it("inserts output times into the schedule", () => {
    const s = stepSchedule(0.1, [0.5, 1], 3);
    expect(s[0]).toBeCloseTo(0.1, 12);
    expect(s).toContain(0.5);
    expect(s[s.length - 1]).toBe(1);
    expect(s.length).toBe(5); // 0.1, 0.4, 0.5, 0.7, 1.0
    expect(() => stepSchedule(0.5, [0.4], 2)).toThrow(RangeError);
  });
});

/** Exact Fourier modes of the particle distribution, δ(k) = (1/N) Σ_p e^{−i k·x_p}, for 0 < |n| ≤ nMax (half space). */
function particleModes(positions: Float32Array, box: number, nMax: number): Map<string, [number, number]> {
  const kf = (2 * Math.PI) / box;
  const out = new Map<string, [number, number]>();
  const np = positions.length / 3;
  for (let a = 0; a <= nMax; a++) {
    for (let b = -nMax; b <= nMax; b++) {
      for (let c = -nMax; c <= nMax; c++) {
        const m2 = a * a + b * b + c * c;
        if (m2 === 0 || m2 > nMax * nMax) continue;
        if (a === 0 && (b < 0 || (b === 0 && c < 0))) continue; // one of each ±k pair
        let re = 0;
        let im = 0;
        for (let p = 0; p < np; p++) {
          const phase = kf * (a * positions[3 * p] + b * positions[3 * p + 1] + c * positions[3 * p + 2]);
          re += Math.cos(phase);
          im -= Math.sin(phase);
        }
        out.set(`${a},${b},${c}`, [re / np, im / np]);
      }
    }
  }
  return out;
}

/** The same modes of a grid field by direct summation: δ(k) = (1/N) Σ_x δ(x) e^{−i k·x}. */
function gridModes(
  grid: Float32Array,
  n: number,
  box: number,
  keys: Iterable<string>,
): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  const dx = box / n;
  const kf = (2 * Math.PI) / box;
  for (const key of keys) {
    const [a, b, c] = key.split(",").map(Number);
    let re = 0;
    let im = 0;
    for (let i = 0, o = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let l = 0; l < n; l++, o++) {
          const phase = kf * dx * (a * i + b * j + c * l);
          re += grid[o] * Math.cos(phase);
          im -= grid[o] * Math.sin(phase);
        }
      }
    }
    out.set(key, [re / n ** 3, im / n ** 3]);
  }
  return out;
}

describe("particle-mesh run", () => {
  const n = 32;
  const box = 512; // Δx = 16 Mpc/h; modes |n| ≤ 3 have k ≤ 0.037 h/Mpc
  const snaps = runToZ(n, box, 10, 9, [1, 0]);

  it("grows the largest scales as 2LPT and linear theory with the same phases (modes |n| ≤ 3)", () => {
    for (const snap of snaps) {
      const nb = particleModes(snap.positions, box, 3);
      const lpt = particleModes(
        runLpt({
          gridSide: n,
          boxSize: box,
          redshift: snap.redshift,
          seed: 21,
          cosmology,
          want: { particles: true },
        }).positions!,
        box,
        3,
      );
      const lin = runLpt({
        gridSide: n,
        boxSize: box,
        redshift: snap.redshift,
        seed: 21,
        cosmology,
        want: { linearDensity: true },
      }).linearDensity!;
      const linModes = gridModes(lin, n, box, nb.keys());
      // Exact particle Fourier modes: no mass-assignment window. Shell by shell, the N-body
      // power must follow 2LPT (whose large-scale growth is exact) within 2%; against linear
      // theory, the Zel'dovich damping exp(−k²σ_v²) and mode coupling leave a few percent at
      // z = 0 (we measured 2LPT/linear = 0.98 ± 0.02 on these shells), so allow 5%.
      const shells = new Map<number, number[]>();
      for (const [key, [re, im]] of nb) {
        const [a, b, c] = key.split(",").map(Number);
        const shell = Math.floor(Math.sqrt(a * a + b * b + c * c));
        const [lr, li] = lpt.get(key)!;
        const [gr, gi] = linModes.get(key)!;
        const acc = shells.get(shell) ?? [0, 0, 0, 0];
        acc[0] += re * re + im * im;
        acc[1] += lr * lr + li * li;
        acc[2] += gr * gr + gi * gi;
        acc[3] += re * gr + im * gi;
        shells.set(shell, acc);
      }
      for (const [pNb, pLpt, pLin, cross] of shells.values()) {
        expect(Math.abs(pNb / pLpt - 1)).toBeLessThan(0.02);
        expect(Math.abs(pNb / pLin - 1)).toBeLessThan(0.05);
        // Mode coupling decorrelates by ~P22/(2P) ≈ 0.3% at k ≈ 0.04 h/Mpc, z = 0.
        expect(cross / Math.sqrt(pNb * pLin)).toBeGreaterThan(0.995);
      }
    }
  });

  it("has P(k)/P_lin within cosmic variance at k ≤ 0.04 h/Mpc", () => {
    const snap = snaps[1];
    const kf = (2 * Math.PI) / box;
    const plin = new LinearPower(cosmology);
    const modes = particleModes(snap.positions, box, 3);
    const shells = new Map<number, { p: number; theory: number; count: number }>();
    for (const [key, [re, im]] of modes) {
      const [a, b, c] = key.split(",").map(Number);
      const m = Math.sqrt(a * a + b * b + c * c);
      const s = shells.get(Math.floor(m)) ?? { p: 0, theory: 0, count: 0 };
      s.p += (re * re + im * im) * box ** 3; // P = V |δ(k)|²
      s.theory += plin.at(m * kf, 0);
      s.count++;
      shells.set(Math.floor(m), s);
    }
    let chi2 = 0;
    for (const s of shells.values()) {
      const expected = s.theory / s.count;
      // s.count independent modes (one of each ±k pair): σ_P = P/√N.
      chi2 += ((s.p / s.count - expected) / (expected / Math.sqrt(s.count))) ** 2;
    }
    const dof = shells.size;
    expect(chi2).toBeLessThan(dof + 5 * Math.sqrt(2 * dof));
  });

  it("conserves total momentum", () => {
    for (const snap of snaps) {
      const sum = [0, 0, 0];
      let abs = 0;
      for (let i = 0; i < snap.velocities.length; i++) {
        sum[i % 3] += snap.velocities[i];
        abs += Math.abs(snap.velocities[i]);
      }
      for (const s of sum) expect(Math.abs(s) / abs).toBeLessThan(1e-5);
    }
  });

  it("develops non-linear power on small scales beyond 2LPT at z = 0", () => {
    const snap = snaps[1];
    const nb = densityOf(snap.positions, n, box);
    const lpt = runLpt({
      gridSide: n,
      boxSize: box,
      redshift: 0,
      seed: 21,
      cosmology,
      want: { density: true },
    }).density!;
    const t = crossPowerSpectrum(nb, lpt, [n, n, n], { boxSize: box });
    const last = t.k.findIndex((k) => k > 0.15);
    expect(t.powerA[last] / t.powerB[last]).toBeGreaterThan(1.05);
  });
});
