//! A compact prefix table: a hash index of `u32` positions into a dense
//! vector of entries (the layout of an index map), so a prefix costs its
//! entry plus about five bytes of index.

use core::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::SmallVec;

use super::{AttrId, Path, PeerId};

const NONE_PEER: u32 = 0x7fff_ffff;
const DIRTY: u32 = 0x8000_0000;

/// The candidate paths of one prefix and what was last advertised for it.
#[derive(Debug, Clone)]
pub struct Entry<K> {
    /// The prefix key.
    pub key: K,
    /// Candidate paths, best first once ranked.
    pub paths: SmallVec<[Path; 1]>,
    adv_attrs: u32,
    adv_peer: u32,
}

impl<K> Entry<K> {
    fn new(key: K) -> Self {
        Entry {
            key,
            paths: SmallVec::new(),
            adv_attrs: 0,
            adv_peer: NONE_PEER,
        }
    }

    /// The best path as of the last flush: its attribute set and source.
    pub fn advertised(&self) -> Option<(AttrId, PeerId)> {
        let p = self.adv_peer & !DIRTY;
        (p != NONE_PEER).then_some((AttrId(self.adv_attrs), PeerId(p)))
    }

    /// Record the advertised best path (the caller manages the attribute set's reference).
    pub fn set_advertised(&mut self, adv: Option<(AttrId, PeerId)>) {
        let dirty = self.adv_peer & DIRTY;
        match adv {
            Some((a, p)) => {
                self.adv_attrs = a.0;
                self.adv_peer = (p.0 & !DIRTY) | dirty;
            }
            None => {
                self.adv_attrs = 0;
                self.adv_peer = NONE_PEER | dirty;
            }
        }
    }

    /// Whether the entry changed since the last flush.
    pub fn is_dirty(&self) -> bool {
        self.adv_peer & DIRTY != 0
    }

    /// Mark or clear the dirty flag; returns the previous value.
    pub fn set_dirty(&mut self, d: bool) -> bool {
        let was = self.is_dirty();
        if d {
            self.adv_peer |= DIRTY;
        } else {
            self.adv_peer &= !DIRTY;
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
        let entries = &self.entries;
        let hasher = &self.hasher;
        self.index.reserve(n, |&i| {
            entries
                .get(i as usize)
                .map_or(0, |e| hasher.hash_one(e.key))
        });
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

    /// The entry for `key`.
    pub fn get(&self, key: &K) -> Option<&Entry<K>> {
        self.entries.get(self.find(key)?)
    }

    /// The entry for `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut Entry<K>> {
        let i = self.find(key)?;
        self.entries.get_mut(i)
    }

    /// The entry for `key`, created empty if absent (`None` only if the table is full: 2^32 entries).
    pub fn get_or_insert(&mut self, key: K) -> Option<&mut Entry<K>> {
        let i = match self.find(&key) {
            Some(i) => i,
            None => {
                let i = self.entries.len();
                if i >= u32::MAX as usize {
                    return None;
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
        self.entries.get_mut(i)
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
        self.index.capacity() * (core::mem::size_of::<u32>() + 1)
            + self.entries.capacity() * core::mem::size_of::<Entry<K>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove_keeps_index_consistent() {
        let mut t: Table<u64> = Table::new();
        for k in 0..1000u64 {
            t.get_or_insert(k * 7).unwrap().paths.push(Path {
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
    fn entry_flags_pack() {
        let mut e = Entry::new(5u64);
        assert!(e.advertised().is_none());
        e.set_dirty(true);
        e.set_advertised(Some((AttrId(9), PeerId(3))));
        assert!(e.is_dirty());
        assert_eq!(e.advertised(), Some((AttrId(9), PeerId(3))));
        e.set_dirty(false);
        assert_eq!(e.advertised(), Some((AttrId(9), PeerId(3))));
        assert_eq!(core::mem::size_of::<Entry<u64>>(), 40);
    }
}
