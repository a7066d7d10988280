/**
 * `mocksmith train gan`: trains the density GAN (models/gan/gan-training.ts) on N-body density
 * sub-volumes from `mocksmith nbody-set`, with checkpoints and resume, and exports the ONNX
 * generator, its card and the TF.js weights.
 */
import { Option, type Command } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import { GAN_PRESETS, PRESET_OPTIONS, type GanPreset } from "../../../models/gan/architecture.js";
import { DEFAULT_KAPPA } from "../../../models/gan/data-scaling.js";
import { PAPER_GAN_SCHEDULE, trainGan } from "../../../models/gan/gan-training.js";
import { LATENT_KINDS, type LatentKind } from "../../../models/gan/latent.js";
import type { SampleOrientation } from "../../../models/gan/sample-orientation.js";
import { ganOrientationOption } from "../gan-orientation-option.js";
import {
  DEFAULT_VARIANCE_WEIGHT,
  HOMOGENEITY_FIELDS,
  VARIANCE_OFFSETS,
} from "../../../models/gan/statistics-loss.js";
import { summaryLine } from "../../../models/painter/training.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseChoice, parseInteger, parseNumber, parseNumberList } from "../option-parsers.js";

interface TrainGanFlags {
  data: string[];
  steps: number;
  preset: GanPreset;
  filters?: number[];
  latentDim?: number;
  conditional?: boolean;
  redshift: number[];
  kappa: number;
  latent: LatentKind;
  nu: number;
  batch: number;
  seed: number;
  lrG: number;
  lrD: number;
  beta1: number;
  accuracyThreshold: number;
  halveEvery: number;
  statsWeight: number;
  statsVarianceWeight: number;
  statsHomogeneityWeight: number;
  statsCoherenceWeight: number;
  statsPdfWeight: number;
  statsVarianceOffset: (typeof VARIANCE_OFFSETS)[number];
  statsMemory: number;
  statsKmax?: number;
  statsOuterWeight: number;
  statsShellNorm: number;
  statsMassWeight: number;
  statsEnvironmentWeight: number;
  statsScatterWeight: number;
  statsCoherenceFixedPower?: boolean;
  statsOrientation: SampleOrientation;
  statsHomogeneityOf: (typeof HOMOGENEITY_FIELDS)[number];
  checkpointEvery: number;
  keepCheckpoints: number;
  resume?: boolean;
  init?: string;
  discriminatorWarmup: number;
  warmupAccuracyThreshold?: number;
  adversarialWeight: number;
  freezeBatchNorm?: boolean;
  trainLayers?: string[];
  resizeKernels?: boolean;
  weightAverage?: number;
  threads?: number;
  output: string;
}

export function registerTrainGan(train: Command): void {
  train
    .command("gan")
    .description(
      "train the 3D density GAN (DCGAN of Feder et al. 2020) on N-body density sub-volumes from `mocksmith nbody-set`",
    )
    .requiredOption("--data <dirs...>", "data directories holding sim-NNN/ simulations (nbody_delta_zZ.npy)")
    .requiredOption("--steps <n>", "generator steps", parseInteger(1))
    .addOption(
      new Option(
        "--preset <name>",
        "architecture: paper (Table I, 256-128-64-32-1) or reduced (64-32-16-8-1, for CPUs)",
      )
        .choices(GAN_PRESETS as string[])
        .default("reduced")
        .argParser(parseChoice(GAN_PRESETS)),
    )
    .option(
      "--filters <list>",
      "custom generator filters ending in 1 (side 4·2^(n−1)), e.g. 32,16,8,1 for 32³",
      parseNumberList(parseInteger(1, 4096)),
    )
    .option("--latent-dim <L>", "latent dimension (default: the preset's, 100)", parseInteger(1, 1024))
    .option(
      "--conditional",
      "redshift-conditional GAN (cGAN): z is a generator input and a discriminator channel",
    )
    .option(
      "--redshift <z,...>",
      "snapshot redshift(s) of the data (several need --conditional)",
      parseNumberList(parseNumber({ min: 0 })),
      [0],
    )
    .option(
      "--kappa <κ>",
      "data scaling c = 2ρ/(ρ + κ) − 1, ρ = ρ/ρ̄",
      parseNumber({ minExclusive: 0 }),
      DEFAULT_KAPPA,
    )
    .addOption(
      new Option("--latent <prior>", "latent prior")
        .choices(LATENT_KINDS as string[])
        .default("student-t")
        .argParser(parseChoice(LATENT_KINDS)),
    )
    .option("--nu <ν>", "Student-t degrees of freedom", parseNumber({ minExclusive: 0 }), 10)
    .option("--batch <B>", "sub-volumes per step", parseInteger(1, 1024), 8)
    .option(
      "--seed <s>",
      "seed of weights, sub-volumes, symmetries and latents",
      parseInteger(0, 0xffffffff),
      1,
    )
    .option(
      "--lr-g <rate>",
      "generator Adam learning rate",
      parseNumber({ minExclusive: 0 }),
      PAPER_GAN_SCHEDULE.learningRateGenerator,
    )
    .option(
      "--lr-d <rate>",
      "discriminator Adam learning rate",
      parseNumber({ minExclusive: 0 }),
      PAPER_GAN_SCHEDULE.learningRateDiscriminator,
    )
    .option("--beta1 <β1>", "Adam β1", parseNumber({ min: 0, max: 0.999999 }), PAPER_GAN_SCHEDULE.beta1)
    .option(
      "--accuracy-threshold <a>",
      "update the discriminator only while its batch accuracy is below a",
      parseNumber({ minExclusive: 0, max: 1 }),
      PAPER_GAN_SCHEDULE.accuracyThreshold,
    )
    .option(
      "--halve-every <n>",
      "halve both learning rates every n generator steps (0: never)",
      parseInteger(0),
      PAPER_GAN_SCHEDULE.halveEvery,
    )
    .option(
      "--stats-weight <λ>",
      "weight of the summary-statistics term in the generator loss (P(k), its variance, PDF; 0: the paper's adversarial loss only)",
      parseNumber({ min: 0 }),
      0,
    )
    .option(
      "--stats-variance-weight <w>",
      "relative weight w_V of the P(k)-variance part of that term",
      parseNumber({ min: 0 }),
      DEFAULT_VARIANCE_WEIGHT,
    )
    .option(
      "--stats-homogeneity-weight <w>",
      "relative weight w_M of the homogeneity part: the batch-mean field's variance against 1/B of the fields' (a pattern shared by every sample, e.g. a checkerboard)",
      parseNumber({ min: 0 }),
      0,
    )
    .addOption(
      new Option(
        "--stats-homogeneity-of <fields>",
        "what the homogeneity part measures: scaled (c, where dense peaks saturate) or density (ρ, where peaks locked to preferred voxels dominate; `validate gan` reports their ensemble-mean field)",
      )
        .choices(HOMOGENEITY_FIELDS as unknown as string[])
        .default("scaled")
        .argParser(parseChoice(HOMOGENEITY_FIELDS)),
    )
    .option(
      "--stats-coherence-weight <w>",
      "relative weight w_K of the shell-by-shell coherence part: the batch-mean field's P(k) against 1/B of the fields' (structure the samples share, per scale)",
      parseNumber({ min: 0 }),
      0,
    )
    .addOption(
      new Option(
        "--stats-variance-offset <kind>",
        "β_B of the variance part: gaussian (E ln s²/σ² of B Gaussian values) or empirical (measured per shell on batches of B training cubes, whose P(k) is skewed)",
      )
        .choices(VARIANCE_OFFSETS as unknown as string[])
        .default("gaussian")
        .argParser(parseChoice(VARIANCE_OFFSETS)),
    )
    .option(
      "--stats-memory <M>",
      "steps of running averages behind the P(k), P(k)-variance and PDF parts: their errors come from exponential averages over ≈ M batches, their directions from the batch (0: the batch alone, whose 16-cube variance estimate is noisier than the tolerance)",
      parseNumber({ min: 0 }),
      0,
    )
    .option(
      "--stats-kmax <k>",
      "h/Mpc: the P(k) and P(k)-variance parts weigh the shells up to k (the acceptance range, 1) by 1 and the rest by --stats-outer-weight (default: every shell to Nyquist alike)",
      parseNumber({ minExclusive: 0 }),
    )
    .option(
      "--stats-outer-weight <w>",
      "weight of the shells beyond --stats-kmax in those parts",
      parseNumber({ min: 0 }),
      1,
    )
    .option(
      "--stats-shell-norm <p>",
      "those parts as the weighted p-norm of the shells' log-ratios, (Σ w|l|^p / Σ w)^(2/p): 2 is the mean square; larger p pulls hardest on the worst shells (the checks are a maximum over shells)",
      parseNumber({ min: 2 }),
      2,
    )
    .option(
      "--stats-pdf-weight <w>",
      "relative weight w_H of the PDF part (the smoothed PDF of ln ρ in units of the cubes' spread)",
      parseNumber({ min: 0 }),
      1,
    )
    .option(
      "--stats-mass-weight <w>",
      "relative weight w_ρ of the mass part: [ln⟨ρ⟩ / ln 1.1]², the batch's mean density against the data's 1",
      parseNumber({ min: 0 }),
      0,
    )
    .option(
      "--stats-environment-weight <w>",
      "relative weight w_E of the environment part: the scatter of each cube's ln P(k) about the training cubes' dependence on the cube's mean density",
      parseNumber({ min: 0 }),
      0,
    )
    .option(
      "--stats-scatter-weight <w>",
      "relative weight w_S of the relative-scatter part: ln(Var P(k)/P̄(k)²) against the training cubes', with the P(k) part's shells and norm (the P(k) distribution's width apart from its amplitude)",
      parseNumber({ min: 0 }),
      0,
    )
    .option(
      "--stats-coherence-fixed-power",
      "take L_K's denominator (the fields' mean power) as a constant in the gradient, so that L_K shrinks shared structure instead of raising every field's power at its shells",
    )
    .addOption(
      ganOrientationOption(
        "--stats-orientation <o>",
        "random: the statistics term measures each generated field under a cube symmetry drawn per step, as sample-gan --orientation random draws samples, so L_M and L_K count only the shared structure orientation leaves shared; generator: as generated",
        "generator",
      ),
    )
    .option("--checkpoint-every <K>", "steps between checkpoints (and loss lines)", parseInteger(1), 100)
    .option(
      "--keep-checkpoints <n>",
      "checkpoints kept, newest first; 0 keeps every one (what `mocksmith select-gan` chooses from)",
      parseInteger(0),
      0,
    )
    .option("--resume", "continue from the newest checkpoint in OUT/checkpoints/")
    .option(
      "--init <ckpt|model>",
      "fine-tune: start from the weights of another run's checkpoint (same latent prior; same architecture, or wider --filters at the same depth, widened function-preservingly (Net2Wider); another --kappa is carried over by shifting the output bias, same ρ), or from an exported model's generator (.onnx, its directory, or default; same architecture; batch norm unfolded, a fresh discriminator); Adam and the schedule start afresh",
    )
    .option(
      "--discriminator-warmup <n>",
      "discriminator-only passes before the first step of a fresh run (for --init MODEL, whose discriminator starts untrained)",
      parseInteger(0),
      0,
    )
    .option(
      "--warmup-accuracy-threshold <a>",
      "warm-up passes update D while its batch accuracy is below a (default: --accuracy-threshold; 1: every pass — with the generator frozen, D cannot outrun it)",
      parseNumber({ min: 0, max: 1 }),
    )
    .option(
      "--adversarial-weight <w>",
      "weight of the adversarial term in the generator's loss (0: no discriminator at all, the statistics term alone — for fine-tuning a trained generator; needs --stats-weight)",
      parseNumber({ min: 0 }),
      1,
    )
    .option(
      "--freeze-batch-norm",
      "train the generator with its batch norm in inference mode (moving statistics fixed, γ and β learn): the losses see what the exported model draws — for fine-tuning a trained generator",
    )
    .option(
      "--train-layers <names>",
      "generator layers the generator step updates, e.g. g0,g1 (default: all; the others keep their weights)",
      (v: string) => v.split(",").map((x) => x.trim()),
    )
    .option(
      "--resize-kernels",
      "the generator's stride-2 layers as resize convolutions: a trained 3³ kernel W used as W ⊛ box 2³ (nearest-neighbour upsampling then a 3³ convolution), which paints no checkerboard; exported as the same transposed convolutions. --init MODEL projects its 4³ kernels onto them",
    )
    .option(
      "--weight-average <beta>",
      "keep an exponential moving average of the generator's weights, θ̄ ← β θ̄ + (1 − β) θ after every step (β = 0.99: a window of ≈ 100 steps); checkpoints keep it, select-gan and --init read it, the export writes it",
      parseNumber({ minExclusive: 0, maxExclusive: 1 }),
    )
    .option("--threads <t>", "threads per convolution (default: all cores)", parseInteger(1, 256))
    .requiredOption(
      "-o, --output <dir>",
      "output directory: gan.onnx, gan.card.json, gan.weights.json, checkpoints/",
    )
    .addHelpText(
      "after",
      `
Data: periodic sub-cubes of the generator's side (64 for the presets) at random corners of the
simulations' nbody_delta_zZ.npy, each under one of the 48 cube symmetries, scaled to
c = 2ρ/(ρ + κ) − 1 with ρ = 1 + δ. Loss: DCGAN non-saturating (softplus of logits). Schedule
(Feder et al. 2020): Adam β1 0.5, lr 1e-4 (G) and 5e-5 (D), D updated only while its batch
accuracy < 80%, learning rates halved every 1000 G steps. --stats-weight λ > 0 (not in the
paper) adds λ (L_P + w_V L_V + w_H L_H) to the generator's loss: squared log-ratios of the batch's
mean P(k) and P(k) variance to those of 1024 training cubes, in units of the acceptance
tolerances (10 %, 25 %), over every shell to Nyquist, and the squared deviation of its smoothed
PDF of ln ρ in units of the cubes' spread (w_H: --stats-pdf-weight, default 1); w_M (--stats-homogeneity-weight) adds
[ln(B Var_x c̄ / ⟨Var_x c_i⟩) / ln 1.25]², c̄ the batch-mean field, which is 0 in expectation
for statistically homogeneous samples and large for a pattern they all share; w_K
(--stats-coherence-weight) adds the same shell by shell, ⟨[ln(B P_b(ρ̄) / P̄_b) / ln 1.25]²⟩_b
with ρ̄ the batch-mean density; w_ρ (--stats-mass-weight) adds [ln⟨ρ⟩ / ln 1.1]²,
the batch's mean density against the data's 1; w_E (--stats-environment-weight) adds
⟨[ln(Var q_b / Var_N q_b) / ln 1.25]²⟩_b with q_b = ln P_b − a_b ln m, m a cube's mean
density and a_b the training cubes' slope (a cube's power follows its mean density; the rest
of its scatter is small), plus the same for Var ln m; w_S (--stats-scatter-weight) adds the
shell norm of [ln((Var P_b/P̄_b²) / (Var_N P_b/P̄_N,b²)) / ln 1.25], the width of the P(k)
distribution apart from its amplitude; --stats-coherence-fixed-power keeps L_K
from raising every field's power to lower its ratio (the denominator is held constant);
--stats-orientation random measures the batch with each field under a cube symmetry drawn per
step (the orientations sample-gan gives its samples), so L_M and L_K leave alone the shared
structure that orientation already spreads over 48 directions.
--stats-memory M takes L_P's, L_V's and L_H's errors from running averages over ≈ M batches
(their directions from the batch): a batch of 16 knows Var P(k) to ±37 %, beyond the 25 %
tolerance, so batch-only parts mostly chase noise. --adversarial-weight 0 drops the
discriminator: the generator follows the statistics term alone (a fine-tune that a fresh
discriminator would pull off course).
Checkpoints (weights, batch-norm statistics, Adam state, running averages, step) every K steps; --resume
continues bitwise identically.
--init CKPT fine-tunes another run's checkpoint under new settings (e.g. a stronger
statistics term); the card records the checkpoint's step and SHA-256. --init MODEL (e.g.
default) needs no checkpoint: the exported generator's folded batch norm is unfolded (moving
statistics from 256 probe latents, so inference output is unchanged and training mode differs
only by batch noise) and the discriminator starts from --seed; give it --discriminator-warmup
passes before the generator moves.`,
    )
    .action(async (flags: TrainGanFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      if (flags.data.length === 0) throw new InputError("--data", "name at least one data directory");
      if (
        flags.statsHomogeneityOf === "density" &&
        !(flags.statsWeight > 0 && flags.statsHomogeneityWeight > 0)
      )
        throw new InputError(
          "--stats-homogeneity-of",
          "density sets what the homogeneity part measures: give --stats-weight and --stats-homogeneity-weight > 0 as well",
        );
      if (flags.statsOrientation === "random" && !(flags.statsWeight > 0))
        throw new InputError(
          "--stats-orientation",
          "random orients the fields the statistics term measures: give --stats-weight > 0 as well",
        );
      const preset = PRESET_OPTIONS[flags.preset];
      const architecture = {
        filters: flags.filters ?? preset.filters,
        latentDim: flags.latentDim ?? preset.latentDim,
        conditional: flags.conditional === true,
      };
      const custom = flags.filters !== undefined || flags.latentDim !== undefined;
      const t0 = performance.now();
      const result = await trainGan(
        {
          data: flags.data,
          redshifts: flags.redshift,
          preset: custom ? "custom" : flags.preset,
          architecture,
          latentPrior: { kind: flags.latent, nu: flags.nu, scale: 1 },
          kappa: flags.kappa,
          batch: flags.batch,
          steps: flags.steps,
          seed: flags.seed,
          checkpointEvery: flags.checkpointEvery,
          keepCheckpoints: flags.keepCheckpoints,
          schedule: {
            learningRateGenerator: flags.lrG,
            learningRateDiscriminator: flags.lrD,
            beta1: flags.beta1,
            beta2: PAPER_GAN_SCHEDULE.beta2,
            accuracyThreshold: flags.accuracyThreshold,
            halveEvery: flags.halveEvery,
          },
          ...(flags.statsWeight > 0
            ? {
                statistics: {
                  weight: flags.statsWeight,
                  varianceWeight: flags.statsVarianceWeight,
                  ...(flags.statsHomogeneityWeight > 0
                    ? { homogeneityWeight: flags.statsHomogeneityWeight }
                    : {}),
                  ...(flags.statsHomogeneityOf === "density" ? { homogeneityOf: "density" as const } : {}),
                  ...(flags.statsCoherenceWeight > 0 ? { coherenceWeight: flags.statsCoherenceWeight } : {}),
                  ...(flags.statsPdfWeight !== 1 ? { pdfWeight: flags.statsPdfWeight } : {}),
                  ...(flags.statsVarianceOffset !== "gaussian"
                    ? { varianceOffset: flags.statsVarianceOffset }
                    : {}),
                  ...(flags.statsMemory > 0 ? { memory: flags.statsMemory } : {}),
                  ...(flags.statsKmax !== undefined ? { kMax: flags.statsKmax } : {}),
                  ...(flags.statsOuterWeight !== 1 ? { outerShellWeight: flags.statsOuterWeight } : {}),
                  ...(flags.statsShellNorm !== 2 ? { shellNorm: flags.statsShellNorm } : {}),
                  ...(flags.statsMassWeight > 0 ? { massWeight: flags.statsMassWeight } : {}),
                  ...(flags.statsCoherenceFixedPower === true ? { coherenceFixedPower: true } : {}),
                  ...(flags.statsOrientation === "random" ? { orientation: "random" as const } : {}),
                  ...(flags.statsEnvironmentWeight > 0
                    ? { environmentWeight: flags.statsEnvironmentWeight }
                    : {}),
                  ...(flags.statsScatterWeight > 0 ? { scatterWeight: flags.statsScatterWeight } : {}),
                },
              }
            : {}),
          ...(flags.init !== undefined ? { initFrom: flags.init } : {}),
          ...(flags.discriminatorWarmup > 0 ? { discriminatorWarmup: flags.discriminatorWarmup } : {}),
          ...(flags.warmupAccuracyThreshold !== undefined
            ? { warmupAccuracyThreshold: flags.warmupAccuracyThreshold }
            : {}),
          ...(flags.adversarialWeight !== 1 ? { adversarialWeight: flags.adversarialWeight } : {}),
          ...(flags.freezeBatchNorm === true ? { freezeGeneratorBatchNorm: true } : {}),
          ...(flags.trainLayers ? { trainLayers: flags.trainLayers } : {}),
          ...(flags.resizeKernels === true ? { resizeKernels: true } : {}),
          ...(flags.weightAverage !== undefined ? { weightAverageDecay: flags.weightAverage } : {}),
          output: flags.output,
        },
        {
          resume: flags.resume,
          progress: ctx.progress,
          threads: flags.threads,
          onLosses: (entry) =>
            ctx.log === "json"
              ? process.stderr.write(JSON.stringify({ event: "losses", task: "train gan", ...entry }) + "\n")
              : ctx.progress.info(`train gan: ${summaryLine(entry)}`),
        },
      );
      const per = result.secondsPerStep === null ? "" : ` (${result.secondsPerStep.toFixed(3)} s/step)`;
      ctx.summary(
        `trained ${result.stepsRun} GAN step(s)${result.resumedFromStep === null ? "" : ` after resuming at step ${result.resumedFromStep}`} on ${result.engine}${per}; wrote ${result.onnxPath}, its card and weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        {
          output: flags.output,
          model: result.onnxPath,
          steps: result.stepsRun,
          resumedFromStep: result.resumedFromStep,
          secondsPerStep: result.secondsPerStep,
          engine: result.engine,
          parity: result.card.parity,
        },
      );
    });
}
