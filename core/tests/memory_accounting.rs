//! The RIB's memory accounting against the allocator: a counting global
//! allocator (per thread) measures the heap bytes a structure holds, and the
//! structure's `heap_bytes()` must say exactly that, for the attribute-set
//! interner, the prefix table and the path lists (two paths and more, and
//! the indexed lists of many ADD-PATH paths). `Engine::memory()` is the sum of these.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use reflector_core::rib::{AttrId, Interner, Path, PathList, PeerId, Table};

/// The system allocator, counting the bytes each thread holds.
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + n));
}

// SAFETY: every call is forwarded to the system allocator unchanged, with
// the caller's own arguments; the wrapper only counts bytes (in a
// thread-local `Cell`, which never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        add(l.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(-(l.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        add(n as isize - l.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn held() -> isize {
    HELD.with(Cell::get)
}

/// The bytes `build` leaves allocated on this thread, and what it built.
fn measured<T>(build: impl FnOnce() -> T) -> (usize, T) {
    let before = held();
    let t = build();
    ((held() - before) as usize, t)
}

fn block(i: u32) -> Vec<u8> {
    // ORIGIN, AS_PATH [i], LOCAL_PREF i, and i % 7 communities.
    let mut b = vec![0x40, 1, 1, 0, 0x40, 2, 6, 2, 1];
    b.extend_from_slice(&i.to_be_bytes());
    b.extend_from_slice(&[0x40, 5, 4]);
    b.extend_from_slice(&i.to_be_bytes());
    let n = (i % 7) as u8;
    if n > 0 {
        b.extend_from_slice(&[0xc0, 8, 4 * n]);
        for c in 0..u32::from(n) {
            b.extend_from_slice(&(0xfde8_0000 | c).to_be_bytes());
        }
    }
    b
}

#[test]
fn interner_heap_bytes_are_what_the_allocator_holds() {
    let nh = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let blocks: Vec<Vec<u8>> = (1..=3000).map(block).collect();
    let (bytes, (mut i, ids)) = measured(|| {
        let mut i: Interner<()> = Interner::new();
        let ids: Vec<AttrId> = blocks
            .iter()
            .enumerate()
            .map(|(k, b)| i.intern(b, (k % 3 == 0).then_some(&nh[..])))
            .collect();
        (i, ids)
    });
    // `ids` is the test's own: take it out of the count.
    let ids_bytes = ids.capacity() * core::mem::size_of::<AttrId>();
    assert_eq!(i.heap_bytes(), bytes - ids_bytes, "3,000 sets");
    // Half of them released: the slots stay (for reuse), the sets' bytes go.
    let before = held();
    for id in ids.iter().step_by(2) {
        assert!(i.release(*id));
    }
    let freed = (before - held()) as usize;
    assert_eq!(
        i.heap_bytes(),
        bytes - ids_bytes - freed,
        "after 1,500 releases"
    );
    assert!(freed > 0);
}

fn path(peer: u32, id: u32) -> Path {
    Path {
        attrs: AttrId(peer),
        peer: PeerId(peer),
        remote_id: id,
        local_id: peer * 1000 + id,
    }
}

#[test]
fn path_list_heap_bytes_are_what_the_allocator_holds() {
    for n in [1usize, 2, 5, 16, 17, 40, 300] {
        // From n / 2 + 1 peers, two paths each (ADD-PATH), so every index has entries.
        let mut t: Table<u64> = Table::new();
        t.get_or_insert(1).unwrap();
        let (bytes, ()) = measured(|| {
            let e = t.get_mut(&1).unwrap();
            for k in 0..n as u32 {
                e.paths.push(path(k / 2 + 1, k % 2));
            }
            // A lookup builds the index of a large list.
            let _ = e.paths.find(PeerId(1), 0);
        });
        let e = t.get(&1).unwrap();
        assert_eq!(e.paths.heap_bytes(), bytes, "{n} paths");
        assert_eq!(
            matches!(e.paths, PathList::Large { .. }),
            n > 16,
            "{n} paths: indexed beyond 16"
        );
    }
}

#[test]
fn table_heap_bytes_are_what_the_allocator_holds() {
    let (bytes, t) = measured(|| {
        let mut t: Table<u64> = Table::new();
        for k in 0..5000u64 {
            t.get_or_insert(k * 7919).unwrap().1.paths.push(path(1, 0));
        }
        t
    });
    assert_eq!(t.heap_bytes(), bytes, "5,000 prefixes of one path");
}
