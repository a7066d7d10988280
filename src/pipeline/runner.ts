/**
 * Bounded concurrent mapping of a stream: at most `maxInFlight` items are being worked on or
 * waiting to be consumed, so memory is O(items in flight) however long the stream, and the
 * source is pulled only when there is room (backpressure). Results are yielded in completion
 * order; callers that need determinism key their writes by unit, not by arrival.
 *
 * Cancellation: when `signal` aborts, no further items are pulled, work already started is
 * allowed to finish and its results are still yielded (so they can be recorded for resume),
 * then the iteration throws RunCancelledError.
 */
import type { Stage, Unit } from "./stage.js";

export class RunCancelledError extends Error {
  constructor(reason?: unknown) {
    super(
      `run cancelled${reason instanceof Error ? ` (${reason.message})` : typeof reason === "string" ? ` (${reason})` : ""}`,
    );
    this.name = "RunCancelledError";
  }
}

export interface BoundedOptions {
  maxInFlight: number;
  signal?: AbortSignal;
}

export async function* mapBounded<T, R>(
  source: AsyncIterable<T>,
  work: (item: T) => Promise<R>,
  options: BoundedOptions,
): AsyncGenerator<R> {
  if (!(options.maxInFlight >= 1))
    throw new RangeError(`maxInFlight must be ≥ 1, got ${options.maxInFlight}`);
  const iterator = source[Symbol.asyncIterator]();
  type Settled = { ok: true; value: R } | { ok: false; error: unknown };
  const pending = new Map<number, Promise<{ key: number; settled: Settled }>>();
  let nextKey = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  const aborted = (): boolean => options.signal?.aborted === true;
  try {
    for (;;) {
      while (!exhausted && !failure && !aborted() && pending.size < options.maxInFlight) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        const key = nextKey++;
        pending.set(
          key,
          work(step.value).then(
            (value) => ({ key, settled: { ok: true, value } as Settled }),
            (error: unknown) => ({ key, settled: { ok: false, error } as Settled }),
          ),
        );
      }
      if (pending.size === 0) break;
      const { key, settled } = await Promise.race(pending.values());
      pending.delete(key);
      if (settled.ok) yield settled.value;
      else failure ??= { error: settled.error };
    }
  } finally {
    // On an early return by the consumer, let started work settle before leaving.
    await Promise.allSettled(pending.values());
    await iterator.return?.();
  }
  if (failure) throw failure.error;
  if (aborted()) throw new RunCancelledError(options.signal?.reason);
}

/** A stage that maps every unit's batch through `work`, at most `maxInFlight` at a time. */
export function boundedStage(work: (unit: Unit) => Promise<Unit>, maxInFlight: number): Stage {
  return (input, context) => mapBounded(input, work, { maxInFlight, signal: context.signal });
}

/** An AbortController that aborts on SIGINT/SIGTERM until disposed (the CLI's cancellation). */
export function abortOnSignals(onSignal?: (name: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    onSignal?.(name);
    controller.abort(`received ${name}`);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
