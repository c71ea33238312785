//! `reflector simulate --with-bird`: the same cluster on real BIRDs, compared with the simulator.
//!
//! Renders each node's calico/node BIRD configuration
//! ([`reflector_sim::bird`]), starts one `bird` per node on its own loopback
//! address (`127.1.x.y`, one port for all) and, for a node with an IPv6
//! address, a second one for IPv6 as calico/node runs `bird6`: those run in a
//! network namespace the check creates (`ip netns`), where each node gets its
//! own `fd52:464c::1:<n>` on the namespace's loopback (the host's loopback has
//! one IPv6 address). It waits (bounded) until every session that should come
//! up is Established and the routes stop changing, reads each node's routes
//! with `birdc show route all table master4` (and `master6`), and compares
//! them with the simulator's: the prefixes, the set of next hops of each
//! prefix, the number of paths held, and each path's next hop, AS path and
//! communities. The daemons are stopped by pid and the namespace deleted when
//! the check ends, also on error or timeout. Without the rights to create a
//! namespace (root or CAP_SYS_ADMIN and CAP_NET_ADMIN), IPv6 is reported as
//! not compared, with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use reflector_core::decision::Step;
use reflector_core::wire::attribute::SegmentType;
use reflector_core::wire::update_repr::AttributeValue;
use reflector_core::wire::Prefix;
use reflector_sim::bird::{loopback_transport, render_ipv4, render_ipv6, Transport};
use reflector_sim::plan::{Endpoint, Family};
use reflector_sim::Network;
use serde::Serialize;

/// A prefix's routes on one side: its distinct next hops and how many paths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Paths {
    /// Distinct next hops (node addresses), sorted.
    pub next_hops: BTreeSet<String>,
    /// Number of paths (BIRD: routes in the table; simulator: candidate paths).
    pub paths: usize,
    /// Each path as `<next hop> [<AS path>] <communities> originator <id> clusters <list>`, sorted.
    pub attributes: Vec<String>,
    /// The best path, as in `attributes`.
    pub best: Option<String>,
    /// Simulator: paths the decision process cannot tell from the best (ADD-PATH
    /// paths of one peer, equal at every RFC 4271/4456 step); either side may pick any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tied_with_best: Vec<String>,
}

/// One difference on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The prefix.
    pub prefix: String,
    /// What differs: `missing in BIRD`, `only in BIRD`, `next hops`, `paths`, `attributes`, `best path`.
    pub kind: &'static str,
    /// The simulator's side, when it has the prefix.
    pub simulator: Option<Paths>,
    /// BIRD's side, when it has the prefix.
    pub bird: Option<Paths>,
}

/// One node's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct NodeCheck {
    /// Node name.
    pub node: String,
    /// Sessions BIRD shows Established, of those that should be.
    pub established: usize,
    /// Sessions that should be Established (both ends configured, both Calico nodes).
    pub expected_sessions: usize,
    /// Prefixes compared (both families).
    pub prefixes: usize,
    /// Of those, IPv6 prefixes.
    pub ipv6_prefixes: usize,
    /// Routes BIRD holds with this reflector's own cluster ID in CLUSTER_LIST
    /// (not compared: BIRD-side, see `docs/calico.md`).
    pub own_cluster_routes: usize,
    /// The differences.
    pub differences: Vec<Difference>,
}

/// The whole cross-check.
#[derive(Clone, Debug, Serialize)]
pub struct CrossCheck {
    /// `bird --version`.
    pub bird_version: String,
    /// Seconds until every session was up and the routes settled (or the timeout).
    pub settle_seconds: f64,
    /// Whether the routes settled before the timeout.
    pub settled: bool,
    /// Every node's comparison, in name order.
    pub nodes: Vec<NodeCheck>,
    /// The simulator's IPv6 prefixes not compared (summed over nodes), when IPv6 could not run.
    pub ipv6_routes_skipped: usize,
    /// Why IPv6 was not compared, when it was not.
    pub ipv6_not_compared: Option<String>,
}

impl CrossCheck {
    /// Total differences over all nodes.
    pub fn differences(&self) -> usize {
        self.nodes.iter().map(|n| n.differences.len()).sum()
    }

    /// Sessions not Established that should be.
    pub fn sessions_down(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.expected_sessions.saturating_sub(n.established))
            .sum()
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let prefixes: usize = self.nodes.iter().map(|n| n.prefixes).sum();
        let v6: usize = self.nodes.iter().map(|n| n.ipv6_prefixes).sum();
        let sessions: usize = self.nodes.iter().map(|n| n.established).sum();
        let _ = writeln!(
            o,
            "Cross-check against {}: {} nodes, {} sessions Established (counted at both ends), {} IPv4 and {} IPv6 prefixes compared (summed over nodes), {}.",
            self.bird_version,
            self.nodes.len(),
            sessions,
            prefixes - v6,
            v6,
            if self.settled {
                format!("settled in {:.1} s", self.settle_seconds)
            } else {
                format!("NOT settled after {:.1} s", self.settle_seconds)
            }
        );
        let looped: usize = self.nodes.iter().map(|n| n.own_cluster_routes).sum();
        if looped > 0 {
            let _ = writeln!(
                o,
                "{looped} routes BIRD's reflectors hold with their own cluster ID in CLUSTER_LIST not compared (confd writes `rr cluster id` only on client sessions; the engine drops them)."
            );
        }
        if self.ipv6_routes_skipped > 0 {
            let _ = writeln!(
                o,
                "{} IPv6 routes of the simulator NOT compared: {}.",
                self.ipv6_routes_skipped,
                self.ipv6_not_compared
                    .as_deref()
                    .unwrap_or("no IPv6 BIRD ran")
            );
        }
        let show = |p: &Option<Paths>| match p {
            None => "-".to_string(),
            Some(p) => format!(
                "{} ({} path{})",
                p.next_hops.iter().cloned().collect::<Vec<_>>().join(", "),
                p.paths,
                if p.paths == 1 { "" } else { "s" }
            ),
        };
        for n in &self.nodes {
            if n.differences.is_empty() && n.established == n.expected_sessions {
                continue;
            }
            let _ = writeln!(o, "\n{}:", n.node);
            if n.established != n.expected_sessions {
                let _ = writeln!(
                    o,
                    "  sessions Established: {} of {}",
                    n.established, n.expected_sessions
                );
            }
            for d in &n.differences {
                if d.kind == "attributes" || d.kind == "best path" {
                    let _ = writeln!(o, "  {:<18} {:<20}", d.prefix, d.kind);
                    for (side, p) in [("simulator", &d.simulator), ("BIRD", &d.bird)] {
                        for a in p.iter().flat_map(|p| &p.attributes) {
                            let star = if p.as_ref().and_then(|p| p.best.as_ref()) == Some(a) {
                                "*"
                            } else {
                                " "
                            };
                            let _ = writeln!(o, "      {side:<9} {star} {a}");
                        }
                    }
                    continue;
                }
                let _ = writeln!(
                    o,
                    "  {:<18} {:<20} simulator: {}   BIRD: {}",
                    d.prefix,
                    d.kind,
                    show(&d.simulator),
                    show(&d.bird)
                );
            }
        }
        let (d, s) = (self.differences(), self.sessions_down());
        if d == 0 && s == 0 {
            o.push_str(
                "No differences: BIRD and the simulator hold the same routes on every node.\n",
            );
        } else {
            let _ = writeln!(
                o,
                "\n{d} route difference(s), {s} session end(s) not Established."
            );
        }
        o
    }
}

/// Where a program is: on PATH, else in /usr/sbin, /sbin, /usr/local/sbin.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The BIRDs started for one check; dropping it stops them (by pid), deletes the namespace and removes the temporary folder.
struct Daemons {
    children: Vec<Child>,
    dir: PathBuf,
    keep: bool,
    /// The network namespace of the IPv6 daemons, created by this check.
    netns: Option<Netns>,
}

/// A network namespace created for the IPv6 BIRDs, deleted on drop.
struct Netns {
    ip: PathBuf,
    name: String,
}

impl Netns {
    /// Creates the namespace, brings its loopback up and gives it `addresses`.
    fn create(addresses: &[IpAddr]) -> Result<Netns, String> {
        let ip = find_program("ip").ok_or("`ip` (iproute2) is not installed")?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("reflector-bird-{}-{stamp:x}", std::process::id());
        let run = |args: &[&str], input: Option<&str>| -> Result<(), String> {
            let mut c = Command::new(&ip)
                .args(args)
                .stdin(if input.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
            if let (Some(text), Some(mut stdin)) = (input, c.stdin.take()) {
                stdin
                    .write_all(text.as_bytes())
                    .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
            }
            let out = c
                .wait_with_output()
                .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "`ip {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        run(&["netns", "add", &name], None)?;
        let ns = Netns {
            ip: ip.clone(),
            name,
        };
        run(&["-n", &ns.name, "link", "set", "lo", "up"], None)?;
        let mut batch = String::new();
        for a in addresses {
            let len = if a.is_ipv4() { 32 } else { 128 };
            let _ = writeln!(batch, "address add {a}/{len} dev lo nodad");
        }
        run(&["-n", &ns.name, "-batch", "-"], Some(&batch))?;
        Ok(ns)
    }

    /// A command that runs `program` inside the namespace.
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(&self.ip);
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["netns", "delete", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        // SIGTERM to exactly the pids started here, so BIRD shuts down
        // cleanly; whatever still runs after 2 s gets SIGKILL (Child::kill).
        for c in &self.children {
            if let Ok(pid) = libc::pid_t::try_from(c.id()) {
                // SAFETY: kill(2) with a pid this process spawned and has not reaped.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for c in &mut self.children {
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                sleep(Duration::from_millis(20));
            }
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
        self.netns = None;
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A port free on the first node's loopback address, varied by pid so parallel checks differ.
fn free_port(addr: Ipv4Addr) -> io::Result<u16> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = (std::process::id().wrapping_mul(7919) ^ nanos) % 20_000;
    for k in 0..200u32 {
        let port = 21_000 + ((seed + k * 97) % 20_000) as u16;
        if TcpListener::bind((addr, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other(format!(
        "no free BGP port on {addr} between 21000 and 41000"
    )))
}

fn birdc(birdc: &Path, sock: &Path, cmd: &str) -> io::Result<String> {
    let out = Command::new(birdc)
        .arg("-s")
        .arg(sock)
        .args(cmd.split_whitespace())
        .stdin(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `show protocols`: the number of BGP protocols in state Established.
fn established(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&"BGP") && f.contains(&"Established")
        })
        .count()
}

/// One route of BIRD's table.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirdRoute {
    /// Whether it is a BGP route (else static: the node's own).
    pub bgp: bool,
    /// `BGP.next_hop`.
    pub next_hop: Option<String>,
    /// `BGP.cluster_list`.
    pub cluster_list: Vec<String>,
    /// `BGP.originator_id`.
    pub originator_id: Option<String>,
    /// `BGP.local_pref`.
    pub local_pref: Option<u32>,
    /// Whether BIRD marks it the best route of its prefix (`*`).
    pub best: bool,
    /// `BGP.as_path`.
    pub as_path: String,
    /// `BGP.community` and `BGP.large_community` as `a:b` and `a:b:c`, sorted.
    pub communities: Vec<String>,
}

/// BIRD's `(64512,100) (64512,42)` or `(64512, 7, 9)` as `64512:100`, `64512:42`, `64512:7:9`.
fn bird_communities(text: &str) -> Vec<String> {
    text.split(')')
        .filter_map(|c| {
            let c = c.trim().trim_start_matches('(');
            let parts: Vec<&str> = c.split(',').map(str::trim).collect();
            (!c.is_empty()).then(|| parts.join(":"))
        })
        .collect()
}

/// `show route all table master4` as prefix → routes (sorted: BIRD's order of equal routes varies).
pub fn parse_routes(text: &str) -> BTreeMap<String, Vec<BirdRoute>> {
    let mut out: BTreeMap<String, Vec<BirdRoute>> = BTreeMap::new();
    let mut prefix = String::new();
    for line in text.lines() {
        if line.starts_with("BIRD ") || line.starts_with("Table ") || line.trim().is_empty() {
            continue;
        }
        if let Some(attr) = line.strip_prefix('\t') {
            if let Some(nh) = attr.strip_prefix("BGP.next_hop:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.next_hop = nh.split_whitespace().next().map(str::to_string);
                }
            } else if let Some(t) = attr.strip_prefix("Type:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.bgp = t.split_whitespace().next() == Some("BGP");
                }
            } else if let Some(p) = attr.strip_prefix("BGP.as_path:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.as_path = p.split_whitespace().collect::<Vec<_>>().join(" ");
                }
            } else if let Some(c) = attr
                .strip_prefix("BGP.community:")
                .or_else(|| attr.strip_prefix("BGP.large_community:"))
            {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.communities.extend(bird_communities(c));
                    last.communities.sort();
                }
            } else if let Some(lp) = attr.strip_prefix("BGP.local_pref:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.local_pref = lp.trim().parse().ok();
                }
            } else if let Some(o) = attr.strip_prefix("BGP.originator_id:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.originator_id = o.split_whitespace().next().map(str::to_string);
                }
            } else if let Some(cl) = attr.strip_prefix("BGP.cluster_list:") {
                if let Some(last) = out.get_mut(&prefix).and_then(|v| v.last_mut()) {
                    last.cluster_list = cl.split_whitespace().map(str::to_string).collect();
                }
            }
            continue;
        }
        // A route line: a new prefix, or (indented) another route of the same one.
        if !line.starts_with(' ') {
            if let Some(p) = line.split_whitespace().next() {
                prefix = p.to_string();
            }
        }
        if line.contains('[') {
            out.entry(prefix.clone()).or_default().push(BirdRoute {
                best: line.contains("] * "),
                ..BirdRoute::default()
            });
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// One path as the check compares it: next hop, AS path, communities, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST (RFC 4456).
fn path_text(
    next_hop: &str,
    as_path: &str,
    communities: &[String],
    local_pref: Option<u32>,
    originator: Option<&str>,
    clusters: &[String],
) -> String {
    let mut t = format!("{next_hop} [{as_path}] {}", communities.join(" "));
    if let Some(lp) = local_pref {
        let _ = write!(t, " local-pref {lp}");
    }
    if let Some(o) = originator {
        let _ = write!(t, " originator {o}");
    }
    if !clusters.is_empty() {
        let _ = write!(t, " clusters {}", clusters.join(" "));
    }
    t
}

/// The simulator's routes of node `i` in `families` (every path held), and how many prefixes of other families it left out.
fn sim_paths(net: &Network, i: usize, families: &[Family]) -> (BTreeMap<String, Paths>, usize) {
    let mut out = BTreeMap::new();
    let mut skipped = 0;
    let Some(engine) = net.engine(i) else {
        return (out, 0);
    };
    for (prefix, _) in engine.loc_rib() {
        let family = match prefix {
            Prefix::V4(_) => Family::Ipv4,
            Prefix::V6(_) => Family::Ipv6,
        };
        if !families.contains(&family) {
            skipped += 1;
            continue;
        }
        let mut p = Paths::default();
        // Best first, each other path with the step at which it loses.
        for (c, step) in engine.explain_candidates(&prefix) {
            let hop = c
                .set
                .info()
                .next_hop
                .map_or_else(|| "-".to_string(), |n| n.to_string());
            let mut as_path = String::new();
            let mut communities = Vec::new();
            let mut originator = None;
            let mut clusters = Vec::new();
            let mut local_pref = None;
            for a in c.attributes() {
                match a.value {
                    AttributeValue::LocalPref(v) => local_pref = Some(v),
                    AttributeValue::OriginatorId(id) => originator = Some(id.to_string()),
                    AttributeValue::ClusterList(list) => {
                        clusters = list
                            .iter()
                            .map(|c| Ipv4Addr::from(*c).to_string())
                            .collect();
                    }
                    AttributeValue::AsPath(path) => {
                        as_path = path
                            .segments
                            .iter()
                            .map(|s| {
                                let asns: Vec<String> = s.asns.iter().map(u32::to_string).collect();
                                match s.kind {
                                    SegmentType::Sequence => asns.join(" "),
                                    _ => format!("{{{}}}", asns.join(",")),
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" ");
                    }
                    AttributeValue::Communities(cs) => {
                        communities.extend(cs.iter().map(|c| format!("{}:{}", c >> 16, c & 0xffff)))
                    }
                    AttributeValue::LargeCommunities(cs) => communities.extend(
                        cs.iter()
                            .map(|c| format!("{}:{}:{}", c.global, c.local1, c.local2)),
                    ),
                    _ => {}
                }
            }
            communities.sort();
            p.paths += 1;
            let text = path_text(
                &hop,
                &as_path,
                &communities,
                local_pref,
                originator.as_deref(),
                &clusters,
            );
            if p.best.is_none() {
                p.best = Some(text.clone());
            } else if step == Some(Step::PathId) {
                // It loses only at the last, implementation tie-break.
                p.tied_with_best.push(text.clone());
            }
            p.attributes.push(text);
            p.next_hops.insert(hop);
        }
        p.attributes.sort();
        out.insert(prefix.to_string(), p);
    }
    (out, skipped)
}

/// The family of a prefix written as text.
fn family_of(prefix: &str) -> Family {
    if prefix.contains(':') {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// Runs the check on a network that has converged; `dir` keeps the configurations there.
pub fn cross_check(
    net: &Network,
    timeout: Duration,
    dir: Option<&Path>,
    progress: &dyn Fn(String),
) -> io::Result<CrossCheck> {
    let bird = find_program("bird").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "--with-bird: `bird` is not installed (Debian/Ubuntu: apt-get install bird2)",
        )
    })?;
    let birdc_path = find_program("birdc").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "--with-bird: `birdc` is not installed (Debian/Ubuntu: apt-get install bird2)",
        )
    })?;
    let version = Command::new(&bird).arg("--version").output()?;
    let bird_version = String::from_utf8_lossy(&version.stderr)
        .trim()
        .to_string()
        .replace("version ", "");
    let plan = net.plan();
    let blocks = net.blocks();
    let port = free_port(reflector_sim::bird::loopback_address(1, 0))?;
    let transport: Transport = loopback_transport(plan, port);
    let back: BTreeMap<IpAddr, IpAddr> = transport
        .addresses
        .iter()
        .map(|(real, lo)| (*lo, *real))
        .collect();

    let (dir, keep) = match dir {
        Some(d) => (d.to_path_buf(), true),
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            (
                std::env::temp_dir().join(format!("reflector-bird-{}-{stamp}", std::process::id())),
                false,
            )
        }
    };
    fs::create_dir_all(&dir)?;
    let mut daemons = Daemons {
        children: Vec::new(),
        dir: dir.clone(),
        keep,
        netns: None,
    };
    let n = plan.nodes.len();
    // IPv6: one more BIRD per node with an IPv6 address, in a namespace of
    // the check's own (the host's loopback has one IPv6 address).
    let v6_addresses: Vec<IpAddr> = transport
        .addresses
        .values()
        .filter(|a| a.is_ipv6())
        .copied()
        .collect();
    let wants_v6 = plan.nodes.iter().any(|x| x.ipv6.is_some());
    let mut ipv6_not_compared = None;
    if wants_v6 {
        match Netns::create(&v6_addresses) {
            Ok(ns) => daemons.netns = Some(ns),
            Err(e) => {
                ipv6_not_compared = Some(format!(
                    "no network namespace for the IPv6 BIRDs ({e}; it needs root or CAP_SYS_ADMIN and CAP_NET_ADMIN)"
                ));
            }
        }
    }
    let mut families = vec![Family::Ipv4];
    if daemons.netns.is_some() {
        families.push(Family::Ipv6);
    }
    progress(format!(
        "--with-bird: starting the BIRDs of {n} nodes on port {port} ({})",
        if families.len() == 2 {
            "IPv4 on 127.1/16, IPv6 in a network namespace"
        } else {
            "IPv4"
        }
    ));
    // One daemon per node and family: (node, family, control socket).
    let mut socks: Vec<(usize, Family, PathBuf)> = Vec::new();
    for i in 0..n {
        for &family in &families {
            let Some(node) = plan.nodes.get(i) else {
                continue;
            };
            if node.address(family).is_none() {
                continue;
            }
            let (text, tag) = match family {
                Family::Ipv4 => (render_ipv4(plan, blocks, i, Some(&transport)), ""),
                Family::Ipv6 => (render_ipv6(plan, blocks, i, Some(&transport)), "-v6"),
            };
            let Some(text) = text else { continue };
            let conf = dir.join(format!("node{i}{tag}.conf"));
            let sock = dir.join(format!("node{i}{tag}.ctl"));
            let log = dir.join(format!("node{i}{tag}.log"));
            fs::write(&conf, text)?;
            let check = Command::new(&bird)
                .arg("-p")
                .arg("-c")
                .arg(&conf)
                .output()?;
            if !check.status.success() {
                return Err(io::Error::other(format!(
                    "--with-bird: BIRD refuses {}: {}",
                    conf.display(),
                    String::from_utf8_lossy(&check.stderr).trim()
                )));
            }
            let logf = fs::File::create(&log)?;
            let mut cmd = match (family, &daemons.netns) {
                (Family::Ipv6, Some(ns)) => ns.command(&bird),
                _ => Command::new(&bird),
            };
            let child = cmd
                .arg("-f")
                .arg("-c")
                .arg(&conf)
                .arg("-s")
                .arg(&sock)
                .arg("-P")
                .arg(dir.join(format!("node{i}{tag}.pid")))
                .stdin(Stdio::null())
                .stdout(logf.try_clone()?)
                .stderr(logf)
                .spawn()?;
            daemons.children.push(child);
            socks.push((i, family, sock));
        }
    }

    // Sessions that should come up, per node.
    let mut expected = vec![0usize; n];
    for s in &plan.sessions {
        if !(families.contains(&s.family) && s.comes_up()) {
            continue;
        }
        if let (Endpoint::Node(a), Endpoint::Node(b)) = (s.a.endpoint, s.b.endpoint) {
            for x in [a, b] {
                if let Some(e) = expected.get_mut(x) {
                    *e += 1;
                }
            }
        }
    }

    let start = Instant::now();
    let poll = Duration::from_millis(1000);
    let mut last: Option<Vec<BTreeMap<String, Vec<BirdRoute>>>> = None;
    let mut stable = 0u32;
    let mut settled = false;
    let mut up = vec![0usize; n];
    let mut dumps: Vec<BTreeMap<String, Vec<BirdRoute>>> = vec![BTreeMap::new(); n];
    while start.elapsed() < timeout {
        sleep(poll);
        for c in &mut daemons.children {
            if let Some(status) = c.try_wait()? {
                return Err(io::Error::other(format!(
                    "--with-bird: a BIRD exited ({status}); logs in {} (pass --bird-dir to keep them)",
                    dir.display()
                )));
            }
        }
        up.iter_mut().for_each(|u| *u = 0);
        dumps.iter_mut().for_each(BTreeMap::clear);
        for (i, family, sock) in &socks {
            if let Some(u) = up.get_mut(*i) {
                *u += established(&birdc(&birdc_path, sock, "show protocols")?);
            }
            let table = match family {
                Family::Ipv4 => "show route all table master4",
                Family::Ipv6 => "show route all table master6",
            };
            if let Some(d) = dumps.get_mut(*i) {
                d.extend(parse_routes(&birdc(&birdc_path, sock, table)?));
            }
        }
        let all_up = up.iter().zip(&expected).all(|(u, e)| u >= e);
        let total: usize = up.iter().sum();
        progress(format!(
            "--with-bird: {total} of {} session ends Established, {:.0} s",
            expected.iter().sum::<usize>(),
            start.elapsed().as_secs_f64()
        ));
        if all_up && last.as_ref() == Some(&dumps) {
            stable += 1;
            if stable >= 2 {
                settled = true;
                break;
            }
        } else {
            stable = 0;
        }
        last = Some(dumps.clone());
    }
    let settle_seconds = start.elapsed().as_secs_f64();

    let map_back = |a: &str| -> String {
        a.parse::<IpAddr>()
            .ok()
            .and_then(|ip| back.get(&ip))
            .map_or_else(|| a.to_string(), ToString::to_string)
    };
    let mut nodes = Vec::new();
    let mut ipv6_skipped = 0;
    for i in 0..n {
        let name = plan.endpoint_name(Endpoint::Node(i));
        let own = [Family::Ipv4, Family::Ipv6].map(|f| {
            plan.nodes
                .get(i)
                .and_then(|x| x.address(f))
                .map_or_else(String::new, |a| a.to_string())
        });
        let own_of = |f: Family| match f {
            Family::Ipv4 => &own[0],
            Family::Ipv6 => &own[1],
        };
        let (sim, skipped) = sim_paths(net, i, &families);
        ipv6_skipped += skipped;
        let cluster_id = plan
            .nodes
            .get(i)
            .and_then(|x| x.cluster_id)
            .map(|c| c.to_string());
        let mut real: BTreeMap<String, Paths> = BTreeMap::new();
        let mut own_cluster = 0;
        for (prefix, routes) in dumps.get(i).cloned().unwrap_or_default() {
            let family = family_of(&prefix);
            let p = real.entry(prefix).or_default();
            for r in routes {
                // confd writes `rr cluster id` only on a reflector's client
                // sessions, so BIRD's CLUSTER_LIST loop check (RFC 4456) does
                // not run on its sessions to the other reflectors of its
                // cluster: it keeps their copies of its clients' routes, which
                // the engine (one cluster ID for every session) drops.
                if cluster_id
                    .as_ref()
                    .is_some_and(|c| r.cluster_list.contains(c))
                {
                    own_cluster += 1;
                    continue;
                }
                p.paths += 1;
                let hop = match (r.bgp, r.next_hop) {
                    (true, Some(nh)) => map_back(&nh),
                    (true, None) => "-".to_string(),
                    (false, _) => own_of(family).clone(),
                };
                let text = path_text(
                    &hop,
                    &r.as_path,
                    &r.communities,
                    r.local_pref,
                    r.originator_id.as_deref(),
                    &r.cluster_list,
                );
                if r.best {
                    p.best = Some(text.clone());
                }
                p.attributes.push(text);
                p.attributes.sort();
                p.next_hops.insert(hop);
            }
        }
        let mut differences = Vec::new();
        let keys: BTreeSet<&String> = sim.keys().chain(real.keys()).collect();
        for k in keys {
            let (s, b) = (sim.get(k), real.get(k));
            let kind = match (s, b) {
                (Some(_), None) => "missing in BIRD",
                (None, Some(_)) => "only in BIRD",
                (Some(s), Some(b)) if s.next_hops != b.next_hops => "next hops",
                (Some(s), Some(b)) if s.paths != b.paths => "paths",
                (Some(s), Some(b)) if s.attributes != b.attributes => "attributes",
                (Some(s), Some(b))
                    if s.best != b.best
                        && !b
                            .best
                            .as_ref()
                            .is_some_and(|x| s.tied_with_best.contains(x)) =>
                {
                    "best path"
                }
                _ => continue,
            };
            differences.push(Difference {
                prefix: k.clone(),
                kind,
                simulator: s.cloned(),
                bird: b.cloned(),
            });
        }
        nodes.push(NodeCheck {
            node: name,
            established: up.get(i).copied().unwrap_or(0),
            expected_sessions: expected.get(i).copied().unwrap_or(0),
            prefixes: sim.len().max(real.len()),
            ipv6_prefixes: sim
                .keys()
                .chain(real.keys())
                .filter(|k| family_of(k) == Family::Ipv6)
                .collect::<BTreeSet<_>>()
                .len(),
            own_cluster_routes: own_cluster,
            differences,
        });
    }
    drop(daemons);
    Ok(CrossCheck {
        bird_version,
        settle_seconds,
        settled,
        nodes,
        ipv6_routes_skipped: ipv6_skipped,
        ipv6_not_compared: if ipv6_skipped > 0 {
            ipv6_not_compared
        } else {
            None
        },
    })
}

/// Prints the check (text or JSON) and fails on any difference.
pub fn report(check: &CrossCheck, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, check)?;
        writeln!(out)?;
    } else {
        out.write_all(check.render().as_bytes())?;
    }
    out.flush()?;
    if !check.settled {
        return Err(io::Error::other(
            "--with-bird: BIRD's sessions and routes did not settle before --bird-timeout",
        ));
    }
    if check.differences() > 0 || check.sessions_down() > 0 {
        return Err(io::Error::other(format!(
            "--with-bird: {} difference(s) between BIRD and the simulator",
            check.differences() + check.sessions_down()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `birdc show route all table master4` as BIRD 2.0.12 prints it: an own
    /// static block, and a prefix with two paths (the second line of a prefix
    /// is indented), one reflected.
    const DUMP: &str = "BIRD 2.0.12 ready.
Table master4:
192.168.0.0/26       blackhole [static1 14:20:17.747] * (200)
\tType: static univ
192.168.0.64/26      unreachable [Node_10_0_0_2 14:20:21.769 from 127.1.0.2] * (100) [i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 
\tBGP.next_hop: 127.1.0.2
\tBGP.local_pref: 2147482623
                     unreachable [Node_10_0_0_5 14:20:21.768 from 127.1.0.5] (100) [i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 
\tBGP.next_hop: 127.1.0.2
\tBGP.local_pref: 2147482623
\tBGP.community: (64512,100) (64512,42)
\tBGP.large_community: (64512, 7, 9)
\tBGP.originator_id: 10.0.0.2
\tBGP.cluster_list: 224.0.0.1
";

    #[test]
    fn parses_birdc_routes() {
        let r = parse_routes(DUMP);
        assert_eq!(r.len(), 2);
        let own = r.get("192.168.0.0/26").expect("own block");
        assert_eq!(own.len(), 1);
        assert!(!own.iter().any(|x| x.bgp));
        let two = r.get("192.168.0.64/26").expect("learned block");
        assert_eq!(two.len(), 2);
        assert!(two
            .iter()
            .all(|x| x.bgp && x.next_hop.as_deref() == Some("127.1.0.2")));
        assert_eq!(
            two.iter()
                .filter(|x| x.cluster_list == ["224.0.0.1"])
                .count(),
            1
        );
        // The best route is the one marked `*`: the direct one, with no
        // ORIGINATOR_ID; the reflected one carries 10.0.0.2.
        let best: Vec<_> = two.iter().filter(|x| x.best).collect();
        assert_eq!(best.len(), 1);
        assert_eq!(best[0].originator_id, None);
        assert!(best[0].cluster_list.is_empty());
        let reflected = two.iter().find(|x| !x.best).expect("second path");
        assert_eq!(reflected.originator_id.as_deref(), Some("10.0.0.2"));
        assert!(own[0].best);
        assert_eq!(
            path_text(
                "10.0.0.2",
                "",
                &reflected.communities,
                reflected.local_pref,
                reflected.originator_id.as_deref(),
                &reflected.cluster_list
            ),
            "10.0.0.2 [] 64512:100 64512:42 64512:7:9 local-pref 2147482623 originator 10.0.0.2 clusters 224.0.0.1"
        );
    }

    #[test]
    fn counts_established_bgp_sessions() {
        let text = "BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
static1    Static     master4    up     14:20:17.747  
Mesh_10_0_0_2 BGP        ---        up     14:20:19.465  Established   
Mesh_10_0_0_3 BGP        ---        start  14:20:19.465  Active        Socket: Connection refused
";
        assert_eq!(established(text), 1);
    }
}
