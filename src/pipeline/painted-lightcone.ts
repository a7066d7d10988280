/**
 * `mocksmith lightcone --painted`: a light cone whose shells are painted, not cut from existing
 * catalogs. For each comoving-distance shell [χ₁, χ₂) (stages/lightcone planPaintedLightcone):
 *   1. the 2LPT field of the run's phases (one seed for every shell) at z(χ_eff), with
 *      χ_eff = (3/4)(χ₂⁴ − χ₁⁴)/(χ₂³ − χ₁³) the shell's volume-weighted mean distance;
 *   2. painted by the model into expected halo counts per mass bin (pipeline/painted-catalog.ts,
 *      the main job's path);
 *   3. a catalog sampled from those counts with the shell's own seed (paintedShellSeed), so the
 *      shells are independent Poisson draws and the light cone is deterministic;
 *   4. its haloes placed in the shell by the light-cone stage (replication, RSD, HEALPix, cone).
 * Halo ids are the catalog's (voxel·2^24 + bin·2^16 + k) plus shell·2^56, unique over the light
 * cone (voxels < 2^32, so at most 256 shells). Each shell is one input part of the light-cone writers, so `--shard` (sky pixels) and
 * `mocksmith merge` work as for catalog light cones; every shard paints every shell.
 *
 * Output: the whole light cone is written into a temporary directory beside `outDir` and renamed
 * into place when complete (a shard's directory is committed by its manifest, written last).
 *
 * Redshift range: a shell spans z(χ₁)…z(χ₂) around its painted redshift, and a painter whose card
 * gives its training redshift is trusted only near it; both distances are bounded by
 * --max-redshift-gap (the gap the catalog mode allows between a halo and its snapshot).
 */
import path from "node:path";
import type { Cosmology } from "../cosmo/cosmology.js";
import { redshiftAtComovingDistance } from "../cosmo/distance.js";
import { runLpt } from "../cosmo/lpt.js";
import { InputError, writeDirectoryAtomically } from "../io/atomic-file.js";
import { arrayGridSource } from "../io/grid-reader.js";
import type { CatalogColumns } from "../io/halo-catalog.js";
import { sampleCatalog } from "../stages/catalog.js";
import {
  LightconePartWriter,
  lightconeMetadata,
  planPaintedLightcone,
  type Cone,
  type LightconeGeometry,
  type LightconePlan,
} from "../stages/lightcone.js";
import { LightconeShardWriter } from "./lightcone-shard.js";
import { loadPainter, paintedSampling, paintLptDensity, type Painter } from "./painted-catalog.js";
import { silentProgress, type Progress } from "./progress.js";
import type { Shard } from "./shard.js";

export interface PaintedLightconeSpec {
  /** Model path or "default". */
  model: string;
  cosmology: Cosmology;
  /** Box side, Mpc/h, and 2LPT particles per side. */
  boxSize: number;
  particles: number;
  /** Phases of the 2LPT fields (all shells) and root of the shells' sampling seeds. */
  seed: number;
  /** Shell edges in comoving distance, Mpc/h, increasing. */
  edges: number[];
  observer: readonly [number, number, number];
  cone?: Cone;
  nside: number;
  maxRedshiftGap: number;
  /** Flag that set the shells, for errors ("--shell-width" or "--shell-edges"). */
  shellKey: string;
  /** Flag that set the far end of the light cone ("--chi-max", "--z-max" or "--shell-edges"). */
  rangeKey: string;
  /** Mass bins [min, max, count] for a card without massBins. */
  massBins?: [number, number, number];
  tile: number;
  workers: number;
  device: string;
}

export interface PaintedLightconeWrite {
  outDir: string;
  shard?: Shard;
  progress?: Progress;
  /** Extra provenance for the metadata. */
  extra?: Record<string, unknown>;
}

export interface PaintedLightconeResult {
  rows: number;
  plan: LightconePlan;
  painter: Painter;
  /** Unsharded: the Parquet parts and the IPC stream. */
  parts?: string[];
  ipc?: string;
  /** Sharded: the sky units made and the files written. */
  units?: { total: number; start: number; end: number };
  files?: number;
}

/** The catalog seed of shell `shell` (murmur3's 32-bit finaliser of seed and shell): distinct per shell. */
export function paintedShellSeed(seed: number, shell: number): number {
  let h = (seed ^ Math.imul(shell + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Shells a light cone may have: the shell index takes the top 8 bits of the halo ids. */
export const MAX_PAINTED_SHELLS = 256;

/** Refuses shells wider than the allowed redshift gap, or far from the painter's training redshift. */
function checkShellRedshifts(spec: PaintedLightconeSpec, plan: LightconePlan, painter: Painter): void {
  const gap = spec.maxRedshiftGap;
  const trained = painter.card.training?.redshift;
  plan.shells.forEach((s, i) => {
    const zLow = redshiftAtComovingDistance(spec.cosmology, s.chiLow);
    const zHigh = redshiftAtComovingDistance(spec.cosmology, s.chiHigh);
    const span = Math.max(zHigh - s.redshift, s.redshift - zLow);
    if (span > gap + 1e-12)
      throw new InputError(
        spec.shellKey,
        `shell ${i} (χ ${s.chiLow}…${s.chiHigh} Mpc/h, z ${zLow.toFixed(4)}…${zHigh.toFixed(4)}) reaches ${span.toFixed(4)} from its painted redshift ${s.redshift.toFixed(4)}; use narrower shells (max redshift gap ${gap})`,
      );
    if (trained !== undefined && Math.abs(s.redshift - trained) > gap + 1e-12)
      throw new InputError(
        spec.rangeKey,
        `shell ${i} (χ ${s.chiLow}…${s.chiHigh} Mpc/h) is painted at z = ${s.redshift.toFixed(4)}, beyond the redshift range of the model ${painter.modelPath} (trained at z = ${trained}, used to ±${gap}, --max-redshift-gap); end the light cone nearer`,
      );
  });
}

/** Paints, samples and places every shell; writes the light cone (or one shard of it). */
export async function writePaintedLightcone(
  spec: PaintedLightconeSpec,
  write: PaintedLightconeWrite,
): Promise<PaintedLightconeResult> {
  const painter = await loadPainter(
    spec.model,
    { size: spec.boxSize, particles: spec.particles },
    { model: "--model", voxel: "--box", particles: "--particles", massBins: "--mass-bins" },
    spec.massBins,
  );
  const edges = spec.edges;
  const geometry: LightconeGeometry = {
    boxSize: spec.boxSize,
    cosmology: spec.cosmology,
    observer: spec.observer,
    chiMin: edges[0],
    chiMax: edges[edges.length - 1],
    cone: spec.cone,
    nside: spec.nside,
    rangeKey: spec.rangeKey,
  };
  const plan = planPaintedLightcone(geometry, edges);
  if (plan.shells.length > MAX_PAINTED_SHELLS)
    throw new InputError(
      spec.shellKey,
      `${plan.shells.length} shells; at most ${MAX_PAINTED_SHELLS} (the shell index is part of the halo ids)`,
    );
  if (painter.voxels ** 3 > 2 ** 32)
    throw new InputError("--box", `${painter.voxels}³ voxels; at most 2^32 for unique halo ids`);
  checkShellRedshifts(spec, plan, painter);
  const seeds = plan.shells.map((_, i) => paintedShellSeed(spec.seed, i));
  const modelName = path.basename(painter.modelPath);
  const metadata = lightconeMetadata(
    geometry,
    plan,
    plan.shells.map((s, i) => ({ source: `painted (catalog seed ${seeds[i]})`, redshift: s.redshift })),
    {
      ...write.extra,
      seed: spec.seed,
      painted: {
        model: modelName,
        modelSha256: painter.card.sha256,
        particles: spec.particles,
        voxels: painter.voxels,
        massBinEdges: painter.massEdges,
        shellRedshift: "z(chi_eff), chi_eff = (3/4)(chi2^4 - chi1^4)/(chi2^3 - chi1^3)",
        shellSeeds: seeds,
        idLayout: "shell*2^56 + voxel*2^24 + mass_bin*2^16 + k",
      },
    },
  );
  const progress = write.progress ?? silentProgress;
  if (write.shard) {
    const shardWriter = new LightconeShardWriter(geometry, plan, metadata, write.shard, plan.shells.length, {
      outDir: write.outDir,
    });
    // A shard owning no sky units (more shards than units) paints nothing.
    const rows = await paintShells(spec, plan, painter, seeds, progress, {
      add: (halos, i) => shardWriter.add(halos, i),
      skip: shardWriter.ownsUnits ? undefined : () => shardWriter.skip(),
    });
    const r = shardWriter.finish();
    return { rows, plan, painter, units: r.units, files: r.files.length };
  }
  return writeDirectoryAtomically(write.outDir, async (tmp) => {
    const partWriter = new LightconePartWriter(geometry, plan, metadata, { outDir: tmp });
    const rows = await paintShells(spec, plan, painter, seeds, progress, {
      add: (halos, i) => partWriter.add(halos, i),
    });
    const r = partWriter.finish();
    const moved = (f: string) => path.join(write.outDir, path.basename(f));
    return { rows, plan, painter, parts: r.parts.map(moved), ipc: r.ipc && moved(r.ipc) };
  });
}

/** Where the shells' catalogs go, in shell order: `add` returns the rows kept; with `skip`, no work. */
interface ShellSink {
  add: (halos: CatalogColumns, shell: number) => number;
  skip?: () => void;
}

/** Paints, samples and hands over each shell's catalog in order; returns the rows kept. */
async function paintShells(
  spec: PaintedLightconeSpec,
  plan: LightconePlan,
  painter: Painter,
  seeds: readonly number[],
  progress: Progress,
  sink: ShellSink,
): Promise<number> {
  let rows = 0;
  progress.start("shells", plan.shells.length);
  for (let i = 0; i < plan.shells.length; i++) {
    if (sink.skip) {
      sink.skip();
    } else {
      const z = plan.shells[i].redshift;
      const lpt = runLpt({
        gridSide: spec.particles,
        boxSize: spec.boxSize,
        redshift: z,
        seed: spec.seed,
        cosmology: spec.cosmology,
        want: { density: true, particles: true },
        densityGridSide: painter.voxels,
      });
      const counts = await paintLptDensity(painter, lpt.density!, spec);
      const bins = painter.massEdges.length - 1;
      const halos = await sampleCatalog(
        arrayGridSource(counts, painter.voxels, bins, `painted counts of shell ${i}`),
        paintedSampling(painter, spec.cosmology, z, spec.boxSize, seeds[i], lpt),
      );
      const shellBits = BigInt(i) << 56n;
      for (let h = 0; h < halos.id.length; h++) halos.id[h] |= shellBits;
      rows += sink.add(halos, i);
    }
    progress.advance("shells", i + 1);
  }
  progress.finish("shells", `${rows} haloes in ${plan.shells.length} painted shell(s)`);
  return rows;
}
