/**
 * GAN sampling throughput through the ONNX worker pool: exports an untrained generator of each
 * preset (DCGAN initialisation; speed does not depend on the weights) and times `sampleGan`
 * (latent draw, inference, inverse scaling, .npy writes) for N samples.
 * Usage: node dist/test/bench/gan-sampling.bench.js [paper|reduced] [N] [batch] [workers]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeUntrainedGan } from "../gan-fixture.js";
import { loadTensorFlowEngine } from "../../src/models/kernels/tf-engine.js";
import { ganPreset, type GanPreset } from "../../src/models/gan/architecture.js";
import { loadGanModel } from "../../src/io/gan-model-file.js";
import { sampleGan } from "../../src/pipeline/gan-sampling.js";

const [preset = "reduced", n = "16", batch = "4", workers = String(os.availableParallelism())] =
  process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gan-bench-"));
try {
  const { tf } = await loadTensorFlowEngine();
  const arch = ganPreset(preset as GanPreset);
  const onnx = path.join(dir, "gan.onnx");
  await writeUntrainedGan(tf, arch, onnx, 1, `bench-${preset}`);
  const model = await loadGanModel(onnx);
  const load = os.loadavg()[0];
  const t0 = performance.now();
  const r = await sampleGan({
    model,
    count: Number(n),
    seed: 1,
    redshift: 0,
    quantity: "density",
    batch: Number(batch),
    workers: Number(workers),
    device: { kind: "cpu", ids: [0] },
    output: path.join(dir, "out"),
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bench: "gan-sampling",
      preset,
      samples: r.count,
      batch: Number(batch),
      workers: Number(workers),
      seconds: s,
      samplesPerSecond: r.count / s,
      loadavgStart: load,
      loadavgEnd: os.loadavg()[0],
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
