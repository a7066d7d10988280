/**
 * Writes tile cores back into a full volume (C channels × N³, channel-major, C order): into a
 * Float32Array, or into a preallocated on-disk .npy by positional writes (io/npy-volume-writer),
 * so the box never has to fit in memory. Only the voxels a tile owns are written (see
 * stages/tile.ts), so overlapping edge tiles never race and the result is independent of the
 * order in which tiles finish.
 */
import crypto from "node:crypto";
import type { RecordBatch } from "apache-arrow";
import { ownedStart, readTileBatch } from "./tile.js";

/** Receives runs of consecutive z values of one (channel, x, y) row. */
export interface VolumeTarget {
  readonly side: number;
  readonly channels: number;
  writeRun(channel: number, x: number, y: number, z0: number, values: Float32Array): void;
}

export function memoryVolume(side: number, channels = 1): VolumeTarget & { data: Float32Array } {
  const data = new Float32Array(channels * side ** 3);
  return {
    side,
    channels,
    data,
    writeRun(c, x, y, z0, values) {
      data.set(values, ((c * side + x) * side + y) * side + z0);
    },
  };
}

export interface StitchResult {
  rows: number;
  /** sha256 of the owned values written, in tile order, channel-major C order within a tile. */
  sha256: string;
}

/** Writes the owned part of every core in a batch of model outputs (padding 0, core side T). */
export function stitchBatch(batch: RecordBatch, target: VolumeTarget): StitchResult {
  const rows = readTileBatch(batch);
  const t = rows.core;
  const c = rows.channels;
  if (c !== target.channels)
    throw new RangeError(`tiles carry ${c} channel(s), the volume has ${target.channels}`);
  if (rows.padding !== 0)
    throw new RangeError(`stitching needs cores (padding 0), got padding ${rows.padding}`);
  const per = c * t ** 3;
  if (rows.values.length !== per * rows.ids.length)
    throw new RangeError(
      `tile values hold ${rows.values.length} floats, expected ${rows.ids.length} × ${per}`,
    );
  const hash = crypto.createHash("sha256");
  for (let r = 0; r < rows.ids.length; r++) {
    const [ox, oy, oz] = [rows.origins[3 * r], rows.origins[3 * r + 1], rows.origins[3 * r + 2]];
    const lx = ownedStart(ox, t) - ox;
    const ly = ownedStart(oy, t) - oy;
    const lz = ownedStart(oz, t) - oz;
    for (let ch = 0; ch < c; ch++) {
      for (let a = lx; a < t; a++) {
        for (let b = ly; b < t; b++) {
          const start = r * per + ((ch * t + a) * t + b) * t + lz;
          const run = rows.values.subarray(start, start + t - lz);
          target.writeRun(ch, ox + a, oy + b, oz + lz, run);
          hash.update(new Uint8Array(run.buffer, run.byteOffset, run.byteLength));
        }
      }
    }
  }
  return { rows: rows.ids.length, sha256: hash.digest("hex") };
}
