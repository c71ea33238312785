//! Byte-exact round trip of UPDATE messages: `emit(parse(m)) == m` for every
//! well-formed UPDATE in the shared MRT dumps and packet captures, and
//! `parse(emit(r)) == r` for generated `UpdateRepr`s covering every attribute
//! kind, unknown attributes with their flags, IPv6 MP_REACH/MP_UNREACH and
//! ADD-PATH path identifiers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use reflector_core::mrt::{Body, Records, ADD_PATH_ALL};
use reflector_core::wire::attribute::{flags, Origin, SegmentType};
use reflector_core::wire::open::{Negotiated, OpenPacket};
use reflector_core::wire::update_repr::{
    Aggregator, AsPath, LargeCommunity, MpNlri, MpReachRepr, MpUnreachRepr, Segment,
};
use reflector_core::wire::{
    AfiSafi, AfiSafiSet, AttributeRepr, AttributeValue, Context, Ipv4Prefix, Ipv6Prefix, Nlri,
    Prefix, UpdatePacket, UpdateRepr,
};
use reflector_core::Action;
use reflector_testdata::mrt::{load_mrt, MRT_FILES};
use reflector_testdata::pcap::{bgp_messages, CapturedMessage, StreamId};

/// How an UPDATE fared under a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Well formed ([`UpdatePacket::new_checked`] accepts it) and re-encoded byte for byte.
    WellFormed,
    /// Malformed in a way RFC 7606 survives by treat-as-withdraw, with no attribute
    /// discarded or duplicated: its owned form still re-encodes byte for byte.
    TreatAsWithdraw,
    /// Not decodable under the context, or with attributes RFC 7606 drops.
    Rejected,
}

/// Re-encode `p`'s owned form and compare with `msg`.
fn assert_round_trip<T: AsRef<[u8]>>(p: &UpdatePacket<T>, msg: &[u8], ctx: &Context, what: &str) {
    let r = UpdateRepr::parse(p);
    assert_eq!(r.buffer_len(ctx), msg.len(), "{what}: buffer_len");
    let mut buf = vec![0u8; msg.len()];
    let n = r
        .emit(&mut buf, ctx)
        .unwrap_or_else(|e| panic!("{what}: emit failed: {e}"));
    assert_eq!(n, msg.len(), "{what}: emitted length");
    if buf != msg {
        let at = buf.iter().zip(msg).position(|(a, b)| a != b).unwrap_or(n);
        panic!(
            "{what}: round trip differs at byte {at}\n original {:02x?}\n emitted  {:02x?}",
            msg, buf
        );
    }
}

/// Parse one UPDATE and, when its owned form keeps every attribute, check
/// that it re-encodes to the same bytes.
fn round_trip(msg: &[u8], ctx: &Context, what: &str) -> Fate {
    if let Ok(p) = UpdatePacket::new_checked(msg, ctx) {
        assert_round_trip(&p, msg, ctx, what);
        return Fate::WellFormed;
    }
    match UpdatePacket::parse_revised(msg, ctx) {
        Ok((p, Some(e)))
            if e.action == Action::TreatAsWithdraw
                && p.summary().discard.is_empty()
                && !p.summary().has_duplicates =>
        {
            assert_round_trip(&p, msg, ctx, what);
            Fate::TreatAsWithdraw
        }
        _ => Fate::Rejected,
    }
}

/// Strict parse and round trip; `false` when the message is not well formed under `ctx`.
fn round_trips(msg: &[u8], ctx: &Context, what: &str) -> bool {
    let Ok(p) = UpdatePacket::new_checked(msg, ctx) else {
        return false;
    };
    assert_round_trip(&p, msg, ctx, what);
    true
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct MrtTally {
    /// UPDATE messages found in BGP4MP records.
    updates: u64,
    /// Of which well formed (and round-tripped byte for byte).
    checked: u64,
    /// Of which well formed only with ADD-PATH identifiers their record subtype did not announce.
    add_path_inferred: u64,
    /// Bytes of the round-tripped messages.
    bytes: u64,
}

fn mrt_round_trip(name: &str) -> MrtTally {
    let bytes = load_mrt(name);
    let mut t = MrtTally::default();
    for rec in Records::new(&bytes) {
        let Ok(rec) = rec else { break };
        let Body::Bgp4mpMessage(m) = rec.body else {
            continue;
        };
        if m.message.get(18) != Some(&2) {
            continue;
        }
        t.updates += 1;
        let what = format!("{name} record at {}", rec.offset);
        let ctx = m.context();
        if round_trips(m.message, &ctx, &what) {
            t.checked += 1;
        } else if !m.add_path {
            let ap = Context {
                add_path: ADD_PATH_ALL,
                ..ctx
            };
            if round_trips(m.message, &ap, &what) {
                t.checked += 1;
                t.add_path_inferred += 1;
            } else {
                continue;
            }
        } else {
            continue;
        }
        t.bytes += m.message.len() as u64;
    }
    t
}

#[test]
fn every_well_formed_update_in_the_mrt_dumps_round_trips() {
    let mut all: BTreeMap<&str, MrtTally> = BTreeMap::new();
    for name in MRT_FILES {
        let t = mrt_round_trip(name);
        if t.updates > 0 {
            all.insert(name, t);
        }
    }
    for (name, t) in &all {
        eprintln!(
            "{name}: {} UPDATEs, {} round-tripped ({} bytes, {} with inferred ADD-PATH)",
            t.updates, t.checked, t.bytes, t.add_path_inferred
        );
    }
    let get = |n: &str| all.get(n).copied().unwrap_or_default();
    // UPDATE counts from SOURCES.md; every one of them is well formed.
    for (name, updates) in [
        ("updates.20190101.0000.gz", 54_107),
        ("updates.20160811.1600.gz", 17_216),
        ("updates.20100722.2015.gz", 1_822),
        ("updates.20070211.0141.gz", 23_394),
        ("updates.et-header.2015.gz", 89_679),
        ("updates.long_withdrawal.gz", 1),
        ("bird-mrtdump_bgp.mrt", 6),
    ] {
        let t = get(name);
        assert_eq!(t.updates, updates, "{name}: UPDATEs");
        assert_eq!(t.checked, updates, "{name}: well-formed UPDATEs");
    }
    // bird_bgp.mrt carries ADD-PATH identifiers under a plain subtype (SOURCES.md).
    let bird = get("bird_bgp.mrt");
    assert!(bird.add_path_inferred > 0, "{bird:?}");
    assert_eq!(bird.checked, bird.updates, "bird_bgp.mrt");
    let total: u64 = all.values().map(|t| t.checked).sum();
    let files = all.len();
    eprintln!("MRT: {total} UPDATEs round-tripped byte for byte in {files} dumps");
    assert!(total >= 185_000, "{total}");
}

fn pcap_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/pcap"
    ))
}

/// Receive context of each direction whose session OPENs were captured.
///
/// With both OPENs the context is negotiated; when only the sender's OPEN was
/// captured (collectors whose own OPEN is missing), the receiver is taken to
/// support what the sender advertised.
fn negotiated_contexts(msgs: &[CapturedMessage]) -> HashMap<StreamId, (Context, bool)> {
    let open_of: HashMap<StreamId, &[u8]> = msgs
        .iter()
        .filter(|m| m.msg_type() == 1)
        .map(|m| (m.stream, &m.bytes[..]))
        .collect();
    let mut out = HashMap::new();
    for (&id, theirs) in &open_of {
        let Ok(theirs) = OpenPacket::new_checked(*theirs) else {
            continue;
        };
        let reverse = (id.2, id.3, id.0, id.1);
        match open_of.get(&reverse).map(|o| OpenPacket::new_checked(*o)) {
            Some(Ok(ours)) => {
                out.insert(
                    id,
                    (Negotiated::new(&ours, &theirs).receive_context(), true),
                );
            }
            _ => {
                out.insert(
                    id,
                    (Negotiated::new(&theirs, &theirs).receive_context(), false),
                );
            }
        }
    }
    out
}

/// Contexts tried, in order, for a stream whose session setup was not captured.
const GUESSES: [Context; 4] = [
    Context {
        extended_message: true,
        ..Context::MODERN
    },
    Context {
        extended_message: true,
        ..Context::LEGACY
    },
    Context {
        extended_message: true,
        add_path: ADD_PATH_ALL,
        ..Context::MODERN
    },
    Context {
        extended_message: true,
        add_path: ADD_PATH_ALL,
        ..Context::LEGACY
    },
];

#[derive(Debug, Default, Clone, Copy)]
struct PcapTally {
    updates: usize,
    /// Decoded with the context negotiated from both OPENs of the session.
    negotiated: usize,
    /// Decoded with the context of the sender's OPEN alone.
    one_open: usize,
    /// Decoded with a guessed context (no OPEN captured for the stream).
    guessed: usize,
    /// Of the above, well formed and round-tripped byte for byte.
    well_formed: usize,
    /// Of the above, treat-as-withdraw under RFC 7606, still round-tripped byte for byte.
    treat_as_withdraw: usize,
    /// Rejected under the session's context, or under every guess.
    rejected: usize,
}

fn pcap_round_trip(path: &Path, extra_opens: &[CapturedMessage]) -> PcapTally {
    let mut msgs = bgp_messages(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut with_opens = extra_opens.to_vec();
    with_opens.extend(msgs.iter().cloned());
    let ctxs = negotiated_contexts(&with_opens);
    msgs.retain(|m| m.msg_type() == 2);
    let mut t = PcapTally::default();
    for (i, m) in msgs.iter().enumerate() {
        t.updates += 1;
        let what = format!("{name} UPDATE #{i}");
        let fate = match ctxs.get(&m.stream) {
            Some(&(ctx, both)) => {
                let f = round_trip(&m.bytes, &ctx, &what);
                if f != Fate::Rejected {
                    if both {
                        t.negotiated += 1;
                    } else {
                        t.one_open += 1;
                    }
                }
                f
            }
            None => {
                let f = GUESSES
                    .iter()
                    .map(|c| round_trip(&m.bytes, c, &what))
                    .find(|f| *f == Fate::WellFormed)
                    .unwrap_or_else(|| round_trip(&m.bytes, &GUESSES[0], &what));
                if f != Fate::Rejected {
                    t.guessed += 1;
                }
                f
            }
        };
        match fate {
            Fate::WellFormed => t.well_formed += 1,
            Fate::TreatAsWithdraw => t.treat_as_withdraw += 1,
            Fate::Rejected => t.rejected += 1,
        }
    }
    t
}

#[test]
fn every_well_formed_update_in_the_captures_round_trips() {
    let dir = pcap_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "shared captures missing: {}",
        files.len()
    );
    // The OPENs of the pmacct-305 sessions were captured in a separate file.
    let opens_305 = bgp_messages(dir.join("pmacct-305_bgp-multi-sources-open.pcap")).unwrap();
    let mut all: BTreeMap<String, PcapTally> = BTreeMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let extra: &[CapturedMessage] = if name.starts_with("pmacct-305") {
            &opens_305
        } else {
            &[]
        };
        let t = pcap_round_trip(f, extra);
        if t.updates > 0 {
            all.insert(name, t);
        }
    }
    for (name, t) in &all {
        eprintln!("{name}: {t:?}");
    }
    // UPDATE counts from SOURCES.md; every one well formed under the context of its session.
    for (name, n, both_opens) in [
        ("netgauze_bgp_multiple-sessions_traffic.pcap", 100, true),
        ("bgp-4byte-asn.pcap", 10, true),
        ("bgp-lu-multiple-labels.pcap", 7, true),
        (
            "pmacct-305_bgp-multi-sources-update-keepalive.pcap",
            416,
            false,
        ),
        ("pmacct-300_BGP-IPv6-CISCO-extNH_enc.pcap", 45, false),
        (
            "pmacct-302_BGP-IPv6-multiple-sources_traffic-01.pcap",
            26,
            false,
        ),
        (
            "pmacct-502_IPFIXv10-BGP-IPv6-CISCO-SRv6-lcomms.pcap",
            28,
            false,
        ),
    ] {
        let t = all[name];
        let decoded = if both_opens { t.negotiated } else { t.one_open };
        assert_eq!(
            (t.updates, decoded, t.well_formed),
            (n, n, n),
            "{name}: {t:?}"
        );
    }
    // bgp-role.pcapng: one direction's OPEN was captured, the other's UPDATEs decode by guess.
    let t = all["bgp-role.pcapng"];
    assert_eq!(
        (t.updates, t.one_open + t.guessed, t.well_formed),
        (9, 9, 9),
        "{t:?}"
    );
    // BGPsec: BGPsec_PATH stands in for AS_PATH, so Reflector treats those 20 of
    // the 24 UPDATEs as withdrawals (missing AS_PATH); they still re-encode exactly.
    let t = all["bgp-bgpsec.pcap"];
    assert_eq!(
        (t.updates, t.negotiated, t.well_formed, t.treat_as_withdraw),
        (24, 24, 4, 20),
        "{t:?}"
    );
    // Captures without OPENs: UPDATE counts from SOURCES.md, well formed under some context.
    for (name, n) in [
        ("bgp-large-community.pcap", 5),
        ("bgp-link-bw-extcommunity.pcapng", 6),
        ("bgp-ovs.pcapng", 4),
        ("bgp-enhanced-route-refresh-subtype.pcapng", 5),
    ] {
        let t = all[name];
        assert_eq!(
            (t.updates, t.guessed, t.well_formed),
            (n, n, n),
            "{name}: {t:?}"
        );
    }
    // NEXT_HOP 0.0.0.0 next to an MP_REACH_NLRI-only announcement (route target
    // constraint, labeled unicast, IPv6): ignored as RFC 4760 §3 says, so well formed.
    for (name, n) in [
        ("bgp-rt-prefix.pcap", 8),
        ("mpbgp-linklocal-nexthop.pcap", 1),
        ("bgp-aigp-2.pcap", 1),
    ] {
        let t = all[name];
        assert_eq!((t.updates, t.well_formed), (n, n), "{name}: {t:?}");
    }
    // bgp-addpath.pcap: its MP_REACH_NLRI carries well-known flags (0x40): session reset.
    assert_eq!(all["bgp-addpath.pcap"].rejected, 1);
    let exact: usize = all
        .values()
        .map(|t| t.well_formed + t.treat_as_withdraw)
        .sum();
    let updates: usize = all.values().map(|t| t.updates).sum();
    let rejected: Vec<(&String, usize)> = all
        .iter()
        .filter(|(_, t)| t.rejected > 0)
        .map(|(n, t)| (n, t.rejected))
        .collect();
    eprintln!("captures: {exact} of {updates} UPDATEs round-tripped; rejected: {rejected:?}");
    assert!(exact >= 750, "{exact}");
}

// ---------------------------------------------------------------------------
// Generated messages.

fn v4_prefix() -> impl Strategy<Value = Prefix> {
    (any::<u32>(), 0u8..=32)
        .prop_map(|(a, l)| Prefix::V4(Ipv4Prefix::new(Ipv4Addr::from_bits(a), l).unwrap()))
}

fn v6_prefix() -> impl Strategy<Value = Prefix> {
    (any::<u128>(), 0u8..=128)
        .prop_map(|(a, l)| Prefix::V6(Ipv6Prefix::new(Ipv6Addr::from_bits(a), l).unwrap()))
}

fn nlri_list(
    p: impl Strategy<Value = Prefix>,
    add_path: bool,
    max: usize,
) -> impl Strategy<Value = Vec<Nlri>> {
    prop::collection::vec((p, any::<u32>()), 0..max).prop_map(move |v| {
        v.into_iter()
            .map(|(prefix, id)| Nlri {
                path_id: add_path.then_some(id),
                prefix,
            })
            .collect()
    })
}

fn as_path(four_octet: bool) -> impl Strategy<Value = AsPath> {
    let asn = if four_octet {
        any::<u32>().boxed()
    } else {
        (0u32..=0xffff).boxed()
    };
    let kind = prop_oneof![
        Just(SegmentType::Sequence),
        Just(SegmentType::Set),
        Just(SegmentType::ConfedSequence),
        Just(SegmentType::ConfedSet),
    ];
    prop::collection::vec(
        (kind, prop::collection::vec(asn, 1..12)).prop_map(|(kind, asns)| Segment { kind, asns }),
        0..4,
    )
    .prop_map(|segments| AsPath { segments })
}

fn aggregator(four_octet: bool) -> impl Strategy<Value = Aggregator> {
    let asn = if four_octet {
        any::<u32>().boxed()
    } else {
        (0u32..=0xffff).boxed()
    };
    (asn, any::<u32>()).prop_map(|(asn, a)| Aggregator {
        asn,
        address: Ipv4Addr::from_bits(a),
    })
}

/// A unicast next hop RFC 4271 §6.3 accepts (not 0.0.0.0, not class D/E).
fn next_hop() -> impl Strategy<Value = Ipv4Addr> {
    (1u32..0xe000_0000).prop_map(Ipv4Addr::from_bits)
}

/// Type codes Reflector does not interpret.
fn unknown_code() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter(
        "interpreted type code",
        |t| !matches!(t, 0..=10 | 14..=18 | 32 | 35),
    )
}

/// The optional attributes (one value per kind) of an announcement.
fn optional_values(ctx: Context) -> impl Strategy<Value = Vec<AttributeValue>> {
    let four = ctx.four_octet_as;
    let v6_ap = ctx.add_path(AfiSafi::IPV6_UNICAST);
    let nh6 = prop_oneof![
        any::<u128>().prop_map(|a| a.to_be_bytes().to_vec()),
        (any::<u128>(), any::<u128>()).prop_map(|(a, b)| {
            let mut v = a.to_be_bytes().to_vec();
            v.extend(b.to_be_bytes());
            v
        }),
    ];
    let mp_reach = (nh6, nlri_list(v6_prefix(), v6_ap, 8)).prop_map(|(next_hop, v)| {
        AttributeValue::MpReach(MpReachRepr {
            afi_safi: AfiSafi::IPV6_UNICAST,
            next_hop,
            reserved: 0,
            nlri: MpNlri::Prefixes(v),
        })
    });
    let mp_unreach = nlri_list(v6_prefix(), v6_ap, 8).prop_map(|v| {
        AttributeValue::MpUnreach(MpUnreachRepr {
            afi_safi: AfiSafi::IPV6_UNICAST,
            nlri: MpNlri::Prefixes(v),
        })
    });
    let opaque_reach =
        (prop::collection::vec(any::<u8>(), 0..24), any::<u8>()).prop_map(|(nlri, nhl)| {
            // BGP-LS (16388/71), a family Reflector does not decode: carried as opaque bytes.
            AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::new(
                    reflector_core::wire::Afi(16388),
                    reflector_core::wire::Safi(71),
                ),
                next_hop: vec![nhl; 4],
                reserved: 0,
                nlri: MpNlri::Opaque(nlri),
            })
        });
    (
        (
            prop::option::of(any::<u32>().prop_map(AttributeValue::Med)),
            prop::option::of(any::<u32>().prop_map(AttributeValue::LocalPref)),
            prop::option::of(Just(AttributeValue::AtomicAggregate)),
            prop::option::of(aggregator(four).prop_map(AttributeValue::Aggregator)),
            prop::option::of(
                prop::collection::vec(any::<u32>(), 1..20).prop_map(AttributeValue::Communities),
            ),
            prop::option::of(
                any::<u32>().prop_map(|a| AttributeValue::OriginatorId(Ipv4Addr::from_bits(a))),
            ),
            prop::option::of(
                prop::collection::vec(any::<u32>(), 1..6).prop_map(AttributeValue::ClusterList),
            ),
            prop::option::of(prop_oneof![3 => mp_reach, 1 => opaque_reach]),
        ),
        (
            prop::option::of(mp_unreach),
            prop::option::of(
                prop::collection::vec(any::<[u8; 8]>(), 1..8)
                    .prop_map(AttributeValue::ExtendedCommunities),
            ),
            prop::option::of(as_path(true).prop_map(AttributeValue::As4Path)),
            prop::option::of(aggregator(true).prop_map(AttributeValue::As4Aggregator)),
            (
                prop::option::of(
                    prop::collection::vec(
                        any::<(u32, u32, u32)>().prop_map(|(global, local1, local2)| {
                            LargeCommunity {
                                global,
                                local1,
                                local2,
                            }
                        }),
                        1..6,
                    )
                    .prop_map(AttributeValue::LargeCommunities),
                ),
                prop::option::of(any::<u32>().prop_map(AttributeValue::Otc)),
            ),
        ),
    )
        .prop_map(|((a, b, c, d, e, f, g, h), (i, j, k, l, (m, n)))| {
            [a, b, c, d, e, f, g, h, i, j, k, l, m, n]
                .into_iter()
                .flatten()
                .collect()
        })
}

/// Unknown attributes: distinct type codes, optional bit set (an unrecognised
/// well-known attribute resets the session), any other flag bits, any value.
fn unknown_attrs() -> impl Strategy<Value = Vec<AttributeRepr>> {
    prop::collection::btree_map(
        unknown_code(),
        (
            any::<(bool, bool, bool)>(),
            prop::collection::vec(any::<u8>(), 0..300),
        ),
        0..3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(type_code, ((t, p, x), value))| AttributeRepr {
                flags: flags::OPTIONAL
                    | if t { flags::TRANSITIVE } else { 0 }
                    | if p { flags::PARTIAL } else { 0 }
                    | if x { flags::EXTENDED_LENGTH } else { 0 },
                value: AttributeValue::Unknown { type_code, value },
            })
            .collect()
    })
}

fn context() -> impl Strategy<Value = Context> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(four_octet_as, extended_message, ap4, ap6)| {
            let mut add_path = AfiSafiSet::EMPTY;
            if ap4 {
                add_path.insert(AfiSafi::IPV4_UNICAST);
            }
            if ap6 {
                add_path.insert(AfiSafi::IPV6_UNICAST);
            }
            Context {
                four_octet_as,
                extended_message,
                add_path,
            }
        },
    )
}

/// A well-formed UPDATE under `ctx`: an announcement (mandatory attributes
/// present, optional ones and unknown ones in a shuffled order) or a bare withdrawal.
fn update(ctx: Context) -> impl Strategy<Value = UpdateRepr> {
    let ap4 = ctx.add_path(AfiSafi::IPV4_UNICAST);
    let origin = prop_oneof![
        Just(Origin::Igp),
        Just(Origin::Egp),
        Just(Origin::Incomplete)
    ];
    let announcement = (
        nlri_list(v4_prefix(), ap4, 40),
        nlri_list(v4_prefix(), ap4, 40),
        origin,
        as_path(ctx.four_octet_as),
        next_hop(),
        optional_values(ctx),
        unknown_attrs(),
        any::<u64>(),
        any::<u32>(),
    )
        .prop_map(
            move |(withdrawn, nlri, origin, path, nh, opt, unknown, seed, ext)| {
                let mut attributes: Vec<AttributeRepr> = [
                    AttributeValue::Origin(origin),
                    AttributeValue::AsPath(path),
                    AttributeValue::NextHop(nh),
                ]
                .into_iter()
                .chain(opt)
                .enumerate()
                .map(|(i, v)| {
                    let mut a = AttributeRepr::new(v);
                    // Some attributes use the two-octet length although they need not.
                    if ext & (1 << (i % 32)) != 0 {
                        a.flags |= flags::EXTENDED_LENGTH;
                    }
                    a
                })
                .chain(unknown)
                .collect();
                shuffle(&mut attributes, seed);
                for a in &mut attributes {
                    // A value over 255 bytes always travels with the two-octet length.
                    if a.value.value_len(&ctx) > 255 {
                        a.flags |= flags::EXTENDED_LENGTH;
                    }
                }
                UpdateRepr {
                    withdrawn,
                    attributes,
                    nlri,
                }
            },
        );
    let withdrawal = nlri_list(v4_prefix(), ap4, 200).prop_map(|withdrawn| UpdateRepr {
        withdrawn,
        attributes: vec![],
        nlri: vec![],
    });
    prop_oneof![4 => announcement, 1 => withdrawal]
        .prop_filter("larger than the session's maximum message", move |u| {
            u.buffer_len(&ctx) <= ctx.max_message_len()
        })
}

/// Fisher-Yates with a small deterministic generator (the seed comes from proptest).
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((seed >> 33) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn ctx_and_update() -> impl Strategy<Value = (Context, UpdateRepr)> {
    context().prop_flat_map(|ctx| (Just(ctx), update(ctx)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_updates_round_trip((ctx, r) in ctx_and_update()) {
        let bytes = r.to_vec(&ctx).unwrap();
        prop_assert_eq!(bytes.len(), r.buffer_len(&ctx));
        let p = UpdatePacket::new_checked(&bytes[..], &ctx)
            .unwrap_or_else(|e| panic!("generated message rejected: {e}\n{r:?}"));
        let back = UpdateRepr::parse(&p);
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(&back.to_vec(&ctx).unwrap(), &bytes);
        // The view agrees with the owned form on what is announced and withdrawn.
        let mp = |v: Option<&AttributeValue>| match v {
            Some(AttributeValue::MpReach(m)) => match &m.nlri {
                MpNlri::Prefixes(p) => p.len(),
                MpNlri::Opaque(_) => 0,
            },
            Some(AttributeValue::MpUnreach(m)) => match &m.nlri {
                MpNlri::Prefixes(p) => p.len(),
                MpNlri::Opaque(_) => 0,
            },
            _ => 0,
        };
        prop_assert_eq!(p.announced_count(), r.nlri.len() + mp(r.attribute(14)));
        prop_assert_eq!(p.withdrawn_count(), r.withdrawn.len() + mp(r.attribute(15)));
        prop_assert_eq!(p.nlri().collect::<Vec<_>>(), r.nlri.clone());
        prop_assert_eq!(p.withdrawn().collect::<Vec<_>>(), r.withdrawn.clone());
    }
}
