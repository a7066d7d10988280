/**
 * Linear matter power spectrum P_lin(k, z) = D1(z)² A k^n_s T(k)², normalised to σ8.
 *
 * σ²(R) = 1/(2π²) ∫ k³ P(k) W²(kR) dln k over k ∈ [1e-5, 1e3] h/Mpc with the real-space top-hat
 * window W. The integral uses Gauss–Legendre panels in ln k no wider than one oscillation of W²
 * (π/(kR)) up to kR ≈ 1600, beyond which the remaining tail is below 1e-10 of σ².
 *
 * `at` is called once per Fourier mode of large grids, so P(k, 0) is tabulated in ln P against
 * ln k (16384 nodes over the same k range) and read back by 4-point Lagrange interpolation,
 * which keeps the relative error ~1e-9 even across the baryon wiggles; outside the table P is
 * evaluated directly.
 */

import type { Cosmology } from "./cosmology.js";
import { gaussLegendreRule } from "./gauss-legendre.js";
import { growthD1 } from "./growth.js";
import { type TransferModel, transferFunction } from "./transfer-function.js";

/** Top-hat radius of the σ8 normalisation, Mpc/h. */
export const SIGMA8_RADIUS = 8;

const K_MIN = 1e-5;
const K_MAX = 1e3;
const TABLE_SIZE = 16384;

/**
 * Fourier transform of the real-space spherical top-hat, W(x) = 3(sin x − x cos x)/x³.
 * Below x = 0.1 the direct form loses ~eps/x² to cancellation, so its Taylor series is used.
 */
export function tophatWindow(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.1) {
    const x2 = x * x;
    return 1 - (x2 / 10) * (1 - (x2 / 28) * (1 - x2 / 54));
  }
  return (3 * (Math.sin(ax) - ax * Math.cos(ax))) / (ax * ax * ax);
}

export class LinearPower {
  readonly cosmology: Cosmology;
  readonly model: TransferModel;
  /** A in P(k, 0) = A k^n_s T(k)², (Mpc/h)^(3 + n_s). */
  readonly amplitude: number;

  private readonly lnP: Float64Array;
  private readonly lnKMin = Math.log(K_MIN);
  private readonly invStep: number;
  private lastZ = 0;
  private lastGrowth2 = 1;

  constructor(c: Cosmology, model: TransferModel = "eisenstein-hu") {
    this.cosmology = c;
    this.model = model;
    const unnormalised = sigmaSquared((k) => this.shape(k), SIGMA8_RADIUS);
    this.amplitude = (c.sigma8 * c.sigma8) / unnormalised;

    const step = (Math.log(K_MAX) - this.lnKMin) / (TABLE_SIZE - 1);
    this.invStep = 1 / step;
    this.lnP = new Float64Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) {
      this.lnP[i] = Math.log(this.direct(Math.exp(this.lnKMin + i * step)));
    }
  }

  /** k^n_s T(k)², the unnormalised shape. */
  private shape(k: number): number {
    const t = transferFunction(this.cosmology, k, this.model);
    return Math.pow(k, this.cosmology.nS) * t * t;
  }

  /** P(k, z = 0) evaluated from the transfer function, (Mpc/h)³. */
  direct(k: number): number {
    return this.amplitude * this.shape(k);
  }

  /** P_lin(k, z) in (Mpc/h)³ for k in h/Mpc; P(0) = 0 (no DC power). */
  at(k: number, z = 0): number {
    let p: number;
    const t = (Math.log(k) - this.lnKMin) * this.invStep;
    if (t >= 1 && t < TABLE_SIZE - 2) {
      const i = Math.floor(t);
      const x = t - i;
      const y0 = this.lnP[i - 1];
      const y1 = this.lnP[i];
      const y2 = this.lnP[i + 1];
      const y3 = this.lnP[i + 2];
      // Lagrange cubic through nodes −1, 0, 1, 2 evaluated at x ∈ [0, 1).
      const xm1 = x - 1;
      const xm2 = x - 2;
      const xp1 = x + 1;
      const lnp =
        (-x * xm1 * xm2 * y0) / 6 +
        (xp1 * xm1 * xm2 * y1) / 2 -
        (xp1 * x * xm2 * y2) / 2 +
        (xp1 * x * xm1 * y3) / 6;
      p = Math.exp(lnp);
    } else if (k === 0) {
      return 0;
    } else if (k > 0 && k !== Infinity) {
      p = this.direct(k);
    } else {
      throw new RangeError(`wavenumber must be finite and >= 0 h/Mpc, got ${k}`);
    }
    if (z === 0) return p;
    if (z !== this.lastZ) {
      const d = growthD1(this.cosmology, z);
      this.lastGrowth2 = d * d;
      this.lastZ = z;
    }
    return p * this.lastGrowth2;
  }

  /** rms linear density contrast in real-space top-hat spheres of radius r (Mpc/h) at redshift z. */
  sigmaR(r: number, z = 0): number {
    if (!(r > 0) || !Number.isFinite(r))
      throw new RangeError(`top-hat radius must be finite and > 0 Mpc/h, got ${r}`);
    const s0 = Math.sqrt(this.amplitude * sigmaSquared((k) => this.shape(k), r));
    return z === 0 ? s0 : s0 * growthD1(this.cosmology, z);
  }
}

/** 1/(2π²) ∫ k³ shape(k) W²(kr) dln k over [K_MIN, K_MAX]. */
function sigmaSquared(shape: (k: number) => number, r: number): number {
  const { nodes, weights } = gaussLegendreRule(12);
  const lnEnd = Math.log(K_MAX);
  let lnA = Math.log(K_MIN);
  let total = 0;
  while (lnA < lnEnd) {
    const x = Math.exp(lnA) * r;
    // One period of W² (π in kr) per panel, capped so smooth regions are not over-sampled
    // and floored where the integrand is negligible.
    const width = Math.min(0.05, Math.max(Math.PI / x, 0.002));
    const lnB = Math.min(lnEnd, lnA + width);
    const mid = 0.5 * (lnA + lnB);
    const half = 0.5 * (lnB - lnA);
    let s = 0;
    for (let i = 0; i < nodes.length; i++) {
      const k = Math.exp(mid + half * nodes[i]);
      const w = tophatWindow(k * r);
      s += weights[i] * k * k * k * shape(k) * w * w;
    }
    total += s * half;
    lnA = lnB;
  }
  return total / (2 * Math.PI * Math.PI);
}
