/**
 * Starting weights for fine-tuning (`train painter --init MODEL`): the TF.js weights exported
 * beside a trained painter, checked against its card (architecture, channels, voxel size of the
 * new training set, weights sha256) so a fine-tune never silently starts from another model.
 */
import { InputError } from "../../io/atomic-file.js";
import { cardPathFor, cardWeightsPath, readCardWeights, readModelCard } from "../../io/model-file.js";
import type { ModelCard } from "../model-card.js";
import type { PainterArchitecture } from "./architecture.js";
import type { PainterWeights } from "./painter-onnx.js";
import { parsePainterWeightsJson, PAINTER_WEIGHTS_FORMAT } from "./painter-weights-json.js";

export interface InitialWeights {
  weights: PainterWeights;
  /** sha256 of the weights file: part of the training fingerprint. */
  sha256: string;
  card: ModelCard;
}

export function loadInitialWeights(
  onnxPath: string,
  arch: PainterArchitecture,
  voxelSize: number,
): InitialWeights {
  const card = readModelCard(onnxPath);
  const file = cardPathFor(onnxPath);
  if (card.architecture !== arch.name)
    throw new InputError(file, `architecture '${card.architecture}' is not the halo painter ('${arch.name}')`);
  if (card.outputChannels !== arch.outChannels)
    throw new InputError(
      file,
      `${card.outputChannels} output channel(s), but the training set has ${arch.outChannels} (choose matching --mass-bins)`,
    );
  if (Math.abs(card.voxelSize - voxelSize) > 1e-6 * voxelSize)
    throw new InputError(file, `voxel size ${card.voxelSize} Mpc/h differs from the training set's ${voxelSize} Mpc/h`);
  if (!card.weights || card.weights.format !== PAINTER_WEIGHTS_FORMAT)
    throw new InputError(file, `card lists no ${PAINTER_WEIGHTS_FORMAT} weights file to start from`);
  const bytes = readCardWeights(onnxPath, card.weights);
  const text = bytes.toString("utf8");
  const sha256 = card.weights.sha256;
  const r = parsePainterWeightsJson(text, arch);
  if ("problem" in r) throw new InputError(cardWeightsPath(onnxPath, card.weights.file), r.problem);
  return { weights: r.weights, sha256, card };
}
