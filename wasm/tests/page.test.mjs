// The demo page's safety and accessibility in Debian's chromium, driven by playwright-core:
// names from the YAML never run as HTML, the tabs and the node list work from the keyboard,
// the aria-live status line says what changed, reduced motion stops the animation, session
// types differ by dash pattern, and the Decode tab decodes a pasted UPDATE.
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
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "reflector-page-"));
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
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/www/`);
  await page.waitForFunction(() => window.reflectorDemo && window.reflectorDemo.ready === true, null, { timeout: 30_000 });
});

after(async () => {
  await context?.close();
  server?.close();
});

const text = (sel) => page.locator(sel).innerText();
const status = () => page.locator("#status").textContent();

test("the status line is an aria-live region that says what changed", async () => {
  const live = page.locator("#status");
  assert.equal(await live.getAttribute("aria-live"), "polite");
  assert.equal(await live.getAttribute("role"), "status");
  assert.match(await status(), /^Story cluster: 7 BGP sessions, 5 nodes; converged in [\d.]+ ms/);
  // Record every text the region takes, as a screen reader would hear it.
  await page.evaluate(() => {
    window.__announced = [];
    new MutationObserver(() => window.__announced.push(document.getElementById("status").textContent))
      .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true });
  });
  await page.click("#mode-mesh");
  assert.match(await status(), /^Full mesh: 10 BGP sessions, 5 nodes/);
  await page.click("#mode-rr");
  assert.match(await status(), /^Route reflectors: 7 BGP sessions, 5 nodes/);
  const heard = await page.evaluate(() => window.__announced);
  assert.ok(heard.some((t) => t.startsWith("Full mesh: 10 BGP sessions")), JSON.stringify(heard));
  assert.ok(heard.some((t) => t.startsWith("Route reflectors: 7 BGP sessions")), JSON.stringify(heard));
  assert.equal(await page.locator("#mode-mesh").getAttribute("aria-pressed"), "false");
  assert.equal(await page.locator("#mode-rr").getAttribute("aria-pressed"), "true");
});

test("tabs: ARIA roles, one tab stop, arrow keys, Home and End", async () => {
  const tabs = page.locator('[role="tablist"] [role="tab"]');
  assert.equal(await tabs.count(), 4);
  for (let i = 0; i < 4; i++) {
    const t = tabs.nth(i);
    const panelId = await t.getAttribute("aria-controls");
    const panel = page.locator(`#${panelId}`);
    assert.equal(await panel.getAttribute("role"), "tabpanel");
    assert.equal(await panel.getAttribute("aria-labelledby"), await t.getAttribute("id"));
  }
  const selected = async () => page.evaluate(() => {
    const on = [...document.querySelectorAll('[role="tab"]')].filter((t) => t.getAttribute("aria-selected") === "true");
    const stops = [...document.querySelectorAll('[role="tab"]')].filter((t) => t.tabIndex === 0);
    const visible = [...document.querySelectorAll('[role="tabpanel"]')].filter((p) => !p.hidden && p.offsetParent !== null);
    return { on: on.map((t) => t.id), stops: stops.map((t) => t.id), visible: visible.map((p) => p.id), focus: document.activeElement.id };
  });
  await page.focus("#tab-node");
  assert.deepEqual(await selected(), { on: ["tab-node"], stops: ["tab-node"], visible: ["panel-node"], focus: "tab-node" });
  await page.keyboard.press("ArrowRight");
  assert.deepEqual(await selected(), { on: ["tab-messages"], stops: ["tab-messages"], visible: ["panel-messages"], focus: "tab-messages" });
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  assert.deepEqual(await selected(), { on: ["tab-decode"], stops: ["tab-decode"], visible: ["panel-decode"], focus: "tab-decode" });
  await page.keyboard.press("ArrowRight"); // wraps
  assert.equal((await selected()).focus, "tab-node");
  await page.keyboard.press("ArrowLeft"); // wraps back
  assert.equal((await selected()).focus, "tab-decode");
  await page.keyboard.press("Home");
  assert.deepEqual(await selected(), { on: ["tab-node"], stops: ["tab-node"], visible: ["panel-node"], focus: "tab-node" });
  await page.keyboard.press("End");
  assert.equal((await selected()).on[0], "tab-decode");
  // Tab leaves the tab list for the panel (one tab stop in the list).
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "panel-decode");
  await page.focus("#tab-decode");
  await page.keyboard.press("Home");
});

test("the node list: focusable, arrow keys select a node and show its routes, announced", async () => {
  const options = page.locator('#node-list [role="option"]');
  assert.equal(await options.count(), 5);
  assert.equal(await page.locator("#node-list").getAttribute("role"), "listbox");
  assert.equal(await page.locator('#node-list [tabindex="0"]').count(), 1);
  // Keyboard only: Tab from the control before it reaches the list.
  await page.focus("#rr-add");
  let hops = 0;
  while (hops++ < 40 && !(await page.evaluate(() => document.activeElement?.getAttribute("role") === "option"))) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("role")), "option");
  await page.keyboard.press("Home");
  const names = await page.evaluate(() => window.reflectorDemo.nodeNames());
  assert.equal(await text("#node-name"), names[0]);
  await page.keyboard.press("ArrowDown");
  assert.equal(await text("#node-name"), names[1]);
  assert.equal(await options.nth(1).getAttribute("aria-selected"), "true");
  assert.equal(await options.nth(0).getAttribute("aria-selected"), "false");
  assert.equal(await page.evaluate(() => document.activeElement.id), "node-option-1");
  await page.keyboard.press("End");
  assert.equal(await text("#node-name"), names[4]);
  // Select qtwtv: its routes and status show, and the status line says so.
  const q = names.indexOf("qtwtv");
  await page.keyboard.press("Home");
  for (let i = 0; i < q; i++) await page.keyboard.press("ArrowDown");
  assert.equal(await text("#node-name"), "qtwtv");
  assert.equal(await page.locator("#routes tbody tr").count(), 5);
  assert.match(await text("#node-status"), /10\.0\.0\.2 +\| global +\| up/);
  assert.equal(await status(), "qtwtv selected: 5 routes, 2 BGP sessions.");
  assert.equal(await page.locator("#tab-node").getAttribute("aria-selected"), "true");
  await page.screenshot({ path: path.join(out, "keyboard.png") });
});

test("session types differ by dash pattern as well as colour, with a legend", async () => {
  const { drawn, types } = await page.evaluate(() => window.reflectorDemo.sessionStyles());
  assert.deepEqual(types.map((t) => t.key), ["mesh", "rr-client", "rr-rr", "external"]);
  assert.equal(new Set(types.map((t) => t.dash.join(","))).size, 4, "dash patterns differ");
  assert.equal(new Set(types.map((t) => t.color)).size, 4, "colours differ");
  assert.deepEqual(drawn, { mesh: 0, "rr-client": 6, "rr-rr": 1, external: 0 });
  const legend = await page.evaluate(() => [...document.querySelectorAll("#legend-sessions [data-session]")].map((d) => ({
    key: d.dataset.session, label: d.textContent, dash: d.querySelector("line").getAttribute("stroke-dasharray"),
  })));
  assert.deepEqual(legend.map((l) => l.key), types.map((t) => t.key));
  for (const [i, l] of legend.entries()) assert.equal(l.dash, types[i].dash.length ? types[i].dash.join(" ") : null);
  await page.click("#mode-mesh");
  assert.deepEqual((await page.evaluate(() => window.reflectorDemo.sessionStyles())).drawn, { mesh: 10, "rr-client": 0, "rr-rr": 0, external: 0 });
  await page.click("#mode-rr");
});

const EVIL = `<img src=x onerror="window.__pwned=1">`;
const EVIL_YAML = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: false
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: '${EVIL}'
  labels:
    route-reflector: "true"
spec:
  bgp:
    ipv4Address: 10.0.0.1/24
    routeReflectorClusterID: 224.0.0.1
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: plain
spec:
  bgp:
    ipv4Address: 10.0.0.2/24
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: '<script>window.__pwned=2</script>'
spec:
  bgp:
    ipv4Address: 10.0.0.3/24
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: '${EVIL}'
spec:
  nodeSelector: !has(route-reflector)
  peerSelector: has(route-reflector)
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 192.0.2.1
  asNumber: 65001
`;

test("names from the YAML are text, never HTML: nothing runs, the literal name shows", async () => {
  await page.click("#tab-yaml");
  await page.locator("#yaml").fill(EVIL_YAML);
  await page.click("#apply-yaml");
  assert.equal(await page.locator("#yaml-error").isVisible(), false, await text("#yaml-error"));
  assert.match(await status(), /^YAML applied: /);
  // The node list, the reflector list and the notes show the names as typed.
  const options = await page.locator('#node-list [role="option"] b').allTextContents();
  assert.ok(options.includes(EVIL), JSON.stringify(options));
  assert.ok(options.includes("<script>window.__pwned=2</script>"));
  assert.deepEqual(await page.locator("#reflectors .rr-item span").allTextContents(), [EVIL]);
  assert.ok((await text("#notes")).includes(`BGPPeer/${EVIL}`), await text("#notes"));
  // Select it from the keyboard: node panel, routes and status.
  await page.focus('#node-list [tabindex="0"]');
  await page.keyboard.press("Home");
  assert.equal(await page.locator("#node-name").textContent(), EVIL);
  assert.ok((await status()).startsWith(`${EVIL} selected (route reflector)`));
  // An external peer: drawn with the external style.
  assert.equal((await page.evaluate(() => window.reflectorDemo.sessionStyles())).drawn.external, 3);
  // Send an UPDATE from the crafted node: message cards and caption carry the name.
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.click("#animate");
  await page.waitForFunction(() => window.reflectorDemo.lastAnimation?.prefix && document.getElementById("caption").textContent.startsWith("Done"), null, { timeout: 30_000 });
  assert.ok((await page.locator("#messages .msg").first().textContent()).includes(`${EVIL} → `));
  assert.ok((await text("#caption")).includes(EVIL));
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator("img").count(), 0, "no <img> element was created");
  assert.equal(await page.locator("body script").count(), 1, "only the page's own module script");
  await page.screenshot({ path: path.join(out, "escaped.png") });
  assert.deepEqual(pageErrors, []);
});

test("prefers-reduced-motion: the UPDATE is played without animation frames or CSS animation", async () => {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.click("#tab-yaml");
  await page.click("#reset-yaml");
  await page.evaluate(() => { window.reflectorDemo.animationFrames = 0; window.reflectorDemo.lastAnimation = null; });
  await page.click("#animate");
  await page.waitForFunction(() => window.reflectorDemo.lastAnimation !== null, null, { timeout: 30_000 });
  const a = await page.evaluate(() => window.reflectorDemo.lastAnimation);
  assert.deepEqual({ steps: a.steps, messages: a.messages, reached: a.reached }, { steps: 2, messages: 8, reached: 5 });
  assert.equal(await page.evaluate(() => window.reflectorDemo.animationFrames), 0);
  const css = await page.evaluate(() => {
    const m = document.querySelector("#messages .msg");
    const bar = document.getElementById("bar-mesh");
    return { anim: getComputedStyle(m).animationName, transition: getComputedStyle(bar).transitionDuration };
  });
  assert.deepEqual(css, { anim: "none", transition: "0s" });
  assert.match(await status(), /^Done in 2 steps and 8 UPDATEs/);
  // With motion allowed, the same play runs animation frames.
  await page.emulateMedia({ reducedMotion: "no-preference" });
  await page.evaluate(() => { window.reflectorDemo.lastAnimation = null; });
  await page.click("#animate");
  await page.waitForFunction(() => window.reflectorDemo.lastAnimation !== null, null, { timeout: 60_000 });
  assert.ok(await page.evaluate(() => window.reflectorDemo.animationFrames) > 10);
});

test("the Decode tab decodes a pasted UPDATE with reflector-core's parser, errors typed, output escaped", async () => {
  await page.click("#tab-decode");
  await page.click("#hex-example");
  const u = await page.evaluate(() => window.reflectorDemo.lastDecoded);
  assert.deepEqual(u.errors, []);
  assert.deepEqual(u.nlri, [{ prefix: "10.99.0.0/24" }]);
  const rows = await page.locator("#hex-attributes tbody tr").allInnerTexts();
  assert.equal(rows.length, 6);
  assert.match(rows[1], /AS_PATH\s+well-known transitive\s+65001 65002/);
  assert.match(rows[3], /COMMUNITIES\s+optional transitive\s+65001:100/);
  assert.match(rows[4], /ORIGINATOR_ID\s+optional\s+10\.0\.0\.3/);
  assert.match(rows[5], /CLUSTER_LIST\s+optional\s+224\.0\.0\.1/);
  assert.equal(await text("#hex-announced"), "10.99.0.0/24");
  assert.match(await status(), /^Decoded UPDATE: 6 attributes, 1 announced, 0 withdrawn, no errors\./);
  // NEXT_HOP 0.0.0.0 with NLRI: RFC 7606 treat-as-withdraw, NOTIFICATION 3/8 if it were fatal.
  const bad = (await page.locator("#hex-input").inputValue()).replace("4003040a000001", "40030400000000");
  await page.locator("#hex-input").fill(bad);
  await page.click("#hex-decode");
  const errs = await text("#hex-errors");
  assert.match(errs, /InvalidNextHop: invalid NEXT_HOP at offset \d+\. Action: treat-as-withdraw\. NOTIFICATION 3\/8 \(UPDATE Message Error \/ Invalid NEXT_HOP Attribute\), attribute type 3\./);
  assert.match(await status(), /1 error \(InvalidNextHop, treat-as-withdraw\)/);
  // Not hex at all: the message quotes the input as text.
  await page.locator("#hex-input").fill(EVIL);
  await page.click("#hex-decode");
  assert.match(await text("#hex-output"), /^Not hex: not a hex digit/);
  assert.equal(await page.locator("img").count(), 0);
  await page.click("#hex-example");
  await page.screenshot({ path: path.join(out, "decode.png") });
  assert.deepEqual(pageErrors, []);
});

/** A TABLE_DUMP_V2 PEER_INDEX_TABLE record whose view name is `name` (one AS4 IPv4 peer). */
function peerIndexRecord(name) {
  const v = Buffer.from(name, "utf8");
  const body = Buffer.concat([
    Buffer.from([10, 0, 0, 1]), Buffer.from([v.length >> 8, v.length & 0xff]), v,
    Buffer.from([0, 1, 0x02, 10, 0, 0, 2, 10, 0, 0, 2, 0, 0, 0xfd, 0xe9]),
  ]);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(1_700_000_000, 0);
  head.writeUInt16BE(13, 4);
  head.writeUInt16BE(1, 6);
  head.writeUInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

test("the Decode tab reads an MRT file with MrtParser (plain and gzip), names escaped", async () => {
  await page.click("#tab-decode");
  const shared = process.env.SHARED_DATA || path.resolve(here, "..", "..", "..", "shared", "data");
  // quagga_bgp.mrt: 67 BGP4MP records (shared/data/SOURCES.md), chosen with the file input.
  await page.setInputFiles("#mrt-file", path.join(shared, "mrt", "quagga_bgp.mrt"));
  await page.waitForFunction(() => window.reflectorDemo.lastMrt?.summary.records === 67, null, { timeout: 30_000 });
  const q = await page.evaluate(() => window.reflectorDemo.lastMrt);
  assert.equal(q.summary.skipped, 0);
  assert.equal(q.rows.length, 67);
  assert.match(await text("#mrt-summary"), /^quagga_bgp\.mrt · 67 records \(.*bgp4mpMessage/);
  assert.equal(await page.locator("#mrt-records tbody tr").count(), 67);
  assert.match(await page.locator("#mrt-records tbody").innerText(), /BGP4MP\/MESSAGE(_AS4)?\s+AS\d+ [\d.:a-f]+: UPDATE announce/);
  assert.match(await status(), /^Decoded MRT file quagga_bgp\.mrt: 67 records, 0 skipped, 0 errors\./);
  // A gzip dump is unpacked by the browser; the table shows the first 200 records.
  await page.setInputFiles("#mrt-file", path.join(shared, "mrt", "updates.20100722.2015.gz"));
  await page.waitForFunction(() => window.reflectorDemo.lastMrt?.summary.records > 200, null, { timeout: 60_000 });
  assert.equal(await page.locator("#mrt-records tbody tr").count(), 200);
  // A view name that is HTML shows as text and runs nothing; a cut-short record is reported.
  const evil = peerIndexRecord(EVIL);
  await page.setInputFiles("#mrt-file", { name: "evil.mrt", mimeType: "application/octet-stream", buffer: Buffer.concat([evil, evil.subarray(0, 20)]) });
  await page.waitForFunction(() => window.reflectorDemo.lastMrt?.summary.records === 1, null, { timeout: 30_000 });
  assert.match(await page.locator("#mrt-records tbody").innerText(), /TABLE_DUMP_V2\/PEER_INDEX_TABLE\s+collector 10\.0\.0\.1, view "<img src=x onerror="window\.__pwned=1">", 1 peers/);
  assert.match(await text("#mrt-summary"), /20 bytes cut short/);
  assert.match(await text("#mrt-errors"), /^Truncated/);
  assert.equal(await page.locator("img").count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.screenshot({ path: path.join(out, "decode-mrt.png") });
  assert.deepEqual(pageErrors, []);
});

test("the package's Engine reflects an UPDATE in the browser (ESM, the page's module instance)", async () => {
  const r = await page.evaluate(async () => {
    const { Engine, decodeUpdate, hexToBytes } = await import("../pkg/reflector_wasm.js");
    const engine = new Engine({ localAs: 65000, routerId: "192.0.2.1", clusterId: "192.0.2.100" });
    const [a, b] = ["10.0.0.1", "10.0.0.2"].map((address) => {
      const id = engine.addPeer({ role: "client", address, asn: 65000 });
      engine.peerUp(id, { routerId: address });
      return id;
    });
    const outcome = engine.handleMessage(a, hexToBytes(
      "ffffffffffffffffffffffffffffffff 0030 02 0000 0015 40010100 400200 4003040a000001 40050400000064 180a6300"));
    const sent = engine.takeMessages(b).map((m) => decodeUpdate(m)).filter((u) => !u.endOfRib);
    const best = engine.bestPaths();
    engine.free();
    return { outcome, sent: sent.map((u) => ({ nlri: u.nlri, originatorId: u.originatorId, clusterList: u.clusterList })), best: best.map((p) => [p.prefix, p.peer]) };
  });
  assert.deepEqual(r.outcome, { kind: "accepted", announced: 1, withdrawn: 0, rejected: 0 });
  assert.deepEqual(r.sent, [{ nlri: [{ prefix: "10.99.0.0/24" }], originatorId: "10.0.0.1", clusterList: ["192.0.2.100"] }]);
  assert.deepEqual(r.best, [["10.99.0.0/24", 0]]);
  assert.deepEqual(pageErrors, []);
});
