/**
 * Fine-tuning from an exported model (`train gan --init MODEL.onnx | DIR | default`). A model
 * whose card lists its TF.js weights (gan.weights.json: generator and discriminator with their
 * batch-norm parameters and moving statistics) starts from them exactly. Otherwise the
 * generator comes from the .onnx (checked against its card), unfolded back to batch norm
 * (./gan-unfold.ts), and the discriminator starts from the run's seed (`--discriminator-warmup`
 * trains it alone before the generator moves).
 */
import { InputError } from "../../io/atomic-file.js";
import { loadGanModel } from "../../io/gan-model-file.js";
import { readCardWeights } from "../../io/model-file.js";
import { resolveGanModelPath } from "../default-model.js";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { GanArchitecture, GanArchitectureOptions } from "./architecture.js";
import type { GanCard } from "./gan-card.js";
import { kappaBiasShift } from "./data-scaling.js";
import { generatorLayersFromOnnx, type FoldedGanLayer } from "./gan-native.js";
import { unfoldGenerator, withLatentWidth } from "./gan-unfold.js";
import { parseGanWeightsJson } from "./gan-weights-json.js";
import { initialGanWeights, type GanLayerWeights } from "./gan-weights.js";
import { latentBatch, LATENT_STREAM_UNFOLD, type LatentPrior } from "./latent.js";

/** Probe latents for the unfolded moments: the batch moments of training differ by far more. */
export const UNFOLD_PROBE_LATENTS = 256;

export interface ModelStart {
  file: string;
  /** Of the .onnx (the card's, which loadGanModel checked against the bytes). */
  sha256: string;
  card: GanCard;
  /** Generator and discriminator from the card's weights file, when it lists one … */
  weights?: Map<string, GanLayerWeights>;
  /** … else the .onnx's generator layers, batch norm folded. */
  folded?: FoldedGanLayer[];
  /** The card's κ when it differs from the run's (the output bias was shifted, same ρ). */
  kappaFrom?: number;
}

/** Whether --init names a model (.onnx, its card, its directory or "default") rather than a checkpoint. */
export function namesGanModel(given: string): boolean {
  return resolveGanModelPath(given, "--init").endsWith(".onnx");
}

/**
 * Loads the model --init names and refuses one of another architecture or latent family; a
 * card of another κ has its output bias shifted by ½ ln(κ₀/κ) (ρ = κ e^{2y} unchanged).
 */
export async function modelStart(
  given: string,
  run: { architecture: GanArchitectureOptions; latentPrior: LatentPrior; kappa: number },
  arch: GanArchitecture,
): Promise<ModelStart> {
  const file = resolveGanModelPath(given, "--init");
  const model = await loadGanModel(file);
  const card = model.card;
  const refuse = (why: string) => new InputError(file, `cannot fine-tune from this model: ${why}`);
  const a = card.architecture;
  const r = run.architecture;
  if (a.filters.join() !== r.filters.join() || a.latentDim !== r.latentDim || a.conditional !== r.conditional)
    throw refuse(
      `its generator is filters ${a.filters.join(",")}, latent ${a.latentDim}${a.conditional ? ", conditional" : ""}; this run's is filters ${r.filters.join(",")}, latent ${r.latentDim}${r.conditional ? ", conditional" : ""}`,
    );
  const p = card.latentPrior;
  if (p.kind !== run.latentPrior.kind || (p.kind === "student-t" && p.nu !== run.latentPrior.nu))
    throw refuse(
      `its latent prior is ${p.kind}${p.kind === "student-t" ? ` ν = ${p.nu}` : ""}, this run's ${run.latentPrior.kind}${run.latentPrior.kind === "student-t" ? ` ν = ${run.latentPrior.nu}` : ""}`,
    );
  const start: ModelStart = { file, sha256: card.sha256, card };
  if (card.weights) {
    const text = readCardWeights(file, card.weights).toString("utf8");
    const parsed = parseGanWeightsJson(text, arch);
    if ("problem" in parsed) throw new InputError(card.weights.file, `cannot fine-tune from its weights: ${parsed.problem}`);
    start.weights = parsed.weights;
  } else {
    try {
      start.folded = generatorLayersFromOnnx(model.bytes, arch);
    } catch (err) {
      throw refuse((err as Error).message);
    }
  }
  if (card.kappa !== run.kappa) {
    // The tanh layer has no batch norm: its bias is the same in both forms.
    const last = arch.generator[arch.generator.length - 1].name;
    const shift = kappaBiasShift(card.kappa, run.kappa);
    const w = start.weights?.get(last);
    if (w?.bias) w.bias = w.bias.map((b) => b + shift);
    start.folded = start.folded?.map((f) => (f.layer.name === last ? { ...f, bias: f.bias.map((b) => b + shift) } : f));
    start.kappaFrom = card.kappa;
  }
  return start;
}

/**
 * The run's starting weights: the model's own (a card's latent width s ≠ 1 multiplied into the
 * first layer's latent inputs, whose moving statistics then see what the width-s model saw), or
 * its generator unfolded and the discriminator from `seed`.
 */
export function modelStartWeights(
  tf: TensorFlow,
  arch: GanArchitecture,
  start: ModelStart,
  seed: number,
): Map<string, GanLayerWeights> {
  const prior = start.card.latentPrior;
  if (start.weights) {
    const own = new Map(start.weights);
    const first = arch.generator[0].name;
    const w = own.get(first);
    if (w) own.set(first, { ...w, weight: withLatentWidth(arch, w.weight, prior.scale) });
    return own;
  }
  if (!start.folded) throw new RangeError(`model start ${start.file} has neither weights nor folded layers`);
  const weights = initialGanWeights(arch, seed);
  const probe = latentBatch(
    seed,
    LATENT_STREAM_UNFOLD,
    0,
    UNFOLD_PROBE_LATENTS,
    arch.latentDim,
    { ...prior, scale: 1 },
    arch.conditional ? (start.card.redshiftRange?.[0] ?? start.card.redshift ?? 0) : undefined,
  );
  for (const [name, w] of unfoldGenerator(tf, arch, start.folded, probe, prior.scale)) weights.set(name, w);
  return weights;
}
