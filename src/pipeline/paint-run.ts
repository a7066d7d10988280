/**
 * Painting a grid with an ONNX model end to end: tile the grid into padded patches, run them
 * through the worker pool (ONNX Runtime, or the FFT halo painter: paint-engine.ts), stitch the
 * cores into the output volume. The on-disk path streams: the input is read a slab at a time
 * and the output is written in place into a preallocated .npy, so memory is O(units in
 * flight), not O(box). It keeps a run journal (run-manifest.ts) and resumes an interrupted run;
 * the final file appears under its name only when complete.
 */
import fs from "node:fs";
import path from "node:path";
import type { GridSource } from "../io/grid-reader.js";
import { NpyVolumeWriter } from "../io/npy-volume-writer.js";
import { InputError } from "../io/atomic-file.js";
import type { ModelCard } from "../models/model-card.js";
import { batchCount, tileLayout, Tiler, type Boundary } from "../stages/tile.js";
import { stitchBatch, memoryVolume, type VolumeTarget } from "../stages/stitch.js";
import { inferStage } from "../stages/infer.js";
import { InferencePool, type DeviceSpec, type PatchInference } from "./worker-pool.js";
import { FftPainterPool } from "./fft-painter-pool.js";
import type { PaintEngine } from "./paint-engine.js";
import { RunJournal, type RunManifest } from "./run-manifest.js";
import { RunCancelledError } from "./runner.js";
import { silentProgress, type Progress } from "./progress.js";
import type { Unit } from "./stage.js";
import { shardRange, type Shard, type UnitRange } from "./shard.js";

export interface PaintSettings {
  modelPath: string;
  card: ModelCard;
  /** Core side of a tile (output voxels per tile edge). */
  tile: number;
  boundary: Boundary;
  tilesPerBatch: number;
  workers: number;
  device: DeviceSpec;
  /** Added to every input value (see models/model-card.ts inputOffset). */
  inputOffset: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Called after each unit is stitched (and, on disk, journaled). */
  onUnit?: (unit: number, finished: number, total: number) => void;
  /** See InferencePoolOptions.threadsPerWorker (default 1: outputs independent of `workers`). */
  threadsPerWorker?: number | "divide";
  /** Paint only the tile batches of this shard (see shard.ts); the others stay zero. */
  shard?: Shard;
  /** ONNX Runtime (default) or the FFT-convolution halo painter (see paint-engine.ts). */
  engine?: PaintEngine;
}

/** Tile batches of a painting of `source` (the units that --shard divides). */
function allUnits(source: GridSource, s: PaintSettings): number {
  const layout = tileLayout({
    side: source.side,
    core: s.tile,
    padding: s.card.padding,
    boundary: s.boundary,
    channels: source.channels,
  });
  return batchCount(layout, s.tilesPerBatch);
}

interface UnitSink {
  target: VolumeTarget;
  record(unit: number, rows: number, sha256: string): void;
}

async function paintUnits(
  source: GridSource,
  s: PaintSettings,
  sink: UnitSink,
  skip: (unit: number) => boolean,
  alreadyDone: number,
): Promise<number> {
  const spec = {
    side: source.side,
    core: s.tile,
    padding: s.card.padding,
    boundary: s.boundary,
    channels: source.channels,
  };
  const tiler = new Tiler(source, spec, s.tilesPerBatch);
  const all = tiler.batchCount;
  const { start, end } = s.shard ? shardRange(all, s.shard) : { start: 0, end: all };
  const total = end - start;
  const signal = s.signal ?? new AbortController().signal;
  const progress = s.progress ?? silentProgress;
  const engine = s.engine ?? { kind: "ort" };
  const pool: PatchInference =
    engine.kind === "fft"
      ? new FftPainterPool({ ...engine, workers: s.workers, inputOffset: s.inputOffset })
      : new InferencePool({
          modelPath: s.modelPath,
          card: s.card,
          workers: s.workers,
          device: s.device,
          inputOffset: s.inputOffset,
          threadsPerWorker: s.threadsPerWorker,
        });
  // Retries rebuild their patches with a tiler of their own, leaving the stream's slab cache alone.
  const retryTiler = new Tiler(source, spec, s.tilesPerBatch);
  async function* units(): AsyncGenerator<Unit> {
    for (let b = start; b < end; b++) {
      if (signal.aborted) return;
      if (skip(b)) continue;
      yield { index: b, batch: await tiler.batch(b) };
    }
  }
  let done = alreadyDone;
  progress.start("paint", total);
  progress.advance("paint", done);
  try {
    const painted = inferStage({
      pool,
      outputChannels: s.card.outputChannels,
      rebuild: (i) => retryTiler.batch(i),
    })(units(), { signal });
    for await (const unit of painted) {
      const r = stitchBatch(unit.batch, sink.target);
      sink.record(unit.index, r.rows, r.sha256);
      done++;
      progress.advance("paint", done);
      s.onUnit?.(unit.index, done, total);
    }
  } finally {
    await pool.close();
  }
  return total;
}

/** Paints into memory (tests, small boxes): returns C·N³ values, channel-major. */
export async function paintToMemory(source: GridSource, settings: PaintSettings): Promise<Float32Array> {
  const volume = memoryVolume(source.side, settings.card.outputChannels);
  await paintUnits(source, settings, { target: volume, record: () => undefined }, () => false, 0);
  return volume.data;
}

export interface NpyPaintResult {
  output: string;
  manifestPath: string;
  manifest: RunManifest;
  units: number;
  /** Units skipped because an interrupted run had finished them. */
  resumedUnits: number;
  /** Tile batches of the whole grid, and the range this run painted (all of them unless sharded). */
  totalUnits: number;
  shardUnits: UnitRange;
  shape: number[];
}

export function partialPathsFor(output: string): { data: string; journal: string } {
  return { data: `${output}.partial`, journal: `${output}.partial.journal` };
}

export function manifestPathFor(output: string): string {
  return output.replace(/\.npy$/i, "") + ".manifest.json";
}

/** Journal flushes are at most this often: each first fdatasyncs the data it vouches for. */
const JOURNAL_FLUSH_MS = 1000;

/**
 * Paints into `output` (.npy), resuming an interrupted run of the same configuration.
 * `config` and `inputs` (checksums) identify the run; on success the partial file is renamed to
 * `output` and the manifest written beside it. On cancellation or failure the partial file and
 * journal stay for a resume; on an InputError they are removed.
 */
export async function paintToNpy(
  source: GridSource,
  settings: PaintSettings,
  output: string,
  config: Record<string, unknown>,
  inputs: Record<string, string>,
): Promise<NpyPaintResult> {
  const { data: partial, journal: journalPath } = partialPathsFor(output);
  const channels = settings.card.outputChannels;
  const journal = RunJournal.open(journalPath, config, inputs, fs.existsSync(partial));
  let writer: NpyVolumeWriter;
  if (journal.opening.status === "resumed") writer = NpyVolumeWriter.reopen(partial, source.side, channels);
  else writer = NpyVolumeWriter.create(partial, source.side, channels);
  const progress = settings.progress ?? silentProgress;
  if (journal.opening.status === "resumed")
    progress.info(`resuming ${path.basename(output)}: ${journal.opening.finished} unit(s) already done`);
  if (journal.opening.status === "restarted")
    progress.info(
      `starting ${path.basename(output)} afresh: the interrupted run found cannot be resumed (${journal.opening.reason})`,
    );
  const resumedUnits = journal.finishedCount;
  let pending: Array<{ unit: number; rows: number; sha256: string }> = [];
  let lastFlush = performance.now();
  const flush = (): void => {
    if (pending.length === 0) return;
    writer.sync();
    for (const rec of pending) journal.record(rec);
    pending = [];
    lastFlush = performance.now();
  };
  let units: number;
  try {
    units = await paintUnits(
      source,
      settings,
      {
        target: writer,
        record(unit, rows, sha256) {
          pending.push({ unit, rows, sha256 });
          if (performance.now() - lastFlush > JOURNAL_FLUSH_MS) flush();
        },
      },
      (u) => journal.isFinished(u),
      resumedUnits,
    );
    flush();
  } catch (err) {
    flush();
    writer.close();
    if (err instanceof InputError) {
      fs.rmSync(partial, { force: true });
      fs.rmSync(journalPath, { force: true });
    }
    throw err;
  }
  writer.close();
  if (journal.finishedCount !== units) {
    // Reached only if the stream ended early without an error: never publish a partial volume.
    throw new RunCancelledError(`${journal.finishedCount} of ${units} units finished`);
  }
  fs.renameSync(partial, output);
  const manifestPath = manifestPathFor(output);
  const manifest = journal.complete(manifestPath);
  return {
    output,
    manifestPath,
    manifest,
    units,
    resumedUnits,
    totalUnits: allUnits(source, settings),
    shardUnits: settings.shard
      ? shardRange(allUnits(source, settings), settings.shard)
      : { start: 0, end: allUnits(source, settings) },
    shape: NpyVolumeWriter.shapeFor(source.side, channels),
  };
}
