#!/usr/bin/env python3
"""Replay an MRT BGP4MP / BGP4MP_ET update dump into its final RIB and write it as
TABLE_DUMP_V2 (RFC 6396), so rr-bench's `--mrt` (which reads RIB dumps only) can
inject the real table into every route reflector alike.

Usage: bgp4mp_to_rib.py IN.gz OUT.mrt

Only IPv4 unicast from MESSAGE_AS4 records (4-octet AS_PATH) is kept: for each
prefix the last announcement wins, a later withdrawal removes it. Prints the
record and prefix counts.
"""
import gzip
import struct
import sys


def main(src, dst):
    rib = {}
    recs = upd = 0
    f = gzip.open(src, "rb") if open(src, "rb").read(2) == b"\x1f\x8b" else open(src, "rb")
    while True:
        hdr = f.read(12)
        if len(hdr) < 12:
            break
        ts, typ, sub, ln = struct.unpack("!IHHI", hdr)
        body = f.read(ln)
        recs += 1
        if typ == 17:            # BGP4MP_ET: 4-byte microsecond field first
            body = body[4:]
        elif typ != 16:
            continue
        if sub != 4:             # MESSAGE_AS4 only
            continue
        afi = struct.unpack_from("!H", body, 10)[0]
        off = 12 + (8 if afi == 1 else 32)
        msg = body[off:]
        if len(msg) < 23 or msg[18] != 2:
            continue
        upd += 1
        wl = struct.unpack_from("!H", msg, 19)[0]
        i, end = 21, 21 + wl
        while i < end:
            n = (msg[i] + 7) // 8
            rib.pop(msg[i:i + 1 + n], None)
            i += 1 + n
        al = struct.unpack_from("!H", msg, end)[0]
        attrs = msg[end + 2:end + 2 + al]
        i = end + 2 + al
        while i < len(msg):
            n = (msg[i] + 7) // 8
            rib[msg[i:i + 1 + n]] = attrs
            i += 1 + n
    with open(dst, "wb") as out:
        def rec(sub, b):
            out.write(struct.pack("!IHHI", 0, 13, sub, len(b)) + b)
        nh = bytes([198, 51, 100, 1])
        rec(1, nh + struct.pack("!HH", 0, 1) + bytes([2]) + nh + nh + struct.pack("!I", 64512))
        for seq, (p, a) in enumerate(rib.items()):
            rec(2, struct.pack("!I", seq) + p + struct.pack("!HHIH", 1, 0, 0, len(a)) + a)
    print(f"{recs} records, {upd} IPv4 UPDATEs, {len(rib)} prefixes in the final RIB -> {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
