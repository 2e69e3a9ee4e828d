// The built `micrograd` program, spawned as a user would run it, for the command-line tests.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll } from "vitest";
import { MANIFEST } from "../src/cli/output.js";

export const root = join(import.meta.dirname, "..");
export const program = join(root, "dist", "cli", "main.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `micrograd args…`; `preload` and `heapMB` go to Node (a test hook, a smaller heap). */
export function micrograd(
  args: string[],
  options: { cwd?: string; preload?: string; heapMB?: number } = {},
): Promise<Run> {
  const node = [
    ...(options.preload ? ["--require", options.preload] : []),
    ...(options.heapMB ? [`--max-old-space-size=${options.heapMB}`] : []),
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...node, program, ...args],
      { cwd: options.cwd ?? root, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The files of a run's output folder, without the manifest that lists them. */
export const runFiles = (dir: string) => readdirSync(dir).filter((name) => name !== MANIFEST);

/** Fails the file's tests at once, with the remedy, when the program has not been built. */
export function requireBuild(): void {
  beforeAll(() => {
    if (!existsSync(program))
      throw new Error(`${program} is missing: run "npm run build" first (npm test does)`);
  });
}
