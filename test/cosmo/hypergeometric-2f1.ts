/**
 * Gauss hypergeometric series 2F1(a, b; c; x) for 0 ≤ x < 1, used by the cosmology tests as an
 * independent closed form of the growth and distance integrals. Negative arguments are mapped
 * into [0, 1) by Pfaff's transformation 2F1(a, b; c; −y) = (1+y)^(−a) 2F1(a, c−b; c; y/(1+y)).
 */
export function hypergeometric2F1(a: number, b: number, c: number, x: number): number {
  if (x < 0) {
    const y = -x;
    return Math.pow(1 + y, -a) * hypergeometric2F1(a, c - b, c, y / (1 + y));
  }
  if (x >= 1) throw new RangeError(`series needs x < 1, got ${x}`);
  let term = 1;
  let sum = 1;
  for (let n = 0; n < 200000; n++) {
    term *= ((a + n) * (b + n) * x) / ((c + n) * (n + 1));
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) return sum;
  }
  throw new Error(`2F1 series did not converge at x = ${x}`);
}
