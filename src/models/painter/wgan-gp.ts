/**
 * One WGAN-GP training step of the halo painter (Kodi Ramanah, Charnock & Lavaux 2019, eq. 3.1;
 * Gulrajani et al. 2017): n_critic critic updates on
 *   L_D = E[D(G(x))] − E[D(y)] + λ E[(‖∇ D(x̂)‖ − 1)²],  x̂ = ε y + (1 − ε) G(x),
 * then one painter update on L_G = −E[D(G(x))], both with Adam.
 */
import type { Scalar, Tensor5D } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { PainterTf } from "./painter-tf.js";
import type { CriticTf } from "./critic-tf.js";

export interface WganGpOptions {
  /** Gradient-penalty weight λ (10). */
  lambda: number;
  /** Critic updates per painter update (5). */
  nCritic: number;
  learningRate: number;
  beta1: number;
  beta2: number;
}

export const PAPER_WGAN_GP: WganGpOptions = {
  lambda: 10,
  nCritic: 5,
  learningRate: 1e-4,
  beta1: 0.5,
  beta2: 0.999,
};

export interface WganGpLosses {
  critic: number;
  penalty: number;
  painter: number;
}

export class WganGpTrainer {
  private readonly criticOpt;
  private readonly painterOpt;

  constructor(
    private readonly tf: TensorFlow,
    readonly painter: PainterTf,
    readonly critic: CriticTf,
    readonly options: WganGpOptions = PAPER_WGAN_GP,
  ) {
    const o = options;
    this.criticOpt = tf.train.adam(o.learningRate, o.beta1, o.beta2);
    this.painterOpt = tf.train.adam(o.learningRate, o.beta1, o.beta2);
  }

  /**
   * One step on a batch: input densities x (B, S, S, S, 1), true halo fields y (B, S − 8, …, C);
   * `uniform` draws the interpolation weights ε (one per sample and critic update).
   */
  step(x: Tensor5D, y: Tensor5D, uniform: () => number): WganGpLosses {
    const tf = this.tf;
    const batch = x.shape[0];
    let critic = 0;
    let penalty = 0;
    for (let k = 0; k < this.options.nCritic; k++) {
      const fake = tf.tidy(() => this.painter.apply(x));
      const eps = tf.tensor5d(Float32Array.from({ length: batch }, uniform), [batch, 1, 1, 1, 1]);
      let gp = 0;
      const loss = this.criticOpt.minimize(
        () => {
          const p = this.critic.gradientPenalty(y, fake, eps);
          gp = p.dataSync()[0];
          return this.critic
            .apply(fake)
            .mean()
            .sub(this.critic.apply(y).mean())
            .add(p.mul(this.options.lambda)) as Scalar;
        },
        true,
        this.critic.variables(),
      );
      critic = loss?.dataSync()[0] ?? NaN;
      penalty = gp;
      loss?.dispose();
      fake.dispose();
      eps.dispose();
    }
    const g = this.painterOpt.minimize(
      () => this.critic.apply(this.painter.apply(x)).mean().neg() as Scalar,
      true,
      this.painter.variables(),
    );
    const painter = g?.dataSync()[0] ?? NaN;
    g?.dispose();
    return { critic, penalty, painter };
  }

  dispose(): void {
    this.criticOpt.dispose();
    this.painterOpt.dispose();
  }
}
