import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeRandomPainter } from "./painter-fixture.js";
import { main } from "../../src/pipeline/cli/main.js";
import { float32NpyHeader, readNpyFloat32, writeNpyFloat32 } from "../../src/io/npy.js";
import { makeGridMetadata, writeGridMetadata } from "../../src/io/grid-metadata.js";
import { cardPathFor, loadModel } from "../../src/io/model-file.js";
import { arrayGridSource } from "../../src/io/grid-reader.js";
import { choosePaintEngine } from "../../src/pipeline/paint-engine.js";
import { paintToMemory } from "../../src/pipeline/paint-run.js";
import { autoTileSide } from "../../src/stages/tile-size.js";

let dir: string;
let model: string;
const n = 12;
const box = 24; // voxel 2 Mpc/h, the fixture card's voxel size

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-paint-cli-"));
  model = writeRandomPainter(dir, { seed: 2 }).path;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function grid(name: string, side = n, fill: (i: number) => number = (i) => 0.5 * Math.sin(i * 0.3)): string {
  const file = path.join(dir, name);
  writeNpyFloat32(
    file,
    Float32Array.from({ length: side ** 3 }, (_, i) => fill(i)),
    [side, side, side],
  );
  return file;
}

async function paint(args: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const code = await main(["node", "mocksmith", "paint", ...args]);
    return { code, stderr: lines.join("") };
  } finally {
    spy.mockRestore();
  }
}

function leftovers(output: string): string[] {
  const base = path.basename(output).replace(/\.npy$/, "");
  return fs.readdirSync(path.dirname(output)).filter((f) => f.includes(base));
}

describe("mocksmith paint", () => {
  it("paints with the bundled trained painter (--model default) on a 4 Mpc/h grid", async () => {
    // A plane wave along x (one period across the box): over- and underdense halves.
    const input = grid("default-in.npy", 16, (i) => 0.8 * Math.sin((2 * Math.PI * Math.floor(i / 256)) / 16));
    const out = path.join(dir, "default-out.npy");
    const r = await paint(["--input", input, "--box", "64", "--model", "default", "--tile", "8", "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    const painted = readNpyFloat32(out);
    expect(painted.shape).toEqual([16, 16, 16]);
    // Expected halo counts: non-negative, not all zero, and more where the density is higher.
    expect(painted.data.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
    const delta = readNpyFloat32(input).data;
    let dense = 0;
    let sparse = 0;
    for (let i = 0; i < delta.length; i++) {
      if (delta[i] > 0) dense += painted.data[i];
      else sparse += painted.data[i];
    }
    expect(dense).toBeGreaterThan(sparse);
  });

  it("paints a box with a sidecar, writing the output, its sidecar and the run manifest", async () => {
    const input = grid("box.npy");
    writeGridMetadata(
      input,
      makeGridMetadata({ kind: "delta", shape: [n, n, n], boxSize: box, redshift: 0.5, periodic: true }),
    );
    const out = path.join(dir, "halos.npy");
    const r = await paint(["--input", input, "--model", model, "--tile", "5", "--workers", "2", "-o", out]);
    expect(r.stderr).toContain("painted");
    expect(r.code).toBe(0);
    const { card } = await loadModel(model);
    const cpu = { kind: "cpu" as const, ids: [0] };
    // --engine auto paints the halo painter with the FFT engine.
    const expected = await paintToMemory(arrayGridSource(readNpyFloat32(input).data, n), {
      modelPath: model,
      card,
      tile: 5,
      boundary: "periodic",
      tilesPerBatch: 1,
      workers: 1,
      device: cpu,
      inputOffset: 1,
      engine: choosePaintEngine("auto", card, model, cpu),
    });
    expect(Buffer.from(readNpyFloat32(out).data.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "halos.json"), "utf8")).kind).toBe("counts");
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "halos.manifest.json"), "utf8"));
    expect(manifest.units.length).toBe(27);
    expect(manifest.inputs.model).toBe(card.sha256);
    expect(leftovers(out).sort()).toEqual(["halos.json", "halos.manifest.json", "halos.npy"]);
  });

  it("without --tile paints with the auto tile side, identical to giving that side", async () => {
    const input = grid("auto-in.npy");
    const { card } = await loadModel(model);
    const t = autoTileSide(n, card.padding);
    const auto = path.join(dir, "auto-out.npy");
    const given = path.join(dir, "given-out.npy");
    const base = ["--input", input, "--box", String(box), "--model", model];
    const a = await paint([...base, "-o", auto]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain(`units of ${t}³-voxel tiles`);
    const g = await paint([...base, "--tile", String(t), "-o", given]);
    expect(g.code, g.stderr).toBe(0);
    const bytes = (f: string) => Buffer.from(readNpyFloat32(f).data.buffer);
    expect(bytes(auto).equals(bytes(given))).toBe(true);
    const bad = await paint([...base, "--tile", "big", "-o", path.join(dir, "x.npy")]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--tile/);
  });

  it("--engine ort paints with ONNX Runtime", async () => {
    const input = grid("box-ort.npy");
    const sub = fs.mkdtempSync(path.join(dir, "ort-"));
    const out = path.join(sub, "halos.npy");
    const args = ["--input", input, "--box", String(box), "--model", model, "--tile", "5"];
    const r = await paint([...args, "--workers", "2", "--engine", "ort", "-o", out]);
    expect(r.stderr).toContain("ort worker(s)");
    expect(r.code).toBe(0);
    const { card } = await loadModel(model);
    const expected = await paintToMemory(arrayGridSource(readNpyFloat32(input).data, n), {
      modelPath: model,
      card,
      tile: 5,
      boundary: "periodic",
      tilesPerBatch: 1,
      workers: 1,
      device: { kind: "cpu", ids: [0] },
      inputOffset: 1,
    });
    expect(Buffer.from(readNpyFloat32(out).data.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it("--device cuda without a CUDA provider fails once with the provider's reason and leaves nothing", async () => {
    const input = grid("box-cuda.npy");
    const sub = fs.mkdtempSync(path.join(dir, "cuda-"));
    const out = path.join(sub, "halos.npy");
    const args = ["--input", input, "--box", String(box), "--model", model, "--tile", "5", "--engine", "ort"];
    const r = await paint([...args, "--workers", "1", "--device", "cuda:0", "-o", out]);
    if (r.code === 0) return; // a machine with a CUDA GPU and its libraries: parity is gpu-devices.test.ts's
    // A provider that does not start is not retried: one line, without "failed 3 times".
    expect(r.stderr.match(/mocksmith: error:/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/error: device cuda: ONNX Runtime could not start its CUDA provider for /);
    expect(r.stderr).not.toMatch(/failed \d+ times|\[permanent\]/);
    // Nothing under the final name; the .partial and its journal stay for --resume, as after a kill.
    expect(fs.existsSync(out)).toBe(false);
  });

  const badCases: Array<{ name: string; setup: () => string[]; message: RegExp }> = [
    {
      name: "a non-cubic grid",
      setup: () => {
        const f = path.join(dir, "noncubic.npy");
        writeNpyFloat32(f, new Float32Array(12 * 12 * 10), [12, 12, 10]);
        return ["--input", f, "--box", "24", "--model", model];
      },
      message: /noncubic\.npy: expected a cubic grid/,
    },
    {
      name: "a truncated .npy",
      setup: () => {
        const f = grid("truncated.npy");
        fs.truncateSync(f, fs.statSync(f).size - 100);
        return ["--input", f, "--box", "24", "--model", model];
      },
      message: /truncated\.npy: truncated/,
    },
    {
      name: "an integer dtype",
      setup: () => {
        const f = path.join(dir, "ints.npy");
        const hdr = float32NpyHeader([n, n, n]).toString("latin1").replace("'<f4'", "'<i4'");
        fs.writeFileSync(f, Buffer.concat([Buffer.from(hdr, "latin1"), Buffer.alloc(4 * n ** 3)]));
        return ["--input", f, "--box", "24", "--model", model];
      },
      message: /ints\.npy: dtype '<i4'/,
    },
    {
      name: "a NaN in the input",
      setup: () => [
        "--input",
        grid("nan.npy", n, (i) => (i === 1000 ? NaN : 0)),
        "--box",
        "24",
        "--model",
        model,
      ],
      message: /nan\.npy: non-finite value \(NaN\) at \[6, 11, 4\]/,
    },
    {
      name: "an Inf in the input",
      setup: () => [
        "--input",
        grid("inf.npy", n, (i) => (i === 5 ? Infinity : 0)),
        "--box",
        "24",
        "--model",
        model,
      ],
      message: /inf\.npy: non-finite value \(Infinity\)/,
    },
    {
      name: "a card whose padding disagrees with the graph",
      setup: () => {
        const m = writeRandomPainter(dir, { seed: 2, name: "badpad" });
        const card = JSON.parse(fs.readFileSync(cardPathFor(m.path), "utf8"));
        fs.writeFileSync(cardPathFor(m.path), JSON.stringify({ ...card, padding: 3 }));
        return ["--input", grid("ok1.npy"), "--box", "24", "--model", m.path];
      },
      message: /badpad\.onnx: card and graph disagree/,
    },
    {
      name: "a card whose output channels disagree with the graph",
      setup: () => {
        const m = writeRandomPainter(dir, { seed: 2, name: "badch" });
        const card = JSON.parse(fs.readFileSync(cardPathFor(m.path), "utf8"));
        fs.writeFileSync(cardPathFor(m.path), JSON.stringify({ ...card, outputChannels: 4 }));
        return ["--input", grid("ok2.npy"), "--box", "24", "--model", m.path];
      },
      message: /badch\.onnx: card says 4 output channel/,
    },
    {
      name: "a model file that is not ONNX",
      setup: () => {
        const m = writeRandomPainter(dir, { seed: 2, name: "notonnx" });
        const junk = Buffer.from("this is not a protobuf at all, just text\n".repeat(50));
        fs.writeFileSync(m.path, junk);
        return ["--input", grid("ok3.npy"), "--box", "24", "--model", m.path];
      },
      message: /notonnx\.onnx: not a valid ONNX model/,
    },
    {
      name: "a grid whose voxel size differs from the card's",
      setup: () => ["--input", grid("coarse.npy"), "--box", "100", "--model", model],
      message: /coarse\.npy: voxel size 8\.33333 Mpc\/h .* differs from the 2 Mpc\/h/,
    },
    {
      name: "--model default on a grid of another voxel size",
      setup: () => ["--input", grid("ok4.npy"), "--box", "24", "--model", "default"],
      message: /ok4\.npy: voxel size 2(\.0+)? Mpc\/h .* differs from the 4 Mpc\/h/,
    },
  ];

  for (const c of badCases) {
    it(`refuses ${c.name} with one clear error and leaves nothing under the output name`, async () => {
      const out = path.join(dir, `out-${c.name.replace(/\W+/g, "-")}.npy`);
      const r = await paint([...c.setup(), "--tile", "4", "-o", out]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(c.message);
      expect(
        r.stderr
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("mocksmith: error")).length,
      ).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(leftovers(out)).toEqual([]);
    });
  }
});
