/** What every command receives besides its own options: how to report progress and results. */
import { createProgress, type LogFormat, type Progress } from "../progress.js";

export interface GlobalOptions {
  log: LogFormat;
}

export interface CommandContext {
  progress: Progress;
  log: LogFormat;
  /** The one-line summary every command ends with (plain text, or a JSON object with --log json). */
  summary(text: string, fields?: Record<string, unknown>): void;
}

export function makeContext(global: GlobalOptions): CommandContext {
  return {
    log: global.log,
    progress: createProgress(global.log),
    summary(text, fields) {
      if (global.log === "json")
        process.stderr.write(JSON.stringify({ event: "summary", message: text, ...fields }) + "\n");
      else process.stderr.write(text + "\n");
    },
  };
}
