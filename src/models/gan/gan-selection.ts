/**
 * Model selection and latent-width calibration of a trained GAN (issue 8, item 2). A GAN's
 * samples do not improve monotonically with training (the two networks chase each other), so the
 * shipped generator is the checkpoint whose samples best match N-body sub-volumes, and the width
 * σ of its latent prior (the card's latentPrior.scale; Feder et al. 2020 draw the latent from a
 * Student-t so the tails reach rare structures) is tuned on the same comparison.
 *
 * The comparison is the acceptance checks of stages/gan-validation.ts, each as a ratio to its
 * tolerance, so that 1 is the edge of passing:
 *   a = max_k≤kMax |P̄_GAN/P̄_N − 1| / 0.1,
 *   b = max over checked PDF bins |PDF_GAN − mid| / half-width of the N-body 16–84 % band,
 *   c = max_k≤kMax |Var_GAN/Var_N − 1| / 0.25,
 *   d = max_k≤kMax |r̄_GAN×GAN| / (4 standard errors) (samples independent of one another),
 * score = max(a, b, c, d) (lower is better; < 1 means all four pass on the selection data).
 * Every candidate is drawn from the same latent vectors (common random numbers), so score
 * differences between nearby checkpoints of one run are mostly not sampling noise of the
 * latents. Between models of different lineages they are: the same latent gives unrelated
 * samples, and a draw's few extreme samples move P̄ at every shell (1280 draws of the bundled GAN
 * score 1.47 at seed 7 and 1.59 at seed 8). `noise` is the score's standard error from the GAN's
 * own sampling, so that such differences can be told from real ones.
 */
import { InputError } from "../../io/atomic-file.js";
import type { Checkpoint } from "../painter/training-checkpoint.js";
import { checkpointAsModel } from "./weight-average.js";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { GanValidation } from "../../stages/gan-validation.js";
import {
  ganArchitecture,
  GAN_PRESETS,
  PRESET_OPTIONS,
  type GanArchitecture,
  type GanArchitectureOptions,
} from "./architecture.js";
import { unscaleDensityArray } from "./data-scaling.js";
import * as ort from "onnxruntime-node";
import { buildGeneratorOnnx, GAN_LATENT_INPUT, GAN_OUTPUT } from "./gan-onnx.js";
import { GanTf } from "./gan-tf.js";
import type { GanWeights } from "./gan-weights.js";
import { initialGanWeights } from "./gan-weights.js";
import { checkLatentPrior, latentBatch, LATENT_STREAM_SAMPLING, type LatentPrior } from "./latent.js";
import { foldedGeneratorLayers, NativeGanGenerator, type GanEngine } from "./gan-native.js";
import { orientSamples, type SampleOrientation } from "./sample-orientation.js";

export interface SelectionScore {
  /** a, b, c, d above and their maximum. */
  meanPower: number;
  pdf: number;
  powerVariance: number;
  independence: number;
  score: number;
  /**
   * Standard error of `score` from the GAN's sampling (the part at the maximum): a and c from
   * the jackknife of P̄ and Var P over groups of samples at their worst shell (power.ganNoise),
   * b from the standard error std/√n of the GAN's mean PDF in its worst bin, d = 0.25 (d is |r̄|
   * over 4 of its standard errors). The held-out side is common to every candidate and left out.
   */
  noise: number;
  /** The standard errors of a, b, c, d themselves. */
  partNoise: { meanPower: number; pdf: number; powerVariance: number; independence: number };
}

/** The three acceptance statistics of a validation as ratios to their tolerances. */
export function selectionScore(v: GanValidation): SelectionScore {
  const s = v.settings;
  const ratioOf = (c: GanValidation["checks"]["meanPower"], tolerance: number) =>
    c.worst === null ? 0 : Number.isFinite(c.worst.value) ? c.worst.value / tolerance : Infinity;
  const meanPower = ratioOf(v.checks.meanPower, s.powerTolerance);
  const powerVariance = ratioOf(v.checks.powerVariance, s.varianceTolerance);
  let pdf = 0;
  let pdfNoise = 0;
  v.pdf.checked.forEach((on, j) => {
    if (!on) return;
    const lo = v.pdf.nbody.p16[j];
    const hi = v.pdf.nbody.p84[j];
    const half = (hi - lo) / 2;
    const dev = Math.abs(v.pdf.gan.mean[j] - (lo + hi) / 2);
    const r = half > 0 ? dev / half : dev > 0 ? Infinity : 0;
    if (!(r <= pdf)) {
      pdf = Number.isNaN(r) ? Infinity : r;
      pdfNoise = half > 0 ? v.pdf.gan.std[j] / Math.sqrt(v.samples) / half : 0;
    }
  });
  const d = v.checks.independence.worst;
  const independence =
    d === null ? 0 : Number.isFinite(d.value) && d.bound > 0 ? d.value / d.bound : Infinity;
  const partNoise = {
    meanPower: shellNoise(v, v.checks.meanPower, "lnMean", s.powerTolerance, v.power.ratio),
    pdf: pdfNoise,
    powerVariance: shellNoise(v, v.checks.powerVariance, "lnVariance", s.varianceTolerance, v.power.variance.ratio),
    independence: d === null ? 0 : INDEPENDENCE_SCORE_NOISE,
  };
  const parts = { meanPower, pdf, powerVariance, independence };
  const score = Math.max(meanPower, pdf, powerVariance, independence);
  // The part at the maximum (the first of them on a tie) sets the score's error.
  const worst = (Object.keys(parts) as (keyof typeof parts)[]).find((k) => parts[k] === score) ?? "meanPower";
  return { ...parts, score, noise: partNoise[worst], partNoise };
}

/** d is |r̄| over 4 standard errors of r̄: one standard error moves it by 1/4. */
const INDEPENDENCE_SCORE_NOISE = 0.25;

/** The GAN-sampling error of a P(k) check's score at its worst shell, in tolerance units (0 without a jackknife). */
function shellNoise(
  v: GanValidation,
  check: GanValidation["checks"]["meanPower"],
  which: "lnMean" | "lnVariance",
  tolerance: number,
  ratio: readonly number[],
): number {
  const noise = v.power.ganNoise;
  if (!noise || check.worst === null) return 0;
  const i = v.power.k.indexOf(check.worst.at);
  // |ratio − 1|/tol moves by ratio·σ_ln/tol for a relative error σ_ln of the GAN side.
  return i < 0 ? 0 : (Math.abs(ratio[i]) * noise[which][i]) / tolerance;
}

/** What a GAN training checkpoint says about its run (train gan's settings fingerprint). */
export interface GanRunSettings {
  architecture: GanArchitecture;
  latentPrior: LatentPrior;
  kappa: number;
  redshifts: number[];
  seed: number;
  batch: number;
  schedule: Record<string, unknown>;
  /** sha256 of the training simulations' manifests. */
  data: string[];
  /** The statistics term's settings (train gan --stats-*), if the run used one. */
  statistics: Record<string, unknown> | null;
  /** The checkpoint a fine-tuning run started from (train gan --init): its sha256 and step. */
  initialisedFrom: Record<string, unknown> | null;
  /** The generator's strided kernels are resize kernels (train gan --resize-kernels, ./resize-kernels.ts). */
  resizeKernels: boolean;
  /** β of the generator weight average the run kept (train gan --weight-average), which the checkpoints' model is. */
  weightAverageDecay: number | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The run settings recorded in a checkpoint, or an error naming the file when it is not a GAN's. */
export function ganRunSettings(ckpt: Checkpoint): GanRunSettings {
  const f = ckpt.header.fingerprint;
  const a = f.architecture;
  if (!isObject(a) || !Array.isArray(a.filters) || typeof a.latentDim !== "number")
    throw new InputError(ckpt.file, "is not a checkpoint of `mocksmith train gan` (no GAN architecture recorded)");
  const options = a as unknown as GanArchitectureOptions;
  const preset =
    GAN_PRESETS.find((p) => JSON.stringify(PRESET_OPTIONS[p]) === JSON.stringify(options)) ?? "custom";
  let architecture: GanArchitecture;
  try {
    architecture = ganArchitecture(options, preset);
    checkLatentPrior(f.latentPrior as LatentPrior);
  } catch (err) {
    throw new InputError(ckpt.file, `damaged GAN settings: ${(err as Error).message}`);
  }
  const redshifts = f.redshifts;
  if (
    typeof f.kappa !== "number" ||
    !Array.isArray(redshifts) ||
    typeof f.seed !== "number" ||
    typeof f.batch !== "number"
  )
    throw new InputError(ckpt.file, "damaged GAN settings: kappa, redshifts, seed or batch missing");
  return {
    architecture,
    latentPrior: f.latentPrior as LatentPrior,
    kappa: f.kappa,
    redshifts: redshifts as number[],
    seed: f.seed,
    batch: f.batch,
    schedule: isObject(f.schedule) ? f.schedule : {},
    data: Array.isArray(f.data) ? (f.data as string[]) : [],
    statistics: isObject(f.statistics) ? f.statistics : null,
    initialisedFrom: isObject(f.initialisedFrom) ? f.initialisedFrom : null,
    resizeKernels: f.resizeKernels === true,
    weightAverageDecay: typeof f.weightAverageDecay === "number" ? f.weightAverageDecay : null,
  };
}

/**
 * The generator and discriminator of a checkpoint (weights and moving statistics; the generator's
 * weight average where the run kept one, ./weight-average.ts).
 */
export function ganFromCheckpoint(tf: TensorFlow, saved: Checkpoint, run: GanRunSettings): GanTf {
  const ckpt = checkpointAsModel(saved);
  const gan = new GanTf(tf, run.architecture, initialGanWeights(run.architecture, 0), {
    resizeKernels: run.resizeKernels,
  });
  try {
    tf.tidy(() => {
      for (const [k, v] of gan.namedVariables()) {
        const d = ckpt.tensors.get(`gan/${k}`);
        if (!d || d.length !== v.size)
          throw new InputError(ckpt.file, `checkpoint lacks tensor gan/${k} of ${v.size} values`);
        v.assign(tf.tensor(d, v.shape));
      }
    });
  } catch (err) {
    gan.dispose();
    throw err;
  }
  return gan;
}

/**
 * `count` samples ρ/ρ̄ of the generator with weights `weights`, batch norm folded with the moving
 * statistics as the export folds it, on one thread by `engine` (default ort: the ONNX graph
 * buildGeneratorOnnx writes, in ONNX Runtime; native: the same folded layers on ./gan-native.ts's
 * kernels), as sample-gan's workers run it — ~10×
 * faster than TF.js here, and the very inference path the exported model will take — from the
 * latents `sample-gan --seed seed` draws with the prior `prior`, oriented as it orients them.
 */
export async function generateDensities(
  arch: GanArchitecture,
  weights: GanWeights,
  options: {
    seed: number;
    count: number;
    prior: LatentPrior;
    kappa: number;
    densityCap?: number;
    redshift?: number;
    batch?: number;
    engine?: GanEngine;
    orientation: SampleOrientation;
  },
): Promise<Float32Array[]> {
  const a = arch;
  const width = a.generator[0].inChannels;
  const b = options.batch ?? 8;
  const s3 = a.side ** 3;
  const out: Float32Array[] = [];
  const latents = (i0: number, rows: number) =>
    latentBatch(
      options.seed,
      LATENT_STREAM_SAMPLING,
      i0,
      rows,
      a.latentDim,
      options.prior,
      a.conditional ? (options.redshift ?? 0) : undefined,
    );
  if (options.engine === "native") {
    const gen = new NativeGanGenerator(a, foldedGeneratorLayers(a, weights));
    try {
      const density = { kappa: options.kappa, cap: options.densityCap ?? Infinity, offset: 0 };
      for (let i0 = 0; i0 < options.count; i0 += b) {
        const rows = Math.min(b, options.count - i0);
        const rho = gen.generate(latents(i0, rows), rows, density);
        orientSamples(rho, a.side, options.seed, i0, rows, options.orientation);
        for (let r = 0; r < rows; r++) out.push(rho.slice(r * s3, (r + 1) * s3));
      }
    } finally {
      gen.dispose();
    }
    return out;
  }
  const session = await ort.InferenceSession.create(buildGeneratorOnnx(a, weights), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  try {
    for (let i0 = 0; i0 < options.count; i0 += b) {
      const rows = Math.min(b, options.count - i0);
      const z = latents(i0, rows);
      const result = await session.run({ [GAN_LATENT_INPUT]: new ort.Tensor("float32", z, [rows, width, 1, 1, 1]) });
      const c = result[GAN_OUTPUT].data as Float32Array;
      // A copy of ONNX Runtime's output, then views of it: one copy per batch.
      const rho = unscaleDensityArray(Float32Array.from(c), options.kappa, 0, options.densityCap);
      orientSamples(rho, a.side, options.seed, i0, rows, options.orientation);
      for (let r = 0; r < rows; r++) out.push(rho.subarray(r * s3, (r + 1) * s3));
    }
  } finally {
    await session.release();
  }
  return out;
}

/**
 * The candidates whose score is within the combined sampling error of the best one's,
 * score − best < √(σ² + σ_best²): the selection cannot tell them from it (the best included).
 */
export function withinNoiseOf<T extends SelectionScore>(best: T, candidates: readonly T[]): T[] {
  return candidates.filter((c) => c.score - best.score < Math.hypot(c.noise, best.noise));
}
