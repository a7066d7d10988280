/**
 * Periodic friends-of-friends (FoF) group finder (Davis et al. 1985): particles closer than the
 * linking length are friends, and groups are the connected components of the friendship graph.
 *
 * Exactness: a pair is linked iff its minimum-image separation d satisfies d² < ℓ², evaluated in
 * float64 from the float32 positions. The neighbour search is only a conservative pre-filter.
 *
 * Speed and memory (256³ = 16.7 M particles must fit): particles are sorted into columns (an
 * nc × nc grid in x, y with side ≥ ℓ) and by z within each column, so a particle's candidate
 * friends lie in 5 forward columns (a half-stencil; the other half is covered from the partner's
 * side) within a z-window found by binary search. Memory is a few Int32/Float32 arrays of length
 * N or 3N plus nc² column offsets; no per-particle objects. Components are merged with a
 * union-find (union by smaller index, path halving).
 */

export interface FofOptions {
  /** Side of the periodic cubic box, Mpc/h. Positions must lie in [0, boxSize). */
  boxSize: number;
  /** Absolute linking length ℓ, Mpc/h (see {@link linkingLengthFor}). */
  linkingLength: number;
  /** Groups with fewer members are dropped (default 20). */
  minMembers?: number;
}

export interface FofGroups {
  /** Per particle: index into `groups`, or -1 when the particle is in no kept group. */
  groupOf: Int32Array;
  /**
   * Member indices per kept group, ascending. Groups are ordered by decreasing member count,
   * ties broken by the smallest member index, so the output does not depend on traversal order.
   */
  groups: Int32Array[];
}

/** ℓ = b × mean interparticle separation = b L / N^(1/3); b = 0.2 is the conventional FoF choice. */
export function linkingLengthFor(boxSize: number, nParticles: number, b = 0.2): number {
  if (!(nParticles > 0)) throw new RangeError(`linkingLengthFor: nParticles must be > 0, got ${nParticles}`);
  return (b * boxSize) / Math.cbrt(nParticles);
}

/** Finds the FoF groups of `positions` (interleaved x,y,z, Mpc/h) in a periodic box. */
export function friendsOfFriends(positions: Float32Array, options: FofOptions): FofGroups {
  const { boxSize: L, linkingLength: ll } = options;
  const minMembers = options.minMembers ?? 20;
  validate(positions, L, ll, minMembers);

  const sorted = sortIntoColumns(positions, L, ll);
  const parent = linkFriends(sorted, L, ll);
  return collectGroups(parent, sorted.order, minMembers);
}

function validate(positions: Float32Array, L: number, ll: number, minMembers: number): void {
  if (positions.length % 3 !== 0)
    throw new RangeError(`friendsOfFriends: positions length ${positions.length} is not a multiple of 3`);
  if (!(L > 0) || !Number.isFinite(L))
    throw new RangeError(`friendsOfFriends: boxSize must be finite and > 0, got ${L}`);
  if (!(ll > 0) || !Number.isFinite(ll))
    throw new RangeError(`friendsOfFriends: linkingLength must be finite and > 0, got ${ll}`);
  if (!Number.isInteger(minMembers) || minMembers < 1)
    throw new RangeError(`friendsOfFriends: minMembers must be an integer ≥ 1, got ${minMembers}`);
  if (positions.length / 3 > 0x7fffffff) throw new RangeError("friendsOfFriends: more than 2³¹-1 particles");
  for (let i = 0; i < positions.length; i++) {
    if (!Number.isFinite(positions[i]))
      throw new RangeError(`friendsOfFriends: position ${i} (particle ${Math.floor(i / 3)}) is not finite`);
  }
}

/** Wraps a coordinate into [0, L); float32 inputs already in range pass through unchanged. */
function wrap(x: number, L: number): number {
  if (x >= 0 && x < L) return x;
  const w = x - Math.floor(x / L) * L;
  return w >= L ? 0 : w;
}

interface ColumnSort {
  nc: number;
  /** colStart[c]..colStart[c+1]: the sorted slots of column c = ix·nc + iy. */
  colStart: Int32Array;
  /** Original particle index of each sorted slot. */
  order: Int32Array;
  /** Wrapped coordinates in sorted order, interleaved. */
  xyz: Float64Array | Float32Array;
}

function sortIntoColumns(positions: Float32Array, L: number, ll: number): ColumnSort {
  const n = positions.length / 3;
  // Cell side must be ≥ ℓ so that friends sit in adjacent columns; the 1e-6 margin keeps
  // that true when floor(x / side) rounds a coordinate on a cell edge into the next cell.
  // nc² is capped near 4N so the column table stays O(N) for tiny linking lengths.
  // nc ≤ 2¹⁵ keeps the (column, z-bin) sort key within 32 bits.
  const ncMax = Math.min(1 << 15, Math.max(1, Math.floor(Math.sqrt(Math.max(64, 4 * n)))));
  const nc = Math.max(1, Math.min(ncMax, Math.floor(L / (ll * (1 + 1e-6)))));
  const cellScale = nc / L;
  // Particles are ordered by the 32-bit key (column, z-bin) with an LSD radix sort (11-bit
  // digits keep each scatter pass cache-friendly), then an insertion sort per column fixes the
  // order inside each z-bin. z-bins get the bits the column index leaves, up to ~4 per cell.
  const colBits = bitsFor(nc * nc);
  const zBits = Math.max(0, Math.min(32 - colBits, bitsFor(4 * nc)));
  const nzb = 2 ** zBits;
  const zScale = nzb / L;

  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const x = wrap(positions[3 * i], L);
    const y = wrap(positions[3 * i + 1], L);
    const z = wrap(positions[3 * i + 2], L);
    const ix = Math.min(nc - 1, Math.floor(x * cellScale));
    const iy = Math.min(nc - 1, Math.floor(y * cellScale));
    const iz = Math.min(nzb - 1, Math.floor(z * zScale));
    keys[i] = (ix * nc + iy) * nzb + iz;
  }
  const { sortedKeys, order } = radixSort(keys, colBits + zBits);

  const colStart = new Int32Array(nc * nc + 1);
  for (let s = 0; s < n; s++) colStart[Math.floor(sortedKeys[s] / nzb) + 1]++;
  for (let c = 0; c < nc * nc; c++) colStart[c + 1] += colStart[c];

  // Wrapped positions in sorted order: float32 when wrapping was a no-op (usual case), else
  // float64 so that wrapped values are kept exactly.
  let inRange = true;
  for (let i = 0; i < 3 * n && inRange; i++) inRange = positions[i] >= 0 && positions[i] < L;
  const xyz = inRange ? new Float32Array(3 * n) : new Float64Array(3 * n);
  for (let s = 0; s < n; s++) {
    const i = order[s];
    xyz[3 * s] = wrap(positions[3 * i], L);
    xyz[3 * s + 1] = wrap(positions[3 * i + 1], L);
    xyz[3 * s + 2] = wrap(positions[3 * i + 2], L);
  }

  for (let c = 0; c < nc * nc; c++) insertionSortByZ(xyz, order, colStart[c], colStart[c + 1]);
  return { nc, colStart, order, xyz };
}

/** Bits needed to hold the values 0 … count − 1. */
function bitsFor(count: number): number {
  return count <= 1 ? 0 : Math.ceil(Math.log2(count));
}

/** Stable LSD radix sort of 32-bit keys (using their low `bits`), returning the permutation. */
function radixSort(keys: Uint32Array, bits: number): { sortedKeys: Uint32Array; order: Int32Array } {
  const n = keys.length;
  const DIGIT = 11;
  const mask = (1 << DIGIT) - 1;
  let kIn: Uint32Array = keys;
  let vIn = new Int32Array(n);
  for (let i = 0; i < n; i++) vIn[i] = i;
  let kOut: Uint32Array = new Uint32Array(n);
  let vOut = new Int32Array(n);
  const count = new Int32Array(mask + 2);
  for (let shift = 0; shift < bits; shift += DIGIT) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((kIn[i] >>> shift) & mask) + 1]++;
    for (let d = 0; d <= mask; d++) count[d + 1] += count[d];
    for (let i = 0; i < n; i++) {
      const k = kIn[i];
      const at = count[(k >>> shift) & mask]++;
      kOut[at] = k;
      vOut[at] = vIn[i];
    }
    [kIn, kOut] = [kOut, kIn];
    [vIn, vOut] = [vOut, vIn];
  }
  return { sortedKeys: kIn, order: vIn };
}

function insertionSortByZ(xyz: Float32Array | Float64Array, order: Int32Array, lo: number, hi: number): void {
  for (let s = lo + 1; s < hi; s++) {
    const z = xyz[3 * s + 2];
    if (xyz[3 * s - 1] <= z) continue;
    const x = xyz[3 * s];
    const y = xyz[3 * s + 1];
    const o = order[s];
    let t = s - 1;
    while (t >= lo && xyz[3 * t + 2] > z) {
      xyz[3 * t + 3] = xyz[3 * t];
      xyz[3 * t + 4] = xyz[3 * t + 1];
      xyz[3 * t + 5] = xyz[3 * t + 2];
      order[t + 1] = order[t];
      t--;
    }
    xyz[3 * t + 3] = x;
    xyz[3 * t + 4] = y;
    xyz[3 * t + 5] = z;
    order[t + 1] = o;
  }
}

/** First slot in [lo, hi) whose z is ≥ zMin (slots are sorted by z). */
function lowerBound(xyz: Float32Array | Float64Array, lo: number, hi: number, zMin: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xyz[3 * mid + 2] < zMin) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First slot in [lo, hi) whose z is > zMax. */
function upperBound(xyz: Float32Array | Float64Array, lo: number, hi: number, zMax: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xyz[3 * mid + 2] <= zMax) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]]; // path halving
    i = parent[i];
  }
  return i;
}

/** Half-stencil of neighbouring columns; the same column is searched forward in z only. */
const COLUMN_OFFSETS: readonly (readonly [number, number])[] = [
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1],
];

/** Runs the pair search and returns the union-find forest over sorted slots (fully compressed). */
function linkFriends(sorted: ColumnSort, L: number, ll: number): Int32Array {
  const { nc, colStart, xyz } = sorted;
  const n = sorted.order.length;
  const parent = new Int32Array(n);
  for (let s = 0; s < n; s++) parent[s] = s;
  const ll2 = ll * ll;
  const halfL = 0.5 * L;
  // Window half-width with slack so rounding in z ± w never excludes a true friend.
  const w = ll * (1 + 1e-9);
  const wholeColumn = 2 * w >= L;

  const link = (s: number, t: number): void => {
    let dx = xyz[3 * s] - xyz[3 * t];
    let dy = xyz[3 * s + 1] - xyz[3 * t + 1];
    let dz = xyz[3 * s + 2] - xyz[3 * t + 2];
    if (dx > halfL) dx -= L;
    else if (dx < -halfL) dx += L;
    if (dy > halfL) dy -= L;
    else if (dy < -halfL) dy += L;
    if (dz > halfL) dz -= L;
    else if (dz < -halfL) dz += L;
    if (dx * dx + dy * dy + dz * dz >= ll2) return;
    const a = find(parent, s);
    const b = find(parent, t);
    if (a < b) parent[b] = a;
    else if (b < a) parent[a] = b;
  };

  /** Links s with every slot of [lo, hi) whose z lies in the circular window [z − w, z + w]. */
  const scanWindow = (s: number, z: number, lo: number, hi: number): void => {
    if (wholeColumn) {
      for (let t = lo; t < hi; t++) link(s, t);
      return;
    }
    const a = lowerBound(xyz, lo, hi, z - w);
    const b = upperBound(xyz, a, hi, z + w);
    for (let t = a; t < b; t++) link(s, t);
    if (z - w < 0) {
      const c = lowerBound(xyz, b, hi, z - w + L);
      for (let t = c; t < hi; t++) link(s, t);
    }
    if (z + w >= L) {
      const c = upperBound(xyz, lo, a, z + w - L);
      for (let t = lo; t < c; t++) link(s, t);
    }
  };

  const neighbourLo = new Int32Array(COLUMN_OFFSETS.length);
  const neighbourHi = new Int32Array(COLUMN_OFFSETS.length);
  for (let ix = 0; ix < nc; ix++) {
    for (let iy = 0; iy < nc; iy++) {
      const c = ix * nc + iy;
      const lo = colStart[c];
      const hi = colStart[c + 1];
      if (lo === hi) continue;
      let nNeighbours = 0;
      for (const [dx, dy] of COLUMN_OFFSETS) {
        const c2 = ((ix + dx + nc) % nc) * nc + ((iy + dy + nc) % nc);
        // Skip empty columns, and the column itself when nc < 2 makes an offset alias onto it
        // (it is searched in full below).
        if (c2 === c || colStart[c2] === colStart[c2 + 1]) continue;
        neighbourLo[nNeighbours] = colStart[c2];
        neighbourHi[nNeighbours++] = colStart[c2 + 1];
      }
      for (let s = lo; s < hi; s++) {
        const z = xyz[3 * s + 2];
        // Same column: later slots up to z + w, then the wrapped part from the column start.
        if (wholeColumn) {
          for (let t = s + 1; t < hi; t++) link(s, t);
        } else {
          const end = upperBound(xyz, s + 1, hi, z + w);
          for (let t = s + 1; t < end; t++) link(s, t);
          if (z + w >= L) {
            const wrapEnd = upperBound(xyz, lo, s, z + w - L);
            for (let t = lo; t < wrapEnd; t++) link(s, t);
          }
        }
        for (let k = 0; k < nNeighbours; k++) scanWindow(s, z, neighbourLo[k], neighbourHi[k]);
      }
    }
  }
  for (let s = 0; s < n; s++) parent[s] = find(parent, s);
  return parent;
}

/** Turns the union-find roots into kept groups in the documented deterministic order. */
function collectGroups(root: Int32Array, order: Int32Array, minMembers: number): FofGroups {
  const n = order.length;
  const count = new Int32Array(n);
  for (let s = 0; s < n; s++) count[root[s]]++;
  // groupOf doubles as scratch: first the root slot of each original particle.
  const groupOf = new Int32Array(n);
  for (let s = 0; s < n; s++) groupOf[order[s]] = root[s];

  // The smallest original index of each kept root is met first in an ascending scan.
  const firstMember: number[] = [];
  const keptRoots: number[] = [];
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = groupOf[i];
    if (count[r] >= minMembers && seen[r] === 0) {
      seen[r] = 1;
      keptRoots.push(r);
      firstMember.push(i);
    }
  }
  const rank = keptRoots.map((_, k) => k);
  rank.sort((a, b) => count[keptRoots[b]] - count[keptRoots[a]] || firstMember[a] - firstMember[b]);

  // Reuse `count` as root → group index (count is no longer needed past this point).
  const groups: Int32Array[] = [];
  const sizes = rank.map((k) => count[keptRoots[k]]);
  const groupIndexOfRoot = count;
  groupIndexOfRoot.fill(-1);
  rank.forEach((k, g) => {
    groupIndexOfRoot[keptRoots[k]] = g;
    groups.push(new Int32Array(sizes[g]));
  });
  const fill = new Int32Array(groups.length);
  for (let i = 0; i < n; i++) {
    const g = groupIndexOfRoot[groupOf[i]];
    groupOf[i] = g;
    if (g >= 0) groups[g][fill[g]++] = i;
  }
  return { groupOf, groups };
}
