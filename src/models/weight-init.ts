/**
 * Seeded initial weights for convolutions, with PyTorch's default Conv3d initialisation
 * (kaiming-uniform with a = √5, i.e. weights and biases ~ U(−1/√fan_in, 1/√fan_in)), drawn from
 * a SplitMix64-seeded xoshiro128** stream keyed by the seed and the layer name, so a layer's
 * weights do not depend on which other layers exist or in which order they are built.
 */

export interface ConvWeights {
  /** [out][in][kz][ky][kx] as ONNX Conv expects (OIDHW). */
  weight: Float32Array;
  bias: Float32Array;
}

function hashName(name: string): number {
  // FNV-1a, 32-bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A uniform [0, 1) stream: xoshiro128** seeded by SplitMix32 from (seed, key). */
export function uniformStream(seed: number, key: string): () => number {
  let x = (seed ^ hashName(key)) >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = [splitmix(), splitmix(), splitmix(), splitmix()];
  return () => {
    const result = Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return result / 4294967296;
  };
}

export function initConvWeights(
  seed: number,
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
): ConvWeights {
  const fanIn = inChannels * kernel ** 3;
  const bound = 1 / Math.sqrt(fanIn);
  const u = uniformStream(seed, name);
  const weight = new Float32Array(outChannels * fanIn);
  for (let i = 0; i < weight.length; i++) weight[i] = (2 * u() - 1) * bound;
  const bias = new Float32Array(outChannels);
  for (let i = 0; i < bias.length; i++) bias[i] = (2 * u() - 1) * bound;
  return { weight, bias };
}
