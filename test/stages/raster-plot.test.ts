import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { glyphRows } from "../../src/stages/report/bitmap-font.js";
import { rasterPlot } from "../../src/stages/report/raster-plot.js";
import { makeAxis } from "../../src/stages/report/svg-plot.js";

/** Width, height and RGB pixels of one of our PNGs (one IDAT, filter 0 on every row). */
function decode(png: Buffer): { w: number; h: number; px: Uint8Array } {
  expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const w = png.readUInt32BE(16);
  const h = png.readUInt32BE(20);
  const idatLength = png.readUInt32BE(33);
  expect(png.toString("latin1", 37, 41)).toBe("IDAT");
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) px.set(raw.subarray(y * (1 + 3 * w) + 1, (y + 1) * (1 + 3 * w)), y * 3 * w);
  return { w, h, px };
}

describe("raster plots", () => {
  it("every printable ASCII character has its own glyph; others draw as '?'", () => {
    const question = JSON.stringify(glyphRows("?"));
    for (let c = 33; c < 127; c++) {
      const ch = String.fromCharCode(c);
      if (ch !== "?") expect(JSON.stringify(glyphRows(ch)), ch).not.toBe(question);
      expect(
        glyphRows(ch).some((r) => r > 0),
        ch,
      ).toBe(true);
    }
    expect(glyphRows(" ").every((r) => r === 0)).toBe(true);
    expect(JSON.stringify(glyphRows("\u2603"))).toBe(question);
  });

  it("draws series where the axes put them, clipped to the plot area, with a title", () => {
    const spec = {
      title: "Test",
      xLabel: "x",
      yLabel: "y",
      width: 300,
      height: 200,
      series: [
        { label: "flat", x: [1, 2, 3, 4], y: [2, 2, 2, 2], colour: "#ff0000" },
        { label: "dots", x: [1, 4], y: [1, 3], style: "points" as const, colour: "#0000ff" },
      ],
    };
    const { w, h, px } = decode(rasterPlot(spec, 2));
    expect([w, h]).toEqual([600, 400]);
    const at = (x: number, y: number) => Array.from(px.subarray(3 * (y * w + x), 3 * (y * w + x) + 3));
    // The axes of svg-plot.ts with the same layout (left 72, right 16, top 30, bottom 50).
    const xa = makeAxis([1, 2, 3, 4, 1, 4], false, 72, 300 - 16);
    const ya = makeAxis([2, 2, 2, 2, 1, 3], false, 200 - 50, 30);
    const row = Math.round(ya.toPixel(2) * 2);
    let red = 0;
    for (let x = Math.ceil(xa.toPixel(1) * 2) + 2; x < Math.floor(xa.toPixel(4) * 2) - 2; x++)
      if (JSON.stringify(at(x, row)) === "[255,0,0]") red++;
    expect(red).toBeGreaterThan(0.9 * 2 * (xa.toPixel(4) - xa.toPixel(1) - 4));
    expect(at(Math.round(xa.toPixel(4) * 2), Math.round(ya.toPixel(3) * 2))).toEqual([0, 0, 255]);
    // Nothing of the series outside the frame except the legend's samples (top right).
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const inside = x >= 144 && x <= 2 * 284 && y >= 60 && y <= 300;
        const c = at(x, y);
        if (!inside && (JSON.stringify(c) === "[255,0,0]" || JSON.stringify(c) === "[0,0,255]"))
          throw new Error(`series pixel outside the plot at ${x}, ${y}`);
      }
    // The title's glyphs are drawn in the top band.
    let dark = 0;
    for (let y = 0; y < 45; y++) for (let x = 0; x < w; x++) if (at(x, y)[0] < 100) dark++;
    expect(dark).toBeGreaterThan(50);
  });

  it("draws the visible part of a line to a point far outside a fixed range (without stamping the rest)", () => {
    // y = 1e15 against yRange [0, 2]: the segment from (1, 1) leaves the frame almost vertically;
    // stamping its whole length (~1e17 device pixels) would never finish.
    const spec = {
      title: "far",
      xLabel: "x",
      yLabel: "y",
      width: 300,
      height: 200,
      yRange: [0, 2] as [number, number],
      series: [{ label: "far", x: [1, 2], y: [1, 1e15], colour: "#ff0000" }],
    };
    const { w, px } = decode(rasterPlot(spec, 2));
    const xa = makeAxis([1, 2], false, 72, 300 - 16);
    const ya = makeAxis([0, 2], false, 200 - 50, 30);
    const col = Math.round(xa.toPixel(1) * 2);
    let red = 0;
    for (let y = Math.round(ya.toPixel(2) * 2) + 2; y < Math.round(ya.toPixel(1) * 2) - 2; y++)
      for (let dx = -2; dx <= 2; dx++) {
        const o = 3 * (y * w + col + dx);
        if (px[o] === 255 && px[o + 1] === 0 && px[o + 2] === 0) {
          red++;
          break;
        }
      }
    expect(red).toBeGreaterThan(0.9 * 2 * (ya.toPixel(1) - ya.toPixel(2)) - 8);
  });

  it("skips points a log axis cannot show and still renders an all-empty series", () => {
    const png = rasterPlot({
      title: "log",
      xLabel: "k",
      yLabel: "P",
      xLog: true,
      yLog: true,
      series: [
        { label: "some", x: [0.1, 0.2, 0.3], y: [10, -1, NaN] },
        { label: "none", x: [0.1], y: [0] },
      ],
    });
    const { w, h } = decode(png);
    expect([w, h]).toEqual([1040, 720]);
  });
});
