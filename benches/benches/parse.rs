//! UPDATE parsing, side by side on the same bytes: Reflector (full validation,
//! every attribute decoded, every prefix visited; and validation alone),
//! bgpkit-parser, routecore, zettabgp and netgauze-bgp-pkt decoding each
//! message through their public single-message APIs, a lengths-only walk, and
//! a plain byte sum as the memory-bound ceiling.
//!
//! Inputs: every UPDATE of `updates.et-header.2015.gz` (a full IPv4 table) and
//! `updates.20190101.0000.gz` (RIPE RIS rrc00, five minutes), decompressed and
//! extracted once before timing.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use reflector_benches::{
    byte_sum, lengths_walk, validate_reflector, visit_reflector, Updates, Visit,
};

fn visit_bgpkit(u: &Updates, all: &Bytes) -> Visit {
    use bgpkit_parser::models::{AsnLength, AttributeValue, BgpMessage};
    use bgpkit_parser::parser::bgp::messages::parse_bgp_message;
    let mut v = Visit::default();
    for (&(a, b), &four) in u.spans.iter().zip(&u.four_octet) {
        let mut data = all.slice(a..b);
        let asn = if four {
            AsnLength::Bits32
        } else {
            AsnLength::Bits16
        };
        match parse_bgp_message(&mut data, false, &asn) {
            Ok(BgpMessage::Update(m)) => {
                v.ok += 1;
                v.prefixes += (m.announced_prefixes.len() + m.withdrawn_prefixes.len()) as u64;
                for attr in m.attributes.iter() {
                    v.attributes += 1;
                    match attr {
                        AttributeValue::MpReachNlri(n) | AttributeValue::MpUnreachNlri(n) => {
                            v.prefixes += n.prefixes.len() as u64
                        }
                        _ => {}
                    }
                }
                v.checksum = v.checksum.rotate_left(5) ^ m.announced_prefixes.len() as u64;
            }
            _ => v.errors += 1,
        }
    }
    v
}

fn visit_routecore(u: &Updates) -> Visit {
    use routecore::bgp::message::update::UpdateMessage;
    use routecore::bgp::message::SessionConfig;
    let modern = SessionConfig::modern();
    let legacy = SessionConfig::legacy();
    let mut v = Visit::default();
    for (m, &four) in u.messages().zip(&u.four_octet) {
        let cfg = if four { &modern } else { &legacy };
        let Ok(upd) = UpdateMessage::from_octets(m, cfg) else {
            v.errors += 1;
            continue;
        };
        let mut ok = true;
        let mut prefixes = 0u64;
        let mut attrs = 0u64;
        match upd.path_attributes() {
            Ok(pas) => {
                for pa in pas {
                    match pa.and_then(|p| p.to_owned()) {
                        Ok(owned) => {
                            attrs += 1;
                            black_box(&owned);
                        }
                        Err(_) => ok = false,
                    }
                }
            }
            Err(_) => ok = false,
        }
        match upd.announcements() {
            Ok(it) => {
                for n in it {
                    match n {
                        Ok(n) => {
                            prefixes += 1;
                            black_box(&n);
                        }
                        Err(_) => ok = false,
                    }
                }
            }
            Err(_) => ok = false,
        }
        match upd.withdrawals() {
            Ok(it) => {
                for n in it {
                    match n {
                        Ok(n) => {
                            prefixes += 1;
                            black_box(&n);
                        }
                        Err(_) => ok = false,
                    }
                }
            }
            Err(_) => ok = false,
        }
        if ok {
            v.ok += 1;
            v.prefixes += prefixes;
            v.attributes += attrs;
        } else {
            v.errors += 1;
        }
    }
    v
}

fn visit_zettabgp(u: &Updates) -> Visit {
    use zettabgp::prelude::{
        BgpAddrs, BgpAttrItem, BgpMessage, BgpSessionParams, BgpTransportMode, BgpUpdateMessage,
    };
    let params = |four: bool| {
        let mut p = BgpSessionParams::new(
            64512,
            180,
            BgpTransportMode::IPv4,
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            Vec::new(),
        );
        p.has_as32bit = four;
        // Guessing path identifiers would misread plain NLRI; the dumps have none.
        p.fuzzy_pathid = false;
        p
    };
    let (p4, p2) = (params(true), params(false));
    let addrs = |a: &BgpAddrs| -> u64 {
        match a {
            BgpAddrs::None => 0,
            BgpAddrs::IPV4U(v) | BgpAddrs::IPV4M(v) => v.len() as u64,
            BgpAddrs::IPV6U(v) | BgpAddrs::IPV6M(v) => v.len() as u64,
            BgpAddrs::IPV4UP(v) | BgpAddrs::IPV4MP(v) => v.len() as u64,
            BgpAddrs::IPV6UP(v) | BgpAddrs::IPV6MP(v) => v.len() as u64,
            _ => 1,
        }
    };
    let mut v = Visit::default();
    for (m, &four) in u.messages().zip(&u.four_octet) {
        let mut upd = BgpUpdateMessage::new();
        let body = m.get(19..).unwrap_or(&[]);
        match upd.decode_from(if four { &p4 } else { &p2 }, body) {
            Ok(()) => {
                v.ok += 1;
                v.prefixes += addrs(&upd.updates) + addrs(&upd.withdraws);
                for a in &upd.attrs {
                    v.attributes += 1;
                    match a {
                        BgpAttrItem::MPUpdates(x) => v.prefixes += addrs(&x.addrs),
                        BgpAttrItem::MPWithdraws(x) => v.prefixes += addrs(&x.addrs),
                        _ => {}
                    }
                }
                black_box(&upd);
            }
            Err(_) => v.errors += 1,
        }
    }
    v
}

fn visit_netgauze(u: &Updates) -> Visit {
    use netgauze_bgp_pkt::path_attribute::{MpReach, MpUnreach, PathAttributeValue};
    use netgauze_bgp_pkt::wire::deserializer::BgpParsingContext;
    use netgauze_bgp_pkt::BgpMessage;
    use netgauze_parse_utils::reader::SliceReader;
    use netgauze_parse_utils::traits::ParseFromWithOneInput;
    let mut ctx4 = BgpParsingContext::default();
    ctx4.set_asn4(true);
    let mut ctx2 = BgpParsingContext::default();
    ctx2.set_asn4(false);
    let mut v = Visit::default();
    for (m, &four) in u.messages().zip(&u.four_octet) {
        let ctx = if four { &mut ctx4 } else { &mut ctx2 };
        match BgpMessage::parse(&mut SliceReader::new(m), ctx) {
            Ok(BgpMessage::Update(upd)) => {
                v.ok += 1;
                v.prefixes += (upd.nlri().len() + upd.withdraw_routes().len()) as u64;
                for a in upd.path_attributes() {
                    v.attributes += 1;
                    match a.value() {
                        PathAttributeValue::MpReach(MpReach::Ipv6Unicast { nlri, .. }) => {
                            v.prefixes += nlri.len() as u64
                        }
                        PathAttributeValue::MpReach(MpReach::Ipv4Unicast { nlri, .. }) => {
                            v.prefixes += nlri.len() as u64
                        }
                        PathAttributeValue::MpUnreach(MpUnreach::Ipv6Unicast { nlri, .. }) => {
                            v.prefixes += nlri.len() as u64
                        }
                        PathAttributeValue::MpUnreach(MpUnreach::Ipv4Unicast { nlri, .. }) => {
                            v.prefixes += nlri.len() as u64
                        }
                        _ => {}
                    }
                }
                black_box(&upd);
            }
            _ => v.errors += 1,
        }
    }
    v
}

fn parse(c: &mut Criterion) {
    for name in ["updates.et-header.2015.gz", "updates.20190101.0000.gz"] {
        let u = Updates::load(name);
        let all = Bytes::from(u.bytes.clone());
        let total = u.bytes.len() as u64;
        // What each decoder sees, once, so the table can say whether they did the same work.
        let reference = visit_reflector(&u);
        eprintln!(
            "{name}: {} UPDATEs, {} bytes, {} prefixes, {} attributes",
            u.len(),
            total,
            reference.prefixes,
            reference.attributes
        );
        let rows: [(&str, Visit); 6] = [
            ("reflector", reference),
            ("lengths-only", lengths_walk(&u)),
            ("bgpkit-parser", visit_bgpkit(&u, &all)),
            ("routecore", visit_routecore(&u)),
            ("zettabgp", visit_zettabgp(&u)),
            ("netgauze-bgp-pkt", visit_netgauze(&u)),
        ];
        for (who, v) in rows {
            eprintln!(
                "  {who:<17} ok {:>6}  errors {:>5}  prefixes {:>7}  attributes {:>7}",
                v.ok, v.errors, v.prefixes, v.attributes
            );
        }
        let mut g = c.benchmark_group(format!("parse/{name}"));
        g.throughput(Throughput::Bytes(total));
        g.sample_size(20);
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(4));
        g.bench_function(BenchmarkId::from_parameter("byte-sum"), |b| {
            b.iter(|| byte_sum(black_box(&u.bytes)))
        });
        g.bench_function(BenchmarkId::from_parameter("lengths-only"), |b| {
            b.iter(|| lengths_walk(black_box(&u)))
        });
        g.bench_function(BenchmarkId::from_parameter("reflector-validate"), |b| {
            b.iter(|| validate_reflector(black_box(&u)))
        });
        g.bench_function(BenchmarkId::from_parameter("reflector-full"), |b| {
            b.iter(|| visit_reflector(black_box(&u)))
        });
        g.bench_function(BenchmarkId::from_parameter("bgpkit-parser"), |b| {
            b.iter(|| visit_bgpkit(black_box(&u), &all))
        });
        g.bench_function(BenchmarkId::from_parameter("routecore"), |b| {
            b.iter(|| visit_routecore(black_box(&u)))
        });
        g.bench_function(BenchmarkId::from_parameter("zettabgp"), |b| {
            b.iter(|| visit_zettabgp(black_box(&u)))
        });
        g.bench_function(BenchmarkId::from_parameter("netgauze-bgp-pkt"), |b| {
            b.iter(|| visit_netgauze(black_box(&u)))
        });
        g.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
