// The package API from TypeScript, type-checked in CI (`tsc --noEmit`, strict) against the
// reflector_wasm.d.ts of the packed tarball: the engine's types are generated from its Rust
// types (tsify), so a renamed or retyped field fails this check. The `@ts-expect-error` lines
// prove the types are not `any`: each must be an error.
import init, {
  Engine, MrtParser, decodeUpdate, decodeMessage, hexToBytes,
  type DecodedUpdate, type DecodeError, type EngineEvent, type EngineOptions, type FamilyName,
  type MrtRecord, type Negotiated, type Outcome, type Path, type PeerCounters, type PeerOptions,
  Simulator, type WhatIfReport, type NodeOutcome, type MigrationStepYaml, type MigrationState,
  type MigrationTransition, type MigrationLoss,
} from "reflector-wasm";

await init();

const config: EngineOptions = { localAs: 65000, routerId: "192.0.2.1", clusterId: "192.0.2.100", clientToClient: true, ebgpRequiresPolicy: true };
const engine = new Engine(config);
const client: PeerOptions = { role: "client", address: "10.0.0.1", asn: 65000, addPathSend: { best: 2 }, maxPrefixesIpv4: { max: 1000, warningOnly: true } };
const a: number = engine.addPeer(client);
const families: FamilyName[] = ["ipv4-unicast", "ipv6-unicast", "ipv4-vpn", "l2vpn-evpn"];
const negotiated: Negotiated = { routerId: "10.0.0.1", fourOctetAs: true, families, addPathReceive: ["ipv4-unicast"], enhancedRouteRefresh: true };
engine.peerUp(a, negotiated);

const outcome: Outcome = engine.handleMessage(a, hexToBytes("ffffffffffffffffffffffffffffffff 0017 02 0000 0000"));
function describe(o: Outcome): string {
  switch (o.kind) {
    case "accepted": return `${o.announced} announced, ${o.withdrawn} withdrawn, ${o.rejected} rejected`;
    case "treatAsWithdraw":
    case "attributeDiscarded": return errorText(o.error);
    case "reset": return `${errorText(o.error)}; send ${o.notification.byteLength} bytes`;
    case "familyDisabled": return `${o.family} off: ${errorText(o.error)}`;
    case "routeRefresh": return `refresh ${o.family}`;
    case "ignored": return o.messageType;
    case "notUp": return "not up";
  }
}
function errorText(e: DecodeError): string {
  const code: number = e.code;
  const name: string | null = e.codeName;
  return `${e.kind} (${e.action}) NOTIFICATION ${code}/${e.subcode} ${name ?? ""} at ${e.offset}`;
}
console.log(describe(outcome));

const out: Uint8Array[] = engine.takeMessages(a);
const all: Uint8Array = engine.takeTransmit(a);
const paths: Path[] = engine.bestPaths();
for (const p of paths) {
  const lp: number | null = p.localPref;
  const cl: string[] = p.clusterList;
  const origin: string | null = p.originatorId;
  const from: number | null = p.peer;
  console.log(p.prefix, p.nextHop, p.asPath, lp, cl, origin, from, p.attributes.map((x) => x.name));
}
const best: Path | undefined = engine.best("10.99.0.0/24");
const counters: PeerCounters = engine.counters(a);
const sent: number = counters.prefixesSent + counters.updatesReceived + counters.rejectedLoop;
for (let e: EngineEvent | undefined; (e = engine.pollEvent()) !== undefined; ) {
  if (e.kind === "bestChanged") console.log(e.prefix, e.best);
  else if (e.kind === "loopRejected") console.log(e.peer, e.reason);
  else if (e.kind === "updateError") console.log(e.error.action);
}
engine.routeRefresh(a, "ipv4-unicast");
engine.peerDownGraceful(a, ["ipv4-unicast"]);
engine.peerUpGraceful(a, negotiated, ["ipv4-unicast"]);
engine.restartTimerExpired(a);
engine.originate("10.7.0.0/16", "192.0.2.1");
const removed: boolean = engine.withdrawLocal("10.7.0.0/16");
console.log(out.length, all.byteLength, best?.prefix, sent, removed, engine.eventsDropped, engine.peers().length);
engine.peerDown(a);
engine.free();

const u: DecodedUpdate = decodeUpdate(new Uint8Array(23), { fourOctetAs: true, addPath: false });
const nlri: string[] = u.nlri.map((n) => n.prefix);
const kinds: string[] = u.errors.map((e: DecodeError) => e.action);
console.log(nlri, kinds, u.originatorId, u.clusterList, decodeMessage(new Uint8Array(19)).type);

const parser = new MrtParser();
const records: MrtRecord[] = parser.push(new Uint8Array(0));
for (const r of records) if (r.kind === "bgp4mpMessage") console.log(r.body.peerAs, r.body.message.type);
console.log(parser.finish().records);
parser.free();

// @ts-expect-error: role is "client" | "nonClient" | "ebgp"
engine.addPeer({ role: "boss", address: "10.0.0.2", asn: 65000 });
// @ts-expect-error: routerId is required
engine.peerUp(a, { fourOctetAs: true });
// @ts-expect-error: not a family name
engine.routeRefresh(a, "ipv5-unicast");
// @ts-expect-error: localAs is a number
new Engine({ localAs: "65000", routerId: "192.0.2.1" });
// @ts-expect-error: Path has no field next_hop (camelCase)
console.log(paths[0]?.next_hop);
// @ts-expect-error: Outcome "accepted" has no error
if (outcome.kind === "accepted") console.log(outcome.error);

// The simulator's failures and migrations (type-checked only).
export function whatIf(sim: Simulator, steps: MigrationStepYaml[]): string {
  const r: WhatIfReport = sim.failNode("zyisy");
  const lost: string[] = r.outcomes.flatMap((o: NodeOutcome) => o.lost);
  const back: WhatIfReport = sim.restoreNode("zyisy");
  const st: MigrationState = sim.startMigration(steps);
  const t: MigrationTransition = sim.migrationNext();
  const losses: MigrationLoss[] = t.losses;
  return `${r.action} ${lost.length} ${back.everyBlockKept} ${st.current} ${t.run.messages} ${losses.filter((l) => l.stillMissing).length}`;
}
// @ts-expect-error: action is "fail" | "restore"
export const action: WhatIfReport["action"] = "break";
