import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { encodeOnnxModel } from "../../src/models/onnx/onnx-model.js";
import { ProtobufWriter } from "../../src/models/onnx/protobuf-writer.js";
import { convLayers, painterArchitecture, parameterCount } from "../../src/models/painter/architecture.js";
import { buildPainterOnnx, randomPainterWeights } from "../../src/models/painter/painter-onnx.js";

describe("protobuf writer", () => {
  it("encodes varints, negative int64 and floats as the wire format specifies", () => {
    // Field 1 varint 150 → 08 96 01 (the protobuf documentation's example).
    expect([...new ProtobufWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    // −1 as int64 is ten bytes: ff ×9, 01.
    expect([...new ProtobufWriter().int(2, -1).finish()]).toEqual([0x10, ...Array(9).fill(0xff), 0x01]);
    // Field 2 fixed32 float 1.0 → 15 00 00 80 3f.
    expect([...new ProtobufWriter().float(2, 1).finish()]).toEqual([0x15, 0, 0, 0x80, 0x3f]);
    expect([...new ProtobufWriter().string(3, "ab").finish()]).toEqual([0x1a, 2, 0x61, 0x62]);
  });
});

describe("ONNX model encoder", () => {
  it("builds a Conv + LeakyRelu graph that ONNX Runtime runs as defined", async () => {
    // 1 → 1 channel, 3³ kernel, valid padding, on a 4³ input: output 2³, checked against a direct sum.
    const w = Float32Array.from({ length: 27 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
    const bytes = encodeOnnxModel({
      producerName: "test",
      producerVersion: "0",
      graph: {
        name: "conv",
        nodes: [
          {
            opType: "Conv",
            inputs: ["x", "w", "b"],
            outputs: ["c"],
            attributes: [{ name: "kernel_shape", type: "ints", value: [3, 3, 3] }],
          },
          {
            opType: "LeakyRelu",
            inputs: ["c"],
            outputs: ["y"],
            attributes: [{ name: "alpha", type: "float", value: 0.1 }],
          },
        ],
        initializers: [
          { name: "w", dims: [1, 1, 3, 3, 3], data: w },
          { name: "b", dims: [1], data: Float32Array.of(-0.25) },
        ],
        inputs: [{ name: "x", dims: ["batch", 1, 4, 4, 4] }],
        outputs: [{ name: "y", dims: ["batch", 1, 2, 2, 2] }],
      },
    });
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i));
    const session = await ort.InferenceSession.create(bytes);
    const y = (await session.run({ x: new ort.Tensor("float32", x, [1, 1, 4, 4, 4]) })).y
      .data as Float32Array;
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 2; c++) {
          let s = -0.25;
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++)
              for (let k = 0; k < 3; k++) s += w[(i * 3 + j) * 3 + k] * x[((a + i) * 4 + b + j) * 4 + c + k];
          const expected = s > 0 ? s : 0.1 * s;
          expect(y[(a * 2 + b) * 2 + c]).toBeCloseTo(expected, 5);
        }
    await session.release();
  });
});

describe("halo painter", () => {
  it("has the layers and 31,921 parameters of the PyTorch reference peer", () => {
    const arch = painterArchitecture();
    expect(parameterCount(arch)).toBe(31921);
    expect(arch.padding).toBe(4);
    // The peer's layer table (painter_torch.py layer_table) for the first block and the head.
    const table = convLayers(arch).map((c) => `${c.name}:k${c.kernel}:${c.inChannels}->${c.outChannels}`);
    expect(table.slice(0, 7)).toEqual([
      "inc1.b1:k1:1->10",
      "inc1.b3r:k1:1->10",
      "inc1.b3:k3:10->10",
      "inc1.b5r:k1:1->10",
      "inc1.b5:k5:10->10",
      "inc1.merge:k1:30->10",
      "inc1.res:k1:1->10",
    ]);
    expect(table.slice(-4)).toEqual(["h1:k1:10->10", "h2:k1:10->10", "h3:k1:10->10", "h4:k1:10->1"]);
    expect(parameterCount(painterArchitecture(4))).toBe(31921 + 3 * 11);
  });

  it("maps a (B, 1, S, S, S) patch to (B, C, S−8, S−8, S−8)", async () => {
    for (const channels of [1, 4]) {
      const arch = painterArchitecture(channels);
      const session = await ort.InferenceSession.create(
        buildPainterOnnx(arch, randomPainterWeights(arch, 3)),
      );
      const s = 12;
      const out = await session.run({
        density: new ort.Tensor("float32", new Float32Array(2 * s ** 3).fill(1), [2, 1, s, s, s]),
      });
      expect(out.halos.dims).toEqual([2, channels, 4, 4, 4]);
      await session.release();
    }
  });
});
