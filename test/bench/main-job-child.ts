/** Child process for the main-job benchmark: `mocksmith run` on the built-in default, then its peak RSS. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../src/pipeline/cli/main.js";

const out = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-bench-run-"));
const t0 = performance.now();
const code = await main(["node", "mocksmith", "run", "--out", out]);
const wall = (performance.now() - t0) / 1000;
fs.rmSync(out, { recursive: true, force: true });
process.stdout.write(
  JSON.stringify({ exit_code: code, wall_s: wall, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }) +
    "\n",
);
