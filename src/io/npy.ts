/**
 * NumPy .npy format (version 1.0/2.0/3.0): a magic string, a little header that is a Python dict
 * literal ({'descr': '<f4', 'fortran_order': False, 'shape': (n, n, n), }) padded to a multiple
 * of 64 bytes, then the raw array. We write version 1.0 (2.0 when the header needs it) with
 * '<f4' C-order data, which is what numpy.save writes for float32.
 */
import fs from "node:fs";
import { InputError, writeAtomically } from "./atomic-file.js";

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export type NpyDtype =
  "<f4" | "<f8" | ">f4" | ">f8" | "<i4" | "<i8" | "|u1" | "<u2" | "<u4" | "<u8" | "|i1" | "<i2";
const ITEM_SIZE: Record<string, number> = {
  "<f4": 4,
  ">f4": 4,
  "<f8": 8,
  ">f8": 8,
  "<i4": 4,
  "<i8": 8,
  "|u1": 1,
  "<u2": 2,
  "<u4": 4,
  "<u8": 8,
  "|i1": 1,
  "<i2": 2,
};

export interface NpyHeader {
  dtype: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first array element. */
  dataOffset: number;
  itemSize: number;
}

function parseHeaderDict(
  text: string,
  file: string,
): { dtype: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape)
    throw new InputError(file, `malformed .npy header ${JSON.stringify(text.trim())}`);
  const dims = shape[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ""));
      if (!Number.isInteger(v) || v < 0) throw new InputError(file, `bad .npy shape entry '${s}'`);
      return v;
    });
  return { dtype: descr[1], fortranOrder: fortran[1] === "True", shape: dims };
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, "r");
  } catch (err) {
    throw new InputError(file, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Whether `file` starts with the .npy magic (anything else: another format). */
export function isNpyFile(file: string): boolean {
  const fd = openForReading(file);
  try {
    const head = Buffer.alloc(MAGIC.length);
    return fs.readSync(fd, head, 0, MAGIC.length, 0) === MAGIC.length && head.equals(MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and validates only the header, checking the file is exactly as long as the header says. */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openForReading(file);
  try {
    const size = fs.fstatSync(fd).size;
    const pre = Buffer.alloc(12);
    const got = fs.readSync(fd, pre, 0, 12, 0);
    if (got < 10 || !pre.subarray(0, 6).equals(MAGIC))
      throw new InputError(file, "not a .npy file (bad magic)");
    const major = pre[6];
    let headerLen: number;
    let start: number;
    if (major === 1) {
      headerLen = pre.readUInt16LE(8);
      start = 10;
    } else if (major === 2 || major === 3) {
      if (got < 12) throw new InputError(file, "truncated .npy header");
      headerLen = pre.readUInt32LE(8);
      start = 12;
    } else {
      throw new InputError(file, `unsupported .npy version ${major}`);
    }
    if (start + headerLen > size) throw new InputError(file, "truncated .npy header");
    const hdr = Buffer.alloc(headerLen);
    fs.readSync(fd, hdr, 0, headerLen, start);
    const dict = parseHeaderDict(hdr.toString("latin1"), file);
    const itemSize = ITEM_SIZE[dict.dtype];
    if (itemSize === undefined) throw new InputError(file, `unsupported dtype '${dict.dtype}'`);
    const dataOffset = start + headerLen;
    const expected = dataOffset + dict.shape.reduce((a, b) => a * b, 1) * itemSize;
    if (size < expected) {
      throw new InputError(
        file,
        `truncated: ${size} bytes, the header (shape (${dict.shape.join(", ")}), ${dict.dtype}) needs ${expected}`,
      );
    }
    if (size > expected)
      throw new InputError(file, `${size - expected} unexpected trailing bytes after the array`);
    return { ...dict, dataOffset, itemSize };
  } finally {
    fs.closeSync(fd);
  }
}

function headerBytes(dtype: string, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let preamble = 10;
  if (dict.length + preamble + 1 > 65535) {
    major = 2;
    preamble = 12;
  }
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  dict = dict + " ".repeat(total - preamble - dict.length - 1) + "\n";
  const out = Buffer.alloc(total);
  MAGIC.copy(out, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) out.writeUInt16LE(dict.length, 8);
  else out.writeUInt32LE(dict.length, 8);
  out.write(dict, preamble, "latin1");
  return out;
}

/** Header bytes for a float32 C-order array (exported for writers that stream the data). */
export function float32NpyHeader(shape: readonly number[]): Buffer {
  return headerBytes("<f4", shape);
}

const CHUNK_BYTES = 1 << 26;

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let off = 0; off < bytes.length; off += CHUNK_BYTES) {
    const part = bytes.subarray(off, Math.min(bytes.length, off + CHUNK_BYTES));
    let done = 0;
    while (done < part.length)
      done += fs.writeSync(fd, part, done, part.length - done, position + off + done);
  }
}

/** Writes a float32 C-order .npy atomically (temporary name, then rename). */
export function writeNpyFloat32(file: string, data: Float32Array, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length)
    throw new RangeError(`${file}: data length ${data.length} does not match shape (${shape.join(", ")})`);
  writeAtomically(file, (tmp) => {
    const fd = fs.openSync(tmp, "w");
    try {
      const hdr = float32NpyHeader(shape);
      writeAll(fd, hdr, 0);
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), hdr.length);
    } finally {
      fs.closeSync(fd);
    }
  });
}

export interface NpyArray {
  data: Float32Array;
  shape: number[];
  /** dtype as stored in the file; data is always converted to float32. */
  storedDtype: string;
}

/**
 * Reads a C-order real array as float32 (float64 and big-endian inputs are converted).
 * Rejects Fortran order, integer dtypes (unless allowIntegers) and non-finite values.
 */
export function readNpyFloat32(
  file: string,
  options: {
    allowFloat64?: boolean;
    allowIntegers?: boolean;
    rejectNonFinite?: boolean;
    shared?: boolean;
  } = {},
): NpyArray {
  const h = readNpyHeader(file);
  if (h.fortranOrder) throw new InputError(file, "Fortran-order arrays are not supported; save with C order");
  const isFloat = h.dtype.endsWith("f4") || h.dtype.endsWith("f8");
  if (!isFloat && !options.allowIntegers)
    throw new InputError(file, `dtype '${h.dtype}' is not a float type (expected '<f4')`);
  if (h.dtype.endsWith("f8") && options.allowFloat64 === false)
    throw new InputError(file, `dtype '${h.dtype}': expected float32 '<f4'`);
  const n = h.shape.reduce((a, b) => a * b, 1);
  const raw = Buffer.allocUnsafe(n * h.itemSize);
  const fd = fs.openSync(file, "r");
  try {
    let done = 0;
    while (done < raw.length) {
      const got = fs.readSync(fd, raw, done, Math.min(CHUNK_BYTES, raw.length - done), h.dataOffset + done);
      if (got === 0) throw new InputError(file, "truncated while reading data");
      done += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  const out = options.shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = !h.dtype.startsWith(">");
  if (h.dtype === "<f4") {
    out.set(new Float32Array(raw.buffer, raw.byteOffset, n));
  } else {
    const reader = elementReader(h.dtype, view, little);
    for (let i = 0; i < n; i++) out[i] = reader(i);
  }
  if (options.rejectNonFinite !== false) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) {
        throw new InputError(file, `non-finite value (${out[i]}) at flat index ${i}; inputs must be finite`);
      }
    }
  }
  return { data: out, shape: h.shape, storedDtype: h.dtype };
}

function elementReader(dtype: string, v: DataView, little: boolean): (i: number) => number {
  switch (dtype.slice(1)) {
    case "f4":
      return (i) => v.getFloat32(4 * i, little);
    case "f8":
      return (i) => v.getFloat64(8 * i, little);
    case "i4":
      return (i) => v.getInt32(4 * i, little);
    case "i8":
      return (i) => Number(v.getBigInt64(8 * i, little));
    case "u1":
      return (i) => v.getUint8(i);
    case "i1":
      return (i) => v.getInt8(i);
    case "u2":
      return (i) => v.getUint16(2 * i, little);
    case "i2":
      return (i) => v.getInt16(2 * i, little);
    case "u4":
      return (i) => v.getUint32(4 * i, little);
    case "u8":
      return (i) => Number(v.getBigUint64(8 * i, little));
    default:
      throw new RangeError(`unsupported dtype ${dtype}`);
  }
}

/** Requires a cubic 3D grid, naming the file otherwise. Returns the side. */
export function requireCubicGrid(file: string, shape: readonly number[]): number {
  if (shape.length !== 3) throw new InputError(file, `expected a 3D grid, got shape (${shape.join(", ")})`);
  if (shape[0] !== shape[1] || shape[1] !== shape[2]) {
    throw new InputError(file, `expected a cubic grid, got shape (${shape.join(", ")})`);
  }
  if (shape[0] < 1) throw new InputError(file, "empty grid");
  return shape[0];
}
