/**
 * Band powers of painted and true halo patches, differentiable in TensorFlow.js, for the
 * power-matching term of the supervised painter loss.
 *
 * Why: a painter trained on a likelihood of the counts learns the conditional mean E[n | δ_2LPT].
 * Its spectrum is then P_pp(k) ≈ r_c(k)² P_hh(k), so the transfer function T = √(P_pp/P_hh) of
 * the paper's eq. 6.3 falls below 1 wherever the halo field is stochastic (T ≈ r_c). The paper's
 * adversarial loss is what restores the power; this term does it directly: it adds, per k band b,
 *   (ln (Σ_b |Λ_k|² / Λ̄²) − ln ((Σ_b |N_k|² − n_b Σ_x n_x) / N̄²))²,
 * with Λ the painted mean counts and N the true counts of the same patch (patch mean removed), the
 * Poisson shot noise of the counts (Σ_x n_x per mode) subtracted from the truth. Dividing by each
 * patch's squared mean compares the overdensities δ = n/n̄ − 1, as T(k) does: on raw counts the
 * painter could match the band power by raising its mean, which lowers its δ. r_c and the
 * stochasticity s = P_hh (1 − r_c²) (eqs 6.4–6.5) are unchanged by any isotropic filter on the
 * painted field, so the term moves T without trading away what the likelihood learned.
 *
 * The patch is transformed as a periodic cube of side S by a DFT restricted to |m| ≤ M per axis
 * (k = 2π m / (S Δx), M from the largest band edge): three matrix products, so gradients come from
 * matMul's and the cost is O(S³ M) instead of an FFT's that TF.js cannot differentiate in 3D.
 */
import type { Scalar, Tensor, Tensor5D } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";

export interface BandPowerGeometry {
  /** Patch side S (voxels). */
  side: number;
  /** Voxel size Δx, Mpc/h. */
  voxelSize: number;
  /** Band edges in k, h/Mpc, increasing; band b is edges[b] < |k| ≤ edges[b+1] (k = 0 never counts). */
  edges: readonly number[];
}

export interface BandPowerPlan {
  /** Frequencies m = −M … M of each axis. */
  frequencies: Int32Array;
  /** Per band, a 0/1 mask over the (2M+1)³ modes, row-major (x, y, z). */
  masks: Float32Array[];
  /** Modes in each band. */
  modes: number[];
  /** DFT tables (side × frequencies, row-major) and the masks as one (bands × modes³) matrix, built once per plan: the loss runs every step. */
  cos: Float32Array;
  sin: Float32Array;
  maskMatrix: Float32Array;
}

/** The DFT frequencies and band masks of a geometry; a band with no modes is an input error. */
export function bandPowerPlan(g: BandPowerGeometry): BandPowerPlan {
  const { side, voxelSize, edges } = g;
  if (!(Number.isInteger(side) && side >= 2)) throw new RangeError(`patch side ${side} must be an integer ≥ 2`);
  if (edges.length < 2) throw new RangeError("need at least two band edges");
  for (let i = 0; i < edges.length; i++)
    if (!(edges[i] >= 0 && (i === 0 || edges[i] > edges[i - 1])))
      throw new RangeError(`band edges must be ≥ 0 and increasing, got ${edges.join(", ")}`);
  const kf = (2 * Math.PI) / (side * voxelSize);
  const mMax = Math.min(Math.floor(edges[edges.length - 1] / kf), Math.floor((side - 1) / 2));
  const frequencies = Int32Array.from({ length: 2 * mMax + 1 }, (_, i) => i - mMax);
  const n = frequencies.length;
  const masks = Array.from({ length: edges.length - 1 }, () => new Float32Array(n ** 3));
  const modes = new Array<number>(edges.length - 1).fill(0);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++)
      for (let c = 0; c < n; c++) {
        const k = kf * Math.hypot(frequencies[a], frequencies[b], frequencies[c]);
        if (k === 0) continue;
        for (let band = 0; band < masks.length; band++)
          if (k > edges[band] && k <= edges[band + 1]) {
            masks[band][(a * n + b) * n + c] = 1;
            modes[band]++;
          }
      }
  modes.forEach((m, band) => {
    if (m === 0)
      throw new RangeError(
        `k band (${edges[band]}, ${edges[band + 1]}] h/Mpc holds no mode of a ${side}-voxel patch of ${voxelSize} Mpc/h voxels (fundamental k ${kf.toPrecision(3)})`,
      );
  });
  const cos = new Float32Array(side * n);
  const sin = new Float32Array(side * n);
  for (let j = 0; j < side; j++)
    for (let i = 0; i < n; i++) {
      const t = (2 * Math.PI * frequencies[i] * j) / side;
      cos[j * n + i] = Math.cos(t);
      sin[j * n + i] = Math.sin(t);
    }
  const maskMatrix = new Float32Array(masks.length * n ** 3);
  masks.forEach((m, b) => maskMatrix.set(m, b * n ** 3));
  return { frequencies, masks, modes, cos, sin, maskMatrix };
}

/**
 * Σ over each band of |F_k|² for every (batch, channel) field of x ([B, S, S, S, C]), patch mean
 * removed: a [B, C, bands] tensor. Call inside tf.tidy / variableGrads.
 */
export function bandPowers(tf: TensorFlow, x: Tensor5D, plan: BandPowerPlan): Tensor {
  const [batch, side, , , channels] = x.shape;
  const n = plan.frequencies.length;
  if (side * n !== plan.cos.length) throw new RangeError(`patch side ${side} is not the plan's`);
  const C = tf.tensor2d(plan.cos, [side, n]);
  const S = tf.tensor2d(plan.sin, [side, n]);
  // [B, C, x, y, z], mean removed per field.
  let f = x.transpose([0, 4, 1, 2, 3]);
  f = f.sub(f.mean([2, 3, 4], true));
  // DFT along the last axis then rotate it to the front of the spatial axes, three times.
  // With the kernel e^{−iθ} = cos θ − i sin θ on re + i·im: re' = re·C + im·S, im' = im·C − re·S.
  const lastAxis = (t: Tensor): Tensor => t.reshape([-1, t.shape[t.shape.length - 1]]);
  const rotate = (t: Tensor, lead: number[]): Tensor => t.reshape(lead).transpose([0, 1, 4, 2, 3]);
  let re: Tensor = f;
  let im: Tensor | null = null;
  for (let axis = 0; axis < 3; axis++) {
    const shape = re.shape as number[];
    const lead: number[] = [batch, channels, shape[2], shape[3], n];
    const r = lastAxis(re);
    let nextRe = r.matMul(C);
    let nextIm = r.matMul(S).neg();
    if (im) {
      const m = lastAxis(im);
      nextRe = nextRe.add(m.matMul(S));
      nextIm = nextIm.add(m.matMul(C));
    }
    re = rotate(nextRe, lead);
    im = rotate(nextIm, lead);
  }
  // After three rotations the axes are back in (x, y, z) order.
  const power = re.square().add((im as Tensor).square()).reshape([batch, channels, n ** 3]);
  const masks = tf.tensor2d(plan.maskMatrix, [plan.masks.length, n ** 3]);
  return power.matMul(masks.transpose()) as Tensor;
}

/**
 * The power-matching term: mean over (batch, channel, band) of (ln P_pred,b − ln P_true,b)² for
 * the patches' overdensities, P_true,b with the counts' Poisson shot noise (modes_b × Σ counts)
 * subtracted and floored at a tenth of the shot noise so a noise-dominated band cannot send the
 * logarithm to −∞.
 */
export function bandPowerLoss(tf: TensorFlow, pred: Tensor5D, truth: Tensor5D, plan: BandPowerPlan): Scalar {
  const perField = (x: Tensor5D) => x.mean([1, 2, 3]).reshape([x.shape[0], x.shape[4], 1]);
  const p = bandPowers(tf, pred, plan);
  const t = bandPowers(tf, truth, plan);
  const shot = perField(truth)
    .mul(truth.shape[1] * truth.shape[2] * truth.shape[3])
    .mul(tf.tensor1d(plan.modes).reshape([1, 1, -1]));
  const target = tf.maximum(t.sub(shot), shot.mul(0.1).add(1e-12));
  // ln of δ band powers: ln P − 2 ln n̄ for each side.
  const lnPred = tf.log(p.add(1e-12)).sub(tf.log(perField(pred).add(1e-12)).mul(2));
  const lnTrue = tf.log(target).sub(tf.log(perField(truth).add(1e-12)).mul(2));
  return lnPred.sub(lnTrue).square().mean() as Scalar;
}
