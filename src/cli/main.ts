#!/usr/bin/env node
// The `micrograd` program (see commands.ts); the exit status says how it went.
import { main } from "./commands.js";

process.exitCode = await main(process.argv.slice(2));
