/**
 * Builds the WGAN critic (./critic-architecture.ts) from TensorFlow.js ops on trainable
 * variables: input (batch, S, S, S, C) NDHWC → score (batch, 1). Weights drawn like PyTorch's
 * defaults (uniform ±1/√fan_in), seeded per layer name.
 */
import type { Scalar, Tensor, Tensor2D, Tensor5D, Variable } from "@tensorflow/tfjs";
import type { CriticArchitecture } from "./critic-architecture.js";
import { initConvWeights, uniformStream } from "../weight-init.js";
import { convVariables, type ConvVariables } from "./painter-tf.js";
import type { TensorFlow } from "../kernels/tf-engine.js";

export class CriticTf {
  readonly convs: readonly ConvVariables[];
  readonly denseWeight: Variable;
  readonly denseBias: Variable;

  constructor(
    private readonly tf: TensorFlow,
    readonly arch: CriticArchitecture,
    seed: number,
  ) {
    this.convs = arch.convs.map((c) =>
      convVariables(
        tf,
        {
          name: c.name,
          inChannels: c.inChannels,
          outChannels: c.outChannels,
          kernel: c.kernel,
          activation: "leaky-relu",
        },
        initConvWeights(seed, c.name, c.inChannels, c.outChannels, c.kernel),
      ),
    );
    const u = uniformStream(seed, "critic.dense");
    const bound = 1 / Math.sqrt(arch.denseInputs);
    const w = Float32Array.from({ length: arch.denseInputs }, () => (2 * u() - 1) * bound);
    this.denseWeight = tf.variable(tf.tensor2d(w, [arch.denseInputs, 1]), true, "critic.dense.weight");
    this.denseBias = tf.variable(tf.tensor1d([(2 * u() - 1) * bound]), true, "critic.dense.bias");
  }

  /** Scores (batch, 1) of fields (batch, S, S, S, C). */
  apply(x: Tensor5D): Tensor2D {
    const tf = this.tf;
    let h = x;
    this.arch.convs.forEach((c, i) => {
      const v = this.convs[i];
      const y = tf.conv3d(h, v.filter as Tensor as Tensor5D, c.stride, "valid").add(v.bias) as Tensor5D;
      h = tf.leakyRelu(y, this.arch.leakySlope);
    });
    const flat = h.reshape([h.shape[0], this.arch.denseInputs]) as Tensor2D;
    return tf.matMul(flat, this.denseWeight as Tensor as Tensor2D).add(this.denseBias) as Tensor2D;
  }

  /**
   * The gradient penalty of WGAN-GP (Gulrajani et al. 2017, eq. 3 of Kodi Ramanah et al. 2019):
   * mean over the batch of (‖∇ₓ D(x̂)‖ − 1)² at x̂ = ε y + (1 − ε) ŷ, ε ~ U(0, 1) per sample.
   * Differentiable with respect to the critic's variables (a second-order gradient).
   */
  gradientPenalty(real: Tensor5D, fake: Tensor5D, epsilon: Tensor): Scalar {
    const tf = this.tf;
    const xh = epsilon.mul(real).add(tf.scalar(1).sub(epsilon).mul(fake)) as Tensor5D;
    const g = tf.grad((x: Tensor) => this.apply(x as Tensor5D).sum())(xh);
    const norms = g.reshape([g.shape[0], -1]).square().sum(1).sqrt();
    return norms.sub(1).square().mean() as Scalar;
  }

  variables(): Variable[] {
    return [...this.convs.flatMap((v) => [v.filter, v.bias]), this.denseWeight, this.denseBias];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
