/**
 * Worker pools and their threads' start-up. Terminating a thread while it loads ONNX Runtime
 * aborts the whole process (a C++ Napi::Error that nothing can catch → std::terminate, SIGABRT):
 * a short `mocksmith run` with 4 painting workers and a single tile batch, whose idle workers
 * were still starting when the pool closed, did that at random in CI.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TransferringPool } from "../../src/pipeline/worker-pool.js";
import { writeRandomPainter } from "./painter-fixture.js";
import { spawnAsync } from "../cli-process.js";

class ProbePool extends TransferringPool {
  constructor(file: string, workers: number, workerData: unknown) {
    super(new URL(`./workers/${file}`, import.meta.url), workers, workerData, "probe worker");
  }
  echo(values: Float32Array): Promise<Float32Array> {
    return this.run(values, {});
  }
}

describe("worker pool start-up and close", () => {
  it("waits for every worker to finish starting before it terminates them", async () => {
    const started = new SharedArrayBuffer(4);
    const pool = new ProbePool("slow-start-worker.mjs", 3, { startMs: 300, started });
    await pool.close();
    // Terminating at once (the old close) leaves this at 0: no worker is past its 300 ms start.
    expect(Atomics.load(new Int32Array(started), 0)).toBe(3);
  });

  it("still closes a pool whose workers hang in their start-up, after the limit", async () => {
    const started = new SharedArrayBuffer(4);
    const pool = new ProbePool("slow-start-worker.mjs", 2, { startMs: 600_000, started });
    await pool.close(200);
    expect(Atomics.load(new Int32Array(started), 0)).toBe(0);
  }, 30_000);

  it("fails tasks with the error of workers that cannot load, and closes at once", async () => {
    const pool = new ProbePool("failing-worker.mjs", 2, {});
    await expect(pool.echo(new Float32Array(4))).rejects.toThrow(/cannot load the kernels/);
    await pool.close();
    // With no task to take the error, piscina emits it on the pool: uncaught, it would crash the
    // process (vitest reports it as an unhandled error); close must not wait for a start that
    // never comes (piscina keeps replacing the failed workers).
    const idle = new ProbePool("failing-worker.mjs", 2, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    await idle.close();
  }, 30_000);

  it("runs ONNX Runtime pools one after another in a program that never loaded it itself", async () => {
    // onnxruntime-node's binding registers only on its first load in the process: once every
    // thread holding it had exited, each later worker failed with "Module did not self-register"
    // (the CLI escaped this only because its main thread loads the binding to check models).
    // A child process, so that an abort fails this test rather than the test runner.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-pool-close-"));
    const model = writeRandomPainter(dir, { seed: 5, outChannels: 1, voxelSize: 4, name: "close" });
    const pool = (workers: number) =>
      `new InferencePool({ modelPath: ${JSON.stringify(model.path)}, card: ${JSON.stringify(model.card)}, ` +
      `workers: ${workers}, device: { kind: "cpu", ids: [0] }, inputOffset: 0 })`;
    const side = 2 * model.card.padding + 3;
    const script = `
      import { InferencePool } from ${JSON.stringify(path.resolve("dist/src/pipeline/worker-pool.js"))};
      for (let i = 0; i < 3; i++) await ${pool(4)}.close();
      const last = ${pool(2)};
      const out = await last.infer(new Float32Array(${side ** 3}).fill(1), 1, ${side});
      await last.close();
      console.log(JSON.stringify({ values: out.length }));
    `;
    const r = await spawnAsync(process.execPath, ["--input-type=module", "-e", script], {
      timeoutMs: 120_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ values: 27 });
  }, 180_000);
});
