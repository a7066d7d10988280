import { describe, expect, it } from "vitest";
import { mapBounded, RunCancelledError } from "../../src/pipeline/runner.js";
import { isPermanentFailure, permanentFailure } from "../../src/pipeline/permanent-failure.mjs";
import { parseDevice, runWithRetry, threadsPerWorker } from "../../src/pipeline/worker-pool.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("mapBounded", () => {
  it("never has more than maxInFlight items pulled and unfinished, and yields every result", async () => {
    let pulled = 0;
    let consumed = 0;
    let maxOutstanding = 0;
    async function* source() {
      for (let i = 0; i < 50; i++) {
        pulled++;
        maxOutstanding = Math.max(maxOutstanding, pulled - consumed);
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const v of mapBounded(
      source(),
      async (i) => {
        await new Promise((r) => setTimeout(r, (i * 7) % 5));
        return i * 2;
      },
      { maxInFlight: 3 },
    )) {
      consumed++;
      seen.push(v);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    expect(maxOutstanding).toBeLessThanOrEqual(3);
  });

  it("on abort stops pulling, yields the work already started, then throws RunCancelledError", async () => {
    const controller = new AbortController();
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of mapBounded(source(), async (i) => (await tick(), i), {
          maxInFlight: 4,
          signal: controller.signal,
        })) {
          seen.push(v);
          if (seen.length === 5) controller.abort();
        }
      })(),
    ).rejects.toBeInstanceOf(RunCancelledError);
    expect(seen.length).toBe(pulled);
    expect(pulled).toBeLessThan(12);
  });

  it("propagates a work failure after the other in-flight work settles", async () => {
    async function* source() {
      for (let i = 0; i < 10; i++) yield i;
    }
    await expect(
      (async () => {
        for await (const _ of mapBounded(
          source(),
          async (i) => {
            if (i === 3) throw new Error("boom");
            return i;
          },
          { maxInFlight: 2 },
        ));
      })(),
    ).rejects.toThrow("boom");
  });
});

describe("worker pool helpers", () => {
  it("retries a failing attempt and stops with a clear error after repeated failure", async () => {
    let calls = 0;
    await expect(
      runWithRetry(async (n) => (calls++, n < 3 ? Promise.reject(new Error("worker died")) : n), 3, "tile 7"),
    ).resolves.toBe(3);
    expect(calls).toBe(3);
    await expect(
      runWithRetry(async () => Promise.reject(new Error("worker died")), 3, "tile 7"),
    ).rejects.toThrow("tile 7 failed 3 times; last error: worker died");
  });

  it("gives up at once on a failure marked permanent, and shows it without the mark", async () => {
    let calls = 0;
    const failed = runWithRetry(
      async () => (calls++, Promise.reject(permanentFailure("device cuda: no provider"))),
      3,
      "tile 7",
    );
    await expect(failed).rejects.toThrow(/^device cuda: no provider$/);
    expect(calls).toBe(1);
    expect(isPermanentFailure(new Error("worker died"))).toBe(false);
  });

  it("parses devices and divides cores among workers", () => {
    expect(parseDevice("cpu")).toEqual({ kind: "cpu", ids: [0] });
    expect(parseDevice("cuda:0,1")).toEqual({ kind: "cuda", ids: [0, 1] });
    expect(() => parseDevice("webgpu")).toThrow(/1D and 2D convolutions only/);
    expect(() => parseDevice("tpu")).toThrow(/expected cpu or cuda/);
    expect(() => parseDevice("cpu:1")).toThrow(/no device ids/);
    expect([1, 2, 3, 4, 16].map((w) => threadsPerWorker(w, 8))).toEqual([8, 4, 2, 2, 1]);
  });
});
