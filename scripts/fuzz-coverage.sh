#!/usr/bin/env bash
# Coverage of reflector-core (and the simulator) reached by a fuzz target's corpus, per source file.
#
#   scripts/fuzz-coverage.sh TARGET [CORPUS_DIR]    # default: fuzz/seeds/TARGET
#
# Builds the target with -Cinstrument-coverage (cargo fuzz coverage), runs every
# input of the corpus once, and prints llvm-cov's per-file table for core/src
# (regions, functions, lines) and its total (sim/ for the calico target). Needs cargo-fuzz and the
# toolchain's llvm-tools (`rustup component add llvm-tools`).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
t="${1:?usage: scripts/fuzz-coverage.sh TARGET [CORPUS_DIR]}"
corpus="$(realpath "${2:-seeds/$t}")"
RUSTC_BOOTSTRAP=1 cargo fuzz coverage "$t" "$corpus" >/dev/null 2>&1
sysroot="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
llvm_cov="$sysroot/lib/rustlib/$host/bin/llvm-cov"
bin="target/$host/coverage/$host/release/$t"
"$llvm_cov" report "$bin" -instr-profile="coverage/$t/coverage.profdata" \
  --ignore-filename-regex='(\.cargo|rustc|fuzz_targets)'
