//! Interned attribute sets.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use core::net::IpAddr;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::wire::attribute::{type_code, u32s, AsPathView, AttrIter, Origin};

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
    /// The neighbouring AS (first AS of the leading AS_SEQUENCE), 0 for paths from inside the AS.
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
                        info.neighbor_as = p.first_asn().unwrap_or(0);
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
            info.next_hop = match nh.len() {
                4 => nh
                    .get(..4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(IpAddr::from),
                16 | 32 => nh
                    .get(..16)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .map(IpAddr::from),
                _ => None,
            };
        }
        info
    }
}

/// An attribute set: canonical attribute bytes (sorted by type code, 4-octet
/// AS numbers, no MP_REACH/MP_UNREACH), the MP next hop for routes learned
/// through MP_REACH_NLRI, and the decoded decision fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrSet {
    /// Canonical attribute TLVs.
    pub block: Box<[u8]>,
    /// The MP_REACH_NLRI next hop field, for routes learned through it.
    pub mp_next_hop: Option<Box<[u8]>>,
    /// Decision fields.
    pub info: PathInfo,
}

impl AttrSet {
    /// Heap bytes held by this set.
    pub fn heap_bytes(&self) -> usize {
        self.block.len() + self.mp_next_hop.as_ref().map_or(0, |n| n.len())
    }
}

#[derive(Debug)]
struct Slot<X> {
    set: Option<AttrSet>,
    refs: u32,
    hash: u64,
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
}

impl<X: Default> Default for Interner<X> {
    fn default() -> Self {
        Self::new()
    }
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
        }
    }

    fn hash(&self, block: &[u8], nh: Option<&[u8]>) -> u64 {
        self.hasher.hash_one((block, nh))
    }

    /// Intern a set and take one reference to it.
    pub fn intern(&mut self, block: &[u8], mp_next_hop: Option<&[u8]>) -> AttrId {
        let h = self.hash(block, mp_next_hop);
        let slots = &self.slots;
        let found = self.index.find(h, |&i| {
            slots.get(i as usize).is_some_and(|s| {
                s.set.as_ref().is_some_and(|set| {
                    &*set.block == block && set.mp_next_hop.as_deref() == mp_next_hop
                })
            })
        });
        if let Some(&i) = found {
            if let Some(s) = self.slots.get_mut(i as usize) {
                s.refs = s.refs.saturating_add(1);
            }
            return AttrId(i);
        }
        let set = AttrSet {
            block: block.into(),
            mp_next_hop: mp_next_hop.map(Into::into),
            info: PathInfo::from_block(block, mp_next_hop),
        };
        let slot = Slot {
            set: Some(set),
            refs: 1,
            hash: h,
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
        self.index
            .insert_unique(h, i, |&j| slots.get(j as usize).map_or(0, |s| s.hash));
        self.live += 1;
        AttrId(i)
    }

    /// Take one more reference.
    pub fn retain(&mut self, id: AttrId) {
        if let Some(s) = self.slots.get_mut(id.0 as usize) {
            s.refs = s.refs.saturating_add(1);
        }
    }

    /// Drop one reference; the set is freed with the last. Returns whether it was freed.
    pub fn release(&mut self, id: AttrId) -> bool {
        let Some(s) = self.slots.get_mut(id.0 as usize) else {
            return false;
        };
        s.refs = s.refs.saturating_sub(1);
        if s.refs > 0 || s.set.is_none() {
            return false;
        }
        s.set = None;
        s.ext = X::default();
        let h = s.hash;
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
        self.slots.get(id.0 as usize).map_or(0, |s| s.refs)
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
            + self.index.capacity() * 5
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
    fn interning_shares_and_frees() {
        let mut i: Interner<()> = Interner::new();
        let block = [
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 5, 4, 0, 0, 0, 200,
        ];
        let a = i.intern(&block, None);
        let b = i.intern(&block, None);
        assert_eq!(a, b);
        assert_eq!(i.refs(a), 2);
        let info = i.get(a).unwrap().info;
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
}
