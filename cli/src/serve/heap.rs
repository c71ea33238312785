//! The daemon's heap: glibc malloc tuned at start, and freed memory handed
//! back to the system after bursts of output.
//!
//! A burst (a full table to hundreds of sessions at once, a reconnect storm)
//! allocates output buffers all over the heap; when they are freed, the
//! chunks still in use between them keep glibc from returning the pages, and
//! the resident set ratchets up with every burst although nothing more is
//! held. A writer that has sent [`BURST`] bytes and gone idle, or a
//! connection that ends, asks for a trim; [`trimmer`] runs at most one
//! `malloc_trim` per [`TRIM_PERIOD`], which gives the free pages inside the
//! heap back (`MADV_DONTNEED`), and one more a period later for what the
//! engine and the other writers free after the request. Other allocators get
//! the requests and ignore them.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// Bytes a writer sends before going idle that make it ask for a trim.
pub(super) const BURST: u64 = 64 * 1024;

/// At most one trim per this period.
pub(super) const TRIM_PERIOD: Duration = Duration::from_secs(2);

/// Trims still to run: set to 2 by a request, one less per trim.
static WANTED: AtomicU8 = AtomicU8::new(0);

/// Ask for freed memory to be given back at the next two trims.
pub(super) fn freed() {
    WANTED.store(2, Ordering::Relaxed);
}

/// Trim the heap once per [`TRIM_PERIOD`] while a request is pending; runs until the runtime stops.
pub(super) async fn trimmer() {
    let mut t = tokio::time::interval(TRIM_PERIOD);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        t.tick().await;
        let left = WANTED.load(Ordering::Relaxed);
        if left > 0 {
            // A request that came in meanwhile sets it back to 2: not lost.
            let _ = WANTED.compare_exchange(left, left - 1, Ordering::Relaxed, Ordering::Relaxed);
            // A blocking thread: a trim of a large heap walks all of it.
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    }
}

/// Give the free pages of the heap back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator; it
    // takes the arenas' locks itself and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Tune glibc's malloc before the runtime starts its threads: at most `n`
/// arenas, and a fixed 128 KiB mmap threshold. glibc otherwise raises the
/// threshold each time a large block is freed, so the growing RIB vectors
/// and output buffers end up in the heap, where the holes they leave keep
/// the resident set high. Environment variables (MALLOC_ARENA_MAX,
/// MALLOC_MMAP_THRESHOLD_), when set, win.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(super) fn tune(n: usize) {
    const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
    if n != 0 && std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let n = libc::c_int::try_from(n).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a parameter of the allocator; it is called
        // before the runtime creates any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, n);
        }
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as above.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}

/// Other allocators have nothing to tune.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn tune(_n: usize) {}
