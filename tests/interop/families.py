"""Phase 7 of the interop suite: the families beyond unicast.

Reflector (127.0.9.1, cluster 10.9.0.1) reflects for five clients:

- GoBGP A (127.0.9.2, no RT-Constraint, so it sends the reflector every
  route) originates VPN-IPv4 routes with route targets 65000:100 and
  65000:200, a VPN-IPv6 route, EVPN type 2 and type 5 routes and an IPv4 flow
  specification rule;
- GoBGP B (127.0.9.3) has a VRF importing 65000:100 and GoBGP C (127.0.9.4)
  one importing 65000:200: both negotiate RT-Constraint (RFC 4684), so each
  must hold only the VPN routes its memberships ask for;
- FRR D (127.0.9.5) carries VPN-IPv4 and EVPN without RT-Constraint: it gets
  every VPN-IPv4 route and the EVPN routes;
- BIRD E (127.0.9.6) has vpn4, vpn6, flow4, flow6, ipv4 mpls (labeled
  unicast) and ipv4 multicast channels and originates vpn4 and vpn6 routes
  (RD 65000:300), flow4 and flow6 rules, a labeled route and a multicast route.
- Labeled unicast (RFC 8277) and multicast (SAFI 2): GoBGP A originates a
  labeled route with a stack of two labels, read back by GoBGP B, BIRD and FRR
  with both labels; BIRD's labeled route reaches GoBGP B; FRR and BIRD each
  originate a multicast route that the other reads from its multicast table
  (GoBGP's CLI has no multicast family).

- Routing policy on these families: A's flow rules get a community from its
  import policy; BIRD's export policy refuses VPN-IPv4 routes with route
  target 65000:200 and gives those under 10.70.0.0/16 LOCAL_PREF 250.

Each receiver reads the routes back from its own CLI with ORIGINATOR_ID = the
originator's router ID, CLUSTER_LIST = [10.9.0.1], and the RD, labels and
route targets as sent. Then A withdraws a VPN-IPv4 route and every receiver
loses it. GoBGP 3.10 crashes when it holds the default RT membership and is
sent another membership, so this phase runs with `rtc_default_to_clients =
false` (the default membership is covered by the engine tests), and GoBGP
applies RT-Constraint to every family, so the originating client A does not
negotiate it. BIRD announces its vpn4 route with the label it chooses when it
sets the next hop itself (`next hop address`; FRR refuses 127/8 next hops):
the check is that B and FRR read the same label for it, and the RT.
"""

import json
import os
import re
import time

import __main__ as R

REFL = "127.0.9.1"
PORT = 11870
CLUSTER = "10.9.0.1"


def gobgp_conf(rid, addr, rtc=True):
    fams = ("ipv4-unicast", "l3vpn-ipv4-unicast", "l3vpn-ipv6-unicast", "l2vpn-evpn",
            "ipv4-flowspec", "ipv6-flowspec", "ipv4-labelled-unicast") + (("rtc",) if rtc else ())
    afis = "".join(
        f'  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "{f}"\n'
        for f in fams)
    return f"""[global.config]
  as = {R.ASN}
  router-id = "{rid}"
  port = -1

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{REFL}"
    peer-as = {R.ASN}
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.transport.config]
    local-address = "{addr}"
    remote-port = {PORT}
{afis}"""


class Go:
    def __init__(self, d, name, rid, addr, api_port, rtc=True):
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "gobgpd.toml")
        open(self.conf, "w").write(gobgp_conf(rid, addr, rtc))
        self.api = ["-u", addr, "-p", str(api_port)]
        self.host = f"{addr}:{api_port}"
        self.name = name

    def start(self):
        self.proc = R.Proc(self.name, ["/usr/bin/gobgpd", "-f", self.conf, "-t", "toml", "-l", "info",
                                       "--pprof-disable", "--api-hosts", self.host],
                           os.path.join(self.dir, "gobgpd.out"))

    def cli(self, *a):
        return R.run(["/usr/bin/gobgp"] + self.api + list(a))

    def established(self):
        out = self.cli("neighbor")
        return "Establ" in out

    def line(self, fam, *needles):
        """The first line of the family's table holding every needle, or None."""
        for line in self.cli("global", "rib", "-a", fam).splitlines()[1:]:
            if all(n in line for n in needles):
                return line
        return None

    def rib(self, fam):
        """Routes of a family as {nlri text: rest of the line}, from the text table
        (columns are separated by at least two spaces)."""
        out = self.cli("global", "rib", "-a", fam)
        res = {}
        for line in out.splitlines()[1:]:
            m = re.match(r"^\*>?\s+(.+?)\s{2,}(.*)$", line)
            if m:
                res[m.group(1)] = m.group(2)
        return res


FRR_CONF = """frr defaults traditional
hostname frr-fam
log file {dir}/bgpd.log informational
router bgp 64512
 bgp router-id 10.9.0.5
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 127.0.9.1 remote-as 64512
 neighbor 127.0.9.1 port 11870
 neighbor 127.0.9.1 update-source 127.0.9.5
 neighbor 127.0.9.1 timers connect 1
 address-family ipv4 vpn
  neighbor 127.0.9.1 activate
 exit-address-family
 address-family l2vpn evpn
  neighbor 127.0.9.1 activate
 exit-address-family
 address-family ipv4 labeled-unicast
  neighbor 127.0.9.1 activate
 exit-address-family
 address-family ipv4 multicast
  network 10.84.0.0/24
  neighbor 127.0.9.1 activate
 exit-address-family
exit
"""

BIRD_CONF = """router id 10.9.0.6;
log "{dir}/bird.log" all;
protocol device {{ scan time 3600; }}
vpn4 table vpntab4;
vpn6 table vpntab6;
flow4 table flowtab4;
flow6 table flowtab6;
ipv4 table ltab4;
ipv4 table mtab4;
protocol static slab4 {{
  ipv4 {{ table ltab4; }};
  route 10.82.0.0/24 via "lo" mpls 400;
}}
protocol static smc4 {{
  ipv4 {{ table mtab4; }};
  route 10.83.0.0/24 via "lo";
}}
protocol static svpn4 {{
  vpn4 {{ table vpntab4; }};
  route 65000:300 10.80.1.0/24 via "lo" mpls 300 {{ bgp_ext_community.add((rt, 65000, 100)); }};
}}
protocol static svpn6 {{
  vpn6 {{ table vpntab6; }};
  route 65000:300 2001:db8:80::/48 via "lo" mpls 301 {{ bgp_ext_community.add((rt, 65000, 100)); }};
}}
protocol static sflow4 {{
  flow4 {{ table flowtab4; }};
  route flow4 {{ dst 10.81.0.0/24; proto = 6; dport = 443; }};
}}
protocol static sflow6 {{
  flow6 {{ table flowtab6; }};
  route flow6 {{ dst 2001:db8:81::/48; next header = 17; dport = 53; }};
}}
protocol bgp refl {{
  local 127.0.9.6 port 11876 as 64512;
  strict bind on;
  neighbor 127.0.9.1 port 11870 as 64512;
  connect retry time 1;
  vpn4 mpls {{ table vpntab4; import all; export where proto = "svpn4"; next hop address 192.0.2.6; }};
  vpn6 mpls {{ table vpntab6; import all; export where proto = "svpn6"; next hop address 2001:db8::6; }};
  flow4 {{ table flowtab4; import all; export where proto = "sflow4"; }};
  flow6 {{ table flowtab6; import all; export where proto = "sflow6"; }};
  ipv4 mpls {{ table ltab4; import all; export where proto = "slab4"; next hop address 192.0.2.6; }};
  ipv4 multicast {{ table mtab4; import all; export where proto = "smc4"; next hop address 192.0.2.6; }};
}}
"""


# Routing policy on the keyed families: A's flow rules are tagged on import
# (a route with no prefix); BIRD is not sent VPN routes with route target
# 65000:200, and A's VPN routes under 10.70/16 reach it with LOCAL_PREF 250.
POLICIES = """
[[policy]]
name = "tag-flow"
default = "accept"
[[policy.statement]]
match = { family = ["flow4", "flow6"] }
set = { community = { add = ["64512:77"] } }
then = "accept"

[[policy]]
name = "to-bird"
default = "accept"
[[policy.statement]]
match = { family = "vpnv4", ext_community = ["rt:65000:200"] }
then = "reject"
[[policy.statement]]
match = { family = ["vpnv4", "vpnv6"], prefix = ["10.70.0.0/16+"] }
set = { local_pref = 250 }
then = "accept"
"""


def phase7(args, d):
    R.log("=== phase 7: VPN-IPv4/IPv6, EVPN, flow specification and RT-Constraint with GoBGP, FRR and BIRD")
    fams = ["ipv4-unicast", "vpnv4", "vpnv6", "evpn", "flow4", "flow6", "ipv4-labeled-unicast", "rtc"]
    peers = [
        dict(name="gobgp-a", address="127.0.9.2", asn=R.ASN, role="client", passive=True,
             local_address=REFL, families=fams[:-1], import_="tag-flow"),
        dict(name="gobgp-b", address="127.0.9.3", asn=R.ASN, role="client", passive=True,
             local_address=REFL, families=fams),
        dict(name="gobgp-c", address="127.0.9.4", asn=R.ASN, role="client", passive=True,
             local_address=REFL, families=fams),
        dict(name="frr-d", address="127.0.9.5", asn=R.ASN, role="client", passive=True,
             local_address=REFL, families=["vpnv4", "evpn", "ipv4-labeled-unicast", "ipv4-multicast"]),
        dict(name="bird-e", address="127.0.9.6", asn=R.ASN, role="client", passive=True,
             local_address=REFL, families=["vpnv4", "vpnv6", "flow4", "flow6", "ipv4-labeled-unicast",
                                           "ipv4-multicast"], export="to-bird"),
    ]
    for p in peers:
        if "import_" in p:
            p["import"] = p.pop("import_")
    conf = R.reflector_conf("10.9.0.1", CLUSTER, f"{REFL}:{PORT}", peers, POLICIES)
    conf = conf.replace("connect_retry = 1\n", "connect_retry = 1\nrtc_default_to_clients = false\n"
                        "[metrics]\nlisten = \"127.0.9.1:11879\"\n", 1)
    refl = R.start_reflector(args, d, "reflector-families", conf)
    a = Go(d, "gobgp-a", "10.9.0.2", "127.0.9.2", 11872, rtc=False)
    b = Go(d, "gobgp-b", "10.9.0.3", "127.0.9.3", 11873)
    c = Go(d, "gobgp-c", "10.9.0.4", "127.0.9.4", 11874)
    for g in (a, b, c):
        g.start()
    frr = R.Frr(d, "frr-fam", FRR_CONF.format(dir=os.path.join(d, "frr-fam")), "127.0.9.5", 11875)
    frr.start()
    bird = R.Bird(d, "bird-fam", BIRD_CONF.format(dir=os.path.join(d, "bird-fam")))
    bird.start()
    for g in (a, b, c):
        R.check(f"phase7: {g.name} Established with every family",
                R.wait_for(g.name, g.established, 40))
    R.check("phase7: FRR (vpnv4, evpn) Established",
            R.wait_for("FRR", lambda: frr.established("127.0.9.1"), 40))
    R.check("phase7: BIRD (vpn4, vpn6, flow4) Established",
            R.wait_for("BIRD", lambda: bird.established("refl"), 40))
    # Memberships first: B imports 65000:100, C imports 65000:200.
    b.cli("vrf", "add", "red", "rd", "65000:301", "rt", "import", "65000:100", "export", "65000:301")
    c.cli("vrf", "add", "blue", "rd", "65000:302", "rt", "import", "65000:200", "export", "65000:302")
    time.sleep(2)
    a.cli("global", "rib", "-a", "vpnv4", "add", "10.70.1.0/24", "label", "100", "rd", "65000:100",
          "rt", "65000:100", "nexthop", "192.0.2.2")
    a.cli("global", "rib", "-a", "vpnv4", "add", "10.70.2.0/24", "label", "102", "rd", "65000:100",
          "rt", "65000:200", "nexthop", "192.0.2.2")
    a.cli("global", "rib", "-a", "vpnv6", "add", "2001:db8:70::/48", "label", "101", "rd", "65000:100",
          "rt", "65000:100", "nexthop", "2001:db8::2")
    a.cli("global", "rib", "-a", "evpn", "add", "macadv", "aa:bb:cc:dd:ee:01", "10.70.9.1", "etag", "0",
          "label", "200", "rd", "65000:10", "rt", "65000:100", "encap", "vxlan", "nexthop", "192.0.2.2")
    a.cli("global", "rib", "-a", "evpn", "add", "prefix", "10.71.0.0/24", "gw", "0.0.0.0", "etag", "0",
          "label", "300", "rd", "65000:10", "rt", "65000:100", "nexthop", "192.0.2.2")
    out = a.cli("global", "rib", "-a", "ipv4-flowspec", "add", "match", "destination", "10.72.0.0/24",
                "protocol", "tcp", "destination-port", "==80", "then", "discard")
    R.log(f"gobgp-a flow rule added: {out.strip()!r} {a.cli('global', 'rib', '-a', 'ipv4-flowspec').strip()!r}")
    out = a.cli("global", "rib", "-a", "ipv6-flowspec", "add", "match", "destination", "2001:db8:72::/48",
                "protocol", "udp", "then", "discard")
    R.log(f"gobgp-a IPv6 flow rule added: {out.strip()!r}")
    out = a.cli("global", "rib", "-a", "ipv4-mpls", "add", "10.73.0.0/24", "100/200", "nexthop", "192.0.2.2")
    R.log(f"gobgp-a labeled route added: {out.strip()!r} {a.cli('global', 'rib', '-a', 'ipv4-mpls').strip()!r}")

    refl_attrs = lambda s, orig: f"{{Originator: {orig}}}" in s and f"{{ClusterList: [{CLUSTER}]}}" in s
    v4b = R.wait_for("A's 65000:100 VPN-IPv4 route at B", lambda: b.line("vpnv4", "65000:100:10.70.1.0/24"), 20)
    R.check("phase7: GoBGP B holds A's VPN-IPv4 route (RD 65000:100, label 100, RT 65000:100) reflected",
            v4b and "[100]" in v4b and "192.0.2.2" in v4b and "65000:100" in v4b and refl_attrs(v4b, "10.9.0.2"), v4b)
    v4c = R.wait_for("A's 65000:200 VPN-IPv4 route at C", lambda: c.line("vpnv4", "65000:100:10.70.2.0/24"), 20)
    R.check("phase7: GoBGP C holds A's RT 65000:200 route (label 102)", v4c and "[102]" in v4c, v4c)
    time.sleep(1)
    R.check("phase7: RT-Constraint: B (imports 65000:100) does not get the 65000:200 route",
            v4c and b.line("vpnv4", "65000:100:10.70.2.0/24") is None, b.rib("vpnv4"))
    R.check("phase7: RT-Constraint: C (imports 65000:200) does not get the 65000:100 route",
            v4b and c.line("vpnv4", "65000:100:10.70.1.0/24") is None, c.rib("vpnv4"))
    v6 = R.wait_for("A's VPN-IPv6 route at B", lambda: b.line("vpnv6", "65000:100:2001:db8:70::/48"), 20)
    R.check("phase7: GoBGP B holds A's VPN-IPv6 route with its IPv6 next hop and label 101",
            v6 and "2001:db8::2" in v6 and "[101]" in v6 and refl_attrs(v6, "10.9.0.2"), v6)
    evpn = R.wait_for("A's EVPN routes at B", lambda: (lambda r: r if len(r) >= 2 else None)(b.rib("evpn")), 20) or {}
    mac = [k + v for k, v in evpn.items() if "macadv" in k and "aa:bb:cc:dd:ee:01" in k and "10.70.9.1" in k]
    pfx = [k + v for k, v in evpn.items() if "Prefix" in k and "10.71.0.0/24" in k]
    R.check("phase7: GoBGP B holds A's EVPN MAC/IP route (type 2, label 200, VXLAN) reflected",
            mac and "[200]" in mac[0] and refl_attrs(mac[0], "10.9.0.2"), evpn)
    R.check("phase7: GoBGP B holds A's EVPN IP prefix route (type 5, label 300) reflected",
            pfx and "[300]" in pfx[0] and refl_attrs(pfx[0], "10.9.0.2"), evpn)
    fs = R.wait_for("A's flow rule at B", lambda: (lambda r: r or None)(b.rib("ipv4-flowspec")), 20) or {}
    rule = [k + v for k, v in fs.items() if "10.72.0.0/24" in k]
    R.check("phase7: GoBGP B holds A's flow specification rule with its discard action, reflected",
            rule and "discard" in rule[0] and refl_attrs(rule[0], "10.9.0.2"), fs)
    R.check("phase7: policy: A's flow rule carries the community its import policy added (64512:77)",
            rule and "64512:77" in rule[0], rule)
    bird_fs = R.wait_for("BIRD's flow rule at B", lambda: [k for k in b.rib("ipv4-flowspec") if "10.81.0.0/24" in k], 20)
    R.check("phase7: BIRD's flow4 rule reaches GoBGP B", bird_fs, b.rib("ipv4-flowspec"))

    # FRR: every VPN-IPv4 route (no RT-Constraint), and the EVPN routes.
    def frr_vpn():
        out = frr.cli("show bgp ipv4 vpn json")
        if not out.strip().startswith("{"):
            return None
        rds = json.loads(out).get("routes", {}).get("routeDistinguishers", {})
        return rds if "65000:100" in rds and "65000:300" in rds else None
    rds = R.wait_for("VPN-IPv4 routes at FRR", frr_vpn, 20) or {}
    p1 = (rds.get("65000:100", {}).get("10.70.1.0/24") or [{}])[0]
    R.check("phase7: FRR holds A's VPN-IPv4 route under RD 65000:100 with ORIGINATOR_ID and CLUSTER_LIST",
            p1.get("originatorId") == "10.9.0.2" and CLUSTER in str(p1.get("clusterList", "")) or
            ("10.70.1.0/24" in rds.get("65000:100", {}) and "10.9.0.2" in frr.cli("show bgp ipv4 vpn 10.70.1.0/24")),
            frr.cli("show bgp ipv4 vpn 10.70.1.0/24"))
    detail = frr.cli("show bgp ipv4 vpn rd 65000:100 10.70.1.0/24")
    R.check("phase7: FRR reads label 100 and the reflector's attributes on it",
            re.search(r"[Rr]emote label:? 100\b|label 100\b", detail) and "Originator: 10.9.0.2" in detail
            and CLUSTER in detail, detail)
    R.check("phase7: FRR holds BIRD's vpn4 route (RD 65000:300)",
            "10.80.1.0/24" in rds.get("65000:300", {}), list(rds))
    evpn_frr = R.wait_for("EVPN routes at FRR", lambda: (lambda o: o if "10.71.0.0" in o and "aa:bb:cc:dd:ee:01" in o else None)(
        frr.cli("show bgp l2vpn evpn")), 20)
    R.check("phase7: FRR holds A's EVPN type 2 and type 5 routes", evpn_frr, frr.cli("show bgp l2vpn evpn"))

    # BIRD: A's VPN-IPv4 routes in its vpn4 table, with the reflector's attributes.
    bird_vpn = R.wait_for("A's VPN route at BIRD", lambda: (lambda o: o if "65000:100 10.70.1.0/24" in o else None)(
        bird.cli("show", "route", "table", "vpntab4", "all")), 20) or ""
    R.check("phase7: BIRD holds A's VPN-IPv4 route with label 100, ORIGINATOR_ID and CLUSTER_LIST",
            "65000:100 10.70.1.0/24" in bird_vpn and re.search(r"mpls[ _a-z:]*\b100\b", bird_vpn) and "BGP.originator_id: 10.9.0.2" in bird_vpn
            and "BGP.cluster_list: 10.9.0.1" in bird_vpn, bird_vpn[-1500:])
    R.check("phase7: policy: BIRD's export policy gives A's 10.70.1.0/24 VPN route LOCAL_PREF 250",
            re.search(r"BGP.local_pref: 250\b", bird_vpn.split("65000:100 10.70.1.0/24", 1)[-1].split("65000:", 1)[0]),
            bird_vpn[-1500:])
    R.check("phase7: policy: BIRD is not sent the route target 65000:200 route that FRR holds",
            "10.70.2.0/24" in rds.get("65000:100", {}) and "10.70.2.0/24" not in bird_vpn, (list(rds.get("65000:100", {})), bird_vpn[-800:]))
    bird_fs_in = bird.cli("show", "route", "table", "flowtab4", "all")
    R.check("phase7: BIRD holds A's flow specification rule",
            "10.72.0.0/24" in bird_fs_in and "BGP.originator_id: 10.9.0.2" in bird_fs_in, bird_fs_in[-800:])
    v4_bird_at_b = R.wait_for("BIRD's VPN route at B", lambda: b.line("vpnv4", "65000:300:10.80.1.0/24"), 20)
    lab = re.search(r"\[(\d+)\]", v4_bird_at_b or "")
    frr_lab = re.search(r"[Rr]emote label:? (\d+)", frr.cli("show bgp ipv4 vpn rd 65000:300 10.80.1.0/24"))
    R.check("phase7: BIRD's vpn4 route (RT 65000:100) reaches GoBGP B reflected, with the label FRR reads too",
            v4_bird_at_b and "65000:100" in v4_bird_at_b and refl_attrs(v4_bird_at_b, "10.9.0.6")
            and lab and frr_lab and lab.group(1) == frr_lab.group(1),
            (v4_bird_at_b, frr.cli("show bgp ipv4 vpn rd 65000:300 10.80.1.0/24")))

    # BIRD's vpn6 and flow6 routes reach GoBGP B; A's VPN-IPv6 route and IPv6 flow rule reach BIRD.
    v6b = R.wait_for("BIRD's VPN-IPv6 route at B", lambda: b.line("vpnv6", "65000:300:2001:db8:80::/48"), 20)
    R.check("phase7: BIRD's vpn6 route reaches GoBGP B reflected (RT 65000:100)",
            v6b and "65000:100" in v6b and refl_attrs(v6b, "10.9.0.6"), v6b)
    f6b = R.wait_for("BIRD's flow6 rule at B", lambda: b.line("ipv6-flowspec", "2001:db8:81::/48"), 20)
    R.check("phase7: BIRD's flow6 rule reaches GoBGP B reflected", f6b and refl_attrs(f6b, "10.9.0.6"), f6b)
    bird_vpn6 = R.wait_for("A's VPN-IPv6 route at BIRD", lambda: (lambda o: o if "65000:100 2001:db8:70::/48" in o else None)(
        bird.cli("show", "route", "table", "vpntab6", "all")), 20) or ""
    R.check("phase7: BIRD holds A's VPN-IPv6 route with ORIGINATOR_ID and CLUSTER_LIST",
            "BGP.originator_id: 10.9.0.2" in bird_vpn6 and "BGP.cluster_list: 10.9.0.1" in bird_vpn6, bird_vpn6[-1200:])
    bird_f6 = R.wait_for("A's IPv6 flow rule at BIRD", lambda: (lambda o: o if "2001:db8:72::/48" in o else None)(
        bird.cli("show", "route", "table", "flowtab6", "all")), 20) or ""
    R.check("phase7: BIRD holds A's IPv6 flow rule (RFC 8956) with ORIGINATOR_ID",
            "BGP.originator_id: 10.9.0.2" in bird_f6, bird_f6[-800:])

    # Labeled unicast: A's two-label route at B, BIRD and FRR; BIRD's at B.
    lb = R.wait_for("A's labeled route at B", lambda: b.line("ipv4-mpls", "10.73.0.0/24"), 20)
    R.check("phase7: GoBGP B holds A's labeled route with both labels (100, 200) and next hop, reflected",
            lb and re.search(r"\[100,\s*200\]", lb) and "192.0.2.2" in lb and refl_attrs(lb, "10.9.0.2"), lb)
    bird_lab = R.wait_for("A's labeled route at BIRD", lambda: (lambda o: o if "10.73.0.0/24" in o else None)(
        bird.cli("show", "route", "table", "ltab4", "all")), 20) or ""
    R.check("phase7: BIRD holds A's labeled route with the label stack 100/200, ORIGINATOR_ID and CLUSTER_LIST",
            re.search(r"mpls[ _a-z:]*\b100/200\b", bird_lab) and "BGP.originator_id: 10.9.0.2" in bird_lab
            and "BGP.cluster_list: 10.9.0.1" in bird_lab, bird_lab[-1500:])
    def frr_route(cmd, originator):
        """FRR's view of one route, once it names the originator."""
        o = frr.cli(cmd)
        return o if originator in o else None
    frr_l = R.wait_for("A's labeled route at FRR",
                       lambda: frr_route("show bgp ipv4 labeled-unicast 10.73.0.0/24", "10.9.0.2"), 20) or ""
    R.check("phase7: FRR holds A's labeled route (ipv4 labeled-unicast) with the reflector's attributes",
            "Originator: 10.9.0.2" in frr_l and CLUSTER in frr_l, frr_l or frr.cli("show bgp ipv4 labeled-unicast"))
    lbb = R.wait_for("BIRD's labeled route at B", lambda: b.line("ipv4-mpls", "10.82.0.0/24"), 20)
    R.check("phase7: BIRD's labeled route reaches GoBGP B reflected, with a label",
            lbb and re.search(r"\[\d+\]", lbb) and refl_attrs(lbb, "10.9.0.6"), lbb)
    # Multicast: FRR's route at BIRD, BIRD's at FRR.
    bird_mc = R.wait_for("FRR's multicast route at BIRD", lambda: (lambda o: o if "10.84.0.0/24" in o else None)(
        bird.cli("show", "route", "table", "mtab4", "all")), 20) or ""
    R.check("phase7: BIRD holds FRR's multicast route (SAFI 2) with ORIGINATOR_ID and CLUSTER_LIST",
            "BGP.originator_id: 10.9.0.5" in bird_mc and "BGP.cluster_list: 10.9.0.1" in bird_mc, bird_mc[-1200:])
    frr_m = R.wait_for("BIRD's multicast route at FRR",
                       lambda: frr_route("show bgp ipv4 multicast 10.83.0.0/24", "10.9.0.6"), 20) or ""
    R.check("phase7: FRR holds BIRD's multicast route with the reflector's attributes",
            "Originator: 10.9.0.6" in frr_m and CLUSTER in frr_m, frr_m or frr.cli("show bgp ipv4 multicast"))
    R.check("phase7: neither multicast route reaches GoBGP B's unicast table (B carries IPv4 unicast, not multicast)",
            b.line("ipv4", "10.83.0.0/24") is None and b.line("ipv4", "10.84.0.0/24") is None, b.rib("ipv4"))

    # The metrics count the families too.
    import urllib.request
    def scrape():
        try:
            return urllib.request.urlopen("http://127.0.9.1:11879/metrics", timeout=5).read().decode()
        except Exception:
            return ""
    text = scrape()
    rib_vpn = re.search(r'^reflector_rib_prefixes\{family="ipv4-vpn"\} (\d+)', text, re.M)
    acc_a = re.search(r'^reflector_peer_prefixes_accepted\{peer="gobgp-a",family="ipv4-vpn"\} (\d+)', text, re.M)
    acc_e = re.search(r'^reflector_peer_prefixes_accepted\{peer="bird-e",family="ipv4-flowspec"\} (\d+)', text, re.M)
    R.check("phase7: metrics: 3 VPN-IPv4 routes in the RIB, 2 accepted from A, BIRD's flow rule",
            rib_vpn and int(rib_vpn.group(1)) == 3 and acc_a and int(acc_a.group(1)) == 2
            and acc_e and int(acc_e.group(1)) == 1,
            "\n".join(l for l in text.splitlines() if "vpn" in l or "flowspec" in l)[:1500])

    # Withdrawal.
    a.cli("global", "rib", "-a", "vpnv4", "del", "10.70.1.0/24", "label", "100", "rd", "65000:100",
          "rt", "65000:100", "nexthop", "192.0.2.2")
    gone = R.wait_for("the withdrawal at B", lambda: b.line("vpnv4", "65000:100:10.70.1.0/24") is None, 20)
    R.check("phase7: A's VPN-IPv4 withdrawal reaches GoBGP B", gone, b.rib("vpnv4"))
    gone = R.wait_for("the withdrawal at FRR", lambda: "10.70.1.0/24" not in (frr_vpn() or {}).get("65000:100", {"10.70.1.0/24": 1}), 20)
    R.check("phase7: ... and FRR", gone, frr.cli("show bgp ipv4 vpn"))
    gone = R.wait_for("the withdrawal at BIRD", lambda: "65000:100 10.70.1.0/24" not in bird.cli("show", "route", "table", "vpntab4"), 20)
    R.check("phase7: ... and BIRD", gone, bird.cli("show", "route", "table", "vpntab4"))
    # A labeled withdrawal (RFC 8277 §2.4: one label field, whatever its value).
    a.cli("global", "rib", "-a", "ipv4-mpls", "del", "10.73.0.0/24", "100/200", "nexthop", "192.0.2.2")
    gone = R.wait_for("the labeled withdrawal at B", lambda: b.line("ipv4-mpls", "10.73.0.0/24") is None, 20)
    R.check("phase7: A's labeled withdrawal reaches GoBGP B", gone, b.rib("ipv4-mpls"))
    gone = R.wait_for("the labeled withdrawal at BIRD", lambda: "10.73.0.0/24" not in bird.cli("show", "route", "table", "ltab4"), 20)
    R.check("phase7: ... and BIRD", gone, bird.cli("show", "route", "table", "ltab4"))
    alive = all(g.proc.p.poll() is None for g in (a, b, c))
    R.check("phase7: every GoBGP daemon still running", alive)
    rc = refl.stop()
    R.check("phase7: Reflector exits 0 on SIGTERM", rc == 0, rc)
    for p in (a, b, c):
        p.proc.stop()
    frr.proc.stop()
    bird.proc.stop()
