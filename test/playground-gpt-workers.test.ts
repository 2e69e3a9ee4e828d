// The GPT page training on several Web Workers, in a real browser (Debian's chromium driven by
// playwright-core): cross-origin isolated under the playground's server, the same losses, bit
// for bit, on one worker and on two, the workers closed when the model is replaced, and the
// one-worker path when the page is served without the isolating headers.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page, type Worker } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlayground } from "../playground/build.js";
import { startServer } from "../playground/serve.js";

const root = join(import.meta.dirname, "..");
/** How long a poll waits for the worker: a new model or new workers take a moment on a busy machine. */
const LOADED = { timeout: 20_000 };
/** Steps compared between runs. */
const STEPS = 6;

let browser: Browser;
const servers: Server[] = [];
/** The losses of the first steps on one Web Worker, which the one-worker path is compared with. */
let oneWorker: number[] = [];

beforeAll(async () => {
  execFileSync("bash", [join(root, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
  await buildPlayground();
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
});

/** The GPT page, served with or without the isolating headers, with what it loads and logs. */
async function openPage(isolate: boolean, root?: string) {
  const { server, url } = await startServer({ port: 0, isolate, root });
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  const failed: string[] = [];
  const responses: { url: string; status: number; headers: Record<string, string> }[] = [];
  /** The Web Workers that share the steps, as they start; each is removed when it closes. */
  const poolWorkers = new Set<Worker>();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("requestfailed", (request) => failed.push(request.url()));
  page.on("response", (response) =>
    responses.push({ url: response.url(), status: response.status(), headers: response.headers() }),
  );
  page.on("worker", (worker) => {
    if (!worker.url().endsWith("/gpt-pool-worker.js")) return;
    poolWorkers.add(worker);
    worker.on("close", () => poolWorkers.delete(worker));
  });
  await page.goto(`${url}gpt.html`);
  await page.waitForFunction(() => document.querySelectorAll("#samples li").length > 0, undefined, LOADED);
  return { page, errors, failed, responses, poolWorkers };
}

const stepCount = async (page: Page) => Number(await page.getAttribute("#step-count", "data-step"));

/** Types `text` into a field and leaves it, as a user does. */
async function enter(page: Page, id: string, text: string): Promise<void> {
  await page.fill(`#${id}`, text);
  await page.dispatchEvent(`#${id}`, "change");
}

/** Presses Step `count` times; returns each step's loss, exactly as the page shows it. */
async function stepLosses(page: Page, count: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < count; i++) {
    const before = await stepCount(page);
    await page.click("#step");
    await expect.poll(() => stepCount(page), LOADED).toBe(before + 1);
    losses.push(Number(await page.getAttribute("#loss", "data-last")));
  }
  return losses;
}

/** Resets the model and waits for step 0 of the new one. */
async function reset(page: Page): Promise<void> {
  await page.click("#reset");
  await expect.poll(() => stepCount(page), LOADED).toBe(0);
}

describe("the GPT page on several Web Workers", () => {
  let isolated: Awaited<ReturnType<typeof openPage>>;

  beforeAll(async () => {
    isolated = await openPage(true);
  });

  it("is cross-origin isolated under the playground's server, and every resource still loads", async () => {
    const { page, responses, failed, errors } = isolated;
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const loaded = responses.map((response) => new URL(response.url).pathname);
    for (const file of ["/gpt.html", "/gpt-main.js", "/style.css", "/gpt-worker.js", "/names.txt"]) {
      expect(loaded).toContain(file);
    }
    // The pool's workers load their scripts too (the next test sees them start); the page's
    // own responses are these.
    for (const response of responses) {
      expect(response.status, response.url).toBeLessThan(400);
      expect(response.headers["cross-origin-embedder-policy"], response.url).toBe("require-corp");
    }
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("trains on as many workers as the cores, at most the batch, and says so beside the rate", async () => {
    const { page, poolWorkers } = isolated;
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const expected = Math.min(cores, 4);
    expect(await page.inputValue("#batch")).toBe("4");
    expect(await page.inputValue("#workers")).toBe(String(cores));
    expect(await page.isDisabled("#workers")).toBe(false);
    await expect.poll(() => page.getAttribute("#workers-used", "data-value"), LOADED).toBe(String(expected));
    await expect.poll(() => poolWorkers.size, LOADED).toBe(expected);
    expect(await page.textContent("#workers-note")).toContain(
      expected === 1 ? "1 Web Worker computes each step" : `${expected} Web Workers share each step`,
    );
    await page.click("#play");
    await expect
      .poll(async () => Number((await page.textContent("#cps"))?.replace(/,/g, "")), LOADED)
      .toBeGreaterThan(0);
    await page.click("#play");
    await expect.poll(() => page.textContent("#play"), LOADED).toContain("Play");
  });

  it("takes the same steps, bit for bit, on one worker and on two", async () => {
    const { page, poolWorkers } = isolated;
    await enter(page, "workers", "1");
    await reset(page);
    await expect.poll(() => poolWorkers.size, LOADED).toBe(1);
    oneWorker = await stepLosses(page, STEPS);
    expect(oneWorker.every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true);
    // Three steps on one worker, then three on two: the model and Adam's moments carry over.
    await reset(page);
    const switched = await stepLosses(page, STEPS / 2);
    await enter(page, "workers", "2");
    await expect.poll(() => page.getAttribute("#workers-used", "data-value"), LOADED).toBe("2");
    await expect.poll(() => poolWorkers.size, LOADED).toBe(2);
    switched.push(...(await stepLosses(page, STEPS / 2)));
    await reset(page);
    const twoWorkers = await stepLosses(page, STEPS);
    expect(twoWorkers).toEqual(oneWorker);
    expect(switched).toEqual(oneWorker);
    // A different seed is a different run: the comparison above can tell runs apart.
    await enter(page, "seed", "7");
    await expect.poll(() => stepCount(page), LOADED).toBe(0);
    const otherSeed = await stepLosses(page, 1);
    expect(otherSeed[0]).not.toBe(oneWorker[0]);
    await enter(page, "seed", "42");
    await expect.poll(() => stepCount(page), LOADED).toBe(0);
  });

  it("closes the workers when the model is reset or replaced, and when their number changes", async () => {
    const { page, poolWorkers, errors } = isolated;
    await expect.poll(() => poolWorkers.size, LOADED).toBe(2);
    const before = [...poolWorkers];
    const closed = before.map((worker) => worker.waitForEvent("close", LOADED));
    await reset(page);
    await Promise.all(closed);
    await expect.poll(() => poolWorkers.size, LOADED).toBe(2);
    expect([...poolWorkers].some((worker) => before.includes(worker))).toBe(false);
    const beforeNewModel = [...poolWorkers];
    const closedByNewModel = beforeNewModel.map((worker) => worker.waitForEvent("close", LOADED));
    await enter(page, "width", "8");
    await Promise.all(closedByNewModel);
    await expect.poll(() => poolWorkers.size, LOADED).toBe(2);
    await enter(page, "workers", "1");
    await expect.poll(() => poolWorkers.size, LOADED).toBe(1);
    // Never more workers than documents in a step.
    await enter(page, "workers", "3");
    await enter(page, "batch", "2");
    await expect.poll(() => page.getAttribute("#workers-used", "data-value"), LOADED).toBe("2");
    await expect.poll(() => poolWorkers.size, LOADED).toBe(2);
    expect(errors).toEqual([]);
  });
});

describe("the GPT page served without the isolating headers", () => {
  it("trains in one worker, the same model to rounding, and says why", async () => {
    const { page, poolWorkers, errors } = await openPage(false);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await page.isDisabled("#workers")).toBe(true);
    const note = await page.textContent("#workers-note");
    expect(note).toContain("not cross-origin isolated");
    expect(note).toContain("Cross-Origin-Embedder-Policy: require-corp");
    const losses = await stepLosses(page, STEPS);
    expect(await page.getAttribute("#workers-used", "data-value")).toBe("1");
    expect(poolWorkers.size).toBe(0);
    // One thread adds each document into the running gradient; the workers sum the documents'
    // own gradients: the same steps to rounding.
    expect(oneWorker).toHaveLength(STEPS);
    for (const [i, loss] of losses.entries()) {
      expect(Math.abs(loss - oneWorker[i])).toBeLessThan(1e-12 * oneWorker[i]);
    }
    expect(errors).toEqual([]);
  });
});

describe("the GPT page whose workers cannot start", () => {
  it("trains in its one worker and says why beside the field", async () => {
    // A build without the workers' script: each new Worker fails to load.
    const folder = mkdtempSync(join(tmpdir(), "playground-no-pool-"));
    try {
      await buildPlayground(folder);
      rmSync(join(folder, "gpt-pool-worker.js"));
      const { page, errors } = await openPage(true, folder);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await expect.poll(() => page.textContent("#workers-error"), LOADED).toContain("Training in one worker");
      expect(await page.textContent("#workers-error")).toContain("could not start");
      await expect.poll(() => page.textContent("#workers-note"), LOADED).toContain("could not start");
      const losses = await stepLosses(page, 2);
      expect(await page.getAttribute("#workers-used", "data-value")).toBe("1");
      for (const [i, loss] of losses.entries()) {
        expect(Math.abs(loss - oneWorker[i])).toBeLessThan(1e-12 * oneWorker[i]);
      }
      // The browser logs the missing script itself; nothing else goes wrong.
      expect(errors.filter((error) => !error.includes("404"))).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
