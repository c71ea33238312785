// The Engine class of the reflector-wasm package under Node.js: three route-reflector
// clients, a real UPDATE in, the reflected UPDATE out (ORIGINATOR_ID, CLUSTER_LIST), the
// Loc-RIB queries, counters, events, withdrawals, loop rejection and RFC 7606 outcomes,
// and every returned object against the interfaces generated (tsify) into reflector_wasm.d.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "..", "pkg");
const { initSync, Engine, decodeUpdate, hexToBytes } = await import(path.join(pkg, "reflector_wasm.js"));
initSync({ module: fs.readFileSync(path.join(pkg, "reflector_wasm_bg.wasm")) });
const dts = fs.readFileSync(path.join(pkg, "reflector_wasm.d.ts"), "utf8");

// ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, LOCAL_PREF 100; NLRI 10.99.0.0/24.
const UPDATE = hexToBytes("ffffffffffffffffffffffffffffffff 0030 02 0000 0015 40010100 400200 4003040a000001 40050400000064 180a6300");
// The same prefix withdrawn.
const WITHDRAW = hexToBytes("ffffffffffffffffffffffffffffffff 001b 02 0004 180a6300 0000");

function setup(options = {}) {
  const engine = new Engine({ localAs: 65000, routerId: "192.0.2.1", clusterId: "192.0.2.100", ...options });
  const peers = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((address, i) => {
    const id = engine.addPeer({ role: "client", address, asn: 65000 });
    engine.peerUp(id, { routerId: `10.0.0.${i + 1}` });
    return id;
  });
  engine.flush();
  for (const p of peers) assert.deepEqual(engine.takeMessages(p).map((m) => decodeUpdate(m).endOfRib), ["ipv4-unicast", "ipv6-unicast"]);
  return { engine, peers };
}

test("a client's UPDATE is reflected to the other clients with ORIGINATOR_ID and CLUSTER_LIST", () => {
  const { engine, peers: [a, b, c] } = setup();
  const out = engine.handleMessage(a, UPDATE);
  assert.deepEqual(out, { kind: "accepted", announced: 1, withdrawn: 0, rejected: 0 });
  for (const p of [b, c]) {
    const msgs = engine.takeMessages(p);
    assert.equal(msgs.length, 1);
    assert.ok(msgs[0] instanceof Uint8Array);
    const u = decodeUpdate(msgs[0]);
    assert.deepEqual(u.nlri, [{ prefix: "10.99.0.0/24" }]);
    assert.equal(u.originatorId, "10.0.0.1");
    assert.deepEqual(u.clusterList, ["192.0.2.100"]);
    assert.equal(u.nextHop, "10.0.0.1");
    assert.equal(u.localPref, 100);
    assert.deepEqual(u.errors, []);
  }
  assert.equal(engine.takeTransmit(a).length, 0, "nothing goes back to the sender");
  const best = engine.bestPaths();
  assert.equal(best.length, 1);
  assert.deepEqual(
    { prefix: best[0].prefix, peer: best[0].peer, nextHop: best[0].nextHop, origin: best[0].origin, localPref: best[0].localPref, asPath: best[0].asPath, originatorId: best[0].originatorId, clusterList: best[0].clusterList },
    { prefix: "10.99.0.0/24", peer: a, nextHop: "10.0.0.1", origin: "IGP", localPref: 100, asPath: "", originatorId: null, clusterList: [] },
  );
  assert.deepEqual(best[0].attributes.map((x) => x.name), ["ORIGIN", "AS_PATH", "NEXT_HOP", "LOCAL_PREF"]);
  assert.equal(engine.candidates("10.99.0.0/24").length, 1);
  assert.equal(engine.best("10.99.0.0/24").peer, a);
  assert.equal(engine.best("10.98.0.0/24"), undefined);
  const ca = engine.counters(a), cb = engine.counters(b);
  assert.equal(ca.updatesReceived, 1);
  assert.equal(ca.prefixesReceived, 1);
  assert.equal(ca.accepted, 1);
  assert.equal(cb.updatesSent, 3, "two End-of-RIB markers, then the reflected UPDATE");
  assert.equal(cb.prefixesSent, 1);
  engine.free();
});

test("withdrawal and peer down reach the other clients", () => {
  const { engine, peers: [a, b, c] } = setup();
  void engine.handleMessage(a, UPDATE);
  engine.flush();
  engine.takeMessages(b); engine.takeMessages(c);
  assert.deepEqual(engine.handleMessage(a, WITHDRAW), { kind: "accepted", announced: 0, withdrawn: 1, rejected: 0 });
  const [w] = engine.takeMessages(b);
  assert.deepEqual(decodeUpdate(w).withdrawn, [{ prefix: "10.99.0.0/24" }]);
  assert.deepEqual(engine.bestPaths(), []);
  void engine.handleMessage(a, UPDATE);
  engine.takeMessages(c);
  engine.peerDown(a);
  assert.equal(engine.isUp(a), false);
  assert.deepEqual(decodeUpdate(engine.takeMessages(c)[0]).withdrawn, [{ prefix: "10.99.0.0/24" }]);
  assert.deepEqual(engine.handleMessage(a, UPDATE), { kind: "notUp" });
  engine.free();
});

test("events: peers up, best path changes, loop rejection by CLUSTER_LIST", () => {
  const { engine, peers: [a, b] } = setup();
  const kinds = [];
  for (let e; (e = engine.pollEvent()) !== undefined;) kinds.push(e);
  assert.deepEqual(kinds.filter((e) => e.kind === "peerUp").map((e) => e.peer), [...engine.peers()]);
  void engine.handleMessage(a, UPDATE);
  engine.flush();
  const events = [];
  for (let e; (e = engine.pollEvent()) !== undefined;) events.push(e);
  assert.deepEqual(events.find((e) => e.kind === "bestChanged"), { kind: "bestChanged", prefix: "10.99.0.0/24", best: a });
  // A reflected copy coming back with our own cluster ID in CLUSTER_LIST is a loop.
  const back = engine.takeMessages(b)[0];
  const out = engine.handleMessage(b, back);
  assert.deepEqual(out, { kind: "accepted", announced: 0, withdrawn: 0, rejected: 1 });
  const loop = [];
  for (let e; (e = engine.pollEvent()) !== undefined;) loop.push(e);
  assert.deepEqual(loop.filter((e) => e.kind === "loopRejected"), [{ kind: "loopRejected", peer: b, prefix: "10.99.0.0/24", reason: "clusterList" }]);
  assert.equal(engine.counters(b).rejectedLoop, 1);
  engine.free();
});

// ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, MP_REACH_NLRI VPN-IPv4: next hop RD 0 + 10.0.0.1,
// label 1001, RD 65000:1, 10.43.0.0/16.
const VPN_UPDATE = hexToBytes("ffffffffffffffffffffffffffffffff 0048 02 0000 0031 40010100 400200 40050400000064 " +
  "900e001f 0001 80 0c 0000000000000000 0a000001 00 68 003e91 0000fde800000001 0a2b");

test("keyed families: a VPN-IPv4 route's best path by its NLRI, and its event", () => {
  const engine = new Engine({ localAs: 65000, routerId: "192.0.2.1", recordEvents: true });
  const [a, b] = ["10.0.0.1", "10.0.0.2"].map((address, i) => {
    const id = engine.addPeer({ role: "client", address, asn: 65000 });
    engine.peerUp(id, { routerId: `10.0.0.${i + 1}`, families: ["ipv4-unicast", "ipv4-vpn"] });
    return id;
  });
  engine.flush();
  for (let e; (e = engine.pollEvent()) !== undefined;);
  assert.deepEqual(engine.handleMessage(a, VPN_UPDATE), { kind: "accepted", announced: 1, withdrawn: 0, rejected: 0 });
  engine.flush();
  const events = [];
  for (let e; (e = engine.pollEvent()) !== undefined;) events.push(e);
  const keyed = events.filter((e) => e.kind === "keyedBestChanged");
  assert.equal(keyed.length, 1);
  assert.equal(keyed[0].family, "ipv4-vpn");
  assert.equal(keyed[0].best, a);
  assert.match(keyed[0].key, /^[0-9a-f]+$/);
  const routes = engine.keyedPaths("ipv4-vpn");
  assert.deepEqual(routes.map((r) => [r.prefix, r.peer, r.localPref, r.originatorId]),
    [["65000:1:10.43.0.0/16 label 1001", a, 100, null]]);
  assert.deepEqual(engine.keyedPaths("l2vpn-evpn"), []);
  assert.deepEqual(engine.bestPaths(), [], "nothing in unicast");
  assert.throws(() => engine.keyedPaths("ipv4-unicast"), /bestPaths/);
  assert.throws(() => engine.keyedPaths("ipv5-vpn"), /unknown variant/);
  assert.equal(engine.takeMessages(b).length >= 1, true, "B is sent the route");
  engine.free();
});

test("RFC 7606 outcomes: treat-as-withdraw and reset with the NOTIFICATION", () => {
  const { engine, peers: [a] } = setup();
  // NEXT_HOP of length 5: attribute length error, treat-as-withdraw (RFC 7606 §7.3).
  const bad = hexToBytes("ffffffffffffffffffffffffffffffff 0031 02 0000 0016 40010100 400200 4003050a00000100 40050400000064 180a6300");
  const t = engine.handleMessage(a, bad);
  assert.equal(t.kind, "treatAsWithdraw");
  assert.equal(t.error.action, "treat-as-withdraw");
  assert.equal(t.error.code, 3);
  assert.equal(typeof t.error.codeName, "string");
  // A message type 9: fatal, the engine hands back the NOTIFICATION to send.
  const r = engine.handleMessage(a, hexToBytes("ffffffffffffffffffffffffffffffff 0013 09"));
  assert.equal(r.kind, "reset");
  assert.equal(r.error.fatal, true);
  assert.ok(r.notification instanceof Uint8Array);
  assert.equal(r.notification[18], 3, "a NOTIFICATION message");
  assert.equal(r.notification[19], r.error.code);
  assert.equal(engine.isUp(a), false);
  engine.free();
});

test("bad arguments throw Errors with the reason", () => {
  assert.throws(() => new Engine({ localAs: 1, routerId: "nope" }), /routerId: expected an IPv4 address/);
  const engine = new Engine({ localAs: 65000, routerId: "192.0.2.1" });
  assert.throws(() => engine.addPeer({ role: "client", address: "10.0.0.300", asn: 65000 }), /address/);
  assert.throws(() => engine.addPeer({ role: "boss", address: "10.0.0.3", asn: 65000 }), /config: .*boss/);
  assert.throws(() => engine.addPeer({ address: "10.0.0.3", asn: 65000 }), /config: .*role/);
  assert.throws(() => engine.peerUp(0, { routerId: "10.0.0.1", families: ["ipv5"] }), /unknown peer 0|ipv5/);
  assert.throws(() => engine.peerUp(42, { routerId: "10.0.0.1" }), /unknown peer 42/);
  assert.throws(() => engine.counters(42), /unknown peer 42/);
  // The engine is still usable after those throws (no borrow left behind).
  const ok = engine.addPeer({ role: "nonClient", address: "2001:db8::1", asn: 65000, addPathSend: { best: 2 } });
  engine.peerUp(ok, { routerId: "10.0.0.9", families: ["ipv6-unicast"], addPathSend: ["ipv6-unicast"] });
  assert.equal(engine.isUp(ok), true);
  assert.throws(() => engine.candidates("10.0.0.0/33"), /prefix/);
  engine.originate("10.7.0.0/16", "192.0.2.1");
  assert.equal(engine.best("10.7.0.0/16").peer, null);
  assert.equal(engine.withdrawLocal("10.7.0.0/16"), true);
  engine.free();
});

// ---------------------------------------------------------------- generated types

/** Field names of an interface or object-literal union member in the .d.ts. */
function fieldsOf(body) {
  return new Set([...body.replace(/\/\*\*[\s\S]*?\*\//g, "").matchAll(/(\w+)\??:/g)].map((m) => m[1]));
}

test("returned objects have exactly the fields of the generated interfaces", () => {
  const { engine, peers: [a, b] } = setup();
  void engine.handleMessage(a, UPDATE);
  const iface = (name) => {
    const m = dts.match(new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`));
    assert.ok(m, `interface ${name} generated`);
    return fieldsOf(m[1]);
  };
  const same = (obj, name) => assert.deepEqual(new Set(Object.keys(obj)), iface(name), name);
  same(engine.bestPaths()[0], "Path");
  same(engine.counters(b), "PeerCounters");
  const t = engine.handleMessage(a, hexToBytes("ffffffffffffffffffffffffffffffff 0031 02 0000 0016 40010100 400200 4003050a00000100 40050400000064 180a6300"));
  same(t.error, "DecodeError");
  for (const name of ["EngineOptions", "PeerOptions", "Negotiated", "PrefixLimit"]) iface(name);
  assert.match(dts, /export type Outcome = \{ kind: "accepted"; announced: number; withdrawn: number; rejected: number \}/);
  assert.match(dts, /export type FamilyName = "ipv4-unicast"/);
  assert.match(dts, /handleMessage\(peer: number, bytes: Uint8Array[^)]*\): Outcome;/);
  assert.match(dts, /constructor\(config: EngineOptions\);/);
  assert.match(dts, /pollEvent\(\): EngineEvent \| undefined;/);
  engine.free();
});
