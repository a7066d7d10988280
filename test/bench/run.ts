/**
 * `npm run bench`: every benchmark, with the Python peers run in the same session on the same
 * machine, written as one JSON document to bench-results/<timestamp>.json and stdout.
 *   npm run bench -- --only fft,lpt      selected sections
 *   npm run bench -- --no-peers          skip the Python peers
 * Ratios are "peer time / our time" (> 1 means we are faster) or "ours / peer" for throughputs.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runPeer } from "./peers.js";
import { SOFTWARE_VERSION } from "../../src/version.js";
import { nativeKernelsAvailable } from "../../src/models/gan/gan-native.js";

type Section = () => Promise<Record<string, unknown>>;
const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1].split(",") : null;
const peers = !args.includes("--no-peers");

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

async function optionalBench(modulePath: string, fn: string): Promise<Record<string, unknown>> {
  try {
    const mod = (await import(modulePath)) as Record<string, () => Promise<Record<string, unknown>>>;
    return await mod[fn]();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const sections: Record<string, Section> = {
  fft: () => optionalBench("./fft.bench.js", "benchFft"),

  async lpt() {
    const child = path.join(here, "lpt-child.js");
    const ours = JSON.parse(
      execFileSync(process.execPath, [child, "256", "512"], { encoding: "utf8" }).trim(),
    ) as Record<string, unknown>;
    const result: Record<string, unknown> = { ours_256: ours };
    if (peers) {
      const peer = runPeer("lpt_numpy.py", ["--n", "256", "--quiet"]);
      result.peer_lpt_numpy_256 = peer;
      const a = num(ours.total_s);
      const b = num(peer.total_s_median);
      if (a && b) result.speed_ratio_peer_over_ours = b / a;
    }
    return result;
  },

  async pk() {
    const ours = await optionalBench("./power-spectrum.bench.js", "benchPowerSpectrum");
    const result: Record<string, unknown> = { ours };
    if (peers) result.peer_pk_numpy = runPeer("pk_numpy.py", ["--quiet"]);
    return result;
  },

  async fof() {
    const mod = (await import("./fof.bench.js")) as {
      benchFof: (n?: number) => Promise<Record<string, number>>;
    };
    return { particles_128: await mod.benchFof(128), particles_256: await mod.benchFof(256) };
  },

  nbody: () => optionalBench("./nbody.bench.js", "benchNbody"),

  conv3d: () => optionalBench("./conv3d.bench.js", "benchConv3d"),

  catalog: () => optionalBench("./catalog-write.bench.js", "benchCatalogWrite"),

  async gan() {
    // Issue 8's sampling target: `sampleGan` through the worker pool (2 workers, batch 16,
    // paper-size generator, latents drawn and .npy written) against gan_torch.py (2 threads).
    const child = path.join(here, "gan-sampling.bench.js");
    const pool = (engine: string) => {
      const out = execFileSync(process.execPath, [child, "paper", "512", "16", "2", engine], {
        encoding: "utf8",
      });
      return JSON.parse(out.trim().split("\n").pop() as string) as Record<string, unknown>;
    };
    // The native engine where this machine runs it (what `sample-gan --engine auto` picks), and ORT.
    const ort = pool("ort");
    const native = nativeKernelsAvailable() ? pool("native") : null;
    const ours = native ?? ort;
    const result: Record<string, unknown> = { ours_pool: ours, ours_pool_ort: ort };
    if (peers) {
      const peer = runPeer("gan_torch.py", [
        "--batches",
        "16",
        "--threads",
        "2",
        "--repeats",
        "3",
        "--quiet",
      ]);
      result.peer_gan_torch = peer;
      const rate = (impl: string) => {
        const b = (peer.batches as Record<string, Record<string, Record<string, unknown>>> | undefined)?.[
          impl
        ];
        return num(b?.["16"]?.full_samples_per_s);
      };
      const a = num(ours.samplesPerSecond);
      const stock = rate("torch");
      const subpixel = rate("subpixel");
      if (a && stock) result.ratio_vs_torch_stock = a / stock;
      if (a && subpixel) result.ratio_vs_torch_subpixel = a / subpixel;
      const o = num(ort.samplesPerSecond);
      if (o && subpixel) result.ratio_ort_vs_torch_subpixel = o / subpixel;
      // Like for like with the peer (warm, no start-up or final fsync): the steady-state rate.
      const steady = num(ours.steadySamplesPerSecond);
      if (steady && subpixel) result.ratio_steady_vs_torch_subpixel = steady / subpixel;
    }
    return result;
  },

  async main() {
    // `npm start`'s job in a fresh process: wall time and peak RSS.
    const child = path.join(here, "main-job-child.js");
    const out = execFileSync(process.execPath, [child], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return JSON.parse(out.trim().split("\n").pop() as string) as Record<string, unknown>;
  },

  async paint() {
    const ours = await optionalBench("./paint.bench.js", "benchPaint");
    const result: Record<string, unknown> = { ours };
    if (peers) result.peer_painter_torch = runPeer("painter_torch.py", ["--quiet"]);
    return result;
  },
};

async function main(): Promise<void> {
  const started = new Date();
  const report: Record<string, unknown> = {
    software: { name: "mocksmith", version: SOFTWARE_VERSION },
    started: started.toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    loadavgStart: os.loadavg(),
  };
  for (const [name, run] of Object.entries(sections)) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name} …\n`);
    const t0 = performance.now();
    try {
      report[name] = await run();
    } catch (err) {
      report[name] = { error: (err as Error).message };
    }
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  report.loadavgEnd = os.loadavg();
  const dir = path.resolve("bench-results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  const text = JSON.stringify(report, null, 2);
  fs.writeFileSync(file, text + "\n");
  process.stdout.write(text + "\n");
  process.stderr.write(`bench: wrote ${file}\n`);
}

await main();
