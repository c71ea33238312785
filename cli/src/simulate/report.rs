//! What `reflector simulate` reports: the same facts as text tables or as JSON.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use reflector_core::wire::{Ipv4Prefix, Ipv6Prefix, Prefix};
use reflector_sim::plan::Endpoint;
use reflector_sim::render::{
    render_node_status, render_routes, render_summary, table, ClusterSummary, NodeStatus, RouteRow,
};
use reflector_sim::whatif::FailureReport;
use reflector_sim::{Cluster, Network, Note, Severity};
use serde::Serialize;

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Where the cluster came from (a path, the built-in example, or the generator).
    pub source: String,
    /// The cluster as configured.
    pub cluster: ClusterInfo,
    /// Load notes and linter findings (also printed on stderr).
    pub warnings: Vec<Note>,
    /// The planned sessions before anything runs.
    pub planned: ClusterSummary,
    /// The nodes shown, with their status and routes.
    pub nodes: Vec<NodeReport>,
    /// Nodes not shown (see `--node`, `--all-nodes`).
    pub nodes_omitted: usize,
    /// The cluster as configured, after running to convergence.
    pub summary: RunSummary,
    /// The same nodes as a full node-to-node mesh, after running to convergence.
    pub full_mesh: Option<RunSummary>,
    /// Why there is no full-mesh comparison, when there is none.
    pub full_mesh_note: Option<String>,
    /// What `--fail` / `--fail-session` took down and what each node kept and lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_if: Option<FailureReport>,
}

/// The cluster's configuration at a glance.
#[derive(Debug, Serialize)]
pub struct ClusterInfo {
    /// Number of nodes.
    pub nodes: usize,
    /// Names of the route reflector nodes.
    pub reflectors: Vec<String>,
    /// Distinct route reflector cluster IDs.
    pub cluster_ids: Vec<Ipv4Addr>,
    /// Names of the `BGPPeer` resources.
    pub bgp_peers: Vec<String>,
    /// Whether the node-to-node mesh is on.
    pub mesh_enabled: bool,
    /// The default AS (`BGPConfiguration default`, else Calico's 64512).
    pub as_number: u32,
}

impl ClusterInfo {
    /// Reads the facts off a loaded cluster.
    pub fn of(c: &Cluster) -> ClusterInfo {
        let ids: BTreeSet<Ipv4Addr> = c
            .nodes
            .iter()
            .filter_map(|n| n.route_reflector_cluster_id)
            .collect();
        ClusterInfo {
            nodes: c.nodes.len(),
            reflectors: c
                .nodes
                .iter()
                .filter(|n| n.is_reflector())
                .map(|n| n.name.clone())
                .collect(),
            cluster_ids: ids.into_iter().collect(),
            bgp_peers: c.bgp_peers.iter().map(|p| p.name.clone()).collect(),
            mesh_enabled: c.bgp_configuration.mesh_enabled(),
            as_number: c.bgp_configuration.default_as(),
        }
    }
}

/// One node: who it is, `calicoctl node status`, its routes, and which pod blocks it reaches.
#[derive(Debug, Serialize)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// IPv4 BGP address (and router ID).
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 BGP address.
    pub ipv6: Option<Ipv6Addr>,
    /// The node's AS.
    pub as_number: u32,
    /// Its route reflector cluster ID, when it is a reflector.
    pub route_reflector_cluster_id: Option<Ipv4Addr>,
    /// The pod blocks it originates.
    pub pod_blocks: Vec<String>,
    /// `calicoctl node status`.
    pub status: NodeStatus,
    /// Its best routes.
    pub routes: Vec<RouteRow>,
    /// Whether it has a route to every node's pod blocks.
    pub reaches_every_block: bool,
    /// The pod blocks it has no route to.
    pub missing_blocks: Vec<String>,
}

/// Every node's blocks as engine prefixes, with their text.
fn all_blocks(net: &Network) -> Vec<(Prefix, String)> {
    let mut out = Vec::new();
    for nb in net.blocks() {
        for b in &nb.ipv4 {
            if let Some(p) = Ipv4Prefix::new(b.addr, b.len) {
                out.push((Prefix::V4(p), b.to_string()));
            }
        }
        for b in &nb.ipv6 {
            if let Some(p) = Ipv6Prefix::new(b.addr, b.len) {
                out.push((Prefix::V6(p), b.to_string()));
            }
        }
    }
    out
}

impl NodeReport {
    /// The report of node `i` of a network that has run.
    pub fn of(net: &Network, i: usize) -> NodeReport {
        let plan = net.plan();
        let node = plan.nodes.get(i);
        let routes = net.routes(i);
        let have: BTreeSet<&str> = routes.iter().map(|r| r.prefix.as_str()).collect();
        let missing_blocks: Vec<String> = all_blocks(net)
            .into_iter()
            .map(|(_, s)| s)
            .filter(|s| !have.contains(s.as_str()))
            .collect();
        let pod_blocks = net
            .blocks()
            .get(i)
            .map(|b| {
                b.ipv4
                    .iter()
                    .map(ToString::to_string)
                    .chain(b.ipv6.iter().map(ToString::to_string))
                    .collect()
            })
            .unwrap_or_default();
        NodeReport {
            name: plan.endpoint_name(Endpoint::Node(i)),
            ipv4: node.and_then(|n| n.ipv4),
            ipv6: node.and_then(|n| n.ipv6),
            as_number: node.map_or(0, |n| n.as_number),
            route_reflector_cluster_id: node.and_then(|n| n.cluster_id),
            pod_blocks,
            status: net.node_status(i),
            routes,
            reaches_every_block: missing_blocks.is_empty(),
            missing_blocks,
        }
    }
}

/// Whole-cluster figures after a run.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    /// Sessions by type, messages, bytes and convergence steps.
    #[serde(flatten)]
    pub cluster: ClusterSummary,
    /// Whether the last step moved nothing.
    pub converged: bool,
    /// The most sessions any one node has.
    pub max_sessions_per_node: usize,
    /// The most sessions any node that is not a route reflector has.
    pub max_sessions_per_ordinary_node: usize,
    /// Pod blocks in the cluster.
    pub pod_blocks: usize,
    /// Nodes with a route to every pod block.
    pub nodes_reaching_every_block: usize,
    /// Routes to pod blocks over all nodes (own blocks included).
    pub block_routes: u64,
    /// Of those, routes learned through a reflector (carrying ORIGINATOR_ID).
    pub reflected_routes: u64,
    /// Bytes held by the RIBs of all engines.
    pub rib_bytes: u64,
    /// Wall-clock time to build the network and run it to convergence.
    pub elapsed_ms: f64,
    /// Messages the engines refused (empty in a healthy run).
    pub errors: Vec<String>,
}

impl RunSummary {
    /// Measures a network that has run.
    pub fn of(net: &Network, converged: bool, elapsed: Duration) -> RunSummary {
        let plan = net.plan();
        let n = plan.nodes.len();
        let mut per_node = vec![0usize; n];
        for s in &plan.sessions {
            for e in [s.a.endpoint, s.b.endpoint] {
                if let Endpoint::Node(i) = e {
                    if let Some(c) = per_node.get_mut(i) {
                        *c += 1;
                    }
                }
            }
        }
        let blocks = all_blocks(net);
        let (mut reaching, mut routes, mut reflected, mut rib_bytes) = (0, 0u64, 0u64, 0u64);
        for i in 0..n {
            let Some(engine) = net.engine(i) else {
                continue;
            };
            let mut all = true;
            for (p, _) in &blocks {
                match engine.best(p) {
                    Some(path) => {
                        routes += 1;
                        if path.set.originator_id().is_some() {
                            reflected += 1;
                        }
                    }
                    None => all = false,
                }
            }
            if all {
                reaching += 1;
            }
            let m = engine.memory();
            rib_bytes += (m.table_bytes + m.attr_bytes) as u64;
        }
        RunSummary {
            cluster: net.summary(),
            converged,
            max_sessions_per_node: per_node.iter().copied().max().unwrap_or(0),
            max_sessions_per_ordinary_node: per_node
                .iter()
                .zip(&plan.nodes)
                .filter(|(_, node)| node.cluster_id.is_none())
                .map(|(c, _)| *c)
                .max()
                .unwrap_or(0),
            pod_blocks: blocks.len(),
            nodes_reaching_every_block: reaching,
            block_routes: routes,
            reflected_routes: reflected,
            rib_bytes,
            elapsed_ms: elapsed.as_secs_f64() * 1000.0,
            errors: net.errors().to_vec(),
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count in KiB/MiB.
fn human_bytes(b: u64) -> String {
    if b >= 10 << 20 {
        format!("{} MiB", thousands(b >> 20))
    } else if b >= 10 << 10 {
        format!("{} KiB", thousands(b >> 10))
    } else {
        format!("{} B", thousands(b))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A section heading: `── title ─────`.
pub fn heading(out: &mut String, title: &str) {
    let rule = 72usize.saturating_sub(title.chars().count() + 4).max(4);
    let _ = writeln!(out, "── {title} {}", "─".repeat(rule));
}

impl RunSummary {
    fn column(&self) -> Vec<String> {
        let c = &self.cluster;
        let sessions = (c.ipv4_sessions + c.ipv6_sessions) as u64;
        let share = if c.full_mesh_sessions == 0 {
            "-".to_string()
        } else {
            format!(
                "{:.1}",
                100.0
                    * c.ipv4_sessions
                        .saturating_sub(c.ipv4_local_workload_sessions)
                        as f64
                    / c.full_mesh_sessions as f64
            )
        };
        vec![
            thousands(c.nodes as u64),
            thousands(c.reflectors as u64),
            if c.mesh_enabled { "on" } else { "off" }.to_string(),
            thousands(sessions),
            share,
            thousands(self.max_sessions_per_node as u64),
            thousands(self.max_sessions_per_ordinary_node as u64),
            thousands(c.messages.unwrap_or(0)),
            human_bytes(c.bytes.unwrap_or(0)),
            thousands(c.convergence_steps.unwrap_or(0)),
            if self.converged { "yes" } else { "NO" }.to_string(),
            format!(
                "{}/{}",
                thousands(self.nodes_reaching_every_block as u64),
                thousands(c.nodes as u64)
            ),
            thousands(self.block_routes),
            thousands(self.reflected_routes),
            human_bytes(self.rib_bytes),
            if self.elapsed_ms < 10.0 {
                format!("{:.2}", self.elapsed_ms)
            } else {
                thousands(self.elapsed_ms.round() as u64)
            },
        ]
    }
}

/// Row labels of the summary table, in [`RunSummary::column`] order.
const SUMMARY_ROWS: [&str; 16] = [
    "nodes",
    "route reflectors",
    "node-to-node mesh",
    "BGP sessions",
    "% of a full mesh's n(n-1)/2 (IPv4)",
    "most sessions on one node",
    "most sessions on a non-reflector node",
    "BGP messages",
    "bytes on the wire",
    "convergence steps",
    "converged",
    "nodes reaching every pod block",
    "routes to pod blocks (all nodes)",
    "of which reflected",
    "RIB memory (all engines)",
    "wall time to converge (ms)",
];

impl Report {
    /// The report as terminal text.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let c = &self.cluster;
        let _ = writeln!(out, "Reflector simulation of {}", self.source);
        let reflectors = if c.reflectors.is_empty() {
            "no route reflector".to_string()
        } else if c.reflectors.len() <= 6 {
            format!(
                "{} ({}; cluster ID {})",
                plural(c.reflectors.len(), "route reflector", "route reflectors"),
                c.reflectors.join(", "),
                c.cluster_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            plural(c.reflectors.len(), "route reflector", "route reflectors")
        };
        let _ = writeln!(
            out,
            "  {}, {reflectors}, {}, node-to-node mesh {}, AS {}",
            plural(c.nodes, "node", "nodes"),
            plural(c.bgp_peers.len(), "BGPPeer", "BGPPeers"),
            if c.mesh_enabled { "on" } else { "off" },
            c.as_number
        );
        let warnings = self
            .warnings
            .iter()
            .filter(|n| n.severity == Severity::Warning)
            .count();
        if warnings > 0 {
            let _ = writeln!(
                out,
                "  {} about the configuration (on stderr)",
                plural(warnings, "warning", "warnings")
            );
        }
        out.push('\n');

        heading(&mut out, "Peerings, as calico/node opens them");
        out.push_str(&render_summary(&self.planned));
        out.push('\n');

        for n in &self.nodes {
            let mut title = n.name.clone();
            if let Some(a) = n.ipv4 {
                let _ = write!(title, " · {a}");
            }
            if let Some(a) = n.ipv6 {
                let _ = write!(title, " · {a}");
            }
            let _ = write!(title, " · AS {}", n.as_number);
            if let Some(cid) = n.route_reflector_cluster_id {
                let _ = write!(title, " · route reflector, cluster ID {cid}");
            }
            heading(&mut out, &title);
            out.push_str("$ calicoctl node status\n");
            out.push_str(&render_node_status(&n.status));
            out.push_str(&render_routes(&n.name, &n.routes));
            let total = n.routes.len() + n.missing_blocks.len();
            if n.reaches_every_block {
                let _ = writeln!(
                    out,
                    "Pod blocks: originates {}; reaches all {} of the cluster.",
                    n.pod_blocks.join(", "),
                    self.summary.pod_blocks
                );
            } else {
                let _ = writeln!(
                    out,
                    "Pod blocks: originates {}; NO ROUTE to {} of {}: {}",
                    n.pod_blocks.join(", "),
                    n.missing_blocks.len(),
                    total.max(self.summary.pod_blocks),
                    n.missing_blocks.join(", ")
                );
            }
            out.push('\n');
        }
        if self.nodes_omitted > 0 {
            let _ = writeln!(
                out,
                "({} not shown: --node NAME shows one node, --all-nodes every node.)\n",
                plural(self.nodes_omitted, "other node", "other nodes")
            );
        }

        heading(
            &mut out,
            "Summary, after running every node's engine to convergence",
        );
        let mine = self.summary.column();
        let mesh = self.full_mesh.as_ref().map(RunSummary::column);
        let rows: Vec<Vec<String>> = SUMMARY_ROWS
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let mut row = vec![
                    (*label).to_string(),
                    mine.get(i).cloned().unwrap_or_default(),
                ];
                if let Some(m) = &mesh {
                    row.push(m.get(i).cloned().unwrap_or_default());
                }
                row
            })
            .collect();
        let headers: &[&str] = if mesh.is_some() {
            &["", "AS CONFIGURED", "FULL MESH"]
        } else {
            &["", "AS CONFIGURED"]
        };
        out.push_str(&table(headers, &rows));
        if let Some(note) = &self.full_mesh_note {
            let _ = writeln!(out, "({note}.)");
        }
        if let Some(m) = &self.full_mesh {
            let (a, b) = (
                self.summary.cluster.ipv4_sessions + self.summary.cluster.ipv6_sessions,
                m.cluster.ipv4_sessions + m.cluster.ipv6_sessions,
            );
            if a < b {
                let _ = writeln!(
                    out,
                    "As configured: {} sessions instead of {} ({:.1}x fewer), {} messages instead of {}.",
                    thousands(a as u64),
                    thousands(b as u64),
                    b as f64 / a.max(1) as f64,
                    thousands(self.summary.cluster.messages.unwrap_or(0)),
                    thousands(m.cluster.messages.unwrap_or(0)),
                );
            }
        }
        if let Some(w) = &self.what_if {
            out.push('\n');
            out.push_str(&super::whatif::render_failure(w));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_002_976), "3,002,976");
    }

    #[test]
    fn bytes_are_humane() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(20 * 1024), "20 KiB");
        assert_eq!(human_bytes(188_864_136), "180 MiB");
    }
}
