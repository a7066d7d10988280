/**
 * Latent vectors as a .npy file (`sample-gan --latent FILE` / `--save-latent FILE`): shape
 * (n, latentDim), float32 (float64 is accepted and rounded to float32, the generator's input type),
 * C order, one row per sample, row i the latent of sample i. A cGAN's redshift is not part of the
 * file: it comes from `--z` and is appended to every row, as for drawn latents.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { InputError, writeAtomically } from "./atomic-file.js";
import { float32NpyHeader, readNpyFloat32, readNpyHeader } from "./npy.js";

export interface LatentFile {
  /** Row-major (rows × dimension). */
  data: Float32Array;
  rows: number;
  dimension: number;
  /** sha256 (hex) of the float32 rows as used, so a float64 file and its float32 copy agree. */
  sha256: string;
  storedDtype: string;
}

/**
 * Reads and checks a latent file against the model's latent dimension and, when given, the
 * sample count (`from` names what set it, for the message): every problem is one InputError
 * naming the file.
 */
export function readLatentFile(
  file: string,
  dimension: number,
  rows?: { count: number; from: string },
): LatentFile {
  const h = readNpyHeader(file); // bad magic, truncated or trailing bytes: one line naming the file
  if (h.dtype !== "<f4" && h.dtype !== "<f8" && h.dtype !== ">f4" && h.dtype !== ">f8")
    throw new InputError(file, `latent dtype '${h.dtype}' is not float32 or float64`);
  if (h.shape.length !== 2)
    throw new InputError(
      file,
      `latent array has shape (${h.shape.join(", ")}), expected 2D (n, ${dimension}): one row per sample`,
    );
  const [n, d] = h.shape;
  if (d !== dimension)
    throw new InputError(
      file,
      `latent array has shape (${n}, ${d}): the model's latent dimension is ${dimension}, expected (n, ${dimension})`,
    );
  if (n < 1) throw new InputError(file, "latent array has no rows");
  if (rows !== undefined && n !== rows.count)
    throw new InputError(file, `holds ${n} latent vector(s) but ${rows.from} asks for ${rows.count}`);
  const arr = readNpyFloat32(file, { rejectNonFinite: false });
  const data = arr.data;
  for (let i = 0; i < data.length; i++) {
    // A finite float64 above float32's range becomes ±Inf here: also refused.
    if (!Number.isFinite(data[i]))
      throw new InputError(
        file,
        `non-finite latent component ${data[i]} at row ${Math.floor(i / d)}, column ${i % d}` +
          (Number.isNaN(data[i]) ? "" : " (or a float64 beyond float32's range)"),
      );
  }
  const sha256 = crypto
    .createHash("sha256")
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest("hex");
  return { data, rows: n, dimension: d, sha256, storedDtype: arr.storedDtype };
}

/**
 * Writes (rows × dimension) float32 latents produced `chunk` rows at a time by `rowsAt(first,
 * count)`, atomically; returns the sha256 of the data as `readLatentFile` computes it.
 */
export function writeLatentFile(
  file: string,
  rows: number,
  dimension: number,
  rowsAt: (first: number, count: number) => Float32Array,
  chunk = 4096,
): string {
  const hash = crypto.createHash("sha256");
  writeAtomically(file, (tmp) => {
    const fd = fs.openSync(tmp, "w");
    try {
      const header = float32NpyHeader([rows, dimension]);
      fs.writeSync(fd, header);
      for (let r = 0; r < rows; r += chunk) {
        const v = rowsAt(r, Math.min(chunk, rows - r));
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        hash.update(bytes);
        let w = 0;
        while (w < bytes.length) w += fs.writeSync(fd, bytes, w, bytes.length - w);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
  return hash.digest("hex");
}
