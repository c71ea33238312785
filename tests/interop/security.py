"""Phase 6 of the interop suite: session security and BMP with real daemons.

Called from run.py (``--phase 6``) as ``security.phase6(args, d, run)``, where
``run`` is run.py's module: its helpers (Bird, Frr, check, wait_for, ...)
and its list of results are used, not copied.

Everything is on 127.0.8.0/24 (loopback). One Reflector (AS 64512, cluster
10.8.0.9) listens on 127.0.8.1:11840 and 127.0.8.9:11840; one BIRD has a
protocol per case, each from its own address to its own Reflector address
(127.0.8.21-26: BIRD locks a neighbour address and port to one protocol);
one FRR bgpd has two neighbours.

TCP-MD5 (RFC 2385):
- ``md5``: BIRD (127.0.8.2, passive, password) and Reflector (active, same
  password): Established over Reflector's *outgoing* signed connection.
- FRR (127.0.8.3 -> 127.0.8.1, password): Established over Reflector's
  *listening* socket's key.
- routes are reflected both ways over the signed sessions (CLUSTER_LIST 10.8.0.9).
- ``wrong`` (127.0.8.4, BIRD's password differs), ``nopw`` (127.0.8.7, BIRD
  sends none) and FRR's second neighbour (127.0.8.8 -> 127.0.8.9, wrong
  password): never Established within the wait, Reflector never sees an
  OPEN from them, and the kernel's TCPMD5 drop counters grow.

GTSM (RFC 5082), on loopback (no router decrements the TTL here, so a
sender's TTL arrives unchanged: 255 with GTSM, 64 without):
- ``gtsm`` (127.0.8.5, BIRD ``ttl security on``, passive; Reflector active
  with ``ttl_security``): Established; ``gtsmin`` (127.0.8.11, BIRD active;
  Reflector passive with ``ttl_security``): Established.
- ``nogtsm`` (127.0.8.6): Reflector requires GTSM, BIRD sends TTL 64: never
  Established. ``gtsmonly`` (127.0.8.10): BIRD requires GTSM, Reflector does
  not use it for that peer (sends TTL 64): never Established.

BMP (RFC 7854, RFC 9069, RFC 8671) with pmacct's ``pmbmpd`` as the
collector, when it is installed: its JSON log shows Reflector's Initiation,
a Peer Up for BIRD and FRR, Route Monitoring of their prefixes (Adj-RIB-In
pre-policy), of the Loc-RIB and of the Adj-RIB-Out post-policy, Statistics
Reports, and a Peer Down when BIRD stops.
"""

import json
import os
import re
import shutil
import signal
import time

ASN = 64512


def logged(text, name, what):
    """Reflector's log lines about peer `name` that contain `what` (the message comes before the fields)."""
    return [l for l in text.splitlines() if what in l and re.search(rf'\bpeer="?{re.escape(name)}"?(\s|$)', l)]


def md5_drops():
    """The kernel's TCP-MD5 drop counters (TcpExt TCPMD5NotFound + Unexpected + Failure)."""
    lines = open("/proc/net/netstat").read().splitlines()
    total = 0
    for h, v in zip(lines[0::2], lines[1::2]):
        if not h.startswith("TcpExt:"):
            continue
        for k, n in zip(h.split()[1:], v.split()[1:]):
            if k.startswith("TCPMD5"):
                total += int(n)
    return total


BIRD_SEC = """router id 10.8.0.2;
log "{dir}/bird.log" all;
protocol device {{ scan time 3600; }}
protocol static nh4 {{ ipv4; route 192.0.2.0/24 via "lo"; }}
protocol static s2 {{ ipv4; route 10.80.2.0/24 blackhole; }}
protocol static s5 {{ ipv4; route 10.80.5.0/24 blackhole; }}
template bgp t {{
  strict bind on;
  connect retry time 1;
  connect delay time 1;
  error wait time 1, 2;
  ipv4 {{ import all; export none; }};
}}
protocol bgp pmd5 from t {{
  local 127.0.8.2 port 11842 as 64512; neighbor 127.0.8.1 port 11840 as 64512;
  passive on;
  password "bird-md5-secret";
  ipv4 {{ import all; export filter {{ if proto = "s2" then {{ bgp_next_hop = 192.0.2.2; accept; }} reject; }}; }};
}}
protocol bgp pwrong from t {{
  local 127.0.8.4 port 11842 as 64512; neighbor 127.0.8.21 port 11840 as 64512;
  password "not-the-password";
}}
protocol bgp pnopw from t {{
  local 127.0.8.7 port 11842 as 64512; neighbor 127.0.8.22 port 11840 as 64512;
}}
protocol bgp pgtsm from t {{
  local 127.0.8.5 port 11842 as 64512; neighbor 127.0.8.23 port 11840 as 64512;
  passive on;
  ttl security on;
  ipv4 {{ import all; export filter {{ if proto = "s5" then {{ bgp_next_hop = 192.0.2.5; accept; }} reject; }}; }};
}}
protocol bgp pgtsmin from t {{
  local 127.0.8.11 port 11842 as 64512; neighbor 127.0.8.24 port 11840 as 64512;
  ttl security on;
}}
protocol bgp pnogtsm from t {{
  local 127.0.8.6 port 11842 as 64512; neighbor 127.0.8.25 port 11840 as 64512;
}}
protocol bgp pgtsmonly from t {{
  local 127.0.8.10 port 11842 as 64512; neighbor 127.0.8.26 port 11840 as 64512;
  ttl security on;
}}
"""

FRR_SEC = """frr defaults traditional
hostname frr-sec
log file {dir}/bgpd.log informational
router bgp 64512
 bgp router-id 10.8.0.3
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.8.1 remote-as 64512
 neighbor 127.0.8.1 port 11840
 neighbor 127.0.8.1 update-source 127.0.8.3
 neighbor 127.0.8.1 timers connect 1
 neighbor 127.0.8.1 password frr-md5-secret
 neighbor 127.0.8.9 remote-as 64512
 neighbor 127.0.8.9 port 11840
 neighbor 127.0.8.9 update-source 127.0.8.8
 neighbor 127.0.8.9 timers connect 1
 neighbor 127.0.8.9 password frr-wrong-password
 address-family ipv4 unicast
  network 10.80.3.0/24 route-map SET4
 exit-address-family
exit
route-map SET4 permit 10
 set ip next-hop 192.0.2.3
exit
"""

PMBMPD_CONF = """daemonize: false
bmp_daemon_ip: 127.0.8.1
bmp_daemon_port: {port}
bmp_daemon_msglog_file: {dir}/bmp.json
bmp_daemon_msglog_output: json
logfile: {dir}/pmbmpd.log
"""

BMP_PORT = 11819


def peers():
    c = dict(asn=ASN, role="client", families=["ipv4-unicast"])
    return [
        dict(name="bird-md5", address="127.0.8.2", passive=False, port=11842, local_address="127.0.8.1",
             password="bird-md5-secret", **c),
        dict(name="frr-md5", address="127.0.8.3", passive=True, password="frr-md5-secret", **c),
        dict(name="bird-wrong", address="127.0.8.4", passive=True, password="bird-wrong-secret", **c),
        dict(name="bird-nopw", address="127.0.8.7", passive=True, password="bird-nopw-secret", **c),
        dict(name="frr-wrong", address="127.0.8.8", passive=True, password="frr-right-password", **c),
        dict(name="bird-gtsm", address="127.0.8.5", passive=False, port=11842, local_address="127.0.8.23",
             ttl_security=True, **c),
        dict(name="bird-gtsmin", address="127.0.8.11", passive=True, ttl_security=True, **c),
        dict(name="bird-nogtsm", address="127.0.8.6", passive=True, ttl_security=True, **c),
        dict(name="bird-gtsmonly", address="127.0.8.10", passive=True, **c),
    ]


def phase6(args, d, run):
    check, wait_for, log = run.check, run.wait_for, run.log
    log("=== phase 6: TCP-MD5 (RFC 2385), GTSM (RFC 5082) and BMP (RFC 7854) with BIRD, FRR and pmbmpd")
    pm = None
    pmdir = os.path.join(d, "pmbmpd")
    bmp = ""
    if shutil.which("pmbmpd"):
        os.makedirs(pmdir, exist_ok=True)
        conf = os.path.join(pmdir, "pmbmpd.conf")
        open(conf, "w").write(PMBMPD_CONF.format(dir=pmdir, port=BMP_PORT))
        pm = run.Proc("pmbmpd", [shutil.which("pmbmpd"), "-f", conf], os.path.join(pmdir, "pmbmpd.out"))
        bmp = f'\n[[bmp]]\naddress = "127.0.8.1:{BMP_PORT}"\nstatistics_interval = 2\nadj_rib_out = true\n'
    else:
        log("pmbmpd not installed (apt-get install pmacct): the BMP collector check is skipped")
    drops0 = md5_drops()
    # BIRD locks each (neighbour address, port): each of its protocols has its own Reflector address.
    listen = ",".join(f"127.0.8.{i}:11840" for i in (1, 9, 21, 22, 23, 24, 25, 26))
    conf = run.reflector_conf("10.8.0.1", "10.8.0.9", listen, peers()) + bmp
    refl = run.start_reflector(args, d, "reflector-sec", conf)
    text = lambda: open(refl.log).read()
    bird = run.Bird(d, "bird-sec", BIRD_SEC.format(dir=os.path.join(d, "bird-sec")))
    frr = run.Frr(d, "frr-sec", FRR_SEC.format(dir=os.path.join(d, "frr-sec")), "127.0.8.3", 11843)
    bird.start()
    frr.start()

    # --- TCP-MD5
    check("phase6: BIRD with TCP-MD5 Established (Reflector's outgoing signed connection; BIRD passive)",
          wait_for("BIRD md5", lambda: bird.established("pmd5"), 40),
          bird.cli("show", "protocols", "all", "pmd5")[-400:])
    check("phase6: FRR with TCP-MD5 Established (Reflector's listening socket key)",
          wait_for("FRR md5", lambda: frr.established("127.0.8.1"), 40),
          frr.cli("show bgp neighbors 127.0.8.1")[-600:])
    got = wait_for("FRR to hold BIRD's route", lambda: (lambda r: r if "10.80.2.0/24" in r else None)(frr.routes()), 30)
    check("phase6: BIRD's route reaches FRR over the signed sessions (CLUSTER_LIST 10.8.0.9)",
          got and got["10.80.2.0/24"]["cluster"] == ["10.8.0.9"] and got["10.80.2.0/24"]["originator"] == "10.8.0.2",
          got)
    got = wait_for("BIRD to hold FRR's route", lambda: (lambda r: r if "10.80.3.0/24" in r else None)(bird.routes()), 30)
    check("phase6: FRR's route reaches BIRD over the signed sessions",
          got and got["10.80.3.0/24"]["originator"] == "10.8.0.3", got)
    # The bad ones have had as long as the good ones; 15 s more of retries every second.
    time.sleep(15)
    for proto in ("pwrong", "pnopw"):
        out = bird.cli("show", "protocols", "all", proto)
        check(f"phase6: BIRD `{proto}` (TCP-MD5 {'wrong password' if proto == 'pwrong' else 'missing'}) never Established",
              re.search(r"BGP state:\s+(Active|Connect)", out) and "Established" not in out, out[-300:])
    out = frr.cli("show bgp neighbors 127.0.8.9")
    check("phase6: FRR with a wrong TCP-MD5 password never Established",
          "BGP neighbor is 127.0.8.9" in out and "Established" not in out, out[-400:])
    log_text = text()
    for name in ("bird-wrong", "bird-nopw", "frr-wrong"):
        check(f"phase6: Reflector never got an OPEN from {name} (the kernel dropped its segments)",
              not logged(log_text, name, "session established") and not logged(log_text, name, "NOTIFICATION"),
              logged(log_text, name, ""))
    drops = md5_drops() - drops0
    check("phase6: the kernel counted dropped TCP-MD5 segments (TcpExt TCPMD5*)", drops > 0, drops)

    # --- GTSM
    for proto, what in (("pgtsm", "Reflector active, both with GTSM"), ("pgtsmin", "BIRD active, both with GTSM")):
        check(f"phase6: BIRD `{proto}` Established ({what})",
              wait_for(f"BIRD {proto}", lambda: bird.established(proto), 20),
              bird.cli("show", "protocols", "all", proto)[-400:])
    got = wait_for("FRR to hold BIRD's GTSM route", lambda: (lambda r: r if "10.80.5.0/24" in r else None)(frr.routes()), 20)
    check("phase6: a route over the GTSM session reaches FRR", got, got)
    for proto, what in (("pnogtsm", "Reflector requires GTSM, BIRD sends TTL 64"),
                        ("pgtsmonly", "BIRD requires GTSM, Reflector sends TTL 64 to that peer")):
        out = bird.cli("show", "protocols", "all", proto)
        # OpenConfirm is possible for `pgtsmonly`: BIRD sets its minimum TTL just after
        # connect(), and on loopback the handshake completes within connect(), so
        # Reflector's OPEN (TTL 64) can arrive before the check is on; its KEEPALIVE
        # (and anything later) is dropped, so BIRD never gets further.
        check(f"phase6: BIRD `{proto}` never Established ({what})",
              re.search(r"BGP state:\s+(Active|Connect|OpenSent|OpenConfirm)", out) and "Established" not in out,
              out[-300:])
    # (Only where Reflector requires GTSM: toward `pgtsmonly` Reflector does not
    # check TTLs, by configuration, so BIRD's race above can bring its side up.)
    for name in ("bird-nogtsm",):
        check(f"phase6: Reflector never established {name} (its segments dropped by the GTSM filter)",
              not logged(text(), name, "session established"), logged(text(), name, "session established"))

    # --- BMP with pmbmpd
    if pm is not None:
        bmp_checks(run, pmdir, refl)
    bird.proc.stop()
    if pm is not None:
        recs = wait_for("pmbmpd to log BIRD's Peer Down", lambda: (lambda r: r if any(
            x.get("bmp_msg_type") == "peer_down" and x.get("peer_ip") == "127.0.8.2" for x in r) else None)(
            bmp_records(pmdir)), 15) or []
        downs = [x for x in recs if x.get("bmp_msg_type") == "peer_down" and x.get("peer_ip") == "127.0.8.2"]
        check("phase6: pmbmpd got a Peer Down for BIRD when it stopped (remote NOTIFICATION, reason 3)",
              downs and str(downs[0].get("reason_type")) == "3", downs)
    rc = refl.stop(signal.SIGTERM, 10)
    check("phase6: Reflector exits 0 on SIGTERM", rc == 0, rc)
    frr.proc.stop()
    if pm is not None:
        pm.stop()


def bmp_records(pmdir):
    path = os.path.join(pmdir, "bmp.json")
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path, errors="replace"):
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def bmp_checks(run, pmdir, refl):
    check, wait_for = run.check, run.wait_for

    def have(pred):
        return lambda: (lambda r: r if any(pred(x) for x in r) else None)(bmp_records(pmdir))

    def typ(x):
        return str(x.get("bmp_msg_type", ""))

    recs = wait_for("pmbmpd to log an Initiation", have(lambda x: typ(x) == "init"), 20) or []
    check("phase6: pmbmpd got Reflector's BMP Initiation (sysName)",
          any(typ(x) == "init" and "reflector" in json.dumps(x).lower() for x in recs), recs[:3])
    recs = wait_for("pmbmpd to log Peer Ups", have(lambda x: typ(x) == "peer_up" and x.get("peer_ip") == "127.0.8.3"), 20) or []
    ups = sorted({x.get("peer_ip") for x in recs if typ(x) == "peer_up"})
    check("phase6: pmbmpd got a Peer Up for BIRD (127.0.8.2) and FRR (127.0.8.3)",
          "127.0.8.2" in ups and "127.0.8.3" in ups, ups)
    recs = wait_for("pmbmpd to log Route Monitoring", have(
        lambda x: typ(x) == "route_monitor" and x.get("ip_prefix") == "10.80.3.0/24"), 20) or []
    rm = [(x.get("peer_ip"), x.get("ip_prefix"), x.get("is_loc"), x.get("is_in")) for x in recs if typ(x) == "route_monitor"]
    adj_in = [(x.get("peer_ip"), x.get("ip_prefix")) for x in recs
              if typ(x) == "route_monitor" and x.get("is_in") == 1 and x.get("is_post") == 0]
    check("phase6: pmbmpd got FRR's and BIRD's prefixes as Route Monitoring (Adj-RIB-In pre-policy, from each peer)",
          ("127.0.8.3", "10.80.3.0/24") in adj_in and ("127.0.8.2", "10.80.2.0/24") in adj_in, rm[:10])
    adj_out = [(x.get("peer_ip"), x.get("ip_prefix")) for x in recs
               if typ(x) == "route_monitor" and x.get("is_out") == 1 and x.get("is_post") == 1]
    check("phase6: pmbmpd got the Adj-RIB-Out post-policy (RFC 8671): BIRD's prefix sent to FRR, FRR's to BIRD",
          ("127.0.8.3", "10.80.2.0/24") in adj_out and ("127.0.8.2", "10.80.3.0/24") in adj_out, adj_out[:10])
    loc = [x for x in recs if typ(x) == "route_monitor" and (x.get("is_loc") or x.get("peer_type") == 3
                                                            or str(x.get("peer_type")) == "3")]
    check("phase6: pmbmpd got Loc-RIB Route Monitoring (RFC 9069 peer type 3) with the reflected prefixes",
          {"10.80.2.0/24", "10.80.3.0/24"} <= {x.get("ip_prefix") for x in loc},
          [(x.get("peer_type"), x.get("ip_prefix")) for x in loc][:10])
    recs = wait_for("pmbmpd to log Statistics", have(lambda x: typ(x) == "stats"), 15) or []
    stats = [x for x in recs if typ(x) == "stats"]
    check("phase6: pmbmpd got Statistics Reports (interval 2 s)", stats, stats[:2])
