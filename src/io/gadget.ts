/**
 * Entry point for Gadget snapshots: `readGadget` detects binary format 1, format 2 or HDF5 from
 * the file's first bytes, finds the other pieces of a multi-file snapshot (`base.0`, `base.1`, …
 * or `base.0.hdf5`, …), checks them against each other and concatenates them type by type.
 */
import fs from "node:fs";
import { detectBinaryLayout, readGadgetBinaryFile, type GadgetFilePart } from "./gadget-binary.js";
import { HDF5_SIGNATURE, readGadgetHdf5File } from "./gadget-hdf5.js";
import {
  GADGET_TYPES,
  GadgetFormatError,
  checkParticles,
  type GadgetSnapshot,
  type GadgetUnitOptions,
} from "./gadget-snapshot.js";

export { writeGadgetBinary, type GadgetBinaryWriteOptions } from "./gadget-binary.js";
export { writeGadgetHdf5, type GadgetHdf5WriteOptions } from "./gadget-hdf5.js";
export {
  GadgetFormatError,
  type GadgetFlags,
  type GadgetHeader,
  type GadgetSnapshot,
  type GadgetUnitOptions,
} from "./gadget-snapshot.js";

export type GadgetFileFormat = "gadget1" | "gadget2" | "hdf5";

/** Identifies a file's format from its first bytes. */
export function detectGadgetFormat(path: string): GadgetFileFormat {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (err) {
    throw new GadgetFormatError(path, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const head = new Uint8Array(8);
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (got === 8 && head.every((b, i) => b === HDF5_SIGNATURE[i])) return "hdf5";
  const layout = got >= 4 ? detectBinaryLayout(head.subarray(0, 4)) : null;
  if (layout !== null) return layout.format === 1 ? "gadget1" : "gadget2";
  const shown = Array.from(head.subarray(0, got), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new GadgetFormatError(
    path,
    `unsupported format: starts with bytes [${shown}], expected a Fortran record marker of 256 (Gadget format 1) or 8 (format 2), or the HDF5 signature`,
  );
}

function readPiece(path: string, options: GadgetUnitOptions): GadgetFilePart {
  return detectGadgetFormat(path) === "hdf5"
    ? readGadgetHdf5File(path, options)
    : readGadgetBinaryFile(path, options);
}

const isFile = (p: string): boolean => fs.existsSync(p) && fs.statSync(p).isFile();

/**
 * The files of the snapshot named by `path`: the file itself, or, for a multi-file snapshot,
 * every piece (the name of any piece, or the base name without the piece number, may be given).
 */
function pieceNames(path: string, first: GadgetFilePart | null): { names: string[]; firstName: string } {
  const piece = /^(.*)\.(\d+)(\.hdf5|\.h5)?$/.exec(path);
  if (first !== null) {
    const numFiles = Math.max(1, first.header.numFiles);
    if (numFiles === 1) return { names: [path], firstName: path };
    if (piece === null) {
      throw new GadgetFormatError(
        path,
        `header says the snapshot is split over ${numFiles} files, but the name does not end in .<piece number> (expected ${path}.0 …)`,
      );
    }
    const [, base, , ext = ""] = piece;
    return { names: Array.from({ length: numFiles }, (_, i) => `${base}.${i}${ext}`), firstName: path };
  }
  const hdf5 = /^(.*)(\.hdf5|\.h5)$/.exec(path);
  for (const candidate of [`${path}.0`, `${path}.0.hdf5`, ...(hdf5 ? [`${hdf5[1]}.0${hdf5[2]}`] : [])]) {
    if (isFile(candidate)) return { names: [], firstName: candidate };
  }
  throw new GadgetFormatError(
    path,
    `no such file (also looked for ${path}.0 and ${path}.0.hdf5 for a multi-file snapshot)`,
  );
}

/**
 * Reads a Gadget snapshot (format 1, format 2 or HDF5; little- or big-endian; one file or
 * several) into mocksmith units: positions Mpc/h wrapped into [0, boxSize), peculiar velocities
 * km/s, masses Msun/h (see gadget-snapshot.ts for the conversions and `options`).
 * The returned header describes the combined snapshot: numPart = numPartTotal, numFiles = 1.
 * Particles are ordered by type, and within a type by file.
 */
export function readGadget(path: string, options: GadgetUnitOptions = {}): GadgetSnapshot {
  let names: string[];
  let parts: GadgetFilePart[];
  if (isFile(path)) {
    const first = readPiece(path, options);
    names = pieceNames(path, first).names;
    parts = names.map((name) => (name === path ? first : readPiece(name, options)));
  } else {
    const { firstName } = pieceNames(path, null);
    const first = readPiece(firstName, options);
    names = pieceNames(firstName, first).names;
    parts = names.map((name) => (name === firstName ? first : readPiece(name, options)));
  }
  return combine(path, names, parts);
}

function combine(path: string, names: string[], parts: GadgetFilePart[]): GadgetSnapshot {
  const head = parts[0].header;
  parts.forEach((p, i) => {
    const h = p.header;
    if (Math.max(1, h.numFiles) !== names.length) {
      throw new GadgetFormatError(
        names[i],
        `header says ${h.numFiles} files, but ${names[0]} says ${names.length}`,
      );
    }
    for (let t = 0; t < GADGET_TYPES; t++) {
      if (h.numPartTotal[t] !== head.numPartTotal[t] || h.massTable[t] !== head.massTable[t]) {
        throw new GadgetFormatError(
          names[i],
          `header NumPart_Total/MassTable of type ${t} differ from those of ${names[0]}; expected one snapshot`,
        );
      }
    }
  });
  const numPart = Array.from({ length: GADGET_TYPES }, (_, t) =>
    parts.reduce((s, p) => s + p.header.numPart[t], 0),
  );
  for (let t = 0; t < GADGET_TYPES; t++) {
    if (numPart[t] !== head.numPartTotal[t]) {
      throw new GadgetFormatError(
        names.length === 1 ? names[0] : path,
        `type ${t}: header NumPart_Total is ${head.numPartTotal[t]}, but the ${names.length} file(s) hold ${numPart[t]} particles (header inconsistent, or pieces missing)`,
      );
    }
  }

  let positions: Float32Array;
  let velocities: Float32Array;
  let ids: BigUint64Array;
  let masses: Float32Array | undefined;
  const anyMasses = parts.some((p) => p.masses !== null);
  if (parts.length === 1) {
    ({ positions, velocities, ids } = parts[0]);
    masses = parts[0].masses ?? undefined;
  } else {
    const n = numPart.reduce((s, v) => s + v, 0);
    positions = new Float32Array(3 * n);
    velocities = new Float32Array(3 * n);
    ids = new BigUint64Array(n);
    masses = anyMasses ? new Float32Array(n) : undefined;
    let dst = 0;
    for (let t = 0; t < GADGET_TYPES; t++) {
      for (const p of parts) {
        const start = p.header.numPart.slice(0, t).reduce((s, v) => s + v, 0);
        const np = p.header.numPart[t];
        positions.set(p.positions.subarray(3 * start, 3 * (start + np)), 3 * dst);
        velocities.set(p.velocities.subarray(3 * start, 3 * (start + np)), 3 * dst);
        ids.set(p.ids.subarray(start, start + np), dst);
        if (masses !== undefined) {
          if (p.masses !== null) masses.set(p.masses.subarray(start, start + np), dst);
          else masses.fill(head.massTable[t], dst, dst + np);
        }
        dst += np;
      }
    }
  }
  checkParticles(names.length === 1 ? names[0] : path, positions, velocities, head.boxSize);
  return {
    header: { ...head, numPart, numPartTotal: [...numPart], numFiles: 1 },
    positions,
    velocities,
    ids,
    ...(masses !== undefined ? { masses } : {}),
  };
}
