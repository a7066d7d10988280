/**
 * The native x86-64 build of the kernels: it loads wherever it should (so the equality tests
 * of conv3d-kernels, elementwise-kernels and block-copy-kernels cannot silently cover the
 * WebAssembly build alone), each vector width agrees with the WebAssembly kernels, the width
 * choice, and the fallback when it is switched off.
 */
import fs from "node:fs";
import { describe, expect, test, vi } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { WasmConv3d, conv3dWasmModule } from "../../../src/models/kernels/conv3d-wasm.js";
import { lanesFor, nativeConv3d, nativeElementwise } from "../../../src/models/kernels/native-x86.js";
import { uniformStream } from "../../../src/models/weight-init.js";

/** The CPU flags of /proc/cpuinfo ("" where there is none). */
function cpuFlags(): string {
  try {
    return fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "";
  } catch {
    return "";
  }
}

const linuxX64 = process.platform === "linux" && process.arch === "x64";
const flags = cpuFlags().split(/\s+/);

test("the native build loads on Linux x86-64, with every vector width the CPU has", () => {
  if (!linuxX64) return;
  expect(nativeElementwise()).not.toBeNull();
  const expected = flags.includes("avx2") && flags.includes("fma") ? [4, 8] : [];
  if (expected.length > 0 && flags.includes("avx512f")) expected.push(16);
  expect(nativeConv3d()?.lanes ?? []).toEqual(expected);
});

test("vector width: most useful floats per instruction, the narrower on ties", () => {
  const all = [4, 8, 16];
  expect(lanesFor(10, all)).toBe(16); // 10 of 16 useful → 10 per instruction; 8: 5; 4: 3.3
  expect(lanesFor(8, all)).toBe(8); // 8 and 16 both 8 per instruction: the narrower
  expect(lanesFor(1, all)).toBe(4);
  expect(lanesFor(3, all)).toBe(4);
  expect(lanesFor(12, [4, 8])).toBe(8); // 12 of 16 at 8 lanes: 6 per instruction; 4 lanes: 4
  expect(lanesFor(64, all)).toBe(16);
});

describe("each vector width agrees with the WebAssembly kernels", () => {
  const native = nativeConv3d();
  const module = conv3dWasmModule();
  const next = uniformStream(17, "native-vs-wasm");
  // Output channels 1 (4 lanes), 8 (8 lanes), 10 and 33 (16 lanes where AVX-512 runs), with
  // strides and 'same' padding (the phase form of the input gradient).
  const cases = [1, 8, 10, 33].map((co, i) => ({
    x: [2, 7 + i, 6, 9, 5] as [number, number, number, number, number],
    f: [3, 2, 4, 5, co] as [number, number, number, number, number],
    strides: (i % 2 === 0 ? [1, 1, 1] : [2, 1, 2]) as [number, number, number],
    pad: (i % 2 === 0 ? "valid" : "same") as "valid" | "same",
  }));
  test.each(cases)("filter $f strides $strides $pad", ({ x, f, strides, pad }) => {
    if (native === null || module === null) return;
    const g = tf.backend_util.computeConv3DInfo(x, f, strides, 1, pad);
    const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => next() - 0.5);
    const xv = rand(x.reduce((a, b) => a * b, 1));
    const wv = rand(f.reduce((a, b) => a * b, 1));
    const dy = rand(g.outShape.reduce((a, b) => a * b, 1));
    const run = (k: WasmConv3d): Float32Array[] => {
      const out = [k.forward(xv, wv, g), k.inputGrad(dy, wv, g, "phases"), k.filterGrad(xv, dy, g)];
      k.dispose();
      return out;
    };
    const ours = run(new WasmConv3d(module, 2, native));
    const wasm = run(new WasmConv3d(module, 2, null));
    ours.forEach((o, i) => {
      const scale = Math.max(...Array.from(wasm[i], Math.abs));
      const diff = Math.max(...o.map((v, j) => Math.abs(v - wasm[i][j])));
      // Fused multiply-adds round once where the WebAssembly build rounds twice.
      expect(diff).toBeLessThan(1e-5 * scale);
    });
  });
});

test("MOCKSMITH_NATIVE_KERNELS=0 switches the native build off", async () => {
  vi.resetModules();
  const before = process.env.MOCKSMITH_NATIVE_KERNELS;
  process.env.MOCKSMITH_NATIVE_KERNELS = "0";
  try {
    const fresh = await import("../../../src/models/kernels/native-x86.js");
    expect(fresh.nativeConv3d()).toBeNull();
    expect(fresh.nativeElementwise()).toBeNull();
  } finally {
    if (before === undefined) delete process.env.MOCKSMITH_NATIVE_KERNELS;
    else process.env.MOCKSMITH_NATIVE_KERNELS = before;
    vi.resetModules();
  }
});
