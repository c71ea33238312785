//! Calico `BGPFilter`s: rules per direction and family.

use std::net::IpAddr;

use serde::Serialize;
use serde_yaml::Value;

use super::cidr::{parse_any_cidr, Cidr};
use super::community::Community;
use super::yaml::{describe, get, get_str, get_str_list, parse_as_number, Ctx};
use super::Cluster;
use crate::error::Error;

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

impl Cluster {
    pub(super) fn add_filter(&mut self, ctx: &Ctx<'_>, v: &Value) -> Result<(), Error> {
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
}
