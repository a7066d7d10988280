/**
 * What the HTML pages (report.html, validate painter's and validate gan's index.html) share: one
 * stylesheet, number formatting, and the row of an acceptance check with its verdict.
 */
import { escapeXml } from "./svg-plot.js";

/** The pages' stylesheet; `extra` appends page-specific rules. */
export function pageStyle(extra = ""): string {
  return `
body { font-family: sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; padding: 6px; }
figcaption { font-size: 12px; color: #555; max-width: 400px; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
${extra}`;
}

/** A number to `digits` significant digits, without trailing zeros; non-finite values as text. */
export function formatNumber(v: number, digits = 4): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v);
}

/** pass / FAIL, or `noneText` when no bin fell in the checked range. */
export function verdictHtml(passed: boolean | null, noneText: string): string {
  if (passed === null) return `<span class="fail">${escapeXml(noneText)}</span>`;
  return passed ? `<span class="pass">pass</span>` : `<span class="fail">FAIL</span>`;
}

export interface CheckRowFields {
  name: string;
  description: string;
  passed: boolean | null;
  /** Bins (shells) tested. */
  bins: number;
  worst: { statistic: string; value: number; bound: number; variable: string; at: number } | null;
  failingAt: readonly number[];
}

/** One table row of an acceptance check: name, description, verdict, bins, worst case, failing bins. */
export function checkRowHtml(c: CheckRowFields, noneText: string): string {
  const w = c.worst;
  const worst = w
    ? `${escapeXml(w.statistic)} = ${formatNumber(w.value)} (bound ${formatNumber(w.bound)}) at ${escapeXml(w.variable)} = ${formatNumber(w.at)}`
    : "";
  const failing = c.failingAt.length ? c.failingAt.map((x) => formatNumber(x)).join(", ") : "none";
  return `<tr><th>${escapeXml(c.name)}</th><td>${escapeXml(c.description)}</td><td>${verdictHtml(c.passed, noneText)}</td><td>${c.bins}</td><td>${worst}</td><td>${failing}</td></tr>`;
}
