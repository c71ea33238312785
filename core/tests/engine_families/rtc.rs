//! Route Target Constraint (RFC 4684): VPN routes go only where memberships ask for them, the default membership, and memberships through an import policy.

use super::*;

/// The RT membership NLRI `nlri` from `peer` (router ID 10.0.0.`n`, its
/// next hop), accepted: (announced, withdrawn).
fn membership(e: &mut Engine, peer: PeerId, n: u8, nlri: Vec<u8>) -> (u32, u32) {
    let nh = rid(n).octets().to_vec();
    accept(e, peer, &reach(AfiSafi::RT_CONSTRAINT, nh, nlri, &[]))
}

#[test]
fn rfc4684_rt_constraint_sends_vpn_routes_only_where_asked() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT]);
    let pe1 = client_with(&mut e, 1, neg, false);
    let pe2 = client_with(&mut e, 2, neg, false);
    let pe3 = client_with(&mut e, 3, neg, false);
    // A client without RT-Constraint gets every VPN route.
    let pe4 = client_with(&mut e, 4, families(&[AfiSafi::VPNV4]), false);
    // Memberships: PE2 imports RT 65000:100, PE3 imports 65000:200.
    let member = |rt: [u8; 8]| {
        let mut n = vec![96, 0, 0, 0xfd, 0xe8];
        n.extend_from_slice(&rt);
        n
    };
    membership(&mut e, pe2, 2, member(RT100));
    membership(&mut e, pe3, 3, member(RT200));
    for p in [pe1, pe2, pe3, pe4] {
        got(&mut e, p, &Context::MODERN);
    }
    let rd = RouteDistinguisher::as2(65000, 1);
    let r100 = vpn4(rd, 16, [10, 1, 0], 24);
    let r200 = vpn4(rd, 17, [10, 2, 0], 24);
    vpn_from_1(&mut e, pe1, r100.clone(), RT100);
    vpn_from_1(&mut e, pe1, r200.clone(), RT200);
    let vpn_of = |g: &Got| -> BTreeSet<Vec<u8>> {
        g.reach
            .iter()
            .filter(|r| r.0 == AfiSafi::VPNV4)
            .map(|r| r.2.clone())
            .collect()
    };
    assert_eq!(
        vpn_of(&got(&mut e, pe2, &Context::MODERN)),
        BTreeSet::from([r100.clone()])
    );
    assert_eq!(
        vpn_of(&got(&mut e, pe3, &Context::MODERN)),
        BTreeSet::from([r200.clone()])
    );
    let all = got(&mut e, pe4, &Context::MODERN);
    let v: Vec<u8> = all.reach.iter().flat_map(|r| r.2.clone()).collect();
    assert_eq!(v.len(), r100.len() + r200.len());
    // The Adj-RIB-Out view agrees with what each was sent, rewritten for it.
    let adj_out = |e: &Engine, p| -> BTreeSet<Vec<u8>> {
        e.keyed_adj_rib_out(p, AfiSafi::VPNV4)
            .into_iter()
            .map(|(n, b)| {
                let repr = reflector_core::engine::decode_block(&b.attrs);
                assert!(
                    repr.iter()
                        .any(|a| a.value == AttributeValue::OriginatorId(rid(1))),
                    "ORIGINATOR_ID added for the reflected route"
                );
                n
            })
            .collect()
    };
    assert_eq!(adj_out(&e, pe2), BTreeSet::from([r100.clone()]));
    assert_eq!(adj_out(&e, pe3), BTreeSet::from([r200.clone()]));
    assert_eq!(
        adj_out(&e, pe4),
        BTreeSet::from([r100.clone(), r200.clone()])
    );
    assert_eq!(
        adj_out(&e, pe1),
        BTreeSet::new(),
        "its own routes are not sent back"
    );
    assert!(e.keyed_adj_rib_out(pe2, AfiSafi::EVPN).is_empty());
    // PE3 starts importing 65000:100 as well: it is sent that route now.
    membership(&mut e, pe3, 3, member(RT100));
    assert_eq!(
        vpn_of(&got(&mut e, pe3, &Context::MODERN)),
        BTreeSet::from([r100.clone()])
    );
    // PE2 stops importing 65000:100: the route is withdrawn from it.
    accept(&mut e, pe2, &unreach(AfiSafi::RT_CONSTRAINT, member(RT100)));
    let g = got(&mut e, pe2, &Context::MODERN);
    assert!(g.unreach.iter().any(|(f, _)| *f == AfiSafi::VPNV4));
    // A default membership (length 0) asks for everything.
    membership(&mut e, pe2, 2, vec![0]);
    assert_eq!(
        vpn_of(&got(&mut e, pe2, &Context::MODERN)),
        BTreeSet::from([r100, r200])
    );
}

#[test]
fn rfc4684_3_2_clients_are_sent_the_default_membership() {
    let mut e = engine();
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(1)), AS);
    cfg.local_v4 = Some(rid(254));
    let a = e.add_peer(cfg);
    e.peer_up(
        a,
        Negotiated {
            router_id: rid(1),
            ..families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT])
        },
    );
    let g = got(&mut e, a, &Context::MODERN);
    let rtc: Vec<_> = g
        .reach
        .iter()
        .filter(|r| r.0 == AfiSafi::RT_CONSTRAINT)
        .collect();
    assert_eq!(rtc.len(), 1);
    let n: Vec<_> = RtcIter::new_checked(&rtc[0].2, false, 0, Action::SessionReset)
        .unwrap()
        .collect();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].len, 0, "the default membership");
    assert_eq!(rtc[0].1, rid(254).octets().to_vec());
    // A client reached over IPv6 only: our IPv6 address as the next hop; one
    // with no address of ours configured is sent none.
    for (v6, want) in [(true, true), (false, false)] {
        let n = if v6 { 2 } else { 3 };
        let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
        if v6 {
            cfg.local_v6 = Some("2001:db8::fe".parse().unwrap());
        }
        let c = e.add_peer(cfg);
        e.peer_up(
            c,
            Negotiated {
                router_id: rid(n),
                ..families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT])
            },
        );
        let g = got(&mut e, c, &Context::MODERN);
        let nhs: Vec<&Vec<u8>> = g
            .reach
            .iter()
            .filter(|r| r.0 == AfiSafi::RT_CONSTRAINT)
            .map(|r| &r.1)
            .collect();
        if want {
            let v6: std::net::Ipv6Addr = "2001:db8::fe".parse().unwrap();
            assert_eq!(nhs, [&v6.octets().to_vec()]);
        } else {
            assert!(nhs.is_empty(), "{nhs:?}");
        }
    }
}

/// RT membership routes that pass an import policy change what the peer is
/// sent (RFC 4684) as they do without one.
#[test]
fn rfc4684_memberships_through_an_import_policy_still_filter() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::RT_CONSTRAINT]);
    let a = client_with(&mut e, 1, families(&[AfiSafi::VPNV4]), false);
    let c = client_with(&mut e, 3, neg, false);
    let _ = e.set_import_policy(c, Some(Policy::accept_all()));
    let rd = RouteDistinguisher::as2(65000, 1);
    vpn_from_1(&mut e, a, vpn4(rd, 1, [10, 1, 0], 16), RT100);
    vpn_from_1(&mut e, a, vpn4(rd, 2, [10, 2, 0], 16), RT200);
    assert!(
        got(&mut e, c, &Context::MODERN).reach.is_empty(),
        "no membership yet"
    );
    let mut member = vec![96, 0, 0, 0xfd, 0xe8];
    member.extend_from_slice(&RT100);
    membership(&mut e, c, 3, member);
    e.flush();
    let g = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&g), ["10.1.0.0/16"]);
}
