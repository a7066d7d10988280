/**
 * Sampling an ensemble of density sub-volumes from a GAN through a worker pool: the ONNX worker
 * pool (./worker-pool.ts: one ONNX Runtime session and one intra-op thread per worker thread) or
 * the native generator pool (./gan-native-pool.ts: our x86-64 kernels, CPU only, faster).
 * Samples are deterministic per seed and engine (the engines agree to float32 rounding: c within 1e-5).
 *
 * Sample i is generated from the latent vector keyed by (seed, i) (models/gan/latent.ts) and
 * inverted from c to ρ/ρ̄ (or δ) with the card's κ (models/gan/data-scaling.ts). Work is cut
 * into batches of `batch` samples (batch k holds samples kB … kB + B − 1), the units that
 * --shard divides, so every sample is computed in the same batch whatever the worker count or
 * sharding, and outputs are bitwise identical across them. Batches are written by positional
 * writes into a preallocated .npy under a temporary name, renamed when complete.
 *
 * Sample i is then put under the cube symmetry keyed by (seed, i) (`orientation` "random",
 * models/gan/sample-orientation.ts), or left as the generator drew it ("generator").
 *
 * Latents may instead come from a file (`latents`, io/latent-file.ts): row i is sample i's latent,
 * so a shard takes the rows of its batches and merged shards still equal one run byte for byte.
 *
 * Output: DIR/samples.npy, float32 (count, S, S, S) C order ([sample][x][y][z]), and
 * DIR/samples.json (what the values are, the model, seed, latent, κ, voxel and box size); with
 * `stitch` = n (count = n³) also DIR/stitched.npy, the samples tiled into one (nS)³ volume, with its
 * grid sidecar DIR/stitched.json and the measured seam statistics (./gan-stitch.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, temporaryPathFor } from "../io/atomic-file.js";
import { float32NpyHeader } from "../io/npy.js";
import type { LoadedGanModel } from "../io/gan-model-file.js";
import { unscaleDensityArray } from "../models/gan/data-scaling.js";
import { latentBatch, LATENT_ALGORITHM, LATENT_STREAM_SAMPLING } from "../models/gan/latent.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import { shardRange, type Shard } from "./shard.js";
import {
  placeTile,
  STITCHED_FILE,
  stitchedSidecar,
  writeStitchedVolume,
  type StitchResult,
} from "./gan-stitch.js";
import { sidecarPathFor } from "../io/grid-metadata.js";
import { InferencePool, type DeviceSpec } from "./worker-pool.js";
import { NativeGanPool, type GanEngine } from "./gan-native-pool.js";
import { cardArchitecture } from "../models/gan/gan-card.js";
import {
  ORIENTATION_ALGORITHM,
  orientSamples,
  type SampleOrientation,
} from "../models/gan/sample-orientation.js";

export type SampleQuantity = "density" | "delta";
export const SAMPLE_QUANTITIES: readonly SampleQuantity[] = ["density", "delta"];

export const SAMPLES_FILE = "samples.npy";
export const SAMPLES_SIDECAR = "samples.json";
export const GAN_SAMPLE_UNIT = "gan-sample-batch";

export interface GanSamplingOptions {
  model: LoadedGanModel;
  count: number;
  seed: number;
  /** Conditioning redshift (cGAN), or the unconditional model's own. */
  redshift: number;
  quantity: SampleQuantity;
  batch: number;
  workers: number;
  device: DeviceSpec;
  /** Which engine generates (default "ort"; ./gan-native-pool.ts chooseGanEngine resolves --engine). */
  engine?: GanEngine;
  output: string;
  shard?: Shard;
  /** Latent vectors from a file (rows = count, checked by the caller) instead of drawn ones. */
  latents?: { data: Float32Array; sha256: string; file: string };
  /** Tile the n³ samples (count = n³, unsharded) into one (nS)³ volume. */
  stitch?: number;
  /** "random": sample i under the cube symmetry keyed by (seed, i); "generator": as drawn. */
  orientation: SampleOrientation;
  /** Called once with the number of batches this run computes, then after each batch. */
  onStart?: (batches: number) => void;
  onBatch?: (done: number, total: number) => void;
}

export interface GanSamplesSidecar {
  format: "mocksmith-gan-samples";
  formatVersion: 1;
  /** "density": ρ/ρ̄; "delta": ρ/ρ̄ − 1. */
  quantity: SampleQuantity;
  /** Shape of the .npy beside it: (samples, S, S, S). */
  shape: [number, number, number, number];
  /** Index of the file's first sample in the ensemble (non-zero only in a shard). */
  firstSample: number;
  samples: number;
  seed: number;
  redshift: number;
  voxelSize: number;
  boxSize: number;
  kappa: number;
  latent: {
    prior: LoadedGanModel["card"]["latentPrior"];
    algorithm: string;
    dimension: number;
    /** "drawn": keyed by (seed, i); "file": row i of the file with this sha256 (float32 rows). */
    source: "drawn" | "file";
    file?: { name: string; sha256: string };
  };
  model: { name: string; sha256: string; trained: boolean; preset: string };
  /** "random": sample i is the generator's output under the cube symmetry keyed by (seed, i). */
  orientation: { mode: SampleOrientation; algorithm?: string };
  /** "ort": ONNX Runtime; "native": our x86-64 kernels (values agree to float32 rounding). */
  engine: GanEngine;
  batch: number;
  software: { name: string; version: string };
}

export interface GanSamplingResult {
  file: string;
  sidecar: string;
  first: number;
  count: number;
  batches: { total: number; start: number; end: number };
  stitched?: StitchResult;
}

/** Checks the redshift against the card: inside a cGAN's trained range, or the unconditional model's own. */
export function checkSamplingRedshift(model: LoadedGanModel, z: number | undefined): number {
  const c = model.card;
  if (c.architecture.conditional) {
    const [lo, hi] = c.redshiftRange as [number, number];
    if (z === undefined)
      throw new InputError("--z", `the conditional GAN ${model.path} needs a redshift in [${lo}, ${hi}]`);
    if (z < lo || z > hi)
      throw new InputError(
        "--z",
        `${z} is outside the redshift range [${lo}, ${hi}] the conditional GAN was trained on`,
      );
    return z;
  }
  const own = c.redshift ?? 0;
  if (z !== undefined && Math.abs(z - own) > 1e-9)
    throw new InputError(
      "--z",
      `${model.path} is an unconditional GAN trained at z = ${own}; --z ${z} needs a conditional GAN`,
    );
  return own;
}

export async function sampleGan(o: GanSamplingOptions): Promise<GanSamplingResult> {
  const card = o.model.card;
  const a = card.architecture;
  const s = a.side;
  const s3 = s ** 3;
  const totalBatches = Math.ceil(o.count / o.batch);
  const range = o.shard ? shardRange(totalBatches, o.shard) : { start: 0, end: totalBatches };
  const first = range.start * o.batch;
  const last = Math.min(o.count, range.end * o.batch);
  const count = Math.max(0, last - first);
  const file = path.join(o.output, SAMPLES_FILE);
  const sidecar = path.join(o.output, SAMPLES_SIDECAR);
  const stitchFile = path.join(o.output, STITCHED_FILE);
  if (o.stitch !== undefined && (o.shard || o.count !== o.stitch ** 3))
    throw new RangeError(
      `stitching ${o.stitch}³ tiles needs all ${o.stitch ** 3} samples in one unsharded run`,
    );
  if (o.latents && o.latents.data.length !== o.count * a.latentDim)
    throw new RangeError(
      `${o.latents.file}: ${o.latents.data.length} latent values, expected ${o.count}×${a.latentDim}`,
    );
  const outputs =
    o.stitch === undefined ? [file, sidecar] : [file, sidecar, stitchFile, sidecarPathFor(stitchFile)];
  for (const f of outputs)
    if (fs.existsSync(f))
      throw new InputError(f, "already exists; sample-gan never overwrites (remove it or choose another -o)");
  const width = a.latentDim + (a.conditional ? 1 : 0);
  const header = float32NpyHeader([count, s, s, s]);
  const tmp = temporaryPathFor(file);
  // A run that fails takes back the folders it made (an empty -o is no result either).
  const madeDir = fs.mkdirSync(o.output, { recursive: true });
  const fd = fs.openSync(tmp, "w+");
  const stitchSide = o.stitch === undefined ? 0 : o.stitch * s;
  const volume = o.stitch === undefined ? undefined : new Float32Array(stitchSide ** 3);
  let stitchedWritten = false;
  let result: GanSamplingResult;
  const engine = o.engine ?? "ort";
  // One batch of latents → its densities, on either engine; close releases the workers.
  let generate: (z: Float32Array, rows: number, offset: number) => Promise<Float32Array>;
  let close: () => Promise<void>;
  if (engine === "native") {
    // The native workers invert c themselves (from the pre-activation, ./gan-native-pool.ts).
    const native = new NativeGanPool({
      modelBytes: o.model.bytes,
      arch: cardArchitecture(card),
      workers: o.workers,
    });
    const cap = card.densityCap ?? Infinity;
    generate = (z, rows, offset) => native.density(z, rows, { kappa: card.kappa, cap, offset });
    close = () => native.close();
  } else {
    const pool = new InferencePool({
      modelPath: o.model.path,
      card: {
        inputName: card.inputName,
        outputName: card.outputName,
        inputChannels: width,
        outputChannels: 1,
        padding: 0,
      },
      outputSide: s,
      workers: o.workers,
      device: o.device,
      inputOffset: 0,
    });
    generate = async (z, rows, offset) =>
      unscaleDensityArray(await pool.infer(z, rows, 1), card.kappa, offset, card.densityCap);
    close = () => pool.close();
  }
  try {
    fs.writeSync(fd, header, 0, header.length, 0);
    fs.ftruncateSync(fd, header.length + count * s3 * 4);
    o.onStart?.(range.end - range.start);
    const offset = o.quantity === "delta" ? -1 : 0;
    // Dirty pages are flushed while the workers compute (one fdatasync at a time on libuv's
    // pool), so the fsync before the rename below has little left to write.
    let flushing: Promise<void> | null = null;
    const flushInBackground = () => {
      flushing ??= new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve())).then(() => {
        flushing = null;
      });
    };
    let next = range.start;
    let done = 0;
    const worker = async () => {
      while (next < range.end) {
        const k = next++;
        const i0 = k * o.batch;
        const rows = Math.min(o.batch, o.count - i0);
        const z = o.latents
          ? latentRowsFromFile(o.latents.data, i0, rows, a.latentDim, a.conditional ? o.redshift : undefined)
          : latentBatch(
              o.seed,
              LATENT_STREAM_SAMPLING,
              i0,
              rows,
              a.latentDim,
              card.latentPrior,
              a.conditional ? o.redshift : undefined,
            );
        const values = await generate(z, rows, offset);
        orientSamples(values, s, o.seed, i0, rows, o.orientation);
        const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
        const position = header.length + (i0 - first) * s3 * 4;
        let w = 0;
        while (w < bytes.length) w += fs.writeSync(fd, bytes, w, bytes.length - w, position + w);
        flushInBackground();
        if (volume && o.stitch !== undefined)
          for (let r = 0; r < rows; r++)
            placeTile(volume, o.stitch, s, i0 + r, values.subarray(r * s3, (r + 1) * s3));
        o.onBatch?.(++done, range.end - range.start);
      }
    };
    // Two batches in flight per worker keep every worker busy while the main thread writes.
    await Promise.all(
      Array.from({ length: Math.min(2 * o.workers, Math.max(1, range.end - range.start)) }, worker),
    );
    await flushing;
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const meta: GanSamplesSidecar = {
      format: "mocksmith-gan-samples",
      formatVersion: 1,
      quantity: o.quantity,
      shape: [count, s, s, s],
      firstSample: first,
      samples: o.count,
      seed: o.seed,
      redshift: o.redshift,
      voxelSize: card.voxelSize,
      boxSize: card.voxelSize * s,
      kappa: card.kappa,
      latent: {
        prior: card.latentPrior,
        algorithm: LATENT_ALGORITHM,
        dimension: a.latentDim,
        ...(o.latents
          ? {
              source: "file" as const,
              file: { name: path.basename(o.latents.file), sha256: o.latents.sha256 },
            }
          : { source: "drawn" as const }),
      },
      model: { name: card.name, sha256: card.sha256, trained: card.trained, preset: a.preset },
      orientation:
        o.orientation === "random"
          ? { mode: "random", algorithm: ORIENTATION_ALGORITHM }
          : { mode: "generator" },
      engine,
      batch: o.batch,
      software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
    };
    let stitched: StitchResult | undefined;
    if (volume && o.stitch !== undefined) {
      stitchedWritten = true;
      stitched = writeStitchedVolume(stitchFile, volume, o.stitch, s, stitchedSidecar(meta, o.stitch));
    }
    const sidecarTmp = temporaryPathFor(sidecar);
    fs.writeFileSync(sidecarTmp, JSON.stringify(meta, null, 2) + "\n");
    fs.renameSync(tmp, file);
    fs.renameSync(sidecarTmp, sidecar);
    result = { file, sidecar, first, count, batches: { total: totalBatches, ...range }, stitched };
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(tmp, { force: true });
    if (stitchedWritten)
      for (const f of [stitchFile, sidecarPathFor(stitchFile)]) fs.rmSync(f, { force: true });
    if (madeDir !== undefined && fs.readdirSync(o.output).length === 0)
      fs.rmSync(madeDir, { recursive: true });
    throw err;
  } finally {
    await close();
  }
  return result;
}

/** Rows first … first + count − 1 of a (n × dim) latent matrix, with a cGAN's redshift appended. */
export function latentRowsFromFile(
  data: Float32Array,
  first: number,
  count: number,
  dim: number,
  redshift?: number,
): Float32Array {
  if (redshift === undefined) return data.slice(first * dim, (first + count) * dim);
  const out = new Float32Array(count * (dim + 1));
  for (let r = 0; r < count; r++) {
    out.set(data.subarray((first + r) * dim, (first + r + 1) * dim), r * (dim + 1));
    out[r * (dim + 1) + dim] = redshift;
  }
  return out;
}
