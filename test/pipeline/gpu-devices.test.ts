/**
 * `--device cuda` through the compiled CLI on the bundled GAN. Where the provider starts (a GPU
 * machine with its libraries), the samples must equal the CPU's to float32 arithmetic; where it
 * cannot (CI: no GPU, no CUDA provider libraries), the run must fail with one line naming the
 * device, the model and the cause, and leave no output folder. WebGPU is refused by name.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readNpyFloat32 } from "../../src/io/npy.js";
import { parseDevice } from "../../src/pipeline/worker-pool.js";
import { runCliAsync } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-devices-"));
const sample = (device: string, out: string) =>
  runCliAsync(
    "sample-gan",
    "--model",
    "default",
    "--n",
    "4",
    "--seed",
    "3",
    "--workers",
    "1",
    "--device",
    device,
    "-o",
    out,
  );

describe("GPU devices", () => {
  it("webgpu is refused by name (ONNX Runtime's WebGPU convolutions are 1D and 2D)", async () => {
    expect(() => parseDevice("webgpu:0")).toThrow(/1D and 2D convolutions only/);
    const r = await sample("webgpu", path.join(dir, "webgpu", "samples"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /device 'webgpu': ONNX Runtime's WebGPU provider runs 1D and 2D convolutions only/,
    );
    expect(fs.existsSync(path.join(dir, "webgpu"))).toBe(false);
  });

  it("cuda:0: samples equal the CPU's, or one clear error and no output", async () => {
    const device = "cuda:0";
    const cpuOut = path.join(dir, "cpu");
    if (!fs.existsSync(cpuOut)) expect((await sample("cpu", cpuOut)).status).toBe(0);
    const parent = path.join(dir, device.replace(":", "-"));
    const out = path.join(parent, "samples");
    const r = await sample(device, out);
    if (r.status === 0) {
      // float32 convolutions in another summation order: differences of a few ulp in c, which
      // ρ = κ(1 + c)/(1 − c) magnifies only in the rare voxels near the cap.
      const gpu = readNpyFloat32(path.join(out, "samples.npy")).data;
      const cpu = readNpyFloat32(path.join(cpuOut, "samples.npy")).data;
      expect(gpu.length).toBe(cpu.length);
      let absDiff = 0;
      let sum = 0;
      for (let i = 0; i < cpu.length; i++) {
        absDiff += Math.abs(gpu[i] - cpu[i]);
        sum += Math.abs(cpu[i]);
      }
      expect(absDiff / sum).toBeLessThan(1e-4);
    } else {
      // One error line, not one per worker or per retry.
      expect(r.stderr.match(/mocksmith: error:/g)).toHaveLength(1);
      expect(r.stderr).toMatch(
        /error: device cuda: ONNX Runtime could not start its CUDA provider for .*gan\.onnx: /,
      );
      expect(fs.existsSync(parent)).toBe(false);
    }
  }, 120_000);
});
