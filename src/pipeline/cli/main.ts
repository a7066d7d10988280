#!/usr/bin/env node
/**
 * The `mocksmith` command line. Each sub-command lives in ./commands/<name>.ts and registers
 * itself here. Errors caused by user input print one line and exit with status 1; anything
 * unexpected prints its message and, with MOCKSMITH_DEBUG=1, the stack.
 */
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { InputError } from "../../io/atomic-file.js";
import { ConfigError } from "../config-schema.js";
import { failureMessage } from "../permanent-failure.mjs";
import { SOFTWARE_VERSION } from "../../version.js";
import { registerCommands } from "./commands/index.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("mocksmith")
    .description("Mock halo catalogs and density fields from cheap simulation boxes with neural emulators")
    .version(SOFTWARE_VERSION)
    .addOption(
      new Option("--log <format>", "progress and summary format").choices(["text", "json"]).default("text"),
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander already printed it
    if (err instanceof InputError || err instanceof RangeError || err instanceof ConfigError) {
      process.stderr.write(`mocksmith: error: ${err.message}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`mocksmith: error: ${failureMessage(err)}\n`);
    if (process.env.MOCKSMITH_DEBUG) process.stderr.write(`${e?.stack ?? ""}\n`);
    return 1;
  }
}

/**
 * A reader that goes away (`mocksmith … --help | head`) makes the next write fail with EPIPE,
 * which Node raises as an unhandled 'error' event: a stack trace and exit status 1. Treat a
 * closed stdout or stderr as "nobody is reading": drop what would have been written and let the
 * command finish with its own status, so a long job is not lost because its log reader quit.
 * Any other stream error is rethrown as before.
 */
export function ignoreClosedReaders(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") return; // the stream is now destroyed; later writes are dropped
      throw err;
    });
  }
}

// Run when executed (directly or through the npm bin symlink), not when imported by tests.
const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  ignoreClosedReaders();
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
