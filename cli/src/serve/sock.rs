//! Session security on the daemon's sockets: TCP-MD5 (RFC 2385), GTSM
//! (RFC 5082), and connections from addresses that are not configured peers.
//!
//! - **TCP-MD5**: a peer with a `password` gets a `TCP_MD5SIG` key for its
//!   address on every listening socket of its address family (so the kernel
//!   answers its SYNs, signed, and drops unsigned or wrongly signed
//!   segments from it), and on each outgoing socket before `connect`.
//!   Linux only; elsewhere a configured password is an error at start.
//! - **GTSM**: a peer with `ttl_security = true` (or `gtsm_hops = N`) is
//!   sent to with TTL (hop limit) 255, and segments from it with a TTL
//!   below 256 − N are dropped by the kernel (`IP_MINTTL` /
//!   `IPV6_MINHOPCOUNT`): on outgoing sockets before `connect`, on accepted
//!   ones right after `accept`. A listening socket that serves any GTSM peer
//!   sends with TTL 255 (its SYN-ACKs must reach a peer that checks).
//! - **Unknown addresses**: a connection from an address that is not a
//!   configured peer is closed at once, counted ([`unknown_connections`]),
//!   and logged at most once per source per [`UNKNOWN_LOG_INTERVAL`], each
//!   line with the connections from that source not logged since.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::config::PeerSpec;

/// Each source of unknown connections is logged at most once per this interval.
pub const UNKNOWN_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Sources remembered for rate limiting, at most; past it, the table is cleared.
const UNKNOWN_SOURCES: usize = 4096;

/// Connections from unknown addresses since the daemon started.
static UNKNOWN_TOTAL: AtomicU64 = AtomicU64::new(0);
/// Per source: when it was last logged and how many were not logged since.
static UNKNOWN_LOG: Mutex<Option<RateLimit>> = Mutex::new(None);

/// Connections accepted from addresses that are not configured peers (and
/// closed at once) since the daemon started: the counter for metrics.
pub fn unknown_connections() -> u64 {
    UNKNOWN_TOTAL.load(Ordering::Relaxed)
}

/// A connection from `remote`, which is not a configured peer: count it and
/// log it, rate limited. The caller closes it.
pub fn unknown_connection(remote: SocketAddr) {
    let total = UNKNOWN_TOTAL.fetch_add(1, Ordering::Relaxed) + 1;
    let mut g = UNKNOWN_LOG.lock().unwrap_or_else(|e| e.into_inner());
    let rl = g.get_or_insert_with(|| RateLimit::new(UNKNOWN_LOG_INTERVAL, UNKNOWN_SOURCES));
    if let Some(suppressed) = rl.hit(remote.ip(), Instant::now()) {
        tracing::warn!(
            remote = %remote,
            not_logged_since = suppressed,
            unknown_connections = total,
            "connection from an address that is not a configured peer: closed"
        );
    }
}

/// At most one log line per key per interval, counting the ones left out.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    max_keys: usize,
    /// Per key: when it was last logged, and hits since then not logged.
    keys: HashMap<IpAddr, (Instant, u64)>,
}

impl RateLimit {
    /// A limiter allowing one line per key per `interval`, remembering `max_keys` keys.
    pub fn new(interval: Duration, max_keys: usize) -> Self {
        RateLimit {
            interval,
            max_keys: max_keys.max(1),
            keys: HashMap::new(),
        }
    }

    /// A hit from `key` at `now`: `Some(n)` to log it (`n` hits were left out
    /// since its last line), `None` to leave it out.
    pub fn hit(&mut self, key: IpAddr, now: Instant) -> Option<u64> {
        if let Some((last, skipped)) = self.keys.get_mut(&key) {
            if now.duration_since(*last) < self.interval {
                *skipped += 1;
                return None;
            }
            let n = *skipped;
            *last = now;
            *skipped = 0;
            return Some(n);
        }
        if self.keys.len() >= self.max_keys {
            // Forget the sources quiet for a whole interval; if none is, all of them.
            let interval = self.interval;
            self.keys
                .retain(|_, (t, _)| now.duration_since(*t) < interval);
            if self.keys.len() >= self.max_keys {
                self.keys.clear();
            }
        }
        self.keys.insert(key, (now, 0));
        Some(0)
    }
}

/// The received TTL (hop limit) GTSM requires of a peer `hops` away: 256 − hops.
pub fn gtsm_min_ttl(hops: u8) -> u8 {
    u8::try_from(256 - u16::from(hops.max(1))).unwrap_or(255)
}

#[cfg(target_os = "linux")]
mod linux {
    use std::net::{IpAddr, SocketAddr};
    use std::os::fd::{AsRawFd, RawFd};

    /// `struct tcp_md5sig` of linux/tcp.h.
    #[repr(C)]
    struct TcpMd5Sig {
        addr: libc::sockaddr_storage,
        flags: u8,
        prefixlen: u8,
        keylen: u16,
        ifindex: libc::c_int,
        key: [u8; 80],
    }

    fn setsockopt<T>(
        fd: RawFd,
        level: libc::c_int,
        name: libc::c_int,
        v: &T,
    ) -> std::io::Result<()> {
        let len = libc::socklen_t::try_from(std::mem::size_of::<T>()).unwrap_or(0);
        // SAFETY: `v` points to a live value of `len` bytes for the duration of the call.
        let r = unsafe { libc::setsockopt(fd, level, name, (v as *const T).cast(), len) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    fn family(fd: RawFd) -> std::io::Result<libc::c_int> {
        let mut v: libc::c_int = 0;
        let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4);
        // SAFETY: `v` and `len` are live and sized for SO_DOMAIN's int.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_DOMAIN,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if r == 0 {
            Ok(v)
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Set (`Some`) or delete (`None`) the TCP-MD5 key for `peer` on the socket.
    pub fn md5(fd: &impl AsRawFd, peer: IpAddr, key: Option<&[u8]>) -> std::io::Result<()> {
        let fd = fd.as_raw_fd();
        // SAFETY: all-zero is a valid sockaddr_storage and key array.
        let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
        let v6 = family(fd)? == libc::AF_INET6;
        match (peer, v6) {
            (IpAddr::V4(a), false) => {
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
                let sin = unsafe {
                    &mut *(&mut sig.addr as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
                };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
            }
            (a, _) => {
                let a6 = match a {
                    IpAddr::V4(a) => a.to_ipv6_mapped(),
                    IpAddr::V6(a) => a,
                };
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
                let sin6 = unsafe {
                    &mut *(&mut sig.addr as *mut libc::sockaddr_storage)
                        .cast::<libc::sockaddr_in6>()
                };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_addr.s6_addr = a6.octets();
            }
        }
        if let Some(k) = key {
            let n = k.len().min(sig.key.len());
            sig.keylen = u16::try_from(n).unwrap_or(0);
            if let (Some(dst), Some(src)) = (sig.key.get_mut(..n), k.get(..n)) {
                dst.copy_from_slice(src);
            }
        }
        setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
    }

    /// Send with this TTL / hop limit (`-1`: the system default).
    pub fn ttl(fd: &impl AsRawFd, v6: bool, ttl: libc::c_int) -> std::io::Result<()> {
        let fd = fd.as_raw_fd();
        if v6 {
            setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &ttl)?;
            // A v6 socket may carry IPv4 (mapped) traffic too.
            let _ = setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &ttl);
            Ok(())
        } else {
            setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &ttl)
        }
    }

    /// Drop received segments with a TTL / hop limit below `min`.
    pub fn min_ttl(fd: &impl AsRawFd, v6: bool, min: libc::c_int) -> std::io::Result<()> {
        let fd = fd.as_raw_fd();
        if v6 {
            setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &min)?;
            let _ = setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &min);
            Ok(())
        } else {
            setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &min)
        }
    }

    /// Attach a classic BPF program to the socket (replacing any other).
    pub fn attach_filter(fd: &impl AsRawFd, prog: &[super::Insn]) -> std::io::Result<()> {
        let mut code: Vec<libc::sock_filter> = prog
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        let fprog = libc::sock_fprog {
            len: u16::try_from(code.len()).map_err(|_| std::io::Error::other("filter too long"))?,
            filter: code.as_mut_ptr(),
        };
        setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &fprog,
        )
    }

    /// Whether the socket is IPv6.
    pub fn is_v6(fd: &impl AsRawFd) -> bool {
        family(fd.as_raw_fd()).is_ok_and(|f| f == libc::AF_INET6)
    }

    /// The peer's address as the socket's family sees it.
    pub fn matches(listen: SocketAddr, peer: IpAddr) -> bool {
        // An IPv6 listener bound to the unspecified address also takes IPv4 (mapped).
        listen.is_ipv4() == peer.is_ipv4() || (listen.is_ipv6() && listen.ip().is_unspecified())
    }
}

#[cfg(not(target_os = "linux"))]
mod linux {
    use std::net::{IpAddr, SocketAddr};

    fn unsupported() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "TCP-MD5 and GTSM are implemented on Linux only",
        )
    }
    pub fn md5<T>(_: &T, _: IpAddr, _: Option<&[u8]>) -> std::io::Result<()> {
        Err(unsupported())
    }
    pub fn ttl<T>(_: &T, _: bool, _: i32) -> std::io::Result<()> {
        Err(unsupported())
    }
    pub fn min_ttl<T>(_: &T, _: bool, _: i32) -> std::io::Result<()> {
        Err(unsupported())
    }
    pub fn is_v6<T>(_: &T) -> bool {
        false
    }
    pub fn attach_filter<T>(_: &T, _: &[super::Insn]) -> std::io::Result<()> {
        Err(unsupported())
    }
    pub fn matches(listen: SocketAddr, peer: IpAddr) -> bool {
        listen.is_ipv4() == peer.is_ipv4()
    }
}

#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd as SockFd;
/// Anything: the stubs refuse every option.
#[cfg(not(target_os = "linux"))]
pub trait SockFd {}
#[cfg(not(target_os = "linux"))]
impl<T> SockFd for T {}

fn annotate(what: &str, peer: &PeerSpec, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("{what} for peer {} ({}): {e}", peer.name, peer.address),
    )
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

/// Offset of the network header for BPF loads on a socket (SKF_NET_OFF).
const NET: u32 = (-0x10_0000i32) as u32;
const LD_W_ABS: u16 = 0x20;
const LD_B_ABS: u16 = 0x30;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;
const JA: u16 = 0x05;
/// Longest program the kernel takes (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// The GTSM filter of a listening socket: a segment from one of `peers`
/// (address, minimum TTL) with a lower TTL (hop limit) is dropped, anything
/// else passes. A listener serves GTSM and other peers at once, and the
/// filter acts from the first SYN on (its accepted sockets inherit it), so
/// nothing from a GTSM peer with a low TTL is queued before `accept`.
pub fn gtsm_program(peers: &[(IpAddr, u8)]) -> Option<Vec<Insn>> {
    let mut v4 = Vec::new();
    for (a, min) in peers.iter().filter(|(a, _)| a.to_canonical().is_ipv4()) {
        if let IpAddr::V4(a) = a.to_canonical() {
            // src == a ? (ttl >= min ? accept : drop) : next peer
            v4.extend([
                insn(LD_W_ABS, 0, 0, NET + 12),
                insn(JEQ_K, 0, 4, a.to_bits()),
                insn(LD_B_ABS, 0, 0, NET + 8),
                insn(JGE_K, 0, 1, u32::from(*min)),
                insn(RET_K, 0, 0, u32::MAX),
                insn(RET_K, 0, 0, 0),
            ]);
        }
    }
    v4.push(insn(RET_K, 0, 0, u32::MAX));
    let mut v6 = Vec::new();
    for (a, min) in peers {
        let IpAddr::V6(a) = a else { continue };
        if a.to_ipv4_mapped().is_some() {
            continue;
        }
        let o = a.octets();
        let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
        v6.extend([
            insn(LD_W_ABS, 0, 0, NET + 8),
            insn(JEQ_K, 0, 10, w(0)),
            insn(LD_W_ABS, 0, 0, NET + 12),
            insn(JEQ_K, 0, 8, w(4)),
            insn(LD_W_ABS, 0, 0, NET + 16),
            insn(JEQ_K, 0, 6, w(8)),
            insn(LD_W_ABS, 0, 0, NET + 20),
            insn(JEQ_K, 0, 4, w(12)),
            insn(LD_B_ABS, 0, 0, NET + 7),
            insn(JGE_K, 0, 1, u32::from(*min)),
            insn(RET_K, 0, 0, u32::MAX),
            insn(RET_K, 0, 0, 0),
        ]);
    }
    v6.push(insn(RET_K, 0, 0, u32::MAX));
    if v4.len() == 1 && v6.len() == 1 {
        return None;
    }
    // IP version: 4 runs the IPv4 part, anything else jumps (32-bit offset) to the IPv6 part.
    let skip = u32::try_from(v4.len()).ok()?;
    let mut p = vec![
        insn(LD_B_ABS, 0, 0, NET),
        insn(AND_K, 0, 0, 0xf0),
        insn(JEQ_K, 1, 0, 0x40),
        insn(JA, 0, 0, skip),
    ];
    p.extend(v4);
    p.extend(v6);
    (p.len() <= MAX_INSNS).then_some(p)
}

/// Prepare a listening socket bound to `addr` (before `listen`): a TCP-MD5
/// key for every peer with a password; with GTSM peers, TTL 255 (for the
/// SYN-ACKs) and the filter of [`gtsm_program`].
pub fn listener<S: SockFd>(sock: &S, addr: SocketAddr, peers: &[PeerSpec]) -> std::io::Result<()> {
    let mine = || peers.iter().filter(|p| linux::matches(addr, p.address));
    for p in mine() {
        if let Some(pw) = &p.security.password {
            linux::md5(sock, p.address, Some(pw.0.as_bytes()))
                .map_err(|e| annotate("TCP-MD5 key", p, e))?;
        }
    }
    let gtsm: Vec<(IpAddr, u8)> = mine()
        .filter_map(|p| Some((p.address, gtsm_min_ttl(p.security.gtsm_hops?))))
        .collect();
    if !gtsm.is_empty() {
        linux::ttl(sock, linux::is_v6(sock), 255)?;
        let prog = gtsm_program(&gtsm).ok_or_else(|| {
            std::io::Error::other("too many GTSM peers for one listening socket's filter")
        })?;
        linux::attach_filter(sock, &prog)?;
    }
    Ok(())
}

/// A reload changed the peers: set, change and delete the listener's TCP-MD5 keys.
pub fn rekey_listener<S: SockFd>(
    sock: &S,
    addr: SocketAddr,
    old: &[PeerSpec],
    new: &[PeerSpec],
) -> std::io::Result<()> {
    for o in old.iter().filter(|p| linux::matches(addr, p.address)) {
        let kept = new
            .iter()
            .any(|n| n.address == o.address && n.security.password.is_some());
        if o.security.password.is_some() && !kept {
            linux::md5(sock, o.address, None)
                .map_err(|e| annotate("deleting TCP-MD5 key", o, e))?;
        }
    }
    let gtsm = |ps: &[PeerSpec]| {
        ps.iter()
            .any(|p| linux::matches(addr, p.address) && p.security.gtsm_hops.is_some())
    };
    if gtsm(old) && !gtsm(new) {
        // The last GTSM peer is gone: a filter that passes everything.
        linux::attach_filter(sock, &[insn(RET_K, 0, 0, u32::MAX)])?;
    }
    listener(sock, addr, new)
}

/// Secure an accepted connection from `peer`: GTSM (TTL 255 out, minimum TTL
/// in) when it has it, else the default TTL. Its TCP-MD5 key came from the listener.
pub fn accepted<S: SockFd>(sock: &S, peer: &PeerSpec) -> std::io::Result<()> {
    let v6 = linux::is_v6(sock);
    match peer.security.gtsm_hops {
        Some(h) => {
            linux::ttl(sock, v6, 255).map_err(|e| annotate("GTSM TTL", peer, e))?;
            linux::min_ttl(sock, v6, libc_int(gtsm_min_ttl(h)))
                .map_err(|e| annotate("GTSM minimum TTL", peer, e))
        }
        // The listener may send with TTL 255 for another peer: back to the default.
        None => {
            let _ = linux::ttl(sock, v6, -1);
            Ok(())
        }
    }
}

fn libc_int(v: u8) -> i32 {
    i32::from(v)
}

/// Secure an outgoing socket to `peer` before `connect`: its TCP-MD5 key and GTSM.
pub fn outgoing<S: SockFd>(sock: &S, peer: &PeerSpec) -> std::io::Result<()> {
    if let Some(pw) = &peer.security.password {
        linux::md5(sock, peer.address, Some(pw.0.as_bytes()))
            .map_err(|e| annotate("TCP-MD5 key", peer, e))?;
    }
    if let Some(h) = peer.security.gtsm_hops {
        let v6 = linux::is_v6(sock);
        linux::ttl(sock, v6, 255).map_err(|e| annotate("GTSM TTL", peer, e))?;
        linux::min_ttl(sock, v6, libc_int(gtsm_min_ttl(h)))
            .map_err(|e| annotate("GTSM minimum TTL", peer, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn rate_limit_logs_once_per_interval_and_counts_the_rest() {
        let mut rl = RateLimit::new(Duration::from_secs(10), 8);
        let t0 = Instant::now();
        let a = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
        let b = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10));
        assert_eq!(rl.hit(a, t0), Some(0));
        for i in 1..=5 {
            assert_eq!(rl.hit(a, t0 + Duration::from_secs(i)), None);
        }
        assert_eq!(rl.hit(b, t0 + Duration::from_secs(1)), Some(0));
        assert_eq!(rl.hit(a, t0 + Duration::from_secs(10)), Some(5));
        assert_eq!(rl.hit(a, t0 + Duration::from_secs(11)), None);
    }

    #[test]
    fn rate_limit_table_is_bounded() {
        let mut rl = RateLimit::new(Duration::from_secs(10), 4);
        let t0 = Instant::now();
        for i in 0..100u8 {
            assert_eq!(rl.hit(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)), t0), Some(0));
            assert!(rl.keys.len() <= 4);
        }
    }

    /// Run a GTSM program over a packet's network header, as the kernel would.
    fn run(prog: &[Insn], net: &[u8]) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = prog[pc];
            let at = |k: u32| (k.wrapping_sub(NET)) as usize;
            match i.code {
                LD_W_ABS => {
                    let o = at(i.k);
                    a = u32::from_be_bytes([net[o], net[o + 1], net[o + 2], net[o + 3]]);
                }
                LD_B_ABS => a = u32::from(net[at(i.k)]),
                AND_K => a &= i.k,
                JEQ_K | JGE_K => {
                    let t = if i.code == JEQ_K { a == i.k } else { a >= i.k };
                    pc += usize::from(if t { i.jt } else { i.jf });
                }
                RET_K => return i.k,
                JA => pc += i.k as usize,
                c => panic!("opcode {c:#x}"),
            }
            pc += 1;
        }
        panic!("no return");
    }

    fn v4(src: [u8; 4], ttl: u8) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 40, 0, 0, 0, 0, ttl, 6, 0, 0];
        h.extend_from_slice(&src);
        h.extend_from_slice(&[127, 0, 0, 1]);
        h
    }

    fn v6(src: std::net::Ipv6Addr, hops: u8) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0, 0, 20, 6, hops];
        h.extend_from_slice(&src.octets());
        h.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        h
    }

    #[test]
    fn gtsm_filter_drops_low_ttl_from_gtsm_peers_only() {
        let g6: std::net::Ipv6Addr = "2001:db8::5".parse().unwrap();
        let prog = gtsm_program(&[
            (IpAddr::V4(Ipv4Addr::new(127, 0, 8, 5)), 255),
            (IpAddr::V4(Ipv4Addr::new(127, 0, 8, 6)), 254),
            (IpAddr::V6(g6), 255),
        ])
        .unwrap();
        assert_eq!(run(&prog, &v4([127, 0, 8, 5], 255)), u32::MAX);
        assert_eq!(run(&prog, &v4([127, 0, 8, 5], 64)), 0);
        assert_eq!(run(&prog, &v4([127, 0, 8, 5], 254)), 0);
        assert_eq!(run(&prog, &v4([127, 0, 8, 6], 254)), u32::MAX);
        assert_eq!(run(&prog, &v4([127, 0, 8, 6], 253)), 0);
        // Not a GTSM peer: passes whatever its TTL.
        assert_eq!(run(&prog, &v4([127, 0, 8, 7], 1)), u32::MAX);
        assert_eq!(run(&prog, &v6(g6, 255)), u32::MAX);
        assert_eq!(run(&prog, &v6(g6, 64)), 0);
        assert_eq!(run(&prog, &v6("2001:db8::6".parse().unwrap(), 1)), u32::MAX);
        assert!(gtsm_program(&[]).is_none());
    }

    #[test]
    fn gtsm_filter_with_many_peers_jumps_far() {
        let many: Vec<(IpAddr, u8)> = (0..600u32)
            .map(|i| (IpAddr::V4(Ipv4Addr::from_bits(0x0a00_0000 + i)), 255))
            .chain([(IpAddr::V6("2001:db8::9".parse().unwrap()), 255)])
            .collect();
        let prog = gtsm_program(&many).unwrap();
        assert!(prog.len() > 3600);
        assert_eq!(run(&prog, &v4([10, 0, 2, 87], 255)), u32::MAX);
        assert_eq!(run(&prog, &v4([10, 0, 2, 87], 254)), 0);
        assert_eq!(run(&prog, &v6("2001:db8::9".parse().unwrap(), 200)), 0);
        assert_eq!(
            run(&prog, &v6("2001:db8::9".parse().unwrap(), 255)),
            u32::MAX
        );
        let too_many: Vec<(IpAddr, u8)> = (0..700u32)
            .map(|i| (IpAddr::V4(Ipv4Addr::from_bits(0x0a00_0000 + i)), 255))
            .collect();
        assert!(gtsm_program(&too_many).is_none(), "over BPF_MAXINSNS");
    }

    #[test]
    fn gtsm_minimum_ttl() {
        assert_eq!(gtsm_min_ttl(1), 255);
        assert_eq!(gtsm_min_ttl(2), 254);
        assert_eq!(gtsm_min_ttl(254), 2);
        assert_eq!(gtsm_min_ttl(0), 255);
    }
}
