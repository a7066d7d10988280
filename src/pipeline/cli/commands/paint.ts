/**
 * `mocksmith paint`: applies an ONNX model (with its model card) to a grid tile by tile and
 * writes the stitched result as a .npy, streaming both ways, resumable after an interruption.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, Option } from "commander";
import { assertWritableDestination, InputError } from "../../../io/atomic-file.js";
import {
  openHdf5Grid,
  openNpyGrid,
  openRawGrid,
  scanGrid,
  type GridSource,
} from "../../../io/grid-reader.js";
import {
  makeGridMetadata,
  readGridMetadata,
  writeGridMetadata,
  type GridMetadata,
} from "../../../io/grid-metadata.js";
import { loadModel } from "../../../io/model-file.js";
import { inputOffset } from "../../../models/model-card.js";
import { BOUNDARIES, type Boundary } from "../../../stages/tile.js";
import { autoTileSide, AUTO_TILE_MAX_PATCH_SIDE } from "../../../stages/tile-size.js";
import { parseDevice, type DeviceSpec } from "../../worker-pool.js";
import { paintToNpy } from "../../paint-run.js";
import {
  choosePaintEngine,
  DEFAULT_MAX_FFT_SIDE,
  ENGINE_CHOICES,
  type EngineChoice,
} from "../../paint-engine.js";
import { abortOnSignals, RunCancelledError } from "../../runner.js";
import { resolveModelPath } from "../../../models/default-model.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";
import { SOFTWARE_VERSION } from "../../../version.js";
import { sidecarPathFor } from "../../../io/grid-metadata.js";
import { fileRecord, parseShard, writeShardManifest, type Shard } from "../../shard.js";

interface PaintOptions {
  input: string;
  box?: number;
  rawSide?: number;
  model: string;
  tile: number | "auto";
  boundary: Boundary;
  tilesPerBatch: number;
  workers: number;
  device: string;
  engine: EngineChoice;
  maxFftSide: number;
  output: string;
  shard?: Shard;
}

/** Relative tolerance on the grid's voxel size against the card's. */
const VOXEL_TOLERANCE = 1e-4;

function parseDeviceOption(v: string): DeviceSpec {
  try {
    return parseDevice(v);
  } catch (err) {
    throw new InputError("--device", (err as Error).message);
  }
}

async function openInput(
  input: string,
  rawSide: number | undefined,
): Promise<{ source: GridSource; file: string }> {
  const h5 = /^(.*\.(?:h5|hdf5|hdf)):(.+)$/i.exec(input);
  if (h5) return { source: await openHdf5Grid(h5[1], h5[2]), file: h5[1] };
  if (rawSide !== undefined) return { source: openRawGrid(input, rawSide), file: input };
  if (/\.(h5|hdf5|hdf)$/i.test(input))
    throw new InputError(input, "name the dataset of an HDF5 input as FILE.h5:/path/to/dataset");
  return { source: openNpyGrid(input), file: input };
}

export async function runPaint(opts: PaintOptions, global: GlobalOptions): Promise<void> {
  const ctx = makeContext(global);
  const t0 = performance.now();
  if (!/\.npy$/i.test(opts.output)) throw new InputError(opts.output, "output must be a .npy file");
  assertWritableDestination(opts.output);
  const modelPath = resolveModelPath(opts.model);
  const device = parseDeviceOption(opts.device);
  const { source, file } = await openInput(opts.input, opts.rawSide);
  try {
    if (path.resolve(file) === path.resolve(opts.output))
      throw new InputError(opts.output, "output would overwrite the input");
    const meta: GridMetadata | undefined = readGridMetadata(file);
    let boxSize = opts.box ?? meta?.boxSize;
    if (boxSize === undefined)
      throw new InputError(file, "no sidecar with the box size; pass --box L (Mpc/h)");
    if (meta && opts.box !== undefined && Math.abs(opts.box - meta.boxSize) > 1e-9 * meta.boxSize) {
      throw new InputError(file, `--box ${opts.box} contradicts the sidecar's boxSize ${meta.boxSize} Mpc/h`);
    }
    boxSize = Number(boxSize);
    const { card } = await loadModel(modelPath);
    if (card.inputChannels !== source.channels) {
      throw new InputError(
        file,
        `grid has ${source.channels} channel(s), the model ${modelPath} expects ${card.inputChannels}`,
      );
    }
    const voxel = boxSize / source.side;
    if (Math.abs(voxel - card.voxelSize) > VOXEL_TOLERANCE * card.voxelSize) {
      throw new InputError(
        file,
        `voxel size ${voxel.toPrecision(6)} Mpc/h (box ${boxSize} / ${source.side}) differs from the ${card.voxelSize} Mpc/h the model ${path.basename(modelPath)} was trained at; resample the grid to ${Math.round(boxSize / card.voxelSize)}³`,
      );
    }
    if (meta && meta.periodic === false && opts.boundary === "periodic") {
      throw new InputError(file, "the grid is not periodic (sidecar); choose --boundary zero or reflect");
    }
    const engine = choosePaintEngine(opts.engine, card, modelPath, device, opts.maxFftSide);
    const tile = opts.tile === "auto" ? autoTileSide(source.side, card.padding) : opts.tile;
    const holdsDensity = meta?.kind === "density";
    const offset = inputOffset(card, holdsDensity);
    const cancel = abortOnSignals((name) =>
      ctx.progress.info(
        `${name}: finishing the tiles in flight, then stopping (re-run the same command to resume)`,
      ),
    );
    try {
      ctx.progress.info(
        `checking ${path.basename(file)} (${source.side}³${source.channels > 1 ? ` × ${source.channels}` : ""})`,
      );
      const inputSha = await scanGrid(source, cancel.signal);
      const config = {
        command: "paint",
        input: path.resolve(opts.input),
        modelSha256: card.sha256,
        tile,
        padding: card.padding,
        boundary: opts.boundary,
        tilesPerBatch: opts.tilesPerBatch,
        inputOffset: offset,
        side: source.side,
        outputChannels: card.outputChannels,
        // Engines round differently: a run never resumes with another engine or FFT side.
        engine: engine.kind,
        ...(engine.kind === "fft" ? { maxFftSide: engine.maxFftSide } : {}),
        // A shard's journal never resumes another shard's (or an unsharded) run.
        ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}),
      };
      const result = await paintToNpy(
        source,
        {
          modelPath,
          card,
          tile,
          boundary: opts.boundary,
          tilesPerBatch: opts.tilesPerBatch,
          workers: opts.workers,
          device,
          engine,
          inputOffset: offset,
          shard: opts.shard,
          signal: cancel.signal,
          progress: ctx.progress,
        },
        opts.output,
        config,
        { input: inputSha, model: card.sha256 },
      );
      if (meta && card.outputChannels === 1) {
        writeGridMetadata(
          opts.output,
          makeGridMetadata({
            kind: "counts",
            shape: [source.side, source.side, source.side],
            boxSize,
            redshift: meta.redshift,
            periodic: meta.periodic,
            cosmology: meta.cosmology,
            seed: meta.seed,
            provenance: {
              command: "paint",
              input: opts.input,
              model: card.name,
              modelSha256: card.sha256,
              trained: card.trained,
              tile,
              boundary: opts.boundary,
            },
          }),
        );
      }
      if (opts.shard) {
        // The shard's directory is the output's: its sparse volume holds the shard's tile batches.
        const dir = path.dirname(opts.output);
        const names = [opts.output, result.manifestPath, sidecarPathFor(opts.output)]
          .filter((f) => fs.existsSync(f))
          .map((f) => path.basename(f));
        // Identity by content (input and model sha256), not by the input's path on one node.
        const { input: _path, shard: _shard, ...shared } = config;
        writeShardManifest(dir, {
          command: "paint",
          unit: "tile-batch",
          config: { ...shared, inputSha256: inputSha, boxSize },
          shard: opts.shard,
          units: { total: result.totalUnits, ...result.shardUnits },
          primary: path.basename(opts.output),
          files: names.map((f) => fileRecord(dir, f)),
        });
      }
      const secs = (performance.now() - t0) / 1000;
      const shape = result.shape.join("×");
      const resumed = result.resumedUnits > 0 ? `, ${result.resumedUnits} resumed` : "";
      ctx.summary(
        `painted ${opts.output} (${shape} float32, ${card.outputChannels} channel(s)) with ${card.name} in ${result.units} units of ${tile}³-voxel tiles${resumed} on ${opts.workers} ${engine.kind} worker(s) in ${secs.toFixed(1)} s`,
        {
          output: opts.output,
          manifest: result.manifestPath,
          shape: result.shape,
          units: result.units,
          tile,
          resumedUnits: result.resumedUnits,
          seconds: secs,
          software: SOFTWARE_VERSION,
        },
      );
    } catch (err) {
      if (err instanceof RunCancelledError || cancel.signal.aborted) {
        throw new InputError(
          opts.output,
          `interrupted; the finished tiles are kept in ${path.basename(opts.output)}.partial: re-run the same command to resume`,
        );
      }
      throw err;
    } finally {
      cancel.dispose();
    }
  } finally {
    source.close();
  }
}

export function registerPaint(program: Command): void {
  program
    .command("paint")
    .description(
      "apply an ONNX model (e.g. the halo painter) to a grid tile by tile, writing the stitched volume as .npy",
    )
    .requiredOption(
      "--input <path>",
      "input grid: BOX.npy (float32/float64, (N,N,N) or (C,N,N,N)), FILE.h5:/dataset, or raw float32 with --raw-side",
    )
    .option(
      "--box <L>",
      "box side in Mpc/h, for a grid without a sidecar (BOX.json)",
      parseNumber({ minExclusive: 0 }),
    )
    .option("--raw-side <N>", "read --input as headerless little-endian float32 of side N", parseInteger(1))
    .requiredOption(
      "--model <path|default>",
      "model.onnx with model.card.json beside it, or 'default' for the bundled painter",
    )
    .option(
      "--tile <T|auto>",
      `core side of each tile in output voxels (patches are T + 2·padding); auto: the T with patches ≤ ${AUTO_TILE_MAX_PATCH_SIDE}³ that paints the grid with the fewest patch voxels (64 for a multiple of 64 and padding 4)`,
      (v: string) => (v === "auto" ? "auto" : parseInteger(1)(v)),
      "auto",
    )
    .addOption(
      new Option("--boundary <rule>", "values beyond the grid's faces")
        .choices(BOUNDARIES as string[])
        .default("periodic")
        .argParser(parseChoice(BOUNDARIES)),
    )
    .option(
      "--tiles-per-batch <n>",
      "tiles per inference call (and per checkpointed unit)",
      parseInteger(1, 4096),
      1,
    )
    .option(
      "--workers <W>",
      "inference worker threads, one ONNX Runtime session and one CPU thread each; defaults to the core count",
      parseInteger(1, 256),
      os.availableParallelism(),
    )
    .option("--device <spec>", "cpu | cuda[:ids] (e.g. cuda:0,1, workers spread round robin)", "cpu")
    .addOption(
      new Option(
        "--engine <name>",
        "fft: the halo painter on FFT convolutions (CPU, faster); ort: ONNX Runtime (any model, any device); auto: fft for the halo painter on the cpu, else ort",
      )
        .choices([...ENGINE_CHOICES])
        .default("auto")
        .argParser(parseChoice(ENGINE_CHOICES)),
    )
    .option(
      "--max-fft-side <M>",
      "largest FFT grid side of the fft engine (memory per worker grows as M³: ~0.2 GB at 40, 0.9 GB at 72)",
      parseInteger(16, 512),
      DEFAULT_MAX_FFT_SIDE,
    )
    .requiredOption(
      "-o, --output <path>",
      "output .npy (a .partial file and journal beside it while running)",
    )
    .option(
      "--shard <i/n>",
      "paint only shard i of n (0-based; contiguous balanced ranges of tile batches) into a sparse full-size .npy, with shard-manifest.json beside it for `mocksmith merge`",
      parseShard,
    )
    .addHelpText(
      "after",
      `
Inputs without a sidecar are taken to hold the density contrast δ; the model card says how to
normalise (e.g. ρ/ρ̄ = 1 + δ). The grid's voxel size (box / N) must match the card's.
An interrupted run (Ctrl-C, kill) is resumed by re-running the same command; on success
OUT.npy, OUT.manifest.json (config, checksums, every unit) and, when the input has one,
OUT.json (sidecar) are written.`,
    )
    .action(async (opts: PaintOptions, cmd: Command) => {
      await runPaint(opts, cmd.optsWithGlobals() as GlobalOptions);
    });
}
