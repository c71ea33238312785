#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `reflector simulate` on the Calico model: services as ECMP, communities, dual stack, `--fields`.

use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn reflector(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(args)
        .output()
        .expect("run reflector")
}

fn services() -> String {
    format!("{EXAMPLES}/calico-services")
}

#[test]
fn load_balancer_ip_reaches_every_client_as_two_paths() {
    let out = reflector(&["simulate", &services(), "--json", "--all-nodes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let route = |node: &str, prefix: &str| -> Option<Value> {
        let n = nodes.iter().find(|n| n["name"] == node).unwrap();
        n["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["prefix"] == prefix)
            .cloned()
    };
    // volwl has no endpoint: two next hops, qtwtv's and uqwst's, each through both reflectors.
    let lb = route("volwl", "172.16.0.7/32").expect("volwl learns the LoadBalancer IP");
    let mut hops: Vec<&str> = lb["next_hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    hops.sort_unstable();
    assert_eq!(hops, ["10.0.0.1", "10.0.0.3"]);
    assert_eq!(lb["paths"], 4);
    // The pod blocks carry the prefixAdvertisements community; IPv6 blocks travel too.
    let qtwtv_block = route("volwl", "192.168.0.0/26").unwrap();
    assert_eq!(qtwtv_block["communities"][0], "63400:100");
    assert!(route("volwl", "fd00:10::/122").is_some());
    assert!(route("volwl", "fd00:96::/108").is_some());
    // Every node reaches every pod block, in both families.
    assert!(nodes.iter().all(|n| n["reaches_every_block"] == true));
}

#[test]
fn fields_lists_what_each_field_does() {
    let out = reflector(&["simulate", &services(), "--fields"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "| IPPool/pods-v4           | spec.natOutgoing",
        "not routing",
        "| BGPPeer/peer-to-rrs      | spec.maxRestartTime",
        "session only",
        "| BGPFilter/no-infra       | spec.exportV4[0].action",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    let out = reflector(&["simulate", &services(), "--fields", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let filters = v
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["resource"] == "BGPPeer/tor" && u["field"] == "spec.filters")
        .unwrap();
    assert_eq!(filters["effect"], "routing");
}

#[test]
fn unknown_field_is_a_warning_on_stderr() {
    let dir = std::env::temp_dir().join(format!("reflector-sim-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.yaml");
    std::fs::write(
        &file,
        "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: a}\nspec: {bgp: {ipv4Address: 10.0.0.1/24, routeReflectorClusterId: 1.2.3.4}}\n",
    )
    .unwrap();
    let out = reflector(&["simulate", file.to_str().unwrap(), "--no-compare-mesh"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: Node/a spec.bgp.routeReflectorClusterId: unknown field"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
