//! Tests written against mutants of `reflector_core::rib` that the rest of
//! the suite let survive (see RELIABILITY.md): the path list checked against
//! a plain vector through its three layouts (one path, up to 16, indexed
//! above 16), the prefix table against a map, entry flags, attribute sets
//! decoded from real attribute bytes, and the memory accounting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::rib::table::INDEX_AT;
use reflector_core::rib::{
    AttrId, AttrSet, Interner, Path, PathInfo, PathList, PeerId, Table, NO_NEIGHBOR_AS,
};
use reflector_core::wire::attribute::Origin;

fn path(peer: u32, remote_id: u32, local_id: u32) -> Path {
    Path {
        attrs: AttrId(peer * 1000 + remote_id),
        peer: PeerId(peer),
        remote_id,
        local_id,
    }
}

/// A small deterministic generator (xorshift), so the sequence is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Every query of a path list agrees with the same query on a plain vector.
fn check_list(list: &mut PathList, model: &[Path]) {
    let mut got: Vec<Path> = list.to_vec();
    let mut want = model.to_vec();
    let key = |p: &Path| (p.peer, p.remote_id);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want);
    for peer in 0..6 {
        assert_eq!(
            list.count_from(PeerId(peer)),
            model.iter().filter(|p| p.peer == PeerId(peer)).count(),
            "count_from({peer})"
        );
        for rid in 0..12 {
            let at = list.find(PeerId(peer), rid);
            let exists = model
                .iter()
                .any(|p| p.peer == PeerId(peer) && p.remote_id == rid);
            assert_eq!(at.is_some(), exists, "find({peer}, {rid})");
            if let Some(i) = at {
                assert_eq!((list[i].peer, list[i].remote_id), (PeerId(peer), rid));
            }
        }
    }
    for id in 0..80 {
        assert_eq!(
            list.has_local(id),
            model.iter().any(|p| p.local_id == id),
            "has_local({id})"
        );
    }
    // The layout: one path inline, up to INDEX_AT in one allocation, more
    // indexed (and an indexed list goes back at INDEX_AT / 2).
    let heap = list.heap_bytes();
    let n = model.len();
    let bytes = core::mem::size_of_val(model);
    match list {
        PathList::Few { .. } => {
            assert!(n <= 1);
            assert_eq!(heap, 0);
        }
        PathList::Many { .. } => {
            assert!((2..=INDEX_AT).contains(&n), "{n}");
            assert_eq!(heap, bytes);
        }
        PathList::Large { .. } => {
            assert!(n > INDEX_AT / 2, "{n}");
            assert!(heap > bytes, "{heap} for {n}");
        }
    }
    if n > INDEX_AT {
        assert!(matches!(list, PathList::Large { .. }));
    }
}

#[test]
fn path_list_matches_a_vector_through_all_layouts() {
    let mut table: Table<u32> = Table::new();
    let (_, e) = table.get_or_insert(7).unwrap();
    let list = &mut e.paths;
    let mut model: Vec<Path> = Vec::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut next_local = 0;
    check_list(list, &model);
    for step in 0..3000 {
        // Grow to well above INDEX_AT, then shrink, then grow again.
        let grow = match step / 500 {
            0 | 2 | 4 => rng.below(10) < 7,
            _ => rng.below(10) < 3,
        };
        if grow {
            let (peer, rid) = (rng.below(6) as u32, rng.below(12) as u32);
            if model.iter().any(|p| p.peer.0 == peer && p.remote_id == rid) {
                continue;
            }
            next_local = (next_local + 1) % 80;
            if model.iter().any(|p| p.local_id == next_local) {
                continue;
            }
            let p = path(peer, rid, next_local);
            list.push(p);
            model.push(p);
        } else if !model.is_empty() {
            match rng.below(4) {
                0 => {
                    // Remove by position, as the engine does after `find`.
                    let victim = model[rng.below(model.len() as u64) as usize];
                    let i = list.find(victim.peer, victim.remote_id).unwrap();
                    assert_eq!(list.remove(i), Some(victim));
                    model.retain(|p| *p != victim);
                }
                1 => {
                    let peer = PeerId(rng.below(6) as u32);
                    list.retain(|p| p.peer != peer);
                    model.retain(|p| p.peer != peer);
                }
                2 => {
                    // Reorder through DerefMut (as ranking does), then look up again.
                    list.reverse();
                    model.reverse();
                }
                _ => {
                    let victim = model[rng.below(model.len() as u64) as usize];
                    let i = list.find(victim.peer, victim.remote_id).unwrap();
                    let new = AttrId(99_999);
                    assert_eq!(list.replace_attrs(i, new), Some(victim.attrs));
                    for p in model.iter_mut() {
                        if *p == victim {
                            p.attrs = new;
                        }
                    }
                }
            }
        }
        check_list(list, &model);
    }
    assert_eq!(list.remove(usize::MAX), None);
    assert_eq!(list.replace_attrs(usize::MAX, AttrId(1)), None);
}

#[test]
fn large_list_shrinks_back_at_half_the_index_threshold() {
    let mut table: Table<u32> = Table::new();
    let (_, e) = table.get_or_insert(1).unwrap();
    let list = &mut e.paths;
    for i in 0..=(INDEX_AT as u32) {
        list.push(path(1, i, i));
    }
    assert!(matches!(list, PathList::Large { .. }));
    while list.len() > INDEX_AT / 2 + 1 {
        list.remove(0).unwrap();
        assert!(matches!(list, PathList::Large { .. }));
    }
    list.remove(0).unwrap();
    assert_eq!(list.len(), INDEX_AT / 2);
    assert!(matches!(list, PathList::Many { .. }));
    assert_eq!(
        list.heap_bytes(),
        INDEX_AT / 2 * core::mem::size_of::<Path>()
    );
}

#[test]
fn entry_flags_are_independent() {
    let mut table: Table<u32> = Table::new();
    let (_, e) = table.get_or_insert(1).unwrap();
    assert!(!e.is_dirty());
    assert_eq!(e.advertised(), None);
    e.paths.push(path(3, 0, 1));
    assert_eq!(e.advertised(), None);
    e.set_advertised(true);
    assert_eq!(e.advertised(), Some((AttrId(3000), PeerId(3))));
    assert!(!e.set_dirty(true));
    assert!(e.is_dirty());
    assert_eq!(e.advertised(), Some((AttrId(3000), PeerId(3))));
    assert!(e.set_dirty(true));
    // Flags survive the list changing layout.
    for i in 1..=(INDEX_AT as u32 + 1) {
        e.paths.push(path(4, i, i + 1));
    }
    assert!(e.is_dirty());
    assert_eq!(e.advertised(), Some((AttrId(3000), PeerId(3))));
    assert!(e.set_dirty(false));
    assert!(!e.is_dirty());
    assert!(e.advertised().is_some());
    e.set_advertised(false);
    assert_eq!(e.advertised(), None);
    assert!(!e.is_dirty());
    e.set_dirty(true);
    e.set_advertised(true);
    e.set_advertised(false);
    assert!(e.is_dirty());
}

#[test]
fn table_matches_a_map() {
    let mut t: Table<u32> = Table::new();
    assert!(t.is_empty());
    let mut model: HashMap<u32, u32> = HashMap::new();
    let mut rng = Rng(12345);
    t.reserve(10);
    let base = t.heap_bytes();
    assert!(base > 0);
    for _ in 0..5000 {
        let k = rng.below(400) as u32;
        if rng.below(3) < 2 {
            let (i, e) = t.get_or_insert(k).unwrap();
            assert_eq!(e.key, k);
            if e.paths.is_empty() {
                e.paths.push(path(1, k, 0));
            }
            model.insert(k, k);
            assert_eq!(t.index_of(&k), Some(i));
            assert_eq!(t.at(i).unwrap().key, k);
        } else {
            let had = model.remove(&k).is_some();
            let got = t.remove(&k);
            assert_eq!(got.is_some(), had);
            if let Some(e) = got {
                assert_eq!(e.key, k);
            }
        }
        assert_eq!(t.len(), model.len());
        assert_eq!(t.is_empty(), model.is_empty());
    }
    for k in 0..400 {
        assert_eq!(t.get(&k).map(|e| e.key), model.get(&k).copied(), "{k}");
        assert_eq!(t.get_mut(&k).is_some(), model.contains_key(&k));
        if let Some(i) = t.index_of(&k) {
            assert_eq!(t.at_mut(i).unwrap().key, k);
        }
    }
    let mut keys: Vec<u32> = t.iter().map(|e| e.key).collect();
    keys.sort_unstable();
    let mut want: Vec<u32> = model.keys().copied().collect();
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(t.iter_mut().count(), model.len());
    assert!(t.heap_bytes() >= t.len() * core::mem::size_of::<reflector_core::rib::Entry<u32>>());
    // reserve grows the index and the entries at once: no further growth for that many.
    let mut r: Table<u32> = Table::new();
    assert_eq!(r.heap_bytes(), 0);
    r.reserve(1000);
    let after = r.heap_bytes();
    assert!(after >= 1000 * (core::mem::size_of::<reflector_core::rib::Entry<u32>>() + 5));
    for k in 0..1000 {
        r.get_or_insert(k).unwrap();
    }
    assert_eq!(r.heap_bytes(), after);
    for k in 0..1000 {
        assert_eq!(r.get(&k).unwrap().key, k);
    }
}

/// ORIGIN IGP, AS_PATH [65001 65002], NEXT_HOP 192.0.2.1, MED 5,
/// LOCAL_PREF 200, ORIGINATOR_ID 10.0.0.9, CLUSTER_LIST (2 IDs), as a
/// canonical block (sorted by type code, 4-octet AS numbers).
fn full_block() -> Vec<u8> {
    let mut b = vec![0x40, 1, 1, 0];
    b.extend_from_slice(&[0x40, 2, 10, 2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea]);
    b.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
    b.extend_from_slice(&[0x80, 4, 4, 0, 0, 0, 5]);
    b.extend_from_slice(&[0x40, 5, 4, 0, 0, 0, 200]);
    b.extend_from_slice(&[0x80, 9, 4, 10, 0, 0, 9]);
    b.extend_from_slice(&[0x80, 10, 8, 1, 1, 1, 1, 2, 2, 2, 2]);
    b
}

#[test]
fn path_info_is_decoded_from_real_attribute_bytes() {
    let b = full_block();
    let want = PathInfo {
        origin: Origin::Igp,
        as_path_len: 2,
        neighbor_as: 65001,
        med: Some(5),
        local_pref: Some(200),
        originator_id: Some(0x0a00_0009),
        cluster_list_len: 2,
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
    };
    assert_eq!(PathInfo::from_block(&b, None), want);
    let set = AttrSet::new(&b, None);
    assert_eq!(set.info(), want);
    assert_eq!(set.originator_id(), Some(0x0a00_0009));
    assert_eq!(set.block(), &b[..]);
    assert_eq!(set.mp_next_hop(), None);
    assert_eq!(set.heap_bytes(), b.len());

    // Nothing but ORIGIN INCOMPLETE: every optional field absent, an empty path.
    let bare = [0x40, 1, 1, 2, 0x40, 2, 0];
    let info = AttrSet::new(&bare, None).info();
    assert_eq!(info.origin, Origin::Incomplete);
    assert_eq!(
        (info.med, info.local_pref, info.originator_id),
        (None, None, None)
    );
    assert_eq!(
        (info.as_path_len, info.neighbor_as, info.cluster_list_len),
        (0, 0, 0)
    );
    assert_eq!(AttrSet::new(&bare, None).originator_id(), None);
    let egp = [0x40, 1, 1, 1];
    assert_eq!(AttrSet::new(&egp, None).info().origin, Origin::Egp);

    // An AS_SET-led aggregate: the local AS (RFC 4271 §9.1.2.2 c).
    let set_led = [0x40, 2, 10, 1, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea];
    let i = PathInfo::from_block(&set_led, None);
    assert_eq!((i.neighbor_as, i.as_path_len), (0, 1));
    // An empty AS_SEQUENCE segment counts for nothing: as the empty path.
    let empty_seq = [0x40, 2, 2, 2, 0];
    let i = PathInfo::from_block(&empty_seq, None);
    assert_eq!((i.neighbor_as, i.as_path_len), (0, 0));
    assert_ne!(i.neighbor_as, NO_NEIGHBOR_AS);

    // MP next hops: 16 and 32 octets (the global address counts), and 4.
    let g: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    let both = [g.octets(), ll.octets()].concat();
    for nh in [&g.octets()[..], &both[..]] {
        let s = AttrSet::new(&bare, Some(nh));
        assert_eq!(s.mp_next_hop(), Some(nh));
        assert_eq!(s.block(), &bare[..]);
        assert_eq!(s.info().next_hop, Some(IpAddr::V6(g)));
        assert_eq!(
            PathInfo::from_block(&bare, Some(nh)).next_hop,
            Some(IpAddr::V6(g))
        );
        assert_eq!(s.heap_bytes(), 1 + nh.len() + bare.len());
    }
    let s = AttrSet::new(&bare, Some(&[192, 0, 2, 7]));
    assert_eq!(
        s.info().next_hop,
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))
    );
    assert_eq!(AttrSet::new(&bare, Some(&[1, 2, 3])).info().next_hop, None);
    // An MP next hop replaces NEXT_HOP.
    assert_eq!(
        AttrSet::new(&b, Some(&g.octets())).info().next_hop,
        Some(IpAddr::V6(g))
    );
}

/// RFC 1997: NO_ADVERTISE withholds from every peer, NO_EXPORT and
/// NO_EXPORT_SUBCONFED from eBGP peers only; NOPEER (RFC 3765) is its own flag.
#[test]
fn well_known_communities_from_real_bytes() {
    let with = |cs: &[u32]| {
        let mut b = vec![0x40, 1, 1, 0, 0xc0, 8, (cs.len() * 4) as u8];
        for c in cs {
            b.extend_from_slice(&c.to_be_bytes());
        }
        AttrSet::new(&b, None)
    };
    let s = with(&[0x0001_0002]);
    assert!(!s.withheld_from(true) && !s.withheld_from(false) && !s.no_peer());
    let s = with(&[0xffff_ff01]); // NO_EXPORT
    assert!(s.withheld_from(true) && !s.withheld_from(false) && !s.no_peer());
    let s = with(&[0xffff_ff03]); // NO_EXPORT_SUBCONFED
    assert!(s.withheld_from(true) && !s.withheld_from(false));
    let s = with(&[0xffff_ff02]); // NO_ADVERTISE
    assert!(s.withheld_from(true) && s.withheld_from(false) && !s.no_peer());
    let s = with(&[0xffff_ff04]); // NOPEER
    assert!(!s.withheld_from(true) && !s.withheld_from(false) && s.no_peer());
}

#[test]
fn interner_counts_references_bytes_and_owners() {
    let mut i: Interner<u8> = Interner::new();
    assert!(i.is_empty());
    assert_eq!(i.heap_bytes(), 0);
    let b = full_block();
    let bare = [0x40, 1, 1, 2, 0x40, 2, 0];
    let a = i.intern_owned(&b, None, 3);
    assert_eq!(i.len(), 1);
    assert!(!i.is_empty());
    let per = Interner::<u8>::set_bytes(&b, None);
    assert!(per > b.len() as u64);
    assert_eq!(Interner::<u8>::set_bytes(&b, Some(&[1, 2, 3, 4])), per + 5);
    assert_eq!(i.owned_bytes(3), per);
    assert_eq!(i.owned_bytes(2), 0);
    // A second intern of the same set: a reference, not a new charge.
    assert_eq!(i.intern_owned(&b, None, 3), a);
    assert_eq!(i.owned_bytes(3), per);
    assert_eq!(i.refs(a), 2);
    assert!(i.heap_bytes() >= b.len());
    // Owner 0 is no owner.
    let c = i.intern_owned(&bare, None, 0);
    assert_eq!(i.owned_bytes(0), 0);
    assert_eq!(i.len(), 2);
    assert_eq!(i.lookup(&bare, None), Some(c));
    assert_eq!(i.lookup(&bare, Some(&[1, 2, 3, 4])), None);
    *i.get_with_ext(c).unwrap().1 = 7;
    assert_eq!(*i.get_with_ext(c).unwrap().1, 7);
    assert!(!i.release(a));
    assert_eq!(i.owned_bytes(3), per);
    assert!(i.release(a));
    assert_eq!(i.owned_bytes(3), 0);
    assert_eq!(i.len(), 1);
    assert_eq!(i.lookup(&b, None), None);
    assert!(!i.release(a));
    assert_eq!(i.len(), 1);
    // The slot is reused, its extension value reset.
    assert!(i.release(c));
    assert!(i.is_empty());
    let d = i.intern(&bare, None);
    assert_eq!(*i.get_with_ext(d).unwrap().1, 0);
    assert_eq!(i.refs(d), 1);
    assert_eq!(i.get(d).unwrap().block(), &bare[..]);
}

/// A lookup matches block *and* next hop: with thousands of sets sharing one
/// block (the index compares every entry whose short hash tag matches), a
/// next hop that was never interned is not found.
#[test]
fn lookup_needs_both_block_and_next_hop() {
    let mut i: Interner<()> = Interner::new();
    let bare = [0x40, 1, 1, 2, 0x40, 2, 0];
    for n in 0..3000u32 {
        i.intern(&bare, Some(&n.to_be_bytes()));
    }
    for n in 3000..6000u32 {
        assert_eq!(i.lookup(&bare, Some(&n.to_be_bytes())), None, "{n}");
    }
    assert_eq!(i.lookup(&bare, None), None);
    for n in 0..3000u32 {
        let id = i.lookup(&bare, Some(&n.to_be_bytes())).unwrap();
        assert_eq!(i.get(id).unwrap().mp_next_hop(), Some(&n.to_be_bytes()[..]));
    }
}
