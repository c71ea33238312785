#!/usr/bin/env python3
"""rr-bench `--rr cmd` hook for the policy benchmark: turn the harness's JSON peer
list into a `reflector serve` TOML file with a 10-statement export policy on every
client and a prefix limit on every peer, then exec the daemon.

Usage: policy_hook.py CONFIG.json PIDFILE REFLECTOR [--plain]
(--plain writes the same TOML without policies or limits, for the baseline).
"""
import json
import os
import sys

POLICY = """
[sets]
prefix.martians = ["0.0.0.0/8+", "127.0.0.0/8+", "169.254.0.0/16+", "224.0.0.0/4+", "240.0.0.0/4+"]
prefix.too-specific = ["0.0.0.0/0{25,32}"]
community.blackhole = ["65535:666"]
large_community.drop = ["64512:666:*"]

[[policy]]
name = "to-clients"
default = "accept"

[[policy.statement]]
name = "martians"
match = { prefix = "martians" }
then = "reject"

[[policy.statement]]
name = "too-specific"
match = { prefix = "too-specific" }
then = "reject"

[[policy.statement]]
name = "blackhole"
match = { community = "blackhole" }
then = "reject"

[[policy.statement]]
name = "long-paths"
match = { as_path_length = "51..4294967295" }
then = "reject"

[[policy.statement]]
name = "via-64999"
match = { as_path_contains = [64999] }
then = "reject"

[[policy.statement]]
name = "doc-next-hops"
match = { next_hop = ["192.0.2.0/24"] }
then = "reject"

[[policy.statement]]
name = "large-drop"
match = { large_community = "drop" }
then = "reject"

[[policy.statement]]
name = "preferred"
match = { community = ["64512:100"] }
set = { local_pref = 200 }
then = "accept"

[[policy.statement]]
name = "near-origins"
match = { origin_as = ["65000..65010"] }
set = { med = 10 }
then = "next"

[[policy.statement]]
name = "tag"
set = { community = { add = ["64512:1"] } }
then = "accept"
"""


def main():
    cfg_path, pidfile, binary = sys.argv[1:4]
    plain = "--plain" in sys.argv[4:]
    c = json.load(open(cfg_path))
    out = [
        f'router_id = "{c["router_id"]}"',
        f'asn = {c["asn"]}',
        f'cluster_id = "{c.get("cluster_id", c["router_id"])}"',
        f'listen = ["{c.get("listen", "127.0.0.1")}:{c["port"]}"]',
        "hold_time = 240",
    ]
    if not plain:
        out.append(POLICY)
    for p in c["peers"]:
        out += [
            "",
            "[[peer]]",
            f'name = "{p["name"]}"',
            f'address = "{p["address"]}"',
            f'asn = {p["asn"]}',
            'role = "client"',
            "passive = true",
        ]
        if c.get("ipv6"):
            out.append('families = ["ipv4-unicast", "ipv6-unicast"]')
        if not plain:
            # Every peer is a client (the injector too): each gets the policy.
            out += ["max_prefixes_ipv4 = 2000000", "max_prefixes_ipv6 = 2000000",
                    'export = "to-clients"']
    toml = os.path.join(os.path.dirname(os.path.abspath(cfg_path)), "reflector.toml")
    with open(toml, "w") as f:
        f.write("\n".join(out) + "\n")
    os.execv(binary, [binary, "serve", "--config", toml, "--pid-file", pidfile, "--log", "warn"])


if __name__ == "__main__":
    main()
