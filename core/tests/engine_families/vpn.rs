//! VPN-IPv4 and VPN-IPv6 (RFC 4364, RFC 4659): RD, labels, next hop and route targets as sent, withdrawals, route refresh and graceful restart, extended next hop (RFC 8950), eBGP and encode overflow.

use super::*;

#[test]
fn rfc4364_vpnv4_route_reflected_with_rd_label_next_hop_and_targets() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    // A plain unicast client does not get VPN routes.
    let u = client_with(&mut e, 4, families(&[]), false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let nlri = vpn4(rd, 1001, [10, 1, 0], 16);
    assert_eq!(vpn_from_1(&mut e, a, nlri.clone(), RT100), (1, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(e.accepted_paths(a, AfiSafi::VPNV4), 1);
    for peer in [b, c] {
        let g = got(&mut e, peer, &Context::MODERN);
        assert_eq!(g.reach.len(), 1);
        let (f, nh, got_nlri, repr) = &g.reach[0];
        assert_eq!(*f, AfiSafi::VPNV4);
        assert_eq!(nh, &vpn_nh(rid(1)), "the next hop travels unchanged");
        assert_eq!(got_nlri, &nlri, "RD and label as sent");
        let n = vpn4_entries(got_nlri, false, false);
        assert_eq!(n[0].rd, Some(rd));
        assert_eq!(n[0].labels.first().unwrap().value(), 1001);
        assert_eq!(
            attr(repr, type_code::ORIGINATOR_ID),
            Some(AttributeValue::OriginatorId(rid(1)))
        );
        assert_eq!(
            attr(repr, type_code::CLUSTER_LIST),
            Some(AttributeValue::ClusterList(vec![rid(254).to_bits()]))
        );
        assert_eq!(
            attr(repr, type_code::EXTENDED_COMMUNITIES),
            Some(AttributeValue::ExtendedCommunities(vec![RT100]))
        );
    }
    assert!(
        got(&mut e, a, &Context::MODERN).reach.is_empty(),
        "not back to its sender"
    );
    assert!(got(&mut e, u, &Context::MODERN).reach.is_empty());
    // A new label for the same RD and prefix replaces the route.
    let relabeled = vpn4(rd, 2002, [10, 1, 0], 16);
    assert_eq!(vpn_from_1(&mut e, a, relabeled.clone(), RT100), (1, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(got(&mut e, b, &Context::MODERN).reach[0].2, relabeled);
    // The same prefix under another RD is another route.
    let other = vpn4(RouteDistinguisher::as2(65000, 2), 3003, [10, 1, 0], 16);
    vpn_from_1(&mut e, a, other, RT100);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    got(&mut e, b, &Context::MODERN);
    got(&mut e, c, &Context::MODERN);
    // Withdrawal (one label entry, 0x800000) reaches the others.
    let mut wd = vec![24 + 64 + 16, 0x80, 0, 0];
    wd.extend_from_slice(&rd.0);
    wd.extend_from_slice(&[10, 1]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, wd)), (0, 1));
    for peer in [b, c] {
        let g = got(&mut e, peer, &Context::MODERN);
        assert_eq!(g.unreach.len(), 1);
        let w = vpn4_entries(&g.unreach[0].1, false, true);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].rd, Some(rd));
        assert_eq!(w[0].prefix.to_string(), "10.1.0.0/16");
        assert_eq!(w[0].labels.first(), Some(Label::WITHDRAW));
    }
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    // The session goes down: its remaining route is withdrawn everywhere.
    e.peer_down(a);
    assert_eq!(got(&mut e, b, &Context::MODERN).unreach.len(), 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
}

/// A VPN route whose attributes fill a 4,096-byte UPDATE no longer fits once
/// ORIGINATOR_ID and CLUSTER_LIST are added: it is not sent, it is counted as
/// an encode overflow, and the messages that were sent are counted exactly.
#[test]
fn a_vpn_route_that_no_longer_fits_is_counted_as_an_overflow() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let small = vpn4(rd, 1001, [10, 1, 0], 16);
    vpn_from_1(&mut e, a, small, RT100);
    let sent = e.counters(b).unwrap().updates_sent;
    assert_eq!(got(&mut e, b, &Context::MODERN).reach.len(), 1);
    assert_eq!(e.counters(b).unwrap().updates_sent, sent + 1);
    // Another route whose message is exactly 4,096 bytes as received.
    let big_msg = |filler: usize| {
        let filler = AttributeRepr::new(AttributeValue::Unknown {
            type_code: 0xf0,
            value: vec![7; filler],
        });
        let nlri = vpn4(rd, 1002, [10, 2, 0], 24);
        reach_with(
            AfiSafi::VPNV4,
            vpn_nh(rid(1)),
            nlri,
            &[RT100],
            100,
            vec![filler],
        )
    };
    let filler = 4096 + 1000 - big_msg(1000).len();
    let msg = big_msg(filler);
    assert_eq!(msg.len(), 4096);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let before = e.counters(b).unwrap();
    let out = transmit(&mut e, b);
    let after = e.counters(b).unwrap();
    assert!(out.iter().all(|m| m.len() <= 4096));
    assert!(
        !out.iter().any(|m| m.windows(3).any(|w| w == [10, 2, 0])),
        "the route that does not fit is not sent"
    );
    assert_eq!(after.encode_overflows - before.encode_overflows, 1);
    assert_eq!(
        after.updates_sent - before.updates_sent,
        out.len() as u64,
        "every message sent is counted"
    );
    assert_eq!(after.prefixes_sent, before.prefixes_sent);
}

#[test]
fn rfc2918_route_refresh_and_rfc4724_graceful_restart_for_vpn() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let r1 = vpn4(rd, 16, [10, 1, 0], 24);
    let r2 = vpn4(rd, 17, [10, 2, 0], 24);
    vpn_from_1(&mut e, a, r1.clone(), RT100);
    vpn_from_1(&mut e, a, r2.clone(), RT100);
    got(&mut e, b, &Context::MODERN);
    // Route refresh from B for VPN-IPv4: both routes again, then nothing else.
    let rr = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 23, 5, 0, 1, 0, 128,
    ];
    assert_eq!(
        e.handle_message(b, &rr),
        Outcome::RouteRefresh(AfiSafi::VPNV4)
    );
    let g = got(&mut e, b, &Context::MODERN);
    let again: BTreeSet<Vec<u8>> = g.reach.iter().map(|r| r.2.clone()).collect();
    assert_eq!(
        again.len(),
        1,
        "one message with both routes (same attributes)"
    );
    assert_eq!(g.reach[0].2.len(), r1.len() + r2.len());
    // A restarts gracefully: its routes stay, nothing is withdrawn.
    e.peer_down_graceful(a, AfiSafiSet::EMPTY.with(AfiSafi::VPNV4));
    assert!(got(&mut e, b, &Context::MODERN).unreach.is_empty());
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    e.peer_up_graceful(
        a,
        Negotiated {
            router_id: rid(1),
            ..neg
        },
        AfiSafiSet::EMPTY.with(AfiSafi::VPNV4),
    );
    transmit(&mut e, a);
    // It announces r1 again, then End-of-RIB: r2 is removed.
    vpn_from_1(&mut e, a, r1.clone(), RT100);
    let eor = unreach(AfiSafi::VPNV4, vec![]);
    assert!(matches!(
        e.handle_message(a, &eor),
        Outcome::Accepted { .. }
    ));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
    assert_eq!(
        e.accepted_paths(a, AfiSafi::VPNV4),
        1,
        "the swept path leaves the count its prefix limit reads"
    );
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.unreach.len(), 1);
    let w = vpn4_entries(&g.unreach[0].1, false, true);
    assert_eq!(w[0].prefix.to_string(), "10.2.0.0/24");
}

#[test]
fn rfc8950_vpnv4_route_with_an_ipv6_next_hop_goes_only_where_negotiated() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let plain = client_with(&mut e, 2, neg, false);
    let mut with_enh = neg;
    with_enh.extended_next_hop = AfiSafiSet::EMPTY.with(AfiSafi::VPNV4);
    let enh = client_with(&mut e, 3, with_enh, false);
    // RFC 8950 §3: VPN-IPv4 with a 24-byte next hop (RD of zeros, then IPv6).
    let mut nh = vec![0u8; 8];
    nh.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    let nlri = vpn4(RouteDistinguisher::as2(65000, 1), 16, [10, 9, 0], 24);
    accept(
        &mut e,
        a,
        &reach(AfiSafi::VPNV4, nh.clone(), nlri.clone(), &[RT100]),
    );
    assert!(got(&mut e, plain, &Context::MODERN).reach.is_empty());
    let g = got(&mut e, enh, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    assert_eq!(g.reach[0].1, nh);
    assert_eq!(g.reach[0].2, nlri);
}

/// Toward eBGP a VPN route keeps its next hop (the labels are the next hop's:
/// a reflector allocates none), whatever the session's local address, and
/// gets our AS prepended.
#[test]
fn vpnv4_to_ebgp_keeps_the_next_hop_and_prepends_our_as() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let x = ebgp_with(&mut e, 10, None, neg);
    let rd = RouteDistinguisher::as2(65000, 1);
    assert_eq!(
        vpn_from_1(&mut e, a, vpn4(rd, 1001, [10, 1, 0], 16), RT100),
        (1, 0)
    );
    let g = got(&mut e, x, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    assert_eq!(g.reach[0].1, vpn_nh(rid(1)));
    match attr(&g.reach[0].3, type_code::AS_PATH) {
        Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[AS])),
        other => panic!("{other:?}"),
    }
    assert!(attr(&g.reach[0].3, type_code::NEXT_HOP).is_none());
}

/// eBGP peers of one class share one encoding of the keyed routes they get
/// (the same bytes, written once); a per-session local AS is part of the
/// class: toward those peers the VPN route carries that AS, in an encoding of
/// its own.
#[test]
fn vpnv4_to_ebgp_classes_share_an_encoding_per_local_as() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let ebgp = |e: &mut Engine, n: u8, local_as: Option<u32>| ebgp_with(e, n, local_as, neg);
    let (x1, x2) = (ebgp(&mut e, 10, None), ebgp(&mut e, 11, None));
    let (y1, y2) = (ebgp(&mut e, 12, Some(64999)), ebgp(&mut e, 13, Some(64999)));
    let rd = RouteDistinguisher::as2(65000, 1);
    assert_eq!(
        vpn_from_1(&mut e, a, vpn4(rd, 1001, [10, 1, 0], 16), RT100),
        (1, 0)
    );
    let chunks = |e: &mut Engine, p: PeerId| -> Vec<bytes::Bytes> {
        let c = e.take_transmit_chunks(p);
        assert!(!c.is_empty(), "{p:?}");
        c
    };
    let (cx1, cx2, cy1, cy2) = (
        chunks(&mut e, x1),
        chunks(&mut e, x2),
        chunks(&mut e, y1),
        chunks(&mut e, y2),
    );
    let ptrs = |c: &[bytes::Bytes]| -> Vec<*const u8> { c.iter().map(|b| b.as_ptr()).collect() };
    assert_eq!(ptrs(&cx1), ptrs(&cx2), "one encoding for the class");
    assert_eq!(
        ptrs(&cy1),
        ptrs(&cy2),
        "one encoding for the local-AS class"
    );
    assert_ne!(ptrs(&cx1), ptrs(&cy1));
    for (c, asn) in [(&cx1, AS), (&cy1, 64999)] {
        let bytes: Vec<u8> = c.iter().flat_map(|b| b.iter().copied()).collect();
        let pkt = UpdatePacket::new_checked(&bytes[..], &Context::MODERN).unwrap();
        let repr = UpdateRepr::parse(&pkt);
        match attr(&repr, type_code::AS_PATH) {
            Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[asn])),
            other => panic!("{other:?}"),
        }
    }
}

/// Two clients send VPN routes with byte-identical attributes, flushed
/// together: the set is one, but each route is reflected with the
/// ORIGINATOR_ID of the client it came from (RFC 4456 §8).
#[test]
fn rfc4456_one_set_from_two_clients_keeps_each_routes_originator() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    let nh = vpn_nh(rid(9));
    let from_a = vpn4(RouteDistinguisher::as2(65000, 1), 101, [10, 1, 0], 24);
    let from_b = vpn4(RouteDistinguisher::as2(65000, 2), 102, [10, 2, 0], 24);
    accept(
        &mut e,
        a,
        &reach(AfiSafi::VPNV4, nh.clone(), from_a.clone(), &[RT100]),
    );
    accept(
        &mut e,
        b,
        &reach(AfiSafi::VPNV4, nh, from_b.clone(), &[RT100]),
    );
    let g = got(&mut e, c, &Context::MODERN);
    let mut by_route: Vec<(String, Option<Ipv4Addr>)> = Vec::new();
    for (_, _, nl, repr) in &g.reach {
        let originator = match attr(repr, type_code::ORIGINATOR_ID) {
            Some(AttributeValue::OriginatorId(o)) => Some(o),
            _ => None,
        };
        for n in vpn4_entries(nl, false, false) {
            by_route.push((format!("{:?} {}", n.rd.unwrap(), n.prefix), originator));
        }
    }
    by_route.sort();
    let mut want = vec![
        (
            format!("{:?} 10.1.0.0/24", RouteDistinguisher::as2(65000, 1)),
            Some(rid(1)),
        ),
        (
            format!("{:?} 10.2.0.0/24", RouteDistinguisher::as2(65000, 2)),
            Some(rid(2)),
        ),
    ];
    want.sort();
    assert_eq!(by_route, want);
}

/// In one flush, a new route with set S1 comes just before a route that
/// changed from S1 to S2: the second is still sent again, with S2.
#[test]
fn a_route_changed_to_another_set_is_sent_after_a_route_of_its_old_set() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    let nh = vpn_nh(rid(1));
    let rd = RouteDistinguisher::as2(65000, 1);
    let (r1, r2) = (vpn4(rd, 101, [10, 1, 0], 24), vpn4(rd, 102, [10, 2, 0], 24));
    accept(
        &mut e,
        a,
        &reach_lp(AfiSafi::VPNV4, nh.clone(), r2.clone(), &[RT100], 100),
    );
    assert_eq!(
        routes_lp(&got(&mut e, c, &Context::MODERN)),
        [("vpn 10.2.0.0/24".to_string(), Some(100))]
    );
    accept(
        &mut e,
        a,
        &reach_lp(AfiSafi::VPNV4, nh.clone(), r1, &[RT100], 100),
    );
    accept(&mut e, a, &reach_lp(AfiSafi::VPNV4, nh, r2, &[RT100], 200));
    let mut routes = routes_lp(&got(&mut e, c, &Context::MODERN));
    routes.sort();
    assert_eq!(
        routes,
        [
            ("vpn 10.1.0.0/24".to_string(), Some(100)),
            ("vpn 10.2.0.0/24".to_string(), Some(200))
        ]
    );
}
