/**
 * `mocksmith sample-gan`: an ensemble of density sub-volumes drawn from a GAN through the ONNX
 * worker pool (../../gan-sampling.ts), deterministic per seed and independent of the worker count
 * and of sharding; shards are joined by `mocksmith merge`.
 */
import os from "node:os";
import path from "node:path";
import { Option, type Command } from "commander";
import { loadGanModel } from "../../../io/gan-model-file.js";
import { InputError } from "../../../io/atomic-file.js";
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
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";

interface SampleGanFlags {
  model: string;
  n: number;
  z?: number;
  seed: number;
  quantity: SampleQuantity;
  batch: number;
  workers: number;
  device: string;
  shard?: Shard;
  output: string;
}

export function registerSampleGan(program: Command): void {
  program
    .command("sample-gan")
    .description("draw an ensemble of density sub-volumes from a GAN (ONNX generator with its card)")
    .requiredOption(
      "--model <gan.onnx>",
      "GAN generator with gan.card.json beside it (`mocksmith train gan`)",
    )
    .requiredOption("--n <N>", "number of sub-volumes", parseInteger(1, 100_000_000))
    .option(
      "--z <z>",
      "redshift (a conditional GAN needs one inside its trained range)",
      parseNumber({ min: 0 }),
    )
    .option("--seed <s>", "seed: sample i uses the latent keyed by (seed, i)", parseInteger(0, 0xffffffff), 1)
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
      "inference worker threads, one ONNX Runtime session and one CPU thread each; defaults to the core count",
      parseInteger(1, 1024),
      os.availableParallelism(),
    )
    .option("--device <spec>", "cpu | cuda[:ids] | webgpu", "cpu")
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
latent keyed by (seed, i): outputs do not depend on --workers or --shard.`,
    )
    .action(async (flags: SampleGanFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      let device;
      try {
        device = parseDevice(flags.device);
      } catch (err) {
        throw new InputError("--device", (err as Error).message);
      }
      const model = await loadGanModel(flags.model);
      const redshift = checkSamplingRedshift(model, flags.z);
      const t0 = performance.now();
      const result = await sampleGan({
        model,
        count: flags.n,
        seed: flags.seed,
        redshift,
        quantity: flags.quantity,
        batch: flags.batch,
        workers: flags.workers,
        device,
        output: flags.output,
        shard: flags.shard,
        onStart: (batches) => ctx.progress.start("sample-gan", batches),
        onBatch: (done) => ctx.progress.advance("sample-gan", done),
      });
      ctx.progress.finish("sample-gan");
      if (flags.shard) {
        writeShardManifest(flags.output, {
          command: "sample-gan",
          unit: GAN_SAMPLE_UNIT,
          config: {
            model: model.card.sha256,
            n: flags.n,
            seed: flags.seed,
            redshift,
            quantity: flags.quantity,
            batch: flags.batch,
          },
          shard: flags.shard,
          units: result.batches,
          primary: SAMPLES_FILE,
          files: [fileRecord(flags.output, SAMPLES_FILE), fileRecord(flags.output, SAMPLES_SIDECAR)],
        });
      }
      const secs = (performance.now() - t0) / 1000;
      const a = model.card.architecture;
      ctx.summary(
        `wrote ${result.count} sample(s) ${result.first}…${result.first + result.count - 1} of ${flags.n} (${a.side}³, ${flags.quantity}) to ${path.join(flags.output, SAMPLES_FILE)} on ${flags.workers} worker(s) in ${secs.toFixed(1)} s (${(result.count / secs).toFixed(2)} samples/s)`,
        {
          output: result.file,
          sidecar: result.sidecar,
          first: result.first,
          count: result.count,
          seconds: secs,
          samplesPerSecond: result.count / secs,
        },
      );
    });
}
