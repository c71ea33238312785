//! The simulator state behind the JavaScript API, in plain Rust.
//!
//! [`Sim`] holds a Calico [`Cluster`] (what the user edits) and, once asked
//! to run, the [`Network`] of Reflector engines built from it. Every change
//! to the cluster drops the network; the next step or run builds it again
//! from the changed cluster, so what runs is always what the YAML says.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{Origin, SegmentType};
use reflector_core::wire::message::Message;
use reflector_core::wire::update_repr::{AsPath, AttributeValue, MpNlri, UpdateRepr};
use reflector_core::wire::{Context, MessageType, Prefix};
use reflector_sim::generate::{generate_yaml, GenerateOptions};
use reflector_sim::network::RunReport;
use reflector_sim::plan::{Endpoint, Family, PeerRole};
use reflector_sim::render::{
    render_node_status, render_routes, render_summary, ClusterSummary, NodeStatus, RouteRow,
};
use reflector_sim::{Cluster, Network, Note};
use serde::Serialize;
use tsify_next::Tsify;

use crate::yaml::cluster_to_yaml;

/// The label calico users put on route reflector nodes (and select them by).
pub const REFLECTOR_LABEL: &str = "route-reflector";

/// Messages the log keeps by default; later ones are counted, not kept.
pub const DEFAULT_LOG_LIMIT: usize = 20_000;

/// A node of the session graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct GraphNode {
    /// Index (plan order: sorted by name).
    pub index: usize,
    /// Node name.
    pub name: String,
    /// IPv4 BGP address (the router ID).
    pub ipv4: Option<String>,
    /// IPv6 BGP address.
    pub ipv6: Option<String>,
    /// Effective AS number.
    pub as_number: u32,
    /// Route reflector cluster ID, on reflectors.
    pub cluster_id: Option<String>,
    /// Whether the node is a route reflector.
    pub reflector: bool,
    /// Whether the node was failed ([`Sim::fail_node`]) in the current network.
    pub failed: bool,
    /// The labels of the node.
    #[tsify(type = "Record<string, string>")]
    pub labels: BTreeMap<String, String>,
}

/// A peer outside the cluster (`BGPPeer` `peerIP`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct GraphExternal {
    /// Its address.
    pub address: String,
    /// Its AS.
    pub as_number: u32,
}

/// A BGP session of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct GraphSession {
    /// Address family: `ipv4` or `ipv6`.
    #[tsify(type = "\"ipv4\" | \"ipv6\"")]
    pub family: &'static str,
    /// Node index of end `a`.
    pub a: usize,
    /// Node index of end `b`, or `None` when `b` is an external peer.
    pub b: Option<usize>,
    /// Index into [`Graph::externals`] when `b` is an external peer.
    pub external: Option<usize>,
    /// Peer type as the most specific end shows it (`node-to-node mesh`, `node specific`, `global`).
    #[tsify(type = "\"node-to-node mesh\" | \"node specific\" | \"global\"")]
    pub peer_type: String,
    /// How `a` treats `b`: `client`, `non-client` or `ebgp`.
    #[tsify(type = "\"client\" | \"non-client\" | \"ebgp\"")]
    pub a_role: &'static str,
    /// How `b` treats `a`.
    #[tsify(type = "\"client\" | \"non-client\" | \"ebgp\"")]
    pub b_role: &'static str,
    /// Messages carried so far (both directions), 0 before a run.
    pub messages: u64,
    /// Bytes carried so far (both directions).
    pub bytes: u64,
    /// Whether the session is down: an end failed, or the session itself ([`Sim::fail_session`]).
    pub down: bool,
}

/// The cluster as a graph: nodes and the BGP sessions calico/node would open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct Graph {
    /// Whether the node-to-node mesh is on.
    pub mesh_enabled: bool,
    /// Nodes, sorted by name.
    pub nodes: Vec<GraphNode>,
    /// External peers.
    pub externals: Vec<GraphExternal>,
    /// Sessions, sorted by family and ends.
    pub sessions: Vec<GraphSession>,
}

/// One logged BGP message with its UPDATE decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct DecodedMessage {
    /// Position in the log.
    pub index: usize,
    /// Network step that delivered it.
    pub step: u64,
    /// Sending node index.
    pub from: usize,
    /// Receiving node index.
    pub to: usize,
    /// Sending node name.
    pub from_name: String,
    /// Receiving node name.
    pub to_name: String,
    /// Message type (`UPDATE`, `KEEPALIVE`, …).
    pub kind: String,
    /// Length in bytes, header included.
    pub length: usize,
    /// Prefixes announced (classic NLRI and MP_REACH_NLRI).
    pub announced: Vec<String>,
    /// Prefixes withdrawn (classic and MP_UNREACH_NLRI).
    pub withdrawn: Vec<String>,
    /// ORIGIN (`IGP`, `EGP`, `INCOMPLETE`).
    pub origin: Option<String>,
    /// AS_PATH as text (empty inside one AS).
    pub as_path: Option<String>,
    /// NEXT_HOP (or the MP_REACH_NLRI next hop).
    pub next_hop: Option<String>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// ORIGINATOR_ID, set by the first reflector.
    pub originator_id: Option<String>,
    /// CLUSTER_LIST, latest reflector first.
    pub cluster_list: Vec<String>,
    /// COMMUNITIES as `asn:value`.
    pub communities: Vec<String>,
    /// Whether the receiver now holds the announced path from the sender as a candidate
    /// (`false`: it dropped the path, as RFC 4456 loop prevention does).
    pub accepted: Option<bool>,
    /// A decoding error, for a message the receiver could not read.
    pub error: Option<String>,
}

/// A page of the message log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct MessagePage {
    /// Messages in the log in all.
    pub total: usize,
    /// Messages delivered after the log was full (not kept).
    pub dropped: u64,
    /// The requested messages.
    pub messages: Vec<DecodedMessage>,
}

/// A node's routes, with the node's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRoutes {
    /// Node name.
    pub node: String,
    /// Best routes, in prefix order.
    pub routes: Vec<RouteRow>,
}

/// A `BGPPeer` to add: the fields of its `spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerSpec {
    /// `metadata.name`.
    pub name: String,
    /// `spec.node`.
    pub node: Option<String>,
    /// `spec.nodeSelector`.
    pub node_selector: Option<String>,
    /// `spec.peerSelector`.
    pub peer_selector: Option<String>,
    /// `spec.peerIP`.
    pub peer_ip: Option<String>,
    /// `spec.asNumber`.
    pub as_number: Option<u32>,
}

/// A `BGPPeer` of the cluster, as the API lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// `metadata.name`.
    pub name: String,
    /// `spec.node`.
    pub node: Option<String>,
    /// `spec.nodeSelector` as written (`None` when absent or an ignored YAML tag).
    pub node_selector: Option<String>,
    /// `spec.peerSelector` as written.
    pub peer_selector: Option<String>,
    /// `spec.peerIP`.
    #[serde(rename = "peerIP")]
    pub peer_ip: Option<String>,
    /// `spec.asNumber`.
    pub as_number: Option<u32>,
    /// Whether Calico treats it as a global peer.
    pub global: bool,
}

/// The simulator: a cluster and, once run, its network of engines.
pub struct Sim {
    cluster: Cluster,
    net: Option<Network>,
    log_limit: usize,
    /// Sessions taken down by [`Sim::fail_session`] in the current network (node index pairs).
    failed_sessions: Vec<(usize, usize)>,
    migration: Option<Migration>,
}

/// A migration in progress: its configurations and the one the cluster is at.
struct Migration {
    steps: Vec<(String, Cluster)>,
    current: usize,
}

fn role(r: PeerRole) -> &'static str {
    match r {
        PeerRole::Client => "client",
        PeerRole::NonClient => "non-client",
        PeerRole::Ebgp => "ebgp",
    }
}

fn yaml_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn as_path_text(p: &AsPath) -> String {
    p.segments
        .iter()
        .map(|s| {
            let asns: Vec<String> = s.asns.iter().map(u32::to_string).collect();
            match s.kind {
                SegmentType::Sequence => asns.join(" "),
                _ => format!("{{{}}}", asns.join(",")),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn next_hop_text(nh: &[u8]) -> Option<String> {
    match nh.len() {
        4 => {
            let b: [u8; 4] = nh.try_into().ok()?;
            Some(Ipv4Addr::from(b).to_string())
        }
        16 | 32 => {
            let b: [u8; 16] = nh.get(..16)?.try_into().ok()?;
            Some(std::net::Ipv6Addr::from(b).to_string())
        }
        _ => None,
    }
}

impl Sim {
    /// A simulator over Calico resources given as YAML (or a `kubectl get nodes` table).
    pub fn from_yaml(text: &str) -> Result<Sim, String> {
        let cluster = Cluster::from_yaml_str_named(text, "<yaml>").map_err(|e| e.to_string())?;
        Ok(Sim {
            cluster,
            net: None,
            log_limit: DEFAULT_LOG_LIMIT,
            failed_sessions: Vec::new(),
            migration: None,
        })
    }

    /// A generated cluster: `nodes` nodes, the first `reflectors` of them route reflectors.
    pub fn generate(nodes: usize, reflectors: usize, seed: u64) -> Result<Sim, String> {
        Sim::from_yaml(&Sim::generate_yaml(nodes, reflectors, seed)?)
    }

    /// The YAML of a generated cluster.
    pub fn generate_yaml(nodes: usize, reflectors: usize, seed: u64) -> Result<String, String> {
        if nodes == 0 || nodes > 5_000 {
            return Err(format!("nodes must be from 1 to 5000, found {nodes}"));
        }
        if reflectors > nodes {
            return Err(format!(
                "reflectors ({reflectors}) cannot exceed nodes ({nodes})"
            ));
        }
        Ok(generate_yaml(&GenerateOptions {
            nodes,
            reflectors,
            seed,
            ..GenerateOptions::default()
        }))
    }

    /// The cluster as it stands.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The cluster written back as Calico YAML.
    pub fn to_yaml(&self) -> String {
        cluster_to_yaml(&self.cluster)
    }

    /// Replaces the whole cluster with resources from YAML (the network is rebuilt on the next run).
    pub fn load_yaml(&mut self, text: &str) -> Result<(), String> {
        self.cluster = Cluster::from_yaml_str_named(text, "<yaml>").map_err(|e| e.to_string())?;
        self.net = None;
        self.migration = None;
        Ok(())
    }

    /// The cluster changed: the network is rebuilt on the next run, a migration in progress ends.
    fn changed(&mut self) {
        self.net = None;
        self.migration = None;
    }

    fn node_mut(&mut self, name: &str) -> Result<&mut reflector_sim::Node, String> {
        self.cluster
            .nodes
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| format!("no node named {name:?}"))
    }

    fn node_index(&self, name: &str) -> Result<usize, String> {
        self.cluster
            .nodes
            .iter()
            .position(|n| n.name == name)
            .ok_or_else(|| format!("no node named {name:?}"))
    }

    /// Turns the node-to-node mesh on or off (`BGPConfiguration default`).
    pub fn set_mesh(&mut self, on: bool) {
        self.cluster.bgp_configuration.node_to_node_mesh_enabled = Some(on);
        self.cluster.has_bgp_configuration = true;
        self.changed();
    }

    /// Whether the node-to-node mesh is on.
    pub fn mesh_enabled(&self) -> bool {
        self.cluster.bgp_configuration.mesh_enabled()
    }

    /// Makes a node a route reflector with this cluster ID (`None`: an ordinary node again).
    ///
    /// A reflector carries the `route-reflector: `true`` label the usual `BGPPeer`
    /// selectors look for, and `spec.bgp.routeReflectorClusterID`.
    pub fn set_reflector(&mut self, name: &str, cluster_id: Option<&str>) -> Result<(), String> {
        let id = match cluster_id {
            Some(s) => Some(parse_cluster_id(s)?),
            None => None,
        };
        let node = self.node_mut(name)?;
        match id {
            Some(id) => {
                node.route_reflector_cluster_id = Some(id);
                node.labels
                    .insert(REFLECTOR_LABEL.to_string(), "true".to_string());
            }
            None => {
                node.route_reflector_cluster_id = None;
                node.labels.remove(REFLECTOR_LABEL);
            }
        }
        self.changed();
        Ok(())
    }

    /// Sets a reflector's cluster ID (the node must already be a reflector).
    pub fn set_cluster_id(&mut self, name: &str, cluster_id: &str) -> Result<(), String> {
        let id = parse_cluster_id(cluster_id)?;
        let node = self.node_mut(name)?;
        if node.route_reflector_cluster_id.is_none() {
            return Err(format!(
                "node {name:?} is not a route reflector: make it one first"
            ));
        }
        node.route_reflector_cluster_id = Some(id);
        self.changed();
        Ok(())
    }

    /// Adds a node; without an address it takes the next free one after the highest in use.
    pub fn add_node(&mut self, name: &str, ipv4: Option<&str>) -> Result<(), String> {
        if self.cluster.node(name).is_some() {
            return Err(format!("a node named {name:?} already exists"));
        }
        let addr = match ipv4 {
            Some(a) => a.to_string(),
            None => self.next_free_address(),
        };
        let doc = format!(
            "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {}\nspec:\n  bgp:\n    ipv4Address: {}\n",
            yaml_quote(name),
            yaml_quote(&addr)
        );
        let mut c = Cluster::from_yaml_str_named(&doc, &format!("Node {name}"))
            .map_err(|e| e.to_string())?;
        let node = c
            .nodes
            .pop()
            .ok_or_else(|| format!("Node {name}: nothing was read"))?;
        if let Some(a) = node.ipv4_address {
            if let Some(other) = self
                .cluster
                .nodes
                .iter()
                .find(|n| n.ipv4_address.map(|x| x.addr) == Some(a.addr))
            {
                return Err(format!(
                    "address {} is already used by node {:?}",
                    a.addr, other.name
                ));
            }
        }
        self.cluster.nodes.push(node);
        self.cluster.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.changed();
        Ok(())
    }

    fn next_free_address(&self) -> String {
        let (max, len) = self
            .cluster
            .nodes
            .iter()
            .filter_map(|n| n.ipv4_address)
            .map(|c| (u32::from(c.addr), c.len))
            .max()
            .unwrap_or((u32::from(Ipv4Addr::new(10, 0, 0, 0)), 16));
        let mut next = max.wrapping_add(1);
        while next & 0xff == 0 || next & 0xff == 255 {
            next = next.wrapping_add(1);
        }
        format!("{}/{len}", Ipv4Addr::from(next))
    }

    /// Removes a node (sessions to it disappear with it).
    pub fn remove_node(&mut self, name: &str) -> Result<(), String> {
        let i = self.node_index(name)?;
        self.cluster.nodes.remove(i);
        self.changed();
        Ok(())
    }

    /// Adds a `BGPPeer` (validated as the loader validates one read from YAML).
    pub fn add_bgp_peer(&mut self, spec: &PeerSpec) -> Result<(), String> {
        if self.cluster.bgp_peers.iter().any(|p| p.name == spec.name) {
            return Err(format!("a BGPPeer named {:?} already exists", spec.name));
        }
        let mut doc = format!(
            "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: {}\nspec:\n",
            yaml_quote(&spec.name)
        );
        let fields = [
            ("node", &spec.node),
            ("nodeSelector", &spec.node_selector),
            ("peerSelector", &spec.peer_selector),
            ("peerIP", &spec.peer_ip),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                doc.push_str(&format!("  {k}: {}\n", yaml_quote(v)));
            }
        }
        if let Some(a) = spec.as_number {
            doc.push_str(&format!("  asNumber: {a}\n"));
        }
        let mut c = Cluster::from_yaml_str_named(&doc, &format!("BGPPeer {}", spec.name))
            .map_err(|e| e.to_string())?;
        let peer = c
            .bgp_peers
            .pop()
            .ok_or_else(|| format!("BGPPeer {}: nothing was read", spec.name))?;
        self.cluster.bgp_peers.push(peer);
        self.cluster.bgp_peers.sort_by(|a, b| a.name.cmp(&b.name));
        self.changed();
        Ok(())
    }

    /// The cluster's `BGPPeer`s.
    pub fn bgp_peers(&self) -> Vec<PeerInfo> {
        use reflector_sim::resources::SelectorField;
        let text = |f: &SelectorField| match f {
            SelectorField::Expr(_, t) => Some(t.clone()),
            _ => None,
        };
        self.cluster
            .bgp_peers
            .iter()
            .map(|p| PeerInfo {
                name: p.name.clone(),
                node: p.node.clone(),
                node_selector: text(&p.node_selector),
                peer_selector: text(&p.peer_selector),
                peer_ip: p.peer_ip.map(|a| a.to_string()),
                as_number: p.as_number,
                global: p.is_global(),
            })
            .collect()
    }

    /// Removes a `BGPPeer` by name.
    pub fn remove_bgp_peer(&mut self, name: &str) -> Result<(), String> {
        let i = self
            .cluster
            .bgp_peers
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| format!("no BGPPeer named {name:?}"))?;
        self.cluster.bgp_peers.remove(i);
        self.changed();
        Ok(())
    }

    /// Load notes and linter findings (the unquoted-selector trap among them).
    pub fn notes(&self) -> Vec<Note> {
        let mut v = self.cluster.notes.clone();
        for n in self.cluster.lint() {
            if !v.contains(&n) {
                v.push(n);
            }
        }
        v
    }

    /// The session graph of the current cluster, with traffic once the network has run.
    pub fn graph(&self) -> Graph {
        let plan = match &self.net {
            Some(n) => n.plan().clone(),
            None => self.cluster.plan(),
        };
        let mut traffic: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
        if let Some(n) = &self.net {
            for l in n.links() {
                let c = l.counters;
                traffic.insert(
                    l.session,
                    (
                        c.a_to_b_messages + c.b_to_a_messages,
                        c.a_to_b_bytes + c.b_to_a_bytes,
                    ),
                );
            }
        }
        let nodes = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| GraphNode {
                index: i,
                name: n.name.clone(),
                ipv4: n.ipv4.map(|a| a.to_string()),
                ipv6: n.ipv6.map(|a| a.to_string()),
                as_number: n.as_number,
                cluster_id: n.cluster_id.map(|c| c.to_string()),
                reflector: n.cluster_id.is_some(),
                failed: self.net.as_ref().is_some_and(|net| net.is_failed(i)),
                labels: self
                    .cluster
                    .node(&n.name)
                    .map(|c| c.labels.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let externals = plan
            .externals
            .iter()
            .map(|x| GraphExternal {
                address: x.address.to_string(),
                as_number: x.as_number,
            })
            .collect();
        let sessions = plan
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(si, s)| {
                let Endpoint::Node(a) = s.a.endpoint else {
                    return None;
                };
                let (b, external) = match s.b.endpoint {
                    Endpoint::Node(b) => (Some(b), None),
                    Endpoint::External(x) => (None, Some(x)),
                };
                let (messages, bytes) = traffic.get(&si).copied().unwrap_or((0, 0));
                let down = self.net.as_ref().is_some_and(|net| {
                    net.is_failed(a)
                        || b.is_some_and(|b| {
                            net.is_failed(b) || self.failed_sessions.contains(&(a.min(b), a.max(b)))
                        })
                });
                Some(GraphSession {
                    family: match s.family {
                        Family::Ipv4 => "ipv4",
                        Family::Ipv6 => "ipv6",
                    },
                    a,
                    b,
                    external,
                    peer_type: s.a.peer_type.max(s.b.peer_type).to_string(),
                    a_role: role(s.a.role),
                    b_role: role(s.b.role),
                    messages,
                    bytes,
                    down,
                })
            })
            .collect();
        Graph {
            mesh_enabled: plan.mesh_enabled,
            nodes,
            externals,
            sessions,
        }
    }

    /// Session counts and (after a run) traffic, against the full mesh's n(n-1)/2.
    pub fn summary(&self) -> ClusterSummary {
        match &self.net {
            Some(n) => n.summary(),
            None => self.cluster.plan().summary(),
        }
    }

    /// The summary as text.
    pub fn summary_text(&self) -> String {
        render_summary(&self.summary())
    }

    /// Keeps at most `limit` messages in the log (0: no log); clears the log.
    pub fn set_message_log_limit(&mut self, limit: usize) {
        self.log_limit = limit;
        if let Some(n) = &mut self.net {
            n.set_message_log(limit);
        }
    }

    /// Builds the network from the cluster if the cluster changed since the last run.
    pub fn network(&mut self) -> Result<&mut Network, String> {
        if self.net.is_none() {
            self.failed_sessions.clear();
            let mut n = Network::from_cluster(&self.cluster).map_err(|e| e.to_string())?;
            n.set_message_log(self.log_limit);
            self.net = Some(n);
        }
        self.net
            .as_mut()
            .ok_or_else(|| "the network could not be built".to_string())
    }

    /// Whether a network is built (and so holds routes and a log).
    pub fn has_network(&self) -> bool {
        self.net.is_some()
    }

    /// Drops the network: the next step starts from sessions just up, nothing exchanged.
    pub fn reset(&mut self) {
        self.net = None;
    }

    /// One synchronous round of the network; returns the messages it moved.
    pub fn step(&mut self) -> Result<u64, String> {
        Ok(self.network()?.step())
    }

    /// Steps until nothing moves (or `max_steps` steps moved messages).
    pub fn run(&mut self, max_steps: u64) -> Result<RunReport, String> {
        Ok(self.network()?.run(max_steps))
    }

    /// The `k`-th prefix the demo announces: a /26 counted down from the top of
    /// the first exported IPv4 pool, so Calico's export filter passes it and it
    /// stays clear of the blocks IPAM hands out from the bottom.
    pub fn demo_prefix(&mut self, k: u32) -> Result<String, String> {
        let net = self.network()?;
        let pool = net
            .plan()
            .routing
            .pools
            .iter()
            .find(|p| !p.disabled && p.cidr.addr.is_ipv4() && p.cidr.len <= 26)
            .map(|p| (p.cidr.addr, p.cidr.len));
        let (base, len) = match pool {
            Some((IpAddr::V4(a), len)) => (u32::from(a), len),
            // A plan without Calico's filters passes any route.
            _ => (u32::from(Ipv4Addr::new(10, 250, 0, 0)), 16),
        };
        let blocks = 1u32 << (26 - u32::from(len));
        let host_mask = if len == 0 {
            u32::MAX
        } else {
            (1u32 << (32 - u32::from(len))) - 1
        };
        let top = (base & !host_mask) | host_mask;
        let index = blocks - 1 - (k % blocks);
        let first = (top & !host_mask) + index * 64;
        Ok(format!("{}/26", Ipv4Addr::from(first)))
    }

    /// Originates `prefix` from a node (as if a new pod block appeared there).
    pub fn announce(&mut self, name: &str, prefix: &str) -> Result<(), String> {
        let p: Prefix = prefix
            .parse()
            .map_err(|e| format!("invalid prefix {prefix:?}: {e:?}"))?;
        let node = self.node_index(name)?;
        let net = self.network()?;
        let plan_node = net
            .plan()
            .nodes
            .get(node)
            .ok_or_else(|| format!("no node named {name:?}"))?;
        let nh = match p {
            Prefix::V4(_) => plan_node
                .ipv4
                .map(IpAddr::V4)
                .or(plan_node.ipv6.map(IpAddr::V6)),
            Prefix::V6(_) => plan_node
                .ipv6
                .map(IpAddr::V6)
                .or(plan_node.ipv4.map(IpAddr::V4)),
        }
        .ok_or_else(|| format!("node {name:?} has no address to use as next hop"))?;
        let engine = net
            .engine_mut(node)
            .ok_or_else(|| format!("no engine for node {name:?}"))?;
        engine
            .originate(p, nh, &[])
            .map_err(|e| format!("cannot originate {prefix}: {e:?}"))
    }

    /// Withdraws a prefix a node announced with [`Sim::announce`] (or one of its pod blocks).
    pub fn withdraw(&mut self, name: &str, prefix: &str) -> Result<bool, String> {
        let p: Prefix = prefix
            .parse()
            .map_err(|e| format!("invalid prefix {prefix:?}: {e:?}"))?;
        let node = self.node_index(name)?;
        let engine = self
            .network()?
            .engine_mut(node)
            .ok_or_else(|| format!("no engine for node {name:?}"))?;
        Ok(engine.withdraw_local(p))
    }

    /// A node's best routes with their attributes.
    pub fn routes(&mut self, name: &str) -> Result<NodeRoutes, String> {
        let i = self.node_index(name)?;
        Ok(NodeRoutes {
            node: name.to_string(),
            routes: self.network()?.routes(i),
        })
    }

    /// A node's routes as a text table.
    pub fn routes_text(&mut self, name: &str) -> Result<String, String> {
        let r = self.routes(name)?;
        Ok(render_routes(&r.node, &r.routes))
    }

    /// What `calicoctl node status` shows on a node.
    pub fn node_status(&mut self, name: &str) -> Result<NodeStatus, String> {
        let i = self.node_index(name)?;
        Ok(self.network()?.node_status(i))
    }

    /// `calicoctl node status` as calicoctl prints it.
    pub fn node_status_text(&mut self, name: &str) -> Result<String, String> {
        Ok(render_node_status(&self.node_status(name)?))
    }

    /// Messages `start..start+count` of the log, decoded.
    pub fn messages(&mut self, start: usize, count: usize) -> Result<MessagePage, String> {
        let net = self.network()?;
        let log = net.message_log();
        let total = log.len();
        let end = start.saturating_add(count).min(total);
        let messages = log
            .get(start.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(k, m)| decode(net, start + k, m))
            .collect();
        Ok(MessagePage {
            total,
            dropped: net.message_log_dropped(),
            messages,
        })
    }

    /// Empties the message log.
    pub fn clear_messages(&mut self) -> Result<(), String> {
        self.network()?.clear_message_log();
        Ok(())
    }
}

fn parse_cluster_id(s: &str) -> Result<Ipv4Addr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected a cluster ID in IPv4 address form (224.0.0.1), found {s:?}"))
}

fn decode(
    net: &Network,
    index: usize,
    m: &reflector_sim::network::LoggedMessage,
) -> DecodedMessage {
    let plan = net.plan();
    let mut d = DecodedMessage {
        index,
        step: m.step,
        from: m.from,
        to: m.to,
        from_name: plan.endpoint_name(Endpoint::Node(m.from)),
        to_name: plan.endpoint_name(Endpoint::Node(m.to)),
        kind: String::new(),
        length: m.bytes.len(),
        announced: Vec::new(),
        withdrawn: Vec::new(),
        origin: None,
        as_path: None,
        next_hop: None,
        local_pref: None,
        med: None,
        originator_id: None,
        cluster_list: Vec::new(),
        communities: Vec::new(),
        accepted: None,
        error: None,
    };
    // calico/node's sessions run ADD-PATH in both unicast families.
    let ctx = Context {
        add_path: reflector_core::wire::AfiSafiSet::EMPTY
            .with(reflector_core::wire::AfiSafi::IPV4_UNICAST)
            .with(reflector_core::wire::AfiSafi::IPV6_UNICAST),
        ..Context::MODERN
    };
    let msg = match Message::parse(&m.bytes, &ctx) {
        Ok(msg) => msg,
        Err(e) => {
            d.kind = "?".into();
            d.error = Some(format!("{e:?}"));
            return d;
        }
    };
    d.kind = match msg.message_type() {
        MessageType::Open => "OPEN",
        MessageType::Update => "UPDATE",
        MessageType::Notification => "NOTIFICATION",
        MessageType::Keepalive => "KEEPALIVE",
        MessageType::RouteRefresh => "ROUTE-REFRESH",
    }
    .into();
    let Message::Update(u) = msg else {
        return d;
    };
    let u = UpdateRepr::parse(&u);
    d.announced = u.nlri.iter().map(|n| n.prefix.to_string()).collect();
    d.withdrawn = u.withdrawn.iter().map(|n| n.prefix.to_string()).collect();
    for a in &u.attributes {
        match &a.value {
            AttributeValue::Origin(o) => {
                d.origin = Some(
                    match o {
                        Origin::Igp => "IGP",
                        Origin::Egp => "EGP",
                        Origin::Incomplete => "INCOMPLETE",
                    }
                    .into(),
                )
            }
            AttributeValue::AsPath(p) => d.as_path = Some(as_path_text(p)),
            AttributeValue::NextHop(a) => d.next_hop = Some(a.to_string()),
            AttributeValue::LocalPref(v) => d.local_pref = Some(*v),
            AttributeValue::Med(v) => d.med = Some(*v),
            AttributeValue::OriginatorId(a) => d.originator_id = Some(a.to_string()),
            AttributeValue::ClusterList(ids) => {
                d.cluster_list = ids.iter().map(|i| Ipv4Addr::from(*i).to_string()).collect()
            }
            AttributeValue::Communities(c) => {
                d.communities = c
                    .iter()
                    .map(|x| format!("{}:{}", x >> 16, x & 0xffff))
                    .collect()
            }
            AttributeValue::MpReach(r) => {
                if let MpNlri::Prefixes(v) = &r.nlri {
                    d.announced.extend(v.iter().map(|n| n.prefix.to_string()));
                }
                if d.next_hop.is_none() {
                    d.next_hop = next_hop_text(&r.next_hop);
                }
            }
            AttributeValue::MpUnreach(r) => {
                if let MpNlri::Prefixes(v) = &r.nlri {
                    d.withdrawn.extend(v.iter().map(|n| n.prefix.to_string()));
                }
            }
            _ => {}
        }
    }
    // Did the receiver keep the path? Look for a candidate from this sender.
    let link = net.links().get(m.link);
    let receiver = net.engine(m.to);
    if let (Some(l), Some(engine), false) = (link, receiver, d.announced.is_empty()) {
        let peer: PeerId = if m.to == l.b { l.b_peer } else { l.a_peer };
        let kept = u
            .nlri
            .iter()
            .map(|n| n.prefix)
            .chain(u.attributes.iter().flat_map(|a| match &a.value {
                AttributeValue::MpReach(r) => match &r.nlri {
                    MpNlri::Prefixes(v) => v.iter().map(|n| n.prefix).collect::<Vec<_>>(),
                    MpNlri::Opaque(_) => Vec::new(),
                },
                _ => Vec::new(),
            }))
            .all(|p| engine.candidates(&p).iter().any(|c| c.peer == peer));
        d.accepted = Some(kept);
    }
    d
}

/// Steps that move messages before a what-if run gives up (as the page's Converge).
pub const WHATIF_MAX_STEPS: u64 = 100_000;

/// What one node kept, lost and got back when nodes or sessions failed or came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct NodeOutcome {
    /// Node name.
    pub name: String,
    /// Pod blocks of live nodes it had a route to before and still has (its own included).
    pub kept: Vec<String>,
    /// Pod blocks of live nodes it had a route to before and has none to after.
    pub lost: Vec<String>,
    /// Pod blocks of live nodes it had no route to before and has one to after.
    pub regained: Vec<String>,
    /// Pod blocks of live nodes it has no route to, before or after.
    pub missing: Vec<String>,
    /// BGP messages it received while the network converged again.
    pub messages: u64,
}

/// What failing or bringing back nodes or sessions did, once the network converged again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfReport {
    /// `fail` or `restore`.
    #[tsify(type = "\"fail\" | \"restore\"")]
    pub action: &'static str,
    /// The nodes this action failed or brought back.
    pub nodes: Vec<String>,
    /// The sessions (`A-B`) this action took down or brought up.
    pub sessions: Vec<String>,
    /// Sessions (one per family) that went down or came up.
    pub sessions_changed: usize,
    /// Every node failed now.
    pub failed_nodes: Vec<String>,
    /// Every session taken down now (`A-B`).
    pub failed_sessions: Vec<String>,
    /// The pod blocks of the failed nodes: gone with them, counted nowhere else.
    pub gone_blocks: Vec<String>,
    /// Converging again.
    #[tsify(type = "RunReport")]
    pub run: RunReport,
    /// Every live node, in node order.
    pub outcomes: Vec<NodeOutcome>,
    /// Live nodes that lost at least one block.
    pub nodes_losing: usize,
    /// Whether every live node kept every block of the live nodes it had.
    pub every_block_kept: bool,
}

/// One configuration of a migration, as the page passes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct StepYaml {
    /// Its name (the folder it came from).
    pub name: String,
    /// Its Calico resources.
    pub yaml: String,
}

/// Where a migration stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MigrationState {
    /// The configurations' names, in order.
    pub steps: Vec<String>,
    /// The configuration the cluster is at (0: the first).
    pub current: usize,
    /// Whether a next configuration remains.
    pub has_next: bool,
}

/// One node without a route to one pod block during a transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MigrationLoss {
    /// The node that lost the route.
    pub node: String,
    /// The pod block.
    pub block: String,
    /// The node that owns the block.
    pub owner: String,
    /// Observations without a route (right after the change, then after each step that moved messages).
    pub steps: u64,
    /// Whether it still had no route once the transition had converged.
    pub still_missing: bool,
}

/// One move to the next configuration of a migration ([`reflector_sim::whatif::Transition`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MigrationTransition {
    /// 1 for the move from the first configuration to the second, and so on.
    pub index: usize,
    /// The configuration before.
    pub from: String,
    /// The configuration after.
    pub to: String,
    /// Sessions untouched.
    pub kept: usize,
    /// Sessions torn down.
    pub removed: usize,
    /// Sessions brought up.
    pub added: usize,
    /// Sessions restarted gracefully.
    pub reset: usize,
    /// Nodes whose speaker restarted.
    pub restarted: Vec<String>,
    /// Converging after the change.
    #[tsify(type = "RunReport")]
    pub run: RunReport,
    /// Every (node, block) that lost its route at some point, in node then block order.
    pub losses: Vec<MigrationLoss>,
    /// Names of the nodes that lost a route, in node order.
    pub nodes_losing: Vec<String>,
}

impl Sim {
    fn plan_index(&mut self, name: &str) -> Result<usize, String> {
        self.network()?
            .plan()
            .node_index(name)
            .ok_or_else(|| format!("no node named {name:?}"))
    }

    /// The network, converged (built and run first when needed).
    fn converged(&mut self) -> Result<&mut Network, String> {
        let net = self.network()?;
        net.run(WHATIF_MAX_STEPS);
        Ok(net)
    }

    fn node_name(&self, i: usize) -> String {
        self.net
            .as_ref()
            .and_then(|n| n.plan().nodes.get(i))
            .map_or(String::new(), |n| n.name.clone())
    }

    fn failed_now(&self) -> (Vec<String>, Vec<String>) {
        let Some(net) = &self.net else {
            return (Vec::new(), Vec::new());
        };
        let nodes = (0..net.plan().nodes.len())
            .filter(|&i| net.is_failed(i))
            .map(|i| self.node_name(i))
            .collect();
        let sessions = self
            .failed_sessions
            .iter()
            .map(|&(a, b)| format!("{}-{}", self.node_name(a), self.node_name(b)))
            .collect();
        (nodes, sessions)
    }

    fn fail_report(&self, r: reflector_sim::whatif::FailureReport) -> WhatIfReport {
        let (failed_nodes, failed_sessions) = self.failed_now();
        WhatIfReport {
            action: "fail",
            nodes: r.failed_nodes,
            sessions: r.failed_sessions,
            sessions_changed: r.sessions_down,
            failed_nodes,
            failed_sessions,
            gone_blocks: r.gone_blocks,
            run: r.run,
            outcomes: r
                .nodes
                .into_iter()
                .map(|o| NodeOutcome {
                    name: o.name,
                    kept: o.kept,
                    lost: o.lost,
                    regained: Vec::new(),
                    missing: o.missing_before,
                    messages: o.messages,
                })
                .collect(),
            nodes_losing: r.nodes_losing,
            every_block_kept: r.every_block_kept,
        }
    }

    /// Fails a node for good in the converged network (every session of its goes down) and
    /// converges again: what each other node kept and lost ([`reflector_sim::whatif::fail`]).
    pub fn fail_node(&mut self, name: &str) -> Result<WhatIfReport, String> {
        let i = self.plan_index(name)?;
        let net = self.converged()?;
        if net.is_failed(i) {
            return Err(format!("node {name:?} has already failed"));
        }
        let r = reflector_sim::whatif::fail(net, &[i], &[], WHATIF_MAX_STEPS);
        Ok(self.fail_report(r))
    }

    /// Takes down the sessions between nodes `a` and `b` and converges again.
    pub fn fail_session(&mut self, a: &str, b: &str) -> Result<WhatIfReport, String> {
        let (ia, ib) = (self.plan_index(a)?, self.plan_index(b)?);
        let net = self.converged()?;
        let linked = net
            .links()
            .iter()
            .any(|l| (l.a, l.b) == (ia, ib) || (l.a, l.b) == (ib, ia));
        if !linked {
            return Err(format!("no BGP session is up between {a:?} and {b:?}"));
        }
        let r = reflector_sim::whatif::fail(net, &[], &[(ia, ib)], WHATIF_MAX_STEPS);
        self.failed_sessions.push((ia.min(ib), ia.max(ib)));
        Ok(self.fail_report(r))
    }

    /// Brings a failed node back (its speaker restarts with its own pod blocks, its sessions
    /// come up) and converges again: what each node kept, lost and got back.
    pub fn restore_node(&mut self, name: &str) -> Result<WhatIfReport, String> {
        let i = self.plan_index(name)?;
        if !self.net.as_ref().is_some_and(|n| n.is_failed(i)) {
            return Err(format!("node {name:?} has not failed"));
        }
        self.restore(&[i], None)
    }

    /// Brings the sessions between nodes `a` and `b` back up and converges again.
    pub fn restore_session(&mut self, a: &str, b: &str) -> Result<WhatIfReport, String> {
        let (ia, ib) = (self.plan_index(a)?, self.plan_index(b)?);
        let key = (ia.min(ib), ia.max(ib));
        if !self.failed_sessions.contains(&key) {
            return Err(format!(
                "the session between {a:?} and {b:?} was not taken down"
            ));
        }
        self.restore(&[], Some(key))
    }

    fn restore(
        &mut self,
        nodes: &[usize],
        session: Option<(usize, usize)>,
    ) -> Result<WhatIfReport, String> {
        self.converged()?;
        self.failed_sessions.retain(|&s| Some(s) != session);
        let still = self.failed_sessions.clone();
        let net = self
            .net
            .as_mut()
            .ok_or_else(|| "the network could not be built".to_string())?;
        let blocks = net.block_list();
        let n = net.plan().nodes.len();
        let before: Vec<Vec<bool>> = (0..n).map(|i| net.reaches(i, &blocks)).collect();
        let received: Vec<u64> = (0..n).map(|i| net.messages_received(i)).collect();
        let changes = net.restore(nodes).map_err(|e| e.to_string())?;
        // Restoring brings up every missing session between live nodes: those still failed go down again.
        let mut redropped = 0;
        for &(a, b) in &still {
            redropped += net.fail_session(a, b);
        }
        let run = net.run(WHATIF_MAX_STEPS);
        let mut outcomes = Vec::new();
        for i in (0..n).filter(|&i| !net.is_failed(i)) {
            let after = net.reaches(i, &blocks);
            let mut o = NodeOutcome {
                name: String::new(),
                kept: Vec::new(),
                lost: Vec::new(),
                regained: Vec::new(),
                missing: Vec::new(),
                messages: net.messages_received(i) - received.get(i).copied().unwrap_or(0),
            };
            o.name = net
                .plan()
                .nodes
                .get(i)
                .map_or(String::new(), |x| x.name.clone());
            for (k, (owner, _, text)) in blocks.iter().enumerate() {
                if net.is_failed(*owner) {
                    continue;
                }
                let had = before
                    .get(i)
                    .and_then(|r| r.get(k))
                    .copied()
                    .unwrap_or(false);
                let has = after.get(k).copied().unwrap_or(false);
                match (had, has) {
                    (true, true) => o.kept.push(text.clone()),
                    (true, false) => o.lost.push(text.clone()),
                    (false, true) => o.regained.push(text.clone()),
                    (false, false) => o.missing.push(text.clone()),
                }
            }
            outcomes.push(o);
        }
        let gone_blocks = blocks
            .iter()
            .filter(|(o, _, _)| net.is_failed(*o))
            .map(|(_, _, t)| t.clone())
            .collect();
        let nodes_losing = outcomes.iter().filter(|o| !o.lost.is_empty()).count();
        let (failed_nodes, failed_sessions) = self.failed_now();
        Ok(WhatIfReport {
            action: "restore",
            nodes: nodes.iter().map(|&i| self.node_name(i)).collect(),
            sessions: session
                .iter()
                .map(|&(a, b)| format!("{}-{}", self.node_name(a), self.node_name(b)))
                .collect(),
            sessions_changed: changes.added.saturating_sub(redropped),
            failed_nodes,
            failed_sessions,
            gone_blocks,
            run,
            outcomes,
            nodes_losing,
            every_block_kept: nodes_losing == 0,
        })
    }

    /// Starts a migration through configurations: the cluster becomes the first one.
    ///
    /// Editing the cluster (or loading YAML) ends the migration.
    pub fn start_migration(&mut self, steps: &[StepYaml]) -> Result<MigrationState, String> {
        if steps.len() < 2 {
            return Err("a migration needs at least two configurations".to_string());
        }
        let mut parsed = Vec::new();
        for s in steps {
            let c = Cluster::from_yaml_str_named(&s.yaml, &s.name).map_err(|e| e.to_string())?;
            parsed.push((s.name.clone(), c));
        }
        let first = parsed
            .first()
            .map(|(_, c)| c.clone())
            .ok_or_else(|| "a migration needs at least two configurations".to_string())?;
        self.cluster = first;
        self.net = None;
        self.migration = Some(Migration {
            steps: parsed,
            current: 0,
        });
        self.migration_state()
            .ok_or_else(|| "no migration started".to_string())
    }

    /// Where the migration stands, if one is in progress.
    pub fn migration_state(&self) -> Option<MigrationState> {
        self.migration.as_ref().map(|m| MigrationState {
            steps: m.steps.iter().map(|(n, _)| n.clone()).collect(),
            current: m.current,
            has_next: m.current + 1 < m.steps.len(),
        })
    }

    /// Applies the next configuration of the migration as `reflector simulate --steps` does
    /// ([`reflector_sim::whatif::migrate`] over the configurations so far: sessions that stay
    /// are kept, removed ones torn down, new ones brought up) and reports the move; the
    /// cluster becomes that configuration.
    pub fn migration_next(&mut self) -> Result<MigrationTransition, String> {
        let m = self
            .migration
            .as_mut()
            .ok_or_else(|| "no migration started".to_string())?;
        let next = m.current + 1;
        let upto = m
            .steps
            .get(..=next)
            .ok_or_else(|| "the migration is complete".to_string())?;
        let report =
            reflector_sim::whatif::migrate(upto, WHATIF_MAX_STEPS).map_err(|e| e.to_string())?;
        let t = report
            .transitions
            .last()
            .ok_or_else(|| "the migration made no move".to_string())?;
        let cluster = upto
            .last()
            .map(|(_, c)| c.clone())
            .ok_or_else(|| "the migration is complete".to_string())?;
        m.current = next;
        self.cluster = cluster;
        self.net = None;
        Ok(MigrationTransition {
            index: next,
            from: t.from.clone(),
            to: t.to.clone(),
            kept: t.sessions.kept,
            removed: t.sessions.removed,
            added: t.sessions.added,
            reset: t.sessions.reset,
            restarted: t.sessions.restarted.clone(),
            run: t.run,
            losses: t
                .losses
                .iter()
                .map(|l| MigrationLoss {
                    node: l.node.clone(),
                    block: l.block.clone(),
                    owner: l.owner.clone(),
                    steps: l.steps,
                    still_missing: l.still_missing,
                })
                .collect(),
            nodes_losing: t.nodes_losing.clone(),
        })
    }
}
