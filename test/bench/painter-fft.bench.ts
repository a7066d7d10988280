/**
 * FFT-convolution painter (src/models/painter/painter-fft.ts) next to ONNX Runtime on one
 * thread, same random weights and patch: output voxels per second per patch, with the load
 * averages (the machine is shared). Patches are 2·(M − 8) + 8 on a side for FFT grids of side M,
 * so sub-patches tile them exactly.
 *   npx vite-node test/bench/painter-fft.bench.ts [M,M,...]   (default 48,64,72)
 * Not a test: nothing here asserts on time. Prints one JSON line per measurement.
 */
import os from "node:os";
import * as ort from "onnxruntime-node";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { buildPainterOnnx, randomPainterWeights } from "../../src/models/painter/painter-onnx.js";
import { FftPainter, subPatchPlan } from "../../src/models/painter/painter-fft.js";
import { uniformStream } from "../../src/models/weight-init.js";

const arch = painterArchitecture(1);
const weights = randomPainterWeights(arch, 1);
const grids = (process.argv[2] ?? "48,64,72").split(",").map(Number);

function patch(side: number): Float32Array {
  const u = uniformStream(side, "bench");
  return Float32Array.from({ length: side ** 3 }, () => 2 * u());
}

for (const m of grids) {
  const core = 2 * (m - 2 * arch.padding);
  const side = core + 2 * arch.padding;
  const x = patch(side);
  const t0 = performance.now();
  const painter = new FftPainter(arch, weights, { maxFftSide: m });
  painter.paint(x, side); // first call: kernel spectra
  const setup = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  painter.paint(x, side);
  const s = (performance.now() - t1) / 1000;
  painter.dispose();
  const line = {
    engine: "fft",
    fftSide: m,
    plan: subPatchPlan(core, arch.padding, m),
    patchSide: side,
    setupSeconds: setup,
    seconds: s,
    outputVoxelsPerSecond: core ** 3 / s,
    rssMB: process.memoryUsage().rss / 1e6,
    loadavg: os.loadavg(),
  };
  console.log(JSON.stringify(line));
  const session = await ort.InferenceSession.create(buildPainterOnnx(arch, weights), {
    intraOpNumThreads: 1,
  });
  const feed = { density: new ort.Tensor("float32", x, [1, 1, side, side, side]) };
  await session.run(feed);
  const t2 = performance.now();
  await session.run(feed);
  const so = (performance.now() - t2) / 1000;
  await session.release();
  console.log(
    JSON.stringify({
      engine: "onnxruntime",
      patchSide: side,
      seconds: so,
      outputVoxelsPerSecond: core ** 3 / so,
      loadavg: os.loadavg(),
    }),
  );
}
