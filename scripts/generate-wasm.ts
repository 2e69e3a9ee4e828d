// Assembles each WebAssembly kernel's text (src/wasm/NAME.wat) into the module its TypeScript
// loads (src/wasm/NAME-bytes.ts, the bytes as base64). Run by `npm run generate:wasm` after
// editing a .wat; test/wasm.test.ts checks that the committed bytes are this script's output.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import wabt from "wabt";

const FOLDER = join(import.meta.dirname, "..", "src", "wasm");

/** The module that `source` (WebAssembly text) assembles to. */
export async function assemble(name: string, source: string): Promise<Uint8Array> {
  const tools = await wabt();
  const parsed = tools.parseWat(name, source, { simd: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

/** The TypeScript module that holds `bytes`, made from `name`.wat. */
export function bytesModule(name: string, bytes: Uint8Array): string {
  const base64 = Buffer.from(bytes).toString("base64");
  const lines = base64.match(/.{1,96}/g) ?? [];
  const constant = `${name.toUpperCase().replace(/-/g, "_")}_WASM`;
  return [
    `// Generated from ${name}.wat by \`npm run generate:wasm\` (scripts/generate-wasm.ts); do not edit.`,
    `export const ${constant} =`,
    ...lines.map((line, i) => `  "${line}"${i === lines.length - 1 ? ";" : " +"}`),
    "",
  ].join("\n");
}

if (process.argv[1] === import.meta.filename) {
  for (const file of readdirSync(FOLDER).filter((f) => f.endsWith(".wat"))) {
    const name = file.slice(0, -".wat".length);
    const bytes = await assemble(file, readFileSync(join(FOLDER, file), "utf8"));
    writeFileSync(join(FOLDER, `${name}-bytes.ts`), bytesModule(name, bytes));
    console.log(`src/wasm/${name}-bytes.ts: ${bytes.length} bytes`);
  }
}
