//! Interned attribute sets.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use core::net::IpAddr;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::wire::attribute::{
    community, type_code, u32s, AsPathView, AttrIter, Origin, SegmentType,
};

/// A handle to an interned attribute set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrId(pub u32);

/// The fields of an attribute set that the decision process reads, decoded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathInfo {
    /// ORIGIN (IGP < EGP < INCOMPLETE).
    pub origin: Origin,
    /// AS_PATH length as the decision process counts it.
    pub as_path_len: u32,
    /// The neighbouring AS (first AS of the leading AS_SEQUENCE, after any
    /// confederation segments), 0 (the local AS) for paths from inside the AS
    /// or confederation and for AS_SET-led aggregates, [`NO_NEIGHBOR_AS`] for
    /// an empty leading AS_SEQUENCE.
    pub neighbor_as: u32,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// ORIGINATOR_ID.
    pub originator_id: Option<u32>,
    /// Number of cluster IDs in CLUSTER_LIST.
    pub cluster_list_len: u32,
    /// The next hop (NEXT_HOP, or the first address of the MP_REACH next hop).
    pub next_hop: Option<IpAddr>,
}

/// [`PathInfo::neighbor_as`] of a path whose leading AS_SEQUENCE holds no AS
/// (malformed, kept under RFC 7606): its MED is compared with no other
/// path's (AS 4294967295 is reserved, RFC 7300, so no real neighbour has it).
pub const NO_NEIGHBOR_AS: u32 = u32::MAX;

/// The neighbouring AS of a path for MED comparison (RFC 4271 §9.1.2.2 (c)):
/// the first AS of the leading AS_SEQUENCE (after confederation segments);
/// the local AS (0) for a route from inside the AS or the confederation
/// (empty AS_PATH, or confederation segments only) and for an aggregate whose
/// AS_PATH begins with an AS_SET ("it is the local AS").
fn neighbor_as(p: &AsPathView<'_>) -> u32 {
    let first = p
        .segments()
        .find(|s| matches!(s.kind, SegmentType::Sequence | SegmentType::Set));
    match first {
        Some(s) if s.kind == SegmentType::Sequence => s.asns().next().unwrap_or(NO_NEIGHBOR_AS),
        _ => 0,
    }
}

impl PathInfo {
    /// Decode from a canonical block (4-octet AS_PATH) and an optional MP next hop.
    pub fn from_block(block: &[u8], mp_next_hop: Option<&[u8]>) -> Self {
        let mut info = PathInfo {
            origin: Origin::Incomplete,
            as_path_len: 0,
            neighbor_as: 0,
            med: None,
            local_pref: None,
            originator_id: None,
            cluster_list_len: 0,
            next_hop: None,
        };
        let be32 = |v: &[u8]| u32s(v).next();
        for a in AttrIter::unchecked(block, 0) {
            match a.type_code {
                type_code::ORIGIN => {
                    if let Some(o) = a.value.first().and_then(|&o| Origin::from_u8(o)) {
                        info.origin = o;
                    }
                }
                type_code::AS_PATH => {
                    if let Some(p) = AsPathView::new_checked(a.value, true) {
                        info.as_path_len = p.hop_count() as u32;
                        info.neighbor_as = neighbor_as(&p);
                    }
                }
                type_code::NEXT_HOP => {
                    info.next_hop = be32(a.value).map(|v| IpAddr::from(v.to_be_bytes()));
                }
                type_code::MED => info.med = be32(a.value),
                type_code::LOCAL_PREF => info.local_pref = be32(a.value),
                type_code::ORIGINATOR_ID => info.originator_id = be32(a.value),
                type_code::CLUSTER_LIST => info.cluster_list_len = (a.value.len() / 4) as u32,
                _ => {}
            }
        }
        if let Some(nh) = mp_next_hop {
            info.next_hop = mp_next_hop_addr(nh);
        }
        info
    }
}

/// The decision fields packed for storage (28 bytes; [`PathInfo`] is their decoded form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    origin: u8,
    flags: u8,
    cluster_list_len: u16,
    as_path_len: u32,
    neighbor_as: u32,
    med: u32,
    local_pref: u32,
    originator_id: u32,
    /// The interner's hash of the set, folded to 32 bits.
    hash: u32,
}

const HAS_MED: u8 = 1;
const HAS_LOCAL_PREF: u8 = 2;
const HAS_ORIGINATOR: u8 = 4;
/// COMMUNITIES holds NO_EXPORT or NO_EXPORT_SUBCONFED.
const NO_EXPORT: u8 = 8;
const HAS_MP_NEXT_HOP: u8 = 16;
/// COMMUNITIES holds NO_ADVERTISE.
const NO_ADVERTISE: u8 = 32;
/// COMMUNITIES holds NOPEER.
const NO_PEER: u8 = 64;

/// The export flags of a canonical block's well-known communities (RFC 1997).
///
/// Without confederations, NO_EXPORT_SUBCONFED means what NO_EXPORT does:
/// both keep a path from every eBGP peer.
fn community_flags(block: &[u8]) -> u8 {
    let mut flags = 0;
    if let Some(a) = AttrIter::unchecked(block, 0).find(|a| a.type_code == type_code::COMMUNITIES) {
        for c in u32s(a.value) {
            match c {
                community::NO_EXPORT | community::NO_EXPORT_SUBCONFED => flags |= NO_EXPORT,
                community::NO_ADVERTISE => flags |= NO_ADVERTISE,
                community::NO_PEER => flags |= NO_PEER,
                _ => {}
            }
        }
    }
    flags
}

impl Packed {
    fn pack(info: &PathInfo) -> Self {
        let mut flags = 0;
        let mut opt = |v: Option<u32>, bit: u8| {
            if v.is_some() {
                flags |= bit;
            }
            v.unwrap_or(0)
        };
        let med = opt(info.med, HAS_MED);
        let local_pref = opt(info.local_pref, HAS_LOCAL_PREF);
        let originator_id = opt(info.originator_id, HAS_ORIGINATOR);
        Packed {
            origin: info.origin as u8,
            flags,
            cluster_list_len: u16::try_from(info.cluster_list_len).unwrap_or(u16::MAX),
            as_path_len: info.as_path_len,
            neighbor_as: info.neighbor_as,
            med,
            local_pref,
            originator_id,
            hash: 0,
        }
    }
}

/// The largest MP next hop field (its length is one octet).
const MAX_MP_NEXT_HOP: usize = 255;

/// An attribute set: canonical attribute bytes (sorted by type code, 4-octet
/// AS numbers, no MP_REACH/MP_UNREACH), the MP next hop for routes learned
/// through MP_REACH_NLRI, and the decoded decision fields.
///
/// Stored in one allocation (the MP next hop, then the block) beside the
/// decision fields packed into 28 bytes.
#[derive(Debug, Clone)]
pub struct AttrSet {
    /// `[n][n bytes of MP next hop][block]` with an MP next hop, else the block.
    data: Box<[u8]>,
    packed: Packed,
    /// References held by the interner's users (kept here to fill the slot's padding).
    refs: u32,
}

impl PartialEq for AttrSet {
    fn eq(&self, other: &Self) -> bool {
        // The packed fields follow from the bytes (but for the interner's hash).
        self.data == other.data && self.packed.flags == other.packed.flags
    }
}

impl Eq for AttrSet {}

impl AttrSet {
    /// Build a set from a canonical block and an optional MP next hop (at most 255 bytes, as on the wire).
    pub fn new(block: &[u8], mp_next_hop: Option<&[u8]>) -> Self {
        let nh = mp_next_hop.map(|n| n.get(..MAX_MP_NEXT_HOP).unwrap_or(n));
        let mut data = Vec::with_capacity(nh.map_or(0, |n| 1 + n.len()) + block.len());
        if let Some(n) = nh {
            data.push(n.len() as u8);
            data.extend_from_slice(n);
        }
        data.extend_from_slice(block);
        let info = PathInfo::from_block(block, nh);
        let mut packed = Packed::pack(&info);
        if nh.is_some() {
            packed.flags |= HAS_MP_NEXT_HOP;
        }
        packed.flags |= community_flags(block);
        AttrSet {
            data: data.into_boxed_slice(),
            packed,
            refs: 0,
        }
    }

    fn split(&self) -> (Option<&[u8]>, &[u8]) {
        if self.packed.flags & HAS_MP_NEXT_HOP == 0 {
            return (None, &self.data);
        }
        match self.data.split_first() {
            Some((&n, rest)) => match rest.split_at_checked(n as usize) {
                Some((nh, block)) => (Some(nh), block),
                None => (None, rest),
            },
            None => (None, &[]),
        }
    }

    /// Canonical attribute TLVs.
    pub fn block(&self) -> &[u8] {
        self.split().1
    }

    /// The MP_REACH_NLRI next hop field, for routes learned through it.
    pub fn mp_next_hop(&self) -> Option<&[u8]> {
        self.split().0
    }

    /// The decision fields.
    pub fn info(&self) -> PathInfo {
        let p = &self.packed;
        let opt = |v: u32, bit: u8| (p.flags & bit != 0).then_some(v);
        let next_hop = match self.mp_next_hop() {
            Some(nh) => mp_next_hop_addr(nh),
            None => AttrIter::unchecked(self.block(), 0)
                .find(|a| a.type_code == type_code::NEXT_HOP)
                .and_then(|a| <[u8; 4]>::try_from(a.value).ok())
                .map(IpAddr::from),
        };
        PathInfo {
            origin: Origin::from_u8(p.origin).unwrap_or(Origin::Incomplete),
            as_path_len: p.as_path_len,
            neighbor_as: p.neighbor_as,
            med: opt(p.med, HAS_MED),
            local_pref: opt(p.local_pref, HAS_LOCAL_PREF),
            originator_id: opt(p.originator_id, HAS_ORIGINATOR),
            cluster_list_len: u32::from(p.cluster_list_len),
            next_hop,
        }
    }

    /// ORIGINATOR_ID, if present.
    pub fn originator_id(&self) -> Option<u32> {
        (self.packed.flags & HAS_ORIGINATOR != 0).then_some(self.packed.originator_id)
    }

    /// Whether the path may not be advertised to a peer, eBGP (`ebgp`) or
    /// not: NO_ADVERTISE keeps it from every peer, NO_EXPORT and
    /// NO_EXPORT_SUBCONFED from eBGP peers (RFC 1997). A bit test: the
    /// communities are read once, when the set is built.
    #[inline]
    pub fn withheld_from(&self, ebgp: bool) -> bool {
        let mask = if ebgp {
            NO_ADVERTISE | NO_EXPORT
        } else {
            NO_ADVERTISE
        };
        self.packed.flags & mask != 0
    }

    /// Whether COMMUNITIES holds NOPEER (RFC 3765): not for bilateral peers.
    #[inline]
    pub fn no_peer(&self) -> bool {
        self.packed.flags & NO_PEER != 0
    }

    /// Heap bytes held by this set.
    pub fn heap_bytes(&self) -> usize {
        self.data.len()
    }
}

/// The first address of an MP_REACH next hop field (4, 16 or 32 bytes).
fn mp_next_hop_addr(nh: &[u8]) -> Option<IpAddr> {
    match nh.len() {
        4 => nh
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(IpAddr::from),
        16 | 32 => nh
            .get(..16)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(IpAddr::from),
        _ => None,
    }
}

#[derive(Debug)]
struct Slot<X> {
    /// The set, with its reference count; `None` once freed.
    set: Option<AttrSet>,
    ext: X,
}

/// The attribute set interner: each distinct set is stored once, with a
/// reference count, and an extension value `X` (the reflector keeps its
/// per-set outbound cache there) dropped with the set.
#[derive(Debug)]
pub struct Interner<X> {
    slots: Vec<Slot<X>>,
    free: Vec<u32>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    live: usize,
    /// Per slot, the owner charged for the set (0: none); grown on first use.
    owners: Vec<u32>,
    /// Per owner, the bytes of the live sets charged to it.
    owned: Vec<u64>,
}

impl<X: Default> Default for Interner<X> {
    fn default() -> Self {
        Self::new()
    }
}

/// The index's hash of a set: 32 bits kept in the set, widened so that both
/// the bucket (low bits) and the control tag (high bits) see all of them.
fn hash_of(hasher: &DefaultHashBuilder, block: &[u8], nh: Option<&[u8]>) -> u64 {
    let h = hasher.hash_one((block, nh));
    widen((h >> 32) as u32 ^ h as u32)
}

fn widen(h: u32) -> u64 {
    (u64::from(h) << 32) | u64::from(h)
}

fn slot_hash<X>(slots: &[Slot<X>], i: u32) -> u64 {
    slots
        .get(i as usize)
        .and_then(|s| s.set.as_ref())
        .map_or(0, |set| widen(set.packed.hash))
}

impl<X: Default> Interner<X> {
    /// An empty interner.
    pub fn new() -> Self {
        Interner {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            live: 0,
            owners: Vec::new(),
            owned: Vec::new(),
        }
    }

    /// The bytes a set of this block and next hop takes: its slot and its allocation.
    pub fn set_bytes(block: &[u8], mp_next_hop: Option<&[u8]>) -> u64 {
        (core::mem::size_of::<Slot<X>>() + block.len() + mp_next_hop.map_or(0, |n| 1 + n.len()))
            as u64
    }

    /// The live set with this block and next hop, if any (no reference taken).
    pub fn lookup(&self, block: &[u8], mp_next_hop: Option<&[u8]>) -> Option<AttrId> {
        let mp_next_hop = mp_next_hop.map(|n| n.get(..MAX_MP_NEXT_HOP).unwrap_or(n));
        let h = hash_of(&self.hasher, block, mp_next_hop);
        let slots = &self.slots;
        self.index
            .find(h, |&i| {
                slots.get(i as usize).is_some_and(|s| {
                    s.set
                        .as_ref()
                        .is_some_and(|set| set.block() == block && set.mp_next_hop() == mp_next_hop)
                })
            })
            .map(|&i| AttrId(i))
    }

    /// [`Interner::intern`], charging a set it creates to `owner` (non-zero)
    /// until the set is freed ([`Interner::owned_bytes`]).
    pub fn intern_owned(&mut self, block: &[u8], mp_next_hop: Option<&[u8]>, owner: u32) -> AttrId {
        let live = self.live;
        let id = self.intern(block, mp_next_hop);
        if self.live > live && owner != 0 {
            let i = id.0 as usize;
            if self.owners.len() <= i {
                self.owners.resize(i + 1, 0);
            }
            if let Some(o) = self.owners.get_mut(i) {
                *o = owner;
            }
            let o = owner as usize;
            if self.owned.len() <= o {
                self.owned.resize(o + 1, 0);
            }
            if let Some(b) = self.owned.get_mut(o) {
                *b += Self::set_bytes(block, mp_next_hop);
            }
        }
        id
    }

    /// The bytes of the live sets charged to `owner`.
    pub fn owned_bytes(&self, owner: u32) -> u64 {
        self.owned.get(owner as usize).copied().unwrap_or(0)
    }

    /// Intern a set and take one reference to it.
    pub fn intern(&mut self, block: &[u8], mp_next_hop: Option<&[u8]>) -> AttrId {
        // As stored (the wire cannot carry a longer one).
        let mp_next_hop = mp_next_hop.map(|n| n.get(..MAX_MP_NEXT_HOP).unwrap_or(n));
        let h = hash_of(&self.hasher, block, mp_next_hop);
        let slots = &self.slots;
        let found = self.index.find(h, |&i| {
            slots.get(i as usize).is_some_and(|s| {
                s.set
                    .as_ref()
                    .is_some_and(|set| set.block() == block && set.mp_next_hop() == mp_next_hop)
            })
        });
        if let Some(&i) = found {
            self.retain(AttrId(i));
            return AttrId(i);
        }
        let mut set = AttrSet::new(block, mp_next_hop);
        set.refs = 1;
        set.packed.hash = h as u32;
        let slot = Slot {
            set: Some(set),
            ext: X::default(),
        };
        let i = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = slot;
                }
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(h, i, |&j| slot_hash(slots, j));
        self.live += 1;
        AttrId(i)
    }

    /// Take one more reference.
    pub fn retain(&mut self, id: AttrId) {
        if let Some(set) = self
            .slots
            .get_mut(id.0 as usize)
            .and_then(|s| s.set.as_mut())
        {
            set.refs = set.refs.saturating_add(1);
        }
    }

    /// Drop one reference; the set is freed with the last. Returns whether it was freed.
    pub fn release(&mut self, id: AttrId) -> bool {
        let Some(s) = self.slots.get_mut(id.0 as usize) else {
            return false;
        };
        let h = match &mut s.set {
            Some(set) => {
                set.refs = set.refs.saturating_sub(1);
                if set.refs > 0 {
                    return false;
                }
                widen(set.packed.hash)
            }
            None => return false,
        };
        let bytes = s
            .set
            .as_ref()
            .map_or(0, |set| Self::set_bytes(set.block(), set.mp_next_hop()));
        s.set = None;
        s.ext = X::default();
        if let Some(o) = self.owners.get_mut(id.0 as usize) {
            if *o != 0 {
                if let Some(b) = self.owned.get_mut(*o as usize) {
                    *b = b.saturating_sub(bytes);
                }
                *o = 0;
            }
        }
        if let Ok(e) = self.index.find_entry(h, |&j| j == id.0) {
            e.remove();
        }
        self.free.push(id.0);
        self.live -= 1;
        true
    }

    /// The set behind a handle.
    pub fn get(&self, id: AttrId) -> Option<&AttrSet> {
        self.slots.get(id.0 as usize)?.set.as_ref()
    }

    /// The set and its extension value, the latter mutably.
    pub fn get_with_ext(&mut self, id: AttrId) -> Option<(&AttrSet, &mut X)> {
        let s = self.slots.get_mut(id.0 as usize)?;
        Some((s.set.as_ref()?, &mut s.ext))
    }

    /// How many references a set has.
    pub fn refs(&self, id: AttrId) -> u32 {
        self.get(id).map_or(0, |s| s.refs)
    }

    /// Number of live sets.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no set is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Heap bytes held by the sets themselves (not counting extensions).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Slot<X>>()
            + self.index.allocation_size()
            + self.free.capacity() * 4
            + self
                .slots
                .iter()
                .filter_map(|s| s.set.as_ref())
                .map(AttrSet::heap_bytes)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_equal_exactly_when_their_bytes_are() {
        // ORIGIN IGP, AS_PATH [65001], LOCAL_PREF 200.
        let block = [
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 5, 4, 0, 0, 0, 200,
        ];
        let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let a = AttrSet::new(&block, None);
        assert!(a == AttrSet::new(&block, None));
        assert!(AttrSet::new(&block, Some(&nh)) == AttrSet::new(&block, Some(&nh)));
        // Other bytes with the same packed flags: another LOCAL_PREF value, another neighbour AS.
        let mut other = block;
        other[19] = 201;
        assert!(a != AttrSet::new(&other, None));
        let mut other = block;
        other[12] = 0xea;
        assert!(a != AttrSet::new(&other, None));
        assert!(a != AttrSet::new(&block[..4], None));
        assert!(a != AttrSet::new(&block, Some(&nh)));
    }

    #[test]
    fn set_bytes_is_the_slot_and_the_sets_allocation() {
        let block = [0x40, 1, 1, 0, 0x40, 2, 0];
        let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        for n in [None, Some(&nh[..4]), Some(&nh[..])] {
            let set = AttrSet::new(&block, n);
            assert_eq!(
                Interner::<()>::set_bytes(&block, n),
                (core::mem::size_of::<Slot<()>>() + set.heap_bytes()) as u64,
                "{n:?}"
            );
        }
    }

    #[test]
    fn interning_shares_and_frees() {
        let mut i: Interner<()> = Interner::new();
        let block = [
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 5, 4, 0, 0, 0, 200,
        ];
        let a = i.intern(&block, None);
        let b = i.intern(&block, None);
        assert_eq!(a, b);
        assert_eq!(i.refs(a), 2);
        let info = i.get(a).unwrap().info();
        assert_eq!(info.local_pref, Some(200));
        assert_eq!(info.neighbor_as, 65001);
        assert_eq!(info.as_path_len, 1);
        let c = i.intern(
            &block,
            Some(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        );
        assert_ne!(a, c);
        assert_eq!(i.len(), 2);
        assert!(!i.release(a));
        assert!(i.release(a));
        assert!(i.get(a).is_none());
        assert_eq!(i.len(), 1);
        // The freed slot is reused and the old bytes are gone from the index.
        let d = i.intern(&block[..4], None);
        assert_eq!(d, a);
        let e = i.intern(&block, None);
        assert_ne!(e, a);
    }

    #[test]
    fn packed_sets_give_back_what_they_were_built_from() {
        // ORIGIN, AS_PATH [65001 65002], NEXT_HOP 192.0.2.1, MED 7, LOCAL_PREF 100,
        // ORIGINATOR_ID 10.0.0.9, CLUSTER_LIST [1.1.1.1 2.2.2.2].
        let block = [
            0x40, 1, 1, 1, 0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 0x40, 3, 4, 192,
            0, 2, 1, 0x80, 4, 4, 0, 0, 0, 7, 0x40, 5, 4, 0, 0, 0, 100, 0x80, 9, 4, 10, 0, 0, 9,
            0x80, 10, 8, 1, 1, 1, 1, 2, 2, 2, 2,
        ];
        let v6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let long = [7u8; 255];
        for nh in [
            None,
            Some(&v6[..]),
            Some(&v6[..4]),
            Some(&[][..]),
            Some(&long[..]),
        ] {
            let set = AttrSet::new(&block, nh);
            assert_eq!(set.block(), &block[..]);
            assert_eq!(set.mp_next_hop(), nh);
            assert_eq!(set.info(), PathInfo::from_block(&block, nh));
            assert_eq!(set.originator_id(), Some(0x0a00_0009));
        }
        let info = AttrSet::new(&block, None).info();
        assert_eq!(info.origin, Origin::Egp);
        assert_eq!((info.as_path_len, info.neighbor_as), (2, 65001));
        assert_eq!((info.med, info.local_pref), (Some(7), Some(100)));
        assert_eq!(info.cluster_list_len, 2);
        assert_eq!(info.next_hop, Some(IpAddr::from([192, 0, 2, 1])));
        // A set without the optional fields keeps them absent.
        let bare = AttrSet::new(&block[..4], None).info();
        assert_eq!(
            (bare.med, bare.local_pref, bare.originator_id),
            (None, None, None)
        );
        assert_eq!(bare.next_hop, None);
        // One allocation per set, beside 48 bytes of slot.
        assert_eq!(core::mem::size_of::<Slot<()>>(), 48);
    }

    #[test]
    fn rfc1997_well_known_communities_are_flags_of_the_set() {
        let with = |c: &[u32]| {
            let mut b = alloc::vec![0x40, 1, 1, 0, 0xc0, 8, (c.len() * 4) as u8];
            for x in c {
                b.extend_from_slice(&x.to_be_bytes());
            }
            let set = AttrSet::new(&b, None);
            (set.withheld_from(false), set.withheld_from(true))
        };
        assert_eq!(with(&[0xfde8_0001]), (false, false));
        assert_eq!(with(&[community::BLACKHOLE]), (false, false));
        assert_eq!(with(&[community::GRACEFUL_SHUTDOWN]), (false, false));
        assert_eq!(with(&[1, community::NO_EXPORT]), (false, true));
        assert_eq!(with(&[community::NO_EXPORT_SUBCONFED]), (false, true));
        assert_eq!(with(&[community::NO_ADVERTISE, 7]), (true, true));
        let none = AttrSet::new(&[0x40, 1, 1, 0], None);
        assert!(!none.withheld_from(true));
    }

    #[test]
    fn sets_are_found_again_after_the_index_grows_and_shrinks() {
        let mut i: Interner<()> = Interner::new();
        let blocks: Vec<[u8; 8]> = (0u32..5000)
            .map(|k| {
                let b = k.to_be_bytes();
                [0x40, 5, 4, b[0], b[1], b[2], b[3], 0]
            })
            .collect();
        let nh = [10, 0, 0, 1];
        let ids: Vec<AttrId> = blocks
            .iter()
            .map(|b| i.intern(&b[..7], Some(&nh)))
            .collect();
        for (b, id) in blocks.iter().zip(&ids).step_by(2) {
            assert!(i.release(*id), "{b:?}");
        }
        for (k, (b, id)) in blocks.iter().zip(&ids).enumerate() {
            if k % 2 == 1 {
                assert_eq!(i.intern(&b[..7], Some(&nh)), *id);
                assert_eq!(i.get(*id).unwrap().info().local_pref, Some(k as u32));
            } else {
                assert!(i.get(*id).is_none());
            }
        }
        assert_eq!(i.len(), 2500);
    }

    proptest::proptest! {
        /// Interning and releasing in any order: equal bytes share one handle
        /// while referenced, every live handle gives back its bytes and
        /// decision fields, counts match, and freed handles read as gone.
        #[test]
        fn interner_matches_a_reference_counted_map(
            ops in proptest::collection::vec((proptest::bool::ANY, 0u8..12, proptest::bool::ANY), 0..200),
        ) {
            use std::collections::HashMap;
            let mut i: Interner<()> = Interner::new();
            // (local pref, with an MP next hop) -> (handle, references)
            let mut model: HashMap<(u8, bool), (AttrId, u32)> = HashMap::new();
            let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
            for (add, lp, v6) in ops {
                let block = [0x40, 1, 1, 0, 0x40, 5, 4, 0, 0, 0, lp];
                let mp = v6.then_some(&nh[..]);
                if add {
                    let id = i.intern(&block, mp);
                    let e = model.entry((lp, v6)).or_insert((id, 0));
                    proptest::prop_assert_eq!(e.0, id);
                    e.1 += 1;
                } else if let Some(&(id, refs)) = model.get(&(lp, v6)) {
                    proptest::prop_assert_eq!(i.release(id), refs == 1);
                    if refs == 1 {
                        model.remove(&(lp, v6));
                        proptest::prop_assert!(i.get(id).is_none());
                    } else {
                        model.insert((lp, v6), (id, refs - 1));
                    }
                }
                proptest::prop_assert_eq!(i.len(), model.len());
                for (&(lp, v6), &(id, refs)) in &model {
                    let set = i.get(id).unwrap();
                    proptest::prop_assert_eq!(set.block(), &[0x40, 1, 1, 0, 0x40, 5, 4, 0, 0, 0, lp][..]);
                    proptest::prop_assert_eq!(set.mp_next_hop(), v6.then_some(&nh[..]));
                    proptest::prop_assert_eq!(set.info().local_pref, Some(u32::from(lp)));
                    proptest::prop_assert_eq!(i.refs(id), refs);
                }
            }
        }
    }
}
