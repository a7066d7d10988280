/**
 * Composite Gauss–Legendre quadrature for smooth integrands.
 *
 * An n-point rule is exact for polynomials of degree 2n − 1 and converges geometrically for
 * functions analytic near the interval, which is what the background integrals become after the
 * substitutions used in growth.ts and distance.ts.
 */

export interface GaussLegendreRule {
  /** Nodes on [−1, 1], ascending. */
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

const rules = new Map<number, GaussLegendreRule>();

/** Nodes and weights of the n-point rule, by Newton iteration on P_n (cached per n). */
export function gaussLegendreRule(n: number): GaussLegendreRule {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`Gauss-Legendre order must be a positive integer, got ${n}`);
  const cached = rules.get(n);
  if (cached) return cached;
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    // Tricomi's initial guess for the i-th root (descending), then Newton on P_n.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 1;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pnm1 = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pnm1)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    const w = 2 / ((1 - x * x) * dp * dp);
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  const rule = Object.freeze({ nodes, weights });
  rules.set(n, rule);
  return rule;
}

/** ∫_a^b f(x) dx with `panels` equal panels of the n-point rule. */
export function integrateGaussLegendre(
  f: (x: number) => number,
  a: number,
  b: number,
  panels: number,
  rule: GaussLegendreRule = gaussLegendreRule(20),
): number {
  const { nodes, weights } = rule;
  const width = (b - a) / panels;
  const half = 0.5 * width;
  let total = 0;
  for (let p = 0; p < panels; p++) {
    const mid = a + (p + 0.5) * width;
    let s = 0;
    for (let i = 0; i < nodes.length; i++) s += weights[i] * f(mid + half * nodes[i]);
    total += s * half;
  }
  return total;
}
