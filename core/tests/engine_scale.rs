//! Calico-shaped reflection: hundreds of clients that each originate their own
//! routes and receive everyone else's. The expectations come from the address
//! plan (who owns which prefix), not from the engine: every client ends with
//! every other client's routes, each with the originator's NEXT_HOP and
//! ORIGINATOR_ID, and is never sent one of its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use reflector_core::engine::{Engine, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Nlri, Prefix, UpdateRepr};

mod support;
use support::{announced, drain, engine, mp_reach_v6, p, AS};

/// Client n's address and router ID: 10.1.(n / 250).(n % 250 + 1).
fn client_rid(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// Client n's NEXT_HOP: the same offsets under 198.18.0.0/15.
fn client_nh(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// The `m` /26s client n originates: 10.0.0.0 + (n·m + j)·64.
fn client_prefixes(n: usize, m: usize) -> Vec<Prefix> {
    (0..m)
        .map(|j| {
            let base = u32::from(Ipv4Addr::new(10, 0, 0, 0)) + ((n * m + j) as u32) * 64;
            p(&format!("{}/26", Ipv4Addr::from(base)))
        })
        .collect()
}

fn update(
    prefixes: &[Prefix],
    withdrawn: &[Prefix],
    nh: Ipv4Addr,
    extra: &[AttributeValue],
) -> Vec<u8> {
    let mut attributes = Vec::new();
    if !prefixes.is_empty() {
        attributes = vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
            AttributeRepr::new(AttributeValue::NextHop(nh)),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
        ];
        attributes.extend(extra.iter().cloned().map(AttributeRepr::new));
    }
    UpdateRepr {
        withdrawn: withdrawn.iter().map(|p| Nlri::new(*p)).collect(),
        attributes,
        nlri: prefixes.iter().map(|p| Nlri::new(*p)).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn clients(e: &mut Engine, k: usize) -> Vec<PeerId> {
    (0..k)
        .map(|n| {
            let id = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(client_rid(n)), AS));
            e.peer_up(id, Negotiated::unicast(client_rid(n)));
            id
        })
        .collect()
}

fn accept(e: &mut Engine, peer: PeerId, msg: &[u8]) {
    let out = e.handle_message(peer, msg);
    assert!(
        matches!(out, Outcome::Accepted { rejected: 0, .. }),
        "{out:?}"
    );
}

/// What one client holds from the reflector: prefix → (NEXT_HOP, ORIGINATOR_ID).
type Held = BTreeMap<Prefix, (Ipv4Addr, Ipv4Addr)>;

/// Apply a client's received UPDATEs to what it holds; returns (announced, withdrawn) counts.
fn apply(held: &mut Held, updates: &[UpdateRepr]) -> (usize, usize) {
    let (mut a, mut w) = (0, 0);
    for u in updates {
        for n in &u.withdrawn {
            held.remove(&n.prefix);
            w += 1;
        }
        if u.nlri.is_empty() {
            continue;
        }
        let Some(AttributeValue::NextHop(nh)) = u.attribute(type_code::NEXT_HOP) else {
            panic!("announcement without NEXT_HOP: {u:?}");
        };
        let Some(AttributeValue::OriginatorId(o)) = u.attribute(type_code::ORIGINATOR_ID) else {
            panic!("reflected route without ORIGINATOR_ID: {u:?}");
        };
        for n in &u.nlri {
            held.insert(n.prefix, (*nh, *o));
            a += 1;
        }
    }
    (a, w)
}

/// What client `me` must hold when the clients in `present` have announced.
fn expected(me: usize, present: &BTreeSet<usize>, m: usize) -> Held {
    let mut h = Held::new();
    for &n in present.iter().filter(|&&n| n != me) {
        for p in client_prefixes(n, m) {
            h.insert(p, (client_nh(n), client_rid(n)));
        }
    }
    h
}

/// Every client's own prefixes, to check that none comes back.
fn owner_of(k: usize, m: usize) -> BTreeMap<Prefix, usize> {
    (0..k)
        .flat_map(|n| client_prefixes(n, m).into_iter().map(move |p| (p, n)))
        .collect()
}

fn drain_all(e: &mut Engine, ids: &[PeerId], held: &mut [Held], owner: &BTreeMap<Prefix, usize>) {
    for (n, &id) in ids.iter().enumerate() {
        let updates = drain(e, id, &Context::MODERN);
        for u in &updates {
            for x in &u.nlri {
                assert_ne!(
                    owner.get(&x.prefix),
                    Some(&n),
                    "client {n} was sent its own {}",
                    x.prefix
                );
            }
            for x in &u.withdrawn {
                assert_ne!(
                    owner.get(&x.prefix),
                    Some(&n),
                    "client {n} was sent a withdrawal of its own {}",
                    x.prefix
                );
            }
        }
        apply(&mut held[n], &updates);
    }
}

fn run_calico(k: usize, m: usize, batch: usize) {
    let mut e = engine();
    let ids = clients(&mut e, k);
    let owner = owner_of(k, m);
    let mut held: Vec<Held> = vec![Held::new(); k];
    // End-of-RIB only, nothing else, before anyone announced.
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(held.iter().all(BTreeMap::is_empty));
    // Every client announces its blocks; the engine flushes every `batch` UPDATEs.
    for (n, &id) in ids.iter().enumerate() {
        accept(
            &mut e,
            id,
            &update(&client_prefixes(n, m), &[], client_nh(n), &[]),
        );
        if (n + 1) % batch == 0 {
            drain_all(&mut e, &ids, &mut held, &owner);
        }
    }
    drain_all(&mut e, &ids, &mut held, &owner);
    let all: BTreeSet<usize> = (0..k).collect();
    for n in 0..k {
        assert_eq!(
            held[n],
            expected(n, &all, m),
            "client {n} after the announcements"
        );
    }
    // A tenth of the clients withdraw everything: every other client sees it.
    let flap: Vec<usize> = (0..k).step_by(10).collect();
    for &n in &flap {
        accept(
            &mut e,
            ids[n],
            &update(&[], &client_prefixes(n, m), client_nh(n), &[]),
        );
    }
    drain_all(&mut e, &ids, &mut held, &owner);
    let rest: BTreeSet<usize> = all.iter().copied().filter(|n| !flap.contains(n)).collect();
    for n in 0..k {
        assert_eq!(
            held[n],
            expected(n, &rest, m),
            "client {n} after the withdrawals"
        );
    }
    // ... and announce again.
    for &n in &flap {
        accept(
            &mut e,
            ids[n],
            &update(&client_prefixes(n, m), &[], client_nh(n), &[]),
        );
    }
    drain_all(&mut e, &ids, &mut held, &owner);
    for n in 0..k {
        assert_eq!(
            held[n],
            expected(n, &all, m),
            "client {n} after the re-announcements"
        );
    }
    // A client going down takes its routes with it, everywhere else.
    e.peer_down(ids[7]);
    drain_all(&mut e, &ids, &mut held, &owner);
    let without7: BTreeSet<usize> = all.iter().copied().filter(|&n| n != 7).collect();
    for n in (0..k).filter(|&n| n != 7) {
        assert_eq!(
            held[n],
            expected(n, &without7, m),
            "client {n} after client 7 went down"
        );
    }
}

#[test]
fn calico_300_originating_clients_one_flush_each_gets_all_others_never_its_own() {
    run_calico(300, 4, usize::MAX);
}

#[test]
fn calico_300_originating_clients_flushed_every_17_updates() {
    run_calico(300, 4, 17);
}

#[test]
fn calico_600_clients_one_route_each_flushed_every_update() {
    run_calico(600, 1, 1);
}

/// The best path moving between two clients of one shared class: the old
/// source gets the new path, the new source gets a withdrawal, the others
/// get the new path; and back.
#[test]
fn shared_pass_best_path_moving_between_clients() {
    let mut e = engine();
    let ids = clients(&mut e, 5);
    let owner = BTreeMap::new();
    let mut held: Vec<Held> = vec![Held::new(); 5];
    drain_all(&mut e, &ids, &mut held, &owner);
    let pfx = p("10.9.0.0/24");
    accept(&mut e, ids[0], &update(&[pfx], &[], client_nh(0), &[]));
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(held[0].is_empty());
    for n in 1..5 {
        assert_eq!(
            held[n].get(&pfx),
            Some(&(client_nh(0), client_rid(0))),
            "client {n}"
        );
    }
    // Client 1 announces the same prefix with a higher LOCAL_PREF: it wins.
    let better = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
            AttributeRepr::new(AttributeValue::NextHop(client_nh(1))),
            AttributeRepr::new(AttributeValue::LocalPref(200)),
        ],
        nlri: vec![Nlri::new(pfx)],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    accept(&mut e, ids[1], &better);
    let before: Vec<usize> = (0..5).map(|n| held[n].len()).collect();
    drain_all(&mut e, &ids, &mut held, &owner);
    assert_eq!(
        held[0].get(&pfx),
        Some(&(client_nh(1), client_rid(1))),
        "the old source gets the new best"
    );
    assert!(
        held[1].is_empty(),
        "the new source is told to forget the old best: {:?}",
        held[1]
    );
    for n in 2..5 {
        assert_eq!(
            held[n].get(&pfx),
            Some(&(client_nh(1), client_rid(1))),
            "client {n}"
        );
        assert_eq!(held[n].len(), before[n]);
    }
    // Client 1 withdraws: client 0's path is best again.
    accept(&mut e, ids[1], &update(&[], &[pfx], client_nh(1), &[]));
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(
        held[0].is_empty(),
        "client 0 no longer holds client 1's path: {:?}",
        held[0]
    );
    for n in 1..5 {
        assert_eq!(
            held[n].get(&pfx),
            Some(&(client_nh(0), client_rid(0))),
            "client {n}"
        );
    }
}

/// A path whose ORIGINATOR_ID is 0.0.0.0 is reflected to every other client
/// of a shared class (0 is not a placeholder for "no target").
#[test]
fn originator_id_zero_reflected_to_grouped_clients() {
    let mut e = engine();
    let ids = clients(&mut e, 4);
    let mut held: Vec<Held> = vec![Held::new(); 4];
    let owner = BTreeMap::new();
    drain_all(&mut e, &ids, &mut held, &owner);
    let pfx = p("10.8.0.0/24");
    let msg = update(
        &[pfx],
        &[],
        client_nh(0),
        &[AttributeValue::OriginatorId(Ipv4Addr::UNSPECIFIED)],
    );
    accept(&mut e, ids[0], &msg);
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(held[0].is_empty());
    for n in 1..4 {
        assert_eq!(
            held[n].get(&pfx),
            Some(&(client_nh(0), Ipv4Addr::UNSPECIFIED)),
            "client {n}"
        );
    }
}

/// A client whose router ID is the ORIGINATOR_ID of a path another client
/// sent is not sent that path (RFC 4456 §8), in a shared class too.
#[test]
fn shared_pass_skips_the_originator_among_grouped_clients() {
    let mut e = engine();
    let ids = clients(&mut e, 4);
    let mut held: Vec<Held> = vec![Held::new(); 4];
    let owner = BTreeMap::new();
    drain_all(&mut e, &ids, &mut held, &owner);
    let pfx = p("10.7.0.0/24");
    // Client 0 passes on a path that client 2 originated.
    let msg = update(
        &[pfx],
        &[],
        client_nh(2),
        &[AttributeValue::OriginatorId(client_rid(2))],
    );
    accept(&mut e, ids[0], &msg);
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(held[0].is_empty(), "the source");
    assert!(held[2].is_empty(), "the originator");
    for n in [1, 3] {
        assert_eq!(
            held[n].get(&pfx),
            Some(&(client_nh(2), client_rid(2))),
            "client {n}"
        );
    }
}

/// A client that stops reading is paused: nothing is encoded for it, only
/// the changed prefixes are recorded (bounded by the table, however often
/// they change), the others are served as usual, and once resumed it ends
/// with exactly what the others hold, without a replay of every change.
#[test]
fn paused_peer_gets_the_latest_state_when_resumed() {
    let k = 6;
    let m = 50;
    let mut e = engine();
    let ids = clients(&mut e, k);
    let owner = owner_of(k, m);
    let mut held: Vec<Held> = vec![Held::new(); k];
    drain_all(&mut e, &ids, &mut held, &owner);
    let stuck = 5;
    e.pause_transmit(ids[stuck]);
    assert!(e.is_paused(ids[stuck]));
    // Everyone announces; clients 0 and 1 then flap their routes 40 times.
    for n in 0..k {
        accept(
            &mut e,
            ids[n],
            &update(&client_prefixes(n, m), &[], client_nh(n), &[]),
        );
    }
    drain_all(&mut e, &ids, &mut held, &owner);
    for _ in 0..40 {
        for n in [0, 1] {
            accept(
                &mut e,
                ids[n],
                &update(&[], &client_prefixes(n, m), client_nh(n), &[]),
            );
            accept(
                &mut e,
                ids[n],
                &update(&client_prefixes(n, m), &[], client_nh(n), &[]),
            );
            drain_all(&mut e, &ids[..stuck], &mut held[..stuck], &owner);
        }
    }
    // Client 2 goes away for good while 5 is paused.
    accept(
        &mut e,
        ids[2],
        &update(&[], &client_prefixes(2, m), client_nh(2), &[]),
    );
    drain_all(&mut e, &ids[..stuck], &mut held[..stuck], &owner);
    assert_eq!(
        e.pending_bytes(ids[stuck]),
        0,
        "nothing encoded for the paused peer"
    );
    assert!(e.take_transmit(ids[stuck]).is_empty());
    let table = k * m;
    assert!(
        e.pending_prefixes(ids[stuck]) <= 2 * table + 1024,
        "{} pending keys for a table of {table}",
        e.pending_prefixes(ids[stuck])
    );
    let present: BTreeSet<usize> = (0..k).filter(|&n| n != 2).collect();
    for n in [0, 1, 3, 4] {
        assert_eq!(
            held[n],
            expected(n, &present, m),
            "client {n} while 5 is paused"
        );
    }
    e.resume_transmit(ids[stuck]);
    assert!(!e.is_paused(ids[stuck]));
    let updates = drain(&mut e, ids[stuck], &Context::MODERN);
    let (announced, _) = apply(&mut held[stuck], &updates);
    assert_eq!(held[stuck], expected(stuck, &present, m));
    // One announcement per prefix it lacks, not one per change.
    assert_eq!(announced, (k - 2) * m);
    assert_eq!(e.counters(ids[stuck]).unwrap().transmit_pauses, 1);
    // Its own routes never came back to it.
    for u in &updates {
        for x in &u.nlri {
            assert_ne!(owner.get(&x.prefix), Some(&stuck));
        }
    }
    // And it is served as usual afterwards.
    accept(
        &mut e,
        ids[2],
        &update(&client_prefixes(2, m), &[], client_nh(2), &[]),
    );
    drain_all(&mut e, &ids, &mut held, &owner);
    let all: BTreeSet<usize> = (0..k).collect();
    for n in 0..k {
        assert_eq!(held[n], expected(n, &all, m), "client {n} at the end");
    }
}

/// A peer paused before it was sent anything and resumed after a client that
/// had announced went down is told the prefix is gone (or nothing): it never
/// ends up holding a route that no longer exists.
#[test]
fn paused_peer_does_not_keep_a_route_removed_while_paused() {
    let mut e = engine();
    let ids = clients(&mut e, 4);
    let owner = owner_of(4, 2);
    let mut held: Vec<Held> = vec![Held::new(); 4];
    drain_all(&mut e, &ids, &mut held, &owner);
    accept(
        &mut e,
        ids[0],
        &update(&client_prefixes(0, 2), &[], client_nh(0), &[]),
    );
    drain_all(&mut e, &ids, &mut held, &owner);
    assert_eq!(held[3].len(), 2);
    e.pause_transmit(ids[3]);
    e.peer_down(ids[0]);
    drain_all(&mut e, &ids[..3], &mut held[..3], &owner);
    assert!(held[1].is_empty() && held[2].is_empty());
    e.resume_transmit(ids[3]);
    drain_all(&mut e, &ids, &mut held, &owner);
    assert!(held[3].is_empty(), "{:?}", held[3]);
}

/// Three clients, each drained, the last one's output paused.
fn three_clients_the_last_paused() -> (Engine, Vec<PeerId>, BTreeMap<Prefix, usize>, Vec<Held>) {
    let mut e = engine();
    let ids = clients(&mut e, 3);
    let owner = BTreeMap::new();
    let mut held: Vec<Held> = vec![Held::new(); 3];
    drain_all(&mut e, &ids, &mut held, &owner);
    e.pause_transmit(ids[2]);
    (e, ids, owner, held)
}

/// `from` announces `n` /24s 11.x.y.0 (and on), 500 per UPDATE; returns them.
fn send_elevens(e: &mut Engine, from: PeerId, n: u32) -> Vec<Prefix> {
    let all: Vec<Prefix> = (0..n)
        .map(|i| p(&format!("{}/24", Ipv4Addr::from(0x0b00_0000u32 + (i << 8)))))
        .collect();
    for chunk in all.chunks(500) {
        accept(e, from, &update(chunk, &[], client_nh(0), &[]));
    }
    all
}

/// A resumed peer that missed a large table catches up a step at a time:
/// one step of encoded UPDATEs is queued, the next when it has taken them.
#[test]
fn resumed_peer_catches_up_one_step_at_a_time() {
    use reflector_core::engine::CATCH_UP_STEP;
    let (mut e, ids, owner, mut held) = three_clients_the_last_paused();
    // Client 0 sends 150,000 /24s (more than two steps), 500 per UPDATE.
    let n = 150_000u32;
    send_elevens(&mut e, ids[0], n);
    drain_all(&mut e, &ids[..2], &mut held[..2], &owner);
    assert_eq!(held[1].len(), n as usize);
    assert!(e.pending_bytes(ids[2]) == 0 && e.is_paused(ids[2]));
    // Resumed: one step queued, not the table.
    assert!(e.resume_transmit(ids[2]), "more than one step is pending");
    assert!(e.is_catching_up(ids[2]) && !e.is_paused(ids[2]));
    let first = e.pending_bytes(ids[2]);
    assert!(
        first > 0 && first < 3 << 20,
        "one step queued: {first} bytes"
    );
    let mut steps = 0;
    let mut buf = vec![0u8; 4096];
    let mut last_queue = 0;
    while let Some(len) = e.poll_transmit(ids[2], &mut buf) {
        let u = UpdateRepr::parse(
            &reflector_core::wire::UpdatePacket::new_checked(&buf[..len], &Context::MODERN)
                .unwrap(),
        );
        apply(&mut held[2], std::slice::from_ref(&u));
        let q = e.pending_bytes(ids[2]);
        if q > last_queue {
            steps += 1;
        }
        assert!(q < 3 << 20, "never more than a step queued: {q}");
        last_queue = q;
    }
    assert_eq!(held[2], held[1], "caught up with the others");
    assert!(!e.is_catching_up(ids[2]));
    assert!(steps >= (n as usize) / CATCH_UP_STEP, "{steps} steps");
}

/// A catch-up step is one budget for every family together: a step that
/// spends it on IPv4 leaves the IPv6 routes for the next step, and the peer
/// still ends up with both.
#[test]
fn a_catch_up_step_shares_its_budget_across_families() {
    use reflector_core::engine::CATCH_UP_STEP;
    let (mut e, ids, _, _) = three_clients_the_last_paused();
    // Exactly one step of IPv4 /24s, then 100 IPv6 /48s.
    let v4 = send_elevens(&mut e, ids[0], CATCH_UP_STEP as u32);
    let v6: Vec<Prefix> = (0..100u16)
        .map(|i| p(&format!("2001:db8:{i:x}::/48")))
        .collect();
    let msg = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
            mp_reach_v6(&v6),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    accept(&mut e, ids[0], &msg);
    let got_by_1 = drain(&mut e, ids[1], &Context::MODERN);
    assert_eq!(announced(&got_by_1).len(), v4.len() + v6.len());
    assert!(
        e.resume_transmit(ids[2]),
        "one family used the step: the other is left for the next one"
    );
    let got = drain(&mut e, ids[2], &Context::MODERN);
    let mut all: Vec<Prefix> = announced(&got);
    all.sort();
    let mut want: Vec<Prefix> = v4.iter().chain(&v6).copied().collect();
    want.sort();
    assert_eq!(all, want, "every route of both families, once");
    assert!(!e.is_catching_up(ids[2]));
}

/// `take_transmit` on a resumed peer returns its whole catch-up, the last
/// step included (the one after which it is no longer catching up).
#[test]
fn take_transmit_returns_a_resumed_peers_whole_catch_up() {
    let (mut e, ids, _, _) = three_clients_the_last_paused();
    let n = 150_000u32;
    let all = send_elevens(&mut e, ids[0], n);
    assert!(e.resume_transmit(ids[2]), "more than one step");
    let bytes = e.take_transmit(ids[2]);
    let mut got = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at + 16], bytes[at + 17]]));
        let pkt =
            reflector_core::wire::UpdatePacket::new_checked(&bytes[at..at + len], &Context::MODERN)
                .unwrap();
        got.extend(UpdateRepr::parse(&pkt).nlri.iter().map(|x| x.prefix));
        at += len;
    }
    got.sort();
    let mut want = all;
    want.sort();
    assert_eq!(got, want);
    assert!(!e.is_catching_up(ids[2]));
}

/// IPv4 /24s 20.x.y.0, `n` of them, announced by `from` in UPDATEs of 500.
fn load_table(e: &mut Engine, from: PeerId, n: usize) -> Vec<Prefix> {
    let all: Vec<Prefix> = (0..n)
        .map(|i| {
            p(&format!(
                "{}.{}.{}.0/24",
                20 + i / 65536,
                (i / 256) % 256,
                i % 256
            ))
        })
        .collect();
    for chunk in all.chunks(500) {
        accept(e, from, &update(chunk, &[], client_nh(0), &[]));
    }
    e.flush();
    all
}

#[test]
fn a_fresh_session_gets_its_table_a_step_at_a_time_and_end_of_rib_after_it() {
    use reflector_core::engine::CATCH_UP_STEP;
    let mut e = engine();
    let ids = clients(&mut e, 1);
    let n = 2 * CATCH_UP_STEP + 1000;
    let all = load_table(&mut e, ids[0], n);
    // A new client comes up and stops reading at once: one step is encoded, no more.
    let late = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(client_rid(1)), AS));
    e.peer_up(late, Negotiated::unicast(client_rid(1)));
    let first = e.pending_bytes(late);
    assert!(e.is_catching_up(late));
    assert!(first > 0);
    e.pause_transmit(late);
    // The table changes meanwhile: a prefix of the first step goes, one of
    // the last step goes, one comes back with other attributes.
    accept(
        &mut e,
        ids[0],
        &update(&[], &[all[0], all[n - 1]], client_nh(0), &[]),
    );
    accept(
        &mut e,
        ids[0],
        &update(&[all[n - 2]], &[], client_nh(7), &[]),
    );
    e.flush();
    assert_eq!(
        e.pending_bytes(late),
        first,
        "a paused fresh peer gets nothing more"
    );
    // Encoded at most one step of /24s (a few bytes per prefix, plus headers).
    assert!(first < CATCH_UP_STEP * 8, "{first} bytes for one step");
    e.resume_transmit(late);
    let mut held = Held::new();
    let updates = drain(&mut e, late, &Context::MODERN);
    apply(&mut held, &updates);
    let want: BTreeSet<Prefix> = all[1..n - 1].iter().copied().collect();
    let got: BTreeSet<Prefix> = held.keys().copied().collect();
    assert_eq!(got, want);
    assert!(!e.is_catching_up(late));
    // End-of-RIB: once per family; IPv4's after the last IPv4 announcement
    // (IPv6, with no routes here, may end first).
    let is_eor = |u: &UpdateRepr, v6: bool| {
        u.nlri.is_empty()
            && u.withdrawn.is_empty()
            && if v6 {
                matches!(u.attributes.as_slice(), [a] if a.value.type_code() == type_code::MP_UNREACH_NLRI)
            } else {
                u.attributes.is_empty()
            }
    };
    let v4_eor: Vec<usize> = (0..updates.len())
        .filter(|&i| is_eor(&updates[i], false))
        .collect();
    let v6_eor = updates.iter().filter(|u| is_eor(u, true)).count();
    assert_eq!((v4_eor.len(), v6_eor), (1, 1));
    let last_v4_announce = updates.iter().rposition(|u| !u.nlri.is_empty()).unwrap();
    assert!(
        v4_eor[0] > last_v4_announce,
        "IPv4 End-of-RIB (message {}) after the last announcement (message {last_v4_announce})",
        v4_eor[0]
    );
    // The changed prefix carries its new next hop.
    let nh = updates
        .iter()
        .rev()
        .find(|u| u.nlri.iter().any(|x| x.prefix == all[n - 2]))
        .and_then(|u| u.attribute(type_code::NEXT_HOP).cloned());
    assert_eq!(nh, Some(AttributeValue::NextHop(client_nh(7))));
}
