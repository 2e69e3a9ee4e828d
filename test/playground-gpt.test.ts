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

async function pause(): Promise<void> {
  if ((await page.textContent("#play"))?.includes("Pause")) await page.click("#play");
  await expect.poll(() => page.textContent("#play")).toContain("Play");
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

  it("Play trains: the step counter rises and the held-out loss falls below the bigram's", async () => {
    const bigram = await number("#bigram");
    const firstSamples = await page.textContent("[data-testid=samples]");
    const started = Date.now();
    await page.click("[data-testid=play]");
    await expect.poll(step).toBeGreaterThan(0);
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
  });

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
    await expect.poll(() => page.getAttribute("[data-testid=attention]", "data-prefix")).toBe("anna");
    expect(await picture()).not.toBe(before);
    // BOS and the letters read: one row per position, so a longer word draws larger heatmaps.
    const sizes = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>("[data-testid=attention] canvas")).map(
        (c) => c.width,
      ),
    );
    await prefix.pressSequentially("belle");
    await expect.poll(() => page.getAttribute("[data-testid=attention]", "data-prefix")).toBe("annabelle");
    const longer = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>("[data-testid=attention] canvas")).map(
        (c) => c.width,
      ),
    );
    expect(longer.length).toBe(4);
    expect(longer[0]).toBeGreaterThan(sizes[0]);
    expect(consoleErrors).toEqual([]);
  });

  it("the next-token bars sum to at most 1, and clicking one extends the prefix", async () => {
    const bars = page.locator("[data-testid=next-token] .bar");
    await expect.poll(() => bars.count()).toBe(10);
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
      .poll(() => page.getAttribute("[data-testid=attention]", "data-prefix"))
      .toBe(`annabelle${token}`);
    await page.screenshot({ path: join(artifacts, "gpt-prefix.png") });
  });

  it("a downloaded model gives, in micrograd gpt sample, the samples the page shows", async () => {
    await pause();
    const current = await step();
    await expect.poll(() => number("[data-testid=samples]", "data-step")).toBe(current);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("[data-testid=download-model]"),
    ]);
    expect(download.suggestedFilename()).toBe("model.json");
    const folder = mkdtempSync(join(tmpdir(), "micrograd-gpt-page-"));
    const file = join(folder, "model.json");
    await download.saveAs(file);
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
});
