/**
 * The inference stage: tile batches (padded patches) in, core batches out, through the worker
 * pool. The patch values are transferred to a worker (the input batch is consumed); a failed
 * unit is rebuilt from the source and retried before the run is stopped.
 */
import type { RecordBatch } from "apache-arrow";
import { makeTileBatch, readTileBatch } from "./tile.js";
import { runWithRetry, type PatchInference } from "../pipeline/worker-pool.js";
import { boundedStage } from "../pipeline/runner.js";
import type { Stage, Unit } from "../pipeline/stage.js";

export interface InferStageOptions {
  pool: PatchInference;
  outputChannels: number;
  /** Rebuilds unit `index`'s tile batch (its values were transferred away by a failed attempt). */
  rebuild: (index: number) => Promise<RecordBatch>;
  maxAttempts?: number;
  /** Units in flight (default: twice the workers, so each worker has the next unit queued). */
  maxInFlight?: number;
}

export async function inferBatch(
  pool: PatchInference,
  batch: RecordBatch,
  outputChannels: number,
): Promise<RecordBatch> {
  const rows = readTileBatch(batch);
  const n = rows.ids.length;
  const side = rows.core + 2 * rows.padding;
  const values = await pool.infer(rows.values, n, side);
  return makeTileBatch({
    ids: rows.ids,
    origins: rows.origins,
    core: rows.core,
    padding: 0,
    channels: outputChannels,
    values,
  });
}

export function inferStage(options: InferStageOptions): Stage {
  const work = async (unit: Unit): Promise<Unit> => {
    const batch = await runWithRetry(
      async (attempt) =>
        inferBatch(
          options.pool,
          attempt === 1 ? unit.batch : await options.rebuild(unit.index),
          options.outputChannels,
        ),
      options.maxAttempts ?? 3,
      `inference of tile batch ${unit.index}`,
    );
    return { index: unit.index, batch };
  };
  return boundedStage(work, options.maxInFlight ?? 2 * options.pool.workers);
}
