/**
 * `mocksmith validate painter`: paints held-out simulations from `mocksmith nbody-set` with a
 * model and compares the painted halo fields with the true ones and with two bias baselines
 * (stages/painter-validation.ts), writing validation.json, PNG plots and index.html into a new
 * directory, atomically (a temporary directory renamed when complete).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, Option } from "commander";
import {
  assertWritableDestination,
  InputError,
  temporaryPathFor,
  writeAtomically,
} from "../../../io/atomic-file.js";
import { arrayGridSource } from "../../../io/grid-reader.js";
import { cardPathFor, loadModel } from "../../../io/model-file.js";
import { resolveModelPath } from "../../../models/default-model.js";
import { inputOffset, type ModelCard, type ModelCardMassBin } from "../../../models/model-card.js";
import {
  loadTrainingSet,
  type MassBinChoice,
  type TrainingSet,
  type TrainingSimulation,
} from "../../../models/painter/training-data.js";
import {
  DEFAULT_VALIDATION_SETTINGS,
  SHOT_NOISE_CONVENTIONS,
  validatePainter,
  type PaintedBox,
  type PainterValidation,
  type ShotNoiseConvention,
  type ValidationBox,
} from "../../../stages/painter-validation.js";
import {
  writeValidationFiles,
  VALIDATION_HTML,
  VALIDATION_JSON,
} from "../../../stages/report/validation-report.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../../../version.js";
import {
  choosePaintEngine,
  DEFAULT_MAX_FFT_SIDE,
  ENGINE_CHOICES,
  type EngineChoice,
} from "../../paint-engine.js";
import { PARTICLE_SPACING_TOLERANCE } from "../../painted-catalog.js";
import { paintToMemory } from "../../paint-run.js";
import { parseDevice } from "../../worker-pool.js";
import type { Progress } from "../../progress.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";
import { registerValidateGan } from "./validate-gan.js";

const MASS_BIN_CHOICES = ["auto", "total", "all"] as const;
type MassBinFlag = (typeof MASS_BIN_CHOICES)[number];

interface ValidateFlags {
  model: string;
  data: string[];
  output: string;
  redshift: number;
  massBins: MassBinFlag;
  shotNoise: ShotNoiseConvention;
  samplePainter?: boolean;
  transferTolerance: number;
  seed: number;
  localBiasBins: number;
  biasKMax: number;
  baselineFitData?: string[];
  tile: number;
  workers: number;
  engine: EngineChoice;
  threads?: number;
  recordInCard?: boolean;
}

/** Relative tolerance on the data's voxel size against the card's (as `paint`). */
const VOXEL_TOLERANCE = 1e-4;

function fileTag(redshift: number): string {
  return `z${redshift.toFixed(3)}`;
}

/** The file a channel's true counts were read from (for error messages and the JSON). */
function targetFile(sim: TrainingSimulation, redshift: number, bin: ModelCardMassBin): string {
  const tag = fileTag(redshift);
  return path.join(
    sim.directory,
    bin.massBin === null ? `halo_counts_${tag}.npy` : `halo_counts_${tag}_bin${bin.massBin}.npy`,
  );
}

/** Refuses NaN/∞ inputs and counts that are not non-negative integers, naming the file and voxel. */
function checkValues(set: TrainingSet): void {
  for (const sim of set.train) {
    const lpt = path.join(sim.directory, `lpt_delta_${fileTag(set.redshift)}.npy`);
    const bad = sim.input.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new InputError(lpt, `value ${sim.input[bad] - 1} at voxel ${bad} is not finite`);
    sim.targets.forEach((t, c) => {
      const file = targetFile(sim, set.redshift, set.massBins[c]);
      const i = t.findIndex((v) => !(v >= 0) || !Number.isInteger(v));
      if (i >= 0)
        throw new InputError(
          file,
          `value ${t[i]} at voxel ${i} is not a halo count (a non-negative integer)`,
        );
      if (!t.some((v) => v > 0))
        throw new InputError(
          file,
          "holds no haloes; every channel validated needs haloes in every simulation (choose mass bins that are populated, or --mass-bins total)",
        );
    });
  }
}

function loadSet(
  dirs: string[],
  redshift: number,
  massBins: MassBinChoice,
  card: ModelCard,
  modelPath: string,
): TrainingSet {
  const set = loadTrainingSet({ data: dirs, redshift, massBins, validation: 0 });
  if (Math.abs(set.voxelSize - card.voxelSize) > VOXEL_TOLERANCE * card.voxelSize)
    throw new InputError(
      dirs.join(", "),
      `voxel size ${set.voxelSize} Mpc/h differs from the ${card.voxelSize} Mpc/h the model ${path.basename(modelPath)} was trained at`,
    );
  // As for `run`: fields CIC-deposited from other particle spacings differ on voxel scales.
  const trained = card.training?.inputParticleSpacing;
  const spacing = set.inputParticleSpacing;
  if (
    trained !== undefined &&
    spacing !== undefined &&
    Math.abs(spacing - trained) > PARTICLE_SPACING_TOLERANCE * trained
  )
    throw new InputError(
      dirs.join(", "),
      `2LPT particle spacing ${spacing} Mpc/h differs from the ${trained} Mpc/h the model ${path.basename(modelPath)} was trained on`,
    );
  checkValues(set);
  return set;
}

/** total or all, from the flag and the model's output channels. */
function massBinChoice(flag: MassBinFlag, card: ModelCard, modelPath: string): MassBinChoice {
  const only = card.outputChannels === 1 ? card.massBins?.[0]?.massBin : null;
  if (only !== null && only !== undefined)
    throw new InputError(
      modelPath,
      `paints mass bin ${only} alone; validating a one-bin model is not supported (train on the total counts or on all bins)`,
    );
  if (flag === "auto") return card.outputChannels > 1 ? "all" : "total";
  if (flag === "all" && card.outputChannels === 1)
    throw new InputError(
      "--mass-bins all",
      `the model ${modelPath} paints one channel; validate it against the total counts (--mass-bins total)`,
    );
  return flag;
}

/** Checks that the data's mass bins are the model's channels (by bin index where the card says). */
function checkChannels(
  set: TrainingSet,
  card: ModelCard,
  choice: MassBinChoice,
  modelPath: string,
  dirs: string[],
): void {
  if (choice === "total") return;
  if (set.channels !== card.outputChannels)
    throw new InputError(
      dirs.join(", "),
      `${set.channels} mass bin(s) (halo_counts_*_binB.npy), but the model ${modelPath} paints ${card.outputChannels} channel(s)`,
    );
  card.massBins?.forEach((b, c) => {
    if (b.massBin !== null && b.massBin !== set.massBins[c].massBin)
      throw new InputError(
        modelPath,
        `channel ${c} was trained on mass bin ${b.massBin}, the data's channel ${c} is bin ${set.massBins[c].massBin}`,
      );
  });
}

function channelLabel(bin: ModelCardMassBin, choice: MassBinChoice): string {
  if (choice === "total" || bin.massBin === null) return "all haloes";
  const range =
    bin.minMass !== null && bin.maxMass !== null
      ? ` (${bin.minMass.toExponential(2)}–${bin.maxMass.toExponential(2)} Msun/h)`
      : "";
  return `mass bin ${bin.massBin}${range}`;
}

async function paintSet(
  set: TrainingSet,
  card: ModelCard,
  modelPath: string,
  flags: ValidateFlags,
  choice: MassBinChoice,
  progress: Progress,
): Promise<PaintedBox[]> {
  const device = parseDevice("cpu");
  const engine = choosePaintEngine(flags.engine, card, modelPath, device, DEFAULT_MAX_FFT_SIDE);
  const boxes: PaintedBox[] = [];
  progress.start("paint held-out simulations", set.train.length);
  for (const sim of set.train) {
    const n3 = sim.side ** 3;
    const name = path.basename(sim.directory);
    // The loader holds ρ/ρ̄ = 1 + δ: a "density" grid to inputOffset; the whole box is painted
    // with periodic padding, so every voxel sees its true neighbourhood.
    const painted = await paintToMemory(arrayGridSource(sim.input, sim.side, 1, name), {
      modelPath,
      card,
      tile: Math.min(flags.tile, sim.side),
      boundary: "periodic",
      tilesPerBatch: 1,
      workers: flags.workers,
      device,
      engine,
      inputOffset: inputOffset(card, true),
    });
    const bad = painted.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new InputError(
        modelPath,
        `paints ${painted[bad]} at value ${bad} of ${name}; the model is broken`,
      );
    let channels = Array.from({ length: card.outputChannels }, (_, c) =>
      painted.subarray(c * n3, (c + 1) * n3),
    );
    channels.forEach((ch, c) => {
      if (!ch.some((v) => v > 0))
        throw new InputError(
          modelPath,
          `paints no haloes anywhere in ${name} (channel ${c}); nothing to compare (an untrained or broken model?)`,
        );
    });
    if (choice === "total" && channels.length > 1) {
      // A mass-binned model against the total counts: the sum of its channels.
      const sum = new Float32Array(n3);
      for (const ch of channels) for (let i = 0; i < n3; i++) sum[i] += ch[i];
      channels = [sum];
    }
    boxes.push({ ...asBox(sim), painted: channels });
    progress.advance("paint held-out simulations", boxes.length);
  }
  progress.finish("paint held-out simulations");
  return boxes;
}

function asBox(sim: TrainingSimulation): ValidationBox {
  return {
    name: path.basename(sim.directory),
    side: sim.side,
    boxSize: sim.boxSize,
    delta: sim.input.map((v) => v - 1),
    truth: sim.targets,
  };
}

function simulationRecords(set: TrainingSet) {
  return set.train.map((s) => ({
    directory: s.directory,
    side: s.side,
    boxSize: s.boxSize,
    manifestSha256: s.manifestSha256,
  }));
}

const SHOT_NOISE_TEXT = {
  poisson:
    "Poisson shot noise V/N (N: the field's total count) subtracted from the auto spectra of the discrete fields: the true haloes, the Poisson-sampled local-bias baseline and, with --sample-painter, the painter; the painter's mean field and the linear-bias field are not discrete and keep their spectra",
  none: "nothing subtracted: every auto spectrum includes its shot noise (a perfect noiseless mean painter then has T < 1 where the true haloes' shot noise matters)",
} as const;

/**
 * The acceptance numbers as flat card entries, `heldout.<shot-noise>.ch<C>.<check>.<field>`: the
 * statistic at its least favourable shell (value, bound, k) and whether the check passed (1/0), so
 * a model's card states how it scored and under which shot-noise convention; and the painted and
 * true mean counts per voxel (`…ch<C>.meanCount.painted|true`).
 */
export function cardValidationEntries(
  validation: PainterValidation,
  shotNoise: ShotNoiseConvention,
  volume: number,
  simulations: number,
): Record<string, number> {
  const prefix = `heldout.${shotNoise}`;
  const out: Record<string, number> = {
    [`${prefix}.volume`]: volume,
    [`${prefix}.simulations`]: simulations,
  };
  for (const c of validation.channels) {
    // T, r_c and s compare overdensities and cannot see the mean count; a catalog's number density can.
    out[`${prefix}.ch${c.channel}.meanCount.painted`] = c.combined.painter.meanCount;
    out[`${prefix}.ch${c.channel}.meanCount.true`] = c.combined.truth.meanCount;
    for (const [name, chk] of Object.entries(c.checks)) {
      const key = `${prefix}.ch${c.channel}.${name}`;
      if (chk.passed !== null) out[`${key}.passed`] = chk.passed ? 1 : 0;
      if (chk.worst) {
        out[`${key}.value`] = chk.worst.value;
        out[`${key}.bound`] = chk.worst.bound;
        out[`${key}.k`] = chk.worst.k;
      }
      out[`${key}.kMax`] = chk.kMax;
    }
  }
  return out;
}

/** Rewrites the model's card (atomically) with the held-out entries of this convention replaced. */
function recordInCard(
  modelPath: string,
  entries: Record<string, number>,
  shotNoise: ShotNoiseConvention,
): string {
  const cardPath = cardPathFor(modelPath);
  const card = JSON.parse(fs.readFileSync(cardPath, "utf8")) as ModelCard;
  const prefix = `heldout.${shotNoise}.`;
  const kept = Object.fromEntries(
    Object.entries(card.validation ?? {}).filter(([k]) => !k.startsWith(prefix)),
  );
  const updated: ModelCard = { ...card, validation: { ...kept, ...entries } };
  writeAtomically(cardPath, (tmp) => fs.writeFileSync(tmp, JSON.stringify(updated, null, 2) + "\n"));
  return cardPath;
}

export async function runValidatePainter(flags: ValidateFlags, global: GlobalOptions): Promise<void> {
  const ctx = makeContext(global);
  const t0 = performance.now();
  const out = flags.output;
  assertWritableDestination(out);
  if (fs.existsSync(out)) throw new InputError(out, "already exists; name a new output directory");
  const modelPath = resolveModelPath(flags.model);
  const { card } = await loadModel(modelPath);
  if (card.inputChannels !== 1)
    throw new InputError(modelPath, `expects ${card.inputChannels} input channels; the 2LPT density has 1`);
  const choice = massBinChoice(flags.massBins, card, modelPath);
  ctx.progress.info(`loading held-out simulations from ${flags.data.join(", ")}`);
  const set = loadSet(flags.data, flags.redshift, choice, card, modelPath);
  checkChannels(set, card, choice, modelPath, flags.data);
  const fitSet = flags.baselineFitData
    ? loadSet(flags.baselineFitData, flags.redshift, choice, card, modelPath)
    : null;
  if (fitSet && fitSet.channels !== set.channels)
    throw new InputError(
      flags.baselineFitData!.join(", "),
      `${fitSet.channels} channel(s), the held-out data ${set.channels}`,
    );
  const boxes = await paintSet(set, card, modelPath, flags, choice, ctx.progress);
  const labels = set.massBins.map((b) => channelLabel(b, choice));
  ctx.progress.info("comparing spectra and fitting baselines");
  const validation = validatePainter(
    boxes,
    {
      ...DEFAULT_VALIDATION_SETTINGS,
      shotNoise: flags.shotNoise,
      samplePainter: flags.samplePainter ?? false,
      seed: flags.seed,
      transferTolerance: flags.transferTolerance,
      localBiasBins: flags.localBiasBins,
      kMaxBiasFit: flags.biasKMax,
      baselineFit: fitSet ? flags.baselineFitData!.join(", ") : "held-out",
      threads: flags.threads,
    },
    labels,
    fitSet ? fitSet.train.map(asBox) : undefined,
  );
  const totalVolume = set.train.reduce((a, sim) => a + sim.boxSize ** 3, 0);
  const provenance = {
    software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
    model: {
      path: modelPath,
      name: card.name,
      architecture: card.architecture,
      sha256: card.sha256,
      trained: card.trained,
      voxelSize: card.voxelSize,
      outputChannels: card.outputChannels,
      massBins: card.massBins ?? null,
    },
    data: {
      directories: flags.data,
      redshift: flags.redshift,
      massBins: choice,
      channels: set.massBins.map((b, c) => ({
        ...b,
        label: labels[c],
        file: path.basename(targetFile(set.train[0], set.redshift, b)),
      })),
      simulations: simulationRecords(set),
      totalVolume,
      baselineFit: fitSet
        ? { directories: flags.baselineFitData, simulations: simulationRecords(fitSet) }
        : "held-out",
    },
    conventions: {
      fields:
        "every field as its overdensity δ = n/n̄ − 1 about its own mean, on the voxel grid, no window compensation",
      spectra:
        "P(k) = |δ_k|² V/N_cells², shells of width k_F from k_F (Pylians binning), k = mean |k| of a shell",
      shotNoise: SHOT_NOISE_TEXT[flags.shotNoise],
      transfer: "T(k) = √(P_pp / P_hh) (eq. 6.3 of Kodi Ramanah, Charnock & Lavaux 2019)",
      correlation: "r_c(k) = P_ph / √(P_pp P_hh) (eq. 6.4)",
      stochasticity: "s(k) = P_hh (1 − r_c²) (eq. 6.5)",
      combined:
        "auto and cross spectra averaged over the simulations (equal weights), then T, r_c and s formed",
      linearBias: `n = n̄ max(0, 1 + b δ_2LPT), b = Σ N_k P_hδ / Σ N_k P_δδ over k ≤ ${flags.biasKMax} h/Mpc, not sampled`,
      localBias: `n_h(δ_2LPT): mean true count in ${flags.localBiasBins} bins of equal voxel count, Poisson-sampled (seed ${flags.seed}, counter-based)`,
      baselineFit: fitSet
        ? `both baselines fitted on ${flags.baselineFitData!.join(", ")}, not on the held-out simulations`
        : "both baselines fitted on the held-out simulations themselves (in-sample, which favours them)",
      painter: flags.samplePainter
        ? "painted means Poisson-sampled (counter-based, seeded)"
        : "painted means as painted (not sampled)",
      conditional: `painted count per voxel${flags.samplePainter ? " (after sampling)" : ""} grouped by the true count of the voxel: mean and 16/50/84th percentiles (linear interpolation), pooled over the simulations for combined`,
    },
  };
  const tmp = temporaryPathFor(path.resolve(out));
  fs.mkdirSync(tmp);
  let plots: number;
  try {
    plots = writeValidationFiles(tmp, validation, provenance);
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const recordedCard = flags.recordInCard
    ? recordInCard(
        modelPath,
        cardValidationEntries(validation, flags.shotNoise, totalVolume, boxes.length),
        flags.shotNoise,
      )
    : null;
  const verdict = (p: boolean | null) => (p === null ? "n/a" : p ? "pass" : "FAIL");
  const checks = validation.channels
    .map(
      (c) =>
        `${c.label}: (i) r_c ${verdict(c.checks.correlation.passed)}, (ii) T ${verdict(c.checks.transfer.passed)}, (iii) s ${verdict(c.checks.stochasticity.passed)}`,
    )
    .join("; ");
  const secs = (performance.now() - t0) / 1000;
  ctx.summary(
    `validated ${path.basename(modelPath)} on ${boxes.length} simulation(s): ${checks}; wrote ${path.join(out, VALIDATION_JSON)}, ${VALIDATION_HTML} and ${plots} plots${recordedCard ? ` and the scores into ${recordedCard}` : ""} in ${secs.toFixed(1)} s`,
    {
      output: out,
      passed: validation.passed,
      simulations: boxes.length,
      channels: validation.channels.map((c) => ({
        label: c.label,
        correlation: c.checks.correlation.passed,
        transfer: c.checks.transfer.passed,
        stochasticity: c.checks.stochasticity.passed,
      })),
      seconds: secs,
    },
  );
}

export function registerValidate(program: Command): void {
  const validate = program
    .command("validate")
    .description(
      "validate a model on held-out data (see `mocksmith validate painter --help`, `mocksmith validate gan --help`)",
    );
  registerValidateGan(validate);
  validate
    .command("painter")
    .description(
      "paint held-out simulations and compare with their true haloes and two bias baselines: P(k), T(k), r_c(k), s(k), painted-given-true counts, acceptance checks",
    )
    .requiredOption("--model <path|default>", "model.onnx with model.card.json beside it, or 'default'")
    .requiredOption(
      "--data <dirs...>",
      "held-out data: directories of sim-NNN/ from `mocksmith nbody-set`, not used in training",
    )
    .requiredOption("-o, --output <dir>", "new output directory: validation.json, index.html, plots/*.png")
    .option("--redshift <z>", "snapshot redshift of the held-out pairs", parseNumber({ min: 0 }), 0)
    .addOption(
      new Option(
        "--mass-bins <which>",
        "auto: one channel → total counts, several → one per halo_counts_zZ_binB.npy; total: the sum of the channels against the total counts; all: channel by channel",
      )
        .choices([...MASS_BIN_CHOICES])
        .default("auto")
        .argParser(parseChoice(MASS_BIN_CHOICES)),
    )
    .addOption(
      new Option(
        "--shot-noise <convention>",
        "Poisson shot noise of discrete fields: subtract V/N (poisson) or keep it (none)",
      )
        .choices([...SHOT_NOISE_CONVENTIONS])
        .default("poisson")
        .argParser(parseChoice(SHOT_NOISE_CONVENTIONS)),
    )
    .option(
      "--sample-painter",
      "Poisson-sample the painted means before comparing (and subtract their shot noise)",
    )
    .option(
      "--transfer-tolerance <t>",
      "check (ii): |T(k) − 1| ≤ t for k ≤ 0.3 h/Mpc",
      parseNumber({ minExclusive: 0 }),
      DEFAULT_VALIDATION_SETTINGS.transferTolerance,
    )
    .option(
      "--seed <s>",
      "seed of the Poisson sampling (baseline, and painter with --sample-painter)",
      parseInteger(0, 0xffffffff),
      1,
    )
    .option(
      "--local-bias-bins <n>",
      "bins of δ for the local-bias baseline n_h(δ)",
      parseInteger(1, 100000),
      DEFAULT_VALIDATION_SETTINGS.localBiasBins,
    )
    .option(
      "--bias-k-max <k>",
      "fit the linear bias on shells with k ≤ this (h/Mpc)",
      parseNumber({ minExclusive: 0 }),
      DEFAULT_VALIDATION_SETTINGS.kMaxBiasFit,
    )
    .option(
      "--baseline-fit-data <dirs...>",
      "fit both baselines on these simulations (e.g. the training set) instead of the held-out ones",
    )
    .option("--tile <T>", "core side of the painting tiles (capped at the grid side)", parseInteger(1), 32)
    .option("--workers <W>", "painting worker threads", parseInteger(1, 256), os.availableParallelism())
    .addOption(
      new Option("--engine <name>", "painting engine, as for `mocksmith paint`")
        .choices([...ENGINE_CHOICES])
        .default("auto")
        .argParser(parseChoice(ENGINE_CHOICES)),
    )
    .option("--threads <t>", "FFT threads for the spectra", parseInteger(1, 256))
    .option(
      "--record-in-card",
      "also write the acceptance scores into the model card's validation entries (heldout.<shot-noise>.ch<C>.<check>.value|bound|k|passed)",
    )
    .addHelpText(
      "after",
      `
Each held-out simulation's 2LPT field (lpt_delta_zZ.npy) is painted whole with periodic padding
and compared with its true halo counts (halo_counts_zZ[_binB].npy). Fields are overdensities
δ = n/n̄ − 1. T(k) = √(P_pp/P_hh), r_c(k) = P_ph/√(P_pp P_hh), s(k) = P_hh(1 − r_c²) (eqs 6.3–6.5
of Kodi Ramanah, Charnock & Lavaux 2019), per simulation and from spectra averaged over them.

Shot noise (--shot-noise poisson, the default): halo counts are discrete, so P_hh carries white
noise V/N; it is subtracted from the auto spectra of the true haloes, of the Poisson-sampled
local-bias baseline and, with --sample-painter, of the sampled painter. The painter's output is a
mean field without shot noise. Without the subtraction (none) even a perfect mean painter scores
T < 1 (|T − 1| ≈ 0.16 was measured) wherever shot noise is a sizeable part of P_hh.

Baselines on the same 2LPT fields: linear bias n = n̄ max(0, 1 + bδ), b fitted from P_hδ/P_δδ
on k ≤ 0.1 h/Mpc (--bias-k-max); local bias n_h(δ), the mean true count in bins of δ,
Poisson-sampled. Both are fitted on the held-out simulations (in-sample, which favours them)
unless --baseline-fit-data names other simulations.

Acceptance checks (in validation.json, per channel): (i) r_c(painter) ≥ r_c of both baselines
for every k ≤ 0.3 h/Mpc; (ii) |T − 1| ≤ --transfer-tolerance for k ≤ 0.3; (iii) s(painter) ≤
0.5 × s(linear bias) for k ≤ 0.1. The command succeeds whether or not they pass.`,
    )
    .action(async (flags: ValidateFlags, cmd: Command) => {
      await runValidatePainter(flags, cmd.optsWithGlobals() as GlobalOptions);
    });
}
