//! Routing policy on the keyed families: import and export policies, hooks, RFC 8212, paused peers, refusal counters.

use super::*;

#[test]
fn keyed_import_policy_matches_route_targets_and_the_vpn_prefix() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut pol = Policy::new("in", Verdict::Accept);
    // Routes with route target 65000:200 are refused; 10.2.0.0/16 and
    // longer (the prefix inside the VPN route, whatever its RD) get LOCAL_PREF 300.
    pol.push(stmt(
        vec![Condition::ExtCommunity(vec!["rt:65000:200"
            .parse::<ExtCommunityMatch>()
            .unwrap()])],
        vec![],
        Verdict::Reject,
    ));
    pol.push(stmt(
        vec![
            Condition::Family(vec![AfiSafi::VPNV4]),
            Condition::Prefix(vec![PrefixRange::or_longer("10.2.0.0/16".parse().unwrap())]),
        ],
        vec![Modify::SetLocalPref(300)],
        Verdict::Accept,
    ));
    assert_eq!(e.set_import_policy(a, Some(pol)), Reimport::Refresh);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    let n2 = vpn4(rd, 1002, [10, 2, 7], 24);
    let n3 = vpn4(rd, 1003, [10, 3, 0], 16);
    assert_eq!(vpn_from_1(&mut e, a, n1.clone(), RT100), (1, 0));
    assert_eq!(vpn_from_1(&mut e, a, n2.clone(), RT100), (1, 0));
    assert_eq!(vpn_from_1(&mut e, a, n3, RT200), (0, 0));
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(2));
    let c = e.counters(a).unwrap();
    assert_eq!((c.policy_rejected_in, c.policy_modified_in), (1, 1));
    let g = got(&mut e, b, &Context::MODERN);
    let mut seen: Vec<(Vec<u8>, Option<u32>)> = g
        .reach
        .iter()
        .map(|(_, _, n, r)| (n.clone(), local_pref(r)))
        .collect();
    seen.sort();
    let mut want = vec![(n1.clone(), Some(100)), (n2, Some(300))];
    want.sort();
    assert_eq!(seen, want);
    // A route accepted before is withdrawn when it comes again with the refused target.
    assert_eq!(vpn_from_1(&mut e, a, n1, RT200), (0, 1));
    assert_eq!(got(&mut e, b, &Context::MODERN).unreach.len(), 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(1));
}

#[test]
fn keyed_export_policy_per_peer_and_its_change_on_a_live_session() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    let d = client_with(&mut e, 4, neg, false);
    // b: next hop self (an RD of zeros before our address); c: not 10.1.0.0/16.
    let mut nhs = Policy::new("nhs", Verdict::Accept);
    nhs.push(stmt(
        vec![],
        vec![Modify::SetNextHop(NextHop::Local)],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(nhs));
    let mut deny = Policy::new("deny", Verdict::Accept);
    deny.push(stmt(
        vec![Condition::Prefix(vec![PrefixRange::exact(
            "10.1.0.0/16".parse().unwrap(),
        )])],
        vec![],
        Verdict::Reject,
    ));
    e.set_export_policy(c, Some(deny));
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    let n2 = vpn4(rd, 1002, [10, 2, 0], 16);
    for n in [&n1, &n2] {
        vpn_from_1(&mut e, a, n.clone(), RT100);
    }
    let gb = got(&mut e, b, &Context::MODERN);
    assert_eq!(gb.reach.len(), 1, "one message, both routes");
    assert_eq!(
        gb.reach[0].1,
        vpn_nh(rid(254)),
        "next hop self, RD of zeros"
    );
    let gc = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&gc), ["10.2.0.0/16"]);
    assert_eq!(e.counters(c).unwrap().policy_rejected_out, 1);
    let gd = got(&mut e, d, &Context::MODERN);
    assert_eq!(gd.reach[0].1, vpn_nh(rid(1)), "no policy: unchanged");
    // The listing of what each is sent agrees.
    let out_b = e.keyed_adj_rib_out(b, AfiSafi::VPNV4);
    assert_eq!(out_b.len(), 2);
    assert!(out_b
        .iter()
        .all(|(_, blk)| blk.mp_next_hop.as_deref() == Some(&vpn_nh(rid(254))[..])));
    assert_eq!(e.keyed_adj_rib_out(c, AfiSafi::VPNV4).len(), 1);
    // c's policy goes: it is sent the route it was refused (and the other
    // again, as its policy changed), nothing withdrawn.
    e.set_export_policy(c, None);
    let gc = got(&mut e, c, &Context::MODERN);
    assert_eq!(vpn_prefixes(&gc), ["10.1.0.0/16", "10.2.0.0/16"]);
    assert!(gc.unreach.is_empty());
    // b's policy goes: both routes again, with the next hop as sent.
    e.set_export_policy(b, None);
    let gb = got(&mut e, b, &Context::MODERN);
    assert!(!gb.reach.is_empty());
    assert!(gb.reach.iter().all(|(_, nh, _, _)| *nh == vpn_nh(rid(1))));
    assert_eq!(vpn_prefixes(&gb), ["10.1.0.0/16", "10.2.0.0/16"]);
    // A policy refusing everything withdraws both from d.
    e.set_export_policy(d, Some(Policy::reject_all()));
    let gd = got(&mut e, d, &Context::MODERN);
    let w: usize = gd
        .unreach
        .iter()
        .map(|(_, nl)| vpn4_entries(nl, false, true).len())
        .sum();
    assert_eq!(w, 2);
}

#[test]
fn rfc8212_an_ebgp_peer_with_an_export_policy_gets_keyed_routes() {
    let mut e = engine();
    e.set_ebgp_requires_policy(true);
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let x = ebgp_with(&mut e, 9, None, neg);
    let rd = RouteDistinguisher::as2(65000, 1);
    vpn_from_1(&mut e, a, vpn4(rd, 7, [10, 1, 0], 16), RT100);
    assert!(
        got(&mut e, x, &Context::MODERN).reach.is_empty(),
        "RFC 8212"
    );
    let mut only = Policy::new("rt100", Verdict::Reject);
    only.push(stmt(
        vec![Condition::ExtCommunity(vec!["rt:65000:100"
            .parse::<ExtCommunityMatch>()
            .unwrap()])],
        vec![],
        Verdict::Accept,
    ));
    e.set_export_policy(x, Some(only));
    let g = got(&mut e, x, &Context::MODERN);
    assert_eq!(g.reach.len(), 1);
    match attr(&g.reach[0].3, type_code::AS_PATH) {
        Some(AttributeValue::AsPath(p)) => assert_eq!(p, AsPath::sequence(&[AS])),
        o => panic!("{o:?}"),
    }
}

#[test]
fn keyed_hooks_see_the_family_the_nlri_and_the_prefix_inside() {
    use std::sync::{Arc, Mutex};
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::IPV4_FLOWSPEC]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    type Seen = Vec<(AfiSafi, Option<String>, Vec<u8>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s = seen.clone();
    let _ = e.set_import_hook(
        a,
        Some(Arc::new(move |_, _, r: &Route<'_>| {
            s.lock()
                .unwrap()
                .push((r.family, r.prefix.map(|p| p.to_string()), r.nlri.to_vec()));
            Decision::Accept
        })),
    );
    let rd = RouteDistinguisher::as2(65000, 1);
    let vpn = vpn4(rd, 5, [10, 9, 0], 16);
    vpn_from_1(&mut e, a, vpn.clone(), RT100);
    // dst 10.0.0.0/24, proto =6.
    let flow = vec![8, 1, 24, 10, 0, 0, 3, 0x81, 6];
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, vec![], flow.clone(), &[]),
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (AfiSafi::VPNV4, Some("10.9.0.0/16".into()), vpn),
            (AfiSafi::IPV4_FLOWSPEC, None, flow),
        ]
    );
    assert_eq!(got(&mut e, b, &Context::MODERN).reach.len(), 2);
}

#[test]
fn a_paused_peer_gets_a_keyed_routes_new_best_path_on_resume() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n = vpn4(rd, 1001, [10, 1, 0], 16);
    accept(
        &mut e,
        a,
        &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), n.clone(), &[RT100], 100),
    );
    assert_eq!(
        local_pref(&got(&mut e, b, &Context::MODERN).reach[0].3),
        Some(100)
    );
    e.pause_transmit(b);
    // While b is paused the route changes twice; it gets the last state.
    for lp in [150, 200] {
        accept(
            &mut e,
            a,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), n.clone(), &[RT100], lp),
        );
        e.flush();
    }
    e.resume_transmit(b);
    let g = got(&mut e, b, &Context::MODERN);
    assert_eq!(g.reach.len(), 1, "{g:?}");
    assert_eq!(local_pref(&g.reach[0].3), Some(200));
    // Paused again, with nothing changed: nothing is sent on resume.
    e.pause_transmit(b);
    e.flush();
    e.resume_transmit(b);
    let g = got(&mut e, b, &Context::MODERN);
    assert!(g.reach.is_empty() && g.unreach.is_empty(), "{g:?}");
}

/// Keyed routes refused before the table are counted by why: a loop
/// (RFC 4456 §8: our cluster ID in CLUSTER_LIST) as rejected, RFC 8212 (an
/// eBGP peer without an import policy) as refused by policy, and a held
/// route whose new attribute set the peer's memory limit refuses as withdrawn.
#[test]
fn refused_keyed_routes_are_counted_by_why() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let n1 = vpn4(rd, 1001, [10, 1, 0], 16);
    // A loop: our cluster ID in CLUSTER_LIST.
    let mut looped = UpdateRepr::parse(
        &UpdatePacket::new_checked(
            &reach(AfiSafi::VPNV4, vpn_nh(rid(1)), n1.clone(), &[RT100])[..],
            &Context::MODERN,
        )
        .unwrap(),
    );
    looped
        .attributes
        .push(AttributeRepr::new(AttributeValue::ClusterList(vec![rid(
            254,
        )
        .to_bits()])));
    let msg = looped.to_vec(&Context::MODERN).unwrap();
    assert!(matches!(
        e.handle_message(a, &msg),
        Outcome::Accepted {
            announced: 0,
            withdrawn: 0,
            rejected: 1
        }
    ));
    assert_eq!(e.counters(a).unwrap().rejected_loop, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    // RFC 8212: an eBGP peer without an import policy.
    e.set_ebgp_requires_policy(true);
    let x = ebgp_with(&mut e, 9, None, neg);
    let mut from_x = UpdateRepr::parse(
        &UpdatePacket::new_checked(
            &reach(AfiSafi::VPNV4, vpn_nh(rid(9)), n1.clone(), &[RT100])[..],
            &Context::MODERN,
        )
        .unwrap(),
    );
    for at in &mut from_x.attributes {
        if let AttributeValue::AsPath(_) = at.value {
            at.value = AttributeValue::AsPath(AsPath::sequence(&[65010]));
        }
    }
    from_x
        .attributes
        .retain(|at| !matches!(at.value, AttributeValue::LocalPref(_)));
    let o = e.handle_message(x, &from_x.to_vec(&Context::MODERN).unwrap());
    assert!(
        matches!(
            o,
            Outcome::Accepted {
                announced: 0,
                withdrawn: 0,
                rejected: 0
            }
        ),
        "{o:?}"
    );
    assert_eq!(e.counters(x).unwrap().policy_rejected_in, 1);
    assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(0));
    // A memory limit of one set: the route is held, then its new set is refused.
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(5)), AS);
    cfg.local_v4 = Some(rid(254));
    let c = e.add_peer(cfg);
    e.peer_up(
        c,
        Negotiated {
            router_id: rid(5),
            ..neg
        },
    );
    transmit(&mut e, c);
    assert_eq!(
        accept(
            &mut e,
            c,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(5)), n1.clone(), &[RT100], 100)
        ),
        (1, 0)
    );
    let one = e.attr_bytes(c);
    let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(6)), AS);
    cfg.max_attr_bytes = Some(one);
    let d = e.add_peer(cfg);
    e.peer_up(
        d,
        Negotiated {
            router_id: rid(6),
            ..neg
        },
    );
    transmit(&mut e, d);
    let n2 = vpn4(rd, 1002, [10, 2, 0], 16);
    assert_eq!(
        accept(
            &mut e,
            d,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(6)), n2.clone(), &[RT100], 100)
        ),
        (1, 0)
    );
    assert_eq!(
        accept(
            &mut e,
            d,
            &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(6)), n2, &[RT100], 300)
        ),
        (0, 1),
        "the new set is refused: the held route goes"
    );
    assert_eq!(e.counters(d).unwrap().attr_limit_refused, 1);
    assert_eq!(e.counters(d).unwrap().policy_rejected_in, 0);
}

/// One attribute set can carry routes of two families (the same attributes
/// and a 4-byte next hop: an IPv4 multicast route and an IPv4 flow rule);
/// an export policy setting the next hop gives each family its own answer:
/// the multicast route the new next hop, the flow rule (which has no next
/// hop to set, RFC 8955 §4) the one it came with.
#[test]
fn an_export_policy_answers_each_family_of_a_shared_set() {
    let mut e = engine();
    let neg = families(&[AfiSafi::IPV4_MULTICAST, AfiSafi::IPV4_FLOWSPEC]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let mut nh = Policy::new("nh", Verdict::Accept);
    nh.push(stmt(
        vec![],
        vec![Modify::SetNextHop(NextHop::Address(IpAddr::V4(
            Ipv4Addr::new(192, 0, 2, 99),
        )))],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(nh));
    let flow = vec![8, 1, 24, 10, 0, 0, 3, 0x81, 6];
    let nh_a = rid(1).octets().to_vec();
    accept(
        &mut e,
        a,
        &reach(AfiSafi::IPV4_FLOWSPEC, nh_a.clone(), flow, &[]),
    );
    accept(
        &mut e,
        a,
        &reach(
            AfiSafi::IPV4_MULTICAST,
            nh_a.clone(),
            vec![24, 10, 0, 0],
            &[],
        ),
    );
    assert_eq!(e.memory().attr_sets, 1, "one set for both routes");
    let mut got_nh: Vec<(AfiSafi, Vec<u8>)> = got(&mut e, b, &Context::MODERN)
        .reach
        .into_iter()
        .map(|(f, nh, _, _)| (f, nh))
        .collect();
    got_nh.sort();
    let mut want = vec![
        (AfiSafi::IPV4_MULTICAST, vec![192, 0, 2, 99]),
        (AfiSafi::IPV4_FLOWSPEC, nh_a),
    ];
    want.sort();
    assert_eq!(got_nh, want);
}

/// A paused peer is sent, on resume, the routes whose best path changed
/// meanwhile in each keyed family (and only those), and after an export
/// policy change while paused, every route again with what it gets now.
#[test]
fn a_paused_peer_gets_what_changed_per_family_and_all_after_a_policy_change() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4, AfiSafi::IPV4_MULTICAST]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    let (n1, n2) = (vpn4(rd, 1, [10, 1, 0], 16), vpn4(rd, 2, [10, 2, 0], 16));
    let (m1, m2) = (vec![24, 10, 8, 1], vec![24, 10, 8, 2]);
    let send = |e: &mut Engine, vpn: &[u8], mc: &[u8], lp: u32| {
        if !vpn.is_empty() {
            accept(
                e,
                a,
                &reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), vpn.to_vec(), &[RT100], lp),
            );
        }
        if !mc.is_empty() {
            let nh = rid(1).octets().to_vec();
            accept(
                e,
                a,
                &reach_lp(AfiSafi::IPV4_MULTICAST, nh, mc.to_vec(), &[], lp),
            );
        }
    };
    send(&mut e, &n1, &m1, 100);
    send(&mut e, &n2, &m2, 100);
    assert_eq!(routes_lp(&got(&mut e, b, &Context::MODERN)).len(), 4);
    // One route of each family changes while b is paused: those two, once each.
    e.pause_transmit(b);
    send(&mut e, &n1, &m1, 150);
    e.flush();
    e.resume_transmit(b);
    assert!(!e.is_catching_up(b), "one step: nothing left");
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [
            ("mc [24, 10, 8, 1]".to_string(), Some(150)),
            ("vpn 10.1.0.0/16".to_string(), Some(150)),
        ]
    );
    // b's export policy changes while it is paused: everything, as it now is.
    e.pause_transmit(b);
    let mut lp = Policy::new("lp", Verdict::Accept);
    lp.push(stmt(
        vec![],
        vec![Modify::SetLocalPref(300)],
        Verdict::Accept,
    ));
    e.set_export_policy(b, Some(lp));
    assert!(got(&mut e, b, &Context::MODERN).reach.is_empty(), "paused");
    e.resume_transmit(b);
    assert!(!e.is_catching_up(b));
    let all = routes_lp(&got(&mut e, b, &Context::MODERN));
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(all.iter().all(|(_, lp)| *lp == Some(300)));
    // And after that, only what changes again.
    e.pause_transmit(b);
    send(&mut e, &n2, &[], 170);
    e.flush();
    e.resume_transmit(b);
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [("vpn 10.2.0.0/16".to_string(), Some(300))]
    );
}

/// An export hook's answer is its route's own: two VPN routes on one set,
/// the hook raising LOCAL_PREF on one of them only.
#[test]
fn keyed_export_hook_answers_per_route() {
    use std::sync::Arc;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    e.set_export_hook(
        b,
        Some(Arc::new(|_, _, r: &Route<'_>| {
            if r.prefix != Some("10.1.0.0/16".parse().unwrap()) {
                return Decision::Accept;
            }
            let mut p = Policy::new("lp", Verdict::Accept);
            p.push(stmt(
                vec![],
                vec![Modify::SetLocalPref(300)],
                Verdict::Accept,
            ));
            p.evaluate(r, &Default::default()).0
        })),
    );
    let rd = RouteDistinguisher::as2(65000, 1);
    let mut both = vpn4(rd, 1, [10, 1, 0], 16);
    both.extend_from_slice(&vpn4(rd, 2, [10, 2, 0], 16));
    vpn_from_1(&mut e, a, both, RT100);
    assert_eq!(
        routes_lp(&got(&mut e, b, &Context::MODERN)),
        [
            ("vpn 10.1.0.0/16".to_string(), Some(300)),
            ("vpn 10.2.0.0/16".to_string(), Some(100)),
        ]
    );
}
