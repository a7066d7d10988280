/**
 * Training patches of the halo painter: the 48 cube symmetries form the octahedral group,
 * a symmetry applied to a patch equals the patch re-extracted from the symmetrised box, input
 * and target stay aligned, and patches are reproducible for a seed.
 */
import { describe, expect, it } from "vitest";
import {
  applySymmetry,
  composeSymmetries,
  CUBE_SYMMETRIES,
  inverseSymmetry,
  symmetryIndex,
  type CubeSymmetry,
} from "../../src/models/painter/cube-symmetry.js";
import {
  cutPair,
  extractPeriodicCube,
  patchBatch,
  STREAM_TRAINING_PATCHES,
  validationCount,
  type TrainingSimulation,
} from "../../src/models/painter/training-data.js";
import { mulberry32 } from "../seeded-random.js";

function randomCube(n: number, seed: number, channels = 1): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: n ** 3 * channels }, () => u());
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe("the 48 cube symmetries", () => {
  it("are distinct: their images of an asymmetric cube all differ", () => {
    const x = randomCube(4, 1);
    const images = CUBE_SYMMETRIES.map((s) => Array.from(applySymmetry(x, 4, s)).join(","));
    expect(new Set(images).size).toBe(48);
    expect(CUBE_SYMMETRIES.map(symmetryIndex)).toEqual(Array.from({ length: 48 }, (_, i) => i));
  });

  it("form a group: closure, identity, inverses, and composition agrees with applying in turn", () => {
    const x = randomCube(3, 2, 2);
    const identity = CUBE_SYMMETRIES[0];
    expect(same(applySymmetry(x, 3, identity, 2), x)).toBe(true);
    for (const a of CUBE_SYMMETRIES) {
      const inv = inverseSymmetry(a);
      expect(symmetryIndex(inv)).toBeGreaterThanOrEqual(0);
      expect(symmetryIndex(composeSymmetries(a, inv))).toBe(0);
      expect(symmetryIndex(composeSymmetries(inv, a))).toBe(0);
      const ax = applySymmetry(x, 3, a, 2);
      for (const b of CUBE_SYMMETRIES) {
        const ab: CubeSymmetry = composeSymmetries(a, b);
        expect(symmetryIndex(ab)).toBeGreaterThanOrEqual(0); // closure
        expect(same(applySymmetry(ax, 3, b, 2), applySymmetry(x, 3, ab, 2))).toBe(true);
      }
    }
  });

  it("a symmetrised patch equals the patch re-extracted from the symmetrised periodic box", () => {
    const n = 10;
    const p = 7;
    const box = randomCube(n, 3);
    for (const [si, s] of CUBE_SYMMETRIES.entries()) {
      const o: [number, number, number] = [(3 * si) % n, (5 * si + 1) % n, (7 * si + 2) % n];
      const patch = applySymmetry(extractPeriodicCube(box, n, o, p), p, s);
      // Output axis a reads input axis permutation[a]; a reversed axis starts at n − p − o.
      const o2 = [0, 1, 2].map((a) => {
        const src = o[s.permutation[a]];
        return s.flips[a] ? (((n - p - src) % n) + n) % n : src;
      }) as [number, number, number];
      const again = extractPeriodicCube(applySymmetry(box, n, s), n, o2, p);
      expect(same(patch, again), `symmetry ${si}`).toBe(true);
    }
  });
});

describe("training patches", () => {
  const n = 12;
  const sims: TrainingSimulation[] = [0, 1].map((k) => ({
    directory: `sim-${k}`,
    side: n,
    boxSize: 48,
    input: randomCube(n, 10 + k),
    targets: [randomCube(n, 20 + k), randomCube(n, 30 + k)],
    manifestSha256: "",
  }));

  it("input and target come from the same place under the same symmetry", () => {
    const pad = 2;
    const p = 9;
    const t = p - 2 * pad;
    for (let s = 0; s < 48; s += 5) {
      const draw = { simulation: 1, origin: [11, 4, 7] as [number, number, number], symmetry: s };
      const { input, target } = cutPair(sims[1], draw, p, pad);
      const sym = CUBE_SYMMETRIES[s];
      expect(same(input, applySymmetry(extractPeriodicCube(sims[1].input, n, draw.origin, p), p, sym))).toBe(
        true,
      );
      // The target's channel c equals the symmetrised target cube at origin + padding.
      for (let c = 0; c < 2; c++) {
        const cube = applySymmetry(extractPeriodicCube(sims[1].targets[c], n, [1, 6, 9], t), t, sym);
        expect(
          same(
            target.filter((_, i) => i % 2 === c),
            cube,
          ),
        ).toBe(true);
      }
      // The input's central t³ block under the symmetry is the symmetrised central block.
      const centre = extractPeriodicCube(input, p, [pad, pad, pad], t);
      const direct = applySymmetry(extractPeriodicCube(sims[1].input, n, [1, 6, 9], t), t, sym);
      expect(same(centre, direct)).toBe(true);
    }
  });

  it("are reproducible for a seed and differ between seeds and steps", () => {
    const opts = { seed: 7, purpose: STREAM_TRAINING_PATCHES, first: 6, batch: 3, patch: 9, padding: 2 };
    const a = patchBatch(sims, opts);
    const b = patchBatch(sims, opts);
    expect(same(a.input, b.input) && same(a.target, b.target)).toBe(true);
    expect(a.input.length).toBe(3 * 9 ** 3);
    expect(a.target.length).toBe(3 * 5 ** 3 * 2);
    expect(same(patchBatch(sims, { ...opts, seed: 8 }).input, a.input)).toBe(false);
    expect(same(patchBatch(sims, { ...opts, first: 9 }).input, a.input)).toBe(false);
    // Sample 7 of a batch starting at 6 is sample 7 of any batch: draws are keyed by counter.
    const one = patchBatch(sims, { ...opts, first: 7, batch: 1 });
    expect(same(one.input, a.input.subarray(9 ** 3, 2 * 9 ** 3))).toBe(true);
  });

  it("splits validation by count or fraction, and refuses a split with no training set", () => {
    expect(validationCount(2, 10)).toBe(2);
    expect(validationCount(0.25, 10)).toBe(3);
    expect(validationCount(0.01, 10)).toBe(1);
    expect(validationCount(0, 1)).toBe(0);
    expect(() => validationCount(1, 1)).toThrow(/leave none/);
  });
});
