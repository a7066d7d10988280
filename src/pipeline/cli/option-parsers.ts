/**
 * Validating parsers for command-line values. Each throws commander's InvalidArgumentError, which
 * commander turns into one line: "error: option '--grid <n>' argument '7' is invalid. <reason>".
 */
import { InvalidArgumentError } from "commander";

export function parseInteger(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new InvalidArgumentError("expected an integer.");
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}].`);
    return n;
  };
}

export function parseNumber(opts: {
  min?: number;
  minExclusive?: number;
  max?: number;
  maxExclusive?: number;
}): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("expected a finite number.");
    if (opts.min !== undefined && n < opts.min)
      throw new InvalidArgumentError(`expected a number ≥ ${opts.min}.`);
    if (opts.minExclusive !== undefined && n <= opts.minExclusive) {
      throw new InvalidArgumentError(`expected a number > ${opts.minExclusive}.`);
    }
    if (opts.max !== undefined && n > opts.max)
      throw new InvalidArgumentError(`expected a number ≤ ${opts.max}.`);
    if (opts.maxExclusive !== undefined && n >= opts.maxExclusive)
      throw new InvalidArgumentError(`expected a number < ${opts.maxExclusive}.`);
    return n;
  };
}

/** Comma-separated list of numbers, each validated by `one`. */
export function parseNumberList(one: (v: string) => number): (v: string) => number[] {
  return (v: string) => v.split(",").map((s) => one(s.trim()));
}

export function parseChoice<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v))
      throw new InvalidArgumentError(`expected one of ${choices.join(", ")}.`);
    return v as T;
  };
}
