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
  return p;
}

/** The value added to every input voxel: grids hold δ (or ρ/ρ̄ when their kind says "density"). */
export function inputOffset(card: Pick<ModelCard, "inputNormalisation">, gridHoldsDensity: boolean): number {
  if (card.inputNormalisation === "rho-over-mean") return gridHoldsDensity ? 0 : 1;
  if (card.inputNormalisation === "delta") return gridHoldsDensity ? -1 : 0;
  return 0;
}
