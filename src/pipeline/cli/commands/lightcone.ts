/**
 * `mocksmith lightcone`: halo catalogs (Parquet files or directories of parts, one per redshift)
 * → haloes on the observer's past light cone, as Parquet parts and an Arrow IPC stream; or, with
 * --painted, shells painted from 2LPT fields at their own redshifts (pipeline/painted-lightcone.ts).
 */
import { Command, InvalidArgumentError } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import { comovingDistance } from "../../../cosmo/distance.js";
import type { Cosmology } from "../../../cosmo/cosmology.js";
import { openCatalogSnapshot, writeLightcone, type Cone } from "../../../stages/lightcone.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseInteger, parseNumber, parseNumberList } from "../option-parsers.js";
import { addCosmologyOptions, cosmologyFromFlags, type CosmologyFlags } from "../cosmology-options.js";
import { writePaintedLightcone } from "../../painted-lightcone.js";
import { SKY_UNIT_NSIDE_MAX, writeLightconeShard } from "../../lightcone-shard.js";
import { parseShard, type Shard } from "../../shard.js";

interface LightconeOptions extends CosmologyFlags {
  catalog?: string;
  painted?: boolean;
  model?: string;
  box?: number;
  particles?: number;
  seed?: number;
  shellWidth?: number;
  shellEdges?: number[];
  massBins?: number[];
  tile: number;
  workers: number;
  device: string;
  observer?: string;
  chiMax?: number;
  zMax?: number;
  cone?: string;
  nside: number;
  maxRedshiftGap: number;
  shard?: Shard;
  output: string;
}

function parseTriple(v: string): [number, number, number] {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x)))
    throw new InvalidArgumentError("expected three numbers a,b,c.");
  return [parts[0], parts[1], parts[2]];
}

function observerOf(opts: LightconeOptions, L: number): [number, number, number] {
  if (opts.observer === "origin") return [0, 0, 0];
  if (opts.observer) return parseTriple(opts.observer);
  return [L / 2, L / 2, L / 2];
}

function coneOf(opts: LightconeOptions): Cone | undefined {
  if (!opts.cone) return undefined;
  const [ra, dec, radius] = parseTriple(opts.cone);
  return { ra, dec, radius };
}

/** The distance limit of --chi-max or --z-max (undefined when neither is given). */
function distanceLimit(opts: LightconeOptions, cosmology: Cosmology): number | undefined {
  if (opts.chiMax !== undefined && opts.zMax !== undefined)
    throw new InputError("--chi-max/--z-max", "give one of --chi-max D (Mpc/h) or --z-max Z, not both");
  return opts.chiMax ?? (opts.zMax !== undefined ? comovingDistance(cosmology, opts.zMax) : undefined);
}

const PAINTED_ONLY = [
  ["model", "--model"],
  ["box", "--box"],
  ["particles", "--particles"],
  ["seed", "--seed"],
  ["shellWidth", "--shell-width"],
  ["shellEdges", "--shell-edges"],
  ["massBins", "--mass-bins"],
  ["omegaM", "--omega-m"],
  ["omegaB", "--omega-b"],
  ["h", "--h"],
  ["sigma8", "--sigma8"],
  ["ns", "--ns"],
] as const;

/** Shell edges (Mpc/h) of --shell-width to the distance limit, or of --shell-edges. */
function shellEdgesOf(opts: LightconeOptions, chiMax: number | undefined): { edges: number[]; key: string } {
  if ((opts.shellWidth === undefined) === (opts.shellEdges === undefined))
    throw new InputError(
      "--shell-width/--shell-edges",
      "--painted needs exactly one of --shell-width DCHI or --shell-edges a,b,c",
    );
  if (opts.shellWidth !== undefined) {
    if (chiMax === undefined)
      throw new InputError(
        "--chi-max/--z-max",
        "--shell-width needs the distance limit --chi-max D or --z-max Z",
      );
    const w = opts.shellWidth;
    const edges = [0];
    // Edges k·w below the limit, then the limit itself (a sliver under 1e-6 w is merged).
    for (let k = 1; k * w < chiMax - 1e-6 * w; k++) edges.push(k * w);
    edges.push(chiMax);
    return { edges, key: "--shell-width" };
  }
  const edges = opts.shellEdges!;
  if (edges.length < 2)
    throw new InputError("--shell-edges", `need at least two distances (one shell), got ${edges.join(",")}`);
  const last = edges[edges.length - 1];
  if (chiMax !== undefined && last > chiMax * (1 + 1e-12))
    throw new InputError(
      "--shell-edges",
      `the last edge ${last} Mpc/h is beyond the distance limit ${chiMax.toFixed(3)} Mpc/h of --chi-max/--z-max`,
    );
  return { edges, key: "--shell-edges" };
}

async function runPaintedLightcone(opts: LightconeOptions, global: GlobalOptions): Promise<void> {
  const ctx = makeContext(global);
  const t0 = performance.now();
  if (opts.catalog !== undefined)
    throw new InputError(
      "--catalog",
      "--painted paints its own shells; give --catalog or --painted, not both",
    );
  if (opts.model === undefined)
    throw new InputError(
      "--model",
      "--painted needs the painter: --model PATH.onnx (card beside it) or default",
    );
  if (opts.box === undefined) throw new InputError("--box", "--painted needs the box side --box L (Mpc/h)");
  if (opts.particles === undefined)
    throw new InputError("--particles", "--painted needs the 2LPT particles per side --particles N");
  let massBins: [number, number, number] | undefined;
  if (opts.massBins) {
    const [lo, hi, n] = opts.massBins;
    if (opts.massBins.length !== 3 || !(lo > 0 && hi > lo) || !Number.isInteger(n) || n < 1)
      throw new InputError(
        "--mass-bins",
        "expected min,max,count with 0 < min < max and an integer count ≥ 1",
      );
    massBins = [lo, hi, n];
  }
  const cosmology = cosmologyFromFlags(opts);
  const { edges, key } = shellEdgesOf(opts, distanceLimit(opts, cosmology));
  const L = opts.box;
  const seed = opts.seed ?? 1;
  const r = await writePaintedLightcone(
    {
      model: opts.model,
      cosmology,
      boxSize: L,
      particles: opts.particles,
      seed,
      edges,
      observer: observerOf(opts, L),
      cone: coneOf(opts),
      nside: opts.nside,
      maxRedshiftGap: opts.maxRedshiftGap,
      shellKey: key,
      rangeKey: key === "--shell-edges" ? key : opts.zMax !== undefined ? "--z-max" : "--chi-max",
      massBins,
      tile: opts.tile,
      workers: opts.workers,
      device: opts.device,
    },
    { outDir: opts.output, shard: opts.shard, progress: ctx.progress },
  );
  const secs = (performance.now() - t0) / 1000;
  const shells = r.plan.shells.length;
  const chiMax = edges[edges.length - 1];
  if (opts.shard && r.units) {
    const { start, end, total } = r.units;
    ctx.summary(
      `painted light cone shard ${opts.shard.index}/${opts.shard.count} ${opts.output}: ${r.rows} haloes from ${shells} shell(s) in ${end > start ? `sky pixels ${start}…${end - 1}` : "no sky pixels"} of ${total} in ${secs.toFixed(1)} s (merge the shards with mocksmith merge)`,
      { output: opts.output, rows: r.rows, shard: opts.shard, units: r.units, files: r.files, seconds: secs },
    );
    return;
  }
  ctx.summary(
    `painted light cone ${opts.output}: ${r.rows} haloes to χ = ${chiMax.toFixed(1)} Mpc/h in ${shells} shell(s) painted by ${r.painter.card.name}, ${r.plan.replicas.length} replica(s), ${r.parts?.length ?? 0} part(s) in ${secs.toFixed(1)} s`,
    {
      output: opts.output,
      rows: r.rows,
      parts: r.parts,
      ipc: r.ipc,
      shells: r.plan.shells,
      replicas: r.plan.replicas.length,
      chiMax,
      seconds: secs,
    },
  );
}

export async function runLightcone(opts: LightconeOptions, global: GlobalOptions): Promise<void> {
  if (opts.painted) return runPaintedLightcone(opts, global);
  for (const [k, flag] of PAINTED_ONLY)
    if (opts[k] !== undefined)
      throw new InputError(
        flag,
        "is an option of --painted (catalogs carry their own box, seed and cosmology)",
      );
  if (opts.catalog === undefined)
    throw new InputError(
      "--catalog",
      "give the catalogs to place (--catalog a.parquet,b/) or paint shells with --painted",
    );
  const ctx = makeContext(global);
  const t0 = performance.now();
  if ((opts.chiMax === undefined) === (opts.zMax === undefined))
    throw new InputError("--chi-max/--z-max", "give exactly one of --chi-max D (Mpc/h) or --z-max Z");
  const sources = opts.catalog
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const snapshots = sources.map(openCatalogSnapshot);
  const first = snapshots[0];
  for (const s of snapshots.slice(1)) {
    if (JSON.stringify(s.cosmology) !== JSON.stringify(first.cosmology))
      throw new InputError(s.source, `cosmology differs from ${first.source}'s`);
  }
  const L = first.boxSize;
  const observer = observerOf(opts, L);
  const cone = coneOf(opts);
  const chiMax = opts.chiMax ?? comovingDistance(first.cosmology, opts.zMax!);
  const geometry = {
    boxSize: L,
    cosmology: first.cosmology,
    observer: [observer[0], observer[1], observer[2]] as const,
    chiMax,
    cone,
    nside: opts.nside,
    maxRedshiftGap: opts.maxRedshiftGap,
    rangeKey: opts.zMax !== undefined ? "--z-max" : "--chi-max",
  };
  const extra = {
    catalogs: snapshots.map((s) => ({
      source: s.source,
      redshift: s.redshift,
      seed: s.metadata["mocksmith.seed"],
    })),
  };
  if (opts.shard) {
    const shard = opts.shard;
    const r = writeLightconeShard(snapshots, geometry, shard, {
      outDir: opts.output,
      progress: ctx.progress,
      extra,
    });
    const secs = (performance.now() - t0) / 1000;
    const { start, end, total } = r.units;
    ctx.summary(
      `light cone shard ${shard.index}/${shard.count} ${opts.output}: ${r.rows} haloes in ${end > start ? `sky pixels ${start}…${end - 1}` : "no sky pixels"} of ${total} in ${secs.toFixed(1)} s (merge the shards with mocksmith merge)`,
      { output: opts.output, rows: r.rows, shard, units: r.units, files: r.files.length, seconds: secs },
    );
    return;
  }
  const result = await writeLightcone(snapshots, geometry, {
    outDir: opts.output,
    progress: ctx.progress,
    extra,
  });
  const secs = (performance.now() - t0) / 1000;
  ctx.summary(
    `light cone ${opts.output}: ${result.rows} haloes to χ = ${chiMax.toFixed(1)} Mpc/h from ${snapshots.length} catalog(s), ${result.plan.replicas.length} replica(s), ${result.parts.length} part(s) in ${secs.toFixed(1)} s`,
    {
      output: opts.output,
      rows: result.rows,
      parts: result.parts,
      ipc: result.ipc,
      replicas: result.plan.replicas.length,
      chiMax,
      seconds: secs,
    },
  );
}

export function registerLightcone(program: Command): void {
  const cmd = program
    .command("lightcone")
    .description(
      "place halo catalogs (or painted shells) on an observer's past light cone (RA, Dec, z_cos, z_obs, χ, HEALPix)",
    )
    .option(
      "--catalog <paths>",
      "comma-separated catalogs, one per redshift: a .parquet file or a directory of part-NNNNN.parquet (redshift, box and cosmology from their metadata)",
    )
    .option(
      "--painted",
      "instead of catalogs, paint each shell: 2LPT at the shell's redshift (same phases), painted by --model, a catalog sampled per shell",
    )
    .option("--model <path|default>", "--painted: painter model (.onnx with its .card.json) or default")
    .option(
      "--box <L>",
      "--painted: box side, Mpc/h (voxels: L / the model's voxel size)",
      parseNumber({ minExclusive: 0 }),
    )
    .option(
      "--particles <N>",
      "--painted: 2LPT particles per side (prime factors 2, 3, 5; the model's training particle spacing if its card gives one)",
      parseInteger(2, 4096),
    )
    .option(
      "--seed <s>",
      "--painted: phases of the 2LPT fields and root of the per-shell sampling seeds (default 1)",
      parseInteger(0, 0xffffffff),
    )
    .option(
      "--shell-width <DCHI>",
      "--painted: shells of this comoving width from the observer to the distance limit, Mpc/h",
      parseNumber({ minExclusive: 0 }),
    )
    .option(
      "--shell-edges <a,b,c>",
      "--painted: shell edges in comoving distance, Mpc/h, increasing (the light cone covers [a, last))",
      parseNumberList(parseNumber({ min: 0 })),
    )
    .option(
      "--mass-bins <min,max,count>",
      "--painted: logarithmic mass bins, Msun/h, for a model whose card does not give its channels' masses",
      parseNumberList(parseNumber({ minExclusive: 0 })),
    )
    .option("--tile <T>", "--painted: painter tile core side, voxels", parseInteger(1, 4096), 32)
    .option("--workers <W>", "--painted: painter worker threads", parseInteger(1, 64), 2)
    .option("--device <spec>", "--painted: painter device, cpu | cuda[:ids]", "cpu")
    .option(
      "--observer <x,y,z|origin>",
      "observer position in box coordinates, Mpc/h (default: the box centre)",
    )
    .option(
      "--chi-max <D>",
      "comoving distance limit, Mpc/h (--painted with --shell-edges: optional bound on the edges)",
      parseNumber({ minExclusive: 0 }),
    )
    .option("--z-max <Z>", "redshift limit (instead of --chi-max)", parseNumber({ minExclusive: 0 }))
    .option("--cone <ra,dec,radius>", "cone footprint in degrees (default: full sky)")
    .option(
      "--nside <N>",
      "HEALPix nside of the nested pixel column (power of two)",
      parseInteger(1, 2 ** 24),
      64,
    )
    .option(
      "--max-redshift-gap <dz>",
      "largest redshift distance between a halo and the catalog it is taken from (--painted: between a halo and its shell's painted redshift, and between a shell's and the model's training redshift)",
      parseNumber({ minExclusive: 0 }),
      0.25,
    )
    .option(
      "--shard <i/n>",
      `make only shard i of n (0-based) of the sky — contiguous ranges of the nested HEALPix pixels at nside min(--nside, ${SKY_UNIT_NSIDE_MAX}), each halo in the pixel of its own healpix value — and a shard manifest for \`mocksmith merge\``,
      parseShard,
    )
    .requiredOption(
      "-o, --output <dir>",
      "output directory, new or empty (part-NNNNN.parquet and lightcone.arrows, written whole under a temporary name and renamed into place; with --shard, the shard's directory)",
    )
    .addHelpText(
      "after",
      `
The box is replicated periodically as far as the distance limit needs; each halo is taken from
the catalog whose redshift is nearest its cosmological redshift z(χ). RA/Dec are measured in the
box axes around the observer; z_obs = (1 + z_cos)(1 + v_los/c) − 1.

With --painted, each shell [χ1, χ2) is painted at z(χ_eff), χ_eff = (3/4)(χ2⁴ − χ1⁴)/(χ2³ − χ1³)
(its volume-weighted mean distance): the 2LPT field of --seed's phases at that redshift, painted by
--model, and a catalog drawn from the counts with the shell's own seed (shells are independent
draws; the output is deterministic). Cosmology: the --omega-m … flags (defaults as in lpt).
Example: mocksmith lightcone --painted --model painter.onnx --box 256 --particles 128 --seed 7
  --shell-width 100 --chi-max 600 -o cone/`,
    )
    .action(async (opts: LightconeOptions, command: Command) => {
      await runLightcone(opts, command.optsWithGlobals() as GlobalOptions);
    });
  addCosmologyOptions(cmd);
}
