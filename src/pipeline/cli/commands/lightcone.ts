/**
 * `mocksmith lightcone`: halo catalogs (Parquet files or directories of parts, one per redshift)
 * → haloes on the observer's past light cone, as Parquet parts and an Arrow IPC stream.
 */
import { Command, InvalidArgumentError } from "commander";
import { InputError } from "../../../io/atomic-file.js";
import { comovingDistance } from "../../../cosmo/distance.js";
import { openCatalogSnapshot, writeLightcone, type Cone } from "../../../stages/lightcone.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import { parseInteger, parseNumber } from "../option-parsers.js";
import { SKY_UNIT_NSIDE_MAX, writeLightconeShard } from "../../lightcone-shard.js";
import { parseShard, type Shard } from "../../shard.js";

interface LightconeOptions {
  catalog: string;
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

export async function runLightcone(opts: LightconeOptions, global: GlobalOptions): Promise<void> {
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
  const observer =
    opts.observer === "origin"
      ? ([0, 0, 0] as const)
      : opts.observer
        ? parseTriple(opts.observer)
        : ([L / 2, L / 2, L / 2] as const);
  let cone: Cone | undefined;
  if (opts.cone) {
    const [ra, dec, radius] = parseTriple(opts.cone);
    cone = { ra, dec, radius };
  }
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
  program
    .command("lightcone")
    .description("place halo catalogs on an observer's past light cone (RA, Dec, z_cos, z_obs, χ, HEALPix)")
    .requiredOption(
      "--catalog <paths>",
      "comma-separated catalogs, one per redshift: a .parquet file or a directory of part-NNNNN.parquet (redshift, box and cosmology from their metadata)",
    )
    .option(
      "--observer <x,y,z|origin>",
      "observer position in box coordinates, Mpc/h (default: the box centre)",
    )
    .option("--chi-max <D>", "comoving distance limit, Mpc/h", parseNumber({ minExclusive: 0 }))
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
      "largest redshift distance between a halo and the catalog it is taken from",
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
      "output directory (part-NNNNN.parquet and lightcone.arrows; with --shard, the shard's directory)",
    )
    .addHelpText(
      "after",
      `
The box is replicated periodically as far as the distance limit needs; each halo is taken from
the catalog whose redshift is nearest its cosmological redshift z(χ). RA/Dec are measured in the
box axes around the observer; z_obs = (1 + z_cos)(1 + v_los/c) − 1.`,
    )
    .action(async (opts: LightconeOptions, cmd: Command) => {
      await runLightcone(opts, cmd.optsWithGlobals() as GlobalOptions);
    });
}
