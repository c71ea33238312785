// Tests of the reflector-wasm package API under Node.js, on the built package (wasm/pkg).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = path.resolve(here, "..");
const pkg = path.join(wasmDir, "pkg");
const examples = path.resolve(wasmDir, "..", "examples");

const { initSync, Simulator } = await import(path.join(pkg, "reflector_wasm.js"));
initSync({ module: fs.readFileSync(path.join(pkg, "reflector_wasm_bg.wasm")) });

function story(dir = "calico-rr") {
  return ["bgpconfiguration.yaml", "bgppeers.yaml", "nodes.yaml"]
    .filter((f) => fs.existsSync(path.join(examples, dir, f)))
    .map((f) => fs.readFileSync(path.join(examples, dir, f), "utf8"))
    .join("\n---\n");
}

test("the story's cluster: sessions, reflectors and the unquoted-selector note", () => {
  const sim = new Simulator(story());
  const g = sim.graph();
  assert.equal(g.nodes.length, 5);
  assert.equal(g.meshEnabled, false);
  assert.deepEqual(g.nodes.filter((n) => n.reflector).map((n) => n.name), ["rxgks", "zyisy"]);
  assert.deepEqual(g.nodes.find((n) => n.name === "zyisy").labels, { "route-reflector": "true" });
  // peer-to-rrs is global (its nodeSelector is a YAML tag): 3 nodes x 2 reflectors + rxgks-zyisy.
  assert.equal(g.sessions.length, 7);
  // rxgks-zyisy is configured twice (global and rr-mesh): the more specific type shows.
  const rrPair = g.sessions.filter((s) => g.nodes[s.a].reflector && g.nodes[s.b].reflector);
  assert.deepEqual(rrPair.map((s) => s.peerType), ["node specific"]);
  assert.equal(g.sessions.filter((s) => s.peerType === "global").length, 6);
  const s = sim.summary();
  assert.equal(s.fullMeshSessions, 10);
  assert.equal(s.ipv4Sessions, 7);
  const notes = sim.notes();
  assert.ok(notes.some((n) => n.resource === "BGPPeer/peer-to-rrs" && n.message.includes("YAML tag")), JSON.stringify(notes));
  const peers = sim.bgpPeers();
  assert.deepEqual(peers.map((p) => [p.name, p.global, p.peerSelector]), [
    ["peer-to-rrs", true, "has(route-reflector)"],
    ["rr-mesh", false, "has(route-reflector)"],
  ]);
  sim.free();
});

test("errors are JavaScript Errors carrying Reflector's message", () => {
  assert.throws(() => new Simulator("apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: x}\nspec: {bgp: {ipv4Address: 10.0.0.300}}"),
    (e) => e instanceof Error && /Node 'x': spec\.bgp\.ipv4Address: expected an IPv4 address/.test(e.message));
  assert.throws(() => new Simulator("a: [unclosed"), (e) => e instanceof Error && /invalid YAML/.test(e.message));
  const sim = new Simulator(story());
  assert.throws(() => sim.routes("nosuch"), /no node named "nosuch"/);
  assert.throws(() => sim.setClusterId("qtwtv", "224.0.0.2"), /not a route reflector/);
  assert.throws(() => sim.setReflector("qtwtv", "not-an-id"), /IPv4 address form/);
  assert.throws(() => sim.addBgpPeer({ name: "x", peerSelector: "has(" }), /BGPPeer 'x': spec\.peerSelector: invalid selector/);
  assert.throws(() => sim.addBgpPeer({ name: "y", peerIP: "10.1.1.1", asNumber: -5 }), /asNumber must be an AS number/);
  assert.throws(() => sim.announce("qtwtv", "10.0.0.0/40"), /invalid prefix/);
  assert.throws(() => Simulator.generate(10, 11), /cannot exceed nodes/);
  sim.free();
});

test("toggling the mesh and marking reflectors changes the sessions", () => {
  const sim = new Simulator(story());
  sim.setReflector("rxgks", null);
  sim.setReflector("zyisy", undefined);
  sim.setMesh(true);
  assert.equal(sim.meshEnabled, true);
  let g = sim.graph();
  assert.equal(g.sessions.length, 10);
  assert.ok(g.sessions.every((s) => s.peerType === "node-to-node mesh" && s.aRole === "non-client"));
  sim.setMesh(false);
  assert.equal(sim.graph().sessions.length, 0);
  sim.setReflector("uqwst", "224.0.0.7");
  g = sim.graph();
  assert.equal(g.sessions.length, 4);
  const s = g.sessions[0];
  const uq = g.nodes.find((n) => n.name === "uqwst").index;
  assert.equal(s.a === uq ? s.aRole : s.bRole, "client");
  sim.setClusterId("uqwst", "224.0.0.8");
  assert.equal(sim.graph().nodes[uq].clusterId, "224.0.0.8");
  // The YAML written back describes the same cluster.
  const again = new Simulator(sim.toYaml());
  assert.deepEqual(again.graph(), sim.graph());
  again.free();
  sim.free();
});

test("a run gives routes with reflection attributes and calicoctl node status", () => {
  const sim = new Simulator(story());
  const r = sim.run();
  assert.equal(r.converged, true);
  assert.ok(r.messages > 0 && r.bytes > r.messages * 19);
  const { node, routes } = sim.routes("qtwtv");
  assert.equal(node, "qtwtv");
  assert.equal(routes.length, 5);
  const local = routes.filter((x) => x.from === "local");
  assert.equal(local.length, 1);
  const fromUqwst = routes.find((x) => x.nextHop === "10.0.0.3");
  assert.equal(fromUqwst.originatorId, "10.0.0.3");
  assert.deepEqual(fromUqwst.clusterList, ["224.0.0.1"]);
  assert.ok(["10.0.0.2", "10.0.0.5"].includes(fromUqwst.from));
  assert.match(sim.routesText("qtwtv"), /^Routes of qtwtv\n/);
  const status = sim.nodeStatus("qtwtv");
  assert.deepEqual(status.ipv4.map((x) => [x.peerAddress, x.peerType, x.info]), [
    ["10.0.0.2", "global", "Established"],
    ["10.0.0.5", "global", "Established"],
  ]);
  const text = sim.nodeStatusText("qtwtv");
  assert.match(text, /^Calico process is running\.\n\nIPv4 BGP status\n/);
  assert.match(text, /\| 10\.0\.0\.2 {5}\| global {4}\| up {4}\| 00:00:00 \| Established \|/);
  assert.match(text, /No IPv6 peers found\./);
  // Per-session traffic after the run.
  assert.ok(sim.graph().sessions.every((s) => s.messages > 0));
  assert.match(sim.summaryText(), /Converged after \d+ steps/);
  sim.free();
});

test("an announced prefix travels through the reflectors; the message log shows it", () => {
  const sim = new Simulator(story());
  sim.run();
  sim.clearMessages();
  // A /26 inside the story's pool: Calico's export filter passes only pool blocks.
  const prefix = sim.demoPrefix(0);
  assert.match(prefix, /^192\.168\.\d+\.\d+\/26$/);
  sim.announce("qtwtv", prefix);
  assert.equal(sim.step(), 2);
  let page = sim.messages();
  assert.equal(page.total, 2);
  for (const m of page.messages) {
    assert.equal(m.fromName, "qtwtv");
    assert.ok(["rxgks", "zyisy"].includes(m.toName));
    assert.equal(m.kind, "UPDATE");
    assert.deepEqual(m.announced, [prefix]);
    assert.equal(m.nextHop, "10.0.0.1");
    assert.equal(m.origin, "IGP");
    assert.equal(m.originatorId, null);
    assert.deepEqual(m.clusterList, []);
    assert.equal(m.accepted, true);
  }
  assert.equal(sim.step(), 6);
  page = sim.messages(2, 100);
  assert.equal(page.messages.length, 6);
  for (const m of page.messages) {
    assert.equal(m.step, page.messages[0].step);
    assert.equal(m.originatorId, "10.0.0.1");
    assert.deepEqual(m.clusterList, ["224.0.0.1"]);
    const toReflector = m.toName === "rxgks" || m.toName === "zyisy";
    assert.equal(m.accepted, !toReflector, JSON.stringify(m));
  }
  assert.equal(sim.step(), 0);
  for (const n of ["uqwst", "volwl", "rxgks", "zyisy"]) {
    const r = sim.routes(n).routes.find((x) => x.prefix === prefix);
    assert.ok(r, n);
    assert.equal(r.nextHop, "10.0.0.1");
  }
  assert.equal(sim.withdraw("qtwtv", prefix), true);
  sim.run();
  const last = sim.messages(8).messages;
  assert.ok(last.length >= 2 && last.every((m) => m.withdrawn.includes(prefix)));
  assert.ok(!sim.routes("uqwst").routes.some((x) => x.prefix === prefix));
  sim.free();
});

test("nodes and BGPPeers are added and removed", () => {
  const sim = new Simulator(story());
  sim.addNode("abcde");
  let g = sim.graph();
  assert.equal(g.nodes.find((n) => n.name === "abcde").ipv4, "10.0.0.6");
  assert.equal(g.sessions.length, 9);
  assert.throws(() => sim.addNode("abcde"), /already exists/);
  sim.removeBgpPeer("peer-to-rrs");
  assert.equal(sim.graph().sessions.length, 1);
  sim.addBgpPeer({ name: "to-rrs", nodeSelector: "!has(route-reflector)", peerSelector: "has(route-reflector)" });
  g = sim.graph();
  assert.equal(g.sessions.length, 1 + 4 * 2);
  assert.equal(g.sessions.filter((s) => s.peerType === "node specific").length, 9);
  sim.addBgpPeer({ name: "tor", peerIP: "192.0.2.1", asNumber: 65001 });
  g = sim.graph();
  assert.deepEqual(g.externals, [{ address: "192.0.2.1", asNumber: 65001 }]);
  assert.equal(g.sessions.filter((s) => s.external === 0 && s.b === null).length, 6);
  const status = sim.nodeStatus("qtwtv");
  assert.ok(status.ipv4.some((x) => x.peerAddress === "192.0.2.1" && x.info === "Active"));
  sim.removeNode("abcde");
  sim.removeBgpPeer("tor");
  assert.equal(sim.graph().sessions.length, 1 + 3 * 2);
  assert.throws(() => sim.removeBgpPeer("tor"), /no BGPPeer named "tor"/);
  sim.free();
});

test("the mesh example loads and converges without reflection", () => {
  const sim = new Simulator(story("calico-mesh"));
  assert.equal(sim.graph().sessions.length, 10);
  sim.run();
  for (const r of sim.routes("zyisy").routes) {
    assert.equal(r.originatorId, null);
    assert.deepEqual(r.clusterList, []);
  }
  sim.free();
});

test("a generated 500-node cluster converges (time printed, not asserted)", () => {
  const sim = Simulator.generate(500, 2, 1);
  const s = sim.summary();
  assert.equal(s.fullMeshSessions, 124750);
  assert.equal(s.ipv4Sessions, 498 * 2 + 1);
  const t0 = performance.now();
  const r = sim.run();
  const ms = performance.now() - t0;
  console.log(`500 nodes, 2 reflectors: converged in ${ms.toFixed(0)} ms under Node.js (${r.messages} messages, ${r.steps} steps)`);
  assert.equal(r.converged, true);
  const names = sim.graph().nodes.map((n) => n.name);
  for (const n of [names[0], names[1], names[250], names[499]]) assert.equal(sim.routes(n).routes.length, 500, n);
  sim.free();
});

test("npm pack produced a package with the module, the wasm, types and README", () => {
  const dist = path.join(wasmDir, "dist");
  const tgz = fs.readdirSync(dist).find((f) => /^reflector-wasm-.*\.tgz$/.test(f));
  assert.ok(tgz, "no tarball in wasm/dist");
  const files = execFileSync("tar", ["-tzf", path.join(dist, tgz)], { encoding: "utf8" }).trim().split("\n").sort();
  assert.deepEqual(files, [
    "package/README.md",
    "package/package.json",
    "package/reflector_wasm.d.ts",
    "package/reflector_wasm.js",
    "package/reflector_wasm_bg.wasm",
    "package/reflector_wasm_bg.wasm.d.ts",
  ]);
  const meta = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8"));
  assert.equal(meta.name, "reflector-wasm");
  assert.match(meta.version, /^\d+\.\d+\.\d+/);
  assert.equal(meta.types, "./reflector_wasm.d.ts");
  assert.equal(meta.type, "module");
  const dts = fs.readFileSync(path.join(pkg, "reflector_wasm.d.ts"), "utf8");
  assert.match(dts, /export class Simulator/);
  assert.match(dts, /export interface Graph \{/);
  assert.match(dts, /graph\(\): Graph;/);
  assert.match(dts, /messages\(start\?: number \| null, count\?: number \| null\): MessagePage;/);
  assert.match(dts, /export function decodeUpdate\(bytes: Uint8Array \| number\[\], options\?: DecodeOptions \| null\): DecodedUpdate;/);
  assert.match(dts, /export function decodeMessage\(bytes: Uint8Array \| number\[\], options\?: DecodeOptions \| null\): DecodedBgpMessage;/);
  assert.match(dts, /export class MrtParser \{/);
  assert.match(dts, /push\(bytes: Uint8Array \| number\[\]\): MrtRecord\[\];/);
  assert.match(dts, /finish\(\): MrtSummary;/);
});

/** Every key of every object in `v`, recursively (label maps left out: their keys are the user's). */
function keysDeep(v, out = new Set()) {
  if (Array.isArray(v)) for (const x of v) keysDeep(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      if (k !== "labels") keysDeep(x, out);
    }
  }
  return out;
}

test("simulator results are camelCase throughout and match the interfaces generated into the .d.ts", () => {
  const sim = new Simulator(story());
  sim.run();
  sim.announce("qtwtv", sim.demoPrefix(0));
  sim.run();
  const results = {
    ClusterSummary: sim.summary(),
    Graph: sim.graph(),
    NodeRoutes: sim.routes("qtwtv"),
    NodeStatus: sim.nodeStatus("qtwtv"),
    MessagePage: sim.messages(0, 50),
  };
  // Failures and migrations (the unsafe order: it has losses to check).
  const what = new Simulator(story());
  results.WhatIfReport = what.failNode("zyisy");
  what.free();
  const unsafe = path.join(examples, "calico-migration", "unsafe");
  const steps = fs.readdirSync(unsafe).sort().map((name) => ({
    name,
    yaml: fs.readdirSync(path.join(unsafe, name)).sort().map((f) => fs.readFileSync(path.join(unsafe, name, f), "utf8")).join("\n---\n"),
  }));
  const mig = new Simulator(story());
  results.MigrationState = mig.startMigration(steps);
  results.MigrationTransition = mig.migrationNext();
  assert.equal(mig.migrationState().current, 1);
  mig.free();
  const keys = keysDeep(results);
  const snake = [...keys].filter((k) => /_/.test(k));
  assert.deepEqual(snake, [], `snake_case keys: ${snake.join(", ")}`);
  const dts = fs.readFileSync(path.join(pkg, "reflector_wasm.d.ts"), "utf8");
  const fields = (name) => {
    const m = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`));
    assert.ok(m, `interface ${name} generated`);
    return new Set([...m[1].replace(/\/\*\*[\s\S]*?\*\//g, "").matchAll(/(\w+)\??:/g)].map((x) => x[1]));
  };
  const same = (obj, name) => assert.deepEqual(new Set(Object.keys(obj)), fields(name), name);
  same(results.ClusterSummary, "ClusterSummary");
  same(results.Graph, "Graph");
  same(results.Graph.nodes[0], "GraphNode");
  same(results.Graph.sessions[0], "GraphSession");
  same(results.NodeRoutes, "NodeRoutes");
  same(results.NodeRoutes.routes[0], "RouteRow");
  same(results.NodeStatus, "NodeStatus");
  same(results.NodeStatus.ipv4[0], "StatusRow");
  same(results.MessagePage, "MessagePage");
  same(results.MessagePage.messages[0], "DecodedMessage");
  same(results.WhatIfReport, "WhatIfReport");
  same(results.WhatIfReport.outcomes[0], "NodeOutcome");
  same(results.MigrationState, "MigrationState");
  same(results.MigrationTransition, "MigrationTransition");
  same(results.MigrationTransition.losses[0], "MigrationLoss");
  assert.equal(results.MigrationTransition.losses.length, 20);
  assert.equal(results.WhatIfReport.everyBlockKept, true);
  assert.equal(results.ClusterSummary.ipv4Sessions, 7);
  assert.match(dts, /peerType: "node-to-node mesh" \| "node specific" \| "global";/);
  sim.free();
});
