/**
 * In-memory Gadget snapshot, shared by the binary (format 1/2) and HDF5 readers and writers, and
 * the unit conventions between Gadget files and mocksmith.
 *
 * Units. Gadget stores lengths in its internal unit (kpc/h by default, Mpc/h in many runs),
 * masses in 1e10 Msun/h, and velocities as u = sqrt(a) dx/dt with x comoving, so the peculiar
 * velocity is v = a dx/dt = sqrt(a) u (Springel 2005, GADGET-2 user guide §6.1). In memory
 * mocksmith uses Mpc/h, Msun/h and peculiar km/s (DESIGN.md), so readers multiply positions and
 * the box by lengthUnitKpc/1000, masses by massUnitMsun, and velocities by sqrt(a); writers
 * divide. Conversions are done in float64 and rounded once to float32; a factor of exactly 1 is
 * skipped, so with file units of Mpc/h, 1 Msun/h and a = 1 (or a power of 4 for velocities)
 * a write-then-read round trip is bitwise; otherwise values may differ in the last bit.
 */
import { InputError } from "./atomic-file.js";

export interface GadgetFlags {
  sfr: number;
  feedback: number;
  cooling: number;
  stellarAge: number;
  metals: number;
  entropyInsteadU: number;
  /** 1 when the file stores float64 particle data (read either way; written as float32). */
  doublePrecision: number;
}

export interface GadgetHeader {
  /** Particles of each of the 6 Gadget types in this file (in memory: in this snapshot). */
  numPart: number[];
  /** Mass of each type, Msun/h; 0 means per-particle masses are stored. */
  massTable: number[];
  /** Scale factor a (cosmological runs). */
  time: number;
  redshift: number;
  /** Box side, Mpc/h. */
  boxSize: number;
  omega0: number;
  omegaLambda: number;
  hubbleParam: number;
  /** Files the snapshot is split over (1 for a combined in-memory snapshot). */
  numFiles: number;
  /** Particles of each type over all files (low and high 32-bit words combined). */
  numPartTotal: number[];
  flags: GadgetFlags;
}

/** Particles are ordered by type (0…5), as Gadget stores them. */
export interface GadgetSnapshot {
  header: GadgetHeader;
  /** Interleaved x, y, z, Mpc/h, in [0, boxSize). */
  positions: Float32Array;
  /** Interleaved peculiar velocities, km/s. */
  velocities: Float32Array;
  ids: BigUint64Array;
  /** Per-particle masses, Msun/h, present when the file stores a mass block (types with massTable 0). */
  masses?: Float32Array;
}

export interface GadgetUnitOptions {
  /**
   * Length unit of the file in kpc/h: 1 for Gadget's default kpc/h, 1000 for Mpc/h. HDF5
   * files that record UnitLength_in_cm use that when this is not given; otherwise default 1.
   */
  lengthUnitKpc?: number;
  /** Mass unit of the file in Msun/h (default 1e10, Gadget's default). */
  massUnitMsun?: number;
  /**
   * Velocities are stored as sqrt(a) dx/dt (default true, cosmological runs). false treats the
   * stored velocities as peculiar km/s (non-cosmological runs, where Time is not a).
   */
  comoving?: boolean;
}

/** A Gadget file that cannot be read or written as asked; the message names the file. */
export class GadgetFormatError extends InputError {
  constructor(path: string, problem: string) {
    super(path, problem);
    this.name = "GadgetFormatError";
  }
}

export const GADGET_TYPES = 6;

/**
 * File units relative to mocksmith's: Mpc/h = file length × lengthKpc / 1000, Msun/h = file
 * mass × massMsun, peculiar km/s = file velocity × sqrtA. Kept as separate multiplier and
 * divisor so the common constants (1000, 1e10) enter exactly.
 */
export interface UnitFactors {
  lengthKpc: number;
  massMsun: number;
  sqrtA: number;
}

export function unitFactors(
  path: string,
  time: number,
  options: GadgetUnitOptions,
  fileLengthUnitKpc?: number,
): UnitFactors {
  const lengthKpc = options.lengthUnitKpc ?? fileLengthUnitKpc ?? 1;
  const massMsun = options.massUnitMsun ?? 1e10;
  if (!(lengthKpc > 0) || !Number.isFinite(lengthKpc))
    throw new GadgetFormatError(path, `lengthUnitKpc must be a positive number, got ${lengthKpc}`);
  if (!(massMsun > 0) || !Number.isFinite(massMsun))
    throw new GadgetFormatError(path, `massUnitMsun must be a positive number, got ${massMsun}`);
  let sqrtA = 1;
  if (options.comoving ?? true) {
    if (!(time > 0) || !Number.isFinite(time)) {
      throw new GadgetFormatError(
        path,
        `header Time = ${time}, expected a scale factor > 0 to convert velocities (use comoving: false for non-cosmological snapshots)`,
      );
    }
    sqrtA = Math.sqrt(time);
  }
  return { lengthKpc, massMsun, sqrtA };
}

/**
 * Float32 copy of src × mul / div, evaluated in float64 and rounded once to float32. When
 * mul === div it returns `src` itself if float32 (no arithmetic, so values pass bitwise).
 */
export function scaled(src: Float32Array | Float64Array, mul: number, div: number): Float32Array {
  if (mul === div) return src instanceof Float32Array ? src : Float32Array.from(src);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] * mul) / div;
  return out;
}

/**
 * Checks particle data read from `path` and wraps positions into [0, L). Positions a little
 * outside the box are normal in Gadget output; far outside (beyond one box) means a wrong
 * length unit or a corrupt file.
 */
export function checkParticles(
  path: string,
  positions: Float32Array,
  velocities: Float32Array,
  boxSize: number,
): void {
  for (let i = 0; i < positions.length; i++) {
    const x = positions[i];
    if (!Number.isFinite(x))
      throw new GadgetFormatError(
        path,
        `particle ${Math.floor(i / 3)} has a non-finite position (${x}), expected finite coordinates`,
      );
    if (boxSize > 0 && (x < 0 || x >= boxSize)) {
      if (x < -boxSize || x >= 2 * boxSize) {
        throw new GadgetFormatError(
          path,
          `particle ${Math.floor(i / 3)} has coordinate ${x} Mpc/h, far outside the box [0, ${boxSize}) (wrong lengthUnitKpc?)`,
        );
      }
      let w = x - Math.floor(x / boxSize) * boxSize;
      if (Math.fround(w) >= boxSize) w = 0;
      positions[i] = w;
    }
  }
  for (let i = 0; i < velocities.length; i++) {
    if (!Number.isFinite(velocities[i]))
      throw new GadgetFormatError(
        path,
        `particle ${Math.floor(i / 3)} has a non-finite velocity (${velocities[i]})`,
      );
  }
}

/** Validates a snapshot before writing it to `path`; returns the particle count. */
export function checkSnapshotForWrite(path: string, snap: GadgetSnapshot): number {
  const { header } = snap;
  if (
    header.numPart.length !== GADGET_TYPES ||
    header.massTable.length !== GADGET_TYPES ||
    header.numPartTotal.length !== GADGET_TYPES
  ) {
    throw new GadgetFormatError(
      path,
      "cannot write: header numPart, massTable and numPartTotal must each have 6 entries",
    );
  }
  const n = snap.positions.length / 3;
  const sum = header.numPart.reduce((s, v) => s + v, 0);
  if (!Number.isInteger(n) || sum !== n)
    throw new GadgetFormatError(
      path,
      `cannot write: header numPart sums to ${sum} but positions hold ${snap.positions.length / 3} particles`,
    );
  if (snap.velocities.length !== 3 * n)
    throw new GadgetFormatError(
      path,
      `cannot write: velocities hold ${snap.velocities.length / 3} particles, expected ${n}`,
    );
  if (snap.ids.length !== n)
    throw new GadgetFormatError(path, `cannot write: ids hold ${snap.ids.length} entries, expected ${n}`);
  if (snap.masses !== undefined && snap.masses.length !== n)
    throw new GadgetFormatError(
      path,
      `cannot write: masses hold ${snap.masses.length} entries, expected ${n}`,
    );
  for (let t = 0; t < GADGET_TYPES; t++) {
    if (header.numPart[t] > 0 && header.massTable[t] === 0 && snap.masses === undefined) {
      throw new GadgetFormatError(
        path,
        `cannot write: type ${t} has massTable 0 but the snapshot has no per-particle masses`,
      );
    }
  }
  for (let i = 0; i < 3 * n; i++) {
    if (!Number.isFinite(snap.positions[i]))
      throw new GadgetFormatError(
        path,
        `cannot write: particle ${Math.floor(i / 3)} has a non-finite position`,
      );
    if (!Number.isFinite(snap.velocities[i]))
      throw new GadgetFormatError(
        path,
        `cannot write: particle ${Math.floor(i / 3)} has a non-finite velocity`,
      );
  }
  return n;
}

/** Types that carry per-particle masses in the file: present and with massTable 0. */
export function typesWithMassBlock(numPart: readonly number[], massTable: readonly number[]): boolean[] {
  return numPart.map((np, t) => np > 0 && massTable[t] === 0);
}

/** Per-particle masses (Msun/h) for all particles: `stored` (already converted) for types with
 * a mass block, massTable (Msun/h) for the others. */
export function expandMasses(
  numPart: readonly number[],
  massTable: readonly number[],
  stored: Float32Array,
): Float32Array {
  const n = numPart.reduce((s, v) => s + v, 0);
  const out = new Float32Array(n);
  let src = 0;
  let dst = 0;
  for (let t = 0; t < GADGET_TYPES; t++) {
    const np = numPart[t];
    if (np > 0 && massTable[t] === 0) {
      out.set(stored.subarray(src, src + np), dst);
      src += np;
      dst += np;
    } else {
      out.fill(massTable[t], dst, dst + np);
      dst += np;
    }
  }
  return out;
}

/** Masses (Msun/h) of the particles in types that need a mass block, in file order. */
export function massBlockValues(snap: GadgetSnapshot): Float32Array {
  const { numPart, massTable } = snap.header;
  const masses = snap.masses;
  const needs = typesWithMassBlock(numPart, massTable);
  const count = numPart.reduce((s, np, t) => s + (needs[t] ? np : 0), 0);
  const out = new Float32Array(count);
  if (masses === undefined) return out;
  let src = 0;
  let dst = 0;
  for (let t = 0; t < GADGET_TYPES; t++) {
    if (needs[t]) {
      out.set(masses.subarray(src, src + numPart[t]), dst);
      dst += numPart[t];
    }
    src += numPart[t];
  }
  return out;
}
