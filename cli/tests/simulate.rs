#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `reflector simulate` on the story's cluster, its variants, generated clusters and bad input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn reflector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run reflector")
}

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

/// Runs with `--json`, checks success, returns (report, stderr).
fn json(args: &[&str]) -> (Value, String) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = reflector(&all);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    (v, stderr)
}

/// Runs as text, checks success, returns (stdout, stderr).
fn text(args: &[&str]) -> (String, String) {
    let out = reflector(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// node name -> [(peer address, peer type)] from `calicoctl node status` (IPv4).
fn peers(report: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let rows = n["status"]["ipv4"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    assert_eq!(r["state"], "up");
                    assert_eq!(r["info"], "Established");
                    (
                        r["peer_address"].as_str().unwrap().to_string(),
                        r["peer_type"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (n["name"].as_str().unwrap().to_string(), rows)
        })
        .collect()
}

/// Every shown node has a route to every node's pod blocks, and reports so.
fn assert_full_reachability(report: &Value) {
    let blocks: BTreeSet<String> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["pod_blocks"].as_array().unwrap().clone())
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    let total = report["summary"]["pod_blocks"].as_u64().unwrap();
    if report["nodes_omitted"] == 0 {
        assert_eq!(blocks.len() as u64, total);
    }
    for n in report["nodes"].as_array().unwrap() {
        let have: BTreeSet<String> = n["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["prefix"].as_str().unwrap().to_string())
            .collect();
        // Every shown node's blocks, and as many routes as the cluster has blocks.
        assert!(have.is_superset(&blocks), "{} misses blocks", n["name"]);
        assert_eq!(have.len() as u64, total, "{}", n["name"]);
        assert_eq!(n["reaches_every_block"], true);
        assert!(n["missing_blocks"].as_array().unwrap().is_empty());
    }
    let s = &report["summary"];
    assert_eq!(s["converged"], true);
    assert_eq!(s["nodes_reaching_every_block"], s["nodes"]);
    assert!(s["errors"].as_array().unwrap().is_empty());
}

const ORDINARY: [&str; 3] = ["qtwtv", "uqwst", "volwl"];
const REFLECTOR_ADDRS: [&str; 2] = ["10.0.0.2", "10.0.0.5"];

#[test]
fn mesh_example_is_ten_sessions_four_mesh_peers_each() {
    let (r, stderr) = json(&[&example("calico-mesh")]);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(r["summary"]["ipv4_sessions"], 10);
    assert_eq!(r["summary"]["full_mesh_sessions"], 10);
    assert_eq!(r["summary"]["mesh_sessions"], 10);
    let p = peers(&r);
    assert_eq!(p.len(), 5);
    for (node, rows) in &p {
        assert_eq!(rows.len(), 4, "{node}");
        assert!(rows.iter().all(|(_, t)| t == "node-to-node mesh"), "{node}");
    }
    assert_full_reachability(&r);
    // Nothing is reflected in a mesh.
    for n in r["nodes"].as_array().unwrap() {
        for route in n["routes"].as_array().unwrap() {
            assert!(route["originator_id"].is_null());
            assert!(route["cluster_list"].as_array().unwrap().is_empty());
        }
    }
    // Already a full mesh: nothing to compare with.
    assert!(r["full_mesh"].is_null());
    assert!(r["full_mesh_note"].as_str().unwrap().contains("already"));

    let (out, _) = text(&[&example("calico-mesh")]);
    assert_eq!(out.matches("| node-to-node mesh |").count(), 20, "{out}");
    assert_eq!(out.matches("$ calicoctl node status").count(), 5);
}

#[test]
fn reflector_example_reproduces_the_story() {
    let (r, stderr) = json(&[&example("calico-rr")]);
    // The YAML-tag warning names the resource and field and says to quote.
    let warning = stderr
        .lines()
        .find(|l| l.contains("BGPPeer/peer-to-rrs spec.nodeSelector"))
        .unwrap_or_else(|| panic!("no YAML tag warning in {stderr}"));
    assert!(warning.starts_with("warning:"), "{warning}");
    assert!(warning.contains("YAML tag"), "{warning}");
    assert!(warning.contains("quote"), "{warning}");
    assert!(warning.contains("\"!has(route-reflector)\""), "{warning}");
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["resource"] == "BGPPeer/peer-to-rrs" && w["field"] == "spec.nodeSelector"));

    assert_eq!(
        r["cluster"]["reflectors"],
        serde_json::json!(["rxgks", "zyisy"])
    );
    assert_eq!(r["cluster"]["mesh_enabled"], false);
    assert_eq!(r["cluster"]["as_number"], 63400);

    // Each ordinary node peers with exactly the two reflectors, as "global" peers.
    let p = peers(&r);
    for node in ORDINARY {
        let mut rows = p[node].clone();
        rows.sort();
        assert_eq!(
            rows,
            REFLECTOR_ADDRS.map(|a| (a.to_string(), "global".to_string())),
            "{node}"
        );
    }
    // The reflectors peer with each other (node specific: rr-mesh's selector is a string).
    assert!(p["rxgks"].contains(&("10.0.0.5".into(), "node specific".into())));
    assert!(p["zyisy"].contains(&("10.0.0.2".into(), "node specific".into())));
    assert_eq!(r["summary"]["ipv4_sessions"], 7);
    assert_eq!(r["summary"]["max_sessions_per_ordinary_node"], 2);

    assert_full_reachability(&r);

    // Reflected routes: an ordinary node learns another ordinary node's block
    // with ORIGINATOR_ID = the originator and CLUSTER_LIST = the cluster ID,
    // next hop unchanged, from one of the reflectors.
    let nodes = r["nodes"].as_array().unwrap();
    let owner: BTreeMap<String, String> = nodes
        .iter()
        .map(|n| {
            (
                n["pod_blocks"][0].as_str().unwrap().to_string(),
                n["ipv4"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut reflected = 0;
    for n in nodes
        .iter()
        .filter(|n| ORDINARY.contains(&n["name"].as_str().unwrap()))
    {
        for route in n["routes"].as_array().unwrap() {
            let origin = &owner[route["prefix"].as_str().unwrap()];
            assert_eq!(route["next_hop"].as_str().unwrap(), origin);
            if route["from"] == "local" || REFLECTOR_ADDRS.contains(&origin.as_str()) {
                assert!(route["originator_id"].is_null(), "{route}");
                continue;
            }
            assert_eq!(route["originator_id"].as_str().unwrap(), origin, "{route}");
            assert_eq!(route["cluster_list"], serde_json::json!(["224.0.0.1"]));
            assert!(REFLECTOR_ADDRS.contains(&route["from"].as_str().unwrap()));
            reflected += 1;
        }
    }
    // 3 ordinary nodes × 2 other ordinary nodes.
    assert_eq!(reflected, 6);
    assert_eq!(r["summary"]["reflected_routes"], 6);

    // The comparison with the full mesh is run beside it.
    let mesh = &r["full_mesh"];
    assert_eq!(mesh["ipv4_sessions"], 10);
    assert_eq!(mesh["mesh_enabled"], true);
    assert_eq!(mesh["reflectors"], 0);
    assert_eq!(mesh["nodes_reaching_every_block"], 5);
    assert_eq!(mesh["reflected_routes"], 0);
}

#[test]
fn reflector_example_text_shows_tables_and_summary() {
    let (out, stderr) = text(&[&example("calico-rr")]);
    assert!(stderr.contains("spec.nodeSelector"), "{stderr}");
    assert!(out.contains("1 warning about the configuration (on stderr)"));
    assert_eq!(out.matches("$ calicoctl node status").count(), 5);
    assert_eq!(out.matches("Calico process is running.").count(), 5);
    for node in ["qtwtv", "rxgks", "uqwst", "volwl", "zyisy"] {
        assert!(out.contains(&format!("Routes of {node}\n")), "{node}");
    }
    // calicoctl's table for an ordinary node, as the story shows it.
    assert!(out.contains(
        "| PEER ADDRESS | PEER TYPE | STATE |  SINCE   |    INFO     |\n\
         +--------------+-----------+-------+----------+-------------+\n\
         | 10.0.0.2     | global    | up    | 00:00:00 | Established |\n\
         | 10.0.0.5     | global    | up    | 00:00:00 | Established |\n"
    ));
    // A reflected route row: uqwst's block seen by qtwtv.
    let row = out
        .lines()
        .skip_while(|l| *l != "Routes of qtwtv")
        .find(|l| l.contains("| 10.0.0.3 ") && l.contains("224.0.0.1"))
        .unwrap_or_else(|| panic!("no reflected row in\n{out}"));
    assert!(row.contains("| 10.0.0.3      | 224.0.0.1"), "{row}");
    assert_eq!(out.matches("reaches all 5 of the cluster.").count(), 5);
    // Sessions against n(n-1)/2, and the side-by-side summary.
    assert!(out.contains("BGP sessions: 7 IPv4 (70.0% of the full mesh's n(n-1)/2 = 10)"));
    assert!(out.contains("| AS CONFIGURED | FULL MESH |"));
    let sessions = out
        .lines()
        .find(|l| l.starts_with("| BGP sessions "))
        .unwrap();
    let cells: Vec<&str> = sessions.split('|').map(str::trim).collect();
    assert_eq!(cells[2..4], ["7", "10"], "{sessions}");
    let reach = out
        .lines()
        .find(|l| l.starts_with("| nodes reaching every pod block"))
        .unwrap();
    assert!(
        reach.contains("| 5/5 ") && reach.matches("5/5").count() == 2,
        "{reach}"
    );
    assert!(out.contains("As configured: 7 sessions instead of 10"));
}

#[test]
fn quoted_selectors_are_node_specific_without_warning() {
    let (r, stderr) = json(&[&example("calico-rr-quoted")]);
    assert!(stderr.is_empty(), "unexpected stderr: {stderr}");
    assert!(r["warnings"].as_array().unwrap().is_empty());
    let p = peers(&r);
    for node in ORDINARY {
        let mut rows = p[node].clone();
        rows.sort();
        assert_eq!(
            rows,
            REFLECTOR_ADDRS.map(|a| (a.to_string(), "node specific".to_string())),
            "{node}"
        );
    }
    assert_eq!(r["summary"]["global_sessions"], 0);
    assert_eq!(r["summary"]["node_specific_sessions"], 7);
    assert_full_reachability(&r);
}

#[test]
fn without_path_the_built_in_story_cluster_runs() {
    let (builtin, stderr) = json(&[]);
    assert!(stderr.contains("BGPPeer/peer-to-rrs spec.nodeSelector"));
    let (file, _) = json(&[&example("calico-rr")]);
    assert!(builtin["source"].as_str().unwrap().contains("built in"));
    assert_eq!(peers(&builtin), peers(&file));
    assert_eq!(builtin["summary"]["messages"], file["summary"]["messages"]);
    assert_eq!(builtin["summary"]["bytes"], file["summary"]["bytes"]);
}

#[test]
fn one_yaml_file_is_read_like_a_folder() {
    let dir = example("calico-rr-quoted");
    let mut all = String::new();
    for f in ["bgpconfiguration.yaml", "bgppeers.yaml", "nodes.yaml"] {
        all.push_str(&std::fs::read_to_string(Path::new(&dir).join(f)).unwrap());
        all.push_str("\n---\n");
    }
    let tmp = TempDir::new("one-file");
    let file = tmp.path().join("cluster.yaml");
    std::fs::write(&file, all).unwrap();
    let (single, _) = json(&[file.to_str().unwrap()]);
    let (folder, _) = json(&[&dir]);
    assert_eq!(peers(&single), peers(&folder));
    assert_eq!(single["summary"]["bytes"], folder["summary"]["bytes"]);
}

#[test]
fn node_option_shows_one_node() {
    let (r, _) = json(&[&example("calico-rr"), "--node", "volwl"]);
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], "volwl");
    assert_eq!(nodes[0]["ipv4"], "10.0.0.4");
    assert_eq!(r["nodes_omitted"], 4);
    // The cluster-wide summary is still the whole cluster's.
    assert_eq!(r["summary"]["nodes"], 5);
    assert_eq!(r["summary"]["nodes_reaching_every_block"], 5);

    let (out, _) = text(&[&example("calico-rr"), "--node", "rxgks"]);
    assert_eq!(out.matches("$ calicoctl node status").count(), 1);
    assert!(out.contains("Routes of rxgks\n"));
    assert!(!out.contains("Routes of qtwtv"));
    assert!(out.contains("4 other nodes not shown"));
}

#[test]
fn generated_cluster_of_fifty_with_three_reflectors() {
    let (r, stderr) = json(&["--nodes", "50", "--reflectors", "3", "--seed", "7"]);
    // No progress bar when stderr is not a terminal; generated selectors are quoted.
    assert!(stderr.is_empty(), "{stderr}");
    let s = &r["summary"];
    assert_eq!(s["nodes"], 50);
    assert_eq!(s["reflectors"], 3);
    assert_eq!(s["converged"], true);
    assert_eq!(s["nodes_reaching_every_block"], 50);
    assert_eq!(s["block_routes"], 2500);
    // 47 clients × 3 reflectors, plus the 3 reflector-to-reflector sessions.
    assert_eq!(s["ipv4_sessions"], 47 * 3 + 3);
    assert_eq!(s["max_sessions_per_ordinary_node"], 3);
    assert_eq!(s["full_mesh_sessions"], 1225);
    // Routes between clients are reflected: 47 clients × 46 other clients' blocks, at least.
    assert!(s["reflected_routes"].as_u64().unwrap() >= 47 * 46);
    let mesh = &r["full_mesh"];
    assert_eq!(mesh["ipv4_sessions"], 1225);
    assert_eq!(mesh["nodes_reaching_every_block"], 50);
    // Large cluster: the reflectors and two ordinary nodes are shown.
    let shown = r["nodes"].as_array().unwrap();
    assert_eq!(shown.len(), 5);
    assert_eq!(r["nodes_omitted"], 45);
    assert_eq!(
        shown
            .iter()
            .filter(|n| !n["route_reflector_cluster_id"].is_null())
            .count(),
        3
    );
    for n in shown
        .iter()
        .filter(|n| n["route_reflector_cluster_id"].is_null())
    {
        let rows = n["status"]["ipv4"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|x| x["peer_type"] == "node specific"));
    }
    assert_full_reachability(&r);

    // Same seed, same cluster; --all-nodes shows every node.
    let (again, _) = json(&[
        "--nodes",
        "50",
        "--reflectors",
        "3",
        "--seed",
        "7",
        "--all-nodes",
        "--no-compare-mesh",
    ]);
    assert_eq!(again["nodes"].as_array().unwrap().len(), 50);
    assert_eq!(again["summary"]["messages"], s["messages"]);
    assert!(again["full_mesh"].is_null());
    assert_full_reachability(&again);
}

#[test]
fn progress_is_drawn_only_when_asked_off_a_terminal() {
    let out = reflector(&["--nodes", "20", "--reflectors", "2", "--progress", "--json"]);
    assert!(out.status.success());
    // Off a terminal, forced progress is one timed line per stage on stderr...
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("generating 20 nodes, 2 reflectors"),
        "{stderr}"
    );
    assert!(stderr.contains("as configured: step 2,"), "{stderr}");
    assert!(stderr.contains("full mesh: step 1,"), "{stderr}");
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with('[') && l.contains(" s] ")),
        "{stderr}"
    );
    // ...and stdout stays pure JSON.
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["nodes"], 20);
    // Without --progress, nothing.
    let (_, quiet) = json(&["--nodes", "20", "--reflectors", "2"]);
    assert!(quiet.is_empty(), "{quiet}");
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("reflector-simulate-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fails(args: &[&str], expect: &[&str]) {
    let out = reflector(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
    for e in expect {
        assert!(stderr.contains(e), "{args:?}: {e:?} not in {stderr}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = TempDir::new("bad");
    let d = tmp.path();
    fails(
        &["/nonexistent/cluster"],
        &["/nonexistent/cluster", "No such file"],
    );

    let empty = d.join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails(&[empty.to_str().unwrap()], &["no Node resources"]);

    let yaml = d.join("broken.yaml");
    std::fs::write(&yaml, "kind: Node\nmetadata: [\n").unwrap();
    fails(
        &[yaml.to_str().unwrap()],
        &["broken.yaml", "invalid YAML", "line"],
    );

    let asn = d.join("asn.yaml");
    std::fs::write(
        &asn,
        "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: a\nspec:\n  bgp:\n    asNumber: lots\n    ipv4Address: 10.0.0.1/24\n",
    )
    .unwrap();
    fails(
        &[asn.to_str().unwrap()],
        &["Node 'a'", "spec.bgp.asNumber", "lots"],
    );

    let sel = d.join("sel.yaml");
    std::fs::write(
        &sel,
        "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: p\nspec:\n  nodeSelector: has(a &&\n",
    )
    .unwrap();
    fails(
        &[sel.to_str().unwrap()],
        &["BGPPeer 'p'", "spec.nodeSelector", "column 7"],
    );

    fails(
        &[&example("calico-rr"), "--node", "nope"],
        &["--node nope", "qtwtv"],
    );
    fails(&["--nodes", "0"], &["1 to 5000"]);
    fails(&["--nodes", "5001"], &["1 to 5000"]);
    fails(&["--nodes", "4", "--reflectors", "5"], &["--reflectors 5"]);
    // clap: a PATH and --nodes together.
    let out = reflector(&[&example("calico-rr"), "--nodes", "5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
