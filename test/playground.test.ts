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

/** steps/s in the top bar while training runs (it is measured over half a second). */
async function trainedRate(): Promise<string> {
  if (!(await page.textContent("#play"))?.includes("Pause")) await page.click("#play");
  await page.waitForFunction(() => Number(document.querySelector("#sps")?.textContent) > 0, null, {
    timeout: 5000,
  });
  return (await page.textContent("#sps")) ?? "";
}

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
    // Keep training a moment: the page measures the frames it drew, so some were drawn. How
    // many a second depends on the machine's load, which a test does not assert (the number
    // is printed).
    await page.waitForFunction(() => Number(document.querySelector("#fps")?.textContent) > 0, null, {
      timeout: 5000,
    });
    const fps = Number(await page.textContent("#fps"));
    const steps = Number(await page.textContent("#step-count"));
    console.log(`playground: 100% after ${elapsed} ms (step ${steps} by now), ${fps} frames/s`);
    await page.click("#play");
    await expect.poll(() => page.textContent("#play")).toContain("Play");
    await page.screenshot({ path: join(artifacts, "trained.png") });
  });

  it("a compiled checkbox in the Training panel, on by default; eager training reaches 100% too", async () => {
    const toggle = page.locator("section:has(h2:text('Training')) #compiled");
    expect(await toggle.isChecked()).toBe(true);
    // steps/s while compiled, from the run above, for comparison in the log.
    const compiledRate = await trainedRate();
    await page.click("#play");
    await expect.poll(() => page.textContent("#play")).toContain("Play");
    await page.uncheck("#compiled");
    await page.dispatchEvent("#compiled", "change");
    await page.click("#reset");
    await page.click("#play");
    await page.waitForFunction(
      () => document.querySelector("#accuracy")?.getAttribute("data-value") === "1",
      null,
      { timeout: TRAIN_BOUND_MS },
    );
    const eagerRate = await trainedRate();
    console.log(`playground: ${compiledRate} steps/s compiled, ${eagerRate} steps/s eager`);
    await page.screenshot({ path: join(artifacts, "eager.png") });
    await page.click("#play");
    await expect.poll(() => page.textContent("#play")).toContain("Play");
    await page.check("#compiled");
    await page.dispatchEvent("#compiled", "change");
    expect(consoleErrors).toEqual([]);
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

  it("shows an error beside a wrong learning rate, batch size or L2 penalty, and keeps training as before", async () => {
    await page.click("#graph-close");
    const errorOf = (id: string) => page.locator(`#${id}-error`);
    const enter = async (id: string, text: string) => {
      await page.fill(`#${id}`, text);
      await page.dispatchEvent(`#${id}`, "change");
    };
    await enter("lr", "-1");
    await enter("batch", "2.5");
    await enter("l2", "-3");
    await expect
      .poll(() => errorOf("lr").textContent())
      .toBe("-1: the learning rate must be above 0, such as 0.1. Still using 1.");
    expect(await errorOf("batch").textContent()).toContain("2.5: the batch size must be a whole number");
    expect(await errorOf("batch").textContent()).toContain("Still using all points.");
    expect(await errorOf("l2").textContent()).toBe(
      "-3: the L2 penalty must be 0 or more (0: none). Still using 0.0001.",
    );
    expect(await page.getAttribute("#lr", "aria-invalid")).toBe("true");
    // Each error sits right under its own field.
    for (const id of ["lr", "batch", "l2"]) {
      const field = await page.locator(`#${id}`).boundingBox();
      const error = await errorOf(id).boundingBox();
      expect(error && field && error.y - (field.y + field.height)).toBeGreaterThanOrEqual(0);
      expect(error && field && error.y - (field.y + field.height)).toBeLessThan(20);
    }
    await page.screenshot({ path: join(artifacts, "field-errors.png") });
    // Training goes on with the settings it had: the moons still reach 100%.
    await page.click("#reset");
    await page.click("#play");
    await page.waitForFunction(
      () => document.querySelector("#accuracy")?.getAttribute("data-value") === "1",
      null,
      {
        timeout: TRAIN_BOUND_MS,
      },
    );
    await page.click("#play");
    await enter("lr", "1");
    await enter("batch", "");
    await enter("l2", "0.0001");
    for (const id of ["lr", "batch", "l2"]) await expect.poll(() => errorOf(id).isHidden()).toBe(true);
  });

  it("formats huge losses and keeps every tick label of the loss chart inside it", async () => {
    await page.uncheck("#decay");
    await page.dispatchEvent("#decay", "change");
    await page.fill("#lr", "1000");
    await page.dispatchEvent("#lr", "change");
    await page.click("#reset");
    await page.click("#play");
    await page.waitForFunction(
      () => Number.parseFloat(document.querySelector("#loss")?.textContent ?? "") > 0,
      null,
      {
        timeout: 10_000,
      },
    );
    // A loss of 10^20 or more shows as a power of ten, never as twenty digits. The text is read
    // when it first shows such a loss: compiled training moves on within milliseconds.
    const shown = await page.waitForFunction(
      () => {
        const text = document.querySelector("#loss")?.textContent ?? "";
        return /e\+\d\d/.test(text) ? text : false;
      },
      null,
      {
        timeout: 20_000,
      },
    );
    const loss = (await shown.jsonValue()) || "";
    await page.click("#play");
    await expect.poll(() => page.textContent("#play")).toContain("Play");
    expect(loss).toMatch(/^\d(\.\d)?e\+\d+$/); // formatNumber drops a ".0": 3e+34
    // Nothing is drawn in the chart's first pixel columns: no label runs off its left edge.
    const inkAtLeftEdge = await page.evaluate(() => {
      const canvas = document.querySelector("#loss-chart") as HTMLCanvasElement;
      const pixels = (canvas.getContext("2d") as CanvasRenderingContext2D).getImageData(
        0,
        0,
        3,
        canvas.height,
      ).data;
      let ink = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
      return ink;
    });
    expect(inkAtLeftEdge).toBe(0);
    await page.screenshot({ path: join(artifacts, "huge-loss.png") });
    await page.check("#decay");
    await page.dispatchEvent("#decay", "change");
    await page.fill("#lr", "1");
    await page.dispatchEvent("#lr", "change");
  });

  it("with 1,000 points and hidden layers 64,64,64, reports progress within a step and pauses at once", async () => {
    await page.fill("#size", "1000");
    await page.dispatchEvent("#size", "change");
    await page.fill("#hidden", "64,64,64");
    await page.dispatchEvent("#hidden", "change");
    await expect.poll(pointCount).toBe(1000);
    // Eager, so that a step is long enough to watch: compiled, the later steps take milliseconds
    // and the first one's progress can come and go between two polls.
    await page.uncheck("#compiled");
    await page.dispatchEvent("#compiled", "change");
    await page.click("#play");
    // Part of the first step is done and shown while the step is still under way.
    await page.waitForFunction(
      () => {
        const step = document.querySelector("#step-count") as HTMLElement;
        return step.dataset.step === "0" && Number(step.dataset.progress) > 0;
      },
      null,
      { timeout: 20_000 },
    );
    expect(await page.textContent("#step-count")).toMatch(/^0 \+\d+%$/);
    // The page keeps drawing frames meanwhile.
    await page.waitForFunction(() => Number(document.querySelector("#fps")?.textContent) > 0, null, {
      timeout: 10_000,
    });
    // Pause takes effect within a part of a step, not at the end of it.
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
    console.log(`playground: heavy configuration paused in ${pauseMs.toFixed(0)} ms`);
    expect(pauseMs).toBeLessThan(1000);
    await page.screenshot({ path: join(artifacts, "heavy.png") });
    await page.check("#compiled");
    await page.dispatchEvent("#compiled", "change");
    expect(consoleErrors).toEqual([]);
  });
});
