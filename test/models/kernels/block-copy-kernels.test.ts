/**
 * The block-copy and broadcast fast paths (Slice, PadV2, Concat, SplitV, Add/Sub/Multiply with
 * a repeating operand, Sum over leading axes) against TensorFlow.js's stock CPU kernels.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { KERNEL_BUILDS, enableBuild, useBuild } from "./kernel-builds.js";
import { uniformStream } from "../../../src/models/weight-init.js";

const next = uniformStream(3, "block-copy");
const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
const rand = (shape: number[]): tf.Tensor =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * next() - 1),
    shape,
  );

function compare(fn: () => tf.Tensor[], tolerance = 0): void {
  disableFastKernels();
  const stock = tf.tidy(fn);
  enableBuild();
  const fast = tf.tidy(fn);
  expect(fast.length).toBe(stock.length);
  stock.forEach((s, i) => {
    expect(fast[i].shape).toEqual(s.shape);
    const a = fast[i].dataSync();
    const b = s.dataSync();
    for (let k = 0; k < b.length; k++)
      expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b[k])));
  });
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => disableFastKernels());

describe.each(KERNEL_BUILDS)("%s kernels", (build) => {
  beforeAll(() => useBuild(build));

test.each(Array.from({ length: 12 }, (_, i) => i))("random 5D block copies and broadcasts #%i", () => {
  const shape = [int(1, 3), int(2, 6), int(2, 6), int(2, 6), int(1, 5)];
  const x = rand(shape);
  const begin = shape.map((s) => int(0, s - 1));
  const size = shape.map((s, a) => int(1, s - begin[a]));
  const pads = shape.map(() => [int(0, 2), int(0, 2)] as [number, number]);
  const y = rand([shape[0], shape[1], shape[2], shape[3], int(1, 4)]);
  const axis = int(0, 4);
  const z = rand(shape.map((s, a) => (a === axis ? int(1, 3) : s)));
  const bias = rand([shape[4]]);
  const perSample = rand([shape[0], 1, 1, 1, 1]);
  const lead = int(1, 4);
  const fill = int(0, 1) * 0.5;
  compare(() => [
    tf.slice(x, begin, size),
    tf.pad(x, pads, fill),
    tf.concat([x, y], 4),
    tf.concat([x, z], axis),
    ...tf.split(tf.concat([x, z], axis), [shape[axis], z.shape[axis]], axis),
    tf.add(x, bias),
    tf.sub(bias, x),
    tf.mul(x, tf.scalar(1.7)),
    tf.add(perSample.reshape([shape[0], 1, 1, 1, 1]).mul(tf.onesLike(x)), x),
    tf.mul(bias.reshape([1, 1, shape[4]]), x),
  ]);
  compare(
    () => [
      tf.sum(
        x,
        Array.from({ length: lead }, (_, i) => i),
      ),
      tf.sum(x, [0, 1], true),
    ],
    1e-6,
  );
});
});
