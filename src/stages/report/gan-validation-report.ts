/**
 * The outputs of `mocksmith validate gan` (stages/gan-validation.ts) as files: validation.json,
 * one PNG per plot (./raster-plot.ts), the P(k) correlation matrices as colour images, and an
 * index.html with the plots as inline SVG (./svg-plot.ts), the acceptance checks and the images.
 */
import fs from "node:fs";
import path from "node:path";
import { encodePng } from "../../io/png.js";
import {
  describeHeldOutNoise,
  describeMeanFields,
  type Band,
  type Check,
  type GanValidation,
  type TriangleSummary,
} from "../gan-validation.js";
import { describePowerEnvironment } from "../../cosmo/power-environment.js";
import { colourAt } from "./colormap.js";
import { checkRowHtml, formatNumber, pageStyle, verdictHtml } from "./html-page.js";
import { rasterPlot } from "./raster-plot.js";
import { escapeXml, svgPlot, type PlotSeries, type PlotSpec } from "./svg-plot.js";
import {
  PLOTS_DIR,
  VALIDATION_HTML,
  VALIDATION_JSON,
  type ValidationProvenance,
} from "./validation-report.js";

const NBODY = "#333333";
const GAN = "#d62728";

function bandSeries(label: string, x: number[], b: Band, colour: string, points = false): PlotSeries[] {
  return [
    { label: `${label} mean`, x, y: b.mean, colour, style: points ? "points" : "line" },
    { label: `${label} 16 %`, x, y: b.p16, colour, style: "dashed" },
    { label: `${label} 84 %`, x, y: b.p84, colour, style: "dashed" },
  ];
}

function triangleSeries(rows: TriangleSummary[], x: number[], reduced: boolean): PlotSeries[] {
  const get = (r: TriangleSummary, who: "nbody" | "gan") =>
    reduced ? [r[who].reducedMean, r[who].reducedStd] : [r[who].mean[0], r[who].std[0]];
  return (["nbody", "gan"] as const).map((who) => ({
    label: who === "nbody" ? "N-body (mean +/- std)" : "GAN (mean +/- std)",
    x,
    y: rows.map((r) => get(r, who)[0]),
    yError: rows.map((r) => get(r, who)[1]),
    colour: who === "nbody" ? NBODY : GAN,
    style: "points" as const,
  }));
}

/** The line plots, each with its file name. */
export function ganPlots(v: GanValidation): { file: string; spec: PlotSpec }[] {
  const noise = v.power.heldOutNoise;
  const noiseLabel = noise ? "GAN / N-body (bars: held-out noise, jackknife)" : "GAN / N-body";
  const s = v.settings;
  const p = v.power;
  const kAxis = { xLabel: "k [h/Mpc]", xLog: true };
  const plots: { file: string; spec: PlotSpec }[] = [
    {
      file: "pdf.png",
      spec: {
        title: "voxel PDF of 1 + δ (per sub-volume: mean and 16-84 %)",
        xLabel: "1 + δ = ρ / mean ρ",
        yLabel: "PDF [per unit 1 + δ]",
        xLog: true,
        yLog: true,
        series: [
          ...bandSeries("N-body", v.pdf.centre, v.pdf.nbody, NBODY),
          ...bandSeries("GAN", v.pdf.centre, v.pdf.gan, GAN),
        ],
      },
    },
    {
      file: "power.png",
      spec: {
        ...kAxis,
        title: "P(k) (mean and 16-84 % over the ensemble)",
        yLabel: "P(k) [(Mpc/h)³]",
        yLog: true,
        series: [...bandSeries("N-body", p.k, p.nbody, NBODY), ...bandSeries("GAN", p.k, p.gan, GAN)],
      },
    },
    {
      file: "power-ratio.png",
      spec: {
        ...kAxis,
        title: `mean P_GAN / mean P_N-body (check (a): 1 +/- ${s.powerTolerance} for k ≤ ${s.kMaxPower})`,
        yLabel: "ratio",
        hLines: [1 - s.powerTolerance, 1, 1 + s.powerTolerance],
        yRange: [0, 2],
        series: [
          {
            label: noiseLabel,
            x: p.k,
            y: p.ratio,
            colour: GAN,
            ...(noise ? { yError: p.ratio.map((r, i) => r * noise.lnMean[i]) } : {}),
          },
        ],
      },
    },
    {
      file: "variance-ratio.png",
      spec: {
        ...kAxis,
        title: `Var_GAN P / Var_N-body P (check (c): 1 +/- ${s.varianceTolerance} for k ≤ ${s.kMaxVariance})`,
        yLabel: "variance ratio",
        hLines: [1 - s.varianceTolerance, 1, 1 + s.varianceTolerance],
        yRange: [0, 3],
        series: [
          {
            label: noiseLabel,
            x: p.k,
            y: p.variance.ratio,
            colour: GAN,
            ...(noise ? { yError: p.variance.ratio.map((r, i) => r * noise.lnVariance[i]) } : {}),
          },
        ],
      },
    },
    {
      file: "cross-correlation.png",
      spec: {
        ...kAxis,
        title: "cross-correlation r(k) of independent pairs (mean +/- std)",
        yLabel: "r(k)",
        hLines: [0],
        yRange: [-1, 1],
        series: [
          {
            label: "GAN × GAN",
            x: v.cross.k,
            y: v.cross.ganGan.mean,
            yError: v.cross.ganGan.std,
            colour: GAN,
            style: "points",
          },
          {
            label: "N-body × GAN",
            x: v.cross.k,
            y: v.cross.nbodyGan.mean,
            yError: v.cross.nbodyGan.std,
            colour: "#1f77b4",
            style: "points",
          },
          {
            label: "+1/√(2 modes) (Gaussian)",
            x: v.cross.k,
            y: v.cross.gaussianScatter,
            colour: "#888888",
            style: "dashed",
          },
          {
            label: "−1/√(2 modes) (Gaussian)",
            x: v.cross.k,
            y: v.cross.gaussianScatter.map((x) => -x),
            colour: "#888888",
            style: "dashed",
          },
        ],
      },
    },
  ];
  const b = v.bispectrum;
  if (b && b.equilateral.length > 0)
    plots.push({
      file: "bispectrum-equilateral.png",
      spec: {
        ...kAxis,
        title: "equilateral bispectrum B(k, k, k)",
        yLabel: "B [(Mpc/h)^6]",
        yLog: true,
        series: triangleSeries(
          b.equilateral,
          b.equilateral.map((r) => r.k1),
          false,
        ),
      },
    });
  if (b && b.isosceles.length > 0)
    plots.push({
      file: "bispectrum-angle.png",
      spec: {
        title: `reduced bispectrum Q, k1 = k2 = ${b.isosceles[0].k1.toPrecision(3)} h/Mpc`,
        xLabel: "angle between k1 and k2 / pi",
        yLabel: "Q",
        series: triangleSeries(
          b.isosceles,
          b.isosceles.map((r) => r.thetaOverPi ?? NaN),
          true,
        ),
      },
    });
  return plots;
}

/** A correlation matrix as a PNG: −1 … 1 on viridis, row 0 (lowest k) at the top, `scale` px per cell. */
export function matrixImage(
  m: number[][],
  scale = Math.max(1, Math.round(320 / Math.max(1, m.length))),
): Buffer {
  const n = m.length;
  const w = n * scale;
  const rgb = new Uint8Array(w * w * 3);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const c = colourAt("viridis", (m[i][j] + 1) / 2);
      for (let a = 0; a < scale; a++)
        for (let bb = 0; bb < scale; bb++) rgb.set(c, ((i * scale + a) * w + j * scale + bb) * 3);
    }
  return encodePng(w, w, rgb);
}

const MATRICES = [
  { file: "power-correlation-nbody.png", who: "nbody" as const, label: "N-body" },
  { file: "power-correlation-gan.png", who: "gan" as const, label: "GAN" },
];

const STYLE = pageStyle("figcaption { max-width: 340px; }");

const fmt = (x: number) => formatNumber(x);

const verdict = (passed: boolean | null) => verdictHtml(passed, "no bin in range");

function checkRow(name: string, c: Check): string {
  const w = c.worst;
  return checkRowHtml(
    {
      name,
      description: c.description,
      passed: c.passed,
      bins: c.bins,
      worst: w
        ? { statistic: w.statistic, value: w.value, bound: w.bound, variable: c.variable, at: w.at }
        : null,
      failingAt: c.failingAt,
    },
    "no bin in range",
  );
}

/** A GAN validation's provenance; `sampling.nullTest` marks N-body sub-volumes standing in for samples. */
export type GanValidationProvenance = ValidationProvenance & { sampling: { nullTest?: string } };

export function renderGanValidationHtml(v: GanValidation, prov: GanValidationProvenance): string {
  const title = `GAN validation: ${String(prov.model.name ?? "model")}`;
  const parts = [
    `<!DOCTYPE html>`,
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'">`,
    `<title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(title)}</h1>`,
    `<p>${escapeXml(`${prov.software.name} ${prov.software.version}`)} · ${v.samples} ${prov.sampling.nullTest ? "N-body sub-volumes of other simulations (null test: what a faithful emulator scores)" : "GAN samples"} against ${v.subVolumes} held-out sub-volumes of ${v.side}³ voxels (${fmt(v.boxSize)} Mpc/h) · overall ${verdict(v.passed)} · numbers in <a href="${VALIDATION_JSON}">${VALIDATION_JSON}</a></p>`,
    `<h2>Acceptance checks</h2>`,
    `<table><tr><th>check</th><th>criterion</th><th>result</th><th>bins</th><th>least favourable bin</th><th>failing</th></tr>`,
    checkRow("(a) mean P(k)", v.checks.meanPower),
    checkRow("(b) voxel PDF", v.checks.pdf),
    checkRow("(c) variance of P(k)", v.checks.powerVariance),
    checkRow("(d) independent samples", v.checks.independence),
    `</table>`,
    `<p>${escapeXml(describeHeldOutNoise(v))}. The ratio plots' error bars are this noise of the held-out denominator; a bound not well above it cannot tell a faithful emulator from a poor one.</p>`,
    `<p>${escapeXml(describeMeanFields(v))}.</p>`,
    ...(v.environment
      ? [`<p>${escapeXml(describePowerEnvironment(v.power.k, v.environment, v.settings.kMaxPower))}.</p>`]
      : []),
    `<h2>Conventions</h2><table>`,
  ];
  for (const [k, val] of Object.entries(prov.conventions))
    parts.push(`<tr><th>${escapeXml(k)}</th><td>${escapeXml(val)}</td></tr>`);
  parts.push(`</table>`, `<h2>Statistics</h2><div class="grid">`);
  ganPlots(v).forEach(({ file, spec }, i) =>
    parts.push(
      `<figure>${svgPlot({ ...spec, id: `g${i}` })}<figcaption><a href="${PLOTS_DIR}/${file}">${file}</a></figcaption></figure>`,
    ),
  );
  for (const m of MATRICES)
    parts.push(
      `<figure><img src="${PLOTS_DIR}/${m.file}" width="320" height="320" alt="P(k) correlation matrix, ${m.label}"><figcaption>${m.label} P(k) correlation matrix, shells ${fmt(v.power.k[0])}–${fmt(v.power.k.at(-1) ?? NaN)} h/Mpc from the top left; colour −1 (dark) … 1 (yellow)</figcaption></figure>`,
    );
  parts.push(`</div>`, `</body></html>`, "");
  return parts.join("\n");
}

/** Writes validation.json, plots/*.png and index.html into `dir` (which exists); returns the image count. */
export function writeGanValidationFiles(
  dir: string,
  v: GanValidation,
  prov: GanValidationProvenance,
): number {
  const doc = { format: "mocksmith-gan-validation", formatVersion: 1, ...prov, ...v };
  // JSON.stringify writes NaN and ±Infinity (ratios of empty bins) as null.
  fs.writeFileSync(path.join(dir, VALIDATION_JSON), JSON.stringify(doc, null, 1) + "\n");
  fs.mkdirSync(path.join(dir, PLOTS_DIR));
  let images = 0;
  for (const { file, spec } of ganPlots(v)) {
    fs.writeFileSync(path.join(dir, PLOTS_DIR, file), rasterPlot(spec));
    images++;
  }
  for (const m of MATRICES) {
    fs.writeFileSync(path.join(dir, PLOTS_DIR, m.file), matrixImage(v.power.correlation[m.who]));
    images++;
  }
  fs.writeFileSync(path.join(dir, VALIDATION_HTML), renderGanValidationHtml(v, prov));
  return images;
}
