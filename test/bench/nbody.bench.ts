/**
 * Particle-mesh benchmark: one FastPM kick–drift–kick step (one force evaluation: CIC deposit,
 * forward FFT, three gradient inverse FFTs, three CIC interpolations) for 128³ particles on a 256³
 * mesh, median of 3 after one warm-up, in a child process so its peak RSS is its own.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { FastPmFactors, ParticleMesh, evolve, momentaFromVelocities } from "../../src/cosmo/particle-mesh.js";

function measureInProcess(n: number, mesh: number): Record<string, number> {
  const cosmology = makeCosmology();
  const box = 2 * n;
  const ics = runLpt({
    gridSide: n,
    boxSize: box,
    redshift: 19,
    seed: 3,
    cosmology,
    want: { particles: true },
  });
  const a0 = 1 / 20;
  const state = { a: a0, positions: ics.positions!, momenta: momentaFromVelocities(ics.velocities!, a0) };
  const pm = new ParticleMesh({ cosmology, boxSize: box, meshSide: mesh, particleCount: n ** 3 });
  const factors = new FastPmFactors(cosmology);
  const times: number[] = [];
  let a = a0;
  for (let r = 0; r < 4; r++) {
    const a1 = a + 0.05;
    const t0 = performance.now();
    evolve(state, pm, factors, box, { schedule: [a, a1], outputs: [] });
    times.push((performance.now() - t0) / 1000);
    a = a1;
  }
  pm.dispose();
  const steady = times.slice(1).sort((x, y) => x - y);
  return {
    particles: n ** 3,
    mesh,
    // A one-step evolve() call evaluates the force twice (start and end); the steady-state cost of
    // a step inside a run is one force evaluation, i.e. about half of this.
    one_step_call_s_median: steady[1],
    step_in_run_s_estimate: steady[1] / 2,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

export async function benchNbody(): Promise<Record<string, number>> {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, "--child", "128", "256"], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop() as string) as Record<string, number>;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href && process.argv[2] === "--child") {
  const r = measureInProcess(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(JSON.stringify(r) + "\n");
}
