/**
 * Our conv3d kernels (native x86-64 and WebAssembly builds, each where it runs) against
 * TensorFlow.js's stock CPU kernels on random geometries (forward, input and filter gradients, transposed convolution), their independence
 * of the thread count, and second-order gradients (WGAN-GP style) against the stock path and
 * central finite differences.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  disableFastKernels,
  fastKernelsEnabled,
  pointwise,
  registerSecondOrderGradients,
} from "../../../src/models/kernels/register-kernels.js";
import { conv3dWasmModule } from "../../../src/models/kernels/conv3d-wasm.js";
import { chooseInputGradForm, type InputGradForm } from "../../../src/models/kernels/input-grad-forms.js";
import { KERNEL_BUILDS, enableBuild, makeConv, useBuild } from "./kernel-builds.js";
import { uniformStream } from "../../../src/models/weight-init.js";

type Shape5 = [number, number, number, number, number];

/** max |a − b| / max |b|: relative to the output's scale, as float32 sums of many terms need. */
function relativeError(
  a: Float32Array | Int32Array | Uint8Array,
  b: Float32Array | Int32Array | Uint8Array,
): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

function randomTensor(shape: Shape5, next: () => number): tf.Tensor5D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor5d(
    Float32Array.from({ length: n }, () => 2 * next() - 1),
    shape,
  );
}

/** Runs fn with the stock kernels, then with ours; returns both results as arrays. */
function bothWays(fn: () => tf.Tensor[]): [Float32Array[], Float32Array[]] {
  disableFastKernels();
  const stock = tf.tidy(fn).map((t) => t.dataSync() as Float32Array);
  expect(enableBuild()).toBe(true);
  const fast = tf.tidy(fn).map((t) => t.dataSync() as Float32Array);
  return [stock, fast];
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  registerSecondOrderGradients();
});
afterAll(() => disableFastKernels());

describe.each(KERNEL_BUILDS)("%s kernels", (build) => {
  beforeAll(() => useBuild(build));

describe("fast conv3d kernels equal the stock kernels", () => {
  const next = uniformStream(5, "conv3d-kernels");
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const configs = Array.from({ length: 30 }, (_, i) => {
    const k = [int(1, 5), int(1, 5), int(1, 5)];
    const pad: "valid" | "same" = i % 2 === 0 ? "valid" : "same";
    const strides: [number, number, number] = [int(1, 3), int(1, 3), int(1, 3)];
    const side = k.map((kk) => kk + int(0, 6));
    const x: Shape5 = [int(1, 2), side[0], side[1], side[2], int(1, 12)];
    const f: Shape5 = [k[0], k[1], k[2], x[4], int(1, 12)];
    return { x, f, strides, pad };
  });
  // 1×1×1 kernels with unit strides take the single-GEMM path (register-kernels.ts pointwise);
  // with larger strides, the general one.
  const pointwise = Array.from({ length: 6 }, (_, i) => {
    const pad: "valid" | "same" = i % 2 === 0 ? "valid" : "same";
    const s = i < 4 ? 1 : 2;
    const strides: [number, number, number] = [s, s, s];
    const x: Shape5 = [int(1, 3), int(1, 9), int(1, 9), int(1, 9), int(1, 33)];
    const f: Shape5 = [1, 1, 1, x[4], int(1, 33)];
    return { x, f, strides, pad };
  });
  configs.push(...pointwise);
  // Larger kernels (2–7, strided: parities with sub-kernels of unequal sides) and the GAN
  // generator's transposed-convolution shapes (1³ → 4³; k4 s2 'same' to one channel), which
  // take the scatter and sub-pixel forms of input-grad-forms.ts.
  const large = Array.from({ length: 10 }, (_, i) => {
    const k = [int(2, 7), int(2, 7), int(2, 7)];
    const pad: "valid" | "same" = i % 2 === 0 ? "valid" : "same";
    const strides: [number, number, number] = [int(1, 3), int(1, 3), int(1, 3)];
    const side = k.map((kk) => kk + int(0, 4));
    const x: Shape5 = [int(1, 2), side[0], side[1], side[2], int(1, 9)];
    const f: Shape5 = [k[0], k[1], k[2], x[4], int(1, 9)];
    return { x, f, strides, pad };
  });
  const gan = [
    {
      x: [3, 4, 4, 4, 12] as Shape5,
      f: [4, 4, 4, 12, 10] as Shape5,
      strides: [1, 1, 1] as [number, number, number],
      pad: "valid" as const,
    },
    {
      x: [2, 8, 8, 8, 1] as Shape5,
      f: [4, 4, 4, 1, 6] as Shape5,
      strides: [2, 2, 2] as [number, number, number],
      pad: "same" as const,
    },
    {
      x: [1, 9, 9, 9, 2] as Shape5,
      f: [7, 7, 7, 2, 3] as Shape5,
      strides: [2, 2, 2] as [number, number, number],
      pad: "same" as const,
    },
  ];
  configs.push(...large, ...gan);

  test.each(configs)("x $x filter $f strides $strides $pad", ({ x, f, strides, pad }) => {
    const xt = randomTensor(x, next);
    const ft = randomTensor(f, next);
    const y0 = tf.conv3d(xt, ft, strides, pad);
    const r = randomTensor(y0.shape as Shape5, next);
    const [stock, fast] = bothWays(() => {
      const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
        tf
          .conv3d(a as tf.Tensor5D, b as tf.Tensor5D, strides, pad)
          .mul(r)
          .sum();
      const [gx, gf] = tf.grads(loss)([xt, ft]);
      // conv3dTranspose of r back to x's shape: Conv3DBackpropInputV2 as a forward op.
      const t = tf.conv3dTranspose(r, ft, x, strides, pad);
      return [tf.conv3d(xt, ft, strides, pad), gx, gf, t];
    });
    for (let i = 0; i < stock.length; i++) expect(relativeError(fast[i], stock[i])).toBeLessThan(1e-4);
    expect(fastKernelsEnabled()).toBe(true);
  });
});

describe("every input-gradient form equals the stock transposed convolution", () => {
  const module = conv3dWasmModule();
  const next = uniformStream(13, "input-grad-forms");
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const configs = Array.from({ length: 16 }, (_, i) => {
    const k = [int(2, 7), int(2, 7), int(2, 7)];
    const pad: "valid" | "same" = i % 2 === 0 ? "valid" : "same";
    const strides: [number, number, number] = [int(1, 3), int(1, 3), int(1, 3)];
    const x: Shape5 = [int(1, 2), k[0] + int(0, 5), k[1] + int(0, 5), k[2] + int(0, 5), int(1, 9)];
    const f: Shape5 = [k[0], k[1], k[2], x[4], int(1, 9)];
    return { x, f, strides, pad };
  });
  test.each(configs)("x $x filter $f strides $strides $pad", ({ x, f, strides, pad }) => {
    expect(module).not.toBeNull();
    if (module === null) return;
    const g = tf.backend_util.computeConv3DInfo(x, f, strides, 1, pad);
    const dy = randomTensor(g.outShape as Shape5, next);
    const w = randomTensor(f, next);
    disableFastKernels();
    const stock = tf.tidy(() => tf.conv3dTranspose(dy, w, x, strides, pad).dataSync() as Float32Array);
    const k = makeConv(module, 2);
    const forms: InputGradForm[] = ["phases", "subpixel", "scatter"];
    for (const form of forms) {
      const ours = k.inputGrad(dy.dataSync() as Float32Array, w.dataSync() as Float32Array, g, form);
      expect(relativeError(ours, stock)).toBeLessThan(1e-4);
    }
    k.dispose();
    dy.dispose();
    w.dispose();
  });

  test("the cost model picks the sub-pixel and scatter forms for the GAN generator's layers", () => {
    const layer = (side: number, ci: number, co: number, s: number, pad: "valid" | "same"): InputGradForm =>
      chooseInputGradForm(
        tf.backend_util.computeConv3DInfo([16, side, side, side, ci], [4, 4, 4, ci, co], s, 1, pad),
      );
    expect(layer(4, 256, 100, 1, "valid")).toBe("scatter");
    expect(layer(64, 1, 32, 2, "same")).toBe("subpixel");
    expect(layer(32, 32, 64, 2, "same")).toBe("phases");
  });
});

test("results are bitwise identical for 1 and 3 threads", () => {
  const module = conv3dWasmModule();
  expect(module).not.toBeNull();
  if (module === null) return;
  const next = uniformStream(7, "threads");
  const g = tf.backend_util.computeConv3DInfo([2, 14, 13, 12, 6], [3, 4, 5, 6, 9], [1, 2, 1], 1, "same");
  const x = Float32Array.from({ length: 2 * 14 * 13 * 12 * 6 }, () => next() - 0.5);
  const w = Float32Array.from({ length: 3 * 4 * 5 * 6 * 9 }, () => next() - 0.5);
  const dy = Float32Array.from({ length: g.outShape.reduce((a, b) => a * b, 1) }, () => next() - 0.5);
  const run = (threads: number): Float32Array[] => {
    const k = makeConv(module, threads);
    const out = [k.forward(x, w, g), k.inputGrad(dy, w, g), k.filterGrad(x, dy, g)];
    k.dispose();
    return out;
  };
  const one = run(1);
  const three = run(3);
  for (let i = 0; i < 3; i++)
    expect(Buffer.from(three[i].buffer).equals(Buffer.from(one[i].buffer))).toBe(true);
});

test("the 1×1×1 single-GEMM path gives the general path's results bit for bit", () => {
  const module = conv3dWasmModule();
  expect(module).not.toBeNull();
  if (module === null) return;
  const next = uniformStream(9, "pointwise");
  const g = tf.backend_util.computeConv3DInfo([2, 7, 6, 5, 10], [1, 1, 1, 10, 13], 1, 1, "valid");
  const flat = pointwise(g);
  expect(flat.inWidth).toBe(2 * 7 * 6 * 5);
  const x = Float32Array.from({ length: 2 * 7 * 6 * 5 * 10 }, () => next() - 0.5);
  const w = Float32Array.from({ length: 10 * 13 }, () => next() - 0.5);
  const dy = Float32Array.from({ length: 2 * 7 * 6 * 5 * 13 }, () => next() - 0.5);
  const k = makeConv(module, 2);
  const run = (geom: typeof g): Float32Array[] => [
    k.forward(x, w, geom),
    k.inputGrad(dy, w, geom),
    k.filterGrad(x, dy, geom),
  ];
  const general = run(g);
  const single = run(flat);
  k.dispose();
  for (let i = 0; i < 3; i++)
    expect(Buffer.from(single[i].buffer).equals(Buffer.from(general[i].buffer))).toBe(true);
});

describe("second-order gradients through conv3d (gradient penalty)", () => {
  // A two-layer critic D(x) = Σ v · lrelu(conv(lrelu(conv(x, W1, s2)), W2)), and the penalty
  // P(W1, W2) = (‖∇ₓD‖ − 1)², whose gradient differentiates Conv3DBackpropInputV2 with respect
  // to both its inputs.
  const next = uniformStream(11, "penalty");
  const x = randomTensor([1, 9, 9, 9, 1], next);
  const w1 = randomTensor([3, 3, 3, 1, 4], next);
  const w2 = randomTensor([2, 2, 2, 4, 3], next);
  const v = randomTensor([1, 3, 3, 3, 3], next);
  const critic = (xx: tf.Tensor5D, a: tf.Tensor5D, b: tf.Tensor5D): tf.Scalar => {
    const h = tf.leakyRelu(tf.conv3d(xx, a, 2, "valid"), 0.1);
    return tf
      .leakyRelu(tf.conv3d(h, b, 1, "valid"), 0.1)
      .mul(v)
      .sum();
  };
  const penalty = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
    const g = tf.grad((xx: tf.Tensor) => critic(xx as tf.Tensor5D, a as tf.Tensor5D, b as tf.Tensor5D))(x);
    return g.square().sum().sqrt().sub(1).square() as tf.Scalar;
  };

  test("fast equals stock", () => {
    const [stock, fast] = bothWays(() => tf.grads(penalty)([w1, w2]));
    for (let i = 0; i < 2; i++) expect(relativeError(fast[i], stock[i])).toBeLessThan(1e-4);
  });

  test("fast equals central finite differences", () => {
    expect(enableBuild()).toBe(true);
    const [g1, g2] = tf
      .grads(penalty)([w1, w2])
      .map((t) => t.dataSync());
    const h = 1e-2;
    const fd = (w: tf.Tensor5D, i: number, which: 0 | 1): number => {
      const base = w.dataSync().slice();
      const at = (d: number): number => {
        const p = base.slice();
        p[i] += d;
        const wp = tf.tensor5d(p, w.shape);
        const val = (which === 0 ? penalty(wp, w2) : penalty(w1, wp)).dataSync()[0];
        wp.dispose();
        return val;
      };
      return (at(h) - at(-h)) / (2 * h);
    };
    const scale1 = Math.max(...Array.from(g1, Math.abs));
    const scale2 = Math.max(...Array.from(g2, Math.abs));
    for (const i of [0, 5, 13, 26, 40, 77, 107])
      expect(Math.abs(fd(w1, i, 0) - g1[i])).toBeLessThan(2e-3 * scale1);
    for (const i of [0, 9, 31, 50, 95]) expect(Math.abs(fd(w2, i, 1) - g2[i])).toBeLessThan(2e-3 * scale2);
  });
});
});
