/**
 * The report's line/point plots as PNG images (the raster twin of ./svg-plot.ts, same PlotSpec
 * and the same axes): for viewers and pipelines that take images rather than SVG. Everything is
 * drawn on an RGB pixel grid at `pixelScale` device pixels per layout unit (lines stamped with a
 * square brush, markers as discs, text in the 5×7 font of ./bitmap-font.ts) and encoded by
 * io/png.ts; no fonts or libraries outside this repository are needed.
 */
import { encodePng } from "../../io/png.js";
import { CAP_HEIGHT, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from "./bitmap-font.js";
import { plotFrame, type PlotSpec } from "./svg-plot.js";

type Rgb = readonly [number, number, number];

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const BLACK: Rgb = [0x33, 0x33, 0x33];
const GRID: Rgb = [0xe6, 0xe6, 0xe6];
const REFERENCE: Rgb = [0x88, 0x88, 0x88];

function rgb(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`colour ${hex} is not #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

interface Clip {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** An RGB canvas addressed in layout units. */
class Raster {
  readonly pixels: Uint8Array;
  readonly w: number;
  readonly h: number;
  clip: Clip | null = null;

  constructor(
    width: number,
    height: number,
    readonly scale: number,
  ) {
    this.w = Math.round(width * scale);
    this.h = Math.round(height * scale);
    this.pixels = new Uint8Array(this.w * this.h * 3).fill(255);
  }

  /** One device pixel. */
  private put(px: number, py: number, c: Rgb): void {
    if (px < 0 || py < 0 || px >= this.w || py >= this.h) return;
    const k = this.clip;
    if (k && (px < k.x0 || px > k.x1 || py < k.y0 || py > k.y1)) return;
    const o = 3 * (py * this.w + px);
    this.pixels[o] = c[0];
    this.pixels[o + 1] = c[1];
    this.pixels[o + 2] = c[2];
  }

  setClip(x: number, y: number, width: number, height: number): void {
    const s = this.scale;
    this.clip = {
      x0: Math.round(x * s),
      y0: Math.round(y * s),
      x1: Math.round((x + width) * s),
      y1: Math.round((y + height) * s),
    };
  }

  /** A line of `width` layout units; `dash` = [on, off] lengths in layout units. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, width = 1, dash?: [number, number]): void {
    const s = this.scale;
    const t = Math.max(1, Math.round(width * s));
    const half = (t - 1) / 2;
    // Stamp only the part inside the visible area: a point far off the axes (a ratio of ~0/0)
    // would otherwise cost a brush stamp per pixel of a line billions of pixels long.
    const seen = this.visibleSegment(x0, y0, x1, y1, (t + 1) / s);
    if (!seen) return;
    const len = Math.hypot(x1 - x0, y1 - y0);
    const [f0, f1] = seen;
    const steps = Math.max(1, Math.ceil(2 * (f1 - f0) * len * s));
    for (let i = 0; i <= steps; i++) {
      const f = f0 + ((f1 - f0) * i) / steps;
      if (dash && (f * len) % (dash[0] + dash[1]) >= dash[0]) continue;
      const px = Math.round((x0 + f * (x1 - x0)) * s - half);
      const py = Math.round((y0 + f * (y1 - y0)) * s - half);
      for (let a = 0; a < t; a++) for (let b = 0; b < t; b++) this.put(px + a, py + b, c);
    }
  }

  /**
   * The parameter range [f0, f1] ⊆ [0, 1] of the segment inside the clip rectangle (or the
   * canvas) grown by `margin` layout units (Liang–Barsky), or null if none of it is.
   */
  private visibleSegment(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    margin: number,
  ): [number, number] | null {
    if (![x0, y0, x1, y1].every(Number.isFinite)) return null;
    const s = this.scale;
    const k = this.clip ?? { x0: 0, y0: 0, x1: this.w, y1: this.h };
    const box = [k.x0 / s - margin, k.x1 / s + margin, k.y0 / s - margin, k.y1 / s + margin];
    let f0 = 0;
    let f1 = 1;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const edges: [number, number][] = [
      [-dx, x0 - box[0]],
      [dx, box[1] - x0],
      [-dy, y0 - box[2]],
      [dy, box[3] - y0],
    ];
    for (const [p, q] of edges) {
      if (p === 0) {
        if (q < 0) return null;
        continue;
      }
      const r = q / p;
      if (p < 0) f0 = Math.max(f0, r);
      else f1 = Math.min(f1, r);
      if (f0 > f1) return null;
    }
    return [f0, f1];
  }

  disc(cx: number, cy: number, r: number, c: Rgb): void {
    const s = this.scale;
    const R = r * s;
    const X = cx * s;
    const Y = cy * s;
    for (let py = Math.floor(Y - R); py <= Math.ceil(Y + R); py++)
      for (let px = Math.floor(X - R); px <= Math.ceil(X + R); px++)
        if ((px + 0.5 - X) ** 2 + (py + 0.5 - Y) ** 2 <= R * R) this.put(px, py, c);
  }

  /** Text centred vertically on y; `rotate` turns it 90° anticlockwise about (x, y). */
  text(
    x: number,
    y: number,
    str: string,
    c: Rgb,
    align: "start" | "middle" | "end" = "start",
    rotate = false,
    bold = false,
  ): void {
    const s = this.scale;
    const chars = [...str];
    const advance = GLYPH_WIDTH + 1;
    const width = chars.length * advance - 1;
    const start = align === "start" ? 0 : align === "middle" ? -width / 2 : -width;
    chars.forEach((ch, n) => {
      const rows = glyphRows(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++)
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (!((rows[r] >> (GLYPH_WIDTH - 1 - col)) & 1)) continue;
          // Offsets along the text (u) and down the glyph (v), in layout units.
          const u = start + n * advance + col;
          const v = r - CAP_HEIGHT / 2;
          const [lx, ly] = rotate ? [x + v, y - u] : [x + u, y + v];
          for (let a = 0; a < s + (bold ? 1 : 0); a++)
            for (let b = 0; b < s; b++) this.put(Math.round(lx * s) + a, Math.round(ly * s) + b, c);
        }
    });
  }
}

/** Renders a plot as a PNG file (width × height layout units at pixelScale pixels each). */
export function rasterPlot(spec: PlotSpec, pixelScale = 2): Buffer {
  const { width, height, left, right, top, bottom, xAxis, yAxis } = plotFrame(spec);
  const px0 = left;
  const px1 = width - right;
  const py0 = height - bottom;
  const py1 = top;
  const g = new Raster(width, height, pixelScale);
  g.text(width / 2, 15, spec.title, BLACK, "middle", false, true);
  for (const t of xAxis.ticks) {
    const p = xAxis.toPixel(t.value);
    g.line(p, py0, p, py1, GRID);
    g.text(p, py0 + 12, t.label, BLACK, "middle");
  }
  for (const t of yAxis.ticks) {
    const p = yAxis.toPixel(t.value);
    g.line(px0, p, px1, p, GRID);
    g.text(px0 - 5, p, t.label, BLACK, "end");
  }
  for (const h of spec.hLines ?? []) {
    if (!yAxis.valid(h)) continue;
    const p = yAxis.toPixel(h);
    g.line(px0, p, px1, p, REFERENCE, 1, [2, 3]);
  }
  g.line(px0, py0, px1, py0, BLACK);
  g.line(px0, py1, px1, py1, BLACK);
  g.line(px0, py0, px0, py1, BLACK);
  g.line(px1, py0, px1, py1, BLACK);
  g.text((px0 + px1) / 2, height - 14, spec.xLabel, BLACK, "middle");
  g.text(16, (py0 + py1) / 2, spec.yLabel, BLACK, "middle", true);
  g.setClip(px0, py1, px1 - px0, py0 - py1);
  const legend: { label: string; colour: Rgb; style: string; empty: boolean }[] = [];
  spec.series.forEach((s, si) => {
    const colour = rgb(s.colour ?? PALETTE[si % PALETTE.length]);
    const style = s.style ?? "line";
    const pts: [number, number][] = [];
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
        g.line(X, yl, X, yAxis.toPixel(y + e), colour);
      }
    }
    legend.push({ label: s.label, colour, style, empty: pts.length === 0 });
    if (style === "points") for (const [X, Y] of pts) g.disc(X, Y, 2.5, colour);
    else
      for (let i = 1; i < pts.length; i++)
        g.line(
          pts[i - 1][0],
          pts[i - 1][1],
          pts[i][0],
          pts[i][1],
          colour,
          1.6,
          style === "dashed" ? [6, 4] : undefined,
        );
  });
  g.clip = null;
  legend.forEach((l, i) => {
    const y = py1 + 12 + 14 * i;
    const x = px1 - 150;
    if (l.style === "points") g.disc(x + 10, y, 3, l.colour);
    else g.line(x, y, x + 20, y, l.colour, 2, l.style === "dashed" ? [5, 3] : undefined);
    g.text(x + 25, y, l.label + (l.empty ? " (no data)" : ""), BLACK);
  });
  return encodePng(g.w, g.h, g.pixels);
}
