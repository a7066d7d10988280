/**
 * A paint run killed with SIGKILL midway and re-run gives output identical to an uninterrupted
 * run. Runs the compiled CLI (dist/, built by `npm test` / `npx tsc -p tsconfig.build.json`).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomPainter } from "./painter-fixture.js";
import { writeNpyFloat32 } from "../../src/io/npy.js";

const cli = path.resolve("dist/src/pipeline/cli/main.js");
let dir: string;
let model: string;
let input: string;
const n = 24;
const args = () => [
  "--input",
  input,
  "--box",
  String(2 * n),
  "--model",
  model,
  "--tile",
  "3",
  "--workers",
  "1",
];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-kill-"));
  model = writeRandomPainter(dir, { seed: 2 }).path;
  input = path.join(dir, "box.npy");
  writeNpyFloat32(
    input,
    Float32Array.from({ length: n ** 3 }, (_, i) => 0.5 * Math.sin(i * 0.21)),
    [n, n, n],
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(out: string, onSpawn?: (pid: number) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "paint", ...args(), "-o", out], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr.resume();
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(signal === "SIGKILL" ? null : code));
    if (child.pid !== undefined) onSpawn?.(child.pid);
  });
}

describe.skipIf(!fs.existsSync(cli))("paint killed with SIGKILL", () => {
  it("resumes to the output of an uninterrupted run", async () => {
    const full = path.join(dir, "full.npy");
    expect(await run(full)).toBe(0);
    const out = path.join(dir, "killed.npy");
    const journal = `${out}.partial.journal`;
    const code = await run(out, (pid) => {
      const timer = setInterval(() => {
        // Kill once a few units are journaled (journal lines: header + one per unit).
        if (fs.existsSync(journal) && fs.readFileSync(journal, "utf8").split("\n").length > 4) {
          clearInterval(timer);
          process.kill(pid, "SIGKILL");
        }
      }, 20);
    });
    expect(code).toBeNull(); // it was killed, not finished
    expect(fs.existsSync(out)).toBe(false);
    const done = fs.readFileSync(journal, "utf8").trim().split("\n").length - 1;
    expect(done).toBeGreaterThan(2);
    expect(done).toBeLessThan(512);
    expect(await run(out)).toBe(0);
    expect(fs.readFileSync(out).equals(fs.readFileSync(full))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "killed.manifest.json"), "utf8"));
    expect(manifest.resumes).toBe(1);
    expect(manifest.units.length).toBe(512);
  }, 600_000); // three paint runs: under a minute alone, several on a loaded 2-core machine
});
