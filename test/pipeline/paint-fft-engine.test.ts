/**
 * The FFT-convolution engine of `paint` against ONNX Runtime on a random-weight painter read
 * from its .onnx file, its independence of the worker count, and how --engine resolves.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomPainter } from "./painter-fixture.js";
import { arrayGridSource } from "../../src/io/grid-reader.js";
import { loadModel } from "../../src/io/model-file.js";
import type { ModelCard } from "../../src/models/model-card.js";
import { paintToMemory, type PaintSettings } from "../../src/pipeline/paint-run.js";
import { choosePaintEngine } from "../../src/pipeline/paint-engine.js";

const cpu = { kind: "cpu" as const, ids: [0] };
let dir: string;
let painter: { path: string; card: ModelCard };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-paint-fft-"));
  const m = writeRandomPainter(dir, { seed: 2 });
  painter = { path: m.path, card: (await loadModel(m.path)).card };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function field(n: number): Float32Array {
  return Float32Array.from({ length: n ** 3 }, (_, i) => 0.6 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
}

function settings(over: Partial<PaintSettings>): PaintSettings {
  return {
    modelPath: painter.path,
    card: painter.card,
    tile: 12,
    boundary: "periodic",
    tilesPerBatch: 2,
    workers: 1,
    device: cpu,
    inputOffset: 1,
    ...over,
  };
}

describe("the fft engine", () => {
  it("paints what ONNX Runtime paints (1e-5 of the output scale), identically for 1 and 2 workers", async () => {
    const n = 24;
    const src = arrayGridSource(field(n), n);
    // maxFftSide 16 forces sub-patches of the 20³ patches: the whole FFT path is exercised.
    const fft = choosePaintEngine("fft", painter.card, painter.path, cpu, 16);
    expect(fft.kind).toBe("fft");
    const ort = await paintToMemory(src, settings({ workers: 1 }));
    const one = await paintToMemory(src, settings({ engine: fft, workers: 1 }));
    const two = await paintToMemory(src, settings({ engine: fft, workers: 2 }));
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    let scale = 0;
    for (const v of ort) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < ort.length; i++) worst = Math.max(worst, Math.abs(one[i] - ort[i]));
    expect(worst).toBeLessThanOrEqual(1e-5 * scale);
  }, 60_000);

  it("auto takes fft for the halo painter on the cpu, ort elsewhere; fft refuses other models", () => {
    expect(choosePaintEngine("auto", painter.card, painter.path, cpu).kind).toBe("fft");
    expect(choosePaintEngine("ort", painter.card, painter.path, cpu).kind).toBe("ort");
    expect(choosePaintEngine("auto", painter.card, painter.path, { kind: "cuda", ids: [0] }).kind).toBe(
      "ort",
    );
    const other = { ...painter.card, architecture: "density-gan" };
    expect(choosePaintEngine("auto", other, painter.path, cpu).kind).toBe("ort");
    expect(() => choosePaintEngine("fft", other, painter.path, cpu)).toThrow(/halo painter only/);
  });
});
