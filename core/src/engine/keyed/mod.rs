//! Families keyed by NLRI bytes: IPv4/IPv6 multicast, labeled unicast,
//! VPN-IPv4/IPv6, EVPN, RT membership and flow specification.
//!
//! Each such family has a [`KeyedRib`]: entries found by the key the RFCs
//! give the family's routes (RD and prefix for VPN routes, the identifying
//! fields for EVPN, the components for flow specification), each path
//! with the NLRI it came with (its labels, an EVPN route's ESI): rebuilt
//! from the key and the path's label where it can be, kept beside the
//! entry where not (see [`store`]). The
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

use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap};
use smallvec::SmallVec;

use super::Engine;
use crate::rib::PeerId;
use crate::wire::AfiSafi;

pub(super) use rtc::Membership;

mod export;
mod flush;
mod import;
mod index;
mod rtc;
mod store;
mod wire;

use index::SlotIndex;
use store::KPath;
use store::{KeyBuf, Kind, OwnNlri, PathList, Tail};
pub(super) use wire::parse_field;

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

/// One keyed route: its key and its paths, best first after a flush.
#[derive(Debug, Default)]
pub(super) struct KEntry {
    key: KeyBuf,
    paths: PathList,
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
    index: SlotIndex,
    hasher: DefaultHashBuilder,
    pub(super) entries: Vec<KEntry>,
    /// The NLRI of paths whose key and label do not give it.
    own: OwnNlri,
    free: Vec<u32>,
    dirty: Vec<u32>,
    /// Entries with at least one path.
    routes: usize,
}

impl KeyedRib {
    fn new(family: AfiSafi) -> Self {
        KeyedRib {
            family,
            index: SlotIndex::new(),
            hasher: DefaultHashBuilder::default(),
            entries: Vec::new(),
            own: OwnNlri::default(),
            free: Vec::new(),
            dirty: Vec::new(),
            routes: 0,
        }
    }

    /// Routes in the table (keys with at least one path).
    pub(super) fn len(&self) -> usize {
        self.routes
    }

    /// Read the index groups of `keys` ahead of their lookups one by one, so
    /// that their cache misses overlap instead of coming one after another.
    /// Returns the keys' hashes.
    fn warm<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Vec<u64> {
        keys.map(|k| {
            let h = self.hash(k);
            self.index.warm(h);
            h
        })
        .collect()
    }

    /// The index hash of `key`.
    pub(super) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn find(&self, key: &[u8]) -> Option<u32> {
        self.find_hashed(key, self.hash(key))
    }

    /// The slot of `key`, whose index hash is `h`.
    fn find_hashed(&self, key: &[u8], h: u64) -> Option<u32> {
        let entries = &self.entries;
        self.index.find(h, |i| {
            entries
                .get(i as usize)
                .is_some_and(|e| e.key.as_slice() == key)
        })
    }

    /// The slot of `key` (index hash `h`), a new one if the table had none.
    fn find_or_insert(&mut self, key: &[u8], h: u64) -> u32 {
        // The slot a new key takes: the last freed one, else a new one.
        let next = match self.free.last() {
            Some(&s) => s,
            None => self.entries.len() as u32,
        };
        if !self.index.has_room_for(next) {
            self.grow_index();
        }
        let entries = &self.entries;
        let found = self.index.find_or_insert(
            h,
            |i| {
                entries
                    .get(i as usize)
                    .is_some_and(|e| e.key.as_slice() == key)
            },
            || next,
        );
        match found {
            Ok(slot) => slot,
            Err(slot) => {
                if self.free.pop().is_none() {
                    self.entries.push(KEntry::default());
                }
                if let Some(e) = self.entries.get_mut(slot as usize) {
                    e.key = KeyBuf::from_slice(key);
                }
                slot
            }
        }
    }

    /// Replace a full index by one twice its size (or one whose buckets
    /// hold larger slots), built by reading the entries in order (a rehash in
    /// place of the index would read them in hash order, one cache miss per
    /// route), and inserting them a chunk at a time in the order of their
    /// place in the new index, so that it is written front to back instead of
    /// at random.
    fn grow_index(&mut self) {
        let mut free = self.free.clone();
        free.sort_unstable();
        let mut free = free.into_iter().peekable();
        let (entries, hasher) = (&self.entries, &self.hasher);
        // The old index is not read: it goes before the new one is made.
        let mut index = core::mem::take(&mut self.index).grown(entries.len());
        // A key's first bucket is the top bits of its hash: a chunk is
        // sorted by the top GROW_PART_BITS of them.
        let shift = 64 - GROW_PART_BITS;
        let live = entries.len().saturating_sub(self.free.len());
        let mut chunk: Vec<(u64, u32)> = Vec::with_capacity(live.min(GROW_CHUNK));
        let mut sorted: Vec<(u64, u32)> = Vec::with_capacity(live.min(GROW_CHUNK));
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            if free.next_if_eq(&i).is_some() {
                continue;
            }
            chunk.push((hasher.hash_one(e.key.as_slice()), i));
            if chunk.len() == GROW_CHUNK {
                sort_by_part(&mut chunk, &mut sorted, shift);
                insert_all(&mut index, &mut sorted);
            }
        }
        sort_by_part(&mut chunk, &mut sorted, shift);
        insert_all(&mut index, &mut sorted);
        self.index = index;
    }

    /// Paths in the table.
    pub(super) fn paths(&self) -> usize {
        self.entries.iter().map(|e| e.paths.len()).sum()
    }

    /// Heap bytes of the table: index, entries, boxed keys and path lists, and NLRI kept apart.
    pub(super) fn heap_bytes(&self) -> usize {
        use core::mem::size_of;
        let entries: usize = self
            .entries
            .iter()
            .map(|e| store::entry_heap_bytes(&e.key, &e.paths))
            .sum();
        self.entries.capacity() * size_of::<KEntry>()
            + entries
            + self.index.heap_bytes()
            + (self.free.capacity() + self.dirty.capacity()) * size_of::<u32>()
            + self.own.heap_bytes()
    }

    /// The NLRI of path `kp` of the entry with key `key`.
    fn nlri(&self, key: &KeyBuf, kp: &KPath) -> Nb {
        store::nlri_of(self.family, &self.own, key.as_slice(), kp)
    }

    /// Record path `kp`'s NLRI (kept apart if its key does not give it).
    fn set_nlri(&mut self, kp: &mut KPath, key: &[u8], nlri: &[u8]) {
        let kind = store::tail_of(self.family, key, nlri).and_then(|k| Some((k, Tail::of(k)?)));
        match kind {
            Some((_, t)) => {
                self.forget_nlri(kp);
                kp.tail = t;
            }
            None => {
                let at = match kp.tail.kind() {
                    Kind::Own(i) => Some(i),
                    _ => None,
                };
                let i = self.own.put(at, nlri);
                match Tail::of(Kind::Own(i)) {
                    Some(t) => kp.tail = t,
                    // Past 254 × 2^24 kept NLRI (more than memory holds): not kept.
                    None => self.own.forget(i),
                }
            }
        }
    }

    /// Give up what the table keeps apart of path `kp`'s NLRI.
    fn forget_nlri(&mut self, kp: &KPath) {
        if let Kind::Own(i) = kp.tail.kind() {
            self.own.forget(i);
        }
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
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .remove(h, slot, |i| slot_hash(hasher, entries, i));
        self.free.push(slot);
    }
}

/// Entries hashed, sorted and inserted at a time when an index grows.
const GROW_CHUNK: usize = 1 << 14;

/// The bits of the bucket number by which [`sort_by_part`] orders a chunk.
const GROW_PART_BITS: u32 = 10;

/// Move the `(hash, slot)` pairs of `chunk` into `sorted`, ordered by the
/// top [`GROW_PART_BITS`] bits of their hash (those above `shift`), which
/// order their first buckets: a counting sort, stable within a part.
fn sort_by_part(chunk: &mut Vec<(u64, u32)>, sorted: &mut Vec<(u64, u32)>, shift: u32) {
    const PARTS: usize = 1 << GROW_PART_BITS;
    let part = |h: u64| ((h >> shift) as usize).min(PARTS - 1);
    let mut start = [0usize; PARTS];
    for &(h, _) in chunk.iter() {
        if let Some(c) = start.get_mut(part(h)) {
            *c += 1;
        }
    }
    let mut at = 0;
    for c in start.iter_mut() {
        let n = *c;
        *c = at;
        at += n;
    }
    sorted.clear();
    sorted.resize(chunk.len(), (0, 0));
    for &(h, i) in chunk.iter() {
        if let Some(c) = start.get_mut(part(h)) {
            if let Some(d) = sorted.get_mut(*c) {
                *d = (h, i);
            }
            *c += 1;
        }
    }
    chunk.clear();
}

/// Insert the `(hash, slot)` pairs of `sorted` into `index` in their order, emptying `sorted`.
fn insert_all(index: &mut SlotIndex, sorted: &mut Vec<(u64, u32)>) {
    for (h, i) in sorted.drain(..) {
        index.insert_new(h, i);
    }
}

/// The index hash of the key in slot `i` of `entries` (the empty key's for
/// a slot past the end).
fn slot_hash(hasher: &DefaultHashBuilder, entries: &[KEntry], i: u32) -> u64 {
    hasher.hash_one(
        entries
            .get(i as usize)
            .map_or(&[][..], |e| e.key.as_slice()),
    )
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

/// The RT membership family's position in [`KEYED`].
pub(super) const RTC_INDEX: usize = 7;

/// A keyed family's adjacency record key: family index and slot in one word.
pub(super) type AdjTag = u32;

/// One route of a keyed family, as seen through [`Engine::keyed_table`].
#[derive(Debug, Clone)]
pub struct KeyedRoute<'e> {
    /// Its family.
    pub family: AfiSafi,
    /// Its key in the family's table (RD and prefix, an EVPN route's identifying fields, ...).
    pub key: Vec<u8>,
    /// Its candidates, best first: the NLRI the path came with (without path
    /// identifier), the path, and the decision step at which the best path is
    /// preferred to it (`None` for the best).
    pub paths: Vec<(Vec<u8>, super::PathView<'e>, Option<crate::decision::Step>)>,
}

/// What a peer was told of keyed routes: per (family, slot), path identifiers and fingerprints.
pub(super) type KeyedAdj = HashMap<AdjTag, SmallVec<[(u32, u64); 1]>>;

/// Heap bytes of one peer's keyed Adj-RIB-Out.
pub(super) fn adj_heap_bytes(a: &KeyedAdj) -> usize {
    use core::mem::size_of;
    store::table_heap_bytes(
        a.capacity(),
        size_of::<(AdjTag, SmallVec<[(u32, u64); 1]>)>(),
    ) + a
        .values()
        .filter(|v| v.spilled())
        .map(|v| v.capacity() * size_of::<(u32, u64)>())
        .sum::<usize>()
}

impl Engine {
    /// Routes and paths in keyed family `f` (`None` if the engine does not keep it).
    pub fn keyed_counts(&self, f: AfiSafi) -> Option<(usize, usize)> {
        let r = self.rib.keyed.0.get(keyed_index(f)?)?;
        Some((r.len(), r.paths()))
    }

    /// Routes in keyed family `f` (`None` if the engine does not keep it).
    pub fn keyed_routes(&self, f: AfiSafi) -> Option<usize> {
        self.rib.keyed.0.get(keyed_index(f)?).map(KeyedRib::len)
    }

    /// Every route of keyed family `f`, each with its candidates best first:
    /// the NLRI each path came with (without path identifier) and the step at
    /// which the best path is preferred to it (as [`Engine::explain_candidates`]).
    pub fn keyed_table(&self, f: AfiSafi) -> Vec<KeyedRoute<'_>> {
        let Some(rib) = keyed_index(f).and_then(|i| self.rib.keyed.0.get(i)) else {
            return Vec::new();
        };
        rib.entries
            .iter()
            .filter(|e| !e.paths.is_empty())
            .map(|e| self.keyed_route_of(rib, e))
            .collect()
    }

    /// The route of keyed family `f` with key `key` (as [`Event::KeyedBestChanged`](super::Event::KeyedBestChanged)
    /// gives it), its candidates best first; `None` when it has no path.
    pub fn keyed_route(&self, f: AfiSafi, key: &[u8]) -> Option<KeyedRoute<'_>> {
        let rib = self.rib.keyed.0.get(keyed_index(f)?)?;
        let e = rib.entries.get(rib.find(key)? as usize)?;
        (!e.paths.is_empty()).then(|| self.keyed_route_of(rib, e))
    }

    fn keyed_route_of<'e>(&'e self, rib: &KeyedRib, e: &KEntry) -> KeyedRoute<'e> {
        let kps: Vec<KPath> = e.paths.iter().collect();
        let paths: Vec<crate::rib::Path> = kps.iter().map(|kp| kp.path).collect();
        let ranked = self.rank_paths(&paths);
        let explained = self.explain(&ranked);
        KeyedRoute {
            family: rib.family,
            key: e.key.as_slice().to_vec(),
            paths: explained
                .into_iter()
                .filter_map(|(v, step)| {
                    let kp = kps
                        .iter()
                        .find(|kp| kp.path.local_id == v.local_id && kp.path.peer == v.peer)?;
                    Some((rib.nlri(&e.key, kp).to_vec(), v, step))
                })
                .collect(),
        }
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
                Some((rib.nlri(&e.key, &b).to_vec(), b.path.peer, e.paths.len()))
            })
            .collect()
    }
}
