/**
 * Training-speed benchmarks of the 3D convolution kernels (issue 5), with the PyTorch peers run
 * in the same session:
 *   conv3d.*   a plain Conv3D forward (1 × 32³ × 10 → 10 channels, 5³ kernel) in GFLOP/s for
 *              stock TensorFlow.js, our kernels (the build enableFastKernels picks — native
 *              x86-64 where it loads — at 1 and 2 threads; the WebAssembly build at 2 threads)
 *              and ONNX Runtime;
 *   wgan.*     one WGAN-GP step of the halo painter (batch 1, 58³ input: 5 critic updates with
 *              gradient penalty λ = 10, one painter update, Adam) next to train_step_torch.py;
 *   gan.*      the DCGAN generator of issue 8 (batch 16, transposed convolutions 1³ → 64³)
 *              next to gan_torch.py, both forward only (the peer measures sampling);
 *   kernels.*  each fast elementwise kernel and the 1×1×1 convolutions on a painter activation
 *              (1 × 54³ × 10), stock TensorFlow.js against ours, milliseconds per call.
 * wgan.ours_s_per_step paints G(x) once per step for the 5 critic updates (as `mocksmith train
 * painter` does); wgan.ours_repaint_s_per_step repaints for each, as train_step_torch.py does,
 * for a like-for-like ratio (same numbers either way).
 * Medians of a few runs after a warm-up; load averages recorded because the machine is shared.
 */
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import {
  disableFastKernels,
  enableFastKernels,
  fastKernelKind,
} from "../../src/models/kernels/register-kernels.js";
import { encodeOnnxModel } from "../../src/models/onnx/onnx-model.js";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { randomPainterWeights } from "../../src/models/painter/painter-onnx.js";
import { PainterTf } from "../../src/models/painter/painter-tf.js";
import { CriticTf } from "../../src/models/painter/critic-tf.js";
import { criticArchitecture } from "../../src/models/painter/critic-architecture.js";
import { PAPER_WGAN_GP, WganGpTrainer } from "../../src/models/painter/wgan-gp.js";
import { uniformStream } from "../../src/models/weight-init.js";
import { runPeer } from "./peers.js";

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt(fn: () => unknown, repeats: number): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return median(samples);
}

function randomArray(n: number, seed: number, key: string): Float32Array {
  const u = uniformStream(seed, key);
  return Float32Array.from({ length: n }, () => 2 * u() - 1);
}

async function plainConv(results: Record<string, unknown>): Promise<void> {
  const [side, k, c] = [32, 5, 10];
  const o = side - k + 1;
  const flop = 2 * o ** 3 * c * c * k ** 3;
  const x = tf.tensor5d(randomArray(side ** 3 * c, 1, "x"), [1, side, side, side, c]);
  const w = tf.tensor5d(randomArray(k ** 3 * c * c, 1, "w"), [k, k, k, c, c]);
  const conv = (): void => tf.tidy(() => void tf.conv3d(x, w, 1, "valid").dataSync());
  disableFastKernels();
  results["conv3d.tfjs_stock_gflops"] = flop / (await timeIt(conv, 1)) / 1e9;
  for (const threads of [1, 2]) {
    enableFastKernels({ threads });
    results["conv3d.kernels"] = fastKernelKind();
    results[`conv3d.ours_${threads}t_gflops`] = flop / (await timeIt(conv, 5)) / 1e9;
    disableFastKernels();
  }
  enableFastKernels({ threads: 2, native: false });
  results["conv3d.ours_wasm_2t_gflops"] = flop / (await timeIt(conv, 5)) / 1e9;
  disableFastKernels();
  const bytes = encodeOnnxModel({
    producerName: "bench",
    producerVersion: "0",
    graph: {
      name: "conv",
      nodes: [{ opType: "Conv", inputs: ["x", "w"], outputs: ["y"] }],
      initializers: [{ name: "w", dims: [c, c, k, k, k], data: randomArray(k ** 3 * c * c, 1, "w") }],
      inputs: [{ name: "x", dims: [1, c, side, side, side] }],
      outputs: [{ name: "y", dims: [1, c, o, o, o] }],
    },
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const feeds = {
    x: new ort.Tensor("float32", randomArray(side ** 3 * c, 1, "x"), [1, c, side, side, side]),
  };
  results["conv3d.onnxruntime_2t_gflops"] = flop / (await timeIt(() => session.run(feeds), 5)) / 1e9;
  await session.release();
  x.dispose();
  w.dispose();
}

/** Stock against fast kernels on painter-sized tensors, ms per call. */
async function kernelTimes(results: Record<string, unknown>): Promise<void> {
  const s: [number, number, number, number, number] = [1, 54, 54, 54, 10];
  const n = s.reduce((a, b) => a * b, 1);
  const a = tf.tensor5d(randomArray(n, 6, "a"), s);
  const b = tf.tensor5d(randomArray(n, 6, "b"), s);
  const bias = tf.tensor1d(randomArray(10, 6, "bias"));
  const w = tf.tensor5d(randomArray(100, 6, "w"), [1, 1, 1, 10, 10]);
  const abc = tf.concat([a, b, a], 4);
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ["leaky_relu", () => tf.leakyRelu(a, 0.1)],
    ["step", () => tf.step(a, 0.1)],
    ["add", () => tf.add(a, b)],
    ["add_bias", () => tf.add(a, bias)],
    ["multiply", () => tf.mul(a, b)],
    ["sum_bias_grad", () => tf.sum(a, [0, 1, 2, 3])],
    ["split_channels", () => tf.split(abc, 3, 4)],
    ["conv1x1x1_forward", () => tf.conv3d(a, w, 1, "valid")],
    [
      "conv1x1x1_input_grad",
      () =>
        tf
          .engine()
          .runKernel(
            "Conv3DBackpropInputV2",
            { dy: b, filter: w },
            { strides: 1, pad: "valid", inputShape: s },
          ) as tf.Tensor,
    ],
    [
      "conv1x1x1_filter_grad",
      () =>
        tf
          .engine()
          .runKernel(
            "Conv3DBackpropFilterV2",
            { x: a, dy: b },
            { strides: 1, pad: "valid", filterShape: w.shape },
          ) as tf.Tensor,
    ],
  ];
  for (const [name, fn] of cases) {
    const call = (): void => tf.tidy(() => void [fn()].flat().forEach((t) => t.dataSync()));
    disableFastKernels();
    const stock = await timeIt(call, 3);
    enableFastKernels({ threads: 2 });
    const ours = await timeIt(call, 5);
    disableFastKernels();
    results[`kernels.${name}`] = { stock_ms: stock * 1e3, ours_ms: ours * 1e3, speedup: stock / ours };
  }
  for (const t of [a, b, abc, bias, w]) t.dispose();
}

function wganStep(results: Record<string, unknown>, steps: number, repaint = false): Promise<number> {
  const side = 58;
  const arch = painterArchitecture(1);
  const painter = new PainterTf(tf, arch, randomPainterWeights(arch, 1));
  const critic = new CriticTf(tf, criticArchitecture(side - 2 * arch.padding), 2);
  const trainer = new WganGpTrainer(tf, painter, critic, {
    ...PAPER_WGAN_GP,
    repaintPerCriticUpdate: repaint,
  });
  const ux = uniformStream(3, "density");
  const x = tf.tensor5d(
    Float32Array.from({ length: side ** 3 }, () => 2 * ux()),
    [1, side, side, side, 1],
  );
  const core = side - 2 * arch.padding;
  const uy = uniformStream(3, "halos");
  const y = tf.tensor5d(
    Float32Array.from({ length: core ** 3 }, () => (uy() < 0.4 ? 1 : 0)),
    [1, core, core, core, 1],
  );
  const eps = uniformStream(3, "epsilon");
  const run = (): void => void trainer.step(x, y, eps);
  const t = timeIt(run, steps);
  return t.finally(() => {
    results["wgan.tensors_after"] = tf.memory().numTensors;
    trainer.dispose();
    painter.dispose();
    critic.dispose();
    x.dispose();
    y.dispose();
  });
}

/** The DCGAN generator of gan_torch.py (no biases, batch norm in inference form, leaky 0.2). */
function ganGenerator(batch: number): () => void {
  const filters = [256, 128, 64, 32, 1];
  let cin = 100;
  const layers = filters.map((f, i) => {
    const w = tf.tensor5d(randomArray(64 * f * cin, 4, `g${i}`), [4, 4, 4, f, cin]).mul(0.02) as tf.Tensor5D;
    cin = f;
    return w;
  });
  const z = tf.tensor5d(randomArray(batch * 100, 4, "z"), [batch, 1, 1, 1, 100]);
  return () =>
    tf.tidy(() => {
      let h = z;
      let side = 1;
      layers.forEach((w, i) => {
        const stride = i === 0 ? 1 : 2;
        const pad = i === 0 ? "valid" : "same";
        side = i === 0 ? 4 : side * 2;
        h = tf.conv3dTranspose(h, w, [batch, side, side, side, w.shape[3]], stride, pad);
        h = i === filters.length - 1 ? tf.tanh(h) : tf.leakyRelu(h, 0.2);
      });
      h.dataSync();
    });
}

/**
 * ns per Math.exp call (10⁶ calls, median of 3). Measured before any kernel ran and again right
 * after the training kernels: the native exports end in VZEROUPPER (native/x86-64/addon.c)
 * because a dirty upper vector state made V8's Math.exp 18× slower in `train gan`.
 */
function mathExpNs(): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    let s = 0;
    for (let i = 0; i < 1e6; i++) s += Math.exp(i * 1e-6);
    // ms per 10⁶ calls = ns per call; the sum is used so the loop cannot be dropped.
    runs.push(performance.now() - t0 + (s > 0 ? 0 : Number.NaN));
  }
  return median(runs);
}

export async function benchConv3d(): Promise<Record<string, unknown>> {
  await tf.setBackend("cpu");
  const results: Record<string, unknown> = { "conv3d.loadavg_start": os.loadavg() };
  results["kernels.math_exp_ns_before"] = mathExpNs();
  await plainConv(results);

  enableFastKernels({ threads: 2 });
  const ours = await wganStep(results, 2);
  results["wgan.ours_s_per_step"] = ours;
  const repaint = await wganStep(results, 2, true);
  results["wgan.ours_repaint_s_per_step"] = repaint;
  const peer = runPeer("train_step_torch.py", ["--steps", "3", "--threads", "2"]);
  results["wgan.torch"] = peer;
  if (typeof peer.s_per_step === "number") {
    results["wgan.speed_vs_torch"] = peer.s_per_step / ours;
    results["wgan.speed_vs_torch_like_for_like"] = peer.s_per_step / repaint;
  }

  const batch = 16;
  const gen = ganGenerator(batch);
  const tg = await timeIt(gen, 2);
  results["gan.ours_batch16_samples_per_s"] = batch / tg;
  const ganPeer = runPeer("gan_torch.py", ["--batches", "16", "--threads", "2", "--repeats", "3", "--quiet"]);
  results["gan.torch"] = ganPeer;
  // The peer times two generators: stock ConvTranspose3d ("torch") and its own sub-pixel
  // rewrite ("subpixel"); both ratios, generator alone, batch 16.
  const peerRate = (impl: string): number | undefined => {
    const batches = (ganPeer as { batches?: Record<string, Record<string, { gen_samples_per_s?: number }>> })
      .batches;
    return batches?.[impl]?.["16"]?.gen_samples_per_s;
  };
  for (const impl of ["torch", "subpixel"]) {
    const rate = peerRate(impl);
    if (rate !== undefined) results[`gan.speed_vs_${impl}`] = batch / tg / rate;
  }
  results["kernels.math_exp_ns_after_training_kernels"] = mathExpNs();
  disableFastKernels();
  await kernelTimes(results);
  results["conv3d.loadavg_end"] = os.loadavg();
  return results;
}
