/**
 * `mocksmith train painter`: trains the halo painter on simulations from `mocksmith nbody-set`
 * (models/painter/training.ts) with checkpoints and resume, and exports the ONNX model, its card
 * and the TensorFlow.js weights.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import {
  DEFAULT_TRAINING,
  summaryLine,
  trainPainter,
  WARM_START_LOSSES,
  type WarmStartLoss,
} from "../../../models/painter/training.js";
import type { MassBinChoice } from "../../../models/painter/training-data.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { resolveModelPath } from "../../../models/default-model.js";
import { parseChoice, parseInteger, parseNumber, parseNumberList } from "../option-parsers.js";
import { registerTrainGan } from "./train-gan.js";

interface TrainPainterFlags {
  data: string[];
  steps: number;
  patch: number;
  seed: number;
  batch: number;
  warmStartSteps: number;
  warmStartLoss: WarmStartLoss;
  warmStartLr: number;
  powerWeight: number;
  powerBands: number[];
  init?: string;
  massBins: MassBinChoice;
  validationSims: number;
  validationPatches: number;
  checkpointEvery: number;
  redshift: number;
  resume?: boolean;
  threads?: number;
  output: string;
}

function parseValidationSims(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || (n >= 1 && !Number.isInteger(n)))
    throw new InvalidArgumentError("expected a count of simulations (0, 1, 2, …) or a fraction in (0, 1).");
  return n;
}

export function registerTrain(program: Command): void {
  const train = program
    .command("train")
    .description("train a model (see `mocksmith train painter --help`, `mocksmith train gan --help`)");
  registerTrainGan(train);
  train
    .command("painter")
    .description(
      "train the halo painter (WGAN-GP, Kodi Ramanah et al. 2019) on 2LPT → halo-count pairs from `mocksmith nbody-set`",
    )
    .requiredOption(
      "--data <dirs...>",
      "data directories holding sim-NNN/ simulations (each with manifest.json)",
    )
    .requiredOption(
      "--steps <n>",
      "WGAN-GP steps (one painter update after n_critic critic updates)",
      parseInteger(0),
    )
    .option(
      "--patch <P>",
      "input patch side in voxels (painted side P − 8; WGAN-GP needs ≥ 31)",
      parseInteger(1, 1024),
      DEFAULT_TRAINING.patch,
    )
    .option("--seed <s>", "seed of weights, patches, symmetries and ε", parseInteger(0, 0xffffffff), 1)
    .option("--batch <B>", "patches per step", parseInteger(1, 1024), DEFAULT_TRAINING.batch)
    .option("--warm-start-steps <M>", "supervised steps before WGAN-GP (0: none)", parseInteger(0), 0)
    .addOption(
      new Option("--warm-start-loss <loss>", "loss on the counts for the warm start")
        .choices(WARM_START_LOSSES as string[])
        .default(DEFAULT_TRAINING.warmStartLoss)
        .argParser(parseChoice(WARM_START_LOSSES)),
    )
    .option(
      "--warm-start-lr <rate>",
      "Adam learning rate of the warm start",
      parseNumber({ minExclusive: 0 }),
      DEFAULT_TRAINING.warmStartLearningRate,
    )
    .option(
      "--power-weight <beta>",
      "weight of the band-power term added to the warm-start loss (0: none; see below)",
      parseNumber({ min: 0 }),
      DEFAULT_TRAINING.powerWeight,
    )
    .option(
      "--power-bands <edges>",
      "k-band edges of the band-power term, h/Mpc, comma separated",
      parseNumberList(parseNumber({ min: 0 })),
      DEFAULT_TRAINING.powerBands,
    )
    .option(
      "--init <model>",
      "start from a trained painter (PATH.onnx with card and weights, or 'default') instead of seeded weights",
    )
    .addOption(
      new Option(
        "--mass-bins <which>",
        "targets: total halo counts (one channel) or all mass bins (one channel each)",
      )
        .choices(["total", "all"])
        .default("total")
        .argParser(parseChoice(["total", "all"] as const)),
    )
    .option(
      "--validation-sims <k>",
      "held-out simulations: a count, or a fraction in (0, 1) (the last ones by name)",
      parseValidationSims,
      DEFAULT_TRAINING.validationSims,
    )
    .option(
      "--validation-patches <n>",
      "fixed held-out patches scored at every checkpoint",
      parseInteger(0, 100000),
      DEFAULT_TRAINING.validationPatches,
    )
    .option(
      "--checkpoint-every <K>",
      "steps between checkpoints (and validation scores)",
      parseInteger(1),
      DEFAULT_TRAINING.checkpointEvery,
    )
    .option("--redshift <z>", "snapshot redshift of the training pairs", parseNumber({ min: 0 }), 0)
    .option("--resume", "continue from the newest checkpoint in OUT/checkpoints/")
    .option("--threads <t>", "threads per convolution (default: all cores)", parseInteger(1, 256))
    .requiredOption(
      "-o, --output <dir>",
      "output directory: painter.onnx, painter.card.json, painter.weights.json, checkpoints/",
    )
    .addHelpText(
      "after",
      `
Loss: WGAN-GP (eq. 3.1 of Kodi Ramanah, Charnock & Lavaux 2019), λ = 10, n_critic = 5, Adam
lr 1e-4, β1 0.5, β2 0.999. The optional warm start minimises the chosen loss on the counts
(mse, or the Poisson negative log-likelihood μ − y ln μ) for M steps first; with
--power-weight β > 0 it adds β × mean over k bands of (ln P_painted − ln P_true)², P_true with the
counts' Poisson shot noise subtracted, so the painted power matches the haloes' (a likelihood
alone learns the conditional mean, whose power is short by r_c²). Inputs are
normalised to ρ/ρ̄ = 1 + δ; each patch is rotated/reflected by one of the 48 cube symmetries.
Checkpoints (weights, Adam state, step, random-stream position) are written atomically every
K steps; --resume continues bitwise identically to an uninterrupted run.`,
    )
    .action(async (flags: TrainPainterFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      if (flags.data.length === 0) throw new InputError("--data", "name at least one data directory");
      const t0 = performance.now();
      const result = await trainPainter(
        {
          ...DEFAULT_TRAINING,
          data: flags.data,
          redshift: flags.redshift,
          massBins: flags.massBins,
          validationSims: flags.validationSims,
          validationPatches: flags.validationPatches,
          patch: flags.patch,
          batch: flags.batch,
          steps: flags.steps,
          warmStartSteps: flags.warmStartSteps,
          warmStartLoss: flags.warmStartLoss,
          warmStartLearningRate: flags.warmStartLr,
          powerWeight: flags.powerWeight,
          powerBands: flags.powerBands,
          ...(flags.init !== undefined ? { initModel: resolveModelPath(flags.init, "--init") } : {}),
          seed: flags.seed,
          checkpointEvery: flags.checkpointEvery,
          output: flags.output,
        },
        {
          resume: flags.resume,
          progress: ctx.progress,
          threads: flags.threads,
          // One JSON line per interval with --log json (machine-readable losses), else a text line.
          onLosses: (entry) =>
            ctx.log === "json"
              ? process.stderr.write(
                  JSON.stringify({ event: "losses", task: "train painter", ...entry }) + "\n",
                )
              : ctx.progress.info(`train: ${summaryLine(entry)}`),
        },
      );
      const per = result.secondsPerStep;
      const timing = [
        per.warmStart === null ? null : `${per.warmStart.toFixed(3)} s/warm-start step`,
        per.wgan === null ? null : `${per.wgan.toFixed(3)} s/WGAN-GP step`,
      ]
        .filter((s) => s !== null)
        .join(", ");
      ctx.summary(
        `trained ${result.stepsRun} step(s)${result.resumedFromStep === null ? "" : ` after resuming at step ${result.resumedFromStep}`} on ${result.engine}${timing ? ` (${timing})` : ""}; wrote ${result.onnxPath}, its card and ${result.weightsPath} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        {
          output: flags.output,
          model: result.onnxPath,
          steps: result.stepsRun,
          resumedFromStep: result.resumedFromStep,
          secondsPerStep: per,
          engine: result.engine,
          parity: result.card.parity,
          validation: result.card.validation,
        },
      );
    });
}
