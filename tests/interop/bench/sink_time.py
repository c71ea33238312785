#!/usr/bin/env python3
"""For rr-bench runs that timed out because the reflector under test keeps
fewer prefixes than were injected (BIRD and FRR on the real table): read, from
each run's sink.log and inj.log, the most prefixes every client held at once
and when the last client reached that count, counted from the injector's
session becoming Established (the harness's own t0).

Usage: sink_time.py RESULTS.jsonl
"""
import json
import os
import sys


def first_value(path, tag):
    for line in open(path):
        f = line.split()
        if f and f[0] == tag:
            return float(f[1])
    return None


def main():
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r.get("ok") or not r.get("rundir"):
            continue
        run = r["rundir"]
        sink, inj = os.path.join(run, "sink.log"), os.path.join(run, "inj.log")
        if not (os.path.exists(sink) and os.path.exists(inj)):
            continue
        t0 = first_value(inj, "EST")
        stats = []
        for l in open(sink):
            f = l.split()
            if f and f[0] == "STAT":
                stats.append((float(f[1]), [int(c) for c in f[2:]]))
        if t0 is None or not stats:
            print(f"{r['rr']} n={r['n']} k={r['k']}: no data in {run}")
            continue
        # The plateau every client reached (before the harness's teardown
        # withdrew anything), and the first moment all of them held it.
        best = max(min(c) for _, c in stats)
        t_done, final = next((t, c) for t, c in stats if min(c) == best)
        secs = t_done - t0
        per_s = sum(final) / secs if secs > 0 else 0
        print(json.dumps(dict(rr=r["rr"], n=r["n"], k=r["k"], source=r.get("source"),
                              final_counts=final, seconds=round(secs, 3),
                              routes_per_s=round(per_s), rr_peak_rss_mb=r.get("rr_peak_rss_mb"),
                              rundir=run)))


if __name__ == "__main__":
    main()
