//! Calico resources read from YAML: `Node`, `BGPPeer`, `BGPConfiguration`, `IPPool`.
//!
//! Accepted forms: single or multi-document YAML (`---`), `kind: List` /
//! `NodeList` / `BGPPeerList` with `items` (what `calicoctl get -o yaml
//! [--export]` prints), Kubernetes `v1` `Node` objects with Calico's
//! `projectcalico.org/*` annotations, and a `kubectl get nodes` plain table.
//! `apiVersion` may be `projectcalico.org/v3` or `crd.projectcalico.org/v1`.
//! Unknown fields are ignored; an invalid value is an [`Error::Resource`]
//! naming the resource and the field path.
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
}

impl BgpConfiguration {
    /// Whether the full mesh is on (Calico's default: yes).
    pub fn mesh_enabled(&self) -> bool {
        self.node_to_node_mesh_enabled.unwrap_or(true)
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
        if !is_calico_api(api) {
            if matches!(
                kind.as_str(),
                "Node" | "BGPPeer" | "BGPConfiguration" | "IPPool"
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
        match kind.as_str() {
            "Node" => self.add_node(&ctx, v),
            "BGPPeer" => self.add_peer(&ctx, v),
            "BGPConfiguration" => self.add_config(&ctx, v),
            "IPPool" => self.add_pool(&ctx, v),
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
        let peer = BgpPeer {
            name: ctx.name.clone(),
            node,
            peer_ip,
            as_number,
            node_selector,
            peer_selector,
            keep_original_next_hop,
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
        if ctx.name != "default" {
            self.notes.push(Note {
                severity: Severity::Info,
                resource: ctx.resource(),
                field: "metadata.name".into(),
                message:
                    "only the BGPConfiguration named default sets cluster-wide values; ignored"
                        .into(),
            });
            return Ok(());
        }
        self.bgp_configuration = BgpConfiguration {
            node_to_node_mesh_enabled,
            as_number,
            log_severity_screen,
            listen_port,
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
        self.ip_pools.retain(|p| p.name != ctx.name);
        self.ip_pools.push(IpPool {
            name: ctx.name.clone(),
            cidr,
            block_size,
            disabled,
        });
        Ok(())
    }

    /// Sorts resources and gives addresses to nodes that have none (as Calico's autodetection would).
    fn finish(&mut self) -> Result<(), Error> {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.bgp_peers.sort_by(|a, b| a.name.cmp(&b.name));
        self.ip_pools.sort_by(|a, b| a.name.cmp(&b.name));
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
