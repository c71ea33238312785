#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `reflector simulate --fail`, `--fail-session` and `--steps` on the example clusters.

use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn reflector(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run reflector")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Runs successfully and returns stdout.
fn ok(a: &[String]) -> String {
    let out = reflector(a);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{a:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

fn json(a: &[String]) -> Value {
    let mut a = a.to_vec();
    a.push("--json".into());
    serde_json::from_str(&ok(&a)).expect("stdout is JSON")
}

/// `--steps` with every step folder of an order, in name order.
fn steps(order: &str) -> Vec<String> {
    let dir = format!("{EXAMPLES}/calico-migration/{order}");
    let mut dirs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    dirs.sort();
    let mut a = vec!["--steps".to_string()];
    a.extend(dirs);
    a
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn one_reflector_down_keeps_every_block_both_down_do_not() {
    let rr = format!("{EXAMPLES}/calico-rr");
    let one = json(&args(&[&rr, "--fail", "zyisy"]));
    let w = &one["what_if"];
    assert_eq!(w["every_block_kept"], true);
    assert_eq!(names(&w["gone_blocks"]), ["192.168.1.0/26"]);
    for n in w["nodes"].as_array().unwrap() {
        assert!(n["lost"].as_array().unwrap().is_empty(), "{n}");
        assert_eq!(n["kept"].as_array().unwrap().len(), 4);
    }
    let both = json(&args(&[&rr, "--fail", "rxgks,zyisy"]));
    let w = &both["what_if"];
    assert_eq!(w["every_block_kept"], false);
    assert_eq!(w["nodes_losing"], 3);
    let qtwtv = w["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "qtwtv")
        .unwrap();
    assert_eq!(
        names(&qtwtv["lost"]),
        ["192.168.0.128/26", "192.168.0.192/26"]
    );
    let text = ok(&args(&[&rr, "--fail", "rxgks", "--fail", "zyisy"]));
    assert!(text.contains("What if rxgks, zyisy fail"), "{text}");
    assert!(text.contains("qtwtv        keeps 1 of 3, LOST 2: 192.168.0.128/26, 192.168.0.192/26"));
    assert!(text.contains("3 of 3 surviving nodes lost routes"));
}

#[test]
fn fail_session_takes_one_session_down() {
    let rr = format!("{EXAMPLES}/calico-rr-quoted");
    let v = json(&args(&[&rr, "--fail-session", "qtwtv-rxgks"]));
    let w = &v["what_if"];
    assert_eq!(names(&w["failed_sessions"]), ["qtwtv-rxgks"]);
    assert_eq!(w["sessions_down"], 1);
    assert_eq!(w["run"]["converged"], true);
    let text = ok(&args(&[&rr, "--fail-session", "qtwtv-rxgks"]));
    assert!(text.contains("What if session qtwtv-rxgks fails"), "{text}");
    let bad = reflector(&args(&[&rr, "--fail-session", "qtwtv-nope"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fail-session qtwtv-nope"));
    let bad = reflector(&args(&[&rr, "--fail", "nope"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fail nope: no such node"));
}

#[test]
fn without_fail_there_is_no_what_if_in_the_json() {
    let v = json(&args(&[&format!("{EXAMPLES}/calico-rr")]));
    assert!(v.get("what_if").is_none());
}

#[test]
fn safe_migration_loses_nothing() {
    let v = json(&steps("safe"));
    assert_eq!(v["safe"], true);
    let t = v["transitions"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert!(t.iter().all(|t| t["losses"].as_array().unwrap().is_empty()));
    let text = ok(&steps("safe"));
    assert!(text.contains("Safe: no node lost a route to any pod block in any transition."));
}

#[test]
fn mesh_off_first_names_the_nodes_and_blocks_lost() {
    let v = json(&steps("unsafe"));
    assert_eq!(v["safe"], false);
    let t = &v["transitions"][0];
    assert_eq!(
        names(&t["nodes_losing"]),
        ["qtwtv", "rxgks", "uqwst", "volwl", "zyisy"]
    );
    let lost: Vec<(String, String)> = t["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["still_missing"], true);
            (
                l["node"].as_str().unwrap().to_string(),
                l["block"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(lost.len(), 20);
    assert!(lost.contains(&("qtwtv".into(), "192.168.0.128/26".into())));
    assert!(lost.contains(&("zyisy".into(), "192.168.0.0/26".into())));
    let text = ok(&steps("unsafe"));
    assert!(
        text.contains("NOT SAFE: routes to pod blocks lost in 1 → 2 (5 nodes)."),
        "{text}"
    );
    assert!(text.contains("qtwtv        192.168.0.128/26   (of uqwst)"));
}

#[test]
fn cluster_ids_before_bgppeers_cut_the_reflectors_off() {
    let v = json(&steps("cluster-ids-first"));
    assert_eq!(v["safe"], false);
    let t = &v["transitions"][0];
    assert_eq!(names(&t["sessions"]["restarted"]), ["rxgks", "zyisy"]);
    let lost_by_qtwtv: Vec<String> = t["losses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["node"] == "qtwtv")
        .map(|l| l["owner"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lost_by_qtwtv, ["rxgks", "zyisy"]);
}
