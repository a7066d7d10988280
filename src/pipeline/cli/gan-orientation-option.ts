/** `--orientation random|generator` of the commands that sample a GAN (sample-gan, validate gan, select-gan). */
import { Option } from "commander";
import { SAMPLE_ORIENTATIONS } from "../../models/gan/sample-orientation.js";
import { parseChoice } from "./option-parsers.js";

export function ganOrientationOption(): Option {
  return new Option(
    "--orientation <o>",
    "random: sample i under one of the 48 cube symmetries keyed by (seed, i), so structure the generator locks to its grid is not shared between samples (P(k), PDF unchanged); generator: as the generator draws it",
  )
    .choices(SAMPLE_ORIENTATIONS as unknown as string[])
    .default("random")
    .argParser(parseChoice(SAMPLE_ORIENTATIONS));
}
