#!/usr/bin/env bash
# Interop suite: builds `reflector` and runs tests/interop/run.py against
# BIRD 2, GoBGP and FRR bgpd (Debian packages bird2, gobgpd, frr) on loopback.
# Needs root (FRR's bgpd runs as the frr user; daemons bind 127.0.3.x/127.0.4.x/127.0.5.x).
# Exit status 0 when every check passed; a summary is printed either way.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for bin in /usr/sbin/bird /usr/sbin/birdc /usr/bin/gobgpd /usr/bin/gobgp /usr/lib/frr/bgpd /usr/bin/vtysh; do
  [ -x "$bin" ] || { echo "interop: $bin missing (apt-get install bird2 gobgpd frr)" >&2; exit 2; }
done
cargo build --quiet -p reflector-cli --manifest-path "$root/Cargo.toml"
target="${CARGO_TARGET_DIR:-$root/target}"
exec python3 "$root/tests/interop/run.py" --reflector "$target/debug/reflector" "$@"
