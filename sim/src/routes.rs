//! What calico/node's BIRD originates and exports: pod blocks, service addresses, filters.
//!
//! calico/node renders one export filter per session (confd's
//! `bgp_processor.go` and `bird_ipam.cfg.template`): the session's
//! `BGPFilter` export rules first, then `calico_export_to_bgp_peers`, which
//! rejects routes inside pools with `disableBGPExport`, adds the
//! `prefixAdvertisements` communities, accepts the node's own blocks (and
//! rejects what lies beneath them), accepts the node's static routes (service
//! addresses), on a route reflector accepts routes inside the LoadBalancer and
//! external IP ranges, accepts routes inside any other IP pool, and rejects
//! everything else. So a route learned from an external peer is not passed on
//! unless a `BGPFilter` accepts it. The import filter is the `BGPFilter` import
//! rules, then accept. [`Routing`] holds what those filters need; the
//! [`crate::Network`] turns it into one engine [`Policy`] per session end.
//!
//! Service addresses follow confd's route generator (`routes.go`): every node
//! advertises each `serviceClusterIPs` CIDR, each `serviceExternalIPs` and
//! `serviceLoadBalancerIPs` CIDR that is not a single address (LoadBalancer
//! ranges only while `serviceLoadBalancerAggregation` is on); a `Service`'s own
//! addresses (/32, /128) are advertised by a node when the service has a ready
//! endpoint on that node (`externalTrafficPolicy: Local`), by every node when
//! its address is a single-address entry of the ranges and the policy is
//! Cluster, and by every node with any ready endpoint when aggregation is off.
//! Nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers:
//! "true"` advertise no per-service address.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::policy::{
    CommunityEdit, CommunityMatch, Condition, LargeCommunityMatch, Modify, NextHop, PathToken,
    Policy, PrefixRange, Statement, Verdict,
};
use reflector_core::wire::{Ipv4Prefix, Ipv6Prefix, Prefix};
use serde::Serialize;

use crate::ipam::NodeBlocks;
use crate::plan::{Endpoint, Family, Plan, Session};
use crate::resources::{
    mask_cidr, BgpFilter, Cidr, Cluster, Community, FilterOperation, FilterRule, MatchOperator,
    PrefixAdvertisement,
};

/// LOCAL_PREF of a route of priority `p`: calico/node's `2147483647 - p`.
pub const PRIORITY_BASE: u32 = 2_147_483_647;

/// A route without LOCAL_PREF (BIRD's `!defined(bgp_local_pref)`).
fn no_local_pref() -> Condition {
    Condition::Not(Box::new(Condition::LocalPref(vec![(0, u32::MAX)])))
}

/// BIRD's `default bgp_local_pref`: the LOCAL_PREF of a route learned over eBGP.
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// Label that keeps a node from advertising per-service addresses.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// A pool as the export filter sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolExport {
    /// The pool's CIDR.
    pub cidr: Cidr<IpAddr>,
    /// `disableBGPExport`.
    pub disabled: bool,
}

/// What calico/node's filters need, per cluster and per node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Routing {
    /// Whether the filters apply (a plan built from Calico resources); off: every route passes.
    pub enabled: bool,
    /// Every IP pool (the default pools when none is written).
    pub pools: Vec<PoolExport>,
    /// `serviceLoadBalancerIPs` CIDRs (a reflector passes on routes inside them).
    pub load_balancer_ranges: Vec<Cidr<IpAddr>>,
    /// `serviceExternalIPs` CIDRs (a reflector passes on routes inside them).
    pub external_ranges: Vec<Cidr<IpAddr>>,
    /// Service routes each node originates (static routes), in plan node order.
    pub statics: Vec<Vec<Cidr<IpAddr>>>,
    /// The `prefixAdvertisements` each node applies (its own configuration, else the default's).
    pub prefix_advertisements: Vec<Vec<PrefixAdvertisement>>,
    /// The cluster's `BGPFilter`s by name.
    pub filters: BTreeMap<String, BgpFilter>,
}

/// A CIDR as an engine prefix.
pub fn prefix_of(c: &Cidr<IpAddr>) -> Option<Prefix> {
    match c.addr {
        IpAddr::V4(a) => Ipv4Prefix::new(a, c.len).map(Prefix::V4),
        IpAddr::V6(a) => Ipv6Prefix::new(a, c.len).map(Prefix::V6),
    }
}

fn host(a: IpAddr) -> Cidr<IpAddr> {
    Cidr {
        addr: a,
        len: if a.is_ipv4() { 32 } else { 128 },
    }
}

fn contains(c: &Cidr<IpAddr>, a: IpAddr) -> bool {
    let m = mask_cidr(*c);
    match (m.addr, a) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            mask_cidr(Cidr {
                addr: a,
                len: c.len,
            }) == m
        }
        _ => false,
    }
}

fn is_single(c: &Cidr<IpAddr>) -> bool {
    c.len == if c.addr.is_ipv4() { 32 } else { 128 }
}

impl Cluster {
    /// The service routes each node originates, in node (name) order.
    pub fn service_routes(&self) -> Vec<Vec<Cidr<IpAddr>>> {
        let cfg = &self.bgp_configuration;
        let aggregate = !cfg.load_balancer_aggregation_disabled;
        let mut global: Vec<Cidr<IpAddr>> = cfg.service_cluster_ips.clone();
        global.extend(
            cfg.service_external_ips
                .iter()
                .filter(|c| !is_single(c))
                .copied(),
        );
        if aggregate {
            global.extend(
                cfg.service_load_balancer_ips
                    .iter()
                    .filter(|c| !is_single(c))
                    .copied(),
            );
        }
        let single_lb = |a: IpAddr| {
            cfg.service_load_balancer_ips
                .iter()
                .any(|c| is_single(c) && contains(c, a))
        };
        let single_ext = |a: IpAddr| {
            cfg.service_external_ips
                .iter()
                .any(|c| is_single(c) && contains(c, a))
        };
        self.nodes
            .iter()
            .map(|node| {
                let mut out = global.clone();
                let excluded = node.labels.get(EXCLUDE_LABEL).map(String::as_str) == Some("true");
                for svc in &self.services {
                    if excluded
                        || !matches!(
                            svc.service_type.as_str(),
                            "ClusterIP" | "NodePort" | "LoadBalancer"
                        )
                        || svc.cluster_ips.is_empty()
                    {
                        continue;
                    }
                    let advertise = if !svc.local
                        && ((svc.service_type == "LoadBalancer"
                            && svc.load_balancer_ips.iter().any(|a| single_lb(*a)))
                            || svc.external_ips.iter().any(|a| single_ext(*a)))
                    {
                        true
                    } else if !svc.local && aggregate {
                        false
                    } else if svc.local {
                        svc.endpoint_nodes.contains(&node.name)
                    } else {
                        !svc.endpoint_nodes.is_empty()
                    };
                    if !advertise {
                        continue;
                    }
                    let mut add = |a: IpAddr| {
                        let c = host(a);
                        if !out.contains(&c) {
                            out.push(c);
                        }
                    };
                    if !cfg.service_cluster_ips.is_empty() {
                        svc.cluster_ips.iter().copied().for_each(&mut add);
                    }
                    svc.external_ips
                        .iter()
                        .copied()
                        .filter(|a| cfg.service_external_ips.iter().any(|c| contains(c, *a)))
                        .for_each(&mut add);
                    svc.load_balancer_ips
                        .iter()
                        .copied()
                        .filter(|a| {
                            cfg.service_load_balancer_ips
                                .iter()
                                .any(|c| contains(c, *a))
                        })
                        .for_each(&mut add);
                }
                out.sort();
                out.dedup();
                out
            })
            .collect()
    }

    /// What calico/node's BIRD filters need for this cluster.
    pub fn routing(&self) -> Routing {
        let mut pools: Vec<PoolExport> = self
            .ip_pools
            .iter()
            .map(|p| PoolExport {
                cidr: mask_cidr(p.cidr),
                disabled: p.disable_bgp_export,
            })
            .collect();
        if !pools.iter().any(|p| p.cidr.addr.is_ipv4()) {
            let d = crate::ipam::PoolConfig::default().ipv4_pool;
            pools.push(PoolExport {
                cidr: Cidr {
                    addr: IpAddr::V4(d.addr),
                    len: d.len,
                },
                disabled: false,
            });
        }
        let cfg = &self.bgp_configuration;
        Routing {
            enabled: true,
            pools,
            load_balancer_ranges: cfg.service_load_balancer_ips.clone(),
            external_ranges: cfg.service_external_ips.clone(),
            statics: self.service_routes(),
            prefix_advertisements: self
                .nodes
                .iter()
                .map(|n| {
                    self.node_configurations
                        .get(&n.name)
                        .and_then(|c| c.prefix_advertisements.clone())
                        .unwrap_or_else(|| cfg.prefix_advertisements.clone())
                })
                .collect(),
            filters: self
                .bgp_filters
                .iter()
                .map(|f| (f.name.clone(), f.clone()))
                .collect(),
        }
    }
}

fn range(c: &Cidr<IpAddr>) -> Option<PrefixRange> {
    prefix_of(c).map(PrefixRange::or_longer)
}

fn add_community(c: Community) -> Modify {
    match c {
        Community::Standard(v) => Modify::Communities(CommunityEdit::Add(vec![v])),
        Community::Large(v) => Modify::LargeCommunities(CommunityEdit::Add(vec![v])),
    }
}

/// One `BGPFilter` rule as a policy statement, or `None` when it can never
/// match in the simulation (an `interface` rule: no kernel interfaces, as for
/// BIRD's blackhole block routes; a `peerType` of the other kind).
///
/// A `priority` rule matches LOCAL_PREF `2147483647 - priority` when the
/// route has one, as confd's `defined(bgp_local_pref)&&(bgp_local_pref = ...)`.
fn rule_statement(
    name: &str,
    rule: &FilterRule,
    ibgp: bool,
    bgp_neighbors: &[IpAddr],
) -> Option<Statement> {
    if rule.interface.is_some() {
        return None;
    }
    if rule.ibgp_only.is_some_and(|i| i != ibgp) {
        return None;
    }
    let verdict = if rule.accept {
        Verdict::Accept
    } else {
        Verdict::Reject
    };
    let mut st = Statement::new(name, verdict);
    if let Some((cidr, op, lengths)) = &rule.cidr {
        let p = prefix_of(cidr)?;
        let r = match (op, lengths) {
            (_, Some((lo, hi))) => PrefixRange {
                prefix: p,
                min_len: *lo,
                max_len: *hi,
            },
            (MatchOperator::Equal | MatchOperator::NotEqual, None) => PrefixRange::exact(p),
            (MatchOperator::In | MatchOperator::NotIn, None) => PrefixRange::or_longer(p),
        };
        let c = Condition::Prefix(vec![r]);
        st = st.when(match op {
            MatchOperator::Equal | MatchOperator::In => c,
            MatchOperator::NotEqual | MatchOperator::NotIn => Condition::Not(Box::new(c)),
        });
    }
    if rule.remote_peers_only {
        st = st.when(Condition::Neighbor(bgp_neighbors.to_vec()));
    }
    if let Some(p) = rule.priority {
        let lp = PRIORITY_BASE.saturating_sub(p);
        st = st.when(Condition::LocalPref(vec![(lp, lp)]));
    }
    if let Some(c) = rule.community {
        st = st.when(match c {
            Community::Standard(v) => Condition::Community(vec![CommunityMatch {
                asn: Some((v >> 16) as u16),
                value: Some((v & 0xffff) as u16),
            }]),
            Community::Large([g, a, b]) => Condition::LargeCommunity(vec![LargeCommunityMatch {
                global: Some(g),
                data1: Some(a),
                data2: Some(b),
            }]),
        });
    }
    if !rule.as_path_prefix.is_empty() {
        let mut tokens: Vec<PathToken> = rule
            .as_path_prefix
            .iter()
            .map(|a| PathToken::Asn(*a))
            .collect();
        tokens.push(PathToken::Many);
        st = st.when(Condition::AsPath(reflector_core::policy::AsPathPattern(
            tokens,
        )));
    }
    for op in &rule.operations {
        st = match op {
            FilterOperation::AddCommunity(c) => st.then(add_community(*c)),
            FilterOperation::PrependAsPath(asns) => {
                // BIRD prepends the last first, so the path starts with the list as written.
                let mut s = st;
                for a in asns.iter().rev() {
                    s = s.then(Modify::Prepend {
                        asn: Some(*a),
                        count: 1,
                    });
                }
                s
            }
            FilterOperation::SetPriority(p) => {
                st.then(Modify::SetLocalPref(PRIORITY_BASE.saturating_sub(*p)))
            }
        };
    }
    Some(st)
}

fn family_rules(f: &BgpFilter, family: Family, export: bool) -> &[FilterRule] {
    match (family, export) {
        (Family::Ipv4, true) => &f.export_v4,
        (Family::Ipv4, false) => &f.import_v4,
        (Family::Ipv6, true) => &f.export_v6,
        (Family::Ipv6, false) => &f.import_v6,
    }
}

/// The addresses of a node's BGP neighbours (what `source: RemotePeers` matches on export).
fn neighbors(plan: &Plan, node: usize) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = plan
        .sessions_of(node)
        .map(|(_, them, _)| them.address)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn filter_statements(
    plan: &Plan,
    node: usize,
    s: &Session,
    export: bool,
    out: &mut Vec<Statement>,
) {
    let me = Endpoint::Node(node);
    // The node's neighbours (what a `source: RemotePeers` rule matches) cost a
    // pass over every session, so they are gathered only when a filter applies.
    let mut nbrs: Option<Vec<IpAddr>> = None;
    for name in s.filters_of(me) {
        let Some(f) = plan.routing.filters.get(name) else {
            continue;
        };
        for (i, r) in family_rules(f, s.family, export).iter().enumerate() {
            let label = format!("BGPFilter/{name}[{i}]");
            let nbrs = nbrs.get_or_insert_with(|| neighbors(plan, node));
            if let Some(st) = rule_statement(&label, r, s.ibgp, nbrs) {
                out.push(st);
            }
        }
    }
}

/// The export policy of `node` on session `s`, as calico/node's BIRD filter; `None` when routing is off.
pub fn export_policy(
    plan: &Plan,
    blocks: &[NodeBlocks],
    node: usize,
    s: &Session,
) -> Option<Policy> {
    let r = &plan.routing;
    if !r.enabled {
        return None;
    }
    let (mine, _) = s.view(Endpoint::Node(node))?;
    let mut st: Vec<Statement> = Vec::new();
    // confd's export filter starts with: a route without LOCAL_PREF (the
    // node's own) gets `bgp_local_pref = 2147483647 - krt_metric`, krt_metric
    // 1024 by default; a route learned over BGP keeps its own (over eBGP:
    // BIRD's default 100, see `import_policy`). Sent to iBGP peers only.
    st.push(
        Statement::new("bgp_local_pref from krt_metric", Verdict::Next)
            .when(no_local_pref())
            .then(Modify::SetLocalPref(
                PRIORITY_BASE - crate::bird::NORMAL_ROUTE_PRIORITY,
            )),
    );
    if mine.next_hop_self {
        st.push(
            Statement::new("next hop self", Verdict::Next).then(Modify::SetNextHop(NextHop::Local)),
        );
    }
    filter_statements(plan, node, s, true, &mut st);
    let disabled: Vec<PrefixRange> = r
        .pools
        .iter()
        .filter(|p| p.disabled)
        .filter_map(|p| range(&p.cidr))
        .collect();
    if !disabled.is_empty() {
        st.push(
            Statement::new("IP pool with disableBGPExport", Verdict::Reject)
                .when(Condition::Prefix(disabled)),
        );
    }
    for pa in r.prefix_advertisements.get(node).into_iter().flatten() {
        if let Some(pr) = range(&pa.cidr) {
            let mut x = Statement::new(format!("prefixAdvertisements {}", pa.cidr), Verdict::Next)
                .when(Condition::Prefix(vec![pr]));
            for c in &pa.communities {
                x = x.then(add_community(*c));
            }
            st.push(x);
        }
    }
    if let Some(nb) = blocks.get(node) {
        let own: Vec<Prefix> = nb
            .ipv4
            .iter()
            .filter_map(|b| Ipv4Prefix::new(b.addr, b.len).map(Prefix::V4))
            .chain(
                nb.ipv6
                    .iter()
                    .filter_map(|b| Ipv6Prefix::new(b.addr, b.len).map(Prefix::V6)),
            )
            .collect();
        if !own.is_empty() {
            st.push(
                Statement::new("own block", Verdict::Accept).when(Condition::Prefix(
                    own.iter().map(|p| PrefixRange::exact(*p)).collect(),
                )),
            );
            st.push(
                Statement::new("beneath own block", Verdict::Reject).when(Condition::Prefix(
                    own.iter().map(|p| PrefixRange::or_longer(*p)).collect(),
                )),
            );
        }
    }
    let statics: Vec<PrefixRange> = r
        .statics
        .get(node)
        .into_iter()
        .flatten()
        .filter_map(range)
        .collect();
    if !statics.is_empty() {
        st.push(Statement::new("static routes", Verdict::Accept).when(Condition::Prefix(statics)));
    }
    if plan.nodes.get(node).is_some_and(|n| n.cluster_id.is_some()) {
        let ranges: Vec<PrefixRange> = r
            .load_balancer_ranges
            .iter()
            .chain(&r.external_ranges)
            .filter_map(range)
            .collect();
        if !ranges.is_empty() {
            st.push(
                Statement::new("reflector: service ranges", Verdict::Accept)
                    .when(Condition::Prefix(ranges)),
            );
        }
    }
    let enabled: Vec<PrefixRange> = r
        .pools
        .iter()
        .filter(|p| !p.disabled)
        .filter_map(|p| range(&p.cidr))
        .collect();
    if !enabled.is_empty() {
        st.push(Statement::new("IP pools", Verdict::Accept).when(Condition::Prefix(enabled)));
    }
    let mut p = Policy::new("calico_export_to_bgp_peers", Verdict::Reject);
    for x in st {
        p.push(x);
    }
    Some(p)
}

/// The import policy of `node` on session `s`: its `BGPFilter` import rules, then accept.
pub fn import_policy(plan: &Plan, node: usize, s: &Session) -> Option<Policy> {
    if !plan.routing.enabled {
        return None;
    }
    let mut st = Vec::new();
    if !s.ibgp {
        // BIRD gives a route learned over eBGP its `default bgp_local_pref`
        // (100) on import, before the import filter runs.
        st.push(
            Statement::new("default bgp_local_pref", Verdict::Next)
                .when(no_local_pref())
                .then(Modify::SetLocalPref(DEFAULT_LOCAL_PREF)),
        );
    }
    filter_statements(plan, node, s, false, &mut st);
    if st.is_empty() {
        return None;
    }
    let mut p = Policy::new("calico_import", Verdict::Accept);
    for x in st {
        p.push(x);
    }
    Some(p)
}

/// The address a node originates a route with: its address in the route's family, else the other.
pub fn next_hop_for(v4: Option<Ipv4Addr>, v6: Option<Ipv6Addr>, prefix: &Prefix) -> Option<IpAddr> {
    match prefix {
        Prefix::V4(_) => v4.map(IpAddr::V4).or(v6.map(IpAddr::V6)),
        _ => v6.map(IpAddr::V6).or(v4.map(IpAddr::V4)),
    }
}
