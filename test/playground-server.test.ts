// The playground's static server: which paths it will serve, and the real server answering
// requests, including raw ones that fetch would have normalized before sending.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRequestPath, startServer } from "../playground/serve.js";

const root = resolve("/srv/playground");

describe("resolveRequestPath", () => {
  it("maps ordinary paths inside the root", () => {
    expect(resolveRequestPath(root, "/")).toBe(root);
    expect(resolveRequestPath(root, "/index.html")).toBe(join(root, "index.html"));
    expect(resolveRequestPath(root, "/chunks/viz-AB12.js")).toBe(join(root, "chunks", "viz-AB12.js"));
    expect(resolveRequestPath(root, "/main.js?v=2#top")).toBe(join(root, "main.js"));
    expect(resolveRequestPath(root, "/a%20b.txt")).toBe(join(root, "a b.txt"));
    expect(resolveRequestPath(root, "/chunks//x.js")).toBe(join(root, "chunks", "x.js"));
  });

  it.each([
    "/../package.json",
    "/../../etc/passwd",
    "/chunks/../../package.json",
    "/chunks/../index.html",
    "/./index.html",
    "/..",
    "/%2e%2e/package.json",
    "/%2E%2E/package.json",
    "/.%2e/package.json",
    "/chunks/%2e%2e/%2e%2e/package.json",
    "/..%2fpackage.json",
    "/%2e%2e%2fpackage.json",
    "/chunks%2F..%2F..%2Fpackage.json",
    "/..%5cpackage.json",
    "/..\\package.json",
    "/\\etc\\passwd",
    "/index.html%00.png",
    "/index.html\0",
    "/.git/config",
    "/.env",
    "//etc/passwd",
    "/C:/Windows/win.ini",
    "etc/passwd",
    "",
    "http://example.com/index.html",
    "/%E0%A4%A",
  ])("refuses %j", (urlPath) => {
    expect(resolveRequestPath(root, urlPath)).toBeNull();
  });

  it("never returns a path outside the root, whatever the input", () => {
    const pieces = ["..", ".", "%2e", "%2E", "%2f", "/", "\\", "a", "%", "%00", "index.html", "~", ":"];
    for (let i = 0; i < 3000; i++) {
      let path = "/";
      for (let k = 0; k < 1 + (i % 6); k++) path += pieces[(i * 7 + k * 13 + k * k * i) % pieces.length];
      const file = resolveRequestPath(root, path);
      if (file !== null) expect(file === root || file.startsWith(`${root}/`), path).toBe(true);
    }
  });
});

describe("the server", () => {
  let server: Server;
  let base: string;
  let port: number;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "playground-serve-"));
    const site = join(folder, "site");
    mkdirSync(join(site, "chunks"), { recursive: true });
    mkdirSync(join(site, "empty"));
    writeFileSync(join(site, "index.html"), "<!doctype html><title>home</title>");
    writeFileSync(join(site, "main.js"), "console.log(1);");
    writeFileSync(join(site, "style.css"), "body{}");
    writeFileSync(join(site, "chunks", "index.html"), "chunk index");
    writeFileSync(join(site, "data.bin"), "raw");
    writeFileSync(join(folder, "secret.txt"), "do not serve");
    symlinkSync(join(folder, "secret.txt"), join(site, "link.txt"));
    ({ server, url: base } = await startServer({ root: site, port: 0 }));
    port = Number(new URL(base).port);
  });

  afterAll(() => {
    server?.close();
  });

  /** Sends the request line exactly as written, since fetch would resolve `..` before sending. */
  function raw(requestLine: string): Promise<{ status: number; text: string }> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect(port, "127.0.0.1");
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk) => {
        text += chunk;
      });
      socket.on("end", () => resolvePromise({ status: Number(text.split(" ")[1]), text }));
      socket.on("error", reject);
      socket.write(`${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
  }

  it("listens on 127.0.0.1 on the port it was given (0: any free one)", () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(port).toBeGreaterThan(0);
  });

  it("serves files with their content types", async () => {
    const cases: [string, string, string][] = [
      ["", "text/html; charset=utf-8", "<title>home</title>"],
      ["index.html", "text/html; charset=utf-8", "<title>home</title>"],
      ["main.js", "text/javascript; charset=utf-8", "console.log(1);"],
      ["style.css", "text/css; charset=utf-8", "body{}"],
      ["data.bin", "application/octet-stream", "raw"],
    ];
    for (const [path, type, body] of cases) {
      const response = await fetch(new URL(path, base));
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe(type);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).toContain(body);
    }
  });

  it("answers HEAD without a body", async () => {
    const response = await fetch(new URL("main.js", base), { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("15");
    expect(await response.text()).toBe("");
  });

  it("serves a directory's index.html and never lists a directory", async () => {
    expect(await (await fetch(new URL("chunks/", base))).text()).toBe("chunk index");
    expect((await fetch(new URL("chunks", base))).status).toBe(200);
    const empty = await fetch(new URL("empty/", base));
    expect(empty.status).toBe(404);
    expect(await empty.text()).not.toContain("index.html");
  });

  it("404 for missing files, encoded traversal and links that leave the folder", async () => {
    for (const path of ["nothing.js", "%2e%2e/secret.txt", "..%2fsecret.txt", "link.txt", "index.html%00"]) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
  });

  it.each([
    "GET /../secret.txt",
    "GET /../../../../etc/passwd",
    "GET /chunks/../../secret.txt",
    "GET /%2e%2e/secret.txt",
    "GET /..%2f..%2fsecret.txt",
    "GET /..\\secret.txt",
    "GET //etc/passwd",
    "GET /etc/passwd",
    "GET http://127.0.0.1/../secret.txt",
    "GET *",
  ])("404 for the raw request %j", async (line) => {
    const response = await raw(line);
    expect(response.status).toBe(404);
    expect(response.text).not.toContain("do not serve");
    expect(response.text).not.toContain("root:");
  });

  it("405 for methods other than GET and HEAD", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await fetch(base, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
    expect((await raw("TRACE /")).status).toBe(405);
  });
  it("sends the headers that make the pages cross-origin isolated, with every answer", async () => {
    const answers = [
      await fetch(base),
      await fetch(new URL("main.js", base)),
      await fetch(new URL("main.js", base), { method: "HEAD" }),
      await fetch(new URL("nothing.js", base)),
      await fetch(base, { method: "POST" }),
    ];
    for (const response of answers) {
      expect(response.headers.get("cross-origin-opener-policy"), response.url).toBe("same-origin");
      expect(response.headers.get("cross-origin-embedder-policy"), response.url).toBe("require-corp");
    }
  });

  it("leaves them out when asked to serve as a plain static host does", async () => {
    const plain = await startServer({ root: join(folder, "site"), port: 0, isolate: false });
    try {
      const response = await fetch(new URL("main.js", plain.url));
      expect(response.status).toBe(200);
      expect(response.headers.get("cross-origin-opener-policy")).toBeNull();
      expect(response.headers.get("cross-origin-embedder-policy")).toBeNull();
    } finally {
      plain.server.close();
    }
  });
});
