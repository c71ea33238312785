//! Calico `BGPPeer`s.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde_yaml::Value;

use super::selector_field::{get_selector, SelectorField};
use super::yaml::{describe, get, get_as, get_bool, get_duration, get_str, get_str_list, Ctx};
use super::Cluster;
use crate::error::Error;

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

impl BgpPeer {
    /// Whether Calico treats the peer as "global" (neither `node` nor an effective `nodeSelector`).
    pub fn is_global(&self) -> bool {
        self.node.is_none() && self.node_selector.selector().is_none()
    }
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

impl Cluster {
    pub(super) fn add_peer(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
}
