/**
 * `--orientation random|generator` of the commands that sample a GAN (sample-gan, validate gan,
 * select-gan), and train gan's `--stats-orientation` with the same choices.
 */
import { Option } from "commander";
import { SAMPLE_ORIENTATIONS, type SampleOrientation } from "../../models/gan/sample-orientation.js";
import { parseChoice } from "./option-parsers.js";

const SAMPLING =
  "random: sample i under one of the 48 cube symmetries keyed by (seed, i), so structure the generator locks to its grid is not shared between samples (P(k), PDF unchanged); generator: as the generator draws it";

export function ganOrientationOption(
  flags = "--orientation <o>",
  description = SAMPLING,
  fallback: SampleOrientation = "random",
): Option {
  return new Option(flags, description)
    .choices(SAMPLE_ORIENTATIONS as unknown as string[])
    .default(fallback)
    .argParser(parseChoice(SAMPLE_ORIENTATIONS));
}
