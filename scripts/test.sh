#!/usr/bin/env bash
# Every Reflector test, in one command (the README's test command; .ci/run calls it).
# Needs the tools that .ci/run installs on a fresh Debian machine: bgpdump, bird2,
# gobgpd, frr, valgrind, golang-go, chromium, node/npm, cargo-fuzz, cbindgen, cargo-mutants,
# wasm-bindgen-cli and the thumbv7em-none-eabihf and wasm32-unknown-unknown targets.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"

step "format"
cargo fmt --all --check

step "clippy (all targets, warnings denied)"
cargo clippy --workspace --all-targets -- -D warnings

step "docs (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "core without an allocator, for a bare-metal target"
cargo build -p reflector-core --no-default-features --target thumbv7em-none-eabihf

step "unit, integration and property tests"
cargo test --workspace

step "mutation check of the core lines the last commit changed (cargo mutants --in-diff, bounded)"
MUTANTS_TOTAL_SECONDS="${MUTANTS_TOTAL_SECONDS:-300}" bash scripts/mutants-diff.sh HEAD~1

step "fuzz targets, ${FUZZ_SECONDS}s each, seeded with the shared dumps and captures and the campaigns' minimized corpora"
cargo run --quiet -p reflector-benches --bin fuzz-seeds -- fuzz/corpus
for d in fuzz/seeds/*/; do
  [ -d "$d" ] || continue
  t="$(basename "$d")"
  mkdir -p "fuzz/corpus/$t"
  cp -r "$d". "fuzz/corpus/$t/"
done
(
  cd fuzz
  for t in $(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^reflector-fuzz$'); do
    echo "--- fuzz $t"
    # The stateful targets run without AddressSanitizer (-s none: the same
    # coverage instrumentation, 14x the executions; reflector-core has no
    # unsafe code); the others, ffi_calls above all, keep it.
    case "$t" in engine|session) san=(-s none) ;; *) san=() ;; esac
    RUSTC_BOOTSTRAP=1 cargo fuzz run "${san[@]}" "$t" -- -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 2>&1 | tail -n 3
  done
)
# The fuzz builds (about 2 GB) are not used by any later step; on CI they go
# before the C, interop and WebAssembly builds need the disk.
if [ -n "${CI:-}" ]; then rm -rf fuzz/target; fi

step "C ABI: header check, C tests under valgrind and AddressSanitizer, C reflector with BIRD, Go wrapper"
bash ffi/ci.sh

step "interop: Reflector as the reflector for BIRD, GoBGP and FRR, and as a client of BIRD"
bash tests/interop/run.sh

step "chaos: kills, stops, flaps, malformed input, restarts, a reconnect storm and a soak (short form)"
bash tests/chaos/run.sh

step "WebAssembly: npm package, Node API tests, demo page end to end in Chromium"
bash wasm/ci.sh
