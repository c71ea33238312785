//! Tests written against mutants of `reflector_core::decision` that the rest
//! of the suite let survive (see RELIABILITY.md): each asserts behaviour the
//! RFC text or the documented interface fixes, and fails on the mutant it
//! names.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::decision::{addr_key, compare, explain, rank, Candidate, DecisionConfig, Step};
use reflector_core::rib::{PathInfo, PeerId, NO_NEIGHBOR_AS};
use reflector_core::wire::attribute::Origin;

fn cand(peer: u32) -> Candidate {
    Candidate {
        info: PathInfo {
            origin: Origin::Igp,
            as_path_len: 2,
            neighbor_as: 65001,
            med: None,
            local_pref: None,
            originator_id: None,
            cluster_list_len: 0,
            next_hop: None,
        },
        ebgp: false,
        reachable: true,
        igp_cost: 0,
        router_id: peer,
        peer_addr: u128::from(peer),
        peer: PeerId(peer),
        remote_id: 0,
        local_id: peer,
    }
}

fn ranked(mut v: Vec<Candidate>, cfg: &DecisionConfig) -> Vec<u32> {
    rank(&mut v, cfg);
    v.iter().map(|c| c.peer.0).collect()
}

/// The step names are the daemon's output format (and the C and Go
/// bindings'): every one is fixed and distinct.
#[test]
fn step_names_are_the_documented_ones() {
    let names: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "next-hop-unreachable",
            "local-origin",
            "local-pref",
            "as-path-length",
            "origin",
            "med",
            "ebgp-over-ibgp",
            "igp-cost",
            "oldest",
            "router-id",
            "cluster-list-length",
            "peer-address",
            "path-id",
        ]
    );
}

/// RFC 4271 §9.1.2.2 (g): the lowest peer address wins; IPv4 peers are
/// compared as IPv4-mapped IPv6 addresses, so an IPv4 peer sorts below a
/// global IPv6 one and addresses keep their numeric order.
#[test]
fn addr_key_is_the_ipv4_mapped_numeric_value() {
    let a = addr_key(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(a, 0xffff_0a00_0001);
    let b = addr_key(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(b, a + 1);
    let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    assert_eq!(addr_key(IpAddr::V6(v6)), u128::from(v6));
    assert!(a < addr_key(IpAddr::V6(v6)));
}

/// RFC 5004 applies among eBGP paths only: with the knob off, two eBGP
/// paths that tie up to the router ID go by router ID, not by age.
#[test]
fn prefer_oldest_off_ignores_age_between_ebgp_paths() {
    let mut old = cand(2);
    old.ebgp = true;
    old.local_id = 1;
    let mut young = cand(1);
    young.ebgp = true;
    young.local_id = 9;
    let cfg = DecisionConfig::default();
    assert_eq!(ranked(vec![old, young], &cfg), [1, 2]);
    assert_eq!(explain(&young, &old, &cfg, true), Some(Step::RouterId));
    // And on: the oldest wins before the router ID is looked at.
    let on = DecisionConfig {
        prefer_oldest: true,
        ..DecisionConfig::default()
    };
    assert_eq!(ranked(vec![young, old], &on), [2, 1]);
    assert_eq!(explain(&old, &young, &on, true), Some(Step::Oldest));
    // Between iBGP paths the knob changes nothing.
    let (mut io, mut iy) = (old, young);
    io.ebgp = false;
    iy.ebgp = false;
    assert_eq!(ranked(vec![io, iy], &on), [1, 2]);
    assert_eq!(explain(&iy, &io, &on, true), Some(Step::RouterId));
}

/// The IGP cost step counts unless `ignore_igp_cost`.
#[test]
fn ignore_igp_cost_skips_the_step() {
    let mut far = cand(1);
    far.igp_cost = 50;
    let near = cand(2);
    let cfg = DecisionConfig::default();
    assert_eq!(ranked(vec![far, near], &cfg), [2, 1]);
    assert_eq!(explain(&near, &far, &cfg, true), Some(Step::IgpCost));
    let skip = DecisionConfig {
        ignore_igp_cost: true,
        ..DecisionConfig::default()
    };
    assert_eq!(ranked(vec![near, far], &skip), [1, 2]);
    assert_eq!(explain(&far, &near, &skip, true), Some(Step::RouterId));
    assert_eq!(compare(&far, &near, &skip, true), std::cmp::Ordering::Less);
}

/// Deterministic MED over several neighbouring ASes (more than two groups,
/// so the merge's heap has children on both sides): the result is the full
/// order, groups interleaved by their heads compared without MED.
#[test]
fn rank_merges_many_neighbour_groups_in_order() {
    let cfg = DecisionConfig::default();
    let mut v = Vec::new();
    // Seven groups (AS 65001..65007), two paths each; the group's second
    // path has a worse MED, and group heads differ in router ID only.
    for g in 0..7u32 {
        let mut a = cand(100 + g);
        a.info.neighbor_as = 65001 + g;
        a.info.med = Some(0);
        a.router_id = 100 + (g * 3) % 7; // heads in a scrambled order
        let mut b = cand(200 + g);
        b.info.neighbor_as = 65001 + g;
        b.info.med = Some(5);
        b.router_id = 1; // better router ID, but loses on MED in its group
        v.push(b);
        v.push(a);
    }
    let got = ranked(v.clone(), &cfg);
    // Reference: a plain selection, RFC 4271 §9.1.2.2 applied repeatedly.
    let mut rest = v;
    let mut want = Vec::new();
    while !rest.is_empty() {
        // Candidates still in the running: those not beaten on MED by a path of the same AS.
        let alive: Vec<Candidate> = rest
            .iter()
            .filter(|c| {
                !rest.iter().any(|o| {
                    o.info.neighbor_as == c.info.neighbor_as
                        && o.info.neighbor_as != NO_NEIGHBOR_AS
                        && o.info.med.unwrap_or(0) < c.info.med.unwrap_or(0)
                })
            })
            .copied()
            .collect();
        let best = *alive
            .iter()
            .min_by(|a, b| compare(a, b, &cfg, false))
            .unwrap();
        want.push(best.peer.0);
        rest.retain(|c| c.peer != best.peer);
    }
    assert_eq!(got, want);
    assert_eq!(got.len(), 14);
}

/// RFC 4271 §9.1.2.2 (c): `explain` names MED when MED decides between
/// paths of the same neighbouring AS, and (with MED not compared, as
/// between different neighbouring ASes) the step after it.
#[test]
fn explain_names_med_only_when_med_is_compared() {
    let low = {
        let mut c = cand(2);
        c.info.med = Some(1);
        c
    };
    let high = {
        let mut c = cand(1);
        c.info.med = Some(9);
        c
    };
    let cfg = DecisionConfig::default();
    assert_eq!(explain(&low, &high, &cfg, true), Some(Step::Med));
    assert_eq!(explain(&high, &low, &cfg, true), None);
    // Without MED the lower router ID (peer 1) wins.
    assert_eq!(explain(&high, &low, &cfg, false), Some(Step::RouterId));
    assert_eq!(explain(&low, &high, &cfg, false), None);
    // missing_med_worst: a path without MED loses to any MED.
    let mut none = cand(1);
    none.info.med = None;
    let worst = DecisionConfig {
        missing_med_worst: true,
        ..DecisionConfig::default()
    };
    assert_eq!(explain(&high, &none, &worst, true), Some(Step::Med));
    assert_eq!(explain(&none, &low, &cfg, true), Some(Step::Med));
}

/// `rank`'s merge breaks a tie between group heads (paths equal at every
/// step without MED, which only duplicates of one (peer, path id) can be)
/// by taking the earlier group, that is the lower neighbouring AS: the
/// result does not depend on the input order even then.
#[test]
fn rank_breaks_full_ties_between_groups_by_neighbour_as() {
    let cfg = DecisionConfig::default();
    let dup = |asn: u32| {
        let mut c = cand(1);
        c.info.neighbor_as = asn;
        c.local_id = asn; // not compared without prefer_oldest: only a label
        c
    };
    let labels = |v: Vec<Candidate>| {
        let mut v = v;
        rank(&mut v, &cfg);
        v.iter().map(|c| c.local_id).collect::<Vec<u32>>()
    };
    for order in [[3, 1, 2], [1, 2, 3], [2, 3, 1], [3, 2, 1]] {
        let v: Vec<Candidate> = order.iter().map(|&a| dup(a)).collect();
        assert_eq!(labels(v), [1, 2, 3], "input {order:?}");
    }
    let v: Vec<Candidate> = [5, 4, 3, 2, 1].iter().map(|&a| dup(a)).collect();
    assert_eq!(labels(v), [1, 2, 3, 4, 5]);
}

/// `rank` (a heap merge of neighbour-AS groups) against the same rule
/// applied naively: repeatedly, each group's best path by the full
/// comparison (MED within the group), and of those heads the best without
/// MED. Random candidate sets with up to 14 groups and small attribute
/// domains, so the heap is several levels deep and heads tie at many steps.
#[test]
fn rank_equals_naive_group_selection_on_random_sets() {
    let cfg = DecisionConfig::default();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..400 {
        let n = 2 + rnd(30) as u32;
        let groups = 1 + rnd(14) as u32;
        let v: Vec<Candidate> = (0..n)
            .map(|p| {
                let mut c = cand(p + 1);
                c.info.neighbor_as = match rnd(u64::from(groups) + 1) as u32 {
                    0 => NO_NEIGHBOR_AS,
                    g => 65000 + g,
                };
                c.info.local_pref = [None, Some(100), Some(200)][rnd(3) as usize];
                c.info.as_path_len = rnd(3) as u32;
                c.info.med = [None, Some(0), Some(5)][rnd(3) as usize];
                c.ebgp = rnd(2) == 0;
                c.igp_cost = 10 * rnd(2) as u32;
                c.router_id = 1 + rnd(4) as u32;
                c
            })
            .collect();
        let got = ranked(v.clone(), &cfg);
        let mut rest = v;
        let mut want = Vec::new();
        while !rest.is_empty() {
            let mut heads: Vec<Candidate> = Vec::new();
            for c in &rest {
                let same = |o: &Candidate| {
                    o.info.neighbor_as == c.info.neighbor_as && c.info.neighbor_as != NO_NEIGHBOR_AS
                };
                let head = rest
                    .iter()
                    .filter(|o| same(o) || o.peer == c.peer)
                    .min_by(|a, b| compare(a, b, &cfg, true))
                    .unwrap();
                if head.peer == c.peer {
                    heads.push(*c);
                }
            }
            let best = *heads
                .iter()
                .min_by(|a, b| compare(a, b, &cfg, false))
                .unwrap();
            want.push(best.peer.0);
            rest.retain(|c| c.peer != best.peer);
        }
        assert_eq!(got, want, "round {round}");
    }
}

/// `prefer_local` (BIRD's protocol preference for a static route): our own
/// path wins over a learned one with a higher LOCAL_PREF, a shorter AS_PATH
/// or a lower router ID, but not over nothing when its next hop does not
/// resolve; off, the RFC steps decide as for any path.
#[test]
fn prefer_local_puts_our_path_first_after_reachability() {
    let mut learned = cand(1);
    learned.info.local_pref = Some(500);
    learned.info.as_path_len = 0;
    learned.info.neighbor_as = NO_NEIGHBOR_AS;
    let mut own = cand(9);
    own.peer = PeerId::LOCAL;
    own.info.neighbor_as = NO_NEIGHBOR_AS;
    let off = DecisionConfig::default();
    let on = DecisionConfig {
        prefer_local: true,
        ..DecisionConfig::default()
    };
    let first = |v: Vec<Candidate>, cfg: &DecisionConfig| {
        let mut v = v;
        rank(&mut v, cfg);
        v[0].peer
    };
    assert_eq!(first(vec![own, learned], &off), PeerId(1));
    assert_eq!(explain(&learned, &own, &off, true), Some(Step::LocalPref));
    assert_eq!(first(vec![learned, own], &on), PeerId::LOCAL);
    assert_eq!(first(vec![own, learned], &on), PeerId::LOCAL);
    assert_eq!(explain(&own, &learned, &on, true), Some(Step::Local));
    assert_eq!(explain(&learned, &own, &on, true), None);
    assert_eq!(
        compare(&own, &learned, &on, false),
        std::cmp::Ordering::Less
    );
    assert_eq!(
        compare(&learned, &own, &on, false),
        std::cmp::Ordering::Greater
    );
    // Two learned paths: the knob changes nothing.
    let mut other = learned;
    other.peer = PeerId(2);
    other.router_id = 2;
    other.peer_addr = 2;
    assert_eq!(first(vec![other, learned], &on), PeerId(1));
    assert_eq!(explain(&learned, &other, &on, true), Some(Step::RouterId));
    // Reachability still comes first.
    let mut unreachable = own;
    unreachable.reachable = false;
    assert_eq!(first(vec![unreachable, learned], &on), PeerId(1));
    assert_eq!(
        explain(&learned, &unreachable, &on, true),
        Some(Step::NextHop)
    );
}
