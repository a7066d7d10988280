/**
 * Painting benchmark: the halo-painter architecture (random weights) applied end to end from an
 * on-disk .npy to an on-disk .npy by the compiled `mocksmith paint`, each run in a fresh child
 * process so its wall time includes start-up, input scan, model load and output, and its peak
 * RSS (process.resourceUsage().maxRSS, worker threads included) is the run's own.
 *   - throughput, output voxels per second, for a 128³ box on 2 workers × 1 thread, for a few
 *     tile sizes (patches 58³ → 50³ as the peer's first patch, 72³ → 64³ as its box tiling and --tile auto),
 *     with both engines (--engine ort: ONNX Runtime; fft: FFT convolutions, at the default
 *     --max-fft-side and at 72, where a 72³ patch is one FFT grid);
 *   - peak RSS painting a 512³ (0.5 GB) box with each engine, and 1024³ (4 GB) with
 *     MOCKSMITH_BENCH_1024=1 (MOCKSMITH_BENCH_BIG_ENGINES=ort|fft: one engine for both).
 * Not a test: nothing here asserts on time.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import {
  buildPainterOnnx,
  PAINTER_INPUT,
  PAINTER_OUTPUT,
  randomPainterWeights,
} from "../../src/models/painter/painter-onnx.js";
import { writeModelWithCard } from "../../src/io/model-file.js";
import { NpyVolumeWriter } from "../../src/io/npy-volume-writer.js";
import { uniformStream } from "../../src/models/weight-init.js";

const cli = path.resolve("dist/src/pipeline/cli/main.js");

function writeModel(dir: string): string {
  const arch = painterArchitecture(1);
  const file = path.join(dir, "painter.onnx");
  writeModelWithCard(file, buildPainterOnnx(arch, randomPainterWeights(arch, 2)), {
    name: "halo-painter-random",
    architecture: arch.name,
    inputName: PAINTER_INPUT,
    outputName: PAINTER_OUTPUT,
    inputChannels: 1,
    outputChannels: 1,
    padding: arch.padding,
    voxelSize: 1,
    inputNormalisation: "rho-over-mean",
    trained: false,
  });
  return file;
}

/** A side³ grid of δ ~ U(−0.5, 0.5), written plane by plane (never whole in memory). */
function writeInput(file: string, side: number): void {
  const w = NpyVolumeWriter.create(file, side, 1);
  const u = uniformStream(7, "bench-input");
  const row = new Float32Array(side);
  for (let x = 0; x < side; x++)
    for (let y = 0; y < side; y++) {
      for (let z = 0; z < side; z++) row[z] = u() - 0.5;
      w.writeRun(0, x, y, 0, row);
    }
  w.close();
}

interface PaintRun {
  wall_s: number;
  voxels_per_s: number;
  peak_rss_mb: number;
}

function paintOnce(
  input: string,
  side: number,
  model: string,
  tile: number,
  workers: number,
  out: string,
  engine: string[],
): PaintRun {
  const args = [
    "paint",
    "--input",
    input,
    "--box",
    String(side),
    "--model",
    model,
    "--tile",
    String(tile),
    "--workers",
    String(workers),
    "-o",
    out,
    ...engine,
  ];
  const script = `import { main } from ${JSON.stringify(pathToFileURL(cli).href)};
const t0 = performance.now();
const code = await main(["node", "mocksmith", ...${JSON.stringify(args)}]);
process.stdout.write(JSON.stringify({ code, wall_s: (performance.now() - t0) / 1000, maxRSS_kb: process.resourceUsage().maxRSS }) + "\\n");
process.exit(code);`;
  const t0 = performance.now();
  const stdout = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const processWall = (performance.now() - t0) / 1000;
  const r = JSON.parse(stdout.trim().split("\n").pop() as string) as { wall_s: number; maxRSS_kb: number };
  for (const f of [out, out.replace(/\.npy$/, ".manifest.json")]) fs.rmSync(f, { force: true });
  return { wall_s: processWall, voxels_per_s: side ** 3 / processWall, peak_rss_mb: r.maxRSS_kb / 1024 };
}

export async function benchPaint(): Promise<Record<string, number>> {
  if (!fs.existsSync(cli)) throw new Error(`${cli} not found: build first (npx tsc -p tsconfig.build.json)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-bench-paint-"));
  const result: Record<string, number> = {};
  try {
    const model = writeModel(dir);
    const small = path.join(dir, "box128.npy");
    writeInput(small, 128);
    const runs: Array<[name: string, tile: number, engine: string[]]> = [
      ["ort", 50, ["--engine", "ort"]],
      ["ort", 64, ["--engine", "ort"]],
      ["ort", 40, ["--engine", "ort"]],
      ["fft", 64, ["--engine", "fft"]],
      ["fft72", 64, ["--engine", "fft", "--max-fft-side", "72"]],
      ["fft", 32, ["--engine", "fft"]],
    ];
    for (const [name, tile, engine] of runs) {
      const r = paintOnce(small, 128, model, tile, 2, path.join(dir, "out128.npy"), engine);
      result[`box128_tile${tile}_${name}_voxels_per_s`] = r.voxels_per_s;
      result[`box128_tile${tile}_${name}_wall_s`] = r.wall_s;
      result[`box128_tile${tile}_${name}_peak_rss_mb`] = r.peak_rss_mb;
    }
    // MOCKSMITH_BENCH_512=0 skips the on-disk 512³ box (minutes on 2 cores); MOCKSMITH_BENCH_1024=1 adds 1024³ (4 GB).
    const sides = [
      ...(process.env.MOCKSMITH_BENCH_512 === "0" ? [] : [512]),
      ...(process.env.MOCKSMITH_BENCH_1024 === "1" ? [1024] : []),
    ];
    for (const side of sides) {
      const big = path.join(dir, `box${side}.npy`);
      writeInput(big, side);
      result[`box${side}_input_mb`] = (side ** 3 * 4) / 2 ** 20;
      // MOCKSMITH_BENCH_BIG_ENGINES=ort (or fft) paints the big boxes with one engine only.
      const engines = (process.env.MOCKSMITH_BENCH_BIG_ENGINES ?? "ort,fft").split(",");
      const bigRuns = (
        [
          // 64: what --tile auto picks for these sides (72³ patches, no overhang; the peer's tiling).
          ["ort", 64, ["--engine", "ort"]],
          ["fft", 64, ["--engine", "fft"]],
        ] as Array<[name: string, tile: number, engine: string[]]>
      ).filter(([name]) => engines.includes(name));
      for (const [name, tile, engine] of bigRuns) {
        const r = paintOnce(big, side, model, tile, 2, path.join(dir, `out${side}.npy`), engine);
        result[`box${side}_tile${tile}_${name}_peak_rss_mb`] = r.peak_rss_mb;
        result[`box${side}_tile${tile}_${name}_voxels_per_s`] = r.voxels_per_s;
        result[`box${side}_tile${tile}_${name}_wall_s`] = r.wall_s;
      }
      fs.rmSync(big, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  benchPaint().then((r) => process.stdout.write(JSON.stringify(r) + "\n"));
}
