/**
 * The GAN's weights as TensorFlow.js-layout JSON (transposed-convolution filters
 * (k, k, k, out, in), convolution filters (k, k, k, in, out), as ./gan-tf.ts builds them),
 * written beside the .onnx so training can continue, or the model be inspected, without parsing
 * ONNX. Batch-norm layers carry γ, β and the moving statistics (which the ONNX graph has folded).
 */
import type { GanArchitecture } from "./architecture.js";
import { onnxToTfFilter, tfToOnnxFilter } from "../painter/painter-tf.js";
import { onnxToTfTransposedFilter, tfToOnnxTransposedFilter } from "./gan-tf.js";
import { checkGanWeights, type GanLayerWeights, type GanWeights } from "./gan-weights.js";

export const GAN_WEIGHTS_FORMAT = "mocksmith-gan-tfjs-weights";

const FIELDS = ["bias", "gamma", "beta", "movingMean", "movingVariance"] as const;

interface LayerRecord {
  name: string;
  filterShape: number[];
  filter: number[];
  bias?: number[];
  gamma?: number[];
  beta?: number[];
  movingMean?: number[];
  movingVariance?: number[];
}

export function ganWeightsJson(arch: GanArchitecture, weights: GanWeights): string {
  checkGanWeights(arch, weights);
  const gen = new Set(arch.generator.map((l) => l.name));
  const layers = [...arch.generator, ...arch.discriminator].map((l): LayerRecord => {
    const w = weights.get(l.name) as GanLayerWeights;
    const k = l.kernel;
    const t = gen.has(l.name);
    const r: LayerRecord = {
      name: l.name,
      filterShape: t ? [k, k, k, l.outChannels, l.inChannels] : [k, k, k, l.inChannels, l.outChannels],
      filter: Array.from(
        t
          ? onnxToTfTransposedFilter(w.weight, l.inChannels, l.outChannels, k)
          : onnxToTfFilter(w.weight, l.outChannels, l.inChannels, k),
      ),
    };
    for (const f of FIELDS) {
      const v = w[f];
      if (v) r[f] = Array.from(v);
    }
    return r;
  });
  return (
    JSON.stringify({
      format: GAN_WEIGHTS_FORMAT,
      formatVersion: 1,
      architecture: {
        preset: arch.preset,
        filters: arch.filters,
        latentDim: arch.latentDim,
        conditional: arch.conditional,
      },
      layers,
    }) + "\n"
  );
}

/** Parses weights JSON back into the ONNX layouts; `problem` says what is wrong. */
export function parseGanWeightsJson(
  text: string,
  arch: GanArchitecture,
): { weights: Map<string, GanLayerWeights> } | { problem: string } {
  let doc: { format?: unknown; layers?: LayerRecord[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    return { problem: `not valid JSON (${(err as Error).message})` };
  }
  if (doc.format !== GAN_WEIGHTS_FORMAT) return { problem: `'format' must be "${GAN_WEIGHTS_FORMAT}"` };
  const byName = new Map((Array.isArray(doc.layers) ? doc.layers : []).map((l) => [l.name, l]));
  const gen = new Set(arch.generator.map((l) => l.name));
  const out = new Map<string, GanLayerWeights>();
  for (const l of [...arch.generator, ...arch.discriminator]) {
    const r = byName.get(l.name);
    const n = l.inChannels * l.outChannels * l.kernel ** 3;
    if (!r || !Array.isArray(r.filter) || r.filter.length !== n)
      return { problem: `layer ${l.name} is missing or has the wrong size (expects ${n} filter values)` };
    const f = Float32Array.from(r.filter);
    const w: GanLayerWeights = {
      weight: gen.has(l.name)
        ? tfToOnnxTransposedFilter(f, l.inChannels, l.outChannels, l.kernel)
        : tfToOnnxFilter(f, l.outChannels, l.inChannels, l.kernel),
    };
    for (const k of FIELDS) {
      const v = r[k];
      if (Array.isArray(v)) w[k] = Float32Array.from(v);
    }
    out.set(l.name, w);
  }
  try {
    checkGanWeights(arch, out);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  return { weights: out };
}
