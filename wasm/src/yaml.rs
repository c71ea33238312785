//! Writes a [`Cluster`] back as Calico resources (multi-document YAML the loader reads again).

use std::fmt::Write as _;

use reflector_sim::resources::{LogSeverity, SelectorField};
use reflector_sim::Cluster;

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace('"', "")))
}

fn selector(out: &mut String, key: &str, field: &SelectorField) {
    match field {
        SelectorField::Absent => {}
        SelectorField::Expr(_, text) => {
            let _ = writeln!(out, "  {key}: {}", q(text));
        }
        // Kept as written: an unquoted tag, which Calico reads as an empty selector.
        SelectorField::YamlTag(tag) => {
            let _ = writeln!(out, "  {key}: {tag}");
        }
    }
}

/// The cluster as YAML: `BGPConfiguration`, `IPPool`s, `Node`s, then `BGPPeer`s.
pub fn cluster_to_yaml(c: &Cluster) -> String {
    let mut out = String::new();
    let cfg = &c.bgp_configuration;
    if c.has_bgp_configuration || cfg.node_to_node_mesh_enabled.is_some() {
        out.push_str(
            "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n",
        );
        if let Some(s) = cfg.log_severity_screen {
            let s = match s {
                LogSeverity::Debug => "Debug",
                LogSeverity::Info => "Info",
                LogSeverity::Warning => "Warning",
                LogSeverity::Error => "Error",
                LogSeverity::Fatal => "Fatal",
            };
            let _ = writeln!(out, "  logSeverityScreen: {s}");
        }
        if let Some(m) = cfg.node_to_node_mesh_enabled {
            let _ = writeln!(out, "  nodeToNodeMeshEnabled: {m}");
        }
        if let Some(a) = cfg.as_number {
            let _ = writeln!(out, "  asNumber: {a}");
        }
        if let Some(p) = cfg.listen_port {
            let _ = writeln!(out, "  listenPort: {p}");
        }
    }
    for p in &c.ip_pools {
        sep(&mut out);
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: {}\nspec:\n  cidr: {}\n  blockSize: {}\n",
            q(&p.name),
            p.cidr,
            p.block_size
        );
        if p.disabled {
            out.push_str("  disabled: true\n");
        }
    }
    for n in &c.nodes {
        sep(&mut out);
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {}\n",
            q(&n.name)
        );
        if !n.labels.is_empty() {
            out.push_str("  labels:\n");
            for (k, v) in n.labels.iter() {
                let _ = writeln!(out, "    {}: {}", q(k), q(v));
            }
        }
        out.push_str("spec:\n  bgp:\n");
        if let Some(a) = n.as_number {
            let _ = writeln!(out, "    asNumber: {a}");
        }
        if let Some(a) = n.ipv4_address {
            let _ = writeln!(out, "    ipv4Address: {a}");
        }
        if let Some(a) = n.ipv6_address {
            let _ = writeln!(out, "    ipv6Address: {a}");
        }
        if let Some(id) = n.route_reflector_cluster_id {
            let _ = writeln!(out, "    routeReflectorClusterID: {id}");
        }
    }
    for p in &c.bgp_peers {
        sep(&mut out);
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: {}\nspec:\n",
            q(&p.name)
        );
        if let Some(n) = &p.node {
            let _ = writeln!(out, "  node: {}", q(n));
        }
        selector(&mut out, "nodeSelector", &p.node_selector);
        selector(&mut out, "peerSelector", &p.peer_selector);
        if let Some(ip) = p.peer_ip {
            let _ = writeln!(out, "  peerIP: {}", q(&ip.to_string()));
        }
        if let Some(a) = p.as_number {
            let _ = writeln!(out, "  asNumber: {a}");
        }
        if p.keep_original_next_hop {
            out.push_str("  keepOriginalNextHop: true\n");
        }
    }
    out
}

fn sep(out: &mut String) {
    if !out.is_empty() {
        out.push_str("---\n");
    }
}
