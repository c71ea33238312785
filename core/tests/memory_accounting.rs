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

use reflector_core::engine::{Engine, Outcome};
use reflector_core::rib::{AttrId, Interner, Path, PathList, PeerId, Table};
use reflector_core::wire::AfiSafi;

mod support;

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

/// Take every message queued for `peers` (through `buf`).
fn drain_peers(e: &mut Engine, peers: &[PeerId], buf: &mut [u8]) {
    for &p in peers {
        while e.poll_transmit(p, buf).is_some() {}
    }
}

/// What `Engine::memory()` says the RIB holds: its tables and attribute sets.
fn rib_bytes(e: &Engine) -> usize {
    let m = e.memory();
    m.table_bytes + m.attr_bytes
}

/// Hand `msg` to the engine from `peer`: accepted, 100 routes announced.
fn accept_100(e: &mut Engine, peer: PeerId, msg: &[u8]) {
    let o = e.handle_message(peer, msg);
    assert!(
        matches!(o, Outcome::Accepted { announced: 100, .. }),
        "{o:?}"
    );
}

/// An UPDATE with ORIGIN, an empty AS_PATH, LOCAL_PREF `lp`, route target
/// 65000:100 when `rt`, and MP_REACH_NLRI of `family` with `next_hop` and
/// the NLRI field `nlri`.
fn mp_update(family: AfiSafi, next_hop: Vec<u8>, nlri: Vec<u8>, lp: u32, rt: bool) -> Vec<u8> {
    use reflector_core::wire::attribute::Origin;
    use reflector_core::wire::update_repr::{
        AsPath, AttributeRepr, AttributeValue, MpNlri, MpReachRepr,
    };
    let mut attributes = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::default())),
        AttributeRepr::new(AttributeValue::LocalPref(lp)),
    ];
    if rt {
        attributes.push(AttributeRepr::new(AttributeValue::ExtendedCommunities(
            vec![[0, 2, 0xfd, 0xe8, 0, 0, 0, 100]],
        )));
    }
    attributes.push(AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
        afi_safi: family,
        next_hop,
        reserved: 0,
        nlri: MpNlri::Opaque(nlri),
    })));
    support::update_of(attributes)
}

/// One UPDATE from a client: `n` VPN-IPv4 routes from `first` on (RD
/// 65000:(i / 50), 10.i.0.0/24-ish), every third with a stack of two labels
/// (its NLRI kept whole beside the table), with LOCAL_PREF `lp`.
fn vpn_update(first: u32, n: u32, lp: u32) -> Vec<u8> {
    let mut nlri = Vec::new();
    for i in first..first + n {
        let two = i % 3 == 0;
        let labels: &[u8] = if two {
            &[0, 0x64, 0x00, 0, 0xc8, 0x01]
        } else {
            &[0, 0x64, 0x01]
        };
        nlri.push((labels.len() as u8 + 8) * 8 + 24);
        nlri.extend_from_slice(labels);
        nlri.extend_from_slice(&[0, 0, 0xfd, 0xe8, 0, 0]);
        nlri.extend_from_slice(&((i / 50) as u16).to_be_bytes());
        nlri.extend_from_slice(&[10, (i >> 8) as u8, i as u8]);
    }
    let next_hop = vec![0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1];
    mp_update(AfiSafi::VPNV4, next_hop, nlri, lp, true)
}

/// One UPDATE from a client: `n` IPv4 flow rules from `first` on (keys of
/// 18 bytes: longer than a key kept inline), destination 10.(i).0/24, source
/// 192.0.2.1/32, TCP, port 80.
fn flow_update(first: u32, n: u32) -> Vec<u8> {
    let mut nlri = Vec::new();
    for i in first..first + n {
        nlri.push(17);
        nlri.extend_from_slice(&[1, 24, 10, (i >> 8) as u8, i as u8]);
        nlri.extend_from_slice(&[2, 32, 192, 0, 2, 1]);
        nlri.extend_from_slice(&[3, 0x81, 6, 5, 0x81, 80]);
    }
    mp_update(AfiSafi::IPV4_FLOWSPEC, vec![], nlri, 100, false)
}

/// `Engine::memory()` counts the keyed families' tables (entries, index, the
/// NLRI kept beside them) and what each peer was told of them (a bit per
/// route, or per path for an ADD-PATH receiver): what 6,000 VPN-IPv4 paths
/// from two clients and 1,000 flow rules add is what the allocator sees them add, byte for byte,
/// and what one client's going gives back is within 2 % of it (the peer's
/// own session state, a few hundred bytes, is not the RIB's).
#[test]
fn engine_memory_counts_the_keyed_tables_and_what_peers_were_told() {
    use std::net::{IpAddr, Ipv4Addr};

    use reflector_core::engine::{AddPathSend, EngineConfig, Negotiated, PeerConfig};
    use reflector_core::reflect::Role;
    use reflector_core::wire::{AfiSafi, AfiSafiSet};

    let mut e = Engine::new(EngineConfig::new(65000, Ipv4Addr::new(10, 0, 0, 254)));
    let mut peers = Vec::new();
    for n in 1..=4u8 {
        let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), 65000);
        let mut neg = Negotiated::unicast(Ipv4Addr::new(10, 0, 0, n));
        neg.families.insert(AfiSafi::VPNV4);
        neg.families.insert(AfiSafi::IPV4_FLOWSPEC);
        if n == 4 {
            cfg.add_path_send = AddPathSend::All;
            neg.add_path_send = AfiSafiSet::EMPTY.with(AfiSafi::VPNV4);
        }
        let id = e.add_peer(cfg);
        e.peer_up(id, neg);
        peers.push(id);
    }
    let mut buf = vec![0u8; 65535];
    // Warm up the engine's own scratch space and output buffers on other routes.
    for k in 0..20u32 {
        accept_100(&mut e, peers[0], &vpn_update(50_000 + k * 100, 100, 100));
    }
    e.flush();
    drain_peers(&mut e, &peers, &mut buf);
    let (l0, m0) = (held(), rib_bytes(&e));
    // 3,000 routes from each of two clients (the same keys: two paths per route).
    for (c, lp) in [(0usize, 100u32), (1, 200)] {
        for k in 0..30u32 {
            accept_100(&mut e, peers[c], &vpn_update(k * 100, 100, lp));
        }
    }
    // 1,000 flow rules, their keys on the heap.
    for k in 0..10u32 {
        accept_100(&mut e, peers[0], &flow_update(k * 100, 100));
    }
    e.flush();
    drain_peers(&mut e, &peers, &mut buf);
    let (l1, m1) = (held(), rib_bytes(&e));
    let (seen, counted) = ((l1 - l0) as f64, (m1 - m0) as f64);
    assert_eq!(e.keyed_counts(AfiSafi::VPNV4), Some((5_000, 8_000)));
    assert_eq!(
        counted, seen,
        "memory() counts what the allocator holds, byte for byte"
    );
    // Client 1 goes: half of the paths, and the routes it alone had... none:
    // every route stays with client 0's path.
    e.peer_down(peers[1]);
    e.flush();
    drain_peers(&mut e, &peers, &mut buf);
    let (l2, m2) = (held(), rib_bytes(&e));
    let (freed, uncounted) = ((l1 - l2) as f64, (m1 - m2) as f64);
    assert!(freed > 0.0);
    assert!(
        (uncounted - freed).abs() <= 0.02 * seen,
        "the allocator gave back {freed} bytes, memory() {uncounted}"
    );
}

/// `Engine::memory()` against the allocator for unicast: IPv4 and IPv6
/// routes, each with a path from two clients (path lists of two, on the heap).
#[test]
fn engine_memory_counts_the_unicast_tables_of_both_families() {
    use std::net::{IpAddr, Ipv4Addr};

    use reflector_core::engine::{EngineConfig, Negotiated, PeerConfig};
    use reflector_core::reflect::Role;

    let mut e = Engine::new(EngineConfig::new(65000, Ipv4Addr::new(10, 0, 0, 254)));
    let mut peers = Vec::new();
    for n in 1..=3u8 {
        let cfg = PeerConfig::new(Role::Client, IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), 65000);
        let id = e.add_peer(cfg);
        e.peer_up(id, Negotiated::unicast(Ipv4Addr::new(10, 0, 0, n)));
        peers.push(id);
    }
    let mut buf = vec![0u8; 65535];
    let v4 = |k: u32, lp: u32| {
        let nlri: Vec<u8> = (0..100u32)
            .flat_map(|i| [24, 10, (k % 250) as u8, i as u8])
            .collect();
        mp_update(AfiSafi::IPV4_UNICAST, vec![192, 0, 2, 1], nlri, lp, false)
    };
    let v6 = |k: u32, lp: u32| {
        let nlri: Vec<u8> = (0..100u32)
            .flat_map(|i| [48, 0x20, 0x01, 0x0d, 0xb8, k as u8, i as u8])
            .collect();
        let nh = "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap();
        mp_update(AfiSafi::IPV6_UNICAST, nh.octets().to_vec(), nlri, lp, false)
    };
    // Warm up on other routes.
    for k in 200..220u32 {
        accept_100(&mut e, peers[0], &v4(k, 100));
        accept_100(&mut e, peers[0], &v6(k, 100));
    }
    e.flush();
    drain_peers(&mut e, &peers, &mut buf);
    let (l0, m0) = (held(), rib_bytes(&e));
    // 3,000 routes of each family from each of two clients: two paths each.
    for (c, lp) in [(0usize, 100u32), (1, 200)] {
        for k in 0..30u32 {
            accept_100(&mut e, peers[c], &v4(k, lp));
            accept_100(&mut e, peers[c], &v6(k, lp));
        }
    }
    e.flush();
    drain_peers(&mut e, &peers, &mut buf);
    let (l1, m1) = (held(), rib_bytes(&e));
    assert_eq!(e.memory().paths, 2 * 2 * 3_000 + 2 * 2_000);
    assert_eq!(
        m1 - m0,
        (l1 - l0) as usize,
        "memory() counts what the allocator holds, byte for byte"
    );
}
