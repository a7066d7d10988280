/**
 * Runs the Python reference peers of ../shared/peers (numpy/pyfftw/PyTorch, 2 threads) so that
 * our timings are reported next to theirs from the same run on the same machine.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const PEER_PYTHON = process.env.MOCKSMITH_PEER_PYTHON ?? "/usr/bin/python3";

export function peersDirectory(): string | undefined {
  const candidates = [path.resolve("../shared/peers"), path.resolve("shared/peers")];
  return candidates.find((d) => fs.existsSync(path.join(d, "lpt_numpy.py")));
}

/** Runs a peer script and returns its last stdout line parsed as JSON, or an error note. */
export function runPeer(script: string, args: string[], timeoutSeconds = 900): Record<string, unknown> {
  const dir = peersDirectory();
  if (!dir) return { error: "../shared/peers not found" };
  if (!fs.existsSync(PEER_PYTHON)) return { error: `${PEER_PYTHON} not found` };
  try {
    const out = execFileSync(PEER_PYTHON, [path.join(dir, script), ...args], {
      encoding: "utf8",
      timeout: timeoutSeconds * 1000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = out.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr ?? e.message).toString().trim().split("\n").slice(-2).join(" ") };
  }
}
