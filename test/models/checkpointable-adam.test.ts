/**
 * CheckpointableAdam: the same updates as TensorFlow.js's Adam (to float32 rounding), and a
 * state saved and restored into a fresh optimiser continues bit for bit.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { CheckpointableAdam } from "../../src/models/painter/checkpointable-adam.js";
import { mulberry32 } from "../seeded-random.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const options = { learningRate: 0.01, beta1: 0.5, beta2: 0.999 };
const u = mulberry32(3);
const target = tf.tensor1d(Float32Array.from({ length: 16 }, () => 2 * u() - 1));
const start = Float32Array.from({ length: 16 }, () => u());
const loss = (w: tf.Variable) => () => w.sub(target).square().sum().mul(w.abs().add(1)).mean() as tf.Scalar;

function steps(opt: CheckpointableAdam, w: tf.Variable, n: number): void {
  for (let i = 0; i < n; i++) {
    const { value, grads } = tf.variableGrads(loss(w), [w]);
    opt.apply(grads);
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
}

test("matches tf.train.adam", () => {
  const w1 = tf.variable(tf.tensor1d(start), true, "adam-test.w1");
  const w2 = tf.variable(tf.tensor1d(start), true, "adam-test.w2");
  const ours = new CheckpointableAdam(tf, [w1], options);
  const ref = tf.train.adam(options.learningRate, options.beta1, options.beta2);
  steps(ours, w1, 20);
  for (let i = 0; i < 20; i++) ref.minimize(loss(w2), false, [w2]);
  const a = w1.dataSync();
  const b = w2.dataSync();
  expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - start[i])))).toBeGreaterThan(0.05);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-5);
});

test("save, restore into a fresh optimiser, continue: bitwise equal to an uninterrupted run", () => {
  const w1 = tf.variable(tf.tensor1d(start), true, "adam-test.w3");
  const w2 = tf.variable(tf.tensor1d(start), true, "adam-test.w4");
  const a = new CheckpointableAdam(tf, [w1], options);
  steps(a, w1, 7);
  const b1 = new CheckpointableAdam(tf, [w2], options);
  steps(b1, w2, 3);
  const saved = b1.state();
  const weights = Float32Array.from(w2.dataSync());
  b1.dispose();
  w2.assign(tf.zerosLike(w2));
  const b2 = new CheckpointableAdam(tf, [w2], options);
  b2.restore(saved);
  w2.assign(tf.tensor1d(weights));
  steps(b2, w2, 4);
  expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
});
