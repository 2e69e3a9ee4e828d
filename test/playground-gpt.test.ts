// The GPT page of the playground end to end in a real browser: Debian's chromium driven by
// playwright-core, against the built page served by the playground's own server, under the
// page's Content-Security-Policy. Screenshots go to .artifacts/playground/ for a person to see.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlayground } from "../playground/build.js";
import { startServer } from "../playground/serve.js";
import { micrograd, requireBuild } from "./program.js";

const root = join(import.meta.dirname, "..");
const artifacts = join(root, ".artifacts", "playground");
/** Generous: the machine is shared, and a held-out measurement comes every two seconds. */
const BEAT_BIGRAM_MS = 90_000;
/** How long a poll waits for the worker: new data or a new model takes a moment on a busy machine. */
const LOADED = { timeout: 20_000 };

requireBuild();

let browser: Browser;
let server: Server;
let url: string;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  execFileSync("bash", [join(root, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
  await buildPlayground();
  ({ server, url } = await startServer({ port: 0 }));
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  await page.goto(`${url}gpt.html`);
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

const number = async (selector: string, attribute = "data-value") =>
  Number(await page.locator(selector).getAttribute(attribute));
const step = () => number("#step-count", "data-step");
/** The model file the page downloaded, for loading it back. */
let downloaded = "";

/** Types `text` into a field and leaves it, as a user does. */
async function enter(id: string, text: string): Promise<void> {
  await page.fill(`#${id}`, text);
  await page.dispatchEvent(`#${id}`, "change");
}

async function pause(): Promise<void> {
  if ((await page.textContent("#play"))?.includes("Pause")) await page.click("#play");
  await expect.poll(() => page.textContent("#play"), LOADED).toContain("Play");
}

// The tests share one page and run in order, as a learner would use it.
describe("the GPT page", () => {
  it("loads under its Content-Security-Policy with no console errors, showing the names' data", async () => {
    const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    expect(policy).toContain("script-src 'self'");
    await page.waitForFunction(() => document.querySelectorAll("#samples li").length > 0);
    expect(await page.textContent("#data-info")).toContain("Vocabulary of 27");
    expect(await number("#bigram")).toBeCloseTo(2.45, 1);
    // One heatmap per head of the default model (1 layer, 4 heads).
    expect(await page.locator("[data-testid=attention] canvas").count()).toBe(4);
    expect(consoleErrors).toEqual([]);
  });

  it("links to the first page and back", async () => {
    await page.click("nav.pages a[href='index.html']");
    await page.waitForURL(/index\.html$/);
    await page.click("nav.pages a[href='gpt.html']");
    await page.waitForURL(/gpt\.html$/);
    await page.waitForFunction(() => document.querySelectorAll("#samples li").length > 0);
    expect(consoleErrors).toEqual([]);
  });

  it(
    "Play trains: the step counter rises and the held-out loss falls below the bigram's",
    async () => {
      const bigram = await number("#bigram");
      const firstSamples = await page.textContent("[data-testid=samples]");
      const started = Date.now();
      await page.click("[data-testid=play]");
      await expect.poll(step, LOADED).toBeGreaterThan(0);
      await page.waitForFunction(
        (line) => {
          const heldOut = Number(document.querySelector("#held-out")?.getAttribute("data-value"));
          return heldOut > 0 && heldOut < line;
        },
        bigram,
        { timeout: BEAT_BIGRAM_MS },
      );
      const elapsed = Date.now() - started;
      const sps = await page.textContent("#sps");
      console.log(
        `playground GPT: held-out ${await number("#held-out")} < bigram ${bigram.toFixed(3)} after ${elapsed} ms, ` +
          `step ${await step()}, ${sps} steps/s`,
      );
      // Samples refresh every few seconds while training.
      await expect
        .poll(() => page.textContent("[data-testid=samples]"), { timeout: 10_000 })
        .not.toBe(firstSamples);
      await pause();
      await page.screenshot({ path: join(artifacts, "gpt-trained.png") });
      expect(consoleErrors).toEqual([]);
    },
    BEAT_BIGRAM_MS + 30_000,
  );

  it("typing a word redraws the attention maps for it", async () => {
    const prefix = page.locator("[data-testid=prefix]");
    const picture = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLCanvasElement>("[data-testid=attention] canvas"))
          .map((canvas) => canvas.toDataURL())
          .join(),
      );
    const before = await picture();
    await prefix.fill("");
    await prefix.pressSequentially("anna");
    await expect.poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"), LOADED).toBe("anna");
    expect(await picture()).not.toBe(before);
    // BOS and the letters read: one row and column per position, in every head's map.
    const positions = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLCanvasElement>("[data-testid=attention] canvas")).map((c) =>
          Number(c.dataset.positions),
        ),
      );
    expect(await positions()).toEqual([5, 5, 5, 5]);
    await prefix.pressSequentially("belle");
    await expect
      .poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"), LOADED)
      .toBe("annabelle");
    expect(await positions()).toEqual([10, 10, 10, 10]);
    expect(consoleErrors).toEqual([]);
  });

  it("the next-token bars sum to at most 1, and clicking one extends the prefix", async () => {
    const bars = page.locator("[data-testid=next-token] .bar");
    await expect.poll(() => bars.count(), LOADED).toBe(10);
    const probabilities = (await bars.evaluateAll((all) =>
      all.map((bar) => Number(bar.dataset.probability)),
    )) as number[];
    const total = probabilities.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0.5);
    expect(total).toBeLessThanOrEqual(1 + 1e-9);
    for (let i = 1; i < probabilities.length; i++)
      expect(probabilities[i]).toBeLessThanOrEqual(probabilities[i - 1]);
    const choice = page.locator("[data-testid=next-token] .bar:not([disabled])").first();
    const token = (await choice.getAttribute("data-token")) as string;
    await choice.click();
    expect(await page.inputValue("[data-testid=prefix]")).toBe(`annabelle${token}`);
    await expect
      .poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"), LOADED)
      .toBe(`annabelle${token}`);
    await page.screenshot({ path: join(artifacts, "gpt-prefix.png") });
  });

  it("a downloaded model gives, in micrograd gpt sample, the samples the page shows", async () => {
    await pause();
    const current = await step();
    await expect.poll(() => number("[data-testid=samples]", "data-step"), LOADED).toBe(current);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=download-model]"),
    ]);
    expect(download.suggestedFilename()).toBe("model.json");
    const folder = mkdtempSync(join(tmpdir(), "micrograd-gpt-page-"));
    const file = join(folder, "model.json");
    await download.saveAs(file);
    downloaded = file;
    const model = JSON.parse(readFileSync(file, "utf8"));
    expect(model.kind).toBe("gpt");
    expect(model.notes.steps).toBe(current);
    const seed = await number("[data-testid=samples]", "data-seed");
    const temperature = await number("[data-testid=samples]", "data-temperature");
    const shown = await page.locator("[data-testid=samples] li").allTextContents();
    const result = await micrograd([
      "gpt",
      "sample",
      "--model",
      file,
      "--n",
      String(shown.length),
      "--temperature",
      String(temperature),
      "--seed",
      String(seed),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const printed = result.stdout
      .trimEnd()
      .split("\n")
      .map((s) => (s === "" ? "(empty)" : s));
    expect(printed).toEqual(shown);
  });

  it("loads a downloaded model back: its weights give the command line's samples; a broken file is named", async () => {
    await page.setInputFiles("#load-model", downloaded);
    await expect
      .poll(() => page.textContent("#load-info"), LOADED)
      .toContain("Loaded model.json: 1 layer, width 16");
    await expect.poll(step, LOADED).toBe(0);
    await expect.poll(() => number("[data-testid=samples]", "data-seed"), LOADED).toBe(1);
    const shown = await page.locator("[data-testid=samples] li").allTextContents();
    const result = await micrograd([
      "gpt",
      "sample",
      "--model",
      downloaded,
      "--n",
      String(shown.length),
      "--seed",
      "1",
    ]);
    expect(
      result.stdout
        .trimEnd()
        .split("\n")
        .map((s) => (s === "" ? "(empty)" : s)),
    ).toEqual(shown);
    // The loaded weights are the trained ones: the held-out loss starts where training left it.
    await expect.poll(() => number("#held-out"), LOADED).toBeGreaterThan(0);
    expect(await number("#held-out")).toBeLessThan(await number("#bigram"));
    await page.setInputFiles("#load-model", {
      name: "broken.json",
      mimeType: "application/json",
      buffer: Buffer.from('{"format": "micrograd-model", "version": 1, "kind": "mlp"}'),
    });
    await expect
      .poll(() => page.textContent("#load-error"), LOADED)
      .toContain('broken.json: not a valid micrograd model: "kind" is "mlp", expected "gpt"');
    expect(consoleErrors).toEqual([]);
  });

  it("names a wrong field beside it, and trains on with the value it had", async () => {
    await enter("heads", "3");
    await enter("lr", "0");
    await enter("temperature", "-1");
    await expect
      .poll(() => page.textContent("#heads-error"), LOADED)
      .toBe("3 heads do not divide the width 16: each head reads an equal part of it. Still using 4.");
    expect(await page.textContent("#lr-error")).toBe(
      "0: the learning rate must be above 0 and at most 1, such as 0.01. Still using 0.01.",
    );
    expect(await page.textContent("#temperature-error")).toContain("Still using 0.5.");
    expect(await page.getAttribute("#heads", "aria-invalid")).toBe("true");
    for (const id of ["heads", "lr"]) {
      const field = await page.locator(`#${id}`).boundingBox();
      const error = await page.locator(`#${id}-error`).boundingBox();
      expect(error && field && error.y - (field.y + field.height)).toBeGreaterThanOrEqual(0);
      expect(error && field && error.y - (field.y + field.height)).toBeLessThan(20);
    }
    await enter("width", "64");
    await enter("heads", "4");
    await enter("block", "64");
    await enter("layers", "4");
    await expect
      .poll(() => page.textContent("#block-error"), LOADED)
      .toContain("values; at most 1,000,000 here");
    await page.screenshot({ path: join(artifacts, "gpt-field-errors.png") });
    const before = await step();
    await page.click("#step");
    await expect.poll(step, LOADED).toBe(before + 1);
    expect(await page.textContent("#model-info")).toBe("4,192 parameters");
    for (const [id, value] of [
      ["layers", "1"],
      ["block", "16"],
      ["width", "16"],
      ["heads", "4"],
      ["lr", "0.01"],
      ["temperature", "0.5"],
    ])
      await enter(id, value);
    for (const id of ["layers", "width", "heads", "block", "lr", "temperature"])
      await expect.poll(() => page.locator(`#${id}-error`).isHidden(), LOADED).toBe(true);
  });

  it("trains on pasted text or Tiny Shakespeare, and says why a text too large or without repeats will not do", async () => {
    await page.selectOption("#source", "text");
    const useText = async (text: string) => {
      await page.fill("#text", text);
      await page.click("#use-text");
    };
    await useText("abcdefg");
    await expect
      .poll(() => page.textContent("#text-error"), LOADED)
      .toBe(
        "No character appears twice in the text, so there is no pattern to learn: paste more text. Still training on the shipped names.",
      );
    await useText("ab".repeat(610_000));
    await expect
      .poll(() => page.textContent("#text-error"), LOADED)
      .toContain("The text has 1,220,000 characters; at most 1,200,000 here");
    // Still the names meanwhile.
    expect(await page.textContent("#data-info")).toContain("the shipped names");
    const words = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "peach", "pear", "plum"];
    await useText(Array.from({ length: 30 }, (_, i) => words[i % words.length]).join("\n"));
    await expect
      .poll(() => page.textContent("#data-info"), LOADED)
      .toContain("pasted text, one document per line: 27 documents");
    expect(await page.isHidden("#text-error")).toBe(true);
    await page.selectOption("#mode", "running");
    await expect.poll(() => page.textContent("#data-info"), LOADED).toContain("pasted running text");
    await page.fill("[data-testid=prefix]", "ap");
    await page.click("#step");
    await expect.poll(step, LOADED).toBe(1);
    await expect.poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"), LOADED).toBe("ap");
    await page.fill("[data-testid=prefix]", "apz");
    await expect
      .poll(() => page.textContent("#prefix-problem"), LOADED)
      .toContain('"z" is not one of the model\'s characters');
    // Tiny Shakespeare, fetched when first chosen, is running text of 65 characters.
    await page.selectOption("#source", "shakespeare");
    await expect.poll(() => page.textContent("#data-info"), LOADED).toContain("Tiny Shakespeare");
    expect(await page.textContent("#data-info")).toContain("Vocabulary of 66");
    await page.fill("[data-testid=prefix]", "ROMEO:");
    await page.click("#step");
    await expect.poll(step, LOADED).toBe(1);
    await expect
      .poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"), LOADED)
      .toBe("ROMEO:");
    await page.selectOption("#source", "names");
    await expect.poll(() => page.textContent("#data-info"), LOADED).toContain("the shipped names");
    await page.fill("[data-testid=prefix]", "emma");
    expect(consoleErrors).toEqual([]);
  });

  it("with 2 layers of width 32 and a block of 32, shows a step's progress and pauses within it", async () => {
    await enter("layers", "2");
    await enter("width", "32");
    await enter("block", "32");
    await enter("batch", "8");
    await expect.poll(() => page.textContent("#model-info"), LOADED).toBe("27,328 parameters");
    await page.click("[data-testid=play]");
    // Part of a step is done and shown while the step is still under way (its documents one by one).
    await page.waitForFunction(
      () => /\+\d+%$/.test(document.querySelector("#step-count")?.textContent ?? ""),
      null,
      {
        timeout: 60_000,
      },
    );
    const pauseMs = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const play = document.querySelector("#play") as HTMLButtonElement;
          const started = performance.now();
          play.click();
          const check = () => {
            if (play.textContent?.includes("Play")) resolve(performance.now() - started);
            else requestAnimationFrame(check);
          };
          check();
        }),
    );
    console.log(`playground GPT: 2 × 32, block 32, batch 8 paused in ${pauseMs.toFixed(0)} ms`);
    // Within a document (a new length's first one is traced), far less than a step of eight.
    expect(pauseMs).toBeLessThan(5000);
    await page.screenshot({ path: join(artifacts, "gpt-heavy.png") });
    for (const [id, value] of [
      ["layers", "1"],
      ["block", "16"],
      ["width", "16"],
      ["batch", "4"],
    ])
      await enter(id, value);
    expect(consoleErrors).toEqual([]);
  });
});
