/**
 * Resize kernels (src/models/gan/resize-kernels.ts): the tied 4³ kernel W ⊛ box 2³ of a
 * stride-2 transposed convolution turns a uniform input into a uniform output (no checkerboard),
 * the projection is the least-squares one, and a generator trained with them exports to ONNX
 * with the same outputs.
 */
import { beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { ganArchitecture } from "../../../src/models/gan/architecture.js";
import { GanTf, onnxToTfTransposedFilter } from "../../../src/models/gan/gan-tf.js";
import { buildGeneratorOnnx, GAN_LATENT_INPUT, GAN_OUTPUT } from "../../../src/models/gan/gan-onnx.js";
import { initialGanWeights } from "../../../src/models/gan/gan-weights.js";
import { latentBatch } from "../../../src/models/gan/latent.js";
import {
  expandResizeKernel,
  expandResizeKernelTf,
  projectToResizeKernel,
} from "../../../src/models/gan/resize-kernels.js";
import { uniformStream } from "../../../src/models/weight-init.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const OUT = 3;
const IN = 2;
const INNER = OUT * IN;

function randomArray(n: number, seed: number): Float32Array {
  const u = uniformStream(seed, "resize-kernels");
  return Float32Array.from({ length: n }, () => u() - 0.5);
}

/** Output (1, 8, 8, 8, OUT) of a 'same' stride-2 transposed convolution of a uniform 4³ input. */
function uniformInputResponse(kernel: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.ones([1, 4, 4, 4, IN]) as tf.Tensor5D;
    const k = tf.tensor5d(kernel, [4, 4, 4, OUT, IN]);
    return tf.conv3dTranspose(x, k, [1, 8, 8, 8, OUT], 2, "same").dataSync() as Float32Array;
  });
}

/** Largest spread over the interior voxels (1…6 on each axis) of each output channel. */
function interiorSpread(y: Float32Array): number {
  let worst = 0;
  for (let o = 0; o < OUT; o++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 1; i < 7; i++)
      for (let j = 1; j < 7; j++)
        for (let l = 1; l < 7; l++) {
          const v = y[((i * 8 + j) * 8 + l) * OUT + o];
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    worst = Math.max(worst, hi - lo);
  }
  return worst;
}

test("a tied kernel paints a uniform input uniformly; an untied one paints a checkerboard", () => {
  const free = randomArray(27 * INNER, 1);
  const tied = expandResizeKernel(free, INNER);
  expect(tied.length).toBe(64 * INNER);
  expect(interiorSpread(uniformInputResponse(tied))).toBeLessThan(1e-5);
  // The same test tells an untied kernel apart: its 8 output parities get different weights.
  expect(interiorSpread(uniformInputResponse(randomArray(64 * INNER, 2)))).toBeGreaterThan(0.1);
});

test("the TF.js expansion equals the array one, and projection inverts it", () => {
  const free = randomArray(27 * INNER, 3);
  const viaTf = tf.tidy(
    () => expandResizeKernelTf(tf, tf.tensor5d(free, [3, 3, 3, OUT, IN])).dataSync() as Float32Array,
  );
  const direct = expandResizeKernel(free, INNER);
  for (let i = 0; i < direct.length; i++) expect(viaTf[i]).toBeCloseTo(direct[i], 6);
  const back = projectToResizeKernel(direct, INNER);
  expect(back.residual).toBeLessThan(1e-6);
  for (let i = 0; i < free.length; i++) expect(back.kernel[i]).toBeCloseTo(free[i], 5);
});

test("projection is least squares: the residual is orthogonal to every tied kernel", () => {
  const k = randomArray(64 * INNER, 4);
  const p = projectToResizeKernel(k, INNER);
  const fit = expandResizeKernel(p.kernel, INNER);
  // A tied kernel has 27 of 64 degrees of freedom per channel pair: a random one loses most.
  expect(p.residual).toBeGreaterThan(0.4);
  expect(p.residual).toBeLessThan(1);
  for (let t = 0; t < 5; t++) {
    const other = expandResizeKernel(randomArray(27 * INNER, 10 + t), INNER);
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < k.length; i++) {
      dot += (k[i] - fit[i]) * other[i];
      norm += other[i] ** 2;
    }
    expect(Math.abs(dot) / Math.sqrt(norm)).toBeLessThan(1e-5);
  }
});

test("a resize-kernel generator exports tied kernels and matches its ONNX graph", async () => {
  const arch = ganArchitecture({ filters: [8, 4, 1], latentDim: 6, conditional: false });
  const gan = new GanTf(tf, arch, initialGanWeights(arch, 5), { resizeKernels: true });
  // Only the stride-2 layers are tied; the first (1³ → 4³, stride 1) keeps its 4³ kernel.
  expect([...gan.projectionResiduals.keys()]).toEqual(["g1", "g2"]);
  const weights = gan.weights();
  for (const name of ["g1", "g2"]) {
    const l = arch.generator.find((x) => x.name === name);
    // ONNX (in, out, 4³) → (4³, out, in) to project; a tied kernel projects onto itself.
    const w = (weights.get(name) as { weight: Float32Array }).weight;
    const inner = (l?.inChannels ?? 0) * (l?.outChannels ?? 0);
    const tfLayout = onnxToTfTransposedFilter(w, l?.inChannels ?? 0, l?.outChannels ?? 0, 4);
    expect(projectToResizeKernel(tfLayout, inner).residual).toBeLessThan(1e-5);
  }
  const b = 2;
  const z = latentBatch(7, 0, 0, b, arch.latentDim);
  const ours = tf.tidy(() => gan.generate(tf.tensor2d(z, [b, arch.latentDim]), false).dataSync());
  const session = await ort.InferenceSession.create(buildGeneratorOnnx(arch, weights));
  const out = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z, [b, arch.latentDim, 1, 1, 1]) });
  const ref = out[GAN_OUTPUT].data as Float32Array;
  await session.release();
  let diff = 0;
  for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
  expect(ref.length).toBe(b * 16 ** 3);
  expect(diff).toBeLessThan(1e-5);
  gan.dispose();
});
