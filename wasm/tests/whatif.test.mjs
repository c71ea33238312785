// Failures and migrations in the demo page, in Debian's chromium driven by playwright-core:
// failing one of the story cluster's two reflectors keeps every pod block, failing both loses
// them (per node, shown and announced), bringing a node back restores them; the migration of
// examples/calico-migration played step by step loses nothing in the safe order and loses
// routes with the mesh off first. Everything from the keyboard, with labels and aria-live.
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
const pageErrors = [];

before(async () => {
  ({ server, url: base } = await serve(0));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "reflector-whatif-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
    timeout: 60_000,
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  await page.goto(`${base}/www/`);
  await page.waitForFunction(() => window.reflectorDemo && window.reflectorDemo.ready === true, null, { timeout: 30_000 });
  // Record every text the aria-live status line takes, as a screen reader would hear it.
  await page.evaluate(() => {
    window.__announced = [];
    new MutationObserver(() => window.__announced.push(document.getElementById("status").textContent))
      .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
  });
});

after(async () => {
  await context?.close();
  server?.close();
});

const text = (sel) => page.locator(sel).innerText();
const status = () => page.locator("#status").textContent();

/** Selects a node from the keyboard: the node list, Home, then arrows. */
async function selectByKeyboard(name) {
  const names = await page.evaluate(() => window.reflectorDemo.nodeNames());
  await page.focus('#node-list [tabindex="0"]');
  await page.keyboard.press("Home");
  for (let i = 0; i < names.indexOf(name); i++) await page.keyboard.press("ArrowDown");
  assert.equal(await text("#node-name"), name);
}

/** Presses a button from the keyboard: focus, then Enter. */
async function press(sel) {
  await page.focus(sel);
  await page.keyboard.press("Enter");
}

/** { node: number of blocks lost } of the failure table's live rows. */
async function lostByNode() {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#whatif-table tbody tr[data-lost]")]
    .map((tr) => [tr.dataset.node, Number(tr.dataset.lost)])));
}

test("the failure and migration controls are labelled", async () => {
  assert.equal(await page.locator("#mig-order").getAttribute("aria-label"), "Migration order");
  assert.equal(await page.locator("#node-peer").getAttribute("aria-label"), "BGP session of this node");
  assert.equal(await page.locator("#whatif").isVisible(), false);
  assert.equal(await page.locator("#mig-next").isDisabled(), true);
  assert.equal(await page.locator("#whatif-table caption").textContent(), "Pod blocks each node lost and kept, and the BGP messages it received");
});

test("failing one reflector keeps every pod block reachable", async () => {
  await selectByKeyboard("rxgks");
  assert.equal(await text("#node-fail"), "Fail this node");
  await press("#node-fail");
  const r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.equal(r.action, "fail");
  assert.deepEqual(r.failedNodes, ["rxgks"]);
  assert.equal(r.everyBlockKept, true);
  assert.deepEqual(r.goneBlocks, ["192.168.0.64/26"]);
  assert.equal(await page.locator("#whatif").isVisible(), true);
  assert.match(await text("#whatif-summary"), /^No pod block lost\. rxgks failed \(4 sessions down\): converged again in \d+ steps? and \d+ BGP messages?; every node kept every pod block it had\. Gone with the failed nodes: 192\.168\.0\.64\/26\./);
  assert.deepEqual(await lostByNode(), { qtwtv: 0, uqwst: 0, volwl: 0, zyisy: 0 });
  assert.equal(await page.locator('#whatif-table tr[data-failed="true"]').count(), 1);
  assert.match(await status(), /^rxgks failed \(4 sessions down\): .*every node kept every pod block it had/);
  // The node is shown failed: panel, node list, canvas (dotted sessions), and the button brings it back.
  assert.equal(await text("#node-fail"), "Bring rxgks back");
  assert.match(await text("#node-role"), /^failed · route reflector/);
  assert.match(await page.locator('#node-list [data-name="rxgks"]').innerText(), /failed/);
  assert.equal(await page.evaluate(() => window.reflectorDemo.downSessions()), 4);
  // qtwtv still has the four live nodes' blocks.
  await selectByKeyboard("qtwtv");
  assert.equal(await text("#route-count"), "4");
  await page.screenshot({ path: path.join(out, "fail-one-rr.png") });
});

test("failing both reflectors loses the pod blocks, shown per node and announced", async () => {
  await selectByKeyboard("zyisy");
  await press("#node-fail");
  const r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.deepEqual(r.failedNodes, ["rxgks", "zyisy"]);
  assert.equal(r.everyBlockKept, false);
  assert.equal(r.nodesLosing, 3);
  // Each client loses the other two clients' blocks.
  assert.deepEqual(await lostByNode(), { qtwtv: 2, uqwst: 2, volwl: 2 });
  const q = await page.locator('#whatif-table tr[data-node="qtwtv"] td.lost').innerText();
  assert.equal(q.split(/\s+/).length, 2);
  assert.match(await text("#whatif-summary"), /^3 nodes lost pod blocks\. zyisy failed/);
  const s = await status();
  assert.match(s, /^zyisy failed \(\d+ sessions? down\): .*3 nodes lost routes: qtwtv lost 2 pod blocks, uqwst lost 2 pod blocks, volwl lost 2 pod blocks/);
  const heard = await page.evaluate(() => window.__announced);
  assert.ok(heard.some((t) => t.startsWith("zyisy failed")), JSON.stringify(heard));
  await selectByKeyboard("qtwtv");
  assert.equal(await text("#route-count"), "1");
  await page.screenshot({ path: path.join(out, "fail-both-rr.png") });
});

test("bringing a reflector back restores every block", async () => {
  await selectByKeyboard("zyisy");
  await press("#node-fail");
  const r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.equal(r.action, "restore");
  assert.deepEqual(r.failedNodes, ["rxgks"]);
  assert.equal(r.everyBlockKept, true);
  const q = r.outcomes.find((o) => o.name === "qtwtv");
  assert.equal(q.regained.length, 3);
  assert.match(await page.locator('#whatif-table tr[data-node="qtwtv"]').innerText(), /\(\+3 back\)/);
  assert.match(await status(), /^zyisy back \(3 sessions up\): .*got routes back/);
  assert.equal(await text("#node-fail"), "Fail this node");
  // Converge rebuilds the network: nothing failed, the panel is gone.
  await press("#converge");
  assert.equal(await page.locator("#whatif").isVisible(), false);
  assert.equal(await page.evaluate(() => window.reflectorDemo.downSessions()), 0);
  assert.doesNotMatch(await page.locator('#node-list [data-name="rxgks"]').innerText(), /failed/);
});

test("with click-to-fail on, a click on a reflector in the picture fails it and a second brings it back", async () => {
  await page.check("#click-fails");
  const at = await page.evaluate(() => window.reflectorDemo.nodePosition("rxgks"));
  await page.mouse.click(at.x, at.y);
  let r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.equal(r.action, "fail");
  assert.deepEqual(r.failedNodes, ["rxgks"]);
  assert.equal(r.everyBlockKept, true);
  assert.equal(await text("#node-name"), "rxgks");
  assert.match(await status(), /^rxgks failed/);
  await page.mouse.click(at.x, at.y);
  r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.equal(r.action, "restore");
  assert.deepEqual(r.failedNodes, []);
  // Off again: a click only selects.
  await page.uncheck("#click-fails");
  await page.mouse.click(at.x, at.y);
  assert.equal((await page.evaluate(() => window.reflectorDemo.lastWhatIf)).action, "restore");
  await press("#converge");
});

test("a session taken down and brought up again from the node panel", async () => {
  await selectByKeyboard("qtwtv");
  await page.selectOption("#node-peer", "rxgks");
  assert.equal(await text("#session-fail"), "Take session down");
  await press("#session-fail");
  let r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.deepEqual(r.failedSessions, ["qtwtv-rxgks"]);
  // rxgks drops zyisy's copy of qtwtv's block: both reflectors carry cluster ID 224.0.0.1.
  assert.deepEqual(await lostByNode(), { qtwtv: 0, rxgks: 1, uqwst: 0, volwl: 0, zyisy: 0 });
  assert.equal(await text("#session-fail"), "Bring session up");
  await press("#session-fail");
  r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.deepEqual(r.failedSessions, []);
  assert.equal(r.outcomes.find((o) => o.name === "rxgks").regained.length, 1);
});

/** Plays the migration to its end with the keyboard; returns every transition. */
async function playMigration(order) {
  await page.focus("#mig-order");
  await page.selectOption("#mig-order", order);
  assert.match(await status(), /^Migration \(.*\) started at step 1 of 4, 1-mesh/);
  const steps = await page.locator("#mig-steps li").allInnerTexts();
  assert.equal(steps.length, 4);
  assert.equal(steps[0], "1-mesh (now)");
  assert.equal(await page.locator('#mig-steps li[aria-current="step"]').count(), 1);
  const transitions = [];
  while (!(await page.locator("#mig-next").isDisabled())) {
    await press("#mig-next");
    const t = await page.evaluate(() => window.reflectorDemo.lastTransition);
    assert.equal(t.run.converged, true);
    transitions.push({ t, status: await status() });
  }
  assert.equal(transitions.length, 3);
  assert.equal(await page.locator("#mig-log > li").count(), 3);
  assert.match(transitions[2].status, /Migration complete\.$/);
  return transitions;
}

test("the safe migration, step by step: no node loses a route at any step", async () => {
  const ts = await playMigration("safe");
  assert.deepEqual(ts.map(({ t }) => t.to), ["2-label-and-peer", "3-cluster-ids", "4-mesh-off"]);
  for (const { t, status: s } of ts) {
    assert.deepEqual(t.losses, [], `${t.from} → ${t.to}`);
    assert.match(s, /no node lost a route to any pod block\./);
  }
  assert.deepEqual(await page.locator("#mig-log > li").evaluateAll((l) => l.map((li) => li.dataset.losses)), ["0", "0", "0"]);
  assert.equal(await page.locator("#mig-log > li.loss").count(), 0);
  // At the end: reflectors, mesh off, the sessions drawn as the plan says.
  assert.match(await text("#mode-label"), /2 route reflectors · 5 nodes/);
  assert.equal(await text("#count-current"), "7 BGP sessions");
  await page.screenshot({ path: path.join(out, "migration-safe.png") });
});

test("the unsafe migration (mesh off first) loses routes, shown per node and announced", async () => {
  const ts = await playMigration("unsafe");
  const [first] = ts;
  assert.equal(first.t.to, "2-mesh-off");
  assert.equal(first.t.losses.length, 20);
  assert.deepEqual(first.t.nodesLosing, ["qtwtv", "rxgks", "uqwst", "volwl", "zyisy"]);
  assert.match(first.status, /^Step 2 of 4: 1-mesh → 2-mesh-off \(.*\): 5 nodes lost routes: qtwtv lost 4 pod blocks for good, rxgks lost 4 pod blocks for good/);
  const log = page.locator("#mig-log > li").first();
  assert.equal(await log.getAttribute("class"), "loss");
  assert.equal(await log.getAttribute("data-losses"), "20");
  assert.equal(await log.locator("li[data-node]").count(), 5);
  assert.match(await log.locator('li[data-node="qtwtv"]').innerText(), /^qtwtv lost 192\.168\.\d+\.\d+\/26 \(of \w+, for good\)/);
  const heard = await page.evaluate(() => window.__announced);
  assert.ok(heard.some((t) => /^Step 2 of 4: 1-mesh → 2-mesh-off .*5 nodes lost routes/.test(t)), JSON.stringify(heard.slice(-5)));
  await page.screenshot({ path: path.join(out, "migration-unsafe.png") });
  // Editing the cluster ends the migration.
  await page.click("#mode-mesh");
  assert.equal(await page.locator("#mig-steps li").count(), 0);
  assert.equal(await page.locator("#mig-next").isDisabled(), true);
  assert.deepEqual(pageErrors, []);
});

const EVIL = `<img src=x onerror="window.__pwned=1">`;

test("names in the failure panel and the caption are text, never HTML", async () => {
  const yaml = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: true
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: '${EVIL}'
spec:
  bgp:
    ipv4Address: 10.0.0.1/24
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: plain
spec:
  bgp:
    ipv4Address: 10.0.0.2/24
`;
  await page.click("#tab-yaml");
  await page.locator("#yaml").fill(yaml);
  await page.click("#apply-yaml");
  await selectByKeyboard(EVIL);
  await press("#node-fail");
  const r = await page.evaluate(() => window.reflectorDemo.lastWhatIf);
  assert.deepEqual(r.failedNodes, [EVIL]);
  assert.equal(await page.locator('#whatif-table tr[data-failed="true"] th').textContent(), EVIL);
  assert.ok((await text("#caption")).includes(`${EVIL} failed`));
  assert.ok((await status()).startsWith(`${EVIL} failed`));
  assert.equal(await page.locator("img").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(pageErrors, []);
});
