//! `reflector simulate --with-bird`: the simulator's routes against real BIRDs
//! running calico/node's configuration on loopback (IPv6: in a network
//! namespace the check creates). Skipped (with a message) when `bird`
//! (Debian's bird2) is not installed; the IPv6 checks need root (as in CI) and
//! check the report says why IPv6 was not compared otherwise.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

/// A cluster with what the examples lack: the mesh beside a reflector, an
/// eBGP node with `nextHopMode: Self`, `BGPFilter`s (prefix lengths,
/// `peerType`, `source: RemotePeers`, `addCommunity`, `setPriority`), a pool
/// with `disableBGPExport` selected by one node, standard and large
/// communities, a single-address LoadBalancer range, and a peer outside the
/// cluster.
const MIXED: &str = include_str!("simulate_bird_mixed.yaml");

/// Two cluster IDs, `nextHopMode: Self` between reflectors, an eBGP node with
/// `prependASPath` and `asPathPrefix`, a large community, `reversePeering:
/// Manual`, external IPs and LoadBalancer aggregation off.
const MIXED2: &str = include_str!("simulate_bird_mixed2.yaml");

fn bird_installed() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .any(|d| d.join("bird").is_file() && d.join("birdc").is_file())
}

macro_rules! require_bird {
    () => {
        if !bird_installed() {
            eprintln!("skipping: `bird` and `birdc` are not installed (apt-get install bird2)");
            return;
        }
    };
}

/// Whether this process may create network namespaces (root, as in CI) and `ip` is there.
fn can_create_namespaces() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let ip = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .any(|d| d.join("ip").is_file());
    root && ip
}

/// IPv6 was compared (`v6` prefixes summed over nodes), or, without the rights
/// to create a namespace, the report says it was not and why.
fn check_ipv6(v: &Value, v6: u64) {
    let compared: u64 = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["ipv6_prefixes"].as_u64().unwrap_or(0))
        .sum();
    if can_create_namespaces() {
        assert_eq!(compared, v6, "{v}");
        assert_eq!(v["ipv6_routes_skipped"], 0, "{v}");
        assert!(v["ipv6_not_compared"].is_null(), "{v}");
    } else {
        eprintln!("IPv6 not compared: this test is not root (CI runs it as root)");
        assert_eq!(compared, 0, "{v}");
        assert!(v["ipv6_routes_skipped"].as_u64().unwrap_or(0) > 0, "{v}");
        assert!(
            v["ipv6_not_compared"]
                .as_str()
                .is_some_and(|s| s.contains("namespace")),
            "{v}"
        );
    }
}

fn reflector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(args)
        .output()
        .expect("run reflector")
}

/// Runs `--with-bird --json` and checks: success, settled, every session up, no difference.
fn agree(args: &[&str], nodes: usize) -> Value {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--with-bird", "--json", "--bird-timeout", "90"]);
    let out = reflector(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {stdout}\n{stderr}"));
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert_eq!(v["settled"], Value::Bool(true), "{args:?}: {stdout}");
    let list = v["nodes"].as_array().expect("nodes");
    assert_eq!(list.len(), nodes, "{args:?}");
    for n in list {
        assert_eq!(
            n["differences"].as_array().map(Vec::len),
            Some(0),
            "{args:?}: {n}"
        );
        assert_eq!(n["established"], n["expected_sessions"], "{args:?}: {n}");
        assert!(n["prefixes"].as_u64().unwrap_or(0) > 0, "{args:?}: {n}");
    }
    v
}

#[test]
fn bird_agrees_on_calico_rr() {
    require_bird!();
    let v = agree(&[&format!("{EXAMPLES}/calico-rr")], 5);
    // BIRD-side: confd writes `rr cluster id` only on a reflector's client
    // sessions, so each reflector keeps the other's copies of the three
    // clients' blocks (CLUSTER_LIST holds its own cluster ID); the engine drops
    // them. They are counted apart, never compared.
    for n in v["nodes"].as_array().expect("nodes") {
        let expect = match n["node"].as_str() {
            Some("rxgks" | "zyisy") => 3,
            _ => 0,
        };
        assert_eq!(n["own_cluster_routes"], expect, "{n}");
    }
}

#[test]
fn bird_agrees_on_calico_mesh() {
    require_bird!();
    agree(&[&format!("{EXAMPLES}/calico-mesh")], 5);
}

#[test]
fn bird_agrees_on_calico_services() {
    require_bird!();
    let v = agree(&[&format!("{EXAMPLES}/calico-services")], 5);
    // Dual stack: calico/node's second daemon (bird6) for IPv6, run in a
    // namespace. Every node holds the five nodes' IPv6 blocks, plus the
    // cluster's IPv6 service range where it is advertised: 30 over 5 nodes.
    check_ipv6(&v, 30);
}

fn agree_on_text(name: &str, yaml: &str, nodes: usize) {
    let dir = std::env::temp_dir().join(format!("reflector-bird-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("cluster.yaml"), yaml).expect("write fixture");
    agree(&[dir.to_str().expect("utf-8 path")], nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `numAllowedLocalASNumbers` (`allow local as 1`) on one side of a line of
/// three nodes: the block that crosses the other AS back into the node's own is
/// kept on that side only.
const ALLOWAS: &str = include_str!("simulate_bird_allowas.yaml");

#[test]
fn bird_agrees_on_allow_local_as() {
    require_bird!();
    agree_on_text("allowas", ALLOWAS, 3);
}

/// `keepOriginalNextHop` toward another AS (`next hop keep`) in a line of three ASes.
const NEXTHOP: &str = include_str!("simulate_bird_nexthop.yaml");

#[test]
fn bird_agrees_on_next_hop_keep() {
    require_bird!();
    agree_on_text("nexthop", NEXTHOP, 3);
}

/// LOCAL_PREF as BIRD sets it deciding between an iBGP and an eBGP path.
const LOCALPREF: &str = include_str!("simulate_bird_localpref.yaml");

#[test]
fn bird_agrees_on_local_pref_between_ibgp_and_ebgp_paths() {
    require_bird!();
    agree_on_text("localpref", LOCALPREF, 4);
}

/// Workload peers (`localWorkloadSelector`) beside the mesh.
const WORKLOADS: &str = include_str!("simulate_bird_workloads.yaml");

#[test]
fn bird_agrees_with_local_workload_peers() {
    require_bird!();
    agree_on_text("workloads", WORKLOADS, 3);
}

#[test]
fn bird_agrees_on_mixed_cluster() {
    require_bird!();
    agree_on_text("mixed", MIXED, 5);
}

#[test]
fn bird_agrees_on_second_mixed_cluster() {
    require_bird!();
    agree_on_text("mixed2", MIXED2, 6);
}

#[test]
fn bird_agrees_on_generated_dual_stack_50_nodes_3_reflectors() {
    require_bird!();
    let v = agree(&["--nodes", "50", "--reflectors", "3", "--dual-stack"], 50);
    // Each of the 50 nodes holds all 50 IPv6 blocks.
    check_ipv6(&v, 50 * 50);
}

#[test]
fn bird_agrees_on_generated_40_nodes_2_reflectors() {
    require_bird!();
    agree(&["--nodes", "40", "--reflectors", "2", "--seed", "7"], 40);
}

#[test]
fn bird_text_report_and_kept_configurations() {
    require_bird!();
    let dir = std::env::temp_dir().join(format!("reflector-bird-keep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = reflector(&[
        "simulate",
        &format!("{EXAMPLES}/calico-rr"),
        "--with-bird",
        "--bird-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Cross-check against BIRD"), "{stdout}");
    assert!(stdout.contains("No differences"), "{stdout}");
    // The configurations and logs are kept; the daemons were stopped with
    // SIGTERM and shut down cleanly, removing their pid files and sockets.
    let conf = std::fs::read_to_string(dir.join("node1.conf")).expect("node1.conf kept");
    assert!(conf.contains("rr cluster id 224.0.0.1;"), "{conf}");
    assert!(dir.join("node1.log").is_file());
    for i in 0..5 {
        assert!(
            !dir.join(format!("node{i}.pid")).exists(),
            "node{i}.pid left"
        );
        assert!(
            !dir.join(format!("node{i}.ctl")).exists(),
            "node{i}.ctl left"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `BGPFilter` rule on `priority` (LOCAL_PREF `2147483647 - priority`) on
/// the clients' sessions to the reflectors: every normal-priority route is
/// rejected on import at both ends, in BIRD and in the simulator alike.
#[test]
fn bird_agrees_on_a_priority_rule() {
    require_bird!();
    let dir = std::env::temp_dir().join(format!("reflector-bird-priority-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["nodes.yaml", "bgpconfiguration.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/calico-rr/{f}"), dir.join(f)).expect("copy example");
    }
    std::fs::write(
        dir.join("peers.yaml"),
        include_str!("simulate_bird_priority.yaml"),
    )
    .expect("write peers");
    let v = agree(&[dir.to_str().expect("utf-8 path")], 5);
    let sim = reflector(&["simulate", dir.to_str().expect("utf-8 path"), "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    let prefixes: Vec<u64> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["prefixes"].as_u64().unwrap_or(0))
        .collect();
    // The filter runs at both ends (confd's reverse peering gives the
    // reflectors the same filters): the clients keep their own block, the
    // reflectors theirs and each other's.
    assert_eq!(prefixes, [1, 2, 1, 1, 2]);
    let stderr = String::from_utf8_lossy(&sim.stderr);
    assert!(!stderr.contains("priority"), "no warning left: {stderr}");
}

/// `localASNumber` on a direct session between two clients of calico-rr:
/// calico/node's BIRD opens it as AS 64999 at both ends where each expects the
/// cluster's AS, so it never comes up; the simulator agrees (the session is
/// not expected, the paths over it are not there) and lints it.
#[test]
fn bird_agrees_on_a_local_as_number_between_nodes() {
    require_bird!();
    let dir = std::env::temp_dir().join(format!("reflector-bird-localas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["nodes.yaml", "bgpconfiguration.yaml", "bgppeers.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/calico-rr/{f}"), dir.join(f)).expect("copy example");
    }
    let expected = |v: &Value| -> u64 {
        v["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["expected_sessions"].as_u64().unwrap_or(0))
            .sum()
    };
    let path = dir.to_str().expect("utf-8 path");
    let without = expected(&agree(&[path], 5));
    std::fs::write(
        dir.join("localas.yaml"),
        include_str!("simulate_bird_localas.yaml"),
    )
    .expect("write peer");
    let with = agree(&[path], 5);
    // The session between the two clients is planned but never up, at both ends.
    assert_eq!(expected(&with), without, "{with}");
    let out = reflector(&["simulate", path]);
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("spec.localASNumber") && text.contains("Bad Peer AS"),
        "{text}"
    );
}

/// Runs the check on `dir` with a `bird` that first deletes the static
/// routes (the node's own blocks and service addresses) from the
/// configuration file named `conf`: the simulator originates them and BIRD
/// does not, so the check must fail. The report, stdout and stderr.
fn disagree_with_sabotaged_bird(dir: &std::path::Path, conf: &str) -> (Value, String) {
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join("bird"))
        .find(|p| p.is_file())
        .expect("bird");
    let wrap = dir.join("sabotaged-bird");
    std::fs::create_dir_all(&wrap).expect("wrapper dir");
    let script = wrap.join("bird");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprev=\nfor a in \"$@\"; do\n  if [ \"$prev\" = -c ]; then\n    case \"$a\" in */{conf}) sed -i '/^ *route .* blackhole;$/d' \"$a\";; esac\n  fi\n  prev=\"$a\"\ndone\nexec {} \"$@\"\n",
            real.display()
        ),
    )
    .expect("write wrapper");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .expect("chmod");
    let cluster = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| e.path())
        .collect::<Vec<_>>();
    assert!(!cluster.is_empty());
    let mut path = std::ffi::OsString::from(wrap.as_os_str());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["simulate", dir.to_str().expect("utf-8 path")])
        .args(["--with-bird", "--json", "--bird-timeout", "60"])
        .env("PATH", path)
        .output()
        .expect("run reflector");
    let _ = std::fs::remove_dir_all(dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (v, stdout)
}

/// The check can fail: with one node's IPv4 BIRD originating nothing, every
/// node's report lists that node's block as held by the simulator only, and
/// nothing else differs.
#[test]
fn bird_finds_an_ipv4_difference() {
    require_bird!();
    let dir = std::env::temp_dir().join(format!("reflector-bird-sab4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["nodes.yaml", "bgpconfiguration.yaml", "bgppeers.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/calico-rr/{f}"), dir.join(f)).expect("copy example");
    }
    let (v, stdout) = disagree_with_sabotaged_bird(&dir, "node0.conf");
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 5, "{stdout}");
    let mut prefixes = std::collections::BTreeSet::new();
    for n in nodes {
        let d = n["differences"].as_array().expect("differences");
        assert_eq!(d.len(), 1, "{n}");
        assert!(d[0]["bird"].is_null() || d[0]["bird"]["paths"] == 0, "{n}");
        prefixes.insert(d[0]["prefix"].as_str().expect("prefix").to_string());
        assert_eq!(n["established"], n["expected_sessions"], "{n}");
    }
    // The one block of node 0.
    assert_eq!(prefixes.len(), 1, "{stdout}");
    assert!(!prefixes.iter().any(|p| p.contains(':')), "{stdout}");
}

/// calico-services (dual stack) with `cluster.yaml` edited by `edit`, in a temporary folder.
fn services_with(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reflector-bird-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["nodes.yaml", "services.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/calico-services/{f}"), dir.join(f))
            .expect("copy example");
    }
    let cluster = std::fs::read_to_string(format!("{EXAMPLES}/calico-services/cluster.yaml"))
        .expect("cluster.yaml");
    assert!(cluster.contains("  maxRestartTime: 5m\n"));
    let edited = edit(cluster.clone());
    assert_ne!(edited, cluster);
    std::fs::write(dir.join("cluster.yaml"), edited).expect("write cluster");
    dir
}

/// An `importV6` priority rule on the clients' sessions to the reflectors:
/// bird6 and the simulator both reject the clients' learned IPv6 routes, and
/// IPv4 is untouched (the filter has no IPv4 rule).
#[test]
fn bird_agrees_on_an_ipv6_priority_rule() {
    require_bird!();
    if !can_create_namespaces() {
        eprintln!("skipping: IPv6 BIRDs need a network namespace (root; CI runs this as root)");
        return;
    }
    let dir = services_with("v6-priority", |c| {
        c.replacen(
            "  maxRestartTime: 5m\n",
            "  maxRestartTime: 5m\n  filters: [v6-priority]\n",
            1,
        ) + "---\napiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata: {name: v6-priority}\n\
             spec:\n  importV6:\n  - priority: 1024\n    action: Reject\n"
    });
    let v = agree(&[dir.to_str().expect("utf-8 path")], 5);
    let _ = std::fs::remove_dir_all(&dir);
    let sum = |k: &str| -> u64 {
        v["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n[k].as_u64().unwrap_or(0))
            .sum()
    };
    // Unfiltered: 45 IPv4 and 30 IPv6 prefixes over the five nodes
    // (bird_agrees_on_calico_services). The clients lose their learned IPv6 blocks.
    let v6 = sum("ipv6_prefixes");
    assert_eq!(sum("prefixes") - v6, 45, "{v}");
    assert!(v6 < 30 && v6 > 0, "{v}");
}

/// The IPv6 side can fail too: calico-services with node 0's bird6
/// originating nothing; every difference is an IPv6 prefix, and IPv4 agrees.
#[test]
fn bird_finds_an_ipv6_difference() {
    require_bird!();
    if !can_create_namespaces() {
        eprintln!("skipping: IPv6 BIRDs need a network namespace (root; CI runs this as root)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("reflector-bird-sab6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for f in ["nodes.yaml", "services.yaml", "cluster.yaml"] {
        std::fs::copy(format!("{EXAMPLES}/calico-services/{f}"), dir.join(f))
            .expect("copy example");
    }
    let (v, stdout) = disagree_with_sabotaged_bird(&dir, "node0-v6.conf");
    let mut diffs = 0;
    for n in v["nodes"].as_array().expect("nodes") {
        for d in n["differences"].as_array().expect("differences") {
            assert!(d["prefix"].as_str().is_some_and(|p| p.contains(':')), "{d}");
            diffs += 1;
        }
    }
    assert!(diffs >= 2, "{stdout}");
}
