/** The list of sub-commands; each file registers one. */
import type { Command } from "commander";

export function registerCommands(_program: Command): void {}
