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

/**
 * Applies a (rows × side) matrix along each of the three leading spatial axes of a kernel of
 * side³ · inner values: one axis at a time, out[before, r, after] = Σ_t m[r][t] x[before, t, after].
 */
function alongAxes(x: Float32Array, inner: number, m: readonly (readonly number[])[], side: number): Float32Array {
  const rows = m.length;
  let cur = Float64Array.from(x);
  const dims = [side, side, side];
  for (let axis = 0; axis < 3; axis++) {
    const before = dims.slice(0, axis).reduce((a, d) => a * d, 1);
    const after = dims.slice(axis + 1).reduce((a, d) => a * d, inner);
    const out = new Float64Array(before * rows * after);
    for (let b = 0; b < before; b++)
      for (let r = 0; r < rows; r++)
        for (let t = 0; t < side; t++) {
          const coef = m[r][t];
          if (coef === 0) continue;
          const o = (b * rows + r) * after;
          const s = (b * side + t) * after;
          for (let q = 0; q < after; q++) out[o + q] += coef * cur[s + q];
        }
    cur = out;
    dims[axis] = rows;
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
