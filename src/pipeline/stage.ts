/**
 * The stage contract: a stage consumes and produces an asynchronous stream of Arrow record
 * batches, each tagged with its unit index (the unit of work, checkpointing and resume). Stages
 * are pulled, so a slow consumer throttles every producer upstream (backpressure), and each
 * receives the run's AbortSignal for cancellation.
 */
import type { RecordBatch } from "apache-arrow";

export interface Unit {
  /** Position of the batch in the run's deterministic unit order. */
  index: number;
  batch: RecordBatch;
}

export type UnitStream = AsyncIterable<Unit>;

export interface StageContext {
  signal: AbortSignal;
}

export type Stage = (input: UnitStream, context: StageContext) => UnitStream;

/** Chains stages left to right. */
export function compose(...stages: Stage[]): Stage {
  return (input, context) => stages.reduce((stream, stage) => stage(stream, context), input);
}
