/**
 * The configuration of `mocksmith run`: one document (YAML or JSON) reproduces a run; CLI flags
 * override single keys; the resolved configuration is saved with the outputs.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { DEFAULT_COSMOLOGY } from "../cosmo/cosmology.js";
import { ConfigError, validate, type SchemaNode } from "./config-schema.js";

const num = (
  doc: string,
  def: number | undefined,
  range: Partial<Extract<SchemaNode, { kind: "number" }>> = {},
): SchemaNode => ({
  kind: "number",
  doc,
  default: def,
  ...range,
});

export const RUN_SCHEMA: SchemaNode = {
  kind: "object",
  doc: "mocksmith run configuration",
  fields: {
    seed: num("random seed (2LPT phases, halo sampling)", 1, { integer: true, min: 0, max: 0xffffffff }),
    output: { kind: "string", doc: "output directory", default: "out" },
    cosmology: {
      kind: "object",
      doc: "flat ΛCDM parameters",
      fields: {
        omegaM: num("Ω_m", DEFAULT_COSMOLOGY.omegaM, { minExclusive: 0, max: 1 }),
        omegaB: num("Ω_b", DEFAULT_COSMOLOGY.omegaB, { minExclusive: 0, max: 1 }),
        h: num("h", DEFAULT_COSMOLOGY.h, { minExclusive: 0, max: 10 }),
        sigma8: num("σ8", DEFAULT_COSMOLOGY.sigma8, { minExclusive: 0 }),
        nS: num("n_s", DEFAULT_COSMOLOGY.nS, { minExclusive: 0, max: 3 }),
      },
    },
    box: {
      kind: "object",
      doc: "the 2LPT source box",
      fields: {
        // 256 over 256 Mpc/h: the 1 Mpc/h particle spacing the default painter was trained on.
        particles: num("2LPT particles per side (prime factors 2, 3, 5)", 256, {
          integer: true,
          min: 2,
          max: 4096,
        }),
        size: num("box side, Mpc/h", 256, { minExclusive: 0 }),
        redshift: num("redshift of the box", 0, { min: 0, max: 20 }),
        voxel: num("voxel size of the density and halo grids, Mpc/h (box/voxel integer)", 4, {
          minExclusive: 0,
        }),
      },
    },
    halos: {
      kind: "object",
      doc: "how halo counts are made",
      fields: {
        source: {
          kind: "string",
          doc: "painter: paint the 2LPT field with a model; nbody: the reference N-body + FoF path from the same phases",
          choices: ["nbody", "painter"],
          default: "painter",
        },
        model: {
          kind: "string",
          doc: "painter model (.onnx with its card) or 'default'",
          default: "default",
        },
        tile: num("painter tile core side (voxels)", 32, { integer: true, min: 1 }),
        workers: num("painter worker threads", 2, { integer: true, min: 1, max: 64 }),
        planesPerPart: num(
          "x-planes of the halo grid per catalog Parquet part (at most the grid side); a part is the unit of run --shard",
          64,
          { integer: true, min: 1 },
        ),
        device: { kind: "string", doc: "cpu | cuda:0[,1…]", default: "cpu" },
        massBins: {
          kind: "numbers",
          doc: "[min, max, count] logarithmic mass bins, Msun/h (nbody path; the painter path takes its bins from the model card when it has them)",
          default: [1e13, 1e15, 4],
          length: 3,
        },
        nbody: {
          kind: "object",
          doc: "reference N-body settings (source: nbody)",
          fields: {
            steps: num("FastPM steps", 10, { integer: true, min: 1, max: 10000 }),
            zInit: num("starting redshift", 19, { minExclusive: 0 }),
            meshFactor: num("force mesh / particle grid", 2, { minExclusive: 0, max: 4 }),
            linking: num("FoF linking length (mean separations)", 0.2, { minExclusive: 0, max: 1 }),
            minMembers: num("smallest FoF group", 20, { integer: true, min: 2 }),
          },
        },
      },
    },
    stats: {
      kind: "object",
      doc: "summary statistics and report",
      fields: {
        enabled: { kind: "boolean", doc: "compute statistics", default: true },
        report: { kind: "boolean", doc: "write report.html", default: true },
      },
    },
  },
};

export interface RunConfig {
  seed: number;
  output: string;
  cosmology: { omegaM: number; omegaB: number; h: number; sigma8: number; nS: number };
  box: { particles: number; size: number; redshift: number; voxel: number };
  halos: {
    source: "nbody" | "painter";
    model: string;
    tile: number;
    workers: number;
    planesPerPart: number;
    device: string;
    massBins: [number, number, number];
    nbody: { steps: number; zInit: number; meshFactor: number; linking: number; minMembers: number };
  };
  stats: { enabled: boolean; report: boolean };
}

/** Reads a YAML or JSON file (by extension; YAML is a superset of JSON otherwise). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(
      "(file)",
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      file,
    );
  }
  try {
    return path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(
      "(file)",
      `not valid ${path.extname(file) === ".json" ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`,
      file,
    );
  }
}

/** Validates a raw document, fills defaults and checks cross-key constraints. */
export function resolveRunConfig(raw: unknown, source = "config"): RunConfig {
  const c = validate(RUN_SCHEMA, raw, "", source) as RunConfig;
  const voxels = c.box.size / c.box.voxel;
  if (Math.abs(voxels - Math.round(voxels)) > 1e-6) {
    throw new ConfigError(
      "box.voxel",
      `box.size ${c.box.size} / voxel ${c.box.voxel} = ${voxels} is not an integer`,
      source,
    );
  }
  if (c.cosmology.omegaB >= c.cosmology.omegaM)
    throw new ConfigError("cosmology.omegaB", "must be below cosmology.omegaM", source);
  const [mMin, mMax, bins] = c.halos.massBins;
  if (!(mMin > 0 && mMax > mMin) || !Number.isInteger(bins) || bins < 1) {
    throw new ConfigError(
      "halos.massBins",
      "expected [min, max, count] with 0 < min < max and an integer count ≥ 1",
      source,
    );
  }
  if (c.halos.source === "nbody" && c.box.redshift >= c.halos.nbody.zInit) {
    throw new ConfigError("box.redshift", `must be below halos.nbody.zInit (${c.halos.nbody.zInit})`, source);
  }
  return c;
}
