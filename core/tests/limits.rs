//! Limits on what one peer may send: prefixes per family (RFC 4486 Cease /
//! Maximum Number of Prefixes Reached, or a warning) and ADD-PATH paths per
//! prefix. Each limit has a counter and an event, and a peer that crosses one
//! costs the others nothing but the withdrawal of its routes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, Event, Negotiated, Outcome, PeerConfig, PrefixLimit};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::notification::NotificationPacket;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Nlri, Prefix, UpdateRepr};

mod support;
use support::{announced, drain, engine, mp_reach_v6, p, rid, transmit, update_of, withdrawn, AS};

fn base_attrs(nh: Ipv4Addr) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
        AttributeRepr::new(AttributeValue::NextHop(nh)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
    ]
}

/// IPv4 /24s 10.n.i.0 for i in `range`.
fn v4(n: u8, range: std::ops::Range<u8>) -> Vec<Prefix> {
    range.map(|i| p(&format!("10.{n}.{i}.0/24"))).collect()
}

fn announce_v4(prefixes: &[Prefix], nh: Ipv4Addr) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: base_attrs(nh),
        nlri: prefixes.iter().map(|p| Nlri::new(*p)).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn withdraw_v4(prefixes: &[Prefix]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: prefixes.iter().map(|p| Nlri::new(*p)).collect(),
        attributes: vec![],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn announce_v6(prefixes: &[Prefix]) -> Vec<u8> {
    let mut attributes = base_attrs(Ipv4Addr::UNSPECIFIED);
    attributes.retain(|a| !matches!(a.value, AttributeValue::NextHop(_)));
    attributes.push(mp_reach_v6(prefixes));
    update_of(attributes)
}

fn client(e: &mut Engine, n: u8, cfg: impl FnOnce(&mut PeerConfig)) -> PeerId {
    let mut pc = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
    cfg(&mut pc);
    let id = e.add_peer(pc);
    e.peer_up(id, Negotiated::unicast(rid(n)));
    id
}

fn accepted(out: Outcome) -> u32 {
    match out {
        Outcome::Accepted { announced, .. } => announced,
        other => panic!("expected Accepted, got {other:?}"),
    }
}

fn limit_events(e: &mut Engine) -> Vec<Event> {
    std::iter::from_fn(|| e.poll_event())
        .filter(|ev| matches!(ev, Event::PrefixLimit { .. } | Event::PathLimit { .. }))
        .collect()
}

#[test]
fn rfc4486_prefix_limit_ends_the_session_with_afi_safi_and_the_bound() {
    let mut e = engine();
    let a = client(&mut e, 1, |c| {
        c.max_prefixes_ipv4 = Some(PrefixLimit::cease(10))
    });
    let b = client(&mut e, 2, |_| {});
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 0..10), rid(1)))),
        10
    );
    assert_eq!(e.accepted_paths(a, AfiSafi::IPV4_UNICAST), 10);
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)).len(), 10);
    assert!(
        limit_events(&mut e).is_empty(),
        "at the limit is not over it"
    );
    // The eleventh prefix crosses it: Cease / Maximum Number of Prefixes Reached.
    let out = e.handle_message(a, &announce_v4(&v4(1, 10..11), rid(1)));
    let Outcome::Reset {
        error,
        notification,
    } = out
    else {
        panic!("expected Reset, got {out:?}");
    };
    assert_eq!((error.code, error.subcode), (6, 1));
    let n = NotificationPacket::new_checked(&notification[..]).unwrap();
    assert_eq!((n.code(), n.subcode()), (6, 1));
    // RFC 4486 §4: AFI (1), SAFI (1), the upper bound (10).
    assert_eq!(n.data(), &[0, 1, 1, 0, 0, 0, 10]);
    assert!(!e.is_up(a));
    assert_eq!(e.accepted_paths(a, AfiSafi::IPV4_UNICAST), 0);
    let c = e.counters(a).unwrap();
    assert_eq!((c.prefix_limit_hits, c.session_resets), (1, 1));
    let evs = limit_events(&mut e);
    assert_eq!(evs.len(), 1);
    assert!(matches!(
        evs[0],
        Event::PrefixLimit { peer, family: AfiSafi::IPV4_UNICAST, max: 10, held: 11, warning_only: false } if peer == a
    ));
    // The others lose a's routes and nothing else.
    let out_b = drain(&mut e, b, &Context::MODERN);
    assert_eq!(withdrawn(&out_b).len(), 10);
    assert!(announced(&out_b).is_empty());
}

#[test]
fn prefix_limit_warning_only_keeps_the_session_and_warns_once_per_crossing() {
    let mut e = engine();
    let a = client(&mut e, 1, |c| {
        c.max_prefixes_ipv4 = Some(PrefixLimit::warning(5))
    });
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 0..6), rid(1)))),
        6
    );
    assert!(e.is_up(a));
    assert_eq!(limit_events(&mut e).len(), 1);
    // Still over: no second warning.
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 6..8), rid(1)))),
        2
    );
    assert!(limit_events(&mut e).is_empty());
    // Back under, then over again: warned again.
    assert!(matches!(
        e.handle_message(a, &withdraw_v4(&v4(1, 2..8))),
        Outcome::Accepted { withdrawn: 6, .. }
    ));
    assert_eq!(e.accepted_paths(a, AfiSafi::IPV4_UNICAST), 2);
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 2..3), rid(1)))),
        1
    );
    assert!(limit_events(&mut e).is_empty());
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 3..9), rid(1)))),
        6
    );
    let evs = limit_events(&mut e);
    assert!(
        matches!(
            evs.as_slice(),
            [Event::PrefixLimit {
                held: 9,
                warning_only: true,
                ..
            }]
        ),
        "{evs:?}"
    );
    assert_eq!(e.counters(a).unwrap().prefix_limit_hits, 2);
    assert!(e.is_up(a));
}

#[test]
fn prefix_limits_are_per_family() {
    let mut e = engine();
    let a = client(&mut e, 1, |c| {
        c.max_prefixes_ipv4 = Some(PrefixLimit::cease(3));
        c.max_prefixes_ipv6 = Some(PrefixLimit::cease(100));
    });
    let v6: Vec<Prefix> = (0..50)
        .map(|i| p(&format!("2001:db8:{i:x}::/48")))
        .collect();
    assert_eq!(accepted(e.handle_message(a, &announce_v6(&v6))), 50);
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&v4(1, 0..3), rid(1)))),
        3
    );
    assert_eq!(e.accepted_paths(a, AfiSafi::IPV6_UNICAST), 50);
    assert!(e.is_up(a));
    // Set at run time (as a reload would): IPv6 now limited to 40, crossed by the next UPDATE.
    assert!(e.set_prefix_limit(a, AfiSafi::IPV6_UNICAST, Some(PrefixLimit::cease(40))));
    let out = e.handle_message(a, &announce_v6(&[p("2001:db8:ffff::/48")]));
    let Outcome::Reset { notification, .. } = out else {
        panic!("expected Reset, got {out:?}");
    };
    let n = NotificationPacket::new_checked(&notification[..]).unwrap();
    assert_eq!(n.data(), &[0, 2, 1, 0, 0, 0, 40]);
}

#[test]
fn rfc7911_max_paths_per_prefix_refuses_extra_add_path_paths() {
    let mut e = engine();
    let a = e.add_peer({
        let mut c = PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS);
        c.max_paths_per_prefix = Some(3);
        c
    });
    let mut neg = Negotiated::unicast(rid(1));
    neg.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(a, neg);
    let ctx = Context {
        add_path: neg.add_path_receive,
        ..Context::MODERN
    };
    let pfx = p("192.0.2.0/24");
    let mk = |pid: u32, nh: u8| {
        UpdateRepr {
            withdrawn: vec![],
            attributes: base_attrs(rid(nh)),
            nlri: vec![Nlri {
                path_id: Some(pid),
                prefix: pfx,
            }],
        }
        .to_vec(&ctx)
        .unwrap()
    };
    for pid in 1..=3 {
        assert_eq!(accepted(e.handle_message(a, &mk(pid, pid as u8))), 1);
    }
    // Paths 4 and 5 are refused; a new path for another prefix is not.
    assert_eq!(accepted(e.handle_message(a, &mk(4, 4))), 0);
    assert_eq!(accepted(e.handle_message(a, &mk(5, 5))), 0);
    assert_eq!(e.candidates(&pfx).len(), 3);
    assert_eq!(e.counters(a).unwrap().paths_refused, 2);
    let evs = limit_events(&mut e);
    assert_eq!(evs.len(), 2);
    assert!(evs
        .iter()
        .all(|ev| matches!(ev, Event::PathLimit { peer, prefix } if *peer == a && *prefix == pfx)));
    // Replacing one of the three is not a new path.
    assert_eq!(accepted(e.handle_message(a, &mk(2, 9))), 1);
    assert_eq!(e.candidates(&pfx).len(), 3);
    // After a withdrawal there is room again.
    let wd = UpdateRepr {
        withdrawn: vec![Nlri {
            path_id: Some(1),
            prefix: pfx,
        }],
        attributes: vec![],
        nlri: vec![],
    }
    .to_vec(&ctx)
    .unwrap();
    assert!(matches!(
        e.handle_message(a, &wd),
        Outcome::Accepted { withdrawn: 1, .. }
    ));
    assert_eq!(accepted(e.handle_message(a, &mk(4, 4))), 1);
    let ids: Vec<u32> = e.candidates(&pfx).iter().map(|c| c.remote_id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![2, 3, 4]);
    assert_eq!(e.accepted_paths(a, AfiSafi::IPV4_UNICAST), 3);
}

/// Thousands of ADD-PATH paths for one prefix from one peer: with a limit the
/// work stays bounded, and ranking the prefix stays correct.
#[test]
fn many_add_path_paths_for_one_prefix_rank_in_order() {
    let mut e = engine();
    let a = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS));
    let mut neg = Negotiated::unicast(rid(1));
    neg.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(a, neg);
    let ctx = Context {
        add_path: neg.add_path_receive,
        ..Context::MODERN
    };
    let pfx = p("192.0.2.0/24");
    // 2,000 paths in one UPDATE, LOCAL_PREF rising with the path id: the last is best.
    let n = 2000u32;
    let mut attributes = base_attrs(rid(1));
    let mut msgs = Vec::new();
    for pid in 1..=n {
        attributes[3] = AttributeRepr::new(AttributeValue::LocalPref(pid));
        msgs.push(
            UpdateRepr {
                withdrawn: vec![],
                attributes: attributes.clone(),
                nlri: vec![Nlri {
                    path_id: Some(pid),
                    prefix: pfx,
                }],
            }
            .to_vec(&ctx)
            .unwrap(),
        );
    }
    for m in &msgs {
        assert_eq!(accepted(e.handle_message(a, m)), 1);
    }
    e.flush();
    let c = e.candidates(&pfx);
    assert_eq!(c.len(), n as usize);
    let order: Vec<u32> = c.iter().map(|c| c.remote_id).collect();
    let expect: Vec<u32> = (1..=n).rev().collect();
    assert_eq!(order, expect);
}

/// A path whose attributes grow past a peer's maximum message size when
/// reflected (ORIGINATOR_ID and CLUSTER_LIST added) is withdrawn from that
/// peer instead of leaving it with the older version; counted, with an event.
/// A peer that negotiated extended messages (RFC 8654) still gets it.
#[test]
fn a_path_that_no_longer_fits_is_withdrawn_from_the_peer() {
    let mut e = engine();
    let a = client(&mut e, 1, |_| {});
    let b = client(&mut e, 2, |_| {});
    let c = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(3)), AS));
    let mut neg = Negotiated::unicast(rid(3));
    neg.extended_message = true;
    e.peer_up(c, neg);
    let big_ctx = Context {
        extended_message: true,
        ..Context::MODERN
    };
    drain(&mut e, b, &Context::MODERN);
    drain(&mut e, c, &big_ctx);
    let pfx = p("10.50.0.0/24");
    assert_eq!(
        accepted(e.handle_message(a, &announce_v4(&[pfx], rid(1)))),
        1
    );
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)), vec![pfx]);
    assert_eq!(announced(&drain(&mut e, c, &big_ctx)), vec![pfx]);
    // The same prefix again, with an optional transitive attribute that fills
    // the 4,096-byte message exactly: 19 + 2 + 2 + attributes + 4 (the /24).
    let mut attributes = base_attrs(rid(1));
    let fixed: usize = 21 + 4;
    attributes.push(AttributeRepr::new(AttributeValue::Unknown {
        type_code: 0xf0,
        value: vec![7; 4096 - 27 - fixed],
    }));
    let msg = UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: vec![Nlri::new(pfx)],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    assert_eq!(msg.len(), 4096);
    assert_eq!(accepted(e.handle_message(a, &msg)), 1);
    let before = e.counters(b).unwrap();
    let out_b = drain(&mut e, b, &Context::MODERN);
    let after = e.counters(b).unwrap();
    assert_eq!(
        after.updates_sent - before.updates_sent,
        out_b.len() as u64,
        "the withdrawal is counted as a message sent"
    );
    assert_eq!(after.withdrawals_sent - before.withdrawals_sent, 1);
    assert_eq!(
        withdrawn(&out_b),
        vec![pfx],
        "withdrawn, not left at the old version"
    );
    assert!(announced(&out_b).is_empty());
    assert_eq!(e.counters(b).unwrap().encode_overflows, 1);
    // The sender shares b's encoding but skips its own route's part of it:
    // nothing overflowed for it.
    transmit(&mut e, a);
    assert_eq!(e.counters(a).unwrap().encode_overflows, 0);
    assert!(std::iter::from_fn(|| e.poll_event()).any(
        |ev| matches!(ev, Event::EncodeOverflow { peer, prefix } if peer == b && prefix == pfx)
    ));
    let out_c = drain(&mut e, c, &big_ctx);
    assert_eq!(announced(&out_c), vec![pfx]);
    assert_eq!(e.counters(c).unwrap().encode_overflows, 0);
}

/// An UPDATE announcing `prefix` with a next hop of its own (a set of its own).
fn announce_own_set(prefix: Prefix, i: u8) -> Vec<u8> {
    announce_v4(&[prefix], Ipv4Addr::new(10, 200, 0, i))
}

#[test]
fn attribute_set_memory_is_bounded_per_peer_with_a_counter_and_an_event() {
    let mut e = engine();
    // Room for a few sets of this size: measure one first.
    let probe = client(&mut e, 9, |_| {});
    accepted(e.handle_message(probe, &announce_own_set(p("10.9.0.0/24"), 250)));
    let one = e.attr_bytes(probe);
    assert!(one > 0, "a new set is charged to the peer that created it");
    e.remove_peer(probe);
    assert_eq!(e.attr_bytes(probe), 0, "freed sets are credited back");
    let a = client(&mut e, 1, |c| c.max_attr_bytes = Some(3 * one));
    let b = client(&mut e, 2, |_| {});
    let _ = limit_events(&mut e);
    let prefixes = v4(1, 0..5);
    for (i, &x) in prefixes.iter().enumerate() {
        let _ = accepted(e.handle_message(a, &announce_own_set(x, i as u8)));
    }
    // Three sets fit; the fourth and fifth are refused.
    assert_eq!(e.attr_bytes(a), 3 * one);
    let k = e.counters(a).unwrap();
    assert_eq!(k.attr_limit_refused, 2);
    let events: Vec<Event> = std::iter::from_fn(|| e.poll_event())
        .filter(|ev| matches!(ev, Event::AttrMemoryLimit { .. }))
        .collect();
    assert_eq!(
        events,
        vec![Event::AttrMemoryLimit {
            peer: a,
            bytes: 3 * one,
            max: 3 * one
        }],
        "once per crossing"
    );
    let got = announced(&drain(&mut e, b, &Context::MODERN));
    assert_eq!(got, prefixes[..3].to_vec());
    // A route with a set that exists already costs nothing: accepted at the limit.
    let o = e.handle_message(a, &announce_own_set(prefixes[3], 0));
    assert_eq!(accepted(o), 1);
    // Changing a held prefix to a refused new set withdraws the older path.
    let o = e.handle_message(a, &announce_own_set(prefixes[0], 99));
    assert!(
        matches!(
            o,
            Outcome::Accepted {
                announced: 0,
                withdrawn: 1,
                ..
            }
        ),
        "{o:?}"
    );
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![prefixes[0]]
    );
    // Sets another peer created are not charged to `a`; withdrawing frees room.
    accepted(e.handle_message(b, &announce_own_set(p("10.2.0.0/24"), 77)));
    assert_eq!(
        accepted(e.handle_message(a, &announce_own_set(prefixes[4], 77))),
        1
    );
    accepted(e.handle_message(a, &withdraw_v4(&prefixes[1..3])));
    // What b was last told keeps its sets alive until the next flush.
    e.flush();
    assert_eq!(
        e.attr_bytes(a),
        one,
        "the set of prefixes[0] went with it; 0 is shared"
    );
    assert_eq!(
        accepted(e.handle_message(a, &announce_own_set(prefixes[1], 98))),
        1
    );
    assert_eq!(e.counters(a).unwrap().attr_limit_refused, 3);
}
