//! The BGP decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) as a ranking of
//! candidate paths.
//!
//! [`compare`] is one comparison over the ordered steps; with MED compared
//! (`with_med`) only between paths from the same neighbouring AS, a pairwise
//! comparison cannot be transitive (the well-known MED oscillation case), so
//! [`rank`] orders a whole candidate set the deterministic way: paths are
//! grouped by neighbouring AS, each group is ordered with MED, and the group
//! heads are merged without it. The result is a strict total order that does
//! not depend on arrival order (the prefer-oldest knob aside).

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::net::IpAddr;

use crate::rib::{PathInfo, PeerId, NO_NEIGHBOR_AS};

/// Knobs of the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionConfig {
    /// Compare MED between paths from different neighbouring ASes too.
    pub always_compare_med: bool,
    /// A missing MED counts as the worst value instead of 0.
    pub missing_med_worst: bool,
    /// Among otherwise equal eBGP paths, keep the oldest (RFC 5004); makes the result order-dependent.
    pub prefer_oldest: bool,
    /// Skip the IGP cost step.
    pub ignore_igp_cost: bool,
    /// LOCAL_PREF assumed where absent.
    pub default_local_pref: u32,
    /// A path we originate wins over every learned one whose next hop
    /// resolves, before LOCAL_PREF ([`Step::Local`]): BIRD's protocol
    /// preference (a static route beats a BGP one), most daemons' weight for
    /// local routes. Off by default: RFC 4271 §9.1.1 leaves the preference of
    /// local routes to the implementation.
    pub prefer_local: bool,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            always_compare_med: false,
            missing_med_worst: false,
            prefer_oldest: false,
            ignore_igp_cost: false,
            default_local_pref: 100,
            prefer_local: false,
        }
    }
}

/// Everything the decision process reads about one candidate path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Decoded attribute fields.
    pub info: PathInfo,
    /// Learned from an eBGP peer.
    pub ebgp: bool,
    /// The next hop resolves.
    pub reachable: bool,
    /// IGP cost to the next hop.
    pub igp_cost: u32,
    /// BGP identifier of the peer it came from (ours for local routes).
    pub router_id: u32,
    /// Address of the peer it came from, as a sortable integer (IPv4 mapped into IPv6).
    pub peer_addr: u128,
    /// The peer it came from.
    pub peer: PeerId,
    /// The peer's ADD-PATH identifier.
    pub remote_id: u32,
    /// Our identifier, increasing with arrival.
    pub local_id: u32,
}

/// An address as a sortable integer.
pub fn addr_key(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// Compare two candidates: `Less` means `a` is preferred.
///
/// Steps, in order: next hop reachable; (a path we originate, with
/// `prefer_local`); highest LOCAL_PREF; shortest AS_PATH;
/// lowest ORIGIN; lowest MED (when `with_med`); eBGP over iBGP; lowest IGP
/// cost; (prefer-oldest); lowest router ID, with ORIGINATOR_ID in its place
/// when present; shortest CLUSTER_LIST; lowest peer address; then peer and
/// path identifiers so that the order is total.
pub fn compare(a: &Candidate, b: &Candidate, cfg: &DecisionConfig, with_med: bool) -> Ordering {
    let lp = |c: &Candidate| c.info.local_pref.unwrap_or(cfg.default_local_pref);
    let med = |c: &Candidate| {
        c.info
            .med
            .unwrap_or(if cfg.missing_med_worst { u32::MAX } else { 0 })
    };
    let rid = |c: &Candidate| c.info.originator_id.unwrap_or(c.router_id);
    b.reachable
        .cmp(&a.reachable)
        .then_with(|| Step::Local.order(a, b, cfg, with_med))
        .then_with(|| lp(b).cmp(&lp(a)))
        .then_with(|| a.info.as_path_len.cmp(&b.info.as_path_len))
        .then_with(|| a.info.origin.cmp(&b.info.origin))
        .then_with(|| {
            if with_med {
                med(a).cmp(&med(b))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| b.ebgp.cmp(&a.ebgp))
        .then_with(|| {
            if cfg.ignore_igp_cost {
                Ordering::Equal
            } else {
                a.igp_cost.cmp(&b.igp_cost)
            }
        })
        .then_with(|| {
            if cfg.prefer_oldest && a.ebgp && b.ebgp {
                a.local_id.cmp(&b.local_id)
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| rid(a).cmp(&rid(b)))
        .then_with(|| a.info.cluster_list_len.cmp(&b.info.cluster_list_len))
        .then_with(|| a.peer_addr.cmp(&b.peer_addr))
        .then_with(|| a.peer.cmp(&b.peer))
        .then_with(|| a.remote_id.cmp(&b.remote_id))
}

/// A step of the decision process (RFC 4271 §9.1.2.2, RFC 4456 §9), in the
/// order [`compare`] applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The next hop resolves (RFC 4271 §9.1.2.1).
    NextHop,
    /// A path we originate (only with [`DecisionConfig::prefer_local`]).
    Local,
    /// Highest LOCAL_PREF (RFC 4271 §9.1.1).
    LocalPref,
    /// Shortest AS_PATH (RFC 4271 §9.1.2.2 a).
    AsPathLength,
    /// Lowest ORIGIN (§9.1.2.2 b).
    Origin,
    /// Lowest MULTI_EXIT_DISC among paths from the same neighbouring AS (§9.1.2.2 c).
    Med,
    /// eBGP over iBGP (§9.1.2.2 d).
    Ebgp,
    /// Lowest IGP cost to the next hop (§9.1.2.2 e).
    IgpCost,
    /// The oldest eBGP path (RFC 5004, only with `prefer_oldest`).
    Oldest,
    /// Lowest router ID, ORIGINATOR_ID in its place when present (§9.1.2.2 f, RFC 4456 §9).
    RouterId,
    /// Shortest CLUSTER_LIST (RFC 4456 §9).
    ClusterListLength,
    /// Lowest peer address (§9.1.2.2 g).
    PeerAddress,
    /// Peer and path identifiers: the last tie-break, so that the order is total.
    PathId,
}

impl Step {
    /// Every step, in decision order.
    pub const ALL: [Step; 13] = [
        Step::NextHop,
        Step::Local,
        Step::LocalPref,
        Step::AsPathLength,
        Step::Origin,
        Step::Med,
        Step::Ebgp,
        Step::IgpCost,
        Step::Oldest,
        Step::RouterId,
        Step::ClusterListLength,
        Step::PeerAddress,
        Step::PathId,
    ];

    /// A short stable name (`local-pref`, `as-path-length`, ...), as the daemon prints it.
    pub const fn name(self) -> &'static str {
        match self {
            Step::NextHop => "next-hop-unreachable",
            Step::Local => "local-origin",
            Step::LocalPref => "local-pref",
            Step::AsPathLength => "as-path-length",
            Step::Origin => "origin",
            Step::Med => "med",
            Step::Ebgp => "ebgp-over-ibgp",
            Step::IgpCost => "igp-cost",
            Step::Oldest => "oldest",
            Step::RouterId => "router-id",
            Step::ClusterListLength => "cluster-list-length",
            Step::PeerAddress => "peer-address",
            Step::PathId => "path-id",
        }
    }

    /// How `a` and `b` compare at this step alone (`Less`: `a` is preferred).
    fn order(self, a: &Candidate, b: &Candidate, cfg: &DecisionConfig, with_med: bool) -> Ordering {
        let lp = |c: &Candidate| c.info.local_pref.unwrap_or(cfg.default_local_pref);
        let med = |c: &Candidate| {
            c.info
                .med
                .unwrap_or(if cfg.missing_med_worst { u32::MAX } else { 0 })
        };
        let rid = |c: &Candidate| c.info.originator_id.unwrap_or(c.router_id);
        match self {
            Step::NextHop => b.reachable.cmp(&a.reachable),
            Step::Local if cfg.prefer_local => {
                (b.peer == PeerId::LOCAL).cmp(&(a.peer == PeerId::LOCAL))
            }
            Step::Local => Ordering::Equal,
            Step::LocalPref => lp(b).cmp(&lp(a)),
            Step::AsPathLength => a.info.as_path_len.cmp(&b.info.as_path_len),
            Step::Origin => a.info.origin.cmp(&b.info.origin),
            Step::Med if with_med => med(a).cmp(&med(b)),
            Step::Med => Ordering::Equal,
            Step::Ebgp => b.ebgp.cmp(&a.ebgp),
            Step::IgpCost if cfg.ignore_igp_cost => Ordering::Equal,
            Step::IgpCost => a.igp_cost.cmp(&b.igp_cost),
            Step::Oldest if cfg.prefer_oldest && a.ebgp && b.ebgp => a.local_id.cmp(&b.local_id),
            Step::Oldest => Ordering::Equal,
            Step::RouterId => rid(a).cmp(&rid(b)),
            Step::ClusterListLength => a.info.cluster_list_len.cmp(&b.info.cluster_list_len),
            Step::PeerAddress => a.peer_addr.cmp(&b.peer_addr),
            Step::PathId => a
                .peer
                .cmp(&b.peer)
                .then_with(|| a.remote_id.cmp(&b.remote_id)),
        }
    }
}

/// The first step at which `a` is preferred to `b`, the way [`compare`]
/// decides; `None` when `b` is preferred (or the two tie at every step).
///
/// For a best path `a` and a candidate `b` ranked below it, this names why
/// `b` lost. `with_med` as for [`compare`]: MED counts only between paths
/// from the same neighbouring AS unless `always_compare_med`.
pub fn explain(a: &Candidate, b: &Candidate, cfg: &DecisionConfig, with_med: bool) -> Option<Step> {
    for s in Step::ALL {
        match s.order(a, b, cfg, with_med) {
            Ordering::Less => return Some(s),
            Ordering::Greater => return None,
            Ordering::Equal => {}
        }
    }
    None
}

/// Order `cands` best first, in place.
///
/// MED is compared between paths with the same [`PathInfo::neighbor_as`]
/// (unless `always_compare_med`); paths with [`NO_NEIGHBOR_AS`] are
/// compared with none on MED.
pub fn rank(cands: &mut [Candidate], cfg: &DecisionConfig) {
    if cands.len() < 2 {
        return;
    }
    if cfg.always_compare_med {
        cands.sort_unstable_by(|a, b| compare(a, b, cfg, true));
        return;
    }
    // Group by neighbouring AS, MED-ordered inside each group.
    cands.sort_unstable_by(|a, b| {
        a.info
            .neighbor_as
            .cmp(&b.info.neighbor_as)
            .then_with(|| compare(a, b, cfg, true))
    });
    let n = cands.len();
    // Merge the groups: repeatedly take the best group head (compared
    // without MED; on a tie the earlier group), through a heap of groups so
    // that many groups cost n log k, not n per step.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        let start = i;
        let asn = cands.get(i).map_or(0, |c| c.info.neighbor_as);
        i += 1;
        // A path without a neighbouring AS is a group of its own.
        while i < n
            && asn != NO_NEIGHBOR_AS
            && cands.get(i).is_some_and(|c| c.info.neighbor_as == asn)
        {
            i += 1;
        }
        groups.push((start, i));
    }
    if groups.len() == 1 {
        return;
    }
    // Whether group `a`'s head goes before group `b`'s.
    let before = |a: usize, b: usize, groups: &[(usize, usize)]| -> bool {
        let head = |g: usize| groups.get(g).and_then(|&(p, _)| cands.get(p));
        match head(a).zip(head(b)).map(|(x, y)| compare(x, y, cfg, false)) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => a < b,
            _ => false,
        }
    };
    let mut heap: Vec<usize> = Vec::with_capacity(groups.len());
    for g in 0..groups.len() {
        heap.push(g);
        let last = heap.len() - 1;
        sift_up(&mut heap, last, |a, b| before(a, b, &groups));
    }
    let mut out: Vec<Candidate> = Vec::with_capacity(n);
    while let Some(&g) = heap.first() {
        let Some((pos, end)) = groups.get_mut(g) else {
            break;
        };
        if let Some(c) = cands.get(*pos) {
            out.push(*c);
        }
        *pos += 1;
        if *pos >= *end {
            let last = heap.len() - 1;
            heap.swap(0, last);
            heap.pop();
        }
        sift_down(&mut heap, 0, |a, b| before(a, b, &groups));
    }
    if out.len() == n {
        cands.copy_from_slice(&out);
    }
}

/// Restore heap order upwards from `i` (`before(a, b)`: `a` comes out first).
fn sift_up(heap: &mut [usize], mut i: usize, before: impl Fn(usize, usize) -> bool) {
    while i > 0 {
        let parent = (i - 1) / 2;
        match (heap.get(i), heap.get(parent)) {
            (Some(&c), Some(&p)) if before(c, p) => {
                heap.swap(i, parent);
                i = parent;
            }
            _ => break,
        }
    }
}

/// Restore heap order downwards from `i`.
fn sift_down(heap: &mut [usize], mut i: usize, before: impl Fn(usize, usize) -> bool) {
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut top = i;
        for c in [l, r] {
            if let (Some(&x), Some(&t)) = (heap.get(c), heap.get(top)) {
                if before(x, t) {
                    top = c;
                }
            }
        }
        if top == i {
            break;
        }
        heap.swap(i, top);
        i = top;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::attribute::Origin;

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

    fn best(mut v: std::vec::Vec<Candidate>) -> PeerId {
        rank(&mut v, &DecisionConfig::default());
        v[0].peer
    }

    /// Candidates that differ from `cand(1)` at exactly one step, with that step.
    fn one_step_worse() -> std::vec::Vec<(Step, Candidate)> {
        let mut v = std::vec::Vec::new();
        let mut c = cand(1);
        c.reachable = false;
        v.push((Step::NextHop, c));
        let mut c = cand(1);
        c.info.local_pref = Some(50);
        v.push((Step::LocalPref, c));
        let mut c = cand(1);
        c.info.as_path_len = 5;
        v.push((Step::AsPathLength, c));
        let mut c = cand(1);
        c.info.origin = Origin::Egp;
        v.push((Step::Origin, c));
        let mut c = cand(1);
        c.info.med = Some(10);
        v.push((Step::Med, c));
        let mut c = cand(1);
        c.igp_cost = 7;
        v.push((Step::IgpCost, c));
        let mut c = cand(1);
        c.router_id = 9;
        v.push((Step::RouterId, c));
        let mut c = cand(1);
        c.info.cluster_list_len = 2;
        v.push((Step::ClusterListLength, c));
        let mut c = cand(1);
        c.peer_addr = 9;
        v.push((Step::PeerAddress, c));
        let mut c = cand(1);
        c.peer = PeerId(9);
        v.push((Step::PathId, c));
        v
    }

    #[test]
    fn explain_names_the_step_at_which_the_best_wins() {
        let cfg = DecisionConfig::default();
        let best = cand(1);
        for (step, worse) in one_step_worse() {
            assert_eq!(explain(&best, &worse, &cfg, true), Some(step), "{step:?}");
            assert_eq!(explain(&worse, &best, &cfg, true), None, "{step:?}");
            let mut v = std::vec![worse, best];
            rank(&mut v, &cfg);
            assert_eq!(v[0], best, "{step:?}: rank agrees");
        }
        // eBGP over iBGP.
        let mut e = cand(2);
        e.ebgp = true;
        assert_eq!(explain(&e, &cand(1), &cfg, true), Some(Step::Ebgp));
        // MED is not a step between different neighbouring ASes: the next step decides.
        let mut m = cand(1);
        m.info.med = Some(10);
        m.router_id = 2;
        assert_eq!(explain(&best, &m, &cfg, false), Some(Step::RouterId));
        // An identical candidate: no step.
        assert_eq!(explain(&best, &best, &cfg, true), None);
    }

    #[test]
    fn explain_follows_the_decision_order() {
        // When a candidate is worse at several steps, the earliest one is named.
        let cfg = DecisionConfig::default();
        let worse = one_step_worse();
        for (i, (s1, c1)) in worse.iter().enumerate() {
            for (s2, c2) in worse.iter().skip(i + 1) {
                let mut both = *c1;
                match s2 {
                    Step::LocalPref => both.info.local_pref = c2.info.local_pref,
                    Step::AsPathLength => both.info.as_path_len = c2.info.as_path_len,
                    Step::Origin => both.info.origin = c2.info.origin,
                    Step::Med => both.info.med = c2.info.med,
                    Step::IgpCost => both.igp_cost = c2.igp_cost,
                    Step::RouterId => both.router_id = c2.router_id,
                    Step::ClusterListLength => {
                        both.info.cluster_list_len = c2.info.cluster_list_len
                    }
                    Step::PeerAddress => both.peer_addr = c2.peer_addr,
                    Step::PathId => both.peer = c2.peer,
                    _ => continue,
                }
                assert_eq!(
                    explain(&cand(1), &both, &cfg, true),
                    Some(*s1),
                    "{s1:?} then {s2:?}"
                );
                assert!(s1 < s2);
            }
        }
    }

    #[test]
    fn explain_agrees_with_compare() {
        // Whatever the pair: explain is Some exactly when compare prefers a.
        let cfgs = [
            DecisionConfig::default(),
            DecisionConfig {
                prefer_oldest: true,
                missing_med_worst: true,
                ..DecisionConfig::default()
            },
            DecisionConfig {
                ignore_igp_cost: true,
                ..DecisionConfig::default()
            },
        ];
        let mut x: u32 = 12345;
        let mut next = |m: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % m
        };
        for _ in 0..5000 {
            let mut pair = [cand(1), cand(2)];
            for c in pair.iter_mut() {
                c.reachable = next(5) != 0;
                c.info.local_pref = [None, Some(100), Some(200)][next(3) as usize];
                c.info.as_path_len = next(3);
                c.info.origin = [Origin::Igp, Origin::Egp][next(2) as usize];
                c.info.med = [None, Some(0), Some(5)][next(3) as usize];
                c.ebgp = next(2) == 0;
                c.igp_cost = next(2);
                c.router_id = next(3);
                c.info.originator_id = [None, Some(1)][next(2) as usize];
                c.info.cluster_list_len = next(2);
                c.peer_addr = u128::from(next(2));
                c.peer = PeerId(next(2));
                c.remote_id = next(2);
                c.local_id = next(3);
            }
            let [a, b] = pair;
            for cfg in &cfgs {
                for with_med in [false, true] {
                    let ord = compare(&a, &b, cfg, with_med);
                    let step = explain(&a, &b, cfg, with_med);
                    assert_eq!(step.is_some(), ord == Ordering::Less, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn rfc4271_9_1_2_2_unreachable_next_hop_loses() {
        let mut a = cand(1);
        a.reachable = false;
        a.info.local_pref = Some(500);
        assert_eq!(best(std::vec![a, cand(2)]), PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_1_highest_local_pref() {
        let mut b = cand(2);
        b.info.local_pref = Some(200);
        assert_eq!(best(std::vec![cand(1), b]), PeerId(2));
        // Missing LOCAL_PREF counts as the default 100.
        let mut c = cand(3);
        c.info.local_pref = Some(99);
        assert_eq!(best(std::vec![c, cand(4)]), PeerId(4));
    }

    #[test]
    fn rfc4271_9_1_2_2_a_shortest_as_path() {
        let mut a = cand(1);
        a.info.as_path_len = 3;
        assert_eq!(best(std::vec![a, cand(2)]), PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_2_2_b_lowest_origin() {
        let mut a = cand(1);
        a.info.origin = Origin::Incomplete;
        let mut b = cand(2);
        b.info.origin = Origin::Egp;
        assert_eq!(best(std::vec![a, b]), PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_2_2_c_med_only_within_neighbour_as() {
        let mut a = cand(1);
        a.info.med = Some(50);
        let mut b = cand(2);
        b.info.med = Some(10);
        assert_eq!(best(std::vec![a, b]), PeerId(2));
        // From different neighbouring ASes MED is skipped; router ID decides.
        b.info.neighbor_as = 65002;
        assert_eq!(best(std::vec![a, b]), PeerId(1));
        let mut v = std::vec![a, b];
        rank(
            &mut v,
            &DecisionConfig {
                always_compare_med: true,
                ..Default::default()
            },
        );
        assert_eq!(v[0].peer, PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_2_2_c_missing_med_zero_or_worst() {
        let mut a = cand(1);
        a.info.med = Some(5);
        let b = cand(2);
        assert_eq!(best(std::vec![a, b]), PeerId(2));
        let mut v = std::vec![a, b];
        rank(
            &mut v,
            &DecisionConfig {
                missing_med_worst: true,
                ..Default::default()
            },
        );
        assert_eq!(v[0].peer, PeerId(1));
    }

    #[test]
    fn rfc4271_9_1_2_2_d_ebgp_over_ibgp() {
        let mut b = cand(2);
        b.ebgp = true;
        assert_eq!(best(std::vec![cand(1), b]), PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_2_2_e_lowest_igp_cost() {
        let mut a = cand(1);
        a.igp_cost = 20;
        let mut b = cand(2);
        b.igp_cost = 10;
        assert_eq!(best(std::vec![a, b]), PeerId(2));
        let mut v = std::vec![a, b];
        rank(
            &mut v,
            &DecisionConfig {
                ignore_igp_cost: true,
                ..Default::default()
            },
        );
        assert_eq!(v[0].peer, PeerId(1));
    }

    #[test]
    fn rfc4456_9_originator_id_replaces_router_id() {
        let mut a = cand(1);
        a.info.originator_id = Some(50);
        let b = cand(2);
        assert_eq!(best(std::vec![a, b]), PeerId(2));
    }

    #[test]
    fn rfc4456_9_shortest_cluster_list() {
        let mut a = cand(1);
        a.info.originator_id = Some(9);
        a.info.cluster_list_len = 2;
        let mut b = cand(2);
        b.info.originator_id = Some(9);
        b.info.cluster_list_len = 1;
        assert_eq!(best(std::vec![a, b]), PeerId(2));
    }

    #[test]
    fn rfc4271_9_1_2_2_g_lowest_peer_address() {
        let mut a = cand(1);
        a.router_id = 7;
        a.peer_addr = 20;
        let mut b = cand(2);
        b.router_id = 7;
        b.peer_addr = 10;
        assert_eq!(best(std::vec![a, b]), PeerId(2));
    }

    #[test]
    fn rfc5004_prefer_oldest_ebgp() {
        let mut a = cand(2);
        a.ebgp = true;
        a.local_id = 1;
        let mut b = cand(1);
        b.ebgp = true;
        b.local_id = 2;
        assert_eq!(best(std::vec![a, b]), PeerId(1));
        let mut v = std::vec![a, b];
        rank(
            &mut v,
            &DecisionConfig {
                prefer_oldest: true,
                ..Default::default()
            },
        );
        assert_eq!(v[0].peer, PeerId(2));
    }

    #[test]
    fn med_cycle_is_broken_deterministically() {
        // A and B share a neighbour AS (B wins on MED), C is from another AS
        // and beats B on IGP cost, A beats C on IGP cost: pairwise, a cycle.
        let mut a = cand(1);
        a.info.med = Some(10);
        a.igp_cost = 5;
        let mut b = cand(2);
        b.info.med = Some(0);
        b.igp_cost = 10;
        let mut c = cand(3);
        c.info.neighbor_as = 65002;
        c.igp_cost = 7;
        let orders = [
            [a, b, c],
            [a, c, b],
            [b, a, c],
            [b, c, a],
            [c, a, b],
            [c, b, a],
        ];
        let firsts: std::vec::Vec<_> = orders
            .iter()
            .map(|o| {
                let mut v = o.to_vec();
                rank(&mut v, &DecisionConfig::default());
                v.iter().map(|c| c.peer).collect::<std::vec::Vec<_>>()
            })
            .collect();
        assert!(firsts.windows(2).all(|w| w[0] == w[1]), "{firsts:?}");
        // B is the best of AS 65001, and C beats B on IGP cost.
        assert_eq!(firsts[0][0], PeerId(3));
    }
}
