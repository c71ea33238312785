//! Random networks of engines wired together in memory, exchanging real
//! encoded UPDATEs: single and redundant reflectors (sharing a cluster ID or
//! not), hierarchical reflectors, non-client iBGP meshes and eBGP edges, with
//! random originations, withdrawals and session flaps. After convergence:
//!
//! - no node holds a path whose CLUSTER_LIST carries its own cluster ID, or
//!   whose ORIGINATOR_ID is its own router ID;
//! - no route was ever sent back to the peer it was learned from, nor to its
//!   originator (every delivered UPDATE is checked as it crosses the link);
//! - every prefix still originated somewhere is at every node;
//! - following best paths (next hop = a node's address) never loops and ends
//!   at a node that originates the prefix;
//! - with uniform attributes, every node reaches the same prefixes as in a
//!   full iBGP mesh of the same nodes;
//! - every best path's AS_PATH is exactly the ASes the route crossed, also
//!   through 2-octet-AS sessions (AS_TRANS and AS4_PATH, RFC 6793) and from
//!   external nodes with 4-octet AS numbers.
//!
//! Sessions vary per link: iBGP sessions may be 2-octet-AS or ADD-PATH
//! (the sender advertises every path, RFC 7911; a path is never sent back to
//! the peer it came from, whatever its path identifier), eBGP sessions to
//! 2-octet ASes may be 2-octet. Passive observer clients (one to three, some
//! of them ADD-PATH receivers) originate nothing and must still see everything.
//!
//! Cases: `PROPTEST_CASES` (default 256).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use reflector_core::engine::{AddPathSend, Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::update_repr::AttributeValue;
use reflector_core::wire::{
    AfiSafi, AfiSafiSet, Context, Ipv4Prefix, Prefix, UpdatePacket, UpdateRepr,
};

const AS: u32 = 63400;
/// At most this many messages cross the links before a network must be quiet.
const MAX_MESSAGES: usize = 200_000;

fn addr(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, (n / 200) as u8, (n % 200) as u8 + 1)
}

fn pool(i: u8) -> Prefix {
    Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(10, 200, i, 0), 24).unwrap())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One reflector and its clients.
    Single,
    /// Two reflectors, every client attached to both, the reflectors peering as non-clients.
    Redundant { shared_cluster: bool },
    /// A top reflector whose clients are two reflectors with clients of their own.
    Hierarchical,
    /// One reflector with clients, plus non-client iBGP peers in a full mesh with it and each other.
    NonClientMesh,
}

/// A link: node `a` sees `b` with role `role_b`, `b` sees `a` with role `role_a`.
#[derive(Debug, Clone, Copy)]
struct LinkSpec {
    a: usize,
    b: usize,
    role_b: Role,
    role_a: Role,
    /// The session negotiated 4-octet AS numbers.
    four_octet: bool,
    /// Both sides send and receive every path (ADD-PATH, IPv4 unicast).
    add_path: bool,
}

/// The AS of external node `j` (every other one needs four octets).
fn external_as(j: usize) -> u32 {
    if j % 2 == 0 {
        65001 + j as u32
    } else {
        4_200_000_001 + j as u32
    }
}

#[derive(Debug, Clone)]
struct Topology {
    /// Internal (iBGP) nodes: whether each is a reflector, and its cluster ID if set.
    internal: Vec<Option<Option<Ipv4Addr>>>,
    /// External nodes, each attached by eBGP to one internal node.
    external: Vec<usize>,
    links: Vec<LinkSpec>,
    /// Passive observer clients (internal nodes that originate nothing).
    observers: Vec<usize>,
}

impl Topology {
    fn nodes(&self) -> usize {
        self.internal.len() + self.external.len()
    }

    /// Nodes that originate and withdraw: all but the observers.
    fn actors(&self) -> Vec<usize> {
        (0..self.nodes())
            .filter(|n| !self.observers.contains(n))
            .collect()
    }

    fn build(
        kind: Kind,
        clients: usize,
        non_clients: usize,
        externals: &[usize],
        observers: usize,
        sessions: &[(bool, bool)],
    ) -> Self {
        let ibgp = |a, b, role_b, role_a| LinkSpec {
            a,
            b,
            role_b,
            role_a,
            four_octet: true,
            add_path: false,
        };
        let mut internal: Vec<Option<Option<Ipv4Addr>>> = Vec::new();
        let mut links = Vec::new();
        match kind {
            Kind::Single => {
                internal.push(Some(None));
                for i in 1..=clients {
                    internal.push(None);
                    links.push(ibgp(0, i, Role::Client, Role::NonClient));
                }
            }
            Kind::Redundant { shared_cluster } => {
                let cluster = shared_cluster.then_some(Ipv4Addr::new(10, 255, 255, 1));
                internal.push(Some(cluster));
                internal.push(Some(cluster));
                links.push(ibgp(0, 1, Role::NonClient, Role::NonClient));
                for i in 2..2 + clients {
                    internal.push(None);
                    links.push(ibgp(0, i, Role::Client, Role::NonClient));
                    links.push(ibgp(1, i, Role::Client, Role::NonClient));
                }
            }
            Kind::Hierarchical => {
                internal.push(Some(None));
                internal.push(Some(None));
                internal.push(Some(None));
                links.push(ibgp(0, 1, Role::Client, Role::NonClient));
                links.push(ibgp(0, 2, Role::Client, Role::NonClient));
                for j in 0..clients.max(2) {
                    let leaf = internal.len();
                    internal.push(None);
                    links.push(ibgp(1 + j % 2, leaf, Role::Client, Role::NonClient));
                }
            }
            Kind::NonClientMesh => {
                internal.push(Some(None));
                for i in 1..=clients {
                    internal.push(None);
                    links.push(ibgp(0, i, Role::Client, Role::NonClient));
                }
                let first = internal.len();
                for _ in 0..non_clients.max(1) {
                    internal.push(None);
                }
                for n in first..internal.len() {
                    links.push(ibgp(0, n, Role::NonClient, Role::NonClient));
                    for m in n + 1..internal.len() {
                        links.push(ibgp(n, m, Role::NonClient, Role::NonClient));
                    }
                }
            }
        }
        // Observers: clients of the first reflector (of both redundant ones:
        // with a shared cluster ID, a client of one only is cut off from the other).
        let mut obs = Vec::new();
        for _ in 0..observers {
            let o = internal.len();
            obs.push(o);
            internal.push(None);
            links.push(ibgp(0, o, Role::Client, Role::NonClient));
            if matches!(kind, Kind::Redundant { .. }) {
                links.push(ibgp(1, o, Role::Client, Role::NonClient));
            }
        }
        let n = internal.len();
        let external: Vec<usize> = externals.iter().map(|s| s % n).collect();
        for (j, &at) in external.iter().enumerate() {
            links.push(LinkSpec {
                a: at,
                b: n + j,
                role_b: Role::Ebgp,
                role_a: Role::Ebgp,
                four_octet: true,
                add_path: false,
            });
        }
        // Session options, cycled over the links.
        if !sessions.is_empty() {
            for (k, l) in links.iter_mut().enumerate() {
                let (four_octet, add_path) = sessions[k % sessions.len()];
                if l.role_b == Role::Ebgp {
                    // A 2-octet session only with a 2-octet AS; no ADD-PATH to eBGP.
                    l.four_octet = four_octet || external_as(l.b - n) > 0xffff;
                } else {
                    l.four_octet = four_octet;
                    l.add_path = add_path;
                }
            }
        }
        Topology {
            internal,
            external,
            links,
            observers: obs,
        }
    }

    /// The same nodes in a full iBGP mesh (no reflection), with the same eBGP edges.
    fn full_mesh(&self) -> Self {
        let n = self.internal.len();
        let mut links = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                links.push(LinkSpec {
                    a,
                    b,
                    role_b: Role::NonClient,
                    role_a: Role::NonClient,
                    four_octet: true,
                    add_path: false,
                });
            }
        }
        links.extend(
            self.links
                .iter()
                .filter(|l| l.role_b == Role::Ebgp)
                .copied(),
        );
        Topology {
            internal: vec![None; n],
            external: self.external.clone(),
            links,
            observers: self.observers.clone(),
        }
    }
}

struct Node {
    engine: Engine,
    addr: Ipv4Addr,
    cluster: u32,
}

struct Link {
    a: usize,
    b: usize,
    /// The peer at `a` that stands for `b`, and the one at `b` for `a`.
    pa: PeerId,
    pb: PeerId,
    ebgp: bool,
    four_octet: bool,
    add_path: bool,
}

impl Link {
    /// How UPDATEs on the link are decoded (the same both ways).
    fn ctx(&self) -> Context {
        Context {
            four_octet_as: self.four_octet,
            extended_message: false,
            add_path: if self.add_path {
                AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST)
            } else {
                AfiSafiSet::EMPTY
            },
        }
    }

    fn negotiated(&self, router_id: Ipv4Addr) -> Negotiated {
        let mut n = Negotiated::unicast(router_id);
        n.four_octet_as = self.four_octet;
        if self.add_path {
            n.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
            n.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
        }
        n
    }
}

/// Bytes taken from a node for one link: its peer there, the receiving node,
/// the receiver's peer for the sender, (eBGP, decoding context), the messages.
type Outgoing = (PeerId, usize, PeerId, (bool, Context), Vec<u8>);

struct Net {
    nodes: Vec<Node>,
    links: Vec<Link>,
    /// Messages taken from their sender (and checked) but not yet delivered:
    /// (receiving node, its peer for the sender, sender, the message).
    in_flight: Vec<(usize, PeerId, usize, Vec<u8>)>,
    delivered: usize,
    announcements: usize,
    violations: Vec<String>,
}

impl Net {
    fn new(t: &Topology) -> Self {
        let n_int = t.internal.len();
        let mut nodes: Vec<Node> = (0..t.nodes())
            .map(|i| {
                let asn = if i < n_int {
                    AS
                } else {
                    external_as(i - n_int)
                };
                let mut cfg = EngineConfig::new(asn, addr(i));
                // RFC 8212 off: these tests are about the reflection and eBGP rules (policy.rs tests it).
                cfg.ebgp_requires_policy = false;
                if let Some(Some(Some(c))) = t.internal.get(i) {
                    cfg.cluster_id = Some(*c);
                }
                Node {
                    engine: Engine::new(cfg),
                    addr: addr(i),
                    cluster: cfg.cluster_id.unwrap_or(addr(i)).to_bits(),
                }
            })
            .collect();
        let asn_of = |i: usize| {
            if i < n_int {
                AS
            } else {
                external_as(i - n_int)
            }
        };
        let mut links = Vec::new();
        for l in &t.links {
            let peer = |at: usize, other: usize, role: Role, nodes: &mut Vec<Node>| {
                let mut pc = PeerConfig::new(role, IpAddr::V4(addr(other)), asn_of(other));
                pc.local_v4 = Some(addr(at));
                if l.add_path {
                    pc.add_path_send = AddPathSend::All;
                }
                nodes[at].engine.add_peer(pc)
            };
            let pa = peer(l.a, l.b, l.role_b, &mut nodes);
            let pb = peer(l.b, l.a, l.role_a, &mut nodes);
            links.push(Link {
                a: l.a,
                b: l.b,
                pa,
                pb,
                ebgp: l.role_b == Role::Ebgp,
                four_octet: l.four_octet,
                add_path: l.add_path,
            });
        }
        let mut net = Net {
            nodes,
            links,
            in_flight: Vec::new(),
            delivered: 0,
            announcements: 0,
            violations: Vec::new(),
        };
        for i in 0..net.links.len() {
            net.link_up(i);
        }
        net
    }

    fn link_up(&mut self, i: usize) {
        let (a, b, pa, pb) = {
            let l = &self.links[i];
            (l.a, l.b, l.pa, l.pb)
        };
        let (ra, rb) = (self.nodes[a].addr, self.nodes[b].addr);
        let (na, nb) = (self.links[i].negotiated(rb), self.links[i].negotiated(ra));
        self.nodes[a].engine.peer_up(pa, na);
        self.nodes[b].engine.peer_up(pb, nb);
        // Bringing a session up runs the decision process and queues the table:
        // take it now, while the senders' state is the one it was written from.
        self.take(a);
        self.take(b);
    }

    fn link_down(&mut self, i: usize) {
        let (a, b, pa, pb) = {
            let l = &self.links[i];
            (l.a, l.b, l.pa, l.pb)
        };
        self.nodes[a].engine.peer_down(pa);
        self.nodes[b].engine.peer_down(pb);
        // What was in flight on the session is lost with it.
        self.in_flight
            .retain(|&(to, tp, _, _)| !((to, tp) == (a, pa) || (to, tp) == (b, pb)));
    }

    fn node_by_addr(&self, a: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|n| IpAddr::V4(n.addr) == a)
    }

    /// Check one UPDATE about to cross from `from` (peer `to_peer` there) to `to`.
    fn check_sent(
        &mut self,
        from: usize,
        to_peer: PeerId,
        to: usize,
        (ebgp, ctx): (bool, Context),
        msg: &[u8],
    ) {
        let p = UpdatePacket::new_checked(msg, &ctx)
            .unwrap_or_else(|e| panic!("node {from} sent a malformed UPDATE: {e}"));
        let u = UpdateRepr::parse(&p);
        for n in &u.nlri {
            self.announcements += 1;
            // Never back to the peer the route was learned from: the best path
            // or, with ADD-PATH, the path its identifier names.
            let sent = match n.path_id {
                None => self.nodes[from].engine.best(&n.prefix).map(|b| b.peer),
                Some(id) => self.nodes[from]
                    .engine
                    .candidates(&n.prefix)
                    .iter()
                    .find(|c| c.local_id == id)
                    .map(|c| c.peer),
            };
            if let Some(peer) = sent {
                if peer == to_peer {
                    self.violations.push(format!(
                        "node {from} sent {} back to node {to}, its sender",
                        n.prefix
                    ));
                }
            }
            // Never to its originator.
            if !ebgp {
                let orig = u.attribute(9).and_then(|v| match v {
                    AttributeValue::OriginatorId(a) => Some(*a),
                    _ => None,
                });
                if orig == Some(self.nodes[to].addr) {
                    self.violations.push(format!(
                        "node {from} sent {} to node {to}, its originator",
                        n.prefix
                    ));
                }
            }
        }
    }

    /// Take everything `from` has queued, check it against its state, and put it in flight.
    ///
    /// The first take runs the node's decision process, so what is taken
    /// matches the node's state as it stands.
    fn take(&mut self, from: usize) {
        let mut out: Vec<Outgoing> = Vec::new();
        for l in &self.links {
            let (fp, to, tp) = if l.a == from {
                (l.pa, l.b, l.pb)
            } else if l.b == from {
                (l.pb, l.a, l.pa)
            } else {
                continue;
            };
            let bytes = self.nodes[from].engine.take_transmit(fp);
            if !bytes.is_empty() {
                out.push((fp, to, tp, (l.ebgp, l.ctx()), bytes));
            }
        }
        for (fp, to, tp, link, bytes) in out {
            let mut rest = &bytes[..];
            while rest.len() >= 19 {
                let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
                let (msg, tail) = rest.split_at(len);
                rest = tail;
                self.check_sent(from, fp, to, link, msg);
                self.in_flight.push((to, tp, from, msg.to_vec()));
            }
            assert!(rest.is_empty(), "node {from} queued a partial message");
        }
    }

    /// Deliver everything in flight and queued until no link carries a message; bounded.
    fn settle(&mut self) {
        loop {
            let mut moved = 0usize;
            for from in 0..self.nodes.len() {
                self.take(from);
                for (to, tp, from, msg) in std::mem::take(&mut self.in_flight) {
                    let res = self.nodes[to].engine.handle_message(tp, &msg);
                    assert!(
                        matches!(res, Outcome::Accepted { .. }),
                        "node {to} on a message from node {from}: {res:?}"
                    );
                    moved += 1;
                    self.delivered += 1;
                    assert!(
                        self.delivered < MAX_MESSAGES,
                        "the network did not become quiet"
                    );
                }
            }
            if moved == 0 {
                return;
            }
        }
    }

    /// Prefixes in each node's Loc-RIB.
    fn reach(&self) -> Vec<BTreeSet<Prefix>> {
        self.nodes
            .iter()
            .map(|n| n.engine.loc_rib().into_iter().map(|(p, _)| p).collect())
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Originate(usize, u8),
    Withdraw(usize, u8),
    /// Take a link down, let the network settle, bring it back.
    Flap(usize),
    /// Let the network settle.
    Settle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<usize>(), 0u8..6).prop_map(|(n, p)| Op::Originate(n, p)),
        2 => (any::<usize>(), 0u8..6).prop_map(|(n, p)| Op::Withdraw(n, p)),
        2 => any::<usize>().prop_map(Op::Flap),
        2 => Just(Op::Settle),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Single),
        any::<bool>().prop_map(|shared_cluster| Kind::Redundant { shared_cluster }),
        Just(Kind::Hierarchical),
        Just(Kind::NonClientMesh),
    ]
}

fn scenario() -> impl Strategy<Value = (Topology, Vec<Op>)> {
    (
        kind(),
        2usize..5,
        2usize..4,
        prop::collection::vec(any::<usize>(), 0..4),
        1usize..4,
        prop::collection::vec((prop::bool::weighted(0.6), prop::bool::weighted(0.3)), 0..5),
        prop::collection::vec(op(), 1..16),
    )
        .prop_map(|(k, c, nc, ext, obs, sessions, ops)| {
            (Topology::build(k, c, nc, &ext, obs, &sessions), ops)
        })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Run `ops` on the topology; returns the network and what is still originated where.
fn play(t: &Topology, ops: &[Op]) -> (Net, BTreeSet<(usize, Prefix)>) {
    let mut net = Net::new(t);
    net.settle();
    let actors = t.actors();
    let n = actors.len();
    let mut originated = BTreeSet::new();
    for op in ops {
        match *op {
            Op::Originate(node, p) => {
                let node = actors[node % n];
                let a = IpAddr::V4(net.nodes[node].addr);
                net.nodes[node].engine.originate(pool(p), a, &[]).unwrap();
                originated.insert((node, pool(p)));
            }
            Op::Withdraw(node, p) => {
                let node = actors[node % n];
                let had = originated.remove(&(node, pool(p)));
                assert_eq!(net.nodes[node].engine.withdraw_local(pool(p)), had);
            }
            Op::Flap(l) => {
                let l = l % net.links.len();
                net.link_down(l);
                net.settle();
                net.link_up(l);
            }
            Op::Settle => net.settle(),
        }
    }
    net.settle();
    (net, originated)
}

fn check(t: &Topology, net: &Net, originated: &BTreeSet<(usize, Prefix)>) {
    assert!(net.violations.is_empty(), "{:#?}", net.violations);
    let n = net.nodes.len();
    let live: BTreeSet<Prefix> = originated.iter().map(|(_, p)| *p).collect();
    for (i, node) in net.nodes.iter().enumerate() {
        let rib = node.engine.loc_rib();
        // Every prefix still originated somewhere is here, and nothing else.
        let here: BTreeSet<Prefix> = rib.iter().map(|(p, _)| *p).collect();
        assert_eq!(here, live, "node {i} of {t:?}");
        for (p, _) in &rib {
            // No candidate carries our cluster ID, or our router ID as originator.
            for c in node.engine.candidates(p) {
                for a in c.attributes() {
                    match a.value {
                        AttributeValue::ClusterList(ref ids) if i < t.internal.len() => {
                            assert!(
                                !ids.contains(&node.cluster),
                                "node {i} holds {p} with its own cluster ID"
                            );
                        }
                        AttributeValue::OriginatorId(o) => {
                            assert_ne!(o, node.addr, "node {i} holds {p} it originated");
                        }
                        _ => {}
                    }
                }
            }
            // Following next hops ends at an originator, without a loop.
            let path: Vec<u32> = net.nodes[i]
                .engine
                .best(p)
                .unwrap()
                .attributes()
                .into_iter()
                .find_map(|a| match a.value {
                    AttributeValue::AsPath(p) => {
                        Some(p.segments.into_iter().flat_map(|s| s.asns).collect())
                    }
                    _ => None,
                })
                .unwrap_or_default();
            let mut at = i;
            let mut seen = BTreeSet::new();
            loop {
                assert!(seen.insert(at), "forwarding loop for {p} from node {i}");
                assert!(seen.len() <= n);
                let best = net.nodes[at]
                    .engine
                    .best(p)
                    .unwrap_or_else(|| panic!("node {at} has no path for {p} (from node {i})"));
                if best.peer == PeerId::LOCAL {
                    assert!(originated.contains(&(at, *p)));
                    break;
                }
                let nh = best.set.info().next_hop.expect("next hop");
                at = net
                    .node_by_addr(nh)
                    .unwrap_or_else(|| panic!("next hop {nh} of {p} at node {at} is no node"));
            }
            // The AS_PATH names the ASes crossed: external nodes attach to
            // one internal node each, so a route crosses at most our AS and
            // the originating external AS.
            let n_int = t.internal.len();
            let mut want = Vec::new();
            if i >= n_int && at < n_int {
                want.push(AS);
            }
            if i >= n_int && at >= n_int && at != i {
                want.push(AS);
            }
            if at >= n_int && at != i {
                want.push(external_as(at - n_int));
            }
            assert_eq!(
                path, want,
                "AS_PATH of {p} at node {i} (from node {at}) in {t:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn reflection_converges_loop_free_and_reaches_every_node((t, ops) in scenario()) {
        let (net, originated) = play(&t, &ops);
        check(&t, &net, &originated);
        // With uniform attributes, reflection reaches what a full mesh reaches.
        let mesh_t = t.full_mesh();
        let mut mesh = Net::new(&mesh_t);
        for (node, p) in &originated {
            let a = IpAddr::V4(mesh.nodes[*node].addr);
            mesh.nodes[*node].engine.originate(*p, a, &[]).unwrap();
        }
        mesh.settle();
        check(&mesh_t, &mesh, &originated);
        prop_assert_eq!(net.reach(), mesh.reach());
    }
}

#[test]
fn every_kind_of_topology_carries_routes_everywhere() {
    // A fixed run per topology kind, with an origination at every node and
    // every link flapped once, so each kind is covered whatever the random cases draw.
    for kind in [
        Kind::Single,
        Kind::Redundant {
            shared_cluster: true,
        },
        Kind::Redundant {
            shared_cluster: false,
        },
        Kind::Hierarchical,
        Kind::NonClientMesh,
    ] {
        let t = Topology::build(
            kind,
            3,
            2,
            &[0, 1, 2],
            2,
            &[(true, false), (false, true), (false, false), (true, true)],
        );
        let mut ops: Vec<Op> = (0..t.nodes())
            .map(|i| Op::Originate(i, (i % 6) as u8))
            .collect();
        ops.extend((0..t.links.len()).map(Op::Flap));
        ops.push(Op::Withdraw(0, 0));
        let (net, originated) = play(&t, &ops);
        check(&t, &net, &originated);
        assert!(net.announcements > 0);
        let reach = net.reach();
        let live: BTreeSet<Prefix> = originated.iter().map(|(_, p)| *p).collect();
        assert!(live.len() >= 5, "{kind:?}");
        assert!(reach.iter().all(|r| *r == live), "{kind:?}");
        let per_kind: BTreeMap<&str, usize> = [
            ("nodes", t.nodes()),
            ("links", t.links.len()),
            ("messages", net.delivered),
        ]
        .into_iter()
        .collect();
        eprintln!("{kind:?}: {per_kind:?}");
    }
}
