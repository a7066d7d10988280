/**
 * The inference worker pool: W piscina worker threads, each holding one ONNX Runtime session
 * (./inference-worker.mjs) created once and reused. Patches go to the workers and results come
 * back as transferred ArrayBuffers, never copied. Each worker is bound to one device through the
 * execution provider's device id (threads share the process environment, so
 * CUDA_VISIBLE_DEVICES cannot select a device per worker).
 *
 * CPU threads: ONNX Runtime's multi-threaded convolutions change the summation order with the
 * thread count (measured: 1 worker × 2 threads vs 2 workers × 1 thread differ by 1 ulp in ~6% of
 * voxels), which would make outputs depend on --workers. So by default every worker runs one
 * intra-op thread (parallelism comes from the workers, and the default worker count is the
 * number of cores); `threadsPerWorker: "divide"` gives ⌊cores / W⌋ threads each instead, faster
 * with few workers but bitwise reproducible only for a fixed worker count.
 *
 * A worker thread that dies is replaced by piscina; the failed task is retried (runWithRetry)
 * and repeated failure stops the run with an error naming the unit. A native crash of ONNX
 * Runtime takes the whole process down (threads share it); resume then picks up the run.
 */
import os from "node:os";
import { Piscina } from "piscina";
import type { ModelCard } from "../models/model-card.js";

export type DeviceKind = "cpu" | "cuda" | "webgpu";

export interface DeviceSpec {
  kind: DeviceKind;
  /** Device ids the workers are spread over (round robin); [0] for cpu. */
  ids: number[];
}

/** Parses `cpu`, `cuda`, `cuda:1`, `cuda:0,1`, `webgpu`, `webgpu:0`. */
export function parseDevice(text: string): DeviceSpec {
  const m = /^(cpu|cuda|webgpu)(?::(\d+(?:,\d+)*))?$/.exec(text.trim());
  if (!m) throw new RangeError(`device '${text}': expected cpu, cuda[:ids] (e.g. cuda:0,1) or webgpu[:id]`);
  const kind = m[1] as DeviceKind;
  if (kind === "cpu" && m[2] !== undefined) throw new RangeError(`device '${text}': cpu takes no device ids`);
  const ids = m[2] === undefined ? [0] : m[2].split(",").map(Number);
  return { kind, ids };
}

export function threadsPerWorker(workers: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

/** What the pool needs of a model's card (a painter's ModelCard fits; the GAN sampler builds one). */
export type PoolModelCard = Pick<
  ModelCard,
  "inputName" | "outputName" | "inputChannels" | "outputChannels" | "padding"
>;

export interface InferencePoolOptions {
  modelPath: string;
  card: PoolModelCard;
  /** Output side when it is not input side − 2·padding (a generator: latent 1³ → S³). */
  outputSide?: number;
  workers: number;
  device: DeviceSpec;
  /** Added to every input value before inference (the card's input normalisation). */
  inputOffset: number;
  /** intra-op threads per worker: a number, or "divide" for ⌊cores / W⌋ (default 1; see above). */
  threadsPerWorker?: number | "divide";
  /** CPU cores to share among workers with "divide" (default: all available). */
  cores?: number;
}

/** What the inference stage needs of a pool: this ONNX Runtime pool or ./fft-painter-pool.ts. */
export interface PatchInference {
  readonly workers: number;
  /** rows × Cin × side³ values in (transferred), rows × Cout × (side − 2p)³ out. */
  infer(values: Float32Array, rows: number, side: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/**
 * A piscina pool of exactly `workers` threads running `file`, one task at a time each, whose
 * tasks send a Float32Array in and get one back, both transferred (the ONNX Runtime, FFT-painter
 * and native-GAN pools).
 */
export abstract class TransferringPool {
  private readonly pool: Piscina;

  protected constructor(
    file: URL,
    readonly workers: number,
    workerData: unknown,
    /** Names the worker in an error. */
    private readonly what: string,
  ) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${workers}`);
    this.pool = new Piscina({
      filename: file.href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      workerData,
    });
  }

  /**
   * Runs `task` with `values` transferred to the worker (a tight copy when it is a view on a
   * larger buffer: the caller's array is detached either way); resolves to the Float32Array it
   * returns.
   */
  protected async run(values: Float32Array, task: Record<string, unknown>): Promise<Float32Array> {
    const buffer = values.buffer as ArrayBuffer;
    const whole = values.byteOffset === 0 && values.byteLength === buffer.byteLength;
    const sent = whole ? values : values.slice();
    const out: unknown = await this.pool.run(
      { ...task, values: sent },
      { transferList: [sent.buffer as ArrayBuffer] },
    );
    if (!(out instanceof Float32Array)) throw new Error(`${this.what} returned no Float32Array`);
    return out;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** Intra-op threads per worker (see the top of this file); workers are checked by the pool. */
function intraOpThreads(options: InferencePoolOptions): number {
  const t = options.threadsPerWorker ?? 1;
  if (t === "divide") return threadsPerWorker(options.workers, options.cores);
  if (!Number.isInteger(t) || t < 1)
    throw new RangeError(`threads per worker must be a positive integer, got ${t}`);
  return t;
}

export class InferencePool extends TransferringPool implements PatchInference {
  readonly intraOpNumThreads: number;

  constructor(options: InferencePoolOptions) {
    const threads = intraOpThreads(options);
    const { card } = options;
    super(
      new URL("./inference-worker.mjs", import.meta.url),
      options.workers,
      {
        modelPath: options.modelPath,
        inputName: card.inputName,
        outputName: card.outputName,
        inputChannels: card.inputChannels,
        outputChannels: card.outputChannels,
        padding: card.padding,
        outputSide: options.outputSide ?? null,
        inputOffset: options.inputOffset,
        intraOpNumThreads: threads,
        device: options.device,
        slots: new SharedArrayBuffer(4),
      },
      "inference worker",
    );
    this.intraOpNumThreads = threads;
  }

  /**
   * Runs the model on `rows` patches of side `side` (values: rows × Cin × side³, transferred:
   * the caller's array is detached afterwards). Resolves to rows × Cout × (side − 2p)³ values.
   */
  async infer(values: Float32Array, rows: number, side: number): Promise<Float32Array> {
    return this.run(values, { rows, side });
  }
}

/** Calls `attempt` until it succeeds, at most `maxAttempts` times; then fails naming `what`. */
export async function runWithRetry<T>(
  attempt: (n: number) => Promise<T>,
  maxAttempts: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  let last: unknown;
  for (let n = 1; n <= maxAttempts; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      last = err;
    }
  }
  const why = last instanceof Error ? last.message : String(last);
  throw new Error(`${what} failed ${maxAttempts} times; last error: ${why.split("\n")[0]}`);
}
