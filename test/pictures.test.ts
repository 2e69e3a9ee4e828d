// writeTrainingPictures: every picture it can make is written, and one that fails is reported
// without taking the others with it.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeMoons } from "../src/data.js";
import { MLP } from "../src/nn.js";
import { writeTrainingPictures } from "../src/node/pictures.js";

describe("writeTrainingPictures", () => {
  const data = makeMoons({ nSamples: 20, seed: 1 });
  const model = new MLP(2, [4, 1], { seed: 1 });

  it("reports a picture that fails and writes the others", async () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-pictures-"));
    const failures: string[] = [];
    // An empty history cannot be drawn as curves: curves.svg fails, and curves.png with it.
    const written = await writeTrainingPictures(dir, {
      model,
      data,
      history: [],
      onError: (name, error) => failures.push(`${name}: ${error.message}`),
    });
    expect(failures).toEqual([
      "curves.svg: trainingCurvesSvg: the history is empty (train for at least one step)",
      "curves.png: curves.svg could not be made, so there is nothing to rasterise",
    ]);
    expect(written).toEqual([join(dir, "boundary.svg"), join(dir, "boundary.png")]);
    expect(readdirSync(dir).sort()).toEqual(["boundary.png", "boundary.svg"]);
  });

  it("without onError, writes the others and then names the pictures that failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "micrograd-pictures-"));
    await expect(writeTrainingPictures(dir, { model, data, history: [] })).rejects.toThrow(
      "writeTrainingPictures: could not make curves.svg (trainingCurvesSvg: the history is empty (train for at least one step)), curves.png (curves.svg could not be made, so there is nothing to rasterise); the other pictures were written",
    );
    expect(readdirSync(dir).sort()).toEqual(["boundary.png", "boundary.svg"]);
  });
});
