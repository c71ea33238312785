//! RFC 9234 (BGP Roles: the OTC attribute on import and export) and RFC 8950
//! (IPv4 routes with an IPv6 next hop only to peers that negotiated it) on
//! the engine, with real encoded UPDATEs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::engine::{Engine, Event, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::{LoopReason, Role};
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::capability::BgpRole;
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, MpNlri, MpReachRepr,
};
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, Nlri, UpdateRepr};

mod support;
use support::{announce, announced, drain, engine, p, rid, withdrawn, AS};

/// An iBGP client n, up and drained.
fn client(e: &mut Engine, n: u8) -> PeerId {
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS));
    e.peer_up(id, Negotiated::unicast(rid(n)));
    drain(e, id, &Context::MODERN);
    id
}

/// An eBGP peer n in AS 65000+n whose BGP Role (what it is to us) is `role`, up and drained.
fn ebgp(e: &mut Engine, n: u8, role: Option<BgpRole>) -> PeerId {
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(n)), 65000 + u32::from(n));
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    let id = e.add_peer(cfg);
    let mut neg = Negotiated::unicast(rid(n));
    neg.remote_role = role;
    e.peer_up(id, neg);
    drain(e, id, &Context::MODERN);
    id
}

fn attrs(next_hop: Ipv4Addr, path: &[u32], otc: Option<u32>) -> Vec<AttributeRepr> {
    let mut v = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
        AttributeRepr::new(AttributeValue::NextHop(next_hop)),
    ];
    v.extend(otc.map(|o| AttributeRepr::new(AttributeValue::Otc(o))));
    v
}

/// The OTC of every UPDATE announcing something.
fn otcs(out: &[UpdateRepr]) -> Vec<Option<u32>> {
    out.iter()
        .filter(|u| !announced(std::slice::from_ref(u)).is_empty())
        .map(|u| match u.attribute(type_code::OTC) {
            Some(AttributeValue::Otc(v)) => Some(*v),
            None => None,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn route_leaks(e: &mut Engine) -> usize {
    std::iter::from_fn(|| e.poll_event())
        .filter(|ev| {
            matches!(
                ev,
                Event::LoopRejected {
                    reason: LoopReason::RouteLeak,
                    ..
                }
            )
        })
        .count()
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
fn rfc9234_5_otc_from_a_customer_or_rs_client_is_a_route_leak() {
    for role in [BgpRole::CUSTOMER, BgpRole::RS_CLIENT] {
        let mut e = engine();
        let c = client(&mut e, 1);
        let x = ebgp(&mut e, 50, Some(role));
        let o = e.handle_message(
            x,
            &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], Some(65077))),
        );
        assert_eq!(
            o,
            Outcome::Accepted {
                announced: 0,
                withdrawn: 0,
                rejected: 1
            },
            "{role:?}"
        );
        assert_eq!(e.counters(x).unwrap().rejected_loop, 1);
        assert_eq!(route_leaks(&mut e), 1);
        assert!(announced(&drain(&mut e, c, &Context::MODERN)).is_empty());
        // Without OTC: a candidate, reflected without OTC (none is added from below).
        assert_accepted(
            e.handle_message(
                x,
                &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], None)),
            ),
            1,
            0,
            0,
        );
        let out = drain(&mut e, c, &Context::MODERN);
        assert_eq!(announced(&out), vec![p("198.51.100.0/24")]);
        assert_eq!(otcs(&out), vec![None]);
    }
}

#[test]
fn rfc9234_5_otc_from_a_peer_must_be_its_as_and_is_added_when_absent() {
    let mut e = engine();
    let c = client(&mut e, 1);
    let x = ebgp(&mut e, 50, Some(BgpRole::PEER));
    let o = e.handle_message(
        x,
        &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], Some(65077))),
    );
    assert!(matches!(o, Outcome::Accepted { rejected: 1, .. }), "{o:?}");
    assert_eq!(route_leaks(&mut e), 1);
    assert_accepted(
        e.handle_message(
            x,
            &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], Some(65050))),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            x,
            &announce(&["203.0.113.0/24"], attrs(rid(50), &[65050], None)),
        ),
        1,
        0,
        0,
    );
    let out = drain(&mut e, c, &Context::MODERN);
    assert_eq!(
        announced(&out),
        vec![p("198.51.100.0/24"), p("203.0.113.0/24")]
    );
    // iBGP carries OTC unchanged: the peer's own, and the one added on import
    // (the same attributes then: one UPDATE).
    assert_eq!(otcs(&out), vec![Some(65050)]);
    assert_eq!(route_leaks(&mut e), 0);
}

#[test]
fn rfc9234_5_routes_from_a_provider_or_rs_get_otc_of_their_as() {
    for role in [BgpRole::PROVIDER, BgpRole::RS] {
        let mut e = engine();
        let c = client(&mut e, 1);
        let x = ebgp(&mut e, 50, Some(role));
        assert_accepted(
            e.handle_message(
                x,
                &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], None)),
            ),
            1,
            0,
            0,
        );
        // An OTC already there stays as it is.
        assert_accepted(
            e.handle_message(
                x,
                &announce(&["203.0.113.0/24"], attrs(rid(50), &[65050], Some(65077))),
            ),
            1,
            0,
            0,
        );
        let out = drain(&mut e, c, &Context::MODERN);
        assert_eq!(otcs(&out), vec![Some(65050), Some(65077)], "{role:?}");
    }
    // Without roles nothing is added.
    let mut e = engine();
    let c = client(&mut e, 1);
    let x = ebgp(&mut e, 50, None);
    assert_accepted(
        e.handle_message(
            x,
            &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050], None)),
        ),
        1,
        0,
        0,
    );
    assert_eq!(otcs(&drain(&mut e, c, &Context::MODERN)), vec![None]);
}

#[test]
fn rfc9234_5_egress_otc_added_toward_customers_peers_rs_clients_and_otc_routes_kept_from_the_others(
) {
    let mut e = engine();
    let a = client(&mut e, 1);
    let c2 = client(&mut e, 2);
    // Two eBGP peers per role, configured alike, so that each role is one shared export class.
    let roles = [
        BgpRole::CUSTOMER,
        BgpRole::PEER,
        BgpRole::RS_CLIENT,
        BgpRole::PROVIDER,
        BgpRole::RS,
    ];
    let mut peers = Vec::new();
    for (i, r) in roles.into_iter().enumerate() {
        let n = 50 + 2 * i as u8;
        peers.push((r, ebgp(&mut e, n, Some(r)), ebgp(&mut e, n + 1, Some(r))));
    }
    let plain = ebgp(&mut e, 70, None);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[], None))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["198.51.100.0/24"], attrs(rid(1), &[], Some(64999))),
        ),
        1,
        0,
        0,
    );
    for (r, x, y) in &peers {
        for t in [*x, *y] {
            let out = drain(&mut e, t, &Context::MODERN);
            match *r {
                BgpRole::CUSTOMER | BgpRole::RS_CLIENT => {
                    assert_eq!(
                        announced(&out),
                        vec![p("192.0.2.0/24"), p("198.51.100.0/24")],
                        "{r:?}"
                    );
                    assert_eq!(otcs(&out), vec![Some(AS), Some(64999)], "{r:?}");
                }
                BgpRole::PEER => {
                    assert_eq!(announced(&out), vec![p("192.0.2.0/24")]);
                    assert_eq!(otcs(&out), vec![Some(AS)]);
                }
                _ => {
                    assert_eq!(announced(&out), vec![p("192.0.2.0/24")], "{r:?}");
                    assert_eq!(otcs(&out), vec![None], "{r:?}");
                }
            }
        }
    }
    // Without a role: everything, OTC as it is.
    let out = drain(&mut e, plain, &Context::MODERN);
    assert_eq!(otcs(&out), vec![None, Some(64999)]);
    // iBGP: unchanged.
    assert_eq!(
        otcs(&drain(&mut e, c2, &Context::MODERN)),
        vec![None, Some(64999)]
    );
    // A route that gains OTC is withdrawn from a provider that had it.
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["192.0.2.0/24"], attrs(rid(1), &[], Some(64999))),
        ),
        1,
        0,
        0,
    );
    let (_, prov, _) = peers[3];
    assert_eq!(
        withdrawn(&drain(&mut e, prov, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
}

/// An UPDATE carrying IPv4 `prefix` in MP_REACH_NLRI (AFI 1, SAFI 1) with IPv6 next hop `nh`.
fn announce_v4_over_v6(prefix: &str, nh: &str, local_pref: u32) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::IPV4_UNICAST,
                next_hop: nh.parse::<Ipv6Addr>().unwrap().octets().to_vec(),
                reserved: 0,
                nlri: MpNlri::Prefixes(vec![Nlri::new(p(prefix))]),
            })),
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
            AttributeRepr::new(AttributeValue::LocalPref(local_pref)),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// A client n that negotiated (or not) extended next hop for IPv4 unicast.
fn client_enh(e: &mut Engine, n: u8, enh: bool) -> PeerId {
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS));
    let mut neg = Negotiated::unicast(rid(n));
    if enh {
        neg.extended_next_hop = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    }
    e.peer_up(id, neg);
    drain(e, id, &Context::MODERN);
    id
}

fn mp_next_hop(out: &[UpdateRepr]) -> Vec<(AfiSafi, Vec<u8>)> {
    out.iter()
        .filter_map(|u| match u.attribute(type_code::MP_REACH_NLRI) {
            Some(AttributeValue::MpReach(m)) => Some((m.afi_safi, m.next_hop.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn rfc8950_ipv4_route_with_ipv6_next_hop_goes_only_to_extended_next_hop_peers() {
    let mut e = engine();
    let a = client_enh(&mut e, 1, true);
    let b = client_enh(&mut e, 2, false);
    let c = client_enh(&mut e, 3, false);
    let o = e.handle_message(c, &announce_v4_over_v6("10.0.0.0/24", "2001:db8::1", 100));
    assert!(matches!(o, Outcome::Accepted { announced: 1, .. }), "{o:?}");
    let to_a = drain(&mut e, a, &Context::MODERN);
    assert_eq!(announced(&to_a), vec![p("10.0.0.0/24")]);
    assert_eq!(
        mp_next_hop(&to_a),
        vec![(
            AfiSafi::IPV4_UNICAST,
            "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets().to_vec()
        )]
    );
    let to_b = drain(&mut e, b, &Context::MODERN);
    assert!(announced(&to_b).is_empty(), "{to_b:?}");
    assert!(withdrawn(&to_b).is_empty());
    // A new client without extended next hop does not get it in its initial table either.
    let d = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(4)), AS));
    e.peer_up(d, Negotiated::unicast(rid(4)));
    assert!(announced(&drain(&mut e, d, &Context::MODERN)).is_empty());
}

#[test]
fn rfc8950_route_that_moves_to_an_ipv6_next_hop_is_withdrawn_from_the_others() {
    let mut e = engine();
    // Several of each kind, so that each kind is one shared export class.
    let enh: Vec<PeerId> = (1..=2).map(|n| client_enh(&mut e, n, true)).collect();
    let plain: Vec<PeerId> = (3..=4).map(|n| client_enh(&mut e, n, false)).collect();
    let v4src = client_enh(&mut e, 5, false);
    let v6src = client_enh(&mut e, 6, false);
    assert_accepted(
        e.handle_message(v4src, &announce(&["10.0.0.0/24"], attrs(rid(5), &[], None))),
        1,
        0,
        0,
    );
    for &t in enh.iter().chain(&plain) {
        assert_eq!(
            announced(&drain(&mut e, t, &Context::MODERN)),
            vec![p("10.0.0.0/24")]
        );
    }
    // A better path with an IPv6 next hop.
    assert_accepted(
        e.handle_message(
            v6src,
            &announce_v4_over_v6("10.0.0.0/24", "2001:db8::1", 200),
        ),
        1,
        0,
        0,
    );
    for &t in &enh {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(announced(&out), vec![p("10.0.0.0/24")]);
        assert_eq!(mp_next_hop(&out).len(), 1);
    }
    for &t in &plain {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(withdrawn(&out), vec![p("10.0.0.0/24")], "{t:?}");
        assert!(announced(&out).is_empty());
    }
}

#[test]
fn rfc3765_nopeer_is_kept_from_bilateral_peers_and_sent_to_everyone_else() {
    let mut e = engine();
    let a = client(&mut e, 1);
    let c2 = client(&mut e, 2);
    let peer = ebgp(&mut e, 50, Some(BgpRole::PEER));
    let customer = ebgp(&mut e, 52, Some(BgpRole::CUSTOMER));
    let unknown = ebgp(&mut e, 54, None);
    let mut tagged = attrs(rid(1), &[], None);
    tagged.push(AttributeRepr::new(AttributeValue::Communities(vec![
        reflector_core::wire::attribute::community::NO_PEER,
    ])));
    let o = e.handle_message(a, &announce(&["203.0.113.0/24"], tagged));
    assert!(matches!(o, Outcome::Accepted { announced: 1, .. }), "{o:?}");
    let o = e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[], None)));
    assert!(matches!(o, Outcome::Accepted { announced: 1, .. }), "{o:?}");
    // A bilateral peer (BGP Role Peer) gets only the untagged route.
    assert_eq!(
        announced(&drain(&mut e, peer, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    // A customer, a peer of unknown relationship and iBGP get both.
    for t in [customer, unknown, c2] {
        let mut got = announced(&drain(&mut e, t, &Context::MODERN));
        got.sort();
        assert_eq!(got, vec![p("192.0.2.0/24"), p("203.0.113.0/24")], "{t:?}");
    }
}

/// RFC 4271 §9.1.2: a route from an eBGP peer whose AS_PATH holds our AS is a
/// loop and is not used; `allow_own_as` (BIRD's `allow local as N`, what
/// Calico's `numAllowedLocalASNumbers` renders) lets it through up to N times.
#[test]
fn own_as_in_an_ebgp_path_is_a_loop_unless_allowed_that_many_times() {
    let nh = Ipv4Addr::new(192, 0, 2, 7);
    for (allow, times, accepted) in [
        (0u8, 1usize, false),
        (1, 1, true),
        (1, 2, false),
        (2, 2, true),
        (3, 2, true),
    ] {
        let mut e = engine();
        let c = client(&mut e, 1);
        let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(7)), 65007);
        cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
        cfg.allow_own_as = allow;
        let x = e.add_peer(cfg);
        e.peer_up(x, Negotiated::unicast(rid(7)));
        drain(&mut e, x, &Context::MODERN);
        let mut path = vec![65007];
        for _ in 0..times {
            path.extend([AS, 65100]);
        }
        let o = e.handle_message(x, &announce(&["10.9.0.0/16"], attrs(nh, &path, None)));
        let loops = std::iter::from_fn(|| e.poll_event())
            .filter(|ev| {
                matches!(
                    ev,
                    Event::LoopRejected {
                        reason: LoopReason::AsPath,
                        ..
                    }
                )
            })
            .count();
        let out = drain(&mut e, c, &Context::MODERN);
        if accepted {
            assert_accepted(o, 1, 0, 0);
            assert_eq!(loops, 0, "allow {allow}, {times} times");
            assert_eq!(
                announced(&out),
                vec![p("10.9.0.0/16")],
                "allow {allow}, {times} times"
            );
        } else {
            assert_accepted(o, 0, 0, 1);
            assert_eq!(loops, 1, "allow {allow}, {times} times");
            assert!(announced(&out).is_empty(), "allow {allow}, {times} times");
        }
    }
}

/// `next_hop_unchanged` (BIRD's `next hop keep`, Calico's `nextHopMode: Keep`):
/// toward that eBGP peer a client's route keeps its next hop (RFC 4271 §5.1.3
/// third-party next hop); toward another eBGP peer the next hop is ours. Both
/// get our AS prepended.
#[test]
fn next_hop_unchanged_toward_an_ebgp_peer_keeps_the_routes_next_hop() {
    let mut e = engine();
    let c = client(&mut e, 1);
    let ours = ebgp(&mut e, 50, None);
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(51)), 65051);
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    cfg.next_hop_unchanged = true;
    let keep = e.add_peer(cfg);
    e.peer_up(keep, Negotiated::unicast(rid(51)));
    drain(&mut e, keep, &Context::MODERN);
    let nh = Ipv4Addr::new(10, 1, 1, 1);
    let o = e.handle_message(c, &announce(&["10.9.0.0/16"], attrs(nh, &[], None)));
    assert_accepted(o, 1, 0, 0);
    let next_hops = |out: &[UpdateRepr]| -> Vec<Ipv4Addr> {
        out.iter()
            .filter_map(|u| match u.attribute(type_code::NEXT_HOP) {
                Some(AttributeValue::NextHop(a)) => Some(*a),
                _ => None,
            })
            .collect()
    };
    let paths = |out: &[UpdateRepr]| -> Vec<AsPath> {
        out.iter()
            .filter_map(|u| match u.attribute(type_code::AS_PATH) {
                Some(AttributeValue::AsPath(p)) => Some(p.clone()),
                _ => None,
            })
            .collect()
    };
    let to_ours = drain(&mut e, ours, &Context::MODERN);
    let to_keep = drain(&mut e, keep, &Context::MODERN);
    assert_eq!(announced(&to_ours), vec![p("10.9.0.0/16")]);
    assert_eq!(announced(&to_keep), vec![p("10.9.0.0/16")]);
    assert_eq!(next_hops(&to_ours), vec![Ipv4Addr::new(192, 0, 2, 254)]);
    assert_eq!(next_hops(&to_keep), vec![nh]);
    assert_eq!(paths(&to_keep), vec![AsPath::sequence(&[AS])]);
    assert_eq!(paths(&to_ours), paths(&to_keep));
}

/// The same for IPv6 unicast: the MP next hop toward a `next_hop_unchanged`
/// eBGP peer is the route's, toward another eBGP peer our IPv6 address.
#[test]
fn next_hop_unchanged_keeps_the_ipv6_mp_next_hop() {
    let mut e = engine();
    let c = client(&mut e, 1);
    let peer = |e: &mut Engine, n: u8, unchanged: bool| {
        let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(n)), 65000 + u32::from(n));
        cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
        cfg.local_v6 = Some("2001:db8:ffff::254".parse().unwrap());
        cfg.next_hop_unchanged = unchanged;
        let id = e.add_peer(cfg);
        e.peer_up(id, Negotiated::unicast(rid(n)));
        drain(e, id, &Context::MODERN);
        id
    };
    let ours = peer(&mut e, 50, false);
    let keep = peer(&mut e, 51, true);
    let msg = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::IPV6_UNICAST,
                next_hop: "2001:db8::1".parse::<Ipv6Addr>().unwrap().octets().to_vec(),
                reserved: 0,
                nlri: MpNlri::Prefixes(vec![Nlri::new(p("2001:db8:9::/48"))]),
            })),
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    assert_accepted(e.handle_message(c, &msg), 1, 0, 0);
    let mp_next_hop = |out: &[UpdateRepr]| -> Vec<Vec<u8>> {
        out.iter()
            .filter_map(|u| match u.attribute(type_code::MP_REACH_NLRI) {
                Some(AttributeValue::MpReach(m)) => Some(m.next_hop.clone()),
                _ => None,
            })
            .collect()
    };
    let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap().octets().to_vec();
    assert_eq!(
        mp_next_hop(&drain(&mut e, ours, &Context::MODERN)),
        vec![v6("2001:db8:ffff::254")]
    );
    assert_eq!(
        mp_next_hop(&drain(&mut e, keep, &Context::MODERN)),
        vec![v6("2001:db8::1")]
    );
}

/// A per-session local AS (`PeerConfig::local_as`, BIRD's `local as`, what
/// Calico's `localASNumber` renders): toward that eBGP peer the session's AS
/// is prepended and is the OTC value (RFC 9234 §5: "the AS number of the
/// local AS"), the peer's routes are loop-checked against the session's AS
/// and not the engine's, and peers with another local AS never share its
/// encoding.
#[test]
fn a_per_session_local_as_is_prepended_and_loop_checked() {
    let mut e = engine();
    let c = client(&mut e, 1);
    let plain = ebgp(&mut e, 50, Some(BgpRole::CUSTOMER));
    let plain2 = ebgp(&mut e, 52, Some(BgpRole::CUSTOMER));
    let local = |e: &mut Engine, n: u8| {
        let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(n)), 65000 + u32::from(n));
        cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
        cfg.local_as = Some(64999);
        let id = e.add_peer(cfg);
        let mut neg = Negotiated::unicast(rid(n));
        neg.remote_role = Some(BgpRole::CUSTOMER);
        e.peer_up(id, neg);
        drain(e, id, &Context::MODERN);
        id
    };
    let other = local(&mut e, 51);
    let other2 = local(&mut e, 53);
    let nh = Ipv4Addr::new(10, 1, 1, 1);
    let o = e.handle_message(c, &announce(&["10.9.0.0/16"], attrs(nh, &[], None)));
    assert_accepted(o, 1, 0, 0);
    let path_and_otc = |out: &[UpdateRepr]| -> Vec<(Option<AsPath>, Option<u32>)> {
        out.iter()
            .filter(|u| !announced(std::slice::from_ref(u)).is_empty())
            .map(|u| {
                let path = match u.attribute(type_code::AS_PATH) {
                    Some(AttributeValue::AsPath(p)) => Some(p.clone()),
                    _ => None,
                };
                let otc = match u.attribute(type_code::OTC) {
                    Some(AttributeValue::Otc(v)) => Some(*v),
                    _ => None,
                };
                (path, otc)
            })
            .collect()
    };
    for (peer, asn) in [(plain, AS), (plain2, AS), (other, 64999), (other2, 64999)] {
        let out = drain(&mut e, peer, &Context::MODERN);
        assert_eq!(announced(&out), vec![p("10.9.0.0/16")], "{peer:?}");
        assert_eq!(
            path_and_otc(&out),
            vec![(Some(AsPath::sequence(&[asn])), Some(asn))],
            "{peer:?}"
        );
    }
    // From the local-AS session, a path holding the session's AS is a loop;
    // one holding the engine's AS is not (and the reverse from the others).
    for (from, prefix, path, accepted) in [
        (other, "10.8.0.0/16", [65051, 64999], false),
        (other, "10.7.0.0/16", [65051, AS], true),
        (plain, "10.6.0.0/16", [65050, 64999], true),
        (plain, "10.5.0.0/16", [65050, AS], false),
    ] {
        let o = e.handle_message(from, &announce(&[prefix], attrs(nh, &path, None)));
        if accepted {
            assert_accepted(o, 1, 0, 0);
        } else {
            assert_accepted(o, 0, 0, 1);
        }
    }
    let mut got = announced(&drain(&mut e, c, &Context::MODERN));
    got.sort();
    assert_eq!(got, vec![p("10.6.0.0/16"), p("10.7.0.0/16")]);
}

/// The policy's local AS on a session with its own local AS is that AS: a
/// prepend of "our AS" on export prepends the session's.
#[test]
fn a_policy_prepend_on_a_local_as_session_uses_the_sessions_as() {
    use reflector_core::policy::{Modify, Policy, Statement, Verdict};
    let mut e = engine();
    let c = client(&mut e, 1);
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(51)), 65051);
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    cfg.local_as = Some(64999);
    let x = e.add_peer(cfg);
    let mut pol = Policy::new("prepend", Verdict::Accept);
    pol.push(
        Statement::new("all", Verdict::Accept).then(Modify::Prepend {
            asn: None,
            count: 2,
        }),
    );
    e.set_export_policy(x, Some(pol));
    e.peer_up(x, Negotiated::unicast(rid(51)));
    drain(&mut e, x, &Context::MODERN);
    let nh = Ipv4Addr::new(10, 1, 1, 1);
    let o = e.handle_message(c, &announce(&["10.9.0.0/16"], attrs(nh, &[], None)));
    assert_accepted(o, 1, 0, 0);
    let out = drain(&mut e, x, &Context::MODERN);
    let paths: Vec<AsPath> = out
        .iter()
        .filter_map(|u| match u.attribute(type_code::AS_PATH) {
            Some(AttributeValue::AsPath(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(paths, vec![AsPath::sequence(&[64999, 64999, 64999])]);
}
