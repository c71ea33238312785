//! One run per scenario, each in a fresh process: wall time and peak memory to convergence.
//!
//! `cargo bench -p reflector-sim --bench simulate_memory [-- SCENARIO...]`
//!
//! Scenarios are `rr:N:R` (N nodes, R route reflectors, mesh off) and
//! `mesh:N` (the same N nodes as a full node-to-node mesh). Default:
//! `rr:1000:3 mesh:1000`. The parent re-runs this binary once per scenario so
//! that each peak resident set size (`VmHWM` of `/proc/self/status`) belongs
//! to one scenario alone; it is the whole process's peak, cluster and plan
//! included; `built RSS` is the peak once the engines are built and the
//! sessions up, before any message moves. `RIB` is what the engines' own
//! accounting says their RIBs hold at the end.

use std::process::Command;
use std::time::Instant;

use reflector_sim::generate::{generate, GenerateOptions};
use reflector_sim::Network;

const CHILD: &str = "REFLECTOR_SIM_BENCH_SCENARIO";

/// A `VmHWM`/`VmRSS` line of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn fail(msg: String) -> ! {
    eprintln!("simulate_memory: {msg}");
    std::process::exit(1)
}

/// Runs one scenario in this process and prints one result line.
fn child(scenario: &str) {
    let parts: Vec<&str> = scenario.split(':').collect();
    let num = |i: usize| -> usize {
        parts
            .get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fail(format!("bad scenario {scenario:?}")))
    };
    let (nodes, reflectors, mesh) = match parts.first() {
        Some(&"rr") => (num(1), num(2), false),
        Some(&"mesh") => (num(1), 3, true),
        _ => fail(format!("bad scenario {scenario:?} (rr:N:R or mesh:N)")),
    };
    let before = status_kib("VmHWM:");
    let mut cluster = generate(&GenerateOptions {
        nodes,
        reflectors,
        ..GenerateOptions::default()
    })
    .unwrap_or_else(|e| fail(e.to_string()));
    if mesh {
        cluster.bgp_configuration.node_to_node_mesh_enabled = Some(true);
        for n in &mut cluster.nodes {
            n.route_reflector_cluster_id = None;
        }
        cluster.bgp_peers.clear();
    }
    let t0 = Instant::now();
    let mut net = Network::from_cluster(&cluster).unwrap_or_else(|e| fail(e.to_string()));
    let built = t0.elapsed();
    let built_peak = status_kib("VmHWM:");
    let rep = net.run(10_000);
    let total = t0.elapsed();
    if !rep.converged {
        fail(format!("{scenario}: did not converge"));
    }
    let rib: usize = (0..nodes)
        .filter_map(|i| net.engine(i))
        .map(|e| {
            let m = e.memory();
            m.table_bytes + m.attr_bytes
        })
        .sum();
    let peak = status_kib("VmHWM:");
    println!(
        "{scenario}\t{}\t{}\t{}\t{}\t{:.3}\t{:.3}\t{}\t{}\t{}\t{}",
        net.plan().sessions.len(),
        rep.steps,
        rep.messages,
        rep.bytes,
        built.as_secs_f64(),
        total.as_secs_f64(),
        peak,
        before,
        rib / 1024,
        built_peak
    );
}

fn main() {
    if let Ok(s) = std::env::var(CHILD) {
        child(&s);
        return;
    }
    // cargo bench passes `--bench`; every other argument is a scenario.
    let mut scenarios: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if scenarios.is_empty() {
        scenarios = vec!["rr:1000:3".into(), "mesh:1000".into()];
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(e.to_string()));
    println!(
        "{:<12} {:>9} {:>5} {:>10} {:>12} {:>9} {:>9} {:>14} {:>12} {:>10}",
        "scenario",
        "sessions",
        "steps",
        "messages",
        "bytes",
        "build s",
        "total s",
        "built RSS MiB",
        "peak RSS MiB",
        "RIB MiB"
    );
    for s in &scenarios {
        let out = Command::new(&exe)
            .env(CHILD, s)
            .output()
            .unwrap_or_else(|e| fail(e.to_string()));
        if !out.status.success() {
            fail(format!(
                "{s}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.trim().split('\t').collect();
        let kib = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let get = |i: usize| f.get(i).copied().unwrap_or("?");
        println!(
            "{:<12} {:>9} {:>5} {:>10} {:>12} {:>9} {:>9} {:>14.1} {:>12.1} {:>10.1}",
            get(0),
            get(1),
            get(2),
            get(3),
            get(4),
            get(5),
            get(6),
            kib(10) as f64 / 1024.0,
            kib(7) as f64 / 1024.0,
            kib(9) as f64 / 1024.0,
        );
    }
}
