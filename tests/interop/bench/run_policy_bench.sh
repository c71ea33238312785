#!/usr/bin/env bash
# The policy benchmark: rr-bench 1M x 4 (and 100k x 20) with Reflector without
# policy, Reflector with a 10-statement export policy on every client and a
# prefix limit on every peer (policy_hook.py), and BIRD with the equivalent
# filter and import limits, interleaved run by run.
# Usage: tests/interop/bench/run_policy_bench.sh [OUTDIR] [REPS]   (about 25 minutes)
# With BASE_BIN=/path/to/an/older/reflector, that binary runs too (policy-free),
# for the "no cost without policy" comparison. One JSON lines file per variant.
# Needs: bird2, gcc, python3; the release binary is built here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
outdir="${1:-/tmp/rr-bench-policy}"
mkdir -p "$outdir"
reps="${2:-3}"
work="$(mktemp -d /tmp/rr-bench-policy-XXXXXX)"
cp -r "$root/../shared/tools/rr-bench/." "$work/"
cargo build --quiet --release -p reflector-cli --manifest-path "$root/Cargo.toml"
cp "${CARGO_TARGET_DIR:-$root/target}/release/reflector" "$work/reflector"
cp "$root/tests/interop/bench/policy_hook.py" "$work/"
# BIRD: the same ten statements as a filter on every client, a warning limit on import.
python3 - "$work/templates/bird-rr.conf.tmpl" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
flt = """
filter to_clients {
  if source != RTS_BGP then reject;
  if net ~ [ 0.0.0.0/8+, 127.0.0.0/8+, 169.254.0.0/16+, 224.0.0.0/4+, 240.0.0.0/4+ ] then reject;
  if net ~ [ 0.0.0.0/0{25,32} ] then reject;
  if (65535,666) ~ bgp_community then reject;
  if bgp_path.len > 50 then reject;
  if bgp_path ~ [= * 64999 * =] then reject;
  if bgp_next_hop ~ 192.0.2.0/24 then reject;
  if bgp_large_community ~ [(64512, 666, *)] then reject;
  if (64512,100) ~ bgp_community then { bgp_local_pref = 200; accept; }
  if bgp_path.last ~ [65000..65010] then bgp_med = 10;
  bgp_community.add((64512,1));
  accept;
}
"""
old = "ipv4 { import all; export where source = RTS_BGP; };"
assert old in s, "template changed"
s = s.replace("template bgp rrclient {", flt + "\ntemplate bgp rrclient {")
s = s.replace(old, "ipv4 { import limit 2000000 action warn; import all; export filter to_clients; };")
open(p, "w").write(s)
PY
cd "$work"
plain="python3 $work/policy_hook.py {config} {pidfile} $work/reflector --plain"
policy="python3 $work/policy_hook.py {config} {pidfile} $work/reflector"
base=""
if [ -n "${BASE_BIN:-}" ]; then
  cp "$BASE_BIN" "$work/reflector-base"
  base="python3 $work/policy_hook.py {config} {pidfile} $work/reflector-base --plain"
fi
common=(--port 11179 --timeout 300)
for rows in "-n 1000000 -k 4" "-n 100000 -k 20"; do
  for r in $(seq "$reps"); do
    # shellcheck disable=SC2086
    if [ -n "$base" ]; then
      python3 rrbench.py --rr cmd --rr-cmd "$base" $rows -r 1 "${common[@]}" --json-out "$outdir/base.jsonl" || true
    fi
    # shellcheck disable=SC2086
    python3 rrbench.py --rr cmd --rr-cmd "$plain" $rows -r 1 "${common[@]}" --json-out "$outdir/plain.jsonl" || true
    # shellcheck disable=SC2086
    python3 rrbench.py --rr cmd --rr-cmd "$policy" $rows -r 1 "${common[@]}" --json-out "$outdir/policy.jsonl" || true
    # shellcheck disable=SC2086
    python3 rrbench.py --rr bird $rows -r 1 "${common[@]}" --json-out "$outdir/bird-filter.jsonl" || true
  done
done
for f in "$outdir"/*.jsonl; do
  echo "== $(basename "$f" .jsonl)"
  python3 rrbench.py --summarize "$f"
done
