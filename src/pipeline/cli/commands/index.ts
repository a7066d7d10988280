/** The list of sub-commands; each file registers one. */
import type { Command } from "commander";
import { registerRun } from "./run.js";
import { registerLpt } from "./lpt.js";
import { registerPk } from "./pk.js";
import { registerNbody } from "./nbody.js";
import { registerNbodySet } from "./nbody-set.js";
import { registerPaint } from "./paint.js";
import { registerLightcone } from "./lightcone.js";
import { registerMerge } from "./merge.js";
import { registerTrain } from "./train.js";
import { registerValidate } from "./validate.js";
import { registerSampleGan } from "./sample-gan.js";
import { registerSelectGan } from "./select-gan.js";

export function registerCommands(program: Command): void {
  registerRun(program);
  registerLpt(program);
  registerPk(program);
  registerNbody(program);
  registerNbodySet(program);
  registerPaint(program);
  registerLightcone(program);
  registerMerge(program);
  registerTrain(program);
  registerValidate(program);
  registerSampleGan(program);
  registerSelectGan(program);
}
