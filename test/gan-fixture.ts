/** An untrained GAN exported as a model file (seeded weights, κ = 45, 4 Mpc/h voxels, z = 0), for tests and benchmarks. */
import type { GanArchitecture } from "../src/models/gan/architecture.js";
import type { GanCard } from "../src/models/gan/gan-card.js";
import { exportGan } from "../src/models/gan/gan-export.js";
import { GanTf } from "../src/models/gan/gan-tf.js";
import { initialGanWeights } from "../src/models/gan/gan-weights.js";
import { DEFAULT_LATENT_PRIOR } from "../src/models/gan/latent.js";
import type { TensorFlow } from "../src/models/kernels/tf-engine.js";

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
