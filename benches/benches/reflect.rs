//! Reflection in-process: one client injects a full IPv4 table into an engine
//! with 4 and with 20 other clients; each iteration feeds every UPDATE and
//! drains every client's output with `take_transmit`. Throughput is routes
//! reflected: prefixes × receiving clients.
//!
//! Tables: the real one in `updates.et-header.2015.gz` (its UPDATEs fed as
//! they are: a client session accepts them), and a synthetic 1M-prefix table
//! with 300k distinct attribute sets built on real AS paths.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use reflector_benches::{real_as_paths, synthetic_table, Bench, Updates};

fn reflect(c: &mut Criterion) {
    let real = Updates::load("updates.et-header.2015.gz");
    let rrc = Updates::load("updates.20190101.0000.gz");
    let paths = real_as_paths(&[&real, &rrc]);
    let synth = synthetic_table(1_000_000, 300_000, &paths, 1);
    let real_msgs: Vec<&[u8]> = real.messages().collect();
    let synth_msgs: Vec<&[u8]> = synth.messages.iter().map(Vec::as_slice).collect();
    eprintln!(
        "synthetic: {} prefixes, {} attribute sets from {} real AS paths, {} UPDATEs, {} bytes",
        synth.prefixes,
        synth.attr_sets,
        paths.len(),
        synth.messages.len(),
        synth.bytes()
    );
    for (name, msgs) in [("real-577k", &real_msgs), ("synthetic-1m", &synth_msgs)] {
        for clients in [4usize, 20] {
            // One run outside timing: what is reflected, and that every UPDATE is accepted.
            let mut b = Bench::new(clients);
            let refused = b.inject(msgs.iter().copied());
            let out = b.drain();
            let (v4, _) = b.engine.prefix_counts();
            let sent = b.prefixes_sent();
            let mem = b.engine.memory();
            eprintln!(
                "{name} to {clients} clients: {} UPDATEs ({refused} refused), Loc-RIB {v4} prefixes, \
                 {} attribute sets, {} prefixes sent per client, {} bytes out per client",
                msgs.len(),
                mem.attr_sets,
                sent.first().copied().unwrap_or(0),
                out / clients
            );
            assert_eq!(refused, 0, "{name}: UPDATEs refused");
            assert!(sent.iter().all(|&s| s == v4 as u64), "{name}: {sent:?}");
            drop(b);

            let routes = v4 as u64 * clients as u64;
            let mut g = c.benchmark_group(format!("reflect/{name}"));
            g.throughput(Throughput::Elements(routes));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(500));
            g.measurement_time(Duration::from_secs(20));
            g.bench_function(BenchmarkId::new("clients", clients), |bench| {
                bench.iter_batched(
                    || Bench::new(clients),
                    |mut b| {
                        b.inject(msgs.iter().copied());
                        b.drain();
                        b
                    },
                    BatchSize::PerIteration,
                )
            });
            g.finish();
        }
    }
}

criterion_group!(benches, reflect);
criterion_main!(benches);
