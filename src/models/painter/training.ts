/**
 * Training the halo painter (Kodi Ramanah, Charnock & Lavaux 2019, §III): an optional supervised
 * warm start, then WGAN-GP (their eq. 3.1; Gulrajani et al. 2017) with n_critic critic updates
 *   L_D = E[D(G(x))] − E[D(y)] + λ E[(‖∇ D(x̂)‖ − 1)²],  x̂ = ε y + (1 − ε) G(x),
 * per painter update on L_G = −E[D(G(x))] — the loss of wgan-gp.ts, here with optimisers whose
 * state can be checkpointed exactly (./checkpointable-adam.ts).
 *
 * Warm start (documented option, off by default): M steps of Adam on a loss on the counts —
 * mean squared error, or the Poisson negative log-likelihood μ − y ln μ, which treats halo counts
 * as Poisson draws of the painted mean — so the adversarial phase starts from a painter whose
 * output already has the right amplitude instead of from noise. Optionally a band-power term
 * (./band-power.ts) is added to that loss: a likelihood alone learns the conditional mean, whose
 * power falls short of the haloes' by r_c², and the term restores it (the mean count, which it
 * leaves free, is then calibrated on the training set: ./mean-calibration.ts). `initModel` starts from a
 * trained painter's weights instead of seeded ones (fine-tuning).
 *
 * Every random choice (patches, symmetries, ε) comes from counter-based streams keyed by the
 * seed and the step (./training-data.ts), so a run is deterministic for a seed and a run
 * resumed from a checkpoint repeats the uninterrupted one bit for bit.
 */
import fs from "node:fs";
import path from "node:path";
import type { NamedTensorMap, Scalar, Tensor5D } from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { VoxelStream } from "../../cosmo/halo-sampling.js";
import { InputError, writeAtomically } from "../../io/atomic-file.js";
import { sha256Hex, writeModelWithCard } from "../../io/model-file.js";
import { SOFTWARE_VERSION } from "../../version.js";
import { loadTensorFlowEngine, type TensorFlow } from "../kernels/tf-engine.js";
import type { ModelCard, ModelCardParity } from "../model-card.js";
import { painterArchitecture, type PainterArchitecture } from "./architecture.js";
import { CheckpointableAdam, type AdamState } from "./checkpointable-adam.js";
import { bandPowerLoss, bandPowerPlan, type BandPowerPlan } from "./band-power.js";
import { criticArchitecture } from "./critic-architecture.js";
import { loadInitialWeights, type InitialWeights } from "./init-weights.js";
import { calibrateOutputMean, meanCountsOf } from "./mean-calibration.js";
import { CriticTf } from "./critic-tf.js";
import {
  buildPainterOnnx,
  PAINTER_INPUT,
  PAINTER_OUTPUT,
  randomPainterWeights,
  type PainterWeights,
} from "./painter-onnx.js";
import { PainterTf } from "./painter-tf.js";
import { painterWeightsJson, PAINTER_WEIGHTS_FORMAT } from "./painter-weights-json.js";
import {
  checkpointDirectory,
  startingCheckpoint,
  saveTrainingCheckpoint,
  type Checkpoint,
} from "./training-checkpoint.js";
import {
  loadTrainingSet,
  patchBatch,
  STREAM_CRITIC_EPSILON,
  STREAM_TRAINING_PATCHES,
  STREAM_VALIDATION_PATCHES,
  type MassBinChoice,
  type PatchBatch,
  type TrainingSet,
  type TrainingSimulation,
} from "./training-data.js";
import { PAPER_WGAN_GP, type WganGpOptions } from "./wgan-gp.js";

/** What training reports progress to (pipeline/progress.ts's Progress fits; models/ does not import pipeline/). */
export interface TrainingProgress {
  start(task: string, total: number): void;
  advance(task: string, done: number): void;
  finish(task: string, message?: string): void;
  info(message: string): void;
}

export type WarmStartLoss = "mse" | "poisson";
export const WARM_START_LOSSES: readonly WarmStartLoss[] = ["mse", "poisson"];

export interface PainterTrainingConfig {
  /** Data roots holding sim-NNN/ simulations (mocksmith nbody-set). */
  data: string[];
  redshift: number;
  massBins: MassBinChoice;
  /** Validation simulations: a count, or a fraction in (0, 1). */
  validationSims: number;
  /** Fixed held-out patches scored at every checkpoint. */
  validationPatches: number;
  /** Input patch side (target side patch − 8). */
  patch: number;
  batch: number;
  /** WGAN-GP steps (one painter update each). */
  steps: number;
  warmStartSteps: number;
  warmStartLoss: WarmStartLoss;
  warmStartLearningRate: number;
  /** Weight β of the band-power term added to the warm-start loss (0: none). */
  powerWeight: number;
  /** Its k-band edges, h/Mpc. */
  powerBands: number[];
  /** A trained painter (.onnx with card and weights) to start from instead of seeded weights. */
  initModel?: string;
  seed: number;
  checkpointEvery: number;
  wgan: WganGpOptions;
  output: string;
}

export const DEFAULT_TRAINING: Omit<PainterTrainingConfig, "data" | "output" | "steps" | "seed"> = {
  redshift: 0,
  massBins: "total",
  validationSims: 0.2,
  validationPatches: 8,
  patch: 58,
  batch: 1,
  warmStartSteps: 0,
  warmStartLoss: "poisson",
  warmStartLearningRate: 1e-3,
  powerWeight: 0,
  powerBands: [0, 0.1, 0.2, 0.3, 0.4],
  checkpointEvery: 100,
  wgan: PAPER_WGAN_GP,
};

export interface TrainingOutcome {
  onnxPath: string;
  weightsPath: string;
  card: ModelCard;
  /** Steps run by this process (after any resume). */
  stepsRun: number;
  resumedFromStep: number | null;
  /** Mean wall time per step of each phase run by this process, seconds. */
  secondsPerStep: { warmStart: number | null; wgan: number | null };
  engine: string;
}

const PADDING = painterArchitecture().padding;
const PARITY_TOLERANCE = 1e-5;
const RNG_ALGORITHM = "triple32-counter-v1 (VoxelStream; patches, symmetries, ε)";

/** Rejects settings that cannot train, before any data is read. */
export function checkTrainingConfig(c: PainterTrainingConfig): void {
  if (c.patch <= 2 * PADDING)
    throw new InputError(
      "--patch",
      `${c.patch} leaves no output: the painter trims ${PADDING} voxels from each face, so the patch must be ≥ ${2 * PADDING + 1}`,
    );
  const critic = c.patch - 2 * PADDING;
  if (c.steps > 0 && critic < 23)
    throw new InputError(
      "--patch",
      `${c.patch} gives painted patches of side ${critic}; the critic (7³ stride 2, 5³, 3³ stride 2) needs ≥ 23, so WGAN-GP needs --patch ≥ ${23 + 2 * PADDING}`,
    );
  if (c.steps + c.warmStartSteps < 1)
    throw new InputError("--steps", "nothing to train: --steps and --warm-start-steps are both 0");
  if (!(c.powerWeight >= 0 && Number.isFinite(c.powerWeight)))
    throw new InputError("--power-weight", `${c.powerWeight} must be a finite number ≥ 0`);
  if (c.powerWeight > 0 && c.warmStartSteps === 0)
    throw new InputError("--power-weight", "the band-power term belongs to the warm-start loss; it needs --warm-start-steps > 0");
}

function fingerprint(
  c: PainterTrainingConfig,
  set: TrainingSet,
  init: InitialWeights | null,
): Record<string, unknown> {
  return {
    train: set.train.map((s) => s.manifestSha256),
    validation: set.validation.map((s) => s.manifestSha256),
    redshift: c.redshift,
    massBins: c.massBins,
    validationPatches: c.validationPatches,
    patch: c.patch,
    batch: c.batch,
    warmStartSteps: c.warmStartSteps,
    warmStartLoss: c.warmStartLoss,
    warmStartLearningRate: c.warmStartLearningRate,
    // Absent when unused, so checkpoints of runs without them stay resumable.
    ...(c.powerWeight > 0 ? { powerWeight: c.powerWeight, powerBands: c.powerBands } : {}),
    ...(init ? { initialWeights: init.sha256 } : {}),
    seed: c.seed,
    wgan: c.wgan,
  };
}


/** Smallest initial output bias: keeps the ReLU output alive even for a set without haloes. */
const MIN_OUTPUT_BIAS = 1e-3;

/**
 * Seeded PyTorch-default weights, except the output layer's bias, set to the mean count per
 * voxel of the training set: with the default init the ReLU output is often zero everywhere, and
 * a dead ReLU gets no gradient, so training would never start; starting at the mean it does.
 */
export function initialPainterWeights(
  arch: PainterArchitecture,
  seed: number,
  meanCounts: readonly number[],
): PainterWeights {
  const w = new Map(randomPainterWeights(arch, seed));
  const out = arch.head[arch.head.length - 1];
  const layer = w.get(out.name);
  if (!layer || meanCounts.length !== out.outChannels)
    throw new RangeError(`need ${out.outChannels} mean count(s) for ${out.name}`);
  w.set(out.name, {
    weight: layer.weight,
    bias: Float32Array.from(meanCounts, (m) => Math.max(m, MIN_OUTPUT_BIAS)),
  });
  return w;
}


/** Everything that changes during training, in one place for checkpoints. */
class TrainingState {
  readonly painter: PainterTf;
  readonly critic: CriticTf | null;
  readonly warmAdam: CheckpointableAdam | null;
  readonly painterAdam: CheckpointableAdam | null;
  readonly criticAdam: CheckpointableAdam | null;

  constructor(
    readonly tf: TensorFlow,
    readonly config: PainterTrainingConfig,
    channels: number,
    meanCounts: readonly number[],
    readonly powerPlan: BandPowerPlan | null,
    init: PainterWeights | null,
  ) {
    const arch = painterArchitecture(channels);
    this.painter = new PainterTf(tf, arch, init ?? initialPainterWeights(arch, config.seed, meanCounts));
    const w = config.wgan;
    const adam = { learningRate: w.learningRate, beta1: w.beta1, beta2: w.beta2 };
    this.warmAdam =
      config.warmStartSteps > 0
        ? new CheckpointableAdam(tf, this.painter.variables(), {
            ...adam,
            learningRate: config.warmStartLearningRate,
          })
        : null;
    if (config.steps > 0) {
      this.critic = new CriticTf(tf, criticArchitecture(config.patch - 2 * PADDING, channels), config.seed);
      this.painterAdam = new CheckpointableAdam(tf, this.painter.variables(), adam);
      this.criticAdam = new CheckpointableAdam(tf, this.critic.variables(), adam);
    } else {
      this.critic = null;
      this.painterAdam = null;
      this.criticAdam = null;
    }
  }

  private optimisers(): [string, CheckpointableAdam | null][] {
    return [
      ["warm", this.warmAdam],
      ["painter", this.painterAdam],
      ["critic", this.criticAdam],
    ];
  }

  tensors(): { tensors: Map<string, Float32Array>; steps: Record<string, number> } {
    const t = new Map<string, Float32Array>();
    for (const v of this.painter.variables()) t.set(`painter/${v.name}`, Float32Array.from(v.dataSync()));
    for (const v of this.critic?.variables() ?? [])
      t.set(`critic/${v.name}`, Float32Array.from(v.dataSync()));
    const steps: Record<string, number> = {};
    for (const [name, opt] of this.optimisers()) {
      if (!opt) continue;
      const s = opt.state();
      steps[name] = s.step;
      opt.variables.forEach((v, i) => {
        t.set(`adam.${name}.m/${v.name}`, s.m[i]);
        t.set(`adam.${name}.v/${v.name}`, s.v[i]);
      });
    }
    return { tensors: t, steps };
  }

  /**
   * Loads a checkpoint. One written by a warm-start-only run (`--steps 0`) has no critic and no
   * adversarial Adam state; when it stops inside the warm start (step ≤ warmStartSteps) those are
   * still at their seeded initial values in an uninterrupted run, so they are kept as constructed
   * and `--resume --steps K` continues into WGAN-GP exactly as a run asked for K steps from the
   * start would.
   */
  restore(ckpt: Checkpoint, warmStartSteps: number): void {
    const tf = this.tf;
    const adversaryMayBeFresh = ckpt.header.step <= warmStartSteps;
    const get = (name: string): Float32Array => {
      const d = ckpt.tensors.get(name);
      if (!d) throw new InputError(ckpt.file, `checkpoint lacks tensor ${name}`);
      return d;
    };
    const freshCritic =
      adversaryMayBeFresh &&
      (this.critic?.variables() ?? []).every((v) => !ckpt.tensors.has(`critic/${v.name}`));
    tf.tidy(() => {
      for (const v of this.painter.variables()) v.assign(tf.tensor(get(`painter/${v.name}`), v.shape));
      if (!freshCritic)
        for (const v of this.critic?.variables() ?? []) v.assign(tf.tensor(get(`critic/${v.name}`), v.shape));
    });
    for (const [name, opt] of this.optimisers()) {
      if (!opt) continue;
      if (adversaryMayBeFresh && name !== "warm" && ckpt.header.optimiserSteps[name] === undefined) continue;
      const state: AdamState = {
        step: ckpt.header.optimiserSteps[name] ?? 0,
        m: opt.variables.map((v) => get(`adam.${name}.m/${v.name}`)),
        v: opt.variables.map((v) => get(`adam.${name}.v/${v.name}`)),
      };
      opt.restore(state);
    }
  }

  dispose(): void {
    this.painter.dispose();
    this.critic?.dispose();
    for (const [, opt] of this.optimisers()) opt?.dispose();
  }
}

function toTensors(tf: TensorFlow, b: PatchBatch): { x: Tensor5D; y: Tensor5D } {
  return {
    x: tf.tensor5d(b.input, [b.batch, b.patch, b.patch, b.patch, 1]),
    y: tf.tensor5d(b.target, [b.batch, b.targetSide, b.targetSide, b.targetSide, b.channels]),
  };
}

const POISSON_FLOOR = 1e-6;

function supervisedLoss(tf: TensorFlow, kind: WarmStartLoss, pred: Tensor5D, y: Tensor5D): Scalar {
  if (kind === "mse") return pred.sub(y).square().mean() as Scalar;
  const mu = pred.add(POISSON_FLOOR);
  return mu.sub(y.mul(tf.log(mu))).mean() as Scalar;
}

function applyGradients(opt: CheckpointableAdam, value: Scalar, grads: NamedTensorMap): number {
  opt.apply(grads);
  const v = value.dataSync()[0];
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  return v;
}

function warmStartStep(state: TrainingState, x: Tensor5D, y: Tensor5D): Record<string, number> {
  const tf = state.tf;
  const opt = state.warmAdam as CheckpointableAdam;
  const plan = state.powerPlan;
  const kind = state.config.warmStartLoss;
  if (!plan) {
    const { value, grads } = tf.variableGrads(
      () => supervisedLoss(tf, kind, state.painter.apply(x), y),
      state.painter.variables(),
    );
    return { [kind]: applyGradients(opt, value, grads) };
  }
  let supervised = NaN;
  let power = NaN;
  const { value, grads } = tf.variableGrads(() => {
    const pred = state.painter.apply(x);
    const s = supervisedLoss(tf, kind, pred, y);
    const p = bandPowerLoss(tf, pred, y, plan);
    supervised = s.dataSync()[0];
    power = p.dataSync()[0];
    return s.add(p.mul(state.config.powerWeight)) as Scalar;
  }, state.painter.variables());
  return { [kind]: supervised, power, total: applyGradients(opt, value, grads) };
}

/** One WGAN-GP step (n_critic critic updates, one painter update); ε keyed by (seed, step, k, b). */
function wganStep(state: TrainingState, x: Tensor5D, y: Tensor5D, step: number): Record<string, number> {
  const tf = state.tf;
  const critic = state.critic as CriticTf;
  const o = state.config.wgan;
  const batch = x.shape[0];
  const stream = new VoxelStream();
  let criticLoss = NaN;
  let penalty = NaN;
  // Painted once: only the critic's variables change between the n_critic updates and they all
  // use this batch, so G(x) is the same tensor each time (bitwise; see wgan-gp.ts).
  const fake = tf.tidy(() => state.painter.apply(x));
  for (let k = 0; k < o.nCritic; k++) {
    const eps = tf.tensor5d(
      Float32Array.from({ length: batch }, (_, b) =>
        stream.reset(state.config.seed, STREAM_CRITIC_EPSILON, (step * o.nCritic + k) * batch + b).uniform(),
      ),
      [batch, 1, 1, 1, 1],
    );
    const { value, grads } = tf.variableGrads(() => {
      const p = critic.gradientPenalty(y, fake, eps);
      penalty = p.dataSync()[0];
      return critic.apply(fake).mean().sub(critic.apply(y).mean()).add(p.mul(o.lambda)) as Scalar;
    }, critic.variables());
    criticLoss = applyGradients(state.criticAdam as CheckpointableAdam, value, grads);
    eps.dispose();
  }
  fake.dispose();
  const { value, grads } = tf.variableGrads(
    () => critic.apply(state.painter.apply(x)).mean().neg() as Scalar,
    state.painter.variables(),
  );
  const painterLoss = applyGradients(state.painterAdam as CheckpointableAdam, value, grads);
  return { critic: criticLoss, penalty, painter: painterLoss };
}

/** Scores on held-out patches: MSE and Poisson deviance of the counts, means, critic distance. */
function validate(state: TrainingState, batches: readonly PatchBatch[]): Record<string, number> {
  const tf = state.tf;
  let se = 0;
  let dev = 0;
  let painted = 0;
  let truth = 0;
  let n = 0;
  let wasserstein = 0;
  for (const b of batches) {
    tf.tidy(() => {
      const { x, y } = toTensors(tf, b);
      const pred = state.painter.apply(x);
      se += pred.sub(y).square().sum().dataSync()[0];
      const mu = pred.add(POISSON_FLOOR);
      // 2 Σ [y ln(y/μ) − (y − μ)], with y ln y = 0 at y = 0.
      const ylny = tf.where(y.greater(0), y.mul(tf.log(y.maximum(POISSON_FLOOR))), tf.zerosLike(y));
      dev += ylny
        .sub(y.mul(tf.log(mu)))
        .sub(y)
        .add(mu)
        .sum()
        .mul(2)
        .dataSync()[0];
      painted += pred.sum().dataSync()[0];
      truth += y.sum().dataSync()[0];
      n += y.size;
      if (state.critic)
        wasserstein += state.critic.apply(y).sub(state.critic.apply(pred)).sum().dataSync()[0];
    });
  }
  const patches = batches.reduce((s, b) => s + b.batch, 0);
  const out: Record<string, number> = {
    validationMse: se / n,
    validationPoissonDeviance: dev / n,
    validationMeanPainted: painted / n,
    validationMeanTrue: truth / n,
  };
  if (state.critic) out.validationCriticDistance = wasserstein / patches;
  return out;
}

function validationBatches(c: PainterTrainingConfig, sims: readonly TrainingSimulation[]): PatchBatch[] {
  if (sims.length === 0 || c.validationPatches === 0) return [];
  const out: PatchBatch[] = [];
  for (let first = 0; first < c.validationPatches; first += c.batch) {
    out.push(
      patchBatch(sims, {
        seed: c.seed,
        purpose: STREAM_VALIDATION_PATCHES,
        first,
        batch: Math.min(c.batch, c.validationPatches - first),
        patch: c.patch,
        padding: PADDING,
      }),
    );
  }
  return out;
}

/** "step 10, phase wgan-gp, critic -0.1234, …": a history entry as one line. */
export function summaryLine(entry: Record<string, number | string>): string {
  return Object.entries(entry)
    .map(([k, v]) => `${k} ${typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(4) : v}`)
    .join(", ");
}

/** ONNX Runtime on the exported bytes against the TF.js painter on one patch. */
async function checkParity(state: TrainingState, bytes: Uint8Array, b: PatchBatch): Promise<ModelCardParity> {
  const tf = state.tf;
  const p = b.patch;
  const x = b.input.subarray(0, p ** 3);
  const c = b.channels;
  const t = b.targetSide;
  const ours = tf.tidy(() => state.painter.apply(tf.tensor5d(x, [1, p, p, p, 1])).dataSync());
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({
      [PAINTER_INPUT]: new ort.Tensor("float32", Float32Array.from(x), [1, 1, p, p, p]),
    });
    const ref = out[PAINTER_OUTPUT].data as Float32Array;
    let diff = 0;
    let scale = 0;
    const t3 = t ** 3;
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < t3; i++) {
        const r = ref[ch * t3 + i];
        diff = Math.max(diff, Math.abs(ours[i * c + ch] - r));
        scale = Math.max(scale, Math.abs(r));
      }
    return {
      reference: "onnxruntime-node CPU",
      side: p,
      maxAbsDifference: diff,
      scale,
      tolerance: PARITY_TOLERANCE,
    };
  } finally {
    await session.release();
  }
}

/** Trains, checkpoints, and exports OUT/painter.onnx, OUT/painter.card.json and OUT/painter.weights.json. */
export async function trainPainter(
  config: PainterTrainingConfig,
  options: {
    resume?: boolean;
    progress: TrainingProgress;
    threads?: number;
    /** Receives each history entry (mean losses of an interval, validation scores); default: a progress info line. */
    onLosses?: (entry: Readonly<Record<string, number | string>>) => void;
  },
): Promise<TrainingOutcome> {
  checkTrainingConfig(config);
  const progress = options.progress;
  const set = loadTrainingSet({
    data: config.data,
    redshift: config.redshift,
    massBins: config.massBins,
    validation: config.validationSims,
  });
  fs.mkdirSync(config.output, { recursive: true });
  const init = config.initModel
    ? loadInitialWeights(config.initModel, painterArchitecture(set.channels), set.voxelSize)
    : null;
  let powerPlan: BandPowerPlan | null = null;
  if (config.powerWeight > 0)
    try {
      powerPlan = bandPowerPlan({ side: config.patch - 2 * PADDING, voxelSize: set.voxelSize, edges: config.powerBands });
    } catch (err) {
      throw new InputError("--power-bands", (err as Error).message);
    }
  const fp = fingerprint(config, set, init);
  const ckptDir = checkpointDirectory(config.output);
  const ckpt = startingCheckpoint(config.output, options.resume ?? false, fp, config.warmStartSteps + config.steps, (m) =>
    progress.info(m),
  );

  const engine = await loadTensorFlowEngine(
    options.threads === undefined ? {} : { threads: options.threads },
  );
  const tf = engine.tf;
  const state = new TrainingState(
    tf,
    config,
    set.channels,
    meanCountsOf(set.train),
    powerPlan,
    init?.weights ?? null,
  );
  try {
    const history: Record<string, number | string>[] = ckpt ? [...ckpt.header.history] : [];
    let step = 0;
    if (ckpt) {
      state.restore(ckpt, config.warmStartSteps);
      step = ckpt.header.step;
      progress.info(`resumed from ${path.basename(ckpt.file)} (step ${step})`);
    }
    const valBatches = validationBatches(config, set.validation);
    const total = config.warmStartSteps + config.steps;
    const resumedFromStep = ckpt ? step : null;
    // Losses summed over the current interval; checkpointed so a resumed run's history matches.
    const sums = new Map<string, number>(Object.entries(ckpt?.header.interval.sums ?? {}));
    let inInterval = ckpt?.header.interval.count ?? 0;
    const time = { warm: 0, warmSteps: 0, wgan: 0, wganSteps: 0 };
    // History entries close at multiples of K and at the end of the warm start (fixed by the
    // settings, so identical for resumed and uninterrupted runs); a run that stops between
    // boundaries reports its partial interval in the card only.
    const boundary = (s: number) => s % config.checkpointEvery === 0 || s === config.warmStartSteps;
    const intervalEntry = (phase: string): Record<string, number | string> => {
      const entry: Record<string, number | string> = { step, phase };
      for (const [k, v] of sums) entry[k] = v / inInterval;
      if (valBatches.length > 0) Object.assign(entry, validate(state, valBatches));
      if (options.onLosses) options.onLosses(entry);
      else progress.info(`train: ${summaryLine(entry)}`);
      return entry;
    };
    const saveCheckpoint = () =>
      saveTrainingCheckpoint(ckptDir, state, {
        step,
        fingerprint: fp,
        rng: { algorithm: RNG_ALGORITHM, seed: config.seed },
        history,
        interval: { count: inInterval, sums },
      });

    progress.start("train painter", total);
    progress.advance("train painter", step);
    const stepsAtStart = step;
    while (step < total) {
      const warm = step < config.warmStartSteps;
      const b = patchBatch(set.train, {
        seed: config.seed,
        purpose: STREAM_TRAINING_PATCHES,
        first: step * config.batch,
        batch: config.batch,
        patch: config.patch,
        padding: PADDING,
      });
      const t0 = performance.now();
      const { x, y } = toTensors(tf, b);
      const losses = warm ? warmStartStep(state, x, y) : wganStep(state, x, y, step);
      x.dispose();
      y.dispose();
      const dt = (performance.now() - t0) / 1000;
      if (warm) {
        time.warm += dt;
        time.warmSteps++;
      } else {
        time.wgan += dt;
        time.wganSteps++;
      }
      for (const [k, v] of Object.entries(losses)) {
        if (!Number.isFinite(v))
          throw new InputError(config.output, `training diverged at step ${step + 1}: ${k} loss is ${v}`);
        sums.set(k, (sums.get(k) ?? 0) + v);
      }
      inInterval++;
      step++;
      progress.advance("train painter", step);
      if (boundary(step)) {
        history.push(intervalEntry(warm ? "warm-start" : "wgan-gp"));
        sums.clear();
        inInterval = 0;
      }
      if (boundary(step) || step === total) saveCheckpoint();
    }
    if (inInterval > 0) history.push(intervalEntry(step <= config.warmStartSteps ? "warm-start" : "wgan-gp"));
    progress.finish("train painter");

    // The band-power term leaves the mean count free: set it on the training simulations
    // (mean-calibration.ts). After the last checkpoint, so a resumed run exports the same.
    const calibration =
      config.powerWeight > 0 ? calibrateOutputMean(tf, state.painter, set.train, PADDING) : null;
    if (calibration)
      progress.info(
        `mean count calibrated on the training simulations: ×${calibration.factors.map((f) => f.toFixed(4)).join(", ")}`,
      );

    // Export: weights JSON, then ONNX + card (each atomic), after checking ONNX against TF.js.
    const arch = state.painter.arch;
    const weights = state.painter.weights();
    const bytes = buildPainterOnnx(arch, weights);
    const probe =
      valBatches[0] ??
      patchBatch(set.train, {
        seed: config.seed,
        purpose: STREAM_VALIDATION_PATCHES,
        first: 0,
        batch: 1,
        patch: config.patch,
        padding: PADDING,
      });
    const parity = await checkParity(state, bytes, probe);
    if (!(parity.maxAbsDifference <= PARITY_TOLERANCE * Math.max(1, parity.scale)))
      throw new Error(
        `exported ONNX graph differs from the trained TF.js painter by ${parity.maxAbsDifference} (tolerance ${PARITY_TOLERANCE} × max(1, ${parity.scale})); not exporting`,
      );
    const weightsText = painterWeightsJson(arch, weights);
    const weightsPath = path.join(config.output, "painter.weights.json");
    writeAtomically(weightsPath, (tmp) => fs.writeFileSync(tmp, weightsText));
    const last = history.at(-1) ?? {};
    const validation = Object.fromEntries(
      Object.entries(last).filter(
        (e): e is [string, number] => e[0].startsWith("validation") && typeof e[1] === "number",
      ),
    );
    const onnxPath = path.join(config.output, "painter.onnx");
    const card = writeModelWithCard(onnxPath, bytes, {
      name: "halo-painter",
      architecture: arch.name,
      inputName: PAINTER_INPUT,
      outputName: PAINTER_OUTPUT,
      inputChannels: arch.inChannels,
      outputChannels: arch.outChannels,
      padding: arch.padding,
      voxelSize: set.voxelSize,
      inputNormalisation: "rho-over-mean",
      trained: true,
      description: `halo painter (Kodi Ramanah, Charnock & Lavaux 2019) trained by mocksmith ${SOFTWARE_VERSION}: ${init ? "fine-tuned from a trained painter with " : ""}${config.warmStartSteps} warm-start${config.powerWeight > 0 ? ` (${config.warmStartLoss} + ${config.powerWeight} × band power)` : ""} + ${config.steps} WGAN-GP steps`,
      massBins: set.massBins,
      weights: {
        file: path.basename(weightsPath),
        format: PAINTER_WEIGHTS_FORMAT,
        sha256: sha256Hex(Buffer.from(weightsText, "utf8")),
      },
      training: {
        method: config.steps > 0 ? "wgan-gp" : "supervised",
        data: [
          ...set.train.map((s) => ({
            directory: s.directory,
            role: "train" as const,
            manifestSha256: s.manifestSha256,
          })),
          ...set.validation.map((s) => ({
            directory: s.directory,
            role: "validation" as const,
            manifestSha256: s.manifestSha256,
          })),
        ],
        redshift: config.redshift,
        steps: config.steps,
        warmStartSteps: config.warmStartSteps,
        ...(config.warmStartSteps > 0 ? { warmStartLoss: config.warmStartLoss } : {}),
        ...(config.powerWeight > 0 ? { powerWeight: config.powerWeight, powerBands: config.powerBands } : {}),
        ...(calibration ? { meanCalibration: calibration } : {}),
        ...(init
          ? { initialWeights: { sha256: init.sha256, description: init.card.description ?? init.card.name } }
          : {}),
        seed: config.seed,
        patch: config.patch,
        batch: config.batch,
        optimiser: {
          name: "adam",
          learningRate: config.wgan.learningRate,
          beta1: config.wgan.beta1,
          beta2: config.wgan.beta2,
          lambda: config.wgan.lambda,
          nCritic: config.wgan.nCritic,
          warmStartLearningRate: config.warmStartLearningRate,
        },
        engine: engine.name,
        ...(set.inputParticleSpacing !== undefined ? { inputParticleSpacing: set.inputParticleSpacing } : {}),
        losses: history,
      },
      ...(Object.keys(validation).length > 0 ? { validation } : {}),
      parity,
    });
    return {
      onnxPath,
      weightsPath,
      card,
      stepsRun: step - stepsAtStart,
      resumedFromStep,
      secondsPerStep: {
        warmStart: time.warmSteps > 0 ? time.warm / time.warmSteps : null,
        wgan: time.wganSteps > 0 ? time.wgan / time.wganSteps : null,
      },
      engine: engine.name,
    };
  } finally {
    state.dispose();
  }
}
