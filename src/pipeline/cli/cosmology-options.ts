/** The cosmological-parameter flags shared by every command that makes fields. */
import { Option, type Command } from "commander";
import { DEFAULT_COSMOLOGY, makeCosmology, type Cosmology } from "../../cosmo/cosmology.js";
import { parseNumber } from "./option-parsers.js";

export interface CosmologyFlags {
  omegaM?: number;
  omegaB?: number;
  h?: number;
  sigma8?: number;
  ns?: number;
}

export function addCosmologyOptions(cmd: Command): Command {
  const d = DEFAULT_COSMOLOGY;
  return cmd
    .addOption(
      new Option("--omega-m <x>", `matter density Ω_m (default ${d.omegaM})`).argParser(
        parseNumber({ minExclusive: 0, max: 1 }),
      ),
    )
    .addOption(
      new Option("--omega-b <x>", `baryon density Ω_b (default ${d.omegaB})`).argParser(
        parseNumber({ minExclusive: 0, max: 1 }),
      ),
    )
    .addOption(
      new Option("--h <x>", `Hubble parameter h (default ${d.h})`).argParser(
        parseNumber({ minExclusive: 0, max: 10 }),
      ),
    )
    .addOption(
      new Option("--sigma8 <x>", `σ8 at z = 0 (default ${d.sigma8})`).argParser(
        parseNumber({ minExclusive: 0 }),
      ),
    )
    .addOption(
      new Option("--ns <x>", `spectral index n_s (default ${d.nS})`).argParser(
        parseNumber({ minExclusive: 0, max: 3 }),
      ),
    );
}

export function cosmologyFromFlags(f: CosmologyFlags): Cosmology {
  const o: Partial<Cosmology> = {};
  if (f.omegaM !== undefined) o.omegaM = f.omegaM;
  if (f.omegaB !== undefined) o.omegaB = f.omegaB;
  if (f.h !== undefined) o.h = f.h;
  if (f.sigma8 !== undefined) o.sigma8 = f.sigma8;
  if (f.ns !== undefined) o.nS = f.ns;
  return makeCosmology(o);
}

/** Cosmology as a plain record for metadata. */
export function cosmologyRecord(c: Cosmology): Record<string, number> {
  return { omegaM: c.omegaM, omegaB: c.omegaB, h: c.h, sigma8: c.sigma8, nS: c.nS, tCmb: c.tCmb };
}
