/**
 * Adam (Kingma & Ba 2015) whose whole state — moments and step count — can be saved and
 * restored exactly, so a resumed training run is bitwise identical to an uninterrupted one.
 * TensorFlow.js's own Adam cannot do that: it accumulates β^t by repeated float32
 * multiplication but restores it as pow(β, t), which rounds differently. Here β^t is computed
 * from the step count in double precision at every update, and the update is TensorFlow.js's:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  w ← w − lr · m̂ / (√v̂ + ε).
 */
import type { NamedTensorMap, Tensor, Variable } from "@tensorflow/tfjs";
import type { TensorFlow } from "../kernels/tf-engine.js";

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** TensorFlow.js's CPU default. */
  epsilon?: number;
}

export interface AdamState {
  step: number;
  /** Per variable (in the order given at construction): first and second moments. */
  m: Float32Array[];
  v: Float32Array[];
}

export class CheckpointableAdam {
  private step = 0;
  private readonly m: Variable[];
  private readonly v: Variable[];
  private readonly epsilon: number;
  readonly options: AdamOptions;

  constructor(
    private readonly tf: TensorFlow,
    readonly variables: readonly Variable[],
    options: AdamOptions,
  ) {
    this.options = { ...options };
    this.epsilon = options.epsilon ?? 1e-7;
    // Inside tidy so the zeros the variables are made from are released.
    this.m = variables.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    this.v = variables.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
  }

  /** Changes the learning rate of later updates (schedules; the moments are kept). */
  setLearningRate(learningRate: number): void {
    this.options.learningRate = learningRate;
  }

  /** One update from gradients keyed by variable name (variableGrads' output). */
  apply(grads: NamedTensorMap): void {
    const tf = this.tf;
    const { learningRate, beta1, beta2 } = this.options;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g: Tensor | undefined = grads[w.name];
        if (!g) throw new RangeError(`no gradient for ${w.name}`);
        const m = this.m[i].mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[i].mul(beta2).add(g.square().mul(1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = m.div(c1).div(v.div(c2).sqrt().add(this.epsilon)).mul(-learningRate);
        w.assign(w.add(update));
      });
    });
  }

  state(): AdamState {
    return {
      step: this.step,
      m: this.m.map((t) => Float32Array.from(t.dataSync())),
      v: this.v.map((t) => Float32Array.from(t.dataSync())),
    };
  }

  restore(state: AdamState): void {
    const tf = this.tf;
    if (state.m.length !== this.m.length || state.v.length !== this.v.length)
      throw new RangeError(`Adam state holds ${state.m.length} variables, expected ${this.m.length}`);
    this.step = state.step;
    tf.tidy(() => {
      this.m.forEach((t, i) => t.assign(tf.tensor(state.m[i], t.shape)));
      this.v.forEach((t, i) => t.assign(tf.tensor(state.v[i], t.shape)));
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
