//! The C ABI adds no behaviour: the same UPDATE bytes driven natively and
//! through the `rfl_` functions give byte-identical output to every listener,
//! on a real RIPE RIS update dump and on the benchmark's synthetic table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/workload.rs"]
mod workload;

use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/mrt")
        .join(name)
}

#[test]
fn ris_dump_reflects_identically_through_the_c_abi() {
    let loaded = reflector_testdata::mrt::read_path(&data("updates.20190101.0000.gz")).unwrap();
    let (inputs, senders) = workload::mrt_updates(&loaded.bytes);
    // SOURCES.md: 54,107 UPDATEs in this dump.
    assert_eq!(inputs.len(), 54_107);
    assert!(senders > 60, "{senders} senders");
    let native = workload::run_native(&inputs, senders, 3);
    let ffi = workload::run_ffi(&inputs, senders, 3);
    assert_eq!(native.len(), 3);
    for (n, f) in native.iter().zip(&ffi) {
        assert!(n.1 > 2, "only {} messages", n.1);
        assert_eq!(n.1, f.1);
        assert!(n.0 == f.0, "listener output differs");
    }
}

#[test]
fn synthetic_table_reflects_identically_through_the_c_abi() {
    let inputs = workload::synthetic(20_000);
    let native = workload::run_native(&inputs, 1, 4);
    let ffi = workload::run_ffi(&inputs, 1, 4);
    for (n, f) in native.iter().zip(&ffi) {
        // Two End-of-RIB markers at session start, then 20,000 prefixes in 50
        // attribute sets of 400 /24s: each set's NLRI (1,600 bytes) fits one UPDATE.
        assert_eq!(n.1, 52);
        assert!(n.0 == f.0);
    }
}
