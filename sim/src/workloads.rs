//! Workloads (pods) a node can peer with over BGP: Kubernetes `v1` `Pod`s and
//! Calico `WorkloadEndpoint`s, with the labels Calico's selectors see.
//!
//! A `BGPPeer` with `localWorkloadSelector` makes each node it applies to
//! peer with the workloads on that node whose labels the selector matches
//! (Felix picks, per workload, the first such `BGPPeer` by name; confd then
//! writes a passive `Local_Workload_<address>` session per address family the
//! workload has an address in). Calico's workload labels are the pod's own
//! plus `projectcalico.org/namespace` and `projectcalico.org/orchestrator`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde_yaml::Value;

use crate::selector::Labels;

/// A workload on a node: where it runs, its labels and addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// `namespace/name`.
    pub name: String,
    /// The node it runs on (`spec.nodeName`, `spec.node`).
    pub node: String,
    /// The labels Calico's selectors see.
    pub labels: Labels,
    /// Its first IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// Its first IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
}

impl Workload {
    /// Its address in the family of `v6`.
    pub fn address(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.ipv6.map(IpAddr::V6)
        } else {
            self.ipv4.map(IpAddr::V4)
        }
    }
}

/// Why a resource is not a workload: the field and what is wrong.
pub type Problem = (&'static str, String);

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Mapping(m) => m.get(key),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The first IPv4 and first IPv6 address of a list of addresses or CIDRs.
fn first_addresses<'a>(
    items: impl Iterator<Item = &'a str>,
) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
    let (mut v4, mut v6) = (None, None);
    for s in items {
        let addr = s.split('/').next().unwrap_or(s);
        match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if v4.is_none() => v4 = Some(a),
            Ok(IpAddr::V6(a)) if v6.is_none() => v6 = Some(a),
            _ => {}
        }
    }
    (v4, v6)
}

/// The labels of `metadata` (string values; others as written), plus
/// Calico's namespace and orchestrator labels.
fn labels(meta: &Value, namespace: &str, orchestrator: &str) -> Labels {
    let mut l = Labels::new();
    if let Some(Value::Mapping(m)) = get(meta, "labels") {
        for (k, v) in m {
            let (Some(k), value) = (k.as_str(), v) else {
                continue;
            };
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            l.insert(k.to_string(), value);
        }
    }
    l.insert("projectcalico.org/namespace".into(), namespace.to_string());
    l.insert(
        "projectcalico.org/orchestrator".into(),
        orchestrator.to_string(),
    );
    l
}

/// A Kubernetes `v1` `Pod`: `None` for a pod that has no workload endpoint
/// (host network, not scheduled, finished, or no address yet).
pub fn from_pod(v: &Value) -> Result<Option<Workload>, Problem> {
    let meta = get(v, "metadata").unwrap_or(&Value::Null);
    let spec = get(v, "spec").unwrap_or(&Value::Null);
    let status = get(v, "status").unwrap_or(&Value::Null);
    let name = text(meta, "name").ok_or(("metadata.name", "every pod needs a name".to_string()))?;
    let ns = text(meta, "namespace").unwrap_or("default");
    if get(spec, "hostNetwork").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    if matches!(text(status, "phase"), Some("Succeeded" | "Failed")) {
        return Ok(None);
    }
    let Some(node) = text(spec, "nodeName") else {
        return Ok(None);
    };
    let mut addrs: Vec<&str> = Vec::new();
    if let Some(Value::Sequence(ips)) = get(status, "podIPs") {
        addrs.extend(ips.iter().filter_map(|i| text(i, "ip")));
    }
    addrs.extend(text(status, "podIP"));
    let (ipv4, ipv6) = first_addresses(addrs.into_iter());
    if ipv4.is_none() && ipv6.is_none() {
        return Ok(None);
    }
    let mut l = labels(meta, ns, "k8s");
    if let Some(sa) = text(spec, "serviceAccountName") {
        l.insert("projectcalico.org/serviceaccount".into(), sa.to_string());
    }
    Ok(Some(Workload {
        name: format!("{ns}/{name}"),
        node: node.to_string(),
        labels: l,
        ipv4,
        ipv6,
    }))
}

/// A Calico `WorkloadEndpoint` (`spec.node`, `spec.ipNetworks`, labels).
pub fn from_workload_endpoint(v: &Value) -> Result<Option<Workload>, Problem> {
    let meta = get(v, "metadata").unwrap_or(&Value::Null);
    let spec = get(v, "spec").unwrap_or(&Value::Null);
    let name = text(meta, "name").ok_or((
        "metadata.name",
        "every workload endpoint needs a name".to_string(),
    ))?;
    let ns = text(meta, "namespace").unwrap_or("default");
    let node = text(spec, "node").ok_or((
        "spec.node",
        "required: the node the workload runs on".to_string(),
    ))?;
    let nets: Vec<&str> = match get(spec, "ipNetworks") {
        Some(Value::Sequence(s)) => s.iter().filter_map(Value::as_str).collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(("spec.ipNetworks", "expected a list of CIDRs".to_string())),
    };
    let (ipv4, ipv6) = first_addresses(nets.into_iter());
    if ipv4.is_none() && ipv6.is_none() {
        return Ok(None);
    }
    let orchestrator = text(spec, "orchestrator").unwrap_or("k8s");
    let shown = text(spec, "pod").unwrap_or(name);
    Ok(Some(Workload {
        name: format!("{ns}/{shown}"),
        node: node.to_string(),
        labels: labels(meta, ns, orchestrator),
        ipv4,
        ipv6,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: bird-0, namespace: child, labels: {app: bird, tier: 2}}\n\
         spec: {nodeName: n1, serviceAccountName: sa}\n\
         status: {phase: Running, podIP: 10.65.0.2, podIPs: [{ip: 10.65.0.2}, {ip: \"fd00::2\"}]}\n";

    #[test]
    fn pods_and_workload_endpoints() {
        let w = from_pod(&yaml(POD)).unwrap().unwrap();
        assert_eq!(w.name, "child/bird-0");
        assert_eq!(w.node, "n1");
        assert_eq!(w.ipv4, Some(Ipv4Addr::new(10, 65, 0, 2)));
        assert_eq!(w.ipv6, Some("fd00::2".parse().unwrap()));
        assert_eq!(w.labels.get("app").map(String::as_str), Some("bird"));
        assert_eq!(w.labels.get("tier").map(String::as_str), Some("2"));
        assert_eq!(
            w.labels
                .get("projectcalico.org/namespace")
                .map(String::as_str),
            Some("child")
        );
        assert_eq!(
            w.labels
                .get("projectcalico.org/serviceaccount")
                .map(String::as_str),
            Some("sa")
        );
        // No endpoint: host network, finished, unscheduled, no address.
        for edit in [
            (
                "spec: {nodeName: n1",
                "spec: {nodeName: n1, hostNetwork: true",
            ),
            ("phase: Running", "phase: Succeeded"),
            ("spec: {nodeName: n1, ", "spec: {"),
            (
                "podIP: 10.65.0.2, podIPs: [{ip: 10.65.0.2}, {ip: \"fd00::2\"}]",
                "podIPs: []",
            ),
        ] {
            let changed = POD.replace(edit.0, edit.1);
            assert_ne!(changed, POD, "{edit:?}");
            assert_eq!(from_pod(&yaml(&changed)).unwrap(), None, "{edit:?}");
        }
        assert!(from_pod(&yaml("kind: Pod\nmetadata: {}\n")).is_err());
        let wep = yaml(
            "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\n\
             metadata: {name: n1-k8s-bird--0-eth0, namespace: child, labels: {app: bird}}\n\
             spec: {node: n1, pod: bird-0, ipNetworks: [\"10.65.0.2/32\"]}\n",
        );
        let w = from_workload_endpoint(&wep).unwrap().unwrap();
        assert_eq!((w.name.as_str(), w.node.as_str()), ("child/bird-0", "n1"));
        assert_eq!((w.ipv4, w.ipv6), (Some(Ipv4Addr::new(10, 65, 0, 2)), None));
        assert_eq!(
            w.labels
                .get("projectcalico.org/orchestrator")
                .map(String::as_str),
            Some("k8s")
        );
        let e = from_workload_endpoint(&yaml(
            "kind: WorkloadEndpoint\nmetadata: {name: x}\nspec: {}\n",
        ))
        .unwrap_err();
        assert_eq!(e.0, "spec.node");
    }
}
