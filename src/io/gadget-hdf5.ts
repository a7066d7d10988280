/**
 * Gadget HDF5 snapshots (Gadget-2/3 and Gadget-4 layout): a `Header` group of attributes
 * (NumPart_ThisFile, NumPart_Total[_HighWord], MassTable, Time, Redshift, BoxSize,
 * NumFilesPerSnapshot, Omega0, OmegaLambda, HubbleParam, Flag_*) and one `PartTypeN` group per
 * particle type with `Coordinates` (N×3), `Velocities` (N×3), `ParticleIDs` and, for types with
 * MassTable 0, `Masses`. Gadget-4 keeps the cosmology and the code units in a `Parameters`
 * group; we read them from `Header`, `Parameters` or `Units`, and write both places.
 *
 * HDF5 goes through h5wasm (the HDF5 C library in WebAssembly; its node build reaches the host
 * filesystem directly). The module is compiled once, at import, by the top-level await below,
 * so reading and writing can stay synchronous like the binary format.
 */
import fs from "node:fs";
import nodePath from "node:path";
import { Dataset, File as H5File, Group, Module, ready, type OutputData } from "h5wasm/node";
import { writeAtomically } from "./atomic-file.js";
import type { GadgetFilePart } from "./gadget-binary.js";
import {
  GADGET_TYPES,
  GadgetFormatError,
  checkSnapshotForWrite,
  expandMasses,
  massBlockValues,
  scaled,
  typesWithMassBlock,
  unitFactors,
  type GadgetHeader,
  type GadgetSnapshot,
  type GadgetUnitOptions,
} from "./gadget-snapshot.js";

await ready;

/** The 8-byte signature at the start of an HDF5 file (without a user block). */
export const HDF5_SIGNATURE = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

const KPC_IN_CM = 3.085678e21;
const MSUN_IN_G = 1.989e33;

export interface GadgetHdf5WriteOptions extends GadgetUnitOptions {
  /** Bytes per particle ID; default 8 (Gadget-4 writes 64-bit IDs). */
  idBytes?: 4 | 8;
}

function numbersOf(path: string, what: string, value: OutputData | null): number[] {
  if (typeof value === "number") return [value];
  if (typeof value === "bigint") return [Number(value)];
  if (ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<number | bigint>, (v) => Number(v));
  if (Array.isArray(value)) return value.flatMap((v) => numbersOf(path, what, v));
  throw new GadgetFormatError(
    path,
    `${what} is not numeric (got ${value === null ? "nothing" : typeof value})`,
  );
}

/** A number close to a power of ten is snapped to it, so 3.0856775e24 cm reads as exactly 1000 kpc. */
function snapToPowerOfTen(x: number): number {
  const p = 10 ** Math.round(Math.log10(x));
  return Math.abs(x / p - 1) < 1e-3 ? p : x;
}

/** The most specific line of an HDF5 error stack ("truncated file: eof = …"), else the first line. */
function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const frames = [...text.matchAll(/#\d+: .*? in \w+\(\): (.*)/g)];
  return frames.length > 0 ? frames[frames.length - 1][1].trim() : text.split("\n")[0];
}

function openForRead(path: string, shownPath: string): H5File {
  // Make HDF5 failures throw (with the library's reason) instead of printing a stack to stderr
  // and returning an invalid handle; only for this call, so other h5wasm users are unaffected.
  Module.activate_throwing_error_handler();
  let f: H5File;
  try {
    f = new H5File(path, "r");
  } catch (err) {
    throw new GadgetFormatError(
      shownPath,
      `cannot read as HDF5 (corrupt or truncated file): ${hdf5Reason(err)}`,
    );
  } finally {
    Module.deactivate_throwing_error_handler();
  }
  if (f.file_id < 0n)
    throw new GadgetFormatError(shownPath, "cannot read as HDF5 (corrupt or truncated file)");
  return f;
}

/** Reads one Gadget HDF5 file, converting to mocksmith units. */
export function readGadgetHdf5File(path: string, options: GadgetUnitOptions = {}): GadgetFilePart {
  if (!fs.existsSync(path)) throw new GadgetFormatError(path, "cannot open: ENOENT");
  const f = openForRead(nodePath.resolve(path), path);
  try {
    return readOpenFile(f, path, options);
  } catch (err) {
    if (err instanceof GadgetFormatError) throw err;
    throw new GadgetFormatError(path, `cannot read as a Gadget HDF5 snapshot: ${hdf5Reason(err)}`);
  } finally {
    f.close();
  }
}

function readOpenFile(f: H5File, path: string, options: GadgetUnitOptions): GadgetFilePart {
  {
    const header = f.get("Header");
    if (!(header instanceof Group))
      throw new GadgetFormatError(path, "no Header group, expected a Gadget HDF5 snapshot");
    const groups = ["Header", "Parameters", "Units", "Cosmology"]
      .map((name) => f.get(name))
      .filter((g): g is Group => g instanceof Group)
      .map((g) => g.attrs);
    const find = (name: string): OutputData | null | undefined => {
      for (const attrs of groups) if (name in attrs) return attrs[name].value;
      return undefined;
    };
    const required = (name: string, count: number): number[] => {
      const v = find(name);
      if (v === undefined) throw new GadgetFormatError(path, `Header attribute ${name} is missing`);
      const nums = numbersOf(path, `Header attribute ${name}`, v);
      if (nums.length !== count)
        throw new GadgetFormatError(
          path,
          `Header attribute ${name} has ${nums.length} values, expected ${count}`,
        );
      return nums;
    };
    const optional = (name: string, fallback: number): number => {
      const v = find(name);
      return v === undefined ? fallback : numbersOf(path, `attribute ${name}`, v)[0];
    };

    const numPart = required("NumPart_ThisFile", GADGET_TYPES);
    const low = required("NumPart_Total", GADGET_TYPES);
    const high =
      find("NumPart_Total_HighWord") === undefined
        ? new Array<number>(GADGET_TYPES).fill(0)
        : required("NumPart_Total_HighWord", GADGET_TYPES);
    const fileHeader: GadgetHeader = {
      numPart,
      massTable: required("MassTable", GADGET_TYPES),
      time: required("Time", 1)[0],
      redshift: required("Redshift", 1)[0],
      boxSize: required("BoxSize", 1)[0],
      omega0: optional("Omega0", 0),
      omegaLambda: optional("OmegaLambda", 0),
      hubbleParam: optional("HubbleParam", 0),
      numFiles: optional("NumFilesPerSnapshot", 1),
      numPartTotal: low.map((v, t) => v + high[t] * 2 ** 32),
      flags: {
        sfr: optional("Flag_Sfr", 0),
        feedback: optional("Flag_Feedback", 0),
        cooling: optional("Flag_Cooling", 0),
        stellarAge: optional("Flag_StellarAge", 0),
        metals: optional("Flag_Metals", 0),
        entropyInsteadU: optional("Flag_Entropy_ICs", 0),
        doublePrecision: optional("Flag_DoublePrecision", 0),
      },
    };
    const unitLength = find("UnitLength_in_cm");
    const unitMass = find("UnitMass_in_g");
    const units = unitFactors(path, fileHeader.time, {
      ...options,
      lengthUnitKpc:
        options.lengthUnitKpc ??
        (unitLength === undefined
          ? undefined
          : snapToPowerOfTen(numbersOf(path, "UnitLength_in_cm", unitLength)[0] / KPC_IN_CM)),
      massUnitMsun:
        options.massUnitMsun ??
        (unitMass === undefined
          ? undefined
          : snapToPowerOfTen(numbersOf(path, "UnitMass_in_g", unitMass)[0] / MSUN_IN_G)),
    });
    const headerOut: GadgetHeader = {
      ...fileHeader,
      boxSize: (fileHeader.boxSize * units.lengthKpc) / 1000,
      massTable: fileHeader.massTable.map((m) => m * units.massMsun),
    };

    const n = numPart.reduce((s, v) => s + v, 0);
    const positions = new Float32Array(3 * n);
    const velocities = new Float32Array(3 * n);
    const ids = new BigUint64Array(n);
    const hasMassBlock = typesWithMassBlock(numPart, fileHeader.massTable);
    const nStored = numPart.reduce((s, np, t) => s + (hasMassBlock[t] ? np : 0), 0);
    const stored = new Float32Array(nStored);
    let offset = 0;
    let storedOffset = 0;
    for (let t = 0; t < GADGET_TYPES; t++) {
      const np = numPart[t];
      if (np === 0) continue;
      const dataset = (name: string, width: number): OutputData => {
        const d = f.get(`PartType${t}/${name}`);
        if (!(d instanceof Dataset))
          throw new GadgetFormatError(
            path,
            `PartType${t}/${name} is missing, expected it for ${np} particles`,
          );
        const shape = d.shape ?? [];
        const expected = width === 1 ? [np] : [np, width];
        const ok = shape.length === expected.length && shape.every((v, k) => v === expected[k]);
        if (!ok)
          throw new GadgetFormatError(
            path,
            `PartType${t}/${name} has shape [${shape.join(", ")}], expected [${expected.join(", ")}] from Header NumPart_ThisFile`,
          );
        const v = d.value;
        if (v === null) throw new GadgetFormatError(path, `PartType${t}/${name} could not be read`);
        return v;
      };
      positions.set(
        scaled(
          floatArray(path, `PartType${t}/Coordinates`, dataset("Coordinates", 3)),
          units.lengthKpc,
          1000,
        ),
        3 * offset,
      );
      velocities.set(
        scaled(floatArray(path, `PartType${t}/Velocities`, dataset("Velocities", 3)), units.sqrtA, 1),
        3 * offset,
      );
      ids.set(idArray(path, `PartType${t}/ParticleIDs`, dataset("ParticleIDs", 1)), offset);
      if (hasMassBlock[t]) {
        stored.set(
          scaled(floatArray(path, `PartType${t}/Masses`, dataset("Masses", 1)), units.massMsun, 1),
          storedOffset,
        );
        storedOffset += np;
      }
      offset += np;
    }
    const masses = nStored > 0 ? expandMasses(numPart, headerOut.massTable, stored) : null;
    return { header: headerOut, positions, velocities, ids, masses };
  }
}

function floatArray(path: string, name: string, v: OutputData): Float32Array | Float64Array {
  if (v instanceof Float32Array || v instanceof Float64Array) return v;
  throw new GadgetFormatError(path, `${name} is not a float32 or float64 dataset`);
}

function idArray(path: string, name: string, v: OutputData): BigUint64Array {
  if (v instanceof BigUint64Array) return v;
  if (v instanceof BigInt64Array) return new BigUint64Array(v.buffer, v.byteOffset, v.length);
  if (v instanceof Uint32Array || v instanceof Int32Array) {
    const out = new BigUint64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = BigInt(v[i] >>> 0);
    return out;
  }
  throw new GadgetFormatError(path, `${name} is not a 32- or 64-bit integer dataset`);
}

/**
 * Writes `snap` as one Gadget HDF5 file (numFiles and numPartTotal as given in the header).
 * Written to a temporary name and renamed when complete.
 */
export function writeGadgetHdf5(
  path: string,
  snap: GadgetSnapshot,
  options: GadgetHdf5WriteOptions = {},
): void {
  checkSnapshotForWrite(path, snap);
  const idBytes = options.idBytes ?? 8;
  if (idBytes !== 4 && idBytes !== 8)
    throw new GadgetFormatError(path, `cannot write: idBytes must be 4 or 8, got ${String(idBytes)}`);
  const { header } = snap;
  const units = unitFactors(path, header.time, options);
  const needsMass = typesWithMassBlock(header.numPart, header.massTable);
  const massValues = needsMass.some(Boolean) ? scaled(massBlockValues(snap), 1, units.massMsun) : null;
  let ids32: Uint32Array | null = null;
  if (idBytes === 4) {
    ids32 = new Uint32Array(snap.ids.length);
    for (let i = 0; i < snap.ids.length; i++) {
      if (snap.ids[i] >= 2n ** 32n)
        throw new GadgetFormatError(
          path,
          `cannot write: particle ID ${snap.ids[i]} does not fit in 4 bytes (use idBytes: 8)`,
        );
      ids32[i] = Number(snap.ids[i]);
    }
  }
  const positions = scaled(snap.positions, 1000, units.lengthKpc);
  const velocities = scaled(snap.velocities, 1, units.sqrtA);

  writeAtomically(path, (tmp) => {
    const f = new H5File(nodePath.resolve(tmp), "w");
    try {
      const h = f.create_group("Header");
      const int32 = (name: string, values: number[]): void =>
        h.create_attribute(name, Int32Array.from(values), values.length === 1 ? [] : null);
      const float64 = (g: Group, name: string, values: number[]): void =>
        g.create_attribute(name, Float64Array.from(values), values.length === 1 ? [] : null);
      h.create_attribute("NumPart_ThisFile", Uint32Array.from(header.numPart));
      h.create_attribute(
        "NumPart_Total",
        Uint32Array.from(header.numPartTotal, (v) => v % 2 ** 32),
      );
      h.create_attribute(
        "NumPart_Total_HighWord",
        Uint32Array.from(header.numPartTotal, (v) => Math.floor(v / 2 ** 32)),
      );
      float64(
        h,
        "MassTable",
        header.massTable.map((m) => m / units.massMsun),
      );
      float64(h, "Time", [header.time]);
      float64(h, "Redshift", [header.redshift]);
      float64(h, "BoxSize", [(header.boxSize * 1000) / units.lengthKpc]);
      int32("NumFilesPerSnapshot", [Math.max(1, header.numFiles)]);
      float64(h, "Omega0", [header.omega0]);
      float64(h, "OmegaLambda", [header.omegaLambda]);
      float64(h, "HubbleParam", [header.hubbleParam]);
      int32("Flag_Sfr", [header.flags.sfr]);
      int32("Flag_Cooling", [header.flags.cooling]);
      int32("Flag_StellarAge", [header.flags.stellarAge]);
      int32("Flag_Metals", [header.flags.metals]);
      int32("Flag_Feedback", [header.flags.feedback]);
      int32("Flag_Entropy_ICs", [header.flags.entropyInsteadU]);
      int32("Flag_DoublePrecision", [0]);
      // Gadget-4 reads the cosmology and code units from Parameters.
      const p = f.create_group("Parameters");
      float64(p, "Omega0", [header.omega0]);
      float64(p, "OmegaLambda", [header.omegaLambda]);
      float64(p, "HubbleParam", [header.hubbleParam]);
      float64(p, "UnitLength_in_cm", [units.lengthKpc * KPC_IN_CM]);
      float64(p, "UnitMass_in_g", [units.massMsun * MSUN_IN_G]);
      float64(p, "UnitVelocity_in_cm_per_s", [1e5]);

      let offset = 0;
      let massOffset = 0;
      for (let t = 0; t < GADGET_TYPES; t++) {
        const np = header.numPart[t];
        if (np === 0) continue;
        const g = `PartType${t}`;
        f.create_group(g);
        f.create_dataset({
          name: `${g}/Coordinates`,
          data: positions.subarray(3 * offset, 3 * (offset + np)),
          shape: [np, 3],
        });
        f.create_dataset({
          name: `${g}/Velocities`,
          data: velocities.subarray(3 * offset, 3 * (offset + np)),
          shape: [np, 3],
        });
        f.create_dataset({
          name: `${g}/ParticleIDs`,
          data: ids32 !== null ? ids32.subarray(offset, offset + np) : snap.ids.subarray(offset, offset + np),
          shape: [np],
        });
        if (needsMass[t] && massValues !== null) {
          f.create_dataset({
            name: `${g}/Masses`,
            data: massValues.subarray(massOffset, massOffset + np),
            shape: [np],
          });
          massOffset += np;
        }
        offset += np;
      }
    } finally {
      f.close();
    }
  });
}
