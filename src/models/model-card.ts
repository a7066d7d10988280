/**
 * The model card: a JSON file beside every .onnx (`painter.onnx` → `painter.card.json`) saying
 * what the network expects and produces, so the engine can tile, normalise and refuse grids of
 * the wrong resolution without knowing the network. Validation here is of the JSON alone;
 * io/model-file.ts checks the card against the graph and the file's hash.
 */

/** How grid values are transformed before they reach the network. */
export type InputNormalisation =
  | "rho-over-mean" // ρ/ρ̄ = 1 + δ (the painter of Kodi Ramanah et al. 2019)
  | "delta" // δ as stored
  | "none"; // values passed through whatever the grid holds

export const INPUT_NORMALISATIONS: readonly InputNormalisation[] = ["rho-over-mean", "delta", "none"];

export interface ModelCard {
  format: "mocksmith-model-card";
  formatVersion: 1;
  name: string;
  architecture: string;
  /** Graph input and output tensor names; shapes (batch, channels, side, side, side). */
  inputName: string;
  outputName: string;
  inputChannels: number;
  outputChannels: number;
  /** (input side − output side) / 2 in voxels. */
  padding: number;
  /** Voxel side the network was trained at, Mpc/h. */
  voxelSize: number;
  inputNormalisation: InputNormalisation;
  /** Whether the weights are trained (false for random-weight networks used in tests and benchmarks). */
  trained: boolean;
  /** sha256 (hex) of the .onnx file. */
  sha256: string;
  description?: string;
  /** What each output channel counts (optional; cards written before training existed lack it). */
  massBins?: ModelCardMassBin[];
  /** The TensorFlow.js weights file written beside the .onnx, and its sha256. */
  weights?: ModelCardWeights;
  /** How the weights were trained (models/painter/training.ts). */
  training?: ModelCardTraining;
  /** Metrics on held-out simulations (names say what; values are numbers). */
  validation?: Record<string, number>;
  /** ONNX graph against the training framework's model on one patch, checked at export. */
  parity?: ModelCardParity;
}

export interface ModelCardMassBin {
  channel: number;
  /** Mass bin index of the training data, or null for all haloes. */
  massBin: number | null;
  /** Halo mass range, Msun/h (null: unbounded). */
  minMass: number | null;
  maxMass: number | null;
}

export interface ModelCardWeights {
  file: string;
  format: string;
  sha256: string;
}

export interface ModelCardTrainingData {
  /** Simulation directory as given on the command line. */
  directory: string;
  role: "train" | "validation";
  /** sha256 of the simulation's manifest.json (which lists every file's sha256). */
  manifestSha256: string;
}

export interface ModelCardTraining {
  method: string;
  data: ModelCardTrainingData[];
  redshift: number;
  steps: number;
  warmStartSteps: number;
  warmStartLoss?: string;
  /** Weight and k-band edges (h/Mpc) of the band-power term of the supervised loss (band-power.ts). */
  powerWeight?: number;
  powerBands?: number[];
  /** Output-layer scaling that set the mean count on the training simulations (mean-calibration.ts). */
  meanCalibration?: { factors: number[]; paintedMean: number[]; trueMean: number[] };
  /** The model fine-tuned from: its weights file's sha256 and its card's description. */
  initialWeights?: { sha256: string; description: string };
  seed: number;
  patch: number;
  batch: number;
  optimiser: Record<string, number | string>;
  engine: string;
  /**
   * Particle spacing (box / particles per side, Mpc/h) of the 2LPT fields the painter was trained
   * on, from the simulations' sidecars; absent on cards written before it was recorded.
   */
  inputParticleSpacing?: number;
  /** Mean training losses (and validation metrics) per checkpoint interval. */
  losses: Record<string, number | string>[];
}

export interface ModelCardParity {
  reference: string;
  /** Input side of the patch compared. */
  side: number;
  maxAbsDifference: number;
  /** Largest |output| of the reference, the scale the tolerance is relative to. */
  scale: number;
  tolerance: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Problems of the optional fields (absent is fine; present must be well formed). */
function optionalFieldProblems(c: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (c.massBins !== undefined) {
    const bins = c.massBins;
    if (!Array.isArray(bins) || bins.length !== c.outputChannels)
      p.push("'massBins' must be an array with one entry per output channel");
    else if (
      !bins.every(
        (b, i) =>
          isObject(b) &&
          b.channel === i &&
          (b.massBin === null || Number.isInteger(b.massBin)) &&
          ["minMass", "maxMass"].every((k) => b[k] === null || (typeof b[k] === "number" && b[k] > 0)),
      )
    )
      p.push(
        "'massBins' entries need channel (0, 1, …), massBin (integer or null), minMass/maxMass (> 0 or null)",
      );
  }
  if (c.weights !== undefined) {
    const w = c.weights;
    if (
      !isObject(w) ||
      typeof w.file !== "string" ||
      typeof w.format !== "string" ||
      typeof w.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(w.sha256)
    )
      p.push("'weights' must be { file, format, sha256 (64 lowercase hex digits) }");
  }
  if (c.training !== undefined) {
    const t = c.training;
    if (
      !isObject(t) ||
      !Array.isArray(t.data) ||
      !Number.isInteger(t.steps) ||
      !Number.isInteger(t.seed) ||
      !Array.isArray(t.losses)
    )
      p.push("'training' must be an object with data (array), steps, seed (integers) and losses (array)");
    else if (
      t.inputParticleSpacing !== undefined &&
      !(typeof t.inputParticleSpacing === "number" && t.inputParticleSpacing > 0)
    )
      p.push("'training.inputParticleSpacing' must be a positive number (Mpc/h)");
  }
  if (c.validation !== undefined) {
    const v = c.validation;
    if (!isObject(v) || !Object.values(v).every((x) => typeof x === "number"))
      p.push("'validation' must be an object of numbers");
  }
  if (c.parity !== undefined) {
    const q = c.parity;
    if (
      !isObject(q) ||
      !["side", "maxAbsDifference", "scale", "tolerance"].every((k) => typeof q[k] === "number")
    )
      p.push("'parity' must give side, maxAbsDifference, scale and tolerance as numbers");
  }
  return p;
}

/** Returns the problems of a parsed card (empty when valid). */
export function modelCardProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return ["the card must be a JSON object"];
  const c = value as Record<string, unknown>;
  const p: string[] = [];
  if (c.format !== "mocksmith-model-card") p.push(`'format' must be "mocksmith-model-card"`);
  if (c.formatVersion !== 1) p.push("'formatVersion' must be 1");
  for (const k of ["name", "architecture", "inputName", "outputName"]) {
    if (typeof c[k] !== "string" || (c[k] as string).length === 0)
      p.push(`'${k}' must be a non-empty string`);
  }
  for (const k of ["inputChannels", "outputChannels"]) {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 1) p.push(`'${k}' must be a positive integer`);
  }
  if (!Number.isInteger(c.padding) || (c.padding as number) < 0)
    p.push("'padding' must be an integer ≥ 0 (voxels)");
  if (typeof c.voxelSize !== "number" || !(c.voxelSize > 0))
    p.push("'voxelSize' must be a positive number (Mpc/h)");
  if (!INPUT_NORMALISATIONS.includes(c.inputNormalisation as InputNormalisation)) {
    p.push(`'inputNormalisation' must be one of ${INPUT_NORMALISATIONS.join(", ")}`);
  }
  if (typeof c.trained !== "boolean") p.push("'trained' must be true or false");
  if (typeof c.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(c.sha256))
    p.push("'sha256' must be 64 lowercase hex digits");
  p.push(...optionalFieldProblems(c));
  return p;
}

/** The value added to every input voxel: grids hold δ (or ρ/ρ̄ when their kind says "density"). */
export function inputOffset(card: Pick<ModelCard, "inputNormalisation">, gridHoldsDensity: boolean): number {
  if (card.inputNormalisation === "rho-over-mean") return gridHoldsDensity ? 0 : 1;
  if (card.inputNormalisation === "delta") return gridHoldsDensity ? -1 : 0;
  return 0;
}
