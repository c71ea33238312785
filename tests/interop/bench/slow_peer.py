#!/usr/bin/env python3
"""A client that stops reading must not slow the others.

rr-bench's injector workload (N prefixes from one injector to K=4 sink clients,
on loopback) with `reflector serve` as the route reflector and, in the `stuck`
runs, a fifth client: a real BIRD at 127.0.3.1 that is stopped (SIGSTOP) once its
session is Established, before the table arrives. Measured per run: the time until
the 4 sink clients hold the table and Reflector's peak RSS; then the fifth is
resumed (SIGCONT) and must end with the whole table (read with birdc).

With --hold H the fifth client's hold time is H seconds and it stays stopped
until Reflector's hold timer ends its session: the 4 others must keep every
route, and the fifth, resumed, reconnects and gets the table again.

Usage: slow_peer.py RRBENCH_DIR REFLECTOR_BIN [-n N] [-r REPS] [--hold H] [--port P] [--json-out F]
Everything runs on 127.0.0.0/8; only processes started here are signalled, by pid.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("rrbench_dir")
ap.add_argument("reflector")
ap.add_argument("-n", type=int, default=1000000)
ap.add_argument("-r", type=int, default=3)
ap.add_argument("--hold", type=int, default=0, help="fifth client's hold time; 0: 240 s, resumed after the 4")
ap.add_argument("--port", type=int, default=11179)
ap.add_argument("--timeout", type=float, default=120)
ap.add_argument("--json-out")
args = ap.parse_args()

sys.path.insert(0, args.rrbench_dir)
import rrbench  # noqa: E402

K = 4
ASN = 64512
RR = "127.0.0.1"
FIFTH = "127.0.3.1"


def log(*a):
    print("[slow-peer %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def birdc(ctl, *cmd):
    r = subprocess.run(["birdc", "-s", ctl, *cmd], capture_output=True, text=True, timeout=30)
    return r.stdout


def bird_routes(ctl):
    m = re.search(r"(\d+) of (\d+) routes", birdc(ctl, "show", "route", "count"))
    return int(m.group(1)) if m else 0


def bird_established(ctl):
    return "Established" in birdc(ctl, "show", "protocols", "up")


def wait(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


def run(meta, stuck, rep):
    d = tempfile.mkdtemp(prefix="slow-peer-")
    peers = [dict(name="c%d" % i, address=rrbench.client_addr(i), asn=ASN, rr_client=True, passive=True)
             for i in range(K)]
    peers.append(dict(name="inj", address=rrbench.INJ_ADDR, asn=ASN, rr_client=True, passive=True))
    if stuck:
        peers.append(dict(name="stuck", address=FIFTH, asn=ASN, rr_client=True, passive=True))
    cfg = dict(router_id=RR, cluster_id=RR, asn=ASN, listen=RR, port=args.port, peers=peers, ipv6=False)
    cp = os.path.join(d, "rr.json")
    json.dump(cfg, open(cp, "w"))
    res = dict(stuck=stuck, rep=rep, n=meta["target"], k=K, hold=args.hold or 240, ok=False, dir=d)
    procs = []
    try:
        rr = subprocess.Popen([args.reflector, "serve", "--config", cp, "--log", "info"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "rr.log"), "w"),
                              stdin=subprocess.DEVNULL, start_new_session=True)
        procs.append(rr)
        wait(lambda: (RR, args.port) in rrbench.tcp_listeners(args.port), 20, "Reflector to listen")
        bird = ctl = None
        if stuck:
            ctl = os.path.join(d, "bird.ctl")
            conf = os.path.join(d, "bird.conf")
            open(conf, "w").write(
                "router id %s;\nlog \"%s/bird.log\" { warning, error, fatal };\n"
                "protocol device { scan time 3600; }\n"
                "protocol bgp up {\n  local %s as %d;\n  neighbor %s port %d as %d;\n"
                "  hold time %d;\n  connect retry time 1;\n  error wait time 1, 2;\n"
                "  ipv4 { import all; export none; };\n}\n"
                % (FIFTH, d, FIFTH, ASN, RR, args.port, ASN, args.hold or 240))
            bird = subprocess.Popen(["bird", "-f", "-c", conf, "-s", ctl, "-P", os.path.join(d, "bird.pid")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            procs.append(bird)
            wait(lambda: os.path.exists(ctl) and bird_established(ctl), 30, "the fifth client's session")
        sink = subprocess.Popen([rrbench.BLAST, "sink", "--rr", RR, "--port", str(args.port),
                                 "--base", rrbench.client_addr(0), "--k", str(K), "--target", str(meta["target"]),
                                 "--as", str(ASN), "--max-seconds", str(args.timeout + 300), "--stat-ms", "100"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        procs.append(sink)
        sr = rrbench.LineReader(sink, open(os.path.join(d, "sink.log"), "w"))
        wait(lambda: len({l.split()[1] for l in sr.snapshot() if l.startswith("EST ")}) == K, 30, "the 4 sessions")
        if stuck:
            os.kill(bird.pid, signal.SIGSTOP)
        time.sleep(1.0)
        rr_pid = rr.pid
        inj = subprocess.Popen([rrbench.BLAST, "inject", "--rr", RR, "--port", str(args.port),
                                "--local", rrbench.INJ_ADDR, "--stream", meta["stream"], "--as", str(ASN),
                                "--max-seconds", str(args.timeout + 300)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, start_new_session=True)
        procs.append(inj)
        ir = rrbench.LineReader(inj, open(os.path.join(d, "inj.log"), "w"))
        t_est = None
        deadline = time.monotonic() + 30
        while t_est is None and time.monotonic() < deadline:
            for l in ir.snapshot():
                if l.startswith("EST "):
                    t_est = float(l.split()[1])
            time.sleep(0.01)
        if t_est is None:
            raise RuntimeError("injector not Established")
        done = {}
        peak = 0.0
        deadline = time.monotonic() + args.timeout
        while len(done) < K:
            st = rrbench.proc_stat(rr_pid)
            if st:
                peak = max(peak, st[1])
            for l in sr.snapshot():
                if l.startswith("DONE "):
                    p = l.split()
                    done[p[1]] = float(p[2])
            if time.monotonic() > deadline:
                raise RuntimeError("timeout: %d of %d clients done" % (len(done), K))
            time.sleep(0.05)
        res["seconds"] = round(max(done.values()) - t_est, 3)
        st = rrbench.proc_stat(rr_pid)
        res["rr_peak_rss_mb"] = round(max(peak, st[1] if st else 0), 1)
        if stuck and args.hold:
            # Stay stopped past the hold time: Reflector must end the session.
            wait(lambda: "Hold Timer" in open(os.path.join(d, "rr.log")).read()
                 or "code=4" in open(os.path.join(d, "rr.log")).read(), args.hold + 30, "the hold timer")
            res["hold_timer_expired"] = True
            time.sleep(1.0)
        if stuck:
            t0 = time.monotonic()
            os.kill(bird.pid, signal.SIGCONT)
            wait(lambda: bird_routes(ctl) >= meta["target"], 300, "the fifth client to hold the table")
            res["fifth_routes"] = bird_routes(ctl)
            res["fifth_full_after_resume_s"] = round(time.monotonic() - t0, 2)
            st = rrbench.proc_stat(rr_pid)
            res["rr_peak_rss_end_mb"] = round(st[1], 1) if st else None
        # Nothing lost for the others: no DOWN, and every client still holds the table.
        time.sleep(0.5)
        lines = sr.snapshot()
        res["sink_down"] = [l for l in lines if l.startswith(("DOWN", "NOTIF"))]
        stats = [l for l in lines if l.startswith("STAT ")]
        res["sink_last_stat"] = stats[-1] if stats else ""
        held = [int(x) for x in res["sink_last_stat"].split()[2:]]
        res["sink_held"] = held
        rlog = open(os.path.join(d, "rr.log")).read()
        res["paused_logged"] = "output paused" in rlog
        res["resumed_logged"] = "output resumed" in rlog
        res["ok"] = (not res["sink_down"] and held == [meta["target"]] * K
                     and (not stuck or res.get("fifth_routes") == meta["target"]))
    except Exception as e:  # noqa
        res["error"] = str(e)
        log("run failed:", e)
    finally:
        for p in reversed(procs):
            try:
                os.kill(p.pid, signal.SIGCONT)
            except OSError:
                pass
            rrbench.stop_pid(p, "proc")
        time.sleep(0.5)
    log(json.dumps(res))
    if args.json_out:
        with open(args.json_out, "a") as f:
            f.write(json.dumps(res) + "\n")
    return res


def main():
    if not os.path.exists(rrbench.BLAST):
        subprocess.check_call(["gcc", "-O2", "-Wall", "-o", rrbench.BLAST, rrbench.BLAST_SRC])
    ns = argparse.Namespace(mrt=None, n=args.n, n6=0, seed=1, injector="native")
    meta = rrbench.prepare_data(ns, os.path.join(args.rrbench_dir, "work", "data"))
    rows = []
    for rep in range(1, args.r + 1):
        for stuck in (False, True):
            rows.append(run(meta, stuck, rep))
    for stuck in (False, True):
        s = sorted(r["seconds"] for r in rows if r["stuck"] == stuck and "seconds" in r)
        m = sorted(r["rr_peak_rss_mb"] for r in rows if r["stuck"] == stuck and "rr_peak_rss_mb" in r)
        if s:
            print("%-22s median %.3f s %s, peak RSS median %.1f MB %s" % (
                "4 clients + stopped 5th" if stuck else "4 clients", s[len(s) // 2], s, m[len(m) // 2], m))
    bad = [r for r in rows if not r["ok"]]
    print("%d passed, %d failed" % (len(rows) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
