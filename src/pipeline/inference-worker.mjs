// Piscina worker: one ONNX Runtime session per worker thread, created on the first task and
// reused for every later one. Plain JavaScript (.mjs) so that Node can load it in a worker both
// from the TypeScript sources (tests) and from dist/ (tsc copies it through allowJs).
//
// workerData: { modelPath, inputName, outputName, inputChannels, outputChannels, padding,
//   outputSide (null: side − 2·padding; a generator's fixed output side otherwise),
//   inputOffset, intraOpNumThreads, device: { kind: "cpu" | "cuda", ids: number[] },
//   slots: SharedArrayBuffer (Int32 counter handing each worker its device slot) }
import * as ort from "onnxruntime-node";
import { move, workerData } from "piscina";
import { permanentFailure } from "./permanent-failure.mjs";
import { announceReady } from "./worker-ready.mjs";

let sessionPromise;

function executionProviders() {
  const { kind, ids } = workerData.device;
  if (kind === "cpu") return ["cpu"];
  // Workers are threads, so CUDA_VISIBLE_DEVICES cannot pick a device per worker; each takes the
  // next slot of a shared counter and binds to that device id through the provider options.
  const slot = Atomics.add(new Int32Array(workerData.slots), 0, 1);
  const deviceId = ids[slot % ids.length];
  return [{ name: kind, deviceId }];
}

/**
 * Why the CUDA provider did not start, in one line that names the model and the usual cause;
 * marked permanent: a rebuilt batch would meet the same missing libraries.
 */
function providerFailure(err) {
  const first = String(err instanceof Error ? err.message : err)
    .split("\n")[0]
    .slice(0, 240);
  return permanentFailure(
    `device cuda: ONNX Runtime could not start its CUDA provider for ${workerData.modelPath}: ` +
      `its libraries are not installed (README, Painting boxes larger than memory) or no CUDA GPU is visible (${first})`,
  );
}

function session() {
  if (sessionPromise !== undefined) return sessionPromise;
  const created = ort.InferenceSession.create(workerData.modelPath, {
    executionProviders: executionProviders(),
    intraOpNumThreads: workerData.intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  sessionPromise =
    workerData.device.kind === "cpu"
      ? created
      : created.catch((err) => {
          throw providerFailure(err);
        });
  return sessionPromise;
}

/**
 * task: { values: Float32Array (rows × inputChannels × side³, transferred), rows, side }
 * returns the Float32Array of rows × outputChannels × (side − 2·padding)³ values (transferred;
 * piscina transfers only a top-level moved value)
 *
 * @param {{ values: Float32Array, rows: number, side: number }} task
 * @returns {Promise<unknown>}
 */
export default async function infer(task) {
  const s = await session();
  const { values, rows, side } = task;
  if (workerData.inputOffset !== 0) {
    const offset = workerData.inputOffset;
    for (let i = 0; i < values.length; i++) values[i] += offset;
  }
  const input = new ort.Tensor("float32", values, [rows, workerData.inputChannels, side, side, side]);
  const result = await s.run({ [workerData.inputName]: input });
  const out = result[workerData.outputName];
  const core = workerData.outputSide ?? side - 2 * workerData.padding;
  const expected = [rows, workerData.outputChannels, core, core, core];
  if (out.dims.length !== 5 || out.dims.some((d, i) => d !== expected[i])) {
    throw new Error(`model output has shape (${out.dims.join(", ")}), expected (${expected.join(", ")})`);
  }
  const data = out.data;
  // The output may be a view on a buffer ONNX Runtime owns; transfer a tight copy then.
  const tight = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  input.dispose?.();
  return move(tight);
}

// Last: every import above has loaded (./worker-ready.mjs says why the pool waits for this).
announceReady();
