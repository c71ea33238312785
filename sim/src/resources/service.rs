//! Kubernetes `Service`s and the `EndpointSlice`s that place their endpoints on nodes.

use std::net::IpAddr;

use serde::Serialize;
use serde_yaml::Value;

use super::note::{Note, Severity};
use super::yaml::{get, Ctx};
use super::Cluster;
use crate::error::Error;

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

impl Cluster {
    /// A Kubernetes `v1` `Service`: the addresses Calico may advertise for it.
    pub(super) fn add_service(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
    pub(super) fn add_endpoint_slice(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
}
