/**
 * `mocksmith validate gan`: draws N samples from a GAN (through the sampling code of sample-gan,
 * deterministic per seed), cuts held-out N-body simulations into non-overlapping sub-volumes of
 * the generator's side and voxel size, and compares the two ensembles (stages/gan-validation.ts),
 * writing validation.json, PNG plots and index.html into a new directory, atomically (a
 * temporary directory renamed when complete).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import {
  assertWritableDestination,
  InputError,
  temporaryPathFor,
  writeAtomically,
} from "../../../io/atomic-file.js";
import { loadGanModel } from "../../../io/gan-model-file.js";
import { resolveGanModelPath } from "../../../models/default-model.js";
import { cardPathFor } from "../../../io/model-file.js";
import { readNpyFloat32 } from "../../../io/npy.js";
import type { GanCard } from "../../../models/gan/gan-card.js";
import { loadHeldOutSubVolumes } from "../../../models/gan/gan-heldout-data.js";
import { LATENT_ALGORITHM } from "../../../models/gan/latent.js";
import {
  DEFAULT_GAN_VALIDATION_SETTINGS,
  validateGan,
  type GanValidation,
  describeHeldOutNoise,
  describeMeanFields,
  checkedHeldOutNoise,
} from "../../../stages/gan-validation.js";
import { describePowerEnvironment } from "../../../cosmo/power-environment.js";
import { writeGanValidationFiles } from "../../../stages/report/gan-validation-report.js";
import { VALIDATION_HTML, VALIDATION_JSON } from "../../../stages/report/validation-report.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../../../version.js";
import { checkSamplingRedshift, sampleGan, SAMPLES_FILE } from "../../gan-sampling.js";
import { parseDevice } from "../../worker-pool.js";
import { chooseGanEngine, type GanEngineChoice } from "../../gan-native-pool.js";
import { ganEngineOption } from "../gan-engine-option.js";
import { ganOrientationOption } from "../gan-orientation-option.js";
import { ORIENTATION_ALGORITHM, type SampleOrientation } from "../../../models/gan/sample-orientation.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseInteger, parseNumber } from "../option-parsers.js";

interface ValidateGanFlags {
  model: string;
  data: string[];
  n?: number;
  seed: number;
  z?: number;
  output: string;
  batch: number;
  workers: number;
  device: string;
  engine: GanEngineChoice;
  orientation: SampleOrientation;
  threads?: number;
  bispectrum: boolean;
  keepSamples?: boolean;
  recordInCard?: boolean;
  nullData?: string[];
}

export const GAN_SAMPLES_DIR = "samples";

/**
 * The acceptance numbers as flat card entries `heldout.<check>.value|bound|at|passed` (the
 * statistic at its least favourable bin; at is k in h/Mpc or ρ/ρ̄), plus the ensemble sizes.
 */
export function ganCardValidationEntries(
  v: GanValidation,
  seed: number,
  orientation: SampleOrientation,
): Record<string, number> {
  const out: Record<string, number> = {
    "heldout.samples": v.samples,
    "heldout.subVolumes": v.subVolumes,
    "heldout.seed": seed,
    // 1: the samples were randomly oriented, as sample-gan draws them by default.
    "heldout.randomOrientation": orientation === "random" ? 1 : 0,
    "heldout.passed": v.passed ? 1 : 0,
    "heldout.meanPower.kMax": v.settings.kMaxPower,
    "heldout.powerVariance.kMax": v.settings.kMaxVariance,
    "heldout.pdf.rhoMin": v.settings.pdfCheckMin,
    "heldout.independence.kMax": v.settings.kMaxIndependence,
  };
  for (const [name, c] of Object.entries(v.checks)) {
    const key = `heldout.${name}`;
    if (c.passed !== null) out[`${key}.passed`] = c.passed ? 1 : 0;
    if (c.worst) {
      out[`${key}.value`] = c.worst.value;
      out[`${key}.bound`] = c.worst.bound;
      out[`${key}.at`] = c.worst.at;
    }
  }
  // The held-out noise at its largest over the checked shells: how far the checks can be trusted.
  const noise = checkedHeldOutNoise(v);
  if (noise) {
    out["heldout.noise.simulations"] = noise.simulations;
    out["heldout.noise.meanPower"] = Math.max(...noise.lnMean);
    out["heldout.noise.powerVariance"] = Math.max(...noise.lnVariance);
  }
  const ganNoise = checkedHeldOutNoise(v, "gan");
  if (ganNoise) {
    out["heldout.ganNoise.meanPower"] = Math.max(...ganNoise.lnMean);
    out["heldout.ganNoise.powerVariance"] = Math.max(...ganNoise.lnVariance);
  }
  return out;
}

/** Rewrites the GAN's card (atomically) with its held-out entries replaced. */
function recordInCard(modelPath: string, entries: Record<string, number>): string {
  const cardPath = cardPathFor(modelPath);
  const card = JSON.parse(fs.readFileSync(cardPath, "utf8")) as GanCard;
  const kept = Object.fromEntries(
    Object.entries(card.validation ?? {}).filter(([k]) => !k.startsWith("heldout.")),
  );
  const updated: GanCard = { ...card, validation: { ...kept, ...entries } };
  writeAtomically(cardPath, (tmp) => fs.writeFileSync(tmp, JSON.stringify(updated, null, 2) + "\n"));
  return cardPath;
}

export async function runValidateGan(flags: ValidateGanFlags, global: GlobalOptions): Promise<void> {
  const ctx = makeContext(global);
  const t0 = performance.now();
  const out = flags.output;
  assertWritableDestination(out);
  if (fs.existsSync(out)) throw new InputError(out, "already exists; name a new output directory");
  let device;
  try {
    device = parseDevice(flags.device);
  } catch (err) {
    throw new InputError("--device", (err as Error).message);
  }
  if (flags.nullData && (flags.recordInCard || flags.keepSamples))
    throw new InputError(
      flags.recordInCard ? "--record-in-card" : "--keep-samples",
      "does not apply with --null-data (no GAN samples are drawn)",
    );
  const modelPath = resolveGanModelPath(flags.model);
  const model = await loadGanModel(modelPath);
  const card = model.card;
  const side = card.architecture.side;
  const redshift = checkSamplingRedshift(model, flags.z);
  const engine = chooseGanEngine(flags.engine, model, device);
  ctx.progress.info(`cutting held-out sub-volumes of ${side}³ from ${flags.data.join(", ")}`);
  const held = loadHeldOutSubVolumes({ data: flags.data, redshift, side, voxelSize: card.voxelSize });
  if (held.fields.length < 2)
    throw new InputError(
      "--data",
      `${held.fields.length} held-out sub-volume(s) of ${side}³ voxels; the ensemble statistics need at least 2 (more or larger simulations)`,
    );
  // The null test: other N-body simulations in place of the GAN (what a faithful emulator scores).
  const stand = flags.nullData
    ? loadHeldOutSubVolumes({ data: flags.nullData, redshift, side, voxelSize: card.voxelSize })
    : null;
  if (stand && flags.n !== undefined && flags.n > stand.fields.length)
    throw new InputError("--n", `${flags.n} exceeds the ${stand.fields.length} sub-volumes of --null-data`);
  const n = flags.n ?? (stand ? stand.fields.length : held.fields.length);
  const boxSize = card.voxelSize * side;

  /** GAN samples drawn as by sample-gan into tmp/samples/ (removed unless --keep-samples). */
  const drawSamples = async (tmp: string): Promise<Float32Array[]> => {
    const samplesDir = path.join(tmp, GAN_SAMPLES_DIR);
    await sampleGan({
      model,
      count: n,
      seed: flags.seed,
      redshift,
      quantity: "density",
      batch: flags.batch,
      workers: flags.workers,
      device,
      engine,
      output: samplesDir,
      orientation: flags.orientation,
      onStart: (batches) => ctx.progress.start("sample GAN", batches),
      onBatch: (done) => ctx.progress.advance("sample GAN", done),
    });
    ctx.progress.finish("sample GAN");
    const { data } = readNpyFloat32(path.join(samplesDir, SAMPLES_FILE));
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new InputError(
        modelPath,
        `generates ${data[bad]} at value ${bad} of its samples; the model is broken`,
      );
    const s3 = side ** 3;
    const samples = Array.from({ length: n }, (_, i) => data.subarray(i * s3, (i + 1) * s3));
    if (!flags.keepSamples) fs.rmSync(samplesDir, { recursive: true });
    return samples;
  };

  const tmp = temporaryPathFor(path.resolve(out));
  fs.mkdirSync(tmp);
  let images: number;
  let validation: GanValidation;
  try {
    const samples = stand ? stand.fields.slice(0, n) : await drawSamples(tmp);
    ctx.progress.info(
      `comparing ${n} ${stand ? "N-body sub-volumes of --null-data" : "GAN samples"} with ${held.fields.length} held-out sub-volumes`,
    );
    validation = validateGan(
      { fields: samples, side, boxSize },
      { fields: held.fields, side, boxSize, simulation: held.simulation },
      { ...DEFAULT_GAN_VALIDATION_SETTINGS, bispectrum: flags.bispectrum, threads: flags.threads },
    );
    const provenance = {
      software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
      model: {
        path: modelPath,
        name: card.name,
        sha256: card.sha256,
        trained: card.trained,
        architecture: card.architecture,
        kappa: card.kappa,
        voxelSize: card.voxelSize,
        latentPrior: card.latentPrior,
      },
      data: {
        directories: flags.data,
        redshift,
        simulations: held.simulations,
        subVolumes: held.fields.length,
      },
      sampling: stand
        ? {
            samples: n,
            nullTest:
              "the 'GAN' ensemble is N-body sub-volumes of other simulations (--null-data), the scores a faithful emulator gets against this held-out set",
            directories: flags.nullData,
            simulations: stand.simulations,
          }
        : {
            samples: n,
            seed: flags.seed,
            redshift,
            latentAlgorithm: LATENT_ALGORITHM,
            orientation: flags.orientation,
            ...(flags.orientation === "random" ? { orientationAlgorithm: ORIENTATION_ALGORITHM } : {}),
            engine,
            kept: flags.keepSamples ? `${GAN_SAMPLES_DIR}/${SAMPLES_FILE}` : null,
          },
      conventions: {
        fields:
          "ρ/ρ̄ relative to the simulation's mean (the GAN's units: its tanh output c inverted with ρ = κ(1 + c)/(1 − c)); statistics of δ = ρ/ρ̄ − 1",
        subVolumes: `each held-out simulation's nbody_delta_z${redshift.toFixed(3)}.npy cut into ⌊n/${side}⌋³ non-overlapping cubes of ${side}³ voxels at origins (i, j, k)·${side}`,
        boxes: `every cube, GAN or N-body, is taken as a periodic box of side ${side} × ${card.voxelSize} = ${boxSize} Mpc/h for the Fourier statistics (both ensembles alike)`,
        spectra:
          "P(k) = |δ_k|² V/N_cells², shells of width k_F from k_F (Pylians binning), k = mean |k| of a shell, no window compensation",
        bands:
          "mean, standard deviation (n − 1) and 16th/84th percentiles (linear interpolation between order statistics) over the fields of an ensemble",
        covariance:
          "sample covariance (n − 1) of P(k) between shells over the ensemble; correlation = C_ij/√(C_ii C_jj)",
        pdf: `PDF of ρ/ρ̄ per field in ${DEFAULT_GAN_VALIDATION_SETTINGS.pdfBins} log bins over [${DEFAULT_GAN_VALIDATION_SETTINGS.pdfMin}, ${DEFAULT_GAN_VALIDATION_SETTINGS.pdfMax}), normalised over all voxels of the field`,
        bispectrum:
          "FFT estimator (cosmo/bispectrum.ts), shells of width k_F: equilateral triangles and k1 = k2 with the angle θ between k1 and k2 at θ/π = 0.1 … 0.9, all shells below S k_F/3 (no aliasing); Q = B/(P1P2 + P2P3 + P1P3)",
        cross:
          "r(k) = P_ab/√(P_aa P_bb) for GAN samples (0,1), (2,3), … and N-body sub-volume i × GAN sample i: independent fields give r ≈ 0 with standard deviation 1/√(2 modes)",
        checkA: validation.checks.meanPower.description,
        checkB: validation.checks.pdf.description,
        checkC: validation.checks.powerVariance.description,
        checkD: validation.checks.independence.description,
      },
    };
    images = writeGanValidationFiles(tmp, validation, provenance);
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err instanceof RangeError) throw new InputError(modelPath, err.message);
    throw err;
  }
  const recordedCard = flags.recordInCard
    ? recordInCard(modelPath, ganCardValidationEntries(validation, flags.seed, flags.orientation))
    : null;
  ctx.progress.info(describeHeldOutNoise(validation));
  ctx.progress.info(describeMeanFields(validation));
  if (validation.environment)
    ctx.progress.info(
      describePowerEnvironment(validation.power.k, validation.environment, validation.settings.kMaxPower),
    );
  const verdict = (p: boolean | null) => (p === null ? "n/a" : p ? "pass" : "FAIL");
  const c = validation.checks;
  const secs = (performance.now() - t0) / 1000;
  ctx.summary(
    `validated ${stand ? `null test (${n} N-body sub-volumes of --null-data at ${path.basename(modelPath)}'s side)` : `${path.basename(modelPath)}: ${n} samples`} against ${held.fields.length} held-out sub-volumes of ${side}³: (a) mean P(k) ${verdict(c.meanPower.passed)}, (b) PDF ${verdict(c.pdf.passed)}, (c) P(k) variance ${verdict(c.powerVariance.passed)}, (d) independence ${verdict(c.independence.passed)}; wrote ${path.join(out, VALIDATION_JSON)}, ${VALIDATION_HTML} and ${images} images${recordedCard ? ` and the scores into ${recordedCard}` : ""} in ${secs.toFixed(1)} s`,
    {
      output: out,
      passed: validation.passed,
      samples: n,
      subVolumes: held.fields.length,
      checks: {
        meanPower: c.meanPower.passed,
        pdf: c.pdf.passed,
        powerVariance: c.powerVariance.passed,
        independence: c.independence.passed,
      },
      seconds: secs,
    },
  );
}

export function registerValidateGan(validate: Command): void {
  validate
    .command("gan")
    .description(
      "sample a GAN and compare with held-out N-body sub-volumes: voxel PDF, P(k) with covariance, bispectra, cross-correlations, acceptance checks",
    )
    .requiredOption(
      "--model <path|default>",
      "GAN: gan.onnx with gan.card.json beside it, the card, their directory, or 'default' for the bundled GAN",
    )
    .requiredOption(
      "--data <dirs...>",
      "held-out data: directories of sim-NNN/ from `mocksmith nbody-set` (nbody_delta_zZ.npy), not used in training",
    )
    .requiredOption("-o, --output <dir>", "new output directory: validation.json, index.html, plots/*.png")
    .option(
      "--n <N>",
      "GAN samples to draw (default: as many as held-out sub-volumes)",
      parseInteger(2, 1_000_000),
    )
    .option(
      "--seed <s>",
      "seed: sample i uses the latent keyed by (seed, i), as sample-gan",
      parseInteger(0, 0xffffffff),
      1,
    )
    .option(
      "--z <z>",
      "redshift of the samples and of the held-out grids (a conditional GAN needs one)",
      parseNumber({ min: 0 }),
    )
    .option("--batch <B>", "samples per generator call", parseInteger(1, 4096), 4)
    .option("--workers <W>", "inference worker threads", parseInteger(1, 1024), os.availableParallelism())
    .option("--device <spec>", "cpu | cuda[:ids]", "cpu")
    .addOption(ganEngineOption())
    .addOption(ganOrientationOption())
    .option("--threads <t>", "FFT threads for the statistics", parseInteger(1, 256))
    .option("--no-bispectrum", "skip the bispectra (the costliest statistic)")
    .option(
      "--keep-samples",
      `keep the GAN samples as ${GAN_SAMPLES_DIR}/${SAMPLES_FILE} (+ .json) in the output`,
    )
    .option(
      "--null-data <dirs...>",
      "null test: sub-volumes of these other N-body simulations stand in for the GAN's samples (what a faithful emulator scores against --data)",
    )
    .option(
      "--record-in-card",
      "also write the acceptance scores into the GAN card's validation entries (heldout.<check>.value|bound|at|passed)",
    )
    .addHelpText(
      "after",
      `
Each held-out simulation's N-body density (nbody_delta_zZ.npy, z the model's redshift or --z) is
cut into non-overlapping cubes of the generator's side; its voxel size must be the card's. GAN
samples are drawn as by \`mocksmith sample-gan --seed S\` (ρ/ρ̄). Both ensembles: voxel PDF of ρ/ρ̄
(log bins, mean and 16–84 % band), P(k) (mean, 16–84 %, covariance and correlation matrices,
variance ratio), bispectra (equilateral; k1 = k2 against the angle), cross-correlation
coefficients GAN × GAN and N-body × GAN (≈ 0 for independent fields).

Acceptance checks (issue 8): (a) |P̄_GAN/P̄_N-body − 1| ≤ 0.1 at every shell with k ≤ 1 h/Mpc;
(b) in every log bin of ρ/ρ̄ with lower edge ≥ 0.1 holding on average ≥ 5 voxels per N-body
sub-volume, the GAN ensemble-mean PDF lies within the N-body sub-volumes' 16th–84th percentiles;
(c) |Var_GAN P(k)/Var_N-body P(k) − 1| ≤ 0.25 at every shell with k ≤ 1 h/Mpc. The command
succeeds whether or not they pass. With held-out sub-volumes from ≥ 4 simulations it also gives
the held-out noise: jackknife errors of P̄ and Var P over the simulations (cubes of one simulation
share its large-scale modes). --null-data runs the checks on N-body sub-volumes of other
simulations instead of GAN samples: how a faithful emulator scores against this held-out set.`,
    )
    .action(async (flags: ValidateGanFlags, cmd: Command) => {
      await runValidateGan(flags, cmd.optsWithGlobals() as GlobalOptions);
    });
}
