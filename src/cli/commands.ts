// The `micrograd` program: reads the command and hands the rest of the line to its file.
// Exit status: 0 done, 1 a file or the training failed, 2 the command line was wrong.
import { readFileSync } from "node:fs";
import { DEMO_HELP, demo } from "./demo.js";
import { EXPORT_HELP, exportCommand } from "./export.js";
import { type Io, isUsageError, printHelp, reportUsageError, UsageError } from "./flags.js";
import { GPT_HELP, gptCommand } from "./gpt.js";
import { GRAPH_HELP, graph } from "./graph.js";
import { PREDICT_HELP, predictCommand } from "./predict.js";
import { TRAIN_HELP, train } from "./train.js";

const MAIN_HELP = `micrograd — a tiny autograd engine and neural-network library

Usage: micrograd <command> [options]

Commands:
  demo      train the classic moons demo and write its pictures
  train     train a network on a built-in data set or your own CSV file
  predict   classify inputs with a saved model
  graph     draw the computation graph of an expression
  export    write a saved model as ONNX (ONNX Runtime), or a GPT as safetensors (PyTorch)
  gpt       train a character-level GPT on names (or any text) and sample from it

Run "micrograd <command> --help" for the options of a command.
Options: --help, --version`;

const HELP: Record<string, string> = {
  demo: DEMO_HELP,
  train: TRAIN_HELP,
  predict: PREDICT_HELP,
  graph: GRAPH_HELP,
  export: EXPORT_HELP,
  gpt: GPT_HELP,
};

/** Runs the command line `argv` (without "node" and the script) and returns the exit status. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h": {
        const topic = rest[0];
        if (topic !== undefined && !(topic in HELP)) {
          throw new UsageError(`no help for "${topic}"; commands are ${Object.keys(HELP).join(", ")}`);
        }
        printHelp(topic === undefined ? MAIN_HELP : HELP[topic], io);
        return command === undefined ? 2 : 0;
      }
      case "--version":
      case "-v":
        io.stdout.write(`${readVersion()}\n`);
        return 0;
      case "demo":
        return await demo(rest, io);
      case "train":
        return await train(rest, io);
      case "predict":
        return predictCommand(rest, io);
      case "graph":
        return await graph(rest, io);
      case "export":
        return await exportCommand(rest, io);
      case "gpt":
        return await gptCommand(rest, io);
      default:
        throw new UsageError(`unknown command "${command}"; commands are ${Object.keys(HELP).join(", ")}`);
    }
  } catch (error) {
    if (isUsageError(error))
      return reportUsageError(io, error as Error, command in HELP ? command : undefined);
    io.stderr.write(`micrograd: ${(error as Error).message}\n`);
    return 1;
  }
}

function readVersion(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
