/** `mocksmith lpt`: a 2LPT (or Zel'dovich, or linear) density box as .npy + JSON sidecar. */
import { InvalidArgumentError, Option, type Command } from "commander";
import { runLpt } from "../../../cosmo/lpt.js";
import { isFftFriendly } from "../../../cosmo/fft/real-fft3d.js";
import { NOISE_ALGORITHM } from "../../../cosmo/white-noise.js";
import { readWhiteNoise } from "../../../io/white-noise-file.js";
import { InputError, assertWritableDestination } from "../../../io/atomic-file.js";
import { makeGridMetadata, sidecarPathFor, writeGridMetadata } from "../../../io/grid-metadata.js";
import { writeNpyFloat32 } from "../../../io/npy.js";
import { makeContext, type GlobalOptions } from "../command-context.js";
import {
  addCosmologyOptions,
  cosmologyFromFlags,
  cosmologyRecord,
  type CosmologyFlags,
} from "../cosmology-options.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";
import fs from "node:fs";

interface LptFlags extends CosmologyFlags {
  grid: number;
  box: number;
  z: number;
  seed: number;
  linear?: boolean;
  order: "1" | "2";
  noise?: string;
  transfer: "eisenstein-hu" | "eisenstein-hu-nowiggle";
  threads?: number;
  output: string;
}

function parseGridSide(v: string): number {
  const n = parseInteger(2, 4096)(v);
  if (!isFftFriendly(n)) {
    throw new InvalidArgumentError(
      `${n} has a prime factor above 5; use a side whose only prime factors are 2, 3 and 5 (e.g. 64, 96, 128, 160, 192, 256).`,
    );
  }
  return n;
}

export function registerLpt(program: Command): void {
  const cmd = program
    .command("lpt")
    .description("Generate a 2LPT density contrast box (CIC-deposited particles) or the linear field")
    .requiredOption("--grid <n>", "particles and cells per side (prime factors 2, 3, 5 only)", parseGridSide)
    .requiredOption("--box <L>", "box side in Mpc/h", parseNumber({ minExclusive: 0 }))
    .option("--z <z>", "redshift", parseNumber({ min: 0 }), 0)
    .option("--seed <s>", "random seed (white noise keyed by seed and voxel)", parseInteger(0, 0xffffffff), 1)
    .option("--linear", "write the linear density contrast D1(z)·δ_L instead of the 2LPT field")
    .addOption(
      new Option("--order <k>", "LPT order: 1 = Zel'dovich, 2 = 2LPT").choices(["1", "2"]).default("2"),
    )
    .option(
      "--noise <white.npy>",
      "read unit white noise (float32/float64, shape (grid, grid, grid)) instead of generating it",
    )
    .addOption(
      new Option("--transfer <model>", "linear transfer function")
        .argParser(parseChoice(["eisenstein-hu", "eisenstein-hu-nowiggle"] as const))
        .default("eisenstein-hu"),
    )
    .option("--threads <t>", "FFT threads (results are identical for any value)", parseInteger(1, 64))
    .requiredOption(
      "-o, --output <file.npy>",
      "output grid (float32, C order, [ix][iy][iz]); a .json sidecar is written beside it",
    );
  addCosmologyOptions(cmd);
  cmd.action((flags: LptFlags, command: Command) => {
    const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
    const cosmology = cosmologyFromFlags(flags);
    const out = flags.output;
    assertWritableDestination(out);
    assertWritableDestination(sidecarPathFor(out));
    if (fs.existsSync(out) && fs.statSync(out).isDirectory())
      throw new InputError(out, "is a directory; give a file name");
    let noise: Float32Array | undefined;
    if (flags.noise) {
      noise = readWhiteNoise(flags.noise, [flags.grid, flags.grid, flags.grid]);
    }
    const t0 = performance.now();
    ctx.progress.start("lpt", 8);
    const result = runLpt({
      gridSide: flags.grid,
      boxSize: flags.box,
      redshift: flags.z,
      seed: flags.seed,
      cosmology,
      order: flags.order === "1" ? 1 : 2,
      transfer: flags.transfer,
      noise,
      threads: flags.threads,
      want: flags.linear ? { linearDensity: true } : { density: true },
      onStage: (_s, done) => ctx.progress.advance("lpt", done),
    });
    ctx.progress.finish("lpt");
    const grid = flags.linear ? result.linearDensity : result.density;
    if (!grid) throw new Error("internal: requested grid was not produced");
    const shape = [flags.grid, flags.grid, flags.grid] as [number, number, number];
    writeNpyFloat32(out, grid, shape);
    const kind = flags.linear ? "linear-delta" : "delta";
    writeGridMetadata(
      out,
      makeGridMetadata({
        kind,
        shape,
        boxSize: flags.box,
        redshift: flags.z,
        periodic: true,
        cosmology: cosmologyRecord(cosmology),
        seed: flags.noise ? undefined : flags.seed,
        provenance: {
          command: "lpt",
          order: flags.linear ? "linear" : Number(flags.order),
          transfer: flags.transfer,
          noise: flags.noise ? { file: flags.noise } : { algorithm: NOISE_ALGORITHM, seed: flags.seed },
          massAssignment: flags.linear ? "none" : "cic",
          growth: result.growth,
        },
      }),
    );
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    ctx.summary(
      `wrote ${out} (${kind}, ${flags.grid}³, L = ${flags.box} Mpc/h, z = ${flags.z}) and ${sidecarPathFor(out)} in ${secs} s`,
      { output: out, sidecar: sidecarPathFor(out), kind, seconds: Number(secs) },
    );
  });
}
