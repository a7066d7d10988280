/**
 * Alternative forms of the 3D-convolution input gradient (= the transposed convolution) built on
 * the fast forward kernel, and a cost model that picks, per geometry, the cheapest of
 *
 *   phases    the gather form of conv3d.c's input_grad_unit: one stride-1 correlation per output
 *             parity r (S³ of them) with the sub-kernel of taps k ≡ r (mod S), sides
 *             ceil((K − r)/S); dx channels padded to a multiple of 4 per phase, and every tap
 *             over dy's zero border is multiplied out;
 *   subpixel  the same decomposition with all parities stacked as output channels of ONE
 *             stride-1 convolution of dy (Shi et al. 2016, "sub-pixel convolution"): channels
 *             S³·Ci padded once (no 4× waste for a 1-channel output), then interleaved; where
 *             K is not divisible by S the shorter sub-kernels get zero taps;
 *   scatter   Z = dy · W as one GEMM over channels (a 1×1×1 convolution to K³·Ci channels),
 *             then overlap-added (col2im): exactly the scatter form's multiply-adds, no zero
 *             taps, for a small dy with a large kernel (the GAN's 1³ → 4³ first layer).
 * All three give the stock kernel's values up to float32 summation order.
 */
import type { Conv3dGeometry } from "./conv3d-wasm.js";

export type InputGradForm = "phases" | "subpixel" | "scatter";

/** A forward convolution: x (N, D, H, W, Ci), filter (KD, KH, KW, Ci, Co) → (N, OD, OH, OW, Co). */
export type ForwardConv = (x: Float32Array, filter: Float32Array, g: Conv3dGeometry) => Float32Array;

/** Floats the scatter form may hold in its intermediate Z (256 MB). */
const SCATTER_MAX_FLOATS = 64 * 1024 * 1024;

/**
 * Cost of one element of the scalar JavaScript passes in SIMD multiply-adds, measured on the
 * painter critic's layers (2 threads): interleave (a copy) and overlap-add (a gather-add,
 * slow for few channels).
 */
const INTERLEAVE_COST = 8;
const OVERLAP_ADD_COST = 200;

/** dy voxels up to which the scatter form's GEMM runs as one row block (calling thread). */
const SCATTER_FLAT_VOXELS = 256;

const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;

interface Axes {
  K: number[];
  S: number[];
  I: number[];
  O: number[];
  pad: number[];
}

function axes(g: Conv3dGeometry): Axes {
  return {
    K: [g.filterDepth, g.filterHeight, g.filterWidth],
    S: [g.strideDepth, g.strideHeight, g.strideWidth],
    I: [g.inDepth, g.inHeight, g.inWidth],
    O: [g.outDepth, g.outHeight, g.outWidth],
    pad: [g.padInfo.front, g.padInfo.top, g.padInfo.left],
  };
}

/** Coarse (dy-grid) positions q = ⌊(i + pad)/S⌋ that dx indices i ∈ [0, I) fall on, per axis. */
function coarseRange(a: Axes, ax: number): [number, number] {
  return [Math.floor(a.pad[ax] / a.S[ax]), Math.floor((a.I[ax] - 1 + a.pad[ax]) / a.S[ax])];
}

/** Sub-kernel side of parity r on one axis. */
const subSide = (K: number, S: number, r: number): number => Math.max(0, Math.ceil((K - r) / S));

/**
 * Multiply-adds (with channel padding) each form would execute, plus its extra scalar pass
 * (sub-pixel interleave, scatter overlap-add) weighted per element as above; Infinity where a
 * form does not apply.
 */
export function inputGradCosts(g: Conv3dGeometry): Record<InputGradForm, number> {
  const a = axes(g);
  const ci = g.inChannels;
  const co = g.outChannels;
  let phases = g.batchSize * co * ceil4(ci);
  let subpixel = g.batchSize * co * ceil4(a.S[0] * a.S[1] * a.S[2] * ci);
  for (let ax = 0; ax < 3; ax++) {
    let sum = 0;
    for (let i = 0; i < a.I[ax]; i++) sum += subSide(a.K[ax], a.S[ax], (i + a.pad[ax]) % a.S[ax]);
    phases *= sum;
    const [q0, q1] = coarseRange(a, ax);
    subpixel *= (q1 - q0 + 1) * subSide(a.K[ax], a.S[ax], 0);
  }
  const dyVoxels = g.batchSize * a.O[0] * a.O[1] * a.O[2];
  const zFloats = dyVoxels * a.K[0] * a.K[1] * a.K[2] * ci;
  const dxFloats = g.batchSize * a.I[0] * a.I[1] * a.I[2] * ci;
  subpixel += INTERLEAVE_COST * dxFloats;
  const scatter =
    zFloats > SCATTER_MAX_FLOATS
      ? Infinity
      : dyVoxels * co * ceil4(zFloats / dyVoxels) + OVERLAP_ADD_COST * zFloats;
  return { phases, subpixel, scatter };
}

/** The cheapest form for g (ties: phases, then subpixel). */
export function chooseInputGradForm(g: Conv3dGeometry): InputGradForm {
  const c = inputGradCosts(g);
  // Margins before leaving the direct form, for what the rough model leaves out (measured, 2
  // threads): on the critic's 7³ stride-2 layer, sub-pixel at 0.76 (2 input channels) and 0.38
  // (1 channel) of the phases' modelled cost runs alike; on the GAN's last layer (0.28), 3×
  // faster.
  let best: InputGradForm = "phases";
  if (c.subpixel < 0.35 * c[best]) best = "subpixel";
  if (c.scatter < 0.7 * c[best]) best = "scatter";
  return best;
}

/**
 * Sub-pixel form: Y = conv3d(dy, Wc) stride 1 over the coarse positions q ∈ [q0, q1] per axis,
 * with Wc[m][co][r·Ci + c] = W[r + (M − 1 − m)·S][c][co] (zero where that tap is ≥ K; M the
 * largest sub-kernel side), then dx[i] = Y[⌊(i + pad)/S⌋ − q0][(i + pad) mod S]. The window of q
 * is dy[q − M + 1 .. q] for every parity, which is why all of them share one convolution.
 */
export function subpixelInputGrad(
  dy: Float32Array,
  filter: Float32Array,
  g: Conv3dGeometry,
  forward: ForwardConv,
): Float32Array {
  const a = axes(g);
  const { S, K } = a;
  const ci = g.inChannels;
  const co = g.outChannels;
  const M = K.map((k, ax) => subSide(k, S[ax], 0));
  const range = [0, 1, 2].map((ax) => coarseRange(a, ax));
  const Q = range.map(([q0, q1]) => q1 - q0 + 1);
  const phases = S[0] * S[1] * S[2];
  const cs = phases * ci;
  const wc = new Float32Array(M[0] * M[1] * M[2] * co * cs);
  for (let md = 0; md < M[0]; md++)
    for (let mh = 0; mh < M[1]; mh++)
      for (let mw = 0; mw < M[2]; mw++) {
        const base = ((md * M[1] + mh) * M[2] + mw) * co * cs;
        for (let rd = 0; rd < S[0]; rd++) {
          const kd = rd + (M[0] - 1 - md) * S[0];
          if (kd >= K[0]) continue;
          for (let rh = 0; rh < S[1]; rh++) {
            const kh = rh + (M[1] - 1 - mh) * S[1];
            if (kh >= K[1]) continue;
            for (let rw = 0; rw < S[2]; rw++) {
              const kw = rw + (M[2] - 1 - mw) * S[2];
              if (kw >= K[2]) continue;
              const src = ((kd * K[1] + kh) * K[2] + kw) * ci * co;
              const r = ((rd * S[1] + rh) * S[2] + rw) * ci;
              for (let c = 0; c < ci; c++)
                for (let o = 0; o < co; o++) wc[base + o * cs + r + c] = filter[src + c * co + o];
            }
          }
        }
      }
  // Output index o ↔ q = q0 + o reads dy[q0 + o − M + 1 ..]: front zero padding M − 1 − q0 ≥ 0
  // (q0 = ⌊pad/S⌋ ≤ ⌊(K − 1)/S⌋ = M − 1); the forward kernel pads the back as far as needed.
  const y = forward(dy, wc, {
    batchSize: g.batchSize,
    inDepth: a.O[0],
    inHeight: a.O[1],
    inWidth: a.O[2],
    inChannels: co,
    outDepth: Q[0],
    outHeight: Q[1],
    outWidth: Q[2],
    outChannels: cs,
    filterDepth: M[0],
    filterHeight: M[1],
    filterWidth: M[2],
    strideDepth: 1,
    strideHeight: 1,
    strideWidth: 1,
    padInfo: { front: M[0] - 1 - range[0][0], top: M[1] - 1 - range[1][0], left: M[2] - 1 - range[2][0] },
  });
  const [ID, IH, IW] = a.I;
  const dx = new Float32Array(g.batchSize * ID * IH * IW * ci);
  // Offset within a Y row of each dx column (the width axis's coarse position and parity).
  const col = Int32Array.from({ length: IW }, (_, iw) => {
    const tw = iw + a.pad[2];
    return (Math.floor(tw / S[2]) - range[2][0]) * cs + (tw % S[2]) * ci;
  });
  let o = 0;
  for (let n = 0; n < g.batchSize; n++)
    for (let id = 0; id < ID; id++) {
      const td = id + a.pad[0];
      const yd = n * Q[0] + Math.floor(td / S[0]) - range[0][0];
      const rd = td % S[0];
      for (let ih = 0; ih < IH; ih++) {
        const th = ih + a.pad[1];
        const row = (yd * Q[1] + Math.floor(th / S[1]) - range[1][0]) * Q[2] * cs;
        const at0 = row + (rd * S[1] + (th % S[1])) * S[2] * ci;
        if (ci === 1) for (let iw = 0; iw < IW; iw++) dx[o++] = y[at0 + col[iw]];
        else
          for (let iw = 0; iw < IW; iw++, o += ci) {
            const at = at0 + col[iw];
            for (let c = 0; c < ci; c++) dx[o + c] = y[at + c];
          }
      }
    }
  return dx;
}

/** The (cols × rows) transpose of a row-major (rows × cols) matrix, in 32 × 32 blocks (cache lines on both sides). */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) t[c * rows + r] = m[r * cols + c];
    }
  }
  return t;
}

/**
 * Scatter form: Z[n, o][k][c] = Σ_co dy[n, o][co] W[k][c][co] as a 1×1×1 convolution over all
 * dy voxels, then dx[n, o·S + k − pad] += Z[n, o][k] (col2im).
 */
export function scatterInputGrad(
  dy: Float32Array,
  filter: Float32Array,
  g: Conv3dGeometry,
  forward: ForwardConv,
): Float32Array {
  const a = axes(g);
  const { S, K, O, I, pad } = a;
  const ci = g.inChannels;
  const co = g.outChannels;
  const kc = K[0] * K[1] * K[2] * ci;
  const wt = transpose(filter, kc, co);
  // dy's own geometry with a 1×1×1 kernel, so the product is shared among threads by depth
  // slice; a tiny dy (the GAN's 1³ latent) as one row of voxels instead, so the register tiles
  // take 4 voxels per pass over the K³·Ci columns of W.
  const voxels = g.batchSize * O[0] * O[1] * O[2];
  const rows: [number, number, number, number] =
    voxels <= SCATTER_FLAT_VOXELS ? [1, 1, 1, voxels] : [g.batchSize, O[0], O[1], O[2]];
  const z = forward(dy, wt, pointwiseGeometry(rows, co, kc));
  const dx = new Float32Array(g.batchSize * I[0] * I[1] * I[2] * ci);
  let at = 0;
  for (let n = 0; n < g.batchSize; n++)
    for (let od = 0; od < O[0]; od++)
      for (let oh = 0; oh < O[1]; oh++)
        for (let ow = 0; ow < O[2]; ow++)
          for (let kd = 0; kd < K[0]; kd++) {
            const id = od * S[0] + kd - pad[0];
            if (id < 0 || id >= I[0]) {
              at += K[1] * K[2] * ci;
              continue;
            }
            for (let kh = 0; kh < K[1]; kh++) {
              const ih = oh * S[1] + kh - pad[1];
              if (ih < 0 || ih >= I[1]) {
                at += K[2] * ci;
                continue;
              }
              const row = ((n * I[0] + id) * I[1] + ih) * I[2];
              for (let kw = 0; kw < K[2]; kw++, at += ci) {
                const iw = ow * S[2] + kw - pad[2];
                if (iw < 0 || iw >= I[2]) continue;
                const d = (row + iw) * ci;
                for (let c = 0; c < ci; c++) dx[d + c] += z[at + c];
              }
            }
          }
  return dx;
}

/**
 * A 1×1×1 convolution (stride 1, no padding) of a (N, D, H, W) = `dims` grid of voxels, ci → co
 * channels: a matrix product of the voxels' channel rows with the (ci × co) filter.
 */
export function pointwiseGeometry(
  dims: readonly [number, number, number, number],
  ci: number,
  co: number,
): Conv3dGeometry {
  const [batchSize, d, h, w] = dims;
  return {
    batchSize,
    inDepth: d,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outDepth: d,
    outHeight: h,
    outWidth: w,
    outChannels: co,
    filterDepth: 1,
    filterHeight: 1,
    filterWidth: 1,
    strideDepth: 1,
    strideHeight: 1,
    strideWidth: 1,
    padInfo: { front: 0, top: 0, left: 0 },
  };
}
