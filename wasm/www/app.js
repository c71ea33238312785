// Reflector demo: a Calico cluster run by real Reflector engines in WebAssembly.
import init, { Simulator } from "../pkg/reflector_wasm.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_CID = "224.0.0.1";
const COLORS = {
  node: "#3b6fd8", rr: "#e0533d", mesh: "#7d8fb8", global: "#f0a020",
  specific: "#17a398", rrrr: "#9b59d0", pkt: "#ffcc00", drop: "#d92d20", ink: "#1b2333",
};

const state = {
  sim: null,
  story: "",
  graph: null,
  peers: [],
  mode: "rr",
  remembered: new Map(), // reflector name -> cluster ID, kept while the mesh is shown
  selected: null,
  pos: [], // node index -> {x, y, r}
  packets: [],
  animating: false,
  announced: 0,
  converge: null,
  counts: { mesh: 0, rr: 0 },
};

// ---------------------------------------------------------------- helpers

function fail(e) {
  const msg = e instanceof Error ? e.message : String(e);
  $("status").textContent = "Error: " + msg;
  console.error(e);
  return msg;
}

function nodeByName(name) {
  return state.graph.nodes.find((n) => n.name === name);
}

function sessionsTotal(summary) {
  return summary.ipv4_sessions + summary.ipv6_sessions;
}

function fmt(n) {
  return n.toLocaleString("en-US");
}

// ---------------------------------------------------------------- cluster changes

function loadYaml(text) {
  const sim = new Simulator(text);
  state.sim?.free();
  state.sim = sim;
  const g = sim.graph();
  state.remembered = new Map(g.nodes.filter((n) => n.reflector).map((n) => [n.name, n.clusterId]));
  state.mode = g.meshEnabled && state.remembered.size === 0 ? "mesh" : "rr";
  if (state.selected && !g.nodes.some((n) => n.name === state.selected)) state.selected = null;
  refresh();
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
  refresh();
}

function setReflector(name, cid) {
  state.sim.setReflector(name, cid);
  if (cid) state.remembered.set(name, cid);
  else state.remembered.delete(name);
  if (cid) ensureReflectorPeers();
  refresh();
}

function resize(n) {
  const reflectors = state.mode === "rr" ? Math.min(Math.max(state.remembered.size, 1), n) : 2;
  const yaml = Simulator.generateYaml(n, reflectors, 1);
  const mode = state.mode;
  loadYaml(yaml);
  if (mode === "mesh") setMode("mesh");
}

/** Session counts of both designs for the current nodes. */
function computeCounts(summary) {
  state.counts.mesh = summary.full_mesh_sessions;
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
  window.reflectorDemo.lastConvergeMs = ms;
  window.reflectorDemo.lastReport = report;
  state.graph = sim.graph();
  $("converge-info").textContent =
    `${report.converged ? "Converged" : "Stopped"} in ${ms.toFixed(ms < 10 ? 1 : 0)} ms · ` +
    `${fmt(report.messages)} UPDATEs · ${report.steps} steps`;
  $("status").textContent = `${state.graph.nodes.length} nodes · ${fmt(report.messages)} BGP messages (${fmt(report.bytes)} bytes) · converged in ${ms.toFixed(1)} ms`;
}

/** Sessions above which a change does not run the network by itself (the page would stall). */
const AUTO_RUN_SESSIONS = 20000;

function refresh() {
  const sim = state.sim;
  state.graph = sim.graph();
  state.peers = sim.bgpPeers();
  const summary = sim.summary();
  computeCounts(summary);
  caption(null);
  if (sessionsTotal(summary) <= AUTO_RUN_SESSIONS) {
    converge();
  } else {
    sim.reset();
    state.converge = null;
    window.reflectorDemo.lastConvergeMs = null;
    window.reflectorDemo.lastReport = null;
    $("converge-info").textContent = `Not run yet: ${fmt(sessionsTotal(summary))} sessions take a few seconds. Press Converge.`;
    $("status").textContent = `${state.graph.nodes.length} nodes · ${fmt(sessionsTotal(summary))} BGP sessions`;
  }
  layout();
  drawStatic();
  draw();
  renderControls(summary);
  renderNode();
  $("yaml").value = sim.toYaml();
  $("yaml-error").hidden = true;
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
  state.pos = pos;
  state.labels = labels;
}

function sessionColor(s, nodes) {
  const a = nodes[s.a], b = s.b == null ? null : nodes[s.b];
  if (a.reflector && b && b.reflector) return COLORS.rrrr;
  if (s.peerType === "node-to-node mesh") return COLORS.mesh;
  if (s.peerType === "global") return COLORS.global;
  return COLORS.specific;
}

function drawStatic() {
  const g = state.graph, pos = state.pos, nodes = g.nodes;
  const w = back.width / dpr, h = back.height / dpr;
  bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  bctx.clearRect(0, 0, w, h);
  const sessions = g.sessions.filter((s) => s.b != null);
  const many = sessions.length;
  const width = many <= 60 ? 2.6 : many <= 1200 ? 1.3 : 0.6;
  const alpha = many <= 60 ? 0.9 : Math.max(0.03, Math.min(0.7, 40 / Math.sqrt(many)));
  // One path per colour keeps 100k+ mesh lines fast.
  const byColor = new Map();
  for (const s of sessions) {
    const c = sessionColor(s, nodes);
    if (!byColor.has(c)) byColor.set(c, []);
    byColor.get(c).push(s);
  }
  bctx.lineCap = "round";
  for (const [color, list] of byColor) {
    bctx.strokeStyle = color;
    bctx.globalAlpha = color === COLORS.rrrr ? Math.max(alpha, 0.8) : alpha;
    bctx.lineWidth = color === COLORS.rrrr ? Math.max(width, 2.2) : width;
    bctx.beginPath();
    for (const s of list) {
      const p = pos[s.a], q = pos[s.b];
      bctx.moveTo(p.x, p.y);
      bctx.lineTo(q.x, q.y);
    }
    bctx.stroke();
  }
  bctx.globalAlpha = 1;
  // Nodes: ordinary first, reflectors on top.
  const order = [...nodes].sort((x, y) => Number(x.reflector) - Number(y.reflector));
  for (const node of order) {
    const p = pos[node.index];
    bctx.beginPath();
    bctx.arc(p.x, p.y, p.r, 0, 2 * Math.PI);
    bctx.fillStyle = node.reflector ? COLORS.rr : COLORS.node;
    bctx.fill();
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
      if (s.b == null || (s.a !== sel.index && s.b !== sel.index)) continue;
      const q = pos[s.a === sel.index ? s.b : s.a];
      ctx.strokeStyle = sessionColor(s, g.nodes);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(q.x, q.y);
      ctx.stroke();
    }
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

function fly(messages, duration) {
  return new Promise((resolve) => {
    state.packets = messages.map((m) => ({ m, t: 0 }));
    const t0 = performance.now();
    const frame = (now) => {
      const t = (now - t0) / duration;
      for (const k of state.packets) k.t = t;
      draw();
      if (t < 1.35) requestAnimationFrame(frame);
      else resolve();
    };
    requestAnimationFrame(frame);
  });
}

function caption(html) {
  const c = $("caption");
  c.hidden = !html;
  c.innerHTML = html || "";
}

function describeStep(step, msgs, origin, prefix) {
  const senders = [...new Set(msgs.map((m) => m.fromName))];
  const dropped = msgs.filter((m) => m.accepted === false);
  const oids = [...new Set(msgs.map((m) => m.originatorId).filter(Boolean))];
  const cls = [...new Set(msgs.filter((m) => m.clusterList.length).map((m) => m.clusterList.join(" ")))];
  const list = (a) => a.slice(0, 4).join(", ") + (a.length > 4 ? ` and ${a.length - 4} more` : "");
  let html = `<b>Step ${step}</b> · ${list(senders)} send${senders.length === 1 ? "s" : ""} ${msgs.length} UPDATE${msgs.length === 1 ? "" : "s"} for <code>${prefix}</code>.`;
  if (oids.length === 0) {
    html += ` <b>${origin}</b> announces its new route: NEXT_HOP is its own address; no ORIGINATOR_ID, no CLUSTER_LIST yet.`;
  } else {
    html += ` Reflecting adds <span class="hl">ORIGINATOR_ID ${oids.join(", ")}</span> (who originated it) and prepends the reflector's cluster ID to <span class="hl">CLUSTER_LIST ${cls.join(" | ")}</span>. NEXT_HOP is kept.`;
  }
  if (dropped.length) {
    html += ` <b>${dropped.length}</b> cop${dropped.length === 1 ? "y is" : "ies are"} dropped: the receiver finds its own cluster ID in CLUSTER_LIST (RFC 4456 loop prevention).`;
  }
  return html;
}

function messageCard(m, fresh, step) {
  const li = document.createElement("li");
  li.className = "msg" + (m.accepted === false ? " dropped" : "") + (fresh ? " fresh" : "");
  const attrs = [];
  for (const p of m.announced) attrs.push(`<span class="attr pfx">+ ${p}</span>`);
  for (const p of m.withdrawn) attrs.push(`<span class="attr pfx">− ${p}</span>`);
  if (m.origin) attrs.push(`<span class="attr">ORIGIN ${m.origin}</span>`);
  if (m.asPath != null) attrs.push(`<span class="attr">AS_PATH ${m.asPath || "(empty)"}</span>`);
  if (m.nextHop) attrs.push(`<span class="attr">NEXT_HOP ${m.nextHop}</span>`);
  if (m.localPref != null) attrs.push(`<span class="attr">LOCAL_PREF ${m.localPref}</span>`);
  if (m.med != null) attrs.push(`<span class="attr">MED ${m.med}</span>`);
  if (m.originatorId) attrs.push(`<span class="attr refl">ORIGINATOR_ID ${m.originatorId}</span>`);
  if (m.clusterList.length) attrs.push(`<span class="attr refl">CLUSTER_LIST ${m.clusterList.join(" ")}</span>`);
  const verdict = m.accepted == null ? "" : m.accepted
    ? `<div class="verdict ok">✓ kept by ${m.toName}</div>`
    : `<div class="verdict drop">✗ dropped by ${m.toName}: its cluster ID is in CLUSTER_LIST</div>`;
  li.innerHTML = `<div class="msg-head"><span>${m.fromName} → ${m.toName} · ${m.kind} · ${m.length} B</span><span class="step">step ${step}</span></div><div class="attrs">${attrs.join("")}</div>${verdict}`;
  return li;
}

async function animateUpdate() {
  if (state.animating) return;
  const g = state.graph;
  if (g.nodes.length === 0) return;
  let origin = state.selected ? nodeByName(state.selected) : null;
  if (!origin) origin = g.nodes.find((n) => !n.reflector) || g.nodes[0];
  state.selected = origin.name;
  renderNode();
  state.animating = true;
  for (const id of ["animate", "converge", "size", "mode-mesh", "mode-rr", "apply-yaml"]) $(id).disabled = true;
  const sim = state.sim;
  try {
    if (!state.converge) converge();
    sim.clearMessages();
    const k = state.announced++;
    const prefix = `10.${250 + Math.floor(k / 256) % 6}.${k % 256}.0/24`;
    sim.announce(origin.name, prefix);
    showTab("messages");
    const list = $("messages");
    list.innerHTML = "";
    let index = 0, total = 0, step = 0;
    const n = g.nodes.length;
    const duration = n <= 12 ? 1500 : n <= 60 ? 1100 : 800;
    for (; step < 64; step++) {
      const moved = sim.step();
      if (moved === 0) break;
      const page = sim.messages(index, 100000);
      const msgs = page.messages;
      index += msgs.length;
      total += msgs.length;
      $("msg-count").textContent = fmt(total);
      caption(describeStep(step + 1, msgs, origin.name, prefix));
      const shown = msgs.slice(0, Math.max(0, 300 - list.children.length));
      for (const m of shown) list.appendChild(messageCard(m, true, step + 1));
      await fly(msgs, duration);
      await sleep(n <= 12 ? 700 : 250);
    }
    state.packets = [];
    state.graph = sim.graph();
    const reached = g.nodes.filter((node) => sim.routes(node.name).routes.some((r) => r.prefix === prefix)).length;
    caption(`<b>Done</b> in ${step} steps and ${total} UPDATEs: <code>${prefix}</code> from <b>${origin.name}</b> is in the routing table of ${reached} of ${n} nodes. Click a node to see it, with its ORIGINATOR_ID and CLUSTER_LIST.`);
    window.reflectorDemo.lastAnimation = { prefix, steps: step, messages: total, reached };
    draw();
    renderNode();
  } catch (e) {
    fail(e);
  } finally {
    state.animating = false;
    for (const id of ["animate", "converge", "size", "mode-mesh", "mode-rr", "apply-yaml"]) $(id).disabled = false;
  }
}

// ---------------------------------------------------------------- panels

function renderControls(summary) {
  const n = summary.nodes;
  $("mode-mesh").classList.toggle("on", state.mode === "mesh");
  $("mode-rr").classList.toggle("on", state.mode === "rr");
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
  box.innerHTML = "";
  const rrs = state.graph.nodes.filter((x) => x.reflector);
  if (state.mode === "mesh") {
    box.innerHTML = `<div class="rr-none">The full mesh has no reflectors. Switch to “Route reflectors” to choose them.</div>`;
  } else if (rrs.length === 0) {
    box.innerHTML = `<div class="rr-none">No reflector yet: add one below.</div>`;
  }
  for (const node of rrs) {
    const row = document.createElement("div");
    row.className = "rr-item";
    row.innerHTML = `<i></i><span>${node.name}</span><input value="${node.clusterId}" aria-label="Cluster ID of ${node.name}"><button type="button" title="No longer a reflector">✕</button>`;
    row.querySelector("input").addEventListener("change", (ev) => {
      try {
        state.sim.setClusterId(node.name, ev.target.value);
        state.remembered.set(node.name, ev.target.value.trim());
        refresh();
      } catch (e) {
        fail(e);
        ev.target.value = node.clusterId;
      }
    });
    row.querySelector("button").addEventListener("click", () => {
      try { setReflector(node.name, null); } catch (e) { fail(e); }
    });
    box.appendChild(row);
  }
  const sel = $("rr-add-node");
  sel.innerHTML = "";
  for (const node of state.graph.nodes.filter((x) => !x.reflector)) {
    const o = document.createElement("option");
    o.value = o.textContent = node.name;
    sel.appendChild(o);
  }
  for (const id of ["rr-add-node", "rr-add-id", "rr-add"]) $(id).disabled = state.mode === "mesh";

  // Notes (load notes and linter findings).
  const all = state.sim.notes().filter((x) => x.severity === "warning");
  const seen = new Set();
  const notes = all.filter((x) => {
    const key = `${x.resource}|${x.field}|${x.message}`;
    return !seen.has(key) && seen.add(key);
  });
  $("notes-section").hidden = notes.length === 0;
  $("notes").innerHTML = notes
    .slice(0, 4)
    .map((x) => `<li class="${x.severity}"><b>${x.resource}</b> ${x.field}: ${escapeHtml(x.message)}</li>`)
    .join("") + (notes.length > 4 ? `<li>… and ${notes.length - 4} more</li>` : "");
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
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
  role.textContent = node.reflector ? `route reflector · cluster ${node.clusterId}` : "node";
  role.className = "pill " + (node.reflector ? "rr" : "node");
  const sessions = state.graph.sessions.filter((s) => s.a === node.index || s.b === node.index).length;
  $("node-meta").textContent = `${node.ipv4 || ""}${node.ipv6 ? " · " + node.ipv6 : ""} · AS ${node.asNumber} · ${sessions} BGP session${sessions === 1 ? "" : "s"}`;
  $("node-rr").checked = node.reflector;
  $("node-rr").disabled = state.mode === "mesh" || state.animating;
  $("node-cid").value = node.clusterId || DEFAULT_CID;
  $("node-cid").disabled = state.mode === "mesh" || state.animating;
  const routes = state.sim.routes(node.name).routes;
  $("route-count").textContent = String(routes.length);
  const tbody = $("routes").querySelector("tbody");
  tbody.innerHTML = routes
    .slice(0, 1000)
    .map((r) => {
      const local = r.from === "local";
      return `<tr data-prefix="${r.prefix}"><td>${r.prefix}</td><td>${r.next_hop}</td>` +
        `<td class="${r.originator_id ? "refl" : ""}">${r.originator_id || "–"}</td>` +
        `<td class="${r.cluster_list.length ? "refl" : ""}">${r.cluster_list.join(" ") || "–"}</td>` +
        `<td class="${local ? "local" : ""}">${local ? "originated here" : r.from}</td></tr>`;
    })
    .join("");
  $("node-status").textContent = state.sim.nodeStatusText(node.name);
}

function showTab(name) {
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("on", t.dataset.tab === name);
  for (const p of document.querySelectorAll(".panel")) p.classList.toggle("on", p.id === `panel-${name}`);
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
    try { converge(); drawStatic(); draw(); renderNode(); } catch (e) { fail(e); }
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
    try { state.sim.setClusterId(node.name, ev.target.value); state.remembered.set(node.name, ev.target.value.trim()); refresh(); }
    catch (e) { fail(e); renderNode(); }
  });
  $("node-remove").addEventListener("click", () => {
    try { state.sim.removeNode(state.selected); state.remembered.delete(state.selected); state.selected = null; refresh(); }
    catch (e) { fail(e); }
  });
  $("apply-yaml").addEventListener("click", () => {
    try {
      loadYaml($("yaml").value);
      $("status").textContent += " · YAML applied";
    } catch (e) {
      const err = $("yaml-error");
      err.textContent = e instanceof Error ? e.message : String(e);
      err.hidden = false;
    }
  });
  $("reset-yaml").addEventListener("click", () => { try { loadYaml(state.story); } catch (e) { fail(e); } });
  $("add-node").addEventListener("click", () => {
    try {
      let k = state.graph.nodes.length + 1;
      while (nodeByName(`node${k}`)) k++;
      state.sim.addNode(`node${k}`);
      refresh();
    } catch (e) { fail(e); }
  });
  for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => showTab(t.dataset.tab));
  canvas.addEventListener("click", (ev) => {
    const r = canvas.getBoundingClientRect();
    const node = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
    state.selected = node ? node.name : null;
    draw();
    renderNode();
    if (node) showTab("node");
  });
  canvas.addEventListener("mousemove", (ev) => {
    const r = canvas.getBoundingClientRect();
    canvas.style.cursor = nodeAt(ev.clientX - r.left, ev.clientY - r.top) ? "pointer" : "default";
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
    wire();
    loadYaml(state.story);
    window.reflectorDemo.ready = true;
  } catch (e) {
    fail(e);
  }
}

main();
