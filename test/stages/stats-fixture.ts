/** Small, seeded inputs for the statistics stage and report tests (32³ 2LPT box, biased Poisson haloes). */
import { Table, makeVector } from "apache-arrow";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import type { StatsInputs } from "../../src/stages/stats.js";
import { uniformRng } from "../cosmo/random-fields.js";

export const FIXTURE_BOX = 128;
export const FIXTURE_SIDE = 32;

function poisson(lambda: number, r: () => number): number {
  let k = 0;
  let p = r();
  const limit = Math.exp(-lambda);
  while (p > limit) {
    k++;
    p *= r();
  }
  return k;
}

export function statsFixture(options: { lightcone?: boolean } = {}): StatsInputs {
  const n = FIXTURE_SIDE;
  const box = FIXTURE_BOX;
  const cosmology = makeCosmology();
  const lpt = runLpt({
    gridSide: n,
    boxSize: box,
    redshift: 0,
    seed: 7,
    cosmology,
    threads: 1,
    want: { density: true },
  });
  const delta = lpt.density!;
  const r = uniformRng(17);
  const counts = new Float32Array(n ** 3);
  const x: number[] = [];
  const y: number[] = [];
  const z: number[] = [];
  const mass: number[] = [];
  const cell = box / n;
  for (let i = 0; i < counts.length; i++) {
    const c = poisson(0.5 * Math.max(0, 1 + 1.5 * delta[i]), r);
    counts[i] = c;
    const ix = Math.floor(i / (n * n));
    const iy = Math.floor(i / n) % n;
    const iz = i % n;
    for (let h = 0; h < c; h++) {
      x.push((ix + r()) * cell);
      y.push((iy + r()) * cell);
      z.push((iz + r()) * cell);
      mass.push(Math.min(1e15, 1e12 * Math.pow(1 - r(), -1 / 1.2))); // dn/dlnM ∝ M^-1.2 from 1e12 to 1e15
    }
  }
  const catalog = new Table({
    x: makeVector(Float32Array.from(x)),
    y: makeVector(Float32Array.from(y)),
    z: makeVector(Float32Array.from(z)),
    mass: makeVector(Float32Array.from(mass)),
  });
  const inputs: StatsInputs = {
    boxSize: box,
    redshift: 0,
    cosmology,
    input: { name: "2LPT δ", data: delta, shape: [n, n, n], kind: "delta" },
    painted: [{ name: "painted", data: counts, shape: [n, n, n], kind: "counts" }],
    catalog,
  };
  if (options.lightcone) {
    const m = 5000;
    const zObs = Float64Array.from({ length: m }, () => 0.05 + 0.25 * Math.cbrt(r()));
    const pix = BigInt64Array.from({ length: m }, () => BigInt(Math.floor(r() * 12 * 32 * 32)));
    const ra = Float64Array.from({ length: m }, () => 360 * r());
    const dec = Float64Array.from({ length: m }, () => (Math.asin(2 * r() - 1) * 180) / Math.PI);
    const lc = new Table({
      ra: makeVector(ra),
      dec: makeVector(dec),
      z_obs: makeVector(zObs),
      healpix: makeVector(pix),
    });
    lc.schema.metadata.set("mocksmith.healpix_nside", "32");
    inputs.lightcone = lc;
  }
  return inputs;
}
