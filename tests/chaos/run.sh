#!/usr/bin/env bash
# Chaos and soak suite (issue 15): builds `reflector` (release) and runs
# tests/chaos/chaos.py against it on loopback (127.0.20.0/24 - 127.0.23.0/24,
# ports 1790-1799). Short form by default (CI, about 4 minutes after the build
# on 2 cores); --long for the long form (about 15 minutes). Other arguments go
# to chaos.py (--only kill,stop,..., --keep, --strict, --json-out FILE).
# Needs python3 and BIRD 2 (/usr/sbin/bird, birdc: apt-get install bird2) for
# the graceful-restart scenario; the MRT dumps of ../shared/data/mrt beside the repository
# (CHAOS_DATA=DIR to point elsewhere). Set REFLECTOR=PATH to skip the build.
# Exit status 0 when every check passed (known gaps are listed, not failed,
# unless --strict).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${CHAOS_DATA:-$(cd "$root/../shared/data/mrt" 2>/dev/null && pwd || echo "$root/../shared/data/mrt")}"
export CHAOS_DATA="$data"
for f in updates.et-header.2015.gz updates.20190101.0000.gz; do
  [ -r "$data/$f" ] || { echo "chaos: $data/$f missing (CHAOS_DATA=DIR)" >&2; exit 2; }
done
if [ -z "${REFLECTOR:-}" ]; then
  nice -n 10 cargo build --quiet --release -p reflector-cli --manifest-path "$root/Cargo.toml"
  REFLECTOR="${CARGO_TARGET_DIR:-$root/target}/release/reflector"
fi
exec nice -n 10 python3 "$root/tests/chaos/chaos.py" --reflector "$REFLECTOR" "$@"
