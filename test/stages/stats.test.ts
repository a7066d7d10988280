import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readParquet } from "../../src/io/parquet-table.js";
import { JsonLinesSink, rowsFromTable, type StatisticRow } from "../../src/stages/statistic-row.js";
import { angularCounts, runStatistics, statistics } from "../../src/stages/stats.js";
import { FIXTURE_BOX, statsFixture } from "./stats-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-stats-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Parses a JSON line, turning the strings that stand for non-finite numbers back into numbers. */
function parseLine(line: string): StatisticRow {
  return JSON.parse(line, (_k, v: unknown) =>
    v === "NaN" || v === "Infinity" || v === "-Infinity" ? Number(v) : v,
  ) as StatisticRow;
}

/** One streamed pass over the light-cone fixture, shared by the tests that only read rows. */
const streamed = (async () => {
  const inputs = statsFixture({ lightcone: true });
  const batches: StatisticRow[][] = [];
  for await (const batch of statistics(inputs, { threads: 1 })) batches.push(batch);
  return { inputs, batches, rows: batches.flat() };
})();

describe("statistics stage", () => {
  it("streams statistics in the documented order, each batch as it is ready", async () => {
    const { batches } = await streamed;
    const order: string[] = [];
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      const key = `${batch[0].statistic}:${batch[0].fields}`;
      if (order[order.length - 1] !== key) order.push(key);
    }
    const batchCount = batches.length;
    expect(order).toEqual([
      "power_spectrum:2LPT δ",
      "power_spectrum:painted",
      "power_spectrum:catalog",
      "cross_power:catalog×2LPT δ",
      "bispectrum_equilateral:2LPT δ",
      "bispectrum_equilateral:painted",
      "density_pdf:2LPT δ",
      "count_pdf:painted",
      "correlation_function:catalog",
      "mass_function:catalog",
      "redshift_distribution:z_obs",
      "angular_counts:healpix nside 16 nested",
    ]);
    expect(batchCount).toBe(order.length);
  });

  it("computes nothing ahead of the consumer: one statistic per pulled batch", async () => {
    const advanced: number[] = [];
    const progress = {
      start: () => undefined,
      advance: (_t: string, done: number) => void advanced.push(done),
      finish: () => undefined,
      info: () => undefined,
    };
    const gen = statistics(statsFixture(), { threads: 1, progress });
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(advanced).toEqual([1]);
    await gen.next();
    expect(advanced).toEqual([1, 2]);
    await gen.return(undefined);
  });

  it("measures what the fixture was built with", async () => {
    const { inputs, rows } = await streamed;
    const pick = (s: string, f: string) => rows.filter((r) => r.statistic === s && r.fields === f);
    // haloes are Poisson draws of 0.5 (1 + 1.5 δ)⁺: large-scale r_c close to 1 and bias ≈ 1.5
    const rc = pick("correlation_coefficient", "painted×2LPT δ").filter((r) => r.x < 0.2);
    expect(rc.length).toBeGreaterThan(2);
    for (const r of rc) expect(r.value).toBeGreaterThan(0.8);
    const t = pick("transfer_function", "painted×2LPT δ").filter((r) => r.x < 0.1);
    for (const r of t) expect(Math.abs(r.value - 1.5)).toBeLessThan(0.35);
    // the count PDF sums to 1; the mass function integrates to the number of haloes
    expect(pick("count_pdf", "painted").reduce((a, r) => a + r.value, 0)).toBeCloseTo(1, 10);
    const haloes = inputs.catalog!.numRows;
    expect(pick("mass_function", "catalog").reduce((a, r) => a + r.count, 0)).toBe(haloes);
    // linear theory and both fits are present
    expect(pick("power_spectrum", "linear theory").length).toBeGreaterThan(5);
    expect(pick("mass_function", "warren fit").length).toBe(12);
    // catalog P(k) (shot noise subtracted) agrees with the painted field's on large scales
    const cat = pick("power_spectrum", "catalog");
    const painted = pick("power_spectrum", "painted");
    const shot = FIXTURE_BOX ** 3 / haloes;
    for (const c of cat.filter((r) => r.x < 0.1)) {
      const p = painted.find((q) => Math.abs(q.x - c.x) < 1e-9)!;
      // painted counts carry the same Poisson noise, not subtracted in its row
      expect(Math.abs(c.value - (p.value - shot))).toBeLessThan(4 * ((p.value + shot) / Math.sqrt(c.count)));
    }
  });

  it("writes stats.jsonl and an atomic stats.parquet holding the same rows", async () => {
    const out = path.join(dir, "run");
    fs.mkdirSync(out);
    const res = await runStatistics(
      statsFixture({ lightcone: true }),
      out,
      { threads: 1 },
      { "mocksmith.seed": "7" },
    );
    const lines = fs.readFileSync(res.jsonLines, "utf8").trimEnd().split("\n");
    expect(lines.map(parseLine)).toEqual(res.rows);
    const { table, metadata } = readParquet(res.parquet);
    expect(metadata["mocksmith.format"]).toBe("statistics/1");
    expect(metadata["mocksmith.seed"]).toBe("7");
    expect(metadata["mocksmith.box_size"]).toBe(String(FIXTURE_BOX));
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      "statistic",
      "fields",
      "x",
      "x_name",
      "value",
      "count",
      "error",
      "x2",
      "x3",
    ]);
    const back = rowsFromTable(table);
    expect(back.length).toBe(res.rows.length);
    back.forEach((r, i) => {
      const w = res.rows[i];
      expect([r.statistic, r.fields, r.xName, r.error === undefined, r.x2 === undefined]).toEqual([
        w.statistic,
        w.fields,
        w.xName,
        w.error === undefined,
        w.x2 === undefined,
      ]);
      for (const k of ["x", "value", "count"] as const)
        expect(Object.is(r[k], w[k]) || r[k] === w[k]).toBe(true);
    });
    expect(fs.readdirSync(out).sort()).toEqual(["stats.jsonl", "stats.parquet"]); // no temporaries left
  });

  it("the JSON-lines sink makes each batch readable before the next arrives", () => {
    const file = path.join(dir, "sink.jsonl");
    const sink = new JsonLinesSink(file);
    sink.write({ statistic: "a", fields: "f", x: 1, xName: "k", value: NaN, count: 3 });
    expect(fs.readFileSync(file, "utf8")).toBe(
      '{"statistic":"a","fields":"f","x":1,"xName":"k","value":"NaN","count":3}\n',
    );
    sink.write([{ statistic: "b", fields: "f", x: 2, xName: "k", value: 1, count: 1, error: 0.5 }]);
    sink.close();
    expect(fs.readFileSync(file, "utf8").split("\n").length).toBe(3);
    expect(() => sink.write([])).toThrow(/after close/);
  });

  it("degrades nested HEALPix pixels by dropping two bits per level", () => {
    // nside 4 pixels 0..191 → nside 2 parents p >> 2
    const rows = angularCounts([0, 1, 2, 3, 4, 191], 4, 2);
    expect(rows.length).toBe(48);
    expect(rows[0].value).toBe(4);
    expect(rows[1].value).toBe(1);
    expect(rows[47].value).toBe(1);
    expect(() => angularCounts([192], 4, 4)).toThrow(/outside nside 4/);
  });
});

describe("empty count fields", () => {
  it("are left out instead of failing the stage (an empty mass bin)", async () => {
    const n = 8;
    const empty = {
      name: "empty bin",
      data: new Float32Array(n ** 3),
      shape: [n, n, n] as const,
      kind: "counts" as const,
    };
    const full = {
      name: "full bin",
      data: new Float32Array(n ** 3).fill(2),
      shape: [n, n, n] as const,
      kind: "counts" as const,
    };
    full.data[5] = 7;
    const rows: StatisticRow[] = [];
    for await (const batch of statistics({ boxSize: 64, redshift: 0, painted: [empty, full] }))
      rows.push(...batch);
    expect(rows.some((r) => r.fields.includes("empty bin"))).toBe(false);
    expect(rows.some((r) => r.fields.includes("full bin"))).toBe(true);
  });
});
