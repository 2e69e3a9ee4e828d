// `micrograd export`: a saved model as a file other tools run: ONNX (an MLP or a GPT) for ONNX
// Runtime in any language, or a GPT's weights as safetensors for PyTorch.
// Exit status as the other commands: 0 written, 1 a file could not be read, exported or written,
// 2 the command line was wrong.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../node/files.js";
import { loadSavedModel, type SavedModel } from "../node/models.js";
import { SAFETENSORS_DTYPES, type SafetensorsDtype, toSafetensors } from "../onnx/safetensors.js";
import { count, includes, negativeValues } from "./flags.js";
import { loadWithinLimit, MAX_PARAMS } from "./limits.js";
import { recordInManifest } from "./output.js";

export const EXPORT_HELP = `micrograd export — write a saved model as ONNX (to run in ONNX Runtime) or safetensors

Usage: micrograd export --model FILE [--out FILE.onnx]
       micrograd export --model GPT_FILE --format safetensors [--dtype float32|float64] [--out FILE.safetensors]

An MLP's ONNX graph takes raw features (input scaling saved with the model is part of the
graph) and returns "scores", "class" (as predict) and, for softmax and bce models,
"probabilities"; class names, the loss and the micrograd version are in its metadata.
A GPT's ONNX graph takes "tokens" (int64 [batch, time], time at most the block, BOS first)
and returns "logits" ([batch, time, vocab]) and "probabilities" (of the last position); the
vocabulary, BOS id, configuration and training notes are in its metadata.
A GPT's safetensors file holds its weights under stateDict()'s names, for PyTorch
(safetensors.torch.load_file), with the same metadata.

Options:
  --model FILE        a model.json written by micrograd train, demo or gpt train
  --out FILE          where to write (default: the model's path with .onnx or .safetensors
                      instead of .json); its extension chooses the format when --format is not given
  --format FORMAT     onnx (default) or safetensors (GPT models)
  --dtype TYPE        safetensors only: float32 (default) or float64
  --max-params N      refuse a model file with more parameters, before reading its weights
                      (default ${count(MAX_PARAMS)})`;

const FORMATS = ["onnx", "safetensors"] as const;
type Format = (typeof FORMATS)[number];
const FORMAT_NAMES: Record<Format, string> = { onnx: "ONNX", safetensors: "safetensors" };

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Runs `micrograd export` with `args` (after the command name) and returns the exit status. */
export async function exportCommand(args: string[], io: Io): Promise<number> {
  const usage = (message: string) => {
    io.stderr.write(`micrograd: ${message}\nRun "micrograd export --help" for usage.\n`);
    return 2;
  };
  let values: {
    model?: string;
    out?: string;
    format?: string;
    dtype?: string;
    "max-params"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: negativeValues(args),
      options: {
        model: { type: "string" },
        out: { type: "string" },
        format: { type: "string" },
        dtype: { type: "string" },
        "max-params": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    io.stdout.write(`${EXPORT_HELP}\n`);
    return 0;
  }
  if (values.model === undefined) return usage("--model FILE is required");
  for (const flag of ["model", "out"] as const) {
    const text = values[flag];
    if (text !== undefined && text.trim() === "")
      return usage(`--${flag} needs a path, got ${JSON.stringify(text)}`);
  }
  const modelPath = values.model;
  const outExtension = values.out === undefined ? undefined : extname(values.out).toLowerCase().slice(1);
  if (values.format !== undefined && !includes(FORMATS, values.format)) {
    return usage(`--format must be ${FORMATS.join(" or ")}, got ${JSON.stringify(values.format)}`);
  }
  const format: Format =
    (values.format as Format | undefined) ??
    (outExtension !== undefined && includes(FORMATS, outExtension) ? outExtension : "onnx");
  if (outExtension !== undefined && outExtension !== format) {
    return usage(
      values.format === undefined
        ? `--out ${values.out}: the file must end in .onnx or .safetensors`
        : `--out ${values.out} does not end in .${format}, the extension of --format ${format}`,
    );
  }
  if (values.dtype !== undefined && format !== "safetensors") {
    return usage("--dtype is for --format safetensors; an ONNX graph is float32");
  }
  const dtype = values.dtype ?? "float32";
  if (!includes(SAFETENSORS_DTYPES, dtype)) {
    return usage(`--dtype must be ${SAFETENSORS_DTYPES.join(" or ")}, got ${JSON.stringify(dtype)}`);
  }
  const maxParams = values["max-params"] === undefined ? MAX_PARAMS : Number(values["max-params"]);
  if (!(Number.isInteger(maxParams) && maxParams >= 1)) {
    return usage(
      `--max-params must be a whole number of at least 1, got ${JSON.stringify(values["max-params"])}`,
    );
  }
  const out = resolve(values.out ?? join(dirname(modelPath), `${basename(modelPath, ".json")}.${format}`));
  if (out === resolve(modelPath)) return usage("--out is the model file itself; choose another path");

  try {
    if (existsSync(out) && statSync(out).isDirectory()) {
      throw new Error(`${out} is a folder; choose another --out`);
    }
    const saved = loadWithinLimit({ "max-params": maxParams }, (maxParameters) =>
      loadSavedModel(modelPath, { maxParameters }),
    );
    let written: { bytes: Uint8Array; summary: string };
    try {
      written = format === "onnx" ? await onnxFile(saved) : safetensorsFile(saved, modelPath, dtype);
    } catch (error) {
      throw new Error(
        `${modelPath}: cannot be exported to ${FORMAT_NAMES[format]}: ${(error as Error).message}`,
      );
    }
    writeFileAtomic(out, written.bytes);
    // Beside a run's model.json, the next run there removes it with the model it was made from.
    recordInManifest(out);
    io.stdout.write(`wrote ${out} (${written.bytes.length} bytes): ${written.summary}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`micrograd: ${(error as Error).message}\n`);
    return 1;
  }
}

async function onnxFile(saved: SavedModel): Promise<{ bytes: Uint8Array; summary: string }> {
  const { onnxOutputNames, toOnnx } = await loadOnnxWriter();
  if (saved.kind === "mlp") {
    const { model, metadata } = saved;
    const bytes = toOnnx(model, metadata);
    return { bytes, summary: `input [batch, ${model.nin}] → ${onnxOutputNames(model, metadata).join(", ")}` };
  }
  const { gpt, tokenizer, notes } = saved;
  const bytes = toOnnx(gpt, { tokenizer, notes });
  const outputs = onnxOutputNames(gpt).join(", ");
  return { bytes, summary: `tokens [batch, time ≤ ${gpt.config.blockSize}] → ${outputs}` };
}

function safetensorsFile(
  saved: SavedModel,
  modelPath: string,
  dtype: SafetensorsDtype,
): { bytes: Uint8Array; summary: string } {
  if (saved.kind === "mlp") {
    throw new Error(
      `this is an MLP; safetensors export is for GPT models (an MLP exports as ONNX: micrograd export --model ${modelPath})`,
    );
  }
  const { gpt, tokenizer, notes } = saved;
  const bytes = toSafetensors(gpt, { tokenizer, notes, dtype });
  const tensors = gpt.namedParameters().length;
  return { bytes, summary: `${tensors} tensors, ${count(gpt.parameters().length)} weights in ${dtype}` };
}

/** micrograd/onnx needs the optional package @bufbuild/protobuf. */
async function loadOnnxWriter(): Promise<typeof import("../onnx/index.js")> {
  try {
    return await import("../onnx/index.js");
  } catch (error) {
    throw new Error(
      `ONNX export needs the optional package @bufbuild/protobuf: npm install @bufbuild/protobuf (${(error as Error).message})`,
    );
  }
}
