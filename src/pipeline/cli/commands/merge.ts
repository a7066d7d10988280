/**
 * `mocksmith merge DIR... -o OUT`: checks the shard manifests of a sharded run (every shard once,
 * one configuration and software version, every file intact) and commits the final dataset.
 */
import type { Command } from "commander";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { mergeShards } from "../../shard-merge.js";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description(
      "Check the shard directories of a sharded run (--shard i/n) and commit the complete dataset to OUT; refuses missing, duplicate, damaged or mismatched shards",
    )
    .argument("<dirs...>", "shard directories, one per shard (each holds shard-manifest.json)")
    .requiredOption("-o, --output <dir>", "the merged dataset (must not exist)")
    .action((dirs: string[], flags: { output: string }, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      const t0 = performance.now();
      const r = mergeShards(dirs, flags.output);
      ctx.summary(
        `merged ${r.shards} shard(s), ${r.units} unit(s), ${r.files} files (${(r.bytes / 2 ** 20).toFixed(1)} MiB) into ${r.output}/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        { ...r },
      );
    });
}
