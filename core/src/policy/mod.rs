//! Routing policy: ordered statements that match routes and accept, reject
//! or rewrite them, evaluated by the engine on import and on export.
//!
//! A [`Policy`] is a list of [`Statement`]s and a default [`Verdict`]. Each
//! statement has conditions (all must hold), actions (applied in order when
//! they hold) and a verdict: [`Verdict::Accept`] and [`Verdict::Reject`] end
//! the evaluation, [`Verdict::Next`] goes on to the next statement, which
//! sees the route as the actions left it. When no statement ends it, the
//! policy's default decides. Two policies compose by concatenation
//! ([`Policy::then`]): the second one's statements see what the first one's
//! actions made, and the second one's default applies.
//!
//! The engine evaluates a peer's import policy on every route it receives
//! (after the loop checks), and its export policy on every route it is
//! about to send, before the RFC 4456 / eBGP rewrite of the attributes. A
//! peer with no policy costs nothing.

mod edit;
mod text;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::attribute::{type_code, u32s, AsPathView, AttrIter, SegmentType};
use crate::wire::{AfiSafi, Prefix};

pub use text::{
    parse_asn_range, parse_community, parse_ext_community, parse_family, parse_large_community,
    ParseError,
};

/// What a statement (or a policy's default) decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The route is accepted as the actions left it; evaluation ends.
    Accept,
    /// The route is rejected; evaluation ends.
    Reject,
    /// Evaluation goes on with the next statement.
    Next,
}

/// A routing policy: statements in order and what happens when none decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name (for logs and counters).
    pub name: String,
    /// The statements, evaluated in order.
    pub statements: Vec<Statement>,
    /// The verdict when no statement accepted or rejected
    /// ([`Verdict::Next`] counts as [`Verdict::Accept`]).
    pub default: Verdict,
}

/// One statement: when every condition holds, apply the actions, then the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement's name (for logs).
    pub name: String,
    /// Conditions, all of which must hold (none: always holds).
    pub conditions: Vec<Condition>,
    /// Attribute changes, applied in order.
    pub actions: Vec<Modify>,
    /// What follows when the conditions held.
    pub verdict: Verdict,
}

/// A prefix and the lengths of the prefixes it covers (BIRD's `10.0.0.0/8{16,24}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixRange {
    /// The covering prefix.
    pub prefix: Prefix,
    /// Shortest length matched.
    pub min_len: u8,
    /// Longest length matched.
    pub max_len: u8,
}

/// A match on one part of a 16-bit or 32-bit field: a value or any.
pub type Field<T> = Option<T>;

/// A standard community to match (RFC 1997): `ASN:VALUE`, either part may be `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommunityMatch {
    /// The high 16 bits.
    pub asn: Field<u16>,
    /// The low 16 bits.
    pub value: Field<u16>,
}

/// A large community to match (RFC 8092): `GLOBAL:DATA1:DATA2`, any part may be `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LargeCommunityMatch {
    /// Global administrator.
    pub global: Field<u32>,
    /// First local data part.
    pub data1: Field<u32>,
    /// Second local data part.
    pub data2: Field<u32>,
}

/// A large community (RFC 8092).
pub type LargeCommunity = [u32; 3];

/// The kind of an extended community (RFC 4360 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    /// Route Target (sub-type 0x02), in any of the AS or IPv4 encodings.
    RouteTarget,
    /// Route Origin / Site of Origin (sub-type 0x03), in any of the AS or IPv4 encodings.
    RouteOrigin,
    /// Any other community, by its type and sub-type octets.
    Raw {
        /// Type octet.
        kind: u8,
        /// Sub-type octet.
        subtype: u8,
    },
}

/// An extended community to match: `rt:65000:100`, `soo:192.0.2.1:*`, `rt:*:*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtCommunityMatch {
    /// Which community.
    pub kind: ExtKind,
    /// The global administrator (AS number or IPv4 address as a number).
    pub global: Field<u32>,
    /// The local administrator.
    pub local: Field<u32>,
}

/// One element of an AS path pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathToken {
    /// This AS.
    Asn(u32),
    /// Any AS in `lo..=hi`.
    Range(u32, u32),
    /// Exactly one AS, whatever it is.
    Any,
    /// Any number of ASes, none included.
    Many,
}

/// An AS path pattern matched against the whole path, as BIRD's `[= * 65001 ? =]`:
/// written `* 65001 ?`; an AS_SET counts as one position matched by any member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsPathPattern(pub Vec<PathToken>);

/// A next-hop rule for [`Modify::SetNextHop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// This address.
    Address(IpAddr),
    /// Our own address on the session (the peer's configured local address).
    Local,
}

/// A change to a list of communities.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommunityEdit<V, M> {
    /// Add these (once each) at the end.
    Add(Vec<V>),
    /// Remove every community matching one of these.
    Remove(Vec<M>),
    /// Replace the list by these (an empty list removes the attribute).
    Replace(Vec<V>),
}

/// A condition on a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The route's IP prefix ([`Route::prefix`]) is in one of the ranges (a
    /// route without one never is).
    Prefix(Vec<PrefixRange>),
    /// The route came from one of these neighbours (on export: the peer it was learned from).
    Neighbor(Vec<IpAddr>),
    /// The route is of one of these families.
    Family(Vec<AfiSafi>),
    /// The origin AS (last AS of the path's final AS_SEQUENCE) is in one of the ranges.
    OriginAs(Vec<(u32, u32)>),
    /// The AS path holds one of these ASes.
    AsPathContains(Vec<u32>),
    /// The AS path length (an AS_SET counts 1, confederation segments 0) is in `min..=max`.
    AsPathLength {
        /// Shortest length matched.
        min: u32,
        /// Longest length matched.
        max: u32,
    },
    /// The AS path matches the pattern.
    AsPath(AsPathPattern),
    /// One of the route's communities matches one of these.
    Community(Vec<CommunityMatch>),
    /// One of the route's extended communities matches one of these.
    ExtCommunity(Vec<ExtCommunityMatch>),
    /// One of the route's large communities matches one of these.
    LargeCommunity(Vec<LargeCommunityMatch>),
    /// The next hop is in one of the ranges.
    NextHop(Vec<PrefixRange>),
    /// LOCAL_PREF is present and in one of the ranges (`lo..=hi`).
    LocalPref(Vec<(u32, u32)>),
    /// The inner condition does not hold.
    Not(Box<Condition>),
}

/// A change to a route's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Modify {
    /// Set LOCAL_PREF.
    SetLocalPref(u32),
    /// Set MULTI_EXIT_DISC.
    SetMed(u32),
    /// Remove MULTI_EXIT_DISC.
    RemoveMed,
    /// Set the next hop.
    SetNextHop(NextHop),
    /// Prepend an AS (`None`: our own AS) `count` times.
    Prepend {
        /// The AS to prepend.
        asn: Option<u32>,
        /// How many times.
        count: u8,
    },
    /// Change the standard communities.
    Communities(CommunityEdit<u32, CommunityMatch>),
    /// Change the extended communities.
    ExtCommunities(CommunityEdit<[u8; 8], ExtCommunityMatch>),
    /// Change the large communities.
    LargeCommunities(CommunityEdit<LargeCommunity, LargeCommunityMatch>),
}

/// A route as a policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    /// The route's family.
    pub family: AfiSafi,
    /// The IP prefix the route is for: a unicast route's prefix; for
    /// multicast, labeled and VPN routes the prefix in their NLRI, for an EVPN
    /// IP Prefix route (RFC 9136) its prefix; `None` for flow rules, RT
    /// membership and the other EVPN routes.
    pub prefix: Option<Prefix>,
    /// The route's NLRI without path identifier, for families other than
    /// IPv4 and IPv6 unicast (empty for those).
    pub nlri: &'a [u8],
    /// The neighbour it came from (`None`: originated here).
    pub neighbor: Option<IpAddr>,
    /// The canonical attribute block (4-octet AS_PATH, attributes by type code).
    pub block: &'a [u8],
    /// The MP_REACH_NLRI next hop, when the route has one.
    pub mp_next_hop: Option<&'a [u8]>,
}

impl<'a> Route<'a> {
    /// An IPv4 or IPv6 unicast route (its family from the prefix).
    pub fn unicast(
        prefix: Prefix,
        neighbor: Option<IpAddr>,
        block: &'a [u8],
        mp_next_hop: Option<&'a [u8]>,
    ) -> Self {
        Route {
            family: AfiSafi::new(prefix.afi(), crate::wire::Safi::UNICAST),
            prefix: Some(prefix),
            nlri: &[],
            neighbor,
            block,
            mp_next_hop,
        }
    }

    /// A route of any known family from one NLRI (without path identifier):
    /// its prefix, where it has one, read from the NLRI.
    pub fn keyed(
        family: AfiSafi,
        nlri: &'a [u8],
        neighbor: Option<IpAddr>,
        block: &'a [u8],
        mp_next_hop: Option<&'a [u8]>,
    ) -> Self {
        Route {
            family,
            prefix: crate::wire::family::nlri_prefix(family, nlri),
            nlri,
            neighbor,
            block,
            mp_next_hop,
        }
    }
}

/// What a policy needs to know of the session it is applied on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Session {
    /// Our AS (for [`Modify::Prepend`] without an AS).
    pub local_as: u32,
    /// Our IPv4 address on the session (for [`NextHop::Local`]).
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on the session (for [`NextHop::Local`]).
    pub local_v6: Option<Ipv6Addr>,
}

/// A rewritten attribute set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// The canonical attribute block.
    pub block: Vec<u8>,
    /// The MP_REACH_NLRI next hop.
    pub mp_next_hop: Option<Vec<u8>>,
}

/// Which way a route passes a policy or hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer.
    Import,
    /// About to be sent to the peer.
    Export,
}

/// A callback a speaker already has, run after the peer's policy on every
/// route the policy accepted: it may accept the route as the policy left it
/// ([`Decision::Accept`]), reject it, or give new attributes
/// ([`Decision::Modified`]). It is called with the direction, the peer the
/// hook is set on, and the route (as the policy left it).
pub type Hook =
    alloc::sync::Arc<dyn Fn(Direction, crate::rib::PeerId, &Route<'_>) -> Decision + Send + Sync>;

/// The result of evaluating a policy on a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Rejected.
    Reject,
    /// Accepted unchanged.
    Accept,
    /// Accepted with these attributes.
    Modified(Attributes),
}

/// The statements whose conditions held, as a bit per statement (the first
/// 63); the top bit is set when a later one held, and the trace then names
/// no one outcome.
///
/// On one route, the same trace always means the same decision, so callers
/// can keep one result per trace (the engine does, per UPDATE and per export pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Trace(pub u64);

impl Trace {
    /// Whether the trace names the outcome (every statement that held is among the first 63).
    pub const fn is_exact(self) -> bool {
        self.0 & (1 << 63) == 0
    }

    fn add(&mut self, i: usize) {
        self.0 |= if i < 63 { 1 << i } else { 1 << 63 };
    }
}

impl Policy {
    /// An empty policy with this default.
    pub fn new(name: impl Into<String>, default: Verdict) -> Self {
        Policy {
            name: name.into(),
            statements: Vec::new(),
            default,
        }
    }

    /// A policy that accepts everything unchanged.
    pub fn accept_all() -> Self {
        Policy::new("accept-all", Verdict::Accept)
    }

    /// A policy that rejects everything.
    pub fn reject_all() -> Self {
        Policy::new("reject-all", Verdict::Reject)
    }

    /// This policy followed by `next`: `next`'s statements see what this
    /// policy's actions made of the route, and `next`'s default applies.
    pub fn then(mut self, next: &Policy) -> Policy {
        self.statements.extend(next.statements.iter().cloned());
        self.default = next.default;
        if !next.name.is_empty() {
            self.name.push('+');
            self.name.push_str(&next.name);
        }
        self
    }

    /// Add a statement.
    pub fn push(&mut self, s: Statement) -> &mut Self {
        self.statements.push(s);
        self
    }

    /// Whether any statement reads the prefix (results then differ per prefix of one UPDATE).
    pub fn reads_prefix(&self) -> bool {
        self.statements
            .iter()
            .any(|s| s.conditions.iter().any(Condition::reads_prefix))
    }

    /// Which of the policy's conditions on the family and prefix hold for a
    /// route of `family` for `prefix`, a bit each in statement order (`None`
    /// past 64 such conditions).
    ///
    /// For one attribute set, neighbour and session, routes with the same
    /// signature get the same decision: callers keep one decision per
    /// signature instead of evaluating every prefix.
    pub fn prefix_signature(&self, family: AfiSafi, prefix: Option<&Prefix>) -> Option<u64> {
        signature(
            self.statements
                .iter()
                .flat_map(|s| s.conditions.iter().filter(|c| c.reads_prefix())),
            family,
            prefix,
        )
    }

    /// The conditions [`Policy::prefix_signature`] reads, in its order (kept by
    /// callers that compute many signatures: see [`signature`]).
    pub fn prefix_conditions(&self) -> Vec<Condition> {
        self.statements
            .iter()
            .flat_map(|s| s.conditions.iter().filter(|c| c.reads_prefix()))
            .cloned()
            .collect()
    }

    /// Evaluate the policy on `route` (on a session described by `session`).
    pub fn evaluate(&self, route: &Route<'_>, session: &Session) -> (Decision, Trace) {
        let mut trace = Trace::default();
        let mut work: Option<Attributes> = None;
        // The route's attributes as received, found once (on first need).
        let mut original: Option<Parsed<'_>> = None;
        for (i, s) in self.statements.iter().enumerate() {
            if !s.conditions.is_empty() {
                let holds = match &work {
                    None => {
                        let a = original.get_or_insert_with(|| Parsed::of(route.block));
                        s.conditions.iter().all(|c| c.holds_in(route, a))
                    }
                    Some(w) => {
                        let r = Route {
                            block: &w.block,
                            mp_next_hop: w.mp_next_hop.as_deref(),
                            ..*route
                        };
                        let a = Parsed::of(&w.block);
                        s.conditions.iter().all(|c| c.holds_in(&r, &a))
                    }
                };
                if !holds {
                    continue;
                }
            }
            trace.add(i);
            if !s.actions.is_empty() {
                let mut a = work.take().unwrap_or_else(|| Attributes {
                    block: route.block.to_vec(),
                    mp_next_hop: route.mp_next_hop.map(<[u8]>::to_vec),
                });
                for m in &s.actions {
                    edit::apply(m, &mut a, route.family, session);
                }
                work = Some(a);
            }
            match s.verdict {
                Verdict::Accept => return (finish(route, work), trace),
                Verdict::Reject => return (Decision::Reject, trace),
                Verdict::Next => {}
            }
        }
        match self.default {
            Verdict::Reject => (Decision::Reject, trace),
            _ => (finish(route, work), trace),
        }
    }
}

/// The decision for an accepted route: modified only if the attributes changed.
fn finish(route: &Route<'_>, work: Option<Attributes>) -> Decision {
    match work {
        Some(a) if a.block != route.block || a.mp_next_hop.as_deref() != route.mp_next_hop => {
            Decision::Modified(a)
        }
        _ => Decision::Accept,
    }
}

impl Statement {
    /// A statement with no conditions, no actions and this verdict.
    pub fn new(name: impl Into<String>, verdict: Verdict) -> Self {
        Statement {
            name: name.into(),
            conditions: Vec::new(),
            actions: Vec::new(),
            verdict,
        }
    }

    /// Add a condition.
    pub fn when(mut self, c: Condition) -> Self {
        self.conditions.push(c);
        self
    }

    /// Add an action.
    pub fn then(mut self, m: Modify) -> Self {
        self.actions.push(m);
        self
    }
}

impl PrefixRange {
    /// Exactly this prefix.
    pub fn exact(prefix: Prefix) -> Self {
        PrefixRange {
            prefix,
            min_len: prefix.len(),
            max_len: prefix.len(),
        }
    }

    /// This prefix and every more specific one (BIRD's `10.0.0.0/8+`).
    pub fn or_longer(prefix: Prefix) -> Self {
        PrefixRange {
            prefix,
            min_len: prefix.len(),
            max_len: if matches!(prefix, Prefix::V4(_)) {
                32
            } else {
                128
            },
        }
    }

    /// Whether `p` is covered by the prefix with a length in range.
    pub fn matches(&self, p: &Prefix) -> bool {
        let len = p.len();
        if len < self.min_len || len > self.max_len || len < self.prefix.len() {
            return false;
        }
        match (self.prefix, p) {
            (Prefix::V4(r), Prefix::V4(p)) => covers(
                u128::from(r.addr().to_bits()) << 96,
                u128::from(p.addr().to_bits()) << 96,
                r.len(),
            ),
            (Prefix::V6(r), Prefix::V6(p)) => {
                covers(r.addr().to_bits(), p.addr().to_bits(), r.len())
            }
            _ => false,
        }
    }

    /// Whether the address `a` is covered by the prefix (lengths not read).
    pub fn contains_addr(&self, a: IpAddr) -> bool {
        match (self.prefix, a) {
            (Prefix::V4(r), IpAddr::V4(a)) => covers(
                u128::from(r.addr().to_bits()) << 96,
                u128::from(a.to_bits()) << 96,
                r.len(),
            ),
            (Prefix::V6(r), IpAddr::V6(a)) => covers(r.addr().to_bits(), a.to_bits(), r.len()),
            _ => false,
        }
    }
}

/// The signature of a route of `family` for `prefix` over `conditions`
/// (those that read only the family and prefix, in statement order): a bit
/// per condition that holds; `None` past 64.
pub fn signature<'c>(
    conditions: impl Iterator<Item = &'c Condition>,
    family: AfiSafi,
    prefix: Option<&Prefix>,
) -> Option<u64> {
    let probe = Route {
        family,
        prefix: prefix.copied(),
        nlri: &[],
        neighbor: None,
        block: &[],
        mp_next_hop: None,
    };
    let mut sig = 0u64;
    for (n, c) in conditions.enumerate() {
        if n >= 64 {
            return None;
        }
        if c.holds(&probe) {
            sig |= 1 << n;
        }
    }
    Some(sig)
}

/// Whether the first `len` bits of `a` and `b` (left-aligned) are equal.
fn covers(a: u128, b: u128, len: u8) -> bool {
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(len.min(128)));
    a & mask == b & mask
}

impl CommunityMatch {
    /// Whether `c` matches.
    pub fn matches(&self, c: u32) -> bool {
        self.asn.is_none_or(|a| a == (c >> 16) as u16) && self.value.is_none_or(|v| v == c as u16)
    }
}

impl LargeCommunityMatch {
    /// Whether `c` matches.
    pub fn matches(&self, c: &LargeCommunity) -> bool {
        let [g, a, b] = *c;
        self.global.is_none_or(|x| x == g)
            && self.data1.is_none_or(|x| x == a)
            && self.data2.is_none_or(|x| x == b)
    }
}

/// The (type, sub-type, global, local) of an extended community in the AS and IPv4 encodings.
fn ext_fields(c: &[u8; 8]) -> (u8, u8, Option<(u32, u32)>) {
    let [t, st, a, b, c2, d, e, f] = *c;
    let parts = match t & 0x3f {
        0x00 => Some((
            u32::from(u16::from_be_bytes([a, b])),
            u32::from_be_bytes([c2, d, e, f]),
        )),
        0x01 | 0x02 => Some((
            u32::from_be_bytes([a, b, c2, d]),
            u32::from(u16::from_be_bytes([e, f])),
        )),
        _ => None,
    };
    (t, st, parts)
}

impl ExtCommunityMatch {
    /// Whether `c` matches.
    pub fn matches(&self, c: &[u8; 8]) -> bool {
        let (t, st, parts) = ext_fields(c);
        let kind_ok = match self.kind {
            ExtKind::RouteTarget => st == 0x02 && parts.is_some(),
            ExtKind::RouteOrigin => st == 0x03 && parts.is_some(),
            ExtKind::Raw { kind, subtype } => t == kind && st == subtype,
        };
        if !kind_ok {
            return false;
        }
        if self.global.is_none() && self.local.is_none() {
            return true;
        }
        let Some((g, l)) = parts else {
            return false;
        };
        self.global.is_none_or(|x| x == g) && self.local.is_none_or(|x| x == l)
    }
}

impl AsPathPattern {
    /// Whether the whole AS path (4-octet encoding) matches.
    pub fn matches(&self, path: &AsPathView<'_>) -> bool {
        // Each position: the ASes that stand there (one, or an AS_SET's members).
        let mut flat: Vec<u32> = Vec::new();
        let mut positions: Vec<(usize, usize)> = Vec::new();
        for s in path.segments() {
            match s.kind {
                SegmentType::Sequence => {
                    for a in s.asns() {
                        positions.push((flat.len(), flat.len() + 1));
                        flat.push(a);
                    }
                }
                SegmentType::Set => {
                    let start = flat.len();
                    flat.extend(s.asns());
                    positions.push((start, flat.len()));
                }
                _ => {}
            }
        }
        glob(&self.0, &flat, &positions)
    }
}

/// Whether `tokens` match `positions` as a whole (iterative glob with one backtrack point).
fn glob(tokens: &[PathToken], flat: &[u32], positions: &[(usize, usize)]) -> bool {
    let one = |t: &PathToken, &(a, b): &(usize, usize)| -> bool {
        let mut asns = flat.get(a..b).unwrap_or(&[]).iter().copied();
        match *t {
            PathToken::Any => true,
            PathToken::Asn(a) => asns.any(|x| x == a),
            PathToken::Range(lo, hi) => asns.any(|x| (lo..=hi).contains(&x)),
            PathToken::Many => false,
        }
    };
    let (mut t, mut p) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    while p < positions.len() {
        match tokens.get(t) {
            Some(PathToken::Many) => {
                back = Some((t, p));
                t += 1;
            }
            Some(tok) if positions.get(p).is_some_and(|pos| one(tok, pos)) => {
                t += 1;
                p += 1;
            }
            _ => match back {
                Some((bt, bp)) => {
                    t = bt + 1;
                    p = bp + 1;
                    back = Some((bt, bp + 1));
                }
                None => return false,
            },
        }
    }
    tokens
        .get(t..)
        .is_some_and(|rest| rest.iter().all(|x| *x == PathToken::Many))
}

impl Condition {
    /// Whether the condition reads the prefix or its family (and nothing else).
    pub fn reads_prefix(&self) -> bool {
        match self {
            Condition::Prefix(_) | Condition::Family(_) => true,
            Condition::Not(c) => c.reads_prefix(),
            _ => false,
        }
    }

    /// Whether the condition holds for `r`.
    pub fn holds(&self, r: &Route<'_>) -> bool {
        self.holds_in(r, &Parsed::of(r.block))
    }

    /// [`Condition::holds`] with the route's attributes found already.
    fn holds_in(&self, r: &Route<'_>, a: &Parsed<'_>) -> bool {
        match self {
            Condition::Prefix(set) => r.prefix.is_some_and(|p| set.iter().any(|x| x.matches(&p))),
            Condition::Neighbor(list) => r.neighbor.is_some_and(|n| list.contains(&n)),
            Condition::Family(list) => list.contains(&r.family),
            Condition::OriginAs(ranges) => origin_of(a.as_path())
                .is_some_and(|o| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&o))),
            Condition::AsPathContains(list) => a
                .as_path()
                .is_some_and(|p| p.asns().any(|x| list.contains(&x))),
            Condition::AsPathLength { min, max } => {
                let len = a.as_path().map_or(0, |p| {
                    p.segments()
                        .map(|s| s.kind.hop_count(s.asns().count()) as u32)
                        .sum::<u32>()
                });
                (*min..=*max).contains(&len)
            }
            Condition::AsPath(pat) => match a.as_path() {
                Some(p) => pat.matches(&p),
                None => pat.0.iter().all(|t| *t == PathToken::Many),
            },
            Condition::Community(list) => a
                .communities
                .is_some_and(|v| u32s(v).any(|c| list.iter().any(|m| m.matches(c)))),
            Condition::ExtCommunity(list) => a.ext_communities.is_some_and(|v| {
                v.chunks_exact(8).any(|c| {
                    let c: [u8; 8] = c.try_into().unwrap_or([0; 8]);
                    list.iter().any(|m| m.matches(&c))
                })
            }),
            Condition::LargeCommunity(list) => a.large_communities.is_some_and(|v| {
                v.chunks_exact(12).any(|c| {
                    let mut it = u32s(c);
                    let lc = [
                        it.next().unwrap_or(0),
                        it.next().unwrap_or(0),
                        it.next().unwrap_or(0),
                    ];
                    list.iter().any(|m| m.matches(&lc))
                })
            }),
            Condition::NextHop(set) => next_hop_of(a.next_hop, r.mp_next_hop)
                .is_some_and(|nh| set.iter().any(|x| x.contains_addr(nh))),
            Condition::LocalPref(ranges) => a
                .local_pref
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(u32::from_be_bytes)
                .is_some_and(|lp| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&lp))),
            Condition::Not(c) => !c.holds_in(r, a),
        }
    }
}

/// The attributes conditions read, found in one pass over a canonical block.
#[derive(Default)]
struct Parsed<'a> {
    as_path: Option<&'a [u8]>,
    next_hop: Option<&'a [u8]>,
    communities: Option<&'a [u8]>,
    ext_communities: Option<&'a [u8]>,
    large_communities: Option<&'a [u8]>,
    local_pref: Option<&'a [u8]>,
}

impl<'a> Parsed<'a> {
    fn of(block: &'a [u8]) -> Self {
        let mut p = Parsed::default();
        for a in AttrIter::unchecked(block, 0) {
            let slot = match a.type_code {
                type_code::AS_PATH => &mut p.as_path,
                type_code::NEXT_HOP => &mut p.next_hop,
                type_code::COMMUNITIES => &mut p.communities,
                type_code::EXTENDED_COMMUNITIES => &mut p.ext_communities,
                type_code::LARGE_COMMUNITY => &mut p.large_communities,
                type_code::LOCAL_PREF => &mut p.local_pref,
                _ => continue,
            };
            slot.get_or_insert(a.value);
        }
        p
    }

    fn as_path(&self) -> Option<AsPathView<'a>> {
        AsPathView::new_checked(self.as_path?, true)
    }
}

/// The next hop: NEXT_HOP, else the first address of the MP next hop.
fn next_hop_of(next_hop: Option<&[u8]>, mp: Option<&[u8]>) -> Option<IpAddr> {
    if let Some(v) = next_hop {
        let b: [u8; 4] = v.try_into().ok()?;
        return Some(IpAddr::V4(Ipv4Addr::from(b)));
    }
    crate::reflect::next_hop_addr(mp?)
}

/// The last AS of the path when its last segment is an AS_SEQUENCE.
fn origin_of(p: Option<AsPathView<'_>>) -> Option<u32> {
    let last = p?
        .segments()
        .filter(|s| matches!(s.kind, SegmentType::Sequence | SegmentType::Set))
        .last()?;
    match last.kind {
        SegmentType::Sequence => last.asns().last(),
        _ => None,
    }
}
