// The wire API of the reflector-wasm package under Node.js: decodeUpdate, decodeMessage,
// hexToBytes and the streaming MrtParser, on real bytes from the shared MRT dumps
// (<repo>/../shared/data, or $SHARED_DATA; counts from its SOURCES.md), and every decoded
// object checked against the hand-written TypeScript interfaces of reflector_wasm.d.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "..", "pkg");
const shared = process.env.SHARED_DATA || path.resolve(here, "..", "..", "..", "shared", "data");
const mrtFile = (name) => {
  const raw = fs.readFileSync(path.join(shared, "mrt", name));
  return new Uint8Array(name.endsWith(".gz") ? zlib.gunzipSync(raw) : raw);
};

const { initSync, decodeUpdate, decodeMessage, hexToBytes, MrtParser } = await import(path.join(pkg, "reflector_wasm.js"));
initSync({ module: fs.readFileSync(path.join(pkg, "reflector_wasm_bg.wasm")) });

// ---------------------------------------------------------------- the .d.ts interfaces

/** Field names of each `export interface` of the .d.ts: { Name: { required: Set, optional: Set } }. */
function interfaces(dts) {
  const out = {};
  const re = /export interface (\w+)(?: extends ([\w, ]+))? \{/g;
  let m;
  while ((m = re.exec(dts))) {
    let depth = 1, i = re.lastIndex;
    for (; depth > 0 && i < dts.length; i++) depth += dts[i] === "{" ? 1 : dts[i] === "}" ? -1 : 0;
    const body = dts.slice(re.lastIndex, i - 1).replace(/\/\*\*[\s\S]*?\*\//g, "");
    const fields = { required: new Set(), optional: new Set() };
    let d = 0, cur = "";
    for (const ch of body + ";") {
      if (ch === "{" || ch === "(" || ch === "<") d++;
      if (ch === "}" || ch === ")" || ch === ">") d--;
      if ((ch === ";" || ch === "\n") && d === 0) {
        const f = cur.trim().match(/^(\w+)(\?)?:/);
        if (f) fields[f[2] ? "optional" : "required"].add(f[1]);
        cur = "";
      } else cur += ch;
    }
    for (const parent of (m[2] || "").split(",").map((x) => x.trim()).filter(Boolean)) {
      for (const k of ["required", "optional"]) for (const f of out[parent][k]) fields[k].add(f);
    }
    out[m[1]] = fields;
  }
  return out;
}
const dts = fs.readFileSync(path.join(pkg, "reflector_wasm.d.ts"), "utf8");
const TS = interfaces(dts);

/** Asserts that `obj` has exactly the fields interface `name` declares (optional ones may be missing). */
function conforms(obj, name, where = name) {
  const t = TS[name];
  assert.ok(t, `no interface ${name} in reflector_wasm.d.ts`);
  for (const k of Object.keys(obj)) assert.ok(t.required.has(k) || t.optional.has(k), `${where}: field ${k} is not in interface ${name}`);
  for (const k of t.required) assert.ok(k in obj, `${where}: field ${k} of interface ${name} is missing`);
}

const MESSAGE_INTERFACE = { UPDATE: "DecodedUpdate", OPEN: "DecodedOpen", NOTIFICATION: "DecodedNotification", "ROUTE-REFRESH": "DecodedRouteRefresh", KEEPALIVE: "DecodedKeepalive" };

function checkMessage(m, where) {
  const name = m.errors.length && m.type !== "UPDATE" ? "DecodedInvalid" : MESSAGE_INTERFACE[m.type] || "DecodedInvalid";
  conforms(m, name, where);
  for (const e of m.errors) conforms(e, "DecodeError", `${where}.errors`);
  if (m.type === "UPDATE") {
    for (const a of m.attributes) conforms(a, "PathAttribute", `${where}.attributes`);
    for (const n of [...m.nlri, ...m.withdrawn]) conforms(n, "NlriEntry", `${where}.nlri`);
    if (m.mpReach) conforms(m.mpReach, "MpReachValue", `${where}.mpReach`);
    if (m.mpUnreach) conforms(m.mpUnreach, "MpUnreachValue", `${where}.mpUnreach`);
  }
}

const BODY_INTERFACE = { peerIndexTable: "MrtPeerIndexTable", rib: "MrtRib", tableDump: "MrtTableDump", bgp4mpMessage: "MrtBgp4mpMessage", bgp4mpStateChange: "MrtBgp4mpStateChange" };

function checkRecord(r) {
  const where = `record at ${r.offset}`;
  const base = TS.MrtRecordBase;
  for (const k of base.required) assert.ok(k in r, `${where}: ${k} missing`);
  assert.deepEqual(Object.keys(r).filter((k) => !base.required.has(k)).sort(), ["body", "kind"]);
  if (r.kind === "unknown") return;
  conforms(r.body, BODY_INTERFACE[r.kind], where);
  if (r.kind === "bgp4mpMessage") checkMessage(r.body.message, `${where}.message`);
  if (r.kind === "rib") for (const e of r.body.entries) { conforms(e, "MrtRibEntry", where); e.attributes.forEach((a) => conforms(a, "PathAttribute", where)); }
  if (r.kind === "tableDump") r.body.attributes.forEach((a) => conforms(a, "PathAttribute", where));
}

// ---------------------------------------------------------------- decodeUpdate

const UPDATE_HEX =
  "ffffffffffffffffffffffffffffffff 0048 02 0000 002d 40010100 40020a0202 0000fde9 0000fdea " +
  "4003040a000001 c00804fde90064 8009040a000003 800a04e0000001 180a6300";

test("decodeUpdate: a reflected UPDATE as a plain camelCase object", () => {
  const u = decodeUpdate(hexToBytes(UPDATE_HEX));
  checkMessage(u, "example");
  assert.equal(Object.getPrototypeOf(u), Object.prototype);
  assert.deepEqual(
    { type: u.type, length: u.length, nlri: u.nlri, origin: u.origin, asPath: u.asPath, nextHop: u.nextHop, communities: u.communities, originatorId: u.originatorId, clusterList: u.clusterList, action: u.action, errors: u.errors },
    { type: "UPDATE", length: 72, nlri: [{ prefix: "10.99.0.0/24" }], origin: "IGP", asPath: "65001 65002", nextHop: "10.0.0.1", communities: ["65001:100"], originatorId: "10.0.0.3", clusterList: ["224.0.0.1"], action: null, errors: [] },
  );
  assert.deepEqual(u.attributes.map((a) => [a.typeCode, a.name, a.decoded, a.discarded]), [
    [1, "ORIGIN", true, false], [2, "AS_PATH", true, false], [3, "NEXT_HOP", true, false],
    [8, "COMMUNITIES", true, false], [9, "ORIGINATOR_ID", true, false], [10, "CLUSTER_LIST", true, false],
  ]);
  assert.deepEqual(u.attributes[1].value, [{ type: "AS_SEQUENCE", asns: [65001, 65002] }]);
  assert.deepEqual(u.attributes[3].flags, { optional: true, transitive: true, partial: false, extendedLength: false });
  // Read as a 2-octet-AS session, the 4-octet AS_PATH is malformed: shown as bytes, with the error.
  const as2 = decodeUpdate(hexToBytes(UPDATE_HEX), { fourOctetAs: false });
  assert.deepEqual([as2.errors[0].kind, as2.errors[0].action, as2.errors[0].subcode], ["MalformedAsPath", "treat-as-withdraw", 11]);
  assert.deepEqual([as2.attributes[1].decoded, as2.attributes[1].value, as2.asPath], [false, "02020000fde90000fdea", null]);
  assert.throws(() => decodeUpdate(hexToBytes(UPDATE_HEX), { addPath: "yes" }), /option addPath must be a boolean/);
  assert.throws(() => hexToBytes("0g"), /not a hex digit/);
});

test("decodeUpdate: RFC 7606 errors as typed objects with the action and NOTIFICATION code/subcode", () => {
  const cases = [
    // [change to the example, kind, action, code, subcode, attributeType]
    [["4003040a000001", "40030400000000"], "InvalidNextHop", "treat-as-withdraw", 3, 8, 3],
    [["40010100", "40010105"], "InvalidOrigin", "treat-as-withdraw", 3, 6, 1],
    [["40010100", "40010200"], "AttributeLength", "treat-as-withdraw", 3, 5, 1],
    [["002d 4001", "002d 0001"], "AttributeFlags", "treat-as-withdraw", 3, 4, 1],
    [["0048 02 0000 002d", "0047 02 0000 002c", "800a04e0000001", "800a03e00000"], "AttributeLength", "treat-as-withdraw", 3, 5, 10],
    // The last attribute runs past the attribute block (RFC 7606 §4: treat-as-withdraw) ...
    [["0048 02 0000 002d", "0048 02 0000 002e"], "MalformedAttributeList", "treat-as-withdraw", 3, 1, null],
    // ... while a withdrawn-routes length past the message resets the session.
    [["0048 02 0000 002d", "0048 02 00ff 002d"], "MalformedAttributeList", "session-reset", 3, 1, null],
    [["0048 02", "0049 02"], "BadMessageLength", "session-reset", 1, 2, null],
  ];
  for (const [edits, kind, action, code, subcode, attributeType] of cases) {
    let hex = UPDATE_HEX;
    for (let i = 0; i < edits.length; i += 2) {
      assert.ok(hex.includes(edits[i]), edits[i]);
      hex = hex.replace(edits[i], edits[i + 1]);
    }
    const u = decodeUpdate(hexToBytes(hex));
    checkMessage(u, kind);
    assert.equal(u.errors.length, 1, `${kind}: ${JSON.stringify(u.errors)}`);
    const e = u.errors[0];
    assert.deepEqual({ kind: e.kind, action: e.action, code: e.code, subcode: e.subcode, attributeType: e.attributeType }, { kind, action, code, subcode, attributeType }, JSON.stringify(e));
    assert.equal(e.fatal, action === "session-reset");
    assert.equal(u.action, action);
    assert.equal(u.treatAsWithdraw, action === "treat-as-withdraw");
    assert.match(e.codeName, code === 3 ? /UPDATE Message Error/ : /Message Header Error/);
    assert.equal(typeof e.subcodeName, "string");
    assert.match(e.message, new RegExp(`NOTIFICATION ${code}/${subcode}, ${action}`));
  }
  // A treat-as-withdraw UPDATE still shows what it carried.
  const twd = decodeUpdate(hexToBytes(UPDATE_HEX.replace("4003040a000001", "40030400000000")));
  assert.deepEqual(twd.nlri, [{ prefix: "10.99.0.0/24" }]);
  // Not an UPDATE, or cut short.
  assert.equal(decodeUpdate(hexToBytes("ffffffffffffffffffffffffffffffff001304")).errors[0].kind, "BadMessageType");
  assert.equal(decodeUpdate(new Uint8Array([0xff, 0xff])).errors[0].kind, "Truncated");
});

// ---------------------------------------------------------------- MRT, real bytes

/** Pushes `bytes` in chunks of varying size; returns the records and the summary. */
function parseMrt(bytes, sizes = [1, 7, 4096, 13, 65536, 333]) {
  const p = new MrtParser();
  const records = [];
  let at = 0, k = 0;
  while (at < bytes.length) {
    const n = sizes[k++ % sizes.length];
    records.push(...p.push(bytes.subarray(at, at + n)));
    at += n;
  }
  assert.equal(p.recordCount, records.length);
  const summary = p.finish();
  conforms(summary, "MrtSummary");
  p.free();
  return { records, summary };
}

function tally(records) {
  const t = { records: records.length, byType: {}, messages: {}, v4: 0, v6: 0, wd4: 0, wd6: 0 };
  for (const r of records) {
    t.byType[r.typeName] = (t.byType[r.typeName] || 0) + 1;
    if (r.kind !== "bgp4mpMessage") continue;
    const m = r.body.message;
    t.messages[m.type] = (t.messages[m.type] || 0) + 1;
    if (m.type !== "UPDATE") continue;
    t.v4 += m.nlri.length;
    t.wd4 += m.withdrawn.length;
    if (m.mpReach?.family?.name === "ipv6-unicast") t.v6 += m.mpReach.nlri.length;
    if (m.mpUnreach?.family?.name === "ipv6-unicast") t.wd6 += m.mpUnreach.withdrawn.length;
  }
  return t;
}

test("MrtParser: a RIPE-era update dump streamed in odd chunks, counts as in SOURCES.md", () => {
  // updates.20100722.2015.gz: 2,193 records (MESSAGE_AS4 1,364, MESSAGE 789, STATE_CHANGE_AS4 40);
  // UPDATE 1,822, KEEPALIVE 331; announced IPv4 5,037 / IPv6 30; withdrawn IPv4 539 / IPv6 8.
  const bytes = mrtFile("updates.20100722.2015.gz");
  const { records, summary } = parseMrt(bytes);
  assert.deepEqual(summary, { records: 2193, skipped: 0, bytes: bytes.length, leftoverBytes: 0, errors: [] });
  const t = tally(records);
  assert.deepEqual(t.byType, { "BGP4MP/MESSAGE_AS4": 1364, "BGP4MP/MESSAGE": 789, "BGP4MP/STATE_CHANGE_AS4": 40 });
  assert.deepEqual(t.messages, { UPDATE: 1822, KEEPALIVE: 331 });
  assert.deepEqual([t.v4, t.v6, t.wd4, t.wd6], [5037, 30, 539, 8]);
  for (const r of records) checkRecord(r);
  // Offsets tile the stream.
  let at = 0;
  for (const r of records) { assert.equal(r.offset, at); at += r.length; }
  assert.equal(at, bytes.length);
  // A state change names its states.
  const sc = records.find((r) => r.kind === "bgp4mpStateChange");
  assert.equal(typeof sc.body.newStateName, "string");
  // decodeUpdate on the raw bytes of a real UPDATE gives what the parser gave.
  const rec = records.find((r) => r.kind === "bgp4mpMessage" && r.body.message.type === "UPDATE" && r.body.fourOctetAs && r.body.message.nlri.length > 1);
  const raw = bytes.subarray(rec.offset, rec.offset + rec.length);
  const start = raw.findIndex((_, i) => raw.subarray(i, i + 16).every((b) => b === 0xff));
  assert.deepEqual(decodeUpdate(raw.subarray(start)), rec.body.message);
  assert.deepEqual(decodeMessage(raw.subarray(start)), rec.body.message);
});

test("MrtParser: every message type of a Quagga dump (OPEN, NOTIFICATION, ROUTE-REFRESH) and ADD-PATH", () => {
  // quagga_bgp.mrt: 67 records; OPEN 4, KEEPALIVE 10, UPDATE 24, ROUTE-REFRESH 7, NOTIFICATION 2.
  const q = parseMrt(mrtFile("quagga_bgp.mrt"));
  assert.equal(q.summary.records, 67);
  assert.deepEqual(tally(q.records).messages, { OPEN: 4, KEEPALIVE: 10, UPDATE: 24, "ROUTE-REFRESH": 7, NOTIFICATION: 2 });
  for (const r of q.records) checkRecord(r);
  const open = q.records.find((r) => r.body.message?.type === "OPEN").body.message;
  assert.ok(open.capabilities.some((c) => c.code === 69 && c.name === "add-path"));
  const notification = q.records.find((r) => r.body.message?.type === "NOTIFICATION").body.message;
  assert.equal(typeof notification.codeName, "string");
  // bird6-mrtdump_bgp.mrt: MESSAGE_AS4_ADDPATH records; 12 IPv6 announcements with path IDs.
  const b = parseMrt(mrtFile("bird6-mrtdump_bgp.mrt"));
  const v6 = b.records.flatMap((r) => r.body.message?.mpReach?.nlri || []);
  assert.equal(v6.length, 12);
  assert.ok(v6.every((n) => Number.isInteger(n.pathId) && n.prefix.includes(":")));
  for (const r of b.records) checkRecord(r);
});

test("MrtParser: table dumps (TABLE_DUMP_V2 with ADD-PATH, legacy TABLE_DUMP) and a cut stream", () => {
  // bird-mrtdump_rib.mrt: 2 PEER_INDEX_TABLE, 4 RIB_IPV4_UNICAST, 8 RIB_IPV4_UNICAST_ADDPATH; 18 entries.
  const bytes = mrtFile("bird-mrtdump_rib.mrt");
  const { records } = parseMrt(bytes);
  assert.deepEqual(tally(records).byType, { "TABLE_DUMP_V2/PEER_INDEX_TABLE": 2, "TABLE_DUMP_V2/RIB_IPV4_UNICAST": 4, "TABLE_DUMP_V2/RIB_IPV4_UNICAST_ADDPATH": 8 });
  assert.equal(records.filter((r) => r.kind === "rib").reduce((n, r) => n + r.body.entries.length, 0), 18);
  for (const r of records) checkRecord(r);
  const pit = records[0].body;
  assert.ok(pit.peers.length > 0 && pit.peers.every((p) => typeof p.asn === "number"));
  const entry = records.filter((r) => r.kind === "rib").flatMap((r) => r.body.entries).find((e) => e.attributes.length > 0);
  assert.ok(entry.attributes.some((a) => a.name === "AS_PATH" && a.decoded), JSON.stringify(entry));
  // openbgpd_rib_table.mrt: legacy TABLE_DUMP, 11 AFI_IPv4 + 20 AFI_IPv6 records.
  const legacy = parseMrt(mrtFile("openbgpd_rib_table.mrt"));
  assert.equal(legacy.records.filter((r) => r.kind === "tableDump").length, 31);
  for (const r of legacy.records) checkRecord(r);
  // Cut 5 bytes short: every whole record, then a truncation error at the last one's offset.
  const p = new MrtParser();
  const got = p.push(bytes.subarray(0, bytes.length - 5));
  assert.equal(got.length, records.length - 1);
  assert.equal(p.buffered, records.at(-1).length - 5);
  const s = p.finish();
  assert.equal(s.leftoverBytes, records.at(-1).length - 5);
  assert.deepEqual([s.errors[0].kind, s.errors[0].offset], ["Truncated", records.at(-1).offset]);
  conforms(s.errors[0], "DecodeError");
});
