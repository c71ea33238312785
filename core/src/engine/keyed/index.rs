//! The index of a keyed table: from the hash of a route's key to the slot of
//! its entry.
//!
//! An open-addressing table of 4-byte buckets with linear probing. A key's
//! first bucket is given by the top bits of its hash, so the keys of a
//! table sorted by hash sit in bucket order and a table can be rebuilt front
//! to back. Each bucket holds the slot (plus one, 0 marking an empty bucket)
//! in its low bits and a tag of the hash in the bits the slots do not need,
//! so that a probe compares keys only when the tags agree. The table is at
//! most three quarters full; a removal shifts the rest of its run back
//! instead of leaving a tombstone.
//!
//! What it gives that a general hash table does not: the one bucket where a
//! key's probe starts is known before the probe, so a batch of keys can have
//! those buckets read ahead ([`SlotIndex::warm`]) and their cache misses
//! overlap; and a new key's slot goes into the bucket the probe read.

use alloc::vec::Vec;

/// The fewest buckets an index that holds anything has.
const MIN_BUCKETS: usize = 8;

/// An index from key hashes to entry slots (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub(super) struct SlotIndex {
    /// 0: empty; else the hash's tag above the slot plus one.
    buckets: Vec<u32>,
    /// Buckets in use.
    len: usize,
    /// The low bits of a bucket that hold its slot plus one.
    slot_bits: u32,
}

impl SlotIndex {
    /// An index with no bucket.
    pub(super) fn new() -> Self {
        SlotIndex::default()
    }

    /// An empty index of `buckets` buckets (a power of two, at least
    /// [`MIN_BUCKETS`]) whose buckets hold slots up to `max_slot`.
    pub(super) fn with_buckets(buckets: usize, max_slot: u32) -> Self {
        let n = buckets.max(MIN_BUCKETS).next_power_of_two();
        // slot + 1 must be below 2^bits.
        let bits = (u64::from(max_slot) + 2)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(1, 32);
        SlotIndex {
            buckets: alloc::vec![0; n],
            len: 0,
            slot_bits: bits,
        }
    }

    /// An empty index to rebuild this one into, for a table of `entries`
    /// slots: twice the buckets if this one is full, the same otherwise, and
    /// buckets that hold any slot up to the larger of `entries` and its
    /// buckets. This one is freed before the new one is made.
    pub(super) fn grown(self, entries: usize) -> SlotIndex {
        let buckets = if self.len < self.capacity() {
            self.buckets.len()
        } else {
            self.buckets.len() * 2
        };
        drop(self);
        let max_slot = entries.max(buckets) + 1;
        SlotIndex::with_buckets(buckets, u32::try_from(max_slot).unwrap_or(u32::MAX - 1))
    }

    /// Keys in the index.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Buckets of the index.
    #[cfg(test)]
    pub(super) fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Keys the index takes before it must grow.
    pub(super) fn capacity(&self) -> usize {
        self.buckets.len() / 4 * 3
    }

    /// Whether a new key with slot `slot` fits without a rebuild.
    pub(super) fn has_room_for(&self, slot: u32) -> bool {
        self.len < self.capacity() && u64::from(slot) + 1 < (1u64 << self.slot_bits)
    }

    /// Heap bytes of the index.
    pub(super) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * core::mem::size_of::<u32>()
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// The first bucket of hash `h`.
    fn home(&self, h: u64) -> usize {
        let bits = self.buckets.len().trailing_zeros();
        if bits == 0 || bits >= 64 {
            return 0;
        }
        (h >> (64 - bits)) as usize
    }

    /// The tag of hash `h`, in place above the slot bits.
    fn tag(&self, h: u64) -> u32 {
        (h as u32).checked_shl(self.slot_bits).unwrap_or(0)
    }

    /// The tag part of bucket `b`.
    fn tag_of(&self, b: u32) -> u32 {
        b.checked_shr(self.slot_bits)
            .and_then(|t| t.checked_shl(self.slot_bits))
            .unwrap_or(0)
    }

    /// The slot in the used bucket `b`.
    fn slot_of(&self, b: u32) -> u32 {
        let mask = 1u64.checked_shl(self.slot_bits).map_or(u64::MAX, |m| m - 1);
        ((u64::from(b) & mask) as u32).wrapping_sub(1)
    }

    /// Read the first bucket of hash `h`, so that a probe of it soon after
    /// finds it in the cache.
    pub(super) fn warm(&self, h: u64) {
        core::hint::black_box(self.buckets.get(self.home(h)).copied());
    }

    /// The slot of the key with hash `h` for which `eq` holds.
    pub(super) fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let (tag, mask) = (self.tag(h), self.mask());
        let mut at = self.home(h);
        for _ in 0..self.buckets.len() {
            let b = *self.buckets.get(at)?;
            if b == 0 {
                return None;
            }
            if self.tag_of(b) == tag && eq(self.slot_of(b)) {
                return Some(self.slot_of(b));
            }
            at = (at + 1) & mask;
        }
        None
    }

    /// The slot of the key with hash `h` for which `eq` holds (`Ok`), or
    /// else the slot `new` gives, entered for it (`Err`). The caller first
    /// makes room ([`SlotIndex::has_room_for`] the slot `new` gives).
    pub(super) fn find_or_insert(
        &mut self,
        h: u64,
        mut eq: impl FnMut(u32) -> bool,
        new: impl FnOnce() -> u32,
    ) -> Result<u32, u32> {
        let (tag, mask) = (self.tag(h), self.mask());
        let mut at = self.home(h);
        for _ in 0..self.buckets.len() {
            let Some(&b) = self.buckets.get(at) else {
                break;
            };
            if b == 0 {
                let slot = new();
                if let Some(e) = self.buckets.get_mut(at) {
                    *e = tag | slot.wrapping_add(1);
                    self.len += 1;
                }
                return Err(slot);
            }
            if self.tag_of(b) == tag && eq(self.slot_of(b)) {
                return Ok(self.slot_of(b));
            }
            at = (at + 1) & mask;
        }
        // A full index (the caller did not make room): nothing entered.
        Err(new())
    }

    /// Enter slot `slot` for a key with hash `h` that the index does not hold
    /// (while it is built; the caller made room).
    pub(super) fn insert_new(&mut self, h: u64, slot: u32) {
        let _ = self.find_or_insert(h, |_| false, || slot);
    }

    /// Take out slot `slot`, entered with hash `h`; `hash_of` gives the hash
    /// of any other slot, for the keys moved back into the gap. Returns
    /// whether it was there.
    pub(super) fn remove(&mut self, h: u64, slot: u32, hash_of: impl Fn(u32) -> u64) -> bool {
        let (tag, mask) = (self.tag(h), self.mask());
        let mut at = self.home(h);
        let mut found = None;
        for _ in 0..self.buckets.len() {
            let Some(&b) = self.buckets.get(at) else {
                break;
            };
            if b == 0 {
                break;
            }
            if self.tag_of(b) == tag && self.slot_of(b) == slot {
                found = Some(at);
                break;
            }
            at = (at + 1) & mask;
        }
        let Some(mut gap) = found else {
            return false;
        };
        // Backward shift: each key of the run after the gap whose probe
        // passes through the gap moves into it.
        let mut j = gap;
        for _ in 0..self.buckets.len() {
            j = (j + 1) & mask;
            let Some(&b) = self.buckets.get(j) else {
                break;
            };
            if b == 0 {
                break;
            }
            let home = self.home(hash_of(self.slot_of(b)));
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(gap) & mask) {
                if let Some(g) = self.buckets.get_mut(gap) {
                    *g = b;
                }
                gap = j;
            }
        }
        if let Some(g) = self.buckets.get_mut(gap) {
            *g = 0;
        }
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Hashes from a small key space, with the top bits (the first bucket)
    /// drawn from few values so that runs form, wrap and collide.
    fn hash(key: u16, spread: u8) -> u64 {
        let top = u64::from(key % u16::from(spread.max(1)));
        // The low bits (the tag) from few values too, so that different
        // keys share tags and only their comparison tells them apart.
        (top << 58) | (u64::from(key) << 20) | u64::from(key % 5)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..300).prop_map(Op::Insert),
            2 => (0u16..300).prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// The index finds every key a map holds and no other, through
        /// inserts, removals (with their backward shifts) and rebuilds.
        #[test]
        fn the_index_holds_what_a_map_holds(
            ops in proptest::collection::vec(op(), 0..400),
            spread in 1u8..64,
        ) {
            // slot -> key, as a keyed table's entries; the oracle key -> slot.
            let mut keys: Vec<Option<u16>> = Vec::new();
            let mut free: Vec<u32> = Vec::new();
            let mut map: HashMap<u16, u32> = HashMap::new();
            let mut ix = SlotIndex::new();
            for op in ops {
                match op {
                    Op::Insert(k) => {
                        let next = free.last().copied().unwrap_or(keys.len() as u32);
                        if !ix.has_room_for(next) {
                            let mut bigger = core::mem::take(&mut ix).grown(keys.len());
                            for (s, key) in keys.iter().enumerate() {
                                if let Some(key) = key {
                                    bigger.insert_new(hash(*key, spread), s as u32);
                                }
                            }
                            ix = bigger;
                        }
                        let h = hash(k, spread);
                        let got = ix.find_or_insert(h, |s| keys[s as usize] == Some(k), || next);
                        if got.is_err() {
                            match free.last() {
                                Some(_) => { free.pop(); }
                                None => keys.push(None),
                            }
                        }
                        match (got, map.get(&k)) {
                            (Ok(s), Some(&want)) => prop_assert_eq!(s, want),
                            (Err(s), None) => {
                                keys[s as usize] = Some(k);
                                map.insert(k, s);
                            }
                            (got, want) => prop_assert!(false, "{:?} against {:?}", got, want),
                        }
                    }
                    Op::Remove(k) => {
                        let Some(s) = map.remove(&k) else {
                            prop_assert_eq!(ix.find(hash(k, spread), |s| keys[s as usize] == Some(k)), None);
                            continue;
                        };
                        let removed = ix.remove(hash(k, spread), s, |o| {
                            hash(keys[o as usize].expect("a used slot has a key"), spread)
                        });
                        prop_assert!(removed);
                        keys[s as usize] = None;
                        free.push(s);
                    }
                }
                prop_assert_eq!(ix.len(), map.len());
                // At most three quarters full.
                prop_assert!(ix.len() * 4 <= ix.buckets() * 3);
            }
            for k in 0u16..300 {
                let found = ix.find(hash(k, spread), |s| keys[s as usize] == Some(k));
                prop_assert_eq!(found, map.get(&k).copied(), "key {}", k);
            }
        }
    }

    #[test]
    fn slots_keep_their_tags_apart_at_every_width() {
        for max in [0u32, 1, 6, 7, 255, 1 << 20, u32::MAX - 1] {
            let mut ix = SlotIndex::with_buckets(8, max);
            let h = 0xDEAD_BEEF_1234_5678;
            assert!(ix.has_room_for(max), "max slot {max}");
            ix.insert_new(h, max);
            assert_eq!(ix.find(h, |s| s == max), Some(max), "max slot {max}");
            // Another hash with the same first bucket: told apart by the tag
            // while the slots leave room for one.
            assert_eq!(ix.find(h ^ 1, |s| s == max).is_none(), ix.slot_bits < 32);
        }
    }

    #[test]
    fn an_index_takes_three_quarters_of_its_buckets_and_counts_them() {
        for n in [8usize, 64, 1 << 12] {
            let mut ix = SlotIndex::with_buckets(n, n as u32);
            assert_eq!(ix.heap_bytes(), n * 4);
            let mut s = 0u32;
            while ix.has_room_for(s) {
                ix.insert_new(u64::from(s).wrapping_mul(0x9E37_79B9_7F4A_7C15), s);
                s += 1;
            }
            assert_eq!(ix.len(), n / 4 * 3, "{n} buckets");
            // Full: the next index has twice the buckets, and room again.
            let next = ix.grown(s as usize);
            assert_eq!(next.buckets(), 2 * n);
            assert!(next.has_room_for(s));
        }
    }

    #[test]
    fn a_key_starts_at_the_bucket_of_its_hash_top_bits() {
        // 16 buckets: the top 4 bits of the hash name the first bucket;
        // a second key with the same top bits goes to the next one, and
        // past the last bucket to the first.
        let mut ix = SlotIndex::with_buckets(16, 16);
        ix.insert_new(0xB000_0000_0000_0001, 3);
        ix.insert_new(0xB000_0000_0000_0002, 4);
        ix.insert_new(0xF000_0000_0000_0003, 5);
        ix.insert_new(0xF000_0000_0000_0004, 6);
        let used: Vec<usize> = (0..16).filter(|&i| ix.buckets[i] != 0).collect();
        assert_eq!(
            used,
            [0, 11, 12, 15],
            "the last one's run wraps to bucket 0"
        );
        assert_eq!(ix.slot_of(ix.buckets[11]), 3);
        assert_eq!(ix.slot_of(ix.buckets[12]), 4);
        assert_eq!(ix.slot_of(ix.buckets[0]), 6);
    }

    #[test]
    fn an_empty_index_finds_nothing_and_takes_nothing_without_room() {
        let ix = SlotIndex::new();
        assert_eq!(ix.find(42, |_| true), None);
        assert!(!ix.has_room_for(0));
        assert_eq!(ix.heap_bytes(), 0);
    }
}
