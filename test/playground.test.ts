// The playground end to end in a real browser: Debian's chromium driven by playwright-core,
// against the built page served by the playground's own server. Screenshots go to
// .artifacts/playground/ for a person to look at.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPlayground } from "../playground/build.js";
import { startServer } from "../playground/serve.js";

const root = join(import.meta.dirname, "..");
const artifacts = join(root, ".artifacts", "playground");
const TRAIN_BOUND_MS = 30_000;

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
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

const accuracy = () => page.locator("#accuracy").getAttribute("data-value");
const pointCount = async () => Number(await page.locator("#point-count").getAttribute("data-count"));

// The tests share one page and run in order, as a learner would use it.
describe("the playground", () => {
  it("loads with no console errors and draws the untrained moons", async () => {
    await page.waitForFunction(() => document.querySelector("#accuracy")?.getAttribute("data-value") !== "");
    expect(await pointCount()).toBe(100);
    expect(await page.locator("#network circle.neuron").count()).toBe(16 + 16 + 1);
    expect(Number(await accuracy())).toBeLessThan(1);
    await page.screenshot({ path: join(artifacts, "initial.png") });
    expect(consoleErrors).toEqual([]);
  });

  it(`play trains moons to 100% accuracy within ${TRAIN_BOUND_MS / 1000} s, the map redrawing meanwhile`, async () => {
    const started = Date.now();
    await page.click("#play");
    await page.waitForFunction(
      () => document.querySelector("#accuracy")?.getAttribute("data-value") === "1",
      null,
      {
        timeout: TRAIN_BOUND_MS,
      },
    );
    const elapsed = Date.now() - started;
    // Keep training a moment so that frames/s and steps/s have been measured.
    await page.waitForFunction(() => Number(document.querySelector("#fps")?.textContent) > 0, null, {
      timeout: 5000,
    });
    const fps = Number(await page.textContent("#fps"));
    const steps = Number(await page.textContent("#step-count"));
    console.log(`playground: 100% after ${elapsed} ms (step ${steps} by now), ${fps} frames/s`);
    expect(fps).toBeGreaterThanOrEqual(15);
    await page.click("#play");
    await expect.poll(() => page.textContent("#play")).toContain("Play");
    await page.screenshot({ path: join(artifacts, "trained.png") });
  });

  it("clicking the plane adds a point of the chosen class", async () => {
    const before = await pointCount();
    await page.click("#class-picker button[data-class='1']");
    const plane = page.locator("#plane");
    await plane.click({ position: { x: 40, y: 40 } });
    await plane.click({ position: { x: 60, y: 50 } });
    await expect.poll(pointCount).toBe(before + 2);
    await page.click("#clear");
    await expect.poll(pointCount).toBe(0);
    await plane.click({ position: { x: 200, y: 200 } });
    await expect.poll(pointCount).toBe(1);
    // Back to the moons for the next test.
    await page.click("#regenerate");
    await expect.poll(pointCount).toBe(100);
  });

  it("clicking a neuron shows its computation graph with data and gradients", async () => {
    await page.click("#step");
    await page.click("#network circle.neuron[data-layer='1'][data-index='3']");
    const graph = page.locator("#graph-view svg");
    await graph.waitFor({ timeout: 20_000 });
    const text = (await graph.textContent()) ?? "";
    expect(text).toContain("data");
    expect(text).toContain("grad");
    expect(text).toMatch(/grad -?\d+\.\d+/);
    expect(text).toContain("h2[4]");
    expect(await page.textContent("#graph-title")).toContain("h2[4]");
    await page.screenshot({ path: join(artifacts, "graph.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
