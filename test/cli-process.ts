/**
 * Runs the compiled CLI (npm test builds dist/ first) and other programs in child processes, as a
 * user would. Always asynchronously: a synchronous spawn blocks the vitest worker's event loop, and
 * a block longer than vitest's 60 s RPC timeout makes the run fail with `Timeout calling
 * "onTaskUpdate"` even though every test passes.
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const CLI = path.resolve("dist/src/pipeline/cli/main.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface ProcessResult extends CliResult {
  /** Why the process could not run or was stopped (not found, timed out); undefined otherwise. */
  error?: Error;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the process (SIGKILL) after this long and report an error, like spawnSync's `timeout`. */
  timeoutMs?: number;
  /** Close the reading end of this pipe at once, as a reader that quit early (`| head`) does. */
  closeEarly?: "stdout" | "stderr";
}

/** spawnSync's result without blocking: never rejects; a failure to run is `error`, as there. */
export function spawnAsync(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let error: Error | undefined;
    let settled = false;
    const finish = (status: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ...(error ? { error } : {}) });
    };
    const child = spawn(command, args, { env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            error = new Error(`${command} timed out after ${options.timeoutMs} ms`);
            child.kill("SIGKILL");
          }, options.timeoutMs);
    if (options.closeEarly) child[options.closeEarly].destroy();
    if (options.closeEarly !== "stdout")
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    if (options.closeEarly !== "stderr")
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => {
      error ??= err;
      finish(null);
    });
    child.on("close", (status) => finish(status));
  });
}

/** Runs the CLI without blocking the test process (vitest's RPC and timers keep running). */
export async function runCliAsync(...args: string[]): Promise<CliResult> {
  const { status, stdout, stderr, error } = await spawnAsync(process.execPath, [CLI, ...args]);
  if (error) throw error;
  return { status, stdout, stderr };
}
