/**
 * The generator's latent prior, drawn counter-based: component j of latent vector i depends on
 * (seed, stream, i, j) only, never on how many vectors are drawn, in which batches, workers or
 * shards (the white-noise.ts / halo-sampling.ts pattern). Feder et al. 2020 (§III) draw the
 * latent from a heavy-tailed Student-t distribution (ν = 10 by default here) so that rare,
 * high-density structures are reachable; a Gaussian prior is the usual DCGAN choice.
 *
 *   stream of (seed, stream, i, j) = VoxelStream.reset(seed, stream, i·1024 + j)   (halo-sampling.ts)
 *   n  = Φ⁻¹(u₀)                                       (AS 241, normal-quantile.ts)
 *   Gaussian:   x = σ n
 *   Student-t:  x = σ n / √(χ²_ν / ν),  χ²_ν = 2 Γ(ν/2)  (Marsaglia & Tsang 2000, further draws)
 * so the first L components of a longer latent equal the L-dimensional latent.
 */
import { VoxelStream } from "../../cosmo/halo-sampling.js";
import { normalQuantile } from "../../cosmo/normal-quantile.js";

export type LatentKind = "student-t" | "gaussian";
export const LATENT_KINDS: readonly LatentKind[] = ["student-t", "gaussian"];
export const LATENT_ALGORITHM =
  "triple32-counter-v1 (VoxelStream key i·1024 + j), Φ⁻¹ AS 241, gamma Marsaglia–Tsang";

/** Latent components per vector at most (the counter stride). */
export const MAX_LATENT_DIM = 1024;

/** Stream ids (the VoxelStream "bin"): sampling, training's generator draws, unfolding probes. */
export const LATENT_STREAM_SAMPLING = 0;
export const LATENT_STREAM_TRAINING = 1;
/** Probe latents that measure a shipped generator's moments when it is unfolded for fine-tuning. */
export const LATENT_STREAM_UNFOLD = 2;
/** Which of the 48 cube symmetries a sample is drawn under (./sample-orientation.ts). */
export const LATENT_STREAM_ORIENTATION = 3;
/** Orientations of the generated batch the statistics term measures (train gan --stats-orientation). */
export const LATENT_STREAM_TRAINING_ORIENTATION = 4;

export interface LatentPrior {
  kind: LatentKind;
  /** Degrees of freedom ν of the Student-t (> 0; the variance is finite for ν > 2). */
  nu: number;
  /** Width σ multiplying every draw (1 as trained; a calibration knob). */
  scale: number;
}

export const DEFAULT_LATENT_PRIOR: LatentPrior = { kind: "student-t", nu: 10, scale: 1 };

export function checkLatentPrior(p: LatentPrior): void {
  if (!LATENT_KINDS.includes(p.kind))
    throw new RangeError(`latent prior must be one of ${LATENT_KINDS.join(", ")}`);
  if (!(p.nu > 0) || !Number.isFinite(p.nu)) throw new RangeError(`Student-t ν must be > 0, got ${p.nu}`);
  if (!(p.scale > 0) || !Number.isFinite(p.scale))
    throw new RangeError(`latent scale must be > 0, got ${p.scale}`);
}

/** Γ(a, 1) deviate, Marsaglia & Tsang (2000); a < 1 via Γ(a + 1)·u^(1/a). */
export function gammaDeviate(a: number, stream: VoxelStream): number {
  if (a < 1) {
    const g = gammaDeviate(a + 1, stream);
    return g * Math.pow(stream.uniform(), 1 / a);
  }
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normalQuantile(stream.uniform());
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = stream.uniform();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

const shared = new VoxelStream();

/** Component j of latent vector i. */
export function latentComponent(
  seed: number,
  stream: number,
  i: number,
  j: number,
  prior: LatentPrior = DEFAULT_LATENT_PRIOR,
): number {
  shared.reset(seed, stream, i * MAX_LATENT_DIM + j);
  const n = normalQuantile(shared.uniform());
  if (prior.kind === "gaussian") return prior.scale * n;
  const chi2 = 2 * gammaDeviate(prior.nu / 2, shared);
  return (prior.scale * n) / Math.sqrt(chi2 / prior.nu);
}

/**
 * Latent vectors first … first + count − 1, row-major (count × dim); with `redshift` a
 * conditional generator's input (count × (dim + 1)), z appended to each vector.
 */
export function latentBatch(
  seed: number,
  stream: number,
  first: number,
  count: number,
  dim: number,
  prior: LatentPrior = DEFAULT_LATENT_PRIOR,
  redshift?: number,
): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_LATENT_DIM)
    throw new RangeError(`latent dimension must be in 1 … ${MAX_LATENT_DIM}, got ${dim}`);
  checkLatentPrior(prior);
  const width = dim + (redshift === undefined ? 0 : 1);
  const out = new Float32Array(count * width);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < dim; j++) out[r * width + j] = latentComponent(seed, stream, first + r, j, prior);
    if (redshift !== undefined) out[r * width + dim] = redshift;
  }
  return out;
}
