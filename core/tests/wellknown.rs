//! Well-known communities (RFC 1997, 3765, 7999, 8326), LOCAL_PREF toward
//! iBGP (RFC 4271 §5.1.5), and a few export and decision corner cases, on
//! real encoded bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::decision::DecisionConfig;
use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::{PathInfo, PeerId, NO_NEIGHBOR_AS};
use reflector_core::wire::attribute::{community, type_code, Origin, SegmentType};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue, Segment};
use reflector_core::wire::{Context, Prefix, UpdateRepr};

mod support;
use support::{
    add_path_client, add_path_ctx, announce, announced, drain, engine, p, rid, withdrawn, AS,
};

/// Our address toward the eBGP peers (next hop self).
const SELF_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);

fn peer(e: &mut Engine, role: Role, n: u8) -> PeerId {
    let asn = if role == Role::Ebgp {
        65000 + u32::from(n)
    } else {
        AS
    };
    let mut cfg = PeerConfig::new(role, IpAddr::V4(rid(n)), asn);
    cfg.local_v4 = Some(SELF_V4);
    let id = e.add_peer(cfg);
    e.peer_up(id, Negotiated::unicast(rid(n)));
    drain(e, id, &Context::MODERN);
    id
}

/// An eBGP peer whose session has its own local address: it gets its own export pass.
fn lone_ebgp_peer(e: &mut Engine, n: u8) -> PeerId {
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(n)), 65000 + u32::from(n));
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, n));
    let id = e.add_peer(cfg);
    e.peer_up(id, Negotiated::unicast(rid(n)));
    drain(e, id, &Context::MODERN);
    id
}

/// ADD-PATH sending in IPv4 unicast: the context to read its output with.
/// ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF 100 and COMMUNITIES (when any).
fn attrs(next_hop: Ipv4Addr, communities: &[u32]) -> Vec<AttributeRepr> {
    let mut v = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
        AttributeRepr::new(AttributeValue::NextHop(next_hop)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
    ];
    if !communities.is_empty() {
        v.push(AttributeRepr::new(AttributeValue::Communities(
            communities.to_vec(),
        )));
    }
    v
}

fn without(mut v: Vec<AttributeRepr>, t: u8) -> Vec<AttributeRepr> {
    v.retain(|a| a.value.type_code() != t);
    v
}

fn sorted(mut v: Vec<Prefix>) -> Vec<Prefix> {
    v.sort();
    v
}

fn local_pref(u: &UpdateRepr) -> Option<u32> {
    match u.attribute(type_code::LOCAL_PREF) {
        Some(AttributeValue::LocalPref(v)) => Some(*v),
        None => None,
        other => panic!("{other:?}"),
    }
}

const ORDINARY: &str = "192.0.2.0/24";
const NO_EXPORT: &str = "198.51.100.0/24";
const NO_EXPORT_SUBCONFED: &str = "198.51.101.0/24";
const NO_ADVERTISE: &str = "203.0.113.0/24";

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
fn rfc1997_no_export_and_no_export_subconfed_stay_inside_the_as() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    // Two clients and two eBGP peers share export passes; one more eBGP
    // peer and one non-client get their own.
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let n = peer(&mut e, Role::NonClient, 4);
    let x = peer(&mut e, Role::Ebgp, 50);
    let y = peer(&mut e, Role::Ebgp, 51);
    let z = lone_ebgp_peer(&mut e, 52);
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            a,
            &announce(&[NO_EXPORT], attrs(rid(1), &[community::NO_EXPORT])),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[NO_EXPORT_SUBCONFED],
                attrs(rid(1), &[0xfde8_0001, community::NO_EXPORT_SUBCONFED]),
            ),
        ),
        1,
        0,
        0,
    );
    for t in [b, c, n] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(
            sorted(announced(&out)),
            sorted(vec![p(ORDINARY), p(NO_EXPORT), p(NO_EXPORT_SUBCONFED)]),
            "iBGP peer {t:?}"
        );
        // The communities travel on unchanged.
        let u = out
            .iter()
            .find(|u| u.nlri[0].prefix == p(NO_EXPORT))
            .unwrap();
        assert_eq!(
            u.attribute(type_code::COMMUNITIES),
            Some(&AttributeValue::Communities(vec![community::NO_EXPORT]))
        );
    }
    for t in [x, y, z] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(announced(&out), vec![p(ORDINARY)], "eBGP peer {t:?}");
    }
    // A path that gains NO_EXPORT is withdrawn from the eBGP peers that had it,
    // and sent with the community to the iBGP ones.
    assert_accepted(
        e.handle_message(
            a,
            &announce(&[ORDINARY], attrs(rid(1), &[community::NO_EXPORT])),
        ),
        1,
        0,
        0,
    );
    for t in [x, y, z] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(withdrawn(&out), vec![p(ORDINARY)], "eBGP peer {t:?}");
        assert!(announced(&out).is_empty());
    }
    for t in [b, c, n] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(announced(&out), vec![p(ORDINARY)]);
        assert!(withdrawn(&out).is_empty());
    }
    // A session that comes up now gets none of them in its initial dump.
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(53)), 65053);
    cfg.local_v4 = Some(SELF_V4);
    let w = e.add_peer(cfg);
    e.peer_up(w, Negotiated::unicast(rid(53)));
    assert!(announced(&drain(&mut e, w, &Context::MODERN)).is_empty());
}

#[test]
fn rfc1997_no_advertise_is_sent_to_no_peer() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let n = peer(&mut e, Role::NonClient, 4);
    let x = peer(&mut e, Role::Ebgp, 50);
    let y = peer(&mut e, Role::Ebgp, 51);
    let d = add_path_client(&mut e, 5);
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            a,
            &announce(&[NO_ADVERTISE], attrs(rid(1), &[community::NO_ADVERTISE])),
        ),
        1,
        0,
        0,
    );
    // From eBGP too.
    assert_accepted(
        e.handle_message(
            x,
            &announce(
                &["203.0.113.128/25"],
                without(
                    attrs(rid(50), &[community::NO_ADVERTISE]),
                    type_code::LOCAL_PREF,
                ),
            ),
        ),
        1,
        0,
        0,
    );
    for t in [b, c, n, y] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(announced(&out), vec![p(ORDINARY)], "peer {t:?}");
    }
    assert_eq!(
        announced(&drain(&mut e, d, &add_path_ctx())),
        vec![p(ORDINARY)]
    );
    // The paths are still candidates, and best, here.
    assert_eq!(e.best(&p(NO_ADVERTISE)).unwrap().peer, a);
}

#[test]
fn rfc1997_a_path_that_gains_no_advertise_is_withdrawn_from_every_peer_that_had_it() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let n = peer(&mut e, Role::NonClient, 4);
    let x = peer(&mut e, Role::Ebgp, 50);
    let y = peer(&mut e, Role::Ebgp, 51);
    let d = add_path_client(&mut e, 5);
    let plain = [b, c, n, x, y];
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    for t in plain {
        assert_eq!(
            announced(&drain(&mut e, t, &Context::MODERN)),
            vec![p(ORDINARY)]
        );
    }
    let out = drain(&mut e, d, &add_path_ctx());
    let id = out[0].nlri[0].path_id;
    assert!(id.is_some());
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[ORDINARY],
                attrs(rid(1), &[0xfde8_0001, community::NO_ADVERTISE]),
            ),
        ),
        1,
        0,
        0,
    );
    for t in plain {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(withdrawn(&out), vec![p(ORDINARY)], "peer {t:?}");
        assert!(announced(&out).is_empty());
    }
    let out = drain(&mut e, d, &add_path_ctx());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].withdrawn[0].path_id, id);
    // And it comes back when the community goes.
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    for t in plain {
        assert_eq!(
            announced(&drain(&mut e, t, &Context::MODERN)),
            vec![p(ORDINARY)]
        );
    }
}

#[test]
fn rfc7999_blackhole_is_reflected_unchanged_to_clients() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let lone = peer(&mut e, Role::NonClient, 4);
    let comms = vec![0xfde8_0001, community::BLACKHOLE];
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.1/32"], attrs(rid(1), &comms))),
        1,
        0,
        0,
    );
    for t in [b, c, lone] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(announced(&out), vec![p("192.0.2.1/32")]);
        let u = &out[0];
        assert_eq!(
            u.attribute(type_code::COMMUNITIES),
            Some(&AttributeValue::Communities(comms.clone()))
        );
        assert_eq!(
            u.attribute(type_code::NEXT_HOP),
            Some(&AttributeValue::NextHop(rid(1)))
        );
        assert_eq!(local_pref(u), Some(100));
    }
}

#[test]
fn rfc8326_graceful_shutdown_sets_local_pref_0_so_another_path_wins() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let x = peer(&mut e, Role::Ebgp, 50);
    // A has the lower router ID and would win; with GRACEFUL_SHUTDOWN it loses.
    assert_accepted(
        e.handle_message(
            a,
            &announce(&[ORDINARY], attrs(rid(1), &[community::GRACEFUL_SHUTDOWN])),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(b, &announce(&[ORDINARY], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    e.flush();
    let best = e.best(&p(ORDINARY)).unwrap();
    assert_eq!(best.peer, b);
    let cands = e.candidates(&p(ORDINARY));
    assert_eq!(cands[1].peer, a);
    assert_eq!(cands[1].set.info().local_pref, Some(0));
    let out = drain(&mut e, c, &Context::MODERN);
    assert_eq!(
        out.last().unwrap().attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid(2)))
    );
    // Alone, the path is still used; reflected copies carry LOCAL_PREF 0
    // and the community.
    assert_accepted(
        e.handle_message(
            a,
            &announce(&[NO_EXPORT], attrs(rid(1), &[community::GRACEFUL_SHUTDOWN])),
        ),
        1,
        0,
        0,
    );
    let out = drain(&mut e, c, &Context::MODERN);
    assert_eq!(announced(&out), vec![p(NO_EXPORT)]);
    assert_eq!(local_pref(&out[0]), Some(0));
    assert_eq!(
        out[0].attribute(type_code::COMMUNITIES),
        Some(&AttributeValue::Communities(vec![
            community::GRACEFUL_SHUTDOWN
        ]))
    );
    // From eBGP (no LOCAL_PREF on the wire): iBGP peers get LOCAL_PREF 0,
    // not the default.
    assert_accepted(
        e.handle_message(
            x,
            &announce(
                &[NO_ADVERTISE],
                without(
                    attrs(rid(50), &[community::GRACEFUL_SHUTDOWN]),
                    type_code::LOCAL_PREF,
                ),
            ),
        ),
        1,
        0,
        0,
    );
    let out = drain(&mut e, c, &Context::MODERN);
    assert_eq!(announced(&out), vec![p(NO_ADVERTISE)]);
    assert_eq!(local_pref(&out[0]), Some(0));
}

#[test]
fn rfc4271_5_1_5_ibgp_updates_carry_local_pref_even_when_the_path_had_none() {
    let mut cfg = EngineConfig::new(AS, rid(254));
    // RFC 8212 off: these tests are about the reflection and eBGP rules (policy.rs tests it).
    cfg.ebgp_requires_policy = false;
    cfg.decision = DecisionConfig {
        default_local_pref: 150,
        ..DecisionConfig::default()
    };
    let mut e = Engine::new(cfg);
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let n = peer(&mut e, Role::NonClient, 3);
    // A client on a 2-octet session: the general rewrite, not the one-pass one.
    let old = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(4)), AS));
    let mut neg = Negotiated::unicast(rid(4));
    neg.four_octet_as = false;
    e.peer_up(old, neg);
    drain(&mut e, old, &Context::LEGACY);
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[ORDINARY],
                without(attrs(rid(1), &[0xfde8_0001]), type_code::LOCAL_PREF),
            ),
        ),
        1,
        0,
        0,
    );
    e.originate(p("192.168.0.0/24"), IpAddr::V4(rid(254)), &[])
        .unwrap();
    for (t, ctx) in [
        (b, Context::MODERN),
        (n, Context::MODERN),
        (old, Context::LEGACY),
    ] {
        let out = drain(&mut e, t, &ctx);
        assert_eq!(
            sorted(announced(&out)),
            sorted(vec![p(ORDINARY), p("192.168.0.0/24")])
        );
        for u in &out {
            assert_eq!(local_pref(u), Some(150), "peer {t:?}: {u:?}");
        }
        let reflected = out
            .iter()
            .find(|u| u.nlri[0].prefix == p(ORDINARY))
            .unwrap();
        assert_eq!(
            reflected.attribute(type_code::ORIGINATOR_ID),
            Some(&AttributeValue::OriginatorId(rid(1)))
        );
    }
    // A LOCAL_PREF that was sent is kept.
    assert_accepted(
        e.handle_message(a, &announce(&[NO_EXPORT], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(local_pref(&out[0]), Some(100));
}

#[test]
fn originator_check_ignores_the_router_id_of_an_ebgp_peer() {
    let mut e = engine();
    let b = peer(&mut e, Role::Client, 2);
    let lone = {
        // A non-client alone in its class: its own export pass.
        peer(&mut e, Role::NonClient, 3)
    };
    let c = peer(&mut e, Role::Client, 4);
    // An eBGP neighbour whose router ID happens to be B's (router IDs are
    // unique only within an AS), another with the non-client's.
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(50)), 65050);
    cfg.local_v4 = Some(SELF_V4);
    let x = e.add_peer(cfg);
    e.peer_up(x, Negotiated::unicast(rid(2)));
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(51)), 65051);
    cfg.local_v4 = Some(SELF_V4);
    let y = e.add_peer(cfg);
    e.peer_up(y, Negotiated::unicast(rid(3)));
    let path = |nh: Ipv4Addr, asn: u32| {
        vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[asn]))),
            AttributeRepr::new(AttributeValue::NextHop(nh)),
        ]
    };
    assert_accepted(
        e.handle_message(x, &announce(&[ORDINARY], path(rid(50), 65050))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(y, &announce(&[NO_EXPORT], path(rid(51), 65051))),
        1,
        0,
        0,
    );
    for t in [b, lone, c] {
        let out = drain(&mut e, t, &Context::MODERN);
        assert_eq!(
            sorted(announced(&out)),
            sorted(vec![p(ORDINARY), p(NO_EXPORT)]),
            "peer {t:?}"
        );
    }
    // The check itself still holds for iBGP: B's own path is not reflected
    // back to it by ORIGINATOR_ID, even through another client.
    let mut at = attrs(rid(2), &[]);
    at.push(AttributeRepr::new(AttributeValue::OriginatorId(rid(2))));
    assert_accepted(e.handle_message(c, &announce(&[NO_ADVERTISE], at)), 1, 0, 0);
    assert!(announced(&drain(&mut e, b, &Context::MODERN)).is_empty());
    assert_eq!(
        announced(&drain(&mut e, lone, &Context::MODERN)),
        vec![p(NO_ADVERTISE)]
    );
}

fn path_with(segments: Vec<Segment>, med: u32, nh: Ipv4Addr) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath { segments })),
        AttributeRepr::new(AttributeValue::NextHop(nh)),
        AttributeRepr::new(AttributeValue::Med(med)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
    ]
}

fn seg(kind: SegmentType, asns: &[u32]) -> Segment {
    Segment {
        kind,
        asns: asns.to_vec(),
    }
}

#[test]
fn rfc4271_9_1_2_2_c_confederation_only_and_as_set_led_paths_have_the_local_as() {
    // The neighbouring AS as the decision reads it, from real attribute bytes.
    let info = |segments: Vec<Segment>| {
        let u = UpdateRepr {
            withdrawn: vec![],
            attributes: path_with(segments, 0, rid(1)),
            nlri: vec![],
        };
        let msg = u.to_vec(&Context::MODERN).unwrap();
        let pkt =
            reflector_core::wire::UpdatePacket::new_checked(&msg[..], &Context::MODERN).unwrap();
        let mut block = Vec::new();
        reflector_core::reflect::canonicalize(
            pkt.attributes(),
            &reflector_core::reflect::ImportContext {
                role: Role::Client,
                four_octet: true,
                bgp_role: None,
                peer_as: 63400,
            },
            true,
            &mut block,
        );
        PathInfo::from_block(&block, None).neighbor_as
    };
    assert_eq!(info(vec![]), 0);
    assert_eq!(
        info(vec![seg(SegmentType::Sequence, &[65001, 65002])]),
        65001
    );
    assert_eq!(
        info(vec![
            seg(SegmentType::ConfedSequence, &[65010]),
            seg(SegmentType::Sequence, &[65001])
        ]),
        65001
    );
    // "If the route is learned via IBGP, and the other IBGP speaker either
    // (a) originated the route, or (b) created the route by aggregation and
    // the AS_PATH attribute of the aggregate route is either empty or begins
    // with an AS_SET, it is the local AS."
    assert_eq!(info(vec![seg(SegmentType::Set, &[65001, 65002])]), 0);
    assert_eq!(info(vec![seg(SegmentType::ConfedSequence, &[65010])]), 0);
    assert_ne!(
        info(vec![seg(SegmentType::Sequence, &[65001])]),
        NO_NEIGHBOR_AS
    );

    // In the engine: a path with only a confederation segment (length 0, as
    // the empty path) is from the local AS too: the lower MED wins.
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], path_with(vec![], 50, rid(1)))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            b,
            &announce(
                &[ORDINARY],
                path_with(vec![seg(SegmentType::ConfedSequence, &[65010])], 10, rid(2)),
            ),
        ),
        1,
        0,
        0,
    );
    // Two aggregates starting with an AS_SET: the local AS, MED decides.
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[NO_EXPORT],
                path_with(vec![seg(SegmentType::Set, &[65001])], 50, rid(1)),
            ),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            b,
            &announce(
                &[NO_EXPORT],
                path_with(vec![seg(SegmentType::Set, &[65001])], 10, rid(2)),
            ),
        ),
        1,
        0,
        0,
    );
    // Control: from the same neighbouring AS, MED decides.
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[NO_ADVERTISE],
                path_with(vec![seg(SegmentType::Sequence, &[65001])], 50, rid(1)),
            ),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            b,
            &announce(
                &[NO_ADVERTISE],
                path_with(vec![seg(SegmentType::Sequence, &[65001])], 10, rid(2)),
            ),
        ),
        1,
        0,
        0,
    );
    // An AS_SET-led aggregate against a path from neighbour AS 65001: not the
    // same neighbouring AS, so MED is not compared and the router ID decides.
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &[NO_EXPORT_SUBCONFED],
                path_with(vec![seg(SegmentType::Set, &[65001])], 50, rid(1)),
            ),
        ),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(
            b,
            &announce(
                &[NO_EXPORT_SUBCONFED],
                path_with(vec![seg(SegmentType::Sequence, &[65001])], 10, rid(2)),
            ),
        ),
        1,
        0,
        0,
    );
    e.flush();
    assert_eq!(e.best(&p(ORDINARY)).unwrap().peer, b);
    assert_eq!(e.best(&p(NO_EXPORT)).unwrap().peer, b);
    assert_eq!(e.best(&p(NO_ADVERTISE)).unwrap().peer, b);
    assert_eq!(e.best(&p(NO_EXPORT_SUBCONFED)).unwrap().peer, a);
}

#[test]
fn local_path_ids_stay_distinct_per_prefix_when_the_counter_wraps() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let d = add_path_client(&mut e, 9);
    // A's path takes identifier 1; B's the last one before the wrap; C's
    // would be 1 again.
    assert_accepted(
        e.handle_message(a, &announce(&[ORDINARY], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    e.set_next_local_id(u32::MAX);
    assert_accepted(
        e.handle_message(b, &announce(&[ORDINARY], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(c, &announce(&[ORDINARY], attrs(rid(3), &[]))),
        1,
        0,
        0,
    );
    let mut ids: Vec<u32> = e
        .candidates(&p(ORDINARY))
        .iter()
        .map(|v| v.local_id)
        .collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, u32::MAX]);
    // The ADD-PATH client gets three paths under three identifiers.
    let out = drain(&mut e, d, &add_path_ctx());
    let mut sent: Vec<Option<u32>> = out
        .iter()
        .flat_map(|u| u.nlri.iter().map(|n| n.path_id))
        .collect();
    sent.sort();
    assert_eq!(sent, vec![Some(1), Some(2), Some(u32::MAX)]);
    // The counter goes on past the identifier it skipped to, and a prefix
    // without paths takes the next one.
    assert_accepted(
        e.handle_message(a, &announce(&[NO_EXPORT], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_eq!(e.candidates(&p(NO_EXPORT))[0].local_id, 3);
}
