/**
 * Training the density GAN (Feder et al. 2020, §III) as a DCGAN with the non-saturating loss:
 *   L_D = −⟨ln D(x)⟩ − ⟨ln(1 − D(G(u)))⟩,   L_G = −⟨ln D(G(u))⟩,
 * computed from logits (softplus) for stability. The paper's schedule is the default: Adam
 * (β1 = 0.5, β2 = 0.999), learning rates 1e-4 for G and 5e-5 for D, halved every 1000 generator
 * steps; the discriminator is updated only while its accuracy on the current batch (real logit
 * > 0, fake logit < 0) is below 80%, so it cannot overpower the generator. Each step draws one
 * real batch and two latent batches (one for D, one for G).
 *
 * Batch norm runs in training mode (batch statistics) during steps; the moving statistics
 * that the exported ONNX graph folds in are updated from the generator's update pass and, when
 * D is updated, from D's real and fake passes (./gan-tf.ts).
 *
 * Randomness is counter-based: real cubes keyed by (seed, step·B + b) (./gan-training-data.ts),
 * latents by (seed, training stream, (2·step + k)·B + b) (./latent.ts), so a run is deterministic
 * per seed and a resumed run repeats the uninterrupted one bit for bit (checkpoints hold weights,
 * moving statistics, Adam moments and step counts: ../painter/training-checkpoint.ts).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { GradSaveFunc, NamedTensorMap, Scalar, Tensor, Tensor1D, Tensor5D, Variable } from "@tensorflow/tfjs";
import { InputError } from "../../io/atomic-file.js";
import { SOFTWARE_VERSION } from "../../version.js";
import { loadTensorFlowEngine, type TensorFlow } from "../kernels/tf-engine.js";
import { CheckpointableAdam } from "../painter/checkpointable-adam.js";
import {
  checkpointDirectory,
  describeDifference,
  parseCheckpoint,
  startingCheckpoint,
  saveTrainingCheckpoint,
  type Checkpoint,
} from "../painter/training-checkpoint.js";
import type { TrainingProgress } from "../painter/training.js";
import {
  ganArchitecture,
  type GanArchitecture,
  type GanArchitectureOptions,
  type GanPreset,
} from "./architecture.js";
import type { GanCard } from "./gan-card.js";
import { kappaBiasShift } from "./data-scaling.js";
import { exportGan } from "./gan-export.js";
import { GanTf, type GanNetwork } from "./gan-tf.js";
import { loadGanDataSet, realBatch, type GanDataSet } from "./gan-training-data.js";
import { modelStart, modelStartWeights, namesGanModel, type ModelStart } from "./gan-init-model.js";
import { initialGanWeights, type GanWeights } from "./gan-weights.js";
import {
  checkLatentPrior,
  latentComponent,
  LATENT_STREAM_TRAINING,
  LATENT_STREAM_TRAINING_ORIENTATION,
  type LatentPrior,
} from "./latent.js";
import { evaluateUnderSymmetries, sampleSymmetryIndex } from "./sample-orientation.js";
import {
  StatisticsLoss,
  statisticsTargets,
  type StatisticsEvaluation,
  type StatisticsLossSettings,
} from "./statistics-loss.js";
import { checkpointAsModel, GeneratorWeightAverage } from "./weight-average.js";
import { WIDEN_NOISE, widenGanTensors, widenRefusal } from "./widen.js";

export interface GanSchedule {
  learningRateGenerator: number;
  learningRateDiscriminator: number;
  beta1: number;
  beta2: number;
  /** D is updated only while its batch accuracy is below this. */
  accuracyThreshold: number;
  /** Learning rates halve every this many generator steps (0: never). */
  halveEvery: number;
}

export const PAPER_GAN_SCHEDULE: GanSchedule = {
  learningRateGenerator: 1e-4,
  learningRateDiscriminator: 5e-5,
  beta1: 0.5,
  beta2: 0.999,
  accuracyThreshold: 0.8,
  halveEvery: 1000,
};

export interface GanTrainingConfig {
  data: string[];
  /** One redshift (unconditional) or several (a conditional GAN needs ≥ 1; z is its input). */
  redshifts: number[];
  preset: GanPreset | "custom";
  architecture: GanArchitectureOptions;
  latentPrior: LatentPrior;
  kappa: number;
  batch: number;
  /** Generator steps. */
  steps: number;
  seed: number;
  checkpointEvery: number;
  /** Checkpoints kept, newest first; 0 keeps every one (for model selection, ./gan-selection.ts). */
  keepCheckpoints: number;
  schedule: GanSchedule;
  /** Summary-statistics term in the generator loss (./statistics-loss.ts); absent: the paper's loss. */
  statistics?: StatisticsLossSettings;
  /**
   * Fine-tuning: a checkpoint of an earlier `train gan` run (same architecture, latent prior
   * and κ) whose generator, discriminator and batch-norm statistics replace the seed's initial
   * weights — or an exported model (.onnx, its directory or "default"), whose generator is
   * unfolded (./gan-unfold.ts) and whose discriminator starts from the seed. Adam moments and
   * the learning-rate schedule start afresh at step 0.
   */
  initFrom?: string;
  /**
   * Discriminator-only steps before step 0 of a fresh run (real cubes and latents from streams
   * apart from the steps'), under the usual accuracy rule: a fresh discriminator facing a
   * trained generator learns before the generator follows its gradient. 0: none.
   */
  discriminatorWarmup?: number;
  /**
   * The accuracy below which warm-up passes update D (absent: the schedule's threshold). With the
   * generator frozen the rule's purpose — D must not outrun G — does not apply, and 1 trains D
   * on every pass, as strong as a long run's discriminator becomes (those of the bundled GAN's
   * lineage sat at 94 % batch accuracy and were no longer updated).
   */
  warmupAccuracyThreshold?: number;
  /**
   * Weight of the adversarial term in the generator's loss (absent: 1, the paper's). 0 drops the
   * discriminator altogether — no discriminator pass, the generator follows the statistics term
   * alone: a fine-tune of a trained generator that a fresh discriminator would pull off course.
   */
  adversarialWeight?: number;
  /**
   * The generator's batch norm in inference mode while training (its moving statistics fixed;
   * γ and β still learn), so that what the losses see is what the exported model draws — a
   * batch of 16 normalised by its own moments is not quite that. For fine-tuning a trained
   * generator on the statistics term.
   */
  freezeGeneratorBatchNorm?: boolean;
  /**
   * Generator layers (names g0, g1, …) the generator step updates (absent: all). The others
   * keep their weights: their gradients are zeroed, so Adam moves them by exactly 0.
   */
  trainLayers?: string[];
  /**
   * The generator's stride-2 layers as resize convolutions: each trains a 3³ kernel W and uses
   * W ⊛ box 2³, i.e. nearest-neighbour upsampling then a 3³ convolution, which cannot paint a
   * checkerboard (./resize-kernels.ts). A start from untied 4³ kernels is projected onto them.
   */
  resizeKernels?: boolean;
  /**
   * β of an exponential moving average of the generator's weights (./weight-average.ts), kept
   * in checkpoints and exported in place of the last iterate; absent: none.
   */
  weightAverageDecay?: number;
  output: string;
}

export interface GanTrainingOutcome {
  onnxPath: string;
  card: GanCard;
  stepsRun: number;
  resumedFromStep: number | null;
  /** Mean wall time of the steps this process ran, s. */
  secondsPerStep: number | null;
  engine: string;
}

const RNG_ALGORITHM = "triple32-counter-v1 (VoxelStream; cubes, symmetries, latents)";

function fingerprint(
  c: GanTrainingConfig,
  set: GanDataSet,
  init: InitialWeights | null,
): Record<string, unknown> {
  return {
    data: set.sims.map((s) => s.manifestSha256),
    redshifts: c.redshifts,
    architecture: c.architecture,
    latentPrior: c.latentPrior,
    kappa: c.kappa,
    batch: c.batch,
    seed: c.seed,
    schedule: c.schedule,
    statistics: c.statistics,
    ...(init ? { initialisedFrom: { sha256: init.sha256, step: init.step } } : {}),
    ...fineTuningSettings(c),
  };
}

const adversarialWeight = (c: GanTrainingConfig): number => c.adversarialWeight ?? 1;

/**
 * The optional settings beyond the paper's recipe, only where they differ from its defaults
 * (so older checkpoints' fingerprints still match): for the resume fingerprint and the card.
 */
function fineTuningSettings(c: GanTrainingConfig): Record<string, unknown> {
  return {
    ...(c.discriminatorWarmup ? { discriminatorWarmup: c.discriminatorWarmup } : {}),
    ...(c.warmupAccuracyThreshold !== undefined ? { warmupAccuracyThreshold: c.warmupAccuracyThreshold } : {}),
    ...(adversarialWeight(c) !== 1 ? { adversarialWeight: adversarialWeight(c) } : {}),
    ...(c.freezeGeneratorBatchNorm ? { freezeGeneratorBatchNorm: true } : {}),
    ...(c.trainLayers ? { trainLayers: c.trainLayers } : {}),
    ...(c.resizeKernels ? { resizeKernels: true } : {}),
    ...(c.weightAverageDecay !== undefined ? { weightAverageDecay: c.weightAverageDecay } : {}),
  };
}

/** The checkpoint a fine-tuning run starts from, with what identifies it. */
interface InitialWeights {
  /** Its network tensors, widened to this run's filters (./widen.ts) and carried to its κ (rescaleKappa). */
  checkpoint?: Checkpoint;
  /** Or an exported model's generator (./gan-init-model.ts). */
  model?: ModelStart;
  file: string;
  sha256: string;
  step: number;
  /** The checkpoint's generator filters when this run's are wider. */
  widenedFrom?: number[];
  /** The checkpoint's κ when it differs from this run's (the generator is carried over, rescaleKappa). */
  kappaFrom?: number;
}

/**
 * Reads --init and refuses a checkpoint of another latent prior, or of an architecture this
 * run's does not widen (Net2Wider, ./widen.ts: same latent and layer count, no layer narrower).
 * A checkpoint of another κ is carried to this run's (rescaleKappa).
 */
async function initialWeights(c: GanTrainingConfig, arch: GanArchitecture): Promise<InitialWeights | null> {
  if (c.initFrom === undefined) return null;
  if (namesGanModel(c.initFrom)) {
    const model = await modelStart(c.initFrom, c, arch);
    return {
      model,
      file: model.file,
      sha256: model.sha256,
      step: typeof model.card.training?.steps === "number" ? model.card.training.steps : 0,
      ...(model.kappaFrom !== undefined ? { kappaFrom: model.kappaFrom } : {}),
    };
  }
  const file = path.resolve(c.initFrom);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new InputError(
      c.initFrom,
      "--init needs a checkpoint file (OUT/checkpoints/step-NNNNNNNN.ckpt of a train gan run) or a model (.onnx with its card, its directory, or default)",
    );
  // One read: the bytes are parsed and hashed.
  const bytes = fs.readFileSync(file);
  // A run that kept a weight average hands on the average, the model it would have exported.
  const checkpoint = checkpointAsModel(parseCheckpoint(file, bytes));
  const refuse = (why: string) => new InputError(c.initFrom ?? file, `cannot fine-tune from this checkpoint: ${why}`);
  const fp = checkpoint.header.fingerprint;
  const why = describeDifference({ latentPrior: c.latentPrior }, fp);
  if (why) throw refuse(why);
  if ((fp.resizeKernels === true) !== (c.resizeKernels === true))
    throw refuse(
      fp.resizeKernels === true
        ? "its generator has resize kernels (--resize-kernels) and this run's has not"
        : "its generator's kernels are untied and this run has --resize-kernels: start from its exported model (--init its gan.onnx), whose kernels are projected",
    );
  const kappaThen = fp.kappa;
  if (typeof kappaThen !== "number" || !(kappaThen > 0)) throw refuse(`its κ (${JSON.stringify(kappaThen)}) is not a positive number`);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const start: InitialWeights & { checkpoint: Checkpoint } = { checkpoint, file, sha256, step: checkpoint.header.step };
  const to = ganArchitecture(c.architecture);
  const same = describeDifference({ architecture: c.architecture }, fp);
  if (same) {
    const then = fp.architecture as GanArchitectureOptions;
    let from: GanArchitecture;
    try {
      from = ganArchitecture(then);
    } catch {
      throw refuse(same);
    }
    const widen = widenRefusal(from, to);
    if (widen) throw refuse(`${same}: ${widen}`);
    if (c.resizeKernels) throw refuse(`${same}: widening resize kernels is not supported`);
    start.checkpoint = { ...checkpoint, tensors: widenGanTensors(from, to, checkpoint.tensors, c.seed) };
    start.widenedFrom = [...from.filters];
  }
  if (kappaThen !== c.kappa) {
    const last = to.generator[to.generator.length - 1].name;
    const tensors = rescaleKappa(start.checkpoint.tensors, `gan/${last}.bias`, kappaThen, c.kappa);
    if (!tensors) throw refuse(`it lacks tensor gan/${last}.bias`);
    start.checkpoint = { ...start.checkpoint, tensors };
    start.kappaFrom = kappaThen;
  }
  return start;
}

/**
 * The generator of a checkpoint trained at κ₀ carried to this run's κ unchanged in ρ (the tanh
 * layer's bias shifted, kappaBiasShift). The discriminator sees c, which this changes
 * non-linearly; it keeps its weights and relearns under the usual accuracy rule. Null when the
 * tensors lack that bias.
 */
function rescaleKappa(
  tensors: ReadonlyMap<string, Float32Array>,
  biasName: string,
  kappaThen: number,
  kappaNow: number,
): Map<string, Float32Array> | null {
  const bias = tensors.get(biasName);
  if (!bias) return null;
  const shift = kappaBiasShift(kappaThen, kappaNow);
  return new Map(tensors).set(biasName, bias.map((b) => b + shift));
}

/** Real cubes measured for the statistics term's targets (a stream of keys apart from training's). */
const STATISTICS_TARGET_CUBES = 1024;
const STATISTICS_TARGET_KEY = 2 ** 40;

function statisticsLoss(c: GanTrainingConfig, set: GanDataSet, side: number): StatisticsLoss | null {
  if (!c.statistics) return null;
  let cMax = -1;
  for (const sim of set.sims) for (const grid of sim.scaled) for (const x of grid) if (x > cMax) cMax = x;
  const cap = (c.kappa * (1 + cMax)) / (1 - cMax);
  const chunk = 64;
  function* batches(): Generator<Float32Array> {
    for (let i = 0; i < STATISTICS_TARGET_CUBES; i += chunk)
      yield realBatch(set, c.seed, STATISTICS_TARGET_KEY + i, chunk, side).cubes;
  }
  // --stats-kmax: the shells j = 1 … n whose centres (j + ½) k_F lie at k ≤ kMax, k_F = 2π/(side · voxel).
  const kMax = c.statistics.kMax;
  const innerShells =
    kMax === undefined ? undefined : Math.floor(kMax / ((2 * Math.PI) / (side * set.voxelSize)) - 0.5);
  if (innerShells !== undefined && innerShells < 1)
    throw new InputError("--stats-kmax", `${kMax} h/Mpc holds no shell of a ${side}³ cube of ${set.voxelSize} Mpc/h voxels`);
  const settings = innerShells === undefined ? c.statistics : { ...c.statistics, innerShells };
  return new StatisticsLoss(statisticsTargets(side, c.kappa, cap, batches()), settings);
}

/** The cube symmetries of the generator batch of `step` (keyed by seed and step·B + row: --resume repeats them). */
function orientationsOfStep(c: GanTrainingConfig, step: number): number[] {
  return Array.from({ length: c.batch }, (_, r) =>
    sampleSymmetryIndex(c.seed, step * c.batch + r, LATENT_STREAM_TRAINING_ORIENTATION),
  );
}

/** Latent rows (B × width) of stream block `block`, z appended per row for a cGAN. */
function latentRows(
  arch: GanArchitecture,
  c: GanTrainingConfig,
  block: number,
  redshifts: Float32Array,
): Float32Array {
  const b = c.batch;
  const width = arch.generator[0].inChannels;
  const out = new Float32Array(b * width);
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < arch.latentDim; j++)
      out[r * width + j] = latentComponent(c.seed, LATENT_STREAM_TRAINING, block * b + r, j, c.latentPrior);
    if (arch.conditional) out[r * width + arch.latentDim] = redshifts[r];
  }
  return out;
}

class GanTrainingState {
  readonly gan: GanTf;
  readonly adam: Record<GanNetwork, CheckpointableAdam>;
  private readonly keys: Record<GanNetwork, string[]>;
  /** The statistics term, whose running averages (if any) a checkpoint keeps. */
  statistics: StatisticsLoss | null = null;
  /** The generator's weight average (config.weightAverageDecay), started once the weights are in place. */
  average: GeneratorWeightAverage | null = null;
  /** Names of the generator variables outside config.trainLayers (their gradients are zeroed). */
  readonly frozenGenerator: ReadonlySet<string>;

  constructor(
    readonly tf: TensorFlow,
    readonly arch: GanArchitecture,
    readonly config: GanTrainingConfig,
    weights: GanWeights = initialGanWeights(arch, config.seed),
  ) {
    this.gan = new GanTf(tf, arch, weights, { resizeKernels: config.resizeKernels === true });
    const s = config.schedule;
    const named = [...this.gan.namedVariables()];
    const keysOf = (n: GanNetwork) => {
      const vars = new Set(this.gan.trainable(n));
      return named.filter(([, v]) => vars.has(v)).map(([k]) => k);
    };
    this.keys = { generator: keysOf("generator"), discriminator: keysOf("discriminator") };
    const trained = new Set(this.gan.trainable("generator", config.trainLayers && new Set(config.trainLayers)));
    this.frozenGenerator = new Set(
      this.gan
        .trainable("generator")
        .filter((v) => !trained.has(v))
        .map((v) => v.name),
    );
    const opts = { beta1: s.beta1, beta2: s.beta2 };
    this.adam = {
      generator: new CheckpointableAdam(tf, this.gan.trainable("generator"), {
        ...opts,
        learningRate: s.learningRateGenerator,
      }),
      discriminator: new CheckpointableAdam(tf, this.gan.trainable("discriminator"), {
        ...opts,
        learningRate: s.learningRateDiscriminator,
      }),
    };
  }

  tensors(): { tensors: Map<string, Float32Array>; steps: Record<string, number> } {
    const t = new Map<string, Float32Array>();
    for (const [k, v] of this.gan.namedVariables()) t.set(`gan/${k}`, Float32Array.from(v.dataSync()));
    const steps: Record<string, number> = {};
    for (const n of ["generator", "discriminator"] as const) {
      const s = this.adam[n].state();
      steps[n] = s.step;
      this.keys[n].forEach((k, i) => {
        t.set(`adam.${n}.m/${k}`, s.m[i]);
        t.set(`adam.${n}.v/${k}`, s.v[i]);
      });
    }
    const running = this.statistics?.runningState();
    // Float64 values stored bit for bit as twice as many float32 words (resume stays exact).
    if (running) t.set(RUNNING_STATISTICS, new Float32Array(running.buffer));
    for (const [k, v] of this.average?.tensors() ?? []) t.set(k, v);
    return { tensors: t, steps };
  }

  /** Network weights and batch-norm statistics only (a fine-tuning start). */
  restoreWeights(ckpt: Checkpoint): void {
    const tf = this.tf;
    tf.tidy(() => {
      for (const [k, v] of this.gan.namedVariables()) {
        const d = tensorOf(ckpt, `gan/${k}`);
        if (d.length !== v.size)
          throw new InputError(ckpt.file, `tensor gan/${k} holds ${d.length} values, the network needs ${v.size}`);
        v.assign(tf.tensor(d, v.shape));
      }
    });
  }

  /** Starts the weight average at the current weights, or (resume) restores it from `ckpt`. */
  startAverage(ckpt: Checkpoint | undefined): void {
    const decay = this.config.weightAverageDecay;
    if (decay === undefined) return;
    const generator = new Set(this.arch.generator.map((l) => l.name));
    const variables = new Map([...this.gan.namedVariables()].filter(([k]) => generator.has(k.split(".")[0])));
    this.average = new GeneratorWeightAverage(decay, variables);
    if (ckpt) this.average.restore(ckpt.tensors, (name) => new InputError(ckpt.file, `checkpoint lacks tensor ${name}`));
  }

  /** Puts the weight average (if any) into the generator's variables: the model to export. */
  adoptAverage(): void {
    const average = this.average;
    if (!average) return;
    const tf = this.tf;
    const named = this.gan.namedVariables();
    tf.tidy(() => {
      for (const [k, a] of average.values()) {
        const v = named.get(k) as Variable;
        v.assign(tf.tensor(a, v.shape));
      }
    });
  }

  restore(ckpt: Checkpoint): void {
    this.restoreWeights(ckpt);
    for (const n of ["generator", "discriminator"] as const)
      this.adam[n].restore({
        step: ckpt.header.optimiserSteps[n] ?? 0,
        m: this.keys[n].map((k) => tensorOf(ckpt, `adam.${n}.m/${k}`)),
        v: this.keys[n].map((k) => tensorOf(ckpt, `adam.${n}.v/${k}`)),
      });
    if (this.statistics?.keepsRunningAverages) {
      const words = tensorOf(ckpt, RUNNING_STATISTICS);
      // slice() copies bytes (same element type), so no word is read as a number and NaN-canonicalised.
      this.statistics.restoreRunning(new Float64Array(words.slice().buffer));
    }
  }

  dispose(): void {
    this.gan.dispose();
    this.adam.generator.dispose();
    this.adam.discriminator.dispose();
  }
}

const RUNNING_STATISTICS = "statistics/running";

function tensorOf(ckpt: Checkpoint, name: string): Float32Array {
  const d = ckpt.tensors.get(name);
  if (!d) throw new InputError(ckpt.file, `checkpoint lacks tensor ${name}`);
  return d;
}

function applyGrads(opt: CheckpointableAdam, grads: NamedTensorMap): void {
  opt.apply(grads);
}

function disposeGrads(value: Scalar, grads: NamedTensorMap): number {
  const v = value.dataSync()[0];
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  return v;
}

/**
 * One discriminator pass on real cubes `x` and fakes from latent rows `u` (no gradient to G;
 * G's batch statistics unused); D is updated only while its batch accuracy is below the threshold.
 */
function discriminatorStep(
  state: GanTrainingState,
  x: Tensor,
  cond: Tensor1D | undefined,
  u: Float32Array,
  threshold = state.config.schedule.accuracyThreshold,
): { loss: number; accuracy: number; updated: boolean } {
  const { tf, arch, config: c, gan } = state;
  const b = c.batch;
  const uD = tf.tensor2d(u, [b, arch.generator[0].inChannels]);
  const fake = tf.tidy(() => gan.generate(uD, !c.freezeGeneratorBatchNorm));
  gan.discardStatistics("generator");
  let accuracy = 0;
  const d = tf.variableGrads(
    () => {
      const lr = gan.discriminate(x as Tensor5D, true, cond);
      const lf = gan.discriminate(fake, true, cond);
      const hits = lr.greater(0).sum().add(lf.less(0).sum()).dataSync()[0];
      accuracy = hits / (2 * b);
      return tf.softplus(lr.neg()).mean().add(tf.softplus(lf).mean()) as Scalar;
    },
    gan.trainable("discriminator") as Variable[],
  );
  const updated = accuracy < threshold;
  if (updated) {
    applyGrads(state.adam.discriminator, d.grads);
    gan.commitStatistics("discriminator");
  } else gan.discardStatistics("discriminator");
  const loss = disposeGrads(d.value, d.grads);
  fake.dispose();
  uD.dispose();
  return { loss, accuracy, updated };
}

/** A real batch (stream key `key`) as tensors: cubes (B, S, S, S, 1), redshifts, and D's condition. */
function realTensors(state: GanTrainingState, set: GanDataSet, key: number) {
  const { tf, arch, config: c } = state;
  const s = arch.side;
  const real = realBatch(set, c.seed, key, c.batch, s);
  const x = tf.tensor5d(real.cubes, [c.batch, s, s, s, 1]);
  const zs = tf.tensor1d(real.redshifts);
  return { redshifts: real.redshifts, x, zs, cond: arch.conditional ? (zs as Tensor1D) : undefined };
}

/** Streams of the warm-up's real cubes and latent blocks, apart from the steps' (which count up from 0). */
const WARMUP_REAL_KEY = 2 ** 41;
const WARMUP_LATENT_BLOCK = 2 ** 30;

/**
 * `steps` discriminator-only passes at the run's first learning rate (the generator and its
 * Adam state untouched), so the fresh discriminator of a model start is not random noise in
 * the generator's loss. Reports the warm-up's last accuracy and how many passes updated D.
 */
function warmUpDiscriminator(state: GanTrainingState, set: GanDataSet, steps: number, progress: TrainingProgress): void {
  const { arch, config: c } = state;
  state.adam.discriminator.setLearningRate(c.schedule.learningRateDiscriminator);
  progress.start("warm up discriminator", steps);
  let updates = 0;
  let accuracy = 0;
  for (let i = 0; i < steps; i++) {
    const { redshifts, x, zs, cond } = realTensors(state, set, WARMUP_REAL_KEY + i * c.batch);
    const r = discriminatorStep(
      state,
      x,
      cond,
      latentRows(arch, c, WARMUP_LATENT_BLOCK + i, redshifts),
      c.warmupAccuracyThreshold ?? c.schedule.accuracyThreshold,
    );
    x.dispose();
    zs.dispose();
    if (!Number.isFinite(r.loss)) throw new InputError(c.output, `discriminator warm-up diverged at pass ${i + 1}`);
    if (r.updated) updates++;
    accuracy = r.accuracy;
    progress.advance("warm up discriminator", i + 1);
  }
  progress.finish("warm up discriminator");
  progress.info(`discriminator warm-up: ${steps} passes, ${updates} updated it, last batch accuracy ${accuracy.toFixed(3)}`);
}

/** One training step (≤ 1 discriminator update, 1 generator update); returns its losses. */
function ganStep(
  state: GanTrainingState,
  set: GanDataSet,
  step: number,
  stats: StatisticsLoss | null,
): Record<string, number> {
  const { tf, arch, config: c, gan } = state;
  const b = c.batch;
  const width = arch.generator[0].inChannels;
  const halvings = c.schedule.halveEvery > 0 ? Math.floor(step / c.schedule.halveEvery) : 0;
  state.adam.generator.setLearningRate(c.schedule.learningRateGenerator * 0.5 ** halvings);
  state.adam.discriminator.setLearningRate(c.schedule.learningRateDiscriminator * 0.5 ** halvings);

  const { redshifts, x, zs, cond } = realTensors(state, set, step * b);

  // Discriminator: fakes from latent block 2·step (none when the adversarial term is off).
  const wAdv = adversarialWeight(c);
  const d = wAdv > 0 ? discriminatorStep(state, x, cond, latentRows(arch, c, 2 * step, redshifts)) : null;

  // Generator: latent block 2·step + 1 through D (training mode; D's statistics not kept).
  const uG = tf.tensor2d(latentRows(arch, c, 2 * step + 1, redshifts), [b, width]);
  let statistics: StatisticsEvaluation | null = null;
  let adversarialLoss = 0;
  const g = tf.variableGrads(() => {
    const out = gan.generate(uG, !c.freezeGeneratorBatchNorm);
    const adversarial =
      wAdv > 0
        ? (tf.softplus(gan.discriminate(out, true, cond).neg()).mean().mul(wAdv) as Scalar)
        : tf.scalar(0);
    adversarialLoss = adversarial.dataSync()[0];
    if (!stats) return adversarial;
    // The statistics term enters as a custom-gradient op: value and d/dc come from statistics-loss.ts.
    const term = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
      const c = args[0] as Tensor;
      const fields = c.dataSync() as Float32Array;
      statistics =
        state.config.statistics?.orientation === "random"
          ? evaluateUnderSymmetries(fields, arch.side, orientationsOfStep(state.config, step), (f) =>
              stats.evaluate(f),
            )
          : stats.evaluate(fields);
      const grad = statistics.gradient;
      return { value: tf.scalar(statistics.loss), gradFunc: (dy: Tensor) => dy.mul(tf.tensor(grad, c.shape)) };
    });
    return adversarial.add(term(out)) as Scalar;
  }, gan.trainable("generator") as Variable[]);
  for (const name of state.frozenGenerator) {
    const grad = g.grads[name];
    g.grads[name] = tf.zerosLike(grad);
    grad.dispose();
  }
  applyGrads(state.adam.generator, g.grads);
  if (!c.freezeGeneratorBatchNorm) gan.commitStatistics("generator");
  gan.discardStatistics("discriminator");
  disposeGrads(g.value, g.grads);
  uG.dispose();
  x.dispose();
  zs.dispose();
  const losses: Record<string, number> = {
    ...(d ? { discriminatorLoss: d.loss } : {}),
    generatorLoss: adversarialLoss,
    ...(d ? { discriminatorAccuracy: d.accuracy, discriminatorUpdated: d.updated ? 1 : 0 } : {}),
  };
  const st = statistics as StatisticsEvaluation | null;
  if (st) {
    losses.statisticsPower = st.power;
    losses.statisticsVariance = st.variance;
    losses.statisticsPdf = st.pdf;
    losses.statisticsHomogeneity = st.homogeneity;
    losses.statisticsCoherence = st.coherence;
    losses.statisticsMass = st.mass;
    losses.statisticsEnvironment = st.environment;
    losses.statisticsScatter = st.scatter;
  }
  return losses;
}

export function checkGanTrainingConfig(c: GanTrainingConfig): GanArchitecture {
  let arch: GanArchitecture;
  try {
    arch = ganArchitecture(c.architecture, c.preset);
  } catch (err) {
    throw new InputError("--filters", (err as Error).message);
  }
  try {
    checkLatentPrior(c.latentPrior);
  } catch (err) {
    throw new InputError("--latent", (err as Error).message);
  }
  if (c.redshifts.length === 0) throw new InputError("--redshift", "give at least one redshift");
  if (!arch.conditional && c.redshifts.length > 1)
    throw new InputError(
      "--redshift",
      `${c.redshifts.length} redshifts need --conditional (a cGAN); an unconditional GAN learns one`,
    );
  if (!(c.kappa > 0)) throw new InputError("--kappa", `must be > 0, got ${c.kappa}`);
  const memory = c.statistics?.memory;
  if (memory !== undefined && !(memory >= 1))
    throw new InputError("--stats-memory", `must be 0 (the batch alone) or ≥ 1 steps, got ${memory}`);
  if (memory !== undefined && c.statistics?.varianceOffset === "empirical")
    throw new InputError(
      "--stats-variance-offset",
      "empirical corrects a single batch's ln s²; with --stats-memory the running average needs no offset",
    );
  if (c.statistics && arch.conditional)
    throw new InputError(
      "--stats-weight",
      "not available for a conditional GAN (one set of target statistics would mix its redshifts)",
    );
  if (c.steps < 1) throw new InputError("--steps", "nothing to train: --steps must be ≥ 1");
  const wAdv = adversarialWeight(c);
  if (!(wAdv >= 0) || !Number.isFinite(wAdv)) throw new InputError("--adversarial-weight", `must be ≥ 0, got ${wAdv}`);
  const names = arch.generator.map((l) => l.name);
  const unknown = (c.trainLayers ?? []).filter((n) => !names.includes(n));
  if (unknown.length > 0 || c.trainLayers?.length === 0)
    throw new InputError(
      "--train-layers",
      `${unknown.length > 0 ? `no generator layer ${unknown.join(", ")}` : "name at least one layer"}; this generator's are ${names.join(", ")}`,
    );
  if (wAdv === 0 && !c.statistics)
    throw new InputError("--adversarial-weight", "0 leaves the generator no loss: give --stats-weight > 0 as well");
  if (wAdv === 0 && c.discriminatorWarmup)
    throw new InputError("--discriminator-warmup", "there is no discriminator to warm up with --adversarial-weight 0");
  return arch;
}

/** Trains, checkpoints, and exports OUT/gan.onnx, OUT/gan.card.json and OUT/gan.weights.json. */
export async function trainGan(
  config: GanTrainingConfig,
  options: {
    resume?: boolean;
    progress: TrainingProgress;
    threads?: number;
    onLosses?: (entry: Readonly<Record<string, number | string>>) => void;
  },
): Promise<GanTrainingOutcome> {
  const arch = checkGanTrainingConfig(config);
  const progress = options.progress;
  const set = loadGanDataSet({
    data: config.data,
    redshifts: config.redshifts,
    kappa: config.kappa,
    side: arch.side,
  });
  const init = await initialWeights(config, arch);
  fs.mkdirSync(config.output, { recursive: true });
  const fp = fingerprint(config, set, init);
  const ckptDir = checkpointDirectory(config.output);
  const ckpt = startingCheckpoint(config.output, options.resume ?? false, fp, config.steps, (m) =>
    progress.info(m),
  );

  const engine = await loadTensorFlowEngine(
    options.threads === undefined ? {} : { threads: options.threads },
  );
  const tf = engine.tf;
  const state = new GanTrainingState(
    tf,
    arch,
    config,
    init?.model && !ckpt ? modelStartWeights(tf, arch, init.model, config.seed) : undefined,
  );
  const stats = statisticsLoss(config, set, arch.side);
  state.statistics = stats;
  try {
    const history: Record<string, number | string>[] = ckpt ? [...ckpt.header.history] : [];
    let step = 0;
    if (ckpt) {
      state.restore(ckpt);
      step = ckpt.header.step;
      progress.info(`resumed from ${path.basename(ckpt.file)} (step ${step})`);
    } else if (init) {
      if (init.checkpoint) state.restoreWeights(init.checkpoint);
      progress.info(
        init.model
          ? init.model.weights
            ? `fine-tuning ${init.file} (generator and discriminator from its weights file)`
            : `fine-tuning the generator of ${init.file} (unfolded; a fresh discriminator)`
          : `fine-tuning from ${init.file} (step ${init.step})`,
      );
      const residuals = [...state.gan.projectionResiduals];
      if (init.model && residuals.length > 0)
        progress.info(
          `resize kernels: the strided layers' 4³ kernels projected onto W ⊛ box 2³, relative change ${residuals
            .map(([name, r]) => `${name} ${r.toFixed(3)}`)
            .join(", ")}`,
        );
    }
    state.startAverage(ckpt);
    if (!ckpt && config.discriminatorWarmup) warmUpDiscriminator(state, set, config.discriminatorWarmup, progress);
    const resumedFromStep = ckpt ? step : null;
    const sums = new Map<string, number>(Object.entries(ckpt?.header.interval.sums ?? {}));
    let inInterval = ckpt?.header.interval.count ?? 0;
    const entry = (): Record<string, number | string> => {
      const e: Record<string, number | string> = { step };
      for (const [k, v] of sums) e[k] = v / inInterval;
      if (options.onLosses) options.onLosses(e);
      return e;
    };
    const save = () =>
      saveTrainingCheckpoint(ckptDir, state, {
        step,
        fingerprint: fp,
        rng: { algorithm: RNG_ALGORITHM, seed: config.seed },
        history,
        interval: { count: inInterval, sums },
      }, config.keepCheckpoints);
    progress.start("train gan", config.steps);
    progress.advance("train gan", step);
    const stepsAtStart = step;
    let seconds = 0;
    while (step < config.steps) {
      const t0 = performance.now();
      const losses = ganStep(state, set, step, stats);
      state.average?.update();
      seconds += (performance.now() - t0) / 1000;
      for (const [k, v] of Object.entries(losses)) {
        if (!Number.isFinite(v))
          throw new InputError(config.output, `training diverged at step ${step + 1}: ${k} is ${v}`);
        sums.set(k, (sums.get(k) ?? 0) + v);
      }
      inInterval++;
      step++;
      progress.advance("train gan", step);
      if (step % config.checkpointEvery === 0) {
        history.push(entry());
        sums.clear();
        inInterval = 0;
      }
      if (step % config.checkpointEvery === 0 || step === config.steps) save();
    }
    if (inInterval > 0) history.push(entry());
    progress.finish("train gan");
    state.adoptAverage();

    const onnxPath = path.join(config.output, "gan.onnx");
    const zs = config.redshifts;
    const card = await exportGan(tf, state.gan, onnxPath, {
      name: "density-gan",
      latentPrior: config.latentPrior,
      kappa: config.kappa,
      voxelSize: set.voxelSize,
      redshift: arch.conditional ? null : zs[0],
      ...(arch.conditional ? { redshiftRange: [Math.min(...zs), Math.max(...zs)] as [number, number] } : {}),
      trained: true,
      description: `3D DCGAN (Feder et al. 2020), preset ${arch.preset}, trained by mocksmith ${SOFTWARE_VERSION} for ${config.steps} generator steps${init ? ` after ${init.step} steps of an earlier run (--init)` : ""}`,
      training: {
        method: "dcgan-nonsaturating",
        preset: arch.preset,
        data: set.sims.map((s) => ({ directory: s.directory, manifestSha256: s.manifestSha256 })),
        redshifts: zs,
        steps: config.steps,
        seed: config.seed,
        batch: config.batch,
        optimiser: { name: "adam", ...config.schedule },
        ...(init
          ? {
              initialisedFrom: {
                ...(init.model
                  ? {
                      model: init.file,
                      discriminator: init.model.weights
                        ? "the model's (its weights file)"
                        : `fresh (seed ${config.seed})`,
                    }
                  : { checkpoint: init.file }),
                step: init.step,
                sha256: init.sha256,
                ...(init.widenedFrom ? { widenedFrom: { filters: init.widenedFrom, noise: WIDEN_NOISE } } : {}),
                ...(init.kappaFrom !== undefined ? { kappaFrom: init.kappaFrom } : {}),
              },
            }
          : {}),
        ...fineTuningSettings(config),
        ...(config.statistics && stats
          ? {
              statisticsLoss: {
                ...stats.settings,
                targetCubes: stats.targets.cubes,
                densityCap: stats.targets.cap,
                definition: "λ (L_P + w_V L_V + w_H L_H + w_M L_M + w_K L_K + w_ρ L_ρ + w_E L_E + w_S L_S), src/models/gan/statistics-loss.ts",
              },
            }
          : {}),
        engine: engine.name,
        losses: history,
      },
    });
    return {
      onnxPath,
      card,
      stepsRun: step - stepsAtStart,
      resumedFromStep,
      secondsPerStep: step > stepsAtStart ? seconds / (step - stepsAtStart) : null,
      engine: engine.name,
    };
  } finally {
    state.dispose();
    stats?.dispose();
  }
}
