#!/usr/bin/env python3
"""rr-bench: measure how fast a BGP daemon reflects routes as an iBGP route reflector.

Topology (all on loopback, nothing else is ever bound or contacted):

    injector 127.0.2.1 --iBGP-->  RR 127.0.0.1:179 (AS 64512, cluster-id 127.0.0.1)
                                      |--iBGP--> client 127.0.1.1
                                      |   ...
                                      `--iBGP--> client 127.0.1.K

Every peer is a route-reflector client. The injector announces N prefixes; the
clients only count what they hold. One run:

  1. start the RR under test (bird | gobgp | frr | cmd = --rr-cmd hook),
  2. start `bgpblast sink` (K sessions, one process, epoll), wait until all K are
     Established,
  3. start the injector (`bgpblast inject` = pre-encoded UPDATE stream written as
     fast as the socket takes it; or `--injector gobgp` = gobgpd with its RIB
     preloaded by `gobgp mrt inject global`, session enabled afterwards),
  4. t0 = injector session Established (first UPDATE follows immediately),
     t_end = the moment the last of the K clients holds all N prefixes (the sink
     timestamps this exactly; the driver polls the sink and the RR's /proc every
     --poll-ms, default 100 ms),
  5. report seconds = t_end - t0, routes/s = N*K/seconds, RR peak RSS (VmHWM),
     RR CPU seconds (utime+stime of all its threads), plus diagnostics,
  6. stop everything it started, by pid.

--mode mesh-origin (Calico-shaped) replaces the injector: K clients (127.1.x.y, up to
thousands, `bgpblast mesh`) each originate M /26s and must learn the (K-1)*M routes of all
the others; optional churn with --flap F. See README.md, "Calico-shaped workload".

See README.md for usage.
"""
import argparse, bz2, collections, gzip, hashlib, json, os, random, shlex, shutil, signal
import socket, statistics, string, struct, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
TPL = os.path.join(HERE, "templates")
# where the built sink/injector and the run folders go: beside this script when it is
# writable, else a per-user cache folder (the script's folder may be read-only)
STATE = os.environ.get("RR_BENCH_STATE") or (
    HERE if os.access(HERE, os.W_OK) else os.path.join(os.path.expanduser("~"), ".cache", "rr-bench"))
BLAST_SRC = os.path.join(HERE, "bgpblast.c")
BLAST = os.path.join(STATE, "bgpblast")
CLK_TCK = os.sysconf("SC_CLK_TCK")

RR_ADDR = "127.0.0.1"
INJ_ADDR = "127.0.2.1"
CLIENT_BASE = (127, 0, 1, 1)
ASN = 64512
# NEXT_HOP carried in the injected routes: documentation addresses (RFC 5737 / RFC 3849).
# They are only attribute data (nothing is installed into a FIB, nothing connects there);
# loopback next hops are rejected as martian by gobgp and FRR.
NH4 = bytes([198, 51, 100, 1])
# --mode mesh-origin (Calico-shaped): client i (0-based) is 127.1.(i//250).(i%250+1), its
# NEXT_HOP is 198.18.(i//250).(i%250+1) (RFC 2544 benchmarking range; loopback next hops are
# martian for gobgp and FRR) and it owns the M /26s 10.0.0.0 + (i*M + j)*64.
MESH_ADDR_BASE = "127.1.0.1"
MESH_NH_BASE = "198.18.0.1"
MESH_PFX_BASE = "10.0.0.0"
MESH_MAX_K = 64000
NH6 = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1])   # 2001:db8::1

def log(*a):
    print("[rr-bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)

def client_addr(i):
    b = CLIENT_BASE
    v = (b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) + i
    return "%d.%d.%d.%d" % (v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255)

def plan_addr(base, i):
    """mesh address plan: 250 addresses per /24 (x.y.z.1 .. x.y.z.250), then the next /24"""
    v = struct.unpack("!I", socket.inet_aton(base))[0] + (i // 250) * 256 + (i % 250)
    return socket.inet_ntoa(struct.pack("!I", v))

def render(name, **kw):
    with open(os.path.join(TPL, name)) as f:
        return string.Template(f.read()).substitute(**{k: str(v) for k, v in kw.items()})

# --------------------------------------------------------------------------------------
# route data: generated, or taken from an MRT TABLE_DUMP_V2 RIB dump
# --------------------------------------------------------------------------------------
V4_FIRST_OCTETS = [o for o in range(1, 224) if o not in (10, 127)]

def v4_prefix(i):
    o = V4_FIRST_OCTETS[i >> 16]
    return bytes([24, o, (i >> 8) & 255, i & 255])

def v6_prefix(i):
    return bytes([48, 0x2a, (i >> 32) & 0x0f, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255])

def attr(flags, typ, val):
    if len(val) > 255:
        return struct.pack("!BBH", flags | 0x10, typ, len(val)) + val
    return struct.pack("!BBB", flags, typ, len(val)) + val

TIER1 = [174, 209, 286, 701, 1239, 1299, 2828, 2914, 3257, 3320, 3356, 3491, 5511, 6453, 6461, 6762, 6830, 7018, 12956]
TRANSIT = TIER1 + [6939, 9002, 1273, 4637, 7473, 4826, 9498, 37100, 24482, 20485, 31133, 8359, 12389, 3216, 205100, 262589, 267613]
NEIGH = [6939, 3356, 1299, 174, 2914, 9002, 33891, 212895, 8283, 34549]

def gen_attr_set(rnd):
    """Common attributes (without next hop / MP_REACH) for one block of prefixes."""
    hops = rnd.randint(3, 6)
    path = [rnd.choice(NEIGH)]
    while len(path) < hops - 1:
        path.append(rnd.choice(TRANSIT))
    origin_as = rnd.randint(1, 63999) if rnd.random() < 0.7 else rnd.randint(131072, 399999)
    path.append(origin_as)
    aspath = struct.pack("!BB", 2, len(path)) + struct.pack("!%dI" % len(path), *path)
    a = attr(0x40, 1, bytes([0 if rnd.random() < 0.85 else 2]))
    a += attr(0x40, 2, aspath)
    rest = attr(0x80, 4, struct.pack("!I", rnd.randint(0, 1000)))
    rest += attr(0x40, 5, struct.pack("!I", rnd.choice((100, 100, 100, 100, 100, 100, 80, 90, 110, 120, 200))))
    nc = rnd.randint(1, 6)
    hi = path[0] if path[0] < 65536 else 65010
    comms = sorted({(hi << 16) | rnd.choice((100, 200, 300, 1000, 2000, 3000, rnd.randint(0, 65535))) for _ in range(nc)})
    rest += attr(0xC0, 8, struct.pack("!%dI" % len(comms), *comms))
    return a, rest      # ORIGIN+AS_PATH, MED+LOCAL_PREF+COMMUNITIES (NEXT_HOP goes between)

BLOCK_SIZES = [1, 1, 1, 1, 2, 2, 3, 4, 6, 10]   # prefixes sharing one attribute set; mean 3.1

def update_v4(attrs, nlris):
    body = struct.pack("!HH", 0, len(attrs)) + attrs + b"".join(nlris)
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body

def update_v6(attrs, nlris):
    mp = attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) + NH6 + b"\x00" + b"".join(nlris))
    a = attrs + mp
    body = struct.pack("!HH", 0, len(a)) + a
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body

EOR4 = b"\xff" * 16 + struct.pack("!HBHH", 23, 2, 0, 0)
_mpu = attr(0x80, 15, struct.pack("!HB", 2, 1))           # empty MP_UNREACH = IPv6 End-of-RIB
EOR6 = b"\xff" * 16 + struct.pack("!HBHH", 23 + len(_mpu), 2, 0, len(_mpu)) + _mpu

def gen_groups(n4, n6, seed):
    rnd = random.Random(seed)
    for afi, n, pf in ((1, n4, v4_prefix), (2, n6, v6_prefix)):
        i = 0
        while i < n:
            b = min(rnd.choice(BLOCK_SIZES), n - i)
            head, rest = gen_attr_set(rnd)
            if afi == 1:
                yield afi, head + attr(0x40, 3, NH4) + rest, [pf(j) for j in range(i, i + b)], True
            else:
                yield afi, head + rest, [pf(j) for j in range(i, i + b)], True
            i += b

def write_stream(groups, path):
    """UPDATE stream consumed by `bgpblast inject` (attrs already contain NEXT_HOP for v4)."""
    nmsg = 0; n4 = n6 = 0
    with open(path + ".tmp", "wb") as out:
        for afi, attrs, nlris, _ in groups:
            mk = update_v4 if afi == 1 else update_v6
            room = 4096 - 23 - len(attrs) - (0 if afi == 1 else 25)
            chunk, used = [], 0
            for p in nlris:
                if used + len(p) > room and chunk:
                    out.write(mk(attrs, chunk)); nmsg += 1; chunk, used = [], 0
                chunk.append(p); used += len(p)
            if chunk:
                out.write(mk(attrs, chunk)); nmsg += 1
            if afi == 1: n4 += len(nlris)
            else: n6 += len(nlris)
        out.write(EOR4)
        if n6: out.write(EOR6)
    os.replace(path + ".tmp", path)
    return nmsg, n4, n6

def write_mrt(groups, path):
    """TABLE_DUMP_V2 RIB dump of the same routes (for --injector gobgp / `gobgp mrt inject`)."""
    ts = int(time.time())
    def rec(sub, body):
        return struct.pack("!IHHI", ts, 13, sub, len(body)) + body
    with open(path + ".tmp", "wb") as out:
        # PEER_INDEX_TABLE: collector id, empty view name, 1 peer (AS4, IPv4)
        out.write(rec(1, NH4 + struct.pack("!HH", 0, 1) + struct.pack("!B", 2) + NH4 + NH4 + struct.pack("!I", ASN)))
        seq = 0
        for afi, attrs, nlris, _ in groups:
            # IPv6: full MP_REACH form (AFI/SAFI/NH/reserved, no NLRI); gobgp's MRT reader does
            # not accept the RFC 6396 abbreviated form (bgpdump reads both).
            a = attrs if afi == 1 else attrs + attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) + NH6 + b"\x00")
            entry = struct.pack("!HIH", 0, ts, len(a)) + a
            sub = 2 if afi == 1 else 4
            for p in nlris:
                out.write(rec(sub, struct.pack("!I", seq) + p + struct.pack("!H", 1) + entry)); seq += 1
    os.replace(path + ".tmp", path)

def open_any(path):
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b": return gzip.open(path, "rb")
    if magic == b"BZh": return bz2.open(path, "rb")
    return open(path, "rb")

KEEP_ATTRS = {1, 2, 4, 5, 6, 7, 8, 16, 32}

def mrt_groups(path, limit):
    """Read a TABLE_DUMP_V2 RIB dump; first RIB entry per prefix; NEXT_HOP rewritten to the
    injector, ORIGINATOR_ID/CLUSTER_LIST/AS4_* dropped, LOCAL_PREF 100 added when absent.
    Prefixes sharing identical attributes are grouped (so UPDATE packing is realistic)."""
    groups = collections.OrderedDict()
    seen = 0
    with open_any(path) as f:
        while limit is None or seen < limit:
            hdr = f.read(12)
            if len(hdr) < 12: break
            _ts, typ, sub, ln = struct.unpack("!IHHI", hdr)
            body = f.read(ln)
            if typ != 13 or sub not in (2, 4):
                continue
            afi = 1 if sub == 2 else 2
            plen = body[4]; nb = (plen + 7) // 8
            nlri = body[4:5 + nb]
            off = 5 + nb
            cnt = struct.unpack_from("!H", body, off)[0]; off += 2
            if cnt == 0: continue
            _pi, _ot, alen = struct.unpack_from("!HIH", body, off); off += 8
            raw = body[off:off + alen]
            out = []; has_lp = False; i = 0
            while i + 3 <= len(raw):
                fl, ty = raw[i], raw[i + 1]
                if fl & 0x10:
                    l = struct.unpack_from("!H", raw, i + 2)[0]; v = raw[i + 4:i + 4 + l]; i += 4 + l
                else:
                    l = raw[i + 2]; v = raw[i + 3:i + 3 + l]; i += 3 + l
                if ty not in KEEP_ATTRS: continue
                if ty == 7 and len(v) == 6: v = b"\x00\x00" + v      # AGGREGATOR -> 4-octet AS
                if ty == 5: has_lp = True
                out.append((ty, attr(fl & 0xE0, ty, v)))
            if not has_lp: out.append((5, attr(0x40, 5, struct.pack("!I", 100))))
            if afi == 1: out.append((3, attr(0x40, 3, NH4)))
            out.sort(key=lambda x: x[0])
            key = (afi, b"".join(x[1] for x in out))
            groups.setdefault(key, []).append(nlri)
            seen += 1
    for (afi, a), nl in groups.items():
        yield afi, a, nl, True

# --------------------------------------------------------------------------------------
# --family vpnv4 / evpn: routes shaped like a PE network (see README, "VPN mode")
# --------------------------------------------------------------------------------------
FAMILY_AFI_SAFI = {"vpnv4": (1, 128), "evpn": (25, 70)}
FAMILY_JSON_NAME = {"ipv4": "ipv4-unicast", "vpnv4": "vpnv4", "evpn": "evpn"}
VPN_VRFS, VPN_PES = 2000, 4000                   # VPN-IPv4: VRFs and PEs
VPN_SPREAD = (2, 2, 3, 4, 4, 6, 8, 10, 16, 25, 40, 80, 200)   # PEs a VRF is on (mean 30.8)
VPN_SHARED_RT_SHARE = 0.25                       # VRFs that also import/export a shared (extranet) RT
VPN_PLENS = [24] * 50 + [32] * 25 + [30] * 10 + [28] * 5 + [29] * 4 + [26] * 3 + [25] * 2 + [27] * 1
EVPN_EVIS, EVPN_PES = 2000, 500                  # EVPN: EVIs (VLAN-based, Ethernet tag 0) and leaf PEs
EVPN_SPREAD = (2, 2, 4, 4, 8, 8, 16, 32, 64)     # PEs an EVI is stretched over (mean 15.6)
SITE_WEIGHT_CAP = 200.0

def rt_ext(asn2, val):
    """Route target extended community, type 0x00 sub-type 0x02 (2-octet AS specific)."""
    return struct.pack("!BBHI", 0x00, 0x02, asn2, val)

VXLAN_ENCAP = struct.pack("!BBIH", 0x03, 0x0c, 0, 8)   # RFC 9012 encapsulation extended community, tunnel type 8 (VXLAN)

def alloc_routes(n, weights):
    """Split n routes over sites in proportion to their (capped Pareto) weights; deterministic."""
    w = sum(weights)
    cnt = [int(n * x / w) for x in weights]
    rest = n - sum(cnt)
    order = sorted(range(len(weights)), key=lambda i: (-(n * weights[i] / w - cnt[i]), i))
    for i in order[:rest]: cnt[i] += 1
    return cnt

def vpn_sites(n, seed):
    """VPN-IPv4 sites (VRF, PE): each VRF is on VPN_SPREAD PEs; routes per site Pareto(1.3)-weighted."""
    rnd = random.Random(seed)
    sites, weights, vrf_rts = [], [], []
    for v in range(VPN_VRFS):
        rts = [rt_ext(ASN, v + 1)]
        if rnd.random() < VPN_SHARED_RT_SHARE: rts.append(rt_ext(ASN, 900000 + v % 40))
        vrf_rts.append(rts)
        for pe in rnd.sample(range(VPN_PES), rnd.choice(VPN_SPREAD)):
            sites.append((v, pe)); weights.append(min(rnd.paretovariate(1.3), SITE_WEIGHT_CAP))
    return rnd, sites, alloc_routes(n, weights), vrf_rts

def gen_vpn_groups(n, seed):
    """Yields (attrs without MP_REACH, NLRIs) per (VRF, PE) site. NLRI = label (per VRF per PE, BoS),
    RD type 0 64512:(vrf*10000+pe), prefix /24../32 in VRF-local 10/8."""
    rnd, sites, cnt, vrf_rts = vpn_sites(n, seed)
    vrf_off = collections.Counter()
    for (v, pe), c in zip(sites, cnt):
        if not c: continue
        label = 16 + (pe * 7919 + v * 31) % 1000000
        rd = struct.pack("!HHI", 0, ASN, v * 10000 + pe)
        head = struct.pack("!I", label << 4 | 1)[1:] + rd
        nl = []
        for j in range(c):
            plen = rnd.choice(VPN_PLENS)
            addr = (10 << 24) | (((vrf_off[v] + j) & 0xffff) << 8)
            nl.append(bytes([88 + plen]) + head + struct.pack("!I", addr)[:(plen + 7) // 8])
        vrf_off[v] += c
        a = attr(0x40, 1, bytes([0 if rnd.random() < 0.7 else 2])) + attr(0x40, 2, b"")
        a += attr(0x40, 5, struct.pack("!I", 100))
        yield a, attr(0xC0, 16, b"".join(vrf_rts[v])), nl

def gen_evpn_groups(n, seed):
    """EVPN type 2 MAC/IP routes per (EVI, PE) site: RD type 1 10.255.x.y:EVI (PE loopback), ESI 0,
    Ethernet tag 0, MAC 02:xx:xx:xx:xx:xx (unique), IPv4 from the EVI's /20 in 10/8, VNI 10000+EVI in
    the label field; RT 64512:(10000+EVI) and the VXLAN encapsulation community."""
    rnd = random.Random(seed)
    sites, weights = [], []
    for e in range(EVPN_EVIS):
        for pe in rnd.sample(range(EVPN_PES), rnd.choice(EVPN_SPREAD)):
            sites.append((e, pe)); weights.append(min(rnd.paretovariate(1.3), SITE_WEIGHT_CAP))
    cnt = alloc_routes(n, weights)
    host = collections.Counter(); mac = 0
    for (e, pe), c in zip(sites, cnt):
        if not c: continue
        rd = struct.pack("!HBBBBH", 1, 10, 255, pe >> 8, pe & 255, e + 1)
        vni = struct.pack("!I", 10000 + e)[1:]
        nl = []
        for j in range(c):
            mac += 1
            h = host[e] % 4094 + 1; host[e] += 1
            ip = (10 << 24) | (e << 12) | h
            v = rd + bytes(10) + bytes(4) + bytes([48, 0x02]) + struct.pack("!IB", mac >> 8, mac & 255) \
                + bytes([32]) + struct.pack("!I", ip) + vni
            nl.append(bytes([2, len(v)]) + v)
        a = attr(0x40, 1, b"\x00") + attr(0x40, 2, b"") + attr(0x40, 5, struct.pack("!I", 100))
        yield a, attr(0xC0, 16, rt_ext(ASN, 10000 + e) + VXLAN_ENCAP), nl

def fam_update(family, head, tail, nlris):
    afi, safi = FAMILY_AFI_SAFI[family]
    nh = bytes(8) + NH4 if family == "vpnv4" else NH4        # VPN next hop: RD of zeros + IPv4
    mp = attr(0x80, 14, struct.pack("!HBB", afi, safi, len(nh)) + nh + b"\x00" + b"".join(nlris))
    a = head + mp + tail
    body = struct.pack("!HH", 0, len(a)) + a
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 2) + body

def write_fam_stream(family, n, seed, path):
    """UPDATE stream for --family vpnv4/evpn: one MP_REACH per UPDATE (<= 4096 bytes), then End-of-RIBs."""
    groups = gen_vpn_groups(n, seed) if family == "vpnv4" else gen_evpn_groups(n, seed)
    nmsg = total = sets = 0
    afi, safi = FAMILY_AFI_SAFI[family]
    with open(path + ".tmp", "wb") as out:
        for head, tail, nlris in groups:
            sets += 1
            room = 4096 - 23 - len(head) - len(tail) - 4 - 5 - 12 - 1
            chunk, used = [], 0
            for p in nlris:
                if used + len(p) > room and chunk:
                    out.write(fam_update(family, head, tail, chunk)); nmsg += 1; chunk, used = [], 0
                chunk.append(p); used += len(p)
            if chunk:
                out.write(fam_update(family, head, tail, chunk)); nmsg += 1
            total += len(nlris)
        out.write(EOR4)
        mpu = attr(0x80, 15, struct.pack("!HB", afi, safi))
        out.write(b"\xff" * 16 + struct.pack("!HBHH", 23 + len(mpu), 2, 0, len(mpu)) + mpu)
    os.replace(path + ".tmp", path)
    return nmsg, total, sets

def prepare_data(args, datadir):
    """Returns dict(stream=..., mrt=..., n4=, n6=, target=, msgs=) with on-disk caching."""
    os.makedirs(datadir, exist_ok=True)
    if args.family != "ipv4":
        base = os.path.join(datadir, "gen-%s-n%d-s%d-v1" % (args.family, args.n, args.seed))
        meta_p = base + ".meta.json"
        if os.path.exists(meta_p) and os.path.exists(base + ".upd"):
            with open(meta_p) as f: return json.load(f)
        t = time.time()
        nmsg, total, sets = write_fam_stream(args.family, args.n, args.seed, base + ".upd")
        meta = dict(stream=base + ".upd", n4=0, n6=0, nfam=total, family=args.family, target=total, msgs=nmsg,
                    attr_sets=sets, bytes=os.path.getsize(base + ".upd"), source="generated-" + args.family)
        with open(meta_p, "w") as f: json.dump(meta, f)
        log("prepared %s: %d routes in %d UPDATEs, %d attribute sets (%.1f MB) in %.1fs" %
            (meta["source"], total, nmsg, sets, meta["bytes"] / 1e6, time.time() - t))
        return meta
    if args.mrt:
        st = os.stat(args.mrt)
        key = hashlib.sha1(("%s|%d|%d|%s|v3" % (os.path.abspath(args.mrt), st.st_size, st.st_mtime, args.n)).encode()).hexdigest()[:12]
        base = os.path.join(datadir, "mrt-%s" % key)
        mk_groups = lambda: mrt_groups(args.mrt, args.n)
    else:
        base = os.path.join(datadir, "gen-n%d-v6_%d-s%d-v3" % (args.n, args.n6, args.seed))
        mk_groups = lambda: gen_groups(args.n, args.n6, args.seed)
    meta_p = base + ".meta.json"
    if os.path.exists(meta_p) and os.path.exists(base + ".upd"):
        with open(meta_p) as f: meta = json.load(f)
    else:
        t = time.time()
        nmsg, n4, n6 = write_stream(mk_groups(), base + ".upd")
        meta = dict(stream=base + ".upd", n4=n4, n6=n6, target=n4 + n6, msgs=nmsg,
                    bytes=os.path.getsize(base + ".upd"), source=args.mrt or "generated")
        with open(meta_p, "w") as f: json.dump(meta, f)
        log("prepared %s: %d v4 + %d v6 prefixes in %d UPDATEs (%.1f MB) in %.1fs" %
            (meta["source"], n4, n6, nmsg, meta["bytes"] / 1e6, time.time() - t))
    if args.injector == "gobgp":
        if args.mrt and not args.n:
            meta["mrt"] = os.path.abspath(args.mrt)      # inject the user's file as is
        else:
            meta["mrt"] = base + ".mrt"
            if not os.path.exists(meta["mrt"]):
                t = time.time(); write_mrt(mk_groups(), meta["mrt"])
                log("wrote MRT %s in %.1fs" % (meta["mrt"], time.time() - t))
    return meta

# --------------------------------------------------------------------------------------
# process helpers (we only ever signal pids we started ourselves)
# --------------------------------------------------------------------------------------
def proc_stat(pid):
    """(cpu_seconds utime+stime, VmHWM MB, VmRSS MB) for pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f: s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        hwm = rss = 0.0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"): hwm = int(line.split()[1]) / 1024.0
                elif line.startswith("VmRSS:"): rss = int(line.split()[1]) / 1024.0
        return cpu, hwm, rss
    except (OSError, ValueError, IndexError):
        return None

def stop_pid(proc, name, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try: os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError: return
    try: proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log("%s (pid %d) ignored SIGTERM, sending SIGKILL" % (name, proc.pid))
        try: os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError: pass
        proc.wait(timeout=5)

def stop_pidfile_pid(pid, name):
    """For daemons whose pid we only know from their pid file (hook mode)."""
    if not pid: return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        try: os.kill(pid, sig)
        except ProcessLookupError: return
        end = time.time() + wait
        while time.time() < end:
            if not os.path.exists("/proc/%d" % pid): return
            time.sleep(0.05)

def tcp_listeners(port):
    """[(addr, port)] of LISTEN sockets on `port` from /proc/net/tcp{,6}."""
    res = []
    for fn, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            with open(fn) as f: lines = f.readlines()[1:]
        except OSError: continue
        for ln in lines:
            p = ln.split()
            if p[3] != "0A": continue
            a, pt = p[1].split(":")
            if int(pt, 16) != port: continue
            if v6:
                raw = bytes.fromhex(a)
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                res.append((socket.inet_ntop(socket.AF_INET6, raw), port))
            else:
                res.append((socket.inet_ntoa(bytes.fromhex(a)[::-1]), port))
    return res

class LineReader(threading.Thread):
    """Reads a child's stdout lines into a list (thread-safe append)."""
    def __init__(self, proc, logf):
        super().__init__(daemon=True); self.proc = proc; self.lines = []; self.logf = logf
        self.lock = threading.Lock(); self.start()
    def run(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.lock: self.lines.append(line)
            self.logf.write(line + "\n")
        self.logf.flush()
    def snapshot(self, start=0):
        with self.lock: return self.lines[start:]

# --------------------------------------------------------------------------------------
# RR implementations
# --------------------------------------------------------------------------------------
def peers_list(k):
    return [("inj", INJ_ADDR)] + [("c%d" % (i + 1), client_addr(i)) for i in range(k)]

def mesh_peers(k):
    return [("c%d" % (i + 1), plan_addr(MESH_ADDR_BASE, i)) for i in range(k)]

BIRD_IPV4 = "  ipv4 { import all; export where source = RTS_BGP; };"
# vpn4: BIRD keeps the received next hop and labels when reflecting over iBGP; the next hop
# (198.51.100.1) is not resolvable (no IGP routes at all), so `gateway direct` is not used and
# `igp table master4` (empty) only makes the recursive lookup explicit. See README, "VPN mode".
BIRD_VPN4 = "  vpn4 mpls { table vpntab4; igp table master4; import all; export all; };"

def start_rr(args, impl, rundir, k, v6, peers=None):
    peers = peers if peers is not None else peers_list(k)
    family = getattr(args, "family", "ipv4")
    port = args.port
    out = open(os.path.join(rundir, "rr.stdout"), "wb")
    pidfile = None
    if impl == "bird":
        if family == "evpn": raise SystemExit("BIRD 2.0 has no EVPN channel; use --rr frr,gobgp,cmd")
        conf = render("bird-rr.conf.tmpl", RUNDIR=rundir, PORT=port, ASN=ASN,
                      TABLES="vpn4 table vpntab4;" if family == "vpnv4" else "",
                      IPV4_CHANNEL=BIRD_VPN4 if family == "vpnv4" else BIRD_IPV4,
                      IPV6_CHANNEL="  ipv6 { import all; export where source = RTS_BGP; };" if v6 else "",
                      PEERS="".join(render("bird-rr-peer.tmpl", NAME=n, ADDR=a, ASN=ASN) for n, a in peers))
        cp = os.path.join(rundir, "bird.conf"); open(cp, "w").write(conf)
        cmd = [args.bird_bin, "-f", "-c", cp, "-s", os.path.join(rundir, "bird.ctl"), "-P", os.path.join(rundir, "bird.pid")]
    elif impl == "gobgp":
        gname = {"ipv4": "ipv4-unicast", "vpnv4": "l3vpn-ipv4-unicast", "evpn": "l2vpn-evpn"}[family]
        afis = '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' % gname
        if v6: afis += '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv6-unicast"\n'
        conf = render("gobgp-rr.toml.tmpl", PORT=port, ASN=ASN,
                      PEERS="\n".join(render("gobgp-rr-peer.tmpl", ADDR=a, ASN=ASN, AFISAFIS=afis) for n, a in peers))
        cp = os.path.join(rundir, "gobgp-rr.toml"); open(cp, "w").write(conf)
        cmd = [args.gobgpd_bin, "-f", cp, "-t", "toml", "-l", "warn", "-p", "--pprof-disable",
               "--api-hosts", "127.0.0.1:%d" % args.rr_api_port]
    elif impl == "frr":
        af6 = (" address-family ipv6 unicast\n  neighbor RRC activate\n  neighbor RRC route-reflector-client\n"
               " exit-address-family\n") if v6 else ""
        fname = {"ipv4": "ipv4 unicast", "vpnv4": "ipv4 vpn", "evpn": "l2vpn evpn"}[family]
        af4 = (" address-family %s\n  neighbor RRC activate\n  neighbor RRC route-reflector-client\n"
               " exit-address-family\n") % fname
        conf = render("frr-bgpd.conf.tmpl", RUNDIR=rundir, ASN=ASN, AF6=af6, AF4=af4,
                      PEERS="".join(render("frr-bgpd-peer.tmpl", ADDR=a) for n, a in peers))
        cp = os.path.join(rundir, "bgpd.conf"); open(cp, "w").write(conf)
        cmd = [args.bgpd_bin, "-f", cp, "-i", os.path.join(rundir, "bgpd.pid"), "-Z", "-l", RR_ADDR,
               "-p", str(port), "-P", "0", "--vty_socket", rundir, "-z", os.path.join(rundir, "zserv.api"),
               "-S", "--log", "file:" + os.path.join(rundir, "bgpd.log"), "--log-level", "critical"]
    elif impl == "cmd":
        if not args.rr_cmd:
            raise SystemExit("--rr cmd needs --rr-cmd")
        cfg = dict(router_id=RR_ADDR, cluster_id=RR_ADDR, asn=ASN, listen=RR_ADDR, port=port,
                   peers=[dict(name=n, address=a, asn=ASN, rr_client=True, passive=True) for n, a in peers],
                   ipv6=v6)
        if family != "ipv4":            # only then: the JSON stays what it was for the IPv4 modes
            cfg["families"] = [FAMILY_JSON_NAME[family]]
        cp = os.path.join(rundir, "rr.json"); json.dump(cfg, open(cp, "w"), indent=1)
        pidfile = os.path.join(rundir, "rr.pid")
        cmd = [x.format(config=cp, workdir=rundir, pidfile=pidfile, port=port, k=k) for x in shlex.split(args.rr_cmd)]
        if "{pidfile}" not in args.rr_cmd: pidfile = None
    else:
        raise SystemExit("unknown rr %s" % impl)
    log("start RR %s: %s" % (impl, " ".join(cmd)))
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=rundir, start_new_session=True)
    return proc, pidfile

def rr_pid_of(proc, pidfile, deadline):
    if not pidfile: return proc.pid
    while time.time() < deadline:
        try:
            pid = int(open(pidfile).read().split()[0])
            if os.path.exists("/proc/%d" % pid): return pid
        except (OSError, ValueError, IndexError): pass
        time.sleep(0.05)
    return proc.pid

# --------------------------------------------------------------------------------------
# one measurement
# --------------------------------------------------------------------------------------
def run_one(args, impl, meta, k, rep):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rundir = os.path.join(args.workdir, "runs", "%s-%s-n%d-k%d-r%d" % (stamp, impl, meta["target"], k, rep))
    os.makedirs(rundir, exist_ok=True)
    res = dict(rr=impl, n=meta["target"], n4=meta["n4"], n6=meta["n6"], k=k, rep=rep, injector=args.injector,
               source=meta["source"], ok=False, rundir=rundir)
    if args.family != "ipv4":
        res.update(family=args.family, msgs=meta["msgs"], attr_sets=meta["attr_sets"], stream_bytes=meta["bytes"])
    res["loadavg_1m"] = loadavg()
    rr = sink = inj = inj_gobgp = None
    hook_pid = None
    try:
        if tcp_listeners(args.port):
            raise RuntimeError("port %d already has a listener: %s" % (args.port, tcp_listeners(args.port)))
        rr, pidfile = start_rr(args, impl, rundir, k, meta["n6"] > 0)
        # wait for the RR to listen on 127.0.0.1:port, and check it listens nowhere else
        deadline = time.time() + 30
        while time.time() < deadline:
            ls = tcp_listeners(args.port)
            if (RR_ADDR, args.port) in ls: break
            if rr.poll() is not None: raise RuntimeError("RR exited early rc=%s (see %s)" % (rr.returncode, rundir))
            time.sleep(0.05)
        else:
            raise RuntimeError("RR did not listen on %s:%d" % (RR_ADDR, args.port))
        bad = [l for l in tcp_listeners(args.port) if l[0] != RR_ADDR]
        if bad: raise RuntimeError("RR listens on non-loopback/unexpected address: %s" % bad)
        rr_pid = rr_pid_of(rr, pidfile, time.time() + 10)
        if pidfile: hook_pid = rr_pid if rr_pid != rr.pid else None
        res["rr_pid"] = rr_pid
        target = meta["target"]
        if args.injector == "gobgp":
            # fill the injector's RIB first (session admin-down); clients then expect what it holds
            inj_gobgp, loaded = load_gobgp_injector(args, meta, rundir, res)
            if loaded != target:
                log("gobgp injector RIB holds %d of %d prefixes; clients will wait for %d" % (loaded, target, loaded))
                res["n"] = target = loaded
        # clients
        sink = subprocess.Popen([BLAST, "sink", "--rr", RR_ADDR, "--port", str(args.port), "--base", client_addr(0),
                                 "--k", str(k), "--target", str(target), "--as", str(ASN),
                                 "--max-seconds", str(args.timeout + 300), "--stat-ms", str(args.poll_ms),
                                 "--family", args.family],
                                stdout=subprocess.PIPE, stderr=open(os.path.join(rundir, "sink.stderr"), "wb"),
                                stdin=subprocess.DEVNULL, start_new_session=True)
        sr = LineReader(sink, open(os.path.join(rundir, "sink.log"), "w"))
        deadline = time.time() + 60
        while time.time() < deadline:
            est = {l.split()[1] for l in sr.snapshot() if l.startswith("EST ")}
            if len(est) == k: break
            bad = [l for l in sr.snapshot() if l.startswith(("NOTIF", "DOWN"))]
            if bad: raise RuntimeError("client session failed: %s" % bad[:3])
            if rr.poll() is not None: raise RuntimeError("RR died (rc=%s)" % rr.returncode)
            time.sleep(0.05)
        else:
            raise RuntimeError("only %d/%d client sessions Established after 60s" % (len(est), k))
        time.sleep(args.settle)
        st_pre = proc_stat(rr_pid)
        res["rr_rss_before_mb"] = round(st_pre[2], 1)
        busy0, sink0 = host_busy_s(), proc_stat(sink.pid)
        # injector
        t_wall0 = time.time()
        if args.injector == "native":
            inj = subprocess.Popen([BLAST, "inject", "--rr", RR_ADDR, "--port", str(args.port), "--local", INJ_ADDR,
                                    "--stream", meta["stream"], "--as", str(ASN), "--max-seconds", str(args.timeout + 300),
                                    "--family", args.family],
                                   stdout=subprocess.PIPE, stderr=open(os.path.join(rundir, "inj.stderr"), "wb"),
                                   stdin=subprocess.DEVNULL, start_new_session=True)
            ir = LineReader(inj, open(os.path.join(rundir, "inj.log"), "w"))
            t_est = None
            deadline = time.time() + 60
            while time.time() < deadline and t_est is None:
                for l in ir.snapshot():
                    if l.startswith("EST "): t_est = float(l.split()[1])
                    if l.startswith(("NOTIF", "DOWN")): raise RuntimeError("injector: %s" % l)
                time.sleep(0.01)
            if t_est is None: raise RuntimeError("injector session not Established")
        else:
            t_est, ir = enable_gobgp_injector(args)
        res["setup_s"] = round(time.time() - t_wall0, 3)
        # poll until every client holds all prefixes
        deadline = time.monotonic() + args.timeout
        peak_rss = 0.0; samples = []
        done = {}
        t_last_sample = 0
        while True:
            st = proc_stat(rr_pid)
            if st:
                peak_rss = max(peak_rss, st[2])
                if time.monotonic() - t_last_sample >= 1.0:
                    samples.append((round(time.monotonic() - t_est, 2), round(st[0], 2), round(st[2], 1))); t_last_sample = time.monotonic()
            for l in sr.snapshot():
                if l.startswith("DONE "):
                    p = l.split(); done[p[1]] = float(p[2])
                elif l.startswith(("NOTIF", "DOWN")):
                    raise RuntimeError("client: %s" % l)
            if len(done) == k: break
            if rr.poll() is not None and not hook_pid: raise RuntimeError("RR died rc=%s" % rr.returncode)
            if time.monotonic() > deadline:
                last = [l for l in sr.snapshot() if l.startswith("STAT")][-1:]
                res["timeout"] = True
                res["progress"] = last[0] if last else ""
                raise RuntimeError("timeout after %ss (%d/%d clients complete; %s)" % (args.timeout, len(done), k, res["progress"]))
            time.sleep(args.poll_ms / 1000.0)
        st_end = proc_stat(rr_pid)
        busy1, sink1 = host_busy_s(), proc_stat(sink.pid)
        t_end = max(done.values())
        secs = t_end - t_est
        firsts = [float(l.split()[2]) for l in sr.snapshot() if l.startswith("FIRST ")]
        inj_lines = ir.snapshot() if ir else []
        sent = [float(l.split()[1]) for l in inj_lines if l.startswith("SENT ")]
        res.update(ok=True, seconds=round(secs, 3),
                   routes_per_s=round(target * k / secs) if secs > 0 else None,
                   rr_peak_rss_mb=round(st_end[1], 1),
                   rr_cpu_s=round(st_end[0], 2),
                   rr_cpu_load_s=round(st_end[0] - st_pre[0], 2),
                   rr_cpu_util=round((st_end[0] - st_pre[0]) / secs, 2) if secs > 0 else None,
                   first_client_update_s=round(min(firsts) - t_est, 3) if firsts else None,
                   first_client_done_s=round(min(done.values()) - t_est, 3),
                   injector_sent_s=round(sent[0] - t_est, 3) if sent else None)
        # helper-process CPU, to show whether the measuring side was a bottleneck
        ss = proc_stat(sink.pid); res["sink_cpu_s"] = round(ss[0], 2) if ss else None
        ip = inj or inj_gobgp
        ist = proc_stat(ip.pid) if ip else None; res["injector_cpu_s"] = round(ist[0], 2) if ist else None
        res["rr_cpu_samples"] = samples[-60:]
        if busy0 is not None and busy1 is not None and sink0 and sink1:
            # busy CPU of the whole box from injection to the end, minus the RR's and the sink's:
            # other jobs on the machine (and the injector, about 0)
            res["host_busy_s"] = round(busy1 - busy0, 2)
            res["others_cpu_s"] = round((busy1 - busy0) - (st_end[0] - st_pre[0]) - (sink1[0] - sink0[0]), 2)
    except Exception as e:  # noqa
        res["error"] = str(e)
        log("run failed: %s" % e)
        if rr is not None:
            st = proc_stat(res.get("rr_pid", rr.pid))
            if st: res.update(rr_peak_rss_mb=round(st[1], 1), rr_cpu_s=round(st[0], 2))
    finally:
        stop_pid(inj, "injector"); stop_pid(inj_gobgp, "gobgpd-injector")
        stop_pid(sink, "sink")
        stop_pid(rr, "rr-" + impl, grace=10)
        if hook_pid: stop_pidfile_pid(hook_pid, "rr-hook")
        time.sleep(0.3)
    with open(os.path.join(rundir, "result.json"), "w") as f: json.dump(res, f, indent=1)
    return res

# --------------------------------------------------------------------------------------
# --mode mesh-origin: Calico-shaped workload (every client originates M routes and must
# learn the routes of all the others through the RR)
# --------------------------------------------------------------------------------------
def loadavg():
    try:
        with open("/proc/loadavg") as f: return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None

def host_busy_s():
    """CPU seconds all cores spent not idle since boot (/proc/stat), to spot other load on the box."""
    try:
        with open("/proc/stat") as f: v = [int(x) for x in f.readline().split()[1:9]]
        return (sum(v) - v[3] - v[4]) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return None

def raise_nofile(need):
    """Raise the soft fd limit (inherited by the RR and bgpblast) to `need`, at most the hard limit."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(need, hard), hard))
        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):
        return None

MESH_ERRORS = (("echo", "%d routes echoed back to their originating client"),
               ("bad_nexthop", "%d reflected routes with a NEXT_HOP other than the originator's"),
               ("bad_originator", "%d reflected routes without the originator's ORIGINATOR_ID"),
               ("foreign", "%d unexpected prefixes (not in the plan)"))

def wait_idle(max_wait):
    """Wait (at most max_wait s) until the host is nearly idle. Returns (busy cores in the last 3 s, seconds waited)."""
    t0 = time.time()
    while True:
        b0 = host_busy_s(); time.sleep(3.0); b1 = host_busy_s()
        busy = (b1 - b0) / 3.0 if None not in (b0, b1) else None
        if busy is None or busy < 0.3 or time.time() - t0 >= max_wait:
            return busy, time.time() - t0
        log("box busy (%.2f cores used by others), waiting" % busy)

def run_mesh(args, impl, k, m, rep):
    pre_busy, waited = wait_idle(args.wait_idle) if args.wait_idle > 0 else (None, 0.0)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rundir = os.path.join(args.workdir, "runs", "%s-%s-mesh-k%d-m%d-r%d" % (stamp, impl, k, m, rep))
    os.makedirs(rundir, exist_ok=True)
    total = k * (k - 1) * m
    res = dict(mode="mesh-origin", rr=impl, k=k, m=m, flap=args.flap, rep=rep, routes_total=total, ok=False,
               connect_window=args.connect_window, loadavg_1m=loadavg(), rundir=rundir)
    if impl == "cmd": res["rr_cmd"] = args.rr_cmd
    if args.wait_idle > 0:
        res.update(host_busy_before=round(pre_busy, 2) if pre_busy is not None else None, idle_wait_s=round(waited, 1))
    rr = sink = None
    hook_pid = None
    ev, st = {}, dict(est=0, retries=0, last_retry="", drops=[], done=[], counters={}, echo=[], stat="", upstat="", down=[])
    pos = [0]
    peak = [0.0]
    try:
        if tcp_listeners(args.port):
            raise RuntimeError("port %d already has a listener: %s" % (args.port, tcp_listeners(args.port)))
        t_rr0 = time.monotonic()
        rr, pidfile = start_rr(args, impl, rundir, k, False, peers=mesh_peers(k))
        deadline = time.time() + max(60, args.timeout)      # K peers: config loading can take a while
        while time.time() < deadline:
            if (RR_ADDR, args.port) in tcp_listeners(args.port): break
            if rr.poll() is not None: raise RuntimeError("RR exited early rc=%s (see %s)" % (rr.returncode, rundir))
            time.sleep(0.05)
        else:
            raise RuntimeError("RR did not listen on %s:%d" % (RR_ADDR, args.port))
        res["rr_listen_s"] = round(time.monotonic() - t_rr0, 3)
        bad = [l for l in tcp_listeners(args.port) if l[0] != RR_ADDR]
        if bad: raise RuntimeError("RR listens on non-loopback/unexpected address: %s" % bad)
        rr_pid = rr_pid_of(rr, pidfile, time.time() + 10)
        if pidfile: hook_pid = rr_pid if rr_pid != rr.pid else None
        res["rr_pid"] = rr_pid
        sink = subprocess.Popen([BLAST, "mesh", "--rr", RR_ADDR, "--port", str(args.port), "--base", MESH_ADDR_BASE,
                                 "--nh-base", MESH_NH_BASE, "--pfx-base", MESH_PFX_BASE, "--k", str(k), "--m", str(m),
                                 "--flap", str(args.flap), "--seed", str(args.seed), "--as", str(ASN),
                                 "--max-seconds", str(3 * args.timeout + 300), "--stat-ms", str(args.poll_ms),
                                 "--connect-window", str(args.connect_window)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(rundir, "sink.stderr"), "wb"), start_new_session=True)
        sr = LineReader(sink, open(os.path.join(rundir, "sink.log"), "w"))

        def pump():
            lines = sr.snapshot(pos[0]); pos[0] += len(lines)
            for l in lines:
                w = l.split()
                if not w: continue
                t = w[0]
                if t == "EST": st["est"] += 1
                elif t == "RETRY": st["retries"] += 1; st["last_retry"] = l
                elif t == "DROP": st["drops"].append(l); st["est"] -= 1
                elif t == "DONE": st["done"].append(float(w[2]))
                elif t == "COUNTERS": st["counters"][w[1]] = {a: int(b) for a, b in (x.split("=", 1) for x in w[2:])}
                elif t == "ECHO": st["echo"].append(" ".join(w[1:]))
                elif t == "STAT": st["stat"] = l
                elif t == "UPSTAT": st["upstat"] = l
                elif t in ("DOWN", "NOTIF"): st["down"].append(l)
                else: ev[t] = w[1:]

        def wait_for(cond, phase, deadline, progress):
            while True:
                pump()
                s = proc_stat(rr_pid)
                if s: peak[0] = max(peak[0], s[2])
                if cond(): return
                if st["down"]: raise RuntimeError("client session lost (%s): %s" % (phase, st["down"][:3]))
                if rr.poll() is not None and not hook_pid: raise RuntimeError("RR died rc=%s" % rr.returncode)
                if hook_pid and not os.path.exists("/proc/%d" % hook_pid): raise RuntimeError("RR pid %d died" % hook_pid)
                if sink.poll() is not None: raise RuntimeError("bgpblast mesh exited rc=%s" % sink.returncode)
                if time.monotonic() > deadline:
                    res["timeout"] = phase
                    res["progress"] = progress()
                    raise RuntimeError("timeout in phase %s after %ss (%s)" % (phase, args.timeout, res["progress"]))
                time.sleep(args.poll_ms / 1000.0)

        def send(cmd):
            sink.stdin.write((cmd + "\n").encode()); sink.stdin.flush()

        # 1. K sessions
        wait_for(lambda: "ALLUP" in ev, "sessions", time.monotonic() + args.timeout,
                 lambda: "%d/%d sessions Established, %d retries; last: %s" % (st["est"], k, st["retries"], st["last_retry"]))
        t_start, t_allup, retries = float(ev["ALLUP"][0]), float(ev["ALLUP"][1]), int(ev["ALLUP"][2])
        s_up = proc_stat(rr_pid)
        res.update(sessions_up_s=round(t_allup - t_start, 3), rr_start_to_allup_s=round(t_allup - t_rr0, 3),
                   session_retries=retries, rr_cpu_up_s=round(s_up[0], 2), rr_rss_up_mb=round(s_up[2], 1))
        if st["drops"]:
            # Established sessions the RR closed while the others were still coming up (reconnected)
            res["session_drops"] = len(st["drops"])
            res["session_drop_samples"] = st["drops"][:5]
        time.sleep(args.settle)
        # 2. every client announces; wait until every client holds (K-1)*M routes
        s_pre = proc_stat(rr_pid)
        b0, k0 = host_busy_s(), proc_stat(sink.pid)
        send("GO")
        wait_for(lambda: "converged" in st["counters"], "converge", time.monotonic() + args.timeout,
                 lambda: "STAT t held_total clients_full min max = %s" % st["stat"][5:])
        s_conv = proc_stat(rr_pid)
        b1, k1 = host_busy_s(), proc_stat(sink.pid)
        t0, t_conv = float(ev["ANN"][0]), float(ev["CONVERGED"][0])
        secs = t_conv - t0
        done = sorted(st["done"])
        res.update(ok=True, seconds=round(secs, 3), routes_per_s=round(total / secs) if secs > 0 else None,
                   rr_peak_rss_mb=round(s_conv[1], 1), rr_cpu_s=round(s_conv[0], 2),
                   rr_cpu_load_s=round(s_conv[0] - s_pre[0], 2),
                   rr_cpu_util=round((s_conv[0] - s_pre[0]) / secs, 2) if secs > 0 else None,
                   announce_sent_s=round(float(ev["ANN"][1]) - t0, 4),
                   first_client_update_s=round(float(ev["FIRSTRX"][1]) - t0, 3) if "FIRSTRX" in ev else None,
                   first_client_done_s=round(done[0] - t0, 3) if done else None,
                   median_client_done_s=round(done[len(done) // 2] - t0, 3) if done else None)
        if None not in (b0, b1, k0, k1):
            # busy CPU of the whole box from GO to convergence, and what neither the RR nor bgpblast used
            res["host_busy_s"] = round(b1 - b0, 2)
            res["others_cpu_s"] = round((b1 - b0) - (s_conv[0] - s_pre[0]) - (k1[0] - k0[0]), 2)
            res["sink_load_cpu_s"] = round(k1[0] - k0[0], 2)
        c = st["counters"]["converged"]
        res.update(echoes=c["echo"], bad_nexthop=c["bad_nexthop"], bad_originator=c["bad_originator"],
                   foreign=c["foreign"], rx_announced=c["rx_announced"], rx_duplicates=c["dup"], rx_updates=c["updates"])
        # 3. optional churn: F clients withdraw, then (once everybody saw it) re-announce
        if args.flap > 0:
            time.sleep(1.0)
            s_f0 = proc_stat(rr_pid)
            send("FLAP")
            wait_for(lambda: "flap" in st["counters"], "flap", time.monotonic() + args.timeout,
                     lambda: "withdrawals seen by all: %s; STAT t held_total clients_full min max = %s" %
                     ("WDONE" in ev, st["stat"][5:]))
            s_f1 = proc_stat(rr_pid)
            tw0, twd, ta0, tad = float(ev["FLAPW"][0]), float(ev["WDONE"][0]), float(ev["FLAPA"][0]), float(ev["FLAPDONE"][0])
            res.update(flap_clients=[int(x) for x in ev.get("FLAPSET", [])][:50],
                       flap_withdraw_s=round(twd - tw0, 3), flap_reannounce_s=round(tad - ta0, 3),
                       flap_total_s=round(tad - tw0, 3), flap_rr_cpu_s=round(s_f1[0] - s_f0[0], 2),
                       rr_peak_rss_end_mb=round(s_f1[1], 1))
            cf = st["counters"]["flap"]
            res.update(echoes=cf["echo"], bad_nexthop=cf["bad_nexthop"], bad_originator=cf["bad_originator"],
                       foreign=cf["foreign"], flap_rx_withdrawn=cf["rx_withdrawn"],
                       flap_rx_duplicates=cf["dup"] - c["dup"])
        errs = [msg % res[key] for key, msg in
                (("echoes", MESH_ERRORS[0][1]), ("bad_nexthop", MESH_ERRORS[1][1]),
                 ("bad_originator", MESH_ERRORS[2][1]), ("foreign", MESH_ERRORS[3][1])) if res.get(key)]
        if res.get("session_drops"):
            errs.append("%d Established sessions closed by the RR during bring-up (reconnected)" % res["session_drops"])
        if errs:
            res["errors"] = errs
            res["echo_samples"] = st["echo"][:5]
            log("correctness errors: %s" % "; ".join(errs))
        ss = proc_stat(sink.pid); res["sink_cpu_s"] = round(ss[0], 2) if ss else None
    except Exception as e:  # noqa
        res["error"] = str(e)
        log("run failed: %s" % e)
        if rr is not None:
            s = proc_stat(res.get("rr_pid", rr.pid))
            if s: res.update(rr_peak_rss_mb=round(s[1], 1), rr_cpu_s=round(s[0], 2))
        if "ALLUP" not in ev:
            res["sessions_established"] = st["est"]; res["session_retries"] = st["retries"]
            if st["drops"]: res["session_drops"] = len(st["drops"]); res["session_drop_samples"] = st["drops"][:5]
    finally:
        stop_pid(sink, "bgpblast-mesh")
        stop_pid(rr, "rr-" + impl, grace=20)
        if hook_pid: stop_pidfile_pid(hook_pid, "rr-hook")
        time.sleep(0.3)
    with open(os.path.join(rundir, "result.json"), "w") as f: json.dump(res, f, indent=1)
    return res

def summarize_mesh(results):
    groups = collections.OrderedDict()
    for r in results:
        groups.setdefault((r["rr"], r["k"], r["m"], r.get("flap", 0)), []).append(r)
    rows = []
    for (rr, k, m, flap), rs in groups.items():
        ok = [r for r in rs if r.get("ok")]
        med = lambda key: statistics.median([r[key] for r in ok]) if ok and all(r.get(key) is not None for r in ok) else None
        notes = sorted({r["error"][:70] for r in rs if r.get("error")} | {e[:70] for r in rs for e in r.get("errors", [])})
        rows.append(dict(rr=rr, k=k, m=m, flap=flap, runs=len(rs), ok=len(ok), seconds=med("seconds"),
                         routes_per_s=med("routes_per_s"), sessions_up_s=med("sessions_up_s"),
                         rr_peak_rss_mb=med("rr_peak_rss_mb"), rr_cpu_s=med("rr_cpu_s"), rr_cpu_load_s=med("rr_cpu_load_s"),
                         flap_total_s=med("flap_total_s"), sink_cpu_s=med("sink_cpu_s"), note="; ".join(notes)))
    return rows

def print_mesh_table(rows, out=sys.stdout):
    hdr = "%-6s %5s %3s %4s %5s %9s %11s %8s %8s %8s %8s %8s %7s  %s" % (
        "rr", "K", "M", "F", "ok", "conv_s", "routes/s", "up_s", "rss_MB", "cpu_s", "load_s", "flap_s", "sinkcpu", "notes")
    print(hdr, file=out); print("-" * len(hdr), file=out)
    f = lambda v, fmt: (fmt % v) if v is not None else "-"
    for r in rows:
        print("%-6s %5d %3d %4d %5s %9s %11s %8s %8s %8s %8s %8s %7s  %s" % (
            r["rr"], r["k"], r["m"], r["flap"], "%d/%d" % (r["ok"], r["runs"]), f(r["seconds"], "%.3f"),
            f(r["routes_per_s"], "%.0f"), f(r["sessions_up_s"], "%.2f"), f(r["rr_peak_rss_mb"], "%.0f"),
            f(r["rr_cpu_s"], "%.2f"), f(r["rr_cpu_load_s"], "%.2f"), f(r["flap_total_s"], "%.3f"),
            f(r["sink_cpu_s"], "%.2f"), r["note"]), file=out)

def gobgp_cli(args, *a, timeout=600):
    return subprocess.run([args.gobgp_bin, "-u", "127.0.0.1", "-p", str(args.inj_api_port)] + list(a),
                          capture_output=True, timeout=timeout)

def load_gobgp_injector(args, meta, rundir, res):
    """Start gobgpd as injector (session to the RR admin-down) and fill its global RIB with
    `gobgp mrt inject global FILE`. Returns (proc, prefixes in RIB once the count is stable)."""
    afis = '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n'
    if meta["n6"]: afis += '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv6-unicast"\n'
    cp = os.path.join(rundir, "gobgp-injector.toml")
    open(cp, "w").write(render("gobgp-injector.toml.tmpl", ASN=ASN, PORT=args.port, AFISAFIS=afis))
    p = subprocess.Popen([args.gobgpd_bin, "-f", cp, "-t", "toml", "-l", "warn", "-p", "--pprof-disable",
                          "--api-hosts", "127.0.0.1:%d" % args.inj_api_port],
                         stdout=open(os.path.join(rundir, "gobgp-injector.log"), "wb"), stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        if gobgp_cli(args, "global", timeout=10).returncode == 0: break
        time.sleep(0.2)
    t = time.time()
    r = gobgp_cli(args, "mrt", "inject", "global", meta["mrt"], timeout=args.timeout)
    if r.returncode != 0: raise RuntimeError("gobgp mrt inject failed: %s" % r.stderr.decode()[-300:])
    errs = r.stdout.decode(errors="replace").count("failed to parse") + r.stderr.decode(errors="replace").count("failed to parse")
    if errs: res["injector_parse_errors"] = errs
    def dest(o):
        for w in o.replace(",", " ").split("Destination:")[1:]:
            return int(w.split()[0])
        return 0
    last, stable_since, cnt = -1, time.time(), 0
    deadline = time.time() + 300
    while time.time() < deadline:
        cnt = dest(gobgp_cli(args, "global", "rib", "summary", timeout=30).stdout.decode())
        if meta["n6"]: cnt += dest(gobgp_cli(args, "global", "rib", "-a", "ipv6", "summary", timeout=30).stdout.decode())
        if cnt >= meta["target"]: break
        if cnt != last: last, stable_since = cnt, time.time()
        elif time.time() - stable_since > 3: break
        time.sleep(0.2)
    res["injector_load_s"] = round(time.time() - t, 2)
    res["injector_rib"] = cnt
    return p, cnt

def enable_gobgp_injector(args):
    gobgp_cli(args, "neighbor", "127.0.0.1", "enable", timeout=30)
    deadline = time.time() + 120
    while time.time() < deadline:
        o = gobgp_cli(args, "-j", "neighbor", "127.0.0.1", timeout=30).stdout.decode()
        try:
            j = json.loads(o)
            j = j[0] if isinstance(j, list) else j
            if j["state"]["session_state"] in (6, "established", "ESTABLISHED"):
                return time.monotonic(), None
        except (ValueError, KeyError, IndexError, TypeError):
            pass
        time.sleep(0.02)
    raise RuntimeError("gobgp injector session did not come up")

# --------------------------------------------------------------------------------------
def summarize(results):
    groups = collections.OrderedDict()
    for r in results:
        if r.get("mode") == "mesh-origin": continue
        groups.setdefault((r["rr"], r.get("family", "ipv4"), r["n"], r["k"], r["injector"]), []).append(r)
    rows = []
    for (rr, fam, n, k, inj), rs in groups.items():
        ok = [r for r in rs if r.get("ok")]
        med = lambda key: statistics.median([r[key] for r in ok]) if ok and all(r.get(key) is not None for r in ok) else None
        rows.append(dict(rr=rr, family=fam, n=n, k=k, injector=inj, runs=len(rs), ok=len(ok),
                         seconds=med("seconds"), routes_per_s=med("routes_per_s"), rr_peak_rss_mb=med("rr_peak_rss_mb"),
                         rr_cpu_s=med("rr_cpu_s"), sink_cpu_s=med("sink_cpu_s"), injector_sent_s=med("injector_sent_s"),
                         all_seconds=[r.get("seconds") for r in rs],
                         note="; ".join(sorted({r["error"][:60] for r in rs if r.get("error")}))))
    return rows

def print_table(rows, out=sys.stdout):
    hdr = "%-6s %-6s %8s %3s %5s %9s %11s %9s %8s %8s %8s  %s" % ("rr", "family", "N", "K", "ok", "median_s", "routes/s", "rss_MB", "cpu_s", "sinkcpu", "inj_sent", "all_s / notes")
    print(hdr, file=out); print("-" * len(hdr), file=out)
    f = lambda v, fmt: (fmt % v) if v is not None else "-"
    for r in rows:
        print("%-6s %-6s %8d %3d %5s %9s %11s %9s %8s %8s %8s  %s %s" % (
            r["rr"], r["family"], r["n"], r["k"], "%d/%d" % (r["ok"], r["runs"]), f(r["seconds"], "%.2f"),
            f(r["routes_per_s"], "%.0f"), f(r["rr_peak_rss_mb"], "%.0f"), f(r["rr_cpu_s"], "%.2f"),
            f(r["sink_cpu_s"], "%.2f"), f(r["injector_sent_s"], "%.2f"), r["all_seconds"], r["note"]), file=out)

def find_mrt_default():
    # the repository's shared data folder: <shared>/tools/rr-bench/../../data
    d = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "mrt"))
    if not os.path.isdir(d): return None
    c = sorted(f for f in os.listdir(d) if f.endswith((".mrt", ".gz", ".bz2")))
    return os.path.join(d, c[0]) if c else None

def _term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)      # unwinds through run_one's finally: children get stopped

def main():
    signal.signal(signal.SIGTERM, _term)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rr", default="bird", help="comma list of: bird, gobgp, frr, cmd (default bird)")
    ap.add_argument("--rr-cmd", help="hook: command line of a custom RR (no shell). Placeholders: {config} "
                    "(JSON peer list written by the harness), {workdir}, {pidfile} (if present the harness reads the "
                    "RR pid from it; else the started process is the RR), {port}, {k}. It must listen on 127.0.0.1:{port}.")
    ap.add_argument("-n", "--n", type=str, default=None, help="IPv4 prefixes, comma list (default 100000; with --mrt: "
                    "cap on prefixes taken from the file, default all)")
    ap.add_argument("--n6", type=int, default=0, help="additional IPv6 /48 prefixes (generated data only; default 0)")
    ap.add_argument("-k", "--k", type=str, default="4", help="receiving clients, comma list, 1..50 (default 4)")
    ap.add_argument("-r", "--repeat", type=int, default=1)
    ap.add_argument("--mrt", help="TABLE_DUMP_V2 RIB file (.mrt/.gz/.bz2) instead of generated routes; 'auto' = first "
                    "file in the shared data folder (data/mrt)")
    ap.add_argument("--injector", choices=("native", "gobgp"), default="native",
                    help="native: bgpblast writes a pre-encoded UPDATE stream (default, fastest); gobgp: gobgpd "
                    "preloaded via `gobgp mrt inject global`")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--family", choices=("ipv4", "vpnv4", "evpn"), default="ipv4",
                    help="route family of the generated routes: ipv4 (default), vpnv4 (VPN-IPv4, -n routes shaped "
                    "like a PE network) or evpn (EVPN type 2 MAC/IP); see README, \"VPN mode\"")
    ap.add_argument("--timeout", type=float, default=600, help="per-run cap in seconds (default 600)")
    ap.add_argument("--poll-ms", type=int, default=100)
    ap.add_argument("--settle", type=float, default=None, help="pause after clients are up, before injecting (default 1.0; "
                    "mesh-origin: 12.0, longer than FRR's update-group coalesce timer, which holds the first "
                    "advertisement to new sessions for up to 10 s)")
    ap.add_argument("--port", type=int, default=179)
    ap.add_argument("--workdir", default=os.path.join(STATE, "work"))
    ap.add_argument("--json-out", help="append one JSON line per run to this file")
    ap.add_argument("--bird-bin", default="/usr/sbin/bird")
    ap.add_argument("--gobgpd-bin", default="/usr/bin/gobgpd")
    ap.add_argument("--gobgp-bin", default="/usr/bin/gobgp")
    ap.add_argument("--bgpd-bin", default="/usr/lib/frr/bgpd")
    ap.add_argument("--rr-api-port", type=int, default=50151)
    ap.add_argument("--inj-api-port", type=int, default=50152)
    ap.add_argument("--summarize", metavar="JSONL", help="only print the median table for a --json-out file")
    ap.add_argument("--mode", choices=("injector", "mesh-origin"), default="injector",
                    help="injector: one injector, K passive clients (default). mesh-origin: Calico-shaped, every "
                    "client originates --routes-per-client /26s and must learn all the others' (see README)")
    ap.add_argument("--clients", default="100", help="mesh-origin: client sessions K, comma list, 2..%d (default 100)" % MESH_MAX_K)
    ap.add_argument("--routes-per-client", default="4", help="mesh-origin: /26s each client originates M, comma list (default 4)")
    ap.add_argument("--flap", type=int, default=0, help="mesh-origin: after convergence F random clients withdraw "
                    "their routes and re-announce them once every client has seen the withdrawal (default 0 = no churn)")
    ap.add_argument("--connect-window", type=int, default=8, help="mesh-origin: at most this many client sessions "
                    "in TCP/OPEN handshake at once (default 8; 0 = all K connect at once, see README: BIRD's listen "
                    "backlog is 8 and a burst of K SYNs then waits on the kernel's SYN retransmit backoff)")
    ap.add_argument("--wait-idle", type=float, default=0, help="mesh-origin: before each run wait up to this many "
                    "seconds until the box is idle (< 0.3 busy cores over 3 s); the other load is recorded either way")
    args = ap.parse_args()
    if args.summarize:
        rs = [json.loads(l) for l in open(args.summarize) if l.strip()]
        mesh = [r for r in rs if r.get("mode") == "mesh-origin"]
        if len(mesh) < len(rs): print_table(summarize(rs))
        if mesh:
            if len(mesh) < len(rs): print()
            print_mesh_table(summarize_mesh(mesh))
        return
    if args.mode == "mesh-origin":
        if args.settle is None: args.settle = 12.0
        return main_mesh(args)
    if args.settle is None: args.settle = 1.0
    if args.family != "ipv4" and (args.mrt or args.n6 or args.injector != "native"):
        raise SystemExit("--family %s: generated routes and the native injector only (no --mrt, --n6, --injector gobgp)" % args.family)

    if args.mrt == "auto":
        args.mrt = find_mrt_default()
        if not args.mrt: raise SystemExit("--mrt auto: no *.mrt/*.gz/*.bz2 in the shared data folder (data/mrt)")
    ns = [int(x) for x in (args.n or ("0" if args.mrt else "100000")).split(",")]
    ks = [int(x) for x in args.k.split(",")]
    impls = args.rr.split(",")
    for k in ks:
        if not 1 <= k <= 50: raise SystemExit("K must be 1..50")
    if os.geteuid() != 0 and args.port < 1024: raise SystemExit("port %d needs root" % args.port)
    os.makedirs(STATE, exist_ok=True)
    if not os.path.exists(BLAST) or os.path.getmtime(BLAST) < os.path.getmtime(BLAST_SRC):
        subprocess.check_call(["gcc", "-O2", "-Wall", "-o", BLAST, BLAST_SRC])
    os.makedirs(args.workdir, exist_ok=True)
    results = []
    jf = open(args.json_out, "a") if args.json_out else None
    for n in ns:
        args.n = n if n > 0 else None
        if not args.mrt and not args.n: raise SystemExit("-n must be > 0")
        meta = prepare_data(args, os.path.join(args.workdir, "data"))
        for k in ks:
            for impl in impls:
                for rep in range(1, args.repeat + 1):
                    r = run_one(args, impl, meta, k, rep)
                    line = json.dumps({x: y for x, y in r.items() if x != "rr_cpu_samples"})
                    print(line, flush=True)
                    if jf: jf.write(json.dumps(r) + "\n"); jf.flush()
                    results.append(r)
    print()
    print_table(summarize(results))

def main_mesh(args):
    ks = [int(x) for x in args.clients.split(",")]
    ms = [int(x) for x in args.routes_per_client.split(",")]
    impls = args.rr.split(",")
    if args.mrt or args.n6 or args.injector != "native" or args.n:
        raise SystemExit("--mode mesh-origin generates its own routes: -n, --n6, --mrt and --injector do not apply")
    for k in ks:
        if not 2 <= k <= MESH_MAX_K: raise SystemExit("--clients must be 2..%d" % MESH_MAX_K)
        for m in ms:
            if m < 1 or k * m > (1 << 18): raise SystemExit("--routes-per-client: K*M must be 1..262144 (/26s in 10.0.0.0/8)")
        if not 0 <= args.flap <= k: raise SystemExit("--flap must be 0..K")
    if os.geteuid() != 0 and args.port < 1024: raise SystemExit("port %d needs root" % args.port)
    lim = raise_nofile(2 * max(ks) + 1024)
    if lim is not None and lim < max(ks) + 64:
        raise SystemExit("fd limit %d too small for %d sessions (raise the hard limit: ulimit -Hn)" % (lim, max(ks)))
    os.makedirs(STATE, exist_ok=True)
    if not os.path.exists(BLAST) or os.path.getmtime(BLAST) < os.path.getmtime(BLAST_SRC):
        subprocess.check_call(["gcc", "-O2", "-Wall", "-o", BLAST, BLAST_SRC])
    os.makedirs(args.workdir, exist_ok=True)
    results = []
    jf = open(args.json_out, "a") if args.json_out else None
    for k in ks:
        for m in ms:
            for impl in impls:
                for rep in range(1, args.repeat + 1):
                    r = run_mesh(args, impl, k, m, rep)
                    print(json.dumps(r), flush=True)
                    if jf: jf.write(json.dumps(r) + "\n"); jf.flush()
                    results.append(r)
    print()
    print_mesh_table(summarize_mesh(results))

if __name__ == "__main__":
    main()
