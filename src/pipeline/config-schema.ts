/**
 * A small schema validator for run configurations: every key is declared with its type, range
 * and default, so an unknown key, a wrong type or an impossible value is reported with its
 * dotted path ("halos.nbody.steps: expected an integer ≥ 1, got 0") before any work starts.
 */
export type SchemaNode =
  | {
      kind: "number";
      default?: number;
      min?: number;
      max?: number;
      minExclusive?: number;
      integer?: boolean;
      doc: string;
    }
  | { kind: "string"; default?: string; choices?: readonly string[]; doc: string }
  | { kind: "boolean"; default?: boolean; doc: string }
  | { kind: "numbers"; default?: number[]; length?: number; doc: string }
  | { kind: "object"; fields: Record<string, SchemaNode>; doc: string; optional?: boolean };

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly source = "config",
  ) {
    super(`${source}: ${key}: ${problem}`);
    this.name = "ConfigError";
  }
}

type Plain = Record<string, unknown>;

function describe(v: unknown): string {
  return v === null
    ? "null"
    : Array.isArray(v)
      ? `[${v.map(describe).join(", ")}]`
      : typeof v === "string"
        ? JSON.stringify(v)
        : String(v);
}

function checkNumber(
  node: Extract<SchemaNode, { kind: "number" }>,
  v: unknown,
  key: string,
  source: string,
): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ConfigError(key, `expected a number, got ${describe(v)}`, source);
  if (node.integer && !Number.isInteger(v))
    throw new ConfigError(key, `expected an integer, got ${v}`, source);
  if (node.min !== undefined && v < node.min)
    throw new ConfigError(key, `must be ≥ ${node.min}, got ${v}`, source);
  if (node.minExclusive !== undefined && v <= node.minExclusive)
    throw new ConfigError(key, `must be > ${node.minExclusive}, got ${v}`, source);
  if (node.max !== undefined && v > node.max)
    throw new ConfigError(key, `must be ≤ ${node.max}, got ${v}`, source);
  return v;
}

/** Validates `value` against `node`, filling defaults; returns a new plain value. */
export function validate(node: SchemaNode, value: unknown, key: string, source = "config"): unknown {
  switch (node.kind) {
    case "number":
      return checkNumber(node, value === undefined ? node.default : value, key, source);
    case "string": {
      const v = value === undefined ? node.default : value;
      if (typeof v !== "string") throw new ConfigError(key, `expected a string, got ${describe(v)}`, source);
      if (node.choices && !node.choices.includes(v))
        throw new ConfigError(
          key,
          `expected one of ${node.choices.join(", ")}, got ${JSON.stringify(v)}`,
          source,
        );
      return v;
    }
    case "boolean": {
      const v = value === undefined ? node.default : value;
      if (typeof v !== "boolean")
        throw new ConfigError(key, `expected true or false, got ${describe(v)}`, source);
      return v;
    }
    case "numbers": {
      const v = value === undefined ? node.default : value;
      if (!Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
        throw new ConfigError(key, `expected a list of numbers, got ${describe(v)}`, source);
      }
      if (node.length !== undefined && v.length !== node.length)
        throw new ConfigError(key, `expected ${node.length} numbers, got ${v.length}`, source);
      return [...v];
    }
    case "object": {
      if (value === undefined || value === null) value = {};
      if (typeof value !== "object" || Array.isArray(value))
        throw new ConfigError(key, `expected a mapping, got ${describe(value)}`, source);
      const out: Plain = {};
      const given = value as Plain;
      for (const k of Object.keys(given)) {
        if (!(k in node.fields)) {
          const known = Object.keys(node.fields).join(", ");
          throw new ConfigError(key ? `${key}.${k}` : k, `unknown key (known here: ${known})`, source);
        }
      }
      for (const [k, child] of Object.entries(node.fields)) {
        const sub = key ? `${key}.${k}` : k;
        if (
          given[k] === undefined &&
          child.kind !== "object" &&
          !("default" in child && child.default !== undefined)
        ) {
          continue; // optional scalar without default
        }
        out[k] = validate(child, given[k], sub, source);
      }
      return out;
    }
  }
}

/** Sets a dotted key ("halos.nbody.steps") in a plain object, creating parents. */
export function setDotted(target: Plain, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let o = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
    o = o[p] as Plain;
  }
  o[parts[parts.length - 1]] = value;
}

/** Lines documenting every key, its type and default (for --help and the README). */
export function documentSchema(node: SchemaNode, key = ""): string[] {
  if (node.kind === "object") {
    const lines = key ? [`${key}: ${node.doc}`] : [];
    for (const [k, child] of Object.entries(node.fields))
      lines.push(...documentSchema(child, key ? `${key}.${k}` : k));
    return lines;
  }
  const d =
    "default" in node && node.default !== undefined ? ` (default ${JSON.stringify(node.default)})` : "";
  const extra = node.kind === "string" && node.choices ? ` [${node.choices.join("|")}]` : "";
  return [`  ${key}: ${node.doc}${extra}${d}`];
}
