import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { friendsOfFriends, linkingLengthFor, type FofGroups } from "../../src/cosmo/friends-of-friends.js";
import { haloProperties } from "../../src/cosmo/halo-properties.js";
import { mulberry32 } from "../seeded-random.js";

const rng = mulberry32;

function wrap(x: number, L: number): number {
  const w = x - Math.floor(x / L) * L;
  return Math.fround(w) >= L ? 0 : w;
}

/** Builds interleaved float32 positions, wrapping each coordinate into [0, L). */
function particles(points: readonly (readonly number[])[], L: number): Float32Array {
  const out = new Float32Array(3 * points.length);
  points.forEach((p, i) => {
    for (let d = 0; d < 3; d++) out[3 * i + d] = wrap(p[d], L);
  });
  return out;
}

/** A compact cube of k³ points with spacing h around a centre (every point linked for h < ℓ). */
function cubeBlob(centre: readonly number[], k: number, h: number): number[][] {
  const pts: number[][] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      for (let l = 0; l < k; l++)
        pts.push([
          centre[0] + (i - (k - 1) / 2) * h,
          centre[1] + (j - (k - 1) / 2) * h,
          centre[2] + (l - (k - 1) / 2) * h,
        ]);
  return pts;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
const asArrays = (g: FofGroups): number[][] => g.groups.map((m) => Array.from(m));

/** O(N²) reference: same float64 minimum-image criterion d² < ℓ², same output ordering rule. */
function bruteForceFof(pos: Float32Array, L: number, ll: number, minMembers: number): FofGroups {
  const n = pos.length / 3;
  const parent = range(0, n);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let d = 0; d < 3; d++) {
        let dx = pos[3 * i + d] - pos[3 * j + d];
        if (dx > L / 2) dx -= L;
        else if (dx < -L / 2) dx += L;
        d2 += dx * dx;
      }
      if (d2 < ll * ll) parent[Math.max(find(i), find(j))] = Math.min(find(i), find(j));
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!byRoot.has(r)) byRoot.set(r, []);
    byRoot.get(r)!.push(i);
  }
  const groups = [...byRoot.values()]
    .filter((m) => m.length >= minMembers)
    .sort((a, b) => b.length - a.length || a[0] - b[0]);
  const groupOf = new Int32Array(n).fill(-1);
  groups.forEach((m, g) => m.forEach((i) => (groupOf[i] = g)));
  return { groupOf, groups: groups.map((m) => Int32Array.from(m)) };
}

describe("linkingLengthFor", () => {
  it("is b times the mean interparticle separation", () => {
    expect(linkingLengthFor(256, 128 ** 3)).toBeCloseTo(0.4, 12);
    expect(linkingLengthFor(100, 1000, 0.5)).toBeCloseTo(5, 12);
  });
});

describe("friendsOfFriends on constructed sets", () => {
  const L = 100;
  const ll = 1;

  it("finds isolated blobs exactly, ordered by size, and leaves field particles ungrouped", () => {
    const a = cubeBlob([20, 20, 20], 3, 0.5); // 27 members
    const b = cubeBlob([60, 30, 70], 4, 0.6); // 64 members
    const c = cubeBlob([80, 80, 10], 3, 0.9); // 27 members, appears after a
    const field = [
      [5, 50, 50],
      [50, 5, 50],
      [50, 50, 95],
    ];
    const pos = particles([...a, ...field, ...b, ...c], L);
    const res = friendsOfFriends(pos, { boxSize: L, linkingLength: ll });
    const offB = a.length + field.length;
    const offC = offB + b.length;
    expect(asArrays(res)).toEqual([range(offB, offC), range(0, a.length), range(offC, offC + c.length)]);
    for (let i = a.length; i < offB; i++) expect(res.groupOf[i]).toBe(-1);
    expect(res.groupOf[0]).toBe(1);
    expect(res.groupOf[offB]).toBe(0);
    expect(res.groupOf[offC]).toBe(2);
  });

  it("links a chain spaced just under the linking length into one group and splits it at one link just over", () => {
    const under = 0.999 * ll;
    const over = 1.001 * ll;
    const chain = range(0, 40).map((k) => [10 + k * under, 50, 50]);
    let res = friendsOfFriends(particles(chain, L), { boxSize: L, linkingLength: ll });
    expect(asArrays(res)).toEqual([range(0, 40)]);

    // Stretch the link between particles 24 and 25: groups of 25 and 15 members.
    const broken = chain.map(([x, y, z], k) => [k >= 25 ? x + (over - under) : x, y, z]);
    res = friendsOfFriends(particles(broken, L), { boxSize: L, linkingLength: ll, minMembers: 10 });
    expect(asArrays(res)).toEqual([range(0, 25), range(25, 40)]);
  });

  it("follows a chain around the periodic boundary", () => {
    // 30 points spaced 0.9 around x = 0 ≡ L.
    const chain = range(0, 30).map((k) => [L - 13 + 0.9 * k, 20, 30]);
    const res = friendsOfFriends(particles(chain, L), { boxSize: L, linkingLength: ll });
    expect(asArrays(res)).toEqual([range(0, 30)]);
  });

  it("keeps a blob straddling the box corner as one group with the right centre of mass", () => {
    // Centre at (0.05, L − 0.02, 0): the cube spans all three periodic boundaries.
    const centre = [0.05, L - 0.02, 0];
    const blob = cubeBlob(centre, 4, 0.5);
    const pos = particles(blob, L);
    const res = friendsOfFriends(pos, { boxSize: L, linkingLength: ll });
    expect(asArrays(res)).toEqual([range(0, 64)]);
    const [halo] = haloProperties(res, pos, null, 1e10, L);
    // float32 positions near L carry ~4e-6 rounding; a naive mean would land near L/2.
    expect(halo.centre[0]).toBeCloseTo(0.05, 5);
    expect(halo.centre[1]).toBeCloseTo(L - 0.02, 5);
    expect(Math.min(halo.centre[2], L - halo.centre[2])).toBeLessThan(1e-5);
    expect(halo.mass).toBe(64e10);
    expect(halo.members).toBe(64);
  });

  it("merges two blobs whose closest pair is just below the linking length and not just above", () => {
    const a = cubeBlob([30, 30, 30], 3, 0.5); // x extent 29.5 … 30.5
    for (const [gap, expected] of [
      [0.999, [range(0, 54)]],
      [1.001, [range(0, 27), range(27, 54)]],
    ] as const) {
      const b = cubeBlob([30.5 + gap + 0.5, 30, 30], 3, 0.5);
      const res = friendsOfFriends(particles([...a, ...b], L), { boxSize: L, linkingLength: ll });
      expect(asArrays(res)).toEqual(expected);
    }
  });

  it("applies the same threshold to a pair separated across the boundary", () => {
    const a = cubeBlob([0.5, 50, 50], 3, 0.4); // x extent 0.1 … 0.9
    for (const [gap, nGroups] of [
      [0.998, 1],
      [1.002, 2],
    ] as const) {
      const b = cubeBlob([0.1 - gap - 0.4, 50, 50], 3, 0.4); // its x maximum is 0.1 − gap, wrapped near L
      const res = friendsOfFriends(particles([...a, ...b], L), { boxSize: L, linkingLength: ll });
      expect(res.groups.length).toBe(nGroups);
    }
  });

  it("does not link pairs at exactly the linking length (the criterion is d < ℓ)", () => {
    // Spacing 0.5 and ℓ = 0.5 are exact in float32 and float64.
    const lattice = cubeBlob([50, 50, 50], 4, 0.5);
    const pos = particles(lattice, L);
    expect(friendsOfFriends(pos, { boxSize: L, linkingLength: 0.5, minMembers: 1 }).groups.length).toBe(64);
    expect(friendsOfFriends(pos, { boxSize: L, linkingLength: 0.5000001, minMembers: 1 }).groups.length).toBe(
      1,
    );
  });

  it("links a pair two cells apart when L/ℓ is just below an integer", () => {
    // L/ℓ = 9.995: cells must be L/9 wide; cells of width L/10 < ℓ would miss this pair.
    const box = 10;
    // 49 isolated filler particles keep the cell count from being capped by N.
    const filler = range(0, 49).map((k) => [6.5, 1 + 1.3 * (k % 7), 1 + 1.3 * Math.floor(k / 7)]);
    const pos = particles([[0.9999, 5, 5], [2.0, 5, 5], ...filler], box);
    const res = friendsOfFriends(pos, { boxSize: box, linkingLength: box / 9.995, minMembers: 2 });
    expect(asArrays(res)).toEqual([[0, 1]]);
  });

  it("drops groups below minMembers", () => {
    const a = range(0, 19).map((k) => [10 + 0.5 * k, 10, 10]);
    const b = range(0, 20).map((k) => [10 + 0.5 * k, 50, 10]);
    const pos = particles([...a, ...b], L);
    let res = friendsOfFriends(pos, { boxSize: L, linkingLength: ll });
    expect(asArrays(res)).toEqual([range(19, 39)]);
    expect(Array.from(res.groupOf.subarray(0, 19))).toEqual(new Array(19).fill(-1));
    res = friendsOfFriends(pos, { boxSize: L, linkingLength: ll, minMembers: 19 });
    expect(asArrays(res)).toEqual([range(19, 39), range(0, 19)]);
    res = friendsOfFriends(pos, { boxSize: L, linkingLength: ll, minMembers: 21 });
    expect(res.groups).toEqual([]);
  });

  it("rejects invalid input", () => {
    expect(() => friendsOfFriends(new Float32Array(4), { boxSize: 1, linkingLength: 0.1 })).toThrow(
      /multiple of 3/,
    );
    expect(() => friendsOfFriends(new Float32Array([0, NaN, 0]), { boxSize: 1, linkingLength: 0.1 })).toThrow(
      /not finite/,
    );
    expect(() => friendsOfFriends(new Float32Array(3), { boxSize: 1, linkingLength: 0 })).toThrow(
      /linkingLength/,
    );
    expect(() =>
      friendsOfFriends(new Float32Array(3), { boxSize: 1, linkingLength: 0.1, minMembers: 0 }),
    ).toThrow(/minMembers/);
  });

  it("handles an empty particle set", () => {
    const res = friendsOfFriends(new Float32Array(0), { boxSize: 1, linkingLength: 0.1 });
    expect(res.groups).toEqual([]);
    expect(res.groupOf.length).toBe(0);
  });
});

describe("friendsOfFriends against brute force", () => {
  const L = 10;
  // Clustered random sets: a few centres with scattered members, plus coordinates on a coarse
  // lattice (exact ties, points on cell edges and at 0) and at the last float32 below L.
  const point = fc.oneof(
    fc
      .tuple(
        fc.integer({ min: 0, max: 3 }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
      )
      .map(([c, dx, dy, dz]) =>
        [
          [1, 1, 1],
          [5, 9.5, 0.2],
          [9.8, 5, 5],
          [3, 3, 9.9],
        ][c].map((v, d) => v + [dx, dy, dz][d]),
      ),
    fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 19 }))
      .map((ks) => ks.map((k) => k * 0.5)),
    fc.constantFrom([0, 0, 0], [Math.fround(L) - 2 ** -20, 0, 5], [L - 1e-7, L - 1e-7, L - 1e-7]),
  );

  it("gives exactly the brute-force O(N²) periodic groups", () => {
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 0, maxLength: 120 }),
        fc.oneof(fc.double({ min: 0.05, max: 1.5, noNaN: true }), fc.constantFrom(0.5, 1, 4.9, 5, 6)),
        fc.integer({ min: 1, max: 5 }),
        (pts, ll, minMembers) => {
          const pos = particles(pts, L);
          const got = friendsOfFriends(pos, { boxSize: L, linkingLength: ll, minMembers });
          const want = bruteForceFof(pos, L, ll, minMembers);
          expect(asArrays(got)).toEqual(asArrays(want));
          expect(Array.from(got.groupOf)).toEqual(Array.from(want.groupOf));
        },
      ),
      { numRuns: 300, seed: 20240611 },
    );
  });

  it("matches brute force on isolated pairs in every direction, many across the boundaries", () => {
    // Sparse pairs have no redundant links, so each missed or spurious link changes the answer.
    const r = rng(3);
    const ll = 0.1;
    const pts: number[][] = [];
    const nearEdge = (): number => (r() < 0.5 ? r() * 0.1 : L - r() * 0.1);
    for (let k = 0; k < 400; k++) {
      const p = [
        r() < 0.3 ? nearEdge() : r() * L,
        r() < 0.3 ? nearEdge() : r() * L,
        r() < 0.5 ? nearEdge() : r() * L,
      ];
      const u = [r() - 0.5, r() - 0.5, r() - 0.5];
      const norm = Math.hypot(u[0], u[1], u[2]);
      const sep = ll * (k % 2 === 0 ? 0.5 + 0.49 * r() : 1.001 + 0.2 * r());
      pts.push(
        p,
        p.map((v, d) => v + (sep * u[d]) / norm),
      );
    }
    const pos = particles(pts, L);
    const got = friendsOfFriends(pos, { boxSize: L, linkingLength: ll, minMembers: 2 });
    const want = bruteForceFof(pos, L, ll, 2);
    expect(want.groups.length).toBeGreaterThan(150);
    expect(asArrays(got)).toEqual(asArrays(want));
  });

  it("matches brute force on a larger clustered set with many cells", () => {
    const r = rng(7);
    const pts: number[][] = [];
    for (let c = 0; c < 25; c++) {
      // The first few centres sit on faces, edges and a corner of the box.
      const centre = [
        c < 3 ? 0 : r() * L,
        c === 1 || c === 2 ? L - 0.05 : r() * L,
        c === 0 || c === 2 || c === 3 ? 0.02 : r() * L,
      ];
      const size = 0.05 + 0.3 * r();
      const m = 5 + Math.floor(60 * r());
      for (let k = 0; k < m; k++) pts.push(centre.map((v) => v + size * (r() + r() + r() - 1.5)));
    }
    for (let k = 0; k < 800; k++) pts.push([r() * L, r() * L, r() * L]);
    const pos = particles(pts, L);
    const ll = 0.12;
    const got = friendsOfFriends(pos, { boxSize: L, linkingLength: ll, minMembers: 2 });
    const want = bruteForceFof(pos, L, ll, 2);
    expect(got.groups.length).toBeGreaterThan(20);
    expect(asArrays(got)).toEqual(asArrays(want));
    expect(Array.from(got.groupOf)).toEqual(Array.from(want.groupOf));
  });
});

describe("haloProperties", () => {
  const L = 50;
  const single = (n: number): FofGroups => ({
    groupOf: new Int32Array(n).fill(0),
    groups: [Int32Array.from(range(0, n))],
  });

  /** Rotation taking the frame axes to orthonormal e1, e2, e3 (Euler angles z-y-z). */
  function rotation(alpha: number, beta: number, gamma: number): number[][] {
    const rz = (t: number) => [
      [Math.cos(t), -Math.sin(t), 0],
      [Math.sin(t), Math.cos(t), 0],
      [0, 0, 1],
    ];
    const ry = (t: number) => [
      [Math.cos(t), 0, Math.sin(t)],
      [0, 1, 0],
      [-Math.sin(t), 0, Math.cos(t)],
    ];
    const mul = (a: number[][], b: number[][]) =>
      a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
    return mul(mul(rz(alpha), ry(beta)), rz(gamma));
  }
  const column = (m: number[][], j: number): number[] => m.map((row) => row[j]);
  const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, k) => s + v * b[k], 0);

  it("gives exact axis ratios and axes for a rotated six-point star across the boundary", () => {
    // Points ±a e1, ±b e2, ±c e3 about a centre: S = diag(a², b², c²)/3 in the rotated frame.
    const [a, b, c] = [2, 1.2, 0.5];
    const R = rotation(0.7, 1.1, -0.4);
    const e = [column(R, 0), column(R, 1), column(R, 2)];
    const centre = [0.3, L - 0.4, 25];
    const pts: number[][] = [];
    [a, b, c].forEach((len, k) => {
      for (const sgn of [1, -1]) pts.push(centre.map((v, d) => v + sgn * len * e[k][d]));
    });
    const pos = particles(pts, L);
    const [h] = haloProperties(single(6), pos, null, 2, L);
    expect(h.members).toBe(6);
    expect(h.mass).toBe(12);
    h.centre.forEach((v, d) => expect(Math.abs(v - centre[d])).toBeLessThan(1e-5));
    expect(h.axisRatios[0]).toBeCloseTo(b / a, 5);
    expect(h.axisRatios[1]).toBeCloseTo(c / a, 5);
    for (let k = 0; k < 3; k++) expect(Math.abs(dot(h.axes[k], e[k]))).toBeGreaterThan(1 - 1e-9);
    // The tensor itself: S = R diag(a², b², c²)/3 Rᵀ.
    const S = (i: number, j: number) =>
      [a, b, c].reduce((s, len, k) => s + (len * len * e[k][i] * e[k][j]) / 3, 0);
    const expected = [S(0, 0), S(1, 1), S(2, 2), S(0, 1), S(0, 2), S(1, 2)];
    h.inertia.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
  });

  it("recovers the axis ratios and orientation of a uniform ellipsoid within sampling error", () => {
    // Uniform ellipsoid with semi-axes (4, 2, 1): eigenvalues a²/5, b²/5, c²/5, ratios 0.5, 0.25.
    // With 20000 points the eigenvalues scatter by ~1%, so ratios are tested to 0.01.
    const r = rng(11);
    const R = rotation(-1.2, 0.5, 2.0);
    const e = [column(R, 0), column(R, 1), column(R, 2)];
    const semi = [4, 2, 1];
    const centre = [L - 1, 1, 10];
    const pts: number[][] = [];
    while (pts.length < 20000) {
      const u = [2 * r() - 1, 2 * r() - 1, 2 * r() - 1];
      if (u[0] ** 2 + u[1] ** 2 + u[2] ** 2 > 1) continue;
      pts.push(centre.map((v, d) => v + semi.reduce((s, len, k) => s + len * u[k] * e[k][d], 0)));
    }
    const [h] = haloProperties(single(pts.length), particles(pts, L), null, 1, L);
    expect(Math.abs(h.axisRatios[0] - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(h.axisRatios[1] - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(dot(h.axes[0], e[0]))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(h.axes[2], e[2]))).toBeGreaterThan(0.999);
    expect(h.inertia[0] + h.inertia[1] + h.inertia[2]).toBeCloseTo((16 + 4 + 1) / 5, 1);
  });

  it("averages member velocities and reports haloes in group order", () => {
    const pos = particles(
      [
        [1, 1, 1],
        [1.1, 1, 1],
        [20, 20, 20],
        [20.1, 20, 20],
        [20.2, 20, 20],
      ],
      L,
    );
    const vel = new Float32Array([100, 0, -50, 300, 20, 50, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const groups = friendsOfFriends(pos, { boxSize: L, linkingLength: 0.3, minMembers: 2 });
    const halos = haloProperties(groups, pos, vel, 3, L);
    expect(halos.map((h) => h.members)).toEqual([3, 2]);
    expect(halos[0].velocity).toEqual([4, 5, 6]);
    expect(halos[1].velocity).toEqual([200, 10, 0]);
    expect(halos[1].centre[0]).toBeCloseTo(1.05, 6);
    expect(halos[1].mass).toBe(6);
  });
});
