//! Calico `IPPool`s.

use std::net::IpAddr;

use serde::Serialize;
use serde_yaml::Value;

use super::cidr::{parse_cidr, Cidr};
use super::selector_field::{get_selector, SelectorField};
use super::yaml::{describe, get, get_bool, get_str, Ctx};
use super::Cluster;
use crate::error::Error;

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

impl Cluster {
    pub(super) fn add_pool(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
}
