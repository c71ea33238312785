#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! A step on several threads gives what one thread gives: the same messages
//! on every link, the same routes on every node, the same failures.

use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::{whatif, Cluster, Network};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");

/// Everything observable after a run: the report, every link's counters and
/// every node's routes (with the next hops of every path).
fn observe(c: &Cluster, threads: usize, fail: &[usize]) -> String {
    let mut net = Network::from_cluster(c).unwrap();
    net.set_threads(threads);
    let rep = net.run(1000);
    assert!(rep.converged);
    let mut out = format!("{rep:?}\n");
    if !fail.is_empty() {
        let f = whatif::fail(&mut net, fail, &[], 1000);
        out.push_str(&format!("{}\n", serde_json::to_string(&f).unwrap()));
    }
    for l in net.links() {
        out.push_str(&format!("{:?}\n", l.counters));
    }
    for i in 0..net.plan().nodes.len() {
        out.push_str(&serde_json::to_string(&net.routes(i)).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("{:?}\n", net.errors()));
    out
}

#[test]
fn generated_cluster_with_reflectors_same_on_one_and_four_threads() {
    let c = generate(&GenerateOptions {
        nodes: 80,
        reflectors: 3,
        seed: 7,
        ..GenerateOptions::default()
    })
    .unwrap();
    let one = observe(&c, 1, &[0]);
    assert_eq!(one, observe(&c, 4, &[0]));
    // Not vacuous: 80 nodes, each with a route to all 80 blocks.
    assert!(one.lines().filter(|l| l.contains("\"prefix\"")).count() >= 80);
}

#[test]
fn full_mesh_and_services_example_same_on_one_and_three_threads() {
    let mut c = generate(&GenerateOptions {
        nodes: 40,
        reflectors: 2,
        seed: 3,
        ..GenerateOptions::default()
    })
    .unwrap();
    c.bgp_configuration.node_to_node_mesh_enabled = Some(true);
    for n in &mut c.nodes {
        n.route_reflector_cluster_id = None;
    }
    c.bgp_peers.clear();
    let mesh = observe(&c, 1, &[]);
    assert_eq!(mesh, observe(&c, 3, &[]));
    assert!(mesh.lines().filter(|l| l.contains("\"prefix\"")).count() >= 40);
    let services = Cluster::load_path(format!("{EXAMPLES}/calico-services")).unwrap();
    assert_eq!(observe(&services, 1, &[1]), observe(&services, 3, &[1]));
}
