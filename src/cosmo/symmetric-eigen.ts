/**
 * Eigen-decomposition of a real symmetric 3×3 matrix by cyclic Jacobi rotations (Golub & Van
 * Loan, Matrix Computations, §8.5). For 3×3 it converges quadratically in a handful of sweeps
 * and, unlike the closed-form cubic, stays accurate for nearly degenerate eigenvalues.
 */

export interface SymmetricEigen3 {
  /** Eigenvalues in decreasing order. */
  values: [number, number, number];
  /**
   * Unit eigenvectors matching `values`. Sign convention: the component of largest magnitude is
   * positive (the first such component on ties), so results are reproducible.
   */
  vectors: [[number, number, number], [number, number, number], [number, number, number]];
}

/** `m` is [xx, yy, zz, xy, xz, yz]. */
export function symmetricEigen3(
  m: readonly [number, number, number, number, number, number],
): SymmetricEigen3 {
  const a = [
    [m[0], m[3], m[4]],
    [m[3], m[1], m[5]],
    [m[4], m[5], m[2]],
  ];
  // Columns of v accumulate the rotations: a = v diag(λ) vᵀ.
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const scale =
    Math.abs(m[0]) + Math.abs(m[1]) + Math.abs(m[2]) + 2 * (Math.abs(m[3]) + Math.abs(m[4]) + Math.abs(m[5]));
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[0][1]) + Math.abs(a[0][2]) + Math.abs(a[1][2]);
    if (off <= 1e-15 * scale || off === 0) break;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        if (a[p][q] === 0) continue;
        // Rotation angle zeroing a[p][q]: t = tan θ from the smaller root of t² + 2τt − 1 = 0.
        const tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < 3; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 3; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const idx = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  const values = idx.map((i) => a[i][i]) as [number, number, number];
  const vectors = idx.map((i) => {
    const e: [number, number, number] = [v[0][i], v[1][i], v[2][i]];
    const norm = Math.hypot(e[0], e[1], e[2]);
    let big = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(e[k]) > Math.abs(e[big])) big = k;
    const sgn = e[big] < 0 ? -1 : 1;
    return [(sgn * e[0]) / norm, (sgn * e[1]) / norm, (sgn * e[2]) / norm] as [number, number, number];
  }) as SymmetricEigen3["vectors"];
  return { values, vectors };
}
