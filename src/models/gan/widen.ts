/**
 * Net2Wider (Chen, Goodfellow & Shlens 2016, arXiv:1511.05641, §2.1): a trained GAN's weights
 * carried to one with more channels in some layers, computing the same generator and
 * discriminator, so `train gan --init` can fine-tune a wider network from a narrower one's
 * checkpoint instead of training it from scratch.
 *
 * New channel j of a layer of old width n copies old channel j mod n: its incoming filter, bias
 * and batch-norm γ, β and moving statistics. The next layer's weights from every copy of old
 * channel k are divided by the number of copies, so the sum it forms is unchanged. Batch norm
 * sees identical copies (identical batch and moving statistics), ReLU and leaky ReLU are
 * elementwise: the widened network's outputs equal the old ones up to float rounding.
 *
 * Identical copies would stay identical under Adam (its step m/√v does not change when a
 * gradient is scaled, and a copy's gradient is its twin's times a constant), so each new copy's
 * incoming filter gets seeded noise of `noise` × the layer's RMS weight — a change of the
 * function of that order, which the fine-tune absorbs.
 */
import { normalQuantile } from "../../cosmo/normal-quantile.js";
import { uniformStream } from "../weight-init.js";
import type { GanArchitecture, GanLayer } from "./architecture.js";

/** Relative noise on the new copies' incoming filters (Net2Net's symmetry breaking). */
export const WIDEN_NOISE = 0.01;

/**
 * Why `to` cannot be reached from `from` by widening, or null: the same latent size, condition
 * and number of layers, and no layer narrower.
 */
export function widenRefusal(from: GanArchitecture, to: GanArchitecture): string | null {
  if (from.latentDim !== to.latentDim || from.conditional !== to.conditional)
    return "the latent vector differs (only filters may grow)";
  if (from.filters.length !== to.filters.length)
    return `${from.filters.length} generator layers in the checkpoint, ${to.filters.length} now (only filters may grow)`;
  const narrower = from.filters.findIndex((f, i) => to.filters[i] < f);
  if (narrower >= 0)
    return `filters ${to.filters.join(",")} are narrower than the checkpoint's ${from.filters.join(",")} at layer ${narrower}`;
  return null;
}

/** Old channel copied by each new channel, and how many copies each old channel has. */
function channelMap(oldWidth: number, newWidth: number): { source: Int32Array; copies: Int32Array } {
  const source = Int32Array.from({ length: newWidth }, (_, j) => j % oldWidth);
  const copies = new Int32Array(oldWidth);
  for (const k of source) copies[k]++;
  return { source, copies };
}

/**
 * Widens one layer's checkpoint tensors (TF.js layouts: a transposed convolution's filter is
 * (k³, out, in), an ordinary one's (k³, in, out)). The first layer of each network has the same
 * input width in both (the latent vector, the density), so its input map is the identity.
 */
function widenLayer(
  oldLayer: GanLayer,
  newLayer: GanLayer,
  transposed: boolean,
  get: (name: string) => Float32Array,
  put: (name: string, data: Float32Array) => void,
  seed: number,
  noise: number,
): void {
  const k3 = newLayer.kernel ** 3;
  const outMap = channelMap(oldLayer.outChannels, newLayer.outChannels);
  const inMap = channelMap(oldLayer.inChannels, newLayer.inChannels);
  const [oldA, oldB] = transposed
    ? [oldLayer.outChannels, oldLayer.inChannels]
    : [oldLayer.inChannels, oldLayer.outChannels];
  const [newA, newB] = transposed
    ? [newLayer.outChannels, newLayer.inChannels]
    : [newLayer.inChannels, newLayer.outChannels];
  const old = get(`${oldLayer.name}.filter`);
  if (old.length !== k3 * oldA * oldB)
    throw new RangeError(`tensor ${oldLayer.name}.filter holds ${old.length} values, the checkpoint's architecture needs ${k3 * oldA * oldB}`);
  let sumSq = 0;
  for (const w of old) sumSq += w * w;
  const scale = noise * Math.sqrt(sumSq / old.length);
  const u = uniformStream(seed, `gan.widen.${newLayer.name}`);
  const normal = () => normalQuantile(Math.min(Math.max(u(), 1e-12), 1 - 1e-12));
  const filter = new Float32Array(k3 * newA * newB);
  for (let s = 0; s < k3; s++)
    for (let a = 0; a < newA; a++)
      for (let b = 0; b < newB; b++) {
        const [o, i] = transposed ? [a, b] : [b, a];
        const oi = outMap.source[o];
        const ii = inMap.source[i];
        const [oa, ob] = transposed ? [oi, ii] : [ii, oi];
        let w = old[(s * oldA + oa) * oldB + ob] / inMap.copies[ii];
        if (o >= oldLayer.outChannels) w += scale * normal();
        filter[(s * newA + a) * newB + b] = w;
      }
  put(`${newLayer.name}.filter`, filter);
  for (const key of ["bias", "gamma", "beta", "movingMean", "movingVariance"]) {
    const name = `${oldLayer.name}.${key}`;
    const v = get(name);
    if (v.length === 0) continue;
    put(name, Float32Array.from(outMap.source, (k) => v[k]));
  }
}

/**
 * A checkpoint's network tensors (`gan/<layer>.<filter|bias|gamma|…>`) widened from `from` to
 * `to` (check widenRefusal first). Tensors a layer does not have are skipped; the returned map
 * holds only the network's tensors (not Adam moments, which a fine-tune starts afresh).
 */
export function widenGanTensors(
  from: GanArchitecture,
  to: GanArchitecture,
  tensors: ReadonlyMap<string, Float32Array>,
  seed: number,
  noise = WIDEN_NOISE,
): Map<string, Float32Array> {
  const why = widenRefusal(from, to);
  if (why) throw new RangeError(why);
  const out = new Map<string, Float32Array>();
  const get = (name: string) => tensors.get(`gan/${name}`) ?? new Float32Array(0);
  const put = (name: string, data: Float32Array) => out.set(`gan/${name}`, data);
  from.generator.forEach((l, i) => widenLayer(l, to.generator[i], true, get, put, seed, noise));
  from.discriminator.forEach((l, i) => widenLayer(l, to.discriminator[i], false, get, put, seed, noise));
  return out;
}
