//! The engine's inspection API for operators: every candidate with the
//! decision step it lost at, a peer's Adj-RIB-In and what a peer is sent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use reflector_core::decision::Step;
use reflector_core::engine::{
    decode_block, Engine, EngineConfig, Event, Negotiated, Outcome, PeerConfig,
};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};

mod support;
use support::{announce, engine, p, rid, transmit, AS};

/// Asserts that an UPDATE was applied with `n` prefixes announced and nothing else.
#[track_caller]
fn accepted(o: Outcome, n: u32) {
    assert_eq!(
        o,
        Outcome::Accepted {
            announced: n,
            withdrawn: 0,
            rejected: 0
        }
    );
}

fn client(e: &mut Engine, n: u8) -> PeerId {
    let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS));
    e.peer_up(id, Negotiated::unicast(rid(n)));
    id
}

fn attrs(path: &[u32], local_pref: u32, med: Option<u32>) -> Vec<AttributeRepr> {
    let mut v = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
        AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(192, 0, 2, 1))),
        AttributeRepr::new(AttributeValue::LocalPref(local_pref)),
    ];
    if let Some(m) = med {
        v.push(AttributeRepr::new(AttributeValue::Med(m)));
    }
    v
}

fn steps(e: &Engine, prefix: &str) -> Vec<(PeerId, Option<Step>)> {
    e.explain_candidates(&p(prefix))
        .iter()
        .map(|(v, s)| (v.peer, *s))
        .collect()
}

#[test]
fn every_candidate_is_labelled_with_the_step_it_lost_at() {
    let mut e = engine();
    let (a, b, c) = (client(&mut e, 1), client(&mut e, 2), client(&mut e, 3));
    accepted(
        e.handle_message(a, &announce(&["10.1.0.0/24"], attrs(&[65001], 100, None))),
        1,
    );
    accepted(
        e.handle_message(b, &announce(&["10.1.0.0/24"], attrs(&[65001], 200, None))),
        1,
    );
    accepted(
        e.handle_message(
            c,
            &announce(&["10.1.0.0/24"], attrs(&[65001, 65002], 200, None)),
        ),
        1,
    );
    assert_eq!(
        steps(&e, "10.1.0.0/24"),
        [
            (b, None),
            (c, Some(Step::AsPathLength)),
            (a, Some(Step::LocalPref))
        ]
    );
    // The same order as `candidates`.
    let order: Vec<PeerId> = e
        .candidates(&p("10.1.0.0/24"))
        .iter()
        .map(|v| v.peer)
        .collect();
    assert_eq!(order, [b, c, a]);
    assert!(e.explain_candidates(&p("10.9.0.0/24")).is_empty());
}

#[test]
fn a_path_that_lost_on_med_within_its_neighbouring_as_says_so() {
    // 65001: c (MED 5) beats a (MED 10); b (65002) beats c on router ID,
    // MED not compared across neighbouring ASes. a has the lowest router
    // ID, so it does not lose to b at any step: it lost to c on MED.
    let mut e = engine();
    let (a, b, c) = (client(&mut e, 1), client(&mut e, 2), client(&mut e, 3));
    accepted(
        e.handle_message(
            a,
            &announce(&["10.2.0.0/24"], attrs(&[65001], 100, Some(10))),
        ),
        1,
    );
    accepted(
        e.handle_message(b, &announce(&["10.2.0.0/24"], attrs(&[65002], 100, None))),
        1,
    );
    accepted(
        e.handle_message(
            c,
            &announce(&["10.2.0.0/24"], attrs(&[65001], 100, Some(5))),
        ),
        1,
    );
    assert_eq!(
        steps(&e, "10.2.0.0/24"),
        [(b, None), (c, Some(Step::RouterId)), (a, Some(Step::Med))]
    );
}

#[test]
fn adj_rib_in_and_adj_rib_out_per_peer() {
    let mut e = engine();
    let (a, b) = (client(&mut e, 1), client(&mut e, 2));
    accepted(
        e.handle_message(
            a,
            &announce(&["10.3.2.0/24", "10.3.1.0/24"], attrs(&[], 100, None)),
        ),
        2,
    );
    accepted(
        e.handle_message(b, &announce(&["10.3.9.0/24"], attrs(&[], 100, None))),
        1,
    );
    let _ = transmit(&mut e, a);
    let _ = transmit(&mut e, b);
    let inn: Vec<String> = e.adj_rib_in(a).iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(inn, ["10.3.1.0/24", "10.3.2.0/24"]);
    // b is sent a's two routes, reflected; a is sent b's one; nobody its own.
    let out = e.adj_rib_out(b);
    let prefixes: Vec<String> = out.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(prefixes, ["10.3.1.0/24", "10.3.2.0/24"]);
    let reflected = decode_block(&out[0].1.attrs);
    assert!(reflected
        .iter()
        .any(|x| x.value == AttributeValue::OriginatorId(rid(1))));
    assert!(reflected
        .iter()
        .any(|x| x.value == AttributeValue::ClusterList(vec![rid(254).to_bits()])));
    let to_a: Vec<String> = e
        .adj_rib_out(a)
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(to_a, ["10.3.9.0/24"]);
    assert_eq!(e.adj_rib_out_counts(b), (2, 0));
    assert_eq!(e.adj_rib_out_counts(a), (1, 0));
    // An IPv6 route of our own goes to both, counted apart.
    e.originate(
        "2001:db8:9::/48".parse().unwrap(),
        "2001:db8::1".parse().unwrap(),
        &[],
    )
    .unwrap();
    e.flush();
    assert_eq!(e.adj_rib_out_counts(b), (2, 1));
    assert_eq!(e.adj_rib_out_counts(a), (1, 1));
    assert_eq!(e.adj_rib_out(a).len(), 2);
    // The engine's debug form names what it holds.
    let dbg = format!("{e:?}");
    assert!(
        dbg.contains("peers: 2")
            && dbg.contains("v4_prefixes: 3")
            && dbg.contains("v6_prefixes: 1"),
        "{dbg}"
    );
    // A peer that is down is sent nothing.
    e.peer_down(a);
    assert!(e.adj_rib_out(a).is_empty());
    assert!(e.negotiated(a).is_none());
    assert_eq!(e.negotiated(b).map(|n| n.router_id), Some(rid(2)));
    assert_eq!(e.path_counts(), (1, 1), "b's route and our own");
}

/// A full event queue drops its oldest events and counts them: session
/// events and best-path changes alike.
#[test]
fn a_full_event_queue_drops_the_oldest_and_counts_them() {
    let mut cfg = EngineConfig::new(AS, rid(254));
    cfg.record_events = true;
    cfg.max_events = 3;
    let mut e = Engine::new(cfg);
    let ids: Vec<PeerId> = (1..=5).map(|n| client(&mut e, n)).collect();
    assert_eq!(e.events_dropped(), 2);
    let evs: Vec<Event> = std::iter::from_fn(|| e.poll_event()).collect();
    assert_eq!(
        evs,
        vec![
            Event::PeerUp(ids[2]),
            Event::PeerUp(ids[3]),
            Event::PeerUp(ids[4])
        ]
    );
    // Five best-path changes from one UPDATE: three kept, two more dropped.
    let prefixes = [
        "10.1.0.0/16",
        "10.2.0.0/16",
        "10.3.0.0/16",
        "10.4.0.0/16",
        "10.5.0.0/16",
    ];
    accepted(
        e.handle_message(ids[0], &announce(&prefixes, attrs(&[], 100, None))),
        5,
    );
    e.flush();
    assert_eq!(e.events_dropped(), 4);
    let evs: Vec<Event> = std::iter::from_fn(|| e.poll_event()).collect();
    assert_eq!(evs.len(), 3, "{evs:?}");
    assert!(evs
        .iter()
        .all(|ev| matches!(ev, Event::BestChanged { best: Some(b), .. } if *b == ids[0])));
}
