/* global WebAssembly */
// One WebAssembly SIMD FFT instance (native/fft/fft.c) with its own small memory. It works on
// one x-plane or one x-pass block of host arrays at a time, copying it through a transfer
// buffer, so host grids can be any size. Plain JavaScript (with JSDoc types) because worker
// threads load it directly, from src/ under vitest as well as from dist/.

/** Complex values transformed together in the x pass (re+im float32: 256 KiB), to stay in L2. */
const CHUNK_COMPLEX = 1 << 15;
/** Complex values per x-pass slab copied in and out at once (2 MiB), to amortise per-copy costs. */
const SLAB_COMPLEX = 1 << 18;
/** Preferred least number of slabs, so that threads share the x pass evenly. */
const MIN_SLABS = 16;

/** @param {number} n */
const round4 = (n) => Math.ceil(n / 4) * 4;

/**
 * SIMD batch width for n pencils: a multiple of 4 lanes, avoiding strides that are multiples
 * of 256 bytes (cache-set aliasing between the input streams of a radix-r butterfly).
 * @param {number} n
 */
const lanes = (n) => (round4(n) % 64 === 0 ? round4(n) + 4 : round4(n));

/**
 * Factors of n into 4s first, then 2, 3, 5 — the same order as batched-complex-fft.ts.
 * @param {number} n
 * @returns {number[]}
 */
function factors(n) {
  const out = [];
  let rest = n;
  while (rest % 4 === 0) {
    out.push(4);
    rest /= 4;
  }
  for (const r of [2, 3, 5]) {
    while (rest % r === 0) {
      out.push(r);
      rest /= r;
    }
  }
  if (rest !== 1) throw new RangeError(`FFT length ${n} is not a product of 2, 3 and 5`);
  return out;
}

export class WasmFftKernel {
  /**
   * @param {WebAssembly.Module} module compiled fft.wasm
   * @param {readonly [number, number, number]} shape grid sides (nx, ny, nz)
   */
  constructor(module, shape) {
    const [nx, ny, nz] = shape;
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.nkz = Math.floor(nz / 2) + 1;
    const nkz = this.nkz;
    const zlen = nz % 2 === 0 ? nz / 2 : nz;
    const nyp = lanes(ny);
    const nkp = lanes(nkz);
    const planeComplex = ny * nkz;
    /** Columns of the flattened (y, kz) plane transformed together along x; a multiple of 4. */
    this.chunk = Math.min(round4(planeComplex), Math.max(4, round4(Math.floor(CHUNK_COMPLEX / nx))));
    const slabChunks = Math.max(
      1,
      Math.min(
        Math.floor(SLAB_COMPLEX / (nx * this.chunk)),
        Math.ceil(planeComplex / MIN_SLABS / this.chunk),
      ),
    );
    /** Columns per x-pass slab (one work unit). Shape-dependent only. */
    this.slab = slabChunks * this.chunk;
    /** Number of x-pass slabs. */
    this.blockCount = Math.ceil(planeComplex / this.slab);
    this.planeComplex = planeComplex;

    /** @type {{ exports: Record<string, unknown> }} */
    const instance = new WebAssembly.Instance(module, {});
    const exp = instance.exports;
    /** @type {WebAssembly.Memory} */
    const memory = /** @type {WebAssembly.Memory} */ (exp.memory);
    let top = Number(/** @type {WebAssembly.Global} */ (exp.__heap_base).value);
    /** @param {number} floats */
    const take = (floats) => {
      top = Math.ceil(top / 16) * 16;
      const at = top;
      top += floats * 4;
      return at;
    };
    const zSize = zlen * nyp;
    const pSize = ny * nkp;
    const bSize = nx * (this.chunk + 4);
    const sSize = Math.max(zSize, pSize, bSize);
    const ioSize = Math.max(ny * nz, planeComplex * 2, nx * this.slab * 2);
    // Host arrays are page-aligned or nearly so; a transfer buffer at the same address modulo
    // 4 KiB makes memcpy 4x slower (4K aliasing of loads and stores), so offset it.
    top = Math.ceil(top / 4096) * 4096 + 1088;
    const layout = {
      io: take(ioSize),
      zr: take(zSize),
      zi: take(zSize),
      pr: take(pSize),
      pi: take(pSize),
      br: take(bSize),
      bi: take(bSize),
      sr: take(sSize),
      si: take(sSize),
      split: take(2 * nkz),
    };
    /** @type {number[][]} */
    const planWords = [];
    const planAt = [nx, ny, zlen].map((n) => {
      const fs = factors(n);
      const words = [fs.length];
      let len = n;
      for (const r of fs) {
        const m = len / r;
        words.push(r, m, take(m * (r - 1) * 2));
        len = m;
      }
      planWords.push(words);
      return take(words.length);
    });
    const ctxAt = take(32);
    const needed = top + 64;
    const have = memory.buffer.byteLength;
    if (needed > have) memory.grow(Math.ceil((needed - have) / 65536));

    const f32 = new Float32Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    // Twiddles in float64, rounded once to float32.
    [nx, ny, zlen].forEach((n, a) => {
      const words = planWords[a];
      for (let k = 0; k < words[0]; k++) {
        const r = words[1 + 3 * k];
        const m = words[2 + 3 * k];
        const tw = words[3 + 3 * k] / 4;
        const len = r * m;
        for (let p = 0; p < m; p++) {
          for (let u = 1; u < r; u++) {
            const theta = (2 * Math.PI * p * u) / len;
            f32[tw + (p * (r - 1) + u - 1) * 2] = Math.cos(theta);
            f32[tw + (p * (r - 1) + u - 1) * 2 + 1] = Math.sin(theta);
          }
        }
      }
      i32.set(words, planAt[a] / 4);
    });
    for (let k = 0; k < nkz; k++) {
      f32[layout.split / 4 + 2 * k] = Math.cos((2 * Math.PI * k) / nz);
      f32[layout.split / 4 + 2 * k + 1] = Math.sin((2 * Math.PI * k) / nz);
    }
    // Field order of the Ctx struct in fft.c.
    i32.set(
      [
        nx,
        ny,
        nz,
        nkz,
        zlen,
        nyp,
        nkp,
        layout.io,
        layout.zr,
        layout.zi,
        layout.pr,
        layout.pi,
        layout.br,
        layout.bi,
        layout.sr,
        layout.si,
        layout.split,
        planAt[0],
        planAt[1],
        planAt[2],
      ],
      ctxAt / 4,
    );
    this.ctx = ctxAt;
    this.f32 = f32;
    this.io = layout.io / 4;
    /** @type {(ctx: number) => void} */
    this.planeForward = /** @type {(ctx: number) => void} */ (exp.plane_forward);
    /** @type {(ctx: number, scale: number) => void} */
    this.planeInverse = /** @type {(ctx: number, scale: number) => void} */ (exp.plane_inverse);
    /** @type {(ctx: number, run: number, chunk: number, inverse: number) => void} */
    this.xSlab = /** @type {(ctx: number, run: number, chunk: number, inverse: number) => void} */ (
      exp.x_slab
    );
  }

  /**
   * r2c along z and c2c along y of plane ix: real [ix][y][z] -> spectrum [ix][y][kz].
   * @param {Float32Array} real
   * @param {Float32Array} spectrum
   * @param {number} ix
   */
  forwardPlane(real, spectrum, ix) {
    const n = this.ny * this.nz;
    this.f32.set(real.subarray(ix * n, ix * n + n), this.io);
    this.planeForward(this.ctx);
    const m = this.planeComplex * 2;
    spectrum.set(this.f32.subarray(this.io, this.io + m), ix * m);
  }

  /**
   * Inverse c2c along y and c2r along z of plane ix, scaled: spectrum [ix][y][kz] -> real.
   * @param {Float32Array} spectrum
   * @param {Float32Array} real
   * @param {number} ix
   * @param {number} scale
   */
  inversePlane(spectrum, real, ix, scale) {
    const m = this.planeComplex * 2;
    this.f32.set(spectrum.subarray(ix * m, ix * m + m), this.io);
    this.planeInverse(this.ctx, scale);
    const n = this.ny * this.nz;
    real.set(this.f32.subarray(this.io, this.io + n), ix * n);
  }

  /**
   * c2c along x of slab b (a range of columns of the flattened (y, kz) plane, for every x);
   * src and dst may be the same array.
   * @param {Float32Array} src
   * @param {Float32Array} dst
   * @param {number} b
   * @param {boolean} inverse
   */
  xBlock(src, dst, b, inverse) {
    const start = b * this.slab;
    const run = Math.min(this.slab, this.planeComplex - start);
    const planeFloats = this.planeComplex * 2;
    const len = run * 2;
    const { f32, io, nx } = this;
    for (let x = 0; x < nx; x++) {
      const s = x * planeFloats + start * 2;
      f32.set(src.subarray(s, s + len), io + x * len);
    }
    this.xSlab(this.ctx, run, this.chunk, inverse ? 1 : 0);
    for (let x = 0; x < nx; x++) {
      const s = x * planeFloats + start * 2;
      dst.set(f32.subarray(io + x * len, io + x * len + len), s);
    }
  }
}
