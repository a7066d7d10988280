/**
 * HEALPix in the NESTED scheme (Górski et al. 2005, ApJ 622, 759): 12 base pixels split into
 * nside² equal-area pixels indexed by the bit interleaving of their (x, y) position in the face.
 * θ is the colatitude, φ the longitude (radians). Equations: §4 of the paper (z = cos θ;
 * equatorial zone |z| ≤ 2/3, polar caps beyond), following the reference implementation's
 * face/ring arithmetic. Valid for nside a power of two up to 2^24 (indices stay below 2^53, so
 * plain numbers are exact).
 */

const JRLL = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
const JPLL = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];
const HALF_PI = Math.PI / 2;
const TWO_POW_24 = 16777216;

export function checkNside(nside: number): void {
  if (!Number.isInteger(nside) || nside < 1 || nside > TWO_POW_24 || (nside & (nside - 1)) !== 0) {
    throw new RangeError(`nside must be a power of two in [1, 2^24], got ${nside}`);
  }
}

export function pixelCount(nside: number): number {
  return 12 * nside * nside;
}

/** Spreads the bits of v < 2^12 to the even bit positions (result < 2^24). */
function spread12(v: number): number {
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v;
}

/** Collects the even bits of v < 2^24 (inverse of spread12). */
function compact12(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** Interleaves x and y (< 2^24): bit i of x → bit 2i, bit i of y → bit 2i+1. */
function interleave(x: number, y: number): number {
  const lo = spread12(x & 0xfff) | (spread12(y & 0xfff) << 1);
  const hi = spread12(x >>> 12) | (spread12(y >>> 12) << 1);
  return (hi >>> 0) * TWO_POW_24 + (lo >>> 0);
}

function deinterleave(v: number): [number, number] {
  const hi = Math.floor(v / TWO_POW_24);
  const lo = v - hi * TWO_POW_24;
  return [compact12(lo) | (compact12(hi) << 12), compact12(lo >>> 1) | (compact12(hi >>> 1) << 12)];
}

/** Nested pixel index of the direction (θ, φ). */
export function ang2pixNest(nside: number, theta: number, phi: number): number {
  if (!(theta >= 0 && theta <= Math.PI)) throw new RangeError(`θ must be in [0, π], got ${theta}`);
  const z = Math.cos(theta);
  const sinTheta = Math.sin(theta);
  return zphi2pix(nside, z, sinTheta, phi);
}

/** Nested pixel index of a (not necessarily unit) direction vector. */
export function vec2pixNest(nside: number, x: number, y: number, z: number): number {
  const r = Math.hypot(x, y, z);
  if (!(r > 0)) throw new RangeError("direction vector must be non-zero and finite");
  return zphi2pix(nside, z / r, Math.hypot(x, y) / r, Math.atan2(y, x));
}

function zphi2pix(nside: number, z: number, sinTheta: number, phi: number): number {
  let tt = (phi / HALF_PI) % 4; // in [0, 4)
  if (tt < 0) tt += 4;
  if (tt >= 4) tt = 0;
  const za = Math.abs(z);
  let face: number;
  let ix: number;
  let iy: number;
  if (za <= 2 / 3) {
    // Equatorial zone (paper eq. 6 inverted): the two diagonal coordinates jp, jm.
    const t1 = nside * (0.5 + tt);
    const t2 = nside * z * 0.75;
    const jp = Math.floor(t1 - t2);
    const jm = Math.floor(t1 + t2);
    const ifp = Math.floor(jp / nside);
    const ifm = Math.floor(jm / nside);
    face = ifp === ifm ? ifp | 4 : ifp < ifm ? ifp : ifm + 8;
    ix = jm % nside;
    iy = nside - (jp % nside) - 1;
  } else {
    // Polar caps (eq. 7): distance from the pole in units of the ring spacing, via sin θ near the pole.
    const ntt = Math.min(3, Math.floor(tt));
    const tp = tt - ntt;
    const tmp = za < 0.99 ? nside * Math.sqrt(3 * (1 - za)) : (nside * sinTheta) / Math.sqrt((1 + za) / 3);
    const jp = Math.min(nside - 1, Math.floor(tp * tmp));
    const jm = Math.min(nside - 1, Math.floor((1 - tp) * tmp));
    if (z >= 0) {
      face = ntt;
      ix = nside - jm - 1;
      iy = nside - jp - 1;
    } else {
      face = ntt + 8;
      ix = jp;
      iy = jm;
    }
  }
  return face * nside * nside + interleave(ix, iy);
}

/** Centre (θ, φ) of nested pixel `pix`. */
export function pix2angNest(nside: number, pix: number): { theta: number; phi: number } {
  const npface = nside * nside;
  if (!Number.isInteger(pix) || pix < 0 || pix >= 12 * npface) {
    throw new RangeError(`pixel ${pix} is outside [0, ${12 * npface}) for nside ${nside}`);
  }
  const face = Math.floor(pix / npface);
  const [ix, iy] = deinterleave(pix - face * npface);
  const jr = JRLL[face] * nside - ix - iy - 1;
  let nr: number;
  let z: number;
  let kshift: number;
  if (jr < nside) {
    nr = jr;
    z = 1 - (nr * nr) / (3 * npface);
    kshift = 0;
  } else if (jr > 3 * nside) {
    nr = 4 * nside - jr;
    z = (nr * nr) / (3 * npface) - 1;
    kshift = 0;
  } else {
    nr = nside;
    z = ((2 * nside - jr) * 2) / (3 * nside);
    kshift = (jr - nside) & 1;
  }
  let jp = (JPLL[face] * nr + ix - iy + 1 + kshift) / 2;
  if (jp > 4 * nside) jp -= 4 * nside;
  if (jp < 1) jp += 4 * nside;
  const phi = (jp - (kshift + 1) * 0.5) * (HALF_PI / nr);
  return { theta: Math.acos(Math.min(1, Math.max(-1, z))), phi };
}
