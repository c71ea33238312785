//! The peering planner: which BGP sessions calico/node opens for a cluster.
//!
//! The rules are calico/node's:
//!
//! - With `nodeToNodeMeshEnabled` (the default), every pair of nodes that are
//!   not route reflectors peers ("node-to-node mesh"); a node with a
//!   `routeReflectorClusterID` takes no mesh sessions.
//! - A `BGPPeer` picks local nodes (`spec.node`, else `spec.nodeSelector`,
//!   else every node) and remote ends (`spec.peerSelector` nodes, or the
//!   explicit `spec.peerIP` / `spec.asNumber`). With neither `node` nor an
//!   effective `nodeSelector` it is a "global" peer, else "node specific".
//!   Peerings between Calico nodes are configured on both ends, as calico/node
//!   does for selector-based peers and for a `peerIP` that is a Calico node's
//!   address with `asNumber` that node's AS (automatic reverse peering); a
//!   `peerIP` whose AS is not the node's is planned as an external peer, whose
//!   session never comes up.
//! - A node never peers with itself; one session per (address family, pair of
//!   ends). When several sources configure the same session, each end shows the
//!   most specific peer type: node-to-node mesh, then node specific, then global.
//! - A session is made per address family in which both ends have an address.
//! - A reflector treats a peer in its own AS whose cluster ID is empty or
//!   different from its own as a client, and a reflector with the same cluster
//!   ID as a plain (non-client) iBGP peer.
//!
//! The [`Plan`] is deterministic (nodes sorted by name, sessions by ends) and
//! is the input the in-memory network of engines consumes.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::resources::Cluster;

/// An address family of a BGP session (calico/node runs one session per family).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 session between IPv4 addresses.
    Ipv4,
    /// IPv6 session between IPv6 addresses.
    Ipv6,
}

/// The peer type `calicoctl node status` shows for a session, from one end.
///
/// Ordered from least to most specific; merging keeps the most specific.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerType {
    /// From a `BGPPeer` with neither `node` nor `nodeSelector`.
    Global,
    /// From a `BGPPeer` with `node` or `nodeSelector`.
    NodeSpecific,
    /// From the node-to-node mesh.
    NodeToNodeMesh,
    /// With a workload on the node, from a `BGPPeer` with `localWorkloadSelector`.
    LocalWorkload,
}

impl PeerType {
    /// The text calicoctl prints.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerType::Global => "global",
            PeerType::NodeSpecific => "node specific",
            PeerType::NodeToNodeMesh => "node-to-node mesh",
            PeerType::LocalWorkload => "local workload",
        }
    }
}

impl fmt::Display for PeerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PeerType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How one end of a session treats the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerRole {
    /// The remote is this end's route-reflector client (this end is a reflector).
    Client,
    /// A plain iBGP peer: this end reflects nothing to it from other non-clients.
    NonClient,
    /// An eBGP peer (different AS).
    Ebgp,
}

/// One end of a session: a Calico node, or an external peer named by `peerIP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// Index into [`Plan::nodes`].
    Node(usize),
    /// Index into [`Plan::externals`].
    External(usize),
}

/// What configured a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The node-to-node mesh.
    Mesh,
    /// The `BGPPeer` at this index of [`Cluster::bgp_peers`].
    BgpPeer(usize),
}

/// A node as the planner sees it: name, AS, addresses, cluster ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedNode {
    /// Node name.
    pub name: String,
    /// Effective AS (node's own, else default configuration's, else 64512).
    pub as_number: u32,
    /// IPv4 BGP address (also the router ID).
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 BGP address.
    pub ipv6: Option<Ipv6Addr>,
    /// Route reflector cluster ID (reflectors only).
    pub cluster_id: Option<Ipv4Addr>,
}

impl PlannedNode {
    /// The node's address in a family.
    pub fn address(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::Ipv4 => self.ipv4.map(IpAddr::V4),
            Family::Ipv6 => self.ipv6.map(IpAddr::V6),
        }
    }

    /// The BGP router ID calico/node uses: the IPv4 address.
    pub fn router_id(&self) -> Option<Ipv4Addr> {
        self.ipv4
    }
}

/// A peer outside the cluster, from a `BGPPeer` `peerIP` or `localWorkloadSelector`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ExternalPeer {
    /// `spec.peerIP`, or the workload's address.
    pub address: IpAddr,
    /// `spec.asNumber`.
    pub as_number: u32,
    /// The workload (`namespace/name`) for a `localWorkloadSelector` peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// One end of a session, with that end's view of the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SessionEnd {
    /// Who this end is.
    pub endpoint: Endpoint,
    /// This end's address (the remote's "PEER ADDRESS").
    pub address: IpAddr,
    /// This end's AS.
    pub as_number: u32,
    /// The peer type this end shows for the remote.
    pub peer_type: PeerType,
    /// How this end treats the remote.
    pub role: PeerRole,
    /// BIRD's `passive on` at this end: it waits for the other end to connect
    /// (mesh and global peerings between nodes: the end whose peer's address is higher, as text).
    pub passive: bool,
    /// Graceful restart time this end gives the session, in seconds
    /// (mesh: `nodeMeshMaxRestartTime`, BGPPeer: `maxRestartTime`, else BIRD's 120).
    pub restart_time: u32,
    /// `next hop self` at this end (`nextHopMode: Self`).
    pub next_hop_self: bool,
    /// How many times this end accepts its own AS in a received AS_PATH
    /// (`numAllowedLocalASNumbers`, the largest of the `BGPPeer`s configuring
    /// it; 0: none, RFC 4271's loop check).
    pub allow_local_as: u8,
    /// `next hop keep` on this end: `nextHopMode: Keep`, or
    /// `keepOriginalNextHop` toward another AS (the engine's next hop
    /// unchanged toward eBGP; iBGP keeps the next hop anyway).
    pub next_hop_keep: bool,
    /// `localASNumber`: the AS this end opens the session with instead of
    /// its own (BIRD's `local as`): prepended toward eBGP and loop-checked.
    pub local_as: Option<u32>,
    /// Whether this end's calico/node configures the session at all (not when
    /// the other end's `BGPPeer` has `reversePeering: Manual` and nothing else
    /// configures this end): a session comes up only when both ends are.
    pub configured: bool,
}

/// A planned BGP session between two ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    /// Address family.
    pub family: Family,
    /// Whether both ends are in the same AS.
    pub ibgp: bool,
    /// The lower end (nodes before externals, then by index).
    pub a: SessionEnd,
    /// The higher end.
    pub b: SessionEnd,
    /// What configured the session (mesh and/or `BGPPeer`s), sorted.
    pub sources: Vec<Source>,
    /// `BGPFilter`s end `a` applies on this session, in order.
    pub a_filters: Vec<String>,
    /// `BGPFilter`s end `b` applies on this session, in order.
    pub b_filters: Vec<String>,
}

impl SessionEnd {
    /// The AS this end opens the session with: `localASNumber`, else its own.
    pub fn opens_as(&self) -> u32 {
        self.local_as.unwrap_or(self.as_number)
    }
}

impl Session {
    /// Whether each end opens the session with the AS the other expects: a
    /// node's BIRD expects another node's own AS (a `localASNumber` other
    /// than that makes the OPEN fail with Bad Peer AS); an external peer is
    /// taken to expect whatever the node opens with.
    pub fn ases_agree(&self) -> bool {
        let node = |e: &SessionEnd| matches!(e.endpoint, Endpoint::Node(_));
        [(&self.a, &self.b), (&self.b, &self.a)]
            .iter()
            .all(|(me, them)| !node(them) || me.opens_as() == me.as_number)
    }

    /// Whether the session comes up: both ends configure it and their ASes agree.
    pub fn comes_up(&self) -> bool {
        self.a.configured && self.b.configured && self.ases_agree()
    }

    /// The `BGPFilter` names an end applies (empty for an endpoint not on the session).
    pub fn filters_of(&self, endpoint: Endpoint) -> &[String] {
        if self.a.endpoint == endpoint {
            &self.a_filters
        } else if self.b.endpoint == endpoint {
            &self.b_filters
        } else {
            &[]
        }
    }

    /// The ends as (this, remote) when `endpoint` is one of them.
    pub fn view(&self, endpoint: Endpoint) -> Option<(&SessionEnd, &SessionEnd)> {
        if self.a.endpoint == endpoint {
            Some((&self.a, &self.b))
        } else if self.b.endpoint == endpoint {
            Some((&self.b, &self.a))
        } else {
            None
        }
    }
}

/// The planned sessions of a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Nodes, sorted by name ([`Endpoint::Node`] indexes this).
    pub nodes: Vec<PlannedNode>,
    /// External peers ([`Endpoint::External`] indexes this), sorted.
    pub externals: Vec<ExternalPeer>,
    /// Sessions, sorted by (family, a, b).
    pub sessions: Vec<Session>,
    /// Whether the node-to-node mesh is on.
    pub mesh_enabled: bool,
    /// What calico/node's BIRD filters let each node originate and export.
    #[serde(skip)]
    pub routing: crate::routes::Routing,
}

#[derive(Default)]
struct Pending {
    lo_type: Option<PeerType>,
    hi_type: Option<PeerType>,
    sources: Vec<Source>,
    /// `BGPPeer`s configuring the low end.
    lo_peers: Vec<usize>,
    /// `BGPPeer`s configuring the high end.
    hi_peers: Vec<usize>,
}

/// The index of `x` in `externals`, added if new.
fn external(externals: &mut Vec<ExternalPeer>, x: ExternalPeer) -> usize {
    match externals.iter().position(|e| *e == x) {
        Some(i) => i,
        None => {
            externals.push(x);
            externals.len() - 1
        }
    }
}

fn merge(t: &mut Option<PeerType>, new: PeerType) {
    *t = Some(t.map_or(new, |old| old.max(new)));
}

impl Plan {
    /// The BGP router ID of node `node`: its IPv4 address, else `10.254.x.y` from its index.
    pub fn router_id(&self, node: usize) -> Ipv4Addr {
        self.nodes
            .get(node)
            .and_then(PlannedNode::router_id)
            .unwrap_or_else(|| Ipv4Addr::from(0x0afe_0000u32 | (node as u32 & 0xffff)))
    }

    /// The index of the node with this name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes
            .binary_search_by(|n| n.name.as_str().cmp(name))
            .ok()
    }

    /// The sessions of a node as (this end, remote end, session), in plan order.
    pub fn sessions_of(
        &self,
        node: usize,
    ) -> impl Iterator<Item = (&SessionEnd, &SessionEnd, &Session)> {
        self.sessions
            .iter()
            .filter_map(move |s| s.view(Endpoint::Node(node)).map(|(me, them)| (me, them, s)))
    }

    /// The name of an endpoint: a node's name or an external peer's address.
    pub fn endpoint_name(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Node(i) => self
                .nodes
                .get(i)
                .map_or_else(String::new, |n| n.name.clone()),
            Endpoint::External(i) => self
                .externals
                .get(i)
                .map_or_else(String::new, |x| x.address.to_string()),
        }
    }

    /// Number of sessions in a family.
    pub fn session_count(&self, family: Family) -> usize {
        self.sessions.iter().filter(|s| s.family == family).count()
    }
}

impl Cluster {
    /// The nodes a `BGPPeer` configures: `node`, else those `nodeSelector` selects, else all.
    pub fn local_nodes(&self, peer: &crate::resources::BgpPeer) -> Vec<usize> {
        if let Some(name) = &peer.node {
            self.nodes
                .iter()
                .position(|n| &n.name == name)
                .into_iter()
                .collect()
        } else if let Some(sel) = peer.node_selector.selector() {
            (0..self.nodes.len())
                .filter(|&i| self.nodes.get(i).is_some_and(|n| sel.matches(&n.labels)))
                .collect()
        } else {
            (0..self.nodes.len()).collect()
        }
    }

    /// Which `BGPPeer` each (node, workload on it) peers through: as Felix
    /// picks it, the first by name of those that configure the node and whose
    /// `localWorkloadSelector` selects the workload.
    pub fn workload_peers(&self) -> BTreeMap<(usize, usize), usize> {
        let mut out = BTreeMap::new();
        for (k, peer) in self.bgp_peers.iter().enumerate() {
            let Some(sel) = peer.local_workload_selector.selector() else {
                continue;
            };
            for l in self.local_nodes(peer) {
                let Some(node) = self.nodes.get(l) else {
                    continue;
                };
                for (w, wl) in self.workloads.iter().enumerate() {
                    if wl.node == node.name && sel.matches(&wl.labels) {
                        out.entry((l, w)).or_insert(k);
                    }
                }
            }
        }
        out
    }

    /// Plans the BGP sessions calico/node would open for this cluster.
    pub fn plan(&self) -> Plan {
        let nodes: Vec<PlannedNode> = self
            .nodes
            .iter()
            .map(|n| PlannedNode {
                name: n.name.clone(),
                as_number: self.node_as(n),
                ipv4: n.ipv4_address.map(|c| c.addr),
                ipv6: n.ipv6_address.map(|c| c.addr),
                cluster_id: n.route_reflector_cluster_id,
            })
            .collect();
        let families = [Family::Ipv4, Family::Ipv6];
        let mut pending: BTreeMap<(Family, Endpoint, Endpoint), Pending> = BTreeMap::new();
        let mut externals: Vec<ExternalPeer> = Vec::new();

        let mut add = |family: Family,
                       x: Endpoint,
                       y: Endpoint,
                       tx: PeerType,
                       ty: Option<PeerType>,
                       src: Source| {
            let (key, lo_t, hi_t) = if x <= y {
                ((family, x, y), Some(tx), ty)
            } else {
                ((family, y, x), ty, Some(tx))
            };
            let p = pending.entry(key).or_default();
            if let Some(t) = lo_t {
                merge(&mut p.lo_type, t);
            }
            if let Some(t) = hi_t {
                merge(&mut p.hi_type, t);
            }
            if !p.sources.contains(&src) {
                p.sources.push(src);
            }
            if let Source::BgpPeer(k) = src {
                if lo_t.is_some() && !p.lo_peers.contains(&k) {
                    p.lo_peers.push(k);
                }
                if hi_t.is_some() && !p.hi_peers.contains(&k) {
                    p.hi_peers.push(k);
                }
            }
        };

        let mesh_enabled = self.bgp_configuration.mesh_enabled();
        let mesh_restart = self.bgp_configuration.mesh_restart_time();
        if mesh_enabled {
            let ordinary: Vec<usize> = (0..nodes.len())
                .filter(|&i| nodes.get(i).is_some_and(|n| n.cluster_id.is_none()))
                .collect();
            for (k, &i) in ordinary.iter().enumerate() {
                for &j in ordinary.iter().skip(k + 1) {
                    for f in families {
                        let both = nodes.get(i).and_then(|n| n.address(f)).is_some()
                            && nodes.get(j).and_then(|n| n.address(f)).is_some();
                        if both {
                            let t = PeerType::NodeToNodeMesh;
                            add(
                                f,
                                Endpoint::Node(i),
                                Endpoint::Node(j),
                                t,
                                Some(t),
                                Source::Mesh,
                            );
                        }
                    }
                }
            }
        }

        let workload_peers = self.workload_peers();
        for (k, peer) in self.bgp_peers.iter().enumerate() {
            let src = Source::BgpPeer(k);
            let ptype = if peer.is_global() {
                PeerType::Global
            } else {
                PeerType::NodeSpecific
            };
            // `reversePeering: Manual`: the remote nodes get no configuration from this peer.
            let reverse = (!peer.reverse_peering_manual).then_some(ptype);
            let locals = self.local_nodes(peer);
            if peer.local_workload_selector.selector().is_some() {
                // A passive session per family with each workload Felix gives this peer.
                for (&(l, w), _) in workload_peers.iter().filter(|(_, &p)| p == k) {
                    let Some(wl) = self.workloads.get(w) else {
                        continue;
                    };
                    for f in families {
                        let (Some(ip), true) = (
                            wl.address(f == Family::Ipv6),
                            nodes.get(l).and_then(|n| n.address(f)).is_some(),
                        ) else {
                            continue;
                        };
                        let x = ExternalPeer {
                            address: ip,
                            as_number: peer.as_number.unwrap_or(0),
                            workload: Some(wl.name.clone()),
                        };
                        let remote = Endpoint::External(external(&mut externals, x));
                        add(
                            f,
                            Endpoint::Node(l),
                            remote,
                            PeerType::LocalWorkload,
                            None,
                            src,
                        );
                    }
                }
            } else if let Some(sel) = peer.peer_selector.selector() {
                let remotes: Vec<usize> = (0..self.nodes.len())
                    .filter(|&i| self.nodes.get(i).is_some_and(|n| sel.matches(&n.labels)))
                    .collect();
                for &l in &locals {
                    for &r in &remotes {
                        if l == r {
                            continue;
                        }
                        for f in families {
                            let both = nodes.get(l).and_then(|n| n.address(f)).is_some()
                                && nodes.get(r).and_then(|n| n.address(f)).is_some();
                            if both {
                                add(f, Endpoint::Node(l), Endpoint::Node(r), ptype, reverse, src);
                            }
                        }
                    }
                }
            } else if let (Some(ip), Some(asn)) = (peer.peer_ip, peer.as_number) {
                let family = if ip.is_ipv4() {
                    Family::Ipv4
                } else {
                    Family::Ipv6
                };
                // calico/node configures the reverse peering on a node with this
                // address only when `asNumber` is that node's AS; otherwise the
                // address answers as nobody calico/node knows.
                let remote = match nodes
                    .iter()
                    .position(|n| n.address(family) == Some(ip) && n.as_number == asn)
                {
                    Some(r) => Endpoint::Node(r),
                    None => Endpoint::External(external(
                        &mut externals,
                        ExternalPeer {
                            address: ip,
                            as_number: asn,
                            workload: None,
                        },
                    )),
                };
                for &l in &locals {
                    if remote == Endpoint::Node(l)
                        || nodes.get(l).and_then(|n| n.address(family)).is_none()
                    {
                        continue;
                    }
                    let back = reverse.filter(|_| matches!(remote, Endpoint::Node(_)));
                    add(family, Endpoint::Node(l), remote, ptype, back, src);
                }
            }
        }

        // Sort externals and renumber their endpoints so the plan is deterministic.
        let mut order: Vec<usize> = (0..externals.len()).collect();
        order.sort_by(|&a, &b| externals.get(a).cmp(&externals.get(b)));
        let mut renumber = vec![0; externals.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(slot) = renumber.get_mut(old) {
                *slot = new;
            }
        }
        let sorted_externals: Vec<ExternalPeer> = order
            .iter()
            .filter_map(|&i| externals.get(i).cloned())
            .collect();
        let fix = |e: Endpoint| match e {
            Endpoint::External(i) => Endpoint::External(renumber.get(i).copied().unwrap_or(i)),
            n => n,
        };

        let info = |e: Endpoint, f: Family| -> (IpAddr, u32, Option<Ipv4Addr>) {
            match e {
                Endpoint::Node(i) => {
                    nodes
                        .get(i)
                        .map_or((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, None), |n| {
                            (
                                n.address(f).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                                n.as_number,
                                n.cluster_id,
                            )
                        })
                }
                Endpoint::External(i) => sorted_externals
                    .get(i)
                    .map_or((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, None), |x| {
                        (x.address, x.as_number, None)
                    }),
            }
        };
        let role =
            |my_as: u32, my_cid: Option<Ipv4Addr>, their_as: u32, their_cid: Option<Ipv4Addr>| {
                if my_as != their_as {
                    PeerRole::Ebgp
                } else {
                    match my_cid {
                        Some(c) if their_cid != Some(c) => PeerRole::Client,
                        _ => PeerRole::NonClient,
                    }
                }
            };

        let mut sessions: Vec<Session> = pending
            .into_iter()
            .map(|((family, x, y), p)| {
                let (x, y) = (fix(x), fix(y));
                let (xa, xas, xcid) = info(x, family);
                let (ya, yas, ycid) = info(y, family);
                let (x_configured, y_configured) = (
                    p.lo_type.is_some() || matches!(x, Endpoint::External(_)),
                    p.hi_type.is_some() || matches!(y, Endpoint::External(_)),
                );
                let xt = p.lo_type.or(p.hi_type).unwrap_or(PeerType::Global);
                let yt = p.hi_type.or(p.lo_type).unwrap_or(PeerType::Global);
                let mut sources = p.sources;
                sources.sort();
                let mesh = sources.contains(&Source::Mesh);
                let peers_of = |ks: &[usize]| -> Vec<&crate::resources::BgpPeer> {
                    let mut ks = ks.to_vec();
                    ks.sort_unstable();
                    ks.iter().filter_map(|&k| self.bgp_peers.get(k)).collect()
                };
                let (lo_peers, hi_peers) = (peers_of(&p.lo_peers), peers_of(&p.hi_peers));
                let restart = |ps: &[&crate::resources::BgpPeer]| {
                    if mesh {
                        mesh_restart
                    } else {
                        ps.iter()
                            .filter_map(|p| p.max_restart_time)
                            .min()
                            .unwrap_or(120)
                    }
                };
                let nh_self = |ps: &[&crate::resources::BgpPeer]| {
                    ps.iter()
                        .any(|p| p.next_hop_mode == crate::resources::NextHopMode::SelfHop)
                };
                let nh_keep = |ps: &[&crate::resources::BgpPeer], ebgp: bool| {
                    ps.iter().any(|p| {
                        p.next_hop_mode == crate::resources::NextHopMode::Keep
                            || (ebgp && p.keep_original_next_hop)
                    })
                };
                let local_as =
                    |ps: &[&crate::resources::BgpPeer]| ps.iter().find_map(|p| p.local_as_number);
                let allow_local_as = |ps: &[&crate::resources::BgpPeer]| {
                    ps.iter()
                        .filter_map(|p| p.num_allowed_local_as)
                        .max()
                        .unwrap_or(0)
                };
                let filters = |ps: &[&crate::resources::BgpPeer]| {
                    let mut out: Vec<String> = Vec::new();
                    for p in ps {
                        for f in &p.filters {
                            if !out.contains(f) {
                                out.push(f.clone());
                            }
                        }
                    }
                    out
                };
                // BIRD's `local as` at each end; the session is iBGP when the
                // ASes the two ends open with are equal.
                let (x_local, y_local) = (local_as(&lo_peers), local_as(&hi_peers));
                let (xo, yo) = (x_local.unwrap_or(xas), y_local.unwrap_or(yas));
                let both_nodes = matches!(x, Endpoint::Node(_)) && matches!(y, Endpoint::Node(_));
                let global = mesh || xt == PeerType::Global || yt == PeerType::Global;
                // calico/node compares the addresses as text.
                // A node waits for its workload peers to connect (confd's `passive on`).
                let workload = xt == PeerType::LocalWorkload || yt == PeerType::LocalWorkload;
                let passive = |me: IpAddr, them: IpAddr| {
                    (both_nodes && global && them.to_string() > me.to_string()) || workload
                };
                Session {
                    family,
                    ibgp: xo == yo,
                    a: SessionEnd {
                        endpoint: x,
                        address: xa,
                        as_number: xas,
                        peer_type: xt,
                        role: role(xo, xcid, yo, ycid),
                        passive: passive(xa, ya),
                        configured: x_configured,
                        restart_time: restart(&lo_peers),
                        next_hop_self: nh_self(&lo_peers),
                        allow_local_as: allow_local_as(&lo_peers),
                        next_hop_keep: nh_keep(&lo_peers, xo != yo),
                        local_as: x_local,
                    },
                    b: SessionEnd {
                        endpoint: y,
                        address: ya,
                        as_number: yas,
                        peer_type: yt,
                        role: role(yo, ycid, xo, xcid),
                        passive: passive(ya, xa),
                        configured: y_configured,
                        restart_time: restart(&hi_peers),
                        next_hop_self: nh_self(&hi_peers),
                        allow_local_as: allow_local_as(&hi_peers),
                        next_hop_keep: nh_keep(&hi_peers, xo != yo),
                        local_as: y_local,
                    },
                    sources,
                    a_filters: if mesh { Vec::new() } else { filters(&lo_peers) },
                    b_filters: if mesh { Vec::new() } else { filters(&hi_peers) },
                }
            })
            .collect();
        sessions.sort_by_key(|s| (s.family, s.a.endpoint, s.b.endpoint));

        let routing = self.routing();
        Plan {
            nodes,
            externals: sorted_externals,
            sessions,
            mesh_enabled,
            routing,
        }
    }
}
