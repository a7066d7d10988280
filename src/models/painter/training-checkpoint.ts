/**
 * Training checkpoints: one file per checkpoint, OUT/checkpoints/step-NNNNNNNN.ckpt, holding
 * everything a resumed run needs to continue bitwise identically — the networks' weights
 * (painter and critic, or the GAN's), the optimisers' moments and step counts, the step reached
 * and the random-stream position — written atomically (temporary name, then rename) so a crash
 * mid-write leaves the previous checkpoint intact.
 *
 * Layout: 8 bytes magic "MSPCKPT1", uint32 LE header length H, H bytes of JSON header, zero
 * padding to a multiple of 4, then float32 LE tensors at the offsets the header gives.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, writeAtomically } from "../../io/atomic-file.js";

const MAGIC = "MSPCKPT1";
/** Checkpoints kept by default, newest first (older ones are removed after a successful write). */
export const DEFAULT_CHECKPOINTS_KEPT = 2;

export interface CheckpointTensorRecord {
  name: string;
  offset: number;
  length: number;
}

export interface CheckpointHeader {
  format: "mocksmith-painter-checkpoint";
  formatVersion: 1;
  /** Training steps completed. */
  step: number;
  /** The run's settings that a resumed run must share. */
  fingerprint: Record<string, unknown>;
  /** Counter-based random streams: the next step draws with counters ≥ these. */
  rng: { algorithm: string; seed: number; nextStep: number };
  /** Adam step counts by optimiser name. */
  optimiserSteps: Record<string, number>;
  history: Record<string, number | string>[];
  /** Losses summed over the steps since the last history entry. */
  interval: { count: number; sums: Record<string, number> };
  tensors: CheckpointTensorRecord[];
}

export interface Checkpoint {
  file: string;
  header: CheckpointHeader;
  tensors: Map<string, Float32Array>;
}

export function checkpointDirectory(output: string): string {
  return path.join(output, "checkpoints");
}

function checkpointFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^step-\d{8}\.ckpt$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function writeCheckpoint(
  dir: string,
  header: Omit<CheckpointHeader, "format" | "formatVersion" | "tensors">,
  tensors: ReadonlyMap<string, Float32Array>,
  keep = DEFAULT_CHECKPOINTS_KEPT,
): string {
  fs.mkdirSync(dir, { recursive: true });
  const records: CheckpointTensorRecord[] = [];
  let offset = 0;
  for (const [name, data] of tensors) {
    records.push({ name, offset, length: data.length });
    offset += data.length;
  }
  const full: CheckpointHeader = {
    format: "mocksmith-painter-checkpoint",
    formatVersion: 1,
    ...header,
    tensors: records,
  };
  const json = Buffer.from(JSON.stringify(full), "utf8");
  const headerEnd = 12 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const bytes = Buffer.alloc(dataStart + 4 * offset);
  bytes.write(MAGIC, 0, "latin1");
  bytes.writeUInt32LE(json.length, 8);
  json.copy(bytes, 12);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset + dataStart, offset);
  for (const r of records) floats.set(tensors.get(r.name) as Float32Array, r.offset);
  const file = path.join(dir, `step-${String(header.step).padStart(8, "0")}.ckpt`);
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, bytes));
  // keep 0: every checkpoint stays (a GAN's model selection compares them all).
  const files = keep > 0 ? checkpointFiles(dir) : [];
  for (const old of files.slice(0, Math.max(0, files.length - keep))) fs.rmSync(old, { force: true });
  return file;
}

/** A trainer's networks and optimisers as named float32 tensors plus Adam step counts by name. */
export interface CheckpointableState {
  tensors(): { tensors: Map<string, Float32Array>; steps: Record<string, number> };
}

/** Where a training loop stands when it checkpoints; the random streams resume at `step`. */
export interface TrainingPosition {
  step: number;
  fingerprint: Record<string, unknown>;
  rng: { algorithm: string; seed: number };
  history: Record<string, number | string>[];
  /** Steps and summed losses since the last history entry. */
  interval: { count: number; sums: ReadonlyMap<string, number> };
}

/** The checkpoint both trainers (painter, GAN) write at history boundaries and at the end. */
export function saveTrainingCheckpoint(
  dir: string,
  state: CheckpointableState,
  at: TrainingPosition,
  keep = DEFAULT_CHECKPOINTS_KEPT,
): string {
  const { tensors, steps } = state.tensors();
  return writeCheckpoint(
    dir,
    {
      step: at.step,
      fingerprint: at.fingerprint,
      rng: { algorithm: at.rng.algorithm, seed: at.rng.seed, nextStep: at.step },
      optimiserSteps: steps,
      history: at.history,
      interval: { count: at.interval.count, sums: Object.fromEntries(at.interval.sums) },
    },
    tensors,
    keep,
  );
}

export function readCheckpoint(file: string): Checkpoint {
  return parseCheckpoint(file, fs.readFileSync(file));
}

/** A checkpoint from bytes already read (`file` names it in errors). */
export function parseCheckpoint(file: string, bytes: Buffer): Checkpoint {
  if (bytes.length < 12 || bytes.toString("latin1", 0, 8) !== MAGIC)
    throw new InputError(file, "not a mocksmith training checkpoint");
  const n = bytes.readUInt32LE(8);
  if (12 + n > bytes.length) throw new InputError(file, "checkpoint header is truncated");
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.toString("utf8", 12, 12 + n)) as CheckpointHeader;
  } catch {
    throw new InputError(file, "checkpoint header is not valid JSON");
  }
  if (header.format !== "mocksmith-painter-checkpoint" || header.formatVersion !== 1)
    throw new InputError(file, "unknown checkpoint format");
  const dataStart = Math.ceil((12 + n) / 4) * 4;
  const total = header.tensors.reduce((s, r) => Math.max(s, r.offset + r.length), 0);
  if (dataStart + 4 * total > bytes.length)
    throw new InputError(
      file,
      `checkpoint is truncated (${bytes.length} bytes, needs ${dataStart + 4 * total})`,
    );
  const aligned = new Float32Array(total);
  aligned.set(
    new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + dataStart + 4 * total),
    ),
  );
  const tensors = new Map<string, Float32Array>();
  for (const r of header.tensors) tensors.set(r.name, aligned.subarray(r.offset, r.offset + r.length));
  return { file, header, tensors };
}

/** The step a checkpoint file holds, from its name (step-NNNNNNNN.ckpt), without reading it. */
export function checkpointStep(file: string): number {
  const m = /step-(\d{8})\.ckpt$/.exec(file);
  if (!m) throw new InputError(file, "is not named step-NNNNNNNN.ckpt");
  return Number(m[1]);
}

/** The checkpoint files of an output directory, oldest first. */
export function checkpointsOf(output: string): string[] {
  return checkpointFiles(checkpointDirectory(output));
}

/** The newest checkpoint of an output directory, or undefined when there is none. */
export function latestCheckpoint(output: string): Checkpoint | undefined {
  const files = checkpointFiles(checkpointDirectory(output));
  const last = files.at(-1);
  return last === undefined ? undefined : readCheckpoint(last);
}

/** Fingerprint keys whose values differ, each with both values, for a one-line refusal. */
export function describeDifference(now: Record<string, unknown>, then: Record<string, unknown>): string {
  const keys = Object.keys(now).filter((k) => JSON.stringify(now[k]) !== JSON.stringify(then[k]));
  return keys.map((k) => `${k} (checkpoint ${JSON.stringify(then[k])}, now ${JSON.stringify(now[k])})`).join("; ");
}

/**
 * The checkpoint a run starts from: with `resume`, the newest one in OUT/checkpoints/ (refused
 * when its settings fingerprint differs or it is beyond `totalSteps`), or none; without, none —
 * and an output that already holds checkpoints is refused rather than silently overwritten.
 */
export function startingCheckpoint(
  output: string,
  resume: boolean,
  fingerprint: Record<string, unknown>,
  totalSteps: number,
  info: (message: string) => void,
): Checkpoint | undefined {
  const dir = checkpointDirectory(output);
  const ckpt = latestCheckpoint(output);
  if (!resume) {
    if (ckpt)
      throw new InputError(
        dir,
        "holds checkpoints of an earlier run: pass --resume to continue it, or choose another output",
      );
    return undefined;
  }
  if (!ckpt) {
    info(`no checkpoint in ${dir}; starting from step 0`);
    return undefined;
  }
  const why = describeDifference(fingerprint, ckpt.header.fingerprint);
  if (why) throw new InputError(ckpt.file, `cannot resume: settings differ from the checkpoint's: ${why}`);
  if (ckpt.header.step > totalSteps)
    throw new InputError(
      "--steps",
      `the checkpoint is at step ${ckpt.header.step}, beyond the ${totalSteps} asked for`,
    );
  return ckpt;
}
