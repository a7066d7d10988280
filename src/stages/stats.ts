/**
 * The statistics stage, last in the pipeline: from whatever inputs a run has (the input δ grid the
 * painter saw, painted halo fields, the halo catalog, a light cone) it measures, in this order,
 *   1. P(k) of the input δ, with the linear theory at the run's redshift when a cosmology is given;
 *   2. per painted field: P(k), cross power, r_c(k), T(k) and s(k) against the input
 *      (`field-comparison.ts`);
 *   3. the catalog: P(k) (CIC + interlacing, Poisson shot noise subtracted) and its comparison with
 *      the input (CIC counts on the input's mesh, CIC window compensated);
 *   4. bispectrum B and reduced Q of the input and of each painted field for an equilateral sweep and
 *      an angle sweep (`bispectrum.ts`);
 *   5. voxel PDFs: 1 + δ of the input (log bins); counts of painted count fields (integer bins);
 *   6. the catalog's ξ(r) by pair counts (natural estimator, analytic RR);
 *   7. the catalog's mass function with the Warren and Jenkins fits;
 *   8. light cones: n(z) as dN/dz and angular counts per HEALPix pixel (nested), degraded to at most
 *      `maxHealpixNside` by dropping the low bits of the nested index (4 children per parent).
 * Each statistic's rows are yielded as soon as it is computed (`statistics`), so sinks can stream
 * them; `runStatistics` drives the JSON-lines and Parquet sinks.
 */
import path from "node:path";
import type { Table } from "apache-arrow";
import {
  angleTriangles,
  bispectrum,
  equilateralTriangles,
  type TriangleConfig,
} from "../cosmo/bispectrum.js";
import type { Cosmology } from "../cosmo/cosmology.js";
import { linearEdges, pairCorrelation } from "../cosmo/correlation-function.js";
import type { GridShape } from "../cosmo/fft/real-fft3d.js";
import { compareFields } from "../cosmo/field-comparison.js";
import { binnedMassFunction, massFunction, type MassFunctionFit } from "../cosmo/halo-mass-function.js";
import { LinearPower } from "../cosmo/linear-power.js";
import { depositParticles, toDensityContrast } from "../cosmo/mass-assignment.js";
import { particlePowerSpectrum, powerSpectrum } from "../cosmo/power-spectrum.js";
import { countPdf, densityPdf } from "../cosmo/voxel-pdf.js";
import { InputError } from "../io/atomic-file.js";
import { silentProgress, type Progress } from "../pipeline/progress.js";
import { JsonLinesSink, writeStatisticsTable, type StatisticRow } from "./statistic-row.js";

/** A periodic grid: δ (density contrast) or counts per voxel (converted to δ = n/n̄ − 1 for spectra). */
export interface GridInput {
  name: string;
  data: Float32Array;
  shape: GridShape;
  kind: "delta" | "counts";
  /** Constant subtracted from this field's auto spectrum, (Mpc/h)³. Default 0. */
  shotNoise?: number;
}

export interface StatsInputs {
  /** Box side, Mpc/h. */
  boxSize: number;
  redshift: number;
  /** For the linear P(k) and the mass-function fits; omitted → no theory rows. */
  cosmology?: Cosmology;
  input?: GridInput;
  painted?: GridInput[];
  /** Halo catalog with f32 columns x, y, z (Mpc/h) and optionally mass (Msun/h). */
  catalog?: Table;
  /** Light cone with z_obs or z_cos, optionally healpix (i64, nested) and nside in its metadata. */
  lightcone?: Table;
}

export interface StatsOptions {
  /** Mesh side for gridding the catalog when there is no input grid; default 64. */
  meshSide?: number;
  /** Triangles for the bispectrum; default from the grid (see `defaultTriangles`). */
  triangles?: TriangleConfig[];
  /** Shell width of the bispectrum, h/Mpc; default 2 k_F. */
  bispectrumShellWidth?: number;
  /** r bin edges for ξ, Mpc/h; default 15 linear bins up to min(L/4, 40 Mpc/h). */
  correlationEdges?: number[];
  /** Most haloes used for pair counts (a deterministic 1-in-s subsample beyond); default 200 000. */
  maxPairPoints?: number;
  /** Mass bin edges for the mass function, Msun/h; default 12 log bins over the catalog's range. */
  massEdges?: number[];
  /** Redshift bins of n(z); default 20. */
  redshiftBins?: number;
  maxHealpixNside?: number;
  threads?: number;
  progress?: Progress;
}

const TASK = "stats";

/** Equilateral k = 2Δk … k_max and θ ∈ [0, π] for k2 = 2 k1, with every shell below (N/3) k_F. */
export function defaultTriangles(side: number, boxSize: number, shellWidth: number): TriangleConfig[] {
  const kF = (2 * Math.PI) / boxSize;
  const kMax = (side / 3) * kF - shellWidth / 2;
  const ks: number[] = [];
  for (let k = 1.5 * shellWidth; k <= kMax + 1e-9 * kF; k += shellWidth) ks.push(k);
  const out = equilateralTriangles(ks);
  const k1 = Math.max(1.5 * shellWidth, Math.floor(kMax / 3 / kF) * kF);
  if (3 * k1 <= kMax) {
    const thetas = Array.from({ length: 9 }, (_, i) => (Math.PI * (i + 0.5)) / 9);
    out.push(...angleTriangles(k1, 2 * k1, thetas));
  }
  return out;
}

/** δ of a grid input; counts are converted once per input (the result is cached on the object). */
const deltas = new WeakMap<GridInput, Float32Array>();
function deltaOf(g: GridInput): Float32Array {
  if (g.kind === "delta") return g.data;
  let d = deltas.get(g);
  if (d === undefined) {
    d = Float32Array.from(g.data);
    toDensityContrast(d);
    deltas.set(g, d);
  }
  return d;
}

function column(table: Table, name: string, what: string): ArrayLike<number> {
  const c = table.getChild(name);
  if (c === null) throw new InputError(what, `missing column ${name}`);
  return c.toArray() as ArrayLike<number>;
}

function catalogPositions(table: Table): Float32Array {
  const [x, y, z] = ["x", "y", "z"].map((n) => column(table, n, "halo catalog"));
  const pos = new Float32Array(3 * x.length);
  for (let i = 0; i < x.length; i++) {
    pos[3 * i] = x[i];
    pos[3 * i + 1] = y[i];
    pos[3 * i + 2] = z[i];
  }
  return pos;
}

/** Streams the statistics of `inputs` as arrays of rows, one array per statistic and field. */
export async function* statistics(
  inputs: StatsInputs,
  options: StatsOptions = {},
): AsyncGenerator<StatisticRow[]> {
  const box = inputs.boxSize;
  if (!(box > 0) || !Number.isFinite(box))
    throw new InputError("stats", `box size must be > 0 Mpc/h, got ${box}`);
  const progress = options.progress ?? silentProgress;
  const threads = options.threads;
  const fft = threads === undefined ? {} : { threads };
  // A count field with no objects (an empty mass bin) has no density contrast: its spectra and
  // PDFs are undefined, so it is left out (the progress log says so) rather than failing the run.
  const painted = (inputs.painted ?? []).filter((g) => {
    if (g.kind !== "counts" || g.data.some((v) => v > 0)) return true;
    progress.info(`stats: ${g.name} is empty; no statistics for it`);
    return false;
  });
  const steps =
    (inputs.input ? 3 : 0) + 3 * painted.length + (inputs.catalog ? 4 : 0) + (inputs.lightcone ? 2 : 0);
  let done = 0;
  progress.start(TASK, steps);
  const step = async (rows: StatisticRow[]): Promise<StatisticRow[]> => {
    progress.advance(TASK, ++done);
    // Let sinks and the event loop run between statistics.
    await new Promise((r) => setImmediate(r));
    return rows;
  };
  const linear = inputs.cosmology ? new LinearPower(inputs.cosmology) : undefined;
  const inputDelta = inputs.input ? deltaOf(inputs.input) : undefined;
  const inputShape = inputs.input?.shape;

  // 1. input P(k) and linear theory
  if (inputs.input && inputDelta && inputShape) {
    const t = powerSpectrum(inputDelta, inputShape, {
      boxSize: box,
      shotNoise: inputs.input.shotNoise,
      ...fft,
    });
    const rows: StatisticRow[] = [];
    for (let i = 0; i < t.k.length; i++) {
      rows.push({
        statistic: "power_spectrum",
        fields: inputs.input.name,
        x: t.k[i],
        xName: "k",
        value: t.power[i],
        count: t.modes[i],
        error: t.power[i] * Math.sqrt(1 / t.modes[i]),
      });
    }
    if (linear) {
      for (let i = 0; i < t.k.length; i++)
        rows.push({
          statistic: "power_spectrum",
          fields: "linear theory",
          x: t.k[i],
          xName: "k",
          value: linear.at(t.k[i], inputs.redshift),
          count: 0,
        });
    }
    yield await step(rows);
  }

  // 2. painted fields against the input
  for (const g of painted) {
    const d = deltaOf(g);
    if (inputDelta && inputShape && sameShape(inputShape, g.shape)) {
      const c = compareFields(d, inputDelta, g.shape, { boxSize: box, shotNoise: 0, ...fft });
      const shot = g.shotNoise ?? 0;
      const pair = `${g.name}×${inputs.input!.name}`;
      const rows: StatisticRow[] = [];
      for (let i = 0; i < c.k.length; i++) {
        const m = c.modes[i];
        const p = c.powerPredicted[i] - shot;
        const r = c.cross[i] / Math.sqrt(p * c.powerReference[i]);
        rows.push(
          {
            statistic: "power_spectrum",
            fields: g.name,
            x: c.k[i],
            xName: "k",
            value: p,
            count: m,
            error: c.powerPredicted[i] / Math.sqrt(m),
          },
          { statistic: "cross_power", fields: pair, x: c.k[i], xName: "k", value: c.cross[i], count: m },
          {
            statistic: "correlation_coefficient",
            fields: pair,
            x: c.k[i],
            xName: "k",
            value: r,
            count: m,
            error: (1 - r * r) / Math.sqrt(m),
          },
          {
            statistic: "transfer_function",
            fields: pair,
            x: c.k[i],
            xName: "k",
            value: Math.sqrt(p / c.powerReference[i]),
            count: m,
          },
          {
            statistic: "stochasticity",
            fields: pair,
            x: c.k[i],
            xName: "k",
            value: p * (1 - r * r),
            count: m,
          },
        );
      }
      yield await step(rows);
    } else {
      const t = powerSpectrum(d, g.shape, { boxSize: box, shotNoise: g.shotNoise, ...fft });
      yield await step(
        Array.from(t.k, (k, i) => ({
          statistic: "power_spectrum",
          fields: g.name,
          x: k,
          xName: "k",
          value: t.power[i],
          count: t.modes[i],
          error: (t.power[i] + t.shotNoise) / Math.sqrt(t.modes[i]),
        })),
      );
    }
  }

  // 3. the catalog's P(k) and its comparison with the input
  const positions = inputs.catalog ? catalogPositions(inputs.catalog) : undefined;
  if (positions && positions.length > 0) {
    const mesh = inputShape?.[0] ?? options.meshSide ?? 64;
    const t = particlePowerSpectrum(positions, mesh, box, {
      scheme: "cic",
      interlaced: true,
      subtractShotNoise: true,
      ...fft,
    });
    yield await step(
      Array.from(t.k, (k, i) => ({
        statistic: "power_spectrum",
        fields: "catalog",
        x: k,
        xName: "k",
        value: t.power[i],
        count: t.modes[i],
        error: (t.power[i] + t.shotNoise) / Math.sqrt(t.modes[i]),
      })),
    );
    if (inputDelta && inputShape) {
      const grid = depositParticles(positions, inputShape, box, "cic");
      toDensityContrast(grid);
      const c = compareFields(grid, inputDelta, inputShape, {
        boxSize: box,
        compensate: "cic",
        compensateB: "none",
        ...fft,
      });
      const shot = box ** 3 / (positions.length / 3);
      const pair = `catalog×${inputs.input!.name}`;
      const rows: StatisticRow[] = [];
      for (let i = 0; i < c.k.length; i++) {
        const m = c.modes[i];
        // r_c with the catalog's Poisson shot noise removed from its auto power
        const r = c.cross[i] / Math.sqrt((c.powerPredicted[i] - shot) * c.powerReference[i]);
        rows.push(
          { statistic: "cross_power", fields: pair, x: c.k[i], xName: "k", value: c.cross[i], count: m },
          {
            statistic: "correlation_coefficient",
            fields: pair,
            x: c.k[i],
            xName: "k",
            value: r,
            count: m,
            error: (1 - r * r) / Math.sqrt(m),
          },
        );
      }
      yield await step(rows);
    } else progress.advance(TASK, ++done);
  }

  // 4. bispectra
  const bispectrumTargets: { name: string; delta: Float32Array; shape: GridShape }[] = [];
  if (inputs.input && inputDelta)
    bispectrumTargets.push({ name: inputs.input.name, delta: inputDelta, shape: inputs.input.shape });
  for (const g of painted) bispectrumTargets.push({ name: g.name, delta: deltaOf(g), shape: g.shape });
  for (const target of bispectrumTargets) {
    const n = target.shape[0];
    const width = options.bispectrumShellWidth ?? (4 * Math.PI) / box;
    const configs = options.triangles ?? defaultTriangles(n, box, width);
    const rows: StatisticRow[] = [];
    if (configs.length > 0) {
      const b = bispectrum(target.delta, target.shape, configs, { boxSize: box, shellWidth: width, ...fft });
      const equilateral = (r: TriangleConfig) =>
        Math.abs(r.k1 - r.k2) < 1e-9 * r.k1 && Math.abs(r.k1 - r.k3) < 1e-9 * r.k1;
      for (const r of b) {
        const eq = equilateral(r);
        // equilateral rows: x = k1, x2 = k2, x3 = k3; angle rows: x = θ between k1 and k2, x2 = k1, x3 = k2
        const x = eq
          ? r.k1
          : Math.acos(Math.max(-1, Math.min(1, (r.k3 ** 2 - r.k1 ** 2 - r.k2 ** 2) / (2 * r.k1 * r.k2))));
        const sides = eq ? { x2: r.k2, x3: r.k3 } : { x2: r.k1, x3: r.k2 };
        const base = { fields: target.name, x, xName: eq ? "k" : "theta", count: r.triangles, ...sides };
        const sum = r.power1 * r.power2 + r.power2 * r.power3 + r.power1 * r.power3;
        rows.push(
          {
            statistic: eq ? "bispectrum_equilateral" : "bispectrum_angle",
            value: r.bispectrum,
            error: r.gaussianError,
            ...base,
          },
          {
            statistic: eq ? "reduced_bispectrum_equilateral" : "reduced_bispectrum_angle",
            value: r.reduced,
            error: r.gaussianError / sum,
            ...base,
          },
        );
      }
    }
    yield await step(rows);
  }

  // 5. voxel PDFs
  if (inputs.input && inputDelta) {
    yield await step(pdfRows(densityPdf(inputDelta), "density_pdf", inputs.input.name, "1+delta"));
  }
  for (const g of painted) {
    yield await step(
      g.kind === "counts"
        ? pdfRows(countPdf(g.data), "count_pdf", g.name, "count")
        : pdfRows(densityPdf(g.data), "density_pdf", g.name, "1+delta"),
    );
  }

  // 6. ξ(r) of the catalog
  if (positions && positions.length >= 6) {
    const rMax = Math.min(box / 4, 40);
    const edges = options.correlationEdges ?? Array.from(linearEdges(rMax / 16, rMax, 15));
    const maxPoints = options.maxPairPoints ?? 200_000;
    const np = positions.length / 3;
    const stride = Math.ceil(np / maxPoints);
    const pts = stride === 1 ? positions : subsample(positions, stride);
    const t = pairCorrelation(pts, box, edges);
    const fields = stride === 1 ? "catalog" : `catalog (1 in ${stride})`;
    yield await step(
      Array.from(t.r, (r, i) => ({
        statistic: "correlation_function",
        fields,
        x: r,
        xName: "r",
        value: t.xi[i],
        count: t.count[i],
        error: t.error[i],
      })),
    );
  }

  // 7. mass function
  if (inputs.catalog && positions) {
    const rows: StatisticRow[] = [];
    const massColumn = inputs.catalog.getChild("mass");
    if (massColumn !== null && inputs.catalog.numRows > 0) {
      const masses = massColumn.toArray() as ArrayLike<number>;
      const edges = options.massEdges ?? defaultMassEdges(masses);
      if (edges.length >= 2) {
        for (const b of binnedMassFunction(masses, box, edges)) {
          const m = Math.sqrt(b.massLow * b.massHigh);
          rows.push({
            statistic: "mass_function",
            fields: "catalog",
            x: m,
            xName: "mass",
            value: b.dndlnm,
            count: b.count,
            error: b.error,
          });
        }
        if (linear) {
          for (const fit of ["warren", "jenkins"] as MassFunctionFit[]) {
            for (let i = 0; i + 1 < edges.length; i++) {
              const m = Math.sqrt(edges[i] * edges[i + 1]);
              rows.push({
                statistic: "mass_function",
                fields: `${fit} fit`,
                x: m,
                xName: "mass",
                value: massFunction(linear, fit, m, inputs.redshift),
                count: 0,
              });
            }
          }
        }
      }
    }
    yield await step(rows);
  }

  // 8. light cone
  if (inputs.lightcone) {
    const lc = inputs.lightcone;
    const zName = lc.getChild("z_obs") !== null ? "z_obs" : "z_cos";
    const z = column(lc, zName, "light cone");
    yield await step(redshiftDistribution(z, options.redshiftBins ?? 20, zName));
    const pix = lc.getChild("healpix");
    if (pix !== null) {
      yield await step(
        angularCounts(
          pix.toArray() as ArrayLike<bigint | number>,
          healpixNside(lc),
          options.maxHealpixNside ?? 16,
        ),
      );
    } else progress.advance(TASK, ++done);
  }
  progress.finish(TASK);
}

function sameShape(a: GridShape, b: GridShape): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

function pdfRows(
  pdf: ReturnType<typeof densityPdf>,
  statistic: string,
  fields: string,
  xName: string,
): StatisticRow[] {
  return pdf.bins.map((b) => ({
    statistic,
    fields,
    x: b.centre,
    xName,
    value: b.pdf,
    count: b.count,
    error: b.error,
  }));
}

function subsample(positions: Float32Array, stride: number): Float32Array {
  const np = positions.length / 3;
  const out = new Float32Array(3 * Math.ceil(np / stride));
  for (let i = 0, j = 0; i < np; i += stride, j++) out.set(positions.subarray(3 * i, 3 * i + 3), 3 * j);
  return out;
}

function defaultMassEdges(masses: ArrayLike<number>): number[] {
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < masses.length; i++) {
    const m = masses[i];
    if (m > 0 && Number.isFinite(m)) {
      lo = Math.min(lo, m);
      hi = Math.max(hi, m);
    }
  }
  if (!(hi > lo)) return lo > 0 && Number.isFinite(lo) ? [lo / 1.1, lo * 1.1] : [];
  const bins = 12;
  // widened by 1e-6 in ln M so exp(log(m)) rounding cannot push the extreme haloes out
  const a = Math.log(lo) - 1e-6;
  const b = Math.log(hi) + 1e-6;
  return Array.from({ length: bins + 1 }, (_, i) => Math.exp(a + ((b - a) * i) / bins));
}

/** dN/dz in equal-width bins over the range of z, with Poisson errors. */
export function redshiftDistribution(z: ArrayLike<number>, bins: number, fields = "z_obs"): StatisticRow[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < z.length; i++) {
    if (Number.isFinite(z[i])) {
      lo = Math.min(lo, z[i]);
      hi = Math.max(hi, z[i]);
    }
  }
  if (!(hi >= lo)) return [];
  if (hi === lo) hi = lo + 1e-3;
  const width = (hi - lo) / bins;
  const counts = new Float64Array(bins);
  for (let i = 0; i < z.length; i++) {
    if (Number.isFinite(z[i])) counts[Math.min(bins - 1, Math.floor((z[i] - lo) / width))]++;
  }
  return Array.from(counts, (c, i) => ({
    statistic: "redshift_distribution",
    fields,
    x: lo + (i + 0.5) * width,
    xName: "z",
    value: c / width,
    count: c,
    error: Math.sqrt(c) / width,
  }));
}

/** The nside recorded in a light cone's metadata (a key ending in "nside"), else the smallest power of 2 holding its pixels. */
function healpixNside(table: Table): number {
  for (const [k, v] of table.schema.metadata) {
    if (/nside$/i.test(k)) {
      const n = Number(JSON.parse(v));
      if (Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0) return n;
      throw new InputError("light cone", `metadata ${k} = ${v} is not a power of 2`);
    }
  }
  const pix = table.getChild("healpix")!.toArray() as ArrayLike<bigint | number>;
  let max = 0;
  for (let i = 0; i < pix.length; i++) max = Math.max(max, Number(pix[i]));
  let nside = 1;
  while (12 * nside * nside <= max) nside *= 2;
  return nside;
}

/** Counts per nested HEALPix pixel, degraded to nside ≤ maxNside (parent = child >> 2 per level). */
export function angularCounts(
  pixels: ArrayLike<bigint | number>,
  nside: number,
  maxNside: number,
): StatisticRow[] {
  let shift = 0;
  let outNside = nside;
  while (outNside > maxNside) {
    outNside /= 2;
    shift += 2;
  }
  const npix = 12 * outNside * outNside;
  const counts = new Float64Array(npix);
  const div = 2 ** shift;
  for (let i = 0; i < pixels.length; i++) {
    const p = Math.floor(Number(pixels[i]) / div);
    if (!(p >= 0 && p < npix))
      throw new InputError("light cone", `healpix ${String(pixels[i])} is outside nside ${nside}`);
    counts[p]++;
  }
  return Array.from(counts, (c, p) => ({
    statistic: "angular_counts",
    fields: `healpix nside ${outNside} nested`,
    x: p,
    xName: "healpix",
    value: c,
    count: c,
    error: Math.sqrt(c),
  }));
}

export interface StatsRunResult {
  rows: StatisticRow[];
  jsonLines: string;
  parquet: string;
}

/**
 * Runs `statistics`, appending each batch to `<outDir>/stats.jsonl` as it arrives, then writes
 * `<outDir>/stats.parquet` atomically with the run's provenance as file metadata.
 */
export async function runStatistics(
  inputs: StatsInputs,
  outDir: string,
  options: StatsOptions = {},
  metadata: Record<string, string> = {},
): Promise<StatsRunResult> {
  const jsonLines = path.join(outDir, "stats.jsonl");
  const parquet = path.join(outDir, "stats.parquet");
  const sink = new JsonLinesSink(jsonLines);
  const rows: StatisticRow[] = [];
  try {
    for await (const batch of statistics(inputs, options)) {
      sink.write(batch);
      rows.push(...batch);
    }
  } finally {
    sink.close();
  }
  writeStatisticsTable(parquet, rows, {
    "mocksmith.box_size": String(inputs.boxSize),
    "mocksmith.redshift": String(inputs.redshift),
    ...(inputs.cosmology ? { "mocksmith.cosmology": JSON.stringify(inputs.cosmology) } : {}),
    ...metadata,
  });
  return { rows, jsonLines, parquet };
}
