/**
 * The painter's weights as TensorFlow.js-layout JSON (filters DHWIO, as painter-tf.ts builds
 * them), exported beside the .onnx so training can continue or be inspected from TypeScript
 * without parsing ONNX. Numbers are float32 values written as the shortest decimal that reads
 * back to the same float32.
 */
import { convLayers, type PainterArchitecture } from "./architecture.js";
import { onnxToTfFilter, tfToOnnxFilter } from "./painter-tf.js";
import type { PainterWeights } from "./painter-onnx.js";
import type { ConvWeights } from "../weight-init.js";

export const PAINTER_WEIGHTS_FORMAT = "mocksmith-painter-tfjs-weights";

interface LayerRecord {
  name: string;
  /** [k, k, k, in, out] */
  filterShape: number[];
  filter: number[];
  bias: number[];
}

interface WeightsDocument {
  format: typeof PAINTER_WEIGHTS_FORMAT;
  formatVersion: 1;
  architecture: string;
  outputChannels: number;
  layout: "DHWIO";
  layers: LayerRecord[];
}

export function painterWeightsJson(arch: PainterArchitecture, weights: PainterWeights): string {
  const layers = convLayers(arch).map((c): LayerRecord => {
    const w = weights.get(c.name);
    if (!w) throw new RangeError(`painter weights lack layer ${c.name}`);
    const k = c.kernel;
    return {
      name: c.name,
      filterShape: [k, k, k, c.inChannels, c.outChannels],
      filter: Array.from(onnxToTfFilter(w.weight, c.outChannels, c.inChannels, k)),
      bias: Array.from(w.bias),
    };
  });
  const doc: WeightsDocument = {
    format: PAINTER_WEIGHTS_FORMAT,
    formatVersion: 1,
    architecture: arch.name,
    outputChannels: arch.outChannels,
    layout: "DHWIO",
    layers,
  };
  return JSON.stringify(doc) + "\n";
}

/** Parses painter weights JSON back into the ONNX layout; `problem` names what is wrong. */
export function parsePainterWeightsJson(
  text: string,
  arch: PainterArchitecture,
): { weights: PainterWeights } | { problem: string } {
  let doc: WeightsDocument;
  try {
    doc = JSON.parse(text) as WeightsDocument;
  } catch (err) {
    return { problem: `not valid JSON (${(err as Error).message})` };
  }
  if (doc.format !== PAINTER_WEIGHTS_FORMAT)
    return { problem: `'format' must be "${PAINTER_WEIGHTS_FORMAT}"` };
  if (doc.outputChannels !== arch.outChannels)
    return { problem: `${doc.outputChannels} output channel(s), expected ${arch.outChannels}` };
  const byName = new Map((doc.layers ?? []).map((l) => [l.name, l]));
  const m = new Map<string, ConvWeights>();
  for (const c of convLayers(arch)) {
    const l = byName.get(c.name);
    const k = c.kernel;
    const n = k ** 3 * c.inChannels * c.outChannels;
    if (
      !l ||
      !Array.isArray(l.filter) ||
      l.filter.length !== n ||
      !Array.isArray(l.bias) ||
      l.bias.length !== c.outChannels
    )
      return { problem: `layer ${c.name} is missing or has the wrong size (expects ${n} filter values)` };
    m.set(c.name, {
      weight: tfToOnnxFilter(Float32Array.from(l.filter), c.outChannels, c.inChannels, k),
      bias: Float32Array.from(l.bias),
    });
  }
  return { weights: m };
}
