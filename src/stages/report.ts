/**
 * The run report: one self-contained `report.html` (inline CSS, inline SVG plots from
 * `report/svg-plot.ts`, slice images as PNG data URIs, no external resources and no network),
 * written atomically. Plots are built from the statistics rows alone, so a report can be redrawn
 * from `stats.parquet` later. A short inline script checks on load that every image decoded and
 * logs one console line, which lets headless-browser tests tell "rendered" from "silent".
 */
import fs from "node:fs";
import { writeAtomically } from "../io/atomic-file.js";
import { pngDataUri } from "../io/png.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";
import { pageStyle } from "./report/html-page.js";
import { skyImage } from "./report/sky-image.js";
import { sliceImage } from "./report/slice-image.js";
import { escapeXml, svgPlot, type PlotSeries, type PlotSpec } from "./report/svg-plot.js";
import type { StatisticRow } from "./statistic-row.js";
import type { StatsInputs } from "./stats.js";

export interface ReportImage {
  title: string;
  caption?: string;
  png: Uint8Array;
  width: number;
  height: number;
}

export interface ReportContent {
  title?: string;
  rows: readonly StatisticRow[];
  images?: readonly ReportImage[];
  /** Provenance shown as a table (box, mesh, seed, model, cosmology, …). */
  provenance?: Record<string, string>;
}

/**
 * Slice images of the inputs a run has: the input δ (log10 ρ/ρ̄), each painted field, the catalog
 * deposited on the input's mesh (haloes per voxel, NGP) and, for a light cone with ra/dec, the sky.
 * Slabs are `thickness` voxels deep (default 1/8 of the side) starting at x = 0.
 */
export function reportImages(inputs: StatsInputs, thickness?: number): ReportImage[] {
  const images: ReportImage[] = [];
  const slab = (side: number) => thickness ?? Math.max(1, Math.round(side / 8));
  const slabCaption = (side: number) =>
    `mean over ${slab(side)} of ${side} planes of x (${((slab(side) * inputs.boxSize) / side).toPrecision(3)} Mpc/h); y down, z across`;
  const add = (title: string, caption: string, s: ReturnType<typeof sliceImage>) =>
    images.push({ title, caption, png: s.png, width: s.width, height: s.height });
  if (inputs.input) {
    const g = inputs.input;
    const log = g.kind === "delta";
    add(
      g.name,
      `${log ? "log10(1 + δ)" : "counts"}, ${slabCaption(g.shape[0])}`,
      sliceImage(g.data, g.shape, {
        thickness: slab(g.shape[0]),
        stretch: log ? "log" : "linear",
        colormap: "magma",
      }),
    );
  }
  for (const g of inputs.painted ?? []) {
    add(
      g.name,
      `${g.kind === "counts" ? "haloes per voxel" : "δ"}, ${slabCaption(g.shape[0])}`,
      sliceImage(g.data, g.shape, { thickness: slab(g.shape[0]), colormap: "viridis" }),
    );
  }
  const cat = inputs.catalog;
  if (cat && cat.numRows > 0) {
    const side = inputs.input?.shape[0] ?? 64;
    const shape = [side, side, side] as const;
    const [x, y, z] = ["x", "y", "z"].map((c) => cat.getChild(c)?.toArray() as ArrayLike<number> | undefined);
    if (x && y && z) {
      const grid = new Float32Array(side ** 3);
      const cell = inputs.boxSize / side;
      const idx = (v: number) => Math.min(side - 1, Math.max(0, Math.floor(v / cell)));
      for (let i = 0; i < x.length; i++) grid[(idx(x[i]) * side + idx(y[i])) * side + idx(z[i])]++;
      add(
        "catalog",
        `haloes per voxel, ${slabCaption(side)}`,
        sliceImage(grid, shape, { thickness: slab(side), colormap: "viridis" }),
      );
    }
  }
  const lc = inputs.lightcone;
  const ra = lc?.getChild("ra")?.toArray() as ArrayLike<number> | undefined;
  const dec = lc?.getChild("dec")?.toArray() as ArrayLike<number> | undefined;
  if (ra && dec) {
    add(
      "light cone on the sky",
      "counts, equal-area projection (RA across from 0°, sin Dec up)",
      skyImage(ra, dec),
    );
  }
  return images;
}

/** Rows of one statistic, grouped by `fields` in order of first appearance. */
function seriesOf(
  rows: readonly StatisticRow[],
  statistic: string | ((r: StatisticRow) => boolean),
  style: (fields: string) => PlotSeries["style"] = () => "line",
  withErrors = true,
): PlotSeries[] {
  const pick = typeof statistic === "string" ? (r: StatisticRow) => r.statistic === statistic : statistic;
  const groups = new Map<string, StatisticRow[]>();
  for (const r of rows) {
    if (!pick(r)) continue;
    const g = groups.get(r.fields);
    if (g) g.push(r);
    else groups.set(r.fields, [r]);
  }
  return [...groups].map(([fields, rs]) => ({
    label: fields,
    x: rs.map((r) => r.x),
    y: rs.map((r) => r.value),
    yError: withErrors ? rs.map((r) => r.error ?? NaN) : undefined,
    style: style(fields),
  }));
}

const isTheory = (f: string) => /theory|fit/.test(f);

/** The plots the rows support, in reading order; statistics absent from the rows are skipped. */
export function reportPlots(rows: readonly StatisticRow[]): PlotSpec[] {
  const plots: PlotSpec[] = [];
  const add = (spec: PlotSpec) => {
    if (spec.series.length > 0) plots.push(spec);
  };
  const theoryDashed = (f: string) => (isTheory(f) ? "dashed" : "line");
  add({
    title: "Power spectra",
    xLabel: "k [h/Mpc]",
    yLabel: "P(k) [(Mpc/h)³]",
    xLog: true,
    yLog: true,
    series: seriesOf(rows, "power_spectrum", theoryDashed, false),
  });
  add({
    title: "Cross-correlation coefficient",
    xLabel: "k [h/Mpc]",
    yLabel: "r_c(k)",
    xLog: true,
    hLines: [0, 1],
    series: seriesOf(rows, "correlation_coefficient"),
  });
  add({
    title: "Transfer function √(P_painted / P_input)",
    xLabel: "k [h/Mpc]",
    yLabel: "T(k)",
    xLog: true,
    series: seriesOf(rows, "transfer_function"),
  });
  add({
    title: "Stochasticity P(1 − r_c²)",
    xLabel: "k [h/Mpc]",
    yLabel: "s(k) [(Mpc/h)³]",
    xLog: true,
    yLog: true,
    series: seriesOf(rows, "stochasticity"),
  });
  add({
    title: "Equilateral bispectrum",
    xLabel: "k [h/Mpc]",
    yLabel: "B(k, k, k) [(Mpc/h)⁶]",
    xLog: true,
    yLog: true,
    series: seriesOf(rows, "bispectrum_equilateral", () => "points"),
  });
  add({
    title: "Reduced bispectrum, equilateral",
    xLabel: "k [h/Mpc]",
    yLabel: "Q(k, k, k)",
    xLog: true,
    hLines: [0],
    series: seriesOf(rows, "reduced_bispectrum_equilateral", () => "points"),
  });
  const angleRow = rows.find((r) => r.statistic === "reduced_bispectrum_angle");
  add({
    title: angleRow
      ? `Reduced bispectrum, k1 = ${fmt(angleRow.x2 ?? NaN)}, k2 = ${fmt(angleRow.x3 ?? NaN)} h/Mpc`
      : "Reduced bispectrum vs angle",
    xLabel: "θ between k1 and k2 [rad]",
    yLabel: "Q(θ)",
    hLines: [0],
    series: seriesOf(rows, "reduced_bispectrum_angle", () => "points"),
  });
  add({
    title: "Voxel PDF of 1 + δ",
    xLabel: "1 + δ",
    yLabel: "p(1 + δ)",
    xLog: true,
    yLog: true,
    series: seriesOf(rows, "density_pdf", () => "points"),
  });
  add({
    title: "Counts per voxel",
    xLabel: "N",
    yLabel: "P(N)",
    yLog: true,
    series: seriesOf(rows, "count_pdf", () => "points"),
  });
  add({
    title: "Two-point correlation function",
    xLabel: "r [Mpc/h]",
    yLabel: "ξ(r)",
    xLog: true,
    yLog: true,
    series: seriesOf(rows, "correlation_function", () => "points"),
  });
  const massSeries = seriesOf(rows, "mass_function", (f) => (isTheory(f) ? "dashed" : "points"));
  const measured = massSeries
    .filter((m) => !isTheory(m.label))
    .flatMap((m) => Array.from(m.y).filter((v) => v > 0));
  add({
    title: "Halo mass function",
    xLabel: "M [Msun/h]",
    yLabel: "dn/dln M [(h/Mpc)³]",
    xLog: true,
    yLog: true,
    series: massSeries,
    // fits fall steeply past the heaviest halo: keep the axis on the measured range
    yRange: measured.length ? [Math.min(...measured) / 30, Math.max(...measured) * 30] : undefined,
  });
  add({
    title: "Redshift distribution",
    xLabel: "z",
    yLabel: "dN/dz",
    series: seriesOf(rows, "redshift_distribution", () => "points"),
  });
  return plots;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(3))) : "?";
}

const STYLE = pageStyle("img { image-rendering: pixelated; display: block; }");

/** Logs one line when every image has decoded, or a console error naming the ones that did not. */
const SELF_CHECK = `
window.addEventListener("load", function () {
  var bad = [];
  var imgs = document.querySelectorAll("img");
  for (var i = 0; i < imgs.length; i++) if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad.push(imgs[i].alt);
  var plots = document.querySelectorAll("svg").length;
  if (bad.length) console.error("mocksmith report: images failed to decode: " + bad.join(", "));
  else console.log("mocksmith report: rendered " + imgs.length + " images and " + plots + " plots");
});
`;

/** The report as an HTML string. */
export function renderReport(content: ReportContent): string {
  const title = content.title ?? "mocksmith report";
  const parts: string[] = [];
  parts.push(
    `<!DOCTYPE html>`,
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(title)}</h1>`,
    `<p>${escapeXml(`${SOFTWARE_NAME} ${SOFTWARE_VERSION}`)} · ${content.rows.length} statistics rows</p>`,
  );
  if (content.provenance && Object.keys(content.provenance).length > 0) {
    parts.push(`<h2>Run</h2><table>`);
    for (const [k, v] of Object.entries(content.provenance))
      parts.push(`<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`);
    parts.push(`</table>`);
  }
  if (content.images && content.images.length > 0) {
    parts.push(`<h2>Slices</h2><div class="grid">`);
    for (const im of content.images) {
      parts.push(
        `<figure><img src="${pngDataUri(im.png)}" width="${im.width}" height="${im.height}" alt="${escapeXml(im.title)}">`,
        `<figcaption><b>${escapeXml(im.title)}</b>${im.caption ? ` — ${escapeXml(im.caption)}` : ""}</figcaption></figure>`,
      );
    }
    parts.push(`</div>`);
  }
  const plots = reportPlots(content.rows);
  if (plots.length > 0) {
    parts.push(`<h2>Statistics</h2><div class="grid">`);
    plots.forEach((p, i) => parts.push(`<figure>${svgPlot({ ...p, id: `plot${i}` })}</figure>`));
    parts.push(`</div>`);
  }
  parts.push(`<script>${SELF_CHECK}</script>`, `</body></html>`);
  return parts.join("\n");
}

/** Writes `renderReport(content)` to `file` atomically. */
export function writeReport(file: string, content: ReportContent): void {
  const html = renderReport(content);
  writeAtomically(file, (tmp) => fs.writeFileSync(tmp, html));
}
