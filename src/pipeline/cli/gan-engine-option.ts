/** `--engine auto|ort|native` of the commands that sample a GAN (sample-gan, validate gan, select-gan). */
import { Option } from "commander";
import { GAN_ENGINE_CHOICES } from "../gan-native-pool.js";
import { parseChoice } from "./option-parsers.js";

export function ganEngineOption(): Option {
  return new Option(
    "--engine <e>",
    "generator engine: native (our x86-64 kernels, cpu) | ort (ONNX Runtime) | auto (native where it runs)",
  )
    .choices(GAN_ENGINE_CHOICES as unknown as string[])
    .default("auto")
    .argParser(parseChoice(GAN_ENGINE_CHOICES));
}
