// End-to-end test of the demo page in Debian's chromium, driven by playwright-core.
// Serves wasm/ on 127.0.0.1, toggles mesh/reflectors, clicks a node, plays an UPDATE,
// applies YAML, and measures a 500-node cluster converging in the browser.
// Screenshots go to $E2E_OUTPUT (default: wasm/tests/output/, not committed).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.env.E2E_OUTPUT || path.join(here, "output");
fs.mkdirSync(out, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let server, base, context, page;
const consoleErrors = [];

before(async () => {
  ({ server, url: base } = await serve(0));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "reflector-e2e-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    timeout: 60_000,
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  await page.goto(`${base}/www/`);
  await page.waitForFunction(() => window.reflectorDemo && window.reflectorDemo.ready === true, null, { timeout: 30_000 });
});

after(async () => {
  await context?.close();
  server?.close();
});

const text = (sel) => page.locator(sel).innerText();

test("the story's cluster is preloaded with its session counts", async () => {
  assert.equal(await text("#count-current"), "7 BGP sessions");
  assert.equal(await text("#count-mesh"), "10");
  assert.equal(await text("#count-rr"), "7");
  assert.match(await text("#mode-label"), /2 route reflectors · 5 nodes/);
  assert.match(await text("#notes"), /peer-to-rrs.*YAML tag/s);
  assert.match(await text("#converge-info"), /^Converged in [\d.]+ ms · \d+ UPDATEs · \d+ steps$/);
  await page.screenshot({ path: path.join(out, "story.png") });
});

test("switching between full mesh and reflectors changes the sessions shown", async () => {
  await page.click("#mode-mesh");
  assert.equal(await text("#count-current"), "10 BGP sessions");
  assert.match(await text("#mode-label"), /node-to-node mesh · 5 nodes/);
  assert.equal(await text("#count-rr"), "7");
  await page.screenshot({ path: path.join(out, "mesh.png") });
  await page.click("#mode-rr");
  assert.equal(await text("#count-current"), "7 BGP sessions");
  assert.deepEqual(
    await page.locator("#reflectors .rr-item span").allInnerTexts(),
    ["rxgks", "zyisy"],
  );
});

test("clicking a node shows its routes and calicoctl node status", async () => {
  const p = await page.evaluate(() => window.reflectorDemo.nodePosition("qtwtv"));
  await page.mouse.click(p.x, p.y);
  assert.equal(await text("#node-name"), "qtwtv");
  const rows = page.locator("#routes tbody tr");
  assert.equal(await rows.count(), 5);
  const reflected = await page.locator("#routes tbody tr", { hasText: "10.0.0.3" }).innerText();
  assert.match(reflected, /10\.0\.0\.3\s+10\.0\.0\.3\s+224\.0\.0\.1/);
  const status = await text("#node-status");
  assert.match(status, /10\.0\.0\.2 +\| global +\| up +\| 00:00:00 \| Established/);
  assert.match(status, /10\.0\.0\.5 +\| global +\| up +\| 00:00:00 \| Established/);
  await page.screenshot({ path: path.join(out, "node.png") });
});

test("an UPDATE travels through the reflectors with ORIGINATOR_ID and CLUSTER_LIST", async () => {
  await page.click("#animate");
  // Mid-animation screenshot: the reflected copies in flight.
  await page.waitForFunction(() => document.querySelectorAll("#messages .msg").length >= 8, null, { timeout: 30_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(out, "update.png") });
  await page.waitForFunction(() => window.reflectorDemo.lastAnimation !== null, null, { timeout: 60_000 });
  const a = await page.evaluate(() => window.reflectorDemo.lastAnimation);
  assert.deepEqual({ steps: a.steps, messages: a.messages, reached: a.reached }, { steps: 2, messages: 8, reached: 5 });
  const cards = page.locator("#messages .msg");
  assert.equal(await cards.count(), 8);
  assert.equal(await page.locator("#messages .msg.dropped").count(), 2);
  const reflectedCard = await cards.nth(2).innerText();
  assert.match(reflectedCard, /ORIGINATOR_ID 10\.0\.0\.1/);
  assert.match(reflectedCard, /CLUSTER_LIST 224\.0\.0\.1/);
  assert.match(await text("#caption"), /is in the routing table of 5 of 5 nodes/);
});

test("the YAML is editable and applied; errors are shown", async () => {
  await page.click('.tab[data-tab="yaml"]');
  const yaml = await page.locator("#yaml").inputValue();
  assert.match(yaml, /nodeToNodeMeshEnabled: false/);
  await page.locator("#yaml").fill(yaml.replace("nodeToNodeMeshEnabled: false", "nodeToNodeMeshEnabled: true"));
  await page.click("#apply-yaml");
  // Mesh among the 3 ordinary nodes, plus the 7 reflector sessions.
  assert.equal(await text("#count-current"), "10 BGP sessions");
  await page.locator("#yaml").fill(yaml.replace("ipv4Address: 10.0.0.3/24", "ipv4Address: 10.0.0.300/24"));
  await page.click("#apply-yaml");
  assert.equal(await page.locator("#yaml-error").isVisible(), true);
  assert.match(await text("#yaml-error"), /Node 'uqwst': spec\.bgp\.ipv4Address: expected an IPv4 address/);
  await page.click("#reset-yaml");
  assert.equal(await text("#count-current"), "7 BGP sessions");
});

test("500 nodes: session counts, and convergence time in the browser", async () => {
  await page.click("#mode-rr");
  await page.locator("#size").fill("500");
  await page.waitForFunction(() => document.getElementById("size-value").textContent === "500");
  assert.equal(await text("#count-mesh"), "124,750");
  assert.equal(await text("#count-rr"), "997");
  assert.equal(await text("#count-current"), "997 BGP sessions");
  const times = [];
  for (let i = 0; i < 3; i++) {
    await page.click("#converge");
    const r = await page.evaluate(() => ({ ms: window.reflectorDemo.lastConvergeMs, report: window.reflectorDemo.lastReport }));
    assert.equal(r.report.converged, true);
    times.push(r.ms);
  }
  times.sort((x, y) => x - y);
  const report = await page.evaluate(() => window.reflectorDemo.lastReport);
  console.log(`BENCH browser: 500 nodes, 2 route reflectors converge in ${times[1].toFixed(0)} ms (median of 3: ${times.map((t) => t.toFixed(0)).join(", ")} ms; ${report.messages} messages, ${report.steps} steps)`);
  await page.screenshot({ path: path.join(out, "rr-500.png") });
  await page.click("#mode-mesh");
  assert.equal(await text("#count-current"), "124,750 BGP sessions");
  assert.match(await text("#converge-info"), /^Not run yet: 124,750 sessions/);
  await page.click("#converge", { timeout: 120_000 });
  const mesh = await page.evaluate(() => ({ ms: window.reflectorDemo.lastConvergeMs, report: window.reflectorDemo.lastReport }));
  assert.equal(mesh.report.converged, true);
  console.log(`BENCH browser: 500 nodes, full mesh converge in ${mesh.ms.toFixed(0)} ms (${mesh.report.messages} messages, ${mesh.report.steps} steps)`);
  await page.screenshot({ path: path.join(out, "mesh-500.png") });
  // Click a node of the big cluster: it holds every node's block.
  const names = await page.evaluate(() => window.reflectorDemo.nodeNames());
  const p = await page.evaluate((n) => window.reflectorDemo.nodePosition(n), names[123]);
  await page.mouse.click(p.x, p.y);
  assert.equal(await text("#node-name"), names[123]);
  assert.equal(await text("#route-count"), "500");
  assert.deepEqual(consoleErrors, []);
  console.log(`screenshots: ${out}`);
});
