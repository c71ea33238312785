//! A compact prefix table: a hash index of `u32` positions into a dense
//! vector of entries (the layout of an index map), so a prefix costs its
//! entry plus about five bytes of index.

use core::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashMap, HashSet, HashTable};
use smallvec::SmallVec;

use alloc::boxed::Box;

use super::{AttrId, Path, PeerId};

const DIRTY: u8 = 1;
const ADVERTISED: u8 = 2;
const PATHS_SENT: u8 = 4;

/// The candidate paths of one prefix (24 bytes): up to one inline, up to
/// [`INDEX_AT`] in one exactly sized allocation, more (many ADD-PATH paths)
/// in a growable list indexed by (peer, path identifier), so that no insert,
/// lookup or removal costs a scan of the list. Also carries the entry's two flags.
#[derive(Debug, Clone)]
pub enum PathList {
    /// No path or one.
    #[doc(hidden)]
    Few {
        /// Entry flags.
        flags: u8,
        /// 0 or 1.
        len: u8,
        /// The path when `len` is 1.
        one: Path,
    },
    /// Two paths or more, up to [`INDEX_AT`].
    #[doc(hidden)]
    Many {
        /// Entry flags.
        flags: u8,
        /// The paths.
        paths: Box<[Path]>,
    },
    /// More than [`INDEX_AT`] paths.
    #[doc(hidden)]
    Large {
        /// Entry flags.
        flags: u8,
        /// The paths and their index.
        large: Box<Large>,
    },
}

/// Paths per prefix above which a prefix's paths are indexed.
pub const INDEX_AT: usize = 16;

/// Many paths of one prefix, with an index by (peer, path identifier), a
/// count per peer and the set of local identifiers in use.
#[derive(Debug, Clone, Default)]
pub struct Large {
    paths: alloc::vec::Vec<Path>,
    /// (peer, remote identifier) → position; rebuilt on use after a reorder.
    pos: HashMap<(PeerId, u32), u32>,
    stale: bool,
    per_peer: HashMap<PeerId, u32>,
    locals: HashSet<u32>,
}

impl Large {
    fn of(paths: &[Path]) -> Self {
        let mut l = Large {
            paths: paths.to_vec(),
            ..Large::default()
        };
        for p in paths {
            *l.per_peer.entry(p.peer).or_insert(0) += 1;
            l.locals.insert(p.local_id);
        }
        l.reindex();
        l
    }

    fn reindex(&mut self) {
        self.pos.clear();
        for (i, p) in self.paths.iter().enumerate() {
            self.pos.insert((p.peer, p.remote_id), i as u32);
        }
        self.stale = false;
    }

    fn push(&mut self, p: Path) {
        if !self.stale {
            self.pos
                .insert((p.peer, p.remote_id), self.paths.len() as u32);
        }
        *self.per_peer.entry(p.peer).or_insert(0) += 1;
        self.locals.insert(p.local_id);
        self.paths.push(p);
    }

    /// Remove the path at `i`; the last one takes its place.
    fn swap_remove(&mut self, i: usize) -> Option<Path> {
        if i >= self.paths.len() {
            return None;
        }
        let p = self.paths.swap_remove(i);
        if !self.stale {
            self.pos.remove(&(p.peer, p.remote_id));
            if let Some(moved) = self.paths.get(i) {
                self.pos.insert((moved.peer, moved.remote_id), i as u32);
            }
        }
        if let Some(n) = self.per_peer.get_mut(&p.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&p.peer);
            }
        }
        self.locals.remove(&p.local_id);
        Some(p)
    }
}

const NO_PATH: Path = Path {
    attrs: AttrId(0),
    peer: PeerId(0),
    remote_id: 0,
    local_id: 0,
};

impl PathList {
    fn new() -> Self {
        PathList::Few {
            flags: 0,
            len: 0,
            one: NO_PATH,
        }
    }

    fn flags(&self) -> u8 {
        match self {
            PathList::Few { flags, .. }
            | PathList::Many { flags, .. }
            | PathList::Large { flags, .. } => *flags,
        }
    }

    fn flags_mut(&mut self) -> &mut u8 {
        match self {
            PathList::Few { flags, .. }
            | PathList::Many { flags, .. }
            | PathList::Large { flags, .. } => flags,
        }
    }

    fn set(&mut self, paths: &[Path]) {
        let flags = self.flags();
        *self = match paths {
            [] => PathList::Few {
                flags,
                len: 0,
                one: NO_PATH,
            },
            [one] => PathList::Few {
                flags,
                len: 1,
                one: *one,
            },
            more if more.len() <= INDEX_AT => PathList::Many {
                flags,
                paths: more.into(),
            },
            more => PathList::Large {
                flags,
                large: Box::new(Large::of(more)),
            },
        };
    }

    /// Append a path.
    pub fn push(&mut self, p: Path) {
        match self {
            PathList::Few {
                len: len @ 0, one, ..
            } => {
                *one = p;
                *len = 1;
            }
            PathList::Large { large, .. } => large.push(p),
            _ => {
                let mut v: SmallVec<[Path; 4]> = SmallVec::from_slice(self);
                v.push(p);
                self.set(&v);
            }
        }
    }

    /// Remove and return the path at `i` (`None` if out of range). With
    /// more than [`INDEX_AT`] paths the last path takes its place (the
    /// order is restored when the prefix is ranked again).
    pub fn remove(&mut self, i: usize) -> Option<Path> {
        if let PathList::Large { large, .. } = self {
            let p = large.swap_remove(i);
            if large.paths.len() <= INDEX_AT / 2 {
                let v: SmallVec<[Path; 8]> = SmallVec::from_slice(&large.paths);
                self.set(&v);
            }
            return p;
        }
        let mut v: SmallVec<[Path; 4]> = SmallVec::from_slice(self);
        if i >= v.len() {
            return None;
        }
        let p = v.remove(i);
        self.set(&v);
        Some(p)
    }

    /// Keep only the paths for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&Path) -> bool) {
        let mut v: SmallVec<[Path; 4]> = SmallVec::from_slice(self);
        let before = v.len();
        v.retain(|p| f(p));
        if v.len() != before {
            self.set(&v);
        }
    }

    /// The position of the path (`peer`, `remote_id`), if there is one.
    pub fn find(&mut self, peer: PeerId, remote_id: u32) -> Option<usize> {
        match self {
            PathList::Large { large, .. } => {
                if large.stale {
                    large.reindex();
                }
                large.pos.get(&(peer, remote_id)).map(|&i| i as usize)
            }
            _ => self
                .iter()
                .position(|p| p.peer == peer && p.remote_id == remote_id),
        }
    }

    /// How many paths `peer` has here.
    pub fn count_from(&self, peer: PeerId) -> usize {
        match self {
            PathList::Large { large, .. } => large.per_peer.get(&peer).map_or(0, |&n| n as usize),
            _ => self.iter().filter(|p| p.peer == peer).count(),
        }
    }

    /// Whether a path here has the local identifier `id`.
    pub fn has_local(&self, id: u32) -> bool {
        match self {
            PathList::Large { large, .. } => large.locals.contains(&id),
            _ => self.iter().any(|p| p.local_id == id),
        }
    }

    /// Give the path at `i` the attribute set `id`; returns the set it had.
    pub fn replace_attrs(&mut self, i: usize, id: AttrId) -> Option<AttrId> {
        let p = match self {
            PathList::Large { large, .. } => large.paths.get_mut(i)?,
            other => other.get_mut(i)?,
        };
        Some(core::mem::replace(&mut p.attrs, id))
    }

    /// Heap bytes held beyond the entry (for two paths or more).
    pub fn heap_bytes(&self) -> usize {
        match self {
            PathList::Few { .. } => 0,
            PathList::Many { paths, .. } => core::mem::size_of_val(&**paths),
            PathList::Large { large, .. } => {
                core::mem::size_of::<Large>()
                    + large.paths.capacity() * core::mem::size_of::<Path>()
                    + large.pos.allocation_size()
                    + large.per_peer.allocation_size()
                    + large.locals.allocation_size()
            }
        }
    }
}

impl core::ops::Deref for PathList {
    type Target = [Path];
    fn deref(&self) -> &[Path] {
        match self {
            PathList::Few { len, one, .. } => core::slice::from_ref(one)
                .get(..usize::from(*len))
                .unwrap_or(&[]),
            PathList::Many { paths, .. } => paths,
            PathList::Large { large, .. } => &large.paths,
        }
    }
}

/// Mutable access reorders the paths or changes their attribute sets (never
/// their peer or identifiers); the index is rebuilt on its next use.
impl core::ops::DerefMut for PathList {
    fn deref_mut(&mut self) -> &mut [Path] {
        match self {
            PathList::Few { len, one, .. } => core::slice::from_mut(one)
                .get_mut(..usize::from(*len))
                .unwrap_or(&mut []),
            PathList::Many { paths, .. } => paths,
            PathList::Large { large, .. } => {
                large.stale = true;
                &mut large.paths
            }
        }
    }
}

/// The candidate paths of one prefix and whether its best was advertised.
#[derive(Debug, Clone)]
pub struct Entry<K> {
    /// The prefix key.
    pub key: K,
    /// Candidate paths, best first once ranked.
    pub paths: PathList,
}

impl<K> Entry<K> {
    fn new(key: K) -> Self {
        Entry {
            key,
            paths: PathList::new(),
        }
    }

    /// The best path as of the last flush: its attribute set and source.
    /// Meaningful only while the entry is not dirty (the engine keeps the
    /// previous value of a dirty entry beside its dirty list).
    pub fn advertised(&self) -> Option<(AttrId, PeerId)> {
        if self.paths.flags() & ADVERTISED == 0 {
            return None;
        }
        self.paths.first().map(|p| (p.attrs, p.peer))
    }

    /// Record whether the first path was advertised at this flush.
    pub fn set_advertised(&mut self, first: bool) {
        let f = self.paths.flags_mut();
        if first {
            *f |= ADVERTISED;
        } else {
            *f &= !ADVERTISED;
        }
    }

    /// Whether some path of the entry was ever sent to an ADD-PATH peer
    /// (so an ADD-PATH Adj-RIB-Out may hold it).
    pub fn paths_sent(&self) -> bool {
        self.paths.flags() & PATHS_SENT != 0
    }

    /// Record that a path of the entry was sent to an ADD-PATH peer.
    pub fn set_paths_sent(&mut self) {
        *self.paths.flags_mut() |= PATHS_SENT;
    }

    /// Whether the entry changed since the last flush.
    pub fn is_dirty(&self) -> bool {
        self.paths.flags() & DIRTY != 0
    }

    /// Mark or clear the dirty flag; returns the previous value.
    pub fn set_dirty(&mut self, d: bool) -> bool {
        let was = self.is_dirty();
        let f = self.paths.flags_mut();
        if d {
            *f |= DIRTY;
        } else {
            *f &= !DIRTY;
        }
        was
    }
}

/// A prefix table keyed by `K` (a compact integer form of the prefix).
#[derive(Debug, Clone)]
pub struct Table<K> {
    index: HashTable<u32>,
    entries: alloc::vec::Vec<Entry<K>>,
    hasher: DefaultHashBuilder,
}

impl<K: Copy + Hash + Eq> Default for Table<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Hash + Eq> Table<K> {
    /// An empty table.
    pub fn new() -> Self {
        Table {
            index: HashTable::new(),
            entries: alloc::vec::Vec::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reserve room for `n` more prefixes.
    pub fn reserve(&mut self, n: usize) {
        let want = self.entries.len().saturating_add(n);
        if self.index.capacity() < want {
            self.grow_index(want);
        }
        self.entries.reserve(n);
    }

    fn find(&self, key: &K) -> Option<usize> {
        let h = self.hasher.hash_one(key);
        let entries = &self.entries;
        self.index
            .find(h, |&i| {
                entries.get(i as usize).is_some_and(|e| e.key == *key)
            })
            .map(|&i| i as usize)
    }

    /// Where `key`'s entry is stored; valid until the next removal.
    pub fn index_of(&self, key: &K) -> Option<usize> {
        self.find(key)
    }

    /// The entry stored at `index`.
    pub fn at(&self, index: usize) -> Option<&Entry<K>> {
        self.entries.get(index)
    }

    /// The entry stored at `index`, mutably.
    pub fn at_mut(&mut self, index: usize) -> Option<&mut Entry<K>> {
        self.entries.get_mut(index)
    }

    /// The entry for `key`.
    pub fn get(&self, key: &K) -> Option<&Entry<K>> {
        self.entries.get(self.find(key)?)
    }

    /// The entry for `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut Entry<K>> {
        let i = self.find(key)?;
        self.entries.get_mut(i)
    }

    /// Replace the index by one with room for `cap` prefixes, filled in entry
    /// order: the entries are read one after the other instead of in the old
    /// index's random order.
    fn grow_index(&mut self, cap: usize) {
        let mut index = HashTable::with_capacity(cap);
        let (entries, hasher) = (&self.entries, &self.hasher);
        let rehash = |&j: &u32| {
            entries
                .get(j as usize)
                .map_or(0, |e| hasher.hash_one(e.key))
        };
        for (i, e) in entries.iter().enumerate() {
            // With room for all of them, inserting does not rehash.
            index.insert_unique(hasher.hash_one(e.key), i as u32, rehash);
        }
        self.index = index;
    }

    /// The entry for `key` and its position, created empty if absent (`None`
    /// only if the table is full: 2^32 entries).
    pub fn get_or_insert(&mut self, key: K) -> Option<(usize, &mut Entry<K>)> {
        let i = match self.find(&key) {
            Some(i) => i,
            None => {
                let i = self.entries.len();
                if i >= u32::MAX as usize {
                    return None;
                }
                if self.index.len() >= self.index.capacity() {
                    self.grow_index((self.index.len() * 2).max(16));
                }
                self.entries.push(Entry::new(key));
                let h = self.hasher.hash_one(key);
                let entries = &self.entries;
                let hasher = &self.hasher;
                self.index.insert_unique(h, i as u32, |&j| {
                    entries
                        .get(j as usize)
                        .map_or(0, |e| hasher.hash_one(e.key))
                });
                i
            }
        };
        self.entries.get_mut(i).map(|e| (i, e))
    }

    /// Remove `key`; returns its entry.
    pub fn remove(&mut self, key: &K) -> Option<Entry<K>> {
        let h = self.hasher.hash_one(key);
        let entries = &self.entries;
        let found = self
            .index
            .find_entry(h, |&i| {
                entries.get(i as usize).is_some_and(|e| e.key == *key)
            })
            .ok()?;
        let (i, _) = found.remove();
        let i = i as usize;
        let last = self.entries.len().checked_sub(1)?;
        if i != last {
            // The last entry moves into slot `i`: repoint its index.
            let moved_key = self.entries.get(last)?.key;
            let mh = self.hasher.hash_one(moved_key);
            if let Some(slot) = self.index.find_mut(mh, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        Some(self.entries.swap_remove(i))
    }

    /// All entries, in storage order.
    pub fn iter(&self) -> core::slice::Iter<'_, Entry<K>> {
        self.entries.iter()
    }

    /// All entries, mutably, in storage order.
    pub fn iter_mut(&mut self) -> core::slice::IterMut<'_, Entry<K>> {
        self.entries.iter_mut()
    }

    /// Heap bytes held by the table itself (index and entries, not spilled path lists).
    pub fn heap_bytes(&self) -> usize {
        self.index.allocation_size() + self.entries.capacity() * core::mem::size_of::<Entry<K>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove_keeps_index_consistent() {
        let mut t: Table<u64> = Table::new();
        for k in 0..1000u64 {
            t.get_or_insert(k * 7).unwrap().1.paths.push(Path {
                attrs: AttrId(k as u32),
                peer: PeerId(1),
                remote_id: 0,
                local_id: 0,
            });
        }
        for k in (0..1000u64).step_by(3) {
            assert!(t.remove(&(k * 7)).is_some());
        }
        for k in 0..1000u64 {
            let present = t.get(&(k * 7)).is_some();
            assert_eq!(present, k % 3 != 0, "key {k}");
            if present {
                assert_eq!(t.get(&(k * 7)).unwrap().paths[0].attrs, AttrId(k as u32));
            }
        }
        assert_eq!(t.len(), 666);
    }

    #[test]
    fn reserving_and_growing_keep_every_key_findable() {
        let mut t: Table<u64> = Table::new();
        t.reserve(100);
        for k in 0..50u64 {
            t.get_or_insert(k).unwrap();
        }
        t.reserve(5000);
        for k in 50..3000u64 {
            let (i, e) = t.get_or_insert(k).unwrap();
            assert_eq!((i as u64, e.key), (k, k));
        }
        for k in 0..3000u64 {
            assert_eq!(t.index_of(&k), Some(k as usize));
        }
        assert!(t.get(&3000).is_none());
    }

    #[test]
    fn entry_flags_pack() {
        let path = |a: u32, p: u32| Path {
            attrs: AttrId(a),
            peer: PeerId(p),
            remote_id: 0,
            local_id: a,
        };
        let mut e = Entry::new(5u64);
        assert!(e.advertised().is_none());
        e.set_dirty(true);
        e.paths.push(path(9, 3));
        e.set_advertised(true);
        assert!(e.is_dirty());
        assert_eq!(e.advertised(), Some((AttrId(9), PeerId(3))));
        // Flags survive the list growing, shrinking and being reordered.
        e.paths.push(path(10, 4));
        e.paths.push(path(11, 5));
        assert!(matches!(e.paths, PathList::Many { .. }));
        assert_eq!(e.paths.heap_bytes(), 48);
        e.paths.swap(0, 2);
        assert_eq!(e.advertised(), Some((AttrId(11), PeerId(5))));
        assert_eq!(e.paths.remove(0), Some(path(11, 5)));
        assert_eq!(e.paths.remove(5), None);
        e.paths.retain(|p| p.peer != PeerId(4));
        assert!(matches!(e.paths, PathList::Few { len: 1, .. }));
        assert_eq!(&e.paths[..], &[path(9, 3)]);
        assert!(e.set_dirty(false));
        assert!(!e.is_dirty());
        assert_eq!(e.advertised(), Some((AttrId(9), PeerId(3))));
        e.set_advertised(false);
        assert_eq!(e.advertised(), None);
        e.paths.retain(|_| false);
        assert!(e.paths.is_empty());
        assert_eq!(core::mem::size_of::<PathList>(), 24);
        assert_eq!(core::mem::size_of::<Entry<u64>>(), 32);
    }

    proptest::proptest! {
        /// Any sequence of pushes, removals and retains leaves the list equal
        /// to a plain vector given the same operations, and the entry's flags
        /// as they were set.
        #[test]
        fn path_list_behaves_like_a_vector(
            ops in proptest::collection::vec((0u8..6, 0u32..40), 0..160),
            dirty: bool,
            adv: bool,
        ) {
            let mut e = Entry::new(1u64);
            e.set_dirty(dirty);
            e.set_advertised(adv);
            let mut model: Vec<Path> = Vec::new();
            for (op, v) in ops {
                match op {
                    0..=2 => {
                        // Peers 1-4, several paths each (ADD-PATH identifiers).
                        // (peer, path identifier) is unique per prefix, as in the engine.
                        let p = Path { attrs: AttrId(v), peer: PeerId(v % 4 + 1), remote_id: v, local_id: v + 1000 };
                        if !model.iter().any(|m| m.peer == p.peer && m.remote_id == p.remote_id) {
                            e.paths.push(p);
                            model.push(p);
                        }
                    }
                    3 => {
                        let i = v as usize % (model.len() + 1);
                        // Once indexed, the last path takes the removed one's place.
                        let indexed = matches!(e.paths, PathList::Large { .. });
                        let want = (i < model.len()).then(|| {
                            if indexed { model.swap_remove(i) } else { model.remove(i) }
                        });
                        proptest::prop_assert_eq!(e.paths.remove(i), want);
                    }
                    4 => {
                        e.paths.retain(|p| p.attrs.0 != v);
                        model.retain(|p| p.attrs.0 != v);
                    }
                    _ => {
                        // A reorder through DerefMut, as ranking does.
                        e.paths.sort_unstable_by_key(|p| core::cmp::Reverse(p.local_id ^ v));
                        model.sort_unstable_by_key(|p| core::cmp::Reverse(p.local_id ^ v));
                    }
                }
                proptest::prop_assert_eq!(&e.paths[..], &model[..]);
                // Exactly sized while small (a large list goes back at half INDEX_AT).
                if model.len() <= INDEX_AT / 2 {
                    proptest::prop_assert_eq!(e.paths.heap_bytes(), if model.len() > 1 { model.len() * 16 } else { 0 });
                }
                proptest::prop_assert_eq!(e.is_dirty(), dirty);
                let want_adv = model.first().filter(|_| adv).map(|p| (p.attrs, p.peer));
                proptest::prop_assert_eq!(e.advertised(), want_adv);
                // The index answers as a scan of the list does.
                for q in 0..40u32 {
                    let peer = PeerId(q % 4 + 1);
                    let want = model.iter().position(|p| p.peer == peer && p.remote_id == q);
                    proptest::prop_assert_eq!(e.paths.find(peer, q), want);
                    proptest::prop_assert_eq!(
                        e.paths.has_local(q + 1000),
                        model.iter().any(|p| p.local_id == q + 1000)
                    );
                }
                for n in 1..=4 {
                    proptest::prop_assert_eq!(
                        e.paths.count_from(PeerId(n)),
                        model.iter().filter(|p| p.peer == PeerId(n)).count()
                    );
                }
            }
        }
    }
}
