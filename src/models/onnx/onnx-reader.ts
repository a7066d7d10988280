/**
 * Reads the initializers (named weight tensors) of an .onnx file: the part of onnx.proto that
 * engines other than ONNX Runtime need to evaluate a known architecture from a model file.
 * ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto: dims (1), data_type (2),
 * float_data (4), int64_data (7), name (8), raw_data (9). Unknown fields are skipped by wire type.
 */
import { OnnxDataType, type OnnxTensor } from "./onnx-model.js";

class ProtobufReader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.bytes.length || shift > 63n)
        throw new RangeError(`${this.what}: truncated varint`);
      const b = this.bytes[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }

  lengthDelimited(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.bytes.length) throw new RangeError(`${this.what}: truncated field`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  fixed32(): DataView {
    if (this.pos + 4 > this.bytes.length) throw new RangeError(`${this.what}: truncated field`);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.lengthDelimited();
    else if (wire === 5) this.pos += 4;
    else throw new RangeError(`${this.what}: unsupported protobuf wire type ${wire}`);
  }
}

/** Repeated int64 in either encoding (packed: wire type 2; unpacked: one varint per value). */
function readInts(r: ProtobufReader, wire: number, into: bigint[]): void {
  if (wire === 0) {
    into.push(BigInt.asIntN(64, r.varint()));
    return;
  }
  const packed = new ProtobufReader(r.lengthDelimited(), "packed int64");
  while (!packed.done) into.push(BigInt.asIntN(64, packed.varint()));
}

function readTensor(bytes: Uint8Array): OnnxTensor {
  const r = new ProtobufReader(bytes, "ONNX tensor");
  const dims: bigint[] = [];
  const floats: number[] = [];
  const int64s: bigint[] = [];
  let dataType = 0;
  let name = "";
  let raw: Uint8Array | null = null;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) readInts(r, wire, dims);
    else if (field === 2 && wire === 0) dataType = Number(r.varint());
    else if (field === 4 && wire === 5) floats.push(r.fixed32().getFloat32(0, true));
    else if (field === 4 && wire === 2) {
      const b = r.lengthDelimited();
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 4 <= b.length; i += 4) floats.push(v.getFloat32(i, true));
    } else if (field === 7) readInts(r, wire, int64s);
    else if (field === 8 && wire === 2) name = new TextDecoder().decode(r.lengthDelimited());
    else if (field === 9 && wire === 2) raw = r.lengthDelimited();
    else r.skip(wire);
  }
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array | BigInt64Array;
  if (dataType === OnnxDataType.FLOAT) {
    if (raw) {
      // Copy (new Uint8Array, not slice: Buffer's slice is a view): raw_data need not be 4-byte
      // aligned within the file. Little-endian, as ONNX says.
      const copy = new Uint8Array(raw);
      data = new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
    } else data = Float32Array.from(floats);
  } else if (dataType === OnnxDataType.INT64) {
    if (raw) {
      const copy = new Uint8Array(raw);
      data = new BigInt64Array(copy.buffer, 0, copy.byteLength >> 3);
    } else data = BigInt64Array.from(int64s);
  } else throw new RangeError(`ONNX initializer ${name}: data type ${dataType} is not float32 or int64`);
  if (data.length !== count)
    throw new RangeError(`ONNX initializer ${name}: dims (${shape.join(", ")}) but ${data.length} values`);
  return { name, dims: shape, data };
}

/** Every initializer of the model's graph, in file order. */
export function readOnnxInitializers(bytes: Uint8Array): OnnxTensor[] {
  const model = new ProtobufReader(bytes, "ONNX model");
  const out: OnnxTensor[] = [];
  while (!model.done) {
    const { field, wire } = model.tag();
    if (field !== 7 || wire !== 2) {
      model.skip(wire);
      continue;
    }
    const graph = new ProtobufReader(model.lengthDelimited(), "ONNX graph");
    while (!graph.done) {
      const g = graph.tag();
      if (g.field === 5 && g.wire === 2) out.push(readTensor(graph.lengthDelimited()));
      else graph.skip(g.wire);
    }
  }
  return out;
}
