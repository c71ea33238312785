//! Calico resources read from YAML: `Node`, `BGPPeer`, `BGPConfiguration`
//! (`default` and per-node `node.<name>`), `IPPool`, `BGPFilter`, and the
//! Kubernetes `Service` and `EndpointSlice` objects whose addresses Calico
//! advertises.
//!
//! Accepted forms: single or multi-document YAML (`---`), `kind: List` /
//! `NodeList` / `BGPPeerList` with `items` (what `calicoctl get -o yaml
//! [--export]` prints), Kubernetes `v1` `Node` objects with Calico's
//! `projectcalico.org/*` annotations, and a `kubectl get nodes` plain table.
//! `apiVersion` may be `projectcalico.org/v3` or `crd.projectcalico.org/v1`.
//! Unknown fields are warnings naming the field ([`crate::fields`]); an
//! invalid value is an [`Error::Resource`] naming the resource and the field path.
//!
//! YAML is read as YAML: an unquoted `nodeSelector: !has(x)` is a *tag* with
//! an empty value. Calico then sees no selector at all; so does Reflector,
//! which records a [`Note`] telling the user to quote the selector.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use crate::error::Error;
use crate::selector::{Labels, Selector};

/// The AS number calico/node uses when neither the node nor the default `BGPConfiguration` sets one.
pub const DEFAULT_AS: u32 = 64512;

/// An address with its prefix length, as Calico writes node addresses (`10.0.0.1/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cidr<A> {
    /// The address.
    pub addr: A,
    /// The prefix length.
    pub len: u8,
}

impl<A: std::fmt::Display> std::fmt::Display for Cidr<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Parses `addr[/len]`; a bare address gets the host length `max`.
fn parse_cidr<A: std::str::FromStr>(s: &str, max: u8) -> Option<Cidr<A>> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= max)?),
        None => (s, max),
    };
    Some(Cidr {
        addr: a.trim().parse().ok()?,
        len: l,
    })
}

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

/// A selector field as written: absent, a parsed expression, or a YAML tag Calico ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorField {
    /// The field is absent or empty.
    Absent,
    /// A selector expression (and its source text).
    Expr(Selector, String),
    /// An unquoted `!…` read by YAML as a tag: Calico sees an empty value.
    YamlTag(String),
}

impl SelectorField {
    /// The selector Calico applies, if any (a YAML tag counts as absent).
    pub fn selector(&self) -> Option<&Selector> {
        match self {
            SelectorField::Expr(s, _) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for SelectorField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SelectorField::Absent => s.serialize_none(),
            SelectorField::Expr(_, text) => s.serialize_some(text),
            SelectorField::YamlTag(_) => s.serialize_none(),
        }
    }
}

/// A Calico `BGPPeer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BgpPeer {
    /// `metadata.name`.
    pub name: String,
    /// `spec.node`: the one local node, if set.
    pub node: Option<String>,
    /// `spec.peerIP`: an explicit remote address.
    pub peer_ip: Option<IpAddr>,
    /// `spec.asNumber`: the remote AS of an explicit peer.
    pub as_number: Option<u32>,
    /// `spec.nodeSelector`: the local nodes.
    pub node_selector: SelectorField,
    /// `spec.peerSelector`: the remote nodes.
    pub peer_selector: SelectorField,
    /// `spec.keepOriginalNextHop`.
    pub keep_original_next_hop: bool,
    /// `spec.nextHopMode` (Auto when not written).
    pub next_hop_mode: NextHopMode,
    /// `spec.filters`: names of `BGPFilter`s applied on this peering, in order.
    pub filters: Vec<String>,
    /// `spec.maxRestartTime` in seconds (graceful restart time; BIRD's 120 s when unset).
    pub max_restart_time: Option<u32>,
    /// `spec.localASNumber`: the AS this end opens the session with (BIRD's `local as`).
    pub local_as_number: Option<u32>,
    /// `spec.numAllowedLocalASNumbers`: how many times the node's own AS may be in a received AS_PATH (BIRD's `allow local as`).
    pub num_allowed_local_as: Option<u8>,
    /// `spec.password` is set (a TCP-MD5 secret reference).
    pub has_password: bool,
    /// `spec.ttlSecurity`: GTSM hop count.
    pub ttl_security: Option<u8>,
    /// `spec.reversePeering: Manual`: the remote nodes are not configured by this peer.
    pub reverse_peering_manual: bool,
    /// `spec.localWorkloadSelector`: the workloads on each local node it peers with.
    pub local_workload_selector: SelectorField,
}

/// `spec.nextHopMode` of a `BGPPeer`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum NextHopMode {
    /// BIRD's default: next hop self toward eBGP peers, unchanged toward iBGP peers.
    #[default]
    Auto,
    /// `next hop self` on every route.
    #[serde(rename = "Self")]
    SelfHop,
    /// `next hop keep` on every route.
    Keep,
}

/// A BGP community value as Calico writes it (`aa:nn` or `aa:nn:mm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Community {
    /// A standard community (RFC 1997).
    Standard(u32),
    /// A large community (RFC 8092).
    Large([u32; 3]),
}

impl Community {
    /// Parses `aa:nn` (16-bit parts) or `aa:nn:mm` (32-bit parts).
    pub fn parse(s: &str) -> Option<Community> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        match parts.as_slice() {
            [a, n] => {
                let a: u16 = a.parse().ok()?;
                let n: u16 = n.parse().ok()?;
                Some(Community::Standard((u32::from(a) << 16) | u32::from(n)))
            }
            [a, n, m] => Some(Community::Large([
                a.parse().ok()?,
                n.parse().ok()?,
                m.parse().ok()?,
            ])),
            _ => None,
        }
    }
}

impl std::fmt::Display for Community {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Community::Standard(c) => write!(f, "{}:{}", c >> 16, c & 0xffff),
            Community::Large([a, b, c]) => write!(f, "{a}:{b}:{c}"),
        }
    }
}

impl Serialize for Community {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One `prefixAdvertisements` entry: communities added on export to routes inside `cidr`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrefixAdvertisement {
    /// `cidr`.
    pub cidr: Cidr<IpAddr>,
    /// The communities, names resolved through `communities`.
    pub communities: Vec<Community>,
}

/// A per-node `BGPConfiguration` (`node.<name>`): the fields calico/node reads from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeBgpConfiguration {
    /// `spec.prefixAdvertisements` (replaces the default's for this node when set).
    pub prefix_advertisements: Option<Vec<PrefixAdvertisement>>,
    /// `spec.listenPort`.
    pub listen_port: Option<u16>,
}

/// How a `BGPFilter` rule matches `cidr` (`matchOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MatchOperator {
    /// The prefix is `cidr` (with `prefixLength`: inside it, at those lengths).
    Equal,
    /// Not `Equal`.
    NotEqual,
    /// The prefix is inside `cidr`.
    In,
    /// Not `In`.
    NotIn,
}

/// A rule's `cidr`, `matchOperator` and `prefixLength` (min, max) range.
pub type CidrMatch = (Cidr<IpAddr>, MatchOperator, Option<(u8, u8)>);

/// What a `BGPFilter` rule does to a route it matches, besides its action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FilterOperation {
    /// `addCommunity`.
    AddCommunity(Community),
    /// `prependASPath`: these ASes in front of the path.
    PrependAsPath(Vec<u32>),
    /// `setPriority`: LOCAL_PREF becomes 2147483647 minus this.
    SetPriority(u32),
}

/// One rule of a `BGPFilter`: all its conditions must hold, then its operations and action apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilterRule {
    /// `cidr` with `matchOperator`, and the `prefixLength` range (min, max).
    pub cidr: Option<CidrMatch>,
    /// `source: RemotePeers`: only routes learned over BGP.
    pub remote_peers_only: bool,
    /// `interface`: routes from a kernel interface (none in the simulator).
    pub interface: Option<String>,
    /// `peerType`: `Some(true)` for iBGP sessions only, `Some(false)` for eBGP only.
    pub ibgp_only: Option<bool>,
    /// `communities.values`: a community the route must carry.
    pub community: Option<Community>,
    /// `asPathPrefix`: the AS path must start with these.
    pub as_path_prefix: Vec<u32>,
    /// `priority`: the route's priority must be this.
    pub priority: Option<u32>,
    /// `action`: accept (true) or reject (false).
    pub accept: bool,
    /// `operations`, in order.
    pub operations: Vec<FilterOperation>,
}

/// A Calico `BGPFilter`: rules per direction and family, first match decides.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BgpFilter {
    /// `metadata.name`.
    pub name: String,
    /// `spec.exportV4`.
    pub export_v4: Vec<FilterRule>,
    /// `spec.importV4`.
    pub import_v4: Vec<FilterRule>,
    /// `spec.exportV6`.
    pub export_v6: Vec<FilterRule>,
    /// `spec.importV6`.
    pub import_v6: Vec<FilterRule>,
}

/// A Kubernetes `Service`, with the nodes its ready endpoints run on (from `EndpointSlice`s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    /// `namespace/name`.
    pub name: String,
    /// `spec.type` (`ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`).
    pub service_type: String,
    /// `spec.clusterIPs` (else `spec.clusterIP`).
    pub cluster_ips: Vec<IpAddr>,
    /// `spec.externalIPs`.
    pub external_ips: Vec<IpAddr>,
    /// `status.loadBalancer.ingress[].ip` and `spec.loadBalancerIP`.
    pub load_balancer_ips: Vec<IpAddr>,
    /// `spec.externalTrafficPolicy: Local`.
    pub local: bool,
    /// Nodes with a ready endpoint.
    pub endpoint_nodes: std::collections::BTreeSet<String>,
}

impl BgpPeer {
    /// Whether Calico treats the peer as "global" (neither `node` nor an effective `nodeSelector`).
    pub fn is_global(&self) -> bool {
        self.node.is_none() && self.node_selector.selector().is_none()
    }
}

/// Calico's log severities for `logSeverityScreen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LogSeverity {
    /// `Debug`.
    Debug,
    /// `Info`.
    Info,
    /// `Warning`.
    Warning,
    /// `Error`.
    Error,
    /// `Fatal`.
    Fatal,
}

/// The `default` `BGPConfiguration`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BgpConfiguration {
    /// `spec.nodeToNodeMeshEnabled`, `None` when not written (Calico's default is on).
    pub node_to_node_mesh_enabled: Option<bool>,
    /// `spec.asNumber`: the default AS of nodes.
    pub as_number: Option<u32>,
    /// `spec.logSeverityScreen`.
    pub log_severity_screen: Option<LogSeverity>,
    /// `spec.listenPort`.
    pub listen_port: Option<u16>,
    /// `spec.serviceClusterIPs[].cidr`.
    pub service_cluster_ips: Vec<Cidr<IpAddr>>,
    /// `spec.serviceExternalIPs[].cidr`.
    pub service_external_ips: Vec<Cidr<IpAddr>>,
    /// `spec.serviceLoadBalancerIPs[].cidr`.
    pub service_load_balancer_ips: Vec<Cidr<IpAddr>>,
    /// `spec.serviceLoadBalancerAggregation: Disabled`.
    pub load_balancer_aggregation_disabled: bool,
    /// `spec.communities` as (name, value).
    pub communities: Vec<(String, Community)>,
    /// `spec.prefixAdvertisements`, community names resolved.
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
    /// `spec.nodeMeshMaxRestartTime` in seconds (120 when unset).
    pub node_mesh_max_restart_time: Option<u32>,
    /// `spec.localWorkloadPeeringIPV4`: the address a node offers the workloads it peers with.
    pub local_workload_peering_ipv4: Option<Ipv4Addr>,
    /// `spec.localWorkloadPeeringIPV6`.
    pub local_workload_peering_ipv6: Option<Ipv6Addr>,
}

impl BgpConfiguration {
    /// Whether the full mesh is on (Calico's default: yes).
    pub fn mesh_enabled(&self) -> bool {
        self.node_to_node_mesh_enabled.unwrap_or(true)
    }

    /// Graceful restart time of mesh sessions in seconds (calico/node's 120 when unset).
    pub fn mesh_restart_time(&self) -> u32 {
        self.node_mesh_max_restart_time.unwrap_or(120)
    }

    /// The default node AS (Calico's 64512 when unset).
    pub fn default_as(&self) -> u32 {
        self.as_number.unwrap_or(DEFAULT_AS)
    }
}

/// A Calico `IPPool`: where pod address blocks come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpPool {
    /// `metadata.name`.
    pub name: String,
    /// `spec.cidr`.
    pub cidr: Cidr<IpAddr>,
    /// `spec.blockSize` (26 for IPv4, 122 for IPv6 by default).
    pub block_size: u8,
    /// `spec.disabled`.
    pub disabled: bool,
    /// `spec.disableBGPExport`: routes inside the pool are not exported.
    pub disable_bgp_export: bool,
    /// `spec.nodeSelector`: which nodes take blocks from the pool (all when absent).
    pub node_selector: SelectorField,
}

/// How serious a [`Note`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information: something the simulator filled in.
    Info,
    /// Likely a mistake in the configuration.
    Warning,
}

/// A remark about a resource field: a load note or a linter finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    /// How serious it is.
    pub severity: Severity,
    /// The resource as `Kind/name`.
    pub resource: String,
    /// The dotted field path.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}: {} {}: {}",
            self.resource, self.field, self.message
        )
    }
}

/// A set of Calico resources: the cluster as its configuration describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// Nodes, sorted by name.
    pub nodes: Vec<Node>,
    /// BGP peers, sorted by name.
    pub bgp_peers: Vec<BgpPeer>,
    /// The `default` `BGPConfiguration` (defaults when absent).
    pub bgp_configuration: BgpConfiguration,
    /// Whether a `default` `BGPConfiguration` was present.
    pub has_bgp_configuration: bool,
    /// IP pools, sorted by name (empty: Calico's default pool is used).
    pub ip_pools: Vec<IpPool>,
    /// BGP filters, sorted by name.
    pub bgp_filters: Vec<BgpFilter>,
    /// Per-node `BGPConfiguration`s (`node.<name>`), by node name.
    pub node_configurations: BTreeMap<String, NodeBgpConfiguration>,
    /// Every known field the resources set, with its effect on routing, in reading order.
    pub fields: Vec<crate::fields::FieldUse>,
    /// Kubernetes Services, sorted by `namespace/name`.
    pub services: Vec<Service>,
    /// Workloads (`Pod`s, `WorkloadEndpoint`s) with an address, sorted by `namespace/name`.
    pub workloads: Vec<crate::workloads::Workload>,
    /// Ready endpoint nodes per `namespace/service` from `EndpointSlice`s (merged into `services`).
    #[serde(skip)]
    pub endpoint_slices: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Remarks made while loading (YAML tags, filled-in addresses, ignored kinds).
    pub notes: Vec<Note>,
}

/// Context of the resource being decoded, for error messages.
struct Ctx<'a> {
    origin: &'a str,
    kind: String,
    name: String,
}

impl Ctx<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::Resource {
            origin: self.origin.to_string(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    fn resource(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Mapping(m) => m.get(key).filter(|v| !v.is_null()),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("YAML tag {}", t.tag),
    }
}

fn get_str<'v>(
    ctx: &Ctx<'_>,
    v: &'v Value,
    key: &str,
    path: &str,
) -> Result<Option<&'v str>, Error> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ctx.err(
            path,
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

fn get_bool(ctx: &Ctx<'_>, v: &Value, key: &str, path: &str) -> Result<Option<bool>, Error> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(ctx.err(
            path,
            format!("expected true or false, found {}", describe(other)),
        )),
    }
}

/// Parses an AS number: an integer, a decimal string, or `asdot` (`1.10`).
pub fn parse_as_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some((hi, lo)) = s.split_once('.') {
        let hi: u16 = hi.parse().ok()?;
        let lo: u16 = lo.parse().ok()?;
        return Some((u32::from(hi) << 16) | u32::from(lo));
    }
    s.parse().ok()
}

fn get_as(ctx: &Ctx<'_>, v: &Value, key: &str, path: &str) -> Result<Option<u32>, Error> {
    let bad = |found: String| {
        ctx.err(
            path,
            format!("expected an AS number (1 to 4294967295 or asdot), found {found}"),
        )
    };
    match get(v, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(asn) if asn != 0 => Ok(Some(asn)),
            _ => Err(bad(format!("number {n}"))),
        },
        Some(Value::String(s)) => match parse_as_number(s) {
            Some(asn) if asn != 0 => Ok(Some(asn)),
            _ => Err(bad(format!("string {s:?}"))),
        },
        Some(other) => Err(bad(describe(other))),
    }
}

fn get_selector(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
    notes: &mut Vec<Note>,
) -> Result<SelectorField, Error> {
    let Value::Mapping(m) = v else {
        return Ok(SelectorField::Absent);
    };
    match m.get(key) {
        None | Some(Value::Null) => Ok(SelectorField::Absent),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(SelectorField::Absent),
        Some(Value::String(s)) => match Selector::parse(s) {
            Ok(sel) => Ok(SelectorField::Expr(sel, s.clone())),
            Err(e) => Err(ctx.err(path, format!("invalid selector {s:?}: {e}"))),
        },
        Some(Value::Tagged(t)) => {
            let tag = t.tag.to_string();
            let rest = match &t.value {
                Value::String(s) => format!(" {s}"),
                _ => String::new(),
            };
            let written = format!("{tag}{rest}");
            notes.push(Note {
                severity: Severity::Warning,
                resource: ctx.resource(),
                field: path.to_string(),
                message: format!(
                    "unquoted `{written}` is a YAML tag, not a string: Calico reads an empty {key} and ignores it{}; quote the selector: {key}: \"{written}\"",
                    if key == "nodeSelector" { ", so this BGPPeer applies to every node (a global peer)" } else { "" }
                ),
            });
            Ok(SelectorField::YamlTag(tag))
        }
        Some(other) => Err(ctx.err(
            path,
            format!("expected a selector string, found {}", describe(other)),
        )),
    }
}

/// An address field of one family, `what` naming it in errors (absent or empty: `None`).
fn get_address<A: std::str::FromStr>(
    ctx: &Ctx<'_>,
    v: &Value,
    key: &str,
    path: &str,
    what: &str,
) -> Result<Option<A>, Error> {
    match get_str(ctx, v, key, path)? {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ctx.err(path, format!("expected an {what}, found {s:?}"))),
    }
}

fn get_labels(ctx: &Ctx<'_>, meta: &Value, notes: &mut Vec<Note>) -> Result<Labels, Error> {
    let mut labels = Labels::new();
    let Some(l) = get(meta, "labels") else {
        return Ok(labels);
    };
    let Value::Mapping(m) = l else {
        return Err(ctx.err(
            "metadata.labels",
            format!("expected a mapping, found {}", describe(l)),
        ));
    };
    for (k, v) in m {
        let Value::String(k) = k else {
            return Err(ctx.err(
                "metadata.labels",
                format!("label keys must be strings, found {}", describe(k)),
            ));
        };
        let path = format!("metadata.labels.{k}");
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Bool(_) | Value::Number(_) => {
                let s = match v {
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                notes.push(Note {
                    severity: Severity::Warning,
                    resource: ctx.resource(),
                    field: path.clone(),
                    message: format!(
                        "label values are strings: unquoted {s} is a YAML {}; write {k}: \"{s}\"",
                        if matches!(v, Value::Bool(_)) {
                            "boolean"
                        } else {
                            "number"
                        }
                    ),
                });
                s
            }
            other => {
                return Err(ctx.err(
                    &path,
                    format!("expected a string, found {}", describe(other)),
                ))
            }
        };
        labels.insert(k.clone(), value);
    }
    Ok(labels)
}

fn parse_ipv4_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<Ipv4Addr>, Error> {
    parse_cidr(s, 32).ok_or_else(|| {
        ctx.err(
            path,
            format!("expected an IPv4 address or CIDR (10.0.0.1/24), found {s:?}"),
        )
    })
}

fn parse_ipv6_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<Ipv6Addr>, Error> {
    parse_cidr(s, 128).ok_or_else(|| {
        ctx.err(
            path,
            format!("expected an IPv6 address or CIDR, found {s:?}"),
        )
    })
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

/// Parses `peerIP`: an address, optionally with a port (`10.0.0.1:179`, `[fd00::1]:179`).
fn parse_peer_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (a, port) = rest.split_once("]:")?;
        port.parse::<u16>().ok()?;
        return a.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (a, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    a.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Parses an IPv4 or IPv6 CIDR; the address is masked to the length.
fn parse_any_cidr(ctx: &Ctx<'_>, s: &str, path: &str) -> Result<Cidr<IpAddr>, Error> {
    let c: Cidr<IpAddr> = parse_cidr(s, 128)
        .filter(|c: &Cidr<IpAddr>| c.addr.is_ipv6() || c.len <= 32)
        .ok_or_else(|| ctx.err(path, format!("expected a CIDR (10.96.0.0/12), found {s:?}")))?;
    Ok(mask_cidr(c))
}

/// The network address of a CIDR (host bits cleared).
pub fn mask_cidr(c: Cidr<IpAddr>) -> Cidr<IpAddr> {
    let addr = match c.addr {
        IpAddr::V4(a) => {
            let m = if c.len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(c.len.min(32)))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if c.len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(c.len.min(128)))
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    };
    Cidr { addr, len: c.len }
}

/// A list of strings (absent: empty).
fn get_str_list(ctx: &Ctx<'_>, v: &Value, key: &str, path: &str) -> Result<Vec<String>, Error> {
    match get(v, key) {
        None => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(i, it)| match it {
                Value::String(s) => Ok(s.clone()),
                other => Err(ctx.err(
                    &format!("{path}[{i}]"),
                    format!("expected a string, found {}", describe(other)),
                )),
            })
            .collect(),
        Some(other) => Err(ctx.err(path, format!("expected a list, found {}", describe(other)))),
    }
}

/// A Go duration (`120s`, `2m`, `1h30m`, `1m30.5s`) in whole seconds.
pub fn parse_duration(s: &str) -> Option<u32> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            unit = "ms".into();
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    if !num.is_empty() || !any || total > f64::from(u32::MAX) {
        return None;
    }
    Some(total as u32)
}

fn get_duration(ctx: &Ctx<'_>, v: &Value, key: &str, path: &str) -> Result<Option<u32>, Error> {
    match get_str(ctx, v, key, path)? {
        None => Ok(None),
        Some(s) => parse_duration(s).map(Some).ok_or_else(|| {
            ctx.err(
                path,
                format!("expected a duration such as 120s or 2m, found {s:?}"),
            )
        }),
    }
}

/// `[{cidr: …}, …]` lists of `BGPConfiguration` (`serviceClusterIPs` …).
fn get_cidr_blocks(ctx: &Ctx<'_>, spec: &Value, key: &str) -> Result<Vec<Cidr<IpAddr>>, Error> {
    let path = format!("spec.{key}");
    match get(spec, key) {
        None => Ok(Vec::new()),
        Some(Value::Sequence(items)) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let p = format!("{path}[{i}].cidr");
                if let Some(c) = get_str(ctx, it, "cidr", &p)? {
                    out.push(parse_any_cidr(ctx, c, &p)?);
                }
            }
            Ok(out)
        }
        Some(other) => Err(ctx.err(&path, format!("expected a list, found {}", describe(other)))),
    }
}

fn parse_filter_rule(ctx: &Ctx<'_>, r: &Value, path: &str, v6: bool) -> Result<FilterRule, Error> {
    let p = |k: &str| format!("{path}.{k}");
    let cidr = match get_str(ctx, r, "cidr", &p("cidr"))? {
        None => None,
        Some(c) => {
            let c = parse_any_cidr(ctx, c, &p("cidr"))?;
            if c.addr.is_ipv6() != v6 {
                return Err(ctx.err(&p("cidr"), format!("{c} is not of this rule list's family")));
            }
            let op = match get_str(ctx, r, "matchOperator", &p("matchOperator"))? {
                Some("Equal") => MatchOperator::Equal,
                Some("NotEqual") => MatchOperator::NotEqual,
                Some("In") => MatchOperator::In,
                Some("NotIn") => MatchOperator::NotIn,
                Some(other) => {
                    return Err(ctx.err(
                        &p("matchOperator"),
                        format!("expected Equal, NotEqual, In or NotIn, found {other:?}"),
                    ))
                }
                None => return Err(ctx.err(&p("matchOperator"), "required with cidr")),
            };
            let max = if v6 { 128 } else { 32 };
            let lengths = match get(r, "prefixLength") {
                None => None,
                Some(pl) => {
                    let len = |k: &str| -> Result<Option<u8>, Error> {
                        match get(pl, k) {
                            None => Ok(None),
                            Some(Value::Number(n)) => n
                                .as_u64()
                                .and_then(|x| u8::try_from(x).ok())
                                .filter(|x| *x <= max)
                                .map(Some)
                                .ok_or_else(|| {
                                    ctx.err(
                                        &format!("{path}.prefixLength.{k}"),
                                        format!("expected 0 to {max}, found {n}"),
                                    )
                                }),
                            Some(other) => Err(ctx.err(
                                &format!("{path}.prefixLength.{k}"),
                                format!("expected a number, found {}", describe(other)),
                            )),
                        }
                    };
                    let lo = len("min")?.map_or(c.len, |m| m.max(c.len));
                    let hi = len("max")?.map_or(max, |m| m.min(max));
                    Some((lo, hi))
                }
            };
            Some((c, op, lengths))
        }
    };
    let remote_peers_only = match get_str(ctx, r, "source", &p("source"))? {
        None => false,
        Some("RemotePeers") => true,
        Some(other) => {
            return Err(ctx.err(
                &p("source"),
                format!("expected RemotePeers, found {other:?}"),
            ))
        }
    };
    let interface = get_str(ctx, r, "interface", &p("interface"))?.map(str::to_string);
    let ibgp_only = match get_str(ctx, r, "peerType", &p("peerType"))? {
        None => None,
        Some("iBGP") => Some(true),
        Some("eBGP") => Some(false),
        Some(other) => {
            return Err(ctx.err(
                &p("peerType"),
                format!("expected eBGP or iBGP, found {other:?}"),
            ))
        }
    };
    let community = match get(r, "communities") {
        None => None,
        Some(c) => {
            let vals = get_str_list(ctx, c, "values", &p("communities.values"))?;
            match vals.first() {
                None => return Err(ctx.err(&p("communities.values"), "needs one value")),
                Some(v) => Some(Community::parse(v).ok_or_else(|| {
                    ctx.err(
                        &p("communities.values"),
                        format!("expected aa:nn or aa:nn:mm, found {v:?}"),
                    )
                })?),
            }
        }
    };
    let as_path_prefix = match get(r, "asPathPrefix") {
        None => Vec::new(),
        Some(Value::Sequence(items)) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let asn = match it {
                    Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
                    Value::String(s) => parse_as_number(s),
                    _ => None,
                };
                out.push(asn.ok_or_else(|| {
                    ctx.err(
                        &format!("{path}.asPathPrefix[{i}]"),
                        "expected an AS number",
                    )
                })?);
            }
            out
        }
        Some(other) => {
            return Err(ctx.err(
                &p("asPathPrefix"),
                format!("expected a list, found {}", describe(other)),
            ))
        }
    };
    let priority = match get(r, "priority") {
        None => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .filter(|x| *x >= 1 && *x < 2_147_483_647)
                .ok_or_else(|| {
                    ctx.err(
                        &p("priority"),
                        format!("expected 1 to 2147483646, found {n}"),
                    )
                })?,
        ),
        Some(other) => {
            return Err(ctx.err(
                &p("priority"),
                format!("expected a number, found {}", describe(other)),
            ))
        }
    };
    let accept = match get_str(ctx, r, "action", &p("action"))? {
        Some("Accept") => true,
        Some("Reject") => false,
        Some(other) => {
            return Err(ctx.err(
                &p("action"),
                format!("expected Accept or Reject, found {other:?}"),
            ))
        }
        None => return Err(ctx.err(&p("action"), "required")),
    };
    let mut operations = Vec::new();
    if let Some(Value::Sequence(ops)) = get(r, "operations") {
        for (i, op) in ops.iter().enumerate() {
            let at = format!("{path}.operations[{i}]");
            if let Some(ac) = get(op, "addCommunity") {
                let v =
                    get_str(ctx, ac, "value", &format!("{at}.addCommunity.value"))?.unwrap_or("");
                let c = Community::parse(v).ok_or_else(|| {
                    ctx.err(
                        &format!("{at}.addCommunity.value"),
                        format!("expected aa:nn or aa:nn:mm, found {v:?}"),
                    )
                })?;
                operations.push(FilterOperation::AddCommunity(c));
            } else if let Some(pp) = get(op, "prependASPath") {
                let mut asns = Vec::new();
                if let Some(Value::Sequence(items)) = get(pp, "prefix") {
                    for it in items {
                        let asn = match it {
                            Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
                            Value::String(s) => parse_as_number(s),
                            _ => None,
                        };
                        asns.push(asn.ok_or_else(|| {
                            ctx.err(&format!("{at}.prependASPath.prefix"), "expected AS numbers")
                        })?);
                    }
                }
                operations.push(FilterOperation::PrependAsPath(asns));
            } else if let Some(sp) = get(op, "setPriority") {
                let v = get(sp, "value")
                    .and_then(Value::as_u64)
                    .and_then(|x| u32::try_from(x).ok())
                    .filter(|x| *x >= 1 && *x < 2_147_483_647)
                    .ok_or_else(|| {
                        ctx.err(
                            &format!("{at}.setPriority.value"),
                            "expected 1 to 2147483646",
                        )
                    })?;
                operations.push(FilterOperation::SetPriority(v));
            } else {
                return Err(ctx.err(&at, "expected addCommunity, prependASPath or setPriority"));
            }
        }
    }
    Ok(FilterRule {
        cidr,
        remote_peers_only,
        interface,
        ibgp_only,
        community,
        as_path_prefix,
        priority,
        accept,
        operations,
    })
}

fn parse_ip_list(v: Option<&Value>) -> Vec<IpAddr> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        _ => Vec::new(),
    }
}

fn is_calico_api(api: &str) -> bool {
    matches!(api, "projectcalico.org/v3" | "crd.projectcalico.org/v1")
}

impl Cluster {
    /// Loads resources from YAML text (or a `kubectl get nodes` table); `origin` names it in errors.
    pub fn from_yaml_str_named(text: &str, origin: &str) -> Result<Cluster, Error> {
        let mut c = Cluster::default();
        c.add_text(text, origin)?;
        c.finish()?;
        Ok(c)
    }

    /// Loads resources from YAML text (or a `kubectl get nodes` table).
    pub fn from_yaml_str(text: &str) -> Result<Cluster, Error> {
        Cluster::from_yaml_str_named(text, "<string>")
    }

    /// Loads several named texts (e.g. the files of a folder, in order) as one cluster.
    pub fn from_texts<'a>(
        texts: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Cluster, Error> {
        let mut c = Cluster::default();
        for (origin, text) in texts {
            c.add_text(text, origin)?;
        }
        c.finish()?;
        Ok(c)
    }

    /// Loads a file, or every `.yaml`/`.yml`/`.txt` file of a folder in name order.
    #[cfg(all(feature = "fs", not(target_arch = "wasm32")))]
    pub fn load_path(path: impl AsRef<std::path::Path>) -> Result<Cluster, Error> {
        let path = path.as_ref();
        let io = |p: &std::path::Path, e: std::io::Error| Error::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let mut files = Vec::new();
        if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
                let p = entry.map_err(|e| io(path, e))?.path();
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if p.is_file() && matches!(ext, "yaml" | "yml" | "txt") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut texts = Vec::new();
        for f in &files {
            texts.push((
                f.display().to_string(),
                std::fs::read_to_string(f).map_err(|e| io(f, e))?,
            ));
        }
        Cluster::from_texts(texts.iter().map(|(o, t)| (o.as_str(), t.as_str())))
    }

    /// Loads every resource file of a folder (same as [`Cluster::load_path`]).
    #[cfg(all(feature = "fs", not(target_arch = "wasm32")))]
    pub fn load_dir(path: impl AsRef<std::path::Path>) -> Result<Cluster, Error> {
        Cluster::load_path(path)
    }

    /// The node with this name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// A node's AS: its own, else the default configuration's, else 64512.
    pub fn node_as(&self, node: &Node) -> u32 {
        node.as_number
            .unwrap_or_else(|| self.bgp_configuration.default_as())
    }

    fn add_text(&mut self, text: &str, origin: &str) -> Result<(), Error> {
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        if first.is_some_and(|l| l.starts_with("NAME ") || l.starts_with("NAME\t") || l == "NAME") {
            return self.add_node_table(text, origin);
        }
        for doc in serde_yaml::Deserializer::from_str(text) {
            let v = Value::deserialize(doc).map_err(|e| Error::Yaml {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
            self.add_value(&v, origin)?;
        }
        Ok(())
    }

    /// Reads `kubectl get nodes [-o wide]` output: names, and INTERNAL-IP when present.
    fn add_node_table(&mut self, text: &str, origin: &str) -> Result<(), Error> {
        let mut lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
        let ip_col = header.iter().position(|h| *h == "INTERNAL-IP");
        for line in lines {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let Some(name) = cols.first() else { continue };
            let ctx = Ctx {
                origin,
                kind: "Node".into(),
                name: (*name).to_string(),
            };
            let mut node = Node::named(name);
            if let Some(ip) = ip_col.and_then(|i| cols.get(i)).filter(|s| **s != "<none>") {
                node.ipv4_address = Some(parse_ipv4_cidr(&ctx, ip, "INTERNAL-IP")?);
            }
            self.push_node(node);
        }
        Ok(())
    }

    fn add_value(&mut self, v: &Value, origin: &str) -> Result<(), Error> {
        if v.is_null() {
            return Ok(());
        }
        let kind = match get(v, "kind") {
            Some(Value::String(k)) => k.clone(),
            _ => {
                return Err(Error::Resource {
                    origin: origin.to_string(),
                    kind: "?".into(),
                    name: "?".into(),
                    field: "kind".into(),
                    message: "every resource needs a kind".into(),
                })
            }
        };
        let name = get(get(v, "metadata").unwrap_or(&Value::Null), "name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let ctx = Ctx {
            origin,
            kind: kind.clone(),
            name,
        };
        if kind == "List" || kind.ends_with("List") {
            let Some(items) = get(v, "items") else {
                return Ok(());
            };
            let Value::Sequence(items) = items else {
                return Err(ctx.err(
                    "items",
                    format!("expected a list, found {}", describe(items)),
                ));
            };
            for item in items {
                self.add_value(item, origin)?;
            }
            return Ok(());
        }
        let api = get(v, "apiVersion").and_then(Value::as_str).unwrap_or("");
        if kind == "Node" && api == "v1" {
            return self.add_k8s_node(&ctx, v);
        }
        if kind == "Service" && api == "v1" {
            return self.add_service(&ctx, v);
        }
        if kind == "EndpointSlice" && api.starts_with("discovery.k8s.io/") {
            return self.add_endpoint_slice(&ctx, v);
        }
        let workload = match (kind.as_str(), api) {
            ("Pod", "v1") => Some(crate::workloads::from_pod(v)),
            ("WorkloadEndpoint", a) if is_calico_api(a) => {
                Some(crate::workloads::from_workload_endpoint(v))
            }
            _ => None,
        };
        if let Some(w) = workload {
            let w = w.map_err(|(field, message)| ctx.err(field, message))?;
            if let Some(w) = w {
                match self.workloads.binary_search_by(|x| x.name.cmp(&w.name)) {
                    Ok(i) => {
                        if let Some(old) = self.workloads.get_mut(i) {
                            *old = w;
                        }
                    }
                    Err(i) => self.workloads.insert(i, w),
                }
            }
            return Ok(());
        }
        if !is_calico_api(api) {
            if matches!(
                kind.as_str(),
                "Node" | "BGPPeer" | "BGPConfiguration" | "IPPool" | "BGPFilter"
            ) {
                return Err(ctx.err(
                    "apiVersion",
                    format!(
                        "expected projectcalico.org/v3 or crd.projectcalico.org/v1, found {api:?}"
                    ),
                ));
            }
            self.notes.push(Note {
                severity: Severity::Info,
                resource: ctx.resource(),
                field: "kind".into(),
                message: "not a Calico BGP resource; ignored".into(),
            });
            return Ok(());
        }
        if ctx.name == "?" {
            return Err(ctx.err("metadata.name", "every resource needs a name"));
        }
        if matches!(
            kind.as_str(),
            "Node" | "BGPPeer" | "BGPConfiguration" | "IPPool" | "BGPFilter"
        ) {
            let (notes, uses) = crate::fields::check(&kind, &ctx.name, v);
            self.notes.extend(notes);
            self.fields.extend(uses);
        }
        match kind.as_str() {
            "Node" => self.add_node(&ctx, v),
            "BGPPeer" => self.add_peer(&ctx, v),
            "BGPConfiguration" => self.add_config(&ctx, v),
            "IPPool" => self.add_pool(&ctx, v),
            "BGPFilter" => self.add_filter(&ctx, v),
            _ => {
                self.notes.push(Note {
                    severity: Severity::Info,
                    resource: ctx.resource(),
                    field: "kind".into(),
                    message: "not a resource the simulator uses; ignored".into(),
                });
                Ok(())
            }
        }
    }

    fn push_node(&mut self, node: Node) {
        if let Some(old) = self.nodes.iter_mut().find(|n| n.name == node.name) {
            *old = node;
        } else {
            self.nodes.push(node);
        }
    }

    fn add_node(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
    fn add_k8s_node(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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

    fn add_peer(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let spec = get(v, "spec").unwrap_or(&Value::Null);
        let node = get_str(ctx, spec, "node", "spec.node")?
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let peer_ip = match get_str(ctx, spec, "peerIP", "spec.peerIP")?.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(parse_peer_ip(s).ok_or_else(|| {
                ctx.err(
                    "spec.peerIP",
                    format!("expected an IP address (optionally with :port), found {s:?}"),
                )
            })?),
        };
        let as_number = get_as(ctx, spec, "asNumber", "spec.asNumber")?;
        let node_selector = get_selector(
            ctx,
            spec,
            "nodeSelector",
            "spec.nodeSelector",
            &mut self.notes,
        )?;
        let peer_selector = get_selector(
            ctx,
            spec,
            "peerSelector",
            "spec.peerSelector",
            &mut self.notes,
        )?;
        let local_workload_selector = get_selector(
            ctx,
            spec,
            "localWorkloadSelector",
            "spec.localWorkloadSelector",
            &mut self.notes,
        )?;
        if local_workload_selector.selector().is_some() {
            if peer_ip.is_some() || peer_selector.selector().is_some() {
                return Err(ctx.err(
                    "spec.localWorkloadSelector",
                    "cannot be set together with spec.peerIP or spec.peerSelector",
                ));
            }
            if as_number.is_none() {
                return Err(ctx.err(
                    "spec.asNumber",
                    "required when spec.localWorkloadSelector is set (the workloads' AS)",
                ));
            }
        }
        let keep_original_next_hop =
            get_bool(ctx, spec, "keepOriginalNextHop", "spec.keepOriginalNextHop")?
                .unwrap_or(false);
        if node.is_some() && node_selector.selector().is_some() {
            return Err(ctx.err("spec.nodeSelector", "cannot be set together with spec.node"));
        }
        if peer_ip.is_some() && peer_selector.selector().is_some() {
            return Err(ctx.err(
                "spec.peerSelector",
                "cannot be set together with spec.peerIP",
            ));
        }
        if peer_ip.is_some() && as_number.is_none() {
            return Err(ctx.err("spec.asNumber", "required when spec.peerIP is set"));
        }
        if peer_selector.selector().is_some() && as_number.is_some() {
            return Err(ctx.err("spec.asNumber", "cannot be set together with spec.peerSelector (the remote nodes' AS numbers are used)"));
        }
        let next_hop_mode = match get_str(ctx, spec, "nextHopMode", "spec.nextHopMode")? {
            None | Some("Auto") | Some("") => NextHopMode::Auto,
            Some("Self") => NextHopMode::SelfHop,
            Some("Keep") => NextHopMode::Keep,
            Some(other) => {
                return Err(ctx.err(
                    "spec.nextHopMode",
                    format!("expected Auto, Self or Keep, found {other:?}"),
                ))
            }
        };
        let filters = get_str_list(ctx, spec, "filters", "spec.filters")?;
        let max_restart_time = get_duration(ctx, spec, "maxRestartTime", "spec.maxRestartTime")?;
        let local_as_number = get_as(ctx, spec, "localASNumber", "spec.localASNumber")?;
        let num_allowed_local_as = match get(spec, "numAllowedLocalASNumbers") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| {
                        ctx.err(
                            "spec.numAllowedLocalASNumbers",
                            format!("expected 0 to 255, found {n}"),
                        )
                    })?,
            ),
            Some(other) => {
                return Err(ctx.err(
                    "spec.numAllowedLocalASNumbers",
                    format!("expected a count, found {}", describe(other)),
                ))
            }
        };
        let has_password = get(spec, "password").is_some();
        let ttl_security = match get(spec, "ttlSecurity") {
            None => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| {
                        ctx.err("spec.ttlSecurity", format!("expected 0 to 255, found {n}"))
                    })?,
            ),
            Some(other) => {
                return Err(ctx.err(
                    "spec.ttlSecurity",
                    format!("expected a hop count, found {}", describe(other)),
                ))
            }
        };
        let reverse_peering_manual =
            match get_str(ctx, spec, "reversePeering", "spec.reversePeering")? {
                None | Some("Auto") | Some("") => false,
                Some("Manual") => true,
                Some(other) => {
                    return Err(ctx.err(
                        "spec.reversePeering",
                        format!("expected Auto or Manual, found {other:?}"),
                    ))
                }
            };
        let peer = BgpPeer {
            name: ctx.name.clone(),
            node,
            peer_ip,
            as_number,
            node_selector,
            peer_selector,
            keep_original_next_hop,
            next_hop_mode,
            filters,
            max_restart_time,
            local_as_number,
            num_allowed_local_as,
            has_password,
            ttl_security,
            reverse_peering_manual,
            local_workload_selector,
        };
        if let Some(old) = self.bgp_peers.iter_mut().find(|p| p.name == peer.name) {
            *old = peer;
        } else {
            self.bgp_peers.push(peer);
        }
        Ok(())
    }

    fn add_config(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let spec = get(v, "spec").unwrap_or(&Value::Null);
        let node_to_node_mesh_enabled = get_bool(
            ctx,
            spec,
            "nodeToNodeMeshEnabled",
            "spec.nodeToNodeMeshEnabled",
        )?;
        let as_number = get_as(ctx, spec, "asNumber", "spec.asNumber")?;
        let log_severity_screen =
            match get_str(ctx, spec, "logSeverityScreen", "spec.logSeverityScreen")? {
                None => None,
                Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                    "debug" => LogSeverity::Debug,
                    "info" => LogSeverity::Info,
                    "warning" => LogSeverity::Warning,
                    "error" => LogSeverity::Error,
                    "fatal" => LogSeverity::Fatal,
                    _ => {
                        return Err(ctx.err(
                            "spec.logSeverityScreen",
                            format!(
                                "expected one of Debug, Info, Warning, Error, Fatal, found {s:?}"
                            ),
                        ))
                    }
                }),
            };
        let listen_port = match get(spec, "listenPort") {
            None => None,
            Some(Value::Number(n)) => match n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
            {
                Some(p) => Some(p),
                None => {
                    return Err(ctx.err(
                        "spec.listenPort",
                        format!("expected a port from 1 to 65535, found {n}"),
                    ))
                }
            },
            Some(other) => {
                return Err(ctx.err(
                    "spec.listenPort",
                    format!("expected a port number, found {}", describe(other)),
                ))
            }
        };
        let communities = match get(spec, "communities") {
            None => Vec::new(),
            Some(Value::Sequence(items)) => {
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let path = format!("spec.communities[{i}]");
                    let name = get_str(ctx, it, "name", &format!("{path}.name"))?
                        .ok_or_else(|| ctx.err(&format!("{path}.name"), "required"))?;
                    let value = get_str(ctx, it, "value", &format!("{path}.value"))?
                        .ok_or_else(|| ctx.err(&format!("{path}.value"), "required"))?;
                    let c = Community::parse(value).ok_or_else(|| {
                        ctx.err(
                            &format!("{path}.value"),
                            format!("expected aa:nn or aa:nn:mm, found {value:?}"),
                        )
                    })?;
                    out.push((name.to_string(), c));
                }
                out
            }
            Some(other) => {
                return Err(ctx.err(
                    "spec.communities",
                    format!("expected a list, found {}", describe(other)),
                ))
            }
        };
        let prefix_advertisements = match get(spec, "prefixAdvertisements") {
            None => None,
            Some(Value::Sequence(items)) => {
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let path = format!("spec.prefixAdvertisements[{i}]");
                    let cidr = get_str(ctx, it, "cidr", &format!("{path}.cidr"))?
                        .ok_or_else(|| ctx.err(&format!("{path}.cidr"), "required"))?;
                    let cidr = parse_any_cidr(ctx, cidr, &format!("{path}.cidr"))?;
                    let names =
                        get_str_list(ctx, it, "communities", &format!("{path}.communities"))?;
                    let mut cs = Vec::new();
                    for n in names {
                        let c = match Community::parse(&n) {
                            Some(c) => c,
                            None => match communities.iter().find(|(name, _)| *name == n) {
                                Some((_, c)) => *c,
                                None => {
                                    self.notes.push(Note {
                                        severity: Severity::Warning,
                                        resource: ctx.resource(),
                                        field: format!("{path}.communities"),
                                        message: format!("{n:?} is neither a community value nor a name in spec.communities: calico/node skips it"),
                                    });
                                    continue;
                                }
                            },
                        };
                        if !cs.contains(&c) {
                            cs.push(c);
                        }
                    }
                    out.push(PrefixAdvertisement {
                        cidr,
                        communities: cs,
                    });
                }
                Some(out)
            }
            Some(other) => {
                return Err(ctx.err(
                    "spec.prefixAdvertisements",
                    format!("expected a list, found {}", describe(other)),
                ))
            }
        };
        if let Some(node) = ctx.name.strip_prefix("node.") {
            for key in [
                "nodeToNodeMeshEnabled",
                "asNumber",
                "serviceClusterIPs",
                "serviceExternalIPs",
                "serviceLoadBalancerIPs",
                "nodeMeshMaxRestartTime",
                "nodeMeshPassword",
            ] {
                if get(spec, key).is_some() {
                    self.notes.push(Note {
                        severity: Severity::Warning,
                        resource: ctx.resource(),
                        field: format!("spec.{key}"),
                        message: "only the default BGPConfiguration sets this; calico/node ignores it in a per-node configuration".into(),
                    });
                }
            }
            self.node_configurations.insert(
                node.to_string(),
                NodeBgpConfiguration {
                    prefix_advertisements,
                    listen_port,
                },
            );
            return Ok(());
        }
        if ctx.name != "default" {
            self.notes.push(Note {
                severity: Severity::Info,
                resource: ctx.resource(),
                field: "metadata.name".into(),
                message:
                    "only the BGPConfiguration named default (or node.<name>) is read by calico/node; ignored"
                        .into(),
            });
            return Ok(());
        }
        let aggregation = get_str(
            ctx,
            spec,
            "serviceLoadBalancerAggregation",
            "spec.serviceLoadBalancerAggregation",
        )?;
        let load_balancer_aggregation_disabled = match aggregation {
            None | Some("Enabled") => false,
            Some("Disabled") => true,
            Some(other) => {
                return Err(ctx.err(
                    "spec.serviceLoadBalancerAggregation",
                    format!("expected Enabled or Disabled, found {other:?}"),
                ))
            }
        };
        self.bgp_configuration = BgpConfiguration {
            node_to_node_mesh_enabled,
            as_number,
            log_severity_screen,
            listen_port,
            service_cluster_ips: get_cidr_blocks(ctx, spec, "serviceClusterIPs")?,
            service_external_ips: get_cidr_blocks(ctx, spec, "serviceExternalIPs")?,
            service_load_balancer_ips: get_cidr_blocks(ctx, spec, "serviceLoadBalancerIPs")?,
            load_balancer_aggregation_disabled,
            communities,
            prefix_advertisements: prefix_advertisements.unwrap_or_default(),
            node_mesh_max_restart_time: get_duration(
                ctx,
                spec,
                "nodeMeshMaxRestartTime",
                "spec.nodeMeshMaxRestartTime",
            )?,
            local_workload_peering_ipv4: get_address(
                ctx,
                spec,
                "localWorkloadPeeringIPV4",
                "spec.localWorkloadPeeringIPV4",
                "IPv4 address",
            )?,
            local_workload_peering_ipv6: get_address(
                ctx,
                spec,
                "localWorkloadPeeringIPV6",
                "spec.localWorkloadPeeringIPV6",
                "IPv6 address",
            )?,
        };
        self.has_bgp_configuration = true;
        Ok(())
    }

    fn add_pool(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let spec = get(v, "spec").unwrap_or(&Value::Null);
        let s = get_str(ctx, spec, "cidr", "spec.cidr")?
            .ok_or_else(|| ctx.err("spec.cidr", "required"))?;
        let cidr: Cidr<IpAddr> = parse_cidr(s, 128)
            .filter(|c: &Cidr<IpAddr>| c.addr.is_ipv6() || c.len <= 32)
            .ok_or_else(|| {
                ctx.err(
                    "spec.cidr",
                    format!("expected a CIDR (192.168.0.0/16), found {s:?}"),
                )
            })?;
        let max = if cidr.addr.is_ipv4() { 32 } else { 128 };
        let block_size = match get(spec, "blockSize") {
            None => {
                if cidr.addr.is_ipv4() {
                    26
                } else {
                    122
                }
            }
            Some(Value::Number(n)) => match n
                .as_u64()
                .and_then(|b| u8::try_from(b).ok())
                .filter(|b| *b >= cidr.len && *b <= max)
            {
                Some(b) => b,
                None => {
                    return Err(ctx.err(
                        "spec.blockSize",
                        format!(
                            "expected a prefix length from {} to {max}, found {n}",
                            cidr.len
                        ),
                    ))
                }
            },
            Some(other) => {
                return Err(ctx.err(
                    "spec.blockSize",
                    format!("expected a number, found {}", describe(other)),
                ))
            }
        };
        let disabled = get_bool(ctx, spec, "disabled", "spec.disabled")?.unwrap_or(false);
        let disable_bgp_export =
            get_bool(ctx, spec, "disableBGPExport", "spec.disableBGPExport")?.unwrap_or(false);
        let node_selector = get_selector(
            ctx,
            spec,
            "nodeSelector",
            "spec.nodeSelector",
            &mut self.notes,
        )?;
        self.ip_pools.retain(|p| p.name != ctx.name);
        self.ip_pools.push(IpPool {
            name: ctx.name.clone(),
            cidr,
            block_size,
            disabled,
            disable_bgp_export,
            node_selector,
        });
        Ok(())
    }

    fn add_filter(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let spec = get(v, "spec").unwrap_or(&Value::Null);
        let mut f = BgpFilter {
            name: ctx.name.clone(),
            ..BgpFilter::default()
        };
        for (key, v6) in [
            ("exportV4", false),
            ("importV4", false),
            ("exportV6", true),
            ("importV6", true),
        ] {
            let path = format!("spec.{key}");
            let rules = match get(spec, key) {
                None => Vec::new(),
                Some(Value::Sequence(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, r)| parse_filter_rule(ctx, r, &format!("{path}[{i}]"), v6))
                    .collect::<Result<Vec<_>, _>>()?,
                Some(other) => {
                    return Err(ctx.err(
                        &path,
                        format!("expected a list of rules, found {}", describe(other)),
                    ))
                }
            };
            match key {
                "exportV4" => f.export_v4 = rules,
                "importV4" => f.import_v4 = rules,
                "exportV6" => f.export_v6 = rules,
                _ => f.import_v6 = rules,
            }
        }
        self.bgp_filters.retain(|x| x.name != f.name);
        self.bgp_filters.push(f);
        Ok(())
    }

    /// A Kubernetes `v1` `Service`: the addresses Calico may advertise for it.
    fn add_service(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let meta = get(v, "metadata").unwrap_or(&Value::Null);
        let ns = get(meta, "namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let spec = get(v, "spec").unwrap_or(&Value::Null);
        let mut cluster_ips = parse_ip_list(get(spec, "clusterIPs"));
        if cluster_ips.is_empty() {
            cluster_ips.extend(
                get(spec, "clusterIP")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<IpAddr>().ok()),
            );
        }
        let mut load_balancer_ips: Vec<IpAddr> = Vec::new();
        if let Some(Value::Sequence(ing)) = get(
            get(get(v, "status").unwrap_or(&Value::Null), "loadBalancer").unwrap_or(&Value::Null),
            "ingress",
        ) {
            load_balancer_ips.extend(
                ing.iter()
                    .filter_map(|i| get(i, "ip"))
                    .filter_map(Value::as_str)
                    .filter_map(|s| s.parse::<IpAddr>().ok()),
            );
        }
        if let Some(ip) = get(spec, "loadBalancerIP")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
        {
            if !load_balancer_ips.contains(&ip) {
                load_balancer_ips.push(ip);
            }
        }
        let svc = Service {
            name: format!("{ns}/{}", ctx.name),
            service_type: get(spec, "type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP")
                .to_string(),
            cluster_ips,
            external_ips: parse_ip_list(get(spec, "externalIPs")),
            load_balancer_ips,
            local: get(spec, "externalTrafficPolicy").and_then(Value::as_str) == Some("Local"),
            endpoint_nodes: std::collections::BTreeSet::new(),
        };
        self.services.retain(|s| s.name != svc.name);
        self.services.push(svc);
        Ok(())
    }

    /// A Kubernetes `EndpointSlice`: the nodes its ready endpoints run on.
    fn add_endpoint_slice(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
        let meta = get(v, "metadata").unwrap_or(&Value::Null);
        let ns = get(meta, "namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let Some(svc) = get(
            get(meta, "labels").unwrap_or(&Value::Null),
            "kubernetes.io/service-name",
        )
        .and_then(Value::as_str) else {
            self.notes.push(Note {
                severity: Severity::Info,
                resource: ctx.resource(),
                field: "metadata.labels.kubernetes.io/service-name".into(),
                message: "no service name label; ignored".into(),
            });
            return Ok(());
        };
        let nodes = self
            .endpoint_slices
            .entry(format!("{ns}/{svc}"))
            .or_default();
        if let Some(Value::Sequence(eps)) = get(v, "endpoints") {
            for ep in eps {
                let ready = get(get(ep, "conditions").unwrap_or(&Value::Null), "ready")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                if let (true, Some(n)) = (ready, get(ep, "nodeName").and_then(Value::as_str)) {
                    nodes.insert(n.to_string());
                }
            }
        }
        Ok(())
    }

    /// Sorts resources and gives addresses to nodes that have none (as Calico's autodetection would).
    fn finish(&mut self) -> Result<(), Error> {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.bgp_peers.sort_by(|a, b| a.name.cmp(&b.name));
        self.ip_pools.sort_by(|a, b| a.name.cmp(&b.name));
        self.bgp_filters.sort_by(|a, b| a.name.cmp(&b.name));
        self.services.sort_by(|a, b| a.name.cmp(&b.name));
        for svc in &mut self.services {
            if let Some(nodes) = self.endpoint_slices.get(&svc.name) {
                svc.endpoint_nodes = nodes.clone();
            }
        }
        let used: std::collections::BTreeSet<Ipv4Addr> = self
            .nodes
            .iter()
            .filter_map(|n| n.ipv4_address.map(|c| c.addr))
            .collect();
        let mut next: u32 = u32::from(Ipv4Addr::new(10, 0, 0, 1));
        let mut assigned = BTreeMap::new();
        for node in self
            .nodes
            .iter_mut()
            .filter(|n| n.ipv4_address.is_none() && n.ipv6_address.is_none())
        {
            while used.contains(&Ipv4Addr::from(next)) || next & 0xff == 0 || next & 0xff == 255 {
                next += 1;
            }
            let addr = Ipv4Addr::from(next);
            next += 1;
            node.ipv4_address = Some(Cidr { addr, len: 8 });
            assigned.insert(node.name.clone(), addr);
        }
        for (name, addr) in assigned {
            self.notes.push(Note {
                severity: Severity::Info,
                resource: format!("Node/{name}"),
                field: "spec.bgp.ipv4Address".into(),
                message: format!("not set; the simulator uses {addr}/8"),
            });
        }
        Ok(())
    }
}
