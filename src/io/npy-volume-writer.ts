/**
 * A float32 .npy preallocated on disk and filled by positional writes, for volumes larger than
 * memory. The file is created at its full size (sparse where the filesystem allows), so a run
 * can be interrupted and resumed into the same file; the caller renames it to the final name
 * once every unit is written.
 */
import fs from "node:fs";
import { float32NpyHeader, readNpyHeader } from "./npy.js";
import { InputError } from "./atomic-file.js";

export class NpyVolumeWriter {
  private constructor(
    readonly path: string,
    readonly side: number,
    readonly channels: number,
    private readonly fd: number,
    private readonly dataOffset: number,
  ) {}

  static shapeFor(side: number, channels: number): number[] {
    return channels === 1 ? [side, side, side] : [channels, side, side, side];
  }

  /** Creates (or truncates) `path` as a zero-filled float32 .npy of C·N³ values. */
  static create(path: string, side: number, channels = 1): NpyVolumeWriter {
    const header = float32NpyHeader(NpyVolumeWriter.shapeFor(side, channels));
    const fd = fs.openSync(path, "w+");
    try {
      fs.writeSync(fd, header, 0, header.length, 0);
      fs.ftruncateSync(fd, header.length + channels * side ** 3 * 4);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new NpyVolumeWriter(path, side, channels, fd, header.length);
  }

  /** Reopens a partly written file from an interrupted run, checking its shape. */
  static reopen(path: string, side: number, channels = 1): NpyVolumeWriter {
    const h = readNpyHeader(path);
    const want = NpyVolumeWriter.shapeFor(side, channels);
    if (h.dtype !== "<f4" || h.shape.join(",") !== want.join(",")) {
      throw new InputError(
        path,
        `partial output has shape (${h.shape.join(", ")}) ${h.dtype}, expected (${want.join(", ")}) <f4`,
      );
    }
    return new NpyVolumeWriter(path, side, channels, fs.openSync(path, "r+"), h.dataOffset);
  }

  writeRun(channel: number, x: number, y: number, z0: number, values: Float32Array): void {
    const n = this.side;
    const position = this.dataOffset + (((channel * n + x) * n + y) * n + z0) * 4;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let done = 0;
    while (done < bytes.length)
      done += fs.writeSync(this.fd, bytes, done, bytes.length - done, position + done);
  }

  /** Flushes file data to the device (so manifest entries never outlive their data). */
  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
