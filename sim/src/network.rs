//! An in-memory network of Reflector engines, one per node, joined by the planned sessions.
//!
//! Every link carries real encoded BGP messages: what one engine's
//! `poll_transmit` writes is what the other's `handle_message` reads. The
//! network steps in synchronous rounds, deterministically: in each step every
//! engine's pending output (links in plan order, `a → b` then `b → a`) is
//! collected first, then delivered. It has converged when a step moves
//! nothing. Each node originates its pod blocks (see [`crate::ipam`]).
//!
//! Sessions to external peers (`peerIP` outside the cluster) have no engine
//! on the far side; they stay in BIRD's `start` / `Active` state.

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{AddPathSend, Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::update_repr::AttributeValue;
use reflector_core::wire::{AfiSafi, AfiSafiSet, Ipv4Prefix, Ipv6Prefix, Prefix};
use serde::Serialize;

use crate::error::Error;
use crate::ipam::NodeBlocks;
use crate::plan::{Endpoint, Family, PeerRole, Plan, Session, SessionEnd};
use crate::render::{ClusterSummary, NodeStatus, RouteRow, SessionState};
use crate::resources::Cluster;
use crate::routes;

/// Messages and bytes carried by a link, per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinkCounters {
    /// Messages from end `a` to end `b`.
    pub a_to_b_messages: u64,
    /// Bytes from end `a` to end `b`.
    pub a_to_b_bytes: u64,
    /// Messages from end `b` to end `a`.
    pub b_to_a_messages: u64,
    /// Bytes from end `b` to end `a`.
    pub b_to_a_bytes: u64,
}

/// A link between two nodes' engines: one planned session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Index of the session in [`Plan::sessions`].
    pub session: usize,
    /// Node index of end `a`.
    pub a: usize,
    /// Node index of end `b`.
    pub b: usize,
    /// The peer handle of `b` inside `a`'s engine.
    #[serde(skip)]
    pub a_peer: PeerId,
    /// The peer handle of `a` inside `b`'s engine.
    #[serde(skip)]
    pub b_peer: PeerId,
    /// Traffic counters.
    pub counters: LinkCounters,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Steps that moved at least one message.
    pub steps: u64,
    /// Whether the last step moved nothing.
    pub converged: bool,
    /// Messages delivered during the run.
    pub messages: u64,
    /// Bytes delivered during the run.
    pub bytes: u64,
}

/// One BGP message as it crossed a link, recorded when the message log is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggedMessage {
    /// The network step (1-based, counting steps that moved messages) that delivered it.
    pub step: u64,
    /// Index of the link in [`Network::links`].
    pub link: usize,
    /// Sending node index.
    pub from: usize,
    /// Receiving node index.
    pub to: usize,
    /// The whole message, header included, as the receiver read it.
    pub bytes: Vec<u8>,
}

/// The network: the plan, one engine per node, one link per node-to-node session.
pub struct Network {
    plan: Plan,
    blocks: Vec<NodeBlocks>,
    engines: Vec<Engine>,
    links: Vec<Link>,
    steps: u64,
    messages: u64,
    bytes: u64,
    errors: Vec<String>,
    log: Vec<LoggedMessage>,
    log_limit: usize,
    log_dropped: u64,
    received: Vec<u64>,
    /// Nodes whose engine may have output: polled at the next step.
    busy: Vec<bool>,
    failed: Vec<bool>,
    retired: Vec<(usize, PeerId)>,
    /// Threads a step runs engines on (1: one after the other).
    threads: usize,
    /// Simulated wall-clock time the sessions came up at, for SINCE (`HH:MM:SS`).
    pub start_clock: String,
}

fn role(r: PeerRole) -> Role {
    match r {
        PeerRole::Client => Role::Client,
        PeerRole::NonClient => Role::NonClient,
        PeerRole::Ebgp => Role::Ebgp,
    }
}

/// A node's engine: its AS, router ID and route reflector cluster ID, no peers yet.
fn new_engine(plan: &Plan, i: usize) -> Engine {
    let node = plan.nodes.get(i);
    let mut cfg = EngineConfig::new(node.map_or(0, |n| n.as_number), plan.router_id(i));
    cfg.cluster_id = node.and_then(|n| n.cluster_id);
    // calico/node's BIRD sessions all carry import and export filters:
    // RFC 8212's default-deny never applies there.
    cfg.ebgp_requires_policy = false;
    // BIRD prefers the node's own (static) route to any BGP one by protocol
    // preference (200 against 100).
    cfg.decision.prefer_local = true;
    Engine::new(cfg)
}

/// The address families a session carries.
fn families(s: &Session) -> AfiSafiSet {
    AfiSafiSet::EMPTY.with(match s.family {
        Family::Ipv4 => AfiSafi::IPV4_UNICAST,
        Family::Ipv6 => AfiSafi::IPV6_UNICAST,
    })
}

/// What the session's `me` end negotiates with the other end once it is up.
fn negotiated(plan: &Plan, s: &Session, me: Endpoint) -> Option<Negotiated> {
    let (_, them) = s.view(me)?;
    let Endpoint::Node(them) = them.endpoint else {
        return None;
    };
    let mut neg = Negotiated::unicast(plan.router_id(them));
    neg.families = families(s);
    // calico/node's BIRD runs `add paths on` (send and receive) on every session.
    neg.add_path_send = neg.families;
    neg.add_path_receive = neg.families;
    Some(neg)
}

/// The peer `me` configures for the other end of a session (BIRD's `add paths on`: every path is sent).
fn peer_config(plan: &Plan, s: &Session, me: Endpoint) -> Option<PeerConfig> {
    let (mine, theirs) = s.view(me)?;
    let mut pc = PeerConfig::new(role(mine.role), theirs.address, theirs.as_number);
    pc.add_path_send = AddPathSend::All;
    pc.allow_own_as = mine.allow_local_as;
    pc.next_hop_unchanged = mine.next_hop_keep;
    pc.local_as = mine.local_as;
    if let Endpoint::Node(i) = me {
        let node = plan.nodes.get(i);
        pc.local_v4 = node.and_then(|n| n.ipv4);
        pc.local_v6 = node.and_then(|n| n.ipv6);
    }
    Some(pc)
}

/// Adds the other end of a session to `me`'s engine with calico/node's filters and brings the session up.
fn open_peer(
    engine: &mut Engine,
    plan: &Plan,
    blocks: &[NodeBlocks],
    s: &Session,
    me: Endpoint,
) -> Option<PeerId> {
    let pc = peer_config(plan, s, me)?;
    let neg = negotiated(plan, s, me)?;
    let id = engine.add_peer(pc);
    set_policies(engine, plan, blocks, s, me, id);
    engine.peer_up(id, neg);
    Some(id)
}

/// Installs the BIRD import and export filters of `me` on a peer.
fn set_policies(
    engine: &mut Engine,
    plan: &Plan,
    blocks: &[NodeBlocks],
    s: &Session,
    me: Endpoint,
    id: PeerId,
) {
    if let Endpoint::Node(i) = me {
        engine.set_export_policy(id, routes::export_policy(plan, blocks, i, s));
        // Set before the session comes up: nothing to import again.
        let _ = engine.set_import_policy(id, routes::import_policy(plan, i, s));
    }
}

/// Whether an end is configured the same in two plans (address, AS, role; not the peer type).
fn same_end(x: &SessionEnd, y: &SessionEnd) -> bool {
    (x.endpoint, x.address, x.as_number, x.role) == (y.endpoint, y.address, y.as_number, y.role)
}

/// Node `i` originates its pod blocks into its engine.
fn originate(
    engine: &mut Engine,
    plan: &Plan,
    blocks: &[NodeBlocks],
    i: usize,
) -> Result<(), Error> {
    let (Some(nb), Some(node)) = (blocks.get(i), plan.nodes.get(i)) else {
        return Ok(());
    };
    for b in &nb.ipv4 {
        let nh = node.ipv4.map(IpAddr::V4).or(node.ipv6.map(IpAddr::V6));
        if let (Some(p), Some(nh)) = (Ipv4Prefix::new(b.addr, b.len), nh) {
            engine
                .originate(Prefix::V4(p), nh, &[])
                .map_err(|e| Error::Ipam {
                    message: format!("node {}: cannot originate {b}: {e:?}", node.name),
                })?;
        }
    }
    for b in &nb.ipv6 {
        let nh = node.ipv6.map(IpAddr::V6).or(node.ipv4.map(IpAddr::V4));
        if let (Some(p), Some(nh)) = (Ipv6Prefix::new(b.addr, b.len), nh) {
            engine
                .originate(Prefix::V6(p), nh, &[])
                .map_err(|e| Error::Ipam {
                    message: format!("node {}: cannot originate {b}: {e:?}", node.name),
                })?;
        }
    }
    for c in plan.routing.statics.get(i).into_iter().flatten() {
        let Some(p) = routes::prefix_of(c) else {
            continue;
        };
        if let Some(nh) = routes::next_hop_for(node.ipv4, node.ipv6, &p) {
            engine.originate(p, nh, &[]).map_err(|e| Error::Ipam {
                message: format!(
                    "node {}: cannot originate service route {c}: {e:?}",
                    node.name
                ),
            })?;
        }
    }
    Ok(())
}

impl Network {
    /// Builds the network of a cluster: plan, pod blocks, engines, sessions up, blocks originated.
    pub fn from_cluster(cluster: &Cluster) -> Result<Network, Error> {
        Network::new(cluster.plan(), cluster.pod_blocks()?)
    }

    /// Builds the network from a plan and the blocks each node originates (in plan node order).
    pub fn new(plan: Plan, blocks: Vec<NodeBlocks>) -> Result<Network, Error> {
        let n = plan.nodes.len();
        let mut engines: Vec<Engine> = (0..n).map(|i| new_engine(&plan, i)).collect();
        let mut links = Vec::new();
        for (si, s) in plan.sessions.iter().enumerate() {
            let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) else {
                continue;
            };
            if !s.comes_up() {
                continue;
            }
            let a_peer = engines
                .get_mut(a)
                .map(|e| open_peer(e, &plan, &blocks, s, Endpoint::Node(a)));
            let b_peer = engines
                .get_mut(b)
                .map(|e| open_peer(e, &plan, &blocks, s, Endpoint::Node(b)));
            let (Some(Some(a_peer)), Some(Some(b_peer))) = (a_peer, b_peer) else {
                continue;
            };
            links.push(Link {
                session: si,
                a,
                b,
                a_peer,
                b_peer,
                counters: LinkCounters::default(),
            });
        }
        for (i, engine) in engines.iter_mut().enumerate() {
            originate(engine, &plan, &blocks, i)?;
        }
        Ok(Network {
            plan,
            blocks,
            engines,
            links,
            steps: 0,
            messages: 0,
            bytes: 0,
            errors: Vec::new(),
            log: Vec::new(),
            log_limit: 0,
            log_dropped: 0,
            received: vec![0; n],
            busy: vec![true; n],
            failed: vec![false; n],
            retired: Vec::new(),
            threads: default_threads(),
            start_clock: "00:00:00".to_string(),
        })
    }

    /// The plan the network runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The links, in plan order.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The blocks each node originates.
    pub fn blocks(&self) -> &[NodeBlocks] {
        &self.blocks
    }

    /// A node's engine.
    pub fn engine(&self, node: usize) -> Option<&Engine> {
        self.engines.get(node)
    }

    /// A node's engine, to originate or withdraw routes of its own between steps.
    pub fn engine_mut(&mut self, node: usize) -> Option<&mut Engine> {
        if let Some(b) = self.busy.get_mut(node) {
            *b = true;
        }
        self.engines.get_mut(node)
    }

    /// Runs each step's engines on up to `n` threads (1: one after the other,
    /// as on WebAssembly). The result is the same for any `n`: every engine
    /// gets its messages in the same order.
    pub fn set_threads(&mut self, n: usize) {
        self.threads = n.max(1);
    }

    /// Records up to `limit` delivered messages from now on (0 turns the log off); clears the log.
    pub fn set_message_log(&mut self, limit: usize) {
        self.log_limit = limit;
        self.log.clear();
        self.log_dropped = 0;
    }

    /// The recorded messages, in delivery order.
    pub fn message_log(&self) -> &[LoggedMessage] {
        &self.log
    }

    /// Messages delivered while the log was full, and so not recorded.
    pub fn message_log_dropped(&self) -> u64 {
        self.log_dropped
    }

    /// Empties the message log (the limit stays).
    pub fn clear_message_log(&mut self) {
        self.log.clear();
        self.log_dropped = 0;
    }

    /// Messages the engines refused (NOTIFICATIONs they would have sent): empty in a healthy run.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// One synchronous round: collect every pending message, then deliver it. Returns messages moved.
    ///
    /// Messages are taken as the engines' shared chunks, without copying:
    /// an UPDATE written once for many peers of one class is read by each.
    /// Only engines that received or sent something in the last step (or were
    /// changed from outside) are polled: an engine produces output only in
    /// answer to input.
    pub fn step(&mut self) -> u64 {
        // The message log records one global delivery order: one thread then.
        if self.threads > 1 && self.log_limit == 0 {
            return self.step_parallel();
        }
        let mut inflight = Vec::new();
        let polled = std::mem::replace(&mut self.busy, vec![false; self.engines.len()]);
        for (li, l) in self.links.iter().enumerate() {
            for a_to_b in [true, false] {
                let (src, peer) = if a_to_b {
                    (l.a, l.a_peer)
                } else {
                    (l.b, l.b_peer)
                };
                if !polled.get(src).copied().unwrap_or(true) {
                    continue;
                }
                if let Some(e) = self.engines.get_mut(src) {
                    let out = e.take_transmit_chunks(peer);
                    if !out.is_empty() {
                        inflight.push((li, a_to_b, out));
                        // It may have more (a paused peer catching up): poll it again.
                        if let Some(b) = self.busy.get_mut(src) {
                            *b = true;
                        }
                    }
                }
            }
        }
        let mut moved = 0;
        for (li, a_to_b, chunks) in inflight {
            let Some(l) = self.links.get_mut(li) else {
                continue;
            };
            let (dst, peer) = if a_to_b {
                (l.b, l.b_peer)
            } else {
                (l.a, l.a_peer)
            };
            let Some(engine) = self.engines.get_mut(dst) else {
                continue;
            };
            for chunk in &chunks {
                let mut rest: &[u8] = chunk.as_ref();
                while rest.len() >= 19 {
                    let len = usize::from(u16::from_be_bytes([
                        rest.get(16).copied().unwrap_or(0),
                        rest.get(17).copied().unwrap_or(0),
                    ]));
                    let Some(msg) = rest.get(..len).filter(|_| len >= 19) else {
                        break;
                    };
                    if self.log_limit > 0 {
                        if self.log.len() < self.log_limit {
                            let (from, to) = if a_to_b { (l.a, l.b) } else { (l.b, l.a) };
                            self.log.push(LoggedMessage {
                                step: self.steps + 1,
                                link: li,
                                from,
                                to,
                                bytes: msg.to_vec(),
                            });
                        } else {
                            self.log_dropped += 1;
                        }
                    }
                    match engine.handle_message(peer, msg) {
                        Outcome::Reset { error, .. } => self.errors.push(format!(
                            "{} rejected a message from {}: {error:?}",
                            self.plan.endpoint_name(Endpoint::Node(dst)),
                            self.plan
                                .endpoint_name(Endpoint::Node(if a_to_b { l.a } else { l.b })),
                        )),
                        Outcome::TreatAsWithdraw(error) | Outcome::AttributeDiscarded(error) => {
                            self.errors.push(format!(
                                "{} repaired a message: {error:?}",
                                self.plan.endpoint_name(Endpoint::Node(dst))
                            ))
                        }
                        _ => {}
                    }
                    let c = &mut l.counters;
                    if a_to_b {
                        c.a_to_b_messages += 1;
                        c.a_to_b_bytes += len as u64;
                    } else {
                        c.b_to_a_messages += 1;
                        c.b_to_a_bytes += len as u64;
                    }
                    self.messages += 1;
                    self.bytes += len as u64;
                    if let Some(r) = self.received.get_mut(dst) {
                        *r += 1;
                    }
                    if let Some(b) = self.busy.get_mut(dst) {
                        *b = true;
                    }
                    moved += 1;
                    rest = rest.get(len..).unwrap_or(&[]);
                }
            }
        }
        if moved > 0 {
            self.steps += 1;
        }
        moved
    }

    /// Steps until a step moves nothing, or `max_steps` steps have moved messages.
    /// [`Network::step`] on several threads: first every polled engine
    /// writes its output (its export runs then), then every engine that
    /// receives handles its messages, each in the order one thread would
    /// deliver them (by link, then direction); counters, errors and the
    /// busy set are merged in that order afterwards.
    fn step_parallel(&mut self) -> u64 {
        let n = self.engines.len();
        let polled = std::mem::replace(&mut self.busy, vec![false; n]);
        // Per sending engine: (link, direction, the peer it sends to).
        type Sends = Vec<(usize, bool, PeerId)>;
        let mut sends: Vec<Sends> = vec![Vec::new(); n];
        for (li, l) in self.links.iter().enumerate() {
            for a_to_b in [true, false] {
                let (src, peer) = if a_to_b {
                    (l.a, l.a_peer)
                } else {
                    (l.b, l.b_peer)
                };
                if !polled.get(src).copied().unwrap_or(true) {
                    continue;
                }
                if let Some(v) = sends.get_mut(src) {
                    v.push((li, a_to_b, peer));
                }
            }
        }
        let jobs: Vec<(&mut Engine, Sends)> = self
            .engines
            .iter_mut()
            .zip(sends)
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let outputs = parallel_map(jobs, self.threads, |(engine, list)| {
            list.into_iter()
                .filter_map(|(li, a_to_b, peer)| {
                    let out = engine.take_transmit_chunks(peer);
                    (!out.is_empty()).then_some((li, a_to_b, out))
                })
                .collect::<Vec<_>>()
        });
        let mut inflight: Vec<(usize, bool, Vec<_>)> = outputs.into_iter().flatten().collect();
        inflight.sort_by_key(|(li, a_to_b, _)| (*li, !*a_to_b));
        // Inbound, per receiving engine, in delivery order.
        let mut inbound: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (k, (li, a_to_b, _)) in inflight.iter().enumerate() {
            let Some(l) = self.links.get(*li) else {
                continue;
            };
            let src = if *a_to_b { l.a } else { l.b };
            // It may have more (a paused peer catching up): poll it again.
            if let Some(b) = self.busy.get_mut(src) {
                *b = true;
            }
            let dst = if *a_to_b { l.b } else { l.a };
            if let Some(v) = inbound.get_mut(dst) {
                v.push(k);
            }
        }
        let links = &self.links;
        let plan = &self.plan;
        let inflight = &inflight;
        let jobs: Vec<(usize, &mut Engine, Vec<usize>)> = self
            .engines
            .iter_mut()
            .enumerate()
            .zip(inbound)
            .filter(|(_, v)| !v.is_empty())
            .map(|((dst, e), v)| (dst, e, v))
            .collect();
        // Per receiver: (inflight index, messages, bytes) per delivery, and errors by position.
        type Delivered = (Vec<(usize, u64, u64)>, Vec<((usize, usize), String)>);
        let results: Vec<(usize, Delivered)> =
            parallel_map(jobs, self.threads, |(dst, engine, ks)| {
                let mut counts = Vec::with_capacity(ks.len());
                let mut errors = Vec::new();
                for k in ks {
                    let Some((li, a_to_b, chunks)) = inflight.get(k) else {
                        continue;
                    };
                    let (peer, from) = match links.get(*li) {
                        Some(l) if *a_to_b => (l.b_peer, l.a),
                        Some(l) => (l.a_peer, l.b),
                        None => continue,
                    };
                    let (mut msgs, mut bytes, mut seq) = (0u64, 0u64, 0usize);
                    for chunk in chunks {
                        let mut rest: &[u8] = chunk.as_ref();
                        while rest.len() >= 19 {
                            let len = usize::from(u16::from_be_bytes([
                                rest.get(16).copied().unwrap_or(0),
                                rest.get(17).copied().unwrap_or(0),
                            ]));
                            let Some(msg) = rest.get(..len).filter(|_| len >= 19) else {
                                break;
                            };
                            match engine.handle_message(peer, msg) {
                                Outcome::Reset { error, .. } => errors.push((
                                    (k, seq),
                                    format!(
                                        "{} rejected a message from {}: {error:?}",
                                        plan.endpoint_name(Endpoint::Node(dst)),
                                        plan.endpoint_name(Endpoint::Node(from)),
                                    ),
                                )),
                                Outcome::TreatAsWithdraw(error)
                                | Outcome::AttributeDiscarded(error) => errors.push((
                                    (k, seq),
                                    format!(
                                        "{} repaired a message: {error:?}",
                                        plan.endpoint_name(Endpoint::Node(dst))
                                    ),
                                )),
                                _ => {}
                            }
                            msgs += 1;
                            bytes += len as u64;
                            seq += 1;
                            rest = rest.get(len..).unwrap_or(&[]);
                        }
                    }
                    counts.push((k, msgs, bytes));
                }
                (dst, (counts, errors))
            });
        let mut moved = 0;
        let mut errors = Vec::new();
        for (dst, (counts, errs)) in results {
            errors.extend(errs);
            for (k, msgs, bytes) in counts {
                if msgs == 0 {
                    continue;
                }
                if let Some((li, a_to_b, _)) = inflight.get(k) {
                    if let Some(l) = self.links.get_mut(*li) {
                        let c = &mut l.counters;
                        if *a_to_b {
                            c.a_to_b_messages += msgs;
                            c.a_to_b_bytes += bytes;
                        } else {
                            c.b_to_a_messages += msgs;
                            c.b_to_a_bytes += bytes;
                        }
                    }
                }
                self.messages += msgs;
                self.bytes += bytes;
                moved += msgs;
                if let Some(r) = self.received.get_mut(dst) {
                    *r += msgs;
                }
                if let Some(b) = self.busy.get_mut(dst) {
                    *b = true;
                }
            }
        }
        errors.sort_by_key(|(at, _)| *at);
        self.errors.extend(errors.into_iter().map(|(_, e)| e));
        if moved > 0 {
            self.steps += 1;
        }
        moved
    }

    /// Steps until nothing moves (or `max_steps` steps moved messages).
    pub fn run(&mut self, max_steps: u64) -> RunReport {
        let (m0, b0, s0) = (self.messages, self.bytes, self.steps);
        let mut converged = false;
        while self.steps - s0 < max_steps {
            if self.step() == 0 {
                converged = true;
                break;
            }
        }
        RunReport {
            steps: self.steps - s0,
            converged,
            messages: self.messages - m0,
            bytes: self.bytes - b0,
        }
    }

    /// A node's best routes (its Loc-RIB), in prefix order, each with the next hops of every path it holds.
    pub fn routes(&self, node: usize) -> Vec<RouteRow> {
        let Some(engine) = self.engines.get(node) else {
            return Vec::new();
        };
        engine
            .loc_rib()
            .into_iter()
            .map(|(prefix, path)| {
                let mut as_path = String::new();
                let mut cluster_list = Vec::new();
                let mut communities = Vec::new();
                let mut local_pref = None;
                for a in path.attributes() {
                    match a.value {
                        AttributeValue::AsPath(p) => {
                            let parts: Vec<String> = p
                                .segments
                                .iter()
                                .map(|s| {
                                    let asns: Vec<String> =
                                        s.asns.iter().map(u32::to_string).collect();
                                    match s.kind {
                                        reflector_core::wire::attribute::SegmentType::Sequence => {
                                            asns.join(" ")
                                        }
                                        _ => format!("{{{}}}", asns.join(",")),
                                    }
                                })
                                .collect();
                            as_path = parts.join(" ");
                        }
                        AttributeValue::ClusterList(ids) => {
                            cluster_list = ids
                                .iter()
                                .map(|id| Ipv4Addr::from(*id).to_string())
                                .collect();
                        }
                        AttributeValue::Communities(cs) => communities
                            .extend(cs.iter().map(|c| format!("{}:{}", c >> 16, c & 0xffff))),
                        AttributeValue::LargeCommunities(cs) => communities.extend(
                            cs.iter()
                                .map(|c| format!("{}:{}:{}", c.global, c.local1, c.local2)),
                        ),
                        AttributeValue::LocalPref(lp) => local_pref = Some(lp),
                        _ => {}
                    }
                }
                let from = if path.peer == PeerId::LOCAL {
                    "local".to_string()
                } else {
                    engine
                        .peer_config(path.peer)
                        .map_or_else(String::new, |c| c.address.to_string())
                };
                let candidates = engine.candidates(&prefix);
                let mut next_hops: Vec<String> = Vec::new();
                for c in &candidates {
                    let nh = c
                        .set
                        .info()
                        .next_hop
                        .map_or_else(|| "-".to_string(), |n| n.to_string());
                    if !next_hops.contains(&nh) {
                        next_hops.push(nh);
                    }
                }
                RouteRow {
                    prefix: prefix.to_string(),
                    next_hop: path
                        .set
                        .info()
                        .next_hop
                        .map_or_else(|| "-".to_string(), |n| n.to_string()),
                    as_path,
                    originator_id: path
                        .set
                        .originator_id()
                        .map(|id| Ipv4Addr::from(id).to_string()),
                    cluster_list,
                    from,
                    next_hops,
                    paths: candidates.len(),
                    communities,
                    local_pref,
                }
            })
            .collect()
    }

    /// `calicoctl node status` for a node, with each session's state from the network.
    pub fn node_status(&self, node: usize) -> NodeStatus {
        let mut linked = vec![false; self.plan.sessions.len()];
        for l in &self.links {
            if let Some(x) = linked.get_mut(l.session) {
                *x = true;
            }
        }
        let since = self.start_clock.clone();
        self.plan.node_status(node, |si| {
            if linked.get(si).copied().unwrap_or(false) {
                SessionState::established(&since)
            } else {
                SessionState {
                    state: "start".into(),
                    since: since.clone(),
                    info: "Active".into(),
                }
            }
        })
    }

    /// The cluster summary with this network's traffic and steps.
    pub fn summary(&self) -> ClusterSummary {
        let mut s = self.plan.summary();
        s.messages = Some(self.messages);
        s.bytes = Some(self.bytes);
        s.convergence_steps = Some(self.steps);
        s
    }
}

/// What a move to a new configuration did to the sessions ([`Network::reconfigure`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Sessions in both configurations, configured the same, between nodes not restarted: untouched.
    pub kept: usize,
    /// Sessions only in the old configuration: torn down (their routes withdrawn at once).
    pub removed: usize,
    /// Sessions only in the new configuration: brought up.
    pub added: usize,
    /// Sessions in both whose configuration changed, or with a restarted end: restarted gracefully.
    pub reset: usize,
    /// Nodes whose BGP speaker restarted (AS, address or route reflector cluster ID changed).
    pub restarted: Vec<usize>,
}

impl Network {
    /// Messages node `i` has received since the network was built.
    pub fn messages_received(&self, node: usize) -> u64 {
        self.received.get(node).copied().unwrap_or(0)
    }

    /// Whether node `i` was failed by [`Network::fail_nodes`].
    pub fn is_failed(&self, node: usize) -> bool {
        self.failed.get(node).copied().unwrap_or(false)
    }

    /// Takes nodes down for good: every session of theirs goes down (no graceful restart) at the other end.
    ///
    /// Returns the number of sessions taken down.
    pub fn fail_nodes(&mut self, nodes: &[usize]) -> usize {
        for &i in nodes {
            if let Some(f) = self.failed.get_mut(i) {
                *f = true;
            }
        }
        let failed = self.failed.clone();
        let down = |i: usize| failed.get(i).copied().unwrap_or(false);
        self.drop_links(|l| down(l.a) || down(l.b))
    }

    /// Takes down every session between nodes `a` and `b` (one per family); returns how many.
    pub fn fail_session(&mut self, a: usize, b: usize) -> usize {
        self.drop_links(|l| (l.a, l.b) == (a, b) || (l.a, l.b) == (b, a))
    }

    /// Removes the links that match, withdrawing what each end learned over them.
    fn drop_links(&mut self, matches: impl Fn(&Link) -> bool) -> usize {
        self.busy.iter_mut().for_each(|b| *b = true);
        let (gone, kept): (Vec<Link>, Vec<Link>) = std::mem::take(&mut self.links)
            .into_iter()
            .partition(matches);
        self.links = kept;
        for l in &gone {
            if let Some(e) = self.engines.get_mut(l.a) {
                e.remove_peer(l.a_peer);
            }
            if let Some(e) = self.engines.get_mut(l.b) {
                e.remove_peer(l.b_peer);
            }
        }
        gone.len()
    }

    /// Moves the network to a new plan of the same nodes, as calico/node applies a configuration change.
    ///
    /// A node whose AS, addresses or route reflector cluster ID change
    /// restarts its speaker (a fresh engine: the engine takes its cluster ID
    /// once). Sessions in both plans, configured the same at both ends and
    /// between nodes that did not restart, are kept as they are. Sessions
    /// only in the old plan are torn down: each end withdraws what it learned
    /// over them. Sessions only in the new plan come up. The others restart
    /// gracefully (RFC 4724, as calico/node's BIRD runs with graceful restart):
    /// an end whose own peer configuration is unchanged keeps the other's paths,
    /// stale, until its End-of-RIB; an end whose peer configuration changed
    /// keeps the old peer's paths, stale, until [`Network::retire_stale`].
    /// The nodes and their pod blocks must be the same in both plans.
    pub fn reconfigure(&mut self, plan: Plan, blocks: Vec<NodeBlocks>) -> Result<Changes, Error> {
        let names = |p: &Plan| p.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
        if names(&plan) != names(&self.plan) {
            return Err(Error::Scenario {
                message: "every step must have the same nodes (by name)".to_string(),
            });
        }
        if blocks != self.blocks {
            return Err(Error::Scenario {
                message: "every step must give the nodes the same pod blocks (same IP pools)"
                    .to_string(),
            });
        }
        let old = std::mem::replace(&mut self.plan, plan);
        self.busy.iter_mut().for_each(|b| *b = true);
        let mut changes = Changes::default();
        let n = self.plan.nodes.len();
        let restarted: Vec<bool> = (0..n)
            .map(|i| self.plan.nodes.get(i) != old.nodes.get(i) && !self.is_failed(i))
            .collect();
        let restart = |i: usize| restarted.get(i).copied().unwrap_or(false);
        for i in (0..n).filter(|&i| restart(i)) {
            changes.restarted.push(i);
            let mut e = new_engine(&self.plan, i);
            originate(&mut e, &self.plan, &self.blocks, i)?;
            if let Some(slot) = self.engines.get_mut(i) {
                *slot = e;
            }
        }
        // Service routes that changed on nodes that did not restart.
        let alive: Vec<usize> = (0..n)
            .filter(|&i| !restart(i) && !self.is_failed(i))
            .collect();
        for i in alive {
            let was = old.routing.statics.get(i).cloned().unwrap_or_default();
            let now = self
                .plan
                .routing
                .statics
                .get(i)
                .cloned()
                .unwrap_or_default();
            let (Some(e), Some(node)) = (self.engines.get_mut(i), self.plan.nodes.get(i)) else {
                continue;
            };
            for c in was.iter().filter(|c| !now.contains(c)) {
                if let Some(p) = routes::prefix_of(c) {
                    e.withdraw_local(p);
                }
            }
            for c in now.iter().filter(|c| !was.contains(c)) {
                if let Some(p) = routes::prefix_of(c) {
                    if let Some(nh) = routes::next_hop_for(node.ipv4, node.ipv6, &p) {
                        e.originate(p, nh, &[]).map_err(|e| Error::Scenario {
                            message: format!("cannot originate {c}: {e:?}"),
                        })?;
                    }
                }
            }
        }
        let key = |s: &Session| (s.family, s.a.endpoint, s.b.endpoint);
        let new_index: std::collections::HashMap<_, usize> = self
            .plan
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (key(s), i))
            .collect();
        let mut carried: Vec<Option<Link>> = vec![None; self.plan.sessions.len()];
        let mut seen = vec![false; self.plan.sessions.len()];
        for l in std::mem::take(&mut self.links) {
            let Some(os) = old.sessions.get(l.session) else {
                continue;
            };
            let ns_index = new_index.get(&key(os)).copied();
            let Some((si, ns)) = ns_index
                .and_then(|i| self.plan.sessions.get(i).map(|s| (i, s)))
                .filter(|(_, ns)| ns.comes_up())
            else {
                changes.removed += 1;
                for (end, peer) in [(l.a, l.a_peer), (l.b, l.b_peer)] {
                    if !restart(end) {
                        if let Some(e) = self.engines.get_mut(end) {
                            e.remove_peer(peer);
                        }
                    }
                }
                continue;
            };
            if let Some(x) = seen.get_mut(si) {
                *x = true;
            }
            let same = same_end(&os.a, &ns.a) && same_end(&os.b, &ns.b);
            if same && !restart(l.a) && !restart(l.b) {
                changes.kept += 1;
                if let Some(slot) = carried.get_mut(si) {
                    *slot = Some(Link { session: si, ..l });
                }
                continue;
            }
            changes.reset += 1;
            let fams = families(ns);
            let mut peers = [l.a_peer, l.b_peer];
            for (end, peer) in [l.a, l.b].into_iter().zip(peers.iter_mut()) {
                let me = Endpoint::Node(end);
                let plan = &self.plan;
                let Some(engine) = self.engines.get_mut(end) else {
                    continue;
                };
                if restart(end) {
                    if let Some(id) = open_peer(engine, plan, &self.blocks, ns, me) {
                        *peer = id;
                    }
                    continue;
                }
                engine.peer_down_graceful(*peer, fams);
                let unchanged = peer_config(&old, os, me) == peer_config(plan, ns, me);
                if unchanged {
                    set_policies(engine, plan, &self.blocks, ns, me, *peer);
                    if let Some(neg) = negotiated(plan, ns, me) {
                        engine.peer_up_graceful(*peer, neg, fams);
                    }
                } else if let Some(id) = open_peer(engine, plan, &self.blocks, ns, me) {
                    self.retired.push((end, *peer));
                    *peer = id;
                }
            }
            if let Some(slot) = carried.get_mut(si) {
                *slot = Some(Link {
                    session: si,
                    a_peer: peers[0],
                    b_peer: peers[1],
                    counters: LinkCounters::default(),
                    ..l
                });
            }
        }
        for (si, s) in self.plan.sessions.iter().enumerate() {
            if seen.get(si).copied().unwrap_or(true) {
                continue;
            }
            let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) else {
                continue;
            };
            if self.is_failed(a) || self.is_failed(b) || !s.comes_up() {
                continue;
            }
            let plan = &self.plan;
            let blocks = &self.blocks;
            let a_peer = self
                .engines
                .get_mut(a)
                .and_then(|e| open_peer(e, plan, blocks, s, Endpoint::Node(a)));
            let b_peer = self
                .engines
                .get_mut(b)
                .and_then(|e| open_peer(e, plan, blocks, s, Endpoint::Node(b)));
            if let (Some(a_peer), Some(b_peer), Some(slot)) = (a_peer, b_peer, carried.get_mut(si))
            {
                changes.added += 1;
                *slot = Some(Link {
                    session: si,
                    a,
                    b,
                    a_peer,
                    b_peer,
                    counters: LinkCounters::default(),
                });
            }
        }
        self.links = carried.into_iter().flatten().collect();
        Ok(changes)
    }

    /// Brings failed nodes back and every session taken down between live nodes up again.
    ///
    /// The nodes in `nodes` are no longer failed: each comes back with its own
    /// pod blocks and an empty RIB, as a restarted calico/node does. Then the
    /// plan is applied again ([`Network::reconfigure`] with the same plan):
    /// sessions still up are kept, the sessions missing between live nodes
    /// (of the restored nodes, or taken down by [`Network::fail_session`]) come up.
    pub fn restore(&mut self, nodes: &[usize]) -> Result<Changes, Error> {
        for &i in nodes {
            if let Some(f) = self.failed.get_mut(i) {
                *f = false;
            }
        }
        let plan = self.plan.clone();
        let blocks = self.blocks.clone();
        self.reconfigure(plan, blocks)
    }

    /// Removes the old peers a [`Network::reconfigure`] left with stale paths; returns how many.
    pub fn retire_stale(&mut self) -> usize {
        let retired = std::mem::take(&mut self.retired);
        self.busy.iter_mut().for_each(|b| *b = true);
        for &(node, peer) in &retired {
            if let Some(e) = self.engines.get_mut(node) {
                e.remove_peer(peer);
            }
        }
        retired.len()
    }

    /// Every node's pod blocks as (owning node, engine prefix, text), in node order.
    pub fn block_list(&self) -> Vec<(usize, Prefix, String)> {
        let mut out = Vec::new();
        for (i, nb) in self.blocks.iter().enumerate() {
            for b in &nb.ipv4 {
                if let Some(p) = Ipv4Prefix::new(b.addr, b.len) {
                    out.push((i, Prefix::V4(p), b.to_string()));
                }
            }
            for b in &nb.ipv6 {
                if let Some(p) = Ipv6Prefix::new(b.addr, b.len) {
                    out.push((i, Prefix::V6(p), b.to_string()));
                }
            }
        }
        out
    }

    /// Whether node `i` has a usable route to each of `blocks` (false everywhere for a failed node).
    pub fn reaches(&self, node: usize, blocks: &[(usize, Prefix, String)]) -> Vec<bool> {
        match self.engines.get(node).filter(|_| !self.is_failed(node)) {
            Some(e) => blocks.iter().map(|(_, p, _)| e.best(p).is_some()).collect(),
            None => vec![false; blocks.len()],
        }
    }
}

/// Threads a step uses by default: the machine's cores, at most 8 (1 where
/// threads are not available, as on WebAssembly).
fn default_threads() -> usize {
    if cfg!(target_arch = "wasm32") {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `f` over `items` on up to `threads` scoped threads, each taking the next
/// item when it is free; results in the order of `items`.
fn parallel_map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let n = items.len();
    if threads <= 1 || n <= 1 {
        return items.into_iter().map(f).collect();
    }
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let done = std::sync::Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let next = match queue.lock() {
                        Ok(mut q) => q.next(),
                        Err(_) => None,
                    };
                    let Some((i, item)) = next else { break };
                    mine.push((i, f(item)));
                }
                if let Ok(mut d) = done.lock() {
                    d.extend(mine);
                }
            });
        }
    });
    let mut out: Vec<(usize, R)> = done.into_inner().unwrap_or_default();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
