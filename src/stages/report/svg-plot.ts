/**
 * A small SVG line/point plotter for the report: linear or logarithmic axes with round ticks,
 * series as lines or markers with optional vertical error bars, a legend, and nothing external
 * (fonts fall back to the browser's sans-serif). Points that cannot be drawn (non-finite, or
 * ≤ 0 on a log axis) are skipped; a series with none left is listed in the legend as "(no data)".
 */

export interface PlotSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Symmetric 1σ errors on y. */
  yError?: ArrayLike<number>;
  style?: "line" | "points" | "dashed";
  colour?: string;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: PlotSeries[];
  /** Limits for the y axis's automatic range (points outside are clipped), e.g. to keep a fit's tail from dominating. */
  yRange?: [number, number];
  /** Horizontal reference lines (e.g. r_c = 1, ξ = 0). */
  hLines?: number[];
  width?: number;
  height?: number;
  /** Unique id within the document (for the clip path); default derived from the titles. */
  id?: string;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

export interface Axis {
  toPixel(v: number): number;
  ticks: { value: number; label: string }[];
  valid(v: number): boolean;
}

function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) {
    const e = Math.floor(Math.log10(a));
    const m = v / 10 ** e;
    return Math.abs(m - 1) < 1e-9 ? `1e${e}` : `${Number(m.toPrecision(2))}e${e}`;
  }
  return String(Number(v.toPrecision(3)));
}

export function makeAxis(values: number[], log: boolean, p0: number, p1: number): Axis {
  const valid = (v: number) => Number.isFinite(v) && (!log || v > 0);
  const vs = values.filter(valid);
  let lo = vs.length ? Math.min(...vs) : log ? 1 : 0;
  let hi = vs.length ? Math.max(...vs) : log ? 10 : 1;
  if (log) {
    lo = Math.log10(lo);
    hi = Math.log10(hi);
    if (hi - lo < 1e-9) {
      lo -= 0.5;
      hi += 0.5;
    }
    const pad = 0.04 * (hi - lo);
    lo -= pad;
    hi += pad;
    const ticks: { value: number; label: string }[] = [];
    const decades = hi - lo;
    const step = Math.max(1, Math.ceil(decades / 6));
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e += step)
      ticks.push({ value: 10 ** e, label: formatTick(10 ** e) });
    // Less than a decade or two: label 1-2-5, then every integer multiple, then the ends.
    for (const mults of [
      [1, 2, 5],
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    ]) {
      if (ticks.length >= 2) break;
      ticks.length = 0;
      for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
        for (const m of mults) {
          const v = m * 10 ** e;
          if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push({ value: v, label: formatTick(v) });
        }
    }
    if (ticks.length < 2) {
      ticks.length = 0;
      const a = 10 ** lo;
      const b = 10 ** hi;
      const step = niceStep((b - a) / 4);
      for (let v = Math.ceil(a / step) * step; v <= b; v += step)
        ticks.push({ value: v, label: formatTick(v) });
    }
    const f = (v: number) => p0 + ((Math.log10(v) - lo) / (hi - lo)) * (p1 - p0);
    return { toPixel: f, ticks, valid };
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    lo -= 0.5 * Math.max(1, Math.abs(lo));
    hi += 0.5 * Math.max(1, Math.abs(hi));
  }
  const pad = 0.04 * (hi - lo);
  lo -= pad;
  hi += pad;
  const step = niceStep((hi - lo) / 5);
  const ticks: { value: number; label: string }[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) {
    const r = Math.abs(v) < 1e-9 * step ? 0 : v;
    ticks.push({ value: r, label: formatTick(r) });
  }
  const f = (v: number) => p0 + ((v - lo) / (hi - lo)) * (p1 - p0);
  return { toPixel: f, ticks, valid };
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `raw`. */
function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

/** Page size, margins and axes of a plot: every data point and error bar (and hLine) in range. */
export function plotFrame(spec: PlotSpec) {
  const width = spec.width ?? 520;
  const height = spec.height ?? 360;
  const left = 72;
  const right = 16;
  const top = 30;
  const bottom = 50;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xs.push(x);
      ys.push(y);
      const e = s.yError?.[i];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        ys.push(y + e);
        if (!spec.yLog || y - e > 0) ys.push(y - e);
      }
    }
  }
  for (const h of spec.hLines ?? []) ys.push(h);
  const yRange = spec.yRange;
  const yAxisValues = yRange ? ys.filter((v) => v >= yRange[0] && v <= yRange[1]) : ys;
  const xAxis = makeAxis(xs, spec.xLog ?? false, left, width - right);
  const yAxis = makeAxis(yAxisValues, spec.yLog ?? false, height - bottom, top);
  return { width, height, left, right, top, bottom, xAxis, yAxis };
}

/** Renders a plot as an inline <svg> element. */
export function svgPlot(spec: PlotSpec): string {
  const { width, height, left, right, top, bottom, xAxis, yAxis } = plotFrame(spec);
  const clipId = spec.id ?? plotId(spec);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  const px0 = left;
  const px1 = width - right;
  const py0 = height - bottom;
  const py1 = top;
  for (const t of xAxis.ticks) {
    const p = xAxis.toPixel(t.value).toFixed(1);
    out.push(`<line x1="${p}" y1="${py0}" x2="${p}" y2="${py1}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${p}" y="${py0 + 15}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const p = yAxis.toPixel(t.value).toFixed(1);
    out.push(`<line x1="${px0}" y1="${p}" x2="${px1}" y2="${p}" stroke="#e6e6e6"/>`);
    out.push(
      `<text x="${px0 - 5}" y="${p}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`,
    );
  }
  for (const h of spec.hLines ?? []) {
    if (!yAxis.valid(h)) continue;
    const p = yAxis.toPixel(h).toFixed(1);
    out.push(`<line x1="${px0}" y1="${p}" x2="${px1}" y2="${p}" stroke="#888" stroke-dasharray="2,3"/>`);
  }
  out.push(
    `<rect x="${px0}" y="${py1}" width="${px1 - px0}" height="${py0 - py1}" fill="none" stroke="#333"/>`,
  );
  out.push(
    `<text x="${(px0 + px1) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${(py0 + py1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  out.push(
    `<defs><clipPath id="${clipId}"><rect x="${px0}" y="${py1}" width="${px1 - px0}" height="${py0 - py1}"/></clipPath></defs>`,
  );
  out.push(`<g clip-path="url(#${clipId})">`);
  const legend: { label: string; colour: string; style: string; empty: boolean }[] = [];
  spec.series.forEach((s, si) => {
    const colour = s.colour ?? PALETTE[si % PALETTE.length];
    const style = s.style ?? "line";
    const pts: [number, number][] = [];
    const bars: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!xAxis.valid(x) || !yAxis.valid(y)) continue;
      const X = xAxis.toPixel(x);
      const Y = yAxis.toPixel(y);
      pts.push([X, Y]);
      const e = s.yError?.[i];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        const yl = spec.yLog && y - e <= 0 ? py0 : yAxis.toPixel(y - e);
        bars.push(`M${X.toFixed(1)} ${yl.toFixed(1)}V${yAxis.toPixel(y + e).toFixed(1)}`);
      }
    }
    legend.push({ label: s.label, colour, style, empty: pts.length === 0 });
    if (bars.length) out.push(`<path d="${bars.join("")}" stroke="${colour}" stroke-width="1" fill="none"/>`);
    if (style === "points") {
      for (const [X, Y] of pts)
        out.push(`<circle cx="${X.toFixed(1)}" cy="${Y.toFixed(1)}" r="2.5" fill="${colour}"/>`);
    } else if (pts.length) {
      const d = pts.map(([X, Y], i) => `${i ? "L" : "M"}${X.toFixed(1)} ${Y.toFixed(1)}`).join("");
      const dash = style === "dashed" ? ` stroke-dasharray="6,4"` : "";
      out.push(`<path d="${d}" stroke="${colour}" stroke-width="1.6" fill="none"${dash}/>`);
    }
  });
  out.push(`</g>`);
  legend.forEach((l, i) => {
    const y = py1 + 12 + 14 * i;
    const x = px1 - 150;
    const mark =
      l.style === "points"
        ? `<circle cx="${x + 10}" cy="${y}" r="3" fill="${l.colour}"/>`
        : `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${l.colour}" stroke-width="2"${l.style === "dashed" ? ` stroke-dasharray="5,3"` : ""}/>`;
    out.push(
      mark,
      `<text x="${x + 25}" y="${y}" dominant-baseline="middle">${escapeXml(l.label + (l.empty ? " (no data)" : ""))}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n");
}

/** A clip-path id from the plot's text, so a document's plots differ and output is reproducible. */
function plotId(spec: PlotSpec): string {
  let h = 2166136261;
  for (const ch of `${spec.title}|${spec.xLabel}|${spec.yLabel}`)
    h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return `p${(h >>> 0).toString(36)}`;
}
