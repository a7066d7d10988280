/**
 * `mocksmith sample-gan`: an ensemble of density sub-volumes drawn from a GAN through a worker
 * pool (../../gan-sampling.ts: ONNX Runtime or our native kernels, --engine), deterministic per
 * seed and engine and independent of the worker count and of sharding; shards are joined by `mocksmith merge`. Latents may come from a file
 * (`--latent`, or saved with `--save-latent`, io/latent-file.ts), and `--stitch n` tiles the n³
 * samples into one volume with measured seams (../../gan-stitch.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Option, type Command } from "commander";
import { loadGanModel } from "../../../io/gan-model-file.js";
import { resolveGanModelPath } from "../../../models/default-model.js";
import { InputError } from "../../../io/atomic-file.js";
import { readLatentFile, writeLatentFile } from "../../../io/latent-file.js";
import { latentBatch, LATENT_STREAM_SAMPLING } from "../../../models/gan/latent.js";
import {
  checkSamplingRedshift,
  GAN_SAMPLE_UNIT,
  SAMPLE_QUANTITIES,
  SAMPLES_FILE,
  SAMPLES_SIDECAR,
  sampleGan,
  type SampleQuantity,
} from "../../gan-sampling.js";
import { fileRecord, parseShard, writeShardManifest, type Shard } from "../../shard.js";
import { parseDevice } from "../../worker-pool.js";
import { chooseGanEngine, type GanEngineChoice } from "../../gan-native-pool.js";
import { ganEngineOption } from "../gan-engine-option.js";
import { ganOrientationOption } from "../gan-orientation-option.js";
import type { SampleOrientation } from "../../../models/gan/sample-orientation.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";

/** Side of the largest stitched volume (1024³ float32 = 4 GiB in memory). */
const MAX_STITCH_SIDE = 1024;

interface SampleGanFlags {
  model: string;
  n?: number;
  latent?: string;
  saveLatent?: string;
  stitch?: number;
  z?: number;
  seed: number;
  quantity: SampleQuantity;
  batch: number;
  workers: number;
  device: string;
  engine: GanEngineChoice;
  orientation: SampleOrientation;
  shard?: Shard;
  output: string;
}

export function registerSampleGan(program: Command): void {
  program
    .command("sample-gan")
    .description("draw an ensemble of density sub-volumes from a GAN (ONNX generator with its card)")
    .requiredOption(
      "--model <gan.onnx|DIR|default>",
      "GAN generator with gan.card.json beside it (`mocksmith train gan`, `select-gan`), its directory, or 'default' for the bundled GAN",
    )
    .option(
      "--n <N>",
      "number of sub-volumes (optional with --latent, which gives one per row, or --stitch n: n³)",
      parseInteger(1, 100_000_000),
    )
    .option(
      "--latent <latent.npy>",
      "latent vectors to use instead of drawn ones: .npy (N, latentDim) float32 (float64 is rounded), row i → sample i",
    )
    .option(
      "--save-latent <latent.npy>",
      "also write the N drawn latent vectors as .npy (N, latentDim) float32, for --latent (not with --shard)",
    )
    .option(
      "--stitch <n>",
      "also tile the n³ samples into one (n·S)³ volume DIR/stitched.npy + stitched.json (with seam measurements); not with --shard",
      parseInteger(1, 64),
    )
    .option(
      "--z <z>",
      "redshift (a conditional GAN needs one inside its trained range)",
      parseNumber({ min: 0 }),
    )
    .option(
      "--seed <s>",
      "seed: sample i uses the latent (unless --latent) and the orientation keyed by (seed, i)",
      parseInteger(0, 0xffffffff),
      1,
    )
    .addOption(
      new Option("--quantity <q>", "density: ρ/ρ̄; delta: ρ/ρ̄ − 1")
        .choices(SAMPLE_QUANTITIES as string[])
        .default("density")
        .argParser(parseChoice(SAMPLE_QUANTITIES)),
    )
    .option(
      "--batch <B>",
      "samples per generator call (the unit of work and of --shard)",
      parseInteger(1, 4096),
      4,
    )
    .option(
      "--workers <W>",
      "worker threads, one generator (ONNX Runtime session or native) and one CPU thread each; defaults to the core count",
      parseInteger(1, 1024),
      os.availableParallelism(),
    )
    .option("--device <spec>", "cpu | cuda[:ids]", "cpu")
    .addOption(ganEngineOption())
    .addOption(ganOrientationOption())
    .option(
      "--shard <i/n>",
      "sample only shard i of n (contiguous ranges of batches), with shard-manifest.json for `mocksmith merge`",
      parseShard,
    )
    .requiredOption(
      "-o, --output <dir>",
      "output directory: samples.npy (N, S, S, S) float32 and samples.json",
    )
    .addHelpText(
      "after",
      `
Output: DIR/samples.npy, float32, shape (N, S, S, S) (S = 64 for the presets), C order
[sample][x][y][z], holding ρ/ρ̄ (or δ with --quantity delta) from c = tanh output through
ρ = κ(1 + c)/(1 − c) with the card's κ; DIR/samples.json says what the numbers are (quantity,
voxel and box size, redshift, seed, latent prior and algorithm, model sha256). Sample i uses the
latent keyed by (seed, i): outputs do not depend on --workers or --shard.

--orientation random (the default) puts sample i under one of the 48 cube symmetries, keyed by
(seed, i) too. The training cubes are augmented with all 48, so this only brings the ensemble
closer to them: each sample's P(k), PDF and bispectrum are unchanged, but structure the
generator locks to its voxel grid (validate gan's mean field) no longer lines up from sample to
sample. For latent-space work (interpolations, perturbed latents) pass --orientation generator,
so that nearby latents give nearby fields.

--engine: native (the default on x86-64 CPUs with AVX2 + FMA, cpu device) runs the generator on
mocksmith's own convolution kernels, ~1.5–2× faster per core than ort (ONNX Runtime, any
device); the two agree to float32 rounding (~1e-7 in c), so samples are bit-reproducible per
seed for a given engine, which samples.json records.

--latent FILE replaces the drawn latents by row i of FILE (a cGAN's --z is appended as usual);
--save-latent FILE writes the drawn ones, so '--latent FILE' with the same --seed (which keys the
orientations) reproduces the run byte for byte, and a perturbed copy of FILE perturbs it. With --shard each shard uses the rows of its batches.

--stitch n (needs N = n³, not with --shard): DIR/stitched.npy, float32 (nS)³, sample
i = (tx·n + ty)·n + tz at voxel offset (tx, ty, tz)·S, and DIR/stitched.json (grid sidecar).
Boundary treatment: plain tiling, no overlap or blending. The samples are independent, so the
field is discontinuous at tile faces. The sidecar (provenance.boundary.artefacts) and the summary
give the mean squared difference of adjacent voxels across tile faces and within tiles, their
ratio (1: no seam), the ratio uncorrelated voxels would give (2σ² over the within value) and the
continuity (across value over its face-matched uncorrelated value: ≈ 1 for uncorrelated tiles,
1 − ξ₁ for a continuous field).`,
    )
    .action(async (flags: SampleGanFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      let device;
      try {
        device = parseDevice(flags.device);
      } catch (err) {
        throw new InputError("--device", (err as Error).message);
      }
      const model = await loadGanModel(resolveGanModelPath(flags.model));
      const redshift = checkSamplingRedshift(model, flags.z);
      const engine = chooseGanEngine(flags.engine, model, device);
      const dim = model.card.architecture.latentDim;
      // A model whose card records failed held-out checks still samples, but says so up front.
      const v = model.card.validation ?? {};
      if (v["heldout.passed"] === 0) {
        // Every check the card records as failed (heldout.<check>.passed = 0), whatever checks exist.
        const failed = Object.keys(v)
          .filter((k) => /^heldout\.[A-Za-z]+\.passed$/.test(k) && v[k] === 0)
          .map((k) => k.split(".")[1]);
        ctx.progress.info(
          `warning: ${model.path} failed its held-out acceptance checks (${failed.join(", ")}; card validation.heldout.*): not for science use`,
        );
      }
      if (flags.stitch !== undefined && flags.shard)
        throw new InputError(
          "--stitch",
          "needs all n³ samples in one run; it cannot be combined with --shard",
        );
      if (flags.saveLatent !== undefined && flags.shard)
        throw new InputError(
          "--save-latent",
          "latents do not depend on sharding: save them from an unsharded run, not with --shard",
        );
      if (flags.saveLatent !== undefined && flags.latent !== undefined)
        throw new InputError("--save-latent", "the --latent file already holds the latents");
      const stitchCount = flags.stitch === undefined ? undefined : flags.stitch ** 3;
      const stitchSide = (flags.stitch ?? 0) * model.card.architecture.side;
      // The stitched volume is assembled in memory (one float32 array).
      if (stitchSide > MAX_STITCH_SIDE)
        throw new InputError(
          "--stitch",
          `a ${stitchSide}³ volume is more than one run assembles in memory (side at most ${MAX_STITCH_SIDE})`,
        );
      if (stitchCount !== undefined && flags.n !== undefined && flags.n !== stitchCount)
        throw new InputError(
          "--stitch",
          `${flags.stitch}³ tiles need --n ${stitchCount}, got --n ${flags.n}`,
        );
      const latents =
        flags.latent === undefined
          ? undefined
          : readLatentFile(
              flags.latent,
              dim,
              flags.n !== undefined
                ? { count: flags.n, from: "--n" }
                : stitchCount !== undefined
                  ? { count: stitchCount, from: `--stitch ${flags.stitch}` }
                  : undefined,
            );
      const count = flags.n ?? stitchCount ?? latents?.rows;
      if (count === undefined)
        throw new InputError(
          "--n",
          "the number of sub-volumes is required (or --latent FILE, or --stitch n)",
        );
      if (flags.saveLatent !== undefined && fs.existsSync(flags.saveLatent))
        throw new InputError(
          flags.saveLatent,
          "already exists; sample-gan never overwrites (remove it or choose another name)",
        );
      const orientation = flags.orientation;
      const t0 = performance.now();
      const result = await sampleGan({
        model,
        count,
        seed: flags.seed,
        redshift,
        quantity: flags.quantity,
        batch: flags.batch,
        workers: flags.workers,
        device,
        engine,
        output: flags.output,
        shard: flags.shard,
        latents:
          latents && flags.latent
            ? { data: latents.data, sha256: latents.sha256, file: flags.latent }
            : undefined,
        stitch: flags.stitch,
        orientation,
        onStart: (batches) => ctx.progress.start("sample-gan", batches),
        onBatch: (done) => ctx.progress.advance("sample-gan", done),
      });
      ctx.progress.finish("sample-gan");
      let savedLatent: string | undefined;
      if (flags.saveLatent !== undefined) {
        const prior = model.card.latentPrior;
        writeLatentFile(flags.saveLatent, count, dim, (first, rows) =>
          latentBatch(flags.seed, LATENT_STREAM_SAMPLING, first, rows, dim, prior),
        );
        savedLatent = flags.saveLatent;
      }
      if (flags.shard) {
        writeShardManifest(flags.output, {
          command: "sample-gan",
          unit: GAN_SAMPLE_UNIT,
          config: {
            model: model.card.sha256,
            n: count,
            seed: flags.seed,
            ...(latents ? { latent: latents.sha256 } : {}),
            redshift,
            quantity: flags.quantity,
            batch: flags.batch,
            engine,
            orientation,
          },
          shard: flags.shard,
          units: result.batches,
          primary: SAMPLES_FILE,
          files: [fileRecord(flags.output, SAMPLES_FILE), fileRecord(flags.output, SAMPLES_SIDECAR)],
        });
      }
      const secs = (performance.now() - t0) / 1000;
      const a = model.card.architecture;
      const st = result.stitched;
      const extra = [
        latents ? ` from the latents of ${flags.latent}` : "",
        orientation === "random" ? ", randomly oriented" : "",
        st
          ? `, stitched ${st.side}³ to ${st.file} (seams: MSD ratio across/within ${st.seams.ratio.toFixed(2)}, uncorrelated tiles ${st.seams.uncorrelatedRatio.toFixed(2)}, continuity ${st.seams.continuity.toFixed(2)})`
          : "",
        savedLatent ? `, latents to ${savedLatent}` : "",
      ].join("");
      ctx.summary(
        `wrote ${result.count} sample(s) ${result.first}…${result.first + result.count - 1} of ${count} (${a.side}³, ${flags.quantity}) to ${path.join(flags.output, SAMPLES_FILE)}${extra} on ${flags.workers} worker(s) (${engine}) in ${secs.toFixed(1)} s (${(result.count / secs).toFixed(2)} samples/s)`,
        {
          ...(st ? { stitched: st.file, stitchedSidecar: st.sidecar, seams: st.seams } : {}),
          ...(savedLatent ? { savedLatent } : {}),
          output: result.file,
          sidecar: result.sidecar,
          first: result.first,
          count: result.count,
          engine,
          orientation,
          seconds: secs,
          samplesPerSecond: result.count / secs,
        },
      );
    });
}
