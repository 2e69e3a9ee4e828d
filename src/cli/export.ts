// `micrograd export`: a saved model as an ONNX file, for ONNX Runtime in any language.
// Exit status as the other commands: 0 written, 1 a file could not be read, exported or written,
// 2 the command line was wrong.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../node/files.js";
import { loadModel } from "../node/models.js";
import { GPT_MODEL_HINT, negativeValues } from "./flags.js";
import { recordInManifest } from "./output.js";

export const EXPORT_HELP = `micrograd export — write a saved model as ONNX, to run in ONNX Runtime

Usage: micrograd export --model FILE [--out FILE.onnx]

The ONNX graph takes raw features (input scaling saved with the model is part of the graph)
and returns "scores", "class" (as predict) and, for softmax and bce models, "probabilities".
Class names, the loss and the micrograd version are stored in its metadata.

Options:
  --model FILE        a model.json written by micrograd train or demo
  --out FILE.onnx     where to write (default: the model's path with .onnx instead of .json)`;

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
  let values: { model?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: negativeValues(args),
      options: {
        model: { type: "string" },
        out: { type: "string" },
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
  const out = resolve(values.out ?? join(dirname(modelPath), `${basename(modelPath, ".json")}.onnx`));
  if (extname(out).toLowerCase() !== ".onnx") return usage(`--out ${values.out}: the file must end in .onnx`);
  if (out === resolve(modelPath)) return usage("--out is the model file itself; choose another path");

  try {
    if (existsSync(out) && statSync(out).isDirectory()) {
      throw new Error(`${out} is a folder; choose another --out`);
    }
    const { model, metadata } = loadModel(modelPath, { otherKind: GPT_MODEL_HINT });
    const { onnxOutputNames, toOnnx } = await loadOnnxWriter();
    let bytes: Uint8Array;
    try {
      bytes = toOnnx(model, metadata);
    } catch (error) {
      throw new Error(`${modelPath}: cannot be exported to ONNX: ${(error as Error).message}`);
    }
    writeFileAtomic(out, bytes);
    // Beside a run's model.json, the next run there removes it with the model it was made from.
    recordInManifest(out);
    const outputs = onnxOutputNames(model, metadata);
    io.stdout.write(
      `wrote ${out} (${bytes.length} bytes): input [batch, ${model.nin}] → ${outputs.join(", ")}\n`,
    );
    return 0;
  } catch (error) {
    io.stderr.write(`micrograd: ${(error as Error).message}\n`);
    return 1;
  }
}

/** micrograd/onnx needs the optional packages onnx-buf and @bufbuild/protobuf. */
async function loadOnnxWriter(): Promise<typeof import("../onnx/index.js")> {
  try {
    return await import("../onnx/index.js");
  } catch (error) {
    throw new Error(
      `export needs the optional packages onnx-buf and @bufbuild/protobuf: npm install onnx-buf @bufbuild/protobuf (${(error as Error).message})`,
    );
  }
}
