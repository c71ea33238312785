//! The linter: common Calico BGP mistakes, each naming the resource and field.
//!
//! Findings:
//! - an unquoted selector read by YAML as a tag (`nodeSelector: !has(x)`),
//!   which Calico ignores (from loading);
//! - unquoted boolean or number label values (from loading);
//! - route reflectors in different ASes;
//! - a client peering with only some of the reflectors that share a cluster ID;
//! - the node-to-node mesh left on while reflectors are configured;
//! - a `BGPPeer` whose `node`, `nodeSelector` or `peerSelector` selects
//!   nobody, or that configures no session at all;
//! - a node with no BGP session;
//! - the mesh disabled while some node has no session with any other node;
//! - a node with a cluster ID (a reflector) but no client;
//! - reflectors sharing a cluster ID that do not peer with each other;
//! - an `IPPool` `nodeSelector` that selects no node, a `BGPPeer` naming a
//!   `BGPFilter` that does not exist, `BGPFilter` rules the simulator cannot
//!   evaluate;
//! - a `peerIP` that is a Calico node's address (and an `asNumber` that is not
//!   that node's AS);
//! - a peering between a reflector and a node of another AS (eBGP, so no reflection);
//! - a `localASNumber` on a session between two nodes (it never comes up);
//! - a `localWorkloadSelector` that selects no workload, a workload several
//!   `BGPPeer`s select, workload peerings without a `localWorkloadPeeringIPV4/6`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::plan::{Endpoint, Plan, Source};
use crate::resources::{Cluster, Note, Severity};

fn warn(resource: String, field: &str, message: String) -> Note {
    Note {
        severity: Severity::Warning,
        resource,
        field: field.to_string(),
        message,
    }
}

impl Cluster {
    /// Load notes and linter findings, warnings first, then by resource and field.
    pub fn lint(&self) -> Vec<Note> {
        self.lint_plan(&self.plan())
    }

    /// Same as [`Cluster::lint`] with a plan already computed for this cluster.
    pub fn lint_plan(&self, plan: &Plan) -> Vec<Note> {
        let mut notes = self.notes.clone();

        // Reflectors in different ASes.
        let reflectors: Vec<(usize, Ipv4Addr)> = plan
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.cluster_id.map(|c| (i, c)))
            .collect();
        let mut by_as: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for &(i, _) in &reflectors {
            if let Some(n) = plan.nodes.get(i) {
                by_as.entry(n.as_number).or_default().push(n.name.as_str());
            }
        }
        if by_as.len() > 1 {
            let summary: Vec<String> = by_as
                .iter()
                .map(|(asn, ns)| format!("AS {asn}: {}", ns.join(", ")))
                .collect();
            for &(i, _) in &reflectors {
                if let Some(n) = plan.nodes.get(i) {
                    notes.push(warn(
                        format!("Node/{}", n.name),
                        "spec.bgp.asNumber",
                        format!(
                            "route reflectors are in different ASes ({}); a reflector only reflects iBGP routes, so clients of one AS never hear the other's",
                            summary.join("; ")
                        ),
                    ));
                }
            }
        }

        // Node adjacency (node-to-node sessions) and the BGPPeers behind each.
        let mut adj: Vec<BTreeMap<usize, BTreeSet<Source>>> =
            vec![BTreeMap::new(); plan.nodes.len()];
        for s in &plan.sessions {
            if let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) {
                if let Some(m) = adj.get_mut(a) {
                    m.entry(b).or_default().extend(s.sources.iter().copied());
                }
                if let Some(m) = adj.get_mut(b) {
                    m.entry(a).or_default().extend(s.sources.iter().copied());
                }
            }
        }
        let source_name = |src: &Source| match src {
            Source::Mesh => "BGPConfiguration/default".to_string(),
            Source::BgpPeer(k) => self
                .bgp_peers
                .get(*k)
                .map_or_else(String::new, |p| format!("BGPPeer/{}", p.name)),
        };

        // Clients peering with only some reflectors of a cluster ID.
        let mut clusters: BTreeMap<Ipv4Addr, Vec<usize>> = BTreeMap::new();
        for &(i, c) in &reflectors {
            clusters.entry(c).or_default().push(i);
        }
        for (cid, members) in clusters.iter().filter(|(_, m)| m.len() > 1) {
            for (n, peers) in adj.iter().enumerate() {
                if members.contains(&n) {
                    continue;
                }
                let reached: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|m| peers.contains_key(m))
                    .collect();
                if reached.is_empty() || reached.len() == members.len() {
                    continue;
                }
                let name = |i: usize| plan.nodes.get(i).map_or("", |x| x.name.as_str());
                let missing: Vec<&str> = members
                    .iter()
                    .copied()
                    .filter(|m| !reached.contains(m))
                    .map(name)
                    .collect();
                let via: BTreeSet<String> = reached
                    .iter()
                    .filter_map(|r| peers.get(r))
                    .flatten()
                    .map(source_name)
                    .collect();
                let resource = via
                    .iter()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| format!("Node/{}", name(n)));
                notes.push(warn(
                    resource,
                    "spec.peerSelector",
                    format!(
                        "node {} peers with reflector{} {} but not with {}, which share{} cluster ID {cid}: one failure cuts it off; select every reflector of the cluster",
                        name(n),
                        if reached.len() == 1 { "" } else { "s" },
                        reached.iter().copied().map(name).collect::<Vec<_>>().join(", "),
                        missing.join(", "),
                        if missing.len() == 1 { "s" } else { "" }
                    ),
                ));
            }
        }

        // Mesh on with reflectors.
        if plan.mesh_enabled && !reflectors.is_empty() {
            let written = if self.bgp_configuration.node_to_node_mesh_enabled.is_some() {
                "true"
            } else {
                "not set (Calico's default is true)"
            };
            notes.push(warn(
                "BGPConfiguration/default".to_string(),
                "spec.nodeToNodeMeshEnabled",
                format!(
                    "is {written} while {} route reflector{} configured: every ordinary node still peers with every other; set nodeToNodeMeshEnabled: false",
                    reflectors.len(),
                    if reflectors.len() == 1 { " is" } else { "s are" }
                ),
            ));
        }

        // BGPPeers selecting nobody or configuring nothing.
        for (k, p) in self.bgp_peers.iter().enumerate() {
            let res = format!("BGPPeer/{}", p.name);
            if let Some(node) = &p.node {
                if self.node(node).is_none() {
                    notes.push(warn(
                        res.clone(),
                        "spec.node",
                        format!("no node is named {node:?}"),
                    ));
                }
            }
            if let Some(sel) = p.node_selector.selector() {
                if !self.nodes.iter().any(|n| sel.matches(&n.labels)) {
                    notes.push(warn(
                        res.clone(),
                        "spec.nodeSelector",
                        format!("`{sel}` selects no node"),
                    ));
                }
            }
            let peer_sel = p.peer_selector.selector();
            if let Some(sel) = peer_sel {
                if !self.nodes.iter().any(|n| sel.matches(&n.labels)) {
                    notes.push(warn(
                        res.clone(),
                        "spec.peerSelector",
                        format!("`{sel}` selects no node"),
                    ));
                }
            }
            if let Some(sel) = p.local_workload_selector.selector() {
                let planned = plan
                    .sessions
                    .iter()
                    .filter(|s| s.sources.contains(&Source::BgpPeer(k)))
                    .count();
                if planned == 0 {
                    notes.push(warn(
                        res.clone(),
                        "spec.localWorkloadSelector",
                        format!("`{sel}` selects no workload (Pod or WorkloadEndpoint with an address) on the nodes this BGPPeer applies to, or another BGPPeer earlier by name takes each of them"),
                    ));
                }
            } else if peer_sel.is_none() && p.peer_ip.is_none() {
                notes.push(warn(
                    res.clone(),
                    "spec.peerSelector",
                    "neither peerSelector nor peerIP is in effect: this BGPPeer configures no session".to_string(),
                ));
            } else if !plan
                .sessions
                .iter()
                .any(|s| s.sources.contains(&Source::BgpPeer(k)))
            {
                notes.push(warn(res, "spec", "configures no session (its local and remote nodes are the same, or lack addresses)".to_string()));
            }
        }

        // Workload peerings: several BGPPeers selecting one workload, and no
        // peering address for the workloads to connect to.
        let chosen = self.workload_peers();
        for (&(l, w), &k) in &chosen {
            let (Some(wl), Some(node)) = (self.workloads.get(w), self.nodes.get(l)) else {
                continue;
            };
            let others: Vec<&str> = self
                .bgp_peers
                .iter()
                .enumerate()
                .filter(|&(j, p)| {
                    j != k
                        && p.local_workload_selector
                            .selector()
                            .is_some_and(|s| s.matches(&wl.labels))
                        && self.local_nodes(p).contains(&l)
                })
                .map(|(_, p)| p.name.as_str())
                .collect();
            if let (false, Some(first)) = (others.is_empty(), self.bgp_peers.get(k)) {
                notes.push(warn(
                    format!("BGPPeer/{}", first.name),
                    "spec.localWorkloadSelector",
                    format!(
                        "workload {} on node {} is selected by {} too: Felix peers it through {} only (the first by name)",
                        wl.name,
                        node.name,
                        others.join(", "),
                        first.name
                    ),
                ));
            }
        }
        let cfg = &self.bgp_configuration;
        for (v6, missing, field) in [
            (
                false,
                cfg.local_workload_peering_ipv4.is_none(),
                "spec.localWorkloadPeeringIPV4",
            ),
            (
                true,
                cfg.local_workload_peering_ipv6.is_none(),
                "spec.localWorkloadPeeringIPV6",
            ),
        ] {
            let n = plan
                .sessions
                .iter()
                .filter(|s| {
                    s.a.peer_type == crate::plan::PeerType::LocalWorkload
                        && (s.family == crate::plan::Family::Ipv6) == v6
                })
                .count();
            if missing && n > 0 {
                notes.push(warn(
                    "BGPConfiguration/default".to_string(),
                    field,
                    format!(
                        "{n} {} workload peering(s) planned but no {} set: Felix programs no peering address on the workloads' interfaces, so each workload must be configured with its node's own address",
                        if v6 { "IPv6" } else { "IPv4" },
                        field.trim_start_matches("spec.")
                    ),
                ));
            }
        }

        // Nodes with no session.
        let mut has_session = vec![false; plan.nodes.len()];
        for s in &plan.sessions {
            for e in [s.a.endpoint, s.b.endpoint] {
                if let Endpoint::Node(i) = e {
                    if let Some(h) = has_session.get_mut(i) {
                        *h = true;
                    }
                }
            }
        }
        for (n, has) in plan.nodes.iter().zip(&has_session) {
            if !has && plan.nodes.len() > 1 {
                notes.push(warn(
                    format!("Node/{}", n.name),
                    "metadata.labels",
                    "this node has no BGP session: no mesh and no BGPPeer selects it, so its pods are unreachable from other nodes".to_string(),
                ));
            }
        }

        self.lint_calico(plan, &mut notes);

        notes.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (&a.resource, &a.field, &a.message).cmp(&(&b.resource, &b.field, &b.message))
            })
        });
        notes.dedup();
        notes
    }
}

impl Cluster {
    fn lint_calico(&self, plan: &Plan, notes: &mut Vec<Note>) {
        let name = |i: usize| plan.nodes.get(i).map_or("", |n| n.name.as_str());
        // Node-to-node sessions per node, and whether a node is some session's client.
        let mut node_peers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); plan.nodes.len()];
        let mut has_client = vec![false; plan.nodes.len()];
        for s in &plan.sessions {
            if let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) {
                if let Some(x) = node_peers.get_mut(a) {
                    x.insert(b);
                }
                if let Some(x) = node_peers.get_mut(b) {
                    x.insert(a);
                }
            }
            for (me, _) in [(s.a, s.b), (s.b, s.a)] {
                if let (Endpoint::Node(i), crate::plan::PeerRole::Client) = (me.endpoint, me.role) {
                    if let Some(h) = has_client.get_mut(i) {
                        *h = true;
                    }
                }
            }
        }

        // Mesh disabled and a node left without any peering with another node.
        if !plan.mesh_enabled && plan.nodes.len() > 1 {
            for (i, peers) in node_peers.iter().enumerate() {
                if peers.is_empty() {
                    notes.push(warn(
                        "BGPConfiguration/default".to_string(),
                        "spec.nodeToNodeMeshEnabled",
                        format!(
                            "is false and no BGPPeer peers node {} with another node: it learns no pod route and no node learns its blocks; add a BGPPeer (for example to the route reflectors) before disabling the mesh",
                            name(i)
                        ),
                    ));
                }
            }
        }

        // Reflectors without clients.
        for (i, n) in plan.nodes.iter().enumerate() {
            if let Some(cid) = n.cluster_id {
                if !has_client.get(i).copied().unwrap_or(false) {
                    notes.push(warn(
                        format!("Node/{}", n.name),
                        "spec.bgp.routeReflectorClusterID",
                        format!(
                            "node {} has cluster ID {cid} but no route reflector client: a reflector leaves the mesh, so add a BGPPeer from the other nodes (peerSelector) to it, or remove the cluster ID",
                            n.name
                        ),
                    ));
                }
            }
        }

        // Reflectors of one cluster ID not peered with each other.
        let mut clusters: BTreeMap<Ipv4Addr, Vec<usize>> = BTreeMap::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            if let Some(c) = n.cluster_id {
                clusters.entry(c).or_default().push(i);
            }
        }
        for (cid, members) in &clusters {
            for (k, &a) in members.iter().enumerate() {
                for &b in members.iter().skip(k + 1) {
                    let peered = node_peers.get(a).is_some_and(|p| p.contains(&b));
                    if !peered {
                        notes.push(warn(
                            format!("Node/{}", name(a)),
                            "spec.bgp.routeReflectorClusterID",
                            format!(
                                "reflectors {} and {} share cluster ID {cid} but do not peer with each other: a client of only one of them is not reflected to the other's clients; add a BGPPeer between the reflectors (peerSelector on their label)",
                                name(a),
                                name(b)
                            ),
                        ));
                    }
                }
            }
        }

        // IP pool selectors that select nobody.
        for p in &self.ip_pools {
            if let Some(sel) = p.node_selector.selector() {
                if !self.nodes.iter().any(|n| sel.matches(&n.labels)) {
                    notes.push(warn(
                        format!("IPPool/{}", p.name),
                        "spec.nodeSelector",
                        format!("`{sel}` selects no node: no node takes blocks from this pool"),
                    ));
                }
            }
        }

        // BGPPeers: missing filters, peerIP on a node, AS mismatches.
        for peer in &self.bgp_peers {
            let res = format!("BGPPeer/{}", peer.name);
            for f in &peer.filters {
                if !self.bgp_filters.iter().any(|x| &x.name == f) {
                    notes.push(warn(
                        res.clone(),
                        "spec.filters",
                        format!("no BGPFilter is named {f:?}: calico/node applies nothing for it"),
                    ));
                }
            }
            if let Some(ip) = peer.peer_ip {
                let node = plan.nodes.iter().find(|n| {
                    n.ipv4.map(std::net::IpAddr::V4) == Some(ip)
                        || n.ipv6.map(std::net::IpAddr::V6) == Some(ip)
                });
                if let Some(n) = node {
                    notes.push(warn(
                        res.clone(),
                        "spec.peerIP",
                        format!(
                            "{ip} is the address of Calico node {}: the peering holds only while the node keeps this address and asNumber matches its AS (calico/node reverses it only then); select the node with peerSelector instead",
                            n.name
                        ),
                    ));
                    if let Some(asn) = peer.as_number {
                        if asn != n.as_number {
                            notes.push(warn(
                                res.clone(),
                                "spec.asNumber",
                                format!(
                                    "is {asn} but node {} is in AS {}: calico/node there configures no reverse peering and the session never comes up",
                                    n.name, n.as_number
                                ),
                            ));
                        }
                    }
                }
            }
        }

        // A localASNumber between nodes: the other node's BIRD expects the
        // node's own AS, so the OPEN fails (Bad Peer AS) and the session never comes up.
        for s in &plan.sessions {
            if s.ases_agree() {
                continue;
            }
            let resource = s
                .sources
                .iter()
                .find_map(|src| match src {
                    Source::BgpPeer(k) => self.bgp_peers.get(*k).map(|p| p.name.clone()),
                    Source::Mesh => None,
                })
                .unwrap_or_default();
            for (me, them) in [(&s.a, &s.b), (&s.b, &s.a)] {
                if me.opens_as() == me.as_number {
                    continue;
                }
                notes.push(warn(
                    format!("BGPPeer/{resource}"),
                    "spec.localASNumber",
                    format!(
                        "{me_name} opens its {} session to {them_name} as AS {}, where {them_name} expects {me_name}'s AS {}: the OPEN is refused (Bad Peer AS) and the session never comes up; localASNumber is for peers outside the cluster",
                        match s.family {
                            crate::plan::Family::Ipv4 => "IPv4",
                            crate::plan::Family::Ipv6 => "IPv6",
                        },
                        me.opens_as(),
                        me.as_number,
                        me_name = plan.endpoint_name(me.endpoint),
                        them_name = plan.endpoint_name(them.endpoint),
                    ),
                ));
            }
        }

        // Reflector sessions across ASes: eBGP, nothing reflected.
        let mut seen = BTreeSet::new();
        for s in &plan.sessions {
            let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) else {
                continue;
            };
            if s.ibgp || !s.ases_agree() || !seen.insert((a, b)) {
                continue;
            }
            for (r, c) in [(a, b), (b, a)] {
                if plan.nodes.get(r).is_some_and(|n| n.cluster_id.is_some()) {
                    let (ra, ca) = (
                        plan.nodes.get(r).map_or(0, |n| n.as_number),
                        plan.nodes.get(c).map_or(0, |n| n.as_number),
                    );
                    notes.push(warn(
                        format!("Node/{}", name(c)),
                        "spec.bgp.asNumber",
                        format!(
                            "node {} (AS {ca}) peers with reflector {} (AS {ra}): across ASes the session is eBGP, so it is no route reflector client; put reflectors and their clients in one AS",
                            name(c),
                            name(r)
                        ),
                    ));
                }
            }
        }
    }
}
