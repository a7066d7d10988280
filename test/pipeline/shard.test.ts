/** The shard partition rule and option parser (src/pipeline/shard.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, configHash, parseShard, shardRange } from "../../src/pipeline/shard.js";

describe("shardRange", () => {
  it("cuts 0…total−1 into n contiguous, disjoint ranges that cover every unit once and differ in size by ≤ 1", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), (total, count) => {
        let next = 0;
        const sizes: number[] = [];
        for (let index = 0; index < count; index++) {
          const r = shardRange(total, { index, count });
          expect(r.start).toBe(next); // contiguous and in order: no gap, no overlap
          expect(r.end).toBeGreaterThanOrEqual(r.start);
          sizes.push(r.end - r.start);
          next = r.end;
        }
        expect(next).toBe(total);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("gives 10 units over 3 shards as 0–2, 3–5, 6–9", () => {
    expect([0, 1, 2].map((index) => shardRange(10, { index, count: 3 }))).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 10 },
    ]);
  });
});

describe("parseShard", () => {
  it("accepts i/n with 0 ≤ i < n", () => {
    expect(parseShard("0/1")).toEqual({ index: 0, count: 1 });
    expect(parseShard(" 2 / 3 ")).toEqual({ index: 2, count: 3 });
  });
  it.each(["3/3", "1/0", "-1/3", "1", "a/b", "1/2/3", "1.5/3"])("rejects %s", (v) => {
    expect(() => parseShard(v)).toThrow(/i\/n/);
  });
});

describe("configHash", () => {
  it("ignores key order and sees every value", () => {
    expect(configHash({ a: 1, b: { c: [1, 2], d: "x" } })).toBe(
      configHash({ b: { d: "x", c: [1, 2] }, a: 1 }),
    );
    expect(configHash({ a: 1, b: { c: [1, 2] } })).not.toBe(configHash({ a: 1, b: { c: [2, 1] } }));
    expect(canonicalJson({ z: 1, a: { y: 2, b: 3 } })).toBe('{"a":{"b":3,"y":2},"z":1}');
  });
});
