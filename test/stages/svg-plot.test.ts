import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sliceImage } from "../../src/stages/report/slice-image.js";
import { svgPlot } from "../../src/stages/report/svg-plot.js";

describe("SVG plots", () => {
  it("skips points a log axis cannot show and marks empty series", () => {
    const svg = svgPlot({
      title: "P <&> k",
      xLabel: "k",
      yLabel: "P",
      xLog: true,
      yLog: true,
      series: [
        { label: "a", x: [0.1, 0.2, 0.4], y: [100, -5, 10], style: "points" },
        { label: "b", x: [0.1], y: [0] },
      ],
    });
    expect((svg.match(/<circle /g) ?? []).length).toBe(2 + 1); // the two drawable points + a legend marker
    expect(svg).toContain("b (no data)");
    expect(svg).toContain("P &lt;&amp;&gt; k");
    // decade ticks of the y range [10, 100]
    expect(svg).toMatch(/>10<\/text>/);
    expect(svg).toMatch(/>100<\/text>/);
  });

  it("labels ranges narrower than a decade", () => {
    const svg = svgPlot({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      yLog: true,
      series: [{ label: "s", x: [1, 2], y: [120, 170] }],
    });
    expect((svg.match(/>1[2-6]0<\/text>/g) ?? []).length).toBeGreaterThanOrEqual(2);
  });
});

describe("slice images", () => {
  it("averages a slab and spans the colour map between the percentiles", () => {
    const n = 8;
    const grid = new Float32Array(n ** 3);
    for (let i = 0; i < n; i++) for (let j = 0; j < n * n; j++) grid[i * n * n + j] = i < 2 ? j % n : 99;
    const s = sliceImage(grid, [n, n, n], { thickness: 2, scale: 3 });
    expect([s.width, s.height]).toEqual([24, 24]);
    expect(s.low).toBe(0);
    expect(s.high).toBe(7);
    // 24 rows of filter byte + 24·3 RGB bytes
    const idat = s.png.subarray(8 + 25 + 8, s.png.length - 12 - 4);
    expect(inflateSync(idat).length).toBe(24 * (1 + 24 * 3));
  });
});
