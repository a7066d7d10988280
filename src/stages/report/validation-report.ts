/**
 * The outputs of `mocksmith validate painter` (stages/painter-validation.ts) as files: the JSON
 * document, one PNG per plot (./raster-plot.ts) and an `index.html` with the same plots as inline
 * SVG (./svg-plot.ts), the acceptance checks and links to the PNGs. Plots per output channel:
 * P(k), T(k), r_c(k) and s(k) of the painter and both baselines against the true haloes, and the
 * painted count given the true count per voxel.
 */
import fs from "node:fs";
import path from "node:path";
import type { AcceptanceCheck, ChannelValidation, PainterValidation } from "../painter-validation.js";
import { checkRowHtml, formatNumber, pageStyle, verdictHtml } from "./html-page.js";
import { rasterPlot } from "./raster-plot.js";
import { escapeXml, svgPlot, type PlotSeries, type PlotSpec } from "./svg-plot.js";

export const VALIDATION_JSON = "validation.json";
export const VALIDATION_HTML = "index.html";
export const PLOTS_DIR = "plots";

/** Everything the JSON holds besides the validation itself: model, data and conventions. */
export interface ValidationProvenance {
  software: { name: string; version: string };
  model: Record<string, unknown>;
  data: Record<string, unknown>;
  conventions: Record<string, string>;
}

const COLOURS = { truth: "#333333", painter: "#d62728", linear: "#1f77b4", local: "#2ca02c" };

/** The plots of one channel, each with its file name. */
export function channelPlots(c: ChannelValidation, tolerance: number): { file: string; spec: PlotSpec }[] {
  const m = c.combined;
  const k = m.k;
  const tag = `ch${c.channel}`;
  const pred = (get: (p: typeof m.painter) => number[]): PlotSeries[] => [
    { label: "painter", x: k, y: get(m.painter), colour: COLOURS.painter },
    { label: "linear bias", x: k, y: get(m.linearBias), colour: COLOURS.linear, style: "dashed" },
    { label: "local bias n(δ)", x: k, y: get(m.localBias), colour: COLOURS.local, style: "dashed" },
  ];
  const base = { xLabel: "k [h/Mpc]", xLog: true };
  return [
    {
      file: `${tag}-power.png`,
      spec: {
        ...base,
        title: `P(k), ${c.label}`,
        yLabel: "P(k) [(Mpc/h)³]",
        yLog: true,
        series: [
          { label: "true haloes", x: k, y: m.truth.power, style: "points", colour: COLOURS.truth },
          ...pred((p) => p.power),
        ],
      },
    },
    {
      file: `${tag}-transfer.png`,
      spec: {
        ...base,
        title: `T(k) = √(P_pp / P_hh), ${c.label}`,
        yLabel: "T(k)",
        hLines: [1 - tolerance, 1, 1 + tolerance],
        yRange: [0, 3],
        series: pred((p) => p.transfer),
      },
    },
    {
      file: `${tag}-correlation.png`,
      spec: {
        ...base,
        title: `r_c(k), ${c.label}`,
        yLabel: "r_c(k)",
        hLines: [1],
        yRange: [-0.5, 1.05],
        series: pred((p) => p.correlation),
      },
    },
    {
      file: `${tag}-stochasticity.png`,
      spec: {
        ...base,
        title: `s(k) = P_hh (1 − r_c²), ${c.label}`,
        yLabel: "s(k) [(Mpc/h)³]",
        yLog: true,
        series: [
          ...pred((p) => p.stochasticity),
          {
            label: "0.5 × linear bias",
            x: k,
            y: m.linearBias.stochasticity.map((v) => 0.5 * v),
            colour: "#9467bd",
            style: "dashed",
          },
        ],
      },
    },
    {
      file: `${tag}-conditional.png`,
      spec: {
        title: `painted count given true count, ${c.label}`,
        xLabel: "true halo count per voxel",
        yLabel: "painted count per voxel",
        series: [
          {
            label: "mean",
            x: m.conditional.map((r) => r.trueCount),
            y: m.conditional.map((r) => r.mean),
            style: "points",
            colour: COLOURS.painter,
          },
          {
            label: "16th percentile",
            x: m.conditional.map((r) => r.trueCount),
            y: m.conditional.map((r) => r.p16),
            style: "dashed",
            colour: "#ff7f0e",
          },
          {
            label: "median",
            x: m.conditional.map((r) => r.trueCount),
            y: m.conditional.map((r) => r.p50),
            colour: "#ff7f0e",
          },
          {
            label: "84th percentile",
            x: m.conditional.map((r) => r.trueCount),
            y: m.conditional.map((r) => r.p84),
            style: "dashed",
            colour: "#ff7f0e",
          },
          {
            label: "painted = true",
            x: m.conditional.map((r) => r.trueCount),
            y: m.conditional.map((r) => r.trueCount),
            colour: "#888888",
          },
        ],
      },
    },
  ];
}

const STYLE = pageStyle();

const fmt = (v: number) => formatNumber(v);

const verdict = (passed: boolean | null) => verdictHtml(passed, "no shell in range");

function checkRow(name: string, c: AcceptanceCheck): string {
  const w = c.worst;
  return checkRowHtml(
    {
      name,
      description: c.description,
      passed: c.passed,
      bins: c.shells,
      worst: w ? { statistic: w.statistic, value: w.value, bound: w.bound, variable: "k", at: w.k } : null,
      failingAt: c.failingK,
    },
    "no shell in range",
  );
}

export function renderValidationHtml(v: PainterValidation, prov: ValidationProvenance): string {
  const title = `Painter validation: ${String(prov.model.name ?? "model")}`;
  const parts = [
    `<!DOCTYPE html>`,
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'">`,
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(title)}</h1>`,
    `<p>${escapeXml(`${prov.software.name} ${prov.software.version}`)} · overall ${verdict(v.passed)} · numbers in <a href="${VALIDATION_JSON}">${VALIDATION_JSON}</a></p>`,
    `<h2>Conventions</h2><table>`,
  ];
  for (const [k, val] of Object.entries(prov.conventions))
    parts.push(`<tr><th>${escapeXml(k)}</th><td>${escapeXml(val)}</td></tr>`);
  parts.push(`</table>`);
  for (const c of v.channels) {
    const lb = c.baselines.linearBias;
    parts.push(
      `<h2>${escapeXml(c.label)}</h2>`,
      `<p>linear bias b = ${fmt(lb.bias)} (k ≤ ${lb.kMax} h/Mpc, ${lb.modes} modes), n̄ = ${fmt(lb.meanCount)} per voxel; mean counts per voxel: true ${fmt(c.combined.truth.meanCount)}, painted ${fmt(c.combined.painter.meanCount)}</p>`,
      `<table><tr><th>check</th><th>criterion</th><th>result</th><th>shells</th><th>least favourable shell</th><th>failing k</th></tr>`,
      checkRow("(i) correlation", c.checks.correlation),
      checkRow("(ii) transfer", c.checks.transfer),
      checkRow("(iii) stochasticity", c.checks.stochasticity),
      `</table><div class="grid">`,
    );
    channelPlots(c, v.settings.transferTolerance).forEach(({ file, spec }, i) =>
      parts.push(
        `<figure>${svgPlot({ ...spec, id: `c${c.channel}p${i}` })}<figcaption><a href="${PLOTS_DIR}/${file}">${file}</a></figcaption></figure>`,
      ),
    );
    parts.push(`</div>`);
  }
  parts.push(`</body></html>`, "");
  return parts.join("\n");
}

/** Writes validation.json, plots/*.png and index.html into `dir` (which exists); returns the plot count. */
export function writeValidationFiles(dir: string, v: PainterValidation, prov: ValidationProvenance): number {
  const doc = {
    format: "mocksmith-painter-validation",
    formatVersion: 1,
    ...prov,
    settings: v.settings,
    passed: v.passed,
    channels: v.channels,
  };
  // JSON.stringify writes NaN and ±Infinity (ratios of non-positive spectra) as null.
  fs.writeFileSync(path.join(dir, VALIDATION_JSON), JSON.stringify(doc, null, 1) + "\n");
  fs.mkdirSync(path.join(dir, PLOTS_DIR));
  let plots = 0;
  for (const c of v.channels)
    for (const { file, spec } of channelPlots(c, v.settings.transferTolerance)) {
      fs.writeFileSync(path.join(dir, PLOTS_DIR, file), rasterPlot(spec));
      plots++;
    }
  fs.writeFileSync(path.join(dir, VALIDATION_HTML), renderValidationHtml(v, prov));
  return plots;
}
