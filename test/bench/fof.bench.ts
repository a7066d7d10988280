/**
 * Friends-of-friends benchmark: 128³ particles (default) in a (256 Mpc/h)³ box, clustered like a
 * late-time snapshot: half the particles in Gaussian blobs with a power-law spread of
 * multiplicities and radii, half uniform. Seeded, so every run times the same particle set.
 * Reports wall seconds for FoF alone, for FoF plus halo properties, and peak RSS.
 */
import { friendsOfFriends, linkingLengthFor } from "../../src/cosmo/friends-of-friends.js";
import { haloProperties } from "../../src/cosmo/halo-properties.js";
import { mulberry32 } from "../seeded-random.js";

const uniform = mulberry32;

/** Clustered synthetic particle set with n particles in a box of side L. */
export function clusteredParticles(n: number, L: number, seed: number): Float32Array {
  const u = uniform(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const pos = new Float32Array(3 * n);
  const wrap = (x: number): number => {
    const w = x - Math.floor(x / L) * L;
    return Math.fround(w) >= L ? 0 : w;
  };
  const sep = L / Math.cbrt(n);
  let i = 0;
  const inBlobs = Math.floor(n / 2);
  while (i < inBlobs) {
    // Multiplicity ∝ m^-2 between 20 and 20000 particles; radius ∝ m^(1/3), so blob density is
    // roughly constant at a few hundred times the mean, like FoF haloes.
    const m = Math.min(inBlobs - i, Math.floor(20 / (1 - u() * (1 - 20 / 20000))));
    const sigma = 0.06 * sep * Math.cbrt(m);
    const c = [u() * L, u() * L, u() * L];
    for (let k = 0; k < m; k++, i++) {
      for (let d = 0; d < 3; d++) pos[3 * i + d] = wrap(c[d] + sigma * gauss());
    }
  }
  for (; i < n; i++) for (let d = 0; d < 3; d++) pos[3 * i + d] = wrap(u() * L);
  return pos;
}

export async function benchFof(nSide = 128): Promise<Record<string, number>> {
  const n = nSide ** 3;
  const L = 2 * nSide; // 2 Mpc/h mean separation, as in a (256 Mpc/h)³, 128³ run
  const positions = clusteredParticles(n, L, 12345);
  const linkingLength = linkingLengthFor(L, n);

  const t0 = performance.now();
  const groups = friendsOfFriends(positions, { boxSize: L, linkingLength, minMembers: 20 });
  const t1 = performance.now();
  const halos = haloProperties(groups, positions, null, 1e11, L);
  const t2 = performance.now();

  let grouped = 0;
  for (const g of groups.groups) grouped += g.length;
  return {
    particles: n,
    fof_seconds: (t1 - t0) / 1000,
    halo_properties_seconds: (t2 - t1) / 1000,
    groups: halos.length,
    grouped_fraction: grouped / n,
    largest_group: groups.groups.length > 0 ? groups.groups[0].length : 0,
    // maxRSS is in kilobytes.
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}
