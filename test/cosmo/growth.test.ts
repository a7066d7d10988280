import { describe, expect, it } from "vitest";
import { type Cosmology, makeCosmology, omegaMAt } from "../../src/cosmo/cosmology.js";
import { growthD1, growthFactors, growthRateF1 } from "../../src/cosmo/growth.js";
import { hypergeometric2F1 } from "./hypergeometric-2f1.js";

/**
 * Independent reference: integrate the linear growth ODE in ln a with classical RK4,
 *   D'' + (2 + dlnE/dlna) D' − 3/2 Ω_m(a) D = 0,  dlnE/dlna = −3/2 Ω_m(a),
 * from a = 1e-4 with the matter-dominated growing mode D = D' = a (Λ corrections ~ a³ ≈ 1e-12).
 * Returns D(a) and f(a) = D'/D on the requested scale factors (ascending).
 */
function growthByRk4(omegaM: number, scaleFactors: number[]): { d: number[]; f: number[] } {
  const omA = (lna: number): number => {
    const a3 = Math.exp(3 * lna);
    return omegaM / (omegaM + (1 - omegaM) * a3);
  };
  const rhs = (lna: number, d: number, dp: number): [number, number] => {
    const om = omA(lna);
    return [dp, -(2 - 1.5 * om) * dp + 1.5 * om * d];
  };
  const h = 1e-3;
  let lna = Math.log(1e-4);
  let d = 1e-4;
  let dp = 1e-4;
  const out = { d: [] as number[], f: [] as number[] };
  for (const aTarget of scaleFactors) {
    const lnEnd = Math.log(aTarget);
    while (lna < lnEnd - 1e-14) {
      const step = Math.min(h, lnEnd - lna);
      const [k1d, k1p] = rhs(lna, d, dp);
      const [k2d, k2p] = rhs(lna + step / 2, d + (step / 2) * k1d, dp + (step / 2) * k1p);
      const [k3d, k3p] = rhs(lna + step / 2, d + (step / 2) * k2d, dp + (step / 2) * k2p);
      const [k4d, k4p] = rhs(lna + step, d + step * k3d, dp + step * k3p);
      d += (step / 6) * (k1d + 2 * k2d + 2 * k3d + k4d);
      dp += (step / 6) * (k1p + 2 * k2p + 2 * k3p + k4p);
      lna += step;
    }
    out.d.push(d);
    out.f.push(dp / d);
  }
  return out;
}

/** Heath (1977) integral in closed form: I(a) = (2/5) a^{5/2} Ω_m^{-3/2} 2F1(3/2, 5/6; 11/6; −Ω_Λ a³/Ω_m). */
function growingModeClosedForm(c: Cosmology, a: number): number {
  const om = c.omegaM;
  const ol = 1 - om;
  const integral =
    0.4 * Math.pow(a, 2.5) * Math.pow(om, -1.5) * hypergeometric2F1(1.5, 5 / 6, 11 / 6, (-ol * a ** 3) / om);
  return 2.5 * om * Math.sqrt(om / a ** 3 + ol) * integral;
}

/** Carroll, Press & Turner (1992, ARA&A 30, 499) eq. 29 fit, good to ~1%: D ∝ g(z)/(1+z). */
function carrollPressTurnerD(c: Cosmology, z: number): number {
  const g = (zz: number): number => {
    const om = omegaMAt(c, zz);
    const ol = 1 - om;
    return (2.5 * om) / (Math.pow(om, 4 / 7) - ol + (1 + om / 2) * (1 + ol / 70));
  };
  return g(z) / (1 + z) / g(0);
}

describe("linear growth D1 and f1", () => {
  const lcdm = makeCosmology({ omegaM: 0.3 });
  const redshifts = [3, 2, 1, 0.5, 0]; // ascending a for the ODE
  const ref = growthByRk4(
    0.3,
    redshifts.map((z) => 1 / (1 + z)),
  );

  it("matches a brute-force RK4 integration of the growth ODE (Ω_m = 0.3) to 1e-9", () => {
    const d0 = ref.d[ref.d.length - 1];
    redshifts.forEach((z, i) => {
      expect(growthD1(lcdm, z)).toBeCloseTo(ref.d[i] / d0, 9);
      expect(growthRateF1(lcdm, z)).toBeCloseTo(ref.f[i], 9);
    });
  });

  it("gives D1(z=1) = 0.6118 and f(z=0) = 0.5128 for Ω_m = 0.3 (RK4 reference above)", () => {
    expect(growthD1(lcdm, 1)).toBeCloseTo(0.6118, 4);
    expect(growthRateF1(lcdm, 0)).toBeCloseTo(0.5128, 4);
  });

  it("equals the hypergeometric closed form of Heath's integral to 1e-12", () => {
    for (const om of [0.05, 0.25, 0.315, 0.7, 0.99]) {
      const c = makeCosmology({ omegaM: om, omegaB: 0.02 });
      const norm = growingModeClosedForm(c, 1);
      for (const z of [0, 0.3, 1, 5, 50, 1000, -0.5]) {
        const expected = growingModeClosedForm(c, 1 / (1 + z)) / norm;
        expect(Math.abs(growthD1(c, z) / expected - 1)).toBeLessThan(1e-12);
      }
    }
  });

  it("agrees with the Carroll, Press & Turner (1992) fit within its ~1% accuracy", () => {
    for (const om of [0.25, 0.3, 0.315]) {
      const c = makeCosmology({ omegaM: om });
      for (const z of [0.5, 1, 2, 5]) {
        expect(Math.abs(growthD1(c, z) / carrollPressTurnerD(c, z) - 1)).toBeLessThan(0.01);
      }
    }
  });

  it("agrees with Linder's (2005) f ≈ Ω_m(z)^0.55 within 1%", () => {
    for (const om of [0.25, 0.3, 0.315]) {
      const c = makeCosmology({ omegaM: om });
      for (const z of [0, 0.5, 1, 2, 3]) {
        expect(Math.abs(growthRateF1(c, z) / Math.pow(omegaMAt(c, z), 0.55) - 1)).toBeLessThan(0.01);
      }
    }
  });

  it("is exactly D = a, f = 1 in Einstein–de Sitter", () => {
    const eds = makeCosmology({ omegaM: 1 });
    for (const z of [0, 0.5, 1, 9, 99]) {
      expect(growthD1(eds, z)).toBeCloseTo(1 / (1 + z), 14);
      expect(growthRateF1(eds, z)).toBeCloseTo(1, 13);
    }
  });

  it("rejects z ≤ −1", () => {
    expect(() => growthD1(lcdm, -1)).toThrow(RangeError);
    expect(() => growthFactors(lcdm, Number.NaN)).toThrow(RangeError);
  });
});

/**
 * Second-order growth ODE (e.g. Bouchet et al. 1995), in ln a with the same RK4 scheme:
 *   D2'' + (2 − 3/2 Ω_m) D2' − 3/2 Ω_m D2 = −3/2 Ω_m D1²,  D2 = −3/7 a², D2' = −6/7 a² early on,
 * with D1 the unnormalised growing mode. Returns D2/D1(a=1)² and f2 = D2'/D2 at a = 1/(1+z).
 */
function secondOrderByRk4(omegaM: number, z: number): { d2: number; f2: number } {
  const rhs = (lna: number, y: number[]): number[] => {
    const om = omegaM / (omegaM + (1 - omegaM) * Math.exp(3 * lna));
    const drag = 2 - 1.5 * om;
    return [
      y[1],
      -drag * y[1] + 1.5 * om * y[0],
      y[3],
      -drag * y[3] + 1.5 * om * y[2] - 1.5 * om * y[0] * y[0],
    ];
  };
  const step = (lna: number, y: number[], h: number): number[] => {
    const add = (u: number[], v: number[], s: number): number[] => u.map((x, i) => x + s * v[i]);
    const k1 = rhs(lna, y);
    const k2 = rhs(lna + h / 2, add(y, k1, h / 2));
    const k3 = rhs(lna + h / 2, add(y, k2, h / 2));
    const k4 = rhs(lna + h, add(y, k3, h));
    return y.map((x, i) => x + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  };
  const run = (aEnd: number): number[] => {
    const a0 = 1e-4;
    let y = [a0, a0, (-3 / 7) * a0 * a0, (-6 / 7) * a0 * a0];
    let lna = Math.log(a0);
    const n = Math.ceil((Math.log(aEnd) - lna) / 1e-3);
    const h = (Math.log(aEnd) - lna) / n;
    for (let i = 0; i < n; i++, lna += h) y = step(lna, y, h);
    return y;
  };
  const today = run(1);
  const y = run(1 / (1 + z));
  return { d2: y[2] / (today[0] * today[0]), f2: y[3] / y[2] };
}

describe("second-order growth (Bouchet et al. 1995)", () => {
  it("D2 = −3/7 D1² Ω_m(z)^(−1/143), f2 = 2 Ω_m(z)^(6/11), with D1, f1 from the exact solution", () => {
    const c = makeCosmology();
    for (const z of [0, 0.5, 2]) {
      const g = growthFactors(c, z);
      const om = omegaMAt(c, z);
      expect(g.d1).toBe(growthD1(c, z));
      expect(g.f1).toBe(growthRateF1(c, z));
      expect(g.d2).toBeCloseTo((-3 / 7) * g.d1 ** 2 * Math.pow(om, -1 / 143), 14);
      expect(g.f2).toBeCloseTo(2 * Math.pow(om, 6 / 11), 14);
    }
  });

  it("approximates the second-order growth ODE: D2 within 0.05%, f2 within 0.6%", () => {
    for (const om of [0.25, 0.315]) {
      const c = makeCosmology({ omegaM: om });
      for (const z of [0, 0.5, 1, 3]) {
        const ref = secondOrderByRk4(om, z);
        const g = growthFactors(c, z);
        expect(Math.abs(g.d2 / ref.d2 - 1)).toBeLessThan(5e-4);
        expect(Math.abs(g.f2 / ref.f2 - 1)).toBeLessThan(0.006);
      }
    }
  });

  it("reduces to D2 = −3/7 a², f2 = 2 in Einstein–de Sitter", () => {
    const g = growthFactors(makeCosmology({ omegaM: 1 }), 1);
    expect(g.d2).toBeCloseTo(-3 / 28, 14);
    expect(g.f2).toBe(2);
  });
});
