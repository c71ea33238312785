//! `BGPConfiguration`s: the `default` one and per-node `node.<name>`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde_yaml::Value;

use super::cidr::{parse_any_cidr, Cidr};
use super::community::Community;
use super::note::{Note, Severity};
use super::yaml::{
    describe, get, get_address, get_as, get_bool, get_duration, get_str, get_str_list, Ctx,
};
use super::Cluster;
use crate::error::Error;

/// The AS number calico/node uses when neither the node nor the default `BGPConfiguration` sets one.
pub const DEFAULT_AS: u32 = 64512;

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

impl Cluster {
    pub(super) fn add_config(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
}
