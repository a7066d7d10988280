/**
 * GAN sampling throughput through a worker pool: exports an untrained generator of each preset
 * (DCGAN initialisation; speed does not depend on the weights) and times `sampleGan` (latent
 * draw, inference, inverse scaling, .npy writes) for N samples on the given engine.
 * Usage: node dist/test/bench/gan-sampling.bench.js [paper|reduced] [N] [batch] [workers] [ort|native]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeUntrainedGan } from "../gan-fixture.js";
import { loadTensorFlowEngine } from "../../src/models/kernels/tf-engine.js";
import { ganPreset, type GanPreset } from "../../src/models/gan/architecture.js";
import { loadGanModel } from "../../src/io/gan-model-file.js";
import { sampleGan } from "../../src/pipeline/gan-sampling.js";

const [
  preset = "reduced",
  n = "16",
  batch = "4",
  workers = String(os.availableParallelism()),
  engine = "ort",
] = process.argv.slice(2);
if (engine !== "ort" && engine !== "native")
  throw new RangeError(`engine must be ort or native, got ${engine}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gan-bench-"));
try {
  const { tf } = await loadTensorFlowEngine();
  const arch = ganPreset(preset as GanPreset);
  const onnx = path.join(dir, "gan.onnx");
  await writeUntrainedGan(tf, arch, onnx, 1, `bench-${preset}`);
  const model = await loadGanModel(onnx);
  const load = os.loadavg()[0];
  const t0 = performance.now();
  const done: number[] = [];
  const r = await sampleGan({
    model,
    count: Number(n),
    seed: 1,
    redshift: 0,
    quantity: "density",
    batch: Number(batch),
    workers: Number(workers),
    device: { kind: "cpu", ids: [0] },
    engine,
    output: path.join(dir, "out"),
    // sample-gan's default; the peer has no such step, so its cost counts against us.
    orientation: "random",
    onBatch: () => done.push(performance.now()),
  });
  const s = (performance.now() - t0) / 1000;
  // Steady state: from the end of each worker's first batch (start-up, first touches of its
  // buffers) to the last batch written, without the final fsync and rename; what the peer's
  // median over repeated calls after a warm-up measures.
  const w = Number(workers);
  const steady =
    done.length > w
      ? ((done.length - w) * Number(batch)) / ((done[done.length - 1] - done[w - 1]) / 1000)
      : null;
  console.log(
    JSON.stringify({
      bench: "gan-sampling",
      preset,
      engine,
      samples: r.count,
      batch: Number(batch),
      workers: Number(workers),
      seconds: s,
      samplesPerSecond: r.count / s,
      steadySamplesPerSecond: steady,
      loadavgStart: load,
      loadavgEnd: os.loadavg()[0],
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
