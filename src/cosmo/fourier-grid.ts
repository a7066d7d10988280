/**
 * Integer wavenumbers of a DFT grid. Index i of a side-n axis holds the signed frequency
 * i for i ≤ n/2 and i − n above (numpy's fftfreq·n); the wavenumber is that times k_F = 2π/L.
 */
export function signedFrequency(i: number, n: number): number {
  return i <= n >> 1 ? i : i - n;
}

export function signedFrequencies(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = signedFrequency(i, n);
  return out;
}

/**
 * Frequencies for spectral first derivatives: the Nyquist entry of an even axis is zeroed,
 * because i·k_Ny applied to a real field's self-conjugate Nyquist plane has no real inverse
 * (the standard odd-derivative convention; second derivatives built from two of these drop it too).
 */
export function derivativeFrequencies(n: number): Int32Array {
  const out = signedFrequencies(n);
  if (n % 2 === 0) out[n >> 1] = 0;
  return out;
}

/** Largest integer |n⃗|² on a grid with half-complex last axis: the index range of per-|k|² tables. */
export function maxSquaredFrequency(shape: readonly [number, number, number]): number {
  const [nx, ny, nz] = shape;
  return (nx >> 1) ** 2 + (ny >> 1) ** 2 + (nz >> 1) ** 2;
}
