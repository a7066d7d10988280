/**
 * `mocksmith nbody-set`: a training set of independent simulations, one directory each
 * (sim-000, sim-001, …) with seeds seed, seed+1, …, so that a set can be extended later and a
 * train/validation split by simulation is a choice of directories. A simulation whose
 * manifest.json exists is complete and skipped, so an interrupted set resumes. With `--shard i/n`
 * only the shard's contiguous range of simulations is made (src/pipeline/shard.ts) and a shard
 * manifest lists their files for `mocksmith merge`.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { cosmologyFromFlags, cosmologyRecord } from "../cosmology-options.js";
import { silentProgress } from "../../progress.js";
import { parseInteger } from "../option-parsers.js";
import {
  fileRecord,
  parseShard,
  shardRange,
  writeShardManifest,
  type Shard,
  type ShardFileRecord,
} from "../../shard.js";
import { addNbodyOptions, checkNbodyFlags, runNbodyProducts, type NbodyFlags } from "./nbody.js";

interface NbodySetFlags extends NbodyFlags {
  sims: number;
  shard?: Shard;
}

/** Every finished file of a simulation (temporaries start with "."), with Parquet row counts from its manifest. */
function simulationFiles(root: string, index: number): ShardFileRecord[] {
  const dir = simulationDirectory(root, index);
  const name = path.basename(dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
    outputs: { file: string; rows?: number }[];
  };
  const rows = new Map(manifest.outputs.map((o) => [o.file, o.rows]));
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith(".") && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => fileRecord(root, path.join(name, f), rows.get(f)));
}

export function simulationDirectory(root: string, index: number): string {
  return path.join(root, `sim-${String(index).padStart(3, "0")}`);
}

export function registerNbodySet(program: Command): void {
  const cmd = program
    .command("nbody-set")
    .description(
      "Generate a training set of independent N-body simulations (one directory per simulation, seeds seed … seed+sims−1)",
    )
    .requiredOption("--sims <k>", "number of simulations", parseInteger(1, 100000))
    .requiredOption("-o, --output <dir>", "output directory (sim-000/, sim-001/, … inside)")
    .option(
      "--shard <i/n>",
      "make only shard i of n (0-based; contiguous balanced ranges of simulations) and a shard manifest for `mocksmith merge`",
      parseShard,
    );
  addNbodyOptions(cmd);
  cmd.action((flags: NbodySetFlags, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
    if (flags.ics)
      throw new InputError(
        "--ics",
        "a training set draws its own initial conditions; use `mocksmith nbody --ics` for one run",
      );
    const cosmology = cosmologyFromFlags(flags);
    checkNbodyFlags(flags);
    fs.mkdirSync(flags.output, { recursive: true });
    const t0 = performance.now();
    let made = 0;
    let skipped = 0;
    const { shard, ...simFlags } = flags;
    const range = shard ? shardRange(flags.sims, shard) : { start: 0, end: flags.sims };
    ctx.progress.start("nbody-set", range.end - range.start);
    for (let i = range.start; i < range.end; i++) {
      const dir = simulationDirectory(flags.output, i);
      if (fs.existsSync(path.join(dir, "manifest.json"))) {
        skipped++;
      } else {
        fs.mkdirSync(dir, { recursive: true });
        // simFlags (no shard) keeps each simulation's manifest identical to an unsharded run's.
        runNbodyProducts({ ...simFlags, seed: flags.seed + i, output: dir }, cosmology, {
          ...ctx,
          // The set keeps one bar; a simulation's own steps report nothing but its info lines.
          progress: { ...silentProgress, info: (m: string) => ctx.progress.info(`sim ${i}: ${m}`) },
        });
        made++;
      }
      ctx.progress.advance("nbody-set", i + 1 - range.start);
    }
    ctx.progress.finish("nbody-set");
    if (shard) {
      const files: ShardFileRecord[] = [];
      for (let i = range.start; i < range.end; i++) files.push(...simulationFiles(flags.output, i));
      writeShardManifest(flags.output, {
        command: "nbody-set",
        unit: "simulation",
        config: { ...simFlags, output: undefined, cosmology: cosmologyRecord(cosmology) },
        shard,
        units: { total: flags.sims, ...range },
        files,
      });
    }
    ctx.summary(
      `wrote ${made} simulation(s) to ${flags.output}/ (${skipped} already complete${shard ? `; shard ${shard.index}/${shard.count}: ${range.end > range.start ? `simulations ${range.start}…${range.end - 1}` : "no simulations"}` : ""}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      { output: flags.output, made, skipped },
    );
  });
}
