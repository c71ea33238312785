//! Calico `Node`s and Kubernetes `v1` `Node`s.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde_yaml::Value;

use super::cidr::{parse_ipv4_cidr, parse_ipv6_cidr, Cidr};
use super::yaml::{get, get_as, get_labels, get_str, Ctx};
use super::Cluster;
use crate::error::Error;
use crate::selector::Labels;

/// A Calico `Node`: its name, labels and BGP settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `spec.bgp.asNumber`.
    pub as_number: Option<u32>,
    /// `spec.bgp.ipv4Address`.
    pub ipv4_address: Option<Cidr<Ipv4Addr>>,
    /// `spec.bgp.ipv6Address`.
    pub ipv6_address: Option<Cidr<Ipv6Addr>>,
    /// `spec.bgp.routeReflectorClusterID`: set on route reflector nodes.
    pub route_reflector_cluster_id: Option<Ipv4Addr>,
}

impl Node {
    /// A node with a name only (no labels, no BGP settings).
    pub fn named(name: &str) -> Node {
        Node {
            name: name.to_string(),
            labels: Labels::new(),
            as_number: None,
            ipv4_address: None,
            ipv6_address: None,
            route_reflector_cluster_id: None,
        }
    }

    /// Whether the node is a route reflector (it has a cluster ID).
    pub fn is_reflector(&self) -> bool {
        self.route_reflector_cluster_id.is_some()
    }
}

fn parse_cluster_id(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Option<Ipv4Addr>, Error> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    s.trim().parse().map(Some).map_err(|_| {
        ctx.err(
            path,
            format!("expected a cluster ID in IPv4 address form (224.0.0.1), found {s:?}"),
        )
    })
}

impl Cluster {
    pub(super) fn push_node(&mut self, node: Node) {
        if let Some(old) = self.nodes.iter_mut().find(|n| n.name == node.name) {
            *old = node;
        } else {
            self.nodes.push(node);
        }
    }

    pub(super) fn add_node(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let meta = get(v, "metadata").unwrap_or(&Value::Null);
        let mut node = Node::named(&ctx.name);
        node.labels = get_labels(ctx, meta, &mut self.notes)?;
        let bgp = get(get(v, "spec").unwrap_or(&Value::Null), "bgp").unwrap_or(&Value::Null);
        node.as_number = get_as(ctx, bgp, "asNumber", "spec.bgp.asNumber")?;
        if let Some(s) = get_str(ctx, bgp, "ipv4Address", "spec.bgp.ipv4Address")? {
            node.ipv4_address = Some(parse_ipv4_cidr(ctx, s, "spec.bgp.ipv4Address")?);
        }
        if let Some(s) = get_str(ctx, bgp, "ipv6Address", "spec.bgp.ipv6Address")? {
            node.ipv6_address = Some(parse_ipv6_cidr(ctx, s, "spec.bgp.ipv6Address")?);
        }
        if let Some(s) = get_str(
            ctx,
            bgp,
            "routeReflectorClusterID",
            "spec.bgp.routeReflectorClusterID",
        )? {
            node.route_reflector_cluster_id =
                parse_cluster_id(ctx, s, "spec.bgp.routeReflectorClusterID")?;
        }
        self.push_node(node);
        Ok(())
    }

    /// A Kubernetes `v1` `Node`: labels, and the BGP settings Calico keeps in annotations.
    pub(super) fn add_k8s_node(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let meta = get(v, "metadata").unwrap_or(&Value::Null);
        if ctx.name == "?" {
            return Err(ctx.err("metadata.name", "every resource needs a name"));
        }
        let mut node = Node::named(&ctx.name);
        node.labels = get_labels(ctx, meta, &mut self.notes)?;
        let ann = get(meta, "annotations").unwrap_or(&Value::Null);
        let a = |k: &str| format!("metadata.annotations.projectcalico.org/{k}");
        if let Some(s) = get_str(ctx, ann, "projectcalico.org/IPv4Address", &a("IPv4Address"))? {
            node.ipv4_address = Some(parse_ipv4_cidr(ctx, s, &a("IPv4Address"))?);
        }
        if let Some(s) = get_str(ctx, ann, "projectcalico.org/IPv6Address", &a("IPv6Address"))? {
            node.ipv6_address = Some(parse_ipv6_cidr(ctx, s, &a("IPv6Address"))?);
        }
        node.as_number = get_as(ctx, ann, "projectcalico.org/ASNumber", &a("ASNumber"))?;
        if let Some(s) = get_str(
            ctx,
            ann,
            "projectcalico.org/RouteReflectorClusterID",
            &a("RouteReflectorClusterID"),
        )? {
            node.route_reflector_cluster_id =
                parse_cluster_id(ctx, s, &a("RouteReflectorClusterID"))?;
        }
        if node.ipv4_address.is_none() {
            // Fall back on the InternalIP the kubelet reports.
            if let Some(Value::Sequence(addrs)) =
                get(get(v, "status").unwrap_or(&Value::Null), "addresses")
            {
                let ip = addrs
                    .iter()
                    .find(|a| get(a, "type").and_then(Value::as_str) == Some("InternalIP"))
                    .and_then(|a| get(a, "address"))
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<Ipv4Addr>().ok());
                node.ipv4_address = ip.map(|addr| Cidr { addr, len: 32 });
            }
        }
        self.push_node(node);
        Ok(())
    }
}
