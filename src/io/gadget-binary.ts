/**
 * Gadget binary snapshots, formats 1 and 2 (Springel 2005, GADGET-2 user guide §6).
 *
 * A file is a sequence of Fortran unformatted records: int32 byte count, payload, the same
 * count again. Format 1 has fixed block order HEAD, POS, VEL, ID, MASS (only for types with
 * massTable 0), then gas blocks that we skip. Format 2 precedes every block with an 8-byte
 * record holding a 4-character label and the size of the next record + 8, so blocks are found
 * by name. The header is the 256-byte Gadget-2/3 layout. Endianness is detected from the first
 * record marker (256 for format 1, 8 for format 2); positions and velocities may be float32 or
 * float64 and IDs 4 or 8 bytes, detected from the block sizes. We write float32 data.
 */
import fs from "node:fs";
import { writeAtomically } from "./atomic-file.js";
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

const HEADER_BYTES = 256;
/** Largest chunk per read/write call (Node limits a single call to < 2 GiB). */
const IO_CHUNK = 1 << 30;

export interface GadgetBinaryWriteOptions extends GadgetUnitOptions {
  /** 1 (plain records, default) or 2 (labelled blocks). */
  format?: 1 | 2;
  /** Bytes per particle ID; default 4 when every ID fits in 32 bits, else 8. */
  idBytes?: 4 | 8;
  /** Byte order of the file (default little, the order of every current HPC machine). */
  endianness?: "little" | "big";
}

/** One file of a (possibly multi-file) snapshot, converted to mocksmith units. */
export interface GadgetFilePart {
  header: GadgetHeader;
  positions: Float32Array;
  velocities: Float32Array;
  ids: BigUint64Array;
  /** All particles of this file, when the file stores a mass block; else null. */
  masses: Float32Array | null;
}

export type GadgetBinaryLayout = { format: 1 | 2; littleEndian: boolean };

/** Classifies the first 4 bytes of a file as a Gadget binary record marker, or returns null. */
export function detectBinaryLayout(first4: Uint8Array): GadgetBinaryLayout | null {
  if (first4.length < 4) return null;
  const dv = new DataView(first4.buffer, first4.byteOffset, 4);
  const le = dv.getUint32(0, true);
  const be = dv.getUint32(0, false);
  if (le === HEADER_BYTES) return { format: 1, littleEndian: true };
  if (be === HEADER_BYTES) return { format: 1, littleEndian: false };
  if (le === 8) return { format: 2, littleEndian: true };
  if (be === 8) return { format: 2, littleEndian: false };
  return null;
}

/** Sequential reader of Fortran records with bounds and marker checks that name the file. */
class RecordReader {
  pos = 0;
  private readonly word = new Uint8Array(4);

  constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
    readonly littleEndian: boolean,
  ) {}

  get atEnd(): boolean {
    return this.pos >= this.size;
  }

  private marker(what: string): number {
    if (this.pos + 4 > this.size) {
      throw new GadgetFormatError(
        this.path,
        `file truncated: ${what} record marker expected at byte ${this.pos}, but the file ends at byte ${this.size}`,
      );
    }
    readFully(this.fd, this.word, this.pos);
    this.pos += 4;
    return new DataView(this.word.buffer).getUint32(0, this.littleEndian);
  }

  /** Reads one record's payload (or skips it when `skip`), checking both markers. */
  record(what: string, skip = false): Uint8Array {
    const start = this.pos;
    const len = this.marker(what);
    if (this.pos + len + 4 > this.size) {
      throw new GadgetFormatError(
        this.path,
        `file truncated: the ${what} record at byte ${start} declares ${len} bytes, but only ${Math.max(0, this.size - this.pos - 4)} remain before the closing marker`,
      );
    }
    let payload = new Uint8Array(0);
    if (!skip) {
      payload = new Uint8Array(len);
      readFully(this.fd, payload, this.pos);
    }
    this.pos += len;
    const end = this.marker(what);
    if (end !== len) {
      throw new GadgetFormatError(
        this.path,
        `corrupt ${what} record at byte ${start}: leading marker says ${len} bytes, trailing marker says ${end}; expected equal markers`,
      );
    }
    return payload;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, Math.min(IO_CHUNK, into.length - done), position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function parseHeader(path: string, bytes: Uint8Array, littleEndian: boolean): GadgetHeader {
  if (bytes.length !== HEADER_BYTES)
    throw new GadgetFormatError(path, `HEAD block is ${bytes.length} bytes, expected ${HEADER_BYTES}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const u32 = (o: number): number => dv.getUint32(o, littleEndian);
  const i32 = (o: number): number => dv.getInt32(o, littleEndian);
  const f64 = (o: number): number => dv.getFloat64(o, littleEndian);
  const six = <T>(f: (t: number) => T): T[] => Array.from({ length: GADGET_TYPES }, (_, t) => f(t));
  const numPart = six((t) => u32(4 * t));
  const low = six((t) => u32(96 + 4 * t));
  const high = six((t) => u32(168 + 4 * t));
  return {
    numPart,
    massTable: six((t) => f64(24 + 8 * t)),
    time: f64(72),
    redshift: f64(80),
    boxSize: f64(128),
    omega0: f64(136),
    omegaLambda: f64(144),
    hubbleParam: f64(152),
    numFiles: i32(124),
    numPartTotal: six((t) => low[t] + high[t] * 2 ** 32),
    flags: {
      sfr: i32(88),
      feedback: i32(92),
      cooling: i32(120),
      stellarAge: i32(160),
      metals: i32(164),
      entropyInsteadU: i32(192),
      doublePrecision: i32(196),
    },
  };
}

function encodeHeader(h: GadgetHeader, numFiles: number, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(bytes.buffer);
  for (let t = 0; t < GADGET_TYPES; t++) {
    dv.setUint32(4 * t, h.numPart[t], littleEndian);
    dv.setFloat64(24 + 8 * t, h.massTable[t], littleEndian);
    dv.setUint32(96 + 4 * t, h.numPartTotal[t] % 2 ** 32, littleEndian);
    dv.setUint32(168 + 4 * t, Math.floor(h.numPartTotal[t] / 2 ** 32), littleEndian);
  }
  dv.setFloat64(72, h.time, littleEndian);
  dv.setFloat64(80, h.redshift, littleEndian);
  dv.setInt32(88, h.flags.sfr, littleEndian);
  dv.setInt32(92, h.flags.feedback, littleEndian);
  dv.setInt32(120, h.flags.cooling, littleEndian);
  dv.setInt32(124, numFiles, littleEndian);
  dv.setFloat64(128, h.boxSize, littleEndian);
  dv.setFloat64(136, h.omega0, littleEndian);
  dv.setFloat64(144, h.omegaLambda, littleEndian);
  dv.setFloat64(152, h.hubbleParam, littleEndian);
  dv.setInt32(160, h.flags.stellarAge, littleEndian);
  dv.setInt32(164, h.flags.metals, littleEndian);
  dv.setInt32(192, h.flags.entropyInsteadU, littleEndian);
  dv.setInt32(196, 0, littleEndian); // we always write float32 particle data
  return bytes;
}

/** Reinterprets a freshly read payload (offset 0 of its own buffer) as native-order values. */
function floats(bytes: Uint8Array, width: 4 | 8, littleEndian: boolean): Float32Array | Float64Array {
  if (!littleEndian) swapInPlace(bytes, width);
  return width === 4
    ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
    : new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
}

function swapInPlace(bytes: Uint8Array, width: 4 | 8): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (width === 4) buf.swap32();
  else buf.swap64();
}

function decodeIds(bytes: Uint8Array, width: 4 | 8, littleEndian: boolean): BigUint64Array {
  if (!littleEndian) swapInPlace(bytes, width);
  if (width === 8) return new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const out = new BigUint64Array(u32.length);
  for (let i = 0; i < u32.length; i++) out[i] = BigInt(u32[i]);
  return out;
}

/** Element width implied by a block's byte size for `count` elements of `perElement` values. */
function widthOf(
  path: string,
  block: string,
  bytes: number,
  count: number,
  perElement: number,
  widths: readonly (4 | 8)[],
): 4 | 8 {
  for (const w of widths) if (bytes === count * perElement * w) return w;
  const options = widths.map((w) => `${count * perElement * w}`).join(" or ");
  throw new GadgetFormatError(
    path,
    `header numPart sums to ${count} particles, so the ${block} block should be ${options} bytes, but it is ${bytes} bytes (header inconsistent with the data)`,
  );
}

/** Reads one Gadget binary file (format and byte order detected), converting to mocksmith units. */
export function readGadgetBinaryFile(path: string, options: GadgetUnitOptions = {}): GadgetFilePart {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (err) {
    throw new GadgetFormatError(path, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const first = new Uint8Array(4);
    if (size < 4) throw new GadgetFormatError(path, `file is ${size} bytes, too short for a Gadget snapshot`);
    readFully(fd, first, 0);
    const layout = detectBinaryLayout(first);
    if (layout === null) {
      throw new GadgetFormatError(
        path,
        `unsupported format: first record marker is ${new DataView(first.buffer).getUint32(0, true)}, expected 256 (Gadget format 1), 8 (format 2) or an HDF5 signature`,
      );
    }
    const reader = new RecordReader(path, fd, size, layout.littleEndian);
    return layout.format === 1 ? readFormat1(reader, options) : readFormat2(reader, options);
  } finally {
    fs.closeSync(fd);
  }
}

interface RawBlocks {
  header: GadgetHeader;
  pos: Uint8Array | null;
  vel: Uint8Array | null;
  id: Uint8Array | null;
  mass: Uint8Array | null;
}

function readFormat1(reader: RecordReader, options: GadgetUnitOptions): GadgetFilePart {
  const header = parseHeader(reader.path, reader.record("HEAD"), reader.littleEndian);
  const n = checkHeaderAgainstSize(reader, header, 1);
  if (n === 0) return decode(reader, { header, pos: null, vel: null, id: null, mass: null }, options);
  const pos = reader.record("POS");
  const vel = reader.record("VEL");
  const id = reader.record("ID");
  const needsMass = typesWithMassBlock(header.numPart, header.massTable).some(Boolean);
  const mass = needsMass ? reader.record("MASS") : null;
  return decode(reader, { header, pos, vel, id, mass }, options);
}

function readFormat2(reader: RecordReader, options: GadgetUnitOptions): GadgetFilePart {
  const blocks = new Map<string, Uint8Array>();
  const wanted = new Set(["HEAD", "POS", "VEL", "ID", "MASS"]);
  while (!reader.atEnd) {
    const at = reader.pos;
    const tag = reader.record("block label");
    if (tag.length !== 8)
      throw new GadgetFormatError(
        reader.path,
        `block label record at byte ${at} is ${tag.length} bytes, expected 8 (format 2)`,
      );
    const label = new TextDecoder("latin1").decode(tag.subarray(0, 4)).trimEnd();
    const next = new DataView(tag.buffer, tag.byteOffset, 8).getUint32(4, reader.littleEndian);
    const dataAt = reader.pos;
    const payload = reader.record(label || "unlabelled", !wanted.has(label));
    const recordBytes = reader.pos - dataAt;
    // Gadget writes the size of the next record including its two markers; accept the bare size too.
    if (next !== recordBytes && next !== recordBytes - 8) {
      throw new GadgetFormatError(
        reader.path,
        `block label ${JSON.stringify(label)} at byte ${at} announces ${next} bytes, but the block record is ${recordBytes} bytes`,
      );
    }
    if (wanted.has(label) && !blocks.has(label)) blocks.set(label, payload);
    if (label === "HEAD")
      checkHeaderAgainstSize(reader, parseHeader(reader.path, payload, reader.littleEndian), 2);
  }
  const head = blocks.get("HEAD");
  if (head === undefined)
    throw new GadgetFormatError(reader.path, "no HEAD block found, expected one in a format 2 snapshot");
  const header = parseHeader(reader.path, head, reader.littleEndian);
  const n = header.numPart.reduce((s, v) => s + v, 0);
  const need = (label: string): Uint8Array | null => {
    if (n === 0) return null;
    const b = blocks.get(label);
    if (b === undefined)
      throw new GadgetFormatError(reader.path, `no ${label} block found, expected one for ${n} particles`);
    return b;
  };
  const needsMass = typesWithMassBlock(header.numPart, header.massTable).some(Boolean);
  return decode(
    reader,
    { header, pos: need("POS"), vel: need("VEL"), id: need("ID"), mass: needsMass ? need("MASS") : null },
    options,
  );
}

/** Fails early when the header promises more particle data than the file could hold. */
function checkHeaderAgainstSize(reader: RecordReader, header: GadgetHeader, format: 1 | 2): number {
  const n = header.numPart.reduce((s, v) => s + v, 0);
  const nMass = header.numPart.reduce((s, np, t) => s + (np > 0 && header.massTable[t] === 0 ? np : 0), 0);
  if (n === 0) return 0;
  // Smallest layout: float32 POS/VEL, 4-byte IDs and masses, each record with 8 marker bytes
  // (+16 for its label record in format 2).
  const perBlock = format === 1 ? 8 : 24;
  const blocks = 3 + (nMass > 0 ? 1 : 0);
  const minimum =
    (format === 1 ? HEADER_BYTES + 8 : HEADER_BYTES + 24) + 24 * n + 4 * n + 4 * nMass + blocks * perBlock;
  if (reader.size < minimum) {
    throw new GadgetFormatError(
      reader.path,
      `header numPart sums to ${n} particles, which needs at least ${minimum} bytes, but the file has ${reader.size} bytes (truncated, or header inconsistent with file size)`,
    );
  }
  return n;
}

function decode(reader: RecordReader, raw: RawBlocks, options: GadgetUnitOptions): GadgetFilePart {
  const { path, littleEndian } = reader;
  const header = {
    ...raw.header,
    numPart: [...raw.header.numPart],
    numPartTotal: [...raw.header.numPartTotal],
  };
  const n = header.numPart.reduce((s, v) => s + v, 0);
  if (header.numFiles <= 1 && header.numPartTotal.every((v) => v === 0))
    header.numPartTotal = [...header.numPart];
  const units = unitFactors(path, header.time, options);
  header.boxSize = (header.boxSize * units.lengthKpc) / 1000;
  header.massTable = header.massTable.map((m) => m * units.massMsun);

  let positions: Float32Array = new Float32Array(0);
  let velocities: Float32Array = new Float32Array(0);
  let ids: BigUint64Array = new BigUint64Array(0);
  let masses: Float32Array | null = null;
  if (raw.pos !== null && raw.vel !== null && raw.id !== null) {
    const wPos = widthOf(path, "POS", raw.pos.length, n, 3, [4, 8]);
    const wVel = widthOf(path, "VEL", raw.vel.length, n, 3, [4, 8]);
    const wId = widthOf(path, "ID", raw.id.length, n, 1, [4, 8]);
    positions = scaled(floats(raw.pos, wPos, littleEndian), units.lengthKpc, 1000);
    velocities = scaled(floats(raw.vel, wVel, littleEndian), units.sqrtA, 1);
    ids = decodeIds(raw.id, wId, littleEndian);
    if (raw.mass !== null) {
      const nMass = header.numPart.reduce(
        (s, np, t) => s + (np > 0 && raw.header.massTable[t] === 0 ? np : 0),
        0,
      );
      const wMass = widthOf(path, "MASS", raw.mass.length, nMass, 1, [4, 8]);
      masses = expandMasses(
        header.numPart,
        header.massTable,
        scaled(floats(raw.mass, wMass, littleEndian), units.massMsun, 1),
      );
    }
  }
  return { header, positions, velocities, ids, masses };
}

/**
 * Writes `snap` as one Gadget binary file (the header's numFiles and numPartTotal are written as
 * given, so callers can write the pieces of a multi-file snapshot). Written to a temporary name
 * and renamed when complete.
 */
export function writeGadgetBinary(
  path: string,
  snap: GadgetSnapshot,
  options: GadgetBinaryWriteOptions = {},
): void {
  const n = checkSnapshotForWrite(path, snap);
  const format = options.format ?? 1;
  const littleEndian = (options.endianness ?? "little") === "little";
  if (format !== 1 && format !== 2)
    throw new GadgetFormatError(path, `cannot write: format must be 1 or 2, got ${String(format)}`);
  const idBytes = options.idBytes ?? (snap.ids.every((id) => id < 2n ** 32n) ? 4 : 8);
  if (idBytes !== 4 && idBytes !== 8)
    throw new GadgetFormatError(path, `cannot write: idBytes must be 4 or 8, got ${String(idBytes)}`);
  const { header } = snap;
  const units = unitFactors(path, header.time, options);

  const fileHeader: GadgetHeader = {
    ...header,
    boxSize: (header.boxSize * 1000) / units.lengthKpc,
    massTable: header.massTable.map((m) => m / units.massMsun),
  };
  const blocks: [string, Uint8Array][] = [
    ["HEAD", encodeHeader(fileHeader, Math.max(1, header.numFiles), littleEndian)],
  ];
  if (n > 0) {
    blocks.push(["POS ", bytesOf(scaled(snap.positions, 1000, units.lengthKpc), littleEndian)]);
    blocks.push(["VEL ", bytesOf(scaled(snap.velocities, 1, units.sqrtA), littleEndian)]);
    blocks.push(["ID  ", idBytesOf(path, snap.ids, idBytes, littleEndian)]);
    if (typesWithMassBlock(header.numPart, header.massTable).some(Boolean)) {
      blocks.push(["MASS", bytesOf(scaled(massBlockValues(snap), 1, units.massMsun), littleEndian)]);
    }
  }

  writeAtomically(path, (tmp) => {
    const fd = fs.openSync(tmp, "w");
    try {
      for (const [label, payload] of blocks) {
        if (format === 2) {
          const tag = new Uint8Array(8);
          tag.set(new TextEncoder().encode(label), 0);
          new DataView(tag.buffer).setUint32(4, payload.length + 8, littleEndian);
          writeRecord(fd, tag, littleEndian);
        }
        writeRecord(fd, payload, littleEndian);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}

function bytesOf(values: Float32Array, littleEndian: boolean): Uint8Array {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (littleEndian) return view;
  const copy = Uint8Array.from(view);
  swapInPlace(copy, 4);
  return copy;
}

function idBytesOf(path: string, ids: BigUint64Array, width: 4 | 8, littleEndian: boolean): Uint8Array {
  let out: Uint8Array;
  if (width === 8) {
    out = littleEndian
      ? new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)
      : Uint8Array.from(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    if (!littleEndian) swapInPlace(out, 8);
    return out;
  }
  const u32 = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] >= 2n ** 32n)
      throw new GadgetFormatError(
        path,
        `cannot write: particle ID ${ids[i]} does not fit in 4 bytes (use idBytes: 8)`,
      );
    u32[i] = Number(ids[i]);
  }
  out = new Uint8Array(u32.buffer);
  if (!littleEndian) swapInPlace(out, 4);
  return out;
}

function writeRecord(fd: number, payload: Uint8Array, littleEndian: boolean): void {
  if (payload.length > 0xffffffff)
    throw new Error(`record of ${payload.length} bytes exceeds the 4-byte Fortran record marker`);
  const marker = new Uint8Array(4);
  new DataView(marker.buffer).setUint32(0, payload.length, littleEndian);
  fs.writeSync(fd, marker);
  for (let done = 0; done < payload.length;)
    done += fs.writeSync(fd, payload, done, Math.min(IO_CHUNK, payload.length - done));
  fs.writeSync(fd, marker);
}
