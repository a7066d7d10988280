/**
 * The halo painter's architecture and weights recovered from its ONNX file (./painter-onnx.ts
 * names every convolution's initializers `<layer>.weight` and `<layer>.bias`), so that engines
 * other than ONNX Runtime (./painter-fft.ts) can evaluate any painter model file.
 */
import { convLayers, painterArchitecture, type PainterArchitecture } from "./architecture.js";
import type { PainterWeights } from "./painter-onnx.js";
import type { ConvWeights } from "../weight-init.js";
import { readOnnxInitializers } from "../onnx/onnx-reader.js";

/**
 * The painter with `outChannels` outputs whose weights `bytes` (an .onnx file) holds; throws a
 * RangeError naming the first layer that is missing or has other dimensions than the
 * architecture's.
 */
export function painterFromOnnx(
  bytes: Uint8Array,
  outChannels: number,
): { arch: PainterArchitecture; weights: PainterWeights } {
  const tensors = new Map(readOnnxInitializers(bytes).map((t) => [t.name, t]));
  // The filter count is the output channels of the first convolution.
  const first = tensors.get(`${convLayers(painterArchitecture(outChannels))[0].name}.weight`);
  if (!first) throw new RangeError("the model has no halo-painter weights (inc1.b1.weight)");
  const arch = painterArchitecture(outChannels, first.dims[0]);
  const weights = new Map<string, ConvWeights>();
  for (const c of convLayers(arch)) {
    const w = tensors.get(`${c.name}.weight`);
    const b = tensors.get(`${c.name}.bias`);
    const k = c.kernel;
    const wantW = [c.outChannels, c.inChannels, k, k, k];
    if (!w || !(w.data instanceof Float32Array) || w.dims.join() !== wantW.join())
      throw new RangeError(`layer ${c.name}: expected float weights of shape (${wantW.join(", ")})`);
    if (!b || !(b.data instanceof Float32Array) || b.dims.join() !== String(c.outChannels))
      throw new RangeError(`layer ${c.name}: expected float bias of shape (${c.outChannels})`);
    weights.set(c.name, { weight: w.data, bias: b.data });
  }
  return { arch, weights };
}
