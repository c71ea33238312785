#!/usr/bin/env python3
"""Differential test of best-path selection: Reflector against BIRD, GoBGP and FRR.

Usage:
  python3 tests/interop/differential.py --reflector PATH [--seed N] [--prefixes N]
      [--order forward|reverse] [--daemons reflector,bird,gobgp,frr] [--defaults] [--keep]
  (or `tests/interop/run.sh --phase 8`, which calls phase8() below)

The same random candidate sets go to every route reflector under test. Five
injecting iBGP speakers (minimal Python BGP speakers written here, one TCP
session per reflector, bound to 127.0.30.11-15) announce the same IPv4
prefixes with attributes drawn from small domains, so that ties happen at every
step of the decision process:

  speaker  address       router ID    role at the RR   marker community
  s1       127.0.30.11   10.30.0.13   client           64512:1
  s2       127.0.30.12   10.30.0.11   client           64512:2
  s3       127.0.30.13   10.30.0.12   client           64512:3
  s4       127.0.30.14   10.30.0.15   non-client       64512:4
  s5       127.0.30.15   10.30.0.14   non-client       64512:5

(router IDs do not follow the addresses, so the router-ID step and the
peer-address step are told apart). Per candidate: LOCAL_PREF in {100, 200};
AS_PATH one of empty, 65001, 65002, "65001 65003", "65002 65001", {65001},
{65002 65003}, "{65001} 65002" (AS_SET-led paths included); ORIGIN in
{IGP, EGP, INCOMPLETE}; MED in {absent, 0, 10, 20}; routes from non-clients
may carry ORIGINATOR_ID (one of the clients' router IDs) and a CLUSTER_LIST of
1 or 2 foreign cluster IDs. Each prefix is announced by a random 2 to 5 of the
speakers; speakers send one after the other (s1 first) with a pause, so the
arrival order is the same at every reflector.

An observing client (a Python speaker that announces nothing, 127.0.30.20, router ID
10.30.0.20, no ADD-PATH) reads back the one path each reflector sends per
prefix and identifies the candidate by its marker community. Reflectors:

  Reflector  127.0.30.1:1830   (this repository)
  BIRD 2     127.0.30.2:1831   rr client / rr cluster id, deterministic med on
  GoBGP      127.0.30.3:1832   route-reflector-client, API on 127.0.30.3:1833
  FRR bgpd   127.0.30.4:1834   route-reflector-client, bgp deterministic-med

A Python model of the decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) with
the knobs in which the implementations differ (neighbour AS of an AS_SET-led
path, deterministic vs arrival-order MED comparison, ORIGINATOR_ID vs the
peer's router ID, ...) predicts each choice. Reflector must agree with the
model in its documented configuration on every prefix; a difference of another
daemon is classified by the knob setting that reproduces its choice, and a
difference no knob explains is "unexplained" (a failure). Exit status 0 when
Reflector agrees everywhere and nothing is unexplained. docs/differential.md
holds the table and the RFC text for each class.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if "__main__" in sys.modules and hasattr(sys.modules["__main__"], "Proc"):
    R = sys.modules["__main__"]          # called from run.py as phase 8
else:
    import run as R                      # tests/interop/run.py: Proc, log, check, wait_for

ASN = 64512
NET = "127.0.30."
SPEAKERS = [  # name, address, router id, client?, marker
    ("s1", NET + "11", "10.30.0.13", True, 1),
    ("s2", NET + "12", "10.30.0.11", True, 2),
    ("s3", NET + "13", "10.30.0.12", True, 3),
    ("s4", NET + "14", "10.30.0.15", False, 4),
    ("s5", NET + "15", "10.30.0.14", False, 5),
]
OBSERVER = (NET + "20", "10.30.0.20")
RRS = {
    "reflector": (NET + "1", 1830, "10.30.0.1"),
    "bird": (NET + "2", 1831, "10.30.0.2"),
    "gobgp": (NET + "3", 1832, "10.30.0.3"),
    "frr": (NET + "4", 1834, "10.30.0.4"),
}
GOBGP_API = (NET + "3", 1833)

AS_PATHS = [  # (label, segments: list of (type, [asn]))  type 1 = AS_SET, 2 = AS_SEQUENCE
    ("()", []),
    ("65001", [(2, [65001])]),
    ("65002", [(2, [65002])]),
    ("65001 65003", [(2, [65001, 65003])]),
    ("65002 65001", [(2, [65002, 65001])]),
    ("{65001}", [(1, [65001])]),
    ("{65002 65003}", [(1, [65002, 65003])]),
    ("{65001} 65002", [(1, [65001]), (2, [65002])]),
]
ORIGINATORS = ["10.30.0.11", "10.30.0.12"]
CLUSTERS = ["10.30.1.1", "10.30.1.2"]


def ip2int(a):
    return struct.unpack("!I", socket.inet_aton(a))[0]


# ---------------------------------------------------------------------------
# Candidate sets
# ---------------------------------------------------------------------------

def generate(seed, n):
    """{prefix: [candidate dict]} in speaker order (= arrival order)."""
    rnd = random.Random(seed)
    table = {}
    for i in range(n):
        prefix = f"10.{100 + i // 256}.{i % 256}.0/24"
        k = rnd.randint(2, 5)
        chosen = sorted(rnd.sample(range(5), k))
        # Per prefix, some attributes are shared by all candidates so that
        # later steps get reached often.
        shared = {a: rnd.random() < 0.6 for a in ("lp", "path", "origin", "med")}
        base = dict(lp=rnd.choice([100, 200]), path=rnd.randrange(len(AS_PATHS)),
                    origin=rnd.randrange(3), med=rnd.choice([None, 0, 10, 20]))
        cands = []
        for s in chosen:
            name, addr, rid, client, marker = SPEAKERS[s]
            c = dict(speaker=s, name=name, addr=addr, rid=rid, client=client, marker=marker,
                     lp=base["lp"] if shared["lp"] else rnd.choice([100, 100, 200]),
                     path=base["path"] if shared["path"] else rnd.randrange(len(AS_PATHS)),
                     origin=base["origin"] if shared["origin"] else rnd.choice([0, 0, 1, 2]),
                     med=base["med"] if shared["med"] else rnd.choice([None, 0, 10, 20]),
                     originator=None, clusters=[])
            if not client and rnd.random() < 0.6:
                c["originator"] = rnd.choice(ORIGINATORS)
                c["clusters"] = CLUSTERS[:rnd.randint(1, 2)]
            cands.append(c)
        nc = [c for c in cands if not c["client"]]
        if len(nc) == 2 and rnd.random() < 0.3:
            # Both non-clients carry the same ORIGINATOR_ID and CLUSTER_LIST
            # length: the peer address decides (if nothing before does).
            nc[1]["originator"], nc[1]["clusters"] = nc[0]["originator"] or ORIGINATORS[0], list(nc[0]["clusters"]) or CLUSTERS[:1]
            nc[0]["originator"], nc[0]["clusters"] = nc[1]["originator"], list(nc[1]["clusters"])
        table[prefix] = cands
    return table


# ---------------------------------------------------------------------------
# The model: RFC 4271 §9.1.2.2 + RFC 4456 §9, with knobs
# ---------------------------------------------------------------------------

REFLECTOR_KNOBS = dict(set_neighbor="local", deterministic=True, rid="originator", cluster_step=True,
                       missing_med=0)


def path_len(c):
    return sum(1 if t == 1 else len(asns) for t, asns in AS_PATHS[c["path"]][1])


def neighbor_as(c, set_neighbor):
    segs = AS_PATHS[c["path"]][1]
    if not segs:
        return ASN  # originated inside the AS: the local AS (RFC 4271 §9.1.2.2 c)
    t, asns = segs[0]
    if t == 2:
        return asns[0]
    # AS_SET-led: RFC 4271 says the local AS (Reflector, BIRD); FRR: no
    # neighbour AS (MED compared with no other path); GoBGP: the first AS in the set.
    if set_neighbor == "local":
        return ASN
    if set_neighbor == "first":
        return asns[0]
    return ("none", c["speaker"])


STEPS = ["local_pref", "as_path_len", "origin", "med", "router_id", "cluster_list", "peer_addr"]


def key_before_med(c):
    return (-c["lp"], path_len(c), c["origin"])


def key_after_med(c, k):
    rid = c["originator"] if (k["rid"] == "originator" and c["originator"]) else c["rid"]
    return (ip2int(rid), len(c["clusters"]) if k["cluster_step"] else 0, ip2int(c["addr"]))


def med(c, k):
    return c["med"] if c["med"] is not None else k["missing_med"]


def better(a, b, k):
    """Pairwise: is a better than b (MED only within the same neighbour AS)?"""
    ka, kb = key_before_med(a), key_before_med(b)
    if ka != kb:
        return ka < kb
    if neighbor_as(a, k["set_neighbor"]) == neighbor_as(b, k["set_neighbor"]) and med(a, k) != med(b, k):
        return med(a, k) < med(b, k)
    return key_after_med(a, k) < key_after_med(b, k)


def model_best(cands, k):
    if k["deterministic"] == "gosort":
        # GoBGP's Destination.Calculate: each new path (arrival order) is
        # appended and the whole list is sort.SliceStable-ed with the
        # pairwise comparison (an insertion sort below 20 paths); best = first.
        known = []
        for c in cands:
            known.append(c)
            for i in range(1, len(known)):
                j = i
                while j > 0 and better(known[j], known[j - 1], k):
                    known[j], known[j - 1] = known[j - 1], known[j]
                    j -= 1
        return known[0]
    if k["deterministic"] == "newest":
        # Newest path first, each against the running best (FRR's path list
        # order without deterministic-med).
        best = cands[-1]
        for c in reversed(cands[:-1]):
            if better(c, best, k):
                best = c
        return best
    if not k["deterministic"]:
        best = cands[0]
        for c in cands[1:]:  # arrival order, each new path against the current best
            if better(c, best, k):
                best = c
        return best
    # RFC 4271 §9.1.2.2 (c): remove every path that loses on MED to a path
    # from the same neighbour AS (after LOCAL_PREF, AS_PATH, ORIGIN).
    top = min(key_before_med(c) for c in cands)
    left = [c for c in cands if key_before_med(c) == top]
    left = [c for c in left if not any(
        neighbor_as(o, k["set_neighbor"]) == neighbor_as(c, k["set_neighbor"]) and med(o, k) < med(c, k)
        for o in left)]
    return min(left, key=lambda c: key_after_med(c, k))


def deciding_step(cands, k):
    """The last step needed to set the model's best apart from every other candidate."""
    best = model_best(cands, k)
    rest = [c for c in cands if c is not best]
    step = 0
    for c in rest:
        if key_before_med(c) != key_before_med(best):
            i = next(j for j in range(3) if key_before_med(c)[j] != key_before_med(best)[j])
        elif neighbor_as(c, k["set_neighbor"]) == neighbor_as(best, k["set_neighbor"]) and med(c, k) != med(best, k):
            i = 3
        else:
            ka, kb = key_after_med(c, k), key_after_med(best, k)
            i = 4 + next((j for j in range(3) if ka[j] != kb[j]), 2)
        step = max(step, i)
    return STEPS[step]


# Each daemon's decision process as far as this test has found it: groups of
# knobs of the model in which it departs from Reflector's (the RFC's). A difference is classified by the
# smallest combination of its daemon's groups that reproduces it; a difference
# none reproduces is "unexplained" (a failure).
KNOB_GROUPS = {
    "as_set_neighbor_none": dict(set_neighbor="none"),
    "as_set_neighbor_first_as": dict(set_neighbor="first"),
    "peer_router_id_no_cluster_list": dict(rid="peer", cluster_step=False),
    "pairwise_sort_order": dict(deterministic="gosort"),
    "arrival_order_med": dict(deterministic=False),
    "newest_first_order_med": dict(deterministic="newest"),
}
DAEMON_GROUPS = {
    "reflector": [],
    "frr": ["as_set_neighbor_none"],
    "bird": [],
    "gobgp": ["peer_router_id_no_cluster_list", "as_set_neighbor_first_as", "pairwise_sort_order"],
}


def knobs(groups):
    k = dict(REFLECTOR_KNOBS)
    for g in groups:
        k.update(KNOB_GROUPS[g])
    return k


def classify(daemon, cands, chosen_marker):
    import itertools
    gs = DAEMON_GROUPS.get(daemon, [])
    for n in range(1, len(gs) + 1):
        for combo in itertools.combinations(gs, n):
            if model_best(cands, knobs(combo))["marker"] == chosen_marker:
                return "+".join(combo)
    return "unexplained"


# ---------------------------------------------------------------------------
# A minimal BGP speaker
# ---------------------------------------------------------------------------

def bgp_msg(t, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body


def open_msg(rid, hold=90):
    caps = bytes([1, 4, 0, 1, 0, 1]) + bytes([65, 4]) + struct.pack("!I", ASN) + bytes([2, 0])
    params = bytes([2, len(caps)]) + caps
    return bgp_msg(1, struct.pack("!BHH4sB", 4, ASN, hold, socket.inet_aton(rid), len(params)) + params)


def attr(flags, code, value):
    if len(value) > 255:
        return struct.pack("!BBH", flags | 0x10, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def update_for(c, prefix):
    segs = b"".join(struct.pack("!BB", t, len(a)) + b"".join(struct.pack("!I", x) for x in a)
                    for t, a in AS_PATHS[c["path"]][1])
    a = attr(0x40, 1, bytes([c["origin"]]))
    a += attr(0x40, 2, segs)
    a += attr(0x40, 3, socket.inet_aton("192.0.2.%d" % (10 + c["marker"])))
    if c["med"] is not None:
        a += attr(0x80, 4, struct.pack("!I", c["med"]))
    a += attr(0x40, 5, struct.pack("!I", c["lp"]))
    a += attr(0xC0, 8, struct.pack("!HH", ASN, c["marker"]))
    if c["originator"]:
        a += attr(0x80, 9, socket.inet_aton(c["originator"]))
    if c["clusters"]:
        a += attr(0x80, 10, b"".join(socket.inet_aton(x) for x in c["clusters"]))
    net, plen = prefix.split("/")
    nlri = bytes([int(plen)]) + socket.inet_aton(net)[:(int(plen) + 7) // 8]
    return bgp_msg(2, struct.pack("!H", 0) + struct.pack("!H", len(a)) + a + nlri)


def parse_update(body, rib, counts):
    wl = struct.unpack("!H", body[:2])[0]
    w = body[2:2 + wl]
    al = struct.unpack("!H", body[2 + wl:4 + wl])[0]
    attrs = body[4 + wl:4 + wl + al]
    nlri = body[4 + wl + al:]

    def prefixes(b):
        out, i = [], 0
        while i < len(b):
            plen = b[i]
            nb = (plen + 7) // 8
            addr = b[i + 1:i + 1 + nb] + bytes(4 - nb)
            out.append(f"{socket.inet_ntoa(addr)}/{plen}")
            i += 1 + nb
        return out
    for p in prefixes(w):
        rib.pop(p, None)
        counts[p] = counts.get(p, 0) + 1
    info = {"communities": [], "originator": None, "clusters": []}
    i = 0
    while i < len(attrs):
        flags, code = attrs[i], attrs[i + 1]
        if flags & 0x10:
            ln = struct.unpack("!H", attrs[i + 2:i + 4])[0]
            v = attrs[i + 4:i + 4 + ln]
            i += 4 + ln
        else:
            ln = attrs[i + 2]
            v = attrs[i + 3:i + 3 + ln]
            i += 3 + ln
        if code == 8:
            info["communities"] = ["%d:%d" % struct.unpack("!HH", v[j:j + 4]) for j in range(0, len(v), 4)]
        elif code == 9:
            info["originator"] = socket.inet_ntoa(v)
        elif code == 10:
            info["clusters"] = [socket.inet_ntoa(v[j:j + 4]) for j in range(0, len(v), 4)]
    for p in prefixes(nlri):
        rib[p] = info
        counts[p] = counts.get(p, 0) + 1


class Speaker:
    """One iBGP session from `addr` to a reflector; keeps a received Adj-RIB-In."""

    def __init__(self, name, addr, rid, peer, port):
        self.name, self.addr, self.rid, self.peer, self.port = name, addr, rid, peer, port
        self.sock = None
        self.rib, self.counts = {}, {}
        self.last_rx = 0.0
        self.up = False
        self.closed = False
        self.lock = threading.Lock()

    def connect(self, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = socket.socket()
            s.settimeout(5)
            try:
                s.bind((self.addr, 0))
                s.connect((self.peer, self.port))
                s.sendall(open_msg(self.rid))
                self.sock = s
                self.buf = b""
                got_open = got_ka = False
                t_end = time.time() + 10
                while time.time() < t_end and not got_ka:
                    for t, body in self._read():
                        if t == 1:
                            got_open = True
                            s.sendall(bgp_msg(4, b""))
                        elif t == 4 and got_open:
                            got_ka = True
                        elif t == 3:
                            raise OSError(f"NOTIFICATION {body[:2].hex()}")
                if got_ka:
                    self.up = True
                    threading.Thread(target=self._loop, daemon=True).start()
                    return True
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
            time.sleep(0.5)
        return False

    def _read(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return []
        if not d:
            raise OSError("connection closed")
        self.buf += d
        out = []
        while len(self.buf) >= 19:
            n = struct.unpack("!H", self.buf[16:18])[0]
            if len(self.buf) < n:
                break
            out.append((self.buf[18], self.buf[19:n]))
            self.buf = self.buf[n:]
        return out

    def _loop(self):
        self.sock.settimeout(1)
        last_ka = time.time()
        while not self.closed:
            try:
                for t, body in self._read():
                    if t == 2:
                        with self.lock:
                            parse_update(body, self.rib, self.counts)
                            self.last_rx = time.time()
                    elif t == 3:
                        R.log(f"{self.name}: NOTIFICATION {body[:2].hex()}")
                        self.up = False
                        return
                if time.time() - last_ka > 20:
                    self.sock.sendall(bgp_msg(4, b""))
                    last_ka = time.time()
            except OSError:
                self.up = False
                return

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except (OSError, AttributeError):
            pass


# ---------------------------------------------------------------------------
# The reflectors under test
# ---------------------------------------------------------------------------

def start_reflector(args, d):
    addr, port, rid = RRS["reflector"]
    peers = [dict(name=n, address=a, asn=ASN, role="client" if cl else "non-client", passive=True,
                  families=["ipv4-unicast"]) for n, a, _, cl, _ in SPEAKERS]
    peers.append(dict(name="observer", address=OBSERVER[0], asn=ASN, role="client", passive=True,
                      families=["ipv4-unicast"]))
    return R.start_reflector(args, d, "diff-reflector", R.reflector_conf(rid, rid, f"{addr}:{port}", peers))


BIRD_RR = """router id {rid};
log "{dir}/bird.log" {{ info, warning, error, fatal }};
protocol device {{ scan time 3600; }}
# Every NEXT_HOP (192.0.2.11-15) resolves through lo at the same IGP cost; never exported.
protocol static nh4 {{ ipv4; route 192.0.2.0/24 via "lo"; }}
template bgp rrt {{
  local {addr} port {port} as {asn};
  strict bind on;
  passive on;
  rr cluster id {rid};
  # RFC 4271 9.1.2.2 (c) removes MED losers per neighbour AS before the
  # later steps: that is BIRD's deterministic med (default off).
  deterministic med {det};
  med metric off;      # MED only between routes from the same neighbour AS (default)
  igp metric on;       # default; every next hop has the same IGP cost here
  prefer older off;    # default
  ipv4 {{ import all; export filter {{ if proto = "nh4" then reject; accept; }}; }};
}}
{protocols}
"""


# --defaults: BIRD and FRR with their default MED handling (deterministic med
# off), to show what the knob changes.
DEFAULTS = False


def start_bird(d):
    addr, port, rid = RRS["bird"]
    protos = ""
    for n, a, _, cl, _ in SPEAKERS + [("observer", OBSERVER[0], None, True, None)]:
        protos += f"protocol bgp {n} from rrt {{ neighbor {a} as {ASN};{' rr client;' if cl else ''} }}\n"
    b = R.Bird(d, "diff-bird", BIRD_RR.format(det="off" if DEFAULTS else "on", rid=rid, dir=os.path.join(d, "diff-bird"), addr=addr, port=port,
                                              asn=ASN, protocols=protos))
    b.start()
    return b.proc


def start_gobgp(d):
    addr, port, rid = RRS["gobgp"]
    gd = os.path.join(d, "diff-gobgp")
    os.makedirs(gd, exist_ok=True)
    conf = f"""[global.config]
  as = {ASN}
  router-id = "{rid}"
  port = {port}
  local-address-list = ["{addr}"]
"""
    for n, a, _, cl, _ in SPEAKERS + [("observer", OBSERVER[0], None, True, None)]:
        conf += f"""
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{a}"
    peer-as = {ASN}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "{addr}"
  [neighbors.route-reflector.config]
    route-reflector-client = {'true' if cl else 'false'}
    route-reflector-cluster-id = "{rid}"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
"""
    path = os.path.join(gd, "gobgpd.toml")
    open(path, "w").write(conf)
    return R.Proc("diff-gobgp", ["/usr/bin/gobgpd", "-f", path, "-t", "toml", "-l", "info", "--pprof-disable",
                                 "--api-hosts", "%s:%d" % GOBGP_API], os.path.join(gd, "gobgpd.out"))


def start_frr(d):
    addr, port, rid = RRS["frr"]
    conf = f"""frr defaults traditional
hostname diff-frr
log file {d}/diff-frr/bgpd.log informational
router bgp {ASN}
 bgp router-id {rid}
 bgp cluster-id {rid}
 ! RFC 4271 9.1.2.2 (c): MED losers are removed per neighbour AS (off by default in `traditional`).
 {'no ' if DEFAULTS else ''}bgp deterministic-med
 no bgp ebgp-requires-policy
 no bgp network import-check
"""
    nbrs = SPEAKERS + [("observer", OBSERVER[0], None, True, None)]
    for n, a, _, cl, _ in nbrs:
        conf += f" neighbor {a} remote-as {ASN}\n neighbor {a} passive\n neighbor {a} update-source {addr}\n"
    conf += " address-family ipv4 unicast\n"
    for n, a, _, cl, _ in nbrs:
        if cl:
            conf += f"  neighbor {a} route-reflector-client\n"
    conf += " exit-address-family\nexit\n"
    f = R.Frr(d, "diff-frr", conf, addr, port)
    f.start()
    return f.proc


STARTERS = {"reflector": lambda a, d: start_reflector(a, d), "bird": lambda a, d: start_bird(d),
            "gobgp": lambda a, d: start_gobgp(d), "frr": lambda a, d: start_frr(d)}


# ---------------------------------------------------------------------------

def run_differential(args, d):
    """Returns {daemon: {prefix: chosen marker or None}}, the table, and per-daemon churn."""
    table = generate(args.seed, args.prefixes)
    order = list(range(len(SPEAKERS)))
    if args.order == "reverse":
        order.reverse()
    for cands in table.values():  # list order = arrival order, which the model's order-dependent modes use
        cands.sort(key=lambda c: order.index(c["speaker"]))
    procs = {}
    for name in args.daemons:
        procs[name] = STARTERS[name](args, d)
    time.sleep(1.5)
    sessions = {}   # daemon -> ([speakers], observer)
    tag = f"phase8 ({args.order})"
    for name in args.daemons:
        addr, port, _ = RRS[name]
        obs = Speaker(f"{name}/observer", OBSERVER[0], OBSERVER[1], addr, port)
        inj = [Speaker(f"{name}/{n}", a, rid, addr, port) for n, a, rid, _, _ in SPEAKERS]
        ok = all(s.connect(30) for s in [obs] + inj)
        R.check(f"{tag}: {name}: observer and five injecting sessions Established", ok,
                [s.name for s in [obs] + inj if not s.up])
        if ok:
            sessions[name] = (inj, obs)
    # Speakers send one after another (s1 first), the same order at every reflector.
    for s_idx in order:
        for name, (inj, obs) in sessions.items():
            sp = inj[s_idx]
            data = b"".join(update_for(c, p) for p, cands in table.items() for c in cands if c["speaker"] == s_idx)
            sp.send(data + bgp_msg(2, struct.pack("!HH", 0, 0)))  # then End-of-RIB
        # At least `gap` seconds, and until every observer has been quiet for
        # 0.5 s (the reflectors are done with this burst), at most 10 s.
        t0 = time.time()
        time.sleep(args.gap)
        while time.time() - t0 < 10 and any(time.time() - o.last_rx < 0.5 for _, o in sessions.values()):
            time.sleep(0.1)
    # Wait until each observer holds every prefix and nothing arrived for `quiet` seconds.
    chosen, churn = {}, {}
    deadline = time.time() + args.settle
    for name, (inj, obs) in sessions.items():
        while time.time() < deadline:
            with obs.lock:
                full = len(obs.rib) >= len(table)
                quiet = time.time() - obs.last_rx > args.quiet
            if full and quiet:
                break
            time.sleep(0.25)
        with obs.lock:
            rib = dict(obs.rib)
            churn[name] = sum(max(0, v - 1) for v in obs.counts.values())
        picks = {}
        for p in table:
            r = rib.get(p)
            m = None
            if r is not None:
                marks = [int(c.split(":")[1]) for c in r["communities"] if c.startswith(f"{ASN}:")]
                m = marks[0] if marks else "?"
            picks[p] = m
        chosen[name] = picks
        R.log(f"{name}: observer holds {len(rib)}/{len(table)} prefixes, {churn[name]} replaced announcements")
    if getattr(args, "hold", 0):
        R.log(f"holding the daemons for {args.hold:.0f}s (--hold)")
        time.sleep(args.hold)
    for name, (inj, obs) in sessions.items():
        for s in inj + [obs]:
            s.close()
    for name, p in procs.items():
        p.stop(signal.SIGTERM, 10)
    return table, chosen, churn


def compare(table, chosen):
    """{daemon: {"compared", "agree", "differ", "missing", "classes": {cls: [prefix]}}}, steps histogram."""
    res = {}
    steps = {}
    for p, cands in table.items():
        s = deciding_step(cands, REFLECTOR_KNOBS)
        steps[s] = steps.get(s, 0) + 1
    for name, picks in chosen.items():
        r = dict(compared=0, agree=0, differ=0, missing=0, classes={}, emulated=0)
        emu = knobs(DAEMON_GROUPS.get(name, []))
        for p, cands in table.items():
            m = picks.get(p)
            if m is None or m == "?":
                r["missing"] += 1
                r["classes"].setdefault("missing", []).append(p)
                continue
            r["compared"] += 1
            want = model_best(cands, REFLECTOR_KNOBS)["marker"]
            if m == model_best(cands, emu)["marker"]:
                r["emulated"] += 1
            else:
                r.setdefault("not_emulated", []).append(p)
            if m == want:
                r["agree"] += 1
            else:
                r["differ"] += 1
                cls = classify(name, cands, m)
                r["classes"].setdefault(cls, []).append(p)
        res[name] = r
    return res, steps


def describe(table, p, chosen):
    out = []
    for c in table[p]:
        out.append("%s[lp=%d path=%s origin=%d med=%s rid=%s orig=%s cl=%d addr=%s]" % (
            c["name"], c["lp"], AS_PATHS[c["path"]][0], c["origin"], c["med"], c["rid"], c["originator"],
            len(c["clusters"]), c["addr"]))
    picks = ", ".join(f"{d}=s{m}" for d, m in ((d, chosen[d].get(p)) for d in chosen))
    return f"{p}: {' '.join(out)} -> model s{model_best(table[p], REFLECTOR_KNOBS)['marker']}; {picks}"


def report(table, chosen, churn, res, steps):
    R.log("deciding step (Reflector's model) over the prefixes: " +
          ", ".join(f"{s}={steps.get(s, 0)}" for s in STEPS))
    print()
    print("| daemon | prefixes compared | agree | differ | missing | classes of difference | own model reproduces |")
    print("|---|---|---|---|---|---|---|")
    for name, r in res.items():
        cls = "; ".join(f"{c}: {len(v)}" for c, v in sorted(r["classes"].items())) or "-"
        print(f"| {name} | {r['compared']} | {r['agree']} | {r['differ']} | {r['missing']} | {cls} | "
              f"{r['emulated']}/{r['compared']} |")
    print()
    for name, r in res.items():
        for p in r.get("not_emulated", [])[:3]:
            print(f"  {name} not reproduced by its own model: {describe(table, p, chosen)}")
        for c, v in sorted(r["classes"].items()):
            for p in v[:3]:
                print(f"  {name} {c}: {describe(table, p, chosen)}")


def phase8(args, d):
    R.log("=== phase 8: differential best-path test (Reflector, BIRD, GoBGP, FRR as route reflectors)")
    for k, v in dict(seed=1, prefixes=300, order=None, daemons=["reflector", "bird", "gobgp", "frr"], gap=0.7,
                     settle=45.0, quiet=2.0).items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    # Both arrival orders unless one is asked for: Reflector's choice must not depend on it.
    orders = [args.order] if args.order else ["forward", "reverse"]
    picks = {}
    for order in orders:
        args.order = order
        R.log(f"--- seed {args.seed}, {args.prefixes} prefixes, speakers in {order} order")
        table, chosen, churn = run_differential(args, d)
        res, steps = compare(table, chosen)
        report(table, chosen, churn, res, steps)
        tag = f"phase8 ({order})"
        for name, r in res.items():
            R.check(f"{tag}: {name}: every prefix read back ({r['missing']} missing)", r["missing"] == 0)
            if name == "reflector":
                R.check(f"{tag}: reflector chose the model's path on {r['agree']}/{r['compared']} prefixes",
                        r["differ"] == 0, [describe(table, p, chosen) for v in r["classes"].values() for p in v][:3])
            else:
                un = r["classes"].get("unexplained", [])
                R.check(f"{tag}: {name}: every difference from the model is explained "
                        f"({r['differ']} differ, {len(un)} unexplained)", not un,
                        [describe(table, p, chosen) for p in un[:3]])
        if "reflector" in chosen:
            picks[order] = chosen["reflector"]
    args.order = None if len(orders) > 1 else orders[0]
    if len(picks) == 2:
        same = [p for p in picks["forward"] if picks["forward"][p] == picks["reverse"].get(p)]
        R.check(f"phase8: reflector chose the same path in both arrival orders on {len(same)}/{len(picks['forward'])} "
                "prefixes", len(same) == len(picks["forward"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reflector", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prefixes", type=int, default=300)
    ap.add_argument("--order", choices=["forward", "reverse"], default=None,
                    help="speakers send s1..s5 (forward) or s5..s1 (reverse); default: both, one after the other")
    ap.add_argument("--daemons", default="reflector,bird,gobgp,frr")
    ap.add_argument("--gap", type=float, default=0.7, help="seconds between speakers' bursts")
    ap.add_argument("--settle", type=float, default=45.0, help="bound on the wait for the observers")
    ap.add_argument("--quiet", type=float, default=2.0, help="an observer is done after this long without UPDATEs")
    ap.add_argument("--defaults", action="store_true",
                    help="BIRD and FRR without deterministic MED (their defaults) instead of RFC-literal")
    ap.add_argument("--hold", type=float, default=0, help="debugging: seconds to keep the daemons up at the end")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.reflector = os.path.abspath(args.reflector)
    args.daemons = [x for x in args.daemons.split(",") if x]
    global DEFAULTS
    DEFAULTS = args.defaults
    if DEFAULTS:  # order-dependent MED in BIRD and FRR: let the classification know
        DAEMON_GROUPS["bird"] = DAEMON_GROUPS["bird"] + ["arrival_order_med"]
        DAEMON_GROUPS["frr"] = DAEMON_GROUPS["frr"] + ["arrival_order_med", "newest_first_order_med"]
    d = tempfile.mkdtemp(prefix="reflector-diff-")
    os.chmod(d, 0o755)
    R.log(f"work directory {d}")
    t0 = time.time()
    try:
        phase8(args, d)
    except Exception as e:
        import traceback
        traceback.print_exc()
        R.check("differential ran to completion", False, repr(e))
    finally:
        for p in R.PROCS:
            try:
                p.stop(signal.SIGTERM, 5)
            except Exception:
                pass
    failed = [r for r in R.RESULTS if not r[1]]
    print(f"\ndifferential: {len(R.RESULTS) - len(failed)}/{len(R.RESULTS)} checks passed in {time.time() - t0:.1f}s")
    for name, ok, detail in R.RESULTS:
        print(("  ok    " if ok else "  FAIL  ") + name + ("" if ok else f"  [{str(detail)[:600]}]"))
    if failed or args.keep:
        print(f"logs kept in {d}")
    else:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
