//! Many ADD-PATH paths for one prefix: one client sends N paths (path
//! identifiers 1..N) for each of 16 prefixes, one UPDATE per path, to an
//! ADD-PATH client that is sent every path, flushed once at the end. Time
//! per path should stay flat as N grows: no scan of a prefix's paths per
//! insert or lookup, and a flush that ranks and diffs each prefix once
//! (n log n).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use reflector_core::engine::{AddPathSend, Engine, EngineConfig, Negotiated, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Nlri, UpdateRepr};

const AS: u32 = 64512;
const PREFIXES: u32 = 16;

fn add_path_ctx() -> Context {
    Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
        ..Context::MODERN
    }
}

/// One UPDATE per (prefix, path): path `i` of prefix `k` with next hop 10.(i/256).(i%256).1.
fn updates(n: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 1..=n {
        for k in 0..PREFIXES {
            let u = UpdateRepr {
                withdrawn: vec![],
                attributes: vec![
                    AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
                    AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[65000 + i % 7]))),
                    AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(
                        10,
                        (i / 256) as u8,
                        (i % 256) as u8,
                        1,
                    ))),
                    AttributeRepr::new(AttributeValue::LocalPref(100 + i % 3)),
                ],
                nlri: vec![Nlri {
                    path_id: Some(i),
                    prefix: format!("192.0.{k}.0/24").parse().unwrap(),
                }],
            };
            out.push(u.to_vec(&add_path_ctx()).unwrap());
        }
    }
    out
}

fn setup() -> (
    Engine,
    reflector_core::rib::PeerId,
    reflector_core::rib::PeerId,
) {
    let mut e = Engine::new(EngineConfig::new(AS, Ipv4Addr::new(10, 255, 0, 1)));
    let mut neg = Negotiated::unicast(Ipv4Addr::new(10, 0, 0, 1));
    neg.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    let src = e.add_peer(PeerConfig::new(
        Role::Client,
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        AS,
    ));
    e.peer_up(src, neg);
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), AS);
    cfg.add_path_send = AddPathSend::All;
    let dst = e.add_peer(cfg);
    let mut neg = Negotiated::unicast(Ipv4Addr::new(10, 0, 0, 2));
    neg.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(dst, neg);
    let _ = e.take_transmit(dst);
    (e, src, dst)
}

fn add_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("add_path/paths_per_prefix");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(5));
    for n in [16u32, 256, 4096] {
        let msgs = updates(n);
        g.throughput(Throughput::Elements(u64::from(n * PREFIXES)));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_batched(
                setup,
                |(mut e, src, dst)| {
                    for m in &msgs {
                        let _ = e.handle_message(src, m);
                    }
                    e.take_transmit(dst).len()
                },
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, add_path);
criterion_main!(benches);
