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
// Loaded here for its side effect: the binding stays loaded in the main thread for the life of
// the process. onnxruntime-node's binding registers itself only when first loaded (it has no
// napi_register_module_v1), so once every thread that held it has exited, a later worker's
// load fails with "Module did not self-register" (measured: every pool after the first one, in
// a program whose main thread never loaded it).
import "onnxruntime-node";
import type { ModelCard } from "../models/model-card.js";
import { failureMessage, isPermanentFailure } from "./permanent-failure.mjs";
import { WORKER_READY } from "./worker-ready.mjs";

export type DeviceKind = "cpu" | "cuda";

export interface DeviceSpec {
  kind: DeviceKind;
  /** Device ids the workers are spread over (round robin); [0] for cpu. */
  ids: number[];
}

/**
 * Parses `cpu`, `cuda`, `cuda:1`, `cuda:0,1`. WebGPU is refused by name: ONNX Runtime 1.23's
 * WebGPU provider found the H200 through Vulkan but runs Conv and ConvTranspose in 1D and 2D only
 * (2026-12-04), and both of our models are 3D.
 */
export function parseDevice(text: string): DeviceSpec {
  if (/^webgpu(:|$)/.test(text.trim()))
    throw new RangeError(
      `device '${text}': ONNX Runtime's WebGPU provider runs 1D and 2D convolutions only; the painter and the GAN are 3D (use cpu or cuda)`,
    );
  const m = /^(cpu|cuda)(?::(\d+(?:,\d+)*))?$/.exec(text.trim());
  if (!m) throw new RangeError(`device '${text}': expected cpu or cuda[:ids] (e.g. cuda:0,1)`);
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
  /** threadIds of the workers that have loaded their modules (./worker-ready.mjs). */
  private readonly started = new Set<number>();
  /** Rejects once a worker has failed to start (see the constructor). */
  private readonly startFailure: Promise<never>;
  private failedToStart = false;

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
      // Workers wait for tasks on their event loop, not in a blocking Atomics.wait loop: the
      // start-up handshake (./worker-ready.mjs) is posted from it once the module has loaded.
      // Our tasks are whole tile batches, so the saved wake-up latency would not show.
      atomics: "disabled",
      workerData,
    });
    this.pool.on("message", (message: unknown) => {
      if (typeof message === "object" && message !== null && WORKER_READY in message)
        this.started.add(Number((message as Record<string, unknown>)[WORKER_READY]));
    });
    // A worker that fails while loading its modules has no task to hand the error to, so piscina
    // emits 'error' (uncaught, it would crash the process) and queued tasks would wait for a worker
    // that never becomes ready: every task from then on fails with that error instead.
    let fail: (err: Error) => void = () => {};
    this.startFailure = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.startFailure.catch(() => {});
    this.pool.on("error", (err: unknown) => {
      this.failedToStart = true;
      fail(new Error(`${what} failed to start: ${err instanceof Error ? err.message : String(err)}`));
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
    const out: unknown = await Promise.race([
      this.pool.run({ ...task, values: sent }, { transferList: [sent.buffer as ArrayBuffer] }),
      this.startFailure,
    ]);
    if (!(out instanceof Float32Array)) throw new Error(`${this.what} returned no Float32Array`);
    return out;
  }

  /**
   * Waits until every live worker has started, then terminates them. Terminating a thread that
   * is still loading ONNX Runtime aborts the whole process (./worker-ready.mjs); a short run
   * that never gave some workers a task would otherwise do that at random. A pool whose workers
   * fail to start (piscina replaces them over and over) and one still starting after
   * `startLimitMs` are terminated at once.
   */
  async close(startLimitMs = 120_000): Promise<void> {
    const deadline = Date.now() + startLimitMs;
    const starting = () => this.pool.threads.some((w) => !this.started.has(w.threadId));
    while (!this.failedToStart && starting() && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
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

/**
 * Calls `attempt` until it succeeds, at most `maxAttempts` times; then fails naming `what`. A
 * failure marked permanent (./permanent-failure.mjs) ends the loop at once with its own message.
 */
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
      if (isPermanentFailure(err)) throw new Error(failureMessage(err));
      last = err;
    }
  }
  const why = failureMessage(last);
  throw new Error(`${what} failed ${maxAttempts} times; last error: ${why.split("\n")[0]}`);
}
