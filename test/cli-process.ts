/** Runs the compiled CLI (npm test builds dist/ first) in a child process, as a user would. */
import { spawnSync } from "node:child_process";
import path from "node:path";

export const CLI = path.resolve("dist/src/pipeline/cli/main.js");

export function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
