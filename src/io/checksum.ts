/** sha256 of files, streamed in chunks so multi-GB outputs never sit in memory. */
import crypto from "node:crypto";
import fs from "node:fs";

export function sha256File(file: string): string {
  const hash = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    let pos = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      hash.update(buf.subarray(0, got));
      pos += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}
