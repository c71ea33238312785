#!/usr/bin/env bash
# Calico-shaped rr-bench matrix (--mode mesh-origin): K clients that each
# originate M=4 /26s and must learn everyone else's, then 10 clients flap.
# Reflector (`reflector serve` through the --rr cmd hook), BIRD and FRR at
# K = 100, 300, 1000 (three runs each), 2000 and 5000 (one run each); GoBGP at
# 100 and 300 (it needs minutes at 1000); then the reconnect storm
# (--connect-window 0) at 1000 and 5000 for Reflector.
# Usage: tests/interop/bench/run_calico_bench.sh [OUT.jsonl] [RRS]
#   RRS: which RRs (default "cmd bird frr gobgp"; "cmd" alone re-measures Reflector)
# About 25 minutes with every RR on 2 cores. Needs bird2, frr, gobgpd, gcc, python3.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:-/tmp/rr-calico.jsonl}"
rrs="${2:-cmd bird frr gobgp}"
work="$(mktemp -d /tmp/rr-calico-XXXXXX)"
cp -r "$root/../shared/tools/rr-bench/." "$work/"
cargo build --quiet --release -p reflector-cli --manifest-path "$root/Cargo.toml"
cp "${CARGO_TARGET_DIR:-$root/target}/release/reflector" "$work/reflector"
cd "$work"
hook="$work/reflector serve --config {config} --pid-file {pidfile} --log warn"
common=(--mode mesh-origin --routes-per-client 4 --flap 10 --timeout 300 --wait-idle 30 --port 11179 --json-out "$out")
for rr in $rrs; do
  case "$rr" in
    gobgp) python3 rrbench.py --rr gobgp --clients 100,300 -r 1 "${common[@]}" ;;
    *)
      python3 rrbench.py --rr "$rr" --rr-cmd "$hook" --clients 100,300,1000 -r 3 "${common[@]}"
      python3 rrbench.py --rr "$rr" --rr-cmd "$hook" --clients 2000,5000 -r 1 "${common[@]}"
      ;;
  esac
done
case " $rrs " in
  *" cmd "*) python3 rrbench.py --rr cmd --rr-cmd "$hook" --clients 1000,5000 -r 1 --connect-window 0 "${common[@]}" ;;
esac
python3 rrbench.py --summarize "$out"
