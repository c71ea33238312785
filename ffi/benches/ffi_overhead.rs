//! FFI overhead: the same reflection workload (100,000 IPv4 prefixes from one
//! client, reflected to 4 clients) driven through the native Rust engine and
//! through the C ABI, in one run, on the same bytes.
//!
//! `cargo bench -p reflector-ffi --bench ffi_overhead`
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod workload;

fn reflect(c: &mut Criterion) {
    let inputs = workload::synthetic(100_000);
    let mut g = c.benchmark_group("reflect_100k_prefixes_to_4_clients");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("native", |b| {
        b.iter(|| black_box(workload::run_native(black_box(&inputs), 1, 4)))
    });
    g.bench_function("c_abi", |b| {
        b.iter(|| black_box(workload::run_ffi(black_box(&inputs), 1, 4)))
    });
    g.finish();
}

criterion_group!(benches, reflect);
criterion_main!(benches);
