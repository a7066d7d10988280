/**
 * The 48 symmetries of the cube (3! axis permutations × 2³ reflections), the augmentation of the
 * painter's training patches: halo formation has no preferred direction, so every rotated or
 * reflected (input, target) pair is as valid a sample as the original.
 *
 * A symmetry s maps a cube of side n to out(u) = in(M u) about the cube's centre, where the signed
 * permutation matrix M reads input axis `permutation[a]` for output axis a, reversed when
 * `flips[a]`: (M u)[permutation[a]] = ±u[a].
 */
export interface CubeSymmetry {
  readonly permutation: readonly [number, number, number];
  readonly flips: readonly [boolean, boolean, boolean];
}

const PERMUTATIONS: readonly (readonly [number, number, number])[] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** All 48, the identity first. */
export const CUBE_SYMMETRIES: readonly CubeSymmetry[] = PERMUTATIONS.flatMap((permutation) =>
  Array.from({ length: 8 }, (_, f) => ({
    permutation,
    flips: [(f & 1) !== 0, (f & 2) !== 0, (f & 4) !== 0] as const,
  })),
);

/** The symmetry's 3×3 signed permutation matrix, row-major: M[r][c]. */
export function symmetryMatrix(s: CubeSymmetry): number[][] {
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let a = 0; a < 3; a++) m[s.permutation[a]][a] = s.flips[a] ? -1 : 1;
  return m;
}

function fromMatrix(m: number[][]): CubeSymmetry {
  const permutation = [0, 0, 0] as [number, number, number];
  const flips = [false, false, false] as [boolean, boolean, boolean];
  for (let a = 0; a < 3; a++) {
    const r = m.findIndex((row) => row[a] !== 0);
    permutation[a] = r;
    flips[a] = m[r][a] < 0;
  }
  return { permutation, flips };
}

/** Index in CUBE_SYMMETRIES. */
export function symmetryIndex(s: CubeSymmetry): number {
  return CUBE_SYMMETRIES.findIndex(
    (t) => t.permutation.every((v, i) => v === s.permutation[i]) && t.flips.every((v, i) => v === s.flips[i]),
  );
}

/** The symmetry "apply a, then b": applySymmetry(applySymmetry(x, a), b) = applySymmetry(x, compose(a, b)). */
export function composeSymmetries(a: CubeSymmetry, b: CubeSymmetry): CubeSymmetry {
  const ma = symmetryMatrix(a);
  const mb = symmetryMatrix(b);
  const m = ma.map((row) => [0, 1, 2].map((c) => row.reduce((s, v, k) => s + v * mb[k][c], 0)));
  return fromMatrix(m);
}

export function inverseSymmetry(s: CubeSymmetry): CubeSymmetry {
  const m = symmetryMatrix(s);
  return fromMatrix([0, 1, 2].map((r) => [0, 1, 2].map((c) => m[c][r])));
}

/**
 * `cube` (side n, C channels, channel fastest: [x][y][z][c]) under s, into `out` (a new array by
 * default; not overlapping `cube`). With C = 1 this is a plain C-order grid; that case has a loop of
 * its own, since GAN sampling orients every sample (models/gan/sample-orientation.ts).
 */
export function applySymmetry(
  cube: Float32Array,
  side: number,
  s: CubeSymmetry,
  channels = 1,
  out: Float32Array = new Float32Array(cube.length),
): Float32Array {
  const n = side;
  if (cube.length !== n * n * n * channels)
    throw new RangeError(`cube of ${cube.length} values is not ${n}³ × ${channels}`);
  const overlaps =
    out.buffer === cube.buffer &&
    out.byteOffset < cube.byteOffset + cube.byteLength &&
    cube.byteOffset < out.byteOffset + out.byteLength;
  if (out.length !== cube.length || overlaps)
    throw new RangeError(`the output of a symmetry must be ${cube.length} values apart from its input`);
  // Source index = Σ_a coordinate along input axis p[a] × stride of that axis.
  const strides = [n * n * channels, n * channels, channels];
  const step = [0, 0, 0];
  let base = 0;
  for (let a = 0; a < 3; a++) {
    const st = strides[s.permutation[a]];
    step[a] = s.flips[a] ? -st : st;
    if (s.flips[a]) base += (n - 1) * st;
  }
  const [s0, s1, s2] = step;
  let o = 0;
  for (let i = 0, si = base; i < n; i++, si += s0)
    for (let j = 0, sj = si; j < n; j++, sj += s1)
      if (channels === 1) for (let k = 0, src = sj; k < n; k++, src += s2) out[o++] = cube[src];
      else
        for (let k = 0, src = sj; k < n; k++, src += s2)
          for (let c = 0; c < channels; c++) out[o++] = cube[src + c];
  return out;
}
