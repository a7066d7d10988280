/**
 * GAN model files: an exported (untrained) generator loads with its card, its weights JSON
 * rebuilds the same network, and each way a model can be wrong is refused with one error naming
 * the file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { ganArchitecture } from "../../src/models/gan/architecture.js";
import { initialGanWeights } from "../../src/models/gan/gan-weights.js";
import { parseGanWeightsJson } from "../../src/models/gan/gan-weights-json.js";
import { cardArchitecture, type GanCard } from "../../src/models/gan/gan-card.js";
import { ganWeightsPathFor, loadGanModel } from "../../src/io/gan-model-file.js";
import { cardPathFor } from "../../src/io/model-file.js";
import { writeUntrainedGan } from "../gan-fixture.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gan-model-"));
const onnx = path.join(dir, "gan.onnx");
let card: GanCard;

beforeAll(async () => {
  await tf.setBackend("cpu");
  const arch = ganArchitecture({ filters: [8, 4, 1], latentDim: 6, conditional: false });
  card = await writeUntrainedGan(tf, arch, onnx, 2, "test-gan");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function copyModel(name: string): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  for (const f of [onnx, cardPathFor(onnx), ganWeightsPathFor(onnx)])
    fs.copyFileSync(f, path.join(d, path.basename(f)));
  return path.join(d, "gan.onnx");
}

test("an exported GAN loads; its card records architecture, prior, κ and parity; weights JSON round-trips", async () => {
  const m = await loadGanModel(onnx);
  expect(m.card.architecture).toEqual({
    preset: "custom",
    filters: [8, 4, 1],
    latentDim: 6,
    conditional: false,
    side: 16,
  });
  expect(m.card.parity?.maxAbsDifference).toBeLessThanOrEqual(1e-5);
  const arch = cardArchitecture(card);
  const parsed = parseGanWeightsJson(fs.readFileSync(ganWeightsPathFor(onnx), "utf8"), arch);
  if ("problem" in parsed) throw new Error(parsed.problem);
  const again = initialGanWeights(arch, 2);
  for (const [name, w] of again)
    expect(Array.from(parsed.weights.get(name)?.weight ?? [])).toEqual(Array.from(w.weight));
});

test("damaged or mismatched models are refused with one error naming the file", async () => {
  const corrupt = copyModel("corrupt");
  const bytes = fs.readFileSync(corrupt);
  bytes[bytes.length - 10] ^= 0xff;
  fs.writeFileSync(corrupt, bytes);
  await expect(loadGanModel(corrupt)).rejects.toThrow(
    /corrupt\/gan\.onnx: sha256 .* differs from the card's/,
  );

  const wrongLatent = copyModel("latent");
  const c = JSON.parse(fs.readFileSync(cardPathFor(wrongLatent), "utf8")) as GanCard;
  c.architecture.latentDim = 7;
  fs.writeFileSync(cardPathFor(wrongLatent), JSON.stringify(c));
  await expect(loadGanModel(wrongLatent)).rejects.toThrow(/card and graph disagree: a latent of width 7/);

  const wrongSide = copyModel("side");
  const c2 = JSON.parse(fs.readFileSync(cardPathFor(wrongSide), "utf8")) as GanCard;
  c2.architecture.side = 32;
  fs.writeFileSync(cardPathFor(wrongSide), JSON.stringify(c2));
  await expect(loadGanModel(wrongSide)).rejects.toThrow(/'architecture.side' is 32, the filters give 16/);

  const weights = copyModel("weights");
  fs.appendFileSync(ganWeightsPathFor(weights), " ");
  await expect(loadGanModel(weights)).rejects.toThrow(
    /weights\/gan\.weights\.json: sha256 .* \(damaged or replaced\)/,
  );

  const noCard = copyModel("nocard");
  fs.rmSync(cardPathFor(noCard));
  await expect(loadGanModel(noCard)).rejects.toThrow(/model card .* not found/);

  const notOnnx = copyModel("notonnx");
  fs.writeFileSync(notOnnx, "hello");
  const c3 = JSON.parse(fs.readFileSync(cardPathFor(notOnnx), "utf8")) as GanCard;
  c3.sha256 = (await import("../../src/io/model-file.js")).sha256Hex(Buffer.from("hello"));
  fs.writeFileSync(cardPathFor(notOnnx), JSON.stringify(c3));
  await expect(loadGanModel(notOnnx)).rejects.toThrow(/not a valid ONNX model/);

  const cond = copyModel("cond");
  const c4 = JSON.parse(fs.readFileSync(cardPathFor(cond), "utf8")) as GanCard;
  c4.architecture.conditional = true;
  fs.writeFileSync(cardPathFor(cond), JSON.stringify(c4));
  await expect(loadGanModel(cond)).rejects.toThrow(/'redshiftRange' must be \[zMin, zMax\]/);

  const scores = copyModel("scores");
  const c5 = JSON.parse(fs.readFileSync(cardPathFor(scores), "utf8")) as Record<string, unknown>;
  c5.validation = { "heldout.meanPower.value": "0.1" };
  fs.writeFileSync(cardPathFor(scores), JSON.stringify(c5));
  await expect(loadGanModel(scores)).rejects.toThrow(/'validation' must be an object of numbers/);
  c5.validation = { "heldout.meanPower.value": 0.1 };
  fs.writeFileSync(cardPathFor(scores), JSON.stringify(c5));
  expect((await loadGanModel(scores)).card.validation).toEqual({ "heldout.meanPower.value": 0.1 });
});
