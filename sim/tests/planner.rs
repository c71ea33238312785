#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The peering planner on the story's cluster and its variants.

use std::collections::BTreeMap;

use proptest::prelude::*;
use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::plan::{Endpoint, Family, PeerRole, PeerType, Plan};
use reflector_sim::render::{render_node_status, SessionState};
use reflector_sim::{Cluster, Severity};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

fn load(name: &str) -> Cluster {
    Cluster::load_dir(format!("{EXAMPLES}/{name}")).unwrap()
}

/// node name -> [(peer node name, peer type, role)] from that node's point of view.
fn views(plan: &Plan) -> BTreeMap<String, Vec<(String, PeerType, PeerRole)>> {
    let mut out = BTreeMap::new();
    for (i, n) in plan.nodes.iter().enumerate() {
        let v: Vec<_> = plan
            .sessions_of(i)
            .map(|(me, them, _)| (plan.endpoint_name(them.endpoint), me.peer_type, me.role))
            .collect();
        out.insert(n.name.clone(), v);
    }
    out
}

#[test]
fn mesh_example_is_a_full_mesh() {
    let c = load("calico-mesh");
    assert_eq!(c.nodes.len(), 5);
    let plan = c.plan();
    assert_eq!(plan.sessions.len(), 10);
    assert_eq!(plan.session_count(Family::Ipv4), 10);
    assert_eq!(plan.summary().full_mesh_sessions, 10);
    for (node, peers) in views(&plan) {
        assert_eq!(peers.len(), 4, "{node}");
        for (peer, t, role) in peers {
            assert_ne!(peer, node);
            assert_eq!(t, PeerType::NodeToNodeMesh);
            assert_eq!(role, PeerRole::NonClient);
        }
    }
    for s in &plan.sessions {
        assert!(s.ibgp);
        assert_eq!(s.a.as_number, 63400);
    }
    assert!(
        c.lint().iter().all(|n| n.severity != Severity::Warning),
        "{:?}",
        c.lint()
    );
}

#[test]
fn reflector_example_reproduces_the_story() {
    let c = load("calico-rr");
    assert!(!c.bgp_configuration.mesh_enabled());
    let plan = c.plan();
    let v = views(&plan);
    let reflectors = ["rxgks", "zyisy"];
    for node in ["qtwtv", "uqwst", "volwl"] {
        let peers = &v[node];
        let names: Vec<&str> = peers.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, reflectors, "{node}");
        for (_, t, role) in peers {
            // global: the unquoted `!has(route-reflector)` is a YAML tag, so no nodeSelector.
            assert_eq!(*t, PeerType::Global, "{node}");
            assert_eq!(*role, PeerRole::NonClient, "{node}");
        }
    }
    // The reflectors peer with each other as plain iBGP peers (same cluster ID)
    // and treat every ordinary node as a client.
    for rr in reflectors {
        let other = if rr == "rxgks" { "zyisy" } else { "rxgks" };
        let peers = &v[rr];
        assert_eq!(peers.len(), 4, "{rr}");
        for (peer, t, role) in peers {
            if peer == other {
                assert_eq!(*role, PeerRole::NonClient);
                assert_eq!(*t, PeerType::NodeSpecific);
            } else {
                assert_eq!(*role, PeerRole::Client, "{rr} -> {peer}");
                assert_eq!(*t, PeerType::Global);
            }
        }
    }
    // 3 ordinary nodes × 2 reflectors + 1 reflector pair.
    assert_eq!(plan.sessions.len(), 7);

    let lint = c.lint();
    let tag: Vec<_> = lint
        .iter()
        .filter(|n| n.severity == Severity::Warning && n.field == "spec.nodeSelector")
        .collect();
    assert_eq!(tag.len(), 1, "{lint:?}");
    assert_eq!(tag[0].resource, "BGPPeer/peer-to-rrs");
    assert!(tag[0].message.contains("quote"), "{}", tag[0].message);
    assert!(
        tag[0].message.contains("!has(route-reflector)"),
        "{}",
        tag[0].message
    );

    // calicoctl node status on an ordinary node.
    let qtwtv = plan.node_index("qtwtv").unwrap();
    let status = plan.node_status(qtwtv, |_| SessionState::established("09:26:31"));
    let text = render_node_status(&status);
    assert!(
        text.contains("| 10.0.0.2     | global    | up    | 09:26:31 | Established |"),
        "{text}"
    );
    assert!(
        text.contains("| 10.0.0.5     | global    | up    | 09:26:31 | Established |"),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.starts_with("| 10.")).count(), 2);
}

#[test]
fn quoted_selectors_make_node_specific_peers_and_no_warning() {
    let c = load("calico-rr-quoted");
    let plan = c.plan();
    let v = views(&plan);
    for node in ["qtwtv", "uqwst", "volwl"] {
        let peers = &v[node];
        assert_eq!(peers.len(), 2);
        assert!(
            peers.iter().all(|p| p.1 == PeerType::NodeSpecific),
            "{node}: {peers:?}"
        );
    }
    // A reflector now sees every peer as node specific.
    assert!(v["zyisy"].iter().all(|p| p.1 == PeerType::NodeSpecific));
    assert_eq!(plan.sessions.len(), 7);
    let warnings: Vec<_> = c
        .lint()
        .into_iter()
        .filter(|n| n.severity == Severity::Warning)
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

fn redundant(cluster_ids: [&str; 2]) -> Cluster {
    let mut y = String::from(
        "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: false, asNumber: 65001}\n",
    );
    for (i, n) in ["a1", "a2", "a3", "rr1", "rr2"].iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {n}\n"
        ));
        if i >= 3 {
            y.push_str(&format!(
                "  labels: {{route-reflector: 'true'}}\nspec:\n  bgp: {{ipv4Address: 10.1.0.{}/24, routeReflectorClusterID: {}}}\n",
                i + 1,
                cluster_ids[i - 3]
            ));
        } else {
            y.push_str(&format!(
                "spec:\n  bgp: {{ipv4Address: 10.1.0.{}/24}}\n",
                i + 1
            ));
        }
    }
    y.push_str(
        "---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: peer-to-rrs}\nspec: {nodeSelector: '!has(route-reflector)', peerSelector: has(route-reflector)}\n\
         ---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: rr-mesh}\nspec: {nodeSelector: has(route-reflector), peerSelector: has(route-reflector)}\n",
    );
    Cluster::from_yaml_str(&y).unwrap()
}

#[test]
fn redundant_reflectors_sharing_a_cluster_id_are_non_clients() {
    let plan = redundant(["224.0.0.1", "224.0.0.1"]).plan();
    let v = views(&plan);
    assert_eq!(plan.sessions.len(), 3 * 2 + 1);
    let rr1 = &v["rr1"];
    assert!(
        rr1.contains(&(
            "rr2".to_string(),
            PeerType::NodeSpecific,
            PeerRole::NonClient
        )),
        "{rr1:?}"
    );
    for client in ["a1", "a2", "a3"] {
        assert!(rr1.contains(&(client.to_string(), PeerType::NodeSpecific, PeerRole::Client)));
        assert!(v[client].iter().all(|p| p.2 == PeerRole::NonClient));
    }
}

#[test]
fn redundant_reflectors_with_distinct_cluster_ids_are_each_others_clients() {
    let plan = redundant(["224.0.0.1", "224.0.0.2"]).plan();
    let v = views(&plan);
    assert!(v["rr1"].contains(&("rr2".to_string(), PeerType::NodeSpecific, PeerRole::Client)));
    assert!(v["rr2"].contains(&("rr1".to_string(), PeerType::NodeSpecific, PeerRole::Client)));
    assert_eq!(plan.sessions.len(), 7);
}

#[test]
fn mesh_skips_reflectors_and_lint_says_so() {
    // The reflector cluster with the mesh left on: ordinary nodes mesh among
    // themselves (3 sessions), reflectors take no mesh session.
    let mut c = load("calico-rr-quoted");
    c.bgp_configuration.node_to_node_mesh_enabled = Some(true);
    let plan = c.plan();
    let v = views(&plan);
    assert_eq!(
        v["qtwtv"]
            .iter()
            .filter(|p| p.1 == PeerType::NodeToNodeMesh)
            .count(),
        2
    );
    assert!(v["zyisy"].iter().all(|p| p.1 != PeerType::NodeToNodeMesh));
    assert_eq!(plan.sessions.len(), 7 + 3);
    let lint = c.lint_plan(&plan);
    assert!(
        lint.iter()
            .any(|n| n.resource == "BGPConfiguration/default"
                && n.field == "spec.nodeToNodeMeshEnabled"),
        "{lint:?}"
    );
}

#[test]
fn lint_finds_half_redundancy_and_selectors_selecting_nobody() {
    let mut y = redundant_yaml_two_rr_one_selected();
    y.push_str("---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: nobody}\nspec: {nodeSelector: \"rack == 'r9'\", peerSelector: has(route-reflector)}\n");
    let c = Cluster::from_yaml_str(&y).unwrap();
    let lint = c.lint();
    let half: Vec<_> = lint
        .iter()
        .filter(|n| n.message.contains("but not with rr2"))
        .collect();
    assert_eq!(half.len(), 2, "{lint:?}");
    assert!(half
        .iter()
        .all(|n| n.resource == "BGPPeer/to-rr1" && n.field == "spec.peerSelector"));
    assert!(
        lint.iter().any(|n| n.resource == "BGPPeer/nobody"
            && n.field == "spec.nodeSelector"
            && n.message.contains("selects no node")),
        "{lint:?}"
    );
}

fn redundant_yaml_two_rr_one_selected() -> String {
    let mut y = String::from("apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {nodeToNodeMeshEnabled: false}\n");
    for (n, ip, rr) in [
        ("c1", 1, None),
        ("c2", 2, None),
        ("rr1", 3, Some("rr1")),
        ("rr2", 4, Some("rr2")),
    ] {
        y.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: {n}\n"
        ));
        if let Some(id) = rr {
            y.push_str(&format!("  labels: {{rr: {id}}}\nspec: {{bgp: {{ipv4Address: 10.2.0.{ip}, routeReflectorClusterID: 1.1.1.1}}}}\n"));
        } else {
            y.push_str(&format!("spec: {{bgp: {{ipv4Address: 10.2.0.{ip}}}}}\n"));
        }
    }
    y.push_str("---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: to-rr1}\nspec: {nodeSelector: '!has(rr)', peerSelector: rr == 'rr1'}\n");
    y.push_str("---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: rr-pair}\nspec: {nodeSelector: has(rr), peerSelector: has(rr)}\n");
    y
}

#[test]
fn default_as_and_explicit_peers() {
    let y = "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n1}\nspec: {bgp: {ipv4Address: 10.3.0.1/24}}\n\
             ---\napiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: n2}\nspec: {bgp: {ipv4Address: 10.3.0.2/24, ipv6Address: 'fd00::2/64', asNumber: 65010}}\n\
             ---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {node: n1, peerIP: 10.3.0.254, asNumber: 65000}\n";
    let c = Cluster::from_yaml_str(y).unwrap();
    let plan = c.plan();
    assert_eq!(plan.nodes[0].as_number, 64512); // Calico's default
    assert_eq!(plan.nodes[1].as_number, 65010);
    // mesh (default on): n1-n2 over IPv4 only (n1 has no IPv6), eBGP between different ASes.
    let mesh: Vec<_> = plan
        .sessions
        .iter()
        .filter(|s| s.b.endpoint == Endpoint::Node(1))
        .collect();
    assert_eq!(mesh.len(), 1);
    assert!(!mesh[0].ibgp);
    assert_eq!(mesh[0].a.role, PeerRole::Ebgp);
    let tor: Vec<_> = plan
        .sessions
        .iter()
        .filter(|s| matches!(s.b.endpoint, Endpoint::External(_)))
        .collect();
    assert_eq!(tor.len(), 1);
    assert_eq!(tor[0].a.endpoint, Endpoint::Node(0));
    assert_eq!(tor[0].a.peer_type, PeerType::NodeSpecific);
    assert_eq!(tor[0].b.address.to_string(), "10.3.0.254");
    assert_eq!(plan.externals[0].as_number, 65000);
}

#[test]
fn generated_large_cluster() {
    let opts = GenerateOptions {
        nodes: 2000,
        reflectors: 3,
        ..GenerateOptions::default()
    };
    let c = generate(&opts).unwrap();
    assert_eq!(c.nodes.len(), 2000);
    let plan = c.plan();
    assert_eq!(plan.sessions.len(), 1997 * 3 + 3);
    let blocks = c.pod_blocks().unwrap();
    assert_eq!(blocks.len(), 2000);
    let warnings: Vec<_> = c
        .lint_plan(&plan)
        .into_iter()
        .filter(|n| n.severity == Severity::Warning)
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn generated_clusters_plan_n_r_plus_r_choose_2(n in 1usize..60, r in 1usize..6, seed in any::<u64>()) {
        let r = r.min(n);
        let c = generate(&GenerateOptions { nodes: n, reflectors: r, seed, ..GenerateOptions::default() }).unwrap();
        let plan = c.plan();
        prop_assert_eq!(plan.sessions.len(), (n - r) * r + r * (r - 1) / 2);
        // Deterministic: the same seed gives the same plan.
        let again = generate(&GenerateOptions { nodes: n, reflectors: r, seed, ..GenerateOptions::default() }).unwrap().plan();
        prop_assert_eq!(again, plan);
    }
}
