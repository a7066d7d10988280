/**
 * A reader that quits early (`mocksmith … --help | head -5`) closes the pipe before the CLI has
 * written everything; the CLI must then exit with its own status and no EPIPE stack trace.
 * The pipe is closed before the child starts writing, so every write meets a closed reader.
 */
import { describe, expect, it } from "vitest";
import { CLI, spawnAsync } from "../cli-process.js";

describe("CLI with a reader that quit", () => {
  it("--help into a closed stdout exits 0 without a stack trace", async () => {
    const r = await spawnAsync(process.execPath, [CLI, "validate", "painter", "--help"], {
      closeEarly: "stdout",
      timeoutMs: 60_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("a usage error into a closed stderr keeps commander's status 2 (a crash would be 1)", async () => {
    const r = await spawnAsync(process.execPath, [CLI, "--no-such-flag"], {
      closeEarly: "stderr",
      timeoutMs: 60_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
  });
});
