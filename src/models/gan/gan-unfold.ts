/**
 * A trained generator carried back from its exported .onnx (batch norm folded into the
 * convolutions, ./gan-onnx.ts) to trainable weights with batch norm, so a shipped model can be
 * fine-tuned without the run's checkpoints.
 *
 * Folding keeps only W' = W γ/√(σ² + ε) and b' = β − μ γ/√(σ² + ε); γ, β, μ, σ² themselves are
 * lost. Any choice with the same W' and b' gives the same inference output, and the one that
 * also keeps training mode (batch moments instead of μ, σ²) close to it sets the moving
 * statistics to the population moments (m, v) of the pre-norm activation y = W' * x of each
 * layer, measured on probe latents of the model's prior with the layers before it evaluated as
 * in inference, and
 *   γ = √(v + ε),  β = m + b',  μ = m,  σ² = v,
 * so that inference gives (y − m)·1 + m + b' = y + b' (exactly the .onnx) and training mode
 * (y − m_B)·√(v + ε)/√(v_B + ε) + m + b', which differs only by the batch's moment noise.
 * A latent width s ≠ 1 on the card is folded into the first layer's latent inputs (z s W =
 * z (s W)), so the fine-tune draws at width 1 and starts from the selected model.
 */
import type { Tensor5D } from "@tensorflow/tfjs-core";
import type { TensorFlow } from "../kernels/tf-engine.js";
import { GAN_BATCH_NORM_EPSILON, GAN_LEAKY_SLOPE, type GanArchitecture } from "./architecture.js";
import type { FoldedGanLayer } from "./gan-native.js";
import { onnxToTfTransposedFilter } from "./gan-tf.js";
import type { GanLayerWeights } from "./gan-weights.js";

/**
 * The first generator layer's weight (in, out, k³) taking latents drawn at width 1 where the
 * model drew them at width s: z s W = z (s W) on the latent inputs only (a cGAN's z channel,
 * the last input, stays). The same array when s = 1.
 */
export function withLatentWidth(arch: GanArchitecture, weight: Float32Array, scale: number): Float32Array {
  if (scale === 1) return weight;
  const first = arch.generator[0];
  const latentWeights = arch.latentDim * first.outChannels * first.kernel ** 3;
  return weight.map((w, k) => (k < latentWeights ? w * scale : w));
}

/**
 * Generator weights (ONNX layouts, ./gan-weights.ts) equivalent to `folded`, with the moving
 * statistics measured on `probe` (count × latent width rows); `latentScale` is the card's width.
 */
export function unfoldGenerator(
  tf: TensorFlow,
  arch: GanArchitecture,
  folded: readonly FoldedGanLayer[],
  probe: Float32Array,
  latentScale = 1,
): Map<string, GanLayerWeights> {
  const width = arch.generator[0].inChannels;
  const count = probe.length / width;
  if (!Number.isInteger(count) || count < 2)
    throw new RangeError(`probe latents: ${probe.length} values are not ≥ 2 rows of width ${width}`);
  if (folded.length !== arch.generator.length)
    throw new RangeError(`${folded.length} folded layers for a generator of ${arch.generator.length}`);
  const out = new Map<string, GanLayerWeights>();
  let h = tf.tensor(probe, [count, 1, 1, 1, width]) as Tensor5D;
  folded.forEach((f, i) => {
    const l = arch.generator[i];
    if (f.layer.name !== l.name) throw new RangeError(`folded layer ${f.layer.name} where ${l.name} was expected`);
    const weight = i === 0 ? withLatentWidth(arch, f.weight, latentScale) : f.weight;
    const next = tf.tidy(() => {
      const filter = tf.tensor5d(onnxToTfTransposedFilter(weight, l.inChannels, l.outChannels, l.kernel), [
        l.kernel,
        l.kernel,
        l.kernel,
        l.outChannels,
        l.inChannels,
      ]);
      const y = tf.conv3dTranspose(
        h,
        filter,
        [count, l.outSide, l.outSide, l.outSide, l.outChannels],
        l.stride,
        l.pad === 0 ? "valid" : "same",
      );
      const z = y.add(tf.tensor1d(f.bias));
      if (l.batchNorm) {
        // Moments in double precision from the float32 activations.
        const values = y.dataSync();
        const c = l.outChannels;
        const n = values.length / c;
        const m = new Float64Array(c);
        for (let k = 0; k < values.length; k++) m[k % c] += values[k];
        for (let o = 0; o < c; o++) m[o] /= n;
        const v = new Float64Array(c);
        for (let k = 0; k < values.length; k++) v[k % c] += (values[k] - m[k % c]) ** 2;
        for (let o = 0; o < c; o++) v[o] /= n;
        out.set(l.name, {
          weight,
          gamma: Float32Array.from(v, (x) => Math.sqrt(x + GAN_BATCH_NORM_EPSILON)),
          beta: Float32Array.from(m, (x, o) => x + f.bias[o]),
          movingMean: Float32Array.from(m),
          movingVariance: Float32Array.from(v),
        });
      } else out.set(l.name, { weight, bias: Float32Array.from(f.bias) });
      if (l.activation === "relu") return tf.relu(z);
      if (l.activation === "leaky-relu") return tf.leakyRelu(z, GAN_LEAKY_SLOPE);
      if (l.activation === "tanh") return tf.tanh(z);
      return z;
    }) as Tensor5D;
    h.dispose();
    h = next;
  });
  h.dispose();
  return out;
}
