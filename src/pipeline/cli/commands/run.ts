/** `mocksmith run [config.yaml]`: the main job, configured by a file and/or flags. */
import { Option, type Command } from "commander";
import YAML from "yaml";
import { ConfigError, documentSchema, setDotted } from "../../config-schema.js";
import { runMainJob } from "../../main-job.js";
import { RUN_SCHEMA, readConfigFile, resolveRunConfig } from "../../run-config.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseInteger } from "../option-parsers.js";
import { parseShard, type Shard } from "../../shard.js";

interface RunFlags {
  out?: string;
  seed?: number;
  set: string[];
  halos?: "nbody" | "painter";
  model?: string;
  printConfig?: boolean;
  shard?: Shard;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** key=value with the value read as YAML (numbers, booleans, [lists]). */
function applySet(doc: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf("=");
  if (eq <= 0)
    throw new ConfigError(assignment, "expected --set key=value, e.g. --set box.size=512", "--set");
  setDotted(doc, assignment.slice(0, eq).trim(), YAML.parse(assignment.slice(eq + 1)));
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description(
      "The main job: 2LPT box → halo counts (painter, or reference N-body + FoF) → catalog → statistics → report.html",
    )
    .argument("[config]", "YAML or JSON configuration (see the keys below); flags override it")
    .option("--out <dir>", "output directory (config key: output)")
    .option("--seed <s>", "random seed (config key: seed)", parseInteger(0, 0xffffffff))
    .addOption(new Option("--halos <source>", "halos.source: painter or nbody").choices(["painter", "nbody"]))
    .option("--model <path|default>", "halos.model: the painter (.onnx with its card)")
    .option("--set <key=value>", "override any key, e.g. --set box.size=512 (repeatable)", collect, [])
    .option("--print-config", "print the resolved configuration and exit")
    .option(
      "--shard <i/n>",
      "make only shard i of n (0-based) of the catalog — contiguous ranges of its Parquet parts (halos.planesPerPart x-planes each; painter path only) — and a shard manifest for `mocksmith merge`; every shard recomputes the 2LPT box and the painted counts, shard 0 writes input_delta.npy, and statistics and the report are skipped",
      parseShard,
    )
    .addHelpText("after", "\nConfiguration keys:\n" + documentSchema(RUN_SCHEMA).join("\n"))
    .action(async (config: string | undefined, flags: RunFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      const doc = (config ? readConfigFile(config) : {}) ?? {};
      if (typeof doc !== "object" || Array.isArray(doc))
        throw new ConfigError("(file)", "the configuration must be a mapping", config);
      const raw = doc as Record<string, unknown>;
      if (flags.out !== undefined) raw.output = flags.out;
      if (flags.seed !== undefined) raw.seed = flags.seed;
      if (flags.halos !== undefined) setDotted(raw, "halos.source", flags.halos);
      if (flags.model !== undefined) setDotted(raw, "halos.model", flags.model);
      for (const s of flags.set) applySet(raw, s);
      const resolved = resolveRunConfig(raw, config ?? "config");
      if (flags.printConfig) {
        process.stdout.write(YAML.stringify(resolved));
        return;
      }
      const t0 = performance.now();
      const result = await runMainJob(resolved, ctx.progress, { shard: flags.shard });
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      if (result.shard) {
        const { shard, units } = result.shard;
        ctx.summary(
          `shard ${shard.index}/${shard.count} ${result.outDir}/: ${units.end > units.start ? `catalog parts ${units.start}…${units.end - 1}` : "no catalog parts"} of ${units.total} (${result.haloes} haloes); statistics and report skipped in shard mode; merge the shards with mocksmith merge — ${secs} s`,
          { output: result.outDir, haloes: result.haloes, shard, units, seconds: Number(secs) },
        );
        return;
      }
      ctx.summary(
        `catalog: ${result.catalogDir}/ (${result.haloes} haloes)` +
          (result.report ? `; report: ${result.report}` : "") +
          (result.stats ? `; statistics: ${result.stats}` : "") +
          ` — ${secs} s`,
        {
          catalog: result.catalogDir,
          haloes: result.haloes,
          report: result.report,
          stats: result.stats,
          seconds: Number(secs),
        },
      );
    });
}
