/**
 * A particle-mesh N-body run: 2LPT initial conditions at z_init (or external ones), FastPM
 * kick–drift–kick steps linear in a, snapshots at the requested redshifts.
 */
import type { Cosmology } from "./cosmology.js";
import { runLpt } from "./lpt.js";
import {
  FastPmFactors,
  ParticleMesh,
  evolve,
  momentaFromVelocities,
  stepSchedule,
  velocitiesFromMomenta,
} from "./particle-mesh.js";

export interface InitialConditions {
  positions: Float32Array;
  /** Peculiar velocities, km/s. */
  velocities: Float32Array;
  redshift: number;
}

export interface NbodyOptions {
  cosmology: Cosmology;
  /** Particles per side (N³ particles); also the 2LPT grid. */
  gridSide: number;
  boxSize: number;
  seed: number;
  /** Starting redshift of the 2LPT initial conditions (default 19). */
  zInit?: number;
  /** Number of equal steps in a from a_init to the last output (default 20). */
  steps?: number;
  outputRedshifts: readonly number[];
  /** Force mesh side / particle grid side (default 2). */
  meshFactor?: number;
  threads?: number;
  /** White noise for the 2LPT initial conditions (instead of the seed). */
  noise?: Float32Array;
  /** External initial conditions (e.g. read from a Gadget file) instead of 2LPT. */
  initial?: InitialConditions;
  onStep?: (step: number, total: number, a: number) => void;
}

export interface NbodySnapshot {
  redshift: number;
  positions: Float32Array;
  /** Peculiar velocities, km/s. */
  velocities: Float32Array;
}

/** Runs the simulation and calls `onSnapshot` at each output redshift, in decreasing z. */
export function runNbody(options: NbodyOptions, onSnapshot: (snap: NbodySnapshot) => void): void {
  const n = options.gridSide;
  const zInit = options.initial?.redshift ?? options.zInit ?? 19;
  const steps = options.steps ?? 20;
  const meshFactor = options.meshFactor ?? 2;
  if (!(meshFactor > 0) || !Number.isInteger(meshFactor * n)) {
    throw new RangeError(`mesh factor × grid side must be a positive integer, got ${meshFactor} × ${n}`);
  }
  if (options.outputRedshifts.length === 0) throw new RangeError("at least one output redshift is needed");
  for (const z of options.outputRedshifts) {
    if (!(z >= 0 && z < zInit))
      throw new RangeError(`output redshift ${z} must lie in [0, z_init = ${zInit})`);
  }
  const aInit = 1 / (1 + zInit);
  const outputsA = options.outputRedshifts.map((z) => 1 / (1 + z));
  const schedule = stepSchedule(aInit, outputsA, steps);

  let positions: Float32Array;
  let velocities: Float32Array;
  if (options.initial) {
    positions = options.initial.positions;
    velocities = options.initial.velocities;
    if (positions.length !== 3 * n ** 3 || velocities.length !== positions.length) {
      throw new RangeError(
        `initial conditions hold ${positions.length / 3} particles, expected ${n}³ = ${n ** 3}`,
      );
    }
  } else {
    const ics = runLpt({
      gridSide: n,
      boxSize: options.boxSize,
      redshift: zInit,
      seed: options.seed,
      cosmology: options.cosmology,
      noise: options.noise,
      threads: options.threads,
      want: { particles: true },
    });
    positions = ics.positions!;
    velocities = ics.velocities!;
  }
  const state = { a: aInit, positions, momenta: momentaFromVelocities(velocities, aInit) };
  const pm = new ParticleMesh({
    cosmology: options.cosmology,
    boxSize: options.boxSize,
    meshSide: Math.round(meshFactor * n),
    particleCount: n ** 3,
    threads: options.threads,
  });
  try {
    evolve(state, pm, new FastPmFactors(options.cosmology), options.boxSize, {
      schedule,
      outputs: outputsA,
      onStep: options.onStep,
      onSnapshot: (s) =>
        onSnapshot({
          redshift: options.outputRedshifts[outputsA.findIndex((a) => Math.abs(a - s.a) < 1e-9)],
          positions: s.positions,
          velocities: velocitiesFromMomenta(s.momenta, s.a),
        }),
    });
  } finally {
    pm.dispose();
  }
}
