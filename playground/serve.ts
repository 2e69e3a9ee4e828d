// Builds the playground and serves playground/dist on http://127.0.0.1:8080/.
// Only GET and HEAD; only files inside the folder (anything that could climb out of it is a
// 404); a directory serves its index.html or nothing, never a listing. Every response isolates
// the pages (ISOLATION_HEADERS), so that the GPT page may train on several cores.
//
//   tsx playground/serve.ts [--port 8080] [--host 127.0.0.1] [--no-build] [--no-isolation]
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { buildPlayground, DIST_DIR } from "./build.js";

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Sent with every response, they make the pages cross-origin isolated: only then does a browser
 * let them share memory (SharedArrayBuffer) between workers, which the GPT page needs to train
 * on several. Every resource the pages load comes from this server, so require-corp blocks none.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export interface ServerOptions {
  /** The folder served (default: the build, playground/dist). */
  root?: string;
  /** Send ISOLATION_HEADERS (default true); false serves the pages as a plain static host does. */
  isolate?: boolean;
}

/**
 * The file under `root` that the request target `urlPath` names, or null when the request
 * could reach outside `root` or is malformed: `..` or `.` segments (also percent-encoded),
 * encoded slashes and backslashes, NUL bytes, backslashes, a target that is not an absolute
 * path from the root (`http://…`, `//host/…`, `C:…`), and hidden files (a segment starting
 * with a dot). The file need not exist.
 */
export function resolveRequestPath(root: string, urlPath: string): string | null {
  if (typeof urlPath !== "string" || !urlPath.startsWith("/") || urlPath.startsWith("//")) return null;
  const pathPart = urlPath.replace(/[?#].*$/s, "");
  // Encoded separators and NUL would turn into structure after decoding: refuse them outright.
  if (/%(2f|5c|00)/i.test(pathPart) || pathPart.includes("\\") || pathPart.includes("\0")) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\") || /^\/[A-Za-z]:/.test(decoded)) return null;
  const segments = decoded.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment.startsWith("."))) return null;
  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (file !== base && !file.startsWith(base + sep)) return null;
  return file;
}

function send(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(text)),
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  response.end(response.req.method === "HEAD" ? undefined : text);
}

/** The file to send for `file`: itself, a directory's index.html, or null. Symbolic links may not leave root. */
async function servable(root: string, file: string): Promise<{ path: string; size: number } | null> {
  try {
    let info = await stat(file);
    let path = file;
    if (info.isDirectory()) {
      path = join(file, "index.html");
      info = await stat(path);
    }
    if (!info.isFile()) return null;
    const real = await realpath(path);
    const realRoot = await realpath(root);
    if (!real.startsWith(realRoot + sep)) return null;
    return { path, size: info.size };
  } catch {
    return null;
  }
}

export function createPlaygroundServer(options: ServerOptions = {}): Server {
  const { root = DIST_DIR, isolate = true } = options;
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    // Merged into whatever the response's writeHead sends: a file, a 404, a 405, a 500.
    if (isolate)
      for (const [name, value] of Object.entries(ISOLATION_HEADERS)) response.setHeader(name, value);
    void handle(root, request, response).catch(() => {
      if (!response.headersSent) send(response, 500, "Internal server error\n");
      else response.destroy();
    });
  });
}

async function handle(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(response, 405, "Method not allowed\n", { Allow: "GET, HEAD" });
    return;
  }
  const file = resolveRequestPath(root, request.url ?? "");
  const found = file === null ? null : await servable(root, file);
  if (!found) {
    send(response, 404, "Not found\n");
    return;
  }
  response.writeHead(200, {
    "Content-Type": CONTENT_TYPES[extname(found.path).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": String(found.size),
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  createReadStream(found.path)
    .on("error", () => response.destroy())
    .pipe(response);
}

/** Starts serving `root`; resolves with the server and its address once it listens. */
export function startServer(
  options: ServerOptions & { port?: number; host?: string } = {},
): Promise<{ server: Server; url: string }> {
  const { port = 8080, host = "127.0.0.1" } = options;
  const server = createPlaygroundServer(options);
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolvePromise({ server, url: `http://${shownHost}:${address.port}/` });
    });
  });
}

const USAGE = `Usage: tsx playground/serve.ts [--port N] [--host ADDRESS] [--no-build] [--no-isolation]

Builds the playground into playground/dist and serves it.
  --port N          port to listen on (default 8080; 0 picks a free one)
  --host ADDRESS    address to bind (default 127.0.0.1, this machine only)
  --no-build        serve the existing build
  --no-isolation    leave out the headers that make the pages cross-origin isolated,
                    as a plain static host does (the GPT page then trains in one worker)
`;

async function main(): Promise<void> {
  let values: {
    port?: string;
    host?: string;
    "no-build"?: boolean;
    "no-isolation"?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "no-build": { type: "boolean" },
        "no-isolation": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port: expected a port number 0..65535, got ${values.port}\n`);
    process.exit(2);
  }
  const host = values.host ?? "127.0.0.1";
  if (!values["no-build"]) await buildPlayground();
  try {
    const { url } = await startServer({ port, host, isolate: !values["no-isolation"] });
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
      console.warn(`Warning: listening on ${host}, so other machines may reach the playground.`);
    }
    console.log(`micrograd playground: ${url}  (Ctrl+C to stop)`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === "EADDRINUSE" ? ` (port ${port} is taken; try --port 0)` : "";
    process.stderr.write(`Could not listen on ${host}:${port}: ${(error as Error).message}${hint}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
