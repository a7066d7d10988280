/** The installed package's root directory (holding package.json and models/), from src/ or dist/src/ alike. */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, "utf8")).name === "mocksmith") {
      cached = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir)
      throw new Error("mocksmith package root not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}
