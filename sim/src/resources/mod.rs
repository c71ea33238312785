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
//!
//! This file holds [`Cluster`] and its loading; each resource kind has a file
//! with its types and the `Cluster` method that decodes it, and `yaml.rs` the
//! typed field reads they share.

mod bgp_configuration;
mod cidr;
mod community;
mod filter;
mod ip_pool;
mod node;
mod note;
mod peer;
mod selector_field;
mod service;
mod yaml;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use crate::error::Error;

pub use bgp_configuration::{
    BgpConfiguration, LogSeverity, NodeBgpConfiguration, PrefixAdvertisement, DEFAULT_AS,
};
pub use cidr::{mask_cidr, Cidr};
pub use community::Community;
pub use filter::{BgpFilter, CidrMatch, FilterOperation, FilterRule, MatchOperator};
pub use ip_pool::IpPool;
pub use node::Node;
pub use note::{Note, Severity};
pub use peer::{BgpPeer, NextHopMode};
pub use selector_field::SelectorField;
pub use service::Service;
pub use yaml::{parse_as_number, parse_duration};

use cidr::parse_ipv4_cidr;
use yaml::{describe, get, Ctx};

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
