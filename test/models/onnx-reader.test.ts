/** The ONNX initializer reader against the writer (round trip) and the painter's own files. */
import { expect, test } from "vitest";
import { encodeOnnxModel, type OnnxTensor } from "../../src/models/onnx/onnx-model.js";
import { readOnnxInitializers } from "../../src/models/onnx/onnx-reader.js";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { buildPainterOnnx, randomPainterWeights } from "../../src/models/painter/painter-onnx.js";
import { painterFromOnnx } from "../../src/models/painter/painter-onnx-weights.js";

test("initializers round-trip through the writer: names, dims, float32 and int64 values", () => {
  const tensors: OnnxTensor[] = [
    { name: "w", dims: [2, 3], data: Float32Array.from([1.5, -2, 3e-7, Math.PI, -0, 1e30]) },
    { name: "idx", dims: [3], data: BigInt64Array.from([-1n, 2n ** 40n, 0n]) },
    { name: "scalar", dims: [], data: Float32Array.from([7]) },
  ];
  const bytes = encodeOnnxModel({
    producerName: "test",
    producerVersion: "0",
    docString: "round trip",
    graph: {
      name: "g",
      nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"] }],
      initializers: tensors,
      inputs: [{ name: "x", dims: ["batch", 3] }],
      outputs: [{ name: "y", dims: ["batch", 3] }],
    },
  });
  // A Buffer at an odd offset of a larger one, as file reads give (Buffer's slice is a view).
  const file = Buffer.alloc(bytes.length + 3);
  file.set(bytes, 3);
  const got = readOnnxInitializers(file.subarray(3));
  expect(got.map((t) => t.name)).toEqual(["w", "idx", "scalar"]);
  for (let i = 0; i < tensors.length; i++) {
    expect(got[i].dims).toEqual(tensors[i].dims);
    expect(got[i].data).toEqual(tensors[i].data);
  }
});

test("a truncated file is an error, not a short tensor", () => {
  const arch = painterArchitecture(1);
  const bytes = buildPainterOnnx(arch, randomPainterWeights(arch, 3));
  expect(() => readOnnxInitializers(bytes.subarray(0, bytes.length - 300))).toThrow(/truncated/);
});

test("painter weights come back from its ONNX file exactly, with the filter count", () => {
  const arch = painterArchitecture(4, 6);
  const weights = randomPainterWeights(arch, 9);
  const got = painterFromOnnx(buildPainterOnnx(arch, weights), 4);
  expect(got.arch).toEqual(arch);
  expect([...got.weights.keys()]).toEqual([...weights.keys()]);
  for (const [name, w] of weights) {
    expect(got.weights.get(name)?.weight).toEqual(w.weight);
    expect(got.weights.get(name)?.bias).toEqual(w.bias);
  }
  expect(() => painterFromOnnx(buildPainterOnnx(arch, weights), 1)).toThrow(/h4/);
});
