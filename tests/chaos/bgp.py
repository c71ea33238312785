"""A small, fast BGP speaker for the chaos suite (IPv4 unicast checked, IPv6 carried).

`Speaker` runs in a child process of its own (multiprocessing, fork), so a test
can SIGKILL or SIGSTOP it like any BGP daemon. It connects from its own
loopback address to the reflector, sends OPEN (4-octet AS, IPv4 and IPv6
unicast, route refresh), KEEPALIVEs, then whatever UPDATEs it is given, and
keeps a table of the IPv4 unicast routes it receives: prefix -> attribute key
(a hash of ORIGIN, AS_PATH, NEXT_HOP, MED, COMMUNITIES, LARGE_COMMUNITIES),
the same key `attr_key` gives for the UPDATEs a feeder sends, so the harness
can compare exactly what a client holds with what it should hold.

The parent talks to it over a pipe: ("send", [bytes]), ("stats",), ("table",),
("close", "fin"|"rst"|"notify"), ("connect",), ("quit",). Every wait is bounded.

Also here: MRT (RFC 6396) BGP4MP readers that give the UPDATE messages of a
dump as raw bytes, per peer.
"""

import gzip
import multiprocessing as mp
import os
import select
import socket
import struct
import time

MARKER = b"\xff" * 16
KEY_TYPES = (1, 2, 3, 4, 8, 32)


def msg(t, body):
    return MARKER + struct.pack("!HB", 19 + len(body), t) + body


KEEPALIVE = msg(4, b"")
EOR_V4 = msg(2, b"\x00\x00\x00\x00")


def open_msg(asn, rid, hold=90, v6=True):
    caps = bytes([1, 4, 0, 1, 0, 1])                          # MP IPv4 unicast
    if v6:
        caps += bytes([1, 4, 0, 2, 0, 1])                     # MP IPv6 unicast
    caps += bytes([2, 0])                                     # route refresh
    caps += bytes([65, 4]) + struct.pack("!I", asn)           # 4-octet AS
    params = bytes([2, len(caps)]) + caps
    return msg(1, struct.pack("!BHH4sB", 4, asn if asn < 65536 else 23456, hold,
                              socket.inet_aton(rid), len(params)) + params)


def notification(code, sub, data=b""):
    return msg(3, bytes([code, sub]) + data)


def encode_prefix(addr_int, plen):
    n = (plen + 7) // 8
    return bytes([plen]) + addr_int.to_bytes(4, "big")[:n]


def pkey(addr_int, plen):
    return (addr_int << 6) | plen


def pkey_str(k):
    return "%s/%d" % (socket.inet_ntoa(((k >> 6) & 0xffffffff).to_bytes(4, "big")), k & 63)


def parse_nlri(b, out=None):
    """IPv4 prefixes of an NLRI / withdrawn field, as pkeys."""
    out = [] if out is None else out
    i, n = 0, len(b)
    while i < n:
        plen = b[i]
        nb = (plen + 7) >> 3
        a = int.from_bytes(b[i + 1:i + 1 + nb] + b"\x00" * (4 - nb), "big")
        out.append((a << 6) | plen)
        i += 1 + nb
    return out


def split_attrs(attrs):
    """{type: value bytes} of a path attribute field."""
    res = {}
    i, n = 0, len(attrs)
    while i + 3 <= n:
        fl, t = attrs[i], attrs[i + 1]
        if fl & 0x10:
            ln = struct.unpack_from("!H", attrs, i + 2)[0]
            h = 4
        else:
            ln = attrs[i + 2]
            h = 3
        res[t] = attrs[i + h:i + h + ln]
        i += h + ln
    return res


def attr_key(attrs_bytes):
    a = split_attrs(attrs_bytes)
    return hash(tuple(a.get(t) for t in KEY_TYPES))


def parse_update(body):
    """(withdrawn pkeys, attribute bytes, announced pkeys) of an UPDATE body (after the header)."""
    wl = struct.unpack_from("!H", body, 0)[0]
    wd = body[2:2 + wl]
    al = struct.unpack_from("!H", body, 2 + wl)[0]
    attrs = body[4 + wl:4 + wl + al]
    nlri = body[4 + wl + al:]
    return parse_nlri(wd), attrs, parse_nlri(nlri)


def apply_update(table, body):
    wd, attrs, nl = parse_update(body)
    for k in wd:
        table.pop(k, None)
    if nl:
        key = attr_key(attrs)
        for k in nl:
            table[k] = key
    return len(wd), len(nl)


def replace_next_hop(body, nh):
    """An UPDATE body with its NEXT_HOP attribute's address replaced by nh (4 bytes)."""
    wl = struct.unpack_from("!H", body, 0)[0]
    al = struct.unpack_from("!H", body, 2 + wl)[0]
    start = 4 + wl
    attrs = bytearray(body[start:start + al])
    i = 0
    while i + 3 <= len(attrs):
        fl, t = attrs[i], attrs[i + 1]
        h, ln = (4, struct.unpack_from("!H", attrs, i + 2)[0]) if fl & 0x10 else (3, attrs[i + 2])
        if t == 3 and ln == 4:
            attrs[i + h:i + h + 4] = nh
            break
        i += h + ln
    return body[:start] + bytes(attrs) + body[start + al:]


# ---------------------------------------------------------------------------
# MRT
# ---------------------------------------------------------------------------

def mrt_updates(path, limit_prefixes=None):
    """[(peer ip string, UPDATE body)] of a BGP4MP/BGP4MP_ET dump's 4-octet-AS UPDATEs, in order.

    limit_prefixes: stop once this many distinct IPv4 prefixes have been announced."""
    op = gzip.open if path.endswith(".gz") else open
    data = op(path, "rb").read()
    out = []
    seen = set()
    i, n = 0, len(data)
    while i + 12 <= n:
        ts, typ, sub, ln = struct.unpack_from("!IHHI", data, i)
        rec = data[i + 12:i + 12 + ln]
        i += 12 + ln
        if typ == 17:
            rec = rec[4:]
        elif typ != 16:
            continue
        if sub != 4:           # BGP4MP_MESSAGE_AS4 only
            continue
        afi = struct.unpack_from("!H", rec, 10)[0]
        alen = 4 if afi == 1 else 16
        peer = socket.inet_ntop(socket.AF_INET if afi == 1 else socket.AF_INET6, rec[12:12 + alen])
        m = rec[12 + 2 * alen:]
        if len(m) < 19 or m[18] != 2:
            continue
        body = m[19:]
        out.append((peer, body))
        if limit_prefixes:
            _, _, nl = parse_update(body)
            seen.update(nl)
            if len(seen) >= limit_prefixes:
                break
    return out


def batch(bodies, max_len=4096):
    """UPDATE messages for these bodies, joined into send buffers of about 64 KiB."""
    bufs, cur, size = [], [], 0
    for b in bodies:
        if 19 + len(b) > max_len:
            continue
        m = msg(2, b)
        cur.append(m)
        size += len(m)
        if size >= 65536:
            bufs.append(b"".join(cur))
            cur, size = [], 0
    if cur:
        bufs.append(b"".join(cur))
    return bufs


# ---------------------------------------------------------------------------
# The speaker process
# ---------------------------------------------------------------------------

class _State:
    def __init__(self, cfg):
        self.cfg = cfg
        self.sock = None
        self.inbuf = bytearray()
        self.out = []          # pending buffers
        self.outoff = 0
        self.established = False
        self.table = {}
        self.v6 = 0
        self.updates = 0
        self.eor = 0
        self.sessions = 0
        self.drops = 0
        self.notif_rx = []
        self.last_rx = 0.0
        self.first_update = 0.0
        self.sent_updates = 0
        self.sent_bytes = 0
        self.last_ka = 0.0
        self.error = ""

    def stats(self):
        return dict(established=self.established, prefixes=len(self.table), v6_reach=self.v6,
                    updates=self.updates, eor=self.eor, sessions=self.sessions, drops=self.drops,
                    notifications=list(self.notif_rx), last_rx=self.last_rx, first_update=self.first_update,
                    pending_out=sum(len(b) for b in self.out) - self.outoff, error=self.error,
                    sent_updates=self.sent_updates)


def _connect(st):
    c = st.cfg
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((c["local"], 0))
    s.settimeout(5)
    s.connect((c["remote"], c["port"]))
    s.setblocking(False)
    st.sock = s
    st.inbuf = bytearray()
    st.out = [open_msg(c["asn"], c["rid"], c.get("hold", 90))]
    st.outoff = 0
    st.established = False
    st.table = {}
    st.sessions += 1


def _close(st, how="fin"):
    s = st.sock
    if s is None:
        return
    try:
        if how == "notify":
            s.setblocking(True)
            s.settimeout(1)
            s.sendall(notification(6, 4))
        if how == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass
    st.sock = None
    st.established = False


def _handle(st, t, body):
    if t == 1:
        st.out.append(KEEPALIVE)
    elif t == 4:
        if not st.established:
            st.established = True
            st.out.extend(st.cfg.get("on_established", []))
    elif t == 2:
        st.updates += 1
        if not st.first_update:
            st.first_update = time.time()
        if len(body) == 4:
            st.eor += 1
            return
        wd, nl = apply_update(st.table, body) if st.cfg.get("keep_table", True) else (0, 0)
        if st.cfg.get("die_at") and len(st.table) >= st.cfg["die_at"]:
            os.kill(os.getpid(), 9)   # SIGKILL mid-table, at a known point
        if not wd and not nl and b"\x0e" in body[:64]:
            st.v6 += 1
    elif t == 3:
        st.notif_rx.append((body[0], body[1]) if len(body) >= 2 else (0, 0))


def _pump(st, r, w, now):
    if st.sock is not None and st.sock in w:
        try:
            while st.out:
                b = st.out[0]
                n = st.sock.send(memoryview(b)[st.outoff:])
                st.outoff += n
                st.sent_bytes += n
                if st.cfg.get("die_after_bytes") and st.sent_bytes >= st.cfg["die_after_bytes"]:
                    os.kill(os.getpid(), 9)   # SIGKILL mid-send, at a known point
                if st.outoff >= len(b):
                    st.out.pop(0)
                    st.outoff = 0
                else:
                    break
        except BlockingIOError:
            pass
        except OSError as e:
            st.error = repr(e)
            _close(st)
            st.drops += 1
            st.out = []
    if st.sock is not None and st.sock in r:
        try:
            d = st.sock.recv(1 << 20)
        except BlockingIOError:
            d = None
        except OSError as e:
            st.error = repr(e)
            d = b""
        if d == b"":
            _close(st)
            st.drops += 1
            st.out = []
        elif d:
            st.last_rx = now
            buf = st.inbuf
            buf += d
            i = 0
            n = len(buf)
            while n - i >= 19:
                ln = (buf[i + 16] << 8) | buf[i + 17]
                if n - i < ln:
                    break
                _handle(st, buf[i + 18], bytes(buf[i + 19:i + ln]))
                i += ln
            del buf[:i]


def _do(st, cmd):
    op = cmd[0]
    if op == "send":
        st.out.extend(cmd[1])
        st.sent_updates += sum(b.count(MARKER) for b in cmd[1])
        return True
    if op == "stats":
        return st.stats()
    if op == "table":
        return dict(st.table)
    if op == "digest":
        return (len(st.table), hash(frozenset(st.table.items())))
    if op == "close":
        _close(st, cmd[1])
        st.out = []
        return True
    if op == "connect":
        try:
            _connect(st)
            return True
        except OSError as e:
            st.error = repr(e)
            return False
    raise ValueError(op)


def group_main(conn, cfgs):
    """Many sessions in one process: cfgs is a list of speaker configs."""
    sts = [_State(c) for c in cfgs]
    for st in sts:
        if st.cfg.get("connect", True):
            try:
                _connect(st)
            except OSError as e:
                st.error = repr(e)
    while True:
        rl = [conn]
        wl = []
        for st in sts:
            if st.sock is not None:
                rl.append(st.sock)
                if st.out:
                    wl.append(st.sock)
        try:
            r, w, _ = select.select(rl, wl, [], 0.5)
        except InterruptedError:
            continue
        now = time.time()
        for st in sts:
            if st.sock is not None and st.established and now - st.last_ka > st.cfg.get("hold", 90) / 3.0:
                st.out.append(KEEPALIVE)
                st.last_ka = now
        if conn in r:
            cmd = conn.recv()
            if cmd[0] == "quit":
                for st in sts:
                    _close(st)
                conn.send(True)
                return
            idx, cmd = cmd[0], cmd[1:]
            if idx is None:
                conn.send([_do(st, cmd) for st in sts])
            else:
                conn.send(_do(sts[idx], cmd))
        rs, ws = set(r), set(w)
        for st in sts:
            if st.sock is not None and (st.sock in rs or st.sock in ws):
                _pump(st, rs, ws, now)


def _cfg(local, remote, port, rid, asn=64512, hold=90, on_established=(), connect=True, keep_table=True, **kw):
    return dict(local=local, remote=remote, port=port, rid=rid, asn=asn, hold=hold,
                on_established=list(on_established), connect=connect, keep_table=keep_table, **kw)


class Group:
    """Sessions in a child process of their own (one for a Speaker)."""

    def __init__(self, name, cfgs):
        self.name = name
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=group_main, args=(child, cfgs), name=name, daemon=True)
        self.proc.start()
        self.pid = self.proc.pid

    def call(self, idx, *cmd, timeout=60):
        self.conn.send((idx,) + cmd)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.name}: no answer to {cmd[0]} in {timeout}s")
        return self.conn.recv()

    def alive(self):
        return self.proc.is_alive()

    def stop(self):
        if self.proc.is_alive():
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.join(5)


class Speaker(Group):
    """One BGP session in a child process of its own (see the module doc)."""

    def __init__(self, name, local, remote, port, rid, **kw):
        super().__init__(name, [_cfg(local, remote, port, rid, **kw)])

    def stats(self):
        return self.call(0, "stats")

    def table(self):
        return self.call(0, "table", timeout=120)

    def send(self, bufs):
        return self.call(0, "send", list(bufs))

    def close(self, how="fin"):
        return self.call(0, "close", how)

    def connect(self):
        return self.call(0, "connect")
