/**
 * Validation of a halo painter on held-out simulations (issue 6, item 5): per output channel
 * (mass bin), the painted and true halo fields compared shell by shell (T(k), r_c(k), s(k), eqs
 * 6.3–6.5 of Kodi Ramanah, Charnock & Lavaux 2019), the same for two bias-model baselines on the
 * same 2LPT fields (cosmo/bias-baselines.ts), the distribution of painted counts given the true
 * count of a voxel, and the three acceptance checks.
 *
 * Fields are overdensities of their own mean, δ = n / n̄ − 1. Shot noise ("poisson"): a field of
 * discrete counts carries white noise V / N (N its total count), which is subtracted from its
 * auto spectrum before any ratio is formed; the true halo field and the Poisson-sampled local-
 * bias baseline are discrete, the painter's output (a mean field) and the linear-bias baseline
 * are not, unless the painter is Poisson-sampled too (`samplePainter`). Without this even a
 * perfect mean painter has T ≈ sqrt(P_hh,clustered / P_hh,total) < 1 on small scales. "none"
 * subtracts nothing.
 *
 * Combined results average the (shot-noise-corrected) auto and cross spectra over simulations
 * (all of one box and grid, equal weights) and form T, r_c and s from the averages.
 */
import {
  fitLinearBias,
  fitLocalBias,
  linearBiasCounts,
  localBiasCounts,
  poissonSampleCounts,
} from "../cosmo/bias-baselines.js";
import type { LinearBiasFit, LocalBiasFunction } from "../cosmo/bias-baselines.js";
import { conditionalCounts, type ConditionalCountRow } from "../cosmo/conditional-counts.js";
import { compareFields, comparisonFromSpectra, type FieldComparison } from "../cosmo/field-comparison.js";
import type { GridShape } from "../cosmo/fft/real-fft3d.js";
import { toDensityContrast } from "../cosmo/mass-assignment.js";
import { crossPowerSpectrum } from "../cosmo/power-spectrum.js";

export type ShotNoiseConvention = "none" | "poisson";
export const SHOT_NOISE_CONVENTIONS: readonly ShotNoiseConvention[] = ["none", "poisson"];

/** A simulation box: the 2LPT δ and, per channel, the true counts (and the painted mean counts). */
export interface ValidationBox {
  name: string;
  side: number;
  boxSize: number;
  /** 2LPT density contrast δ, C order. */
  delta: Float32Array;
  truth: Float32Array[];
}

export interface PaintedBox extends ValidationBox {
  /** The painter's output per channel (a mean count per voxel). */
  painted: Float32Array[];
}

export interface PainterValidationSettings {
  shotNoise: ShotNoiseConvention;
  samplePainter: boolean;
  seed: number;
  /** Linear bias fitted on k ≤ this, h/Mpc. */
  kMaxBiasFit: number;
  /** Checks (i) and (ii) on k ≤ this, h/Mpc. */
  kMaxCorrelation: number;
  kMaxTransfer: number;
  transferTolerance: number;
  /** Check (iii): s_painter ≤ ratio × s_linear on k ≤ kMaxStochasticity. */
  kMaxStochasticity: number;
  stochasticityRatio: number;
  localBiasBins: number;
  /** What the baselines were fitted on, recorded as given ("held-out" or a directory). */
  baselineFit: string;
  threads?: number;
}

export const DEFAULT_VALIDATION_SETTINGS: Omit<PainterValidationSettings, "baselineFit"> = {
  shotNoise: "poisson",
  samplePainter: false,
  seed: 1,
  kMaxBiasFit: 0.1,
  kMaxCorrelation: 0.3,
  kMaxTransfer: 0.3,
  transferTolerance: 0.1,
  kMaxStochasticity: 0.1,
  stochasticityRatio: 0.5,
  localBiasBins: 32,
};

/** Counter-based stream keys (the "bin" of VoxelStream) of the sampled fields, plus the channel. */
const STREAM_LOCAL_BIAS = 0x7a110100;
const STREAM_PAINTER = 0x7a110200;

export interface PredictorSpectra {
  /** Auto spectrum of the predictor's δ, shot noise subtracted as `shotNoise` says. */
  power: number[];
  cross: number[];
  transfer: number[];
  correlation: number[];
  stochasticity: number[];
  /** Subtracted from `power`, (Mpc/h)^3 (mean over simulations when combined). */
  shotNoise: number;
  /** Mean count per voxel. */
  meanCount: number;
}

export interface ChannelSpectra {
  k: number[];
  modes: number[];
  truth: { power: number[]; shotNoise: number; meanCount: number };
  painter: PredictorSpectra;
  linearBias: PredictorSpectra;
  localBias: PredictorSpectra;
  /** Painted count given the true count per voxel. */
  conditional: ConditionalCountRow[];
}

export interface AcceptanceCheck {
  description: string;
  kMax: number;
  /** Shells with k ≤ kMax; the check passes when every one does (null: no shell in range). */
  shells: number;
  passed: boolean | null;
  /** k of the shells that fail (a NaN ratio fails). */
  failingK: number[];
  /** The statistic checked, at its least favourable shell. */
  worst: { k: number; statistic: string; value: number; bound: number } | null;
}

export interface ChannelValidation {
  channel: number;
  label: string;
  baselines: {
    linearBias: LinearBiasFit & { meanCount: number };
    localBias: { deltaEdges: number[]; meanDelta: number[]; meanCount: number[]; voxels: number[] };
  };
  combined: ChannelSpectra;
  simulations: (ChannelSpectra & { name: string })[];
  checks: { correlation: AcceptanceCheck; transfer: AcceptanceCheck; stochasticity: AcceptanceCheck };
  passed: boolean;
}

export interface PainterValidation {
  settings: PainterValidationSettings;
  channels: ChannelValidation[];
  passed: boolean;
}

const cube = (n: number): GridShape => [n, n, n];

function densityContrast(
  counts: Float32Array,
  what: string,
): { delta: Float32Array; mean: number; total: number } {
  const delta = Float32Array.from(counts);
  let mean: number;
  try {
    mean = toDensityContrast(delta);
  } catch {
    throw new RangeError(`${what}: the field sums to zero or less, so it has no overdensity to compare`);
  }
  return { delta, mean, total: mean * counts.length };
}

interface Baselines {
  linear: LinearBiasFit & { meanCount: number };
  local: LocalBiasFunction;
}

/** Fits both baselines for one channel on the fitting boxes. */
function fitBaselines(
  fit: readonly ValidationBox[],
  channel: number,
  s: PainterValidationSettings,
): Baselines {
  const spectra = fit.map((b) => {
    const h = densityContrast(b.truth[channel], `${b.name} true counts (channel ${channel})`);
    const t = crossPowerSpectrum(h.delta, b.delta, cube(b.side), { boxSize: b.boxSize, threads: s.threads });
    return { k: t.k, modes: t.modes, cross: t.power, powerMatter: t.powerB };
  });
  let sum = 0;
  let voxels = 0;
  for (const b of fit) {
    for (const v of b.truth[channel]) sum += v;
    voxels += b.truth[channel].length;
  }
  return {
    linear: { ...fitLinearBias(spectra, s.kMaxBiasFit), meanCount: sum / voxels },
    local: fitLocalBias(
      fit.map((b) => ({ delta: b.delta, counts: b.truth[channel] })),
      s.localBiasBins,
    ),
  };
}

function predictorOf(c: FieldComparison, shotNoise: number, meanCount: number): PredictorSpectra {
  return {
    power: Array.from(c.powerPredicted),
    cross: Array.from(c.cross),
    transfer: Array.from(c.transfer),
    correlation: Array.from(c.correlation),
    stochasticity: Array.from(c.stochasticity),
    shotNoise,
    meanCount,
  };
}

interface BoxChannel {
  spectra: ChannelSpectra;
  pair: { predicted: Float32Array; truth: Float32Array };
}

function validateBoxChannel(
  box: PaintedBox,
  index: number,
  channel: number,
  base: Baselines,
  s: PainterValidationSettings,
): BoxChannel {
  const n3 = box.side ** 3;
  const volume = box.boxSize ** 3;
  const poisson = s.shotNoise === "poisson";
  const shot = (total: number, discrete: boolean) => (poisson && discrete ? volume / total : 0);
  const truth = densityContrast(box.truth[channel], `${box.name} true counts (channel ${channel})`);
  const paintedCounts = s.samplePainter
    ? poissonSampleCounts(box.painted[channel], s.seed, STREAM_PAINTER + channel, index * n3)
    : box.painted[channel];
  const linearCounts = linearBiasCounts(box.delta, base.linear.meanCount, base.linear.bias);
  const localCounts = poissonSampleCounts(
    localBiasCounts(base.local, box.delta),
    s.seed,
    STREAM_LOCAL_BIAS + channel,
    index * n3,
  );
  const opts = { boxSize: box.boxSize, threads: s.threads, shotNoiseReference: shot(truth.total, true) };
  let reference: FieldComparison | undefined;
  const compare = (counts: Float32Array, what: string, discrete: boolean): PredictorSpectra => {
    const p = densityContrast(counts, `${box.name} ${what} (channel ${channel})`);
    const sp = shot(p.total, discrete);
    const c = compareFields(p.delta, truth.delta, cube(box.side), { ...opts, shotNoisePredicted: sp });
    reference ??= c;
    return predictorOf(c, sp, p.mean);
  };
  const painter = compare(paintedCounts, "painted counts", s.samplePainter);
  const linearBias = compare(linearCounts, "linear-bias counts", false);
  const localBias = compare(localCounts, "local-bias counts", true);
  // The truth's auto spectrum (shot noise subtracted) is the reference side of any comparison.
  const ref = reference!;
  const pair = { predicted: paintedCounts, truth: box.truth[channel] };
  return {
    spectra: {
      k: Array.from(ref.k),
      modes: Array.from(ref.modes),
      truth: {
        power: Array.from(ref.powerReference),
        shotNoise: shot(truth.total, true),
        meanCount: truth.mean,
      },
      painter,
      linearBias,
      localBias,
      conditional: conditionalCounts([pair]),
    },
    pair,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Averages the spectra of the boxes (equal weights) and re-forms T, r_c and s. */
function combine(parts: ChannelSpectra[], conditional: ConditionalCountRow[]): ChannelSpectra {
  const first = parts[0];
  const avg = (get: (p: ChannelSpectra) => number[]) =>
    Float64Array.from(first.k, (_, i) => mean(parts.map((p) => get(p)[i])));
  const truthPower = avg((p) => p.truth.power);
  const k = Float64Array.from(first.k);
  const modes = Float64Array.from(first.k, (_, i) => parts.reduce((a, p) => a + p.modes[i], 0));
  const predictor = (get: (p: ChannelSpectra) => PredictorSpectra): PredictorSpectra =>
    predictorOf(
      comparisonFromSpectra(
        k,
        modes,
        avg((p) => get(p).power),
        truthPower,
        avg((p) => get(p).cross),
      ),
      mean(parts.map((p) => get(p).shotNoise)),
      mean(parts.map((p) => get(p).meanCount)),
    );
  return {
    k: Array.from(k),
    modes: Array.from(modes),
    truth: {
      power: Array.from(truthPower),
      shotNoise: mean(parts.map((p) => p.truth.shotNoise)),
      meanCount: mean(parts.map((p) => p.truth.meanCount)),
    },
    painter: predictor((p) => p.painter),
    linearBias: predictor((p) => p.linearBias),
    localBias: predictor((p) => p.localBias),
    conditional,
  };
}

/** One acceptance check: `margin(i)` ≥ 0 passes; `value(i)` and `bound(i)` are what is reported. */
function check(
  c: ChannelSpectra,
  kMax: number,
  description: string,
  statistic: string,
  value: (i: number) => number,
  bound: (i: number) => number,
  margin: (i: number) => number,
): AcceptanceCheck {
  const failingK: number[] = [];
  let shells = 0;
  let worst: AcceptanceCheck["worst"] = null;
  let worstMargin = Infinity;
  for (let i = 0; i < c.k.length; i++) {
    if (c.k[i] > kMax) continue;
    shells++;
    const m = margin(i);
    const ok = m >= 0; // NaN fails
    if (!ok) failingK.push(c.k[i]);
    const rank = Number.isNaN(m) ? -Infinity : m;
    if (worst === null || rank < worstMargin) {
      worstMargin = rank;
      worst = { k: c.k[i], statistic, value: value(i), bound: bound(i) };
    }
  }
  return { description, kMax, shells, passed: shells === 0 ? null : failingK.length === 0, failingK, worst };
}

function acceptanceChecks(c: ChannelSpectra, s: PainterValidationSettings): ChannelValidation["checks"] {
  const best = (i: number) => Math.max(c.linearBias.correlation[i], c.localBias.correlation[i]);
  return {
    correlation: check(
      c,
      s.kMaxCorrelation,
      `r_c(painter) ≥ r_c of both baselines at every k ≤ ${s.kMaxCorrelation} h/Mpc`,
      "r_c(painter); bound: max r_c of the baselines",
      (i) => c.painter.correlation[i],
      best,
      (i) => c.painter.correlation[i] - best(i),
    ),
    transfer: check(
      c,
      s.kMaxTransfer,
      `|T(k) − 1| ≤ ${s.transferTolerance} at every k ≤ ${s.kMaxTransfer} h/Mpc`,
      "|T − 1|",
      (i) => Math.abs(c.painter.transfer[i] - 1),
      () => s.transferTolerance,
      (i) => s.transferTolerance - Math.abs(c.painter.transfer[i] - 1),
    ),
    stochasticity: check(
      c,
      s.kMaxStochasticity,
      `s(painter) ≤ ${s.stochasticityRatio} × s(linear bias) at every k ≤ ${s.kMaxStochasticity} h/Mpc`,
      "s(painter), (Mpc/h)^3; bound: ratio × s(linear bias)",
      (i) => c.painter.stochasticity[i],
      (i) => s.stochasticityRatio * c.linearBias.stochasticity[i],
      (i) => s.stochasticityRatio * c.linearBias.stochasticity[i] - c.painter.stochasticity[i],
    ),
  };
}

/**
 * Validates painted boxes against their truth. `fit` are the boxes the baselines are fitted on
 * (the held-out boxes themselves when omitted, which favours the baselines).
 */
export function validatePainter(
  boxes: readonly PaintedBox[],
  settings: PainterValidationSettings,
  labels: readonly string[],
  fit: readonly ValidationBox[] = boxes,
): PainterValidation {
  if (boxes.length === 0) throw new RangeError("no simulations to validate on");
  const first = boxes[0];
  for (const b of boxes) {
    if (b.side !== first.side || Math.abs(b.boxSize - first.boxSize) > 1e-9 * first.boxSize)
      throw new RangeError(
        `${b.name}: grid ${b.side}³ over ${b.boxSize} Mpc/h differs from ${first.name}'s ${first.side}³ over ${first.boxSize} Mpc/h; combined spectra need one box and grid`,
      );
    if (b.painted.length !== labels.length || b.truth.length !== labels.length)
      throw new RangeError(
        `${b.name}: ${b.painted.length} painted and ${b.truth.length} true channels, expected ${labels.length}`,
      );
  }
  const channels = labels.map((label, channel): ChannelValidation => {
    const base = fitBaselines(fit, channel, settings);
    const perBox = boxes.map((b, i) => validateBoxChannel(b, i, channel, base, settings));
    const combined = combine(
      perBox.map((p) => p.spectra),
      conditionalCounts(perBox.map((p) => p.pair)),
    );
    const checks = acceptanceChecks(combined, settings);
    return {
      channel,
      label,
      baselines: {
        linearBias: base.linear,
        localBias: {
          deltaEdges: Array.from(base.local.edges),
          meanDelta: Array.from(base.local.meanDelta),
          meanCount: Array.from(base.local.meanCount),
          voxels: Array.from(base.local.voxels),
        },
      },
      combined,
      simulations: perBox.map((p, i) => ({ name: boxes[i].name, ...p.spectra })),
      checks,
      passed: Object.values(checks).every((c) => c.passed === true),
    };
  });
  return { settings, channels, passed: channels.every((c) => c.passed) };
}
