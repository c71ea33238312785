//! RIB memory, measured with a counting global allocator: live and peak heap
//! bytes of an engine holding a 1M-prefix table, bytes per (prefix, path)
//! beyond the shared attribute sets, the engine's own `memory()` figures, the
//! peak while reflecting the real full table to 20 clients, and the
//! allocations of the UPDATE view path (none expected).
//!
//! Run: `cargo bench -p reflector-benches --bench memory`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use reflector_benches::{real_as_paths, synthetic_table, visit_reflector, Bench, Updates};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// wrapper only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
            ALLOCS.fetch_add(1, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Relaxed) + (new - l.size());
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Relaxed);
            }
            ALLOCS.fetch_add(1, Relaxed);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live bytes now, and reset the peak to it.
fn mark() -> usize {
    let now = LIVE.load(Relaxed);
    PEAK.store(now, Relaxed);
    now
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Load a table from `sources` clients into a fresh engine; print what it costs.
fn rib(name: &str, msgs: &[&[u8]], sources: usize) {
    let base = mark();
    let mut b = Bench::new(sources.saturating_sub(1));
    let mut feeders = vec![b.source];
    feeders.extend(b.clients.iter().copied());
    for &f in &feeders {
        for m in msgs {
            let _ = b.engine.handle_message(f, m);
        }
    }
    b.engine.flush();
    // The receiving side of this measurement is the RIB only: drop queued output.
    for &f in &feeders {
        drop(b.engine.take_transmit(f));
    }
    let live = LIVE.load(Relaxed) - base;
    let peak = PEAK.load(Relaxed) - base;
    let m = b.engine.memory();
    let beyond = live.saturating_sub(m.attr_bytes);
    println!(
        "{name}, {sources} path(s) per prefix: {} prefixes, {} paths, {} attribute sets",
        m.prefixes, m.paths, m.attr_sets
    );
    println!(
        "  allocator: live {:.1} MiB, peak {:.1} MiB; beyond attribute sets {:.1} MiB = {:.1} bytes per (prefix, path)",
        mib(live),
        mib(peak),
        mib(beyond),
        beyond as f64 / m.paths.max(1) as f64
    );
    println!(
        "  engine.memory(): table {:.1} MiB ({:.1} bytes per path), attribute sets {:.1} MiB ({:.1} bytes per set)",
        mib(m.table_bytes),
        m.table_bytes as f64 / m.paths.max(1) as f64,
        mib(m.attr_bytes),
        m.attr_bytes as f64 / m.attr_sets.max(1) as f64
    );
    drop(b);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` asks harness-less benches for their names.
        println!("memory: bench");
        return;
    }
    let real = Updates::load("updates.et-header.2015.gz");
    let rrc = Updates::load("updates.20190101.0000.gz");

    // The view path allocates nothing.
    let before = ALLOCS.load(Relaxed);
    let v = visit_reflector(&real);
    let allocs = ALLOCS.load(Relaxed) - before;
    println!(
        "UPDATE view path: {} messages, {} prefixes, {} attributes decoded with {allocs} allocations",
        v.ok, v.prefixes, v.attributes
    );

    let paths = real_as_paths(&[&real, &rrc]);
    let synth = synthetic_table(1_000_000, 300_000, &paths, 1);
    let synth_msgs: Vec<&[u8]> = synth.messages.iter().map(Vec::as_slice).collect();
    let real_msgs: Vec<&[u8]> = real.messages().collect();

    rib("synthetic 1M", &synth_msgs, 1);
    rib("synthetic 1M", &synth_msgs, 2);
    rib("real 577k (updates.et-header.2015.gz)", &real_msgs, 1);

    // VPN-IPv4: 1M routes (2,000 VRFs on 8 PEs each; `vpn_table`) from one
    // client reflected to 4, output drained: live bytes per path beyond the
    // attribute sets, Adj-RIB-Out records of the 4 receivers included.
    {
        let vpn = reflector_benches::vpn_table(1_000_000, 2_000, 8, 7);
        let base = mark();
        let mut b =
            reflector_benches::Bench::with_families(4, &[reflector_core::wire::AfiSafi::VPNV4]);
        let refused = b.inject(vpn.messages.iter().map(Vec::as_slice));
        b.engine.flush();
        let out = b.drain();
        let live = LIVE.load(Relaxed) - base;
        let peak = PEAK.load(Relaxed) - base;
        let m = b.engine.memory();
        let beyond = live.saturating_sub(m.attr_bytes);
        println!(
            "VPN-IPv4 1M (2,000 VRFs x 8 PEs) reflected to 4 clients: {} routes, {} paths, {} attribute sets, {refused} refused, {:.1} MiB of UPDATEs written",
            m.prefixes, m.paths, m.attr_sets, mib(out)
        );
        println!(
            "  allocator: live {:.1} MiB, peak {:.1} MiB; beyond attribute sets {:.1} MiB = {:.1} bytes per path",
            mib(live),
            mib(peak),
            mib(beyond),
            beyond as f64 / m.paths.max(1) as f64
        );
        println!(
            "  engine.memory(): table {:.1} MiB ({:.1} bytes per path), attribute sets {:.1} MiB",
            mib(m.table_bytes),
            m.table_bytes as f64 / m.paths.max(1) as f64,
            mib(m.attr_bytes)
        );
        drop(b);
    }

    // Peak while reflecting the real table to 20 clients, output drained client by client.
    for clients in [4usize, 20] {
        let base = mark();
        let mut b = Bench::new(clients);
        b.inject(real_msgs.iter().copied());
        let after_inject = LIVE.load(Relaxed) - base;
        let out = b.drain();
        let peak = PEAK.load(Relaxed) - base;
        let live = LIVE.load(Relaxed) - base;
        println!(
            "real 577k reflected to {clients} clients: live after inject {:.1} MiB, peak {:.1} MiB, \
             live after draining {:.1} MiB; {:.1} MiB of UPDATEs written",
            mib(after_inject),
            mib(peak),
            mib(live),
            mib(out)
        );
        drop(b);
    }
}
