/**
 * Our elementwise kernels, native x86-64 and WebAssembly builds (activations, step masks,
 * broadcast arithmetic, sums, concatenation and split), against TensorFlow.js's stock CPU
 * kernels on random shapes, forward and backward: bit for bit where the stock kernel's
 * float64-then-round arithmetic is correctly rounded (everything but sums), ≤ 1e-6 relative for
 * sums. (Concat: the native build's, else the block-copy one.)
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { disableFastKernels } from "../../../src/models/kernels/register-kernels.js";
import { MIN_ELEMENTS } from "../../../src/models/kernels/elementwise-kernels.js";
import { wasmElementwise } from "../../../src/models/kernels/elementwise-wasm.js";
import { KERNEL_BUILDS, enableBuild, useBuild } from "./kernel-builds.js";
import { uniformStream } from "../../../src/models/weight-init.js";

const next = uniformStream(11, "elementwise-kernels");
const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));

function random(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => 4 * next() - 2),
    shape,
  );
}

/** A random 5D activation shape with at least MIN_ELEMENTS values (so the fast path runs). */
function shape5(): number[] {
  const s = [int(1, 2), int(3, 9), int(3, 9), int(3, 9), int(1, 12)];
  while (s.reduce((a, b) => a * b, 1) < MIN_ELEMENTS) s[1]++;
  return s;
}

function bothWays(fn: () => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  disableFastKernels();
  const stock = tf.tidy(fn).map((t) => t.dataSync() as Float32Array);
  expect(enableBuild()).toBe(true);
  const fast = tf.tidy(fn).map((t) => t.dataSync() as Float32Array);
  return [stock, fast];
}

function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  expect(wasmElementwise()).not.toBeNull();
});
afterAll(() => disableFastKernels());

describe.each(KERNEL_BUILDS)("%s kernels", (build) => {
  beforeAll(() => useBuild(build));

describe("unary kernels equal the stock ones bit for bit, with their gradients", () => {
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ["leakyRelu 0.1", (x) => tf.leakyRelu(x, 0.1)],
    ["leakyRelu 0.2", (x) => tf.leakyRelu(x, 0.2)],
    ["relu", (x) => tf.relu(x)],
    ["step 0.1", (x) => tf.step(x, 0.1)],
    ["square", (x) => tf.square(x)],
    ["sqrt", (x) => tf.sqrt(tf.abs(x))],
  ];
  test.each(ops.flatMap(([name, f]) => [0, 1].map((i) => ({ name, f, i }))))("$name ($i)", ({ f }) => {
    const x = random(shape5());
    const r = random(x.shape);
    const [stock, fast] = bothWays(() => {
      const [y, g] = [f(x), tf.grad((v: tf.Tensor) => f(v).mul(r).sum())(x)];
      return [y, g];
    });
    expect(fast[0]).toEqual(stock[0]);
    expect(relativeError(fast[1], stock[1])).toBeLessThanOrEqual(1e-6);
  });

  test("NaN, ±0 and ±∞ as TensorFlow.js treats them", () => {
    const special = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-40, 3, -3];
    const x = tf.tensor1d(Array.from({ length: 300 }, (_, i) => special[i % special.length]));
    for (const f of [
      (v: tf.Tensor) => tf.leakyRelu(v, 0.1),
      (v: tf.Tensor) => tf.relu(v),
      (v: tf.Tensor) => tf.step(v, 0.3),
      (v: tf.Tensor) => tf.square(v),
      (v: tf.Tensor) => tf.sqrt(v),
    ]) {
      const [stock, fast] = bothWays(() => [f(x)]);
      expect(fast[0]).toEqual(stock[0]);
    }
  });
});

describe("binary kernels equal the stock ones bit for bit, with their gradients", () => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ["add", (a, b) => tf.add(a, b)],
    ["sub", (a, b) => tf.sub(a, b)],
    ["mul", (a, b) => tf.mul(a, b)],
  ];
  const broadcasts: [string, (s: number[]) => number[]][] = [
    ["equal shapes", (s) => s],
    ["bias (last axis)", (s) => [s[4]]],
    ["trailing block", (s) => [1, 1, s[2], s[3], s[4]]],
    ["scalar", () => []],
    ["per-sample scalar", () => [1, 1, 1, 1, 1]],
  ];
  const cases = ops.flatMap(([op, f]) =>
    broadcasts.flatMap(([bc, small]) => [false, true].map((swap) => ({ op, f, bc, small, swap }))),
  );
  test.each(cases)("$op, $bc, small operand first: $swap", ({ f, small, swap }) => {
    const s = shape5();
    const a = random(s);
    const b = random(small(s));
    const r = random(s);
    const [stock, fast] = bothWays(() => {
      const g = (u: tf.Tensor, v: tf.Tensor) => (swap ? f(v, u) : f(u, v)).mul(r).sum();
      const [ga, gb] = tf.grads(g)([a, b]);
      return [swap ? f(b, a) : f(a, b), ga, gb];
    });
    expect(fast[0]).toEqual(stock[0]);
    expect(relativeError(fast[1], stock[1])).toBeLessThanOrEqual(1e-6);
    expect(relativeError(fast[2], stock[2])).toBeLessThanOrEqual(1e-6);
  });
});

describe("sums, concatenation and split equal the stock ones", () => {
  test.each(
    [[0, 1, 2, 3], [1, 2, 3, 4], [4], [0], [2, 3], [-1, -2]].flatMap((axis) =>
      [false, true].map((keepDims) => ({ axis, keepDims })),
    ),
  )("sum over $axis, keepDims $keepDims", ({ axis, keepDims }) => {
    const x = random(shape5());
    const [stock, fast] = bothWays(() => [tf.sum(x, axis, keepDims)]);
    expect(relativeError(fast[0], stock[0])).toBeLessThanOrEqual(1e-6);
  });

  test.each([4, 0, 1, 3, -1])("concat and split along axis %i", (axis) => {
    const s = shape5();
    const parts = [1, 2, 3].map(() => {
      const p = [...s];
      p[(axis + 5) % 5] = int(1, 4);
      return random(p);
    });
    const r = tf.tidy(() => random(tf.concat(parts, axis).shape));
    const [stock, fast] = bothWays(() => {
      const y = tf.concat(parts, axis);
      const sizes = parts.map((p) => p.shape[(axis + 5) % 5]);
      const back = tf.split(y.mul(r), sizes, axis);
      return [y, ...back, ...tf.grads((...ps: tf.Tensor[]) => tf.concat(ps, axis).mul(r).sum())(parts)];
    });
    fast.forEach((v, i) => expect(v).toEqual(stock[i]));
  });
});
});
