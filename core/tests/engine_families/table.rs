//! The keyed tables as queried: candidates best first, BestChanged events, ADD-PATH paths with their own NLRI.

use super::*;

#[test]
fn keyed_table_lists_each_route_with_its_candidates_best_first() {
    use reflector_core::decision::Step;
    use reflector_core::wire::family::NlriText;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    // One route (same RD and prefix) from both, each with its own label:
    // b's LOCAL_PREF wins. A second route from a alone.
    let from_a = vpn4(rd, 1001, [10, 1, 0], 16);
    let from_b = vpn4(rd, 2002, [10, 1, 0], 16);
    let other = vpn4(rd, 1001, [10, 2, 0], 24);
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        from_a.clone(),
        &[RT100],
        100,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(2)),
        from_b.clone(),
        &[RT100],
        200,
    );
    assert_eq!(accept(&mut e, b, &msg), (1, 0));
    let msg = reach_lp(AfiSafi::VPNV4, vpn_nh(rid(1)), other.clone(), &[RT100], 100);
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    transmit(&mut e, a);

    let mut table = e.keyed_table(AfiSafi::VPNV4);
    table.sort_by_key(|r| r.paths.len());
    assert_eq!(table.len(), 2);
    assert!(table.iter().all(|r| r.family == AfiSafi::VPNV4));
    let (lone, both) = (&table[0], &table[1]);
    assert_eq!(lone.paths.len(), 1);
    assert_eq!(lone.paths[0].0, other);
    assert_eq!(lone.paths[0].1.peer, a);
    assert_eq!(lone.paths[0].2, None);
    // Best first, each path with the NLRI (label) it came with, the loser
    // with the step at which it lost.
    assert_eq!(both.paths.len(), 2);
    assert_eq!((both.paths[0].1.peer, &both.paths[0].0), (b, &from_b));
    assert_eq!(both.paths[0].2, None);
    assert_eq!((both.paths[1].1.peer, &both.paths[1].0), (a, &from_a));
    assert_eq!(both.paths[1].2, Some(Step::LocalPref));
    let text = |n: &[u8]| {
        NlriText {
            family: AfiSafi::VPNV4,
            nlri: n,
        }
        .to_string()
    };
    assert_eq!(text(&both.paths[0].0), "65000:1:10.1.0.0/16 label 2002");
    assert_eq!(text(&lone.paths[0].0), "65000:1:10.2.0.0/24 label 1001");
    // A family the engine keeps but holds nothing of, and one it does not keep.
    assert!(e.keyed_table(AfiSafi::EVPN).is_empty());
    assert!(e.keyed_table(AfiSafi::IPV4_UNICAST).is_empty());
}

#[test]
fn keyed_best_changed_events_follow_the_best_path() {
    use reflector_core::engine::Event;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    let c = client_with(&mut e, 3, neg, false);
    while e.poll_event().is_some() {}
    let rd = RouteDistinguisher::as2(65000, 1);
    let from_a = vpn4(rd, 1001, [10, 1, 0], 16);
    let from_b = vpn4(rd, 2002, [10, 1, 0], 16);
    // The events of the changes since the last call: (key, best).
    let changes = |e: &mut Engine| {
        e.flush();
        let mut v = Vec::new();
        while let Some(ev) = e.poll_event() {
            if let Event::KeyedBestChanged { family, key, best } = ev {
                assert_eq!(family, AfiSafi::VPNV4);
                v.push((key, best));
            }
        }
        v
    };
    let lp = |nlri: &[u8], n: u8, lp| {
        reach_lp(AfiSafi::VPNV4, vpn_nh(rid(n)), nlri.to_vec(), &[RT100], lp)
    };
    assert_eq!(accept(&mut e, a, &lp(&from_a, 1, 100)), (1, 0));
    let ch = changes(&mut e);
    assert_eq!(ch.len(), 1, "{ch:?}");
    let key = ch[0].0.clone();
    assert_eq!(ch[0].1, Some(a));
    let r = e.keyed_route(AfiSafi::VPNV4, &key).unwrap();
    assert_eq!((r.family, &r.key, r.paths.len()), (AfiSafi::VPNV4, &key, 1));
    assert_eq!(r.paths[0].0, from_a);
    // A worse path from C changes the route but not its best path: no event.
    let from_c = vpn4(rd, 3003, [10, 1, 0], 16);
    assert_eq!(accept(&mut e, c, &lp(&from_c, 3, 50)), (1, 0));
    assert_eq!(
        changes(&mut e),
        vec![],
        "a worse path is no best-path change"
    );
    assert_eq!(e.keyed_route(AfiSafi::VPNV4, &key).unwrap().paths.len(), 2);
    // B's better path; then the same again (no change, no event).
    assert_eq!(accept(&mut e, b, &lp(&from_b, 2, 200)), (1, 0));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(b))]);
    assert_eq!(
        accept(&mut e, b, &lp(&from_b, 2, 200)),
        (0, 0),
        "nothing new"
    );
    assert_eq!(changes(&mut e), vec![]);
    let r = e.keyed_route(AfiSafi::VPNV4, &key).unwrap();
    assert_eq!(r.paths.len(), 3);
    assert_eq!((r.paths[0].1.peer, &r.paths[0].0), (b, &from_b));
    // A change of attributes of the best path is a change too.
    assert_eq!(accept(&mut e, b, &lp(&from_b, 2, 300)), (1, 0));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(b))]);
    // Withdrawals: A's path is best again, then nothing is left.
    assert_eq!(accept(&mut e, b, &unreach(AfiSafi::VPNV4, from_b)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(a))]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, from_a)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), Some(c))]);
    assert_eq!(accept(&mut e, c, &unreach(AfiSafi::VPNV4, from_c)), (0, 1));
    assert_eq!(changes(&mut e), vec![(key.clone(), None)]);
    assert!(e.keyed_route(AfiSafi::VPNV4, &key).is_none());
    assert!(e.keyed_route(AfiSafi::IPV4_UNICAST, &key).is_none());
}

#[test]
fn keyed_table_gives_each_add_path_path_its_own_nlri() {
    let mut e = engine();
    let mut neg = families(&[AfiSafi::VPNV4]);
    neg.add_path_receive.insert(AfiSafi::VPNV4);
    let a = client_with(&mut e, 1, neg, false);
    let rd = RouteDistinguisher::as2(65000, 1);
    // Two paths of one route from one peer (path identifiers 1 and 2), each with its label.
    let one = vpn4(rd, 1001, [10, 1, 0], 16);
    let two = vpn4(rd, 1002, [10, 1, 0], 16);
    let with_id = |id: u32, n: &[u8]| [&id.to_be_bytes()[..], n].concat();
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        with_id(1, &one),
        &[RT100],
        100,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    let msg = reach_lp(
        AfiSafi::VPNV4,
        vpn_nh(rid(1)),
        with_id(2, &two),
        &[RT100],
        200,
    );
    assert_eq!(accept(&mut e, a, &msg), (1, 0));
    transmit(&mut e, a);
    let table = e.keyed_table(AfiSafi::VPNV4);
    assert_eq!(table.len(), 1);
    let p = &table[0].paths;
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].1.peer, p[0].1.remote_id, &p[0].0), (a, 2, &two));
    assert_eq!((p[1].1.peer, p[1].1.remote_id, &p[1].0), (a, 1, &one));
}

/// An ADD-PATH receiver's record of what it holds is per route: of two
/// VPN routes, withdrawing one withdraws exactly that one from it.
#[test]
fn rfc7911_add_path_receiver_loses_exactly_the_withdrawn_keyed_route() {
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let mut neg_ap = neg;
    neg_ap.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::VPNV4);
    let c = client_with(&mut e, 3, neg_ap, true);
    let rd = RouteDistinguisher::as2(65000, 1);
    let (n1, n2) = (vpn4(rd, 1, [10, 1, 0], 16), vpn4(rd, 2, [10, 2, 0], 16));
    for n in [&n1, &n2] {
        vpn_from_1(&mut e, a, n.clone(), RT100);
    }
    let ctx = Context {
        add_path: AfiSafiSet::EMPTY.with(AfiSafi::VPNV4),
        ..Context::MODERN
    };
    let g = got(&mut e, c, &ctx);
    let sent: usize = g
        .reach
        .iter()
        .map(|(_, _, nl, _)| vpn4_entries(nl, true, false).len())
        .sum();
    assert_eq!(sent, 2);
    assert!(g.unreach.is_empty(), "nothing withdrawn: {g:?}");
    let mut wd = vec![24 + 64 + 16, 0x80, 0, 0];
    wd.extend_from_slice(&rd.0);
    wd.extend_from_slice(&[10, 2]);
    assert_eq!(accept(&mut e, a, &unreach(AfiSafi::VPNV4, wd)), (0, 1));
    let g = got(&mut e, c, &ctx);
    assert!(g.reach.is_empty(), "{g:?}");
    let gone = vpn4_prefixes(g.unreach.iter().map(|u| u.1.as_slice()), true, true);
    assert_eq!(gone, ["10.2.0.0/16"]);
    // A route refresh (RFC 2918) from it: the route it holds, sent again.
    let mut rr = vec![0xff; 16];
    rr.extend_from_slice(&[0, 23, 5, 0, 1, 0, 128]);
    assert_eq!(
        e.handle_message(c, &rr),
        Outcome::RouteRefresh(AfiSafi::VPNV4)
    );
    let g = got(&mut e, c, &ctx);
    let again = vpn4_prefixes(g.reach.iter().map(|r| r.2.as_slice()), true, false);
    assert_eq!(again, ["10.1.0.0/16"]);
}

/// The keyed index grows many times over while routes come and go (freed
/// entries reused, others left free when it grows): after every round each
/// route ever announced is found exactly when it is held, checked against a
/// set of the keys held, and the table counts that many.
#[test]
fn keyed_index_finds_every_route_across_growth_with_freed_entries() {
    use std::collections::HashSet;
    let mut e = engine();
    let neg = families(&[AfiSafi::VPNV4]);
    let a = client_with(&mut e, 1, neg, false);
    let b = client_with(&mut e, 2, neg, false);
    transmit(&mut e, b);
    // Route n: RD 65000:(n / 200), prefix 10.(n % 200).(n / 7 % 256)/24.
    let route = |n: u32| {
        let rd = RouteDistinguisher::as2(65000, n / 200);
        let prefix = [10, (n % 200) as u8, (n / 7 % 256) as u8];
        let mut key = rd.0.to_vec();
        key.push(24);
        key.extend_from_slice(&prefix);
        (vpn4(rd, 16 + n % 4, prefix, 24), key)
    };
    let mut held: HashSet<Vec<u8>> = HashSet::new();
    let mut next = 0u32;
    for round in 0..12u32 {
        // Announce 600 new routes, 100 to a message.
        for _ in 0..6 {
            let mut field = Vec::new();
            for _ in 0..100 {
                let (nlri, key) = route(next);
                field.extend_from_slice(&nlri);
                assert!(held.insert(key), "route {next} made twice");
                next += 1;
            }
            let msg = reach(AfiSafi::VPNV4, vpn_nh(rid(1)), field, &[RT100]);
            assert_eq!(accept(&mut e, a, &msg), (100, 0));
        }
        // Withdraw one held route in three (a different third each round).
        let mut gone: Vec<u32> = (0..next)
            .filter(|n| (n + round) % 3 == 0 && held.contains(&route(*n).1))
            .collect();
        gone.truncate(250);
        for chunk in gone.chunks(50) {
            let mut field = Vec::new();
            for &n in chunk {
                let (nlri, key) = route(n);
                field.extend_from_slice(&nlri);
                held.remove(&key);
            }
            let msg = unreach(AfiSafi::VPNV4, field);
            assert_eq!(accept(&mut e, a, &msg), (0, chunk.len() as u32));
        }
        // The withdrawals go out: their entries are freed.
        e.flush();
        transmit(&mut e, b);
        for n in 0..next {
            let (_, key) = route(n);
            assert_eq!(
                e.keyed_route(AfiSafi::VPNV4, &key).is_some(),
                held.contains(&key),
                "round {round}, route {n}"
            );
        }
        assert_eq!(e.keyed_routes(AfiSafi::VPNV4), Some(held.len()));
    }
    assert_eq!(next, 7_200);
    // 600 − 200 held after the first round, 600 − 250 more after each other.
    assert_eq!(held.len(), 400 + 11 * 350);
}
