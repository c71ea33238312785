//! Arbitrary bytes cut into messages (UPDATEs and ROUTE-REFRESHes) and fed to
//! an engine from several peers, two of them with enhanced route refresh and
//! two with prefix limits; chunks can also pause or resume a peer's output.
//! The engine must never panic, a reset must only take down the peer that
//! sent the bad message (or crossed its limit); one peer has an import
//! policy and one an export policy, nothing is encoded for a
//! paused peer, and output for every peer must always decode.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "engine_harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run(data));
