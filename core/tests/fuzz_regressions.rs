//! Inputs the fuzz campaigns found, replayed through the same harnesses: each
//! once failed; each must now pass (RELIABILITY.md lists them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../fuzz/fuzz_targets/engine_harness.rs"]
mod engine_harness;

/// Every file in `core/tests/data/fuzz/<target>/`, sorted.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// `engine` target: the engine never panics, other sessions are not disturbed,
/// and everything it writes decodes.
#[test]
fn engine_target_findings() {
    let all = inputs("engine");
    assert!(!all.is_empty());
    for (name, data) in all {
        eprintln!("replaying {name}");
        engine_harness::run(&data);
    }
}
