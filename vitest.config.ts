import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Physics suites allocate 64³–128³ grids; two forks match the 2-core CI machine. Forks, not
    // threads: onnxruntime-node and the WASM kernels get a process each, and a crash or OOM kills
    // one file, not the run. Neither pool survives a test that blocks its worker for over 60 s
    // (vitest's fixed RPC timeout → `Timeout calling "onTaskUpdate"`), so tests run subprocesses
    // asynchronously (test/cli-process.ts) with explicit per-test timeouts.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
