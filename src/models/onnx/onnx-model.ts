/**
 * A plain-data description of an ONNX model and its encoder to the ONNX protobuf (onnx.proto,
 * IR version 8, default opset 17). Only what our networks need: float32/int64 tensors stored as
 * raw little-endian bytes, int/float/ints/string attributes, and tensor value infos whose
 * dimensions are numbers or symbolic names.
 */
import { ProtobufWriter } from "./protobuf-writer.js";

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType values. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;

export type OnnxAttribute =
  | { name: string; type: "int"; value: number }
  | { name: string; type: "float"; value: number }
  | { name: string; type: "ints"; value: readonly number[] }
  | { name: string; type: "string"; value: string };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A float32 tensor value; a string dimension is symbolic (e.g. "batch"). */
export interface OnnxValueInfo {
  name: string;
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  producerName: string;
  producerVersion: string;
  docString?: string;
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

function writeAttribute(w: ProtobufWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  switch (a.type) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "ints":
      w.ints(8, a.value);
      break;
  }
  w.int(20, ATTRIBUTE_TYPE[a.type]);
}

function writeNode(w: ProtobufWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (aw) => writeAttribute(aw, a));
}

function writeTensor(w: ProtobufWriter, t: OnnxTensor): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length)
    throw new RangeError(
      `tensor ${t.name}: dims (${t.dims.join(", ")}) hold ${count} values, got ${t.data.length}`,
    );
  w.ints(1, t.dims);
  w.int(2, t.data instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT64);
  w.string(8, t.name);
  // raw_data is little-endian; every platform we run on is little-endian, as ONNX Runtime requires.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: ProtobufWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxDataType.FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims)
          shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

/** Serialises a model to the bytes of an .onnx file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtobufWriter();
  w.int(1, ONNX_IR_VERSION);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => {
    for (const n of model.graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, model.graph.name);
    for (const t of model.graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of model.graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of model.graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  w.message(8, (op) => {
    op.string(1, "");
    op.int(2, ONNX_OPSET);
  });
  return w.finish();
}
