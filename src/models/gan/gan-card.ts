/**
 * The GAN's model card: `gan.onnx` → `gan.card.json`, saying what the generator expects and
 * produces (architecture preset and sizes, latent prior, data scaling κ, voxel size, redshift or
 * the trained redshift range of a cGAN) and the sha256 of the ONNX file and the TF.js weights.
 * Validation here is of the JSON alone; io/gan-model-file.ts checks it against the files.
 */
import {
  GAN_PRESETS,
  type GanArchitecture,
  type GanArchitectureOptions,
  ganArchitecture,
} from "./architecture.js";
import { LATENT_KINDS, type LatentPrior } from "./latent.js";
import type { ModelCardParity, ModelCardWeights } from "../model-card.js";

export const GAN_CARD_FORMAT = "mocksmith-gan-card";

export interface GanCardArchitecture extends GanArchitectureOptions {
  preset: string;
  side: number;
}

export interface GanCard {
  format: typeof GAN_CARD_FORMAT;
  formatVersion: 1;
  name: string;
  architecture: GanCardArchitecture;
  inputName: string;
  outputName: string;
  latentPrior: LatentPrior;
  /** κ of the data scaling c = 2ρ/(ρ + κ) − 1, ρ = ρ/ρ̄. */
  kappa: number;
  /** Voxel side of the training data, Mpc/h. */
  voxelSize: number;
  /**
   * Sampling caps ρ/ρ̄ at this value (the largest N-body voxel `select-gan` saw), where the
   * inverse scaling of a near-saturated tanh would give unphysical spikes (data-scaling.ts).
   */
  densityCap?: number;
  /** Redshift of the training data (unconditional), or the range a cGAN was trained on. */
  redshift: number | null;
  redshiftRange?: [number, number];
  trained: boolean;
  /** sha256 (hex) of the .onnx file. */
  sha256: string;
  description?: string;
  weights?: ModelCardWeights;
  training?: Record<string, unknown>;
  parity?: ModelCardParity;
  /** Held-out scores written by `mocksmith validate gan --record-in-card` (heldout.<check>.<field>). */
  validation?: Record<string, number>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const hex64 = (v: unknown) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);

/** The problems of a parsed card (empty when valid). */
export function ganCardProblems(value: unknown): string[] {
  if (!isObject(value)) return ["the card must be a JSON object"];
  const c = value;
  const p: string[] = [];
  if (c.format !== GAN_CARD_FORMAT) p.push(`'format' must be "${GAN_CARD_FORMAT}"`);
  if (c.formatVersion !== 1) p.push("'formatVersion' must be 1");
  for (const k of ["name", "inputName", "outputName"])
    if (typeof c[k] !== "string" || (c[k] as string).length === 0)
      p.push(`'${k}' must be a non-empty string`);
  const a = c.architecture;
  if (!isObject(a)) p.push("'architecture' must be an object");
  else {
    if (!Array.isArray(a.filters) || !a.filters.every((f) => Number.isInteger(f) && (f as number) > 0))
      p.push("'architecture.filters' must be an array of positive integers");
    if (!Number.isInteger(a.latentDim) || (a.latentDim as number) < 1)
      p.push("'architecture.latentDim' must be a positive integer");
    if (typeof a.conditional !== "boolean") p.push("'architecture.conditional' must be true or false");
    if (typeof a.preset !== "string" || ![...GAN_PRESETS, "custom"].includes(a.preset))
      p.push(`'architecture.preset' must be one of ${[...GAN_PRESETS, "custom"].join(", ")}`);
    if (p.length === 0) {
      try {
        const built = ganArchitecture(a as unknown as GanArchitectureOptions);
        if (built.side !== a.side)
          p.push(`'architecture.side' is ${String(a.side)}, the filters give ${built.side}`);
      } catch (err) {
        p.push(`'architecture': ${(err as Error).message}`);
      }
    }
  }
  const lp = c.latentPrior;
  if (
    !isObject(lp) ||
    !LATENT_KINDS.includes(lp.kind as LatentPrior["kind"]) ||
    typeof lp.nu !== "number" ||
    !(lp.nu > 0) ||
    typeof lp.scale !== "number" ||
    !(lp.scale > 0)
  )
    p.push(`'latentPrior' must be { kind (${LATENT_KINDS.join(" | ")}), nu > 0, scale > 0 }`);
  if (typeof c.kappa !== "number" || !(c.kappa > 0)) p.push("'kappa' must be a positive number");
  if (c.densityCap !== undefined && (typeof c.densityCap !== "number" || !(c.densityCap > 0)))
    p.push("'densityCap' must be a positive number (ρ/ρ̄)");
  if (typeof c.voxelSize !== "number" || !(c.voxelSize > 0))
    p.push("'voxelSize' must be a positive number (Mpc/h)");
  if (c.redshift !== null && (typeof c.redshift !== "number" || !(c.redshift >= 0)))
    p.push("'redshift' must be a number ≥ 0 or null");
  const cond = isObject(a) && a.conditional === true;
  const r = c.redshiftRange;
  if (cond) {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === "number") || !(r[0] <= r[1]))
      p.push("'redshiftRange' must be [zMin, zMax] for a conditional GAN");
  } else if (r !== undefined) p.push("'redshiftRange' is only for a conditional GAN");
  if (typeof c.trained !== "boolean") p.push("'trained' must be true or false");
  if (!hex64(c.sha256)) p.push("'sha256' must be 64 lowercase hex digits");
  if (c.weights !== undefined) {
    const w = c.weights;
    if (!isObject(w) || typeof w.file !== "string" || typeof w.format !== "string" || !hex64(w.sha256))
      p.push("'weights' must be { file, format, sha256 (64 lowercase hex digits) }");
  }
  if (c.validation !== undefined) {
    const v = c.validation;
    if (!isObject(v) || !Object.values(v).every((x) => typeof x === "number"))
      p.push("'validation' must be an object of numbers");
  }
  return p;
}

/** The architecture a (valid) card describes. */
export function cardArchitecture(card: GanCard): GanArchitecture {
  const a = card.architecture;
  const preset = (GAN_PRESETS as readonly string[]).includes(a.preset)
    ? (a.preset as GanArchitecture["preset"])
    : "custom";
  return ganArchitecture({ filters: a.filters, latentDim: a.latentDim, conditional: a.conditional }, preset);
}

export function cardArchitectureOf(arch: GanArchitecture): GanCardArchitecture {
  return {
    preset: arch.preset,
    filters: [...arch.filters],
    latentDim: arch.latentDim,
    conditional: arch.conditional,
    side: arch.side,
  };
}
