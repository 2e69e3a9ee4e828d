#!/usr/bin/env node
// The `micrograd` program (see commands.ts); the exit status says how it went.
import { main } from "./commands.js";

// Output piped into a program that stops reading early (`| head`) is not an error of ours: stop
// quietly, as Unix tools do, instead of a stack trace. The files were already written by then.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await main(process.argv.slice(2));
