// A route reflector with three clients, in Node.js, written from the package README
// (reflector-wasm): client A announces 10.99.0.0/24; the reflector sends it on to
// clients B and C with ORIGINATOR_ID and CLUSTER_LIST; then A withdraws it.
//
//   npm install reflector-wasm-<version>.tgz && node node-reflect.mjs
import fs from "node:fs";
import { initSync, Engine, decodeUpdate, hexToBytes } from "reflector-wasm";

initSync({ module: fs.readFileSync(new URL(import.meta.resolve("reflector-wasm/reflector_wasm_bg.wasm"))) });

// The UPDATE client A sends: ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1,
// LOCAL_PREF 100, MED 50, COMMUNITIES 65000:42; NLRI 10.99.0.0/24.
const announce = hexToBytes(
  "ffffffffffffffffffffffffffffffff 003e 02 0000 0023" +
    " 40010100 400200 4003040a000001 40050400000064 80040400000032 c00804fde8002a" +
    " 180a6300",
);
// Then the same prefix withdrawn.
const withdraw = hexToBytes("ffffffffffffffffffffffffffffffff 001b 02 0004 180a6300 0000");

const engine = new Engine({ localAs: 65000, routerId: "192.0.2.1", clusterId: "192.0.2.100" });
const names = new Map();
for (const [name, address] of [["A", "10.0.0.1"], ["B", "10.0.0.2"], ["C", "10.0.0.3"]]) {
  const id = engine.addPeer({ role: "client", address, asn: 65000 });
  engine.peerUp(id, { routerId: address });
  names.set(name, id);
}
const [a, b, c] = ["A", "B", "C"].map((n) => names.get(n));

/** Prints what the reflector sends a client, decoded. */
function show(name, peer) {
  for (const msg of engine.takeMessages(peer)) {
    const u = decodeUpdate(msg);
    if (u.endOfRib) continue;
    for (const n of u.nlri) {
      console.log(`to ${name}: announce ${n.prefix} nextHop ${u.nextHop} localPref ${u.localPref} med ${u.med} communities ${u.communities.join(",")} originatorId ${u.originatorId} clusterList ${u.clusterList.join(",")}`);
    }
    for (const w of u.withdrawn) console.log(`to ${name}: withdraw ${w.prefix}`);
  }
}

const outcome = engine.handleMessage(a, announce);
console.log(`from A: ${outcome.kind} announced ${outcome.kind === "accepted" ? outcome.announced : "-"}`);
show("A", a);
show("B", b);
show("C", c);
for (const p of engine.bestPaths()) {
  console.log(`Loc-RIB: ${p.prefix} from peer ${p.peer === a ? "A" : p.peer} nextHop ${p.nextHop} asPath "${p.asPath}"`);
}
console.log(`counters B: prefixesSent ${engine.counters(b).prefixesSent}`);

const w = engine.handleMessage(a, withdraw);
console.log(`from A: ${w.kind} withdrawn ${w.kind === "accepted" ? w.withdrawn : "-"}`);
show("B", b);
show("C", c);
console.log(`Loc-RIB: ${engine.bestPaths().length} paths`);
engine.free();
