import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { File as H5File, Group } from "h5wasm/node";
import {
  GadgetFormatError,
  readGadget,
  writeGadgetBinary,
  writeGadgetHdf5,
  type GadgetHeader,
  type GadgetSnapshot,
} from "../../src/io/gadget.js";
import { mulberry32 } from "../seeded-random.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-gadget-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const tmpFile = (name: string): string => path.join(dir, `${fileCounter++}-${name}`);

const rng = mulberry32;

interface SnapshotSpec {
  numPart?: number[];
  massTable?: number[];
  perParticleMasses?: boolean;
  bigIds?: boolean;
  time?: number;
  boxSize?: number;
  seed?: number;
}

function makeSnapshot(spec: SnapshotSpec = {}): GadgetSnapshot {
  const numPart = spec.numPart ?? [0, 50, 0, 0, 0, 0];
  const n = numPart.reduce((s, v) => s + v, 0);
  const L = spec.boxSize ?? 100;
  const r = rng(spec.seed ?? 1);
  const positions = Float32Array.from({ length: 3 * n }, () => Math.fround(r() * L * 0.999));
  const velocities = Float32Array.from({ length: 3 * n }, () => (r() - 0.5) * 1000);
  const ids = BigUint64Array.from({ length: n }, (_, i) =>
    spec.bigIds ? 2n ** 40n + BigInt(7 * i) : BigInt(1000 + 3 * i),
  );
  const time = spec.time ?? 0.25;
  const header: GadgetHeader = {
    numPart,
    massTable: spec.massTable ?? [0, 8.5e10, 0, 0, 0, 0],
    time,
    redshift: 1 / time - 1,
    boxSize: L,
    omega0: 0.31,
    omegaLambda: 0.69,
    hubbleParam: 0.68,
    numFiles: 1,
    numPartTotal: [...numPart],
    flags: {
      sfr: 0,
      feedback: 0,
      cooling: 0,
      stellarAge: 0,
      metals: 0,
      entropyInsteadU: 0,
      doublePrecision: 0,
    },
  };
  const snap: GadgetSnapshot = { header, positions, velocities, ids };
  if (spec.perParticleMasses) snap.masses = Float32Array.from({ length: n }, (_, i) => 1e9 * (1 + (i % 5)));
  return snap;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

function expectBitwiseEqual(got: GadgetSnapshot, want: GadgetSnapshot): void {
  expect(got.header).toEqual(want.header);
  expect(bits(got.positions)).toEqual(bits(want.positions));
  expect(bits(got.velocities)).toEqual(bits(want.velocities));
  expect(got.ids).toEqual(want.ids);
  if (want.masses === undefined) expect(got.masses).toBeUndefined();
  else expect(bits(got.masses!)).toEqual(bits(want.masses));
}

/** Exact file units: Mpc/h, Msun/h; a = 0.25 makes the sqrt(a) velocity factor 0.5, exact. */
const exactUnits = { lengthUnitKpc: 1000, massUnitMsun: 1 };

/**
 * An independent format-1 encoder, written from the GADGET-2 user guide's header table, for
 * checking our writer's layout and for building big-endian files. Stores values as given.
 */
function handmadeFormat1(
  h: GadgetHeader,
  pos: Float32Array,
  vel: Float32Array,
  ids: Uint32Array,
  littleEndian: boolean,
): Uint8Array {
  const n = ids.length;
  const total = 4 * 2 + 256 + (4 * 2 + 12 * n) * 2 + (4 * 2 + 4 * n);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let o = 0;
  const record = (len: number, body: (at: number) => void): void => {
    dv.setUint32(o, len, littleEndian);
    body(o + 4);
    dv.setUint32(o + 4 + len, len, littleEndian);
    o += len + 8;
  };
  record(256, (at) => {
    for (let t = 0; t < 6; t++) {
      dv.setInt32(at + 4 * t, h.numPart[t], littleEndian); // npart[6]
      dv.setFloat64(at + 24 + 8 * t, h.massTable[t], littleEndian); // mass[6]
      dv.setUint32(at + 96 + 4 * t, h.numPartTotal[t], littleEndian); // npartTotal[6]
    }
    dv.setFloat64(at + 72, h.time, littleEndian);
    dv.setFloat64(at + 80, h.redshift, littleEndian);
    dv.setInt32(at + 124, h.numFiles, littleEndian);
    dv.setFloat64(at + 128, h.boxSize, littleEndian);
    dv.setFloat64(at + 136, h.omega0, littleEndian);
    dv.setFloat64(at + 144, h.omegaLambda, littleEndian);
    dv.setFloat64(at + 152, h.hubbleParam, littleEndian);
  });
  record(12 * n, (at) => pos.forEach((v, i) => dv.setFloat32(at + 4 * i, v, littleEndian)));
  record(12 * n, (at) => vel.forEach((v, i) => dv.setFloat32(at + 4 * i, v, littleEndian)));
  record(4 * n, (at) => ids.forEach((v, i) => dv.setUint32(at + 4 * i, v, littleEndian)));
  return out;
}

function expectGadgetError(fn: () => unknown, file: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GadgetFormatError);
  const message = (caught as Error).message;
  expect(message.startsWith(`${file}: `)).toBe(true);
  expect(message).toMatch(pattern);
}

describe("Gadget write-then-read round trip", () => {
  const cases = [
    {
      name: "format 1, 4-byte IDs",
      write: (p: string, s: GadgetSnapshot) =>
        writeGadgetBinary(p, s, { format: 1, idBytes: 4, ...exactUnits }),
    },
    {
      name: "format 1, 8-byte IDs",
      write: (p: string, s: GadgetSnapshot) =>
        writeGadgetBinary(p, s, { format: 1, idBytes: 8, ...exactUnits }),
    },
    {
      name: "format 2, 4-byte IDs",
      write: (p: string, s: GadgetSnapshot) =>
        writeGadgetBinary(p, s, { format: 2, idBytes: 4, ...exactUnits }),
    },
    {
      name: "format 2, 8-byte IDs",
      write: (p: string, s: GadgetSnapshot) =>
        writeGadgetBinary(p, s, { format: 2, idBytes: 8, ...exactUnits }),
    },
    {
      name: "format 1, big-endian",
      write: (p: string, s: GadgetSnapshot) => writeGadgetBinary(p, s, { endianness: "big", ...exactUnits }),
    },
    {
      name: "format 2, big-endian",
      write: (p: string, s: GadgetSnapshot) =>
        writeGadgetBinary(p, s, { format: 2, endianness: "big", idBytes: 8, ...exactUnits }),
    },
    {
      name: "HDF5, 4-byte IDs",
      write: (p: string, s: GadgetSnapshot) => writeGadgetHdf5(p, s, { idBytes: 4, ...exactUnits }),
    },
    {
      name: "HDF5, 8-byte IDs",
      write: (p: string, s: GadgetSnapshot) => writeGadgetHdf5(p, s, { idBytes: 8, ...exactUnits }),
    },
  ];
  for (const { name, write } of cases) {
    it(`is bitwise for ${name}`, () => {
      const withTable = makeSnapshot({ bigIds: name.includes("8-byte") });
      const file = tmpFile("snap");
      write(file, withTable);
      expectBitwiseEqual(readGadget(file, exactUnits), withTable);

      // Several types, one of them with per-particle masses (a MASS block).
      const mixed = makeSnapshot({
        numPart: [0, 30, 7, 0, 5, 0],
        massTable: [0, 2e9, 0, 0, 6e9, 0],
        perParticleMasses: true,
        bigIds: name.includes("8-byte"),
        seed: 2,
      });
      mixed.masses!.fill(2e9, 0, 30);
      mixed.masses!.fill(6e9, 37, 42);
      const file2 = tmpFile("mixed");
      write(file2, mixed);
      expectBitwiseEqual(readGadget(file2, exactUnits), mixed);
    });
  }

  it("converts Gadget's default kpc/h, 1e10 Msun/h and sqrt(a)·ẋ velocities", () => {
    const snap = makeSnapshot({ time: 0.5 });
    const file = tmpFile("kpc");
    writeGadgetBinary(file, snap);
    // What the file holds: kpc/h and u = v_pec / sqrt(a).
    const raw = readGadget(file, { lengthUnitKpc: 1000, massUnitMsun: 1, comoving: false });
    expect(raw.header.boxSize).toBe(100_000);
    expect(raw.header.massTable[1]).toBeCloseTo(8.5, 12);
    for (let i = 0; i < 30; i++) {
      expect(raw.positions[i] / snap.positions[i]).toBeCloseTo(1000, 3);
      expect(raw.velocities[i] / snap.velocities[i]).toBeCloseTo(1 / Math.sqrt(0.5), 5);
    }
    // Read back in mocksmith units: equal to float32 rounding (one or two roundings away).
    const back = readGadget(file);
    expect(back.header.boxSize).toBe(100);
    expect(back.header.massTable[1]).toBeCloseTo(8.5e10, 0);
    for (let i = 0; i < snap.positions.length; i++) {
      expect(Math.abs(back.positions[i] - snap.positions[i])).toBeLessThanOrEqual(
        2.4e-7 * Math.abs(snap.positions[i]),
      );
      expect(Math.abs(back.velocities[i] - snap.velocities[i])).toBeLessThanOrEqual(
        2.4e-7 * Math.abs(snap.velocities[i]),
      );
    }
  });

  it("records the units in HDF5 so a reader without options recovers them", () => {
    const snap = makeSnapshot({ perParticleMasses: true, massTable: [0, 0, 0, 0, 0, 0] });
    const file = tmpFile("units.hdf5");
    writeGadgetHdf5(file, snap, exactUnits);
    expectBitwiseEqual(readGadget(file), snap);
  });

  it("writes the Gadget-2 header layout byte for byte", () => {
    const snap = makeSnapshot({ massTable: [0, 8.5e10, 0, 0, 0, 0] });
    const file = tmpFile("layout");
    writeGadgetBinary(file, snap, { idBytes: 4, ...exactUnits });
    const ids32 = Uint32Array.from(snap.ids, (v) => Number(v));
    const velFile = Float32Array.from(snap.velocities, (v) => v / 0.5);
    const expected = handmadeFormat1(snap.header, snap.positions, velFile, ids32, true);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(expected);
  });

  it("reads a hand-built big-endian format-1 file", () => {
    const snap = makeSnapshot({ seed: 9 });
    const ids32 = Uint32Array.from(snap.ids, (v) => Number(v));
    const velFile = Float32Array.from(snap.velocities, (v) => v / 0.5);
    const file = tmpFile("big-endian");
    fs.writeFileSync(file, handmadeFormat1(snap.header, snap.positions, velFile, ids32, false));
    expectBitwiseEqual(readGadget(file, exactUnits), snap);
  });

  it("leaves no temporary file behind, and nothing under the final name when the write fails", () => {
    const file = tmpFile("atomic");
    writeGadgetBinary(file, makeSnapshot());
    const bad = makeSnapshot();
    bad.positions[7] = NaN;
    const badFile = tmpFile("never-written");
    expectGadgetError(() => writeGadgetBinary(badFile, bad), badFile, /non-finite position/);
    expect(fs.existsSync(badFile)).toBe(false);
    const tooBig = makeSnapshot({ bigIds: true });
    expectGadgetError(
      () => writeGadgetBinary(badFile, tooBig, { idBytes: 4 }),
      badFile,
      /does not fit in 4 bytes/,
    );
    expect(fs.existsSync(badFile)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

describe("Gadget multi-file snapshots", () => {
  /** Splits `snap` into pieces holding the given particle counts per type. */
  function pieces(snap: GadgetSnapshot, split: number[][]): GadgetSnapshot[] {
    const typeStart = snap.header.numPart.map((_, t) =>
      snap.header.numPart.slice(0, t).reduce((s, v) => s + v, 0),
    );
    const used = new Array<number>(6).fill(0);
    return split.map((counts) => {
      const idx: number[] = [];
      counts.forEach((c, t) => {
        for (let k = 0; k < c; k++) idx.push(typeStart[t] + used[t] + k);
        used[t] += c;
      });
      const pick3 = (a: Float32Array) =>
        Float32Array.from(idx.flatMap((i) => [a[3 * i], a[3 * i + 1], a[3 * i + 2]]));
      const part: GadgetSnapshot = {
        header: { ...snap.header, numPart: counts, numFiles: split.length },
        positions: pick3(snap.positions),
        velocities: pick3(snap.velocities),
        ids: BigUint64Array.from(idx, (i) => snap.ids[i]),
      };
      if (snap.masses) part.masses = Float32Array.from(idx, (i) => snap.masses![i]);
      return part;
    });
  }

  const whole = makeSnapshot({
    numPart: [0, 40, 12, 0, 0, 0],
    massTable: [0, 1e10, 0, 0, 0, 0],
    perParticleMasses: true,
    seed: 5,
  });
  whole.masses!.fill(1e10, 0, 40);
  const split = [
    [0, 25, 5, 0, 0, 0],
    [0, 15, 0, 0, 0, 0],
    [0, 0, 7, 0, 0, 0],
  ];

  it("reads binary pieces base.0, base.1, … by base name or piece name, concatenating type by type", () => {
    const base = tmpFile("multi");
    pieces(whole, split).forEach((p, i) =>
      writeGadgetBinary(`${base}.${i}`, p, { format: i === 1 ? 2 : 1, ...exactUnits }),
    );
    expectBitwiseEqual(readGadget(base, exactUnits), whole);
    expectBitwiseEqual(readGadget(`${base}.2`, exactUnits), whole);
  });

  it("reads HDF5 pieces base.0.hdf5, …", () => {
    const base = tmpFile("multi");
    pieces(whole, split).forEach((p, i) => writeGadgetHdf5(`${base}.${i}.hdf5`, p, exactUnits));
    expectBitwiseEqual(readGadget(base, exactUnits), whole);
    expectBitwiseEqual(readGadget(`${base}.hdf5`, exactUnits), whole);
  });

  it("reports a missing piece and inconsistent totals", () => {
    const base = tmpFile("gappy");
    const ps = pieces(whole, split);
    writeGadgetBinary(`${base}.0`, ps[0]);
    writeGadgetBinary(`${base}.1`, ps[1]);
    expectGadgetError(() => readGadget(base), `${base}.2`, /cannot open/);
    writeGadgetBinary(`${base}.2`, {
      ...ps[2],
      header: { ...ps[2].header, numPart: [0, 0, 7, 0, 0, 0], numPartTotal: [0, 40, 13, 0, 0, 0] },
    });
    expectGadgetError(() => readGadget(base), `${base}.2`, /NumPart_Total/);
  });
});

describe("Gadget bad input", () => {
  const snap = makeSnapshot({ numPart: [0, 64, 0, 0, 0, 0] });
  const good = tmpFile("good");
  writeGadgetBinary(good, snap, { idBytes: 4 });
  const bytes = new Uint8Array(fs.readFileSync(good));
  // Format-1 layout for 64 particles: HEAD record 264 bytes, POS record 776, VEL 776, ID 264.
  const posStart = 264;
  const velStart = posStart + 776;

  const variant = (name: string, edit: (b: Uint8Array) => Uint8Array): string => {
    const file = tmpFile(name);
    fs.writeFileSync(file, edit(Uint8Array.from(bytes)));
    return file;
  };

  it("rejects a truncated file", () => {
    const file = variant("truncated", (b) => b.subarray(0, b.length - 100));
    expectGadgetError(() => readGadget(file), file, /truncated/);
    const cutInHeader = variant("truncated-head", (b) => b.subarray(0, 100));
    expectGadgetError(() => readGadget(cutInHeader), cutInHeader, /truncated/);
  });

  it("rejects record markers that do not match", () => {
    const file = variant("marker", (b) => {
      new DataView(b.buffer).setUint32(velStart - 4, 123, true); // POS trailing marker
      return b;
    });
    expectGadgetError(() => readGadget(file), file, /markers?.*(differ|trailing marker says 123)/);
  });

  it("rejects a header that promises more particles than the file holds", () => {
    const file = variant("header-more", (b) => {
      new DataView(b.buffer).setUint32(4 + 4, 100, true); // npart[1] = 100
      new DataView(b.buffer).setUint32(4 + 96 + 4, 100, true);
      return b;
    });
    expectGadgetError(
      () => readGadget(file),
      file,
      /header numPart sums to 100 particles.*file has \d+ bytes/,
    );
  });

  it("rejects a header whose particle count disagrees with the block sizes", () => {
    const file = variant("header-fewer", (b) => {
      new DataView(b.buffer).setUint32(4 + 4, 60, true);
      new DataView(b.buffer).setUint32(4 + 96 + 4, 60, true);
      return b;
    });
    expectGadgetError(() => readGadget(file), file, /POS block should be 720 or 1440 bytes, but it is 768/);
  });

  it("rejects an unsupported format", () => {
    const file = tmpFile("text.txt");
    fs.writeFileSync(file, "x,y,z\n1,2,3\n");
    expectGadgetError(() => readGadget(file), file, /unsupported format/);
  });

  it("rejects NaN positions and positions far outside the box", () => {
    const nan = variant("nan", (b) => {
      new DataView(b.buffer).setFloat32(posStart + 4 + 4 * 10, NaN, true);
      return b;
    });
    expectGadgetError(() => readGadget(nan), nan, /particle 3 has a non-finite position/);
    // A file in Mpc/h read as kpc/h would shrink; the reverse puts particles 1000 boxes out.
    const mpcFile = tmpFile("mpc");
    writeGadgetBinary(mpcFile, snap, { lengthUnitKpc: 1000 });
    expect(readGadget(mpcFile, { lengthUnitKpc: 1000 }).header.boxSize).toBe(100);
    const fakeBox = variant("box-small", (b) => {
      new DataView(b.buffer).setFloat64(4 + 128, 50, true); // BoxSize 50 kpc/h vs positions up to 100 Mpc/h
      return b;
    });
    expectGadgetError(() => readGadget(fakeBox), fakeBox, /far outside the box/);
  });

  it("wraps positions slightly outside the box into [0, L)", () => {
    const s = makeSnapshot({ numPart: [0, 3, 0, 0, 0, 0] });
    s.positions.set([-0.5, 100, 100.25], 0);
    const file = tmpFile("wrap");
    writeGadgetBinary(file, s, exactUnits);
    expect(Array.from(readGadget(file, exactUnits).positions.subarray(0, 3))).toEqual([99.5, 0, 0.25]);
  });

  it("rejects a truncated HDF5 file and an HDF5 header that disagrees with its datasets", () => {
    const file = tmpFile("good.hdf5");
    writeGadgetHdf5(file, snap);
    const truncated = tmpFile("truncated.hdf5");
    fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 2000));
    expectGadgetError(() => readGadget(truncated), truncated, /truncated/);

    const f = new H5File(file, "a");
    const header = f.get("Header");
    if (!(header instanceof Group)) throw new Error("test setup: no Header group");
    header.delete_attribute("NumPart_ThisFile");
    header.create_attribute("NumPart_ThisFile", Uint32Array.from([0, 60, 0, 0, 0, 0]));
    f.close();
    expectGadgetError(
      () => readGadget(file),
      file,
      /PartType1\/Coordinates has shape \[64, 3\], expected \[60, 3\]/,
    );
  });

  it("names a missing file", () => {
    const file = path.join(dir, "does-not-exist");
    expectGadgetError(() => readGadget(file), file, /no such file/);
  });
});
