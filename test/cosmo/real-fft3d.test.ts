import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  RealFft3d,
  allocShared,
  isFftFriendly,
  spectralLength,
  type GridShape,
} from "../../src/cosmo/fft/real-fft3d.js";
import { ScalarRealFft3d } from "../../src/cosmo/fft/scalar-real-fft3d.js";
import { mulberry32 } from "../seeded-random.js";

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function noise(length: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 2 * u() - 1;
  return out;
}

/**
 * Direct float64 DFT along one axis of a complex [n0][n1][n2] array (re, im), with e^{sign 2πi jk/n}.
 * Applied per axis it is the exact multidimensional DFT, independent of the FFT code under test.
 */
function dftAxis(
  re: Float64Array,
  im: Float64Array,
  dims: readonly number[],
  axis: number,
  sign: number,
): void {
  const n = dims[axis];
  const stride = axis === 2 ? 1 : axis === 1 ? dims[2] : dims[1] * dims[2];
  const total = dims[0] * dims[1] * dims[2];
  const cr = new Float64Array(n);
  const ci = new Float64Array(n);
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / n);
    sin[j] = sign * Math.sin((2 * Math.PI * j) / n);
  }
  for (let start = 0; start < total; start++) {
    if (Math.floor(start / stride) % n !== 0) continue;
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const t = (j * k) % n;
        const xr = re[start + j * stride];
        const xi = im[start + j * stride];
        sr += xr * cos[t] - xi * sin[t];
        si += xr * sin[t] + xi * cos[t];
      }
      cr[k] = sr;
      ci[k] = si;
    }
    for (let k = 0; k < n; k++) {
      re[start + k * stride] = cr[k];
      im[start + k * stride] = ci[k];
    }
  }
}

/** numpy.fft.rfftn in float64 by direct DFTs. */
function referenceRfftn(real: Float32Array, shape: GridShape): Float64Array {
  const [nx, ny, nz] = shape;
  const re = Float64Array.from(real);
  const im = new Float64Array(real.length);
  for (let axis = 0; axis < 3; axis++) dftAxis(re, im, shape, axis, -1);
  const nkz = Math.floor(nz / 2) + 1;
  const out = new Float64Array(spectralLength(shape));
  for (let xy = 0; xy < nx * ny; xy++) {
    for (let k = 0; k < nkz; k++) {
      out[(xy * nkz + k) * 2] = re[xy * nz + k];
      out[(xy * nkz + k) * 2 + 1] = im[xy * nz + k];
    }
  }
  return out;
}

/** numpy.fft.irfftn in float64: inverse c2c along x and y, then irfft along z (imag of kz = 0 and nz/2 dropped). */
function referenceIrfftn(spectrum: Float32Array, shape: GridShape): Float64Array {
  const [nx, ny, nz] = shape;
  const nkz = Math.floor(nz / 2) + 1;
  const re = new Float64Array(nx * ny * nkz);
  const im = new Float64Array(nx * ny * nkz);
  for (let i = 0; i < re.length; i++) {
    re[i] = spectrum[2 * i];
    im[i] = spectrum[2 * i + 1];
  }
  const dims = [nx, ny, nkz];
  dftAxis(re, im, dims, 0, 1);
  dftAxis(re, im, dims, 1, 1);
  const out = new Float64Array(nx * ny * nz);
  for (let xy = 0; xy < nx * ny; xy++) {
    for (let z = 0; z < nz; z++) {
      let s = re[xy * nkz];
      for (let k = 1; k < nkz; k++) {
        const weight = nz % 2 === 0 && k === nz / 2 ? 1 : 2;
        const t = (2 * Math.PI * k * z) / nz;
        s += weight * (re[xy * nkz + k] * Math.cos(t) - im[xy * nkz + k] * Math.sin(t));
      }
      out[xy * nz + z] = s / (nx * ny * nz);
    }
  }
  return out;
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

const SHAPES: GridShape[] = [
  [6, 10, 15],
  [8, 8, 8],
  [9, 5, 4],
  [1, 1, 1],
  [2, 3, 5],
  [1, 4, 6],
  [5, 1, 2],
  [16, 12, 30],
  [20, 18, 25],
  [32, 32, 32],
  [6, 10, 24],
  [5, 6, 20],
  [4, 64, 8],
  [3, 1, 36],
];

describe("RealFft3d against direct float64 DFTs", () => {
  for (const shape of SHAPES) {
    it(`forward matches rfftn for ${shape.join("x")}`, () => {
      const fft = new RealFft3d(shape, { threads: 1 });
      const real = noise(shape[0] * shape[1] * shape[2], 11);
      const copy = real.slice();
      const out = fft.forward(real);
      expect(out.length).toBe(spectralLength(shape));
      expect(relativeError(out, referenceRfftn(real, shape))).toBeLessThan(1e-5);
      expect(real).toEqual(copy);
      fft.dispose();
    });

    it(`inverse matches irfftn for ${shape.join("x")} (non-Hermitian input)`, () => {
      const fft = new RealFft3d(shape, { threads: 1 });
      const spectrum = noise(spectralLength(shape), 23);
      const copy = spectrum.slice();
      const out = fft.inverse(spectrum);
      expect(out.length).toBe(shape[0] * shape[1] * shape[2]);
      expect(relativeError(out, referenceIrfftn(spectrum, shape))).toBeLessThan(1e-5);
      expect(spectrum).toEqual(copy);
      fft.dispose();
    });
  }
});

describe("RealFft3d on random shapes", () => {
  it("matches rfftn and irfftn for any sides made of 2, 3, 5 up to 40", () => {
    const friendly = [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 24, 25, 27, 30, 32, 36, 40];
    const side = fc.constantFrom(...friendly);
    fc.assert(
      fc.property(fc.tuple(side, side, side), fc.integer({ min: 1, max: 3 }), (shape, threads) => {
        const fft = new RealFft3d(shape, { threads });
        const real = noise(shape[0] * shape[1] * shape[2], shape[0] * 1000 + shape[1] * 10 + shape[2]);
        const spectrum = noise(spectralLength(shape), 99);
        const forwardError = relativeError(fft.forward(real), referenceRfftn(real, shape));
        const inverseError = relativeError(fft.inverse(spectrum), referenceIrfftn(spectrum, shape));
        fft.dispose();
        return forwardError < 1e-5 && inverseError < 1e-5;
      }),
      { numRuns: 40, seed: 20240607 },
    );
  });
});

describe("float64 TypeScript reference engine against direct DFTs", () => {
  for (const shape of [
    [6, 10, 15],
    [9, 5, 4],
    [16, 12, 30],
    [1, 1, 1],
  ] as const) {
    it(`forward and inverse for ${shape.join("x")}`, () => {
      const engine = new ScalarRealFft3d(shape);
      const real = noise(shape[0] * shape[1] * shape[2], 31);
      const spectrum = new Float32Array(spectralLength(shape));
      engine.forward(real, spectrum);
      expect(relativeError(spectrum, referenceRfftn(real, shape))).toBeLessThan(1e-6);
      const input = noise(spectralLength(shape), 37);
      const out = new Float32Array(real.length);
      engine.inverse(input, out, new Float32Array(input.length));
      expect(relativeError(out, referenceIrfftn(input, shape))).toBeLessThan(1e-6);
    });
  }
});

describe("RealFft3d threads", () => {
  for (const shape of [[24, 20, 18] as const, [10, 9, 15] as const]) {
    it(`gives bitwise identical results for 1, 2 and 3 threads (${shape.join("x")})`, () => {
      const real = noise(shape[0] * shape[1] * shape[2], 41);
      const spectrum = noise(spectralLength(shape), 43);
      const results = [1, 2, 3].map((threads) => {
        const fft = new RealFft3d(shape, { threads });
        // Plain (not shared) buffers exercise the staging copies of the threaded path.
        const f = fft.forward(real, new Float32Array(spectralLength(shape)));
        const b = fft.inverse(spectrum);
        const again = fft.forward(real);
        fft.dispose();
        return { f, b, again };
      });
      for (const r of results.slice(1)) {
        expect(Buffer.from(r.f.buffer).equals(Buffer.from(results[0].f.buffer))).toBe(true);
        expect(Buffer.from(r.b.buffer).equals(Buffer.from(results[0].b.buffer))).toBe(true);
        expect(Array.from(r.again)).toEqual(Array.from(r.f));
      }
      expect(relativeError(results[2].f, referenceRfftn(real, shape))).toBeLessThan(1e-5);
      expect(relativeError(results[2].b, referenceIrfftn(spectrum, shape))).toBeLessThan(1e-5);
    });
  }

  it("matches the float64 reference engine at 128^3 (multi-chunk x-pass slabs)", () => {
    const shape = [128, 128, 128] as const;
    const real = noise(128 ** 3, 47);
    const fft = new RealFft3d(shape, { threads: 2 });
    const fast = fft.forward(real);
    const back = fft.inverse(fast);
    fft.dispose();
    const reference = new Float32Array(spectralLength(shape));
    new ScalarRealFft3d(shape).forward(real, reference);
    expect(relativeError(fast, reference)).toBeLessThan(1e-5);
    expect(relativeError(back, real)).toBeLessThan(1e-5);
  });

  it("refuses use after dispose", () => {
    const fft = new RealFft3d([4, 4, 4], { threads: 2 });
    fft.dispose();
    expect(() => fft.forward(new Float32Array(64))).toThrow(/dispose/);
  });
});

describe("RealFft3d identities", () => {
  it("round trip recovers the field", () => {
    for (const shape of [[12, 10, 9] as const, [16, 16, 16] as const, [3, 5, 2] as const]) {
      const fft = new RealFft3d(shape, { threads: 1 });
      const real = noise(shape[0] * shape[1] * shape[2], 5);
      const back = fft.inverse(fft.forward(real));
      expect(relativeError(back, real)).toBeLessThan(1e-6);
      fft.dispose();
    }
  });

  it("satisfies Parseval's theorem", () => {
    for (const shape of [[10, 12, 16] as const, [9, 6, 15] as const]) {
      const [nx, ny, nz] = shape;
      const fft = new RealFft3d(shape, { threads: 1 });
      const real = noise(nx * ny * nz, 7);
      const spec = fft.forward(real);
      const nkz = Math.floor(nz / 2) + 1;
      let spectral = 0;
      for (let i = 0; i < spec.length / 2; i++) {
        const kz = i % nkz;
        const weight = kz === 0 || (nz % 2 === 0 && kz === nz / 2) ? 1 : 2;
        spectral += weight * (spec[2 * i] ** 2 + spec[2 * i + 1] ** 2);
      }
      let direct = 0;
      for (const v of real) direct += v * v;
      expect(Math.abs(spectral / (nx * ny * nz) - direct) / direct).toBeLessThan(1e-5);
      fft.dispose();
    }
  });

  it("puts a single plane wave into exactly one mode", () => {
    const shape = [12, 10, 16] as const;
    const [nx, ny, nz] = shape;
    const [a, b, c] = [3, 7, 5];
    const real = new Float32Array(nx * ny * nz);
    for (let x = 0; x < nx; x++)
      for (let y = 0; y < ny; y++)
        for (let z = 0; z < nz; z++) {
          real[(x * ny + y) * nz + z] = Math.cos(2 * Math.PI * ((a * x) / nx + (b * y) / ny + (c * z) / nz));
        }
    const fft = new RealFft3d(shape, { threads: 1 });
    const spec = fft.forward(real);
    const nkz = nz / 2 + 1;
    const n = nx * ny * nz;
    const target = (a * ny + b) * nkz + c;
    for (let i = 0; i < spec.length / 2; i++) {
      const expectedRe = i === target ? n / 2 : 0;
      expect(Math.abs(spec[2 * i] - expectedRe)).toBeLessThan(1e-4 * n);
      expect(Math.abs(spec[2 * i + 1])).toBeLessThan(1e-4 * n);
    }
    fft.dispose();
  });

  it("writes into a caller-provided output, shared or not", () => {
    const shape = [4, 6, 10] as const;
    const fft = new RealFft3d(shape, { threads: 1 });
    const real = noise(240, 3);
    const plain = new Float32Array(spectralLength(shape));
    const shared = allocShared(spectralLength(shape));
    expect(fft.forward(real, plain)).toBe(plain);
    expect(fft.forward(real, shared)).toBe(shared);
    expect(Array.from(shared)).toEqual(Array.from(plain));
    expect(() => fft.forward(real, new Float32Array(3))).toThrow(RangeError);
    fft.dispose();
  });
});

describe("RealFft3d shape validation", () => {
  it("accepts only products of 2, 3 and 5", () => {
    expect(isFftFriendly(1)).toBe(true);
    expect(isFftFriendly(360)).toBe(true);
    expect(isFftFriendly(7)).toBe(false);
    expect(isFftFriendly(14)).toBe(false);
    expect(isFftFriendly(0)).toBe(false);
    expect(isFftFriendly(-4)).toBe(false);
    expect(isFftFriendly(2.5)).toBe(false);
    for (const bad of [7, 14, 0]) {
      expect(() => new RealFft3d([8, bad, 8])).toThrow(RangeError);
    }
  });

  it("allocShared gives a zeroed SharedArrayBuffer-backed array", () => {
    const a = allocShared(10);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(a)).toEqual(new Array(10).fill(0));
  });
});
