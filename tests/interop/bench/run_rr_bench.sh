#!/usr/bin/env bash
# Side-by-side rr-bench matrix: Reflector (`reflector serve` through the --rr cmd
# hook) against BIRD, FRR and GoBGP on the same generated and real routes.
# Usage: tests/interop/bench/run_rr_bench.sh [OUT.jsonl]   (about 30 minutes on 2 cores)
# Needs: bird2, gobgpd, frr, gcc, python3; the release binary is built here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:-/tmp/rr-bench-matrix.jsonl}"
work="$(mktemp -d /tmp/rr-bench-XXXXXX)"
cp -r "$root/../shared/tools/rr-bench/." "$work/"
cargo build --quiet --release -p reflector-cli --manifest-path "$root/Cargo.toml"
cp "${CARGO_TARGET_DIR:-$root/target}/release/reflector" "$work/reflector"
python3 "$root/tests/interop/bench/bgp4mp_to_rib.py" "$root/../shared/data/mrt/updates.et-header.2015.gz" "$work/et-header-rib.mrt"
cd "$work"
hook="$work/reflector serve --config {config} --pid-file {pidfile} --log warn"
common=(--port 11179 --json-out "$out")
# Reflector, BIRD and FRR on the generated rows: three runs each, five for 1M x 4.
python3 rrbench.py --rr cmd,bird,frr --rr-cmd "$hook" -n 100000,500000 -k 4 -r 3 --timeout 300 "${common[@]}"
python3 rrbench.py --rr cmd,bird,frr --rr-cmd "$hook" -n 1000000 -k 4 -r 5 --timeout 300 "${common[@]}"
python3 rrbench.py --rr cmd,bird,frr --rr-cmd "$hook" -n 100000 -k 20 -r 3 --timeout 300 "${common[@]}"
python3 rrbench.py --rr cmd,bird --rr-cmd "$hook" -n 500000,1000000 -k 20 -r 3 --timeout 300 "${common[@]}"
python3 rrbench.py --rr cmd,bird,frr --rr-cmd "$hook" -n 100000 --n6 100000 -k 4 -r 3 --timeout 300 "${common[@]}"
# The real table. BIRD and FRR keep a few of its 577,703 prefixes fewer, so the
# harness's "every client holds N" never fires for them: their runs time out
# and bench/sink_time.py reads, from each run's sink.log, when the last client
# stopped growing.
python3 rrbench.py --rr cmd --rr-cmd "$hook" --mrt "$work/et-header-rib.mrt" -k 4 -r 3 --timeout 300 "${common[@]}"
python3 rrbench.py --rr bird,frr --mrt "$work/et-header-rib.mrt" -k 4 -r 1 --timeout 40 "${common[@]}" || true
python3 "$root/tests/interop/bench/sink_time.py" "$out"
# GoBGP is about a hundred times slower: one run per row.
python3 rrbench.py --rr gobgp -n 100000 -k 4,20 -r 1 --timeout 900 "${common[@]}"
python3 rrbench.py --rr gobgp -n 100000 --n6 100000 -k 4 -r 1 --timeout 900 "${common[@]}"
python3 rrbench.py --rr gobgp -n 500000,1000000 -k 4 -r 1 --timeout 1200 "${common[@]}"
python3 rrbench.py --summarize "$out"
