/**
 * Validation of the N-body + FoF chain (too slow for CI): a (256 Mpc/h)³ box with 128³
 * particles, 20 FastPM steps from z = 19, FoF b = 0.2; reports
 *  - the z = 0 halo mass function for haloes of ≥ 100 particles against Warren et al. (2006)
 *    (target: within 25% in every bin with ≥ 50 haloes, i.e. where Poisson noise is ≤ 14%;
 *    sparser bins are reported with their Poisson significance),
 *  - the non-linear boost of P(k) at k ≈ 0.5 h/Mpc over linear theory and over 2LPT.
 * Usage: node dist/test/bench/validate-nbody.js [gridSide] [box] [steps] [seed]  → JSON on stdout.
 */
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import { friendsOfFriends, linkingLengthFor } from "../../src/cosmo/friends-of-friends.js";
import { particleMass } from "../../src/cosmo/halo-count-grid.js";
import { binnedMassFunction, numberDensityInRange } from "../../src/cosmo/halo-mass-function.js";
import { LinearPower } from "../../src/cosmo/linear-power.js";
import { runLpt } from "../../src/cosmo/lpt.js";
import { runNbody } from "../../src/cosmo/nbody.js";
import { particlePowerSpectrum } from "../../src/cosmo/power-spectrum.js";

const n = Number(process.argv[2] ?? 128);
const box = Number(process.argv[3] ?? 256);
const steps = Number(process.argv[4] ?? 20);
const seed = Number(process.argv[5] ?? 7);
const cosmology = makeCosmology();
const power = new LinearPower(cosmology);
const t0 = performance.now();
const report: Record<string, unknown> = { gridSide: n, boxSize: box, steps, zInit: 19, seed };

runNbody({ cosmology, gridSide: n, boxSize: box, seed, zInit: 19, steps, outputRedshifts: [0] }, (snap) => {
  report.nbodySeconds = (performance.now() - t0) / 1000;
  const mp = particleMass(cosmology.omegaM, box, n ** 3);
  const t1 = performance.now();
  const groups = friendsOfFriends(snap.positions, {
    boxSize: box,
    linkingLength: linkingLengthFor(box, n ** 3),
    minMembers: 100,
  });
  report.fofSeconds = (performance.now() - t1) / 1000;
  const masses = groups.groups.map((g) => g.length * mp);
  const edges = [100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000].map((k) => k * mp);
  const bins = binnedMassFunction(masses, box, edges).map((b) => {
    const expected = numberDensityInRange(power, "warren", b.massLow, b.massHigh) * box ** 3;
    return { ...b, expectedWarren: expected, ratio: b.count / expected };
  });
  // Judged where Poisson noise is ≤ 14% (≥ 50 haloes); sparser bins carry their significance.
  const usable = bins.filter((b) => b.count >= 50);
  report.particleMass = mp;
  report.haloesAbove100 = masses.length;
  report.massFunction = bins.map((b) => ({
    ...b,
    poissonSigmas: (b.count - b.expectedWarren) / Math.sqrt(b.expectedWarren),
  }));
  report.massFunctionMaxDeviation = Math.max(...usable.map((b) => Math.abs(b.ratio - 1)));
  report.massFunctionWithin25Percent = usable.every((b) => Math.abs(b.ratio - 1) <= 0.25);

  const pkOptions = { scheme: "cic" as const, interlaced: true, subtractShotNoise: true };
  const nb = particlePowerSpectrum(snap.positions, n, box, pkOptions);
  const lpt = runLpt({
    gridSide: n,
    boxSize: box,
    redshift: 0,
    seed,
    cosmology,
    want: { particles: true },
  });
  const lp = particlePowerSpectrum(lpt.positions!, n, box, pkOptions);
  const rows = [];
  for (const target of [0.1, 0.2, 0.3, 0.5]) {
    let best = 0;
    for (let i = 0; i < nb.k.length; i++)
      if (Math.abs(nb.k[i] - target) < Math.abs(nb.k[best] - target)) best = i;
    rows.push({
      k: nb.k[best],
      nbodyOverLinear: nb.power[best] / power.at(nb.k[best], 0),
      nbodyOverLpt: nb.power[best] / lp.power[best],
    });
  }
  report.powerSpectrum = rows;
});
report.totalSeconds = (performance.now() - t0) / 1000;
report.peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
