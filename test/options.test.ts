// Options misspelt in plain JavaScript are refused everywhere options are taken, naming the
// nearest valid key, instead of being ignored while the default is used.
import { describe, expect, it } from "vitest";
import {
  Adam,
  CharTokenizer,
  checkOptions,
  compile,
  createRandom,
  evaluate,
  evaluateGPT,
  fit,
  GPT,
  gradcheck,
  hessian,
  MLP,
  makeBlobs,
  makeCircles,
  makeDataset,
  makeMoons,
  makeSpiral,
  makeXor,
  parseCsv,
  predict,
  SGD,
  sampleText,
  splitDocumentsForTraining,
  Trainer,
  textDataset,
  trainGPT,
  trainTestSplit,
  Value,
} from "../src/index.js";
import { loadGPT, loadModel, readTextFile } from "../src/node.js";
import { nearestKey } from "../src/options.js";
import {
  attentionSvg,
  decisionBoundarySvg,
  lossCurveSvg,
  toDot,
  trainingCurvesSvg,
} from "../src/viz/index.js";

// Each call passes one wrong key; the message names the function, the key and the suggestion.
const bad = <T>(options: object) => options as T;

describe("checkOptions", () => {
  it("names the nearest key when one is close, and lists the options", () => {
    const keys = { steps: true, epochs: true, batchSize: true } as const;
    expect(() => checkOptions("f", bad({ step: 3 }), keys)).toThrow(
      'f: unknown option "step"; did you mean "steps"? (the options are steps, epochs, batchSize)',
    );
    expect(() => checkOptions("f", bad({ batchsize: 3 }), keys)).toThrow('did you mean "batchSize"?');
    // Nothing near: no guess, only the list.
    expect(() => checkOptions("f", bad({ colour: "red" }), keys)).toThrow(
      'f: unknown option "colour" (the options are steps, epochs, batchSize)',
    );
    expect(checkOptions("f", undefined, keys)).toEqual({});
    expect(checkOptions("f", { steps: 1, epochs: undefined }, keys)).toEqual({ steps: 1, epochs: undefined });
  });

  it("refuses options that are not an object", () => {
    for (const [given, what] of [
      [3, "a number"],
      [null, "null"],
      [[1], "an array"],
      ["fast", "a string"],
    ] as const) {
      expect(() => checkOptions<{ steps?: number }>("f", given as never, { steps: true })).toThrow(
        `f: options must be an object such as { steps: … }, got ${what}`,
      );
    }
  });

  it("suggests within a third of the name's length", () => {
    expect(nearestKey("momentun", ["lr", "momentum", "weightDecay"])).toBe("momentum");
    expect(nearestKey("activaton", ["activation", "outputActivation", "init", "seed"])).toBe("activation");
    expect(nearestKey("nSample", ["nSamples", "noise", "seed"])).toBe("nSamples");
    expect(nearestKey("x", ["seed", "lr"])).toBeUndefined();
    expect(nearestKey("temp", ["temperature", "n"])).toBeUndefined();
  });
});

describe("every function that takes options refuses a misspelt one", () => {
  const data = makeMoons({ nSamples: 20, seed: 1 });
  const model = () => new MLP(2, [4, 1], { seed: 1 });
  const tokenizer = new CharTokenizer(["a", "b"]);
  const gpt = () => new GPT({ vocabSize: tokenizer.vocabSize, nEmbd: 4, nHead: 1, blockSize: 4, seed: 1 });
  const documents = [[2, 0, 1, 2]];
  const cases: [string, () => unknown, string][] = [
    ["fit", () => fit(model(), data, bad({ step: 3 })), "steps"],
    ["evaluate", () => evaluate(model(), data, bad({ compiled: false })), "compile"],
    ["scores", () => predict(model(), data.X, bad({ compiled: false })), "compile"],
    ["MLP", () => new MLP(2, [4, 1], bad({ activaton: "tanh" })), "activation"],
    ["SGD", () => new SGD(model().parameters(), bad({ momentun: 0.9 })), "momentum"],
    ["Adam", () => new Adam(model().parameters(), bad({ beta: [0.9, 0.99] })), "betas"],
    ["makeMoons", () => makeMoons(bad({ nSample: 1000 })), "nSamples"],
    ["makeCircles", () => makeCircles(bad({ factr: 0.3 })), "factor"],
    ["makeBlobs", () => makeBlobs(bad({ center: 4 })), "centers"],
    ["makeSpiral", () => makeSpiral(bad({ nClass: 3 })), "nClasses"],
    ["makeXor", () => makeXor(bad({ noice: 0.1 })), "noise"],
    ["makeMoons", () => makeDataset("moons", bad({ nSamles: 10 })), "nSamples"],
    ["trainTestSplit", () => trainTestSplit(data, bad({ testsize: 0.5 })), "testSize"],
    ["parseCsv", () => parseCsv("1,a\n2,b\n", bad({ maxrows: 3 })), "maxRows"],
    ["trainGPT", () => trainGPT(gpt(), documents, bad({ step: 1 })), "steps"],
    ["evaluateGPT", () => evaluateGPT(gpt(), documents, bad({ compiled: false })), "compile"],
    ["sampleText", () => sampleText(gpt(), tokenizer, bad({ temprature: 1 })), "temperature"],
    ["splitDocumentsForTraining", () => splitDocumentsForTraining([1, 2], bad({ heldout: 0.5 })), "heldOut"],
    ["GPT", () => new GPT(bad({ vocabSize: 3, nLayers: 2 })), "nLayer"],
    [
      "generate",
      () => gpt().generate(bad({ bos: 2, random: createRandom(1), temperture: 0.5 })),
      "temperature",
    ],
    ["compile", () => compile((x: Value) => x, bad({ maxTrace: 2 })), "maxTraces"],
    ["gradcheck", () => gradcheck((x) => x, [1], bad({ rTol: 1e-3 })), "rtol"],
    ["hessian", () => hessian((x) => x, [1], bad({ creatGraph: true })), "createGraph"],
    ["readTextFile", () => readTextFile("package.json", bad({ maxByte: 10 })), "maxBytes"],
    ["loadModel", () => loadModel("package.json", bad({ otherkind: "x" })), "otherKind"],
    ["loadGPT", () => loadGPT("package.json", bad({ otherKnd: "x" })), "otherKind"],
    ["toDot", () => toDot(new Value(1), bad({ rankDir: "TB" })), "rankdir"],
    ["decisionBoundarySvg", () => decisionBoundarySvg(model(), data, bad({ widht: 100 })), "width"],
    [
      "trainingCurvesSvg",
      () => trainingCurvesSvg([{ step: 0, loss: 1, accuracy: 0.5 }], bad({ titel: "t" })),
      "title",
    ],
    ["attentionSvg", () => attentionSvg([[[1]]], ["a"], bad({ cells: 10 })), "cell"],
    ["lossCurveSvg", () => lossCurveSvg([1, 2], bad({ heldout: 1 })), "heldOut"],
    ["textDataset", () => textDataset("abcabc", bad({ heldOUT: 0.5 })), "heldOut"],
    [
      "Trainer",
      () => new Trainer(bad<never>({ optimizer: new SGD(model().parameters()), clips: 1 })),
      "clip",
    ],
  ];
  for (const [where, call, nearest] of cases) {
    it(`${where}: suggests "${nearest}"`, () => {
      expect(call).toThrow(new RegExp(`^${where}: unknown option "\\w+"; did you mean "${nearest}"\\?`));
    });
  }
});
