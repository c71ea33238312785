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

use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::update_repr::AttributeValue;
use reflector_core::wire::{AfiSafi, AfiSafiSet, Ipv4Prefix, Ipv6Prefix, Prefix};
use serde::Serialize;

use crate::error::Error;
use crate::ipam::NodeBlocks;
use crate::plan::{Endpoint, Family, PeerRole, Plan};
use crate::render::{ClusterSummary, NodeStatus, RouteRow, SessionState};
use crate::resources::Cluster;

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

/// A router ID for a node: its IPv4 address, else one derived from its index.
fn router_id(plan: &Plan, node: usize) -> Ipv4Addr {
    plan.nodes
        .get(node)
        .and_then(|n| n.router_id())
        .unwrap_or_else(|| Ipv4Addr::from(0x0afe_0000u32 | (node as u32 & 0xffff)))
}

impl Network {
    /// Builds the network of a cluster: plan, pod blocks, engines, sessions up, blocks originated.
    pub fn from_cluster(cluster: &Cluster) -> Result<Network, Error> {
        Network::new(cluster.plan(), cluster.pod_blocks()?)
    }

    /// Builds the network from a plan and the blocks each node originates (in plan node order).
    pub fn new(plan: Plan, blocks: Vec<NodeBlocks>) -> Result<Network, Error> {
        let mut engines: Vec<Engine> = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut cfg = EngineConfig::new(n.as_number, router_id(&plan, i));
                cfg.cluster_id = n.cluster_id;
                // calico/node's BIRD sessions all carry import and export
                // filters: RFC 8212's default-deny never applies there.
                cfg.ebgp_requires_policy = false;
                Engine::new(cfg)
            })
            .collect();
        let mut links = Vec::new();
        for (si, s) in plan.sessions.iter().enumerate() {
            let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) else {
                continue;
            };
            let families = AfiSafiSet::EMPTY.with(match s.family {
                Family::Ipv4 => AfiSafi::IPV4_UNICAST,
                Family::Ipv6 => AfiSafi::IPV6_UNICAST,
            });
            let mut add = |me: usize,
                           them: usize,
                           my_end: &crate::plan::SessionEnd,
                           their_end: &crate::plan::SessionEnd| {
                let mut pc =
                    PeerConfig::new(role(my_end.role), their_end.address, their_end.as_number);
                let node = plan.nodes.get(me);
                pc.local_v4 = node.and_then(|n| n.ipv4);
                pc.local_v6 = node.and_then(|n| n.ipv6);
                let engine = engines.get_mut(me)?;
                let id = engine.add_peer(pc);
                let mut neg = Negotiated::unicast(router_id(&plan, them));
                neg.families = families;
                engine.peer_up(id, neg);
                Some(id)
            };
            let (Some(a_peer), Some(b_peer)) = (add(a, b, &s.a, &s.b), add(b, a, &s.b, &s.a))
            else {
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
        for (i, nb) in blocks.iter().enumerate() {
            let node = plan.nodes.get(i);
            let (Some(engine), Some(node)) = (engines.get_mut(i), node) else {
                continue;
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
        self.engines.get_mut(node)
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
    pub fn step(&mut self) -> u64 {
        let mut inflight: Vec<(usize, bool, Vec<u8>)> = Vec::new();
        for (li, l) in self.links.iter().enumerate() {
            for a_to_b in [true, false] {
                let (src, peer) = if a_to_b {
                    (l.a, l.a_peer)
                } else {
                    (l.b, l.b_peer)
                };
                if let Some(e) = self.engines.get_mut(src) {
                    let out = e.take_transmit(peer);
                    if !out.is_empty() {
                        inflight.push((li, a_to_b, out));
                    }
                }
            }
        }
        let mut moved = 0;
        for (li, a_to_b, bytes) in inflight {
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
            let mut rest = bytes.as_slice();
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
                moved += 1;
                rest = rest.get(len..).unwrap_or(&[]);
            }
        }
        if moved > 0 {
            self.steps += 1;
        }
        moved
    }

    /// Steps until a step moves nothing, or `max_steps` steps have moved messages.
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

    /// A node's best routes (its Loc-RIB), in prefix order.
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
