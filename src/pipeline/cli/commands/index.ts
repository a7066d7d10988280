/** The list of sub-commands; each file registers one. */
import type { Command } from "commander";
import { registerLpt } from "./lpt.js";
import { registerPk } from "./pk.js";
import { registerPaint } from "./paint.js";

export function registerCommands(program: Command): void {
  registerLpt(program);
  registerPk(program);
  registerPaint(program);
}
