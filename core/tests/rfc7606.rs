//! RFC 7606 and RFC 4760 error handling that keeps sessions up: AFI/SAFI
//! disable for a malformed MP attribute, families the session did not
//! negotiate, a malformed NEXT_HOP in an UPDATE that only has MP NLRI, and
//! confederation segments from an eBGP peer. Messages are real bytes, some
//! written by hand where the malformation cannot be encoded otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, Negotiated, Outcome, PeerConfig};
use reflector_core::error::Action;
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{Origin, SegmentType};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue, Segment};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Nlri, Prefix, UpdateRepr};

mod support;
use support::{announced, drain, engine, mp_reach_v6, p, rid, update_of, withdrawn, AS};

fn attrs(path: AsPath, nh: Option<Ipv4Addr>) -> Vec<AttributeRepr> {
    let mut v = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(path)),
    ];
    if let Some(nh) = nh {
        v.push(AttributeRepr::new(AttributeValue::NextHop(nh)));
    }
    v
}

fn v4_update(prefix: &str, path: AsPath) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: attrs(path, Some(Ipv4Addr::new(192, 0, 2, 1))),
        nlri: vec![Nlri::new(p(prefix))],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn v6_update(prefix: &str) -> Vec<u8> {
    let mut a = attrs(AsPath::default(), None);
    a.push(AttributeRepr::new(AttributeValue::LocalPref(100)));
    a.push(mp_reach_v6(&[p(prefix)]));
    update_of(a)
}

/// A hand-written UPDATE: 19-byte header, no withdrawals, then `attrs`, no classic NLRI.
fn raw_update(attrs: &[u8]) -> Vec<u8> {
    let len = 19 + 2 + 2 + attrs.len();
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    m
}

const ORIGIN_ASPATH_LP: [u8; 14] = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100];

/// MP_REACH_NLRI for IPv6 unicast, next hop 2001:db8::1, with `nlri` as given (bytes, malformed or not).
fn raw_mp_reach_v6(nlri: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
    ];
    v.extend_from_slice(nlri);
    let mut a = vec![0x80, 14, v.len() as u8];
    a.extend_from_slice(&v);
    a
}

fn up(e: &mut Engine, role: Role, n: u8, asn: u32, families: AfiSafiSet) -> PeerId {
    let id = e.add_peer(PeerConfig::new(role, IpAddr::V4(rid(n)), asn));
    let mut neg = Negotiated::unicast(rid(n));
    neg.families = families;
    e.peer_up(id, neg);
    id
}

fn both() -> AfiSafiSet {
    AfiSafiSet::EMPTY
        .with(AfiSafi::IPV4_UNICAST)
        .with(AfiSafi::IPV6_UNICAST)
}

fn accepted(out: Outcome) -> u32 {
    match out {
        Outcome::Accepted { announced, .. } => announced,
        other => panic!("expected Accepted, got {other:?}"),
    }
}

#[test]
fn rfc7606_afi_safi_disable_for_a_malformed_ipv6_mp_reach_keeps_ipv4_up() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    let b = up(&mut e, Role::Client, 2, AS, both());
    drain(&mut e, a, &Context::MODERN);
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(
        accepted(e.handle_message(a, &v4_update("10.1.0.0/16", AsPath::default()))),
        1
    );
    assert_eq!(
        accepted(e.handle_message(a, &v6_update("2001:db8:1::/48"))),
        1
    );
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)).len(), 2);
    // An IPv6 MP_REACH_NLRI whose prefix length is 129.
    let mut bad = ORIGIN_ASPATH_LP.to_vec();
    bad.extend_from_slice(&raw_mp_reach_v6(&[129, 0x20, 0x01]));
    let out = e.handle_message(a, &raw_update(&bad));
    let Outcome::FamilyDisabled { family, error } = out else {
        panic!("expected FamilyDisabled, got {out:?}");
    };
    assert_eq!(family, AfiSafi::IPV6_UNICAST);
    assert_eq!(error.action, Action::AfiSafiDisable);
    assert!(e.is_up(a), "the session stays up");
    assert_eq!(e.counters(a).unwrap().families_disabled, 1);
    assert_eq!(
        e.counters(a).unwrap().updates_received,
        3,
        "counted as received"
    );
    assert_eq!(e.memory().paths, 1, "a's IPv4 path is left");
    // B loses a's IPv6 route and keeps its IPv4 route.
    let out_b = drain(&mut e, b, &Context::MODERN);
    assert_eq!(withdrawn(&out_b), vec![p("2001:db8:1::/48")]);
    assert!(e.best(&p("10.1.0.0/16")).is_some());
    // IPv6 from a is ignored for the rest of the session; IPv4 still works.
    assert_eq!(
        accepted(e.handle_message(a, &v6_update("2001:db8:2::/48"))),
        0
    );
    assert_eq!(e.counters(a).unwrap().unnegotiated_prefixes, 1);
    assert!(e.best(&p("2001:db8:2::/48")).is_none());
    assert_eq!(
        accepted(e.handle_message(a, &v4_update("10.2.0.0/16", AsPath::default()))),
        1
    );
    // ... and a is no longer sent IPv6 routes.
    assert_eq!(
        accepted(e.handle_message(b, &v6_update("2001:db8:3::/48"))),
        1
    );
    let out_a = drain(&mut e, a, &Context::MODERN);
    assert!(
        announced(&out_a).iter().all(|p| matches!(p, Prefix::V4(_))),
        "{out_a:?}"
    );
    // A new session has every family again.
    e.peer_down(a);
    e.peer_up(a, Negotiated::unicast(rid(1)));
    assert_eq!(
        accepted(e.handle_message(a, &v6_update("2001:db8:2::/48"))),
        1
    );
}

#[test]
fn rfc7606_mp_error_in_a_family_the_session_lacks_resets_it() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    // A malformed IPv6 MP_REACH_NLRI from a session without IPv6: there is
    // no family of the session to disable, so the session is reset.
    let c = up(
        &mut e,
        Role::Client,
        3,
        AS,
        AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
    );
    let mut bad = ORIGIN_ASPATH_LP.to_vec();
    bad.extend_from_slice(&raw_mp_reach_v6(&[129, 0x20, 0x01]));
    assert!(matches!(
        e.handle_message(c, &raw_update(&bad)),
        Outcome::Reset { .. }
    ));
    assert!(!e.is_up(c));
    // A session that has the family only loses the family.
    assert!(matches!(
        e.handle_message(a, &raw_update(&bad)),
        Outcome::FamilyDisabled { .. }
    ));
}

#[test]
fn rfc4760_prefixes_of_a_family_not_negotiated_are_ignored() {
    let mut e = engine();
    let a = up(
        &mut e,
        Role::Client,
        1,
        AS,
        AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
    );
    assert_eq!(
        accepted(e.handle_message(a, &v6_update("2001:db8:1::/48"))),
        0
    );
    assert!(e.best(&p("2001:db8:1::/48")).is_none());
    assert_eq!(e.counters(a).unwrap().unnegotiated_prefixes, 1);
    assert_eq!(
        accepted(e.handle_message(a, &v4_update("10.1.0.0/16", AsPath::default()))),
        1
    );
}

#[test]
fn rfc4760_3_a_malformed_next_hop_in_an_mp_only_update_is_ignored() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    // NEXT_HOP of 5 bytes beside IPv6 MP_REACH_NLRI and no classic NLRI.
    let mut m = ORIGIN_ASPATH_LP.to_vec();
    m.extend_from_slice(&[0x40, 3, 5, 192, 0, 2, 1, 1]);
    m.extend_from_slice(&raw_mp_reach_v6(&[48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]));
    let out = e.handle_message(a, &raw_update(&m));
    let Outcome::AttributeDiscarded(err) = out else {
        panic!("expected AttributeDiscarded, got {out:?}");
    };
    assert_eq!(err.attr_type, Some(3));
    assert!(
        e.best(&p("2001:db8:1::/48")).is_some(),
        "the IPv6 route is kept"
    );
    // With classic NLRI the same NEXT_HOP still makes the UPDATE treat-as-withdraw.
    let mut c = ORIGIN_ASPATH_LP.to_vec();
    c.extend_from_slice(&[0x40, 3, 5, 192, 0, 2, 1, 1]);
    let mut msg = raw_update(&c);
    msg.extend_from_slice(&[16, 10, 9]);
    let len = msg.len() as u16;
    msg[16..18].copy_from_slice(&len.to_be_bytes());
    assert!(matches!(
        e.handle_message(a, &msg),
        Outcome::TreatAsWithdraw(_)
    ));
    assert!(e.best(&p("10.9.0.0/16")).is_none());
}

#[test]
fn rfc7606_7_2_confederation_segments_from_an_ebgp_peer_are_treat_as_withdraw() {
    let mut e = engine();
    let x = up(&mut e, Role::Ebgp, 9, 65009, both());
    let confed = AsPath {
        segments: vec![
            Segment {
                kind: SegmentType::ConfedSequence,
                asns: vec![65100],
            },
            Segment {
                kind: SegmentType::Sequence,
                asns: vec![65009, 65010],
            },
        ],
    };
    // First a good route for the prefix, then the same prefix with the confed path.
    assert_eq!(
        accepted(e.handle_message(x, &v4_update("10.5.0.0/16", AsPath::sequence(&[65009])))),
        1
    );
    let out = e.handle_message(x, &v4_update("10.5.0.0/16", confed.clone()));
    let Outcome::TreatAsWithdraw(err) = out else {
        panic!("expected TreatAsWithdraw, got {out:?}");
    };
    assert_eq!((err.code, err.subcode), (3, 11));
    assert!(
        e.best(&p("10.5.0.0/16")).is_none(),
        "the earlier route is withdrawn"
    );
    assert!(e.is_up(x));
    assert_eq!(e.counters(x).unwrap().treat_as_withdraw, 1);
}

/// An UPDATE of hand-written attributes and the classic NLRI 192.0.2.0/24.
fn raw_update_with_nlri(attrs: &[u8]) -> Vec<u8> {
    let mut m = raw_update(attrs);
    m.extend_from_slice(&[24, 192, 0, 2]);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    m
}

/// A good UPDATE for 192.0.2.0/24 (ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF, at
/// offset 23) with the hand-written attributes `extra` after them.
fn good_with(extra: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0x40, 5, 4, 0, 0, 0, 100,
    ];
    v.extend_from_slice(extra);
    raw_update_with_nlri(&v)
}

/// RFC 7606 §3 (c): a well-known attribute whose Optional or Transitive
/// bit is wrong is malformed (treat-as-withdraw), even with a good value.
#[test]
fn rfc7606_3_c_origin_with_the_optional_bit_is_treat_as_withdraw() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    // Optional and Transitive both set; then Optional alone (Transitive clear).
    for flags in [0xc0, 0x80] {
        assert_eq!(accepted(e.handle_message(a, &good_with(&[]))), 1);
        let mut bad = good_with(&[]);
        bad[23] = flags;
        match e.handle_message(a, &bad) {
            Outcome::TreatAsWithdraw(err) => {
                assert_eq!(err.action, Action::TreatAsWithdraw);
                assert_eq!(err.attr_type, Some(1));
            }
            o => panic!("{flags:#x}: {o:?}"),
        }
        assert!(e.best(&p("192.0.2.0/24")).is_none(), "withdrawn");
    }
}

/// RFC 6793 §6: an AS4_AGGREGATOR that is not 8 octets is discarded (the
/// rest of the UPDATE stands); one of 8 octets is no error.
#[test]
fn rfc6793_6_as4_aggregator_of_eight_octets_only() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    let with = |n: u8| {
        let mut v = vec![0xc0, 18, n];
        v.extend_from_slice(&[0, 1, 0, 0, 192, 0, 2, 9][..usize::from(n)]);
        good_with(&v)
    };
    assert!(
        matches!(
            e.handle_message(a, &with(8)),
            Outcome::Accepted { announced: 1, .. }
        ),
        "8 octets"
    );
    match e.handle_message(a, &with(7)) {
        Outcome::AttributeDiscarded(err) => assert_eq!(err.action, Action::AttributeDiscard),
        o => panic!("{o:?}"),
    }
    assert!(e.best(&p("192.0.2.0/24")).is_some());
}

/// RFC 7606 §3 (c) for an optional attribute sent without the Optional bit
/// (COMMUNITIES as well-known), and RFC 8092 §6 for an empty
/// LARGE_COMMUNITY: both treat-as-withdraw.
#[test]
fn rfc7606_communities_flags_and_an_empty_large_community_are_treat_as_withdraw() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    let good = good_with(&[0xc0, 8, 4, 0xfd, 0xe8, 0, 1]);
    assert_eq!(accepted(e.handle_message(a, &good)), 1);
    for bad in [
        good_with(&[0x40, 8, 4, 0xfd, 0xe8, 0, 1]),
        good_with(&[0xc0, 32, 0]),
    ] {
        match e.handle_message(a, &bad) {
            Outcome::TreatAsWithdraw(err) => assert_eq!(err.action, Action::TreatAsWithdraw),
            o => panic!("{o:?}"),
        }
        assert!(e.best(&p("192.0.2.0/24")).is_none());
        assert_eq!(accepted(e.handle_message(a, &good)), 1);
    }
}

/// ATOMIC_AGGREGATE with the Optional bit set conflicts with its flags
/// (RFC 7606 §3 (c)); one with the right flags is carried.
#[test]
fn rfc7606_3_c_atomic_aggregate_flags() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    assert_eq!(accepted(e.handle_message(a, &good_with(&[0x40, 6, 0]))), 1);
    // Discarded (as RFC 7606 §7.6 does for its length, and as FRR does for
    // any malformed ATOMIC_AGGREGATE): the route stands.
    match e.handle_message(a, &good_with(&[0xc0, 6, 0])) {
        Outcome::AttributeDiscarded(err) => {
            assert_eq!((err.code, err.subcode), (3, 4), "Attribute Flags Error");
            assert_eq!(err.action, Action::AttributeDiscard);
            assert_eq!(err.attr_type, Some(6));
        }
        o => panic!("{o:?}"),
    }
    assert!(e.best(&p("192.0.2.0/24")).is_some());
}

/// RFC 7606 §3 (g): an attribute that appears twice keeps its first
/// occurrence, whatever its type code (64 and up included).
#[test]
fn rfc7606_3_g_a_repeated_attribute_of_type_64_keeps_the_first() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    let b = up(&mut e, Role::Client, 2, AS, both());
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(
        accepted(e.handle_message(a, &good_with(&[0xc0, 64, 1, 7, 0xc0, 64, 1, 8]))),
        1
    );
    let got = drain(&mut e, b, &Context::MODERN);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].attribute(64),
        Some(&AttributeValue::Unknown {
            type_code: 64,
            value: vec![7]
        }),
        "the first occurrence, once"
    );
    assert_eq!(
        got[0]
            .attributes
            .iter()
            .filter(|x| x.value.type_code() == 64)
            .count(),
        1
    );
}

/// An MP_UNREACH_NLRI whose IPv6 prefix length is 129 is malformed: AFI/SAFI
/// disable for IPv6 (RFC 7606 §5.3, RFC 4760 §7), as for MP_REACH_NLRI.
#[test]
fn rfc7606_a_malformed_mp_unreach_disables_its_family() {
    let mut e = engine();
    let a = up(&mut e, Role::Client, 1, AS, both());
    let out = e.handle_message(a, &raw_update(&[0x80, 15, 6, 0, 2, 1, 129, 0x20, 0x01]));
    let Outcome::FamilyDisabled { family, error } = out else {
        panic!("expected FamilyDisabled, got {out:?}");
    };
    assert_eq!(family, AfiSafi::IPV6_UNICAST);
    assert_eq!(
        (error.code, error.subcode),
        (3, 10),
        "Invalid Network Field"
    );
    assert_eq!(error.action, Action::AfiSafiDisable);
    assert_eq!(error.attr_type, Some(15));
    assert!(e.is_up(a));
}
