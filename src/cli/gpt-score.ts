// `micrograd gpt score`: how surprised a saved GPT is by each character of a string, printed as
// log-probabilities and drawn as the text with each character shaded by its surprise.
import { characterLogProbabilities } from "../scoring.js";
import { surpriseSvg } from "../viz/surprise.js";
import {
  type Command,
  count,
  type FlagTable,
  GPT_MODEL_FLAG,
  helpText,
  type Io,
  parseFlags,
  printHelp,
  required,
  UsageError,
} from "./flags.js";
import { loadGPTWithinLimit, MODEL_FILE_LIMIT_FLAG } from "./limits.js";
import { pictureOut, writePicture } from "./run.js";

/** Past the block each character is read with a fresh window: 2,000 of them take seconds. */
export const MAX_SCORED_CHARACTERS = 2000;
const OPTIONS = "Options";

export const GPT_SCORE = {
  name: "gpt score",
  intro:
    "micrograd gpt score — how surprised a saved GPT is by each character of a text\n\n" +
    'Usage: micrograd gpt score --model FILE [--out FILE] [--json] "some text"\n\n' +
    "Prints ln p of each character given the ones before it (a names model also predicts the end\n" +
    "of the name), and draws the text with each character shaded by its surprise, −log₂ p.",
  positionals: true,
  flags: {
    model: GPT_MODEL_FLAG,
    out: {
      kind: "path",
      value: "FILE",
      section: OPTIONS,
      help: "the picture: .svg or .png (default score.svg)",
    },
    json: {
      kind: "switch",
      section: OPTIONS,
      help: "print JSON instead of a table (the picture is still drawn)",
    },
    ...MODEL_FILE_LIMIT_FLAG,
  },
} as const satisfies Command<FlagTable>;

export async function gptScore(args: string[], io: Io): Promise<number> {
  const { help, values, positionals } = parseFlags(GPT_SCORE, args);
  if (help) return printHelp(helpText(GPT_SCORE), io);
  const modelPath = required(values.model, "--model FILE");
  if (positionals.length !== 1) {
    throw new UsageError(
      `give one text to score, in quotes; got ${positionals.length === 0 ? "none" : count(positionals.length)}`,
    );
  }
  const [text] = positionals;
  const length = Array.from(text).length;
  if (length === 0) throw new UsageError("the text to score is empty");
  if (length > MAX_SCORED_CHARACTERS) {
    throw new UsageError(
      `the text has ${count(length)} characters; gpt score reads at most ${count(MAX_SCORED_CHARACTERS)} (gpt eval measures a whole file)`,
    );
  }
  const picture = pictureOut(values.out, "score.svg");
  const out = picture.path;
  const { gpt, tokenizer, notes } = loadGPTWithinLimit(modelPath, values);
  // A names model reads BOS first and predicts the end too; a running-text model reads text
  // only, so its first character is read but not predicted.
  const lines = notes.text !== true;
  let scores: { character: string; logProbability: number }[];
  try {
    scores = characterLogProbabilities(gpt, tokenizer, text, { text: !lines });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(`the text to score: ${error.message}`);
  }
  const scored = scores.map(({ character }) => (character === "" ? END : character));
  const logProbabilities = scores.map(({ logProbability }) => logProbability);
  const total = logProbabilities.reduce((a, b) => a + b, 0);
  const characters = Array.from(text);
  // The end of a name as one mark in the picture; its own row in the table says "(end)".
  const svg = surpriseSvg(
    scored.map((c) => (c === END ? "∎" : c)),
    logProbabilities,
    {
      title: `surprise of ${modelPath.split(/[\\/]/).pop()} at each character (${(-total / Math.LN2 / scored.length).toFixed(2)} bits/char)`,
    },
  );
  if (!(await writePicture(io, picture, svg))) return 1;
  if (values.json) {
    const perCharacter = scored.map((character, i) => ({ character, logProbability: logProbabilities[i] }));
    io.stdout.write(
      `${JSON.stringify({ text, characters: perCharacter, logProbability: total, picture: out })}\n`,
    );
    return 0;
  }
  const rows = scored.map((character, i) => {
    const lp = logProbabilities[i];
    return `  ${(character === END ? END : JSON.stringify(character)).padEnd(6)} ${lp.toFixed(4).padStart(9)}  ${(-lp / Math.LN2).toFixed(2).padStart(6)} bits`;
  });
  io.stdout.write(
    `${lines ? "" : `(the first character, ${JSON.stringify(characters[0])}, is read, not predicted)\n`}` +
      `  char    ln p       surprise\n${rows.join("\n")}\n` +
      `total ln p ${total.toFixed(4)} over ${count(scored.length)} predictions: ${(-total / scored.length).toFixed(4)} nats, ${(-total / Math.LN2 / scored.length).toFixed(3)} bits per character\n` +
      `wrote ${out}\n`,
  );
  return 0;
}

/** The end of a name, as a names model predicts it. */
const END = "(end)";
