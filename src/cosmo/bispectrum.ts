/**
 * FFT bispectrum estimator on periodic cubic grids (Scoccimarro 2015, §II; Sefusatti et al. 2016,
 * eqs 23–27).
 *
 * With δ_k the unnormalised DFT of the grid (N_c cells, volume V), the continuous-normalised field
 * is (V/N_c) δ_k and ⟨δ(k1)δ(k2)δ(k3)⟩ = V δ^K B, so for shells S1, S2, S3
 *   B̂ = V²/N_c³ · ⟨δ_k1 δ_k2 δ_k3⟩ over the ordered triangles k1 + k2 + k3 = 0, k_i ∈ S_i.
 * The triangle sum factorises in configuration space: with D_i(x) the inverse FFT (1/N_c
 * normalised) of δ_k restricted to S_i and I_i(x) that of the shell's indicator,
 *   Σ_tri δ_k1 δ_k2 δ_k3 = N_c² Σ_x D1 D2 D3,   N_tri = N_c² Σ_x I1 I2 I3,
 * so B̂ = V²/N_c³ · Σ_x D1 D2 D3 / Σ_x I1 I2 I3, at the cost of two inverse FFTs per distinct shell
 * (kept only until the last configuration that uses it: memory is 2 grids per shell in use).
 *
 * Shell S_i holds the modes of the full grid with |k| ∈ [k_i − Δk/2, k_i + Δk/2). On the DFT grid a
 * triangle "closes" when k1 + k2 + k3 ≡ 0 modulo N on each axis; triangles that close only through
 * the wrap-around are aliases. No shell reaching beyond N/3 · k_F on any axis can alias, so keep
 * k_i + Δk/2 ≤ (N/3) k_F (two thirds of k_Ny) for clean results.
 *
 * Reduced bispectrum Q = B / (P1 P2 + P2 P3 + P1 P3) with P_i the mean power of shell i (V/N_c² |δ_k|²).
 * Gaussian error (Scoccimarro et al. 1998, eq. 25, in this normalisation): ΔB² = s123 V P1 P2 P3 / N_tri
 * with s123 = 6, 2, 1 for equilateral, isosceles and general shells.
 */
import { RealFft3d, allocShared, type GridShape } from "./fft/real-fft3d.js";
import { checkCubic, signedFrequency } from "./k-binning.js";

/** A triangle of shell centres, h/Mpc. */
export interface TriangleConfig {
  k1: number;
  k2: number;
  k3: number;
}

export interface BispectrumOptions {
  /** Box side, Mpc/h. */
  boxSize: number;
  /** Shell width Δk in h/Mpc; default k_F. */
  shellWidth?: number;
  threads?: number;
}

export interface BispectrumRow extends TriangleConfig {
  /** B̂, (Mpc/h)^6. */
  bispectrum: number;
  /** Q = B / (P1P2 + P2P3 + P1P3). */
  reduced: number;
  /** Mean power of the three shells, (Mpc/h)^3. */
  power1: number;
  power2: number;
  power3: number;
  /** Number of ordered closed triangles (k1, k2, k3) with k_i in shell i. */
  triangles: number;
  /** Gaussian standard error of B̂, (Mpc/h)^6: sqrt(s123 V P1 P2 P3 / N_tri). */
  gaussianError: number;
}

/** Equilateral triangles k1 = k2 = k3 = k for each k in `ks` (h/Mpc). */
export function equilateralTriangles(ks: readonly number[]): TriangleConfig[] {
  return ks.map((k) => ({ k1: k, k2: k, k3: k }));
}

/**
 * Triangles with fixed |k1|, |k2| and the angle θ between the vectors k1 and k2 (radians), so
 * k3 = −(k1 + k2) and |k3|² = k1² + k2² + 2 k1 k2 cos θ: θ = 0 is the folded-out k3 = k1 + k2,
 * θ = π the collinear k3 = |k1 − k2|.
 */
export function angleTriangles(k1: number, k2: number, thetas: readonly number[]): TriangleConfig[] {
  return thetas.map((t) => ({
    k1,
    k2,
    k3: Math.sqrt(Math.max(0, k1 * k1 + k2 * k2 + 2 * k1 * k2 * Math.cos(t))),
  }));
}

/** Bispectrum of a real grid (δ) for each triangle configuration. */
export function bispectrum(
  delta: Float32Array,
  shape: GridShape,
  configs: readonly TriangleConfig[],
  options: BispectrumOptions,
): BispectrumRow[] {
  const n = checkCubic(shape, options.boxSize);
  const cells = n * n * n;
  if (delta.length !== cells)
    throw new RangeError(`field has length ${delta.length}, expected ${n}³ = ${cells}`);
  const kF = (2 * Math.PI) / options.boxSize;
  const width = (options.shellWidth ?? kF) / kF;
  if (!(width > 0) || !Number.isFinite(width))
    throw new RangeError(`shell width must be a positive number of h/Mpc, got ${options.shellWidth}`);
  for (const c of configs) {
    for (const k of [c.k1, c.k2, c.k3]) {
      if (!(k > 0) || !Number.isFinite(k))
        throw new RangeError(`triangle sides must be positive h/Mpc, got ${k}`);
    }
  }

  const fft = new RealFft3d(shape, options.threads === undefined ? {} : { threads: options.threads });
  try {
    const spectrum = fft.forward(delta);
    const shells = new ShellFields(fft, spectrum, n, width, options.boxSize);
    const volume = options.boxSize ** 3;
    // Shell fields are dropped after their last use, so memory holds only the shells still needed.
    const lastUse = new Map<string, number>();
    configs.forEach((c, i) => [c.k1, c.k2, c.k3].forEach((k) => lastUse.set(shellKey(k / kF), i)));
    return configs.map((c, i) => {
      const s = [c.k1 / kF, c.k2 / kF, c.k3 / kF];
      const [a, b, d] = s.map((centre) => shells.get(centre));
      for (const centre of s) if (lastUse.get(shellKey(centre)) === i) shells.release(centre);
      const sumD = tripleSum(a.field, b.field, d.field);
      const sumI = tripleSum(a.unit, b.unit, d.unit);
      const triangles = Math.round(cells * cells * sumI);
      const bispec = triangles > 0 ? ((volume * volume) / (cells * cells * cells)) * (sumD / sumI) : NaN;
      const [p1, p2, p3] = [a.power, b.power, d.power];
      const same = (x: number, y: number) => Math.abs(x - y) < 1e-9 * Math.max(x, y);
      const s123 =
        same(s[0], s[1]) && same(s[1], s[2])
          ? 6
          : same(s[0], s[1]) || same(s[1], s[2]) || same(s[0], s[2])
            ? 2
            : 1;
      return {
        ...c,
        bispectrum: bispec,
        reduced: bispec / (p1 * p2 + p2 * p3 + p1 * p3),
        power1: p1,
        power2: p2,
        power3: p3,
        triangles,
        gaussianError: Math.sqrt((s123 * volume * p1 * p2 * p3) / triangles),
      };
    });
  } finally {
    fft.dispose();
  }
}

function tripleSum(a: Float32Array, b: Float32Array, c: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i] * c[i];
  return s;
}

function shellKey(centre: number): string {
  return centre.toPrecision(12);
}

interface Shell {
  field: Float32Array;
  unit: Float32Array;
  /** Mean V/N_c² |δ_k|² over the shell's modes (full grid). */
  power: number;
}

/** Filtered fields per shell, computed once per distinct shell centre (in units of k_F). */
class ShellFields {
  private readonly cache = new Map<string, Shell>();
  private readonly masked: Float32Array;
  private readonly k2: Float64Array;

  constructor(
    private readonly fft: RealFft3d,
    private readonly spectrum: Float32Array,
    private readonly n: number,
    private readonly width: number,
    private readonly boxSize: number,
  ) {
    this.masked = allocShared(spectrum.length);
    // |n|² per stored mode, in the half-complex layout.
    const nzh = Math.floor(n / 2) + 1;
    this.k2 = new Float64Array(n * n * nzh);
    for (let ix = 0; ix < n; ix++) {
      const kx = signedFrequency(ix, n);
      for (let iy = 0; iy < n; iy++) {
        const ky = signedFrequency(iy, n);
        for (let iz = 0; iz < nzh; iz++) this.k2[(ix * n + iy) * nzh + iz] = kx * kx + ky * ky + iz * iz;
      }
    }
  }

  release(centre: number): void {
    this.cache.delete(shellKey(centre));
  }

  get(centre: number): Shell {
    const key = shellKey(centre);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const lo = Math.max(0, centre - this.width / 2);
    const hi = centre + this.width / 2;
    const lo2 = lo * lo;
    const hi2 = hi * hi;
    const n = this.n;
    const nzh = Math.floor(n / 2) + 1;
    const lastPlane = n % 2 === 0 ? nzh - 1 : -1;
    const m = this.masked;
    const spec = this.spectrum;
    // Indicator spectrum first; the full-grid mode count weights interior kz planes twice.
    let modes = 0;
    let sumP = 0;
    m.fill(0);
    for (let j = 0; j < this.k2.length; j++) {
      const s = this.k2[j];
      if (s === 0 || s < lo2 || s >= hi2) continue;
      const iz = j % nzh;
      const w = iz === 0 || iz === lastPlane ? 1 : 2;
      modes += w;
      sumP += w * (spec[2 * j] * spec[2 * j] + spec[2 * j + 1] * spec[2 * j + 1]);
      m[2 * j] = 1;
    }
    if (modes === 0) {
      throw new RangeError(
        `bispectrum shell at k = ${((centre * 2 * Math.PI) / this.boxSize).toPrecision(4)} h/Mpc holds no modes of the ${n}³ grid`,
      );
    }
    const unit = this.fft.inverse(m);
    for (let j = 0; j < this.k2.length; j++) {
      if (m[2 * j] === 1) {
        m[2 * j] = spec[2 * j];
        m[2 * j + 1] = spec[2 * j + 1];
      }
    }
    const field = this.fft.inverse(m);
    const cells = n * n * n;
    const power = ((sumP / modes) * this.boxSize ** 3) / (cells * cells);
    const shell = { field, unit, power };
    this.cache.set(key, shell);
    return shell;
  }
}
