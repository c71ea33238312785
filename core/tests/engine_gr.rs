//! Graceful restart, receiving-speaker side (RFC 4724 §4.2), on real encoded
//! bytes: stale paths survive a graceful down and stay reflected, End-of-RIB
//! removes the ones not announced again, the restart timer removes the rest,
//! and a reconnect without graceful restart drops them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use reflector_core::engine::{Engine, Event, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::open::{Advertised, OpenPacket};
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, MpNlri, MpUnreachRepr,
};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Prefix, UpdateRepr};
use reflector_testdata::pcap::bgp_messages;

mod support;
use support::{announce, engine, mp_reach_v6, p, rid, update_of, AS};

/// Everything queued for a peer, decoded.
fn drain(e: &mut Engine, peer: PeerId) -> Vec<UpdateRepr> {
    support::drain(e, peer, &Context::MODERN)
}

fn announced(u: &[UpdateRepr]) -> BTreeSet<Prefix> {
    support::announced(u).into_iter().collect()
}

fn withdrawn(u: &[UpdateRepr]) -> BTreeSet<Prefix> {
    support::withdrawn(u).into_iter().collect()
}

fn client(e: &mut Engine, n: u8) -> PeerId {
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS));
    e.peer_up(id, Negotiated::unicast(rid(n)));
    id
}

fn both() -> AfiSafiSet {
    AfiSafiSet::EMPTY
        .with(AfiSafi::IPV4_UNICAST)
        .with(AfiSafi::IPV6_UNICAST)
}

fn attrs(next_hop: Ipv4Addr, med: u32) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
        AttributeRepr::new(AttributeValue::NextHop(next_hop)),
        AttributeRepr::new(AttributeValue::Med(med)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
    ]
}

fn announce_v6(prefixes: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
            mp_reach_v6(&prefixes.iter().map(|s| p(s)).collect::<Vec<_>>()),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// End-of-RIB for IPv4 unicast: an UPDATE with nothing in it (RFC 4724 §2).
fn eor_v4() -> Vec<u8> {
    update_of(vec![])
}

/// End-of-RIB for IPv6 unicast: an empty MP_UNREACH_NLRI (RFC 4724 §2).
fn eor_v6() -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![AttributeRepr::new(AttributeValue::MpUnreach(
            MpUnreachRepr {
                afi_safi: AfiSafi::IPV6_UNICAST,
                nlri: MpNlri::Prefixes(vec![]),
            },
        ))],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn set(v: &[&str]) -> BTreeSet<Prefix> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

fn events(e: &mut Engine) -> Vec<Event> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// Client A announces three IPv4 and two IPv6 prefixes; client B has seen them.
fn setup() -> (Engine, PeerId, PeerId) {
    let mut e = engine();
    let a = client(&mut e, 1);
    let b = client(&mut e, 2);
    let o = e.handle_message(
        a,
        &announce(
            &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
            attrs(rid(1), 10),
        ),
    );
    assert!(matches!(o, Outcome::Accepted { announced: 3, .. }), "{o:?}");
    let o = e.handle_message(a, &announce_v6(&["2001:db8:1::/48", "2001:db8:2::/48"]));
    assert!(matches!(o, Outcome::Accepted { announced: 2, .. }), "{o:?}");
    drain(&mut e, a);
    let out = drain(&mut e, b);
    assert_eq!(
        announced(&out),
        set(&[
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:db8:1::/48",
            "2001:db8:2::/48"
        ])
    );
    events(&mut e);
    (e, a, b)
}

/// Asserts that a message was applied with exactly these counts.
#[track_caller]
fn assert_accepted(o: Outcome, announced: u32, withdrawn: u32, rejected: u32) {
    assert_eq!(
        o,
        Outcome::Accepted {
            announced,
            withdrawn,
            rejected
        }
    );
}

#[test]
fn rfc4724_4_2_graceful_down_keeps_paths_stale_and_withdraws_nothing() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    assert!(!e.is_up(a));
    assert_eq!(e.stale_families(a), both());
    // Nothing is withdrawn toward B; A's paths stay best and in the Loc-RIB.
    assert!(drain(&mut e, b).is_empty());
    for s in ["192.0.2.0/24", "2001:db8:2::/48"] {
        assert_eq!(e.best(&p(s)).unwrap().peer, a, "{s}");
    }
    assert_eq!(e.loc_rib().len(), 5);
    let c = e.counters(a).unwrap();
    assert_eq!(
        (c.graceful_restarts, c.stale_marked, c.stale_removed),
        (1, 5, 0)
    );
    assert_eq!(
        events(&mut e),
        vec![Event::PeerRestarting {
            peer: a,
            families: both(),
            stale: 5
        }]
    );
    // A client that comes up while A is restarting still receives A's stale paths.
    let c3 = client(&mut e, 3);
    assert_eq!(announced(&drain(&mut e, c3)).len(), 5);
}

#[test]
fn rfc4724_4_2_graceful_down_drops_families_without_forwarding_state() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST));
    assert_eq!(
        withdrawn(&drain(&mut e, b)),
        set(&["2001:db8:1::/48", "2001:db8:2::/48"])
    );
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, a);
    assert_eq!(e.counters(a).unwrap().stale_marked, 3);
}

#[test]
fn rfc4724_4_2_end_of_rib_withdraws_exactly_the_paths_not_announced_again() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.peer_up_graceful(a, Negotiated::unicast(rid(1)), both());
    drain(&mut e, a);
    events(&mut e);
    // A re-announces one prefix unchanged and one with a new MED, then IPv4 End-of-RIB.
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), 10))),
        0,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(rid(1), 20))),
        1,
        0,
        0,
    );
    let out = drain(&mut e, b);
    assert_eq!(announced(&out), set(&["198.51.100.0/24"]));
    assert!(withdrawn(&out).is_empty());
    assert_eq!(e.stale_families(a), both());
    let o = e.handle_message(a, &eor_v4());
    assert!(
        matches!(
            o,
            Outcome::Accepted {
                announced: 0,
                withdrawn: 0,
                ..
            }
        ),
        "{o:?}"
    );
    let out = drain(&mut e, b);
    assert_eq!(withdrawn(&out), set(&["203.0.113.0/24"]));
    assert!(announced(&out).is_empty());
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, a);
    assert!(e.best(&p("203.0.113.0/24")).is_none());
    // IPv6 is still stale until its own End-of-RIB.
    assert_eq!(
        e.stale_families(a),
        AfiSafiSet::EMPTY.with(AfiSafi::IPV6_UNICAST)
    );
    assert_eq!(e.best(&p("2001:db8:1::/48")).unwrap().peer, a);
    assert_accepted(
        e.handle_message(a, &announce_v6(&["2001:db8:2::/48"])),
        0,
        0,
        0,
    );
    assert_accepted(e.handle_message(a, &eor_v6()), 0, 0, 0);
    let out = drain(&mut e, b);
    assert_eq!(withdrawn(&out), set(&["2001:db8:1::/48"]));
    assert_eq!(e.stale_families(a), AfiSafiSet::EMPTY);
    assert_eq!(e.counters(a).unwrap().stale_removed, 2);
    let ev: Vec<Event> = events(&mut e)
        .into_iter()
        .filter(|x| matches!(x, Event::StaleRemoved { .. }))
        .collect();
    assert_eq!(
        ev,
        vec![
            Event::StaleRemoved {
                peer: a,
                family: AfiSafi::IPV4_UNICAST,
                paths: 1
            },
            Event::StaleRemoved {
                peer: a,
                family: AfiSafi::IPV6_UNICAST,
                paths: 1
            }
        ]
    );
    // Later End-of-RIBs and announcements are ordinary again.
    assert_accepted(e.handle_message(a, &eor_v4()), 0, 0, 0);
    assert!(drain(&mut e, b).is_empty());
    assert_eq!(e.loc_rib().len(), 3);
}

#[test]
fn rfc4724_4_2_restart_timer_expiry_removes_every_stale_path() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    assert!(drain(&mut e, b).is_empty());
    e.restart_timer_expired(a);
    assert_eq!(
        withdrawn(&drain(&mut e, b)),
        set(&[
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:db8:1::/48",
            "2001:db8:2::/48"
        ])
    );
    assert!(e.loc_rib().is_empty());
    assert_eq!(e.counters(a).unwrap().stale_removed, 5);
    // The timer firing again does nothing.
    e.restart_timer_expired(a);
    assert!(drain(&mut e, b).is_empty());
}

#[test]
fn rfc4724_4_2_stale_timer_after_reconnect_removes_paths_not_yet_refreshed() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.peer_up_graceful(a, Negotiated::unicast(rid(1)), both());
    assert_accepted(
        e.handle_message(a, &announce(&["203.0.113.0/24"], attrs(rid(1), 10))),
        0,
        0,
        0,
    );
    drain(&mut e, b);
    e.restart_timer_expired(a);
    assert_eq!(
        withdrawn(&drain(&mut e, b)),
        set(&[
            "192.0.2.0/24",
            "198.51.100.0/24",
            "2001:db8:1::/48",
            "2001:db8:2::/48"
        ])
    );
    assert_eq!(e.best(&p("203.0.113.0/24")).unwrap().peer, a);
}

#[test]
fn rfc4724_4_2_reconnect_without_graceful_restart_drops_stale_paths() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.peer_up(a, Negotiated::unicast(rid(1)));
    assert_eq!(withdrawn(&drain(&mut e, b)).len(), 5);
    assert!(e.loc_rib().is_empty());
    assert_eq!(e.stale_families(a), AfiSafiSet::EMPTY);
}

#[test]
fn rfc4724_4_2_reconnect_without_forwarding_state_bit_drops_that_family() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.peer_up_graceful(
        a,
        Negotiated::unicast(rid(1)),
        AfiSafiSet::EMPTY.with(AfiSafi::IPV6_UNICAST),
    );
    assert_eq!(
        withdrawn(&drain(&mut e, b)),
        set(&["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"])
    );
    assert_eq!(e.best(&p("2001:db8:1::/48")).unwrap().peer, a);
}

#[test]
fn rfc4724_4_2_second_graceful_down_before_end_of_rib_keeps_all_paths_stale() {
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.peer_up_graceful(a, Negotiated::unicast(rid(1)), both());
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), 10))),
        0,
        0,
        0,
    );
    e.peer_down_graceful(a, both());
    e.peer_up_graceful(a, Negotiated::unicast(rid(1)), both());
    // The path refreshed during the first restart is stale again: End-of-RIB removes it too.
    assert_accepted(e.handle_message(a, &eor_v4()), 0, 0, 0);
    assert_eq!(
        withdrawn(&drain(&mut e, b)),
        set(&["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"])
    );
}

#[test]
fn rfc4271_peer_down_without_graceful_restart_still_withdraws_at_once() {
    let (mut e, a, b) = setup();
    e.peer_down(a);
    assert_eq!(withdrawn(&drain(&mut e, b)).len(), 5);
    assert!(e.loc_rib().is_empty());
    // A normal down while stale paths remain removes them too.
    let (mut e, a, b) = setup();
    e.peer_down_graceful(a, both());
    e.remove_peer(a);
    assert_eq!(withdrawn(&drain(&mut e, b)).len(), 5);
    assert_eq!(e.counters(a).unwrap().stale_removed, 5);
}

fn pcap(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/pcap/"
    ))
    .join(name)
}

#[test]
fn rfc4724_3_forwarding_state_bits_are_read_from_captured_opens() {
    // Every OPEN in the shared captures that carries capability 64: the summary
    // agrees with the capability's own per-family flags.
    let mut seen = 0;
    for f in std::fs::read_dir(pcap("")).unwrap() {
        let path = f.unwrap().path();
        for m in bgp_messages(&path).unwrap() {
            if m.msg_type() != 1 {
                continue;
            }
            let open = OpenPacket::new_checked(&m.bytes[..]).unwrap();
            let mut expect = None;
            for c in open.capabilities() {
                if let reflector_core::wire::capability::Capability::GracefulRestart {
                    restart_time,
                    families,
                    restart_flags,
                } = c
                {
                    let mut kept = AfiSafiSet::EMPTY;
                    for x in families {
                        if x.flags & 0x80 != 0 {
                            kept.insert(x.afi_safi);
                        }
                    }
                    expect = Some((restart_time, restart_flags, kept));
                }
            }
            let Some((t, flags, kept)) = expect else {
                continue;
            };
            seen += 1;
            let a = Advertised::from_open(&open);
            assert_eq!(a.graceful_restart, Some(t), "{}", path.display());
            assert_eq!(a.graceful_restart_flags, flags);
            assert_eq!(a.graceful_restart_preserved, kept);
        }
    }
    assert!(seen >= 2, "captured OPENs with graceful restart: {seen}");
}

#[test]
fn rfc4724_4_2_captured_table_survives_graceful_restart_until_end_of_rib() {
    // The IPv4 UPDATEs of a real capture, from one sender, as client A's table.
    let msgs = bgp_messages(pcap("IBGP_adjacency.cap")).unwrap();
    let mut e = engine();
    let a = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS));
    let mut neg = Negotiated::unicast(rid(1));
    neg.four_octet_as = false;
    e.peer_up(a, neg);
    let b = client(&mut e, 2);
    // The stream that carries the most UPDATEs.
    let updates: Vec<_> = msgs.iter().filter(|m| m.msg_type() == 2).collect();
    let stream = updates
        .iter()
        .map(|m| m.stream)
        .max_by_key(|s| updates.iter().filter(|m| m.stream == *s).count())
        .unwrap();
    let mut accepted = 0;
    for m in msgs
        .iter()
        .filter(|m| m.msg_type() == 2 && m.stream == stream)
    {
        if let Outcome::Accepted { announced, .. } = e.handle_message(a, &m.bytes) {
            accepted += announced;
        }
    }
    assert!(accepted > 0);
    drain(&mut e, a);
    let before: BTreeSet<Prefix> = e
        .loc_rib()
        .into_iter()
        .filter(|(_, v)| v.peer == a)
        .map(|(p, _)| p)
        .collect();
    assert!(!before.is_empty());
    assert_eq!(announced(&drain(&mut e, b)), before);
    e.peer_down_graceful(a, both());
    assert!(drain(&mut e, b).is_empty());
    e.peer_up_graceful(a, neg, both());
    assert_accepted(e.handle_message(a, &eor_v4()), 0, 0, 0);
    assert_eq!(withdrawn(&drain(&mut e, b)), before);
    assert_eq!(e.counters(a).unwrap().stale_removed, before.len() as u64);
}

/// The raw messages queued for `peer`, as (is End-of-RIB for IPv4 or IPv6,
/// IPv4 prefixes announced).
fn raw(e: &mut Engine, peer: PeerId) -> (usize, BTreeSet<Prefix>) {
    let mut eors = 0;
    let mut got = BTreeSet::new();
    for m in support::transmit(e, peer) {
        if m == eor_v4() || m == eor_v6() {
            eors += 1;
            continue;
        }
        let pkt =
            reflector_core::wire::UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap();
        got.extend(announced(&[UpdateRepr::parse(&pkt)]));
    }
    (eors, got)
}

/// RFC 4724 §4.1, the restarting speaker: while the engine defers its route
/// selection, sessions that come up are sent nothing, not even End-of-RIB
/// (the peers keep our routes as stale meanwhile), though their routes are
/// taken in; when the deferral ends each gets the whole table and then
/// End-of-RIB. A peer paused by the embedder stays paused.
#[test]
fn rfc4724_4_1_deferral_holds_tables_and_end_of_rib_until_it_ends() {
    let mut e = engine();
    e.defer_selection();
    assert!(e.is_deferring());
    let a = client(&mut e, 1);
    let b = client(&mut e, 2);
    let c = client(&mut e, 3);
    let o = e.handle_message(
        a,
        &announce(&["10.1.0.0/16", "10.2.0.0/16"], attrs(rid(1), 0)),
    );
    assert!(matches!(o, Outcome::Accepted { announced: 2, .. }), "{o:?}");
    let _ = e.handle_message(a, &eor_v4());
    let o = e.handle_message(b, &announce(&["10.3.0.0/16"], attrs(rid(2), 0)));
    assert!(matches!(o, Outcome::Accepted { announced: 1, .. }), "{o:?}");
    for peer in [a, b, c] {
        assert_eq!(
            raw(&mut e, peer),
            (0, BTreeSet::new()),
            "{peer:?} during the deferral"
        );
    }
    e.pause_transmit(c);
    assert_eq!(e.end_deferral(), 3);
    assert!(!e.is_deferring());
    let (eors, got) = raw(&mut e, b);
    assert_eq!(eors, 2, "End-of-RIB for IPv4 and IPv6");
    assert_eq!(
        got,
        [p("10.1.0.0/16"), p("10.2.0.0/16")].into_iter().collect()
    );
    let (eors, got) = raw(&mut e, a);
    assert_eq!((eors, got), (2, [p("10.3.0.0/16")].into_iter().collect()));
    // c, paused by the embedder, gets its table only when resumed.
    assert_eq!(raw(&mut e, c), (0, BTreeSet::new()));
    e.resume_transmit(c);
    let (eors, got) = raw(&mut e, c);
    assert_eq!(eors, 2);
    assert_eq!(got.len(), 3);
    // A session that comes up after the deferral is served at once.
    let d = client(&mut e, 4);
    let (eors, got) = raw(&mut e, d);
    assert_eq!((eors, got.len()), (2, 3));
    assert_eq!(e.end_deferral(), 0);
}

/// A table larger than one catch-up step, held by the deferral, goes out in
/// full after it ends: every step, then End-of-RIB, as the peer's output is
/// taken.
#[test]
fn rfc4724_4_1_a_deferred_table_of_several_catch_up_steps_goes_out_in_full() {
    let total = reflector_core::engine::CATCH_UP_STEP + 4_000;
    let mut e = engine();
    e.defer_selection();
    let a = client(&mut e, 1);
    let b = client(&mut e, 2);
    let names: Vec<String> = (0..total)
        .map(|i| format!("{}.{}.{}.0/24", 11 + (i >> 16), (i >> 8) & 255, i & 255))
        .collect();
    for chunk in names.chunks(900) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let o = e.handle_message(a, &announce(&refs, attrs(rid(1), 0)));
        assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
    }
    assert_eq!(raw(&mut e, b), (0, BTreeSet::new()));
    assert_eq!(e.end_deferral(), 2);
    let (eors, got) = raw(&mut e, b);
    assert_eq!(got.len(), total);
    assert_eq!(eors, 2);
}
