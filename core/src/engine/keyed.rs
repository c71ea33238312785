//! Families keyed by NLRI bytes: IPv4/IPv6 multicast, labeled unicast,
//! VPN-IPv4/IPv6, EVPN, RT membership and flow specification.
//!
//! Each such family has a [`KeyedRib`]: entries found by the key the RFCs
//! give the family's routes (RD and prefix for VPN routes, the identifying
//! fields for EVPN, the components for flow specification), each path
//! holding the NLRI it came with (its labels, an EVPN route's ESI). The
//! decision process and the RFC 4456 rules are the unicast ones; the next
//! hop travels unchanged, since a reflector allocates no labels. What each
//! peer was told is a fingerprint per (entry, path identifier) in its
//! `Tx`, so every export is a diff and a route refresh starts it afresh.
//!
//! VPN and EVPN routes go only to peers whose route target memberships
//! (RFC 4684, learned in the RT membership family) cover one of the route's
//! route targets, when the peer negotiated RT membership; a client that
//! negotiated it is sent the default membership, so that it sends the
//! reflector all of its VPN routes (RFC 4684 §3.2).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::hash_table::{Entry as TEntry, HashTable};
use hashbrown::{DefaultHashBuilder, HashMap, HashSet};
use smallvec::SmallVec;

use super::decide;
use super::family::Rib;
use super::pause::Pending;
use super::peer::PeerState;
use super::Engine;
use crate::decision::{self, Candidate};
use crate::reflect::{self, ExportClass, OutBlock, Role, Source};
use crate::rib::{AttrId, Interner, Path, PeerId};
use crate::wire::attribute::{flags, type_code};
use crate::wire::evpn::EvpnIter;
use crate::wire::family::NlriFormat;
use crate::wire::flowspec::FlowIter;
use crate::wire::rtc::{RtcIter, RtcNlri};
use crate::wire::vpn::{emit_labeled, LabeledIter};
use crate::wire::{Afi, AfiSafi, NlriIter, Writer, HEADER_LEN, MARKER};

/// NLRI or key bytes, inline up to a VPN-IPv4 route's size (larger ones on the heap).
pub(super) type Nb = SmallVec<[u8; 16]>;

/// How many keyed families the engine keeps.
pub(super) const KEYED_COUNT: usize = 10;

/// The keyed families, in the order of their tables.
pub(super) const KEYED: [AfiSafi; KEYED_COUNT] = [
    AfiSafi::IPV4_MULTICAST,
    AfiSafi::IPV6_MULTICAST,
    AfiSafi::IPV4_LABELED,
    AfiSafi::IPV6_LABELED,
    AfiSafi::VPNV4,
    AfiSafi::VPNV6,
    AfiSafi::EVPN,
    AfiSafi::RT_CONSTRAINT,
    AfiSafi::IPV4_FLOWSPEC,
    AfiSafi::IPV6_FLOWSPEC,
];

/// The position of `f` in [`KEYED`].
pub(super) fn keyed_index(f: AfiSafi) -> Option<usize> {
    KEYED.iter().position(|k| *k == f)
}

/// Whether routes of `f` are sent only where RT memberships ask for them.
fn rt_filtered(f: AfiSafi) -> bool {
    f == AfiSafi::VPNV4 || f == AfiSafi::VPNV6 || f == AfiSafi::EVPN
}

/// One path of a keyed route.
#[derive(Debug, Clone)]
pub(super) struct KPath {
    pub(super) path: Path,
    /// The NLRI as received, without the path identifier.
    pub(super) nlri: Nb,
}

/// One keyed route: its key and its paths, best first after a flush.
#[derive(Debug, Default)]
pub(super) struct KEntry {
    pub(super) key: Nb,
    pub(super) paths: SmallVec<[KPath; 1]>,
    /// What the best path was at the last flush, as a fingerprint with its
    /// lowest bit cleared (0: none): peers without ADD-PATH that were sent
    /// the route hold that path. The lowest bit: changed since the last flush.
    state: u64,
}

impl KEntry {
    fn dirty(&self) -> bool {
        self.state & 1 == 1
    }

    fn set_dirty(&mut self, d: bool) {
        self.state = (self.state & !1) | u64::from(d);
    }

    fn sent_fp(&self) -> u64 {
        self.state & !1
    }

    fn set_sent_fp(&mut self, fp: u64) {
        self.state = (fp & !1) | (self.state & 1);
    }
}

/// The table of one keyed family.
#[derive(Debug)]
pub(super) struct KeyedRib {
    pub(super) family: AfiSafi,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    pub(super) entries: Vec<KEntry>,
    free: Vec<u32>,
    dirty: Vec<u32>,
    /// Entries in the table (emptied ones until the next flush included).
    live: usize,
    /// Entries with at least one path.
    routes: usize,
}

impl KeyedRib {
    fn new(family: AfiSafi) -> Self {
        KeyedRib {
            family,
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            entries: Vec::new(),
            free: Vec::new(),
            dirty: Vec::new(),
            live: 0,
            routes: 0,
        }
    }

    /// Routes in the table (keys with at least one path).
    pub(super) fn len(&self) -> usize {
        self.routes
    }

    fn find(&self, key: &[u8]) -> Option<u32> {
        let h = self.hasher.hash_one(key);
        let entries = &self.entries;
        self.index
            .find(h, |&i| {
                entries
                    .get(i as usize)
                    .is_some_and(|e| e.key.as_slice() == key)
            })
            .copied()
    }

    fn find_or_insert(&mut self, key: &[u8]) -> u32 {
        let h = self.hasher.hash_one(key);
        let (entries, hasher) = (&self.entries, &self.hasher);
        let slot = match self.index.entry(
            h,
            |&i| {
                entries
                    .get(i as usize)
                    .is_some_and(|e| e.key.as_slice() == key)
            },
            |&i| {
                hasher.hash_one(
                    entries
                        .get(i as usize)
                        .map_or(&[][..], |e| e.key.as_slice()),
                )
            },
        ) {
            TEntry::Occupied(o) => return *o.get(),
            TEntry::Vacant(v) => {
                let slot = match self.free.pop() {
                    Some(s) => s,
                    None => {
                        self.entries.push(KEntry::default());
                        (self.entries.len() - 1) as u32
                    }
                };
                v.insert(slot);
                slot
            }
        };
        if let Some(e) = self.entries.get_mut(slot as usize) {
            e.key = Nb::from_slice(key);
        }
        self.live += 1;
        slot
    }

    /// Paths in the table.
    pub(super) fn paths(&self) -> usize {
        self.entries.iter().map(|e| e.paths.len()).sum()
    }

    /// Heap bytes of the table: index, entries, and spilled keys, path lists and NLRI.
    pub(super) fn heap_bytes(&self) -> usize {
        use core::mem::size_of;
        let spilled = |b: &Nb| if b.spilled() { b.capacity() } else { 0 };
        let entries: usize = self
            .entries
            .iter()
            .map(|e| {
                spilled(&e.key)
                    + if e.paths.spilled() {
                        e.paths.capacity() * size_of::<KPath>()
                    } else {
                        0
                    }
                    + e.paths.iter().map(|p| spilled(&p.nlri)).sum::<usize>()
            })
            .sum();
        self.entries.capacity() * size_of::<KEntry>()
            + entries
            + self.index.capacity() * (size_of::<u32>() + 1)
            + (self.free.capacity() + self.dirty.capacity()) * size_of::<u32>()
    }

    fn touch(&mut self, slot: u32) {
        if let Some(e) = self.entries.get_mut(slot as usize) {
            if !e.dirty() {
                e.set_dirty(true);
                self.dirty.push(slot);
            }
        }
    }

    /// Drop an entry that has no path left (after its withdrawals went out).
    fn remove_if_empty(&mut self, slot: u32) {
        let Some(e) = self.entries.get_mut(slot as usize) else {
            return;
        };
        if !e.paths.is_empty() || e.key.is_empty() {
            return;
        }
        let key = core::mem::take(&mut e.key);
        let h = self.hasher.hash_one(key.as_slice());
        if let Ok(o) = self.index.find_entry(h, |&i| i == slot) {
            o.remove();
        }
        self.free.push(slot);
        self.live -= 1;
    }
}

/// The keyed tables, and the hasher of what peers were told.
#[derive(Debug)]
pub(super) struct KeyedRibs(pub(super) Vec<KeyedRib>, DefaultHashBuilder);

impl Default for KeyedRibs {
    fn default() -> Self {
        KeyedRibs(
            KEYED.iter().map(|f| KeyedRib::new(*f)).collect(),
            DefaultHashBuilder::default(),
        )
    }
}

/// One NLRI of a keyed family: path identifier, key, NLRI bytes.
type Parsed = (u32, Nb, Nb);

/// The entries of a validated NLRI field of keyed family `f`.
fn parse_field(f: AfiSafi, field: &[u8], add_path: bool, withdraw: bool) -> Vec<Parsed> {
    let act = crate::Action::AfiSafiDisable;
    let mut out = Vec::new();
    let afi = f.afi;
    let emit = |len: usize, g: &dyn Fn(&mut Writer<'_>) -> crate::Result<()>| -> Nb {
        let mut b: Nb = SmallVec::from_elem(0, len);
        let mut w = Writer::new(&mut b);
        let n = if g(&mut w).is_ok() { w.len() } else { 0 };
        b.truncate(n);
        b
    };
    match NlriFormat::of(f) {
        Some(NlriFormat::Ip) => {
            if let Ok(it) = NlriIter::new_checked(field, afi, add_path, 0, act) {
                for n in it {
                    let b = emit(1 + usize::from(n.prefix.len()).div_ceil(8), &|w| {
                        n.prefix.emit(w)
                    });
                    out.push((n.path_id.unwrap_or(0), b.clone(), b));
                }
            }
        }
        Some(fmt @ (NlriFormat::Labeled | NlriFormat::Vpn)) => {
            let vpn = fmt == NlriFormat::Vpn;
            if let Ok(it) = LabeledIter::new_checked(field, afi, vpn, add_path, withdraw, 0, act) {
                for n in it {
                    let plen = usize::from(n.prefix.len()).div_ceil(8);
                    let key = emit(9 + plen, &|w| {
                        if let Some(rd) = n.rd {
                            w.put(&rd.0)?;
                        }
                        n.prefix.emit(w)
                    });
                    let nlri = emit(n.buffer_len(), &|w| {
                        emit_labeled(w, None, n.labels.as_bytes(), n.rd, &n.prefix)
                    });
                    out.push((n.path_id.unwrap_or(0), key, nlri));
                }
            }
        }
        Some(NlriFormat::Evpn) => {
            if let Ok(it) = EvpnIter::new_checked(field, add_path, 0, act) {
                for n in it {
                    let key = Nb::from_slice(n.key().as_bytes());
                    let plain = crate::wire::evpn::EvpnNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), key, nlri));
                }
            }
        }
        Some(NlriFormat::Flowspec) => {
            if let Ok(it) = FlowIter::new_checked(field, afi, add_path, 0, act) {
                for n in it {
                    let plain = crate::wire::flowspec::FlowNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), Nb::from_slice(n.components), nlri));
                }
            }
        }
        Some(NlriFormat::Rtc) => {
            if let Ok(it) = RtcIter::new_checked(field, add_path, 0, act) {
                for n in it {
                    let plain = RtcNlri { path_id: None, ..n };
                    let nlri = emit(plain.buffer_len(), &|w| plain.emit(w));
                    out.push((n.path_id.unwrap_or(0), Nb::from_slice(&n.key()), nlri));
                }
            }
        }
        None => {}
    }
    out
}

/// An NLRI that withdraws the route with `key` (labeled and VPN withdrawals
/// carry the compatibility label 0x800000, RFC 8277 §2.4; an EVPN withdrawal
/// carries the key fields with the others zero).
fn withdraw_nlri(f: AfiSafi, key: &[u8]) -> Nb {
    let mut b = Nb::new();
    match NlriFormat::of(f) {
        Some(NlriFormat::Ip) => b.extend_from_slice(key),
        Some(NlriFormat::Labeled) => {
            if let Some((len, rest)) = key.split_first() {
                b.push(len.saturating_add(24));
                b.extend_from_slice(&[0x80, 0, 0]);
                b.extend_from_slice(rest);
            }
        }
        Some(NlriFormat::Vpn) => {
            if let (Some(rd), Some((len, rest))) =
                (key.get(..8), key.get(8..).and_then(|k| k.split_first()))
            {
                b.push(len.saturating_add(88));
                b.extend_from_slice(&[0x80, 0, 0]);
                b.extend_from_slice(rd);
                b.extend_from_slice(rest);
            }
        }
        Some(NlriFormat::Evpn) => {
            let Some((&t, k)) = key.split_first() else {
                return b;
            };
            let mut v: Nb = Nb::new();
            let rd = k.get(..8).unwrap_or(&[]);
            match t {
                1 => {
                    v.extend_from_slice(k);
                    v.extend_from_slice(&[0; 3]);
                }
                2 => {
                    v.extend_from_slice(rd);
                    v.extend_from_slice(&[0; 10]);
                    v.extend_from_slice(k.get(8..).unwrap_or(&[]));
                    v.extend_from_slice(&[0; 3]);
                }
                5 => {
                    let n = if k.len() == 8 + 4 + 1 + 4 { 4 } else { 16 };
                    v.extend_from_slice(rd);
                    v.extend_from_slice(&[0; 10]);
                    v.extend_from_slice(k.get(8..).unwrap_or(&[]));
                    v.extend(core::iter::repeat_n(0, n + 3));
                }
                _ => v.extend_from_slice(k),
            }
            b.push(t);
            b.push(v.len() as u8);
            b.extend_from_slice(&v);
        }
        Some(NlriFormat::Flowspec) => {
            if key.len() < 240 {
                b.push(key.len() as u8);
            } else {
                b.extend_from_slice(&(0xf000 | key.len() as u16).to_be_bytes());
            }
            b.extend_from_slice(key);
        }
        Some(NlriFormat::Rtc) => {
            if let Some((&len, rest)) = key.split_first() {
                b.push(len);
                if len > 0 {
                    let n = 4 + usize::from(len - 32).div_ceil(8);
                    b.extend_from_slice(rest.get(..n).unwrap_or(&[]));
                }
            }
        }
        None => {}
    }
    b
}

/// A peer's RT memberships (RFC 4684): the RT membership routes it sent.
#[derive(Debug, Default, Clone)]
pub(super) struct Membership {
    default: bool,
    exact: HashSet<[u8; 8]>,
    partial: Vec<RtcNlri>,
}

impl Membership {
    fn covers(&self, rts: &[[u8; 8]]) -> bool {
        self.default
            || rts
                .iter()
                .any(|rt| self.exact.contains(rt) || self.partial.iter().any(|m| m.covers(rt)))
    }
}

/// The route targets among a canonical block's extended communities
/// (transitive two-octet-AS, IPv4 and four-octet-AS types, sub-type 2).
fn route_targets(block: &[u8]) -> SmallVec<[[u8; 8]; 4]> {
    let mut out = SmallVec::new();
    let mut rest = block;
    while let Some((_, t, start, end)) = crate::wire::attribute::tlv(rest, 0) {
        if t == type_code::EXTENDED_COMMUNITIES {
            for c in rest.get(start..end).unwrap_or(&[]).chunks_exact(8) {
                if matches!(c, [0x00..=0x02, 0x02, ..]) {
                    if let Ok(a) = <[u8; 8]>::try_from(c) {
                        out.push(a);
                    }
                }
            }
        }
        rest = rest.get(end..).unwrap_or(&[]);
    }
    out
}

/// The fingerprint of what a peer is sent for one path.
fn fingerprint(h: &DefaultHashBuilder, blk: &OutBlock, nlri: &[u8]) -> u64 {
    h.hash_one((&blk.attrs[..], blk.mp_next_hop.as_deref(), nlri))
}

/// Announcements grouped by block, and withdrawals, for one peer.
#[derive(Default)]
struct Batch {
    groups: Vec<(Arc<OutBlock>, Vec<Nb>)>,
    group_of: HashMap<*const OutBlock, usize>,
    withdrawals: Vec<Nb>,
}

impl Batch {
    fn announce(&mut self, blk: Arc<OutBlock>, nlri: Nb) {
        let k = Arc::as_ptr(&blk);
        let i = *self.group_of.entry(k).or_insert_with(|| {
            self.groups.push((blk, Vec::new()));
            self.groups.len() - 1
        });
        if let Some((_, v)) = self.groups.get_mut(i) {
            v.push(nlri);
        }
    }
}

fn with_path_id(add_path: bool, id: u32, nlri: &[u8]) -> Nb {
    let mut b = Nb::new();
    if add_path {
        b.extend_from_slice(&id.to_be_bytes());
    }
    b.extend_from_slice(nlri);
    b
}

/// Write `b`'s withdrawals and announcements for family `f` as UPDATEs into
/// `out`; returns (messages, announced, withdrawn, overflowed).
fn pack(out: &mut Vec<u8>, max_len: usize, f: AfiSafi, b: &Batch) -> (u64, u64, u64, u64) {
    let mut counts = (0u64, 0u64, 0u64, 0u64);
    let begin = |out: &mut Vec<u8>| {
        let start = out.len();
        out.extend_from_slice(&MARKER);
        out.extend_from_slice(&[0, 0, 2]);
        start
    };
    let finish = |out: &mut Vec<u8>, start: usize| {
        let len = (out.len() - start) as u16;
        if let Some(d) = out.get_mut(start + 16..start + 18) {
            d.copy_from_slice(&len.to_be_bytes());
        }
    };
    // Withdrawals: MP_UNREACH_NLRI only.
    let fixed = HEADER_LEN + 4 + 4 + 3;
    let mut rest = &b.withdrawals[..];
    while !rest.is_empty() {
        let mut room = max_len.saturating_sub(fixed);
        let take = rest
            .iter()
            .take_while(|n| {
                let ok = n.len() <= room;
                room = room.saturating_sub(n.len());
                ok
            })
            .count();
        if take == 0 {
            counts.3 += rest.len() as u64;
            break;
        }
        let (batch, tail) = rest.split_at(take);
        rest = tail;
        let body: usize = batch.iter().map(|n| n.len()).sum();
        let start = begin(out);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&((4 + 3 + body) as u16).to_be_bytes());
        out.push(flags::OPTIONAL | flags::EXTENDED_LENGTH);
        out.push(type_code::MP_UNREACH_NLRI);
        out.extend_from_slice(&((3 + body) as u16).to_be_bytes());
        out.extend_from_slice(&f.afi.0.to_be_bytes());
        out.push(f.safi.0);
        for n in batch {
            out.extend_from_slice(n);
        }
        finish(out, start);
        counts.0 += 1;
        counts.2 += batch.len() as u64;
    }
    for (blk, nlri) in &b.groups {
        let nh: &[u8] = blk.mp_next_hop.as_deref().unwrap_or(&[]);
        let fixed = HEADER_LEN + 4 + blk.attrs.len() + 4 + 5 + nh.len();
        let mut rest = &nlri[..];
        while !rest.is_empty() {
            let mut room = max_len.saturating_sub(fixed);
            let take = rest
                .iter()
                .take_while(|n| {
                    let ok = n.len() <= room;
                    room = room.saturating_sub(n.len());
                    ok
                })
                .count();
            if take == 0 {
                counts.3 += rest.len() as u64;
                break;
            }
            let (batch, tail) = rest.split_at(take);
            rest = tail;
            let body: usize = batch.iter().map(|n| n.len()).sum();
            let start = begin(out);
            out.extend_from_slice(&[0, 0]);
            let al_at = out.len();
            out.extend_from_slice(&[0, 0]);
            out.push(flags::OPTIONAL | flags::EXTENDED_LENGTH);
            out.push(type_code::MP_REACH_NLRI);
            out.extend_from_slice(&((5 + nh.len() + body) as u16).to_be_bytes());
            out.extend_from_slice(&f.afi.0.to_be_bytes());
            out.push(f.safi.0);
            out.push(nh.len() as u8);
            out.extend_from_slice(nh);
            out.push(0);
            for n in batch {
                out.extend_from_slice(n);
            }
            out.extend_from_slice(&blk.attrs);
            let al = out.len() - al_at - 2;
            if let Some(d) = out.get_mut(al_at..al_at + 2) {
                d.copy_from_slice(&(al as u16).to_be_bytes());
            }
            finish(out, start);
            counts.0 += 1;
            counts.1 += batch.len() as u64;
        }
    }
    counts
}

/// What a target peer is like, for the export rules.
struct KTarget {
    id: PeerId,
    role: Role,
    rid: u32,
    four_octet: bool,
    add_path: bool,
    requires_policy: bool,
    v6_next_hop: bool,
    membership: Option<Arc<Membership>>,
    local_v4: Option<core::net::Ipv4Addr>,
    local_v6: Option<core::net::Ipv6Addr>,
}

/// The export rules of [`super::export`] for one path, without policy.
#[allow(clippy::too_many_arguments)]
fn out_block(
    t: &KTarget,
    kp: &KPath,
    peers: &[PeerState],
    attrs: &Interner<()>,
    cache: &mut reflect::OutCache,
    me: &reflect::LocalIdentity,
    c2c: bool,
    family: AfiSafi,
) -> Option<Arc<OutBlock>> {
    let p = &kp.path;
    if p.peer == t.id || t.requires_policy {
        return None;
    }
    let (source, src_rid) = if p.peer == PeerId::LOCAL {
        (Source::Local, 0)
    } else {
        let s = peers.get(p.peer.index())?;
        (s.source(), s.router_id)
    };
    if !reflect::may_export(source, t.role, c2c) {
        return None;
    }
    let set = attrs.get(p.attrs)?;
    if set.withheld_from(t.role == Role::Ebgp) {
        return None;
    }
    let originator = set.originator_id().unwrap_or(src_rid);
    let from_ibgp = matches!(source, Source::Peer(r) if r.is_ibgp());
    if t.role.is_ibgp() && from_ibgp && originator == t.rid {
        return None;
    }
    // RFC 8950: an IPv6 next hop for IPv4 routes only where negotiated.
    if family.afi == Afi::IPV4
        && !t.v6_next_hop
        && set.mp_next_hop().is_some_and(|nh| {
            matches!(
                (NlriFormat::of(family), nh.len()),
                (Some(NlriFormat::Vpn), 24 | 48)
                    | (Some(NlriFormat::Ip | NlriFormat::Labeled), 16 | 32)
            )
        })
    {
        return None;
    }
    if rt_filtered(family) {
        if let Some(m) = &t.membership {
            if !m.covers(&route_targets(set.block())) {
                return None;
            }
        }
    }
    let class = match (t.role, source) {
        (Role::Ebgp, _) => ExportClass::External {
            next_hop_v4: t.local_v4,
            next_hop_v6: t.local_v6,
            keep_med: source == Source::Local,
            four_octet: t.four_octet,
            add_otc: false,
        },
        (_, Source::Peer(Role::Client | Role::NonClient)) => ExportClass::Reflect {
            originator,
            four_octet: t.four_octet,
        },
        _ => ExportClass::Internal {
            four_octet: t.four_octet,
        },
    };
    // The reflected path keeps its next hop (and with it the labels' meaning).
    let tag = (
        u32::MAX,
        u64::from(family.safi.0) << 16 | u64::from(family.afi.0),
    );
    if let Some(b) = cache.get(&(p.attrs, class, tag)) {
        return Some(b.clone());
    }
    let mut blk = reflect::rewrite(set.block(), None, &class, me);
    blk.mp_next_hop = set.mp_next_hop().map(alloc::boxed::Box::from);
    if matches!(class, ExportClass::External { .. }) {
        // NEXT_HOP is an IPv4 unicast attribute: the MP next hop stands.
        blk.attrs = strip_next_hop(&blk.attrs).into_boxed_slice();
    }
    let blk = Arc::new(blk);
    cache.insert((p.attrs, class, tag), blk.clone());
    Some(blk)
}

fn strip_next_hop(block: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len());
    let mut rest = block;
    while let Some((_, t, _, end)) = crate::wire::attribute::tlv(rest, 0) {
        if t != type_code::NEXT_HOP {
            out.extend_from_slice(rest.get(..end).unwrap_or(&[]));
        }
        rest = rest.get(end..).unwrap_or(&[]);
    }
    out
}

impl Engine {
    /// Import the NLRI of one MP_UNREACH_NLRI (`unreach`) or MP_REACH_NLRI
    /// field of keyed family `f`: announced with the interned set `attrs`
    /// (one reference per path taken here), or withdrawn when `attrs` is
    /// `None`. Returns (announced, withdrawn).
    pub(super) fn import_keyed(
        &mut self,
        peer: PeerId,
        f: AfiSafi,
        field: &[u8],
        add_path: bool,
        unreach: bool,
        attrs: Option<AttrId>,
    ) -> (u32, u32) {
        let Some(fi) = keyed_index(f) else {
            return (0, 0);
        };
        let mut counts = (0u32, 0u32);
        for (rid, key, nlri) in parse_field(f, field, add_path, unreach) {
            match attrs {
                Some(id) => {
                    self.attrs.retain(id);
                    if self.keyed_insert(fi, peer, rid, &key, nlri, id) {
                        counts.0 += 1;
                    }
                }
                None => counts.1 += self.keyed_withdraw(fi, peer, rid, &key) as u32,
            }
        }
        if f == AfiSafi::RT_CONSTRAINT {
            self.rtc_changed.insert(peer);
            self.memberships.remove(&peer);
        }
        counts
    }

    /// Add or replace a path (consuming one reference to `id`); returns whether anything changed.
    fn keyed_insert(
        &mut self,
        fi: usize,
        peer: PeerId,
        rid: u32,
        key: &[u8],
        nlri: Nb,
        id: AttrId,
    ) -> bool {
        if let Some(r) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.restart.as_mut())
        {
            if r.stale
                .contains(KEYED.get(fi).copied().unwrap_or(AfiSafi::IPV4_UNICAST))
            {
                r.refreshed_keyed
                    .insert((fi as u8, Nb::from_slice(key), rid));
            }
        }
        let next = &mut self.next_local_id;
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            self.attrs.release(id);
            return false;
        };
        let slot = rib.find_or_insert(key);
        let Some(e) = rib.entries.get_mut(slot as usize) else {
            self.attrs.release(id);
            return false;
        };
        if let Some(kp) = e
            .paths
            .iter_mut()
            .find(|kp| kp.path.peer == peer && kp.path.remote_id == rid)
        {
            if kp.path.attrs == id && kp.nlri == nlri {
                self.attrs.release(id);
                return false;
            }
            let old = core::mem::replace(&mut kp.path.attrs, id);
            kp.nlri = nlri;
            self.attrs.release(old);
            rib.touch(slot);
            return true;
        }
        let mut local_id = *next;
        while e.paths.iter().any(|kp| kp.path.local_id == local_id) {
            local_id = local_id.wrapping_add(1).max(1);
        }
        *next = local_id.wrapping_add(1).max(1);
        if e.paths.is_empty() {
            rib.routes += 1;
        }
        e.paths.push(KPath {
            path: Path {
                attrs: id,
                peer,
                remote_id: rid,
                local_id,
            },
            nlri,
        });
        rib.touch(slot);
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(super::family::KEYED_BASE + fi))
        {
            *h += 1;
        }
        true
    }

    fn keyed_withdraw(&mut self, fi: usize, peer: PeerId, rid: u32, key: &[u8]) -> bool {
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return false;
        };
        let Some(slot) = rib.find(key) else {
            return false;
        };
        let Some(e) = rib.entries.get_mut(slot as usize) else {
            return false;
        };
        let Some(i) = e
            .paths
            .iter()
            .position(|kp| kp.path.peer == peer && kp.path.remote_id == rid)
        else {
            return false;
        };
        let kp = e.paths.remove(i);
        if e.paths.is_empty() {
            rib.routes -= 1;
        }
        self.attrs.release(kp.path.attrs);
        rib.touch(slot);
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(super::family::KEYED_BASE + fi))
        {
            *h = h.saturating_sub(1);
        }
        true
    }

    /// Remove the peer's paths of keyed family `fi` (with `keep`, all but
    /// those announced again since they became stale); returns how many.
    pub(super) fn keyed_sweep(&mut self, fi: usize, peer: PeerId, keep: bool) -> u64 {
        let kept: HashSet<(Nb, u32)> = if keep {
            self.peers
                .get_mut(peer.index())
                .and_then(|p| p.restart.as_mut())
                .map(|r| {
                    let mut s = HashSet::new();
                    r.refreshed_keyed.retain(|(f, k, rid)| {
                        if usize::from(*f) == fi {
                            s.insert((k.clone(), *rid));
                            false
                        } else {
                            true
                        }
                    });
                    s
                })
                .unwrap_or_default()
        } else {
            HashSet::new()
        };
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return 0;
        };
        let mut removed = 0u64;
        let mut released: Vec<AttrId> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        let mut emptied = 0usize;
        for (slot, e) in rib.entries.iter_mut().enumerate() {
            let before = e.paths.len();
            let key = &e.key;
            e.paths.retain(|kp| {
                let goes = kp.path.peer == peer
                    && !(keep && kept.contains(&(key.clone(), kp.path.remote_id)));
                if goes {
                    released.push(kp.path.attrs);
                }
                !goes
            });
            if e.paths.len() != before {
                removed += (before - e.paths.len()) as u64;
                touched.push(slot as u32);
                if e.paths.is_empty() {
                    emptied += 1;
                }
            }
        }
        rib.routes -= emptied;
        for s in touched {
            rib.touch(s);
        }
        for id in released {
            self.attrs.release(id);
        }
        if let Some(h) = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.held.get_mut(super::family::KEYED_BASE + fi))
        {
            *h = h.saturating_sub(removed);
        }
        if KEYED.get(fi) == Some(&AfiSafi::RT_CONSTRAINT) && removed > 0 {
            self.rtc_changed.insert(peer);
            self.memberships.remove(&peer);
        }
        removed
    }

    /// Paths of the peer in keyed family `fi`.
    pub(super) fn keyed_count(rib: &Rib, fi: usize, peer: PeerId) -> u64 {
        rib.keyed.0.get(fi).map_or(0, |r| {
            r.entries
                .iter()
                .map(|e| e.paths.iter().filter(|kp| kp.path.peer == peer).count() as u64)
                .sum()
        })
    }

    /// Mark every route of keyed family `fi` changed.
    pub(super) fn keyed_mark_all(rib: &mut Rib, fi: usize) {
        if let Some(r) = rib.keyed.0.get_mut(fi) {
            for s in 0..r.entries.len() as u32 {
                if r.entries.get(s as usize).is_some_and(|e| !e.key.is_empty()) {
                    r.touch(s);
                }
            }
        }
    }

    /// The peer's RT memberships, from the RT membership routes it sent.
    fn membership_of(&self, peer: PeerId) -> Membership {
        let mut m = Membership::default();
        let Some(fi) = keyed_index(AfiSafi::RT_CONSTRAINT) else {
            return m;
        };
        let Some(rib) = self.rib.keyed.0.get(fi) else {
            return m;
        };
        for e in &rib.entries {
            if !e.paths.iter().any(|kp| kp.path.peer == peer) {
                continue;
            }
            let k = &e.key;
            let len = k.first().copied().unwrap_or(0);
            if len == 0 {
                m.default = true;
                continue;
            }
            let mut rt = [0u8; 8];
            for (d, s) in rt.iter_mut().zip(k.iter().skip(5)) {
                *d = *s;
            }
            if len == 96 {
                m.exact.insert(rt);
            } else {
                let origin_as = k
                    .get(1..5)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_be_bytes);
                m.partial.push(RtcNlri {
                    path_id: None,
                    len,
                    origin_as,
                    route_target: rt,
                });
            }
        }
        m
    }

    fn ktarget(&mut self, peer: PeerId, f: AfiSafi) -> Option<KTarget> {
        let tp = self.peers.get(peer.index())?;
        if tp.removed || !tp.has_family(f) {
            return None;
        }
        let membership = if rt_filtered(f) && tp.has_family(AfiSafi::RT_CONSTRAINT) {
            Some(match self.memberships.get(&peer) {
                Some(m) => m.clone(),
                None => {
                    let m = Arc::new(self.membership_of(peer));
                    self.memberships.insert(peer, m.clone());
                    m
                }
            })
        } else {
            None
        };
        let tp = self.peers.get(peer.index())?;
        Some(KTarget {
            id: peer,
            role: tp.cfg.role,
            rid: tp.router_id,
            four_octet: tp.tx_ctx.four_octet_as,
            add_path: tp.add_path_tx(f),
            requires_policy: self.cfg.ebgp_requires_policy && tp.cfg.role == Role::Ebgp,
            v6_next_hop: tp.up.is_some_and(|n| n.extended_next_hop.contains(f)),
            membership,
            local_v4: tp.cfg.local_v4,
            local_v6: tp.cfg.local_v6,
        })
    }

    /// Bring what `peer` was told of the routes at `slots` of keyed family
    /// `fi` (each with whether its best path changed at this flush; all
    /// routes when `None`) in line with the table, writing the difference
    /// into its queue.
    ///
    /// A peer without ADD-PATH has one bit per route: set while it holds the
    /// route, which is then the best path of the last flush. One with
    /// ADD-PATH has an explicit record of the path identifiers it holds.
    ///
    /// `followers` are peers of the same class as `peer` (same rewrite, none
    /// of them the source or originator of a route at `slots`) that hold
    /// exactly what it holds: they get the same bytes, encoded once.
    fn keyed_export_to(
        &mut self,
        fi: usize,
        peer: PeerId,
        slots: Option<&[(u32, bool)]>,
        followers: &[PeerId],
    ) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        let Some(t) = self.ktarget(peer, f) else {
            return;
        };
        let Some(rib) = self.rib.keyed.0.get(fi) else {
            return;
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let mut tx_adj = core::mem::take(&mut self.keyed_adj_scratch);
        core::mem::swap(&mut tx_adj, &mut p.tx.adj_keyed);
        if p.tx.keyed_sent.len() <= fi {
            p.tx.keyed_sent.resize_with(KEYED_COUNT, Vec::new);
        }
        let mut bits =
            p.tx.keyed_sent
                .get_mut(fi)
                .map(core::mem::take)
                .unwrap_or_default();
        if bits.len() < rib.entries.len().div_ceil(64) {
            bits.resize(rib.entries.len().div_ceil(64), 0);
        }
        let mut batch = Batch::default();
        let hasher = &self.rib.keyed.1;
        let all: Vec<(u32, bool)>;
        let slots = match slots {
            Some(s) => s,
            None => {
                all = rib
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i as u32, e.dirty()))
                    .collect();
                &all
            }
        };
        for &(slot, changed) in slots {
            let Some(e) = rib.entries.get(slot as usize) else {
                continue;
            };
            let best = e.paths.first().filter(|kp| {
                decide::reachable(
                    self.attrs.get(kp.path.attrs),
                    kp.path.peer,
                    self.resolver.as_ref(),
                )
            });
            let mut block = |kp: &KPath| {
                out_block(
                    &t,
                    kp,
                    &self.peers,
                    &self.attrs,
                    &mut self.out_cache,
                    &self.me,
                    self.cfg.client_to_client,
                    f,
                )
            };
            if !t.add_path {
                let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
                let had = bits.get(w).is_some_and(|x| x & b != 0);
                match best.and_then(|kp| block(kp).map(|blk| (kp, blk))) {
                    Some((kp, blk)) => {
                        if !had || changed {
                            batch.announce(blk, kp.nlri.clone());
                        }
                        if let Some(x) = bits.get_mut(w) {
                            *x |= b;
                        }
                    }
                    None if had => {
                        batch.withdrawals.push(withdraw_nlri(f, &e.key));
                        if let Some(x) = bits.get_mut(w) {
                            *x &= !b;
                        }
                    }
                    None => {}
                }
                continue;
            }
            let tag = (fi as u32) << 27 | slot;
            // ADD-PATH: every path the peer may have, each under our identifier.
            let mut want: SmallVec<[(u32, Arc<OutBlock>, &Nb); 2]> = SmallVec::new();
            if best.is_some() {
                for kp in &e.paths {
                    if let Some(blk) = block(kp) {
                        want.push((kp.path.local_id, blk, &kp.nlri));
                    }
                }
            }
            let had: SmallVec<[u32; 2]> = match tx_adj.get(&tag) {
                Some(v) => v.iter().map(|(pid, _)| *pid).collect(),
                None => SmallVec::new(),
            };
            for pid in had {
                if !want.iter().any(|(w, _, _)| *w == pid) {
                    batch
                        .withdrawals
                        .push(with_path_id(true, pid, &withdraw_nlri(f, &e.key)));
                    if let Some(v) = tx_adj.get_mut(&tag) {
                        v.retain(|(p, _)| *p != pid);
                    }
                }
            }
            for (pid, blk, nlri) in want {
                let fp = fingerprint(hasher, &blk, nlri);
                let v = tx_adj.entry(tag).or_default();
                match v.iter_mut().find(|(p, _)| *p == pid) {
                    Some((_, old)) if *old == fp => continue,
                    Some((_, old)) => *old = fp,
                    None => v.push((pid, fp)),
                }
                batch.announce(blk, with_path_id(true, pid, nlri));
            }
            if tx_adj.get(&tag).is_some_and(|v| v.is_empty()) {
                tx_adj.remove(&tag);
            }
        }
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        core::mem::swap(&mut tx_adj, &mut p.tx.adj_keyed);
        self.keyed_adj_scratch = tx_adj;
        let max = p.tx_ctx.max_message_len();
        if followers.is_empty() {
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                *v = bits;
            }
            let (msgs, ann, wd, over) = pack(&mut p.tx.out, max, f, &batch);
            p.counters.updates_sent += msgs;
            p.counters.prefixes_sent += ann;
            p.counters.withdrawals_sent += wd;
            p.counters.encode_overflows += over;
            return;
        }
        let mut out = Vec::new();
        let (msgs, ann, wd, over) = pack(&mut out, max, f, &batch);
        let bytes = bytes::Bytes::from(out);
        for &m in core::iter::once(&peer).chain(followers) {
            let Some(p) = self.peers.get_mut(m.index()) else {
                continue;
            };
            if p.tx.keyed_sent.len() <= fi {
                p.tx.keyed_sent.resize_with(KEYED_COUNT, Vec::new);
            }
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                v.clone_from(&bits);
            }
            p.tx.push_shared(&bytes);
            p.counters.updates_sent += msgs;
            p.counters.prefixes_sent += ann;
            p.counters.withdrawals_sent += wd;
            p.counters.encode_overflows += over;
        }
    }

    /// What makes two peers get the same bytes for the same routes of
    /// family `f` (`None`: the peer is exported to alone — ADD-PATH, RT
    /// membership filtering).
    fn share_key(&self, peer: PeerId, f: AfiSafi) -> Option<ShareKey> {
        let tp = self.peers.get(peer.index())?;
        if tp.add_path_tx(f) || (rt_filtered(f) && tp.has_family(AfiSafi::RT_CONSTRAINT)) {
            return None;
        }
        let ebgp = tp.cfg.role == Role::Ebgp;
        Some(ShareKey {
            role: tp.cfg.role,
            four_octet: tp.tx_ctx.four_octet_as,
            max_len: tp.tx_ctx.max_message_len(),
            v6_next_hop: tp.up.is_some_and(|n| n.extended_next_hop.contains(f)),
            local: if ebgp {
                (tp.cfg.local_v4, tp.cfg.local_v6)
            } else {
                (None, None)
            },
        })
    }

    /// Export the routes at `slots` of keyed family `fi` to `targets`:
    /// peers of one class that hold the same routes, and are neither the
    /// source nor the originator of any of them, share one encoding.
    fn keyed_export_all(&mut self, fi: usize, targets: &[PeerId], slots: &[(u32, bool)]) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        // Sources and originators of the routes in this batch export alone.
        let mut near: HashSet<PeerId> = HashSet::new();
        let mut near_rids: HashSet<u32> = HashSet::new();
        if let Some(rib) = self.rib.keyed.0.get(fi) {
            for &(slot, _) in slots {
                if let Some(kp) = rib.entries.get(slot as usize).and_then(|e| e.paths.first()) {
                    near.insert(kp.path.peer);
                    if let Some(o) = self
                        .attrs
                        .get(kp.path.attrs)
                        .and_then(|s| s.originator_id())
                    {
                        near_rids.insert(o);
                    }
                    if let Some(src) = self.peers.get(kp.path.peer.index()) {
                        near_rids.insert(src.router_id);
                    }
                }
            }
        }
        fn bits_of(e: &Engine, p: PeerId, fi: usize) -> &[u64] {
            e.peers
                .get(p.index())
                .and_then(|p| p.tx.keyed_sent.get(fi))
                .map_or(&[][..], Vec::as_slice)
        }
        let same_bits = |a: &[u64], b: &[u64]| {
            let n = a.len().max(b.len());
            (0..n).all(|i| a.get(i).copied().unwrap_or(0) == b.get(i).copied().unwrap_or(0))
        };
        let mut groups: Vec<(ShareKey, Vec<PeerId>)> = Vec::new();
        let mut alone: Vec<PeerId> = Vec::new();
        for &peer in targets {
            let rid = self.peers.get(peer.index()).map_or(0, |p| p.router_id);
            let key = self
                .share_key(peer, f)
                .filter(|_| !near.contains(&peer) && !near_rids.contains(&rid));
            let Some(key) = key else {
                alone.push(peer);
                continue;
            };
            let found = groups.iter_mut().find(|(k, members)| {
                *k == key
                    && members
                        .first()
                        .is_some_and(|&m| same_bits(bits_of(self, m, fi), bits_of(self, peer, fi)))
            });
            match found {
                Some((_, members)) => members.push(peer),
                None => groups.push((key, alloc::vec![peer])),
            }
        }
        for peer in alone {
            self.keyed_export_to(fi, peer, Some(slots), &[]);
        }
        for (_, members) in groups {
            if let Some((&first, rest)) = members.split_first() {
                self.keyed_export_to(fi, first, Some(slots), rest);
            }
        }
    }

    /// Whether any peer still holds the route at `slot` of keyed family `fi`.
    fn keyed_held(&self, fi: usize, slot: u32) -> bool {
        let (w, b) = (slot as usize / 64, 1u64 << (slot % 64));
        let tag = (fi as u32) << 27 | slot;
        self.peers.iter().any(|p| {
            p.tx.keyed_sent
                .get(fi)
                .and_then(|v| v.get(w))
                .is_some_and(|x| x & b != 0)
                || p.tx.adj_keyed.contains_key(&tag)
        })
    }

    /// Rank the changed routes of keyed family `fi` and send every peer the difference.
    pub(super) fn keyed_flush(&mut self, fi: usize) {
        let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
            return;
        };
        if rib.dirty.is_empty() && (fi != RTC_INDEX || self.rtc_changed.is_empty()) {
            return;
        }
        let f = rib.family;
        let dirty_slots = core::mem::take(&mut rib.dirty);
        let mut dirty: Vec<(u32, bool)> = Vec::with_capacity(dirty_slots.len());
        for slot in dirty_slots {
            let hasher = &self.rib.keyed.1;
            let Some(rib) = self.rib.keyed.0.get_mut(fi) else {
                return;
            };
            let Some(e) = rib.entries.get_mut(slot as usize) else {
                continue;
            };
            e.set_dirty(false);
            rank(
                e,
                &self.attrs,
                &self.peers,
                &self.cfg,
                self.resolver.as_ref(),
            );
            let fp = best_fingerprint(hasher, e, &self.attrs, self.resolver.as_ref());
            dirty.push((slot, fp & !1 != e.sent_fp()));
            e.set_sent_fp(fp);
        }
        let targets: Vec<PeerId> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.up.is_some() && p.has_family(f))
            .map(|(i, _)| PeerId(i as u32))
            .collect();
        let mut live = Vec::with_capacity(targets.len());
        for peer in targets {
            if let Some(q) = self
                .peers
                .get_mut(peer.index())
                .and_then(|p| p.paused.as_mut())
            {
                q.keyed_sync |= 1 << fi;
                continue;
            }
            live.push(peer);
        }
        self.keyed_export_all(fi, &live, &dirty);
        self.out_cache.clear();
        // Emptied routes go once no peer holds them (a paused peer may).
        for &(slot, _) in &dirty {
            if !self.keyed_held(fi, slot) {
                if let Some(rib) = self.rib.keyed.0.get_mut(fi) {
                    rib.remove_if_empty(slot);
                }
            }
        }
        if fi == RTC_INDEX && !self.rtc_changed.is_empty() {
            // Memberships changed: those peers' VPN and EVPN routes are re-judged.
            let changed: Vec<PeerId> = self.rtc_changed.drain().collect();
            for peer in changed {
                for g in [AfiSafi::VPNV4, AfiSafi::VPNV6, AfiSafi::EVPN] {
                    if let Some(gi) = keyed_index(g) {
                        self.keyed_sync(gi, peer);
                    }
                }
            }
            self.out_cache.clear();
        }
    }

    /// Bring a peer's view of keyed family `fi` in line with the whole table.
    pub(super) fn keyed_sync(&mut self, fi: usize, peer: PeerId) {
        let paused = self
            .peers
            .get_mut(peer.index())
            .and_then(|p| p.paused.as_mut())
            .map(|q| q.keyed_sync |= 1 << fi)
            .is_some();
        if !paused {
            self.keyed_export_to(fi, peer, None, &[]);
        }
    }

    /// Send the peer the whole table of keyed family `fi` afresh (a route
    /// refresh, or a new session), then End-of-RIB if asked.
    pub(super) fn keyed_dump(&mut self, fi: usize, peer: PeerId, end_of_rib: bool) {
        self.flush();
        self.keyed_send_all(fi, peer, end_of_rib);
    }

    /// [`Engine::keyed_dump`] on a flushed engine.
    fn keyed_send_all(&mut self, fi: usize, peer: PeerId, end_of_rib: bool) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        if !p.has_family(f) {
            return;
        }
        p.tx.adj_keyed.retain(|tag, _| (*tag >> 27) as usize != fi);
        if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
            v.clear();
        }
        if f == AfiSafi::RT_CONSTRAINT
            && p.cfg.role == Role::Client
            && self.cfg.rtc_default_to_clients
        {
            // RFC 4684 §3.2: a client is asked for every route target.
            self.send_default_membership(peer);
        }
        self.keyed_export_to(fi, peer, None, &[]);
        self.out_cache.clear();
        if end_of_rib {
            if let Some(p) = self.peers.get_mut(peer.index()) {
                let max = p.tx_ctx.max_message_len();
                reflect::Packer::new(&mut p.tx.out, max, false).end_of_rib(f);
                p.counters.updates_sent += 1;
            }
        }
    }

    /// Announce the default RT membership to a client (RFC 4684 §3.2).
    fn send_default_membership(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(peer.index()) else {
            return;
        };
        let nh: Option<Nb> = match (p.cfg.local_v4, p.cfg.local_v6) {
            (Some(a), _) => Some(Nb::from_slice(&a.octets())),
            (None, Some(a)) => Some(Nb::from_slice(&a.octets())),
            _ => None,
        };
        let Some(nh) = nh else {
            return;
        };
        let mut attrs: Vec<u8> = Vec::new();
        reflect::push_attr(&mut attrs, flags::TRANSITIVE, type_code::ORIGIN, &[0]);
        reflect::push_attr(&mut attrs, flags::TRANSITIVE, type_code::AS_PATH, &[]);
        reflect::push_attr(
            &mut attrs,
            flags::TRANSITIVE,
            type_code::LOCAL_PREF,
            &self.me.default_local_pref.to_be_bytes(),
        );
        let blk = Arc::new(OutBlock {
            attrs: attrs.into_boxed_slice(),
            mp_next_hop: Some(alloc::boxed::Box::from(&nh[..])),
        });
        let mut b = Batch::default();
        let add_path = p.tx_ctx.add_path(AfiSafi::RT_CONSTRAINT);
        b.announce(blk, with_path_id(add_path, 0, &[0]));
        let max = p.tx_ctx.max_message_len();
        let (msgs, ann, _, _) = pack(&mut p.tx.out, max, AfiSafi::RT_CONSTRAINT, &b);
        p.counters.updates_sent += msgs;
        p.counters.prefixes_sent += ann;
    }

    /// Queue a fresh session's table of keyed family `fi` (sent whole at its first catch-up step).
    pub(super) fn keyed_start_fresh(&mut self, fi: usize, peer: PeerId, pending: &mut Pending) {
        let Some(f) = KEYED.get(fi).copied() else {
            return;
        };
        if let Some(p) = self.peers.get_mut(peer.index()).filter(|p| p.has_family(f)) {
            p.tx.adj_keyed.retain(|tag, _| (*tag >> 27) as usize != fi);
            if let Some(v) = p.tx.keyed_sent.get_mut(fi) {
                v.clear();
            }
            pending.keyed_fresh |= 1 << fi;
        }
    }

    /// A paused peer's keyed families that changed while it was paused are
    /// brought up to date in one step; returns how many families were synced.
    pub(super) fn keyed_resume(&mut self, fi: usize, peer: PeerId, pending: &mut Pending) -> usize {
        let bit = 1u16 << fi;
        let mut n = 0;
        if pending.keyed_sync & bit != 0 {
            pending.keyed_sync &= !bit;
            self.keyed_export_to(fi, peer, None, &[]);
            n += 1;
        }
        if pending.keyed_fresh & bit != 0 {
            pending.keyed_fresh &= !bit;
            self.keyed_send_all(fi, peer, true);
            n += 1;
        }
        n
    }

    /// Routes and paths in keyed family `f` (`None` if the engine does not keep it).
    pub fn keyed_counts(&self, f: AfiSafi) -> Option<(usize, usize)> {
        let r = self.rib.keyed.0.get(keyed_index(f)?)?;
        Some((r.len(), r.paths()))
    }

    /// Routes in keyed family `f` (`None` if the engine does not keep it).
    pub fn keyed_routes(&self, f: AfiSafi) -> Option<usize> {
        self.rib.keyed.0.get(keyed_index(f)?).map(KeyedRib::len)
    }

    /// The routes of keyed family `f`: for each, the NLRI of its best path and
    /// the peer it came from, and how many paths it has.
    pub fn keyed_best(&self, f: AfiSafi) -> Vec<(Vec<u8>, PeerId, usize)> {
        let Some(rib) = keyed_index(f).and_then(|i| self.rib.keyed.0.get(i)) else {
            return Vec::new();
        };
        rib.entries
            .iter()
            .filter_map(|e| {
                let b = e.paths.first()?;
                Some((b.nlri.to_vec(), b.path.peer, e.paths.len()))
            })
            .collect()
    }
}

/// The fingerprint of an entry's best path as export sees it (0: none):
/// its attribute set's bytes, its NLRI and where it came from.
fn best_fingerprint(
    h: &DefaultHashBuilder,
    e: &KEntry,
    attrs: &Interner<()>,
    resolver: Option<&super::Resolver>,
) -> u64 {
    let Some(kp) = e.paths.first() else {
        return 0;
    };
    let set = attrs.get(kp.path.attrs);
    if !decide::reachable(set, kp.path.peer, resolver) {
        return 0;
    }
    let fp = h.hash_one((
        set.map(|s| s.block()),
        set.and_then(|s| s.mp_next_hop()),
        kp.nlri.as_slice(),
        kp.path.peer.0,
        kp.path.local_id,
    ));
    // Bit 0 is the entry's dirty flag: keep the fingerprint nonzero above it.
    (fp & !1).max(2)
}

/// A class of peers that get the same bytes for the same keyed routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShareKey {
    role: Role,
    four_octet: bool,
    max_len: usize,
    v6_next_hop: bool,
    local: (Option<core::net::Ipv4Addr>, Option<core::net::Ipv6Addr>),
}

/// The RT membership family's position in [`KEYED`].
pub(super) const RTC_INDEX: usize = 7;

/// Order a keyed route's paths best first.
fn rank(
    e: &mut KEntry,
    attrs: &Interner<()>,
    peers: &[PeerState],
    cfg: &super::EngineConfig,
    resolver: Option<&super::Resolver>,
) {
    if e.paths.len() < 2 {
        return;
    }
    let mut cands: SmallVec<[Candidate; 4]> = e
        .paths
        .iter()
        .filter_map(|kp| decide::candidate(&kp.path, attrs, peers, cfg, resolver))
        .collect();
    if cands.len() != e.paths.len() {
        return;
    }
    decision::rank(&mut cands, &cfg.decision);
    let mut ordered: SmallVec<[KPath; 1]> = SmallVec::with_capacity(e.paths.len());
    for c in &cands {
        if let Some(kp) = e
            .paths
            .iter()
            .find(|kp| kp.path.local_id == c.local_id && kp.path.peer == c.peer)
        {
            ordered.push(kp.clone());
        }
    }
    if ordered.len() == e.paths.len() {
        e.paths = ordered;
    }
}

/// A keyed family's adjacency record key: family index and slot in one word.
pub(super) type AdjTag = u32;

/// What a peer was told of keyed routes: per (family, slot), path identifiers and fingerprints.
pub(super) type KeyedAdj = HashMap<AdjTag, SmallVec<[(u32, u64); 1]>>;

/// Heap bytes of one peer's keyed Adj-RIB-Out.
pub(super) fn adj_heap_bytes(a: &KeyedAdj) -> usize {
    use core::mem::size_of;
    a.capacity() * (size_of::<(AdjTag, SmallVec<[(u32, u64); 1]>)>() + 1)
        + a.values()
            .filter(|v| v.spilled())
            .map(|v| v.capacity() * size_of::<(u32, u64)>())
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraw_nlri_parses_as_a_withdrawal_of_the_same_key() {
        use crate::wire::family::check_nlri;
        let cases: [(AfiSafi, &[u8]); 4] = [
            // VPN-IPv4 65000:1:10.1.0.0/16, label 100.
            (
                AfiSafi::VPNV4,
                &[
                    24 + 64 + 16,
                    0,
                    6,
                    0x41,
                    0,
                    0,
                    0xfd,
                    0xe8,
                    0,
                    0,
                    0,
                    1,
                    10,
                    1,
                ],
            ),
            (AfiSafi::IPV4_LABELED, &[24 + 24, 0, 6, 0x41, 192, 0, 2]),
            (
                AfiSafi::IPV4_FLOWSPEC,
                &[0x07, 0x01, 0x10, 0x0a, 0x01, 0x03, 0x81, 0x06],
            ),
            (AfiSafi::RT_CONSTRAINT, &[48, 0, 0, 0xfd, 0xe8, 0x00, 0x02]),
        ];
        for (f, nlri) in cases {
            let parsed = parse_field(f, nlri, false, false);
            assert_eq!(parsed.len(), 1, "{f:?}");
            let (_, key, n) = &parsed[0];
            let wd = withdraw_nlri(f, key);
            assert!(
                check_nlri(f, &wd, false, true, 0, crate::Action::AfiSafiDisable)
                    .unwrap()
                    .is_ok(),
                "{f:?} {wd:?}"
            );
            let again = parse_field(f, &wd, false, true);
            assert_eq!(&again[0].1, key, "{f:?}");
            assert!(!n.is_empty());
        }
    }
}
