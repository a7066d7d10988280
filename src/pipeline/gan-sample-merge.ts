/**
 * Merging `sample-gan --shard` outputs: each shard's samples.npy holds its contiguous range of
 * samples (its sidecar's firstSample); the merge concatenates them in shard order into
 * OUT/samples.npy and writes OUT/samples.json as the unsharded run would (shape (N, S, S, S),
 * firstSample 0), so the merged dataset equals a single-process one byte for byte.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, temporaryPathFor, writeAtomically } from "../io/atomic-file.js";
import { float32NpyHeader, readNpyHeader } from "../io/npy.js";
import { SAMPLES_FILE, SAMPLES_SIDECAR, type GanSamplesSidecar } from "./gan-sampling.js";
import { fileRecord, type ShardFileRecord, type ShardManifest } from "./shard.js";

export function commitGanSamples(
  shards: readonly { dir: string; manifest: ShardManifest }[],
  output: string,
  datasetManifest: { name: string; text: (files: ShardFileRecord[]) => string },
): ShardFileRecord[] {
  const sidecars = shards.map((s) => {
    const file = path.join(s.dir, SAMPLES_SIDECAR);
    return { file, meta: JSON.parse(fs.readFileSync(file, "utf8")) as GanSamplesSidecar };
  });
  const ref = sidecars[0].meta;
  const total = ref.samples;
  const side = ref.shape[1];
  let expected = 0;
  for (const { file, meta } of sidecars) {
    if (meta.firstSample !== expected)
      throw new InputError(
        file,
        `starts at sample ${meta.firstSample}, expected ${expected} (shards out of order or missing)`,
      );
    expected += meta.shape[0];
  }
  if (expected !== total)
    throw new InputError(output, `shards hold ${expected} samples, the ensemble has ${total}`);
  const tmp = temporaryPathFor(path.resolve(output));
  fs.mkdirSync(tmp);
  try {
    const header = float32NpyHeader([total, side, side, side]);
    const out = fs.openSync(path.join(tmp, SAMPLES_FILE), "w");
    try {
      fs.writeSync(out, header);
      const buf = Buffer.allocUnsafe(side ** 3 * 4);
      for (const s of shards) {
        const file = path.join(s.dir, SAMPLES_FILE);
        const h = readNpyHeader(file);
        const fd = fs.openSync(file, "r");
        try {
          const rows = h.shape[0];
          for (let r = 0; r < rows; r++) {
            let got = 0;
            while (got < buf.length) {
              const n = fs.readSync(fd, buf, got, buf.length - got, h.dataOffset + r * buf.length + got);
              if (n === 0) throw new InputError(file, "is truncated");
              got += n;
            }
            fs.writeSync(out, buf);
          }
        } finally {
          fs.closeSync(fd);
        }
      }
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    const meta: GanSamplesSidecar = { ...ref, shape: [total, side, side, side], firstSample: 0 };
    fs.writeFileSync(path.join(tmp, SAMPLES_SIDECAR), JSON.stringify(meta, null, 2) + "\n");
    const files = [fileRecord(tmp, SAMPLES_FILE), fileRecord(tmp, SAMPLES_SIDECAR)];
    writeAtomically(path.join(tmp, datasetManifest.name), (t) =>
      fs.writeFileSync(t, datasetManifest.text(files)),
    );
    fs.renameSync(tmp, output);
    return files;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
