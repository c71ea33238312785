//! Time to simulate a generated Calico cluster to convergence: route reflectors vs full mesh.
//!
//! Each iteration builds the network (one Reflector engine per node, every
//! planned session up, pod blocks originated) and steps it until nothing
//! moves. The cluster is generated and loaded once, outside the timing.
//!
//! `cargo bench -p reflector-sim --bench simulate`
//!
//! The 1000-node full mesh (499,500 sessions) takes tens of seconds per run,
//! too long for repeated sampling: `simulate_memory` measures it once.

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::{Cluster, Network};
use std::hint::black_box;
use std::time::Duration;

fn cluster(nodes: usize, reflectors: usize) -> Cluster {
    let c = generate(&GenerateOptions {
        nodes,
        reflectors,
        ..GenerateOptions::default()
    });
    match c {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot generate {nodes} nodes: {e}");
            std::process::exit(1);
        }
    }
}

/// The same nodes with the node-to-node mesh on and no reflectors or BGPPeers.
fn full_mesh(c: &Cluster) -> Cluster {
    let mut m = c.clone();
    m.bgp_configuration.node_to_node_mesh_enabled = Some(true);
    for n in &mut m.nodes {
        n.route_reflector_cluster_id = None;
    }
    m.bgp_peers.clear();
    m
}

/// Builds and runs the network; returns messages moved (checked converged).
fn converge(c: &Cluster) -> u64 {
    let Ok(mut net) = Network::from_cluster(c) else {
        return 0;
    };
    let rep = net.run(10_000);
    if !rep.converged {
        eprintln!("did not converge");
        std::process::exit(1);
    }
    rep.messages
}

fn bench(crit: &mut Criterion) {
    let mut g = crit.benchmark_group("simulate");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    for n in [100usize, 300] {
        let rr = cluster(n, 3);
        let mesh = full_mesh(&rr);
        g.measurement_time(Duration::from_secs(if n >= 300 { 15 } else { 5 }));
        g.bench_with_input(BenchmarkId::new("reflectors_3", n), &rr, |b, c| {
            b.iter(|| black_box(converge(c)))
        });
        g.bench_with_input(BenchmarkId::new("full_mesh", n), &mesh, |b, c| {
            b.iter(|| black_box(converge(c)))
        });
    }
    let rr = cluster(1000, 3);
    g.measurement_time(Duration::from_secs(40));
    g.bench_with_input(BenchmarkId::new("reflectors_3", 1000), &rr, |b, c| {
        b.iter(|| black_box(converge(c)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
