//! Every field of the Calico resources the simulator reads, and what it does to routing.
//!
//! The lists follow Calico's v3 API types (`api/pkg/apis/projectcalico/v3`)
//! and calico/node's confd (`bgp_processor.go`, `bird*.cfg.template`). A field
//! is [`Effect::Routing`] when the simulator applies it and it changes what
//! BIRD would advertise or choose, [`Effect::Session`] when it shapes the
//! session (timers, passwords, addresses) and the simulator records it without
//! changing routes, [`Effect::NotRouting`] when it exists but has no effect on
//! BGP routes, and [`Effect::NotSimulated`] when it would change routing in
//! calico/node but the simulator cannot model it (a warning names it when set).
//! A field in none of the lists is a warning naming it.

use serde::Serialize;
use serde_yaml::Value;

use crate::resources::{Note, Severity};

/// What a field does to routing in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Applied: it changes sessions, routes or path choice.
    Routing,
    /// Recorded on the session (graceful restart, passive end, password): no route changes.
    Session,
    /// Part of Calico's API, no effect on BGP routing.
    NotRouting,
    /// Changes routing in calico/node, not modelled by the simulator.
    NotSimulated,
}

/// One field of a resource kind: its dotted path under the resource, and its effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Resource kind (`BGPPeer`, …).
    pub kind: &'static str,
    /// Dotted path (`spec.nextHopMode`).
    pub path: &'static str,
    /// What it does in the simulation.
    pub effect: Effect,
    /// Why, in a few words.
    pub note: &'static str,
}

use Effect::{NotRouting, NotSimulated, Routing, Session};

const fn f(kind: &'static str, path: &'static str, effect: Effect, note: &'static str) -> Field {
    Field {
        kind,
        path,
        effect,
        note,
    }
}

/// The fields of Calico's BGP-relevant resources, with their effect in the simulation.
pub const FIELDS: &[Field] = &[
    // BGPPeer
    f("BGPPeer", "spec.node", Routing, "the one local node"),
    f("BGPPeer", "spec.nodeSelector", Routing, "the local nodes"),
    f("BGPPeer", "spec.peerIP", Routing, "an explicit remote (a node's address peers with that node)"),
    f("BGPPeer", "spec.asNumber", Routing, "the remote AS of a peerIP peer"),
    f("BGPPeer", "spec.peerSelector", Routing, "the remote nodes"),
    f("BGPPeer", "spec.filters", Routing, "BGPFilters applied on import and export, before Calico's own export filter"),
    f("BGPPeer", "spec.nextHopMode", Routing, "Self: next hop self on export; Keep: next hop keep (the route's next hop passed on, also toward eBGP)"),
    f("BGPPeer", "spec.keepOriginalNextHop", Routing, "next hop keep toward an eBGP peer (the route's next hop passed on, not the node's)"),
    f("BGPPeer", "spec.localASNumber", Routing, "local as N on that peering: the AS the node opens it with, prepends toward eBGP and loop-checks; between nodes, anything but the node's own AS keeps the session down (Bad Peer AS)"),
    f("BGPPeer", "spec.numAllowedLocalASNumbers", Routing, "allow local as N: paths holding the node's own AS up to N times are accepted (eBGP)"),
    f("BGPPeer", "spec.localWorkloadSelector", Routing, "a passive session per address family with each selected workload (Pod, WorkloadEndpoint) on each local node; the workloads are peers outside the cluster"),
    f("BGPPeer", "spec.maxRestartTime", Session, "graceful restart time of the session"),
    f("BGPPeer", "spec.keepaliveTime", Session, "keepalive timer"),
    f("BGPPeer", "spec.password", Session, "TCP-MD5 secret (both ends are assumed to agree)"),
    f("BGPPeer", "spec.password.secretKeyRef", Session, "TCP-MD5 secret reference"),
    f("BGPPeer", "spec.password.secretKeyRef.name", Session, "Secret name"),
    f("BGPPeer", "spec.password.secretKeyRef.key", Session, "Secret key"),
    f("BGPPeer", "spec.password.secretKeyRef.optional", Session, "Secret optional"),
    f("BGPPeer", "spec.sourceAddress", Session, "TCP source address (UseNodeIP or None)"),
    f("BGPPeer", "spec.ttlSecurity", Session, "GTSM hop count"),
    f("BGPPeer", "spec.reachableBy", Session, "static route to the peer through this gateway"),
    f("BGPPeer", "spec.reversePeering", Routing, "Manual: the remote nodes are not configured by this peer (a session needs both ends)"),
    // BGPConfiguration
    f("BGPConfiguration", "spec.nodeToNodeMeshEnabled", Routing, "full mesh of non-reflector nodes"),
    f("BGPConfiguration", "spec.asNumber", Routing, "default AS of nodes"),
    f("BGPConfiguration", "spec.serviceClusterIPs", Routing, "each CIDR advertised by every node"),
    f("BGPConfiguration", "spec.serviceClusterIPs.cidr", Routing, "cluster IP range"),
    f("BGPConfiguration", "spec.serviceExternalIPs", Routing, "each CIDR advertised by every node; reflectors re-export routes inside it"),
    f("BGPConfiguration", "spec.serviceExternalIPs.cidr", Routing, "external IP range"),
    f("BGPConfiguration", "spec.serviceLoadBalancerIPs", Routing, "each CIDR advertised by every node (aggregation on); /32s of Local services from nodes with an endpoint; reflectors re-export routes inside it"),
    f("BGPConfiguration", "spec.serviceLoadBalancerIPs.cidr", Routing, "LoadBalancer IP range"),
    f("BGPConfiguration", "spec.serviceLoadBalancerAggregation", Routing, "Disabled: no range routes, /32s from nodes with an endpoint"),
    f("BGPConfiguration", "spec.communities", Routing, "named community values for prefixAdvertisements"),
    f("BGPConfiguration", "spec.communities.name", Routing, "community name"),
    f("BGPConfiguration", "spec.communities.value", Routing, "community value (aa:nn or aa:nn:mm)"),
    f("BGPConfiguration", "spec.prefixAdvertisements", Routing, "communities added on export to routes inside the CIDR"),
    f("BGPConfiguration", "spec.prefixAdvertisements.cidr", Routing, "the CIDR"),
    f("BGPConfiguration", "spec.prefixAdvertisements.communities", Routing, "names or values"),
    f("BGPConfiguration", "spec.nodeMeshMaxRestartTime", Session, "graceful restart time of mesh sessions (default 120 s)"),
    f("BGPConfiguration", "spec.nodeMeshPassword", Session, "TCP-MD5 secret of mesh sessions"),
    f("BGPConfiguration", "spec.nodeMeshPassword.secretKeyRef", Session, "secret reference"),
    f("BGPConfiguration", "spec.nodeMeshPassword.secretKeyRef.name", Session, "Secret name"),
    f("BGPConfiguration", "spec.nodeMeshPassword.secretKeyRef.key", Session, "Secret key"),
    f("BGPConfiguration", "spec.nodeMeshPassword.secretKeyRef.optional", Session, "Secret optional"),
    f("BGPConfiguration", "spec.listenPort", Session, "BGP port"),
    f("BGPConfiguration", "spec.bindMode", Session, "listen on the node IP only (NodeIP) or all addresses"),
    f("BGPConfiguration", "spec.logSeverityScreen", NotRouting, "BIRD log level"),
    f("BGPConfiguration", "spec.ignoredInterfaces", NotRouting, "interfaces BIRD's direct protocol skips: no BGP export"),
    f("BGPConfiguration", "spec.localWorkloadPeeringIPV4", Session, "the address nodes offer their IPv4 workload peers (a lint when they have none)"),
    f("BGPConfiguration", "spec.localWorkloadPeeringIPV6", Session, "the address nodes offer their IPv6 workload peers (a lint when they have none)"),
    f("BGPConfiguration", "spec.programClusterRoutes", NotRouting, "who programs the kernel (BIRD or Felix), not what BGP carries"),
    f("BGPConfiguration", "spec.ipv4NormalRoutePriority", NotRouting, "kernel metric of routes"),
    f("BGPConfiguration", "spec.ipv6NormalRoutePriority", NotRouting, "kernel metric of routes"),
    // BGPFilter
    f("BGPFilter", "spec.exportV4", Routing, "IPv4 export rules"),
    f("BGPFilter", "spec.importV4", Routing, "IPv4 import rules"),
    f("BGPFilter", "spec.exportV6", Routing, "IPv6 export rules"),
    f("BGPFilter", "spec.importV6", Routing, "IPv6 import rules"),
    f("BGPFilter", "rule.cidr", Routing, "prefix matched with matchOperator"),
    f("BGPFilter", "rule.matchOperator", Routing, "Equal, NotEqual, In, NotIn"),
    f("BGPFilter", "rule.prefixLength", Routing, "min and max length matched under cidr"),
    f("BGPFilter", "rule.prefixLength.min", Routing, "shortest length"),
    f("BGPFilter", "rule.prefixLength.max", Routing, "longest length"),
    f("BGPFilter", "rule.source", Routing, "RemotePeers: routes learned over BGP"),
    f("BGPFilter", "rule.peerType", Routing, "eBGP or iBGP sessions only"),
    f("BGPFilter", "rule.communities", Routing, "community the route must carry"),
    f("BGPFilter", "rule.communities.values", Routing, "aa:nn or aa:nn:mm"),
    f("BGPFilter", "rule.asPathPrefix", Routing, "AS path must start with these ASes"),
    f("BGPFilter", "rule.priority", Routing, "route priority (LOCAL_PREF 2147483647 - priority)"),
    f("BGPFilter", "rule.action", Routing, "Accept or Reject"),
    f("BGPFilter", "rule.operations", Routing, "addCommunity, prependASPath, setPriority"),
    f("BGPFilter", "rule.interface", Routing, "routes from a kernel interface: the simulator has none, so the rule never matches"),
    // IPPool
    f("IPPool", "spec.cidr", Routing, "where pod blocks come from; exported to BGP peers"),
    f("IPPool", "spec.blockSize", Routing, "pod block length"),
    f("IPPool", "spec.disabled", Routing, "no new blocks from the pool"),
    f("IPPool", "spec.disableBGPExport", Routing, "routes inside the pool are not exported"),
    f("IPPool", "spec.nodeSelector", Routing, "which nodes take blocks from the pool"),
    f("IPPool", "spec.ipipMode", NotRouting, "encapsulation"),
    f("IPPool", "spec.vxlanMode", NotRouting, "encapsulation (VXLAN routes are Felix's, BGP still carries the blocks)"),
    f("IPPool", "spec.natOutgoing", NotRouting, "SNAT of pod traffic"),
    f("IPPool", "spec.namespaceSelector", NotRouting, "which pods use the pool"),
    f("IPPool", "spec.allowedUses", NotRouting, "Workload or Tunnel"),
    f("IPPool", "spec.assignmentMode", NotRouting, "Automatic or Manual assignment"),
    f("IPPool", "spec.ipip", NotRouting, "v1 encapsulation setting"),
    f("IPPool", "spec.nat-outgoing", NotRouting, "v1 SNAT setting"),
    f("IPPool", "spec.enabled", NotRouting, "legacy field"),
    f("IPPool", "spec.mode", NotRouting, "legacy field"),
    // Node
    f("Node", "spec.bgp", Routing, "BGP settings"),
    f("Node", "spec.bgp.asNumber", Routing, "the node's AS"),
    f("Node", "spec.bgp.ipv4Address", Routing, "IPv4 address, router ID and next hop"),
    f("Node", "spec.bgp.ipv6Address", Routing, "IPv6 address and next hop"),
    f("Node", "spec.bgp.routeReflectorClusterID", Routing, "makes the node a route reflector"),
    f("Node", "spec.bgp.ipv4IPIPTunnelAddr", NotRouting, "tunnel address"),
    f("Node", "spec.ipv4VXLANTunnelAddr", NotRouting, "tunnel address"),
    f("Node", "spec.ipv6VXLANTunnelAddr", NotRouting, "tunnel address"),
    f("Node", "spec.vxlanTunnelMACAddr", NotRouting, "tunnel MAC"),
    f("Node", "spec.vxlanTunnelMACAddrV6", NotRouting, "tunnel MAC"),
    f("Node", "spec.orchRefs", NotRouting, "orchestrator references"),
    f("Node", "spec.wireguard", NotRouting, "WireGuard settings"),
    f("Node", "spec.addresses", NotRouting, "addresses for other uses"),
    f("Node", "spec.interfaces", NotRouting, "interfaces"),
];

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
const METADATA: &[&str] = &[
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "generateName",
    "managedFields",
    "ownerReferences",
    "finalizers",
    "selfLink",
];

/// The entry of a field, if Calico's API has it.
pub fn lookup(kind: &str, path: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|x| x.kind == kind && x.path == path)
}

fn keys(v: &Value) -> Vec<(String, &Value)> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a field's value counts as set (not null, not an empty string or list).
fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Sequence(s) => !s.is_empty(),
        Value::Bool(b) => *b,
        _ => true,
    }
}

/// A field a resource sets, with what it does in the simulation (see `reflector simulate --fields`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldUse {
    /// The resource as `Kind/name`.
    pub resource: String,
    /// The field as written (`spec.exportV4[0].action`).
    pub field: String,
    /// What it does.
    pub effect: Effect,
    /// Why, in a few words.
    pub note: &'static str,
}

struct Walker<'a> {
    kind: &'a str,
    resource: String,
    notes: Vec<Note>,
    uses: Vec<FieldUse>,
}

impl Walker<'_> {
    fn note(&mut self, severity: Severity, field: String, message: String) {
        self.notes.push(Note {
            severity,
            resource: self.resource.clone(),
            field,
            message,
        });
    }

    /// Checks the keys of a mapping at `at` (written path) whose table path is `table`.
    fn walk(&mut self, v: &Value, at: &str, table: &str) {
        for (k, child) in keys(v) {
            let written = format!("{at}.{k}");
            let tpath = format!("{table}.{k}");
            let Some(field) = lookup(self.kind, &tpath) else {
                self.note(
                    Severity::Warning,
                    written,
                    format!(
                        "unknown field: {} has no {k} in Calico's API; ignored (a typo?)",
                        self.kind
                    ),
                );
                continue;
            };
            if is_set(child) {
                self.uses.push(FieldUse {
                    resource: self.resource.clone(),
                    field: written.clone(),
                    effect: field.effect,
                    note: field.note,
                });
            }
            match field.effect {
                NotSimulated if is_set(child) => self.note(
                    Severity::Warning,
                    written.clone(),
                    format!(
                        "changes routing in calico/node but is not simulated: {}",
                        field.note
                    ),
                ),
                _ => {}
            }
            // Descend into mappings and lists of mappings that the table details.
            let deeper = FIELDS
                .iter()
                .any(|x| x.kind == self.kind && x.path.starts_with(&format!("{tpath}.")));
            if !deeper {
                continue;
            }
            match child {
                Value::Mapping(_) => self.walk(child, &written, &tpath),
                Value::Sequence(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item, &format!("{written}[{i}]"), &tpath);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Notes on the fields of one resource (unknown fields and fields not
/// simulated are warnings), and every known field it sets with its effect.
pub fn check(kind: &str, name: &str, v: &Value) -> (Vec<Note>, Vec<FieldUse>) {
    let mut w = Walker {
        kind,
        resource: format!("{kind}/{name}"),
        notes: Vec::new(),
        uses: Vec::new(),
    };
    for (k, _) in keys(v) {
        if !TOP.contains(&k.as_str()) {
            w.note(
                Severity::Warning,
                k.clone(),
                format!("unknown top-level field {k}; ignored"),
            );
        }
    }
    if let Some(meta) = v.get("metadata") {
        for (k, _) in keys(meta) {
            if !METADATA.contains(&k.as_str()) {
                w.note(
                    Severity::Warning,
                    format!("metadata.{k}"),
                    format!("unknown metadata field {k}; ignored"),
                );
            }
        }
    }
    let Some(spec) = v.get("spec") else {
        return (w.notes, w.uses);
    };
    if kind == "BGPFilter" {
        for (k, rules) in keys(spec) {
            let path = format!("spec.{k}");
            if lookup(kind, &path).is_none() {
                w.note(
                    Severity::Warning,
                    path,
                    format!("unknown field: BGPFilter has no {k} in Calico's API; ignored"),
                );
                continue;
            }
            if let Value::Sequence(items) = rules {
                for (i, r) in items.iter().enumerate() {
                    w.walk(r, &format!("{path}[{i}]"), "rule");
                }
            }
        }
        return (w.notes, w.uses);
    }
    w.walk(spec, "spec", "spec");
    (w.notes, w.uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap_or(Value::Null)
    }

    #[allow(clippy::unwrap_used)]
    #[test]
    fn unknown_fields_are_named_and_known_ones_are_quiet() {
        let v = yaml(
            "kind: BGPPeer\nmetadata: {name: p}\nspec:\n  peerIP: 10.0.0.1\n  asNumber: 65001\n  nextHopMod: Self\n  password:\n    secretKeyRef: {name: s, key: k, colour: red}\n",
        );
        let (notes, uses) = check("BGPPeer", "p", &v);
        let fields: Vec<&str> = notes.iter().map(|n| n.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.nextHopMod", "spec.password.secretKeyRef.colour"]
        );
        assert!(uses
            .iter()
            .any(|u| u.field == "spec.peerIP" && u.effect == Effect::Routing));
        assert!(notes.iter().all(|n| n.severity == Severity::Warning));
        assert!(notes[0].message.contains("nextHopMod"));
    }

    #[allow(clippy::unwrap_used, clippy::indexing_slicing)]
    #[test]
    fn filter_rules_are_checked_and_not_routing_fields_listed() {
        let v = yaml(
            "kind: BGPFilter\nmetadata: {name: f}\nspec:\n  exportV4:\n  - {cidr: 10.0.0.0/8, matchOperator: In, action: Accept, actoin: Reject}\n  importV5: []\n",
        );
        let (notes, _) = check("BGPFilter", "f", &v);
        let fields: Vec<&str> = notes.iter().map(|n| n.field.as_str()).collect();
        assert_eq!(fields, ["spec.exportV4[0].actoin", "spec.importV5"]);
        let pool = yaml("kind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16, natOutgoing: true, disableBGPExport: true}\n");
        let (notes, uses) = check("IPPool", "p", &pool);
        assert!(notes.is_empty());
        let nat = uses.iter().find(|u| u.field == "spec.natOutgoing").unwrap();
        assert_eq!(nat.effect, Effect::NotRouting);
        let peer = yaml("kind: BGPPeer\nmetadata: {name: p}\nspec: {localASNumber: 65010}\n");
        let (notes, uses) = check("BGPPeer", "p", &peer);
        assert!(notes.is_empty(), "{notes:?}");
        let local = uses
            .iter()
            .find(|u| u.field == "spec.localASNumber")
            .unwrap();
        assert_eq!(local.effect, Effect::Routing);
    }
}
