// Module hooks (node:module register) that let a worker thread import our TypeScript sources:
// Node 20 cannot load .ts, and the test runner's transform does not reach worker threads.
// Used only when the worker runs from src/ (tests); from dist/ the compiled .js files are
// imported directly. An import of "./x.js" from a source file resolves to "./x.ts" when only
// the latter exists, and .ts files are transpiled (types erased) by the TypeScript compiler,
// a development dependency.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

let compiler;

/** @type {import("node:module").ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith(".ts") && specifier.startsWith(".") && specifier.endsWith(".js")) {
    const source = new URL(specifier.slice(0, -3) + ".ts", parent);
    if (!existsSync(new URL(specifier, parent)) && existsSync(source))
      return { url: source.href, format: "module", shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

/** @type {import("node:module").LoadHook} */
export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  compiler ??= (await import("typescript")).default;
  const { outputText } = compiler.transpileModule(readFileSync(fileURLToPath(url), "utf8"), {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: compiler.ModuleKind.ESNext,
      target: compiler.ScriptTarget.ES2022,
      sourceMap: false,
    },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
