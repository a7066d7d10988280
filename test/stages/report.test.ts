import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  renderReport,
  reportImages,
  reportPlots,
  writeReport,
  type ReportImage,
} from "../../src/stages/report.js";
import type { StatisticRow } from "../../src/stages/statistic-row.js";
import { statistics } from "../../src/stages/stats.js";
import { statsFixture } from "./stats-fixture.js";
import { spawnAsync } from "../cli-process.js";

const CHROMIUM = "/usr/bin/chromium";
/** Screenshots and the rendered report are kept here for people to look at (gitignored). */
const ARTIFACTS = path.resolve("test-artifacts");

async function fixtureReport(): Promise<{ rows: StatisticRow[]; images: ReportImage[] }> {
  const inputs = statsFixture({ lightcone: true });
  const rows: StatisticRow[] = [];
  for await (const b of statistics(inputs, { threads: 1 })) rows.push(...b);
  return { rows, images: reportImages(inputs) };
}

describe("report.html", () => {
  const report = fixtureReport();

  it("is self-contained: no external resources, every statistic plotted", async () => {
    const { rows, images } = await report;
    const html = renderReport({ title: "fixture run", rows, images, provenance: { box: "128 Mpc/h" } });
    // the only URL is the SVG namespace; images are data URIs
    const urls = html.match(/(?:src|href)\s*=\s*["'][^"']*/g) ?? [];
    for (const u of urls) expect(u).toMatch(/["']data:image\/png;base64,/);
    expect(html).not.toMatch(/url\((?!#)/);
    expect(html).not.toMatch(/@import|<link|<iframe/);
    expect(images.map((i) => i.title)).toEqual(["2LPT δ", "painted", "catalog", "light cone on the sky"]);
    const titles = reportPlots(rows).map((p) => p.title);
    for (const t of [
      "Power spectra",
      "Cross-correlation coefficient",
      "Equilateral bispectrum",
      "Voxel PDF of 1 + δ",
      "Two-point correlation function",
      "Halo mass function",
      "Redshift distribution",
    ])
      expect(titles).toContain(t);
    expect((html.match(/<svg /g) ?? []).length).toBe(titles.length);
  });

  it.skipIf(!fs.existsSync(CHROMIUM))(
    `renders in headless Chromium without console errors (skipped when ${CHROMIUM} is absent: apt-get install -y chromium)`,
    async () => {
      const { rows, images } = await report;
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const html = path.join(ARTIFACTS, "report.html");
      const png = path.join(ARTIFACTS, "report.png");
      fs.rmSync(png, { force: true });
      writeReport(html, { title: "fixture run", rows, images, provenance: { box: "128 Mpc/h", seed: "7" } });
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-chromium-"));
      try {
        // Async: a blocked vitest worker misses its RPC deadlines (`Timeout calling "onTaskUpdate"`).
        const run = await spawnAsync(
          CHROMIUM,
          [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            `--user-data-dir=${profile}`,
            "--enable-logging=stderr",
            "--v=0",
            `--screenshot=${png}`,
            "--window-size=1200,4000",
            `file://${html}`,
          ],
          { timeoutMs: 90_000 },
        );
        expect(run.error).toBeUndefined();
        // Chromium logs every console message (log or error alike) and uncaught exceptions as CONSOLE lines.
        const consoleLines = run.stderr.split("\n").filter((l) => l.includes(":CONSOLE"));
        const ok = consoleLines.filter((l) => l.includes("mocksmith report: rendered 4 images"));
        expect(ok.length, run.stderr).toBe(1);
        expect(consoleLines.filter((l) => !ok.includes(l))).toEqual([]);
        expect(fs.statSync(png).size).toBeGreaterThan(10_000);
      } finally {
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
