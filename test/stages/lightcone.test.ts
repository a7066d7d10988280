import { describe, expect, it } from "vitest";
import { makeCosmology } from "../../src/cosmo/cosmology.js";
import {
  comovingDistance,
  redshiftAtComovingDistance,
  SPEED_OF_LIGHT_KM_S,
} from "../../src/cosmo/distance.js";
import { ang2pixNest } from "../../src/cosmo/healpix.js";
import type { CatalogColumns } from "../../src/io/halo-catalog.js";
import { lightconeRows, planLightcone, type LightconeGeometry } from "../../src/stages/lightcone.js";

const cosmology = makeCosmology();
const L = 100;

function halos(rows: { x: number[]; v?: number[] }[]): CatalogColumns {
  const n = rows.length;
  const f = (get: (r: (typeof rows)[number]) => number) => Float32Array.from(rows, get);
  return {
    id: BigUint64Array.from(rows, (_, i) => BigInt(i)),
    x: f((r) => r.x[0]),
    y: f((r) => r.x[1]),
    z: f((r) => r.x[2]),
    vx: f((r) => r.v?.[0] ?? 0),
    vy: f((r) => r.v?.[1] ?? 0),
    vz: f((r) => r.v?.[2] ?? 0),
    mass: new Float32Array(n).fill(1e13),
    massBin: new Int8Array(n),
  };
}

const geometry = (over: Partial<LightconeGeometry> = {}): LightconeGeometry => ({
  boxSize: L,
  cosmology,
  observer: [50, 50, 50],
  chiMax: 240,
  nside: 16,
  ...over,
});

describe("light-cone geometry", () => {
  it("gives exact angles, distances and redshifts for haloes on the axes, across replicas", () => {
    const g = geometry();
    const plan = planLightcone(g, [0]);
    // Halo 30 Mpc/h along +x of the observer, receding at 300 km/s; another along +z, approaching.
    const c = halos([
      { x: [80, 50, 50], v: [300, 0, 0] },
      { x: [50, 50, 90], v: [0, 0, -500] },
    ]);
    const rows = lightconeRows(c, plan.shells[0], plan, g);
    // Rows for halo 0 in the home box (χ = 30) and in the replica one box along −x (χ = 70) ...
    const find = (id: number, chi: number) => {
      for (let i = 0; i < rows.id.length; i++)
        if (Number(rows.id[i]) === id && Math.abs(rows.chi[i] - chi) < 1e-4) return i;
      throw new Error(`no row for halo ${id} at χ = ${chi}`);
    };
    const a = find(0, 30);
    expect(rows.ra[a]).toBeCloseTo(0, 12);
    expect(rows.dec[a]).toBeCloseTo(0, 12);
    const z30 = redshiftAtComovingDistance(cosmology, 30);
    expect(rows.zCos[a]).toBe(z30);
    expect(rows.zObs[a]).toBeCloseTo((1 + z30) * (1 + 300 / SPEED_OF_LIGHT_KM_S) - 1, 14);
    expect(rows.zObs[a]).toBeGreaterThan(rows.zCos[a]); // receding → redshifted
    const b = find(0, 70); // x = 80 − 100 − 50 = −70: RA 180°, receding component −300
    expect(rows.ra[b]).toBeCloseTo(180, 12);
    expect(rows.zObs[b]).toBeLessThan(rows.zCos[b]);
    expect(plan.replicas[rows.replica[b]]).toEqual([-1, 0, 0]);
    const d = find(1, 40);
    expect(rows.dec[d]).toBeCloseTo(90, 12);
    expect(rows.zObs[d]).toBeLessThan(rows.zCos[d]); // approaching → blueshifted
    // A general direction: (−20, 30, −10) from the observer.
    const e = lightconeRows(halos([{ x: [30, 80, 40] }]), plan.shells[0], plan, g);
    const i = Array.from(e.chi).findIndex((chi) => Math.abs(chi - Math.sqrt(1400)) < 1e-4);
    expect(e.ra[i]).toBeCloseTo((Math.atan2(30, -20) * 180) / Math.PI, 10);
    expect(e.dec[i]).toBeCloseTo((Math.asin(-10 / Math.sqrt(1400)) * 180) / Math.PI, 10);
    expect(Number(e.healpix[i])).toBe(ang2pixNest(16, Math.acos(-10 / Math.sqrt(1400)), Math.atan2(30, -20)));
    // Every row lies within χ_max, and each (halo, replica) appears once.
    expect(Math.max(...rows.chi)).toBeLessThan(240);
    const keys = new Set(Array.from(rows.id, (id, k) => `${id}:${rows.replica[k]}`));
    expect(keys.size).toBe(rows.id.length);
  });

  it("counts the replicas a full sky needs and z ↔ χ agrees with distance.ts to 1e-6", () => {
    const g = geometry({ chiMax: 120 });
    const plan = planLightcone(g, [0]);
    // Observer at the centre, χ_max = 1.2 L: copy n spans [100n − 50, 100n + 50) per axis, so the
    // 27 copies with |n| ≤ 1 reach inside 120 Mpc/h (the far corner ones at √3·50 = 86.6) and no others.
    expect(plan.replicas.length).toBe(27);
    for (const n of plan.replicas) expect(Math.max(...n.map(Math.abs))).toBeLessThanOrEqual(1);
    const c = halos([{ x: [10, 20, 30] }, { x: [75, 5, 60] }]);
    const rows = lightconeRows(c, plan.shells[0], plan, g);
    for (let r = 0; r < rows.id.length; r++) {
      expect(Math.abs(comovingDistance(cosmology, rows.zCos[r]) / rows.chi[r] - 1)).toBeLessThan(1e-6);
    }
    // Each halo appears in every replica whose image lies within χ_max: count them directly.
    let expected = 0;
    for (let h = 0; h < 2; h++)
      for (let i = -3; i <= 3; i++)
        for (let j = -3; j <= 3; j++)
          for (let k = -3; k <= 3; k++) {
            const d = Math.hypot(c.x[h] + i * L - 50, c.y[h] + j * L - 50, c.z[h] + k * L - 50);
            if (d < 120) expected++;
          }
    expect(rows.id.length).toBe(expected);
  });

  it("keeps only the cone, takes each shell from the nearest snapshot redshift", () => {
    const g = geometry({ chiMax: 500, cone: { ra: 0, dec: 0, radius: 10 }, maxRedshiftGap: 0.2 });
    const plan = planLightcone(g, [0, 0.1]);
    const boundary = comovingDistance(cosmology, 0.05);
    expect(plan.shells[0].chiHigh).toBeCloseTo(boundary, 9);
    expect(plan.shells[1].chiLow).toBeCloseTo(boundary, 9);
    const c = halos(
      Array.from({ length: 200 }, (_, i) => ({ x: [(i * 37.1) % 100, (i * 13.7) % 100, (i * 71.3) % 100] })),
    );
    for (const s of [0, 1]) {
      const rows = lightconeRows(c, plan.shells[s], plan, g);
      expect(rows.id.length).toBeGreaterThan(0);
      for (let r = 0; r < rows.id.length; r++) {
        const ra = rows.ra[r] > 180 ? rows.ra[r] - 360 : rows.ra[r];
        const cos = Math.cos((rows.dec[r] * Math.PI) / 180) * Math.cos((ra * Math.PI) / 180);
        expect(cos).toBeGreaterThanOrEqual(Math.cos((10 * Math.PI) / 180) - 1e-12);
        expect(rows.chi[r]).toBeGreaterThanOrEqual(Math.fround(plan.shells[s].chiLow) - 1e-3);
        expect(rows.chi[r]).toBeLessThan(plan.shells[s].chiHigh + 1e-3);
      }
    }
  });

  it("rejects impossible geometry naming the key", () => {
    expect(() => planLightcone(geometry({ cone: { ra: 0, dec: 0, radius: 200 } }), [0])).toThrow(
      /--cone.*wider than the sky/,
    );
    expect(() => planLightcone(geometry({ observer: [50, 120, 50] }), [0])).toThrow(
      /--observer.*outside the box/,
    );
    expect(() => planLightcone(geometry({ chiMax: 3000, rangeKey: "--z-max" }), [0, 0.5])).toThrow(
      /--z-max.*beyond the nearest catalog/,
    );
    expect(() => planLightcone(geometry({ nside: 3 }), [0])).toThrow(/--nside/);
  });
});
