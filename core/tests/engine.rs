//! Engine behaviour on real encoded bytes: reflection rules (RFC 4456), loop
//! prevention, withdrawals, peer flaps, route refresh, ADD-PATH and packing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{
    AddPathSend, Engine, EngineConfig, Event, Negotiated, Outcome, PeerConfig,
};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, MpNlri, MpReachRepr, MpUnreachRepr,
};
use reflector_core::wire::{
    AfiSafi, AfiSafiSet, Context, MessageType, Nlri, UpdatePacket, UpdateRepr,
};

mod support;
use support::{
    add_path_client, add_path_ctx, announce, announced, drain, engine, p, rid, transmit, update_of,
    withdrawn, AS,
};

fn peer(e: &mut Engine, role: Role, n: u8) -> PeerId {
    let asn = if role == Role::Ebgp {
        65000 + u32::from(n)
    } else {
        AS
    };
    let id = e.add_peer(PeerConfig::new(role, IpAddr::V4(rid(n)), asn));
    e.peer_up(id, Negotiated::unicast(rid(n)));
    id
}

fn attrs(next_hop: Ipv4Addr, path: &[u32]) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
        AttributeRepr::new(AttributeValue::NextHop(next_hop)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
        AttributeRepr::new(AttributeValue::Communities(vec![0xf7a8_0001])),
    ]
}

fn withdraw(prefixes: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: prefixes
            .iter()
            .map(|p| Nlri::new(p.parse().unwrap()))
            .collect(),
        attributes: vec![],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn is_eor(u: &UpdateRepr) -> bool {
    u.nlri.is_empty()
        && u.withdrawn.is_empty()
        && (u.attributes.is_empty()
            || matches!(u.attributes.as_slice(), [a] if matches!(&a.value, AttributeValue::MpUnreach(m) if m.nlri == MpNlri::Prefixes(vec![]))))
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
fn rfc4724_peer_up_sends_end_of_rib_per_family() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let out = drain(&mut e, a, &Context::MODERN);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(is_eor));
}

#[test]
fn rfc4456_6_client_route_reflected_to_clients_and_non_clients_with_originator_and_cluster_list() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let n = peer(&mut e, Role::NonClient, 3);
    for x in [a, b, n] {
        drain(&mut e, x, &Context::MODERN);
    }
    let o = e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[])));
    assert_eq!(
        o,
        Outcome::Accepted {
            announced: 1,
            withdrawn: 0,
            rejected: 0
        }
    );
    for x in [b, n] {
        let out = drain(&mut e, x, &Context::MODERN);
        assert_eq!(announced(&out), vec![p("192.0.2.0/24")]);
        let u = &out[0];
        assert_eq!(
            u.attribute(type_code::ORIGINATOR_ID),
            Some(&AttributeValue::OriginatorId(rid(1)))
        );
        assert_eq!(
            u.attribute(type_code::CLUSTER_LIST),
            Some(&AttributeValue::ClusterList(vec![rid(254).to_bits()]))
        );
        // NEXT_HOP and LOCAL_PREF unchanged for iBGP.
        assert_eq!(
            u.attribute(type_code::NEXT_HOP),
            Some(&AttributeValue::NextHop(rid(1)))
        );
        assert_eq!(
            u.attribute(type_code::LOCAL_PREF),
            Some(&AttributeValue::LocalPref(100))
        );
        assert_eq!(
            u.attribute(type_code::COMMUNITIES),
            Some(&AttributeValue::Communities(vec![0xf7a8_0001]))
        );
    }
    // Never back to the sender.
    assert!(drain(&mut e, a, &Context::MODERN).is_empty());
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, a);
}

#[test]
fn rfc4456_6_non_client_route_goes_to_clients_only() {
    let mut e = engine();
    let c = peer(&mut e, Role::Client, 1);
    let n1 = peer(&mut e, Role::NonClient, 2);
    let n2 = peer(&mut e, Role::NonClient, 3);
    for x in [c, n1, n2] {
        drain(&mut e, x, &Context::MODERN);
    }
    assert_accepted(
        e.handle_message(n1, &announce(&["198.51.100.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    assert_eq!(
        announced(&drain(&mut e, c, &Context::MODERN)),
        vec![p("198.51.100.0/24")]
    );
    assert!(drain(&mut e, n2, &Context::MODERN).is_empty());
}

#[test]
fn rfc4456_6_client_to_client_reflection_can_be_disabled() {
    let mut cfg = EngineConfig::new(AS, rid(254));
    cfg.client_to_client = false;
    let mut e = Engine::new(cfg);
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let n = peer(&mut e, Role::NonClient, 3);
    for x in [a, b, n] {
        drain(&mut e, x, &Context::MODERN);
    }
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert!(drain(&mut e, b, &Context::MODERN).is_empty());
    assert_eq!(announced(&drain(&mut e, n, &Context::MODERN)).len(), 1);
}

#[test]
fn rfc4456_8_own_cluster_id_in_cluster_list_is_rejected_and_counted() {
    let mut e = engine();
    let a = peer(&mut e, Role::NonClient, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    let mut at = attrs(rid(1), &[]);
    at.push(AttributeRepr::new(AttributeValue::OriginatorId(rid(9))));
    at.push(AttributeRepr::new(AttributeValue::ClusterList(vec![
        0x0101_0101,
        rid(254).to_bits(),
    ])));
    let o = e.handle_message(a, &announce(&["192.0.2.0/24"], at));
    assert_eq!(
        o,
        Outcome::Accepted {
            announced: 0,
            withdrawn: 0,
            rejected: 1
        }
    );
    assert!(e.best(&p("192.0.2.0/24")).is_none());
    assert_eq!(e.counters(a).unwrap().rejected_loop, 1);
    assert!(drain(&mut e, b, &Context::MODERN).is_empty());
    let mut saw = false;
    while let Some(ev) = e.poll_event() {
        saw |= matches!(ev, Event::LoopRejected { .. });
    }
    assert!(saw);
}

#[test]
fn rfc4456_8_own_router_id_as_originator_is_rejected() {
    let mut e = engine();
    let a = peer(&mut e, Role::NonClient, 1);
    let mut at = attrs(rid(1), &[]);
    at.push(AttributeRepr::new(AttributeValue::OriginatorId(rid(254))));
    let o = e.handle_message(a, &announce(&["192.0.2.0/24"], at));
    assert_eq!(
        o,
        Outcome::Accepted {
            announced: 0,
            withdrawn: 0,
            rejected: 1
        }
    );
}

#[test]
fn a_looped_update_implicitly_withdraws_the_previous_path() {
    let mut e = engine();
    let a = peer(&mut e, Role::NonClient, 1);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert!(e.best(&p("192.0.2.0/24")).is_some());
    let mut at = attrs(rid(1), &[]);
    at.push(AttributeRepr::new(AttributeValue::ClusterList(vec![rid(
        254,
    )
    .to_bits()])));
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], at)),
        0,
        0,
        1,
    );
    assert!(e.best(&p("192.0.2.0/24")).is_none());
}

#[test]
fn rfc4271_withdrawal_propagates_and_best_falls_back() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    for x in [a, b, c] {
        drain(&mut e, x, &Context::MODERN);
    }
    let mut high = attrs(rid(1), &[]);
    high[3] = AttributeRepr::new(AttributeValue::LocalPref(200));
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], high)),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(b, &announce(&["192.0.2.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    let to_c = drain(&mut e, c, &Context::MODERN);
    assert_eq!(announced(&to_c).len(), 1, "one best path, one announcement");
    assert_eq!(
        to_c[0].attribute(type_code::LOCAL_PREF),
        Some(&AttributeValue::LocalPref(200))
    );
    // Only the best path is advertised: A (whose path is best) gets nothing, B gets A's.
    assert!(drain(&mut e, a, &Context::MODERN).is_empty());
    assert_eq!(
        drain(&mut e, b, &Context::MODERN)[0].attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid(1)))
    );
    // A withdraws: C gets B's path as a replacement, not a withdrawal.
    assert_accepted(e.handle_message(a, &withdraw(&["192.0.2.0/24"])), 0, 1, 0);
    let to_c = drain(&mut e, c, &Context::MODERN);
    assert_eq!(announced(&to_c), vec![p("192.0.2.0/24")]);
    assert_eq!(
        to_c[0].attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid(2)))
    );
    assert!(withdrawn(&to_c).is_empty());
    assert_eq!(
        drain(&mut e, a, &Context::MODERN)[0].attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid(2)))
    );
    // B's own path is now best: what B had from A is withdrawn.
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    // B withdraws too: everyone else gets a withdrawal.
    assert_accepted(e.handle_message(b, &withdraw(&["192.0.2.0/24"])), 0, 1, 0);
    assert_eq!(
        withdrawn(&drain(&mut e, c, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    assert_eq!(
        withdrawn(&drain(&mut e, a, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    assert_eq!(e.prefix_counts(), (0, 0));
}

#[test]
fn duplicate_announcement_sends_nothing() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    let m = announce(&["192.0.2.0/24"], attrs(rid(1), &[]));
    assert_accepted(e.handle_message(a, &m), 1, 0, 0);
    assert_eq!(drain(&mut e, b, &Context::MODERN).len(), 1);
    assert_accepted(e.handle_message(a, &m), 0, 0, 0);
    assert!(drain(&mut e, b, &Context::MODERN).is_empty());
}

#[test]
fn peer_down_withdraws_everything_learned_from_it() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["192.0.2.0/24", "198.51.100.0/24"], attrs(rid(1), &[])),
        ),
        2,
        0,
        0,
    );
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)).len(), 2);
    e.peer_down(a);
    let mut w = withdrawn(&drain(&mut e, b, &Context::MODERN));
    w.sort();
    assert_eq!(w, vec![p("192.0.2.0/24"), p("198.51.100.0/24")]);
    // And when it comes back it gets the table (here: nothing but End-of-RIB), B's routes included.
    assert_accepted(
        e.handle_message(b, &announce(&["203.0.113.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    e.peer_up(a, Negotiated::unicast(rid(1)));
    let out = drain(&mut e, a, &Context::MODERN);
    assert_eq!(announced(&out), vec![p("203.0.113.0/24")]);
    assert!(is_eor(out.last().unwrap()));
}

#[test]
fn rfc2918_route_refresh_resends_adj_rib_out() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(
        e.handle_message(b, &route_refresh(0)),
        Outcome::RouteRefresh(AfiSafi::IPV4_UNICAST)
    );
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(announced(&out), vec![p("192.0.2.0/24")]);
    assert!(is_eor(out.last().unwrap()));
    assert_eq!(e.counters(b).unwrap().route_refreshes, 1);
}

#[test]
fn rfc4760_ipv6_routes_reflect_through_mp_reach() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    let nh: Vec<u8> = "2001:db8::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets()
        .to_vec();
    let mut at = attrs(rid(1), &[]);
    at.retain(|a| a.value.type_code() != type_code::NEXT_HOP);
    at.insert(
        0,
        AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
            afi_safi: AfiSafi::IPV6_UNICAST,
            next_hop: nh.clone(),
            reserved: 0,
            nlri: MpNlri::Prefixes(vec![
                Nlri::new(p("2001:db8:1::/48")),
                Nlri::new(p("2001:db8:2::/48")),
            ]),
        })),
    );
    let msg = update_of(at);
    assert_accepted(e.handle_message(a, &msg), 2, 0, 0);
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(announced(&out).len(), 2);
    match out[0].attribute(type_code::MP_REACH_NLRI) {
        Some(AttributeValue::MpReach(m)) => assert_eq!(m.next_hop, nh),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        out[0].attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid(1)))
    );
    // Withdraw one through MP_UNREACH.
    let wd = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![AttributeRepr::new(AttributeValue::MpUnreach(
            MpUnreachRepr {
                afi_safi: AfiSafi::IPV6_UNICAST,
                nlri: MpNlri::Prefixes(vec![Nlri::new(p("2001:db8:1::/48"))]),
            },
        ))],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    assert_accepted(e.handle_message(a, &wd), 0, 1, 0);
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![p("2001:db8:1::/48")]
    );
}

#[test]
fn ebgp_export_prepends_our_as_sets_next_hop_self_and_strips_ibgp_attributes() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let mut cfg = PeerConfig::new(Role::Ebgp, IpAddr::V4(rid(50)), 65050);
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    let x = e.add_peer(cfg);
    e.peer_up(x, Negotiated::unicast(rid(50)));
    drain(&mut e, x, &Context::MODERN);
    drain(&mut e, a, &Context::MODERN);
    let mut at = attrs(rid(1), &[]);
    at.push(AttributeRepr::new(AttributeValue::Med(5)));
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], at)),
        1,
        0,
        0,
    );
    let out = drain(&mut e, x, &Context::MODERN);
    let u = &out[0];
    assert_eq!(
        u.attribute(type_code::AS_PATH),
        Some(&AttributeValue::AsPath(AsPath::sequence(&[AS])))
    );
    assert_eq!(
        u.attribute(type_code::NEXT_HOP),
        Some(&AttributeValue::NextHop(Ipv4Addr::new(192, 0, 2, 254)))
    );
    for t in [
        type_code::LOCAL_PREF,
        type_code::ORIGINATOR_ID,
        type_code::CLUSTER_LIST,
        type_code::MED,
    ] {
        assert!(u.attribute(t).is_none(), "type {t} must be stripped");
    }
    // Routes from eBGP go to iBGP peers with LOCAL_PREF set and no reflection attributes,
    // and a route carrying our AS is rejected.
    assert_accepted(
        e.handle_message(x, &announce(&["198.51.100.0/24"], attrs(rid(50), &[65050]))),
        1,
        0,
        0,
    );
    let to_a = drain(&mut e, a, &Context::MODERN);
    assert_eq!(
        to_a[0].attribute(type_code::LOCAL_PREF),
        Some(&AttributeValue::LocalPref(100))
    );
    assert!(to_a[0].attribute(type_code::ORIGINATOR_ID).is_none());
    let o = e.handle_message(
        x,
        &announce(&["203.0.113.0/24"], attrs(rid(50), &[65050, AS])),
    );
    assert_eq!(
        o,
        Outcome::Accepted {
            announced: 0,
            withdrawn: 0,
            rejected: 1
        }
    );
}

#[test]
fn rfc7911_add_path_send_advertises_every_candidate_with_stable_ids() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(3)), AS);
    cfg.add_path_send = AddPathSend::All;
    let c = e.add_peer(cfg);
    let mut neg = Negotiated::unicast(rid(3));
    neg.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(c, neg);
    let ctx_c = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
        ..Context::MODERN
    };
    drain(&mut e, c, &ctx_c);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(b, &announce(&["192.0.2.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    let out = drain(&mut e, c, &ctx_c);
    let ids: Vec<Option<u32>> = out
        .iter()
        .flat_map(|u| u.nlri.iter().map(|n| n.path_id))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(Option::is_some));
    assert_ne!(ids[0], ids[1]);
    // B withdraws: exactly B's path id is withdrawn.
    let id_b = out
        .iter()
        .find(|u| {
            u.attribute(type_code::ORIGINATOR_ID) == Some(&AttributeValue::OriginatorId(rid(2)))
        })
        .unwrap()
        .nlri[0]
        .path_id;
    assert_accepted(e.handle_message(b, &withdraw(&["192.0.2.0/24"])), 0, 1, 0);
    let out = drain(&mut e, c, &ctx_c);
    let w: Vec<Option<u32>> = out
        .iter()
        .flat_map(|u| u.withdrawn.iter().map(|n| n.path_id))
        .collect();
    assert_eq!(w, vec![id_b]);
    assert!(announced(&out).is_empty());
}

/// Three ADD-PATH clients in one export class (one pass for all three):
/// each gets every path but its own; a client whose router ID is the
/// ORIGINATOR_ID of a path does not get that path (RFC 4456 §8); a
/// withdrawal reaches exactly those that had the path; `Best(1)` peers form
/// their own class and get one path, not their own.
#[test]
fn rfc7911_add_path_class_gets_every_path_but_its_own() {
    let mut e = engine();
    let ctx = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST),
        ..Context::MODERN
    };
    let mut ids = Vec::new();
    for (n, send) in [
        (1, AddPathSend::All),
        (2, AddPathSend::All),
        (3, AddPathSend::All),
        (4, AddPathSend::Best(1)),
        (5, AddPathSend::Best(1)),
    ] {
        let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
        cfg.add_path_send = send;
        let id = e.add_peer(cfg);
        let mut neg = Negotiated::unicast(rid(n));
        neg.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
        e.peer_up(id, neg);
        drain(&mut e, id, &ctx);
        ids.push(id);
    }
    // A non-client reflects a path whose originator is client 3.
    let nc = peer(&mut e, Role::NonClient, 9);
    drain(&mut e, nc, &Context::MODERN);
    for (i, &id) in ids.iter().take(2).enumerate() {
        let n = i as u8 + 1;
        assert_accepted(
            e.handle_message(id, &announce(&["192.0.2.0/24"], attrs(rid(n), &[]))),
            1,
            0,
            0,
        );
    }
    let mut from_nc = attrs(rid(9), &[]);
    from_nc.push(AttributeRepr::new(AttributeValue::OriginatorId(rid(3))));
    from_nc.push(AttributeRepr::new(AttributeValue::ClusterList(vec![
        0x0a00_0063,
    ])));
    assert_accepted(
        e.handle_message(nc, &announce(&["192.0.2.0/24"], from_nc)),
        1,
        0,
        0,
    );
    // Who each path came from, as each receiver sees it: ORIGINATOR_ID.
    let origins = |out: &[UpdateRepr]| -> Vec<Ipv4Addr> {
        let mut v: Vec<Ipv4Addr> = out
            .iter()
            .filter(|u| !u.nlri.is_empty())
            .flat_map(|u| {
                let o = match u.attribute(type_code::ORIGINATOR_ID) {
                    Some(AttributeValue::OriginatorId(o)) => *o,
                    other => panic!("no ORIGINATOR_ID: {other:?}"),
                };
                u.nlri.iter().map(move |_| o)
            })
            .collect();
        v.sort();
        v
    };
    let got: Vec<Vec<Ipv4Addr>> = ids
        .iter()
        .map(|&id| origins(&drain(&mut e, id, &ctx)))
        .collect();
    assert_eq!(got[0], vec![rid(2), rid(3)]);
    assert_eq!(got[1], vec![rid(1), rid(3)]);
    // Client 3 is the originator of the non-client's path: only the others' paths.
    assert_eq!(got[2], vec![rid(1), rid(2)]);
    // Best(1): one path each, the best; client 1's path (lowest router ID
    // among equals) for both.
    assert_eq!(got[3].len(), 1);
    assert_eq!(got[4].len(), 1);
    // Client 2 withdraws: clients 1, 3 lose that path id; client 2 gets nothing.
    assert_accepted(
        e.handle_message(ids[1], &withdraw(&["192.0.2.0/24"])),
        0,
        1,
        0,
    );
    let withdrawn_ids =
        |out: &[UpdateRepr]| -> usize { out.iter().map(|u| u.withdrawn.len()).sum::<usize>() };
    let after: Vec<Vec<UpdateRepr>> = ids.iter().map(|&id| drain(&mut e, id, &ctx)).collect();
    assert_eq!(withdrawn_ids(&after[0]), 1);
    assert!(
        after[1].is_empty(),
        "client 2 never had its own path: {:?}",
        after[1]
    );
    assert_eq!(withdrawn_ids(&after[2]), 1);
    assert!(announced(&after[0]).is_empty() && announced(&after[2]).is_empty());
}

/// An ADD-PATH class (two receivers exported in one pass) loses every path of
/// a prefix it was sent: each receiver gets the withdrawal of that path id.
#[test]
fn rfc7911_add_path_class_is_told_when_a_prefix_loses_its_last_path() {
    let mut e = engine();
    let ctx = add_path_ctx();
    let a = peer(&mut e, Role::Client, 1);
    let receivers = [add_path_client(&mut e, 2), add_path_client(&mut e, 3)];
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    let mut sent_ids = Vec::new();
    for &r in &receivers {
        let out = drain(&mut e, r, &ctx);
        assert_eq!(announced(&out), vec![p("192.0.2.0/24")]);
        sent_ids.push(
            out.iter()
                .flat_map(|u| u.nlri.iter().map(|n| n.path_id))
                .next()
                .flatten(),
        );
    }
    assert_accepted(e.handle_message(a, &withdraw(&["192.0.2.0/24"])), 0, 1, 0);
    for (&r, id) in receivers.iter().zip(&sent_ids) {
        let out = drain(&mut e, r, &ctx);
        let w: Vec<Option<u32>> = out
            .iter()
            .flat_map(|u| u.withdrawn.iter().map(|n| n.path_id))
            .collect();
        assert_eq!(w, vec![*id], "the path id it was sent is withdrawn");
    }
}

#[test]
fn rfc7911_add_path_receive_keeps_several_paths_from_one_peer() {
    let mut e = engine();
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS));
    let mut neg = Negotiated::unicast(rid(1));
    neg.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST);
    e.peer_up(id, neg);
    let ctx = Context {
        add_path: neg.add_path_receive,
        ..Context::MODERN
    };
    let mk = |pid: u32, nh: u8| {
        UpdateRepr {
            withdrawn: vec![],
            attributes: attrs(rid(nh), &[]),
            nlri: vec![Nlri {
                path_id: Some(pid),
                prefix: p("192.0.2.0/24"),
            }],
        }
        .to_vec(&ctx)
        .unwrap()
    };
    assert_accepted(e.handle_message(id, &mk(1, 1)), 1, 0, 0);
    assert_accepted(e.handle_message(id, &mk(2, 2)), 1, 0, 0);
    assert_eq!(e.candidates(&p("192.0.2.0/24")).len(), 2);
    let wd = UpdateRepr {
        withdrawn: vec![Nlri {
            path_id: Some(1),
            prefix: p("192.0.2.0/24"),
        }],
        attributes: vec![],
        nlri: vec![],
    }
    .to_vec(&ctx)
    .unwrap();
    assert_accepted(e.handle_message(id, &wd), 0, 1, 0);
    let c = e.candidates(&p("192.0.2.0/24"));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].remote_id, 2);
}

#[test]
fn packing_groups_prefixes_by_attribute_set() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    let prefixes: Vec<String> = (0..2000u32)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    for chunk in prefixes.chunks(100) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        assert_accepted(
            e.handle_message(a, &announce(&refs, attrs(rid(1), &[]))),
            100,
            0,
            0,
        );
    }
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(announced(&out).len(), 2000);
    // 2000 /24s at 4 bytes each need only a few 4,096-byte messages.
    assert!(out.len() <= 3, "{} messages", out.len());
    assert_eq!(e.memory().attr_sets, 1);
}

#[test]
fn rfc7606_treat_as_withdraw_removes_the_prefixes_and_keeps_the_session() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)).len(), 1);
    // Same prefix, now with a COMMUNITIES attribute of bad length.
    let mut m = announce(&["192.0.2.0/24"], attrs(rid(1), &[]));
    let pos = m.windows(3).position(|w| w == [0xc0, 8, 4]).unwrap();
    m[pos + 2] = 3;
    m.remove(pos + 3);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    let al = u16::from_be_bytes([m[21], m[22]]) - 1;
    m[21..23].copy_from_slice(&al.to_be_bytes());
    match e.handle_message(a, &m) {
        Outcome::TreatAsWithdraw(err) => assert_eq!((err.code, err.subcode), (3, 5)),
        o => panic!("{o:?}"),
    }
    assert!(e.is_up(a));
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
}

#[test]
fn rfc4271_6_malformed_update_resets_only_that_session() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    assert_accepted(
        e.handle_message(b, &announce(&["198.51.100.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    drain(&mut e, c, &Context::MODERN);
    let mut m = announce(&["192.0.2.0/24"], attrs(rid(1), &[]));
    let n = m.len();
    m[n - 4] = 40; // prefix length 40 in the NLRI field
    match e.handle_message(a, &m) {
        Outcome::Reset {
            error,
            notification,
        } => {
            assert_eq!((error.code, error.subcode), (3, 10));
            assert_eq!(&notification[19..21], &[3, 10]);
        }
        o => panic!("{o:?}"),
    }
    assert!(!e.is_up(a));
    assert!(e.is_up(b));
    assert!(
        e.best(&p("198.51.100.0/24")).is_some(),
        "other peers' routes stay"
    );
    assert!(drain(&mut e, c, &Context::MODERN).is_empty());
}

#[test]
fn local_origination_reaches_all_peers_without_reflection_attributes() {
    let mut e = engine();
    let a = peer(&mut e, Role::NonClient, 1);
    drain(&mut e, a, &Context::MODERN);
    e.originate(p("192.168.0.0/26"), IpAddr::V4(rid(254)), &[])
        .unwrap();
    let out = drain(&mut e, a, &Context::MODERN);
    let u = &out[0];
    assert_eq!(announced(&out), vec![p("192.168.0.0/26")]);
    assert_eq!(
        u.attribute(type_code::NEXT_HOP),
        Some(&AttributeValue::NextHop(rid(254)))
    );
    assert!(u.attribute(type_code::ORIGINATOR_ID).is_none());
    assert!(e.withdraw_local(p("192.168.0.0/26")));
    assert_eq!(withdrawn(&drain(&mut e, a, &Context::MODERN)).len(), 1);
}

#[test]
fn next_hop_resolver_makes_unreachable_paths_ineligible() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(b, &announce(&["192.0.2.0/24"], attrs(rid(2), &[]))),
        1,
        0,
        0,
    );
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, a);
    e.set_resolver(Some(Box::new(|nh| {
        if nh == IpAddr::V4(rid(1)) {
            None
        } else {
            Some(10)
        }
    })));
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, b);
    drain(&mut e, c, &Context::MODERN);
    e.set_resolver(Some(Box::new(|_| None)));
    assert!(e.best(&p("192.0.2.0/24")).is_none());
    assert_eq!(withdrawn(&drain(&mut e, c, &Context::MODERN)).len(), 1);
}

/// Our own routes are reachable, at IGP cost 0, whatever the resolver says
/// of their next hop.
#[test]
fn local_routes_stay_eligible_at_igp_cost_zero_under_a_resolver() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    e.originate(
        p("192.0.2.0/24"),
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        &[AttributeRepr::new(AttributeValue::LocalPref(100))],
    )
    .unwrap();
    // Every next hop at IGP cost 10: our path wins at the IGP cost step (0 < 10),
    // before the router IDs (10.0.0.1 would beat ours, 10.0.0.254).
    e.set_resolver(Some(Box::new(|_| Some(10))));
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, PeerId::LOCAL);
    // Only the client's next hop resolves: ours stays eligible, and best.
    e.set_resolver(Some(Box::new(|nh| {
        (nh == IpAddr::V4(rid(1))).then_some(10)
    })));
    assert_eq!(e.best(&p("192.0.2.0/24")).unwrap().peer, PeerId::LOCAL);
}

/// The counters say what went over the wire: for each peer of a class that
/// shares one encoding (its own routes left out of what it gets), the
/// UPDATEs, prefixes and withdrawals sent are those it decodes; what it sent
/// is counted as received and accepted.
#[test]
fn sent_and_received_counters_match_the_messages() {
    let mut e = engine();
    let ids: Vec<PeerId> = (1..=4).map(|n| peer(&mut e, Role::Client, n)).collect();
    // What the session start sent (End-of-RIB), drained and counted before.
    let start: Vec<u64> = ids
        .iter()
        .map(|&id| {
            let n = drain(&mut e, id, &Context::MODERN).len() as u64;
            assert_eq!(e.counters(id).unwrap().updates_sent, n);
            n
        })
        .collect();
    let prefixes = |n: u8| -> Vec<String> { (0..n).map(|k| format!("10.{n}.{k}.0/24")).collect() };
    for (i, &id) in ids.iter().enumerate() {
        let own = prefixes(i as u8 + 1);
        let own: Vec<&str> = own.iter().map(String::as_str).collect();
        assert_accepted(
            e.handle_message(id, &announce(&own, attrs(rid(i as u8 + 1), &[]))),
            own.len() as u32,
            0,
            0,
        );
    }
    e.flush();
    // Client 3 withdraws one of its three.
    assert_accepted(
        e.handle_message(ids[2], &withdraw(&["10.3.0.0/24"])),
        0,
        1,
        0,
    );
    e.flush();
    for (i, &id) in ids.iter().enumerate() {
        let msgs = drain(&mut e, id, &Context::MODERN);
        let c = e.counters(id).unwrap();
        assert_eq!(c.updates_sent, start[i] + msgs.len() as u64, "peer {i}");
        assert_eq!(c.prefixes_sent, announced(&msgs).len() as u64, "peer {i}");
        assert_eq!(
            c.withdrawals_sent,
            withdrawn(&msgs).len() as u64,
            "peer {i}"
        );
        // Everyone else's routes (10 in all, less its own and the withdrawn one).
        let others = 10 - (i as u64 + 1) - u64::from(i != 2);
        assert_eq!(c.prefixes_sent, others + u64::from(i != 2), "peer {i}");
        assert_eq!(c.withdrawals_sent, u64::from(i != 2), "peer {i}");
        assert_eq!(c.prefixes_received, i as u64 + 1, "peer {i}");
        assert_eq!(c.accepted, i as u64 + 1, "peer {i}");
        assert_eq!(c.updates_received, 1 + u64::from(i == 2), "peer {i}");
        assert_eq!(c.withdrawals_received, u64::from(i == 2), "peer {i}");
    }
}

/// `Event::BestChanged` follows the best path of a prefix: once when it
/// appears, moves or goes, never when another path changes under it.
#[test]
fn best_changed_events_follow_the_best_path_only() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let best_changes = |e: &mut Engine| -> Vec<(String, Option<PeerId>)> {
        e.flush();
        std::iter::from_fn(|| e.poll_event())
            .filter_map(|ev| match ev {
                Event::BestChanged { prefix, best } => Some((prefix.to_string(), best)),
                _ => None,
            })
            .collect()
    };
    let _ = best_changes(&mut e);
    let x = "192.0.2.0/24";
    assert_accepted(
        e.handle_message(a, &announce(&[x], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    assert_eq!(best_changes(&mut e), [(x.to_string(), Some(a))]);
    // A worse path (longer AS_PATH) arrives: the best stays, no event.
    assert_accepted(
        e.handle_message(b, &announce(&[x], attrs(rid(2), &[65001]))),
        1,
        0,
        0,
    );
    assert_eq!(best_changes(&mut e), []);
    assert_accepted(e.handle_message(a, &withdraw(&[x])), 0, 1, 0);
    assert_eq!(best_changes(&mut e), [(x.to_string(), Some(b))]);
    assert_accepted(e.handle_message(b, &withdraw(&[x])), 0, 1, 0);
    assert_eq!(best_changes(&mut e), [(x.to_string(), None)]);
}

/// `next_transmit_len` tells the size of the message `poll_transmit` gives
/// next (so a caller can size its buffer), and `None` once none is queued.
#[test]
fn next_transmit_len_is_the_next_messages_length() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(e.next_transmit_len(b), None);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    let want = e.next_transmit_len(b).unwrap();
    let mut buf = vec![0u8; 4096];
    assert_eq!(e.poll_transmit(b, &mut buf), Some(want));
    assert!(want > 23, "an UPDATE with a route: {want}");
    assert_eq!(e.next_transmit_len(b), None);
}

#[test]
fn attribute_sets_are_freed_with_their_last_path() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["192.0.2.0/24", "198.51.100.0/24"], attrs(rid(1), &[])),
        ),
        2,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(a, &announce(&["203.0.113.0/24"], attrs(rid(1), &[65001]))),
        1,
        0,
        0,
    );
    e.flush();
    assert_eq!(e.memory().attr_sets, 2);
    assert_accepted(
        e.handle_message(
            a,
            &withdraw(&["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]),
        ),
        0,
        3,
        0,
    );
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(e.memory().attr_sets, 0);
    assert_eq!(e.memory().prefixes, 0);
}

#[test]
fn a_large_peer_going_down_is_withdrawn_completely_while_flushing_on_the_way() {
    // 200,000 prefixes from `a` (more than three of the engine's sweep chunks);
    // `c` also has every tenth of them, with a longer AS path.
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let c = peer(&mut e, Role::Client, 3);
    let all: Vec<String> = (0u32..200_000)
        .map(|i| {
            let o = (0x0b00_0000 + (i << 8)).to_be_bytes();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        })
        .collect();
    let strs: Vec<&str> = all.iter().map(String::as_str).collect();
    for chunk in strs.chunks(500) {
        assert_accepted(
            e.handle_message(a, &announce(chunk, attrs(rid(1), &[]))),
            500,
            0,
            0,
        );
    }
    let tenth: Vec<&str> = strs.iter().step_by(10).copied().collect();
    for chunk in tenth.chunks(500) {
        assert_accepted(
            e.handle_message(c, &announce(chunk, attrs(rid(3), &[65003]))),
            500,
            0,
            0,
        );
    }
    assert_eq!(
        announced(&drain(&mut e, b, &Context::MODERN)).len(),
        200_000
    );
    assert_eq!(e.best(&p("11.0.0.0/24")).unwrap().peer, a);
    e.peer_down(a);
    let out = drain(&mut e, b, &Context::MODERN);
    let (gone, moved) = (withdrawn(&out), announced(&out));
    assert_eq!(gone.len(), 180_000);
    assert_eq!(moved.len(), 20_000);
    let tenth: std::collections::HashSet<&str> = tenth.into_iter().collect();
    assert!(moved.iter().all(|m| tenth.contains(m.to_string().as_str())));
    assert_eq!(e.best(&p("11.0.0.0/24")).unwrap().peer, c);
    assert!(e.best(&p("11.0.1.0/24")).is_none());
    let m = e.memory();
    assert_eq!((m.prefixes, m.paths, m.attr_sets), (20_000, 20_000, 1));
}

/// A ROUTE-REFRESH for IPv4 unicast with RFC 7313 `subtype` (0 request, 1 BoRR, 2 EoRR).
fn route_refresh(subtype: u8) -> Vec<u8> {
    [0xff; 16]
        .iter()
        .copied()
        .chain([0, 23, 5, 0, 1, subtype, 1])
        .collect()
}

fn enhanced_peer(e: &mut Engine, n: u8) -> PeerId {
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS));
    let mut neg = Negotiated::unicast(rid(n));
    neg.enhanced_route_refresh = true;
    e.peer_up(id, neg);
    id
}

#[test]
fn rfc7313_s4_refresh_to_an_enhanced_peer_is_framed_by_borr_and_eorr() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = enhanced_peer(&mut e, 2);
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["192.0.2.0/24", "198.51.100.0/24"], attrs(rid(1), &[])),
        ),
        2,
        0,
        0,
    );
    transmit(&mut e, b);
    assert_eq!(
        e.handle_message(b, &route_refresh(0)),
        Outcome::RouteRefresh(AfiSafi::IPV4_UNICAST)
    );
    let out = transmit(&mut e, b);
    assert_eq!(out.first().unwrap(), &route_refresh(1), "BoRR first");
    assert_eq!(out.last().unwrap(), &route_refresh(2), "EoRR last");
    let updates: Vec<UpdateRepr> = out[1..out.len() - 1]
        .iter()
        .map(|m| UpdateRepr::parse(&UpdatePacket::new_checked(&m[..], &Context::MODERN).unwrap()))
        .collect();
    assert_eq!(
        announced(&updates),
        vec![p("192.0.2.0/24"), p("198.51.100.0/24")]
    );
    // No End-of-RIB in between: EoRR ends the refresh.
    assert!(!updates.iter().any(is_eor));
}

#[test]
fn rfc7313_s4_paths_not_sent_again_between_borr_and_eorr_are_removed() {
    let mut e = engine();
    let a = enhanced_peer(&mut e, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(
            a,
            &announce(
                &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"],
                attrs(rid(1), &[]),
            ),
        ),
        3,
        0,
        0,
    );
    assert_eq!(announced(&drain(&mut e, b, &Context::MODERN)).len(), 3);
    assert_eq!(
        e.handle_message(a, &route_refresh(1)),
        Outcome::Ignored(MessageType::RouteRefresh)
    );
    assert!(e.stale_families(a).contains(AfiSafi::IPV4_UNICAST));
    // The refresh sends two of the three again, one with a new AS path.
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        0,
        0,
        0,
    );
    assert_accepted(
        e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(rid(1), &[65001]))),
        1,
        0,
        0,
    );
    // Until EoRR the third stays.
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(announced(&out), vec![p("198.51.100.0/24")]);
    assert!(withdrawn(&out).is_empty());
    assert!(e.best(&p("203.0.113.0/24")).is_some());
    assert_eq!(
        e.handle_message(a, &route_refresh(2)),
        Outcome::Ignored(MessageType::RouteRefresh)
    );
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(withdrawn(&out), vec![p("203.0.113.0/24")]);
    assert!(announced(&out).is_empty());
    assert!(e.best(&p("192.0.2.0/24")).is_some());
    assert!(e.stale_families(a).is_empty());
    assert_eq!(e.counters(a).unwrap().stale_removed, 1);
}

/// RFC 7313 §4: on a BoRR the receiver "MUST mark all the routes with the
/// given AFI/SAFI, from this peer, as stale", also during a refresh under
/// way: what was sent again after the first BoRR is stale again, and the
/// EoRR removes every path not sent again since the second.
#[test]
fn rfc7313_s4_a_second_borr_starts_the_refresh_again() {
    let mut e = engine();
    let a = enhanced_peer(&mut e, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(
            a,
            &announce(&["192.0.2.0/24", "198.51.100.0/24"], attrs(rid(1), &[])),
        ),
        2,
        0,
        0,
    );
    drain(&mut e, b, &Context::MODERN);
    let ignored = Outcome::Ignored(MessageType::RouteRefresh);
    assert_eq!(e.handle_message(a, &route_refresh(1)), ignored);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        0,
        0,
        0,
    );
    assert_eq!(e.handle_message(a, &route_refresh(1)), ignored);
    assert_accepted(
        e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(rid(1), &[]))),
        0,
        0,
        0,
    );
    assert_eq!(e.handle_message(a, &route_refresh(2)), ignored);
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(withdrawn(&out), vec![p("192.0.2.0/24")]);
    assert!(e.best(&p("198.51.100.0/24")).is_some());
}

#[test]
fn rfc7313_markers_without_the_capability_are_ignored() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_accepted(
        e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(rid(1), &[]))),
        1,
        0,
        0,
    );
    drain(&mut e, b, &Context::MODERN);
    for subtype in [1, 2, 7] {
        assert_eq!(
            e.handle_message(a, &route_refresh(subtype)),
            Outcome::Ignored(MessageType::RouteRefresh)
        );
    }
    assert!(e.stale_families(a).is_empty());
    assert!(drain(&mut e, b, &Context::MODERN).is_empty());
    assert!(e.best(&p("192.0.2.0/24")).is_some());
}
