//! The reflected attribute block, on random canonical sets.
//!
//! `reflect::rewrite` takes a fast path for reflection to a 4-octet iBGP peer
//! (one pass copying TLVs through) and the general rewrite for every other
//! class. The general rewrite is private; it is reached here through the
//! 2-octet reflection class on the set without AS_PATH and AGGREGATOR (the
//! only attributes whose handling depends on the receiver's AS width: every
//! other TLV goes through the same code for both widths), with those two TLVs
//! put back in type order as the 4-octet general rewrite copies them.
//!
//! Both are also checked against a model written from RFC 4456 §8 and RFC
//! 4271 §5.1.5: ORIGINATOR_ID set to the sender's router ID when absent, our
//! CLUSTER_ID prepended to CLUSTER_LIST (created when absent), LOCAL_PREF
//! added when absent, everything else unchanged, in type order with the
//! Extended Length flag exactly when a value exceeds 255 bytes.
//!
//! CLUSTER_LIST lengths are drawn near the 255-byte boundary and near the
//! 4,096-byte message limit; the reflected block is then packed into UPDATEs
//! of at most 4,096 bytes, and must either fit (and parse back with the same
//! attributes) or be refused only when it really does not fit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use proptest::prelude::*;
use reflector_core::error::ErrorKind;
use reflector_core::reflect::{
    canonicalize, rewrite, ExportClass, ImportContext, LocalIdentity, Packer, Role,
};
use reflector_core::wire::attribute::{flags, type_code, AttrIter, Origin, SegmentType};
use reflector_core::wire::update_repr::{
    Aggregator, AsPath, AttributeRepr, AttributeValue, LargeCommunity, Segment,
};
use reflector_core::wire::{AfiSafi, Context, Nlri, Prefix, UpdatePacket, UpdateRepr};

const ME: LocalIdentity = LocalIdentity {
    asn: 63400,
    cluster_id: 0x0a00_00fe,
    default_local_pref: 100,
};

/// 19-byte header, withdrawn-routes length, total path attribute length.
const FIXED: usize = 19 + 2 + 2;
const MAX: usize = 4096;

/// A TLV: flags, type code, value.
type Tlv = (u8, u8, Vec<u8>);

fn tlvs(block: &[u8]) -> Vec<Tlv> {
    AttrIter::new_checked(block, 0)
        .unwrap()
        .map(|a| (a.flags, a.type_code, a.value.to_vec()))
        .collect()
}

/// Encode TLVs with the Extended Length flag exactly when needed.
fn encode(list: &[Tlv]) -> Vec<u8> {
    let mut out = Vec::new();
    for (fl, t, v) in list {
        let fl = fl & !flags::EXTENDED_LENGTH;
        if v.len() > 255 {
            out.push(fl | flags::EXTENDED_LENGTH);
            out.push(*t);
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        } else {
            out.push(fl);
            out.push(*t);
            out.push(v.len() as u8);
        }
        out.extend_from_slice(v);
    }
    out
}

/// RFC 4456 §8 (and RFC 4271 §5.1.5 for LOCAL_PREF) on a canonical set.
fn model(block: &[u8], originator: u32) -> Vec<u8> {
    let mut list = tlvs(block);
    let has = |list: &[Tlv], t: u8| list.iter().any(|a| a.1 == t);
    if !has(&list, type_code::LOCAL_PREF) {
        list.push((
            flags::TRANSITIVE,
            type_code::LOCAL_PREF,
            ME.default_local_pref.to_be_bytes().to_vec(),
        ));
    }
    if !has(&list, type_code::ORIGINATOR_ID) {
        list.push((
            flags::OPTIONAL,
            type_code::ORIGINATOR_ID,
            originator.to_be_bytes().to_vec(),
        ));
    }
    match list.iter_mut().find(|a| a.1 == type_code::CLUSTER_LIST) {
        Some(a) => {
            let mut v = ME.cluster_id.to_be_bytes().to_vec();
            v.extend_from_slice(&a.2);
            a.2 = v;
        }
        None => list.push((
            flags::OPTIONAL,
            type_code::CLUSTER_LIST,
            ME.cluster_id.to_be_bytes().to_vec(),
        )),
    }
    list.sort_by_key(|a| a.1);
    encode(&list)
}

/// The general rewrite for a 4-octet receiver, from the 2-octet one (see the module doc).
fn general(block: &[u8], originator: u32) -> Vec<u8> {
    let all = tlvs(block);
    let width_dependent = |t: u8| t == type_code::AS_PATH || t == type_code::AGGREGATOR;
    let rest: Vec<Tlv> = all
        .iter()
        .filter(|a| !width_dependent(a.1))
        .cloned()
        .collect();
    let class = ExportClass::Reflect {
        originator,
        four_octet: false,
    };
    let out = rewrite(&encode(&rest), None, &class, &ME);
    let mut list = tlvs(&out.attrs);
    // Neither AS4_PATH nor AS4_AGGREGATOR: nothing needed four octets.
    assert!(list.iter().all(|a| a.1 != 17 && a.1 != 18));
    list.extend(all.into_iter().filter(|a| width_dependent(a.1)));
    list.sort_by_key(|a| a.1);
    encode(&list)
}

fn fast(block: &[u8], originator: u32) -> Vec<u8> {
    let class = ExportClass::Reflect {
        originator,
        four_octet: true,
    };
    rewrite(block, None, &class, &ME).attrs.to_vec()
}

// ---------------------------------------------------------------------------
// Random attribute sets, as a client would send them.

fn ids(n: usize) -> Vec<u32> {
    (0..n as u32).map(|i| 0x0a01_0000 + i).collect()
}

/// CLUSTER_LIST sizes: short, around the 255-byte value boundary (63/64 IDs
/// make 252/256 bytes; one more on reflection crosses it), and around the
/// 4,096-byte message limit.
fn cluster_list_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 1usize..4,
        3 => 61usize..66,
        3 => 1000usize..1020,
    ]
}

fn attributes() -> impl Strategy<Value = Vec<AttributeRepr>> {
    (
        (
            prop_oneof![
                Just(Origin::Igp),
                Just(Origin::Egp),
                Just(Origin::Incomplete)
            ],
            prop::collection::vec(
                prop_oneof![Just(65001u32), Just(4_200_000_001), Just(3356)],
                0..4,
            ),
            any::<bool>(),
            prop::option::of(any::<u32>()),
            prop::option::of(any::<u32>()),
            any::<bool>(),
            prop::option::of(prop_oneof![Just(65001u32), Just(4_200_000_001)]),
        ),
        (
            prop::option::of(1usize..80),
            prop::option::of(any::<u32>()),
            prop::option::of(cluster_list_len()),
            prop::option::of(1usize..3),
            prop::option::of(0usize..300),
            prop::option::of(0usize..300),
        ),
    )
        .prop_map(
            |(
                (origin, path, set, med, lp, atomic, aggr),
                (communities, originator, cl, large, unknown_t, unknown_nt),
            )| {
                let mut v = vec![AttributeRepr::new(AttributeValue::Origin(origin))];
                let mut segments = Vec::new();
                if !path.is_empty() {
                    segments.push(Segment {
                        kind: SegmentType::Sequence,
                        asns: path,
                    });
                }
                if set {
                    segments.push(Segment {
                        kind: SegmentType::Set,
                        asns: vec![65010, 65011],
                    });
                }
                v.push(AttributeRepr::new(AttributeValue::AsPath(AsPath {
                    segments,
                })));
                v.push(AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(
                    10, 0, 0, 1,
                ))));
                if let Some(m) = med {
                    v.push(AttributeRepr::new(AttributeValue::Med(m)));
                }
                if let Some(l) = lp {
                    v.push(AttributeRepr::new(AttributeValue::LocalPref(l)));
                }
                if atomic {
                    v.push(AttributeRepr::new(AttributeValue::AtomicAggregate));
                }
                if let Some(asn) = aggr {
                    v.push(AttributeRepr::new(AttributeValue::Aggregator(Aggregator {
                        asn,
                        address: Ipv4Addr::new(10, 0, 0, 9),
                    })));
                }
                if let Some(n) = communities {
                    v.push(AttributeRepr::new(AttributeValue::Communities(
                        (0..n as u32).map(|i| 0x0001_0000 + i).collect(),
                    )));
                }
                if let Some(o) = originator {
                    v.push(AttributeRepr::new(AttributeValue::OriginatorId(
                        Ipv4Addr::from(o),
                    )));
                }
                if let Some(n) = cl {
                    v.push(AttributeRepr::new(AttributeValue::ClusterList(ids(n))));
                }
                if let Some(n) = large {
                    v.push(AttributeRepr::new(AttributeValue::LargeCommunities(
                        (0..n as u32)
                            .map(|i| LargeCommunity {
                                global: 63400,
                                local1: i,
                                local2: 0,
                            })
                            .collect(),
                    )));
                }
                // Unknown optional attributes: transitive ones travel on
                // (Partial set), non-transitive ones are dropped on import.
                if let Some(n) = unknown_t {
                    let mut a = AttributeRepr::new(AttributeValue::Unknown {
                        type_code: 99,
                        value: vec![7; n],
                    });
                    a.flags = flags::OPTIONAL | flags::TRANSITIVE;
                    v.push(a);
                }
                if let Some(n) = unknown_nt {
                    let mut a = AttributeRepr::new(AttributeValue::Unknown {
                        type_code: 98,
                        value: vec![8; n],
                    });
                    a.flags = flags::OPTIONAL;
                    v.push(a);
                }
                v
            },
        )
}

/// The canonical set the engine would intern for these attributes from a client.
fn canonical(attributes: Vec<AttributeRepr>) -> Vec<u8> {
    let ctx = Context {
        extended_message: true,
        ..Context::MODERN
    };
    let msg = UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: vec![Nlri::new("10.1.0.0/16".parse().unwrap())],
    }
    .to_vec(&ctx)
    .unwrap();
    let pkt = UpdatePacket::new_checked(&msg[..], &ctx).unwrap();
    let mut block = Vec::new();
    canonicalize(
        pkt.attributes(),
        &ImportContext {
            role: Role::Client,
            four_octet: true,
            bgp_role: None,
            peer_as: 63400,
        },
        true,
        &mut block,
    );
    block
}

fn prefix() -> impl Strategy<Value = Prefix> {
    prop_oneof![
        (0u8..=32).prop_map(|l| Prefix::V4(
            reflector_core::wire::Ipv4Prefix::new(Ipv4Addr::new(10, 1, 2, 3), l).unwrap()
        )),
        Just("10.1.0.0/16".parse().unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fast_reflect_rewrite_equals_the_general_rewrite_and_rfc4456(
        attrs in attributes(),
        originator in any::<u32>(),
        nlri in prop::collection::vec(prefix(), 1..4),
        add_path in any::<bool>(),
    ) {
        let block = canonical(attrs);
        let f = fast(&block, originator);
        prop_assert_eq!(&f, &general(&block, originator));
        prop_assert_eq!(&f, &model(&block, originator));

        // Packed for a 4,096-byte session: every message fits and carries the
        // block; or nothing is written, and only when a prefix cannot fit.
        let blk = rewrite(&block, None, &ExportClass::Reflect { originator, four_octet: true }, &ME);
        let nlri: Vec<Nlri> = nlri
            .into_iter()
            .enumerate()
            .map(|(i, p)| Nlri { prefix: p, path_id: add_path.then_some(i as u32 + 1) })
            .collect();
        let nlri_len = |n: &Nlri| n.prefix.wire_len() + if add_path { 4 } else { 0 };
        let mut out = Vec::new();
        let res = Packer::new(&mut out, MAX, add_path).announce(AfiSafi::IPV4_UNICAST, &blk, &nlri);
        let largest = nlri.iter().map(nlri_len).max().unwrap();
        match res {
            Ok(done) => {
                prop_assert_eq!(done.prefixes as usize, nlri.len());
                let mut ctx = Context::MODERN;
                if add_path {
                    ctx.add_path = ctx.add_path.with(AfiSafi::IPV4_UNICAST);
                }
                let mut rest = &out[..];
                let mut got = Vec::new();
                while !rest.is_empty() {
                    let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
                    prop_assert!(len <= MAX, "{} bytes", len);
                    let (m, tail) = rest.split_at(len);
                    rest = tail;
                    let p = UpdatePacket::new_checked(m, &ctx).unwrap();
                    let attrs: Vec<u8> = p.attributes().flat_map(|a| {
                        let mut v = Vec::new();
                        let fl = a.flags & !flags::EXTENDED_LENGTH;
                        if a.value.len() > 255 {
                            v.extend_from_slice(&[fl | flags::EXTENDED_LENGTH, a.type_code]);
                            v.extend_from_slice(&(a.value.len() as u16).to_be_bytes());
                        } else {
                            v.extend_from_slice(&[fl, a.type_code, a.value.len() as u8]);
                        }
                        v.extend_from_slice(a.value);
                        v
                    }).collect();
                    prop_assert_eq!(&attrs[..], &blk.attrs[..]);
                    got.extend(p.nlri().map(|n| n.prefix));
                }
                prop_assert_eq!(got, nlri.iter().map(|n| n.prefix).collect::<Vec<_>>());
            }
            Err(e) => {
                prop_assert_eq!(e.kind, ErrorKind::Overflow);
                prop_assert!(out.is_empty());
                prop_assert!(
                    FIXED + blk.attrs.len() + largest > MAX,
                    "refused although {} + {} + {} <= {}",
                    FIXED, blk.attrs.len(), largest, MAX
                );
            }
        }
    }
}
