//! BMP (RFC 7854) client of `reflector serve`, with the Loc-RIB of RFC 9069.
//!
//! Opt-in with `[[bmp]] address = "HOST:PORT"` (one per collector). Each
//! collector gets: an Initiation (sysName, sysDescr); a Peer Up for the
//! Loc-RIB instance (peer type 3, with its VRF/Table Name TLV) and one for
//! every session that is up; Route Monitoring of each peer's Adj-RIB-In
//! pre-policy (the UPDATEs exactly as received, behind a per-peer header)
//! and of the Loc-RIB (each best path as an UPDATE, withdrawals when a
//! prefix loses its last path; routes of the families beyond unicast in
//! MP_REACH_NLRI / MP_UNREACH_NLRI with the NLRI of their best path); Peer Down with its reason and NOTIFICATION;
//! Statistics Reports every `statistics_interval` seconds; a Termination on
//! shutdown.
//!
//! The BGP side never waits for BMP: messages are encoded where the event
//! happens and put on a bounded queue per collector (`queue`, default 65 536
//! messages); when it is full, or while the collector is not connected, they
//! are dropped and counted ([`Bmp::dropped`]). Until the first connection
//! succeeds, messages are queued (up to `queue`), so a collector that is up
//! when Reflector starts misses nothing. A lost collector is reconnected with
//! exponential backoff (1 s doubling to 30 s), and what happens meanwhile is
//! dropped; on each reconnection (or a first one after drops) it gets the
//! Initiation, the Peer Ups of the live sessions and a full dump of the
//! Loc-RIB. Adj-RIB-In routes received while it was away are not replayed:
//! Reflector does not keep the pre-policy Adj-RIB-In.
//!
//! The encoder functions ([`initiation`], [`peer_up`], ...) are
//! byte-exact against RFC 7854 §4 and RFC 9069 §4 (see the unit tests).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reflector_core::engine::{Engine, Event};
use reflector_core::reflect::LoopReason;
use reflector_core::rib::PeerId;
use reflector_core::wire::{AfiSafi, Prefix};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, Notify};
use tracing::{debug, info, warn};

use super::config::BmpSpec;

/// BMP version 3 (RFC 7854).
pub const VERSION: u8 = 3;
/// Message types (RFC 7854 §4.1).
pub mod msg {
    /// Route Monitoring.
    pub const ROUTE_MONITORING: u8 = 0;
    /// Statistics Report.
    pub const STATISTICS: u8 = 1;
    /// Peer Down Notification.
    pub const PEER_DOWN: u8 = 2;
    /// Peer Up Notification.
    pub const PEER_UP: u8 = 3;
    /// Initiation.
    pub const INITIATION: u8 = 4;
    /// Termination.
    pub const TERMINATION: u8 = 5;
}
/// Peer types (RFC 7854 §4.2, RFC 9069 §4.1).
pub mod peer_type {
    /// Global Instance Peer.
    pub const GLOBAL: u8 = 0;
    /// Loc-RIB Instance Peer (RFC 9069).
    pub const LOC_RIB: u8 = 3;
}
/// Peer flag V: the peer address is IPv6.
pub const FLAG_V: u8 = 0x80;
/// Peer flag L: post-policy.
pub const FLAG_L: u8 = 0x40;
/// Peer flag A: the peer uses the legacy 2-byte AS_PATH format.
pub const FLAG_A: u8 = 0x20;
/// Peer flag O: Adj-RIB-Out (RFC 8671).
pub const FLAG_O: u8 = 0x10;
/// Statistics types (RFC 7854 §4.8).
pub mod stat {
    /// Prefixes rejected by inbound policy (32-bit counter).
    pub const REJECTED_BY_POLICY: u16 = 0;
    /// Updates invalidated due to CLUSTER_LIST loop.
    pub const CLUSTER_LIST_LOOP: u16 = 3;
    /// Updates invalidated due to AS_PATH loop.
    pub const AS_PATH_LOOP: u16 = 4;
    /// Updates invalidated due to ORIGINATOR_ID.
    pub const ORIGINATOR_ID: u16 = 5;
    /// Routes in the Adj-RIB-In (64-bit gauge).
    pub const ADJ_RIB_IN_ROUTES: u16 = 7;
    /// Routes in the Loc-RIB (64-bit gauge).
    pub const LOC_RIB_ROUTES: u16 = 8;
}
/// Peer Down reasons (RFC 7854 §4.9, RFC 9069 §5.4).
pub mod down {
    /// Local system closed, NOTIFICATION follows.
    pub const LOCAL_NOTIFICATION: u8 = 1;
    /// Local system closed, FSM event follows.
    pub const LOCAL_NO_NOTIFICATION: u8 = 2;
    /// Remote system closed, NOTIFICATION follows.
    pub const REMOTE_NOTIFICATION: u8 = 3;
    /// Remote system closed, no data.
    pub const REMOTE_NO_DATA: u8 = 4;
}
/// Initiation TLV sysDescr.
pub const TLV_SYS_DESCR: u16 = 1;
/// Initiation TLV sysName.
pub const TLV_SYS_NAME: u16 = 2;
/// Peer Up information TLV VRF/Table Name (RFC 9069 §5.1).
pub const TLV_TABLE_NAME: u16 = 3;
/// AS_TRANS (RFC 6793), the 2-byte My AS of a 4-byte AS.
const AS_TRANS: u16 = 23456;

/// The per-peer header (RFC 7854 §4.2): 42 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerHeader {
    /// Peer type (0 global, 3 Loc-RIB).
    pub peer_type: u8,
    /// Peer flags (V, L, A, O; F for the Loc-RIB).
    pub flags: u8,
    /// Peer distinguisher (0 for the global instance).
    pub distinguisher: u64,
    /// Peer address (zero for the Loc-RIB).
    pub address: IpAddr,
    /// Peer AS.
    pub asn: u32,
    /// Peer BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// Seconds since the epoch.
    pub seconds: u32,
    /// Microseconds.
    pub micros: u32,
}

impl PeerHeader {
    /// A global-instance peer (V from the address, A unless 4-octet AS was negotiated), stamped now.
    pub fn global(address: IpAddr, asn: u32, bgp_id: Ipv4Addr, four_octet_as: bool) -> Self {
        let mut flags = 0;
        if address.is_ipv6() {
            flags |= FLAG_V;
        }
        if !four_octet_as {
            flags |= FLAG_A;
        }
        let (seconds, micros) = now();
        PeerHeader {
            peer_type: peer_type::GLOBAL,
            flags,
            distinguisher: 0,
            address,
            asn,
            bgp_id,
            seconds,
            micros,
        }
    }

    /// The Loc-RIB instance (RFC 9069 §4.1): our AS and BGP identifier, no address, stamped now.
    pub fn loc_rib(asn: u32, router_id: Ipv4Addr) -> Self {
        let (seconds, micros) = now();
        PeerHeader {
            peer_type: peer_type::LOC_RIB,
            flags: 0,
            distinguisher: 0,
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            asn,
            bgp_id: router_id,
            seconds,
            micros,
        }
    }

    /// The same header, stamped now.
    pub fn stamped(mut self) -> Self {
        (self.seconds, self.micros) = now();
        self
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.peer_type);
        out.push(self.flags);
        out.extend_from_slice(&self.distinguisher.to_be_bytes());
        write_addr(out, self.address);
        out.extend_from_slice(&self.asn.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        out.extend_from_slice(&self.seconds.to_be_bytes());
        out.extend_from_slice(&self.micros.to_be_bytes());
    }
}

fn now() -> (u32, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        u32::try_from(d.as_secs()).unwrap_or(u32::MAX),
        d.subsec_micros(),
    )
}

/// 16 bytes: an IPv6 address, or an IPv4 one after 12 zero bytes (RFC 7854 §4.2).
fn write_addr(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(a) => {
            out.extend_from_slice(&[0; 12]);
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
}

/// Start a message of `kind`: the common header with its length left to [`finish`].
fn start(kind: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.push(VERSION);
    v.extend_from_slice(&[0; 4]);
    v.push(kind);
    v
}

fn finish(mut v: Vec<u8>) -> Vec<u8> {
    let len = u32::try_from(v.len()).unwrap_or(u32::MAX).to_be_bytes();
    if let Some(f) = v.get_mut(1..5) {
        f.copy_from_slice(&len);
    }
    v
}

fn tlv(out: &mut Vec<u8>, t: u16, value: &[u8]) {
    let value = value.get(..usize::from(u16::MAX)).unwrap_or(value);
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// Initiation (RFC 7854 §4.3) with sysDescr and sysName.
pub fn initiation(sys_name: &str, sys_descr: &str) -> Vec<u8> {
    let mut v = start(msg::INITIATION);
    tlv(&mut v, TLV_SYS_DESCR, sys_descr.as_bytes());
    tlv(&mut v, TLV_SYS_NAME, sys_name.as_bytes());
    finish(v)
}

/// Termination (RFC 7854 §4.5): a string and reason 0 (administratively closed).
pub fn termination(text: &str) -> Vec<u8> {
    let mut v = start(msg::TERMINATION);
    tlv(&mut v, 0, text.as_bytes());
    tlv(&mut v, 1, &0u16.to_be_bytes());
    finish(v)
}

/// Peer Up (RFC 7854 §4.10): local address and ports, both OPENs, information TLVs.
pub fn peer_up(
    h: &PeerHeader,
    local: SocketAddr,
    remote_port: u16,
    sent_open: &[u8],
    received_open: &[u8],
    info: &[(u16, &[u8])],
) -> Vec<u8> {
    let mut v = start(msg::PEER_UP);
    h.write(&mut v);
    write_addr(&mut v, local.ip());
    v.extend_from_slice(&local.port().to_be_bytes());
    v.extend_from_slice(&remote_port.to_be_bytes());
    v.extend_from_slice(sent_open);
    v.extend_from_slice(received_open);
    for (t, val) in info {
        tlv(&mut v, *t, val);
    }
    finish(v)
}

/// Why a peer went down, with its data (RFC 7854 §4.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// We sent this NOTIFICATION (the whole BGP message).
    LocalNotification(Vec<u8>),
    /// We closed without a NOTIFICATION; the FSM event code.
    LocalNoNotification(u16),
    /// The peer sent this NOTIFICATION (the whole BGP message).
    RemoteNotification(Vec<u8>),
    /// The peer closed the connection.
    RemoteNoData,
}

/// Peer Down (RFC 7854 §4.9).
pub fn peer_down(h: &PeerHeader, why: &DownReason) -> Vec<u8> {
    let mut v = start(msg::PEER_DOWN);
    h.write(&mut v);
    match why {
        DownReason::LocalNotification(n) => {
            v.push(down::LOCAL_NOTIFICATION);
            v.extend_from_slice(n);
        }
        DownReason::LocalNoNotification(e) => {
            v.push(down::LOCAL_NO_NOTIFICATION);
            v.extend_from_slice(&e.to_be_bytes());
        }
        DownReason::RemoteNotification(n) => {
            v.push(down::REMOTE_NOTIFICATION);
            v.extend_from_slice(n);
        }
        DownReason::RemoteNoData => v.push(down::REMOTE_NO_DATA),
    }
    finish(v)
}

/// Route Monitoring (RFC 7854 §4.6): the per-peer header and one whole BGP UPDATE.
pub fn route_monitoring(h: &PeerHeader, update: &[u8]) -> Vec<u8> {
    let mut v = start(msg::ROUTE_MONITORING);
    v.reserve(42 + update.len());
    h.write(&mut v);
    v.extend_from_slice(update);
    finish(v)
}

/// A statistic's value: counters are 32 bits, gauges 64 (RFC 7854 §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// A 32-bit counter (wraps).
    Counter(u32),
    /// A 64-bit gauge.
    Gauge(u64),
}

/// Statistics Report (RFC 7854 §4.8).
pub fn statistics(h: &PeerHeader, stats: &[(u16, Stat)]) -> Vec<u8> {
    let mut v = start(msg::STATISTICS);
    h.write(&mut v);
    v.extend_from_slice(&(stats.len() as u32).to_be_bytes());
    for (t, s) in stats {
        match s {
            Stat::Counter(c) => tlv(&mut v, *t, &c.to_be_bytes()),
            Stat::Gauge(g) => tlv(&mut v, *t, &g.to_be_bytes()),
        }
    }
    finish(v)
}

/// A BGP message: marker, length, type, body.
fn bgp_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(kind);
    v.extend_from_slice(body);
    v
}

/// A BGP NOTIFICATION message.
pub fn notification_message(code: u8, subcode: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![code, subcode];
    b.extend_from_slice(data);
    bgp_message(3, &b)
}

/// The OPEN that stands for the Loc-RIB instance in its Peer Up (RFC 9069 §5.1):
/// our AS (AS_TRANS plus the 4-octet AS capability), hold time 0, our identifier,
/// multiprotocol IPv4 and IPv6 unicast.
pub fn fabricated_open(asn: u32, router_id: Ipv4Addr) -> Vec<u8> {
    let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
    // Multiprotocol for every family the Loc-RIB can hold, then 4-octet AS.
    let mut caps = Vec::with_capacity(6 * reflector_core::wire::family::KNOWN.len() + 6);
    for f in reflector_core::wire::family::KNOWN {
        caps.extend_from_slice(&[1, 4]);
        caps.extend_from_slice(&f.afi.0.to_be_bytes());
        caps.extend_from_slice(&[0, f.safi.0]);
    }
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&asn.to_be_bytes());
    let mut b = vec![4];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&0u16.to_be_bytes());
    b.extend_from_slice(&router_id.octets());
    b.push((caps.len() + 2) as u8);
    b.push(2);
    b.push(caps.len() as u8);
    b.extend_from_slice(&caps);
    bgp_message(1, &b)
}

fn write_prefix(out: &mut Vec<u8>, p: &Prefix) {
    let (len, bytes): (u8, [u8; 16]) = match p {
        Prefix::V4(p) => {
            let mut b = [0; 16];
            if let Some(d) = b.get_mut(..4) {
                d.copy_from_slice(&p.addr().octets());
            }
            (p.len(), b)
        }
        Prefix::V6(p) => (p.len(), p.addr().octets()),
    };
    out.push(len);
    out.extend_from_slice(bytes.get(..usize::from(len).div_ceil(8)).unwrap_or(&[]));
}

/// A BGP UPDATE announcing `prefix` with a canonical attribute block (4-octet
/// AS) and, for routes learned through MP_REACH_NLRI, its next hop: IPv4 with
/// no MP next hop goes in the NLRI field, anything else in MP_REACH_NLRI.
pub fn update_announce(prefix: &Prefix, block: &[u8], mp_next_hop: Option<&[u8]>) -> Vec<u8> {
    let mut nlri = Vec::new();
    write_prefix(&mut nlri, prefix);
    if let (Prefix::V4(_), None) = (prefix, mp_next_hop) {
        let mut body = vec![0, 0];
        body.extend_from_slice(&(block.len() as u16).to_be_bytes());
        body.extend_from_slice(block);
        body.extend_from_slice(&nlri);
        return bgp_message(2, &body);
    }
    let f = match prefix {
        Prefix::V4(_) => AfiSafi::IPV4_UNICAST,
        Prefix::V6(_) => AfiSafi::IPV6_UNICAST,
    };
    mp_announce(f, &nlri, block, mp_next_hop)
}

/// A BGP UPDATE announcing one NLRI of family `f` in MP_REACH_NLRI, with its
/// next hop field and a canonical attribute block.
pub fn mp_announce(f: AfiSafi, nlri: &[u8], block: &[u8], mp_next_hop: Option<&[u8]>) -> Vec<u8> {
    let nh = mp_next_hop.unwrap_or(&[]);
    let mut val = Vec::with_capacity(nh.len() + nlri.len() + 5);
    val.extend_from_slice(&f.afi.0.to_be_bytes());
    val.push(f.safi.0);
    val.push(nh.len() as u8);
    val.extend_from_slice(nh);
    val.push(0);
    val.extend_from_slice(nlri);
    let mut attrs = Vec::with_capacity(val.len() + block.len() + 4);
    attrs.extend_from_slice(&[0x90, 14]);
    attrs.extend_from_slice(&(val.len() as u16).to_be_bytes());
    attrs.extend_from_slice(&val);
    attrs.extend_from_slice(block);
    let mut body = vec![0, 0];
    body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    body.extend_from_slice(&attrs);
    bgp_message(2, &body)
}

/// A BGP UPDATE withdrawing one NLRI of family `f` in MP_UNREACH_NLRI.
pub fn mp_withdraw(f: AfiSafi, nlri: &[u8]) -> Vec<u8> {
    let mut val = Vec::with_capacity(nlri.len() + 3);
    val.extend_from_slice(&f.afi.0.to_be_bytes());
    val.push(f.safi.0);
    val.extend_from_slice(nlri);
    let mut body = vec![0, 0];
    body.extend_from_slice(&((val.len() + 4) as u16).to_be_bytes());
    body.extend_from_slice(&[0x90, 15]);
    body.extend_from_slice(&(val.len() as u16).to_be_bytes());
    body.extend_from_slice(&val);
    bgp_message(2, &body)
}

/// A BGP UPDATE withdrawing `prefix` (IPv6 in MP_UNREACH_NLRI).
pub fn update_withdraw(prefix: &Prefix) -> Vec<u8> {
    let mut w = Vec::new();
    write_prefix(&mut w, prefix);
    if let Prefix::V6(_) = prefix {
        return mp_withdraw(AfiSafi::IPV6_UNICAST, &w);
    }
    let mut body = Vec::with_capacity(w.len() + 4);
    body.extend_from_slice(&(w.len() as u16).to_be_bytes());
    body.extend_from_slice(&w);
    body.extend_from_slice(&[0, 0]);
    bgp_message(2, &body)
}

/// The first OPEN in each direction of a connection, as sent and received.
#[derive(Debug, Default)]
pub struct OpenCapture {
    enabled: bool,
    sent: Option<Vec<u8>>,
    received: Option<Vec<u8>>,
    partial: Vec<u8>,
}

/// The OPEN at the start of `b`, when `b` starts with one whole message of type 1.
fn first_open(b: &[u8]) -> Option<&[u8]> {
    let len = usize::from(u16::from_be_bytes([*b.get(16)?, *b.get(17)?]));
    (b.get(18) == Some(&1)).then(|| b.get(..len)).flatten()
}

impl OpenCapture {
    /// A capture that keeps the OPENs only when BMP is on.
    pub fn new(enabled: bool) -> Self {
        OpenCapture {
            enabled,
            ..OpenCapture::default()
        }
    }

    /// Bytes we are about to send.
    pub fn on_sent(&mut self, b: &[u8]) {
        if self.enabled && self.sent.is_none() {
            self.sent = first_open(b).map(<[u8]>::to_vec);
        }
    }

    /// Bytes we read, in order.
    pub fn on_received(&mut self, b: &[u8]) {
        if !self.enabled || self.received.is_some() || self.partial.len() > 65_535 {
            return;
        }
        self.partial.extend_from_slice(b);
        if let Some(o) = first_open(&self.partial) {
            self.received = Some(o.to_vec());
            self.partial = Vec::new();
        } else if self.partial.len() >= 19 && self.partial.get(18) != Some(&1) {
            self.partial = Vec::new();
            self.enabled = false;
        }
    }

    /// Both OPENs (sent, received), once seen.
    pub fn opens(&self) -> Option<(&[u8], &[u8])> {
        Some((self.sent.as_deref()?, self.received.as_deref()?))
    }
}

/// A live session as BMP reports it.
#[derive(Debug, Clone, Copy)]
struct PeerUp {
    header: PeerHeader,
}

struct Collector {
    address: SocketAddr,
    tx: mpsc::Sender<Bytes>,
    /// Messages are queued: connected, or not connected yet since the start.
    accepting: AtomicBool,
    /// Connected now.
    connected: AtomicBool,
    /// Messages dropped before the first connection (then it gets a full replay).
    dropped_early: AtomicU64,
    /// It wants the Adj-RIB-Out (RFC 8671).
    adj_rib_out: bool,
}

struct Inner {
    asn: u32,
    router_id: Ipv4Addr,
    collectors: Vec<Collector>,
    dropped: AtomicU64,
    /// Per slot: the session's header and its encoded Peer Up, replayed on reconnection.
    ups: Mutex<BTreeMap<usize, (PeerUp, Bytes)>>,
    /// Collectors that (re)connected and want the Loc-RIB dumped.
    dump: Mutex<Vec<usize>>,
    stats_interval: Vec<u32>,
    closing: AtomicBool,
    closed: Notify,
}

/// The handle connections and the engine task use to report to the collectors.
#[derive(Clone)]
pub struct Bmp {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bmp {
    /// Start one client task per collector; `None` when none is configured.
    pub fn start(specs: &[BmpSpec], asn: u32, router_id: Ipv4Addr) -> Option<Bmp> {
        if specs.is_empty() {
            return None;
        }
        let mut rxs = Vec::new();
        let mut collectors = Vec::new();
        for s in specs {
            let (tx, rx) = mpsc::channel(s.queue);
            rxs.push(rx);
            collectors.push(Collector {
                address: s.address,
                tx,
                accepting: AtomicBool::new(true),
                connected: AtomicBool::new(false),
                dropped_early: AtomicU64::new(0),
                adj_rib_out: s.adj_rib_out,
            });
        }
        let bmp = Bmp {
            inner: Arc::new(Inner {
                asn,
                router_id,
                collectors,
                dropped: AtomicU64::new(0),
                ups: Mutex::new(BTreeMap::new()),
                dump: Mutex::new(Vec::new()),
                stats_interval: specs.iter().map(|s| s.statistics_interval).collect(),
                closing: AtomicBool::new(false),
                closed: Notify::new(),
            }),
        };
        for (i, rx) in rxs.into_iter().enumerate() {
            tokio::spawn(client(bmp.inner.clone(), i, rx));
        }
        Some(bmp)
    }

    /// Messages dropped because a collector's queue was full or it was not connected.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    fn send(&self, m: Vec<u8>) {
        let b = Bytes::from(m);
        for c in &self.inner.collectors {
            self.send_one(c, b.clone());
        }
    }

    fn send_one(&self, c: &Collector, b: Bytes) {
        if !c.accepting.load(Ordering::Relaxed) || c.tx.try_send(b).is_err() {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            if !c.connected.load(Ordering::Relaxed) {
                c.dropped_early.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A session came up: report it with both OPENs.
    pub fn peer_up(
        &self,
        slot: usize,
        header: PeerHeader,
        local: SocketAddr,
        remote: SocketAddr,
        opens: (&[u8], &[u8]),
    ) {
        let m = Bytes::from(peer_up(
            &header,
            local,
            remote.port(),
            opens.0,
            opens.1,
            &[],
        ));
        lock(&self.inner.ups).insert(slot, (PeerUp { header }, m.clone()));
        for c in &self.inner.collectors {
            self.send_one(c, m.clone());
        }
    }

    /// An UPDATE the peer in `slot` sent (its Adj-RIB-In, pre-policy).
    pub fn route_monitoring(&self, slot: usize, update: &[u8]) {
        let Some(h) = lock(&self.inner.ups).get(&slot).map(|u| u.0.header) else {
            return;
        };
        self.send(route_monitoring(&h.stamped(), update));
    }

    /// Whether a collector wants the Adj-RIB-Out.
    pub fn wants_adj_rib_out(&self) -> bool {
        self.inner.collectors.iter().any(|c| c.adj_rib_out)
    }

    /// Bytes about to be written to the peer in `slot`: each whole UPDATE in
    /// them is its post-policy Adj-RIB-Out (RFC 8671), for the collectors that want it.
    pub fn adj_rib_out(&self, slot: usize, bytes: &[u8]) {
        let Some(mut h) = lock(&self.inner.ups).get(&slot).map(|u| u.0.header) else {
            return;
        };
        h = h.stamped();
        h.flags |= FLAG_O | FLAG_L;
        let mut rest = bytes;
        while let (Some(&hi), Some(&lo), Some(&kind)) = (rest.get(16), rest.get(17), rest.get(18)) {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(m) = rest.get(..len).filter(|_| len >= 19) else {
                return;
            };
            if kind == 2 {
                let b = Bytes::from(route_monitoring(&h, m));
                for c in self.inner.collectors.iter().filter(|c| c.adj_rib_out) {
                    self.send_one(c, b.clone());
                }
            }
            rest = rest.get(len..).unwrap_or(&[]);
        }
    }

    /// The session in `slot` went down.
    pub fn peer_down(&self, slot: usize, why: &DownReason) {
        let Some((up, _)) = lock(&self.inner.ups).remove(&slot) else {
            return;
        };
        self.send(peer_down(&up.header.stamped(), why));
    }

    /// Say goodbye to the collectors (Termination), waiting at most `wait`.
    pub async fn close(&self, wait: Duration) {
        self.send(termination("Reflector is shutting down"));
        self.inner.closing.store(true, Ordering::Release);
        let connected = self
            .inner
            .collectors
            .iter()
            .any(|c| c.connected.load(Ordering::Relaxed));
        if connected {
            let _ = tokio::time::timeout(wait, self.inner.closed.notified()).await;
        }
        info!(dropped = self.dropped(), "BMP closed");
    }

    /// The engine side: Loc-RIB monitoring and statistics.
    pub fn engine_side(&self) -> EngineSide {
        EngineSide {
            bmp: self.clone(),
            best: HashMap::new(),
            keyed: HashMap::new(),
            per_peer_best: HashMap::new(),
            loops: HashMap::new(),
            ticks: 0,
            events_dropped: 0,
        }
    }
}

/// Sys name of the Initiation: the host name, else "reflector".
fn sys_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map_or_else(|| "reflector".to_string(), |h| format!("reflector@{h}"))
}

async fn client(inner: Arc<Inner>, i: usize, mut rx: mpsc::Receiver<Bytes>) {
    let Some(c) = inner.collectors.get(i) else {
        return;
    };
    let mut backoff = Duration::from_secs(1);
    let mut failures = 0u32;
    let mut first = true;
    loop {
        if inner.closing.load(Ordering::Acquire) {
            return;
        }
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::TcpStream::connect(c.address),
        )
        .await;
        match conn {
            Ok(Ok(mut s)) => {
                let _ = s.set_nodelay(true);
                info!(collector = %c.address, "BMP collector connected");
                backoff = Duration::from_secs(1);
                failures = 0;
                let mut hello = initiation(
                    &sys_name(),
                    concat!(
                        "Reflector ",
                        env!("CARGO_PKG_VERSION"),
                        " BGP route reflector"
                    ),
                );
                let loc = PeerHeader::loc_rib(inner.asn, inner.router_id);
                let open = fabricated_open(inner.asn, inner.router_id);
                hello.extend(peer_up(
                    &loc,
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
                    0,
                    &open,
                    &open,
                    &[(TLV_TABLE_NAME, b"global")],
                ));
                // What happened before the first connection is queued, unless
                // some was dropped; after a loss, the live sessions and the
                // Loc-RIB are sent again.
                c.accepting.store(true, Ordering::Release);
                c.connected.store(true, Ordering::Release);
                if !first || c.dropped_early.load(Ordering::Relaxed) > 0 {
                    for (_, m) in lock(&inner.ups).values() {
                        hello.extend_from_slice(m);
                    }
                    lock(&inner.dump).push(i);
                }
                first = false;
                let res = stream(&inner, &mut s, hello, &mut rx).await;
                c.connected.store(false, Ordering::Release);
                c.accepting.store(false, Ordering::Release);
                if inner.closing.load(Ordering::Acquire) {
                    let _ = s.shutdown().await;
                    // A permit if `close` is not waiting yet.
                    inner.closed.notify_one();
                    return;
                }
                warn!(collector = %c.address, error = ?res.err(), "BMP collector lost: reconnecting");
            }
            Ok(Err(e)) => {
                failures += 1;
                if failures == 1 || failures.is_power_of_two() {
                    warn!(collector = %c.address, error = %e, attempts = failures, "BMP collector: cannot connect");
                } else {
                    debug!(collector = %c.address, error = %e, "BMP collector: cannot connect");
                }
            }
            Err(_) => {
                failures += 1;
                debug!(collector = %c.address, "BMP collector: connect timed out");
            }
        }
        // Wait; after a lost connection, discard (and count) what is reported meanwhile.
        let until = tokio::time::Instant::now() + backoff;
        if first {
            tokio::time::sleep_until(until).await;
        } else {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    m = rx.recv() => match m {
                        Some(_) => { inner.dropped.fetch_add(1, Ordering::Relaxed); }
                        None => return,
                    },
                }
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Write `first`, then every queued message, until the collector goes away or we close.
async fn stream(
    inner: &Inner,
    s: &mut tokio::net::TcpStream,
    first: Vec<u8>,
    rx: &mut mpsc::Receiver<Bytes>,
) -> std::io::Result<()> {
    s.write_all(&first).await?;
    let mut scratch = [0u8; 4096];
    let mut batch: Vec<Bytes> = Vec::new();
    loop {
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { return Ok(()) };
                batch.push(m);
                while batch.len() < 256 {
                    match rx.try_recv() {
                        Ok(m) => batch.push(m),
                        Err(_) => break,
                    }
                }
                let mut buf = Vec::with_capacity(batch.iter().map(Bytes::len).sum());
                let mut last = false;
                for m in batch.drain(..) {
                    last |= m.get(5) == Some(&msg::TERMINATION);
                    buf.extend_from_slice(&m);
                }
                s.write_all(&buf).await?;
                if last && inner.closing.load(Ordering::Acquire) {
                    return Ok(());
                }
            }
            // BMP is one-way: whatever the collector sends is read and ignored; EOF ends it.
            r = s.readable() => {
                r?;
                match s.try_read(&mut scratch) {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// The engine task's part: Loc-RIB Route Monitoring from the engine's events
/// (it turns `record_events` on), loop counters, Statistics Reports.
pub struct EngineSide {
    bmp: Bmp,
    /// Per prefix, the peer of its best path.
    best: HashMap<Prefix, PeerId>,
    /// Per route of a family beyond unicast (family, key): the peer of its
    /// best path and the NLRI last sent for it (what a withdrawal names).
    keyed: HashMap<(AfiSafi, Vec<u8>), (PeerId, Vec<u8>)>,
    /// Per peer, the prefixes whose best path it gave.
    per_peer_best: HashMap<PeerId, u64>,
    /// Per peer: (CLUSTER_LIST, AS_PATH, ORIGINATOR_ID) loops.
    loops: HashMap<PeerId, [u32; 3]>,
    ticks: u64,
    /// The engine's count of events it dropped (its queue was full), last seen.
    events_dropped: u64,
}

impl EngineSide {
    fn loc_header(&self) -> PeerHeader {
        PeerHeader::loc_rib(self.bmp.inner.asn, self.bmp.inner.router_id)
    }

    fn loc_rib_message(engine: &Engine, h: &PeerHeader, prefix: &Prefix) -> Vec<u8> {
        match engine.best(prefix) {
            Some(p) => route_monitoring(
                h,
                &update_announce(prefix, p.set.block(), p.set.mp_next_hop()),
            ),
            None => route_monitoring(h, &update_withdraw(prefix)),
        }
    }

    /// Take the engine's events: best path changes become Loc-RIB Route Monitoring.
    pub fn drain(&mut self, engine: &mut Engine) {
        let dropped = engine.events_dropped();
        if dropped != self.events_dropped {
            // Best-path changes were lost: every collector gets the whole Loc-RIB again.
            warn!(
                events = dropped - self.events_dropped,
                "BMP: the engine's event queue overflowed; the Loc-RIB is sent again"
            );
            self.events_dropped = dropped;
            let mut d = lock(&self.bmp.inner.dump);
            d.clear();
            d.extend(0..self.bmp.inner.collectors.len());
        }
        let mut changed = Vec::new();
        let mut keyed_changed = Vec::new();
        while let Some(e) = engine.poll_event() {
            match e {
                Event::BestChanged { prefix, best } => {
                    let old = match best {
                        Some(p) => self.best.insert(prefix, p),
                        None => self.best.remove(&prefix),
                    };
                    self.count_best(old, best);
                    changed.push(prefix);
                }
                Event::KeyedBestChanged { family, key, .. } => {
                    keyed_changed.push((family, key));
                }
                Event::LoopRejected { peer, reason, .. } => {
                    let l = self.loops.entry(peer).or_default();
                    let i = match reason {
                        LoopReason::ClusterList => 0,
                        LoopReason::AsPath => 1,
                        LoopReason::OriginatorId => 2,
                        LoopReason::RouteLeak => continue,
                    };
                    if let Some(c) = l.get_mut(i) {
                        *c = c.wrapping_add(1);
                    }
                }
                _ => {}
            }
        }
        if changed.is_empty() && keyed_changed.is_empty() {
            return;
        }
        let h = self.loc_header();
        for p in &changed {
            self.bmp.send(Self::loc_rib_message(engine, &h, p));
        }
        for (f, key) in keyed_changed {
            let now = engine.keyed_route(f, &key).and_then(|r| {
                let (nlri, v, _) = r.paths.into_iter().next()?;
                let m = mp_announce(f, &nlri, v.set.block(), v.set.mp_next_hop());
                Some((v.peer, nlri, m))
            });
            let k = (f, key);
            let new = now.as_ref().map(|(p, _, _)| *p);
            let old = match now {
                Some((peer, nlri, m)) => {
                    self.bmp.send(route_monitoring(&h, &m));
                    self.keyed.insert(k, (peer, nlri))
                }
                None => {
                    let old = self.keyed.remove(&k);
                    if let Some((_, nlri)) = &old {
                        self.bmp.send(route_monitoring(&h, &mp_withdraw(f, nlri)));
                    }
                    old
                }
            };
            self.count_best(old.map(|(p, _)| p), new);
        }
    }

    /// Move one route's count in the per-peer Loc-RIB gauges from `old`'s best peer to `new`'s.
    fn count_best(&mut self, old: Option<PeerId>, new: Option<PeerId>) {
        if old == new {
            return;
        }
        if let Some(o) = old {
            if let Some(n) = self.per_peer_best.get_mut(&o) {
                *n = n.saturating_sub(1);
            }
        }
        if let Some(b) = new {
            *self.per_peer_best.entry(b).or_default() += 1;
        }
    }

    /// Every second: dump the Loc-RIB to newly connected collectors, and send
    /// Statistics Reports when their interval has passed. `peers` maps slots to engine peers.
    pub fn tick(&mut self, engine: &mut Engine, peers: &[Option<PeerId>]) {
        self.drain(engine);
        self.ticks += 1;
        let inner = self.bmp.inner.clone();
        let fresh: Vec<usize> = std::mem::take(&mut *lock(&inner.dump));
        if !fresh.is_empty() {
            let h = self.loc_header();
            let rib = engine.loc_rib();
            // The per-peer Loc-RIB gauges start again from the tables themselves.
            self.best = rib.iter().map(|(p, v)| (*p, v.peer)).collect();
            self.keyed.clear();
            let mut out: Vec<Vec<u8>> = Vec::with_capacity(rib.len());
            for (prefix, p) in &rib {
                out.push(route_monitoring(
                    &h,
                    &update_announce(prefix, p.set.block(), p.set.mp_next_hop()),
                ));
            }
            for f in reflector_core::wire::family::KNOWN {
                for r in engine.keyed_table(f) {
                    let Some((nlri, v, _)) = r.paths.into_iter().next() else {
                        continue;
                    };
                    out.push(route_monitoring(
                        &h,
                        &mp_announce(f, &nlri, v.set.block(), v.set.mp_next_hop()),
                    ));
                    self.keyed.insert((f, r.key), (v.peer, nlri));
                }
            }
            self.per_peer_best.clear();
            let peers = self
                .best
                .values()
                .chain(self.keyed.values().map(|(p, _)| p));
            for peer in peers.copied().collect::<Vec<_>>() {
                *self.per_peer_best.entry(peer).or_default() += 1;
            }
            for m in out {
                let m = Bytes::from(m);
                for &i in &fresh {
                    if let Some(c) = inner.collectors.get(i) {
                        self.bmp.send_one(c, m.clone());
                    }
                }
            }
        }
        for (i, c) in inner.collectors.iter().enumerate() {
            let every = u64::from(inner.stats_interval.get(i).copied().unwrap_or(0));
            if every == 0 || self.ticks % every != 0 {
                continue;
            }
            for m in self.statistics(engine, peers) {
                self.bmp.send_one(c, Bytes::from(m));
            }
        }
    }

    fn statistics(&self, engine: &Engine, peers: &[Option<PeerId>]) -> Vec<Vec<u8>> {
        let ups: Vec<(usize, PeerHeader)> = lock(&self.bmp.inner.ups)
            .iter()
            .map(|(s, (u, _))| (*s, u.header))
            .collect();
        let mut out = Vec::new();
        for (slot, h) in ups {
            let Some(Some(id)) = peers.get(slot) else {
                continue;
            };
            let Some(c) = engine.counters(*id) else {
                continue;
            };
            let l = self.loops.get(id).copied().unwrap_or_default();
            let adj_in = engine.accepted_paths(*id, AfiSafi::IPV4_UNICAST)
                + engine.accepted_paths(*id, AfiSafi::IPV6_UNICAST);
            let [cl, asp, orig] = l;
            out.push(statistics(
                &h.stamped(),
                &[
                    (
                        stat::REJECTED_BY_POLICY,
                        Stat::Counter(c.policy_rejected_in as u32),
                    ),
                    (stat::CLUSTER_LIST_LOOP, Stat::Counter(cl)),
                    (stat::AS_PATH_LOOP, Stat::Counter(asp)),
                    (stat::ORIGINATOR_ID, Stat::Counter(orig)),
                    (stat::ADJ_RIB_IN_ROUTES, Stat::Gauge(adj_in)),
                    (
                        stat::LOC_RIB_ROUTES,
                        Stat::Gauge(self.per_peer_best.get(id).copied().unwrap_or(0)),
                    ),
                ],
            ));
        }
        out.push(statistics(
            &self.loc_header(),
            &[(
                stat::LOC_RIB_ROUTES,
                Stat::Gauge((self.best.len() + self.keyed.len()) as u64),
            )],
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reflector_core::wire::nlri::{Ipv4Prefix, Ipv6Prefix};

    fn hdr() -> PeerHeader {
        PeerHeader {
            peer_type: 0,
            flags: 0,
            distinguisher: 0,
            address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            asn: 64512,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            seconds: 0x5f00_0001,
            micros: 7,
        }
    }

    const HDR: [u8; 42] = [
        0, 0, // peer type, flags
        0, 0, 0, 0, 0, 0, 0, 0, // distinguisher
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1, // address
        0, 0, 0xfc, 0, // AS 64512
        10, 0, 0, 1, // BGP ID
        0x5f, 0, 0, 1, // seconds
        0, 0, 0, 7, // microseconds
    ];

    #[test]
    fn initiation_layout() {
        let m = initiation("rr1", "d");
        assert_eq!(
            m,
            [
                3, 0, 0, 0, 18, 4, // version, length 18, type 4
                0, 1, 0, 1, b'd', // sysDescr
                0, 2, 0, 3, b'r', b'r', b'1', // sysName
            ]
        );
    }

    #[test]
    fn termination_layout() {
        assert_eq!(
            termination("x"),
            [3, 0, 0, 0, 17, 5, 0, 0, 0, 1, b'x', 0, 1, 0, 2, 0, 0]
        );
    }

    #[test]
    fn per_peer_header_and_route_monitoring() {
        let upd = update_withdraw(&Prefix::V4(
            Ipv4Prefix::new(Ipv4Addr::new(10, 1, 0, 0), 16).unwrap(),
        ));
        let m = route_monitoring(&hdr(), &upd);
        assert_eq!(m.len(), 6 + 42 + upd.len());
        assert_eq!(&m[..6], &[3, 0, 0, 0, (6 + 42 + upd.len()) as u8, 0]);
        assert_eq!(&m[6..48], &HDR);
        assert_eq!(&m[48..], &upd[..]);
        // UPDATE: withdrawn length 3, 16 10.1, attributes length 0.
        assert_eq!(&upd[16..], &[0, 26, 2, 0, 3, 16, 10, 1, 0, 0]);
    }

    #[test]
    fn ipv6_peer_sets_v_and_legacy_as_sets_a() {
        let h = PeerHeader::global(
            IpAddr::V6("2001:db8::1".parse().unwrap()),
            65001,
            Ipv4Addr::new(1, 2, 3, 4),
            false,
        );
        assert_eq!(h.flags, FLAG_V | FLAG_A);
        let mut v = Vec::new();
        h.write(&mut v);
        assert_eq!(v.len(), 42);
        assert_eq!(
            &v[10..26],
            &"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets()
        );
        let h = PeerHeader::global(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            1,
            Ipv4Addr::LOCALHOST,
            true,
        );
        assert_eq!(h.flags, 0);
    }

    #[test]
    fn peer_up_layout() {
        let open = fabricated_open(64512, Ipv4Addr::new(10, 0, 0, 1));
        let m = peer_up(
            &hdr(),
            "127.0.0.1:179".parse().unwrap(),
            40000,
            &open,
            &open,
            &[(TLV_TABLE_NAME, b"global")],
        );
        let mut want = vec![3, 0, 0, 0, 0, 3];
        want.extend_from_slice(&HDR);
        want.extend_from_slice(&[0; 12]);
        want.extend_from_slice(&[127, 0, 0, 1, 0, 179, 0x9c, 0x40]);
        want.extend_from_slice(&open);
        want.extend_from_slice(&open);
        want.extend_from_slice(&[0, 3, 0, 6, b'g', b'l', b'o', b'b', b'a', b'l']);
        let n = want.len() as u32;
        want[1..5].copy_from_slice(&n.to_be_bytes());
        assert_eq!(m, want);
    }

    #[test]
    fn keyed_updates_parse_with_their_family_and_nlri() {
        use reflector_core::wire::update_repr::{AttributeValue, MpNlri};
        use reflector_core::wire::{Context, UpdatePacket, UpdateRepr};
        let parse =
            |m: &[u8]| UpdateRepr::parse(&UpdatePacket::new_checked(m, &Context::MODERN).unwrap());
        // A flow rule has no next hop; ORIGIN, AS_PATH and LOCAL_PREF 100 as the canonical block.
        let rule = [5, 1, 24, 10, 0, 0];
        let block = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100];
        let u = parse(&mp_announce(
            AfiSafi::IPV4_FLOWSPEC,
            &rule[..6],
            &block,
            None,
        ));
        let AttributeValue::MpReach(r) = &u.attributes[0].value else {
            panic!("{u:?}")
        };
        assert_eq!(r.afi_safi, AfiSafi::IPV4_FLOWSPEC);
        assert!(r.next_hop.is_empty());
        assert_eq!(r.nlri, MpNlri::Opaque(rule.to_vec()));
        assert_eq!(u.attributes[3].value, AttributeValue::LocalPref(100));
        let nh = [0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1];
        let vpn = [104, 0, 0x3e, 0x91, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10, 43];
        let u = parse(&mp_announce(AfiSafi::VPNV4, &vpn, &block, Some(&nh)));
        let AttributeValue::MpReach(r) = &u.attributes[0].value else {
            panic!("{u:?}")
        };
        assert_eq!((r.afi_safi, &r.next_hop[..]), (AfiSafi::VPNV4, &nh[..]));
        let u = parse(&mp_withdraw(AfiSafi::VPNV4, &vpn));
        assert_eq!(u.attributes.len(), 1);
        let AttributeValue::MpUnreach(r) = &u.attributes[0].value else {
            panic!("{u:?}")
        };
        assert_eq!(r.afi_safi, AfiSafi::VPNV4);
        assert_eq!(r.nlri, MpNlri::Opaque(vpn.to_vec()));
    }

    #[test]
    fn fabricated_open_layout() {
        let o = fabricated_open(4_200_000_000, Ipv4Addr::new(10, 0, 0, 1));
        let mut want = vec![0xff; 16];
        // 29 + 2 + 12 × 6 + 6 = 109 bytes; optional parameters 80, one of 78 bytes.
        want.extend_from_slice(&[0, 109, 1, 4, 0x5b, 0xa0, 0, 0, 10, 0, 0, 1, 80, 2, 78]);
        for (afi, safi) in [
            (1u16, 1u8),
            (2, 1),
            (1, 2),
            (2, 2),
            (1, 4),
            (2, 4),
            (1, 128),
            (2, 128),
            (25, 70),
            (1, 132),
            (1, 133),
            (2, 133),
        ] {
            want.extend_from_slice(&[1, 4]);
            want.extend_from_slice(&afi.to_be_bytes());
            want.extend_from_slice(&[0, safi]);
        }
        want.extend_from_slice(&[65, 4]);
        want.extend_from_slice(&4_200_000_000u32.to_be_bytes());
        assert_eq!(o, want);
    }

    #[test]
    fn peer_down_layouts() {
        let n = notification_message(6, 2, &[]);
        assert_eq!(n.len(), 21);
        let m = peer_down(&hdr(), &DownReason::RemoteNotification(n.clone()));
        assert_eq!(m.len(), 6 + 42 + 1 + 21);
        assert_eq!(m[5], msg::PEER_DOWN);
        assert_eq!(m[48], down::REMOTE_NOTIFICATION);
        assert_eq!(&m[49..], &n[..]);
        let m = peer_down(&hdr(), &DownReason::LocalNoNotification(0x1234));
        assert_eq!(&m[48..], &[2, 0x12, 0x34]);
        assert_eq!(m[4] as usize, m.len());
        assert_eq!(
            &peer_down(&hdr(), &DownReason::RemoteNoData)[48..],
            &[down::REMOTE_NO_DATA]
        );
    }

    #[test]
    fn statistics_layout() {
        let m = statistics(
            &hdr(),
            &[
                (stat::REJECTED_BY_POLICY, Stat::Counter(5)),
                (stat::LOC_RIB_ROUTES, Stat::Gauge(1 << 33)),
            ],
        );
        let mut want = vec![3, 0, 0, 0, 0, 1];
        want.extend_from_slice(&HDR);
        want.extend_from_slice(&[0, 0, 0, 2]);
        want.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 5]);
        want.extend_from_slice(&[0, 8, 0, 8, 0, 0, 0, 2, 0, 0, 0, 0]);
        want[4] = want.len() as u8;
        assert_eq!(m, want);
    }

    #[test]
    fn loc_rib_header() {
        let h = PeerHeader::loc_rib(64512, Ipv4Addr::new(10, 0, 0, 9));
        let mut v = Vec::new();
        h.write(&mut v);
        assert_eq!(v[0], 3);
        assert_eq!(v[1], 0);
        assert_eq!(&v[2..26], &[0; 24]);
        assert_eq!(&v[26..34], &[0, 0, 0xfc, 0, 10, 0, 0, 9]);
    }

    #[test]
    fn updates_for_the_loc_rib() {
        // ORIGIN IGP, empty AS_PATH, NEXT_HOP 192.0.2.1.
        let block = [0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1];
        let p4 = Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(10, 80, 2, 0), 24).unwrap());
        let u = update_announce(&p4, &block, None);
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, 41, 2, 0, 0, 0, 14]);
        want.extend_from_slice(&block);
        want.extend_from_slice(&[24, 10, 80, 2]);
        assert_eq!(u, want);
        let p6 = Prefix::V6(Ipv6Prefix::new("2001:db8:5::".parse().unwrap(), 48).unwrap());
        let nh: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let block6 = [0x40, 1, 1, 0, 0x40, 2, 0];
        let u = update_announce(&p6, &block6, Some(&nh.octets()));
        let mut mp = vec![0x90, 14, 0, 28, 0, 2, 1, 16];
        mp.extend_from_slice(&nh.octets());
        mp.extend_from_slice(&[0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 5]);
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, (23 + mp.len() + block6.len()) as u8, 2, 0, 0, 0]);
        want.push((mp.len() + block6.len()) as u8);
        want.extend_from_slice(&mp);
        want.extend_from_slice(&block6);
        assert_eq!(u, want);
        let w = update_withdraw(&p6);
        let mut want = vec![0xff; 16];
        want.extend_from_slice(&[0, 37, 2, 0, 0, 0, 14, 0x90, 15, 0, 10, 0, 2, 1]);
        want.extend_from_slice(&[48, 0x20, 0x01, 0x0d, 0xb8, 0, 5]);
        assert_eq!(w, want);
    }

    #[test]
    fn open_capture_takes_the_first_open_each_way() {
        let open = fabricated_open(64512, Ipv4Addr::new(10, 0, 0, 1));
        let keepalive = {
            let mut k = vec![0xff; 16];
            k.extend_from_slice(&[0, 19, 4]);
            k
        };
        let mut c = OpenCapture::new(true);
        let mut both = open.clone();
        both.extend_from_slice(&keepalive);
        c.on_sent(&both);
        // Received in three pieces.
        c.on_received(&open[..10]);
        c.on_received(&open[10..30]);
        assert!(c.opens().is_none());
        c.on_received(&both[30..]);
        let (s, r) = c.opens().unwrap();
        assert_eq!(s, &open[..]);
        assert_eq!(r, &open[..]);
        let mut off = OpenCapture::new(false);
        off.on_sent(&open);
        off.on_received(&open);
        assert!(off.opens().is_none());
    }
}
