/** spawnAsync mirrors spawnSync's result (status, output, `error` for not-run or timed out) without blocking. */
import { describe, expect, it } from "vitest";
import { spawnAsync } from "./cli-process.js";

describe("spawnAsync", () => {
  it("collects status, stdout and stderr, and passes the environment", async () => {
    const r = await spawnAsync(
      process.execPath,
      ["-e", "process.stdout.write(process.env.X_TEST ?? ''); process.stderr.write('e'); process.exit(3)"],
      { env: { ...process.env, X_TEST: "seen" } },
    );
    expect(r).toEqual({ status: 3, stdout: "seen", stderr: "e" });
  });

  it("reports a missing program as an error, not a rejection", async () => {
    const r = await spawnAsync("/nonexistent/mocksmith-no-such-program", []);
    expect(r.status).toBeNull();
    expect(r.error?.message).toMatch(/ENOENT/);
  });

  it("kills a process past its timeout and says so", async () => {
    const r = await spawnAsync(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { timeoutMs: 200 });
    expect(r.status).toBeNull();
    expect(r.error?.message).toMatch(/timed out after 200 ms/);
  }, 30_000);
});
