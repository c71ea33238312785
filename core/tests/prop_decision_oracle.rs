//! The engine's best path against an oracle written from the RFC text.
//!
//! [`oracle`] is RFC 4271 §9.1.2 / §9.1.2.2 taken literally, as a sequence of
//! eliminations over the whole candidate set (not a pairwise comparison), with
//! RFC 4456 §9 (ORIGINATOR_ID as the BGP Identifier, then the shortest
//! CLUSTER_LIST) and the order and knobs `DESIGN.md` gives the decision
//! process. It reads nothing of `reflector_core::decision`.
//!
//! The property feeds random candidate sets as real encoded UPDATEs from
//! client, non-client and eBGP peers (in a random arrival order, some paths
//! replaced by a later UPDATE) to a real [`Engine`] and checks, for every
//! prefix, that `Engine::best` and what an observing client was last told both
//! name the oracle's route. Attribute domains are small so that every step
//! sees ties; AS_PATHs include empty paths, AS_SET-led paths and
//! confederation segments; next hops resolve at random costs or not at all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use reflector_core::decision::DecisionConfig;
use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig};
use reflector_core::error::ErrorKind;
use reflector_core::reflect::Role;
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{Origin, SegmentType};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue, Segment};
use reflector_core::wire::{Context, Ipv4Prefix, Nlri, Prefix, UpdatePacket, UpdateRepr};

/// Our AS, router ID (and so cluster ID), and the default degree of preference.
const LOCAL_AS: u32 = 63400;
const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
const DEFAULT_LOCAL_PREF: u32 = 100;

// ---------------------------------------------------------------------------
// The oracle.

/// One route as the RFC describes it: what was received, and from whom.
#[derive(Debug, Clone)]
struct Route {
    /// Index of the peer it came from (the answer the oracle gives).
    peer: usize,
    /// Learned over an external session.
    ebgp: bool,
    /// The peer's AS.
    peer_as: u32,
    /// The peer's address.
    peer_addr: Ipv4Addr,
    /// The peer's BGP Identifier (from its OPEN).
    peer_bgp_id: Ipv4Addr,
    attrs: Attrs,
}

/// The attributes of one received UPDATE (as sent, before any import rule).
#[derive(Debug, Clone)]
struct Attrs {
    origin: Origin,
    as_path: Vec<Segment>,
    next_hop: u8,
    med: Option<u32>,
    local_pref: Option<u32>,
    originator_id: Option<Ipv4Addr>,
    cluster_list: Option<Vec<Ipv4Addr>>,
}

/// The decision knobs `DESIGN.md` documents.
#[derive(Debug, Clone, Copy)]
struct Knobs {
    always_compare_med: bool,
    missing_med_worst: bool,
    ignore_igp_cost: bool,
}

/// The neighbouring AS of RFC 4271 §9.1.2.2 (c), for MED comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NeighborAs {
    /// An AS from which the route entered our AS.
    As(u32),
    /// "It is the local AS": an iBGP route its sender originated (empty AS_PATH).
    Local,
    /// Compared on MED with no other route (see [`neighbor_as`]).
    Alone,
}

/// RFC 4271 §9.1.2.2 (c): "neighborAS() returns the neighbor AS from which
/// the route was received. If the route is learned via IBGP, and the other
/// IBGP speaker didn't originate the route, it is the neighbor AS from which
/// the other IBGP speaker learned the route. If the route is learned via
/// IBGP, and the other IBGP speaker either (a) originated the route, or (b)
/// created the route by aggregation and the AS_PATH attribute of the aggregate
/// route is either empty or begins with an AS_SET, it is the local AS."
///
/// Confederation segments name member ASes inside our AS and are skipped.
/// A route whose AS_PATH holds only confederation segments was originated
/// inside the confederation: the local AS too.
fn neighbor_as(r: &Route) -> NeighborAs {
    if r.ebgp {
        return NeighborAs::As(r.peer_as);
    }
    let mut regular = r
        .attrs
        .as_path
        .iter()
        .filter(|s| matches!(s.kind, SegmentType::Sequence | SegmentType::Set));
    match regular.next() {
        Some(s) if s.kind == SegmentType::Sequence => match s.asns.first() {
            Some(a) => NeighborAs::As(*a),
            None => NeighborAs::Alone,
        },
        _ => NeighborAs::Local,
    }
}

/// RFC 4271 §9.1.2.2 (a): "an AS_SET counts as 1, no matter how many ASes
/// are in the set"; RFC 5065 §5.3: confederation segments count 0.
fn as_path_length(r: &Route) -> usize {
    r.attrs
        .as_path
        .iter()
        .map(|s| match s.kind {
            SegmentType::Sequence => s.asns.len(),
            SegmentType::Set => 1,
            SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
        })
        .sum()
}

/// RFC 4271 §9.1.1: the degree of preference. From an internal peer it is
/// LOCAL_PREF (DESIGN.md: 100 where absent); for an external route it is
/// computed by local policy (none here: the default), LOCAL_PREF received
/// from an external peer being ignored (§5.1.5; RFC 7606 §7.5 discards it).
fn degree_of_preference(r: &Route) -> u32 {
    if r.ebgp {
        DEFAULT_LOCAL_PREF
    } else {
        r.attrs.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)
    }
}

/// ORIGINATOR_ID as the route carries it into the decision: RFC 7606 §7.9
/// discards one received from an external peer.
fn originator_id(r: &Route) -> Option<Ipv4Addr> {
    r.attrs.originator_id.filter(|_| !r.ebgp)
}

/// CLUSTER_LIST likewise (RFC 7606 §7.10).
fn cluster_list(r: &Route) -> &[Ipv4Addr] {
    match &r.attrs.cluster_list {
        Some(c) if !r.ebgp => c,
        _ => &[],
    }
}

/// What of a route the decision and the Adj-RIB-In keep, after the import
/// rules above: two UPDATEs with the same key leave the same path.
fn kept(r: &Route) -> String {
    format!(
        "{:?} {:?} {} {:?} {:?} {:?} {:?}",
        r.attrs.origin,
        r.attrs.as_path,
        r.attrs.next_hop,
        r.attrs.med,
        r.attrs.local_pref.filter(|_| !r.ebgp),
        originator_id(r),
        r.attrs.cluster_list.as_ref().filter(|_| !r.ebgp),
    )
}

/// Why a received route is not a candidate at all, if it is not.
fn ineligible(r: &Route, igp: &Igp) -> Option<&'static str> {
    if r.attrs.cluster_list.as_ref().is_some_and(Vec::is_empty) {
        // RFC 7606 §7.10: a CLUSTER_LIST whose length is not a non-zero
        // multiple of 4 is malformed: treat-as-withdraw.
        return Some("malformed CLUSTER_LIST");
    }
    let confed = r
        .attrs
        .as_path
        .iter()
        .any(|s| matches!(s.kind, SegmentType::ConfedSequence | SegmentType::ConfedSet));
    if r.ebgp && confed {
        // RFC 5065 §5.3 / RFC 7606 §7.2: confederation segments from a peer
        // outside the confederation make the AS_PATH malformed: treat-as-withdraw.
        return Some("malformed AS_PATH");
    }
    // RFC 4271 §9.1.2: a route whose AS_PATH holds our AS is excluded. The
    // engine checks this for external routes only (see the generator).
    if r.ebgp && r.attrs.as_path.iter().any(|s| s.asns.contains(&LOCAL_AS)) {
        return Some("AS loop");
    }
    // RFC 4456 §8.
    if originator_id(r) == Some(ME) {
        return Some("ORIGINATOR_ID loop");
    }
    if cluster_list(r).contains(&ME) {
        return Some("CLUSTER_LIST loop");
    }
    // RFC 4271 §9.1.2: an unresolvable NEXT_HOP excludes the route.
    if igp.cost(r.attrs.next_hop).is_none() {
        return Some("unresolvable next hop");
    }
    None
}

/// Next-hop resolution: `None` means no resolver (every next hop reachable at cost 0).
#[derive(Debug, Clone)]
struct Igp(Option<[Option<u32>; NEXT_HOPS as usize]>);

impl Igp {
    fn cost(&self, nh: u8) -> Option<u32> {
        match &self.0 {
            None => Some(0),
            Some(t) => t[usize::from(nh)],
        }
    }
}

/// Keep the routes of `set` for which `key` is minimal.
fn keep_min<K: Ord>(set: &mut Vec<&Route>, key: impl Fn(&Route) -> K) {
    if let Some(min) = set.iter().map(|r| key(r)).min() {
        set.retain(|r| key(r) == min);
    }
}

/// The route RFC 4271 §9.1.2 and §9.1.2.2 (with RFC 4456 §9, in DESIGN.md's
/// order) install for one destination, as the index of its peer.
fn oracle(routes: &[Route], knobs: Knobs, igp: &Igp) -> Option<usize> {
    let mut set: Vec<&Route> = routes
        .iter()
        .filter(|r| ineligible(r, igp).is_none())
        .collect();
    // §9.1.2 Phase 2: the highest degree of preference.
    keep_min(&mut set, |r| std::cmp::Reverse(degree_of_preference(r)));
    // (a) the fewest AS numbers in AS_PATH.
    keep_min(&mut set, as_path_length);
    // (b) the lowest ORIGIN.
    keep_min(&mut set, |r| r.attrs.origin as u8);
    // (c) remove a route when another from the same neighbouring AS has a
    // lower MED; a missing MED is the lowest possible value (or, with
    // `missing_med_worst`, the highest).
    let med = |r: &Route| {
        r.attrs
            .med
            .unwrap_or(if knobs.missing_med_worst { u32::MAX } else { 0 })
    };
    let same_as = |x: &Route, y: &Route| {
        knobs.always_compare_med
            || match (neighbor_as(x), neighbor_as(y)) {
                (NeighborAs::Alone, _) | (_, NeighborAs::Alone) => false,
                (a, b) => a == b,
            }
    };
    let before = set.clone();
    set.retain(|m| !before.iter().any(|n| same_as(m, n) && med(n) < med(m)));
    // (d) if any route was learned from an external peer, remove the internal ones.
    if set.iter().any(|r| r.ebgp) {
        set.retain(|r| r.ebgp);
    }
    // (e) the lowest interior cost to the NEXT_HOP.
    if !knobs.ignore_igp_cost {
        keep_min(&mut set, |r| igp.cost(r.attrs.next_hop));
    }
    // (f) the lowest BGP Identifier; RFC 4456 §9: ORIGINATOR_ID in its place.
    keep_min(&mut set, |r| originator_id(r).unwrap_or(r.peer_bgp_id));
    // RFC 4456 §9, between (f) and (g): the shortest CLUSTER_LIST.
    keep_min(&mut set, |r| cluster_list(r).len());
    // (g) the lowest peer address.
    keep_min(&mut set, |r| r.peer_addr);
    assert!(
        set.len() <= 1,
        "one path per peer: the peer address decides"
    );
    set.first().map(|r| r.peer)
}

// ---------------------------------------------------------------------------
// Oracle self-checks: each step on its own, on routes from the RFC's own words.

fn route(peer: usize, ebgp: bool) -> Route {
    Route {
        peer,
        ebgp,
        peer_as: if ebgp { 65001 } else { LOCAL_AS },
        peer_addr: Ipv4Addr::new(10, 0, 0, peer as u8 + 1),
        peer_bgp_id: Ipv4Addr::new(10, 0, 1, peer as u8 + 1),
        attrs: Attrs {
            origin: Origin::Igp,
            as_path: vec![Segment {
                kind: SegmentType::Sequence,
                asns: vec![65001],
            }],
            next_hop: 1,
            med: None,
            local_pref: None,
            originator_id: None,
            cluster_list: None,
        },
    }
}

const KNOBS: Knobs = Knobs {
    always_compare_med: false,
    missing_med_worst: false,
    ignore_igp_cost: false,
};

#[test]
fn oracle_med_is_an_elimination_not_a_pairwise_order() {
    // A (AS 65001, MED 10, BGP id .1), B (AS 65001, MED 0, id .3), C (AS
    // 65002, id .2): (c) removes A (B has a lower MED from the same AS);
    // B and C remain and (f) picks C. A pairwise order would cycle.
    let mut a = route(0, false);
    a.attrs.med = Some(10);
    let mut b = route(1, false);
    b.attrs.med = Some(0);
    b.peer_bgp_id = Ipv4Addr::new(10, 0, 1, 3);
    let mut c = route(2, false);
    c.attrs.as_path[0].asns[0] = 65002;
    c.peer_bgp_id = Ipv4Addr::new(10, 0, 1, 2);
    for order in [
        [&a, &b, &c],
        [&c, &b, &a],
        [&b, &a, &c],
        [&a, &c, &b],
        [&b, &c, &a],
        [&c, &a, &b],
    ] {
        let v: Vec<Route> = order.into_iter().cloned().collect();
        assert_eq!(oracle(&v, KNOBS, &Igp(None)), Some(2));
    }
}

#[test]
fn oracle_neighbor_as_cases() {
    let mut r = route(0, false);
    r.attrs.as_path = vec![];
    assert_eq!(neighbor_as(&r), NeighborAs::Local);
    r.attrs.as_path = vec![
        Segment {
            kind: SegmentType::ConfedSequence,
            asns: vec![64512],
        },
        Segment {
            kind: SegmentType::Sequence,
            asns: vec![65002, 65001],
        },
    ];
    assert_eq!(neighbor_as(&r), NeighborAs::As(65002));
    r.attrs.as_path = vec![Segment {
        kind: SegmentType::Set,
        asns: vec![65002, 65001],
    }];
    assert_eq!(neighbor_as(&r), NeighborAs::Local);
    assert_eq!(as_path_length(&r), 1);
    // From eBGP, the peer's AS whatever the path says.
    let e = route(1, true);
    assert_eq!(neighbor_as(&e), NeighborAs::As(65001));
}

#[test]
fn oracle_external_local_pref_and_reflection_attributes_are_ignored() {
    let mut e = route(0, true);
    e.attrs.local_pref = Some(500);
    e.attrs.originator_id = Some(ME);
    e.attrs.cluster_list = Some(vec![ME]);
    let mut i = route(1, false);
    i.attrs.local_pref = Some(101);
    assert_eq!(oracle(&[e.clone(), i], KNOBS, &Igp(None)), Some(1));
    // Without the internal route, the external one is eligible (its RFC 4456
    // attributes were discarded, so no loop).
    assert_eq!(oracle(&[e], KNOBS, &Igp(None)), Some(0));
}

// ---------------------------------------------------------------------------
// The engine under test.

/// Next hops 10.9.0.1 .. 10.9.0.4 (index + 1).
const NEXT_HOPS: u8 = 4;
const PREFIXES: u8 = 4;

/// The senders: role and AS. Addresses and BGP Identifiers are drawn per case.
const SENDERS: [(Role, u32); 7] = [
    (Role::Client, LOCAL_AS),
    (Role::Client, LOCAL_AS),
    (Role::NonClient, LOCAL_AS),
    (Role::NonClient, LOCAL_AS),
    (Role::Ebgp, 65001),
    (Role::Ebgp, 65001),
    (Role::Ebgp, 65002),
];

fn prefix(i: u8) -> Prefix {
    Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(192, 0, i, 0), 24).unwrap())
}

/// A marker that says which peer sent a path (1:peer, no well-known meaning).
fn marker(peer: usize) -> u32 {
    0x0001_0000 | peer as u32
}

fn encode(prefix: Prefix, a: &Attrs, sender: usize) -> Vec<u8> {
    let (role, asn) = SENDERS[sender];
    let mut path = AsPath {
        segments: a.as_path.clone(),
    };
    if role == Role::Ebgp {
        // The sender prepends its own AS (RFC 4271 §5.1.2).
        path = prepend_sequence(path, asn);
    }
    let mut attributes = vec![
        AttributeRepr::new(AttributeValue::Origin(a.origin)),
        AttributeRepr::new(AttributeValue::AsPath(path)),
        AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(
            10,
            9,
            0,
            a.next_hop + 1,
        ))),
    ];
    if let Some(m) = a.med {
        attributes.push(AttributeRepr::new(AttributeValue::Med(m)));
    }
    if let Some(lp) = a.local_pref {
        attributes.push(AttributeRepr::new(AttributeValue::LocalPref(lp)));
    }
    attributes.push(AttributeRepr::new(AttributeValue::Communities(vec![
        marker(sender),
    ])));
    if let Some(o) = a.originator_id {
        attributes.push(AttributeRepr::new(AttributeValue::OriginatorId(o)));
    }
    if let Some(c) = &a.cluster_list {
        attributes.push(AttributeRepr::new(AttributeValue::ClusterList(
            c.iter().map(|x| x.to_bits()).collect(),
        )));
    }
    UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: vec![Nlri::new(prefix)],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// `path` with `asn` in front, in a new leading AS_SEQUENCE unless one leads.
fn prepend_sequence(mut path: AsPath, asn: u32) -> AsPath {
    match path.segments.first_mut() {
        Some(s) if s.kind == SegmentType::Sequence && s.asns.len() < 255 => s.asns.insert(0, asn),
        _ => path.segments.insert(
            0,
            Segment {
                kind: SegmentType::Sequence,
                asns: vec![asn],
            },
        ),
    }
    path
}

// ---------------------------------------------------------------------------
// Generators: small domains, so that every step sees ties.

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof![
        4 => Just(Origin::Igp),
        1 => Just(Origin::Egp),
        1 => Just(Origin::Incomplete)
    ]
}

fn asn() -> impl Strategy<Value = u32> {
    prop_oneof![Just(65001u32), Just(65002), Just(65003)]
}

fn segment(kind: SegmentType) -> impl Strategy<Value = Segment> {
    prop_oneof![3 => Just(1usize), 1 => Just(2)]
        .prop_flat_map(move |n| prop::collection::vec(asn(), n))
        .prop_map(move |asns| Segment { kind, asns })
}

/// An AS_PATH as an internal peer would send it: empty, a sequence, AS_SET-led
/// (an aggregate), with leading confederation segments, or combinations.
fn as_path() -> impl Strategy<Value = Vec<Segment>> {
    let confed = prop_oneof![
        segment(SegmentType::ConfedSequence),
        segment(SegmentType::ConfedSet)
    ];
    let regular = prop_oneof![
        3 => segment(SegmentType::Sequence),
        1 => segment(SegmentType::Set),
    ];
    (
        prop::option::weighted(0.2, confed),
        prop_oneof![1 => Just(0usize), 4 => Just(1), 1 => Just(2)]
            .prop_flat_map(move |n| prop::collection::vec(regular.clone(), n)),
    )
        .prop_map(|(c, r)| c.into_iter().chain(r).collect())
}

fn id_in(net: u8) -> impl Strategy<Value = Ipv4Addr> {
    (1u8..4).prop_map(move |n| Ipv4Addr::new(10, 0, net, n))
}

fn attrs() -> impl Strategy<Value = Attrs> {
    (
        origin(),
        as_path(),
        0..NEXT_HOPS,
        prop::option::of(0u32..3),
        prop::option::weighted(0.3, prop_oneof![Just(90u32), Just(100), Just(110)]),
        // ORIGINATOR_ID: BGP Identifiers shared with the peers', rarely ours.
        prop::option::of(prop_oneof![8 => id_in(1), 1 => Just(ME)]),
        prop::option::of(prop::collection::vec(
            prop_oneof![8 => id_in(2), 1 => Just(ME)],
            0..3,
        )),
    )
        .prop_map(
            |(origin, as_path, next_hop, med, local_pref, originator_id, cluster_list)| Attrs {
                origin,
                as_path,
                next_hop,
                med,
                local_pref,
                originator_id,
                cluster_list,
            },
        )
}

/// An external sender's attributes: no confederation segments mostly (some,
/// to see them refused), our AS sometimes (an AS loop), and the RFC 4456
/// and LOCAL_PREF attributes sometimes, to see them ignored.
fn ebgp_attrs() -> impl Strategy<Value = Attrs> {
    (
        attrs(),
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(mut a, strip_confed, add_loop)| {
            if strip_confed {
                a.as_path
                    .retain(|s| matches!(s.kind, SegmentType::Sequence | SegmentType::Set));
            }
            if add_loop {
                a.as_path.push(Segment {
                    kind: SegmentType::Sequence,
                    asns: vec![LOCAL_AS],
                });
            }
            a
        })
}

/// One (sender, prefix) route: its final attributes, and maybe an earlier
/// version the final one replaces (an implicit withdraw).
#[derive(Debug, Clone)]
struct Announce {
    sender: usize,
    prefix: u8,
    first: Option<Attrs>,
    last: Attrs,
}

fn announce(sender: usize, prefix: u8) -> BoxedStrategy<Announce> {
    let a = if SENDERS[sender].0 == Role::Ebgp {
        ebgp_attrs().boxed()
    } else {
        attrs().boxed()
    };
    (prop::option::weighted(0.2, a.clone()), a)
        .prop_map(move |(first, last)| Announce {
            sender,
            prefix,
            first,
            last,
        })
        .boxed()
}

#[derive(Debug, Clone)]
struct Case {
    routes: Vec<Announce>,
    /// Peer addresses' last octet and BGP Identifiers, per sender.
    addr: Vec<u8>,
    bgp_id: Vec<Ipv4Addr>,
    igp: Igp,
    knobs: Knobs,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let pairs: Vec<(usize, u8)> = (0..SENDERS.len())
        .flat_map(|s| (0..PREFIXES).map(move |p| (s, p)))
        .collect();
    (
        prop::sample::subsequence(pairs.clone(), 1..pairs.len()),
        Just((1..=SENDERS.len() as u8).collect::<Vec<u8>>()).prop_shuffle(),
        prop::collection::vec(id_in(1), SENDERS.len()),
        prop::option::weighted(
            0.6,
            prop::array::uniform4(prop::option::weighted(0.85, 0u32..3)),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        any::<u64>(),
    )
        .prop_flat_map(|(chosen, addr, bgp_id, igp, (acm, mmw, iic), seed)| {
            let routes: Vec<BoxedStrategy<Announce>> =
                chosen.into_iter().map(|(s, p)| announce(s, p)).collect();
            (
                routes,
                Just(addr),
                Just(bgp_id),
                Just(igp),
                Just((acm, mmw, iic)),
                Just(seed),
            )
        })
        .prop_map(|(routes, addr, bgp_id, igp, (acm, mmw, iic), seed)| Case {
            routes,
            addr,
            bgp_id,
            igp: Igp(igp),
            knobs: Knobs {
                always_compare_med: acm,
                missing_med_worst: mmw,
                ignore_igp_cost: iic,
            },
            seed,
        })
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

/// The engine, its senders and an observing client that never sends.
fn engine(c: &Case) -> (Engine, Vec<PeerId>, PeerId) {
    let mut cfg = EngineConfig::new(LOCAL_AS, ME);
    // RFC 8212 off: the oracle is about the decision process (policy.rs tests RFC 8212).
    cfg.ebgp_requires_policy = false;
    cfg.decision = DecisionConfig {
        always_compare_med: c.knobs.always_compare_med,
        missing_med_worst: c.knobs.missing_med_worst,
        ignore_igp_cost: c.knobs.ignore_igp_cost,
        prefer_oldest: false,
        default_local_pref: DEFAULT_LOCAL_PREF,
        // The RFC has no step for paths we originate (none here).
        prefer_local: false,
    };
    let mut e = Engine::new(cfg);
    if let Some(table) = c.igp.0 {
        e.set_resolver(Some(Box::new(move |nh: IpAddr| match nh {
            IpAddr::V4(v4) if v4.octets()[..3] == [10, 9, 0] => {
                let i = usize::from(v4.octets()[3]).checked_sub(1)?;
                table.get(i).copied().flatten()
            }
            _ => None,
        })));
    }
    let ids = SENDERS
        .iter()
        .enumerate()
        .map(|(i, &(role, asn))| {
            let mut pc = PeerConfig::new(role, IpAddr::V4(Ipv4Addr::new(10, 0, 0, c.addr[i])), asn);
            pc.local_v4 = Some(ME);
            let id = e.add_peer(pc);
            e.peer_up(id, Negotiated::unicast(c.bgp_id[i]));
            id
        })
        .collect();
    let obs = e.add_peer(PeerConfig::new(
        Role::Client,
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100)),
        LOCAL_AS,
    ));
    e.peer_up(obs, Negotiated::unicast(Ipv4Addr::new(10, 0, 0, 100)));
    (e, ids, obs)
}

/// What the observer was told, replayed: prefix -> the sender marker it carries.
fn replay(e: &mut Engine, obs: PeerId, told: &mut BTreeMap<Prefix, Option<u32>>) {
    let mut buf = vec![0u8; 4096];
    while let Some(n) = e.poll_transmit(obs, &mut buf) {
        let u = UpdateRepr::parse(&UpdatePacket::new_checked(&buf[..n], &Context::MODERN).unwrap());
        for w in &u.withdrawn {
            told.remove(&w.prefix);
        }
        let mark = match u.attribute(8) {
            Some(AttributeValue::Communities(c)) => c.first().copied(),
            _ => None,
        };
        for a in &u.nlri {
            told.insert(a.prefix, mark);
        }
    }
}

fn route_of(c: &Case, a: &Announce, attrs: &Attrs) -> Route {
    let (role, asn) = SENDERS[a.sender];
    let mut attrs = attrs.clone();
    if role == Role::Ebgp {
        attrs.as_path = prepend_sequence(
            AsPath {
                segments: attrs.as_path,
            },
            asn,
        )
        .segments;
    }
    Route {
        peer: a.sender,
        ebgp: role == Role::Ebgp,
        peer_as: asn,
        peer_addr: Ipv4Addr::new(10, 0, 0, c.addr[a.sender]),
        peer_bgp_id: c.bgp_id[a.sender],
        attrs,
    }
}

/// Run one case; returns a description of the first disagreement.
fn check(c: &Case) -> Result<(), String> {
    let (mut e, ids, obs) = engine(c);
    let mut msgs: Vec<(usize, &Attrs, u8, bool)> = Vec::new();
    for a in &c.routes {
        if let Some(f) = &a.first {
            msgs.push((a.sender, f, a.prefix, false));
        }
    }
    // Final versions after every first version of the same (sender, prefix):
    // the permutation below keeps each pair's own order.
    let firsts = msgs.len();
    for a in &c.routes {
        msgs.push((a.sender, &a.last, a.prefix, true));
    }
    let mut order = permutation(msgs.len(), c.seed);
    // Restore per-(sender, prefix) order: a first version goes before its final one.
    let pos: HashMap<usize, usize> = order.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    for (fi, f) in msgs[..firsts].iter().enumerate() {
        let li = firsts
            + c.routes
                .iter()
                .position(|a| a.sender == f.0 && a.prefix == f.2)
                .unwrap();
        if pos[&fi] > pos[&li] {
            order.swap(pos[&fi], pos[&li]);
        }
    }
    let mut told = BTreeMap::new();
    // Per (sender, prefix): what the Adj-RIB-In holds.
    let mut held: HashMap<(usize, u8), String> = HashMap::new();
    for (k, &i) in order.iter().enumerate() {
        let (sender, attrs, p, _) = msgs[i];
        let bytes = encode(prefix(p), attrs, sender);
        let out = e.handle_message(ids[sender], &bytes);
        let r = route_of(
            c,
            &Announce {
                sender,
                prefix: p,
                first: None,
                last: attrs.clone(),
            },
            attrs,
        );
        // The outcome of each UPDATE, from the RFC.
        match ineligible(&r, &Igp(None)) {
            Some("malformed AS_PATH") => match &out {
                Outcome::TreatAsWithdraw(err) if err.kind == ErrorKind::MalformedAsPath => {}
                o => return Err(format!("{r:?}: expected treat-as-withdraw, got {o:?}")),
            },
            Some("malformed CLUSTER_LIST") => match &out {
                Outcome::TreatAsWithdraw(err)
                    if (err.kind, err.code, err.subcode, err.attr_type)
                        == (ErrorKind::AttributeLength, 3, 5, Some(10)) => {}
                o => return Err(format!("{r:?}: expected treat-as-withdraw, got {o:?}")),
            },
            Some(_) => match out {
                Outcome::Accepted {
                    announced: 0,
                    rejected: 1,
                    ..
                } => {}
                o => return Err(format!("{r:?}: expected a loop rejection, got {o:?}")),
            },
            None => {
                // The same path again changes nothing and is not counted.
                let new = u32::from(held.get(&(sender, p)) != Some(&kept(&r)));
                match out {
                    Outcome::Accepted {
                        announced,
                        rejected: 0,
                        withdrawn: 0,
                    } if announced == new => {}
                    o => return Err(format!("{r:?}: expected acceptance ({new}), got {o:?}")),
                }
            }
        }
        match ineligible(&r, &Igp(None)) {
            None => held.insert((sender, p), kept(&r)),
            Some(_) => held.remove(&(sender, p)),
        };
        if k % 3 == 0 {
            replay(&mut e, obs, &mut told);
        }
    }
    replay(&mut e, obs, &mut told);
    for p in 0..PREFIXES {
        let routes: Vec<Route> = c
            .routes
            .iter()
            .filter(|a| a.prefix == p)
            .map(|a| route_of(c, a, &a.last))
            .collect();
        let want = oracle(&routes, c.knobs, &c.igp);
        let got = e
            .best(&prefix(p))
            .map(|v| ids.iter().position(|&id| id == v.peer).unwrap());
        if got != want {
            let why: Vec<_> = routes
                .iter()
                .map(|r| (r.peer, ineligible(r, &c.igp)))
                .collect();
            return Err(format!(
                "prefix {p}: engine {got:?}, oracle {want:?}\nroutes {routes:#?}\nineligible {why:?}\nknobs {:?} igp {:?}",
                c.knobs, c.igp
            ));
        }
        let heard = told.get(&prefix(p)).copied().flatten();
        if heard != want.map(marker) {
            return Err(format!(
                "prefix {p}: observer told {heard:?}, oracle {want:?}"
            ));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn engine_best_path_is_the_rfc4271_elimination(c in case()) {
        if let Err(e) = check(&c) {
            prop_assert!(false, "{}", e);
        }
    }
}
