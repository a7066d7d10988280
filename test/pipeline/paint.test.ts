import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { writeRandomPainter } from "./painter-fixture.js";
import { arrayGridSource } from "../../src/io/grid-reader.js";
import { loadModel, writeModelWithCard } from "../../src/io/model-file.js";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { encodeOnnxModel } from "../../src/models/onnx/onnx-model.js";
import type { ModelCard } from "../../src/models/model-card.js";
import {
  manifestPathFor,
  paintToMemory,
  paintToNpy,
  partialPathsFor,
  type PaintSettings,
} from "../../src/pipeline/paint-run.js";
import { RunCancelledError } from "../../src/pipeline/runner.js";

const cpu = { kind: "cpu" as const, ids: [0] };
let dir: string;
let painter: { path: string; card: ModelCard };

// Seed 2 gives a random painter whose ReLU output is not identically zero (checked below).
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-paint-"));
  const m = writeRandomPainter(dir, { seed: 2 });
  painter = { path: m.path, card: (await loadModel(m.path)).card };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function field(n: number, seed = 0): Float32Array {
  return Float32Array.from(
    { length: n ** 3 },
    (_, i) => 0.6 * Math.sin(i * 0.37 + seed) * Math.cos(i * 0.011),
  );
}

function settings(over: Partial<PaintSettings> = {}): PaintSettings {
  return {
    modelPath: painter.path,
    card: painter.card,
    tile: 7,
    boundary: "periodic",
    tilesPerBatch: 2,
    workers: 1,
    device: cpu,
    inputOffset: 1,
    ...over,
  };
}

describe("painting", () => {
  it("tiled painting equals the model applied once to the whole periodically padded box", async () => {
    const n = 20;
    const p = painter.card.padding;
    const data = field(n);
    const tiled = await paintToMemory(arrayGridSource(data, n), settings({ tile: 7, workers: 2 }));
    const s = n + 2 * p;
    const padded = new Float32Array(s ** 3);
    const wrap = (i: number) => (((i - p) % n) + n) % n;
    for (let x = 0; x < s; x++)
      for (let y = 0; y < s; y++)
        for (let z = 0; z < s; z++)
          padded[(x * s + y) * s + z] = 1 + data[(wrap(x) * n + wrap(y)) * n + wrap(z)];
    const session = await ort.InferenceSession.create(painter.path);
    const whole = (await session.run({ density: new ort.Tensor("float32", padded, [1, 1, s, s, s]) })).halos
      .data as Float32Array;
    await session.release();
    expect(whole.length).toBe(n ** 3);
    let nonzero = 0;
    let scale = 0;
    for (const v of whole) {
      if (v > 0) nonzero++;
      scale = Math.max(scale, Math.abs(v));
    }
    expect(nonzero).toBeGreaterThan(n ** 3 / 2);
    let maxRel = 0;
    for (let i = 0; i < whole.length; i++) maxRel = Math.max(maxRel, Math.abs(tiled[i] - whole[i]) / scale);
    expect(maxRel).toBeLessThanOrEqual(1e-5);
  });

  it("gives identical outputs with 1, 2 and 4 workers", async () => {
    const n = 17;
    const data = field(n, 1);
    const outs: Buffer[] = [];
    for (const workers of [1, 2, 4])
      outs.push(
        Buffer.from(
          (await paintToMemory(arrayGridSource(data, n), settings({ tile: 5, tilesPerBatch: 1, workers })))
            .buffer,
        ),
      );
    expect(outs[1].equals(outs[0])).toBe(true);
    expect(outs[2].equals(outs[0])).toBe(true);
  });

  it("an identity ONNX model (crop) through the pool reproduces the grid bitwise with zero and reflect boundaries", async () => {
    const p = 2;
    const bytes = encodeOnnxModel({
      producerName: "test",
      producerVersion: "0",
      graph: {
        name: "crop",
        nodes: [{ opType: "Slice", inputs: ["x", "s", "e", "a"], outputs: ["y"] }],
        initializers: [
          { name: "s", dims: [3], data: BigInt64Array.from([2n, 2n, 2n]) },
          { name: "e", dims: [3], data: BigInt64Array.from([-2n, -2n, -2n]) },
          { name: "a", dims: [3], data: BigInt64Array.from([2n, 3n, 4n]) },
        ],
        inputs: [{ name: "x", dims: ["b", 1, "s", "s", "s"] }],
        outputs: [{ name: "y", dims: ["b", 1, "c", "c", "c"] }],
      },
    });
    const file = path.join(dir, "crop.onnx");
    const card = writeModelWithCard(file, bytes, {
      name: "crop",
      architecture: "crop",
      inputName: "x",
      outputName: "y",
      inputChannels: 1,
      outputChannels: 1,
      padding: p,
      voxelSize: 1,
      inputNormalisation: "none",
      trained: false,
    });
    await loadModel(file);
    const n = 13;
    const data = field(n, 2);
    for (const boundary of ["zero", "reflect"] as const) {
      const out = await paintToMemory(arrayGridSource(data, n), {
        modelPath: file,
        card,
        tile: 5,
        boundary,
        tilesPerBatch: 3,
        workers: 2,
        device: cpu,
        inputOffset: 0,
      });
      expect(Buffer.from(out.buffer).equals(Buffer.from(data.buffer))).toBe(true);
    }
  });

  it("an interrupted on-disk run resumes to output identical to an uninterrupted one", async () => {
    const n = 16;
    const data = field(n, 3);
    const config = { test: "resume", n };
    const inputs = { input: "x" };
    const full = path.join(dir, "full.npy");
    const r0 = await paintToNpy(
      arrayGridSource(data, n),
      settings({ tile: 5, tilesPerBatch: 1 }),
      full,
      config,
      inputs,
    );
    expect(r0.units).toBe(64);
    const resumed = path.join(dir, "resumed.npy");
    const controller = new AbortController();
    await expect(
      paintToNpy(
        arrayGridSource(data, n),
        settings({
          tile: 5,
          tilesPerBatch: 1,
          signal: controller.signal,
          onUnit: (_u, done) => done === 10 && controller.abort("test"),
        }),
        resumed,
        config,
        inputs,
      ),
    ).rejects.toBeInstanceOf(RunCancelledError);
    expect(fs.existsSync(resumed)).toBe(false);
    expect(fs.existsSync(partialPathsFor(resumed).data)).toBe(true);
    const journalLines = fs.readFileSync(partialPathsFor(resumed).journal, "utf8").trim().split("\n");
    expect(journalLines.length - 1).toBeGreaterThanOrEqual(10); // in-flight units finish and are recorded
    let paintedAfterResume = 0;
    const r1 = await paintToNpy(
      arrayGridSource(data, n),
      settings({ tile: 5, tilesPerBatch: 1, workers: 4, onUnit: () => paintedAfterResume++ }),
      resumed,
      config,
      inputs,
    );
    expect(r1.resumedUnits).toBe(journalLines.length - 1);
    expect(paintedAfterResume).toBe(64 - r1.resumedUnits);
    expect(fs.readFileSync(resumed).equals(fs.readFileSync(full))).toBe(true);
    expect(fs.existsSync(partialPathsFor(resumed).data)).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(manifestPathFor(resumed), "utf8"));
    expect(manifest.resumes).toBe(1);
    expect(manifest.units).toEqual(JSON.parse(fs.readFileSync(manifestPathFor(full), "utf8")).units);
    const mem = await paintToMemory(arrayGridSource(data, n), settings({ tile: 5, tilesPerBatch: 1 }));
    expect(Buffer.from(readNpyFloat32(full).data.buffer).equals(Buffer.from(mem.buffer))).toBe(true);
  });

  it("restarts instead of resuming when the configuration changed", async () => {
    const n = 8;
    const data = field(n, 4);
    const out = path.join(dir, "changed.npy");
    const controller = new AbortController();
    await expect(
      paintToNpy(
        arrayGridSource(data, n),
        settings({ tile: 4, tilesPerBatch: 1, signal: controller.signal, onUnit: () => controller.abort() }),
        out,
        { v: 1 },
        {},
      ),
    ).rejects.toBeInstanceOf(RunCancelledError);
    const r = await paintToNpy(
      arrayGridSource(data, n),
      settings({ tile: 4, tilesPerBatch: 1 }),
      out,
      { v: 2 },
      {},
    );
    expect(r.resumedUnits).toBe(0);
    const mem = await paintToMemory(arrayGridSource(data, n), settings({ tile: 4, tilesPerBatch: 1 }));
    expect(Buffer.from(readNpyFloat32(out).data.buffer).equals(Buffer.from(mem.buffer))).toBe(true);
  });
});
