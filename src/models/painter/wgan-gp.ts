/**
 * One WGAN-GP training step of the halo painter (Kodi Ramanah, Charnock & Lavaux 2019, eq. 3.1;
 * Gulrajani et al. 2017): n_critic critic updates on
 *   L_D = E[D(G(x))] − E[D(y)] + λ E[(‖∇ D(x̂)‖ − 1)²],  x̂ = ε y + (1 − ε) G(x),
 * then one painter update on L_G = −E[D(G(x))], both with Adam.
 *
 * G(x) is painted once per step and shared by the n_critic critic updates: they all use the same
 * batch and only change the critic, so every repaint would give the same tensor bit for bit (the
 * painter is deterministic); the painter update then paints again, differentiably.
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
  /**
   * Paint G(x) again for every critic update (as the PyTorch peer does) instead of once per
   * step. Both give the same numbers: the painter's weights do not change during the critic
   * updates and every update uses the same batch, so repainting only costs time; it exists for
   * like-for-like benchmarks. Default false.
   */
  repaintPerCriticUpdate?: boolean;
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
    const repaint = this.options.repaintPerCriticUpdate === true;
    let fake: Tensor5D | null = null;
    for (let k = 0; k < this.options.nCritic; k++) {
      if (fake === null || repaint) {
        fake?.dispose();
        fake = tf.tidy(() => this.painter.apply(x));
      }
      const painted: Tensor5D = fake;
      const eps = tf.tensor5d(Float32Array.from({ length: batch }, uniform), [batch, 1, 1, 1, 1]);
      let gp = 0;
      const loss = this.criticOpt.minimize(
        () => {
          const p = this.critic.gradientPenalty(y, painted, eps);
          gp = p.dataSync()[0];
          return this.critic
            .apply(painted)
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
      eps.dispose();
    }
    fake?.dispose();
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
