#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The in-memory network of engines: real BGP bytes, convergence, reachability, no loops.

use std::collections::BTreeSet;

use proptest::prelude::*;
use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::render::render_routes;
use reflector_sim::{Cluster, Network};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

/// Every node's best routes cover every node's blocks; reflected routes carry no loop.
fn check_converged(net: &Network) {
    let all: BTreeSet<String> = net
        .blocks()
        .iter()
        .flat_map(|b| b.ipv4.iter().map(|c| c.to_string()))
        .collect();
    assert_eq!(all.len(), net.plan().nodes.len());
    for (i, node) in net.plan().nodes.iter().enumerate() {
        let routes = net.routes(i);
        let have: BTreeSet<String> = routes.iter().map(|r| r.prefix.clone()).collect();
        assert_eq!(have, all, "node {} misses blocks", node.name);
        let own = node.ipv4.unwrap().to_string();
        for r in &routes {
            let unique: BTreeSet<&String> = r.cluster_list.iter().collect();
            assert_eq!(
                unique.len(),
                r.cluster_list.len(),
                "{}: loop in CLUSTER_LIST {:?}",
                node.name,
                r.cluster_list
            );
            if r.from != "local" {
                assert_ne!(
                    r.originator_id.as_deref(),
                    Some(own.as_str()),
                    "{}: own route came back",
                    node.name
                );
                // The next hop is the originating node (iBGP keeps it).
                let origin = net
                    .blocks()
                    .iter()
                    .position(|b| b.ipv4[0].to_string() == r.prefix)
                    .unwrap();
                assert_eq!(
                    r.next_hop,
                    net.plan().nodes[origin].ipv4.unwrap().to_string()
                );
            }
        }
    }
    assert!(net.errors().is_empty(), "{:?}", net.errors());
}

#[test]
fn reflector_example_converges_and_reflects() {
    let c = Cluster::load_dir(format!("{EXAMPLES}/calico-rr")).unwrap();
    let mut net = Network::from_cluster(&c).unwrap();
    let report = net.run(100);
    assert!(report.converged);
    assert!(report.messages > 0 && report.bytes > 0);
    check_converged(&net);
    assert_eq!(net.links().len(), 7);

    // An ordinary node learns another ordinary node's block through a reflector:
    // ORIGINATOR_ID is the originator, CLUSTER_LIST the shared cluster ID.
    let q = net.plan().node_index("qtwtv").unwrap();
    let u = net.plan().node_index("uqwst").unwrap();
    let u_block = net.blocks()[u].ipv4[0].to_string();
    let r = net
        .routes(q)
        .into_iter()
        .find(|r| r.prefix == u_block)
        .unwrap();
    assert_eq!(r.originator_id.as_deref(), Some("10.0.0.3"));
    assert_eq!(r.cluster_list, ["224.0.0.1"]);
    assert!(r.from == "10.0.0.2" || r.from == "10.0.0.5", "{}", r.from);
    let table = render_routes("qtwtv", &net.routes(q));
    assert!(table.contains("224.0.0.1"), "{table}");

    // A reflector's own route to the other reflector is not reflected (plain iBGP between them).
    let z = net.plan().node_index("zyisy").unwrap();
    let x = net.plan().node_index("rxgks").unwrap();
    let x_block = net.blocks()[x].ipv4[0].to_string();
    let r = net
        .routes(z)
        .into_iter()
        .find(|r| r.prefix == x_block)
        .unwrap();
    assert_eq!(r.originator_id, None);
    assert!(r.cluster_list.is_empty());

    let s = net.summary();
    assert_eq!(s.messages, Some(report.messages));
    assert!(s.convergence_steps.unwrap() >= 2);
    let status = net.node_status(q);
    assert!(status.ipv4.iter().all(|r| r.info == "Established"));
}

#[test]
fn mesh_example_converges_without_reflection() {
    let c = Cluster::load_dir(format!("{EXAMPLES}/calico-mesh")).unwrap();
    let mut net = Network::from_cluster(&c).unwrap();
    assert!(net.run(100).converged);
    check_converged(&net);
    for i in 0..5 {
        for r in net.routes(i) {
            assert!(r.originator_id.is_none() && r.cluster_list.is_empty());
        }
    }
}

#[test]
fn traffic_counters_add_up() {
    let c = Cluster::load_dir(format!("{EXAMPLES}/calico-rr-quoted")).unwrap();
    let mut net = Network::from_cluster(&c).unwrap();
    let rep = net.run(100);
    let (m, b): (u64, u64) = net.links().iter().fold((0, 0), |(m, b), l| {
        (
            m + l.counters.a_to_b_messages + l.counters.b_to_a_messages,
            b + l.counters.a_to_b_bytes + l.counters.b_to_a_bytes,
        )
    });
    assert_eq!((m, b), (rep.messages, rep.bytes));
    // Every link carried something both ways (at least End-of-RIB).
    assert!(net
        .links()
        .iter()
        .all(|l| l.counters.a_to_b_messages > 0 && l.counters.b_to_a_messages > 0));
    // A second run moves nothing.
    assert_eq!(net.run(10).messages, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn random_clusters_reach_every_block_without_loops(n in 2usize..24, r in 1usize..4, seed in any::<u64>(), shared in any::<bool>()) {
        let r = r.min(n);
        let mut c = generate(&GenerateOptions { nodes: n, reflectors: r, seed, ..GenerateOptions::default() }).unwrap();
        if !shared {
            // Distinct cluster IDs per reflector.
            let reflectors = c.nodes.iter_mut().filter(|n| n.route_reflector_cluster_id.is_some());
            for (k, node) in (1u8..).zip(reflectors) {
                node.route_reflector_cluster_id = Some(std::net::Ipv4Addr::new(224, 0, 0, k));
            }
        }
        let mut net = Network::from_cluster(&c).unwrap();
        let rep = net.run(1000);
        prop_assert!(rep.converged);
        check_converged(&net);
    }
}
