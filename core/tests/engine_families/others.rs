//! EVPN (RFC 7432), flow specification (RFC 8955), labeled unicast (RFC 8277), and families the engine does not know or the session did not negotiate.

use super::*;

/// An EVPN MAC/IP route (RFC 7432 §7.2) for 02:00:00:00:00:01 and 10.0.0.1
/// in RD 65000:10, with ESI bytes `esi` and one label.
fn evpn_mac_ip(esi: u8, label: u32) -> Vec<u8> {
    let mut v = RouteDistinguisher::as2(65000, 10).0.to_vec();
    v.extend_from_slice(&[esi; 10]);
    v.extend_from_slice(&0u32.to_be_bytes());
    v.push(48);
    v.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
    v.push(32);
    v.extend_from_slice(&[10, 0, 0, 1]);
    v.extend_from_slice(&Label::new(label, true).to_bytes());
    let mut n = vec![2, v.len() as u8];
    n.extend_from_slice(&v);
    n
}

/// An EVPN route from a peer that sends path identifiers (RFC 7911) reaches
/// a plain client as its NLRI alone, without the identifier.
#[test]
fn rfc7911_evpn_route_from_an_add_path_sender_loses_its_identifier() {
    let mut e = engine();
    let neg = families(&[AfiSafi::EVPN]);
    let mut neg_in = neg;
    neg_in.add_path_receive = AfiSafiSet::EMPTY.with(AfiSafi::EVPN);
    let a = client_with(&mut e, 1, neg_in, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut with_id = 7u32.to_be_bytes().to_vec();
    with_id.extend_from_slice(&evpn_mac_ip(0, 100));
    let rt = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 10];
    let msg = reach(AfiSafi::EVPN, rid(1).octets().to_vec(), with_id, &[rt]);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    assert_eq!(g.reach[0].2, evpn_mac_ip(0, 100));
}

#[test]
fn rfc7432_evpn_mac_ip_key_and_add_path_to_a_receiver() {
    let mut e = engine();
    let neg = families(&[AfiSafi::EVPN]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut neg_ap = neg;
    neg_ap.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::EVPN);
    let c = client_with(&mut e, 3, neg_ap, true);
    let rt = [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 10];
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::EVPN,
            rid(1).octets().to_vec(),
            evpn_mac_ip(0, 100),
            &[rt],
        ),
    );
    // The same MAC/IP with another label and ESI from B: the same route, a second path.
    accept(
        &mut e,
        b,
        &reach(
            AfiSafi::EVPN,
            rid(2).octets().to_vec(),
            evpn_mac_ip(5, 200),
            &[rt],
        ),
    );
    assert_eq!(e.keyed_routes(AfiSafi::EVPN), Some(1));
    let ctx_ap = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::EVPN),
        ..Context::MODERN
    };
    let g = got(&mut e, c, &ctx_ap);
    let mut ids = BTreeSet::new();
    let mut labels = BTreeSet::new();
    for (f, _, nlri, repr) in &g.reach {
        assert_eq!(*f, AfiSafi::EVPN);
        assert!(attr(repr, type_code::ORIGINATOR_ID).is_some());
        for n in EvpnIter::new_checked(nlri, true, 0, Action::SessionReset).unwrap() {
            ids.insert(n.path_id.unwrap());
            match n.route().unwrap() {
                EvpnRoute::MacIp { label1, .. } => labels.insert(label1.value()),
                r => panic!("{r:?}"),
            };
        }
    }
    assert_eq!(ids.len(), 2, "both paths, with their own identifiers");
    assert_eq!(labels, BTreeSet::from([100, 200]));
    // A (lower router ID, same attributes) is best: B gets A's path, A gets B's.
    let gb = got(&mut e, b, &Context::MODERN);
    assert_eq!(gb.reach.len(), 1);
    assert_eq!(gb.reach[0].2, evpn_mac_ip(0, 100));
    let ga = got(&mut e, a, &Context::MODERN);
    assert!(ga.reach.is_empty(), "A's own path is best: nothing for A");
    // A withdraws: B's path is best now; A is sent it, C loses one path.
    let mut wd = evpn_mac_ip(0, 0);
    wd.truncate(wd.len());
    accept(&mut e, a, &unreach(AfiSafi::EVPN, wd));
    assert_eq!(
        got(&mut e, a, &Context::MODERN).reach[0].2,
        evpn_mac_ip(5, 200)
    );
    let gc = got(&mut e, c, &ctx_ap);
    assert_eq!(gc.unreach.len(), 1);
}

#[test]
fn rfc8955_flowspec_and_rfc8277_labeled_unicast_reflected() {
    let mut e = engine();
    let neg = families(&[AfiSafi::IPV4_FLOWSPEC, AfiSafi::IPV4_LABELED]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    // Traffic to 192.0.2.0/24, TCP port 25: discard (traffic-rate 0).
    let flow = vec![
        0x0b, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x03, 0x81, 0x06, 0x04, 0x81, 0x19,
    ];
    let rate0 = [0x80, 0x06, 0, 0, 0, 0, 0, 0];
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, vec![], flow.clone(), &[rate0]),
    );
    let mut labeled = vec![24 + 24];
    labeled.extend_from_slice(&Label::new(3, true).to_bytes());
    labeled.extend_from_slice(&[198, 51, 100]);
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::IPV4_LABELED,
            rid(1).octets().to_vec(),
            labeled.clone(),
            &[],
        ),
    );
    let g = got(&mut e, b, &Context::MODERN);
    let fs: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::IPV4_FLOWSPEC)
        .collect();
    assert_eq!(fs.len(), 1);
    assert!(fs[0].1.is_empty(), "no next hop for flow specification");
    assert_eq!(fs[0].2, flow);
    let n: Vec<_> = FlowIter::new_checked(&fs[0].2, Afi::IPV4, false, 0, Action::SessionReset)
        .unwrap()
        .collect();
    assert_eq!(n[0].iter().count(), 3);
    assert_eq!(
        attr(&fs[0].3, type_code::EXTENDED_COMMUNITIES),
        Some(AttributeValue::ExtendedCommunities(vec![rate0]))
    );
    let lu: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::IPV4_LABELED)
        .collect();
    assert_eq!(lu[0].2, labeled);
    assert_eq!(lu[0].1, rid(1).octets().to_vec());
    // Flow withdrawal.
    accept(&mut e, a, &unreach(AfiSafi::IPV4_FLOWSPEC, flow.clone()));
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.unreach, vec![(AfiSafi::IPV4_FLOWSPEC, flow)]);
}

#[test]
fn unknown_and_unnegotiated_families_are_counted_not_silently_dropped() {
    let mut e = engine();
    let a = client_with(&mut e, 1, families(&[]), false);
    // VPN-IPv4 is known but not negotiated: its NLRI are counted.
    let rd = RouteDistinguisher::as2(65000, 1);
    let msg = reach(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        vpn4(rd, 1, [10, 0, 0], 8),
        &[],
    );
    assert_eq!(accept(&mut e, a, &msg), (0, 0));
    assert_eq!(e.counters(a).unwrap().unnegotiated_prefixes, 1);
    // SAFI 73 (SR TE policy) is not known at all: the attribute is counted.
    let msg = reach(
        AfiSafi::new(Afi::IPV4, reflector_core::wire::Safi(73)),
        rid(1).octets().to_vec(),
        vec![1, 2, 3],
        &[],
    );
    assert_eq!(accept(&mut e, a, &msg), (0, 0));
    assert_eq!(e.counters(a).unwrap().unknown_family_attrs, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    let events: Vec<_> = std::iter::from_fn(|| e.poll_event())
        .filter_map(|ev| match ev {
            reflector_core::engine::Event::UnknownFamily { peer, family, nlri } => {
                Some((peer, family, nlri))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (a, AfiSafi::VPNV4, 1),
            (
                a,
                AfiSafi::new(Afi::IPV4, reflector_core::wire::Safi(73)),
                0
            )
        ]
    );
}
