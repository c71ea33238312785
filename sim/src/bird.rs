//! calico/node's BIRD configuration for a node, rendered from a [`Plan`] in BIRD 2 syntax.
//!
//! calico/node's confd fills `bird.cfg.template`, `bird_aggr.cfg.template`
//! and `bird_ipam.cfg.template` (`node/filesystem/etc/calico/confd/templates`)
//! with what `confd/pkg/backends/calico/bgp_processor.go` computes. This
//! module renders the same text for one node, from the same plan the
//! simulator runs, so that `reflector simulate --with-bird` can run a real
//! BIRD per node and compare its routes with the simulator's.
//!
//! Where the output deviates from confd's (each is needed for BIRD 2, which
//! Debian's `bird2` is, or for running on loopback):
//!
//! - the three files are one text (no `include`);
//! - BIRD 2 puts `import`, `export`, `add paths`, `gateway` and `next hop
//!   self` in the `ipv4 { ... }` channel of a `bgp` protocol, and a `static`
//!   protocol needs `ipv4;`;
//! - no `kernel`, `device` or `direct` protocol and no
//!   `calico_kernel_programming` filter: the cross-check must not touch the
//!   host's routing table, and the simulator has no interfaces;
//! - `graceful restart time` is written on every session (the plan records
//!   BIRD's default 120 s where confd writes nothing);
//! - a session configured by several sources (mesh and a `BGPPeer`) is one
//!   protocol named after its most specific peer type (`Mesh_`, `Node_`,
//!   `Global_`), where confd would write one protocol per source;
//! - `BGPFilter` function names are not truncated and hashed beyond 45
//!   characters;
//! - IPv6 is rendered as calico/node's separate `bird6` configuration
//!   (`bird6.cfg`, `bird6_aggr.cfg`, `bird6_ipam.cfg`), for a second daemon,
//!   with the same structure as the IPv4 one and the IPv6 pools, blocks,
//!   routes, `BGPFilter` rules (`importV6`/`exportV6`) and sessions; its
//!   router ID is the node's IPv4 address, or for an IPv6-only node the one
//!   the simulator gives it (where confd needs `CALICO_ROUTER_ID`);
//! - with a [`Transport`], addresses are replaced by loopback ones: each
//!   session binds `local <address> port <port>` with `strict bind`, and
//!   peers outside the cluster are `disabled`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ipam::NodeBlocks;
use crate::plan::{Endpoint, Family, PeerRole, PeerType, Plan};
use crate::resources::{BgpFilter, Community, FilterOperation, FilterRule, MatchOperator};
use crate::routes::PRIORITY_BASE;

/// calico/node's default `ipv4NormalRoutePriority`.
pub const NORMAL_ROUTE_PRIORITY: u32 = 1024;

/// calico/node's `birdOverridePreference`.
const OVERRIDE_PREFERENCE: u32 = 200;

/// Where the rendered BIRDs listen when they run on one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// Each node's and external peer's address, mapped to its loopback address
    /// (IPv4: on the host's 127/8; IPv6: in a network namespace of the check's own).
    pub addresses: BTreeMap<IpAddr, IpAddr>,
    /// The BGP port every daemon listens on and connects to.
    pub port: u16,
}

impl Transport {
    fn map(&self, a: IpAddr) -> IpAddr {
        self.addresses.get(&a).copied().unwrap_or(a)
    }
}

fn community_tuple(c: Community) -> (String, &'static str) {
    match c {
        Community::Standard(v) => (format!("({}, {})", v >> 16, v & 0xffff), "bgp_community"),
        Community::Large([g, a, b]) => (format!("({g}, {a}, {b})"), "bgp_large_community"),
    }
}

/// One `BGPFilter` rule as confd's `filterStatement` writes it.
fn rule_text(rule: &FilterRule) -> String {
    let mut cond: Vec<String> = Vec::new();
    if let Some((cidr, op, lengths)) = &rule.cidr {
        let op = match op {
            MatchOperator::Equal => "=",
            MatchOperator::NotEqual => "!=",
            MatchOperator::In => "~",
            MatchOperator::NotIn => "!~",
        };
        let target = match lengths {
            Some((lo, hi)) => format!("[ {cidr}{{{lo},{hi}}} ]"),
            None => cidr.to_string(),
        };
        cond.push(format!("(net {op} {target})"));
    }
    if rule.remote_peers_only {
        cond.push("((defined(source))&&(source ~ [ RTS_BGP ]))".to_string());
    }
    if let Some(i) = &rule.interface {
        cond.push(format!("((defined(ifname))&&(ifname ~ \"{i}\"))"));
    }
    if let Some(c) = rule.community {
        let (t, attr) = community_tuple(c);
        cond.push(format!("({t} ~ {attr})"));
    }
    if !rule.as_path_prefix.is_empty() {
        let asns: Vec<String> = rule.as_path_prefix.iter().map(u32::to_string).collect();
        cond.push(format!("(bgp_path ~ [= {} * =])", asns.join(" ")));
    }
    if let Some(p) = rule.priority {
        cond.push(format!(
            "(defined(bgp_local_pref)&&(bgp_local_pref = {}))",
            PRIORITY_BASE.saturating_sub(p)
        ));
    }
    let mut body: Vec<String> = Vec::new();
    for op in &rule.operations {
        match op {
            FilterOperation::AddCommunity(c) => {
                let (t, attr) = community_tuple(*c);
                body.push(format!("{attr}.add({t});"));
            }
            FilterOperation::PrependAsPath(asns) => {
                for a in asns.iter().rev() {
                    body.push(format!("bgp_path.prepend({a});"));
                }
            }
            FilterOperation::SetPriority(p) => {
                body.push(format!(
                    "bgp_local_pref = {};",
                    PRIORITY_BASE.saturating_sub(*p)
                ));
            }
        }
    }
    body.push(if rule.accept { "accept;" } else { "reject;" }.to_string());
    let body = body.join(" ");
    let text = if cond.is_empty() {
        body
    } else {
        format!("if ({}) then {{ {body} }}", cond.join("&&"))
    };
    match rule.ibgp_only {
        Some(true) => format!("if (is_same_as) then {{ {text} }}"),
        Some(false) => format!("if (!is_same_as) then {{ {text} }}"),
        None => text,
    }
}

/// The digit confd writes in names and comments of a family's filters: `4` or `6`.
fn version(family: Family) -> u8 {
    match family {
        Family::Ipv4 => 4,
        Family::Ipv6 => 6,
    }
}

fn function_name(filter: &str, direction: &str, family: Family) -> String {
    format!("'bgp_{filter}_{direction}FilterV{}'", version(family))
}

/// A filter's rules for one direction (`import` or `export`) and family.
fn rules_of<'a>(f: &'a BgpFilter, dir: &str, family: Family) -> &'a [FilterRule] {
    match (dir, family) {
        ("import", Family::Ipv4) => &f.import_v4,
        ("import", Family::Ipv6) => &f.import_v6,
        (_, Family::Ipv4) => &f.export_v4,
        (_, Family::Ipv6) => &f.export_v6,
    }
}

/// confd's `bgpFilterBIRDFuncs` for one family: one function per filter and direction with rules.
fn filter_functions(filters: &BTreeMap<String, BgpFilter>, family: Family, out: &mut String) {
    let mut any = false;
    let v = version(family);
    for (name, f) in filters {
        let dirs = [
            ("import", rules_of(f, "import", family)),
            ("export", rules_of(f, "export", family)),
        ];
        if dirs.iter().all(|(_, r)| r.is_empty()) {
            continue;
        }
        any = true;
        let _ = writeln!(out, "# v{v} BGPFilter {name}");
        for (dir, rules) in dirs {
            if rules.is_empty() {
                continue;
            }
            let args = if rules.iter().any(|r| r.ibgp_only.is_some()) {
                "bool is_same_as"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "function {}({args}) {{",
                function_name(name, dir, family)
            );
            for r in rules.iter() {
                let _ = writeln!(out, "  {}", rule_text(r));
            }
            out.push_str("}\n");
        }
    }
    if !any {
        let _ = writeln!(out, "# No v{v} BGPFilters configured");
    }
}

/// The calls of a session's `BGPFilter` functions in one direction, as confd's `buildImportFilter`/`buildExportFilter`.
fn filter_calls(
    filters: &BTreeMap<String, BgpFilter>,
    names: &[String],
    dir: &str,
    same_as: bool,
    family: Family,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let Some(f) = filters.get(name) else {
            continue;
        };
        let rules = rules_of(f, dir, family);
        if rules.is_empty() {
            continue;
        }
        if rules.iter().any(|r| r.ibgp_only.is_some()) {
            out.push(format!("{}({same_as});", function_name(name, dir, family)));
        } else {
            out.push(format!("{}();", function_name(name, dir, family)));
        }
    }
    out
}

fn name_of(prefix: &str, ip: IpAddr) -> String {
    let s = ip.to_string().replace(['.', ':'], "_");
    format!("{prefix}_{s}")
}

/// calico/node's IPv4 BIRD configuration of plan node `node` (BIRD 2 syntax), or `None` for no such node.
///
/// With a [`Transport`], addresses are the loopback ones it maps to and the
/// daemon binds them on its port (see the module documentation).
pub fn render_ipv4(
    plan: &Plan,
    blocks: &[NodeBlocks],
    node: usize,
    transport: Option<&Transport>,
) -> Option<String> {
    render(plan, blocks, node, transport, Family::Ipv4)
}

/// calico/node's IPv6 (`bird6`) configuration of plan node `node` (BIRD 2 syntax), or `None` for no such node.
///
/// The same as [`render_ipv4`] for IPv6 pools, blocks, routes, filters and
/// sessions, for a second daemon as calico/node runs one.
pub fn render_ipv6(
    plan: &Plan,
    blocks: &[NodeBlocks],
    node: usize,
    transport: Option<&Transport>,
) -> Option<String> {
    render(plan, blocks, node, transport, Family::Ipv6)
}

fn render(
    plan: &Plan,
    blocks: &[NodeBlocks],
    node: usize,
    transport: Option<&Transport>,
    family: Family,
) -> Option<String> {
    let me = plan.nodes.get(node)?;
    let r = &plan.routing;
    let map = |a: IpAddr| transport.map_or(a, |t| t.map(a));
    let is_v4 = family == Family::Ipv4;
    let of_family = |a: IpAddr| a.is_ipv4() == is_v4;
    let v4 = |c: &&crate::resources::Cidr<IpAddr>| of_family(c.addr);
    let (channel, files, host_len) = if is_v4 {
        ("ipv4", "bird.cfg, bird_aggr.cfg, bird_ipam.cfg", "/32")
    } else {
        ("ipv6", "bird6.cfg, bird6_aggr.cfg, bird6_ipam.cfg", "/128")
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# calico/node's BIRD configuration for node {} ({files}),\n# rendered by Reflector in BIRD 2 syntax.",
        me.name
    );

    // bird.cfg: communities.
    o.push_str("\nfunction apply_communities ()\n{\n");
    for pa in r.prefix_advertisements.get(node).into_iter().flatten() {
        if !of_family(pa.cidr.addr) || pa.communities.is_empty() {
            continue;
        }
        let _ = writeln!(o, "      if ( net ~ {} ) then {{", pa.cidr);
        for c in &pa.communities {
            let (t, attr) = community_tuple(*c);
            let _ = writeln!(o, "          {attr}.add({t});");
        }
        o.push_str("      }\n");
    }
    o.push_str("}\n");

    // bird_aggr.cfg: the node's blocks and static routes.
    let _ = writeln!(o, "\n# bird{}_aggr.cfg", if is_v4 { "" } else { "6" });
    let my_blocks: Vec<String> = blocks
        .get(node)
        .map(|b| {
            if is_v4 {
                b.ipv4.iter().map(ToString::to_string).collect()
            } else {
                b.ipv6.iter().map(ToString::to_string).collect()
            }
        })
        .unwrap_or_default();
    let mut statics: Vec<String> = r
        .statics
        .get(node)
        .into_iter()
        .flatten()
        .filter(v4)
        .map(ToString::to_string)
        .collect();
    // confd lists `/staticroutes` keys (`10.96.0.0-12`) in key order.
    statics.sort_by_key(|s| s.replace('/', "-"));
    statics.dedup();
    let added = !my_blocks.is_empty() || !statics.is_empty();
    let _ = writeln!(o, "template static static_template {{\n  {channel};");
    if !my_blocks.is_empty() {
        o.push_str("   # IP blocks for this host.\n");
        for b in my_blocks.iter().filter(|b| !b.ends_with(host_len)) {
            let _ = writeln!(o, "   route {b} blackhole;");
        }
    }
    if !statics.is_empty() {
        o.push_str("   # Static routes.\n");
        for s in &statics {
            let _ = writeln!(o, "   route {s} blackhole;");
        }
    }
    if !added {
        o.push_str("   # No IP blocks or static routes for this host.\n");
    }
    o.push_str("}\n\n");
    if added {
        o.push_str("protocol static from static_template {\n}\n\n");
    }
    o.push_str(
        "# Aggregation of routes on this host; export the block, nothing beneath it.\nfunction calico_aggr ()\n{\n",
    );
    for b in &my_blocks {
        let _ = writeln!(o, "      # Block {b} is confirmed");
        let _ = writeln!(o, "      if ( net = {b} ) then {{ accept; }}");
        if is_v4 {
            let _ = writeln!(
                o,
                "      if ( net ~ {b} && krt_metric < {NORMAL_ROUTE_PRIORITY} ) then {{ accept; }}"
            );
        }
        let _ = writeln!(o, "      if ( net ~ {b} ) then {{ reject; }}");
    }
    o.push_str("}\n");

    // bird_ipam.cfg: the export filter.
    let _ = writeln!(o, "\n# bird{}_ipam.cfg", if is_v4 { "" } else { "6" });
    o.push_str(
        "function reject_local_routes () {\n  # Don't export local routes learned via BPF as they should never leave the node.\n  if (defined(ifname)) then {\n     if (ifname ~ \"bpf*.cali\") then {\n        reject;\n     }\n  }\n}\n\n",
    );
    o.push_str("function calico_export_to_bgp_peers(bool internal_peer) {\n  # filter code terminates when it calls `accept;` or `reject;`,\n");
    for p in r
        .pools
        .iter()
        .filter(|p| p.disabled && of_family(p.cidr.addr))
    {
        let _ = writeln!(
            o,
            "  if (net ~ {}) then {{ reject; }} # BGP export is disabled.",
            p.cidr
        );
    }
    o.push_str("  if (internal_peer) then {\n    if (defined(ifname)) then {\n      if ((ifname ~ \"*.cali\") || (ifname ~ \"*.calico\") || (ifname ~ \"tunl0\")) then {\n        reject;\n      }\n    }\n  }\n");
    o.push_str("  reject_local_routes();\n  apply_communities();\n  calico_aggr();\n");
    if !statics.is_empty() {
        o.push_str("\n  # Export static routes.\n");
        for s in &statics {
            let _ = writeln!(o, "  if ( net ~ {s} ) then {{ accept; }}");
        }
    }
    if me.cluster_id.is_some() {
        for (ranges, what) in [
            (&r.load_balancer_ranges, "LB service IP ranges"),
            (&r.external_ranges, "external service IP ranges"),
        ] {
            let v: Vec<_> = ranges.iter().filter(v4).collect();
            if !v.is_empty() {
                let _ = writeln!(
                    o,
                    "\n  # Configured as a RR - accept any routes within configured {what}"
                );
                for c in v {
                    let _ = writeln!(o, "  if ( net ~ {c} ) then {{ accept; }}");
                }
            }
        }
    }
    for p in r
        .pools
        .iter()
        .filter(|p| !p.disabled && of_family(p.cidr.addr))
    {
        let _ = writeln!(o, "  if (net ~ {}) then {{ accept; }}", p.cidr);
    }
    o.push_str("}\n");
    o.push_str("\n# No kernel, device or direct protocol and no calico_kernel_programming filter:\n# this configuration never touches the host's routing table.\n");

    // bird.cfg: router ID, template, filters, peers.
    let Some(my_ip) = me.address(family) else {
        let _ = writeln!(o, "\n# IPv{} disabled on this node.", version(family));
        return Some(o);
    };
    let router_id = plan.router_id(node);
    let _ = writeln!(o, "\nrouter id {router_id};");
    let local = map(my_ip);
    o.push_str("\n# Template for all BGP clients\ntemplate bgp bgp_template {\n  description \"Connection to BGP peer\";\n");
    let _ = writeln!(o, "  local as {};", me.as_number);
    if let Some(t) = transport {
        let _ = writeln!(o, "  local {local} port {} as {};", t.port, me.as_number);
        o.push_str("  strict bind on;\n");
    }
    let _ = writeln!(o, "  {channel} {{\n    gateway recursive; # This should be the default, but just in case.\n    add paths on;\n  }};");
    o.push_str("  graceful restart;  # See comment in kernel section about graceful restart.\n  connect delay time 2;\n  connect retry time 5;\n  error wait time 5,30;\n}\n");

    o.push_str("\n# -------------- BGP Filters ------------------\n");
    filter_functions(&r.filters, family, &mut o);

    let mut peers: Vec<(String, String)> = Vec::new();
    for (mine, them, s) in plan.sessions_of(node) {
        if s.family != family || !mine.configured {
            continue;
        }
        let external = matches!(them.endpoint, Endpoint::External(_));
        let prefix = match mine.peer_type {
            PeerType::NodeToNodeMesh => "Mesh",
            PeerType::NodeSpecific => "Node",
            PeerType::Global => "Global",
            PeerType::LocalWorkload => "Local_Workload",
        };
        let workload = mine.peer_type == PeerType::LocalWorkload;
        let name = name_of(prefix, them.address);
        let same_as = mine.as_number == them.as_number;
        let names = s.filters_of(Endpoint::Node(node));
        let mut p = String::new();
        let _ = writeln!(p, "protocol bgp {name} from bgp_template {{");
        if external && transport.is_some() {
            p.push_str("  disabled;  # a peer outside the cluster: nothing runs there\n");
        }
        match transport {
            Some(t) => {
                let _ = writeln!(
                    p,
                    "  neighbor {} port {} as {};",
                    map(them.address),
                    t.port,
                    them.as_number
                );
            }
            None => {
                let _ = writeln!(p, "  neighbor {} as {};", them.address, them.as_number);
            }
        }
        // confd gives workload peers no source address (`sourceAddress: None`).
        if !workload {
            let _ = writeln!(
                p,
                "  source address {local};  # The local address we use for the TCP connection"
            );
        }
        if let Some(a) = mine.local_as {
            let _ = writeln!(p, "  local as {a};");
        }
        let _ = writeln!(
            p,
            "  ttl security off;\n  multihop;\n  {channel} {{\n    import filter {{"
        );
        for l in filter_calls(&r.filters, names, "import", same_as, family) {
            let _ = writeln!(p, "      {l}");
        }
        let _ = writeln!(
            p,
            "      if (defined(bgp_local_pref)&&(bgp_local_pref > {})) then\n        preference = {OVERRIDE_PREFERENCE};\n      accept;\n    }};",
            PRIORITY_BASE - NORMAL_ROUTE_PRIORITY
        );
        p.push_str("    export filter {\n      if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {\n");
        let _ = writeln!(
            p,
            "        krt_metric = {PRIORITY_BASE} - bgp_local_pref;\n      }} else {{\n        if (!defined(krt_metric)) then {{ krt_metric = {NORMAL_ROUTE_PRIORITY}; }}\n        bgp_local_pref = {PRIORITY_BASE} - krt_metric;\n      }}"
        );
        for l in filter_calls(&r.filters, names, "export", same_as, family) {
            let _ = writeln!(p, "      {l}");
        }
        let _ = writeln!(
            p,
            "      calico_export_to_bgp_peers({same_as});\n      reject;\n    }};  # Only want to export routes for workloads."
        );
        if mine.next_hop_self {
            p.push_str("    next hop self;\n");
        }
        if mine.next_hop_keep {
            p.push_str("    next hop keep;\n");
        }
        p.push_str("  };\n");
        if mine.passive {
            p.push_str("  passive on;\n");
        }

        let _ = writeln!(p, "  graceful restart time {};", mine.restart_time);
        if mine.role == PeerRole::Client {
            if let Some(cid) = me.cluster_id {
                let _ = writeln!(p, "  rr client;\n  rr cluster id {cid};");
            }
        }
        if mine.allow_local_as > 0 {
            let _ = writeln!(p, "  allow local as {};", mine.allow_local_as);
        }
        p.push_str("}\n");
        peers.push((name, p));
    }
    // confd sorts the peers by name.
    peers.sort();
    if peers.is_empty() {
        o.push_str("# No BGP peers configured for this node\n");
    } else {
        o.push_str("# BGP Protocol Configurations\n");
        for (_, p) in peers {
            o.push_str(&p);
        }
    }
    Some(o)
}

/// The loopback address of the `i`-th daemon: 127.1.0.1, 127.1.0.2, ... (250 per third octet).
pub fn loopback_address(base: u8, i: usize) -> Ipv4Addr {
    let third = u8::try_from(i / 250).unwrap_or(u8::MAX);
    let fourth = u8::try_from(i % 250 + 1).unwrap_or(1);
    Ipv4Addr::new(127, base, third, fourth)
}

/// The IPv6 address of the `i`-th daemon in the check's namespace: `fd52:464c::<base>:<i + 1>`.
pub fn namespace_address_v6(base: u16, i: usize) -> Ipv6Addr {
    let i = u32::try_from(i).unwrap_or(u32::MAX - 1) + 1;
    Ipv6Addr::new(0xfd52, 0x464c, 0, 0, 0, base, (i >> 16) as u16, i as u16)
}

/// A [`Transport`] for a plan: the `k`-th node address at `127.1.x.y` or `fd52:464c::1:<k + 1>`, external peers at `127.254.x.y` and `fd52:464c::fe:<j + 1>`, all on `port`.
///
/// Node addresses are numbered in address order, per family, so that the
/// loopback addresses compare as the nodes' own do (the last tie-break of the
/// decision process, RFC 4271 §9.1.2.2 g, picks the same peer).
pub fn loopback_transport(plan: &Plan, port: u16) -> Transport {
    let mut addresses = BTreeMap::new();
    // A BTreeSet walks each family's addresses in order.
    let v4: std::collections::BTreeSet<Ipv4Addr> =
        plan.nodes.iter().filter_map(|n| n.ipv4).collect();
    let v6: std::collections::BTreeSet<Ipv6Addr> =
        plan.nodes.iter().filter_map(|n| n.ipv6).collect();
    for (k, a) in v4.into_iter().enumerate() {
        addresses.insert(IpAddr::V4(a), IpAddr::V4(loopback_address(1, k)));
    }
    for (k, a) in v6.into_iter().enumerate() {
        addresses.insert(IpAddr::V6(a), IpAddr::V6(namespace_address_v6(1, k)));
    }
    for (j, x) in plan.externals.iter().enumerate() {
        let lo = match x.address {
            IpAddr::V4(_) => IpAddr::V4(loopback_address(254, j)),
            IpAddr::V6(_) => IpAddr::V6(namespace_address_v6(0xfe, j)),
        };
        addresses.entry(x.address).or_insert(lo);
    }
    Transport { addresses, port }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cluster;

    /// Two ordinary nodes in the mesh, a reflector they peer with through a
    /// `BGPPeer` with a `BGPFilter`, and a global peer outside the cluster.
    const CLUSTER: &str = r#"
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  asNumber: 64512
  serviceClusterIPs: [{cidr: 10.96.0.0/12}]
  serviceLoadBalancerIPs: [{cidr: 172.16.0.0/24}]
  prefixAdvertisements:
  - cidr: 192.168.0.0/16
    communities: ["64512:100"]
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pods}
spec: {cidr: 192.168.0.0/16, blockSize: 26}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: quiet}
spec: {cidr: 10.50.0.0/16, blockSize: 24, disableBGPExport: true}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: a}
spec: {bgp: {ipv4Address: 10.0.0.1/24}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: b}
spec: {bgp: {ipv4Address: 10.0.0.2/24}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: r, labels: {rr: "true"}}
spec: {bgp: {ipv4Address: 10.0.0.3/24, routeReflectorClusterID: 224.0.0.1}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rr}
spec:
  nodeSelector: "!has(rr)"
  peerSelector: has(rr)
  filters: [f]
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: 192.0.2.1, asNumber: 65001}
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: f}
spec:
  exportV4:
  - {cidr: 192.168.0.0/16, prefixLength: {min: 26}, matchOperator: In, action: Accept, operations: [{addCommunity: {value: "64512:42"}}]}
  importV4:
  - {cidr: 172.16.0.0/24, matchOperator: NotIn, peerType: iBGP, action: Reject}
"#;

    fn render(node: &str) -> String {
        let c = Cluster::from_texts([("cluster.yaml", CLUSTER)]).expect("cluster");
        let plan = c.plan();
        let blocks = c.pod_blocks().expect("blocks");
        let i = plan.node_index(node).expect("node");
        render_ipv4(&plan, &blocks, i, None).expect("rendered")
    }

    /// The text between `start` and the next line that is exactly `}`.
    fn block<'a>(text: &'a str, start: &str) -> &'a str {
        let i = text
            .find(start)
            .unwrap_or_else(|| panic!("{start} in\n{text}"));
        let rest = &text[i..];
        let j = rest.find("\n}\n").map_or(rest.len(), |j| j + 3);
        &rest[..j]
    }

    // What confd's bird.cfg.template writes for the reflector's client
    // session, with BIRD 2's channel around import, export (and, in the
    // template, add paths and gateway): `Node_` (the BGPPeer has a
    // nodeSelector), the BGPFilter calls (the import one takes
    // `is_same_as`: its rule has a peerType), `rr client` and `rr cluster id`.
    const REFLECTOR_TO_CLIENT: &str = r#"protocol bgp Node_10_0_0_1 from bgp_template {
  neighbor 10.0.0.1 as 64512;
  source address 10.0.0.3;  # The local address we use for the TCP connection
  ttl security off;
  multihop;
  ipv4 {
    import filter {
      'bgp_f_importFilterV4'(true);
      if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then
        preference = 200;
      accept;
    };
    export filter {
      if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {
        krt_metric = 2147483647 - bgp_local_pref;
      } else {
        if (!defined(krt_metric)) then { krt_metric = 1024; }
        bgp_local_pref = 2147483647 - krt_metric;
      }
      'bgp_f_exportFilterV4'();
      calico_export_to_bgp_peers(true);
      reject;
    };  # Only want to export routes for workloads.
  };
  graceful restart time 120;
  rr client;
  rr cluster id 224.0.0.1;
}
"#;

    // A mesh session from the end whose peer's address is higher: passive.
    const MESH_PASSIVE: &str = r#"protocol bgp Mesh_10_0_0_2 from bgp_template {
  neighbor 10.0.0.2 as 64512;
  source address 10.0.0.1;  # The local address we use for the TCP connection
  ttl security off;
  multihop;
  ipv4 {
    import filter {
      if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then
        preference = 200;
      accept;
    };
    export filter {
      if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {
        krt_metric = 2147483647 - bgp_local_pref;
      } else {
        if (!defined(krt_metric)) then { krt_metric = 1024; }
        bgp_local_pref = 2147483647 - krt_metric;
      }
      calico_export_to_bgp_peers(true);
      reject;
    };  # Only want to export routes for workloads.
  };
  passive on;
  graceful restart time 120;
}
"#;

    // bird_ipam.cfg.template's export function for the reflector: the
    // disabled pool first, the tunnel rules, the node's static (service)
    // routes, the reflector's LoadBalancer range, then the enabled pool.
    const EXPORT_FUNCTION: &str = r#"function calico_export_to_bgp_peers(bool internal_peer) {
  # filter code terminates when it calls `accept;` or `reject;`,
  if (net ~ 10.50.0.0/16) then { reject; } # BGP export is disabled.
  if (internal_peer) then {
    if (defined(ifname)) then {
      if ((ifname ~ "*.cali") || (ifname ~ "*.calico") || (ifname ~ "tunl0")) then {
        reject;
      }
    }
  }
  reject_local_routes();
  apply_communities();
  calico_aggr();

  # Export static routes.
  if ( net ~ 10.96.0.0/12 ) then { accept; }
  if ( net ~ 172.16.0.0/24 ) then { accept; }

  # Configured as a RR - accept any routes within configured LB service IP ranges
  if ( net ~ 172.16.0.0/24 ) then { accept; }
  if (net ~ 192.168.0.0/16) then { accept; }
}
"#;

    // confd's bgpFilterBIRDFuncs: one function per direction.
    const FILTER_FUNCTIONS: &str = r#"# v4 BGPFilter f
function 'bgp_f_importFilterV4'(bool is_same_as) {
  if (is_same_as) then { if ((net !~ 172.16.0.0/24)) then { reject; } }
}
function 'bgp_f_exportFilterV4'() {
  if ((net ~ [ 192.168.0.0/16{26,32} ])) then { bgp_community.add((64512, 42)); accept; }
}
"#;

    #[test]
    fn reflector_renders_as_confd() {
        let r = render("r");
        assert_eq!(
            block(&r, "protocol bgp Node_10_0_0_1 "),
            REFLECTOR_TO_CLIENT
        );
        assert_eq!(
            block(&r, "function calico_export_to_bgp_peers"),
            EXPORT_FUNCTION
        );
        assert!(r.contains(FILTER_FUNCTIONS), "{r}");
        assert!(r.contains("router id 10.0.0.3;\n"), "{r}");
        assert!(r.contains("   route 192.168.0.128/26 blackhole;\n"), "{r}");
        assert!(r.contains(
            "      if ( net = 192.168.0.128/26 ) then { accept; }\n      if ( net ~ 192.168.0.128/26 && krt_metric < 1024 ) then { accept; }\n      if ( net ~ 192.168.0.128/26 ) then { reject; }\n"
        ));
        assert!(r.contains("      if ( net ~ 192.168.0.0/16 ) then {\n          bgp_community.add((64512, 100));\n      }\n"));
        // A reflector takes no mesh session; the global peer is eBGP: no rr client there.
        assert!(!r.contains("Mesh_"), "{r}");
        let tor = block(&r, "protocol bgp Global_192_0_2_1 ");
        assert!(tor.contains("  neighbor 192.0.2.1 as 65001;\n"), "{tor}");
        assert!(tor.contains("calico_export_to_bgp_peers(false);"), "{tor}");
        assert!(!tor.contains("rr client"), "{tor}");
        // Peers sorted by name, as confd sorts them.
        let g = r.find("protocol bgp Global_").unwrap_or(usize::MAX);
        let n = r.find("protocol bgp Node_").unwrap_or(0);
        assert!(g < n, "{r}");
    }

    #[test]
    fn client_renders_as_confd() {
        let a = render("a");
        assert_eq!(block(&a, "protocol bgp Mesh_10_0_0_2 "), MESH_PASSIVE);
        let to_rr = block(&a, "protocol bgp Node_10_0_0_3 ");
        assert!(!to_rr.contains("passive"), "{to_rr}");
        assert!(!to_rr.contains("rr client"), "{to_rr}");
        assert!(to_rr.contains("'bgp_f_exportFilterV4'();"), "{to_rr}");
        // Not a reflector: no LoadBalancer range accepted beyond its own static routes.
        assert!(!a.contains("Configured as a RR"), "{a}");
        // b, whose mesh peer's address is lower, connects.
        let b = render("b");
        assert!(!block(&b, "protocol bgp Mesh_10_0_0_1 ").contains("passive"));
    }

    #[test]
    fn loopback_transport_binds_and_disables_outsiders() {
        let c = Cluster::from_texts([("cluster.yaml", CLUSTER)]).expect("cluster");
        let plan = c.plan();
        let blocks = c.pod_blocks().expect("blocks");
        let t = loopback_transport(&plan, 1179);
        let r = render_ipv4(&plan, &blocks, 2, Some(&t)).expect("rendered");
        assert!(
            r.contains("  local 127.1.0.3 port 1179 as 64512;\n  strict bind on;\n"),
            "{r}"
        );
        assert!(
            r.contains("  neighbor 127.1.0.1 port 1179 as 64512;\n"),
            "{r}"
        );
        assert!(r.contains("  source address 127.1.0.3;"), "{r}");
        // Names and router ID keep the node's own addresses.
        assert!(r.contains("protocol bgp Node_10_0_0_1 "), "{r}");
        assert!(r.contains("router id 10.0.0.3;"), "{r}");
        let tor = block(&r, "protocol bgp Global_192_0_2_1 ");
        assert!(tor.contains("  disabled;"), "{tor}");
        assert!(
            tor.contains("  neighbor 127.254.0.1 port 1179 as 65001;"),
            "{tor}"
        );
    }

    #[test]
    fn bird_parses_every_node_when_installed() {
        let Some(bird) = ["/usr/sbin/bird", "/usr/bin/bird", "/sbin/bird"]
            .into_iter()
            .map(std::path::Path::new)
            .find(|p| p.is_file())
        else {
            eprintln!("skipping: bird (bird2) is not installed");
            return;
        };
        let dir = std::env::temp_dir().join(format!("reflector-bird-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        for cluster in [CLUSTER, DUAL] {
            let c = Cluster::from_texts([("cluster.yaml", cluster)]).expect("cluster");
            let plan = c.plan();
            let blocks = c.pod_blocks().expect("blocks");
            let t = loopback_transport(&plan, 1179);
            for i in 0..plan.nodes.len() {
                for (tr, render) in [
                    (
                        None,
                        render_ipv4
                            as fn(
                                &Plan,
                                &[NodeBlocks],
                                usize,
                                Option<&Transport>,
                            ) -> Option<String>,
                    ),
                    (Some(&t), render_ipv4),
                    (None, render_ipv6),
                    (Some(&t), render_ipv6),
                ] {
                    let text = render(&plan, &blocks, i, tr).expect("rendered");
                    // No daemon runs for a family the node has no address in.
                    if text.contains("disabled on this node") {
                        continue;
                    }
                    let f = dir.join(format!("n{i}.conf"));
                    std::fs::write(&f, &text).expect("write");
                    let out = std::process::Command::new(bird)
                        .arg("-p")
                        .arg("-c")
                        .arg(&f)
                        .output()
                        .expect("bird -p");
                    assert!(
                        out.status.success(),
                        "{}\n{text}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A dual-stack cluster: IPv6 pool and node addresses, a reflector, and a
    /// `BGPFilter` with an IPv6 import rule and an IPv4 export rule.
    const DUAL: &str = r#"
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {asNumber: 64512, nodeToNodeMeshEnabled: false}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v4}
spec: {cidr: 192.168.0.0/16, blockSize: 26}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:10::/48", blockSize: 122}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: a}
spec: {bgp: {ipv4Address: 10.0.0.1/24, ipv6Address: "fd00:1::1/64"}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: r, labels: {rr: "true"}}
spec: {bgp: {ipv4Address: 10.0.0.3/24, ipv6Address: "fd00:1::3/64", routeReflectorClusterID: 224.0.0.1}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rr}
spec:
  nodeSelector: "!has(rr)"
  peerSelector: has(rr)
  filters: [f]
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: f}
spec:
  importV6:
  - {cidr: "fd00:10::/48", matchOperator: NotIn, action: Reject}
  exportV4:
  - {cidr: 192.168.0.0/16, matchOperator: In, action: Accept}
"#;

    #[test]
    fn ipv6_renders_as_confd_bird6() {
        let c = Cluster::from_texts([("cluster.yaml", DUAL)]).expect("cluster");
        let plan = c.plan();
        let blocks = c.pod_blocks().expect("blocks");
        let a = plan.node_index("a").expect("a");
        let t = loopback_transport(&plan, 1179);
        let v6 = render_ipv6(&plan, &blocks, a, Some(&t)).expect("rendered");
        assert!(
            v6.contains("(bird6.cfg, bird6_aggr.cfg, bird6_ipam.cfg)"),
            "{v6}"
        );
        // bird6 keeps the IPv4 router ID (4 octets, even in MP-BGP).
        assert!(v6.contains("router id 10.0.0.1;"), "{v6}");
        assert!(
            v6.contains("template static static_template {\n  ipv6;\n"),
            "{v6}"
        );
        let pod = blocks[a].ipv6.first().expect("an IPv6 block").to_string();
        assert!(v6.contains(&format!("   route {pod} blackhole;\n")), "{v6}");
        assert!(v6.contains(&format!("      if ( net = {pod} ) then {{ accept; }}\n      if ( net ~ {pod} ) then {{ reject; }}\n")), "{v6}");
        assert!(
            v6.contains("  if (net ~ fd00:10::/48) then { accept; }\n"),
            "{v6}"
        );
        assert!(!v6.contains("192.168."), "{v6}");
        // The IPv6 rules of the filter, not the IPv4 ones.
        assert!(v6.contains("# v6 BGPFilter f\nfunction 'bgp_f_importFilterV6'() {\n  if ((net !~ fd00:10::/48)) then { reject; }\n}\n"), "{v6}");
        assert!(!v6.contains("FilterV4"), "{v6}");
        let to_rr = block(&v6, "protocol bgp Node_fd00_1__3 ");
        assert!(
            to_rr.contains("  neighbor fd52:464c::1:0:2 port 1179 as 64512;\n"),
            "{to_rr}"
        );
        assert!(
            to_rr.contains("  source address fd52:464c::1:0:1;"),
            "{to_rr}"
        );
        assert!(
            to_rr.contains("  ipv6 {\n    import filter {\n      'bgp_f_importFilterV6'();\n"),
            "{to_rr}"
        );
        // The IPv4 configuration of the same node has the IPv4 rule only.
        let v4 = render_ipv4(&plan, &blocks, a, Some(&t)).expect("rendered");
        assert!(v4.contains("'bgp_f_exportFilterV4'();"), "{v4}");
        assert!(!v4.contains("FilterV6") && !v4.contains("fd00:"), "{v4}");
        // The reflector's bird6 makes the client an `rr client`.
        let r = plan.node_index("r").expect("r");
        let rv6 = render_ipv6(&plan, &blocks, r, None).expect("rendered");
        let client = block(&rv6, "protocol bgp Node_fd00_1__1 ");
        assert!(
            client.contains("  neighbor fd00:1::1 as 64512;\n"),
            "{client}"
        );
        assert!(
            client.contains("  rr client;\n  rr cluster id 224.0.0.1;\n"),
            "{client}"
        );
        // An IPv4-only node has no bird6 peers.
        let c4 = Cluster::from_texts([("cluster.yaml", CLUSTER)]).expect("cluster");
        let p4 = c4.plan();
        let b4 = c4.pod_blocks().expect("blocks");
        let text = render_ipv6(&p4, &b4, 0, None).expect("rendered");
        assert!(text.contains("# IPv6 disabled on this node."), "{text}");
        assert!(!text.contains("protocol bgp"), "{text}");
    }

    #[test]
    fn namespace_addresses_are_distinct() {
        assert_eq!(namespace_address_v6(1, 0).to_string(), "fd52:464c::1:0:1");
        assert_eq!(
            namespace_address_v6(1, 65_535).to_string(),
            "fd52:464c::1:1:0"
        );
        assert_ne!(namespace_address_v6(1, 4), namespace_address_v6(0xfe, 4));
    }

    /// A workload peer as confd writes it: `Local_Workload_<address>`, the
    /// workload's AS, the BGPPeer's `local as`, passive, no source address;
    /// with a transport, disabled like any peer outside the cluster.
    #[test]
    fn local_workload_peers() {
        let extra = "---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: child}
spec: {node: a, localWorkloadSelector: \"app == 'bird'\", asNumber: 65401, localASNumber: 65002}
---
apiVersion: v1
kind: Pod
metadata: {name: bird-0, namespace: child, labels: {app: bird}}
spec: {nodeName: a}
status: {podIP: 10.65.0.2}
";
        let text = format!("{CLUSTER}{extra}");
        let c = Cluster::from_texts([("cluster.yaml", text.as_str())]).expect("cluster");
        let plan = c.plan();
        let blocks = c.pod_blocks().expect("blocks");
        let i = plan.node_index("a").expect("node");
        let r = render_ipv4(&plan, &blocks, i, None).expect("rendered");
        let start = r
            .find("protocol bgp Local_Workload_10_65_0_2 from bgp_template {")
            .unwrap_or_else(|| panic!("{r}"));
        let block = &r[start..];
        let block = &block[..block.find("\n}\n").unwrap_or(block.len())];
        for want in [
            "  neighbor 10.65.0.2 as 65401;",
            "  local as 65002;",
            "  passive on;",
            "  ttl security off;\n  multihop;",
        ] {
            assert!(block.contains(want), "{want}: {block}");
        }
        assert!(!block.contains("source address"), "{block}");
        // Node b has no workload peer.
        let b = plan.node_index("b").expect("node");
        let rb = render_ipv4(&plan, &blocks, b, None).expect("rendered");
        assert!(!rb.contains("Local_Workload"), "{rb}");
        let t = loopback_transport(&plan, 1179);
        let r = render_ipv4(&plan, &blocks, i, Some(&t)).expect("rendered");
        let start = r
            .find("protocol bgp Local_Workload_10_65_0_2")
            .expect("protocol");
        assert!(r[start..].contains("  disabled;"), "{r}");
    }
}
