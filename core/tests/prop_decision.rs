//! Properties of the decision process: `rank` (deterministic MED: groups by
//! neighbouring AS, merged without MED) orders any candidate set the same way
//! whatever the input order; and the engine's Loc-RIB, fed real encoded
//! UPDATEs from several peers, ends up the same for every arrival order.
//!
//! Whether the order is the RFC's is `prop_decision_oracle.rs`. Properties
//! that held by construction (`compare` being antisymmetric and transitive, a
//! chain of integer comparisons; `rank` with `always_compare_med` equalling a
//! sort by `compare`, which is how it is written) are gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use reflector_core::decision::{compare, rank, Candidate, DecisionConfig};
use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::reflect::Role;
use reflector_core::rib::{PathInfo, PeerId, NO_NEIGHBOR_AS};
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Ipv4Prefix, Nlri, Prefix, UpdatePacket, UpdateRepr};

// ---------------------------------------------------------------------------
// compare / rank on candidates.

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof![
        Just(Origin::Igp),
        Just(Origin::Egp),
        Just(Origin::Incomplete)
    ]
}

/// Candidate fields from small domains, so that most steps see ties.
fn info() -> impl Strategy<Value = PathInfo> {
    (
        origin(),
        0u32..4,
        prop_oneof![
            Just(0u32),
            Just(65001),
            Just(65002),
            Just(65003),
            Just(NO_NEIGHBOR_AS)
        ],
        prop::option::of(0u32..3),
        prop::option::of(prop_oneof![Just(90u32), Just(100), Just(110)]),
        prop::option::of(1u32..4),
        0u32..3,
    )
        .prop_map(
            |(origin, as_path_len, neighbor_as, med, local_pref, originator_id, cl)| PathInfo {
                origin,
                as_path_len,
                neighbor_as,
                med,
                local_pref,
                originator_id,
                cluster_list_len: cl,
                next_hop: None,
            },
        )
}

/// Candidates with distinct (peer, path identifier) pairs: distinct paths.
fn candidates(max: usize) -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec(
        (
            info(),
            any::<bool>(),
            prop::bool::weighted(0.9),
            0u32..3,
            1u32..4,
            0u128..3,
            0u32..2,
        ),
        1..max,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(
                |(i, (info, ebgp, reachable, igp_cost, router_id, peer_addr, remote_id))| {
                    Candidate {
                        info,
                        ebgp,
                        reachable,
                        igp_cost,
                        router_id,
                        peer_addr,
                        peer: PeerId(i as u32 / 2),
                        remote_id: remote_id * 2 + i as u32 % 2,
                        local_id: i as u32 + 1,
                    }
                },
            )
            .collect()
    })
}

fn config(always_compare_med: bool) -> impl Strategy<Value = DecisionConfig> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        move |(missing_med_worst, prefer_oldest, ignore_igp_cost, prefer_local)| DecisionConfig {
            always_compare_med,
            missing_med_worst,
            prefer_oldest,
            ignore_igp_cost,
            default_local_pref: 100,
            prefer_local,
        },
    )
}

fn id(c: &Candidate) -> (PeerId, u32) {
    (c.peer, c.remote_id)
}

/// A permutation of `0..n` from a seed (Fisher-Yates with an LCG).
fn permutation(n: usize, mut seed: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        p.swap(i, ((seed >> 33) % (i as u64 + 1)) as usize);
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn rank_without_always_compare_med_is_independent_of_input_order(
        cands in candidates(12),
        cfg in config(false).prop_map(|c| DecisionConfig { prefer_oldest: false, ..c }),
        seed in any::<u64>(),
    ) {
        let mut a = cands.clone();
        rank(&mut a, &cfg);
        let mut b: Vec<Candidate> = permutation(cands.len(), seed).into_iter().map(|i| cands[i]).collect();
        rank(&mut b, &cfg);
        let order: Vec<_> = a.iter().map(id).collect();
        prop_assert_eq!(&order, &b.iter().map(id).collect::<Vec<_>>());
        // A permutation of the input: every path once.
        let mut sorted = order.clone();
        sorted.sort();
        let mut input: Vec<_> = cands.iter().map(id).collect();
        input.sort();
        prop_assert_eq!(sorted, input);
        // Paths from the same neighbouring AS keep their order with MED
        // compared; paths without one are compared on MED with none.
        for (i, x) in a.iter().enumerate() {
            for y in &a[i + 1..] {
                if x.info.neighbor_as == y.info.neighbor_as && x.info.neighbor_as != NO_NEIGHBOR_AS {
                    prop_assert_eq!(compare(x, y, &cfg, true), Ordering::Less);
                }
                if x.info.neighbor_as == NO_NEIGHBOR_AS && y.info.neighbor_as == NO_NEIGHBOR_AS {
                    prop_assert_eq!(compare(x, y, &cfg, false), Ordering::Less);
                }
            }
        }
        // Ranking a ranked set changes nothing.
        let mut again = a.clone();
        rank(&mut again, &cfg);
        prop_assert_eq!(again.iter().map(id).collect::<Vec<_>>(), order);
        // An unreachable path never ranks above a reachable one.
        prop_assert!(a.windows(2).all(|w| w[0].reachable >= w[1].reachable));
        let best = &a[0];
        prop_assert!(a.iter().all(|c| c.reachable <= best.reachable));
    }
}

// ---------------------------------------------------------------------------
// The engine's Loc-RIB under every arrival order.

const AS: u32 = 63400;

fn rid(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 1, n as u8)
}

/// A sender: its role, and for eBGP its AS.
#[derive(Debug, Clone, Copy)]
struct Sender {
    role: Role,
    asn: u32,
}

fn senders() -> Vec<Sender> {
    vec![
        Sender {
            role: Role::Client,
            asn: AS,
        },
        Sender {
            role: Role::Client,
            asn: AS,
        },
        Sender {
            role: Role::NonClient,
            asn: AS,
        },
        Sender {
            role: Role::Ebgp,
            asn: 65010,
        },
        Sender {
            role: Role::Ebgp,
            asn: 65020,
        },
    ]
}

/// One route's attributes, from small domains so that ties reach deep steps.
#[derive(Debug, Clone)]
struct Attrs {
    origin: Origin,
    path: Vec<u32>,
    med: Option<u32>,
    local_pref: Option<u32>,
    next_hop: u8,
}

fn attrs() -> impl Strategy<Value = Attrs> {
    (
        origin(),
        prop::collection::vec(
            prop_oneof![Just(65001u32), Just(65002), Just(65003), Just(3356)],
            0..3,
        ),
        prop::option::of(0u32..3),
        prop::option::of(prop_oneof![Just(90u32), Just(100), Just(110)]),
        1u8..4,
    )
        .prop_map(|(origin, path, med, local_pref, next_hop)| Attrs {
            origin,
            path,
            med,
            local_pref,
            next_hop,
        })
}

/// An UPDATE from a sender: withdrawals and announcements (indices into the prefix pool).
#[derive(Debug, Clone)]
struct Msg {
    from: usize,
    withdraw: Vec<u8>,
    announce: Vec<u8>,
    attrs: Attrs,
}

fn pool(i: u8) -> Prefix {
    Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(192, 0, i, 0), 24).unwrap())
}

fn encode(m: &Msg, s: Sender) -> Vec<u8> {
    let mut path = m.attrs.path.clone();
    if s.role == Role::Ebgp {
        path.insert(0, s.asn);
    }
    let mut attributes = vec![
        AttributeRepr::new(AttributeValue::Origin(m.attrs.origin)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&path))),
        AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(
            10,
            9,
            0,
            m.attrs.next_hop,
        ))),
    ];
    if let Some(med) = m.attrs.med {
        attributes.push(AttributeRepr::new(AttributeValue::Med(med)));
    }
    if let (Some(lp), true) = (m.attrs.local_pref, s.role.is_ibgp()) {
        attributes.push(AttributeRepr::new(AttributeValue::LocalPref(lp)));
    }
    let announce: Vec<Nlri> = m.announce.iter().map(|&i| Nlri::new(pool(i))).collect();
    UpdateRepr {
        withdrawn: m.withdraw.iter().map(|&i| Nlri::new(pool(i))).collect(),
        attributes: if announce.is_empty() {
            vec![]
        } else {
            attributes
        },
        nlri: announce,
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// The engine with every sender and one observing client, all up; returns the observer.
fn engine(cfg: DecisionConfig) -> (Engine, Vec<PeerId>, PeerId) {
    let mut ec = EngineConfig::new(AS, Ipv4Addr::new(10, 0, 0, 254));
    // RFC 8212 off: these tests are about the reflection and eBGP rules (policy.rs tests it).
    ec.ebgp_requires_policy = false;
    ec.decision = cfg;
    let mut e = Engine::new(ec);
    let ids: Vec<PeerId> = senders()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let n = i as u32 + 1;
            let mut pc = PeerConfig::new(s.role, IpAddr::V4(rid(n)), s.asn);
            pc.local_v4 = Some(Ipv4Addr::new(10, 0, 0, 254));
            let id = e.add_peer(pc);
            e.peer_up(id, Negotiated::unicast(rid(n)));
            id
        })
        .collect();
    let obs = e.add_peer(PeerConfig::new(Role::Client, IpAddr::V4(rid(100)), AS));
    e.peer_up(obs, Negotiated::unicast(rid(100)));
    (e, ids, obs)
}

type RibView = Vec<(Prefix, PeerId, Vec<u8>)>;

/// Feed `msgs` in the given order (flushing where `flush_at` says), then return
/// the Loc-RIB (prefix, best path's peer, its attribute bytes) and what the
/// observing client was told, replayed into a table.
fn run(
    msgs: &[(usize, Vec<u8>)],
    order: &[usize],
    flush_at: u64,
    cfg: DecisionConfig,
) -> (RibView, BTreeMap<Prefix, Vec<AttributeRepr>>) {
    let (mut e, ids, obs) = engine(cfg);
    let mut told: BTreeMap<Prefix, Vec<AttributeRepr>> = BTreeMap::new();
    let mut buf = vec![0u8; 4096];
    let mut replay = |e: &mut Engine, told: &mut BTreeMap<Prefix, Vec<AttributeRepr>>| {
        while let Some(n) = e.poll_transmit(obs, &mut buf) {
            let p = UpdatePacket::new_checked(&buf[..n], &Context::MODERN).unwrap();
            let u = UpdateRepr::parse(&p);
            for w in &u.withdrawn {
                told.remove(&w.prefix);
            }
            for a in &u.nlri {
                told.insert(a.prefix, u.attributes.clone());
            }
        }
    };
    replay(&mut e, &mut told);
    for (k, &i) in order.iter().enumerate() {
        let (from, bytes) = &msgs[i];
        let out = e.handle_message(ids[*from], bytes);
        assert!(matches!(out, Outcome::Accepted { .. }), "{out:?}");
        if flush_at & (1 << (k % 64)) != 0 {
            replay(&mut e, &mut told);
        }
    }
    replay(&mut e, &mut told);
    let rib = e
        .loc_rib()
        .into_iter()
        .map(|(p, v)| (p, v.peer, v.set.block().to_vec()))
        .collect();
    (rib, told)
}

/// UPDATEs in which every (sender, prefix) pair is announced at most once:
/// any order of them leads to the same final state.
fn announcements() -> impl Strategy<Value = Vec<Msg>> {
    prop::collection::vec(
        (
            0..senders().len(),
            prop::collection::btree_set(0u8..12, 1..6),
            attrs(),
        ),
        1..24,
    )
    .prop_map(|v| {
        let mut used = std::collections::HashSet::new();
        v.into_iter()
            .filter_map(|(from, set, attrs)| {
                let announce: Vec<u8> = set
                    .into_iter()
                    .filter(|&p| used.insert((from, p)))
                    .collect();
                (!announce.is_empty()).then_some(Msg {
                    from,
                    withdraw: vec![],
                    announce,
                    attrs,
                })
            })
            .collect()
    })
}

/// Per-sender sequences with re-announcements (implicit withdraw) and withdrawals.
fn sequences() -> impl Strategy<Value = Vec<Msg>> {
    prop::collection::vec(
        (
            0..senders().len(),
            prop::collection::btree_set(0u8..10, 0..4),
            prop::collection::btree_set(0u8..10, 0..5),
            attrs(),
        ),
        1..30,
    )
    .prop_map(|v| {
        v.into_iter()
            .filter(|(_, w, a, _)| !w.is_empty() || !a.is_empty())
            .map(|(from, withdraw, announce, attrs)| Msg {
                from,
                // A prefix both withdrawn and announced in one UPDATE ends up announced.
                withdraw: withdraw.difference(&announce).copied().collect(),
                announce: announce.into_iter().collect(),
                attrs,
            })
            .collect()
    })
}

/// An interleaving of the senders' sequences that keeps each sender's own order.
fn interleave(msgs: &[Msg], seed: u64) -> Vec<usize> {
    let mut queues: Vec<Vec<usize>> = vec![Vec::new(); senders().len()];
    for (i, m) in msgs.iter().enumerate() {
        queues[m.from].push(i);
    }
    for q in &mut queues {
        q.reverse();
    }
    let mut out = Vec::with_capacity(msgs.len());
    let mut s = seed;
    while out.len() < msgs.len() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let live: Vec<usize> = (0..queues.len())
            .filter(|&q| !queues[q].is_empty())
            .collect();
        let q = live[((s >> 33) % live.len() as u64) as usize];
        out.push(queues[q].pop().unwrap());
    }
    out
}

fn decision_cfg() -> impl Strategy<Value = DecisionConfig> {
    (any::<bool>(), any::<bool>()).prop_map(|(always_compare_med, missing_med_worst)| {
        DecisionConfig {
            always_compare_med,
            missing_med_worst,
            ..DecisionConfig::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn loc_rib_is_the_same_for_every_arrival_order(
        msgs in announcements(),
        seed in any::<u64>(),
        flush_a in any::<u64>(),
        flush_b in any::<u64>(),
        cfg in decision_cfg(),
    ) {
        let s = senders();
        let encoded: Vec<(usize, Vec<u8>)> = msgs.iter().map(|m| (m.from, encode(m, s[m.from]))).collect();
        let straight: Vec<usize> = (0..encoded.len()).collect();
        let shuffled = permutation(encoded.len(), seed);
        let (rib_a, told_a) = run(&encoded, &straight, flush_a, cfg);
        let (rib_b, told_b) = run(&encoded, &shuffled, flush_b, cfg);
        prop_assert_eq!(&rib_a, &rib_b);
        prop_assert_eq!(&told_a, &told_b);
        // Every announced prefix has a best path; the observer was told about each.
        let announced: std::collections::BTreeSet<Prefix> =
            msgs.iter().flat_map(|m| m.announce.iter().map(|&i| pool(i))).collect();
        prop_assert_eq!(rib_a.iter().map(|r| r.0).collect::<std::collections::BTreeSet<_>>(), announced.clone());
        prop_assert_eq!(told_a.keys().copied().collect::<std::collections::BTreeSet<_>>(), announced);
    }

    #[test]
    fn loc_rib_is_the_same_for_every_interleaving_of_the_peers(
        msgs in sequences(),
        seed_a in any::<u64>(),
        seed_b in any::<u64>(),
        flush_a in any::<u64>(),
        flush_b in any::<u64>(),
        cfg in decision_cfg(),
    ) {
        let s = senders();
        let encoded: Vec<(usize, Vec<u8>)> = msgs.iter().map(|m| (m.from, encode(m, s[m.from]))).collect();
        let (rib_a, told_a) = run(&encoded, &interleave(&msgs, seed_a), flush_a, cfg);
        let (rib_b, told_b) = run(&encoded, &interleave(&msgs, seed_b), flush_b, cfg);
        prop_assert_eq!(&rib_a, &rib_b);
        prop_assert_eq!(&told_a, &told_b);
        // Which prefixes survive follows from each sender's last word on them.
        let mut last: BTreeMap<(usize, Prefix), bool> = BTreeMap::new();
        for m in &msgs {
            for &w in &m.withdraw {
                last.insert((m.from, pool(w)), false);
            }
            for &a in &m.announce {
                last.insert((m.from, pool(a)), true);
            }
        }
        let alive: std::collections::BTreeSet<Prefix> =
            last.iter().filter(|(_, &up)| up).map(|((_, p), _)| *p).collect();
        prop_assert_eq!(rib_a.iter().map(|r| r.0).collect::<std::collections::BTreeSet<_>>(), alive.clone());
        prop_assert_eq!(told_a.keys().copied().collect::<std::collections::BTreeSet<_>>(), alive);
    }
}
