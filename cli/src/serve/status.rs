//! What the daemon knows of each peer beyond the engine, for `reflector show`
//! and the metrics: the session state and since when, what the session
//! negotiated, the NOTIFICATIONs sent and received (the last one kept as the
//! last error), and messages and bytes per message type in each direction.
//!
//! Connection tasks write it; the control socket and the metrics endpoint
//! read it. Message counters are atomics fed by [`Scan`], which follows the
//! BGP headers in a byte stream (input as read from the socket, output as
//! queued to it), so every message is counted once, whoever wrote it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use reflector_core::session::{shutdown_text, State};
use reflector_core::wire::notification::NotificationRepr;
use reflector_core::wire::open::Negotiated;
use reflector_core::wire::AfiSafi;

/// BGP message types counted (index = type code; 0 holds unknown types).
pub const MESSAGE_TYPES: [&str; 6] = [
    "other",
    "open",
    "update",
    "notification",
    "keepalive",
    "route_refresh",
];

/// Per-direction message and byte counters, by message type.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Messages, by type code (see [`MESSAGE_TYPES`]).
    pub messages: [AtomicU64; 6],
    /// Bytes (headers included), by type code.
    pub bytes: [AtomicU64; 6],
}

impl Traffic {
    fn count(&self, kind: u8, len: usize) {
        let i = if (1..=5).contains(&kind) {
            usize::from(kind)
        } else {
            0
        };
        if let (Some(m), Some(b)) = (self.messages.get(i), self.bytes.get(i)) {
            m.fetch_add(1, Ordering::Relaxed);
            b.fetch_add(len as u64, Ordering::Relaxed);
        }
    }

    /// (messages, bytes) of one type code.
    pub fn get(&self, i: usize) -> (u64, u64) {
        let m = self
            .messages
            .get(i)
            .map_or(0, |a| a.load(Ordering::Relaxed));
        let b = self.bytes.get(i).map_or(0, |a| a.load(Ordering::Relaxed));
        (m, b)
    }
}

/// Follows BGP message headers through a byte stream that arrives in pieces.
#[derive(Debug, Default)]
pub struct Scan {
    hdr: [u8; 19],
    have: usize,
    /// Bytes of the current message's body still to come.
    left: usize,
}

impl Scan {
    /// Count the messages whose headers complete in `data`.
    pub fn feed(&mut self, mut data: &[u8], traffic: &Traffic) {
        while !data.is_empty() {
            if self.left > 0 {
                let n = self.left.min(data.len());
                self.left -= n;
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            let n = (19 - self.have).min(data.len());
            if let (Some(dst), Some(src)) =
                (self.hdr.get_mut(self.have..self.have + n), data.get(..n))
            {
                dst.copy_from_slice(src);
            }
            self.have += n;
            data = data.get(n..).unwrap_or(&[]);
            if self.have == 19 {
                self.have = 0;
                let len = usize::from(u16::from_be_bytes([self.hdr[16], self.hdr[17]]));
                traffic.count(self.hdr[18], len.max(19));
                self.left = len.saturating_sub(19);
            }
        }
    }
}

/// A NOTIFICATION sent or received, as `show neighbor` reports the last error.
#[derive(Debug, Clone)]
pub struct LastError {
    /// We sent it (else the peer did).
    pub sent: bool,
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data (for Cease 2 and 4, the RFC 9003 shutdown communication).
    pub data: Vec<u8>,
    /// The RFC 9003 shutdown communication, when there is one.
    pub shutdown: Option<String>,
    /// When.
    pub at: SystemTime,
}

/// What a session negotiated and where it runs.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The peer's address and port.
    pub remote: Option<SocketAddr>,
    /// Ours.
    pub local: Option<SocketAddr>,
    /// We connected (else the peer did).
    pub outbound: bool,
    /// The peer's BGP identifier.
    pub router_id: Ipv4Addr,
    /// The negotiated OPEN results.
    pub negotiated: Negotiated,
}

/// The mutable part of a peer's status.
#[derive(Debug)]
pub struct Inner {
    /// The session's state (RFC 4271 §8.2.2), of its most advanced connection.
    pub state: State,
    /// When the state last changed.
    pub since: Instant,
    /// The connection that is established, if one is.
    pub established_conn: Option<u64>,
    /// The established session, while it is.
    pub session: Option<SessionInfo>,
    /// Times a session came up.
    pub established_count: u64,
    /// The last NOTIFICATION sent or received.
    pub last_error: Option<LastError>,
    /// NOTIFICATIONs by (sent, code, subcode).
    pub notifications: BTreeMap<(bool, u8, u8), u64>,
}

/// One peer's status.
#[derive(Debug)]
pub struct PeerStatus {
    inner: Mutex<Inner>,
    /// Messages received.
    pub rx: Traffic,
    /// Messages sent (queued to the socket).
    pub tx: Traffic,
    /// `reflector ctl disable`: connections refused until `enable`.
    pub disabled: AtomicBool,
}

impl Default for PeerStatus {
    fn default() -> Self {
        PeerStatus {
            inner: Mutex::new(Inner {
                state: State::Idle,
                since: Instant::now(),
                established_conn: None,
                session: None,
                established_count: 0,
                last_error: None,
                notifications: BTreeMap::new(),
            }),
            rx: Traffic::default(),
            tx: Traffic::default(),
            disabled: AtomicBool::new(false),
        }
    }
}

impl PeerStatus {
    /// Read (or change) the state.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connection `conn` is in `state`. Ignored while another connection is established.
    pub fn on_state(&self, conn: u64, state: State) {
        let mut i = self.lock();
        if i.established_conn.is_some_and(|c| c != conn) {
            return;
        }
        if i.state != state {
            i.state = state;
            i.since = Instant::now();
        }
    }

    /// Connection `conn` established a session.
    pub fn on_established(&self, conn: u64, info: SessionInfo) {
        let mut i = self.lock();
        i.state = State::Established;
        i.since = Instant::now();
        i.established_conn = Some(conn);
        i.session = Some(info);
        i.established_count += 1;
    }

    /// Connection `conn` closed.
    pub fn on_closed(&self, conn: u64) {
        let mut i = self.lock();
        if i.established_conn.is_none_or(|c| c == conn) {
            if i.state != State::Idle {
                i.since = Instant::now();
            }
            i.state = State::Idle;
            i.established_conn = None;
            i.session = None;
        }
    }

    /// A NOTIFICATION was sent (or received).
    pub fn on_notification(&self, sent: bool, n: &NotificationRepr) {
        let mut i = self.lock();
        *i.notifications
            .entry((sent, n.code, n.subcode))
            .or_insert(0) += 1;
        i.last_error = Some(LastError {
            sent,
            code: n.code,
            subcode: n.subcode,
            data: n.data.clone(),
            shutdown: shutdown_text(n),
            at: SystemTime::now(),
        });
    }

    /// Whether `reflector ctl disable` holds the peer down.
    pub fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::Relaxed)
    }
}

/// Every peer's status, by slot (grown on demand: a reload adds slots).
#[derive(Debug, Default)]
pub struct Statuses(Mutex<Vec<Arc<PeerStatus>>>);

impl Statuses {
    /// The status of the peer in `slot`.
    pub fn get(&self, slot: usize) -> Arc<PeerStatus> {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while v.len() <= slot {
            v.push(Arc::new(PeerStatus::default()));
        }
        v.get(slot).cloned().unwrap_or_default()
    }
}

/// A family's name as the configuration writes it (`ipv4-unicast`).
pub fn family_name(f: AfiSafi) -> String {
    match reflector_core::wire::family::name(f) {
        Some(n) => n.into(),
        None => format!("afi{}-safi{}", f.afi.0, f.safi.0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn msg(kind: u8, len: u16) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&len.to_be_bytes());
        m.push(kind);
        m.resize(usize::from(len), 0);
        m
    }

    #[test]
    fn messages_are_counted_whatever_the_pieces() {
        let mut stream = msg(1, 29);
        stream.extend(msg(4, 19));
        stream.extend(msg(2, 100));
        stream.extend(msg(4, 19));
        for piece in [1, 2, 7, 19, 20, 64, 1000] {
            let t = Traffic::default();
            let mut s = Scan::default();
            for c in stream.chunks(piece) {
                s.feed(c, &t);
            }
            assert_eq!(t.get(1), (1, 29), "piece {piece}");
            assert_eq!(t.get(4), (2, 38), "piece {piece}");
            assert_eq!(t.get(2), (1, 100), "piece {piece}");
            assert_eq!(t.get(3), (0, 0));
        }
    }
}
