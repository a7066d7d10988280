/**
 * `mocksmith select-gan`: model selection and latent-width calibration of a `train gan` run
 * (models/gan/gan-selection.ts). Every checkpoint of the run is scored at latent width 1 against
 * N-body sub-volumes of the selection simulations; the best `--top` are scored again at each
 * width of `--scales`; the best (checkpoint, width) is exported as a new model directory
 * (gan.onnx, gan.card.json with latentPrior.scale = the width and training.selection, the TF.js
 * weights, selection.json with every score), written whole and renamed into place.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { assertNewDirectory, InputError, writeDirectoryAtomically } from "../../../io/atomic-file.js";
import { loadTensorFlowEngine } from "../../../models/kernels/tf-engine.js";
import { loadHeldOutSubVolumes } from "../../../models/gan/gan-heldout-data.js";
import { exportGan } from "../../../models/gan/gan-export.js";
import {
  ganFromCheckpoint,
  ganRunSettings,
  generateDensities,
  selectionScore,
  withinNoiseOf,
  type GanRunSettings,
  type SelectionScore,
} from "../../../models/gan/gan-selection.js";
import {
  checkpointStep,
  checkpointsOf,
  readCheckpoint,
  type CheckpointHeader,
} from "../../../models/painter/training-checkpoint.js";
import { GanTf } from "../../../models/gan/gan-tf.js";
import type { GanWeights } from "../../../models/gan/gan-weights.js";
import { DEFAULT_GAN_VALIDATION_SETTINGS, validateGan } from "../../../stages/gan-validation.js";
import { SOFTWARE_VERSION } from "../../../version.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { engineFor, type GanEngineChoice } from "../../gan-native-pool.js";
import { nativeEngineUnavailable } from "../../../models/gan/gan-native.js";
import { ganEngineOption } from "../gan-engine-option.js";
import { ganOrientationOption } from "../gan-orientation-option.js";
import type { SampleOrientation } from "../../../models/gan/sample-orientation.js";
import { parseInteger, parseNumber, parseNumberList } from "../option-parsers.js";

interface SelectGanFlags {
  run: string;
  data: string[];
  output: string;
  n?: number;
  seed: number;
  scales: number[];
  top: number;
  fromStep: number;
  densityCap: number | "data" | "none";
  z?: number;
  threads?: number;
  tfjsWeights: boolean;
  engine: GanEngineChoice;
  orientation: SampleOrientation;
}

export const SELECTION_JSON = "selection.json";

interface Candidate extends SelectionScore {
  step: number;
  latentScale: number;
}

const ranked = (a: Candidate, b: Candidate) => a.score - b.score || b.step - a.step;

export async function runSelectGan(flags: SelectGanFlags, global: GlobalOptions): Promise<void> {
  const ctx = makeContext(global);
  const t0 = performance.now();
  assertNewDirectory(flags.output);
  if (!fs.existsSync(flags.run) || !fs.statSync(flags.run).isDirectory())
    throw new InputError(flags.run, "is not a directory (give the -o directory of `mocksmith train gan`)");
  const files = checkpointsOf(flags.run).filter((f) => checkpointStep(f) >= flags.fromStep);
  if (files.length === 0)
    throw new InputError(
      flags.run,
      `holds no checkpoint at step ≥ ${flags.fromStep} (train with --keep-checkpoints 0 to keep every one)`,
    );
  if (flags.scales.some((s) => !(s > 0))) throw new InputError("--scales", "latent widths must be > 0");
  const scales = [...new Set([1, ...flags.scales])].sort((a, b) => a - b);

  // Settings of the run: every checkpoint must come from it.
  const first = readCheckpoint(files[0]);
  const run: GanRunSettings = ganRunSettings(first);
  const fp = JSON.stringify(first.header.fingerprint);
  const arch = run.architecture;
  const redshift = flags.z ?? run.redshifts[0];
  if (!arch.conditional && flags.z !== undefined && flags.z !== run.redshifts[0])
    throw new InputError("--z", `the run trained an unconditional GAN at z = ${run.redshifts[0]}`);

  ctx.progress.info(`cutting selection sub-volumes of ${arch.side}³ from ${flags.data.join(", ")}`);
  const held = loadHeldOutSubVolumes({ data: flags.data, redshift, side: arch.side });
  if (held.fields.length < 2)
    throw new InputError("--data", `${held.fields.length} sub-volume(s) of ${arch.side}³; need at least 2`);
  const n = flags.n ?? Math.max(64, held.fields.length);
  const boxSize = held.voxelSize * arch.side;
  const nbody = { fields: held.fields, side: arch.side, boxSize };
  let dataMax = 0;
  for (const f of held.fields) for (const v of f) if (v > dataMax) dataMax = v;
  const densityCap =
    flags.densityCap === "none" ? undefined : flags.densityCap === "data" ? dataMax : flags.densityCap;
  const settings = { ...DEFAULT_GAN_VALIDATION_SETTINGS, bispectrum: false, threads: flags.threads };

  const engine = await loadTensorFlowEngine(flags.threads === undefined ? {} : { threads: flags.threads });
  const tf = engine.tf;
  // Each checkpoint is read once: its weights serve every latent width and the export.
  const loaded = new Map<string, { weights: GanWeights; history: CheckpointHeader["history"] }>();
  const checkpointOf = (ckptFile: string) => {
    const cached = loaded.get(ckptFile);
    if (cached) return cached;
    const ckpt = readCheckpoint(ckptFile);
    if (JSON.stringify(ckpt.header.fingerprint) !== fp)
      throw new InputError(ckptFile, `settings differ from ${path.basename(files[0])}'s: not one run`);
    const gan = ganFromCheckpoint(tf, ckpt, run);
    try {
      const entry = { weights: gan.weights(), history: ckpt.header.history };
      loaded.set(ckptFile, entry);
      return entry;
    } finally {
      gan.dispose();
    }
  };
  // Candidates are sampled by the engine sample-gan and validate gan would use for the export.
  const sampler = engineFor(flags.engine, nativeEngineUnavailable(arch));
  const score = async (ckptFile: string, latentScale: number): Promise<Candidate> => {
    const { weights } = checkpointOf(ckptFile);
    const fields = await generateDensities(arch, weights, {
      seed: flags.seed,
      count: n,
      prior: { ...run.latentPrior, scale: run.latentPrior.scale * latentScale },
      kappa: run.kappa,
      densityCap,
      redshift,
      engine: sampler,
      orientation: flags.orientation,
    });
    const bad = fields.findIndex((f) => f.some((v) => !Number.isFinite(v)));
    if (bad >= 0) throw new InputError(ckptFile, `generates a non-finite density in sample ${bad}`);
    const v = validateGan({ fields, side: arch.side, boxSize }, nbody, settings);
    return { step: checkpointStep(ckptFile), latentScale, ...selectionScore(v) };
  };

  const total = files.length + Math.min(flags.top, files.length) * (scales.length - 1);
  ctx.progress.start("select gan", total);
  let done = 0;
  const stepOf = new Map<number, string>();
  const atUnit: Candidate[] = [];
  for (const f of files) {
    const c = await score(f, 1);
    stepOf.set(c.step, f);
    atUnit.push(c);
    ctx.progress.advance("select gan", ++done);
    ctx.progress.info(
      `step ${c.step}: score ${c.score.toFixed(3)} ± ${c.noise.toFixed(2)} (P̄ ${c.meanPower.toFixed(2)}, PDF ${c.pdf.toFixed(2)}, Var ${c.powerVariance.toFixed(2)}, r ${c.independence.toFixed(2)})`,
    );
  }
  const best = [...atUnit].sort(ranked).slice(0, flags.top);
  const widths: Candidate[] = [];
  for (const b of best)
    for (const s of scales) {
      if (s === 1) continue;
      widths.push(await score(stepOf.get(b.step) as string, s));
      ctx.progress.advance("select gan", ++done);
    }
  ctx.progress.finish("select gan");
  const all = [...atUnit, ...widths];
  const chosen = [...best, ...widths].sort(ranked)[0];
  // Candidates the selection cannot tell from the chosen one (its sampling error and theirs).
  const tied = withinNoiseOf(chosen, all).filter((c) => c !== chosen);

  const chosenFile = stepOf.get(chosen.step) as string;
  const { weights: chosenWeights, history } = checkpointOf(chosenFile);
  const gan = new GanTf(tf, arch, chosenWeights);
  const latentPrior = { ...run.latentPrior, scale: run.latentPrior.scale * chosen.latentScale };
  const selection = {
    run: path.resolve(flags.run),
    checkpoint: path.basename(chosenFile),
    step: chosen.step,
    latentScale: chosen.latentScale,
    score: chosen,
    withinNoise: tied.map((c) => ({
      step: c.step,
      latentScale: c.latentScale,
      score: c.score,
      noise: c.noise,
    })),
    criterion:
      "max(a, b, c, d): a = max_k≤1 |P̄_GAN/P̄_N − 1|/0.1, b = max over checked PDF bins |PDF_GAN − band mid|/band half-width (16–84 %), c = max_k≤1 |Var_GAN/Var_N − 1|/0.25, d = max_k≤1 |r̄_GAN×GAN|/(4 standard errors)",
    samples: n,
    seed: flags.seed,
    orientation: flags.orientation,
    scales,
    top: flags.top,
    densityCap: densityCap ?? null,
    selectionDataMaxDensity: dataMax,
    data: held.simulations.map((s) => ({ directory: s.directory, manifestSha256: s.manifestSha256 })),
    subVolumes: held.fields.length,
  };
  let card;
  try {
    card = await writeDirectoryAtomically(flags.output, async (tmp) => {
      const written = await exportGan(
        tf,
        gan,
        path.join(tmp, "gan.onnx"),
        {
          name: "density-gan",
          latentPrior,
          kappa: run.kappa,
          voxelSize: held.voxelSize,
          ...(densityCap === undefined ? {} : { densityCap }),
          redshift: arch.conditional ? null : run.redshifts[0],
          ...(arch.conditional
            ? { redshiftRange: [Math.min(...run.redshifts), Math.max(...run.redshifts)] as [number, number] }
            : {}),
          trained: true,
          description: `3D DCGAN (Feder et al. 2020), generator filters ${arch.filters.join("-")} → ${arch.side}³${arch.preset === "paper" ? "" : " (reduced from the paper's 256-128-64-32-1 → 64³, for CPU training)"}, trained by mocksmith ${SOFTWARE_VERSION}${run.statistics ? " with the summary-statistics loss term" : ""}${run.initialisedFrom ? ` in a run fine-tuned from step ${String(run.initialisedFrom.step)} of an earlier one` : ""}; checkpoint of step ${chosen.step}${run.weightAverageDecay !== null ? ` (its generator weight average, β = ${run.weightAverageDecay})` : ""} chosen by \`mocksmith select-gan\`, latent width × ${chosen.latentScale}`,
          training: {
            method: "dcgan-nonsaturating",
            preset: arch.preset,
            data: run.data.map((manifestSha256) => ({ manifestSha256 })),
            redshifts: run.redshifts,
            steps: chosen.step,
            seed: run.seed,
            batch: run.batch,
            optimiser: { name: "adam", ...run.schedule },
            ...(run.statistics ? { statisticsLoss: run.statistics } : {}),
            ...(run.initialisedFrom ? { initialisedFrom: run.initialisedFrom } : {}),
            ...(run.resizeKernels ? { resizeKernels: true } : {}),
            ...(run.weightAverageDecay !== null ? { weightAverageDecay: run.weightAverageDecay } : {}),
            engine: engine.name,
            losses: history,
            selection,
          },
          // A card holds numbers only: a ratio that is not finite (a degenerate model) stays in
          // selection.json (as null) and is left out here.
          validation: Object.fromEntries(
            Object.entries({
              "selection.score": chosen.score,
              "selection.scoreNoise": chosen.noise,
              "selection.meanPower": chosen.meanPower,
              "selection.pdf": chosen.pdf,
              "selection.powerVariance": chosen.powerVariance,
              "selection.independence": chosen.independence,
              "selection.step": chosen.step,
              "selection.latentScale": chosen.latentScale,
            }).filter(([, x]) => Number.isFinite(x)),
          ),
        },
        flags.tfjsWeights,
      );
      fs.writeFileSync(
        path.join(tmp, SELECTION_JSON),
        JSON.stringify({ ...selection, candidates: all }, null, 2) + "\n",
      );
      return written;
    });
  } finally {
    gan.dispose();
  }
  const secs = (performance.now() - t0) / 1000;
  ctx.summary(
    `selected step ${chosen.step} at latent width × ${chosen.latentScale} (score ${chosen.score.toFixed(3)} ± ${chosen.noise.toFixed(2)}: P̄ ${chosen.meanPower.toFixed(2)}, PDF ${chosen.pdf.toFixed(2)}, Var ${chosen.powerVariance.toFixed(2)}, r ${chosen.independence.toFixed(2)}; < 1 passes) of ${all.length} candidates, ${tied.length} more within its sampling error; wrote ${path.join(flags.output, "gan.onnx")}, its card${flags.tfjsWeights ? ", its TF.js weights" : ""} and ${SELECTION_JSON} in ${secs.toFixed(1)} s`,
    {
      output: flags.output,
      step: chosen.step,
      latentScale: chosen.latentScale,
      score: chosen,
      sha256: card.sha256,
      seconds: secs,
    },
  );
}

export function registerSelectGan(program: Command): void {
  program
    .command("select-gan")
    .description(
      "choose the best checkpoint of a `train gan` run and calibrate its latent width against N-body sub-volumes; export it as a model",
    )
    .requiredOption("--run <dir>", "the -o directory of `mocksmith train gan` (its checkpoints/)")
    .requiredOption(
      "--data <dirs...>",
      "selection simulations (sim-NNN/ from `mocksmith nbody-set`), cut into non-overlapping sub-volumes; keep the held-out set for `validate gan`",
    )
    .requiredOption(
      "-o, --output <dir>",
      "new model directory: gan.onnx, gan.card.json, gan.weights.json, selection.json",
    )
    .option(
      "--n <N>",
      "GAN samples per candidate (default: the sub-volumes, at least 64)",
      parseInteger(2, 100_000),
    )
    .option(
      "--seed <s>",
      "latent seed of the samples (keep it apart from validate gan's)",
      parseInteger(0, 0xffffffff),
      7,
    )
    .option(
      "--scales <list>",
      "latent widths (× the trained prior's) tried on the best checkpoints",
      parseNumberList(parseNumber({ min: 0 })),
      [0.8, 0.9, 1, 1.1, 1.2],
    )
    .option(
      "--top <m>",
      "best checkpoints (at width 1) whose latent width is calibrated",
      parseInteger(1, 1000),
      3,
    )
    .option("--from-step <k>", "ignore checkpoints before step k", parseInteger(0), 0)
    .option(
      "--density-cap <ρ|data|none>",
      "cap on ρ/ρ̄ of the samples, recorded in the card and applied by sample-gan: data = the largest voxel of the selection sub-volumes",
      (v: string) => (v === "data" || v === "none" ? v : parseNumber({ minExclusive: 0 })(v)),
      "data",
    )
    .option(
      "--z <z>",
      "redshift of the selection (a conditional GAN; default: the run's first)",
      parseNumber({ min: 0 }),
    )
    .option("--threads <t>", "threads for the generator and the statistics", parseInteger(1, 256))
    .addOption(ganEngineOption())
    .addOption(ganOrientationOption())
    .option(
      "--no-tfjs-weights",
      "omit gan.weights.json (generator and discriminator for fine-tuning; ~16 MB of JSON for 64-32-16-1); sampling needs only gan.onnx",
    )
    .addHelpText(
      "after",
      `
Each candidate draws --n samples from the latents \`sample-gan --seed S\` would use (the same for
every candidate, so differences are the model's, not the draw's), oriented as sample-gan would
(--orientation), and compares them with the
selection sub-volumes through validate gan's four acceptance statistics, each divided by its
tolerance: a = max_k≤1 |P̄_GAN/P̄_N − 1|/0.1, b = the worst distance of the GAN mean voxel PDF from
the middle of the N-body 16–84 % band in half-widths (bins with ρ/ρ̄ ≥ 0.1), c = max_k≤1
|Var_GAN P/Var_N P − 1|/0.25, d = max_k≤1 |r̄| of GAN × GAN pairs over 4 standard errors of
that mean (the samples must be independent draws). Score = max(a, b, c, d); below 1 all four
pass on the selection data. Each score comes with its standard error from the GAN's own sampling
(± on the lines; jackknife over groups of samples for a and c, std/√n of the mean PDF for b,
1/4 for d), and the summary counts the candidates within the combined error of the chosen one:
scores of different runs closer than that are a draw of the latents, not a better model (more
--n shrinks it as 1/√n).
Pass simulations not used for validate gan, so the held-out scores stay honest.`,
    )
    .action(async (flags: SelectGanFlags, cmd: Command) => {
      await runSelectGan(flags, cmd.optsWithGlobals() as GlobalOptions);
    });
}
