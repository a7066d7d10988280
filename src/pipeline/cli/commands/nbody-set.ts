/**
 * `mocksmith nbody-set`: a training set of independent simulations, one directory each
 * (sim-000, sim-001, …) with seeds seed, seed+1, …, so that a set can be extended later and a
 * train/validation split by simulation is a choice of directories. A simulation whose
 * manifest.json exists is complete and skipped, so an interrupted set resumes.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { cosmologyFromFlags } from "../cosmology-options.js";
import { silentProgress } from "../../progress.js";
import { parseInteger } from "../option-parsers.js";
import { addNbodyOptions, checkNbodyFlags, runNbodyProducts, type NbodyFlags } from "./nbody.js";

interface NbodySetFlags extends NbodyFlags {
  sims: number;
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
    .requiredOption("-o, --output <dir>", "output directory (sim-000/, sim-001/, … inside)");
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
    ctx.progress.start("nbody-set", flags.sims);
    for (let i = 0; i < flags.sims; i++) {
      const dir = simulationDirectory(flags.output, i);
      if (fs.existsSync(path.join(dir, "manifest.json"))) {
        skipped++;
      } else {
        fs.mkdirSync(dir, { recursive: true });
        runNbodyProducts({ ...flags, seed: flags.seed + i, output: dir }, cosmology, {
          ...ctx,
          // The set keeps one bar; a simulation's own steps report nothing but its info lines.
          progress: { ...silentProgress, info: (m: string) => ctx.progress.info(`sim ${i}: ${m}`) },
        });
        made++;
      }
      ctx.progress.advance("nbody-set", i + 1);
    }
    ctx.progress.finish("nbody-set");
    ctx.summary(
      `wrote ${made} simulation(s) to ${flags.output}/ (${skipped} already complete) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      { output: flags.output, made, skipped },
    );
  });
}
