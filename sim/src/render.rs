//! Text renderings: `calicoctl node status`, a node's routes, the cluster summary.
//!
//! Tables are laid out as calicoctl's table writer (olekukonko/tablewriter)
//! does: column width from the widest cell, headers centred (extra space on
//! the right), cells left-aligned unless they are plain numbers.
//! Every rendering has a `Serialize` input so `--json` prints the same facts.

use std::fmt::Write as _;

use serde::Serialize;

use crate::plan::{Endpoint, Family, PeerType, Plan};

/// Centres `s` in `width` columns as tablewriter's `Pad` does.
fn pad_center(s: &str, width: usize) -> String {
    let gap = width.saturating_sub(s.chars().count());
    let left = gap / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(gap - left))
}

/// Whether tablewriter right-aligns the cell (it looks like a decimal number).
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_ok = if int.contains(',') {
        let mut parts = int.split(',');
        parts
            .next()
            .is_some_and(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            && parts.all(|p| p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
    } else {
        !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit())
    };
    int_ok
        && match frac {
            None => true,
            Some(f) => !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()),
        }
}

/// Renders a table with a header row in tablewriter's default style.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut border = String::from("+");
    for w in &widths {
        border.push_str(&"-".repeat(w + 2));
        border.push('+');
    }
    border.push('\n');
    let mut out = border.clone();
    out.push('|');
    for (h, w) in headers.iter().zip(&widths) {
        let _ = write!(out, " {} |", pad_center(h, *w));
    }
    out.push('\n');
    out.push_str(&border);
    for row in rows {
        out.push('|');
        for (i, w) in widths.iter().enumerate() {
            let cell = row.get(i).map_or("", String::as_str);
            if is_number(cell) {
                let _ = write!(out, " {cell:>w$} |");
            } else {
                let _ = write!(out, " {cell:<w$} |");
            }
        }
        out.push('\n');
    }
    if !rows.is_empty() {
        out.push_str(&border);
    }
    out
}

/// One row of `calicoctl node status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// PEER ADDRESS.
    pub peer_address: String,
    /// PEER TYPE: "node-to-node mesh", "global" or "node specific".
    pub peer_type: PeerType,
    /// STATE (BIRD's protocol state: "up", "start", …).
    pub state: String,
    /// SINCE (time of the last state change, `HH:MM:SS`).
    pub since: String,
    /// INFO ("Established", "Active", …).
    pub info: String,
}

/// What `calicoctl node status` shows for one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// Node name.
    pub node: String,
    /// IPv4 BGP peers.
    pub ipv4: Vec<StatusRow>,
    /// IPv6 BGP peers.
    pub ipv6: Vec<StatusRow>,
}

/// The state shown for a session before the network runs it, or as the network reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionState {
    /// STATE column.
    pub state: String,
    /// SINCE column.
    pub since: String,
    /// INFO column.
    pub info: String,
}

impl SessionState {
    /// An established session since `since` (`HH:MM:SS`).
    pub fn established(since: &str) -> SessionState {
        SessionState {
            state: "up".into(),
            since: since.into(),
            info: "Established".into(),
        }
    }
}

impl Plan {
    /// The `calicoctl node status` rows of a node; `state` gives each session's state columns.
    ///
    /// Rows are ordered as the plan orders sessions (by remote node name, externals last).
    pub fn node_status(
        &self,
        node: usize,
        mut state: impl FnMut(usize) -> SessionState,
    ) -> NodeStatus {
        let mut st = NodeStatus {
            node: self.endpoint_name(Endpoint::Node(node)),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        for (i, s) in self.sessions.iter().enumerate() {
            let Some((me, them)) = s.view(Endpoint::Node(node)) else {
                continue;
            };
            let ss = state(i);
            let row = StatusRow {
                peer_address: them.address.to_string(),
                peer_type: me.peer_type,
                state: ss.state,
                since: ss.since,
                info: ss.info,
            };
            match s.family {
                Family::Ipv4 => st.ipv4.push(row),
                Family::Ipv6 => st.ipv6.push(row),
            }
        }
        st
    }
}

/// Renders a node's status exactly as `calicoctl node status` prints it.
pub fn render_node_status(status: &NodeStatus) -> String {
    let mut out = String::from("Calico process is running.\n");
    for (v, rows) in [("4", &status.ipv4), ("6", &status.ipv6)] {
        let _ = write!(out, "\nIPv{v} BGP status\n");
        if rows.is_empty() {
            let _ = writeln!(out, "No IPv{v} peers found.");
        } else {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.peer_address.clone(),
                        r.peer_type.to_string(),
                        r.state.clone(),
                        r.since.clone(),
                        r.info.clone(),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"],
                &cells,
            ));
        }
    }
    out.push('\n');
    out
}

/// One route of a node's Loc-RIB, as the routes table shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRow {
    /// The prefix (`192.168.0.64/26`).
    pub prefix: String,
    /// NEXT_HOP.
    pub next_hop: String,
    /// AS_PATH as text (empty for iBGP-learned routes of the same AS).
    pub as_path: String,
    /// ORIGINATOR_ID, when the route was reflected.
    pub originator_id: Option<String>,
    /// CLUSTER_LIST, nearest reflector first.
    pub cluster_list: Vec<String>,
    /// Where it came from: the peer's address, or "local" for originated blocks.
    pub from: String,
    /// The distinct next hops of the paths the node holds for the prefix, best
    /// first (with ADD-PATH, a service address advertised by several nodes: ECMP).
    pub next_hops: Vec<String>,
    /// How many paths the node holds for the prefix (ADD-PATH: one per originator and reflector).
    pub paths: usize,
    /// Standard and large communities of the best path.
    pub communities: Vec<String>,
    /// LOCAL_PREF of the best path, when it has one.
    pub local_pref: Option<u32>,
}

/// Renders a node's routes as a table (PREFIX, NEXT HOP — every path's when several, AS PATH, ORIGINATOR ID, CLUSTER LIST, FROM, and COMMUNITIES when any).
pub fn render_routes(node: &str, rows: &[RouteRow]) -> String {
    let mut out = format!("Routes of {node}\n");
    if rows.is_empty() {
        out.push_str("No routes.\n");
        return out;
    }
    let with_communities = rows.iter().any(|r| !r.communities.is_empty());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.prefix.clone(),
                if r.next_hops.len() > 1 {
                    r.next_hops.join(" ")
                } else {
                    r.next_hop.clone()
                },
                if r.as_path.is_empty() {
                    "(local AS)".to_string()
                } else {
                    r.as_path.clone()
                },
                r.originator_id.clone().unwrap_or_else(|| "-".into()),
                if r.cluster_list.is_empty() {
                    "-".to_string()
                } else {
                    r.cluster_list.join(" ")
                },
                r.from.clone(),
            ];
            if with_communities {
                row.push(if r.communities.is_empty() {
                    "-".to_string()
                } else {
                    r.communities.join(" ")
                });
            }
            row
        })
        .collect();
    let mut head = vec![
        "PREFIX",
        "NEXT HOP",
        "AS PATH",
        "ORIGINATOR ID",
        "CLUSTER LIST",
        "FROM",
    ];
    if with_communities {
        head.push("COMMUNITIES");
    }
    out.push_str(&table(&head, &cells));
    out
}

/// Whole-cluster figures: sessions against the full mesh, and (after a run) traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterSummary {
    /// Number of nodes.
    pub nodes: usize,
    /// Number of route reflector nodes.
    pub reflectors: usize,
    /// Whether the node-to-node mesh is on.
    pub mesh_enabled: bool,
    /// IPv4 sessions planned.
    pub ipv4_sessions: usize,
    /// IPv6 sessions planned.
    pub ipv6_sessions: usize,
    /// Sessions a full mesh of all nodes would need: n(n-1)/2.
    pub full_mesh_sessions: u64,
    /// Sessions with a node-to-node mesh peer type.
    pub mesh_sessions: usize,
    /// Sessions from global `BGPPeer`s (by either end's view).
    pub global_sessions: usize,
    /// Sessions from node-specific `BGPPeer`s (by either end's view).
    pub node_specific_sessions: usize,
    /// IPv4 and IPv6 sessions with workloads (`localWorkloadSelector`).
    pub local_workload_sessions: usize,
    /// IPv4 sessions with workloads (left out of the share of the full mesh).
    pub ipv4_local_workload_sessions: usize,
    /// BGP messages exchanged, once a network has run.
    pub messages: Option<u64>,
    /// Bytes exchanged, once a network has run.
    pub bytes: Option<u64>,
    /// Steps to convergence, once a network has run.
    pub convergence_steps: Option<u64>,
}

impl Plan {
    /// The summary of the plan (traffic figures left empty).
    pub fn summary(&self) -> ClusterSummary {
        let n = self.nodes.len() as u64;
        let kind = |t: PeerType| {
            self.sessions
                .iter()
                .filter(|s| s.a.peer_type.max(s.b.peer_type) == t)
                .count()
        };
        ClusterSummary {
            nodes: self.nodes.len(),
            reflectors: self.nodes.iter().filter(|n| n.cluster_id.is_some()).count(),
            mesh_enabled: self.mesh_enabled,
            ipv4_sessions: self.session_count(Family::Ipv4),
            ipv6_sessions: self.session_count(Family::Ipv6),
            full_mesh_sessions: n * n.saturating_sub(1) / 2,
            mesh_sessions: kind(PeerType::NodeToNodeMesh),
            global_sessions: kind(PeerType::Global),
            node_specific_sessions: kind(PeerType::NodeSpecific),
            local_workload_sessions: kind(PeerType::LocalWorkload),
            ipv4_local_workload_sessions: self
                .sessions
                .iter()
                .filter(|s| s.family == Family::Ipv4 && s.a.peer_type == PeerType::LocalWorkload)
                .count(),
            messages: None,
            bytes: None,
            convergence_steps: None,
        }
    }
}

/// Renders the cluster summary as a few lines of text.
pub fn render_summary(s: &ClusterSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cluster: {} nodes, {} route reflector{}, node-to-node mesh {}",
        s.nodes,
        s.reflectors,
        if s.reflectors == 1 { "" } else { "s" },
        if s.mesh_enabled { "on" } else { "off" }
    );
    let total = s.ipv4_sessions + s.ipv6_sessions;
    let pct = if s.full_mesh_sessions == 0 {
        0.0
    } else {
        100.0
            * s.ipv4_sessions
                .saturating_sub(s.ipv4_local_workload_sessions) as f64
            / s.full_mesh_sessions as f64
    };
    let _ = writeln!(
        out,
        "BGP sessions: {} IPv4 ({pct:.1}% of the full mesh's n(n-1)/2 = {}), {} IPv6",
        s.ipv4_sessions, s.full_mesh_sessions, s.ipv6_sessions
    );
    let workloads = if s.local_workload_sessions > 0 {
        format!(", {} local workload", s.local_workload_sessions)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  by peer type: {} node-to-node mesh, {} node specific, {} global{workloads} ({total} in all)",
        s.mesh_sessions, s.node_specific_sessions, s.global_sessions
    );
    if let (Some(m), Some(b)) = (s.messages, s.bytes) {
        let _ = writeln!(out, "Traffic: {m} BGP messages, {b} bytes");
    }
    if let Some(steps) = s.convergence_steps {
        let _ = writeln!(out, "Converged after {steps} steps");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_detection_follows_tablewriter() {
        assert!(is_number("42"));
        assert!(is_number("1,234"));
        assert!(is_number("-3.5"));
        assert!(!is_number("10.0.0.2"));
        assert!(!is_number("09:26:31"));
        assert!(!is_number("1,23"));
    }

    #[test]
    fn header_centering_puts_extra_space_right() {
        assert_eq!(pad_center("SINCE", 8), " SINCE  ");
        assert_eq!(pad_center("PEER TYPE", 17), "    PEER TYPE    ");
    }
}
