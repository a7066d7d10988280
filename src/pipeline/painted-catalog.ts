/**
 * Painter → halo catalog, the one path shared by the main job (`run`, halos.source: painter) and
 * the painted light cone (`lightcone --painted`): load a painter and check it fits the run's box,
 * paint the 2LPT density contrast into expected halo counts per mass bin, and set up the catalog
 * sampling (stages/catalog.ts) from those counts and the 2LPT particles.
 *
 * Compatibility (errors name the caller's config key or flag):
 *  - the card's voxel size equals box size / voxels (the painter's receptive field is in voxels);
 *  - the card's training.inputParticleSpacing, when present, equals box size / particles within
 *    1 %: CIC-deposited 2LPT fields from 1 Mpc/h and 2 Mpc/h particles differ on voxel scales (more
 *    small-scale power and shot noise with finer particles), so a painter sees other fields than it
 *    was trained on;
 *  - one input channel (the 2LPT δ).
 * Mass bins: the card's massBins when it has them (a channel counts the haloes of its bin; labelling
 * them with other masses would be wrong), an unbounded top bin capped at PAINTED_MASS_CAP; cards
 * without massBins (random-weight test models) take the caller's [min, max, count] bins.
 */
import { logMassEdges } from "../cosmo/halo-count-grid.js";
import type { Cosmology } from "../cosmo/cosmology.js";
import type { LptResult } from "../cosmo/lpt.js";
import { arrayGridSource } from "../io/grid-reader.js";
import { loadModel } from "../io/model-file.js";
import { resolveModelPath } from "../models/default-model.js";
import { inputOffset, type ModelCard } from "../models/model-card.js";
import { fitMassFunction, type CatalogSamplingOptions } from "../stages/catalog.js";
import { ConfigError } from "./config-schema.js";
import { paintToMemory } from "./paint-run.js";
import type { Progress } from "./progress.js";
import { parseDevice } from "./worker-pool.js";

/** Upper mass of a card's unbounded top bin, Msun/h: above any halo in a ΛCDM volume today. */
export const PAINTED_MASS_CAP = 1e16;
/** Relative tolerance of the voxel-size check. */
const VOXEL_TOLERANCE = 1e-6;
/** Relative tolerance of the particle-spacing check. */
export const PARTICLE_SPACING_TOLERANCE = 0.01;

/** The config keys (or CLI flags) errors name. */
export interface PainterKeys {
  model: string;
  voxel: string;
  particles: string;
  massBins: string;
}

export interface PaintedBox {
  /** Box side, Mpc/h. */
  size: number;
  /** 2LPT particles per side. */
  particles: number;
  /** Voxels per side of the painted grid (default: box size / the card's voxel size, rounded). */
  voxels?: number;
}

export interface Painter {
  modelPath: string;
  card: ModelCard;
  /** Mass bin edges of the painted channels, Msun/h (channels + 1 entries). */
  massEdges: number[];
  /** Voxels per side of the painted grid. */
  voxels: number;
}

/** Refuses a painter that does not fit the box (see the module comment). */
export function checkPainterCompatibility(
  card: ModelCard,
  modelPath: string,
  box: Required<PaintedBox>,
  keys: PainterKeys,
): void {
  const voxel = box.size / box.voxels;
  if (Math.abs(voxel - card.voxelSize) > VOXEL_TOLERANCE * card.voxelSize) {
    throw new ConfigError(
      keys.voxel,
      `${voxel} Mpc/h differs from the ${card.voxelSize} Mpc/h the model ${modelPath} was trained at`,
    );
  }
  if (card.inputChannels !== 1)
    throw new ConfigError(
      keys.model,
      `${modelPath} expects ${card.inputChannels} input channels; the 2LPT source has 1`,
    );
  const trained = card.training?.inputParticleSpacing;
  const spacing = box.size / box.particles;
  if (trained !== undefined && Math.abs(spacing - trained) > PARTICLE_SPACING_TOLERANCE * trained) {
    throw new ConfigError(
      keys.particles,
      `${box.particles} particles over ${box.size} Mpc/h are ${+spacing.toPrecision(6)} Mpc/h apart, but the model ${modelPath} was trained on 2LPT fields from particles ${+trained.toPrecision(6)} Mpc/h apart (the density field it would see differs); use ${Math.round(box.size / trained)} particles per side`,
    );
  }
}

/** The painted channels' mass bin edges (see the module comment). */
export function paintedMassEdges(
  card: ModelCard,
  modelPath: string,
  fallback: readonly [number, number, number] | undefined,
  keys: PainterKeys,
): number[] {
  const bins = card.massBins;
  if (!bins) {
    if (!fallback)
      throw new ConfigError(
        keys.massBins,
        `the card of ${modelPath} does not say which halo masses its channels count; give the mass bins`,
      );
    if (fallback[2] !== card.outputChannels)
      throw new ConfigError(
        keys.massBins,
        `${fallback[2]} bins, but the model ${modelPath} paints ${card.outputChannels} channel(s)`,
      );
    return logMassEdges(...fallback);
  }
  const edges: number[] = [];
  bins.forEach((b, i) => {
    if (b.minMass === null)
      throw new ConfigError(
        keys.model,
        `the card of ${modelPath} gives channel ${i} no lower mass, so its haloes cannot be given masses`,
      );
    if (i > 0 && Math.abs(b.minMass - edges[i]) > 1e-6 * b.minMass)
      throw new ConfigError(
        keys.model,
        `the card of ${modelPath}: channel ${i} starts at ${b.minMass} Msun/h, not where channel ${i - 1} ends (${edges[i]}); painted channels must be adjacent mass bins`,
      );
    if (i === 0) edges.push(b.minMass);
    const top = b.maxMass ?? (i === bins.length - 1 ? PAINTED_MASS_CAP : null);
    if (top === null || !(top > b.minMass))
      throw new ConfigError(
        keys.model,
        `the card of ${modelPath}: channel ${i} has no usable upper mass (${b.maxMass}); only the top bin may be unbounded`,
      );
    edges.push(top);
  });
  return edges;
}

/** Loads the model (or the bundled default), checks it against the box and works out its mass bins. */
export async function loadPainter(
  model: string,
  box: PaintedBox,
  keys: PainterKeys,
  fallbackBins?: readonly [number, number, number],
): Promise<Painter> {
  const modelPath = resolveModelPath(model, keys.model);
  const { card } = await loadModel(modelPath);
  const voxels = box.voxels ?? Math.max(1, Math.round(box.size / card.voxelSize));
  checkPainterCompatibility(card, modelPath, { ...box, voxels }, keys);
  return { modelPath, card, voxels, massEdges: paintedMassEdges(card, modelPath, fallbackBins, keys) };
}

export interface PainterRunSettings {
  tile: number;
  workers: number;
  device: string;
  progress?: Progress;
}

/** Expected halo counts, channel-major (channels × voxels³), of the 2LPT δ on `voxels`³. */
export async function paintLptDensity(
  painter: Painter,
  density: Float32Array,
  s: PainterRunSettings,
): Promise<Float32Array> {
  const voxels = painter.voxels;
  return paintToMemory(arrayGridSource(density, voxels, 1, "2LPT box"), {
    modelPath: painter.modelPath,
    card: painter.card,
    tile: Math.min(s.tile, voxels),
    boundary: "periodic",
    tilesPerBatch: 1,
    workers: s.workers,
    device: parseDevice(s.device),
    inputOffset: inputOffset(painter.card, false),
    progress: s.progress,
  });
}

/** How a catalog is drawn from painted counts at `redshift`: mass shape from the fit, 2LPT particles. */
export function paintedSampling(
  painter: Painter,
  cosmology: Cosmology,
  redshift: number,
  boxSize: number,
  seed: number,
  lpt: LptResult,
): CatalogSamplingOptions {
  return {
    boxSize,
    massEdges: painter.massEdges,
    dndlnm: fitMassFunction(cosmology, redshift, painter.massEdges),
    seed,
    particles: { positions: lpt.positions!, velocities: lpt.velocities },
  };
}

/** Catalog metadata provenance of a painted catalog. */
export function paintedProvenance(painter: Painter, modelName: string): Record<string, unknown> {
  return { source: "painter", model: modelName, modelSha256: painter.card.sha256 };
}
