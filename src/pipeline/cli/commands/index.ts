/** The list of sub-commands; each file registers one. */
import type { Command } from "commander";
import { registerLpt } from "./lpt.js";

export function registerCommands(program: Command): void {
  registerLpt(program);
}
