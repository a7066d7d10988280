/**
 * The JSON sidecar that travels with every grid we write (`box.npy` → `box.json`): what the
 * numbers mean (kind), where they live (box size, redshift) and how they were made (cosmology,
 * seed, software). Readers use it to refuse grids that do not match what they expect.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, writeAtomically } from "./atomic-file.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";

export type GridKind =
  | "delta" // density contrast ρ/ρ̄ − 1
  | "linear-delta" // linear-theory density contrast
  | "density" // ρ/ρ̄
  | "counts" // number of objects per voxel
  | "white-noise" // unit-variance Gaussian white noise
  | "displacement"
  | "other";

export interface GridMetadata {
  format: "mocksmith-grid";
  formatVersion: 1;
  kind: GridKind;
  /** [nx, ny, nz] as stored, C order, z fastest. */
  shape: [number, number, number];
  /** Comoving box side, Mpc/h. */
  boxSize: number;
  redshift: number;
  periodic: boolean;
  /** Cosmological parameters (free-form record so io/ does not depend on cosmo/ internals). */
  cosmology?: Record<string, number>;
  seed?: number;
  /** What produced the grid: command and the parameters that matter for reproduction. */
  provenance?: Record<string, unknown>;
  software: { name: string; version: string };
}

export function sidecarPathFor(gridPath: string): string {
  const ext = path.extname(gridPath);
  return ext ? gridPath.slice(0, -ext.length) + ".json" : gridPath + ".json";
}

export function makeGridMetadata(
  fields: Omit<GridMetadata, "format" | "formatVersion" | "software">,
): GridMetadata {
  return {
    format: "mocksmith-grid",
    formatVersion: 1,
    ...fields,
    software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
  };
}

export function writeGridMetadata(gridPath: string, meta: GridMetadata): string {
  const file = sidecarPathFor(gridPath);
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, JSON.stringify(meta, null, 2) + "\n"));
  return file;
}

/** Reads the sidecar of `gridPath` if present (undefined when there is none); validates it. */
export function readGridMetadata(gridPath: string): GridMetadata | undefined {
  const file = sidecarPathFor(gridPath);
  if (!fs.existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new InputError(file, `sidecar is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new InputError(file, "sidecar must be a JSON object");
  const m = parsed as Partial<GridMetadata>;
  if (m.format !== "mocksmith-grid") throw new InputError(file, `sidecar 'format' must be "mocksmith-grid"`);
  if (
    !Array.isArray(m.shape) ||
    m.shape.length !== 3 ||
    !m.shape.every((v) => Number.isInteger(v) && v > 0)
  ) {
    throw new InputError(file, "sidecar 'shape' must be three positive integers");
  }
  if (typeof m.boxSize !== "number" || !(m.boxSize > 0))
    throw new InputError(file, "sidecar 'boxSize' must be a positive number (Mpc/h)");
  if (typeof m.redshift !== "number" || !(m.redshift >= 0))
    throw new InputError(file, "sidecar 'redshift' must be a number ≥ 0");
  return m as GridMetadata;
}
