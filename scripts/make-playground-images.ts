// Regenerates the README's picture of the playground's GPT page (docs/images/playground-gpt.png):
// builds and serves the playground, trains the default GPT on the names in Debian's chromium for
// a few thousand steps, and takes the page. Run: npx tsx scripts/make-playground-images.ts
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildPlayground } from "../playground/build.js";
import { startServer } from "../playground/serve.js";

const STEPS = 6000;
const root = join(import.meta.dirname, "..");
const out = join(root, "docs", "images", "playground-gpt.png");

execFileSync("bash", [join(root, "scripts", "ensure-chromium.sh")], { stdio: "inherit" });
await buildPlayground();
const { server, url } = await startServer({ port: 0 });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
  await page.goto(`${url}gpt.html`);
  await page.waitForFunction(() => document.querySelectorAll("#samples li").length > 0);
  await page.click("#play");
  await page.waitForFunction(
    (steps) => Number(document.querySelector("#step-count")?.getAttribute("data-step")) >= steps,
    STEPS,
    { timeout: 300_000 },
  );
  await page.click("#play");
  await page.waitForFunction(() => document.querySelector("#play")?.textContent?.includes("Play"));
  const step = await page.getAttribute("#step-count", "data-step");
  // The samples and the attention maps of the final weights.
  await page.waitForFunction(
    (at) => document.querySelector("#samples")?.getAttribute("data-step") === at,
    step,
  );
  await page.fill("#prefix", "mari");
  await page.waitForFunction(
    () => document.querySelector("#attention")?.getAttribute("data-prefix") === "mari",
  );
  await page.screenshot({ path: out });
  console.log(`wrote ${out} after ${step} steps`);
} finally {
  await browser.close();
  server.close();
}
