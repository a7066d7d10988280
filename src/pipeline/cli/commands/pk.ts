/** `mocksmith pk`: power spectrum (and cross power, r_c) of grids, printed or written as a table. */
import fs from "node:fs";
import path from "node:path";
import { Option, type Command } from "commander";
import {
  crossPowerSpectrum,
  particlePowerSpectrum,
  powerSpectrum,
  type PowerSpectrumTable,
  type CrossPowerTable,
} from "../../../cosmo/power-spectrum.js";
import { InputError, assertWritableDestination, writeAtomically } from "../../../io/atomic-file.js";
import { readGridMetadata, type GridMetadata } from "../../../io/grid-metadata.js";
import { isNpyFile, readNpyFloat32, requireCubicGrid } from "../../../io/npy.js";
import { makeContext, type CommandContext, type GlobalOptions } from "../command-context.js";
import { readGadget } from "../../../io/gadget.js";
import { parseChoice, parseInteger, parseNumber } from "../option-parsers.js";

type Scheme = "none" | "ngp" | "cic" | "tsc";
interface PkFlags {
  cross?: string;
  box?: number;
  compensate?: Scheme;
  binning: "pylians" | "nbodykit";
  shotNoise?: number;
  as?: "delta" | "density";
  json?: boolean;
  output?: string;
  threads?: number;
  mesh?: number;
  scheme: "ngp" | "cic" | "tsc";
  interlace?: boolean;
  subtractShotNoise?: boolean;
}

interface LoadedGrid {
  file: string;
  data: Float32Array;
  side: number;
  boxSize: number;
  meta?: GridMetadata;
}

/** Reads a cubic grid, resolves its box size from the sidecar and/or --box, converts ρ or counts to δ. */
function loadGrid(file: string, flags: PkFlags): LoadedGrid {
  const arr = readNpyFloat32(file, { shared: true });
  const side = requireCubicGrid(file, arr.shape);
  const meta = readGridMetadata(file);
  let boxSize = flags.box;
  if (meta) {
    if (meta.shape.some((v, i) => v !== arr.shape[i])) {
      throw new InputError(
        file,
        `shape (${arr.shape.join(", ")}) disagrees with its sidecar (${meta.shape.join(", ")})`,
      );
    }
    if (boxSize !== undefined && Math.abs(boxSize - meta.boxSize) > 1e-9 * meta.boxSize) {
      throw new InputError(
        file,
        `--box ${boxSize} disagrees with the sidecar's box size ${meta.boxSize} Mpc/h`,
      );
    }
    boxSize = meta.boxSize;
  }
  if (boxSize === undefined)
    throw new InputError(file, "no .json sidecar with the box size: pass --box L (Mpc/h)");
  const kind =
    flags.as ?? (meta && (meta.kind === "density" || meta.kind === "counts") ? "density" : "delta");
  if (kind === "density") {
    let mean = 0;
    for (let i = 0; i < arr.data.length; i++) mean += arr.data[i];
    mean /= arr.data.length;
    if (!(mean > 0))
      throw new InputError(file, `treated as a density but its mean is ${mean}; pass --as delta`);
    for (let i = 0; i < arr.data.length; i++) arr.data[i] = arr.data[i] / mean - 1;
  }
  return { file, data: arr.data, side, boxSize, meta };
}

function defaultCompensation(g: LoadedGrid): Scheme {
  const scheme = g.meta?.provenance?.massAssignment;
  return scheme === "ngp" || scheme === "cic" || scheme === "tsc" ? scheme : "none";
}

function tableRows(t: PowerSpectrumTable | CrossPowerTable): Record<string, number>[] {
  const cross = "correlation" in t;
  return Array.from(t.k, (k, i) => {
    const row: Record<string, number> = { k, power: t.power[i], modes: t.modes[i] };
    if (cross) {
      const c = t as CrossPowerTable;
      row.powerA = c.powerA[i];
      row.powerB = c.powerB[i];
      row.correlation = c.correlation[i];
    }
    return row;
  });
}

function formatText(rows: Record<string, number>[]): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0]);
  const lines = [cols.map((c) => c.padStart(14)).join(" ")];
  for (const r of rows)
    lines.push(cols.map((c) => (c === "modes" ? String(r[c]) : r[c].toPrecision(7)).padStart(14)).join(" "));
  return lines.join("\n") + "\n";
}

function formatCsv(rows: Record<string, number>[]): string {
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0]);
  return [cols.join(","), ...rows.map((r) => cols.map((c) => String(r[c])).join(","))].join("\n") + "\n";
}

/** The table document shared by grid and particle spectra. */
function tableDocument(
  statistic: string,
  fields: string[],
  table: PowerSpectrumTable | CrossPowerTable,
  extra: Record<string, unknown>,
): Record<string, unknown> & { rows: Record<string, number>[] } {
  return {
    statistic,
    fields,
    ...extra,
    boxSize: table.boxSize,
    gridSide: table.shape[0],
    binning: table.binning,
    compensate: table.compensate,
    shotNoise: table.shotNoise,
    kFundamental: table.kFundamental,
    kNyquist: table.kNyquist,
    units: { k: "h/Mpc", power: "(Mpc/h)^3" },
    rows: tableRows(table),
  };
}

function emit(
  doc: Record<string, unknown> & { rows: Record<string, number>[] },
  flags: PkFlags,
  ctx: CommandContext,
  what: string,
): void {
  const rows = doc.rows;
  if (flags.output) {
    const text = flags.output.toLowerCase().endsWith(".csv")
      ? formatCsv(rows)
      : JSON.stringify(doc, null, 2) + "\n";
    writeAtomically(flags.output, (tmp) => fs.writeFileSync(tmp, text));
  } else {
    process.stdout.write(flags.json ? JSON.stringify(doc) + "\n" : formatText(rows));
  }
  ctx.summary(
    `${what}: ${rows.length} bins, k ${rows[0]?.k.toPrecision(3)}–${rows[rows.length - 1]?.k.toPrecision(3)} h/Mpc, ` +
      `compensation ${String(doc.compensate)}` +
      (flags.output ? `; wrote ${flags.output}` : ""),
    { output: flags.output ?? "stdout", bins: rows.length },
  );
}

/** P(k) of a particle snapshot: deposit, optional interlacing, compensation, optional shot noise. */
function particleSpectrum(file: string, flags: PkFlags, ctx: CommandContext): void {
  if (flags.cross)
    throw new InputError(file, "cross spectra of particle snapshots are not supported; grid them first");
  if (flags.mesh === undefined)
    throw new InputError(file, "is not a .npy grid; for a particle snapshot pass --mesh N");
  const snap = readGadget(file);
  const box = snap.header.boxSize;
  if (flags.box !== undefined && Math.abs(flags.box - box) > 1e-6 * box) {
    throw new InputError(file, `--box ${flags.box} disagrees with the snapshot's box size ${box} Mpc/h`);
  }
  ctx.progress.start("pk", 1);
  const table = particlePowerSpectrum(snap.positions, flags.mesh, box, {
    scheme: flags.scheme,
    interlaced: Boolean(flags.interlace),
    subtractShotNoise: Boolean(flags.subtractShotNoise),
    binning: flags.binning,
    threads: flags.threads,
  });
  ctx.progress.finish("pk");
  const particles = snap.positions.length / 3;
  const doc = tableDocument("power", [file], table, { particles });
  emit(doc, flags, ctx, `power spectrum of ${file} (${particles} particles on ${flags.mesh}³)`);
}

export function registerPk(program: Command): void {
  program
    .command("pk")
    .description("Power spectrum of a grid (δ, ρ or counts), or cross power and r_c(k) of two grids")
    .argument(
      "<field>",
      "a cubic .npy grid (box size from its .json sidecar or --box), or a Gadget snapshot with --mesh",
    )
    .option("--cross <other.npy>", "second grid: report P_ab, P_aa, P_bb and r_c = P_ab/√(P_aa P_bb)")
    .option("--box <L>", "box side in Mpc/h (for grids without a sidecar)", parseNumber({ minExclusive: 0 }))
    .addOption(
      new Option(
        "--compensate <scheme>",
        "divide out a mass-assignment window for every field (default: each sidecar's scheme, else none)",
      ).argParser(parseChoice(["none", "ngp", "cic", "tsc"] as const)),
    )
    .addOption(
      new Option("--binning <convention>", "pylians: bins to the grid corner; nbodykit: bins stop at Nyquist")
        .argParser(parseChoice(["pylians", "nbodykit"] as const))
        .default("pylians"),
    )
    .option("--shot-noise <P>", "constant subtracted from auto spectra, (Mpc/h)³", parseNumber({ min: 0 }))
    .addOption(
      new Option(
        "--as <kind>",
        "how to read the values (default: from the sidecar kind; counts and density → δ = x/x̄ − 1)",
      ).argParser(parseChoice(["delta", "density"] as const)),
    )
    .option("--json", "print the table as JSON instead of text")
    .option("-o, --output <table>", "write the table to a file (.json or .csv) instead of stdout")
    .option("--threads <t>", "FFT threads", parseInteger(1, 64))
    .option(
      "--mesh <n>",
      "particle snapshots (Gadget 1/2/HDF5): mesh side for the deposit",
      parseInteger(2, 4096),
    )
    .addOption(
      new Option("--scheme <s>", "particle snapshots: mass assignment (compensated)")
        .argParser(parseChoice(["ngp", "cic", "tsc"] as const))
        .default("cic"),
    )
    .option(
      "--interlace",
      "particle snapshots: interlace two grids shifted by half a cell (suppresses aliasing)",
    )
    .option("--subtract-shot-noise", "particle snapshots: subtract the Poisson shot noise V/N")
    .action((field: string, flags: PkFlags, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals() as GlobalOptions);
      if (flags.output) {
        assertWritableDestination(flags.output);
        const ext = path.extname(flags.output).toLowerCase();
        if (ext !== ".json" && ext !== ".csv")
          throw new InputError(flags.output, "output table must end in .json or .csv");
      }
      if (!isNpyFile(field)) {
        particleSpectrum(field, flags, ctx);
        return;
      }
      const a = loadGrid(field, flags);
      const b = flags.cross ? loadGrid(flags.cross, flags) : undefined;
      if (b) {
        if (b.side !== a.side)
          throw new InputError(b.file, `grid side ${b.side} differs from ${a.file}'s ${a.side}`);
        if (Math.abs(b.boxSize - a.boxSize) > 1e-9 * a.boxSize) {
          throw new InputError(
            b.file,
            `box size ${b.boxSize} Mpc/h differs from ${a.file}'s ${a.boxSize} Mpc/h (voxel sizes must match)`,
          );
        }
      }
      // Each field is compensated for its own window (from its sidecar) unless --compensate forces one for both.
      const compensate = flags.compensate ?? defaultCompensation(a);
      const compensateB = b ? (flags.compensate ?? defaultCompensation(b)) : undefined;
      const shape = [a.side, a.side, a.side] as const;
      const options = {
        boxSize: a.boxSize,
        compensate,
        compensateB,
        binning: flags.binning,
        shotNoise: flags.shotNoise,
        threads: flags.threads,
      };
      ctx.progress.start("pk", 1);
      const table = b
        ? crossPowerSpectrum(a.data, b.data, shape, options)
        : powerSpectrum(a.data, shape, options);
      ctx.progress.finish("pk");
      const doc = tableDocument(b ? "cross-power" : "power", b ? [a.file, b.file] : [a.file], table, {});
      emit(
        doc,
        flags,
        ctx,
        `${b ? "cross power" : "power spectrum"} of ${b ? `${a.file} × ${b.file}` : a.file}`,
      );
    });
}
