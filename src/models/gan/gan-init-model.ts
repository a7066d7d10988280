/**
 * Fine-tuning from an exported model (`train gan --init MODEL.onnx | DIR | default`). A model
 * whose card lists its TF.js weights (gan.weights.json: generator and discriminator with their
 * batch-norm parameters and moving statistics) starts from them exactly. Otherwise the
 * generator comes from the .onnx (checked against its card), unfolded back to batch norm
 * (./gan-unfold.ts), and the discriminator starts from the run's seed (`--discriminator-warmup`
 * trains it alone before the generator moves).
 */
import { createHash } from "node:crypto";
import { InputError } from "../../io/atomic-file.js";
import { loadGanModel } from "../../io/gan-model-file.js";
import { readCardWeights } from "../../io/model-file.js";
import { resolveGanModelPath } from "../default-model.js";
import type { TensorFlow } from "../kernels/tf-engine.js";
import type { GanArchitecture, GanArchitectureOptions } from "./architecture.js";
import type { GanCard } from "./gan-card.js";
import { generatorLayersFromOnnx, type FoldedGanLayer } from "./gan-native.js";
import { unfoldGenerator } from "./gan-unfold.js";
import { parseGanWeightsJson } from "./gan-weights-json.js";
import { initialGanWeights, type GanLayerWeights } from "./gan-weights.js";
import { latentBatch, LATENT_STREAM_UNFOLD, type LatentPrior } from "./latent.js";

/** Probe latents for the unfolded moments: the batch moments of training differ by far more. */
export const UNFOLD_PROBE_LATENTS = 256;

export interface ModelStart {
  file: string;
  sha256: string;
  card: GanCard;
  folded: FoldedGanLayer[];
  /** Generator and discriminator from the card's weights file, when it lists one. */
  weights?: Map<string, GanLayerWeights>;
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
  let folded: FoldedGanLayer[];
  try {
    folded = generatorLayersFromOnnx(model.bytes, arch);
  } catch (err) {
    throw refuse((err as Error).message);
  }
  const start: ModelStart = {
    file,
    sha256: createHash("sha256").update(model.bytes).digest("hex"),
    card,
    folded,
  };
  if (card.weights) {
    const text = readCardWeights(file, card.weights).toString("utf8");
    const parsed = parseGanWeightsJson(text, arch);
    if ("problem" in parsed) throw new InputError(card.weights.file, `cannot fine-tune from its weights: ${parsed.problem}`);
    start.weights = parsed.weights;
  }
  if (card.kappa !== run.kappa) {
    const last = folded.length - 1;
    const shift = 0.5 * Math.log(card.kappa / run.kappa);
    folded[last] = { ...folded[last], bias: folded[last].bias.map((b) => b + shift) };
    const w = start.weights?.get(folded[last].layer.name);
    if (w?.bias) w.bias = w.bias.map((b) => b + shift);
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
    const first = arch.generator[0];
    const w = own.get(first.name);
    if (w && prior.scale !== 1) {
      const perInput = first.outChannels * first.kernel ** 3;
      own.set(first.name, {
        ...w,
        weight: w.weight.map((x, k) => (k < arch.latentDim * perInput ? x * prior.scale : x)),
      });
    }
    return own;
  }
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
