#!/usr/bin/env python3
"""Turn `cargo bench -p reflector-benches --bench parse` output into BENCHMARKS.md rows.

Usage: cargo bench -p reflector-benches --bench parse 2>&1 | python3 benches/scripts/table.py
Reads criterion's medians (the middle value of `time: [lo median hi]`) and the
message / prefix counts the bench prints before timing.
"""
import re
import sys

UNIT = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
text = sys.stdin.read()
counts = {}
for m in re.finditer(r"^(\S+): (\d+) UPDATEs, (\d+) bytes, (\d+) prefixes", text, re.M):
    counts[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
rows = {}
for m in re.finditer(r"^parse/(\S+)/(\S+)\n\s+time:\s+\[\S+ \S+ (\S+) (\S+)", text, re.M):
    f, who, med, unit = m.group(1), m.group(2), float(m.group(3)), m.group(4)
    rows.setdefault(f, []).append((who, med * UNIT[unit]))
others = ("bgpkit-parser", "routecore", "zettabgp", "netgauze-bgp-pkt")
for f, rs in rows.items():
    msgs, size, pfx = counts[f]
    fastest = min(t for w, t in rs if w in others)
    print(f"\n`{f}`: {msgs:,} UPDATEs, {size:,} bytes, {pfx:,} prefixes\n")
    print("| decoder | median time | MB/s | messages/s | prefixes/s | vs fastest other parser |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for who, t in rs:
        print(f"| {who} | {t*1e3:.2f} ms | {size/t/1e6:,.0f} | {msgs/t/1e6:.2f} M | {pfx/t/1e6:.2f} M | {fastest/t:.2f}× |")
