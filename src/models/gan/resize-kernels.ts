/**
 * Resize-convolution kernels for the generator's strided transposed convolutions (`train gan
 * --resize-kernels`). Nearest-neighbour upsampling by 2 followed by a 3³ "same" convolution W is
 * exactly a transposed convolution of kernel 4, stride 2, padding 1 whose kernel is W convolved
 * with a 2³ box: per axis K_j = Σ_t B_jt W_t with B_jt = 1 iff j − t ∈ {0, 1} (j = 0…3, t = 0…2).
 * Such a kernel gives every one of the 8 output parities the same total weight, so a uniform
 * input gives a uniform output: no checkerboard (Odena, Dumoulin & Olah 2016, Distill,
 * "Deconvolution and checkerboard artifacts"). Training keeps W as the variable and the exported
 * graph keeps Table I's ConvTranspose with K, so ONNX, the native engine and the card's
 * architecture are unchanged.
 *
 * Kernels are in TF.js's transposed-filter layout (k, k, k, out, in): the three spatial axes
 * lead and `inner` = out·in values follow each spatial index.
 */
import type { Tensor5D } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";

/** Side of the free kernel W and of the tied transposed-convolution kernel K. */
export const RESIZE_KERNEL = 3;
export const TIED_KERNEL = 4;

/** K = W ⊛ box 2³ as a differentiable op: the sum of W placed at the 8 corner offsets of 4³. */
export function expandResizeKernelTf(tf: TensorFlow, w: Tensor5D): Tensor5D {
  return tf.tidy(() => {
    let k: Tensor5D | null = null;
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 2; c++) {
          const p = tf.pad(w, [
            [a, 1 - a],
            [b, 1 - b],
            [c, 1 - c],
            [0, 0],
            [0, 0],
          ]);
          k = k ? k.add<Tensor5D>(p) : p;
        }
    return k as Tensor5D;
  });
}

/** Applies a per-axis (rows × cols) matrix along the three leading spatial axes of a kernel. */
function alongAxes(x: Float32Array, inner: number, m: readonly (readonly number[])[], side: number): Float32Array {
  const rows = m.length;
  let cur = Float64Array.from(x);
  let dims = [side, side, side];
  for (let axis = 0; axis < 3; axis++) {
    const next = dims.map((d, i) => (i === axis ? rows : d));
    const out = new Float64Array(next[0] * next[1] * next[2] * inner);
    const stride = [dims[1] * dims[2], dims[2], 1];
    const nStride = [next[1] * next[2], next[2], 1];
    for (let i = 0; i < next[0]; i++)
      for (let j = 0; j < next[1]; j++)
        for (let l = 0; l < next[2]; l++) {
          const idx = [i, j, l];
          const o = (i * nStride[0] + j * nStride[1] + l * nStride[2]) * inner;
          const r = idx[axis];
          for (let t = 0; t < dims[axis]; t++) {
            const coef = m[r][t];
            if (coef === 0) continue;
            const src = idx.map((v, a) => (a === axis ? t : v));
            const s = (src[0] * stride[0] + src[1] * stride[1] + src[2] * stride[2]) * inner;
            for (let q = 0; q < inner; q++) out[o + q] += coef * cur[s + q];
          }
        }
    cur = out;
    dims = next;
  }
  return Float32Array.from(cur);
}

/** B (4 × 3): the box's action on one axis. */
const BOX: readonly (readonly number[])[] = [
  [1, 0, 0],
  [1, 1, 0],
  [0, 1, 1],
  [0, 0, 1],
];
/** The least-squares inverse (BᵀB)⁻¹Bᵀ (3 × 4), with (BᵀB)⁻¹ = ¼ [[3, −2, 1], [−2, 4, −2], [1, −2, 3]]. */
const BOX_PSEUDO_INVERSE: readonly (readonly number[])[] = [
  [3 / 4, 1 / 4, -1 / 4, 1 / 4],
  [-1 / 2, 1 / 2, 1 / 2, -1 / 2],
  [1 / 4, -1 / 4, 1 / 4, 3 / 4],
];

/** K = W ⊛ box 2³ for a W of (3, 3, 3, out, in). */
export function expandResizeKernel(w: Float32Array, inner: number): Float32Array {
  return alongAxes(w, inner, BOX, RESIZE_KERNEL);
}

/**
 * The W whose tied kernel is nearest (least squares) to a free 4³ kernel K, and the relative
 * residual ‖K − W ⊛ box‖ / ‖K‖: what a fine-tune from an untied model loses at its start.
 */
export function projectToResizeKernel(k: Float32Array, inner: number): { kernel: Float32Array; residual: number } {
  const w = alongAxes(k, inner, BOX_PSEUDO_INVERSE, TIED_KERNEL);
  const back = expandResizeKernel(w, inner);
  let num = 0;
  let den = 0;
  for (let i = 0; i < k.length; i++) {
    num += (k[i] - back[i]) ** 2;
    den += k[i] ** 2;
  }
  return { kernel: w, residual: den > 0 ? Math.sqrt(num / den) : 0 };
}
