// Reflector demo: a Calico cluster run by real Reflector engines in WebAssembly.
// Every name that comes from the YAML (nodes, BGPPeers, messages) reaches the page
// through textContent or attributes set by h(): never through innerHTML.
import init, { Simulator, decodeUpdate, hexToBytes, MrtParser } from "../pkg/reflector_wasm.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_CID = "224.0.0.1";
const COLORS = {
  node: "#3b6fd8", rr: "#e0533d", ext: "#f0a020", pkt: "#ffcc00", drop: "#d92d20", ink: "#1b2333", failed: "#9aa3b5",
};
/** Session types, told apart by dash pattern as well as colour (canvas and legend share this table). */
const SESSION_TYPES = [
  { key: "mesh", label: "iBGP mesh / peering", color: "#7d8fb8", dash: [] },
  { key: "rr-client", label: "reflector ↔ client", color: "#17a398", dash: [8, 5] },
  { key: "rr-rr", label: "reflector ↔ reflector", color: "#9b59d0", dash: [14, 4, 2, 4] },
  { key: "external", label: "external (eBGP) peer", color: "#d97706", dash: [2, 4] },
];
const SESSION_STYLE = new Map(SESSION_TYPES.map((t) => [t.key, t]));
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

/** An element: props are attributes (class, text, on<event> handled apart), children strings or nodes. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Says what changed, in the aria-live status line of the header. */
function announce(text) {
  $("status").textContent = text;
}

const state = {
  sim: null,
  story: "",
  graph: null,
  peers: [],
  mode: "rr",
  remembered: new Map(), // reflector name -> cluster ID, kept while the mesh is shown
  selected: null,
  pos: [], // node index -> {x, y, r}
  extPos: [], // external peer index -> {x, y, r}
  listFocus: 0, // index in the node list of the option that takes the tab stop
  packets: [],
  animating: false,
  announced: 0,
  converge: null,
  counts: { mesh: 0, rr: 0 },
  whatif: null, // the last failure or restore report, until the network is rebuilt
  migrations: null, // { safe: [{ name, yaml }], unsafe: [...] } from migration.json
  migration: null, // { order, transitions } while a migration is in progress
};

// ---------------------------------------------------------------- helpers

function fail(e) {
  const msg = e instanceof Error ? e.message : String(e);
  announce("Error: " + msg);
  console.error(e);
  return msg;
}

function nodeByName(name) {
  return state.graph.nodes.find((n) => n.name === name);
}

function sessionsTotal(summary) {
  return summary.ipv4Sessions + summary.ipv6Sessions;
}

function fmt(n) {
  return n.toLocaleString("en-US");
}

// ---------------------------------------------------------------- cluster changes

function loadYaml(text, reason = "Cluster loaded") {
  const sim = new Simulator(text);
  state.sim?.free();
  state.sim = sim;
  syncMode();
  refresh(reason);
}

/** Takes the mode (mesh or reflectors) and the remembered reflectors from the cluster as it stands. */
function syncMode() {
  const g = state.sim.graph();
  state.remembered = new Map(g.nodes.filter((n) => n.reflector).map((n) => [n.name, n.clusterId]));
  state.mode = g.meshEnabled && state.remembered.size === 0 ? "mesh" : "rr";
  if (state.selected && !g.nodes.some((n) => n.name === state.selected)) state.selected = null;
}

/** The usual pair of BGPPeers (quoted selectors), when the cluster has none for reflectors. */
function ensureReflectorPeers() {
  const peers = state.sim.bgpPeers();
  if (peers.some((p) => (p.peerSelector || "").includes("route-reflector"))) return;
  state.sim.addBgpPeer({ name: "peer-to-rrs", nodeSelector: "!has(route-reflector)", peerSelector: "has(route-reflector)" });
  state.sim.addBgpPeer({ name: "rr-mesh", nodeSelector: "has(route-reflector)", peerSelector: "has(route-reflector)" });
}

function defaultReflectors(nodes) {
  if (nodes.length === 0) return [];
  const picks = nodes.length >= 4 ? [0, Math.floor(nodes.length / 2)] : [0];
  return picks.map((i) => nodes[i].name);
}

function setMode(mode) {
  if (mode === state.mode) return;
  const sim = state.sim;
  if (mode === "mesh") {
    for (const n of state.graph.nodes) if (n.reflector) sim.setReflector(n.name, null);
    sim.setMesh(true);
  } else {
    sim.setMesh(false);
    if (state.remembered.size === 0) {
      for (const name of defaultReflectors(state.graph.nodes)) state.remembered.set(name, DEFAULT_CID);
    }
    for (const [name, cid] of state.remembered) {
      if (nodeByName(name)) sim.setReflector(name, cid);
    }
    ensureReflectorPeers();
  }
  state.mode = mode;
  refresh(mode === "mesh" ? "Full mesh" : "Route reflectors");
}

function setReflector(name, cid) {
  state.sim.setReflector(name, cid);
  if (cid) state.remembered.set(name, cid);
  else state.remembered.delete(name);
  if (cid) ensureReflectorPeers();
  refresh(cid ? `${name} is a route reflector (cluster ${cid})` : `${name} is no longer a route reflector`);
}

function resize(n) {
  const reflectors = state.mode === "rr" ? Math.min(Math.max(state.remembered.size, 1), n) : 2;
  const yaml = Simulator.generateYaml(n, reflectors, 1);
  const mode = state.mode;
  loadYaml(yaml, `Cluster of ${n} nodes`);
  if (mode === "mesh") setMode("mesh");
}

/** Session counts of both designs for the current nodes. */
function computeCounts(summary) {
  state.counts.mesh = summary.fullMeshSessions;
  if (state.mode === "rr") {
    state.counts.rr = sessionsTotal(summary);
    return;
  }
  const t = new Simulator(state.sim.toYaml());
  try {
    t.setMesh(false);
    let marks = [...state.remembered];
    if (marks.length === 0) marks = defaultReflectors(state.graph.nodes).map((n) => [n, DEFAULT_CID]);
    for (const [name, cid] of marks) if (nodeByName(name)) t.setReflector(name, cid);
    if (!t.bgpPeers().some((p) => (p.peerSelector || "").includes("route-reflector"))) {
      t.addBgpPeer({ name: "peer-to-rrs", nodeSelector: "!has(route-reflector)", peerSelector: "has(route-reflector)" });
      t.addBgpPeer({ name: "rr-mesh", nodeSelector: "has(route-reflector)", peerSelector: "has(route-reflector)" });
    }
    state.counts.rr = sessionsTotal(t.summary());
  } finally {
    t.free();
  }
}

// ---------------------------------------------------------------- run

function converge() {
  const sim = state.sim;
  sim.reset();
  const t0 = performance.now();
  const report = sim.run(100000);
  const ms = performance.now() - t0;
  state.converge = { ms, report };
  state.whatif = null;
  renderWhatIf();
  window.reflectorDemo.lastConvergeMs = ms;
  window.reflectorDemo.lastReport = report;
  state.graph = sim.graph();
  $("converge-info").textContent =
    `${report.converged ? "Converged" : "Stopped"} in ${ms.toFixed(ms < 10 ? 1 : 0)} ms · ` +
    `${fmt(report.messages)} UPDATEs · ${report.steps} steps`;
  return `${report.converged ? "converged" : "stopped"} in ${ms.toFixed(1)} ms: ${fmt(report.messages)} BGP messages (${fmt(report.bytes)} bytes)`;
}

/** Sessions above which a change does not run the network by itself (the page would stall). */
const AUTO_RUN_SESSIONS = 20000;

/** Recomputes everything after a change to the cluster; `reason` says what changed (announced). */
function refresh(reason = "Cluster changed") {
  const sim = state.sim;
  state.graph = sim.graph();
  state.peers = sim.bgpPeers();
  const summary = sim.summary();
  computeCounts(summary);
  caption(null);
  state.whatif = null;
  renderWhatIf();
  if (!sim.migrationState()) state.migration = null;
  renderMigration();
  const total = sessionsTotal(summary);
  let run;
  if (total <= AUTO_RUN_SESSIONS) {
    run = converge();
  } else {
    sim.reset();
    state.converge = null;
    window.reflectorDemo.lastConvergeMs = null;
    window.reflectorDemo.lastReport = null;
    $("converge-info").textContent = `Not run yet: ${fmt(total)} sessions take a few seconds. Press Converge.`;
    run = "not run yet";
  }
  layout();
  drawStatic();
  draw();
  renderControls(summary);
  renderNodeList();
  renderNode();
  $("yaml").value = sim.toYaml();
  $("yaml-error").hidden = true;
  $("graph").setAttribute("aria-label",
    `Cluster graph: ${summary.nodes} nodes, ${summary.reflectors} route reflectors, ${fmt(total)} BGP sessions. The node list beside it selects nodes from the keyboard.`);
  announce(`${reason}: ${fmt(total)} BGP session${total === 1 ? "" : "s"}, ${summary.nodes} nodes; ${run}.`);
}

// ---------------------------------------------------------------- drawing

const canvas = $("graph");
const ctx = canvas.getContext("2d");
const back = document.createElement("canvas");
const bctx = back.getContext("2d");
let dpr = 1;

function layout() {
  const w = canvas.clientWidth, h = canvas.clientHeight;
  dpr = window.devicePixelRatio || 1;
  for (const c of [canvas, back]) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  const nodes = state.graph.nodes;
  const n = nodes.length;
  const cx = w / 2, cy = h / 2 + 10;
  const labels = n <= 40;
  const R = Math.max(60, Math.min(w, h) / 2 - (labels ? 62 : 34));
  const rrs = nodes.filter((x) => x.reflector);
  const others = nodes.filter((x) => !x.reflector);
  const spacing = (2 * Math.PI * R) / Math.max(1, others.length);
  const rOrd = n <= 12 ? 17 : labels ? 10 : Math.max(2.2, Math.min(7, spacing * 0.38));
  const rRR = n <= 12 ? 22 : labels ? 15 : Math.max(6, rOrd * 2.2);
  const pos = new Array(n);
  others.forEach((node, k) => {
    const a = -Math.PI / 2 + (2 * Math.PI * k) / others.length;
    pos[node.index] = { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a), r: rOrd, a };
  });
  const rIn = rrs.length <= 1 ? 0 : Math.min(R * 0.45, Math.max(R * 0.24, 26 + rrs.length * 14));
  rrs.forEach((node, k) => {
    const a = -Math.PI / 2 + (2 * Math.PI * k) / Math.max(1, rrs.length) + (rrs.length === 2 ? Math.PI / 2 : 0);
    pos[node.index] = { x: cx + rIn * Math.cos(a), y: cy + rIn * Math.sin(a), r: rRR, a };
  });
  // External peers (BGPPeer peerIP): diamonds down the right edge.
  const ext = state.graph.externals || [];
  state.extPos = ext.map((_, k) => ({ x: w - 28, y: 70 + k * Math.min(44, (h - 140) / Math.max(1, ext.length)), r: 7 }));
  state.pos = pos;
  state.labels = labels;
}

/** "mesh" | "rr-client" | "rr-rr" | "external": what the session is, whichever resource configured it. */
function sessionType(s, nodes) {
  if (s.b == null || s.aRole === "ebgp" || s.bRole === "ebgp") return "external";
  const a = nodes[s.a], b = nodes[s.b];
  if (a.reflector && b.reflector) return "rr-rr";
  if (s.aRole === "client" || s.bRole === "client") return "rr-client";
  return "mesh";
}

/** The far end of a session: a node's or an external peer's position. */
function farEnd(s) {
  return s.b == null ? state.extPos[s.external] : state.pos[s.b];
}

function drawStatic() {
  const g = state.graph, pos = state.pos, nodes = g.nodes;
  const w = back.width / dpr, h = back.height / dpr;
  bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  bctx.clearRect(0, 0, w, h);
  const sessions = g.sessions.filter((s) => farEnd(s) && !s.down);
  const down = g.sessions.filter((s) => farEnd(s) && s.down);
  const many = sessions.length;
  const width = many <= 60 ? 2.6 : many <= 1200 ? 1.3 : 0.6;
  const alpha = many <= 60 ? 0.9 : Math.max(0.03, Math.min(0.7, 40 / Math.sqrt(many)));
  // One path per session type keeps 100k+ mesh lines fast.
  const byType = new Map(SESSION_TYPES.map((t) => [t.key, []]));
  for (const s of sessions) byType.get(sessionType(s, nodes)).push(s);
  bctx.lineCap = "butt";
  for (const [key, list] of byType) {
    if (list.length === 0) continue;
    const style = SESSION_STYLE.get(key);
    bctx.strokeStyle = style.color;
    bctx.setLineDash(style.dash);
    bctx.globalAlpha = key === "rr-rr" || key === "external" ? Math.max(alpha, 0.8) : alpha;
    bctx.lineWidth = key === "rr-rr" ? Math.max(width, 2.2) : key === "external" ? Math.max(width, 1.6) : width;
    bctx.beginPath();
    for (const s of list) {
      const p = pos[s.a], q = farEnd(s);
      bctx.moveTo(p.x, p.y);
      bctx.lineTo(q.x, q.y);
    }
    bctx.stroke();
  }
  // Sessions down (a failed end, or taken down): dotted grey.
  if (down.length) {
    bctx.strokeStyle = COLORS.failed;
    bctx.setLineDash([2, 5]);
    bctx.globalAlpha = 0.9;
    bctx.lineWidth = Math.max(width, 1.4);
    bctx.beginPath();
    for (const s of down) {
      const p = pos[s.a], q = farEnd(s);
      bctx.moveTo(p.x, p.y);
      bctx.lineTo(q.x, q.y);
    }
    bctx.stroke();
  }
  bctx.setLineDash([]);
  state.drawnSessions = Object.fromEntries([...byType].map(([k, l]) => [k, l.length]));
  state.drawnDown = down.length;
  // External peers.
  bctx.globalAlpha = 1;
  (g.externals || []).forEach((x, k) => {
    const p = state.extPos[k];
    bctx.beginPath();
    bctx.moveTo(p.x, p.y - 9); bctx.lineTo(p.x + 9, p.y); bctx.lineTo(p.x, p.y + 9); bctx.lineTo(p.x - 9, p.y);
    bctx.closePath();
    bctx.fillStyle = COLORS.ext;
    bctx.fill();
    bctx.font = "11px system-ui, sans-serif";
    bctx.fillStyle = COLORS.ink;
    bctx.textAlign = "right";
    bctx.textBaseline = "middle";
    bctx.fillText(`${x.address} · AS ${x.asNumber}`, p.x - 14, p.y);
  });
  bctx.globalAlpha = 1;
  // Nodes: ordinary first, reflectors on top.
  const order = [...nodes].sort((x, y) => Number(x.reflector) - Number(y.reflector));
  for (const node of order) {
    const p = pos[node.index];
    bctx.beginPath();
    bctx.arc(p.x, p.y, p.r, 0, 2 * Math.PI);
    bctx.fillStyle = node.failed ? COLORS.failed : node.reflector ? COLORS.rr : COLORS.node;
    bctx.fill();
    if (node.failed) {
      // A cross over a failed node (shape as well as colour).
      const k = Math.max(3, p.r * 0.6);
      bctx.strokeStyle = COLORS.drop;
      bctx.lineWidth = 2.5;
      bctx.beginPath();
      bctx.moveTo(p.x - k, p.y - k); bctx.lineTo(p.x + k, p.y + k);
      bctx.moveTo(p.x + k, p.y - k); bctx.lineTo(p.x - k, p.y + k);
      bctx.stroke();
    }
    if (p.r >= 4 || node.reflector) {
      bctx.lineWidth = node.reflector ? 2.5 : 1.5;
      bctx.strokeStyle = "#fff";
      bctx.stroke();
    }
    if (node.reflector && p.r >= 6) {
      bctx.beginPath();
      bctx.arc(p.x, p.y, p.r + 3.5, 0, 2 * Math.PI);
      bctx.strokeStyle = COLORS.rr;
      bctx.lineWidth = 1.5;
      bctx.stroke();
    }
  }
  if (state.labels) {
    bctx.fillStyle = COLORS.ink;
    bctx.textBaseline = "middle";
    for (const node of nodes) {
      const p = pos[node.index];
      const big = nodes.length <= 12;
      bctx.font = `${big ? 600 : 500} ${big ? 15 : 12}px system-ui, sans-serif`;
      if (node.reflector) {
        bctx.textAlign = "center";
        bctx.fillText(node.name, p.x, p.y - p.r - (big ? 16 : 12));
        if (big) {
          bctx.font = "12px system-ui, sans-serif";
          bctx.fillStyle = "#667085";
          bctx.fillText(`RR · cluster ${node.clusterId}`, p.x, p.y + p.r + 16);
          bctx.fillStyle = COLORS.ink;
        }
      } else {
        const out = p.r + 10;
        const ax = Math.cos(p.a), ay = Math.sin(p.a);
        bctx.textAlign = Math.abs(ax) < 0.3 ? "center" : ax > 0 ? "left" : "right";
        const top = ay < -0.3 && big;
        const ty = p.y + ay * (out + (Math.abs(ax) < 0.3 ? 6 : 0)) - (top ? 16 : 0);
        bctx.fillText(node.name, p.x + ax * out, ty);
        if (big) {
          bctx.font = "12px system-ui, sans-serif";
          bctx.fillStyle = "#667085";
          bctx.fillText(node.ipv4 || "", p.x + ax * out, ty + 16);
          bctx.fillStyle = COLORS.ink;
        }
      }
    }
  }
}

function draw() {
  const w = canvas.width / dpr, h = canvas.height / dpr;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(back, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const g = state.graph, pos = state.pos;
  const sel = state.selected ? nodeByName(state.selected) : null;
  if (sel) {
    const p = pos[sel.index];
    ctx.lineCap = "round";
    ctx.lineWidth = 2.8;
    for (const s of g.sessions) {
      if (s.down || (s.a !== sel.index && s.b !== sel.index)) continue;
      const q = s.a === sel.index ? farEnd(s) : pos[s.a];
      if (!q) continue;
      const style = SESSION_STYLE.get(sessionType(s, g.nodes));
      ctx.strokeStyle = style.color;
      ctx.setLineDash(style.dash.map((d) => d * 1.3));
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(q.x, q.y);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(p.x, p.y, p.r + 5, 0, 2 * Math.PI);
    ctx.strokeStyle = COLORS.ink;
    ctx.lineWidth = 2.5;
    ctx.stroke();
    if (!state.labels) {
      ctx.font = "600 13px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillStyle = COLORS.ink;
      ctx.fillText(sel.name, p.x, p.y - p.r - 12);
    }
  }
  // Packets in flight.
  const few = state.packets.length <= 14;
  const labelled = new Set();
  for (const k of state.packets) {
    const p = pos[k.m.from], q = pos[k.m.to];
    const t = Math.min(1, k.t);
    const e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
    const x = p.x + (q.x - p.x) * e, y = p.y + (q.y - p.y) * e;
    if (t >= 1 && k.m.accepted === false) {
      ctx.strokeStyle = COLORS.drop;
      ctx.lineWidth = 3;
      const s = 7;
      ctx.beginPath();
      ctx.moveTo(q.x - s, q.y - s - q.r - 8); ctx.lineTo(q.x + s, q.y + s - q.r - 8);
      ctx.moveTo(q.x + s, q.y - s - q.r - 8); ctx.lineTo(q.x - s, q.y + s - q.r - 8);
      ctx.stroke();
      continue;
    }
    if (t >= 1) continue;
    const r = few ? 7 : 4;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = COLORS.pkt;
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#8a6a00";
    ctx.stroke();
    if (few && !labelled.has(k.m.from)) {
      labelled.add(k.m.from);
      const tag = [];
      if (k.m.originatorId) tag.push(`ORIGINATOR_ID ${k.m.originatorId}`);
      if (k.m.clusterList.length) tag.push(`CLUSTER_LIST ${k.m.clusterList.join(" ")}`);
      const text = tag.length ? tag.join(" · ") : `NEXT_HOP ${k.m.nextHop}`;
      ctx.font = "600 11px system-ui, sans-serif";
      const tw = ctx.measureText(text).width;
      ctx.fillStyle = tag.length ? "rgba(224,83,61,.95)" : "rgba(17,24,39,.88)";
      ctx.beginPath();
      ctx.roundRect(x + 10, y - 20, tw + 12, 18, 5);
      ctx.fill();
      ctx.fillStyle = "#fff";
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      ctx.fillText(text, x + 16, y - 11);
    }
  }
}

// ---------------------------------------------------------------- animation

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Moves the packets of one step along their sessions; with reduced motion, shows where they end at once. */
function fly(messages, duration) {
  state.packets = messages.map((m) => ({ m, t: 0 }));
  if (reducedMotion.matches) {
    for (const k of state.packets) k.t = 1;
    draw();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const t0 = performance.now();
    const frame = (now) => {
      window.reflectorDemo.animationFrames++;
      const t = (now - t0) / duration;
      for (const k of state.packets) k.t = t;
      draw();
      if (t < 1.35) requestAnimationFrame(frame);
      else resolve();
    };
    requestAnimationFrame(frame);
  });
}

/** Shows `parts` (strings and nodes) in the caption over the canvas; null hides it. */
function caption(parts) {
  const c = $("caption");
  c.hidden = !parts;
  c.replaceChildren(...(parts || []));
}

function describeStep(step, msgs, origin, prefix) {
  const senders = [...new Set(msgs.map((m) => m.fromName))];
  const dropped = msgs.filter((m) => m.accepted === false);
  const oids = [...new Set(msgs.map((m) => m.originatorId).filter(Boolean))];
  const cls = [...new Set(msgs.filter((m) => m.clusterList.length).map((m) => m.clusterList.join(" ")))];
  const list = (a) => a.slice(0, 4).join(", ") + (a.length > 4 ? ` and ${a.length - 4} more` : "");
  const parts = [
    h("b", { text: `Step ${step}` }),
    ` · ${list(senders)} send${senders.length === 1 ? "s" : ""} ${msgs.length} UPDATE${msgs.length === 1 ? "" : "s"} for `,
    h("code", { text: prefix }), ".",
  ];
  if (oids.length === 0) {
    parts.push(" ", h("b", { text: origin }), " announces its new route: NEXT_HOP is its own address; no ORIGINATOR_ID, no CLUSTER_LIST yet.");
  } else {
    parts.push(" Reflecting adds ", h("span", { class: "hl", text: `ORIGINATOR_ID ${oids.join(", ")}` }),
      " (who originated it) and prepends the reflector's cluster ID to ",
      h("span", { class: "hl", text: `CLUSTER_LIST ${cls.join(" | ")}` }), ". NEXT_HOP is kept.");
  }
  if (dropped.length) {
    parts.push(" ", h("b", { text: String(dropped.length) }),
      ` cop${dropped.length === 1 ? "y is" : "ies are"} dropped: the receiver finds its own cluster ID in CLUSTER_LIST (RFC 4456 loop prevention).`);
  }
  return parts;
}

/** The text of caption parts, for the status line. */
function plain(parts) {
  return parts.map((p) => (p instanceof Node ? p.textContent : p)).join("");
}

function messageCard(m, fresh, step) {
  const attrs = [];
  const attr = (cls, text) => attrs.push(h("span", { class: `attr ${cls}`.trim(), text }));
  for (const p of m.announced) attr("pfx", `+ ${p}`);
  for (const p of m.withdrawn) attr("pfx", `− ${p}`);
  if (m.origin) attr("", `ORIGIN ${m.origin}`);
  if (m.asPath != null) attr("", `AS_PATH ${m.asPath || "(empty)"}`);
  if (m.nextHop) attr("", `NEXT_HOP ${m.nextHop}`);
  if (m.localPref != null) attr("", `LOCAL_PREF ${m.localPref}`);
  if (m.med != null) attr("", `MED ${m.med}`);
  if (m.originatorId) attr("refl", `ORIGINATOR_ID ${m.originatorId}`);
  if (m.clusterList.length) attr("refl", `CLUSTER_LIST ${m.clusterList.join(" ")}`);
  const verdict = m.accepted == null ? null : m.accepted
    ? h("div", { class: "verdict ok", text: `✓ kept by ${m.toName}` })
    : h("div", { class: "verdict drop", text: `✗ dropped by ${m.toName}: its cluster ID is in CLUSTER_LIST` });
  return h("li", { class: "msg" + (m.accepted === false ? " dropped" : "") + (fresh ? " fresh" : "") },
    h("div", { class: "msg-head" },
      h("span", { text: `${m.fromName} → ${m.toName} · ${m.kind} · ${m.length} B` }),
      h("span", { class: "step", text: `step ${step}` })),
    h("div", { class: "attrs" }, attrs),
    verdict);
}

const BUSY = ["animate", "converge", "size", "mode-mesh", "mode-rr", "apply-yaml", "node-fail", "session-fail", "mig-start", "mig-next", "mig-order"];

async function animateUpdate() {
  if (state.animating) return;
  const g = state.graph;
  if (g.nodes.length === 0) return;
  let origin = state.selected ? nodeByName(state.selected) : null;
  if (!origin) origin = g.nodes.find((n) => !n.reflector) || g.nodes[0];
  state.selected = origin.name;
  renderNode();
  markSelected();
  state.animating = true;
  for (const id of BUSY) $(id).disabled = true;
  const sim = state.sim;
  try {
    if (!state.converge) converge();
    sim.clearMessages();
    const k = state.announced++;
    const prefix = sim.demoPrefix(k);
    sim.announce(origin.name, prefix);
    showTab("messages");
    const list = $("messages");
    list.replaceChildren();
    let index = 0, total = 0, step = 0;
    const n = g.nodes.length;
    const still = reducedMotion.matches;
    const duration = n <= 12 ? 1500 : n <= 60 ? 1100 : 800;
    announce(`Sending an UPDATE for ${prefix} from ${origin.name}.`);
    for (; step < 64; step++) {
      const moved = sim.step();
      if (moved === 0) break;
      const page = sim.messages(index, 100000);
      const msgs = page.messages;
      index += msgs.length;
      total += msgs.length;
      $("msg-count").textContent = fmt(total);
      const parts = describeStep(step + 1, msgs, origin.name, prefix);
      caption(parts);
      announce(plain(parts));
      const shown = msgs.slice(0, Math.max(0, 300 - list.children.length));
      for (const m of shown) list.appendChild(messageCard(m, !still, step + 1));
      await fly(msgs, duration);
      await sleep(still ? 0 : n <= 12 ? 700 : 250);
    }
    state.packets = [];
    state.graph = sim.graph();
    const reached = g.nodes.filter((node) => sim.routes(node.name).routes.some((r) => r.prefix === prefix)).length;
    const done = [
      h("b", { text: "Done" }), ` in ${step} steps and ${total} UPDATEs: `, h("code", { text: prefix }),
      " from ", h("b", { text: origin.name }),
      ` is in the routing table of ${reached} of ${n} nodes. Select a node to see it, with its ORIGINATOR_ID and CLUSTER_LIST.`,
    ];
    caption(done);
    announce(plain(done));
    window.reflectorDemo.lastAnimation = { prefix, steps: step, messages: total, reached };
    draw();
    renderNode();
  } catch (e) {
    fail(e);
  } finally {
    state.animating = false;
    for (const id of BUSY) $(id).disabled = false;
    renderMigration();
    renderNode();
  }
}

// ---------------------------------------------------------------- panels

function renderControls(summary) {
  const n = summary.nodes;
  for (const m of ["mesh", "rr"]) {
    $(`mode-${m}`).classList.toggle("on", state.mode === m);
    $(`mode-${m}`).setAttribute("aria-pressed", String(state.mode === m));
  }
  $("size").value = String(Math.min(500, Math.max(5, n)));
  $("size-value").textContent = String(n);
  $("count-mesh").textContent = fmt(state.counts.mesh);
  $("count-rr").textContent = fmt(state.counts.rr);
  const max = Math.max(1, state.counts.mesh, state.counts.rr);
  $("bar-mesh").style.width = `${(100 * state.counts.mesh) / max}%`;
  $("bar-rr").style.width = `${(100 * state.counts.rr) / max}%`;
  const current = sessionsTotal(summary);
  $("count-current").textContent = `${fmt(current)} BGP session${current === 1 ? "" : "s"}`;
  $("mode-label").textContent = state.mode === "mesh"
    ? `node-to-node mesh · ${n} nodes`
    : `${summary.reflectors} route reflector${summary.reflectors === 1 ? "" : "s"} · ${n} nodes`;
  $("rr-count").textContent = String(state.mode === "rr" ? summary.reflectors : Math.max(state.remembered.size, 1));

  // Reflector list.
  const box = $("reflectors");
  const rrs = state.graph.nodes.filter((x) => x.reflector);
  const rows = [];
  if (state.mode === "mesh") {
    rows.push(h("div", { class: "rr-none", text: "The full mesh has no reflectors. Switch to “Route reflectors” to choose them." }));
  } else if (rrs.length === 0) {
    rows.push(h("div", { class: "rr-none", text: "No reflector yet: add one below." }));
  }
  for (const node of rrs) {
    const input = h("input", { "aria-label": `Cluster ID of ${node.name}` });
    input.value = node.clusterId;
    input.addEventListener("change", (ev) => {
      try {
        state.sim.setClusterId(node.name, ev.target.value);
        state.remembered.set(node.name, ev.target.value.trim());
        refresh(`Cluster ID of ${node.name} set to ${ev.target.value.trim()}`);
      } catch (e) {
        fail(e);
        ev.target.value = node.clusterId;
      }
    });
    const remove = h("button", {
      type: "button", title: "No longer a reflector", "aria-label": `${node.name}: no longer a reflector`, text: "✕",
      onclick: () => { try { setReflector(node.name, null); } catch (e) { fail(e); } },
    });
    rows.push(h("div", { class: "rr-item" }, h("i", { "aria-hidden": "true" }), h("span", { text: node.name }), input, remove));
  }
  box.replaceChildren(...rows);
  const sel = $("rr-add-node");
  sel.replaceChildren(...state.graph.nodes.filter((x) => !x.reflector).map((node) => {
    const o = h("option", { text: node.name });
    o.value = node.name;
    return o;
  }));
  for (const id of ["rr-add-node", "rr-add-id", "rr-add"]) $(id).disabled = state.mode === "mesh";

  // Notes (load notes and linter findings).
  const all = state.sim.notes().filter((x) => x.severity === "warning");
  const seen = new Set();
  const notes = all.filter((x) => {
    const key = `${x.resource}|${x.field}|${x.message}`;
    return !seen.has(key) && seen.add(key);
  });
  $("notes-section").hidden = notes.length === 0;
  const items = notes.slice(0, 4).map((x) => h("li", { class: x.severity }, h("b", { text: x.resource }), ` ${x.field}: ${x.message}`));
  if (notes.length > 4) items.push(h("li", { text: `… and ${notes.length - 4} more` }));
  $("notes").replaceChildren(...items);
}

/** The legend's session rows: the same colours and dash patterns as the canvas. */
function renderLegend() {
  $("legend-sessions").replaceChildren(...SESSION_TYPES.map((t) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("width", "30");
    svg.setAttribute("height", "8");
    svg.setAttribute("aria-hidden", "true");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    for (const [k, v] of Object.entries({ x1: 1, y1: 4, x2: 29, y2: 4, stroke: t.color, "stroke-width": 2.5 })) line.setAttribute(k, String(v));
    if (t.dash.length) line.setAttribute("stroke-dasharray", t.dash.join(" "));
    svg.append(line);
    return h("div", { "data-session": t.key }, svg, t.label);
  }));
}

/** One option per node, beside the canvas: the keyboard's way to select nodes. */
function renderNodeList() {
  const nodes = state.graph.nodes;
  $("node-list-count").textContent = String(nodes.length);
  const selected = state.selected ? nodes.findIndex((n) => n.name === state.selected) : -1;
  if (selected >= 0) state.listFocus = selected;
  state.listFocus = Math.min(state.listFocus, Math.max(0, nodes.length - 1));
  $("node-list").replaceChildren(...nodes.map((node, i) => h("li", {
    role: "option",
    id: `node-option-${i}`,
    class: [node.reflector ? "rr" : "", node.failed ? "failed" : ""].join(" ").trim() || null,
    "aria-selected": String(i === selected),
    tabindex: i === state.listFocus ? "0" : "-1",
    "data-name": node.name,
  }, h("b", { text: node.name }),
  h("small", { text: (node.failed ? "failed · " : "") + (node.reflector ? `route reflector · cluster ${node.clusterId}` : node.ipv4 || "no IPv4 address") }))));
}

/** Brings the node list in line with the selection. */
function markSelected() {
  for (const li of $("node-list").children) {
    const on = li.dataset.name === state.selected;
    li.setAttribute("aria-selected", String(on));
  }
}

/** Selects a node (null: none): canvas highlight, node panel, list, and an announcement. */
function selectNode(name, { tab = true } = {}) {
  state.selected = name;
  draw();
  renderNode();
  markSelected();
  if (!name) {
    announce("No node selected.");
    return;
  }
  if (tab) showTab("node");
  const node = nodeByName(name);
  const routes = Number($("route-count").textContent);
  const sessions = state.graph.sessions.filter((s) => s.a === node.index || s.b === node.index).length;
  announce(`${name} selected${node.reflector ? " (route reflector)" : ""}: ${routes} route${routes === 1 ? "" : "s"}, ${sessions} BGP session${sessions === 1 ? "" : "s"}.`);
}

function focusListOption(i) {
  const items = $("node-list").children;
  if (items.length === 0) return;
  i = Math.max(0, Math.min(items.length - 1, i));
  for (const li of items) li.tabIndex = -1;
  state.listFocus = i;
  items[i].tabIndex = 0;
  items[i].focus();
  items[i].scrollIntoView({ block: "nearest" });
  selectNode(items[i].dataset.name);
}

function renderNode() {
  const name = state.selected;
  const node = name ? nodeByName(name) : null;
  $("node-empty").hidden = !!node;
  $("cluster-summary").textContent = state.sim.summaryText();
  $("node-panel").hidden = !node;
  if (!node) return;
  $("node-name").textContent = node.name;
  const role = $("node-role");
  role.textContent = (node.failed ? "failed · " : "") + (node.reflector ? `route reflector · cluster ${node.clusterId}` : "node");
  role.className = "pill " + (node.failed ? "failed" : node.reflector ? "rr" : "node");
  const failBtn = $("node-fail");
  failBtn.textContent = node.failed ? `Bring ${node.name} back` : "Fail this node";
  failBtn.classList.toggle("back", node.failed);
  failBtn.disabled = state.animating;
  renderPeerChoice(node);
  const sessions = state.graph.sessions.filter((s) => s.a === node.index || s.b === node.index).length;
  $("node-meta").textContent = `${node.ipv4 || ""}${node.ipv6 ? " · " + node.ipv6 : ""} · AS ${node.asNumber} · ${sessions} BGP session${sessions === 1 ? "" : "s"}`;
  $("node-rr").checked = node.reflector;
  $("node-rr").disabled = state.mode === "mesh" || state.animating;
  $("node-cid").value = node.clusterId || DEFAULT_CID;
  $("node-cid").disabled = state.mode === "mesh" || state.animating;
  const routes = state.sim.routes(node.name).routes;
  $("route-count").textContent = String(routes.length);
  const td = (text, cls) => h("td", { class: cls || null, text });
  $("routes").querySelector("tbody").replaceChildren(...routes.slice(0, 1000).map((r) => {
    const local = r.from === "local";
    return h("tr", { "data-prefix": r.prefix },
      td(r.prefix), td(r.nextHop),
      td(r.originatorId || "–", r.originatorId ? "refl" : ""),
      td(r.clusterList.join(" ") || "–", r.clusterList.length ? "refl" : ""),
      td(local ? "originated here" : r.from, local ? "local" : ""));
  }));
  $("node-status").textContent = state.sim.nodeStatusText(node.name);
}

// ---------------------------------------------------------------- failures

/** The node's peers over sessions between nodes: [peer name, down?], for the session picker. */
function peersOf(node) {
  const g = state.graph, seen = new Map();
  for (const s of g.sessions) {
    if (s.b == null || (s.a !== node.index && s.b !== node.index)) continue;
    const other = g.nodes[s.a === node.index ? s.b : s.a];
    if (other.failed || node.failed) continue;
    seen.set(other.name, (seen.get(other.name) || false) || s.down);
  }
  return [...seen];
}

function renderPeerChoice(node) {
  const sel = $("node-peer");
  const keep = sel.value;
  const peers = peersOf(node);
  sel.replaceChildren(...peers.map(([name, down]) => {
    const o = h("option", { text: `${down ? "down: " : ""}${node.name} – ${name}` });
    o.value = name;
    o.dataset.down = String(down);
    return o;
  }));
  if (peers.some(([n]) => n === keep)) sel.value = keep;
  sel.disabled = peers.length === 0 || state.animating;
  syncSessionButton();
}

function syncSessionButton() {
  const opt = $("node-peer").selectedOptions[0];
  const btn = $("session-fail");
  btn.disabled = !opt || state.animating;
  btn.textContent = opt && opt.dataset.down === "true" ? "Bring session up" : "Take session down";
}

const list4 = (a) => a.slice(0, 4).join(", ") + (a.length > 4 ? ` and ${a.length - 4} more` : "");
const plural = (n, word) => `${fmt(n)} ${word}${n === 1 ? "" : "s"}`;

/** One sentence about a failure or restore report, for the status line and the panel. */
function whatIfText(r) {
  const what = [...r.nodes, ...r.sessions.map((x) => `session ${x}`)].join(", ");
  const head = r.action === "fail" ? `${what} failed` : `${what} back`;
  const run = `${r.run.converged ? "converged again" : "stopped"} in ${plural(r.run.steps, "step")} and ${plural(r.run.messages, "BGP message")}`;
  const regained = r.outcomes.filter((o) => o.regained.length).length;
  let result;
  if (r.everyBlockKept) {
    result = "every node kept every pod block it had" + (regained ? `; ${plural(regained, "node")} got routes back` : "");
  } else {
    const losers = r.outcomes.filter((o) => o.lost.length);
    result = `${plural(losers.length, "node")} lost routes: ` +
      list4(losers.map((o) => `${o.name} lost ${plural(o.lost.length, "pod block")}`));
  }
  const gone = r.goneBlocks.length ? ` Gone with the failed nodes: ${list4(r.goneBlocks)}.` : "";
  return `${head} (${plural(r.sessionsChanged, "session")} ${r.action === "fail" ? "down" : "up"}): ${run}; ${result}.${gone}`;
}

/** The failure panel: one row per node, those that lost blocks first. */
function renderWhatIf() {
  const r = state.whatif;
  $("whatif").hidden = !r;
  if (!r) return;
  $("whatif-summary").replaceChildren(
    h("span", { class: r.everyBlockKept ? "ok-text" : "loss-text", text: r.everyBlockKept ? "No pod block lost. " : `${plural(r.nodesLosing, "node")} lost pod blocks. ` }),
    whatIfText(r));
  const rows = [...r.outcomes].sort((x, y) => Number(y.lost.length > 0) - Number(x.lost.length > 0));
  const shown = rows.slice(0, 60);
  const tr = shown.map((o) => h("tr", { "data-node": o.name, "data-lost": String(o.lost.length) },
    h("th", { scope: "row", text: o.name }),
    h("td", { class: o.lost.length ? "lost" : null }, o.lost.length ? o.lost.flatMap((b, i) => (i ? [h("br"), b] : [b])) : "none"),
    h("td", { text: `${o.kept.length}` + (o.regained.length ? ` (+${o.regained.length} back)` : "") + (o.missing.length ? `, ${o.missing.length} missing` : "") }),
    h("td", { text: fmt(o.messages) })));
  for (const name of r.failedNodes) {
    tr.push(h("tr", { class: "failed", "data-node": name, "data-failed": "true" },
      h("th", { scope: "row", text: name }), h("td", { text: "failed" }), h("td", { text: "–" }), h("td", { text: "–" })));
  }
  if (rows.length > shown.length) {
    tr.push(h("tr", {}, h("td", { colspan: "4", text: `… and ${rows.length - shown.length} more nodes that lost nothing` })));
  }
  $("whatif-table").querySelector("tbody").replaceChildren(...tr);
}

/** Runs a failure or restore (`fn` returns its report) and shows what it did. */
function whatIf(fn) {
  if (state.animating) return null;
  try {
    if (!state.converge) converge();
    const r = fn(state.sim);
    state.graph = state.sim.graph();
    state.whatif = r;
    window.reflectorDemo.lastWhatIf = r;
    drawStatic();
    draw();
    renderNodeList();
    renderNode();
    renderWhatIf();
    $("converge-info").textContent = r.failedNodes.length || r.failedSessions.length
      ? `Failed: ${list4([...r.failedNodes, ...r.failedSessions.map((x) => `session ${x}`)])}. Converge brings everything back.`
      : "Everything is back up.";
    announce(whatIfText(r));
    caption([h("b", { class: r.everyBlockKept ? null : "loss-text", text: r.everyBlockKept ? "No pod block lost" : `${plural(r.nodesLosing, "node")} lost pod blocks` }),
      ` · ${whatIfText(r)}`]);
    $("whatif").scrollIntoView({ block: "nearest" });
    return r;
  } catch (e) {
    fail(e);
    return null;
  }
}

function toggleFailNode() {
  const node = state.selected ? nodeByName(state.selected) : null;
  if (!node) return;
  whatIf((sim) => (node.failed ? sim.restoreNode(node.name) : sim.failNode(node.name)));
}

function toggleFailSession() {
  const node = state.selected ? nodeByName(state.selected) : null;
  const opt = $("node-peer").selectedOptions[0];
  if (!node || !opt) return;
  const peer = opt.value;
  whatIf((sim) => (opt.dataset.down === "true" ? sim.restoreSession(node.name, peer) : sim.failSession(node.name, peer)));
}

// ---------------------------------------------------------------- migrations

const ORDER_LABEL = { safe: "safe order", unsafe: "mesh off first" };

function startMigration() {
  if (state.animating || !state.migrations) return;
  const order = $("mig-order").value;
  try {
    const steps = state.migrations[order];
    state.sim.startMigration(steps);
    state.migration = { order, transitions: [] };
    syncMode();
    refresh(`Migration (${ORDER_LABEL[order]}) started at step 1 of ${steps.length}, ${steps[0].name}`);
  } catch (e) {
    fail(e);
  }
}

function transitionText(t) {
  const sessions = `${t.kept} sessions kept, ${t.removed} torn down, ${t.added} brought up` +
    (t.reset ? `, ${t.reset} restarted` : "") + (t.restarted.length ? `; speakers restarted: ${t.restarted.join(", ")}` : "");
  const run = `${plural(t.run.messages, "BGP message")} in ${plural(t.run.steps, "step")}`;
  const result = t.losses.length === 0
    ? "no node lost a route to any pod block"
    : `${plural(t.nodesLosing.length, "node")} lost routes: ` + list4(t.nodesLosing.map((n) => {
      const mine = t.losses.filter((l) => l.node === n);
      return `${n} lost ${plural(mine.length, "pod block")}${mine.every((l) => l.stillMissing) ? " for good" : ""}`;
    }));
  return `${t.from} → ${t.to} (${sessions}; ${run}): ${result}.`;
}

function migrationNext() {
  if (state.animating || !state.migration) return null;
  try {
    const t = state.sim.migrationNext();
    state.migration.transitions.push(t);
    window.reflectorDemo.lastTransition = t;
    syncMode();
    const st = state.sim.migrationState();
    refresh(`Migration step ${st.current + 1} of ${st.steps.length}, ${t.to}`);
    const said = `Step ${st.current + 1} of ${st.steps.length}: ${transitionText(t)}${st.hasNext ? "" : " Migration complete."}`;
    announce(said);
    caption([h("b", { class: t.losses.length ? "loss-text" : null, text: t.losses.length ? "Routes lost" : "No route lost" }), ` · ${said}`]);
    $("mig-log").lastElementChild?.scrollIntoView({ block: "nearest" });
    return t;
  } catch (e) {
    fail(e);
    return null;
  }
}

function renderMigration() {
  const st = state.sim?.migrationState() ?? null;
  $("mig-next").disabled = !st || !st.hasNext || state.animating;
  $("mig-steps").replaceChildren(...(st ? st.steps.map((name, i) => h("li", {
    class: i < st.current ? "done" : null,
    "aria-current": i === st.current ? "step" : null,
    text: name + (i === st.current ? " (now)" : ""),
  })) : []));
  const ts = state.migration?.transitions ?? [];
  $("mig-log").replaceChildren(...ts.map((t) => {
    const byNode = t.nodesLosing.map((n) => h("li", { "data-node": n },
      h("b", { text: n }), " lost ",
      t.losses.filter((l) => l.node === n).map((l) => `${l.block} (of ${l.owner}${l.stillMissing ? ", for good" : `, ${plural(l.steps, "step")}`})`).join(", ")));
    return h("li", { class: t.losses.length ? "loss" : "ok", "data-index": String(t.index), "data-losses": String(t.losses.length) },
      h("b", { text: `${t.from} → ${t.to}` }),
      h("div", { text: `${t.kept} kept · ${t.removed} torn down · ${t.added} up${t.reset ? ` · ${t.reset} restarted` : ""} · ${plural(t.run.messages, "message")}` }),
      h("div", { class: t.losses.length ? "loss-text" : "ok-text", text: t.losses.length ? `${plural(t.nodesLosing.length, "node")} lost routes:` : "No node lost a route." }),
      byNode.length ? h("ul", {}, byNode) : null);
  }));
}

const TABS = ["node", "messages", "yaml", "decode"];

/** Shows a tab's panel (ARIA tabs: aria-selected, one tab stop); `focus` moves the focus to the tab. */
function showTab(name, focus = false) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t.dataset.tab === name;
    t.classList.toggle("on", on);
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    if (on && focus) t.focus();
  }
  for (const p of document.querySelectorAll('[role="tabpanel"]')) {
    const on = p.id === `panel-${name}`;
    p.classList.toggle("on", on);
    p.hidden = !on;
  }
}

// ---------------------------------------------------------------- decoding pasted UPDATEs

/** A reflected UPDATE: ORIGIN, AS_PATH, NEXT_HOP, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, one prefix. */
const EXAMPLE_UPDATE =
  "ffffffffffffffffffffffffffffffff 0048 02 0000 002d 40010100 40020a0202 0000fde9 0000fdea " +
  "4003040a000001 c00804fde90064 8009040a000003 800a04e0000001 180a6300";

function attributeText(a) {
  const v = a.value;
  if (v == null) return a.decoded ? "(present)" : "";
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) {
    return v.map((x) => (typeof x === "object" && x && "asns" in x
      ? (x.type === "AS_SET" ? `{${x.asns.join(" ")}}` : x.type === "AS_SEQUENCE" ? x.asns.join(" ") : `${x.type}(${x.asns.join(" ")})`)
      : String(x))).join(" ");
  }
  if ("asn" in v) return `AS ${v.asn}, ${v.address}`;
  if ("nextHop" in v) {
    const nlri = v.nlri.map((n) => n.prefix).join(" ") || v.nlriHex || "none";
    return `${v.family ? v.family.name : ""} next hop ${v.nextHop.join(", ")}; NLRI ${nlri}`;
  }
  if ("withdrawn" in v) return `${v.family.name} withdrawn ${v.withdrawn.map((n) => n.prefix).join(" ") || v.withdrawnHex || "none (End-of-RIB)"}`;
  return JSON.stringify(v);
}

function decodePasted() {
  const out = $("hex-output");
  let bytes;
  try {
    bytes = hexToBytes($("hex-input").value);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    out.replaceChildren(h("p", { class: "err", role: "alert", text: `Not hex: ${msg}` }));
    announce(`Not decoded: ${msg}`);
    return null;
  }
  const u = decodeUpdate(bytes, { fourOctetAs: $("hex-as4").checked, addPath: $("hex-addpath").checked });
  window.reflectorDemo.lastDecoded = u;
  const prefixes = (list) => list.map((n) => (n.pathId == null ? n.prefix : `${n.prefix} (path ${n.pathId})`)).join(", ");
  const announced = [...u.nlri, ...(u.mpReach ? u.mpReach.nlri : [])];
  const withdrawn = [...u.withdrawn, ...(u.mpUnreach ? u.mpUnreach.withdrawn : [])];
  const parts = [
    h("p", { class: "summary" },
      h("b", { text: `UPDATE, ${u.length ?? "?"} bytes` }),
      ` · ${u.attributes.length} attribute${u.attributes.length === 1 ? "" : "s"} · ${announced.length} announced · ${withdrawn.length} withdrawn` +
      (u.endOfRib ? ` · End-of-RIB (${u.endOfRib})` : "") +
      (u.errors.length ? ` · RFC 7606: ${u.action}` : " · well formed")),
  ];
  if (u.errors.length) {
    parts.push(h("h4", { text: "Errors" }), h("ul", { id: "hex-errors" }, u.errors.map((e) => h("li", { class: "err" },
      h("b", { text: e.kind }), `: ${e.description} at offset ${e.offset}. Action: ${e.action}. `,
      e.code ? `NOTIFICATION ${e.code}/${e.subcode} (${e.codeName} / ${e.subcodeName})` : "no NOTIFICATION",
      e.attributeType != null ? `, attribute type ${e.attributeType}` : "", "."))));
  }
  if (announced.length) parts.push(h("h4", { text: "Announced" }), h("p", { class: "summary", id: "hex-announced", text: prefixes(announced) }));
  if (withdrawn.length) parts.push(h("h4", { text: "Withdrawn" }), h("p", { class: "summary", id: "hex-withdrawn", text: prefixes(withdrawn) }));
  if (u.attributes.length) {
    const flags = (f) => [f.optional ? "optional" : "well-known", f.transitive ? "transitive" : "", f.partial ? "partial" : "", f.extendedLength ? "ext-len" : ""].filter(Boolean).join(" ");
    parts.push(h("h4", { text: "Path attributes" }), h("div", { class: "table-wrap" }, h("table", { id: "hex-attributes" },
      h("thead", {}, h("tr", {}, ["Type", "Attribute", "Flags", "Value"].map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, u.attributes.map((a) => h("tr", { class: a.discarded ? "discarded" : null },
        h("td", { text: String(a.typeCode) }), h("td", { text: a.name + (a.discarded ? " (discarded)" : "") }),
        h("td", { text: flags(a.flags) }), h("td", { text: attributeText(a) })))))));
  }
  out.replaceChildren(...parts);
  announce(`Decoded UPDATE: ${u.attributes.length} attributes, ${announced.length} announced, ${withdrawn.length} withdrawn, ` +
    (u.errors.length ? `${u.errors.length} error (${u.errors[0].kind}, ${u.action}).` : "no errors."));
  return u;
}

// ---------------------------------------------------------------- decoding MRT files

/** Records shown in the MRT table (the summary counts them all). */
const MRT_ROWS = 200;

/** One line about an MRT record: who, and what it carries. */
function mrtRecordText(r) {
  const b = r.body;
  switch (r.kind) {
    case "bgp4mpMessage": {
      const m = b.message;
      const who = `AS${b.peerAs} ${b.peerAddress}`;
      if (m.type !== "UPDATE") return `${who}: ${m.type ?? "invalid message"}`;
      const ann = [...m.nlri, ...(m.mpReach ? m.mpReach.nlri : [])].map((n) => n.prefix);
      const wd = [...m.withdrawn, ...(m.mpUnreach ? m.mpUnreach.withdrawn : [])].map((n) => n.prefix);
      return `${who}: UPDATE` + (ann.length ? ` announce ${ann.slice(0, 4).join(" ")}${ann.length > 4 ? ` (+${ann.length - 4})` : ""}` : "") +
        (wd.length ? ` withdraw ${wd.slice(0, 4).join(" ")}${wd.length > 4 ? ` (+${wd.length - 4})` : ""}` : "") +
        (m.asPath ? `, AS_PATH ${m.asPath}` : "") + (m.endOfRib ? `, End-of-RIB ${m.endOfRib}` : "");
    }
    case "bgp4mpStateChange": return `AS${b.peerAs} ${b.peerAddress}: ${b.oldStateName} → ${b.newStateName}`;
    case "peerIndexTable": return `collector ${b.collectorId}, view "${b.viewName}", ${b.peers.length} peers`;
    case "rib": return `${b.prefix ?? b.family.name}: ${b.entries.length} entries`;
    case "tableDump": return `${b.prefix} from AS${b.peerAs} ${b.peerAddress}`;
    default: return `${r.length} bytes`;
  }
}

/** Reads an MRT file through MrtParser, chunk by chunk (gzip unpacked by DecompressionStream). */
async function decodeMrtFile(file) {
  const out = $("mrt-output");
  out.replaceChildren(h("p", { class: "summary", text: `Reading ${file.name}…` }));
  let stream = file.stream();
  if (/\.gz$/i.test(file.name)) stream = stream.pipeThrough(new DecompressionStream("gzip"));
  const parser = new MrtParser();
  const rows = [];
  const kinds = {};
  let summary;
  try {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const r of parser.push(value)) {
        kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
        if (rows.length < MRT_ROWS) rows.push(r);
      }
    }
    summary = parser.finish();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    out.replaceChildren(h("p", { class: "err", role: "alert", text: `Not read: ${msg}` }));
    announce(`MRT file not read: ${msg}`);
    return null;
  } finally {
    parser.free();
  }
  window.reflectorDemo.lastMrt = { summary, kinds, rows };
  const kindText = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ") || "none";
  const parts = [
    h("p", { class: "summary", id: "mrt-summary" },
      h("b", { text: file.name }), ` · ${summary.records} records (${kindText}) · ${summary.bytes} bytes` +
      ` · ${summary.skipped} skipped` + (summary.leftoverBytes ? ` · ${summary.leftoverBytes} bytes cut short` : "")),
  ];
  if (summary.errors.length) {
    parts.push(h("h4", { text: "Errors" }), h("ul", { id: "mrt-errors" }, summary.errors.slice(0, 20).map((e) =>
      h("li", { class: "err", text: `${e.kind}: ${e.description} at offset ${e.offset}` }))));
  }
  if (rows.length) {
    parts.push(h("h4", { text: summary.records > rows.length ? `First ${rows.length} records` : "Records" }),
      h("div", { class: "table-wrap" }, h("table", { id: "mrt-records" },
        h("thead", {}, h("tr", {}, ["Time", "Type", "Record"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, rows.map((r) => h("tr", {},
          h("td", { text: new Date(r.timestamp * 1000).toISOString().replace(".000Z", "Z") }),
          h("td", { text: r.typeName ?? `${r.type}/${r.subtype}` }),
          h("td", { text: mrtRecordText(r) })))))));
  }
  out.replaceChildren(...parts);
  announce(`Decoded MRT file ${file.name}: ${summary.records} records, ${summary.skipped} skipped, ${summary.errors.length} errors.`);
  return summary;
}

// ---------------------------------------------------------------- events

function nodeAt(x, y) {
  let best = null, bestD = Infinity;
  state.graph.nodes.forEach((node) => {
    const p = state.pos[node.index];
    const d = Math.hypot(p.x - x, p.y - y);
    if (d <= Math.max(p.r + 4, 7) && d < bestD) {
      best = node;
      bestD = d;
    }
  });
  return best;
}

function wire() {
  $("mode-mesh").addEventListener("click", () => { try { setMode("mesh"); } catch (e) { fail(e); } });
  $("mode-rr").addEventListener("click", () => { try { setMode("rr"); } catch (e) { fail(e); } });
  $("size").addEventListener("input", (ev) => { $("size-value").textContent = ev.target.value; });
  $("size").addEventListener("change", (ev) => {
    try { resize(Number(ev.target.value)); } catch (e) { fail(e); }
  });
  $("converge").addEventListener("click", () => {
    try { const run = converge(); drawStatic(); draw(); renderNodeList(); renderNode(); announce(`Converge: ${run}.`); } catch (e) { fail(e); }
  });
  $("animate").addEventListener("click", () => animateUpdate());
  $("rr-add").addEventListener("click", () => {
    const name = $("rr-add-node").value;
    if (!name) return;
    try { setReflector(name, $("rr-add-id").value.trim()); } catch (e) { fail(e); }
  });
  $("node-rr").addEventListener("change", (ev) => {
    try { setReflector(state.selected, ev.target.checked ? $("node-cid").value.trim() : null); } catch (e) { fail(e); renderNode(); }
  });
  $("node-cid").addEventListener("change", (ev) => {
    const node = nodeByName(state.selected);
    if (!node || !node.reflector) return;
    try {
      state.sim.setClusterId(node.name, ev.target.value);
      state.remembered.set(node.name, ev.target.value.trim());
      refresh(`Cluster ID of ${node.name} set to ${ev.target.value.trim()}`);
    } catch (e) { fail(e); renderNode(); }
  });
  $("node-remove").addEventListener("click", () => {
    try {
      const name = state.selected;
      state.sim.removeNode(name);
      state.remembered.delete(name);
      state.selected = null;
      refresh(`${name} removed`);
    } catch (e) { fail(e); }
  });
  $("apply-yaml").addEventListener("click", () => {
    try {
      loadYaml($("yaml").value, "YAML applied");
    } catch (e) {
      const err = $("yaml-error");
      err.textContent = e instanceof Error ? e.message : String(e);
      err.hidden = false;
      announce("YAML not applied: " + err.textContent);
    }
  });
  $("reset-yaml").addEventListener("click", () => { try { loadYaml(state.story, "Story cluster"); } catch (e) { fail(e); } });
  $("add-node").addEventListener("click", () => {
    try {
      let k = state.graph.nodes.length + 1;
      while (nodeByName(`node${k}`)) k++;
      state.sim.addNode(`node${k}`);
      refresh(`node${k} added`);
    } catch (e) { fail(e); }
  });
  // Tabs: click, or arrow keys / Home / End within the tab list (automatic activation).
  for (const t of document.querySelectorAll('[role="tab"]')) t.addEventListener("click", () => showTab(t.dataset.tab));
  document.querySelector('[role="tablist"]').addEventListener("keydown", (ev) => {
    const i = TABS.indexOf(ev.target.dataset?.tab);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    showTab(TABS[(next + TABS.length) % TABS.length], true);
  });
  // Node list: a listbox with one tab stop; arrows, Home, End, PageUp/PageDown move and select.
  const nodeList = $("node-list");
  nodeList.addEventListener("click", (ev) => {
    const li = ev.target.closest('[role="option"]');
    if (li) focusListOption([...nodeList.children].indexOf(li));
  });
  nodeList.addEventListener("keydown", (ev) => {
    const n = nodeList.children.length;
    const i = state.listFocus;
    const next = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: n - 1, PageDown: i + 10, PageUp: i - 10 }[ev.key];
    if (next !== undefined) {
      ev.preventDefault();
      focusListOption(next);
    } else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      focusListOption(i);
    }
  });
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const node = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
    if (node) state.listFocus = node.index;
    selectNode(node ? node.name : null);
    // "A click on a node fails it": the same as the panel's button.
    if (node && $("click-fails").checked) toggleFailNode();
  });
  canvas.addEventListener("mousemove", (ev) => {
    const r = canvas.getBoundingClientRect();
    canvas.style.cursor = nodeAt(ev.clientX - r.left, ev.clientY - r.top) ? "pointer" : "default";
  });
  $("node-fail").addEventListener("click", () => toggleFailNode());
  $("node-peer").addEventListener("change", () => syncSessionButton());
  $("session-fail").addEventListener("click", () => toggleFailSession());
  $("mig-start").addEventListener("click", () => startMigration());
  $("mig-order").addEventListener("change", () => startMigration());
  $("mig-next").addEventListener("click", () => migrationNext());
  $("hex-decode").addEventListener("click", () => decodePasted());
  $("hex-example").addEventListener("click", () => { $("hex-input").value = EXAMPLE_UPDATE; decodePasted(); });
  $("mrt-file").addEventListener("change", (ev) => { const f = ev.target.files?.[0]; if (f) void decodeMrtFile(f); });
  const drop = $("mrt-drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const f = ev.dataTransfer?.files?.[0];
    if (f) void decodeMrtFile(f);
  });
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { layout(); drawStatic(); draw(); }, 120);
  });
}

window.reflectorDemo = {
  ready: false,
  lastConvergeMs: null,
  lastReport: null,
  lastAnimation: null,
  lastDecoded: null,
  lastMrt: null,
  /** The last failure or restore report (failNode, restoreNode, failSession, restoreSession). */
  lastWhatIf: null,
  /** The last migration transition played. */
  lastTransition: null,
  /** requestAnimationFrame callbacks run by the UPDATE animation (none with reduced motion). */
  animationFrames: 0,
  /** Page coordinates of a node's centre (for tests and tooling). */
  nodePosition(name) {
    const node = nodeByName(name);
    if (!node) return null;
    const r = canvas.getBoundingClientRect();
    const p = state.pos[node.index];
    return { x: r.left + p.x, y: r.top + p.y };
  },
  nodeNames() {
    return state.graph.nodes.map((n) => n.name);
  },
  /** Sessions drawn as down (a failed end, or taken down). */
  downSessions() {
    return state.drawnDown;
  },
  /** Sessions drawn, by type, and each type's colour and dash pattern. */
  sessionStyles() {
    return { drawn: state.drawnSessions, types: SESSION_TYPES };
  },
  /** Generates an n-node cluster in the current mode, as the size slider does. */
  resize(n) {
    resize(n);
    return state.converge;
  },
};

async function main() {
  try {
    await init();
    state.story = await (await fetch("story.yaml")).text();
    state.migrations = await (await fetch("migration.json")).json();
    renderLegend();
    wire();
    loadYaml(state.story, "Story cluster");
    window.reflectorDemo.ready = true;
  } catch (e) {
    fail(e);
  }
}

main();
