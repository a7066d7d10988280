/** GAN test fixtures: an untrained exported GAN, and simulation directories holding density grids. */
import fs from "node:fs";
import path from "node:path";
import { makeGridMetadata, writeGridMetadata } from "../src/io/grid-metadata.js";
import { writeNpyFloat32 } from "../src/io/npy.js";
import type { GanArchitecture } from "../src/models/gan/architecture.js";
import type { GanCard } from "../src/models/gan/gan-card.js";
import { exportGan } from "../src/models/gan/gan-export.js";
import { GanTf } from "../src/models/gan/gan-tf.js";
import { initialGanWeights } from "../src/models/gan/gan-weights.js";
import { DEFAULT_LATENT_PRIOR } from "../src/models/gan/latent.js";
import type { TensorFlow } from "../src/models/kernels/tf-engine.js";
import { gaussianField } from "./cosmo/random-fields.js";

/** An untrained GAN exported as a model file (seeded weights, κ = 45, 4 Mpc/h voxels, z = 0), for tests and benchmarks. */
export async function writeUntrainedGan(
  tf: TensorFlow,
  arch: GanArchitecture,
  onnxPath: string,
  seed: number,
  name: string,
): Promise<GanCard> {
  const gan = new GanTf(tf, arch, initialGanWeights(arch, seed));
  try {
    return await exportGan(tf, gan, onnxPath, {
      name,
      latentPrior: DEFAULT_LATENT_PRIOR,
      kappa: 45,
      voxelSize: 4,
      redshift: 0,
      trained: false,
    });
  } finally {
    gan.dispose();
  }
}

/** A simulation directory with a lognormal δ grid of side n over `box` Mpc/h at z = 0. */
export function writeDensitySimulation(
  root: string,
  name: string,
  n: number,
  box: number,
  seed: number,
): string {
  const sim = path.join(root, name);
  fs.mkdirSync(sim, { recursive: true });
  fs.writeFileSync(path.join(sim, "manifest.json"), JSON.stringify({ test: true }) + "\n");
  const g = gaussianField(n, box, (k) => 60 / (1 + (k / 0.3) ** 2), seed);
  let v = 0;
  for (const x of g) v += x * x;
  const delta = g.map((x) => Math.exp(x - v / g.length / 2) - 1);
  const file = path.join(sim, "nbody_delta_z0.000.npy");
  writeNpyFloat32(file, delta, [n, n, n]);
  writeGridMetadata(
    file,
    makeGridMetadata({ kind: "delta", shape: [n, n, n], boxSize: box, redshift: 0, periodic: true }),
  );
  return file;
}

/**
 * Per channel pair of a 4³ transposed-convolution kernel in TF.js layout (4, 4, 4, out, in), the
 * total weight each of the 8 output parities receives: all equal for a tied (resize) kernel.
 */
export function parityClassSums(filter: ArrayLike<number>): number[][] {
  const pairs = filter.length / 64;
  return Array.from({ length: pairs }, (_, p) => {
    const sums = new Array<number>(8).fill(0);
    for (let s = 0; s < 64; s++)
      sums[(Math.floor(s / 16) % 2) * 4 + (Math.floor(s / 4) % 2) * 2 + (s % 2)] += filter[s * pairs + p];
    return sums;
  });
}
