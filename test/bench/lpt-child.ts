/**
 * Child process for the 2LPT benchmark: one cold run in a fresh process, so that its peak RSS is
 * the generator's own. Prints one JSON line.
 */
import { runLpt } from "../../src/cosmo/lpt.js";
import { DEFAULT_COSMOLOGY } from "../../src/cosmo/cosmology.js";

const n = Number(process.argv[2] ?? 256);
const box = Number(process.argv[3] ?? 512);
const stages: Record<string, number> = {};
let last = performance.now();
const t0 = last;
runLpt({
  gridSide: n,
  boxSize: box,
  redshift: 0,
  seed: 42,
  cosmology: DEFAULT_COSMOLOGY,
  want: { density: true },
  onStage: (s) => {
    const now = performance.now();
    stages[s] = (now - last) / 1000;
    last = now;
  },
});
const total = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({
    n,
    box,
    total_s: total,
    stages_s: stages,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }) + "\n",
);
