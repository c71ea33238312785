//! Who gets what (RFC 4456 §6, §8), attribute rewriting on import and export,
//! and UPDATE packing.
//!
//! Import turns a received attribute block into its canonical form (sorted by
//! type code, 4-octet AS numbers, flags normalised, MP attributes removed) so
//! identical sets intern once. Export rewrites a canonical set for one class
//! of receivers — reflected to iBGP (ORIGINATOR_ID, CLUSTER_LIST), passed to
//! iBGP, or sent to eBGP (our AS prepended, next hop self, iBGP-only
//! attributes stripped) — and the result is cached per (set, class), so
//! reflecting a prefix costs a lookup and a copy of its NLRI bytes.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::wire::attribute::{
    self, community, flags, type_code, AsPathView, RawAttribute, AS_TRANS,
};
use crate::wire::capability::BgpRole;
use crate::wire::update_repr::{AsPath, Segment};
use crate::wire::{AfiSafi, Header, MessageType, Nlri, Writer, HEADER_LEN};

/// A peer's place in the reflection topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An iBGP peer that is our route-reflector client.
    Client,
    /// An iBGP peer that is not our client (another reflector, or a full-mesh peer).
    NonClient,
    /// An external peer.
    Ebgp,
}

impl Role {
    /// Whether the peer is internal.
    pub const fn is_ibgp(self) -> bool {
        !matches!(self, Role::Ebgp)
    }

    /// A lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::NonClient => "non-client",
            Role::Ebgp => "ebgp",
        }
    }
}

/// Where a path came from, as far as export rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Originated by this engine.
    Local,
    /// Learned from a peer with this role.
    Peer(Role),
}

/// Whether a path from `src` may go to a peer with role `dst` (RFC 4456 §6):
/// from a client to other clients (when client-to-client reflection is on)
/// and to non-clients; from a non-client to clients only; from eBGP or local
/// origination to everyone; eBGP receivers get everything. The caller
/// excludes the sender itself.
pub const fn may_export(src: Source, dst: Role, client_to_client: bool) -> bool {
    match (src, dst) {
        (_, Role::Ebgp) => true,
        (Source::Local, _) | (Source::Peer(Role::Ebgp), _) => true,
        (Source::Peer(Role::Client), Role::Client) => client_to_client,
        (Source::Peer(Role::Client), Role::NonClient) => true,
        (Source::Peer(Role::NonClient), Role::Client) => true,
        (Source::Peer(Role::NonClient), Role::NonClient) => false,
    }
}

/// The rewriting a set gets on its way to one class of receivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportClass {
    /// Reflected between iBGP peers: ORIGINATOR_ID set (if absent) to `originator`,
    /// our cluster ID prepended to CLUSTER_LIST, LOCAL_PREF added if absent
    /// (RFC 4271 §5.1.5: every UPDATE to an iBGP peer carries one).
    Reflect {
        /// ORIGINATOR_ID to add when the set has none: the router ID of the peer it came from.
        originator: u32,
        /// The receiver speaks 4-octet AS.
        four_octet: bool,
    },
    /// From eBGP or local origination to iBGP: LOCAL_PREF added if absent.
    Internal {
        /// The receiver speaks 4-octet AS.
        four_octet: bool,
    },
    /// To eBGP: our AS prepended, next hop self, ORIGINATOR_ID, CLUSTER_LIST
    /// and LOCAL_PREF stripped, MED stripped unless we originated the route.
    External {
        /// Our IPv4 address on the session, for NEXT_HOP.
        next_hop_v4: Option<Ipv4Addr>,
        /// Our IPv6 address on the session, for the MP next hop.
        next_hop_v6: Option<Ipv6Addr>,
        /// Keep MED (locally originated routes).
        keep_med: bool,
        /// The receiver speaks 4-octet AS.
        four_octet: bool,
        /// The receiver is a Customer, Peer or RS-Client (RFC 9234): a route
        /// without OTC gets OTC = our AS ([`adds_otc`]).
        add_otc: bool,
        /// The AS we use on this session when it is not [`LocalIdentity::asn`]
        /// (a per-session local AS): prepended, and the OTC value.
        local_as: Option<u32>,
    },
}

/// RFC 9234 §5 egress: whether routes to an eBGP neighbour with BGP Role `to`
/// get OTC = our AS when they have none (to a Customer, Peer or RS-Client).
pub const fn adds_otc(to: Option<BgpRole>) -> bool {
    matches!(
        to,
        Some(BgpRole::CUSTOMER | BgpRole::PEER | BgpRole::RS_CLIENT)
    )
}

/// The engine-wide values export rewriting needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalIdentity {
    /// Our AS.
    pub asn: u32,
    /// Our cluster ID.
    pub cluster_id: u32,
    /// LOCAL_PREF added to routes passed into iBGP without one.
    pub default_local_pref: u32,
}

/// A rewritten attribute set, ready to be copied into UPDATEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutBlock {
    /// Attribute TLVs (no MP_REACH_NLRI; NEXT_HOP included for classic IPv4).
    pub attrs: Box<[u8]>,
    /// The MP_REACH_NLRI next hop, for routes sent through MP_REACH_NLRI.
    pub mp_next_hop: Option<Box<[u8]>>,
}

/// Rewritten blocks by (attribute set, export class), kept for one batch of
/// work: every prefix and every peer of a class in the batch shares one block.
pub type OutCache = hashbrown::HashMap<(crate::rib::AttrId, ExportClass, PolicyTag), Arc<OutBlock>>;

/// Which export-policy outcome a rewritten block carries: the policy's
/// installation number and the statements that held (`(0, 0)`: no policy).
pub type PolicyTag = (u32, u64);

/// What the receiving side of a session is like, for import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportContext {
    /// The sender's role.
    pub role: Role,
    /// The session negotiated 4-octet AS.
    pub four_octet: bool,
    /// The eBGP sender's BGP Role (RFC 9234), when roles are in use: from a
    /// Provider, Peer or RS a route without OTC gets OTC = `peer_as`.
    pub bgp_role: Option<BgpRole>,
    /// The sender's AS.
    pub peer_as: u32,
}

/// Why an imported path is not a candidate (RFC 4456 §8, RFC 4271 §9.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoopReason {
    /// Our cluster ID is in CLUSTER_LIST.
    ClusterList,
    /// ORIGINATOR_ID is our router ID.
    OriginatorId,
    /// Our AS is in the AS_PATH of a route from eBGP.
    AsPath,
    /// A route leak by the OTC attribute (RFC 9234 §5): OTC from a Customer
    /// or RS-Client, or from a Peer with a value other than its AS.
    RouteLeak,
}

impl LoopReason {
    /// A short name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LoopReason::ClusterList => "cluster-list",
            LoopReason::OriginatorId => "originator-id",
            LoopReason::AsPath => "as-path",
            LoopReason::RouteLeak => "route-leak",
        }
    }
}

/// Build the canonical block of `attrs` (the attributes in effect of one UPDATE) into `out`.
///
/// MP_REACH_NLRI and MP_UNREACH_NLRI are left out, and NEXT_HOP unless
/// `with_next_hop`. From eBGP, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are
/// dropped. On a 2-octet session AS_PATH is rebuilt with AS4_PATH (RFC 6793
/// §4.2.3) and AGGREGATOR with AS4_AGGREGATOR; AS4_* attributes never stay.
/// Unknown optional transitive attributes get the Partial bit; unknown
/// optional non-transitive ones are dropped.
///
/// A path whose COMMUNITIES hold GRACEFUL_SHUTDOWN gets LOCAL_PREF 0 (RFC
/// 8326 §4), whoever sent it, as BIRD and FRR do with the usual import
/// policy: the rewrite is made here, on import, rather than in the decision,
/// so the canonical set says what the decision uses and every copy reflected
/// to iBGP carries LOCAL_PREF 0 too.
pub fn canonicalize<'a>(
    attrs: impl Iterator<Item = RawAttribute<'a>>,
    ictx: &ImportContext,
    with_next_hop: bool,
    out: &mut Vec<u8>,
) {
    out.clear();
    let mut list: SmallVec<[RawAttribute<'a>; 16]> = SmallVec::new();
    let mut as4_path: Option<&[u8]> = None;
    let mut as4_aggr: Option<&[u8]> = None;
    let mut gshut = false;
    for a in attrs {
        match a.type_code {
            type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI => continue,
            type_code::NEXT_HOP if !with_next_hop => continue,
            type_code::LOCAL_PREF | type_code::ORIGINATOR_ID | type_code::CLUSTER_LIST
                if ictx.role == Role::Ebgp =>
            {
                continue
            }
            type_code::AS4_PATH => {
                as4_path = Some(a.value);
                continue;
            }
            type_code::AS4_AGGREGATOR => {
                as4_aggr = Some(a.value);
                continue;
            }
            type_code::COMMUNITIES => {
                gshut = attribute::u32s(a.value).any(|c| c == community::GRACEFUL_SHUTDOWN);
                list.push(a);
            }
            t if attribute::expected_flags(t).is_none() && !a.is_transitive() => continue,
            _ => list.push(a),
        }
    }
    if gshut && !list.iter().any(|a| a.type_code == type_code::LOCAL_PREF) {
        list.push(RawAttribute {
            flags: flags::TRANSITIVE,
            type_code: type_code::LOCAL_PREF,
            value: &[0; 4],
            offset: 0,
        });
    }
    // Stable sort by type code: canonical order.
    list.sort_by_key(|a| a.type_code);
    // RFC 9234 §5 ingress: from a Provider, Peer or RS, OTC = the peer's AS when absent.
    let mut add_otc = matches!(
        ictx.bgp_role,
        Some(BgpRole::PROVIDER | BgpRole::PEER | BgpRole::RS)
    ) && !list.iter().any(|a| a.type_code == type_code::OTC);
    let mut path_buf: Vec<u8> = Vec::new();
    for a in &list {
        let t = a.type_code;
        if add_otc && t > type_code::OTC {
            push_otc(out, ictx.peer_as);
            add_otc = false;
        }
        let fl = match attribute::expected_flags(t) {
            Some(std) if std == flags::OPTIONAL | flags::TRANSITIVE => {
                std | (a.flags & flags::PARTIAL)
            }
            Some(std) => std,
            None => a.flags & (flags::OPTIONAL | flags::TRANSITIVE) | flags::PARTIAL,
        };
        let value: &[u8] = match t {
            type_code::LOCAL_PREF if gshut => &[0; 4],
            type_code::AS_PATH if !ictx.four_octet => {
                let two = AsPathView::new_checked(a.value, false)
                    .map(|v| AsPath::from_view(&v))
                    .unwrap_or_default();
                let full = match as4_path.and_then(|b| AsPathView::new_checked(b, true)) {
                    Some(v4) => two.merge_as4(&AsPath::from_view(&v4)),
                    None => two,
                };
                path_buf.clear();
                path_buf.resize(full.value_len(true), 0);
                let mut w = Writer::new(&mut path_buf);
                if full.emit_value(&mut w, true).is_err() {
                    path_buf.clear();
                }
                &path_buf
            }
            type_code::AGGREGATOR if !ictx.four_octet && a.value.len() == 6 => {
                let asn = u32::from(u16::from_be_bytes([
                    a.value.first().copied().unwrap_or(0),
                    a.value.get(1).copied().unwrap_or(0),
                ]));
                let asn = match (asn, as4_aggr) {
                    (AS_TRANS, Some(v)) if v.len() == 8 => attribute::u32s(v).next().unwrap_or(asn),
                    _ => asn,
                };
                path_buf.clear();
                path_buf.extend_from_slice(&asn.to_be_bytes());
                path_buf.extend_from_slice(a.value.get(2..6).unwrap_or(&[0; 4]));
                &path_buf
            }
            _ => a.value,
        };
        push_attr(out, fl, t, value);
    }
    if add_otc {
        push_otc(out, ictx.peer_as);
    }
}

/// Append an OTC attribute (RFC 9234 §5: optional transitive, 4 octets).
fn push_otc(out: &mut Vec<u8>, asn: u32) {
    push_attr(
        out,
        flags::OPTIONAL | flags::TRANSITIVE,
        type_code::OTC,
        &asn.to_be_bytes(),
    );
}

/// The OTC attribute's value in a canonical block, if present.
pub fn otc(block: &[u8]) -> Option<u32> {
    attribute::AttrIter::unchecked(block, 0)
        .find(|a| a.type_code == type_code::OTC)
        .and_then(|a| attribute::u32s(a.value).next())
}

/// RFC 9234 §5 ingress: whether a canonical block received from an eBGP
/// neighbour with BGP Role `from` (and AS `peer_as`) is a route leak: OTC
/// present from a Customer or RS-Client, or from a Peer with a value other
/// than its AS.
pub fn otc_leak(block: &[u8], from: Option<BgpRole>, peer_as: u32) -> bool {
    match from {
        Some(BgpRole::CUSTOMER | BgpRole::RS_CLIENT) => otc(block).is_some(),
        Some(BgpRole::PEER) => otc(block).is_some_and(|v| v != peer_as),
        _ => false,
    }
}

/// RFC 9234 §5 egress: whether a route with canonical block `block` may go
/// to an eBGP neighbour with BGP Role `to`: not when it carries OTC and the
/// neighbour is a Provider, Peer or RS.
pub fn otc_allows(block: &[u8], to: Option<BgpRole>) -> bool {
    !withholds_otc(to) || otc(block).is_none()
}

/// RFC 9234 §5 egress: whether routes with OTC are kept from an eBGP
/// neighbour with BGP Role `to` (a Provider, Peer or RS).
pub const fn withholds_otc(to: Option<BgpRole>) -> bool {
    matches!(to, Some(BgpRole::PROVIDER | BgpRole::PEER | BgpRole::RS))
}

/// Append one attribute TLV (extended length only when needed).
pub fn push_attr(out: &mut Vec<u8>, fl: u8, t: u8, value: &[u8]) {
    let fl = fl & !flags::EXTENDED_LENGTH;
    if value.len() > 255 {
        out.push(fl | flags::EXTENDED_LENGTH);
        out.push(t);
        out.extend_from_slice(&(value.len().min(0xffff) as u16).to_be_bytes());
    } else {
        out.push(fl);
        out.push(t);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value.get(..value.len().min(0xffff)).unwrap_or(&[]));
}

/// Check a canonical set against the loop rules (RFC 4456 §8; RFC 4271 §9.1.2 for eBGP).
pub fn loop_check(
    block: &[u8],
    role: Role,
    me: &LocalIdentity,
    router_id: u32,
) -> Option<LoopReason> {
    loop_check_allowing(block, role, me, router_id, 0)
}

/// [`loop_check`], with our AS allowed up to `allow_own_as` times in the AS_PATH of an eBGP route.
pub fn loop_check_allowing(
    block: &[u8],
    role: Role,
    me: &LocalIdentity,
    router_id: u32,
    allow_own_as: u8,
) -> Option<LoopReason> {
    for a in attribute::AttrIter::unchecked(block, 0) {
        match a.type_code {
            type_code::CLUSTER_LIST if attribute::u32s(a.value).any(|c| c == me.cluster_id) => {
                return Some(LoopReason::ClusterList)
            }
            type_code::ORIGINATOR_ID if attribute::u32s(a.value).next() == Some(router_id) => {
                return Some(LoopReason::OriginatorId)
            }
            type_code::AS_PATH if role == Role::Ebgp => {
                if let Some(p) = AsPathView::new_checked(a.value, true) {
                    if p.asns().filter(|x| *x == me.asn).count() > usize::from(allow_own_as) {
                        return Some(LoopReason::AsPath);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// An attribute to insert on export: flags, type code, value.
type Pending = (u8, u8, SmallVec<[u8; 8]>);

/// Rewrite a canonical set for one export class.
pub fn rewrite(
    block: &[u8],
    mp_next_hop: Option<&[u8]>,
    class: &ExportClass,
    me: &LocalIdentity,
) -> OutBlock {
    if let ExportClass::Reflect {
        originator,
        four_octet: true,
    } = class
    {
        return OutBlock {
            attrs: reflect_block(block, *originator, me).into_boxed_slice(),
            mp_next_hop: mp_next_hop.map(Box::from),
        };
    }
    rewrite_general(block, mp_next_hop, class, me)
}

/// The common case of [`rewrite`]: reflection to a 4-octet iBGP peer. One pass
/// over the canonical TLVs, copying them through, with LOCAL_PREF (our
/// default) and ORIGINATOR_ID inserted in type order when absent and our
/// cluster ID put in front of CLUSTER_LIST (or a CLUSTER_LIST created).
fn reflect_block(block: &[u8], originator: u32, me: &LocalIdentity) -> Vec<u8> {
    let cluster_id = me.cluster_id;
    let mut out: Vec<u8> = Vec::with_capacity(block.len() + 21);
    let mut lp_done = false;
    let mut orig_done = false;
    let mut cl_done = false;
    let mut rest = block;
    while let Some((fl, t, start, end)) = attribute::tlv(rest, 0) {
        if !lp_done && t >= type_code::LOCAL_PREF {
            if t > type_code::LOCAL_PREF {
                push_attr(
                    &mut out,
                    flags::TRANSITIVE,
                    type_code::LOCAL_PREF,
                    &me.default_local_pref.to_be_bytes(),
                );
            }
            lp_done = true;
        }
        if !orig_done && t >= type_code::ORIGINATOR_ID {
            if t > type_code::ORIGINATOR_ID {
                push_attr(
                    &mut out,
                    flags::OPTIONAL,
                    type_code::ORIGINATOR_ID,
                    &originator.to_be_bytes(),
                );
            }
            orig_done = true;
        }
        if !cl_done && t >= type_code::CLUSTER_LIST {
            if t > type_code::CLUSTER_LIST {
                push_attr(
                    &mut out,
                    flags::OPTIONAL,
                    type_code::CLUSTER_LIST,
                    &cluster_id.to_be_bytes(),
                );
            }
            cl_done = true;
        }
        let value = rest.get(start..end).unwrap_or(&[]);
        if t == type_code::CLUSTER_LIST {
            let mut v: SmallVec<[u8; 32]> = SmallVec::with_capacity(value.len() + 4);
            v.extend_from_slice(&cluster_id.to_be_bytes());
            v.extend_from_slice(value);
            push_attr(&mut out, fl, t, &v);
        } else {
            out.extend_from_slice(rest.get(..end).unwrap_or(&[]));
        }
        rest = rest.get(end..).unwrap_or(&[]);
    }
    if !lp_done {
        push_attr(
            &mut out,
            flags::TRANSITIVE,
            type_code::LOCAL_PREF,
            &me.default_local_pref.to_be_bytes(),
        );
    }
    if !orig_done {
        push_attr(
            &mut out,
            flags::OPTIONAL,
            type_code::ORIGINATOR_ID,
            &originator.to_be_bytes(),
        );
    }
    if !cl_done {
        push_attr(
            &mut out,
            flags::OPTIONAL,
            type_code::CLUSTER_LIST,
            &cluster_id.to_be_bytes(),
        );
    }
    out
}

fn rewrite_general(
    block: &[u8],
    mp_next_hop: Option<&[u8]>,
    class: &ExportClass,
    me: &LocalIdentity,
) -> OutBlock {
    let four_octet = match class {
        ExportClass::Reflect { four_octet, .. }
        | ExportClass::Internal { four_octet }
        | ExportClass::External { four_octet, .. } => *four_octet,
    };
    let mut out: Vec<u8> = Vec::with_capacity(block.len() + 16);
    let mut have = attribute::TypeSet::EMPTY;
    for a in attribute::AttrIter::unchecked(block, 0) {
        have.insert(a.type_code);
    }
    // Attributes to insert, in type order, where the canonical set lacks them.
    // CLUSTER_LIST is inserted empty: the Reflect rewrite below prepends our cluster ID.
    let mut pending: SmallVec<[Pending; 3]> = SmallVec::new();
    match class {
        ExportClass::Reflect { originator, .. } => {
            if !have.contains(type_code::LOCAL_PREF) {
                pending.push((
                    flags::TRANSITIVE,
                    type_code::LOCAL_PREF,
                    me.default_local_pref.to_be_bytes().into_iter().collect(),
                ));
            }
            if !have.contains(type_code::ORIGINATOR_ID) {
                pending.push((
                    flags::OPTIONAL,
                    type_code::ORIGINATOR_ID,
                    originator.to_be_bytes().into_iter().collect(),
                ));
            }
            if !have.contains(type_code::CLUSTER_LIST) {
                pending.push((flags::OPTIONAL, type_code::CLUSTER_LIST, SmallVec::new()));
            }
        }
        ExportClass::Internal { .. } => {
            if !have.contains(type_code::LOCAL_PREF) {
                pending.push((
                    flags::TRANSITIVE,
                    type_code::LOCAL_PREF,
                    me.default_local_pref.to_be_bytes().into_iter().collect(),
                ));
            }
        }
        ExportClass::External {
            add_otc, local_as, ..
        } => {
            if !have.contains(type_code::AS_PATH) {
                pending.push((flags::TRANSITIVE, type_code::AS_PATH, SmallVec::new()));
            }
            // RFC 9234 §5 egress: to a Customer, Peer or RS-Client, OTC = our AS when absent.
            if *add_otc && !have.contains(type_code::OTC) {
                pending.push((
                    flags::OPTIONAL | flags::TRANSITIVE,
                    type_code::OTC,
                    local_as
                        .unwrap_or(me.asn)
                        .to_be_bytes()
                        .into_iter()
                        .collect(),
                ));
            }
        }
    }
    pending.sort_by_key(|p| p.1);
    let mut pending = pending.into_iter().peekable();
    let mut scratch: Vec<u8> = Vec::new();
    let mut as4: Option<Vec<u8>> = None;
    let mut as4_aggr: Option<[u8; 8]> = None;
    let emit_one = |out: &mut Vec<u8>,
                    scratch: &mut Vec<u8>,
                    as4: &mut Option<Vec<u8>>,
                    as4_aggr: &mut Option<[u8; 8]>,
                    fl: u8,
                    t: u8,
                    v: &[u8]| {
        match (class, t) {
            (
                ExportClass::External { .. },
                type_code::ORIGINATOR_ID | type_code::CLUSTER_LIST | type_code::LOCAL_PREF,
            ) => {}
            (
                ExportClass::External {
                    keep_med: false, ..
                },
                type_code::MED,
            ) => {}
            (ExportClass::Reflect { .. }, type_code::CLUSTER_LIST) => {
                scratch.clear();
                scratch.extend_from_slice(&me.cluster_id.to_be_bytes());
                scratch.extend_from_slice(v);
                push_attr(out, fl, t, scratch);
            }
            (
                ExportClass::External {
                    next_hop_v4: Some(nh),
                    ..
                },
                type_code::NEXT_HOP,
            ) => {
                push_attr(out, fl, t, &nh.octets());
            }
            // iBGP to a 4-octet speaker: the path travels unchanged.
            (
                ExportClass::Reflect {
                    four_octet: true, ..
                }
                | ExportClass::Internal { four_octet: true },
                type_code::AS_PATH,
            ) => {
                push_attr(out, fl, t, v);
            }
            (_, type_code::AS_PATH) => {
                let mut p = AsPathView::new_checked(v, true)
                    .map(|v| AsPath::from_view(&v))
                    .unwrap_or_default();
                if let ExportClass::External { local_as, .. } = class {
                    p.prepend(local_as.unwrap_or(me.asn));
                }
                if !four_octet && p.needs_four_octets() {
                    // RFC 6793 §4.2.2: AS_TRANS in AS_PATH, the true path in AS4_PATH
                    // (without confederation segments).
                    let as4p = AsPath {
                        segments: p
                            .segments
                            .iter()
                            .filter(|s| {
                                matches!(
                                    s.kind,
                                    attribute::SegmentType::Sequence | attribute::SegmentType::Set
                                )
                            })
                            .cloned()
                            .collect::<Vec<Segment>>(),
                    };
                    let mut b = alloc::vec![0u8; as4p.value_len(true)];
                    if as4p.emit_value(&mut Writer::new(&mut b), true).is_ok() {
                        *as4 = Some(b);
                    }
                }
                scratch.clear();
                scratch.resize(p.value_len(four_octet), 0);
                if p.emit_value(&mut Writer::new(scratch), four_octet).is_ok() {
                    push_attr(out, fl, t, scratch);
                }
            }
            (_, type_code::AGGREGATOR) if !four_octet && v.len() == 8 => {
                let asn = attribute::u32s(v).next().unwrap_or(0);
                let addr = v.get(4..8).unwrap_or(&[0; 4]);
                let short = u16::try_from(asn).unwrap_or(AS_TRANS as u16);
                scratch.clear();
                scratch.extend_from_slice(&short.to_be_bytes());
                scratch.extend_from_slice(addr);
                push_attr(out, fl, t, scratch);
                if asn > 0xffff {
                    let mut b = [0u8; 8];
                    let (x, y) = b.split_at_mut(4);
                    x.copy_from_slice(&asn.to_be_bytes());
                    if addr.len() == 4 {
                        y.copy_from_slice(addr);
                    }
                    *as4_aggr = Some(b);
                }
            }
            _ => push_attr(out, fl, t, v),
        }
    };
    for a in attribute::AttrIter::unchecked(block, 0) {
        while let Some((fl, t, v)) = pending.next_if(|p| p.1 < a.type_code) {
            emit_one(&mut out, &mut scratch, &mut as4, &mut as4_aggr, fl, t, &v);
        }
        emit_one(
            &mut out,
            &mut scratch,
            &mut as4,
            &mut as4_aggr,
            a.flags,
            a.type_code,
            a.value,
        );
    }
    for (fl, t, v) in pending {
        emit_one(&mut out, &mut scratch, &mut as4, &mut as4_aggr, fl, t, &v);
    }
    if let Some(p) = as4 {
        push_attr(
            &mut out,
            flags::OPTIONAL | flags::TRANSITIVE,
            type_code::AS4_PATH,
            &p,
        );
    }
    if let Some(a) = as4_aggr {
        push_attr(
            &mut out,
            flags::OPTIONAL | flags::TRANSITIVE,
            type_code::AS4_AGGREGATOR,
            &a,
        );
    }
    let mp_next_hop = match (class, mp_next_hop) {
        (
            ExportClass::External {
                next_hop_v6: Some(v6),
                ..
            },
            Some(nh),
        ) if nh.len() >= 16 => Some(Box::from(&v6.octets()[..])),
        (
            ExportClass::External {
                next_hop_v4: Some(v4),
                ..
            },
            Some(nh),
        ) if nh.len() == 4 => Some(Box::from(&v4.octets()[..])),
        (_, nh) => nh.map(Box::from),
    };
    OutBlock {
        attrs: out.into_boxed_slice(),
        mp_next_hop,
    }
}

/// An NLRI the [`Packer`] can write: a route ([`Nlri`]), or NLRI bytes
/// already encoded (with their path identifier where ADD-PATH is on).
pub trait PackNlri {
    /// Its length on the wire, with a path identifier when `add_path`.
    fn wire_len(&self, add_path: bool) -> usize;
    /// Append it to `out`, with a path identifier when `add_path`.
    fn put(&self, out: &mut Vec<u8>, add_path: bool);
}

impl PackNlri for Nlri {
    fn wire_len(&self, add_path: bool) -> usize {
        self.prefix.wire_len() + if add_path { 4 } else { 0 }
    }

    fn put(&self, out: &mut Vec<u8>, add_path: bool) {
        if add_path {
            out.extend_from_slice(&self.path_id.unwrap_or(0).to_be_bytes());
        }
        let len = self.prefix.len();
        let bytes = usize::from(len).div_ceil(8);
        out.push(len);
        match self.prefix {
            crate::wire::Prefix::V4(p) => {
                out.extend_from_slice(p.addr().octets().get(..bytes).unwrap_or(&[]))
            }
            crate::wire::Prefix::V6(p) => {
                out.extend_from_slice(p.addr().octets().get(..bytes).unwrap_or(&[]))
            }
        }
    }
}

/// Encoded NLRI: written as they are, whatever `add_path` says.
impl<A: smallvec::Array<Item = u8>> PackNlri for SmallVec<A> {
    fn wire_len(&self, _add_path: bool) -> usize {
        self.len()
    }

    fn put(&self, out: &mut Vec<u8>, _add_path: bool) {
        out.extend_from_slice(self);
    }
}

/// Writes UPDATE messages for one peer, packing NLRI up to the maximum message size.
#[derive(Debug)]
pub struct Packer<'a> {
    out: &'a mut Vec<u8>,
    max_len: usize,
    add_path: bool,
}

/// What a packer call produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Packed {
    /// Messages written.
    pub messages: u64,
    /// Prefixes written.
    pub prefixes: u64,
}

impl<'a> Packer<'a> {
    /// A packer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>, max_len: usize, add_path: bool) -> Self {
        Packer {
            out,
            max_len,
            add_path,
        }
    }

    fn nlri_len<N: PackNlri + ?Sized>(&self, n: &N) -> usize {
        n.wire_len(self.add_path)
    }

    fn put_nlri<N: PackNlri + ?Sized>(&mut self, n: &N) {
        n.put(self.out, self.add_path);
    }

    /// Room for NLRI in one UPDATE announcing with `blk`'s attributes: a
    /// longer NLRI fits no message.
    pub fn room(&self, family: AfiSafi, blk: &OutBlock) -> usize {
        self.max_len.saturating_sub(Self::fixed_len(family, blk))
    }

    fn fixed_len(family: AfiSafi, blk: &OutBlock) -> usize {
        let classic = family == AfiSafi::IPV4_UNICAST && blk.mp_next_hop.is_none();
        let nh = blk.mp_next_hop.as_deref().map_or(0, <[u8]>::len);
        HEADER_LEN + 4 + blk.attrs.len() + if classic { 0 } else { 4 + 5 + nh }
    }

    fn begin(&mut self) -> usize {
        let start = self.out.len();
        self.out.extend_from_slice(&crate::wire::MARKER);
        self.out
            .extend_from_slice(&[0, 0, MessageType::Update.to_u8()]);
        start
    }

    fn finish(&mut self, start: usize) {
        let len = (self.out.len() - start) as u16;
        if let Some(d) = self.out.get_mut(start + 16..start + 18) {
            d.copy_from_slice(&len.to_be_bytes());
        }
    }

    /// Announce `nlri` (all of family `family`) with the attributes of `blk`.
    ///
    /// IPv4 unicast routes without an MP next hop go in the classic NLRI
    /// field; everything else in MP_REACH_NLRI, placed first. Fails with an
    /// overflow error, writing nothing, when the attributes leave no room for
    /// the longest prefix of `nlri`.
    pub fn announce<N: PackNlri>(
        &mut self,
        family: AfiSafi,
        blk: &OutBlock,
        nlri: &[N],
    ) -> Result<Packed> {
        let mut done = Packed::default();
        let classic = family == AfiSafi::IPV4_UNICAST && blk.mp_next_hop.is_none();
        let nh: &[u8] = blk.mp_next_hop.as_deref().unwrap_or(&[]);
        let fixed = Self::fixed_len(family, blk);
        let widest = nlri.iter().map(|n| self.nlri_len(n)).max().unwrap_or(0);
        if fixed + widest > self.max_len {
            return Err(Error::overflow(fixed));
        }
        let mut rest = nlri;
        while !rest.is_empty() {
            let mut room = self.max_len - fixed;
            let mut take = 0usize;
            for n in rest {
                let l = self.nlri_len(n);
                if l > room {
                    break;
                }
                room -= l;
                take += 1;
            }
            let (batch, tail) = rest.split_at(take.min(rest.len()));
            rest = tail;
            let start = self.begin();
            self.out.extend_from_slice(&[0, 0]); // no withdrawn routes
            let al_at = self.out.len();
            self.out.extend_from_slice(&[0, 0]);
            if !classic {
                let nlri_len: usize = batch.iter().map(|n| self.nlri_len(n)).sum();
                let v_len = 5 + nh.len() + nlri_len;
                self.out.push(flags::OPTIONAL | flags::EXTENDED_LENGTH);
                self.out.push(type_code::MP_REACH_NLRI);
                self.out.extend_from_slice(&(v_len as u16).to_be_bytes());
                self.out.extend_from_slice(&family.afi.0.to_be_bytes());
                self.out.push(family.safi.0);
                self.out.push(nh.len() as u8);
                self.out.extend_from_slice(nh);
                self.out.push(0);
                for n in batch {
                    self.put_nlri(n);
                }
            }
            self.out.extend_from_slice(&blk.attrs);
            let al = self.out.len() - al_at - 2;
            if let Some(d) = self.out.get_mut(al_at..al_at + 2) {
                d.copy_from_slice(&(al as u16).to_be_bytes());
            }
            if classic {
                for n in batch {
                    self.put_nlri(n);
                }
            }
            self.finish(start);
            done.messages += 1;
            done.prefixes += batch.len() as u64;
        }
        Ok(done)
    }

    /// Withdraw `nlri` (all of family `family`).
    pub fn withdraw<N: PackNlri>(&mut self, family: AfiSafi, nlri: &[N]) -> Packed {
        let mut done = Packed::default();
        let classic = family == AfiSafi::IPV4_UNICAST;
        let fixed = HEADER_LEN + 4 + if classic { 0 } else { 4 + 3 };
        let mut rest = nlri;
        while !rest.is_empty() {
            let mut room = self.max_len.saturating_sub(fixed);
            let mut take = 0usize;
            for n in rest {
                let l = self.nlri_len(n);
                if l > room {
                    break;
                }
                room -= l;
                take += 1;
            }
            if take == 0 {
                break;
            }
            let (batch, tail) = rest.split_at(take.min(rest.len()));
            rest = tail;
            let start = self.begin();
            let body: usize = batch.iter().map(|n| self.nlri_len(n)).sum();
            if classic {
                self.out.extend_from_slice(&(body as u16).to_be_bytes());
                for n in batch {
                    self.put_nlri(n);
                }
                self.out.extend_from_slice(&[0, 0]);
            } else {
                self.out.extend_from_slice(&[0, 0]);
                self.out
                    .extend_from_slice(&((4 + 3 + body) as u16).to_be_bytes());
                self.out.push(flags::OPTIONAL | flags::EXTENDED_LENGTH);
                self.out.push(type_code::MP_UNREACH_NLRI);
                self.out
                    .extend_from_slice(&((3 + body) as u16).to_be_bytes());
                self.out.extend_from_slice(&family.afi.0.to_be_bytes());
                self.out.push(family.safi.0);
                for n in batch {
                    self.put_nlri(n);
                }
            }
            self.finish(start);
            done.messages += 1;
            done.prefixes += batch.len() as u64;
        }
        done
    }

    /// An End-of-RIB marker for `family` (RFC 4724 §2).
    pub fn end_of_rib(&mut self, family: AfiSafi) {
        let start = self.begin();
        if family == AfiSafi::IPV4_UNICAST {
            self.out.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            self.out.extend_from_slice(&[
                0,
                0,
                0,
                6,
                flags::OPTIONAL,
                type_code::MP_UNREACH_NLRI,
                3,
            ]);
            self.out.extend_from_slice(&family.afi.0.to_be_bytes());
            self.out.push(family.safi.0);
        }
        self.finish(start);
    }
}

/// Write a complete message of `msg_type` with `body` into a new vector.
pub fn message(msg_type: MessageType, body: &[u8]) -> Result<Vec<u8>> {
    let len = HEADER_LEN + body.len();
    let length = u16::try_from(len).map_err(|_| Error::overflow(len))?;
    let mut v = alloc::vec![0u8; len];
    let mut w = Writer::new(&mut v);
    Header { length, msg_type }.emit(&mut w)?;
    w.put(body)?;
    Ok(v)
}

/// An address's bytes as an IP next hop, if it is one.
pub fn next_hop_addr(nh: &[u8]) -> Option<IpAddr> {
    match nh.len() {
        4 => <[u8; 4]>::try_from(nh).ok().map(IpAddr::from),
        16 | 32 => nh
            .get(..16)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::update::UpdatePacket;
    use crate::wire::{Context, Prefix};

    const ME: LocalIdentity = LocalIdentity {
        asn: 63400,
        cluster_id: 0x0a00_00fe,
        default_local_pref: 100,
    };

    fn canon(attrs: &[u8], role: Role) -> Vec<u8> {
        let mut out = Vec::new();
        canonicalize(
            attribute::AttrIter::new_checked(attrs, 0).unwrap(),
            &ImportContext {
                role,
                four_octet: true,
                bgp_role: None,
                peer_as: 65001,
            },
            true,
            &mut out,
        );
        out
    }

    #[test]
    fn rfc4456_6_client_to_client_and_non_client_rules() {
        let c = Source::Peer(Role::Client);
        let n = Source::Peer(Role::NonClient);
        assert!(may_export(c, Role::Client, true));
        assert!(!may_export(c, Role::Client, false));
        assert!(may_export(c, Role::NonClient, true));
        assert!(may_export(n, Role::Client, true));
        assert!(!may_export(n, Role::NonClient, true));
        assert!(may_export(Source::Peer(Role::Ebgp), Role::NonClient, true));
        assert!(may_export(n, Role::Ebgp, true));
    }

    #[test]
    fn canonical_form_sorts_and_normalises_flags() {
        // MED (ext-length bit set), then ORIGIN, then an unknown transitive, then NEXT_HOP.
        let attrs = [
            0x90, 4, 0, 4, 0, 0, 0, 7, 0x40, 1, 1, 0, 0xc0, 99, 1, 5, 0x40, 3, 4, 10, 0, 0, 1,
        ];
        let c = canon(&attrs, Role::Client);
        assert_eq!(
            c,
            [0x40, 1, 1, 0, 0x40, 3, 4, 10, 0, 0, 1, 0x80, 4, 4, 0, 0, 0, 7, 0xe0, 99, 1, 5]
        );
    }

    #[test]
    fn rfc8326_graceful_shutdown_sets_local_pref_0_on_import() {
        // From iBGP with LOCAL_PREF 200: rewritten to 0.
        let gshut = [0xc0, 8, 8, 0xff, 0xff, 0, 0, 0, 0, 0, 1];
        let mut ibgp = alloc::vec![0x40, 1, 1, 0, 0x40, 5, 4, 0, 0, 0, 200];
        ibgp.extend_from_slice(&gshut);
        assert_eq!(
            canon(&ibgp, Role::Client),
            [0x40, 1, 1, 0, 0x40, 5, 4, 0, 0, 0, 0, 0xc0, 8, 8, 0xff, 0xff, 0, 0, 0, 0, 0, 1]
        );
        // From eBGP (its LOCAL_PREF dropped): LOCAL_PREF 0 added in type order.
        let mut ebgp = alloc::vec![0x40, 1, 1, 0, 0x40, 5, 4, 0, 0, 0, 200];
        ebgp.extend_from_slice(&gshut);
        assert_eq!(canon(&ebgp, Role::Ebgp), canon(&ibgp, Role::Client));
        // Without the community nothing changes.
        let plain = [0x40, 1, 1, 0, 0xc0, 8, 4, 0xff, 0xff, 0, 1];
        assert_eq!(canon(&plain, Role::Ebgp), plain);
    }

    #[test]
    fn rfc4456_8_loop_checks() {
        let own_cluster = [0x80, 10, 8, 1, 1, 1, 1, 0x0a, 0, 0, 0xfe];
        assert_eq!(
            loop_check(&own_cluster, Role::Client, &ME, 7),
            Some(LoopReason::ClusterList)
        );
        let own_orig = [0x80, 9, 4, 0, 0, 0, 7];
        assert_eq!(
            loop_check(&own_orig, Role::Client, &ME, 7),
            Some(LoopReason::OriginatorId)
        );
        assert_eq!(loop_check(&own_orig, Role::Client, &ME, 8), None);
        let path = [0x40, 2, 6, 2, 1, 0, 0, 0xf7, 0xa8];
        assert_eq!(
            loop_check(&path, Role::Ebgp, &ME, 1),
            Some(LoopReason::AsPath)
        );
        assert_eq!(loop_check(&path, Role::Client, &ME, 1), None);
    }

    #[test]
    fn rfc4456_8_reflect_sets_originator_and_prepends_cluster() {
        let c = canon(
            &[0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1],
            Role::Client,
        );
        let o = rewrite(
            &c,
            None,
            &ExportClass::Reflect {
                originator: 0x0a00_0001,
                four_octet: true,
            },
            &ME,
        );
        let attrs: Vec<_> = attribute::AttrIter::new_checked(&o.attrs, 0)
            .unwrap()
            .collect();
        let orig = attrs.iter().find(|a| a.type_code == 9).unwrap();
        assert_eq!(orig.value, &[10, 0, 0, 1]);
        let cl = attrs.iter().find(|a| a.type_code == 10).unwrap();
        assert_eq!(cl.value, &[10, 0, 0, 0xfe]);
        // Reflected again by another reflector: ORIGINATOR_ID kept, its cluster prepended.
        let other = LocalIdentity {
            cluster_id: 0x0a00_00fd,
            ..ME
        };
        let o2 = rewrite(
            &o.attrs,
            None,
            &ExportClass::Reflect {
                originator: 99,
                four_octet: true,
            },
            &other,
        );
        let attrs: Vec<_> = attribute::AttrIter::new_checked(&o2.attrs, 0)
            .unwrap()
            .collect();
        assert_eq!(
            attrs.iter().find(|a| a.type_code == 9).unwrap().value,
            &[10, 0, 0, 1]
        );
        assert_eq!(
            attrs.iter().find(|a| a.type_code == 10).unwrap().value,
            &[10, 0, 0, 0xfd, 10, 0, 0, 0xfe]
        );
        let types: Vec<u8> = attrs.iter().map(|a| a.type_code).collect();
        assert!(types.windows(2).all(|w| w[0] < w[1]), "sorted: {types:?}");
    }

    #[test]
    fn reflect_fast_path_equals_the_general_rewrite() {
        let blocks: [&[u8]; 9] = [
            // LOCAL_PREF present: kept as is.
            &[
                0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1, 0x40, 5, 4, 0, 0, 0, 200,
            ],
            // MED without LOCAL_PREF: LOCAL_PREF goes after it.
            &[
                0x40, 1, 1, 0, 0x40, 3, 4, 10, 0, 0, 1, 0x80, 4, 4, 0, 0, 0, 9, 0xc0, 8, 4, 0, 0,
                0, 1,
            ],
            // Only attributes after LOCAL_PREF's type.
            &[0x80, 9, 4, 1, 2, 3, 4],
            // Only attributes before it.
            &[0x40, 1, 1, 0],
            &[0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1],
            &[
                0x40, 1, 1, 0, 0x80, 9, 4, 1, 2, 3, 4, 0x80, 10, 4, 5, 5, 5, 5,
            ],
            &[
                0x40, 1, 1, 0, 0xc0, 8, 4, 0, 0, 0, 1, 0x80, 10, 4, 5, 5, 5, 5, 0xe0, 99, 1, 7,
            ],
            &[
                0x40, 1, 1, 0, 0x80, 9, 4, 1, 2, 3, 4, 0xc0, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0,
                0, 3,
            ],
            &[],
        ];
        for b in blocks {
            let class = ExportClass::Reflect {
                originator: 0x0a00_0007,
                four_octet: true,
            };
            let fast = rewrite(b, None, &class, &ME);
            let general = rewrite_general(b, None, &class, &ME);
            assert_eq!(fast, general, "block {b:?}");
            // RFC 4271 §5.1.5: LOCAL_PREF always, the default where absent;
            // attributes in type order.
            let attrs: Vec<_> = attribute::AttrIter::new_checked(&fast.attrs, 0)
                .unwrap()
                .collect();
            let lp = attrs.iter().find(|a| a.type_code == 5).unwrap();
            let had = attribute::AttrIter::new_checked(b, 0)
                .unwrap()
                .find(|a| a.type_code == 5)
                .map(|a| a.value);
            assert_eq!(lp.value, had.unwrap_or(&[0, 0, 0, 100]), "block {b:?}");
            assert_eq!(lp.flags, flags::TRANSITIVE);
            let types: Vec<u8> = attrs.iter().map(|a| a.type_code).collect();
            assert!(types.windows(2).all(|w| w[0] < w[1]), "{types:?}");
        }
    }

    #[test]
    fn ebgp_export_strips_ibgp_attributes_and_prepends_as() {
        let c = canon(
            &[
                0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 10, 0, 0, 1, 0x80,
                4, 4, 0, 0, 0, 1, 0x40, 5, 4, 0, 0, 0, 200, 0x80, 9, 4, 1, 2, 3, 4, 0x80, 10, 4, 1,
                1, 1, 1,
            ],
            Role::Client,
        );
        let class = ExportClass::External {
            next_hop_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
            next_hop_v6: None,
            keep_med: false,
            four_octet: true,
            add_otc: false,
            local_as: None,
        };
        let o = rewrite(&c, None, &class, &ME);
        let attrs: Vec<_> = attribute::AttrIter::new_checked(&o.attrs, 0)
            .unwrap()
            .collect();
        let types: Vec<u8> = attrs.iter().map(|a| a.type_code).collect();
        assert_eq!(types, [1, 2, 3]);
        let p = AsPathView::new_checked(attrs[1].value, true).unwrap();
        assert_eq!(p.asns().collect::<Vec<_>>(), [63400, 65001]);
        assert_eq!(attrs[2].value, &[192, 0, 2, 1]);
    }

    fn canon_from(attrs: &[u8], bgp_role: Option<BgpRole>) -> Vec<u8> {
        let mut out = Vec::new();
        canonicalize(
            attribute::AttrIter::new_checked(attrs, 0).unwrap(),
            &ImportContext {
                role: Role::Ebgp,
                four_octet: true,
                bgp_role,
                peer_as: 65001,
            },
            true,
            &mut out,
        );
        out
    }

    #[test]
    fn rfc9234_5_import_adds_otc_from_provider_peer_rs_and_flags_leaks() {
        // ORIGIN, AS_PATH [65001], NEXT_HOP, LARGE_COMMUNITY (32, sorts before OTC 35)
        // and an unknown transitive 40 (after it).
        let base = [
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 10, 0, 0, 1, 0xc0, 32,
            12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xc0, 40, 1, 7,
        ];
        for role in [BgpRole::PROVIDER, BgpRole::PEER, BgpRole::RS] {
            let c = canon_from(&base, Some(role));
            let types: Vec<u8> = attribute::AttrIter::new_checked(&c, 0)
                .unwrap()
                .map(|a| a.type_code)
                .collect();
            assert_eq!(types, [1, 2, 3, 32, 35, 40], "{role:?}");
            assert_eq!(otc(&c), Some(65001));
            let a = attribute::AttrIter::new_checked(&c, 0)
                .unwrap()
                .find(|a| a.type_code == 35)
                .unwrap();
            assert_eq!(a.flags, flags::OPTIONAL | flags::TRANSITIVE);
            assert!(!otc_leak(&c, Some(role), 65001));
        }
        for role in [None, Some(BgpRole::CUSTOMER), Some(BgpRole::RS_CLIENT)] {
            let c = canon_from(&base, role);
            assert_eq!(otc(&c), None, "{role:?}");
            assert!(!otc_leak(&c, role, 65001));
        }
        // With OTC 65077 present.
        let mut with = base.to_vec();
        with.extend_from_slice(&[0xc0, 35, 4, 0, 0, 0xfe, 0x35]);
        for (role, leak) in [
            (BgpRole::CUSTOMER, true),
            (BgpRole::RS_CLIENT, true),
            (BgpRole::PEER, true),
            (BgpRole::PROVIDER, false),
            (BgpRole::RS, false),
        ] {
            let c = canon_from(&with, Some(role));
            assert_eq!(otc(&c), Some(65077), "kept as received");
            assert_eq!(otc_leak(&c, Some(role), 65001), leak, "{role:?}");
        }
        // From a peer, OTC equal to its AS is fine.
        assert!(!otc_leak(
            &canon_from(&base, Some(BgpRole::PEER)),
            Some(BgpRole::PEER),
            65001
        ));
        assert!(!otc_allows(&with, Some(BgpRole::PEER)));
        assert!(otc_allows(&with, Some(BgpRole::CUSTOMER)));
        assert!(otc_allows(&with, None));
        assert!(otc_allows(&base, Some(BgpRole::PROVIDER)));
    }

    #[test]
    fn rfc9234_5_export_adds_otc_toward_customer_peer_rs_client() {
        let c = canon(
            &[0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1],
            Role::Client,
        );
        for (to, want) in [
            (Some(BgpRole::CUSTOMER), Some(ME.asn)),
            (Some(BgpRole::PEER), Some(ME.asn)),
            (Some(BgpRole::RS_CLIENT), Some(ME.asn)),
            (Some(BgpRole::PROVIDER), None),
            (Some(BgpRole::RS), None),
            (None, None),
        ] {
            let class = ExportClass::External {
                next_hop_v4: None,
                next_hop_v6: None,
                keep_med: false,
                four_octet: true,
                add_otc: adds_otc(to),
                local_as: None,
            };
            let o = rewrite(&c, None, &class, &ME);
            assert_eq!(otc(&o.attrs), want, "{to:?}");
        }
        // An OTC already there is not replaced.
        let mut with = c.clone();
        push_otc(&mut with, 65077);
        let class = ExportClass::External {
            next_hop_v4: None,
            next_hop_v6: None,
            keep_med: false,
            four_octet: true,
            add_otc: true,
            local_as: None,
        };
        assert_eq!(otc(&rewrite(&with, None, &class, &ME).attrs), Some(65077));
    }

    #[test]
    fn rfc6793_4_2_2_two_octet_receiver_gets_as4_path() {
        let c = canon(
            &[0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0],
            Role::Client,
        );
        let o = rewrite(
            &c,
            None,
            &ExportClass::Reflect {
                originator: 1,
                four_octet: false,
            },
            &ME,
        );
        let attrs: Vec<_> = attribute::AttrIter::new_checked(&o.attrs, 0)
            .unwrap()
            .collect();
        let asp = attrs.iter().find(|a| a.type_code == 2).unwrap();
        assert_eq!(asp.value, &[2, 1, 0x5b, 0xa0]);
        let as4 = attrs.iter().find(|a| a.type_code == 17).unwrap();
        assert_eq!(as4.value, &[2, 1, 0xfa, 0x56, 0xea, 0]);
        // And importing it back from a 2-octet session restores the path.
        let back = {
            let mut out = Vec::new();
            canonicalize(
                attribute::AttrIter::new_checked(&o.attrs, 0).unwrap(),
                &ImportContext {
                    role: Role::Client,
                    four_octet: false,
                    bgp_role: None,
                    peer_as: 63400,
                },
                true,
                &mut out,
            );
            out
        };
        let a: Vec<_> = attribute::AttrIter::new_checked(&back, 0)
            .unwrap()
            .collect();
        let asp = a.iter().find(|a| a.type_code == 2).unwrap();
        assert_eq!(asp.value, &[2, 1, 0xfa, 0x56, 0xea, 0]);
        assert!(a.iter().all(|a| a.type_code != 17));
    }

    #[test]
    fn packer_splits_at_max_length_and_messages_parse() {
        let blk = OutBlock {
            attrs: alloc::vec![0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 10, 0, 0, 1]
                .into_boxed_slice(),
            mp_next_hop: None,
        };
        let nlri: Vec<Nlri> = (0..3000u32)
            .map(|i| {
                let p: Prefix = alloc::format!("10.{}.{}.0/24", i / 256, i % 256)
                    .parse()
                    .unwrap();
                Nlri::new(p)
            })
            .collect();
        let mut out = Vec::new();
        let mut pk = Packer::new(&mut out, 4096, false);
        let done = pk.announce(AfiSafi::IPV4_UNICAST, &blk, &nlri).unwrap();
        assert_eq!(done.prefixes, 3000);
        assert!(done.messages >= 3, "{done:?}");
        let w = pk.withdraw(AfiSafi::IPV4_UNICAST, &nlri[..10]);
        assert_eq!(w.prefixes, 10);
        pk.end_of_rib(AfiSafi::IPV6_UNICAST);
        let mut pos = 0;
        let mut count = 0;
        let mut msgs = 0;
        while pos < out.len() {
            let len = u16::from_be_bytes([out[pos + 16], out[pos + 17]]) as usize;
            assert!(len <= 4096);
            let p = UpdatePacket::new_checked(&out[pos..pos + len], &Context::MODERN).unwrap();
            count += p.announced_count();
            msgs += 1;
            pos += len;
        }
        assert_eq!(count, 3000);
        assert_eq!(msgs as u64, done.messages + w.messages + 1);
    }

    #[test]
    fn packer_reports_attributes_too_large_as_overflow() {
        let blk = OutBlock {
            attrs: alloc::vec![0u8; 4080].into_boxed_slice(),
            mp_next_hop: None,
        };
        let mut out = Vec::new();
        let mut pk = Packer::new(&mut out, 4096, false);
        let p: Prefix = "10.0.0.0/8".parse().unwrap();
        assert!(pk
            .announce(AfiSafi::IPV4_UNICAST, &blk, &[Nlri::new(p)])
            .is_err());
        assert!(out.is_empty());
    }
}
