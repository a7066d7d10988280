/**
 * The TensorFlow.js painter and critic builders: the painter equals the ONNX graph built from
 * the same weights (four output channels, NCDHW transposed to NDHWC), the
 * weight layout round-trips, and the critic's gradient penalty is finite and differentiable.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { painterArchitecture } from "../../src/models/painter/architecture.js";
import { buildPainterOnnx, randomPainterWeights } from "../../src/models/painter/painter-onnx.js";
import { PainterTf } from "../../src/models/painter/painter-tf.js";
import { CriticTf } from "../../src/models/painter/critic-tf.js";
import { criticArchitecture } from "../../src/models/painter/critic-architecture.js";
import { enableFastKernels } from "../../src/models/kernels/register-kernels.js";
import { uniformStream } from "../../src/models/weight-init.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  enableFastKernels({ threads: 2 });
});

test("painter: TensorFlow.js equals ONNX Runtime on the same weights (≤ 1e-5)", async () => {
  const side = 20;
  const arch = painterArchitecture(4);
  const weights = randomPainterWeights(arch, 9);
  const u = uniformStream(9, "input");
  const x = Float32Array.from({ length: side ** 3 }, () => 2 * u());
  const painter = new PainterTf(tf, arch, weights);
  const ours = tf.tidy(() => painter.apply(tf.tensor5d(x, [1, side, side, side, 1])));
  const core = side - 2 * arch.padding;
  expect(ours.shape).toEqual([1, core, core, core, 4]);
  const session = await ort.InferenceSession.create(buildPainterOnnx(arch, weights));
  const out = await session.run({ density: new ort.Tensor("float32", x, [1, 1, side, side, side]) });
  const nchw = tf.tensor5d(out.halos.data as Float32Array, [1, 4, core, core, core]);
  const ref = nchw.transpose([0, 2, 3, 4, 1]).dataSync();
  const got = ours.dataSync();
  const scale = Math.max(...Array.from(ref, Math.abs));
  expect(scale).toBeGreaterThan(0);
  for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(1e-5 * scale);
  // Weights read back in the ONNX layout are the ones given.
  const back = painter.weights();
  for (const [name, w] of weights)
    expect(Array.from(back.get(name)?.weight ?? [])).toEqual(Array.from(w.weight));
  await session.release();
  painter.dispose();
});

test("critic: output shape and a finite, differentiable gradient penalty", () => {
  const arch = criticArchitecture(24);
  expect(arch.featureSide).toBe(2); // 24 → 9 → 5 → 2 → 2
  expect(arch.denseInputs).toBe(8 * 64);
  const critic = new CriticTf(tf, arch, 4);
  const real = tf.randomUniform([2, 24, 24, 24, 1], 0, 1, "float32", 1) as tf.Tensor5D;
  const fake = tf.randomUniform([2, 24, 24, 24, 1], 0, 1, "float32", 2) as tf.Tensor5D;
  const eps = tf.tensor5d([0.3, 0.8], [2, 1, 1, 1, 1]);
  expect(critic.apply(real).shape).toEqual([2, 1]);
  const { value, grads } = tf.variableGrads(
    () => critic.gradientPenalty(real, fake, eps),
    critic.variables(),
  );
  expect(Number.isFinite(value.dataSync()[0])).toBe(true);
  const g = grads[critic.convs[0].filter.name].abs().max().dataSync()[0];
  expect(g).toBeGreaterThan(0);
  expect(Number.isFinite(g)).toBe(true);
  critic.dispose();
});
