/**
 * The WGAN critic of Kodi Ramanah, Charnock & Lavaux 2019 (Fig. 6) as data: 3D convolutions
 * 7³ stride 2, 5³, 3³ stride 2, 1³ with widening channels (8, 16, 32, 64; 'valid', with bias),
 * leaky ReLU 0.1 after each, then a linear dense layer to one score. Matches the critic of the
 * PyTorch reference peer (shared/peers/train_step_torch.py).
 */
export interface CriticConv {
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
}

export interface CriticArchitecture {
  /** Input side (the painter's output side). */
  side: number;
  inChannels: number;
  convs: readonly CriticConv[];
  /** Side of the last convolution's output. */
  featureSide: number;
  /** Inputs of the dense layer: featureSide³ × last channels. */
  denseInputs: number;
  leakySlope: number;
}

export function criticArchitecture(
  side: number,
  inChannels = 1,
  widths = [8, 16, 32, 64],
): CriticArchitecture {
  const shape: [number, number][] = [
    [7, 2],
    [5, 1],
    [3, 2],
    [1, 1],
  ];
  let s = side;
  let cin = inChannels;
  const convs = shape.map(([kernel, stride], i) => {
    s = Math.floor((s - kernel) / stride) + 1;
    const c = { name: `critic.c${i + 1}`, inChannels: cin, outChannels: widths[i], kernel, stride };
    cin = widths[i];
    return c;
  });
  if (s < 1) throw new RangeError(`critic input side ${side} is too small (needs ≥ 23)`);
  return { side, inChannels, convs, featureSide: s, denseInputs: s ** 3 * cin, leakySlope: 0.1 };
}
