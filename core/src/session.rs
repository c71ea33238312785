//! The BGP session: the RFC 4271 §8 finite state machine, sans-IO.
//!
//! A [`Session`] never touches a socket or a clock. The caller feeds it
//! events — [`Session::start`], [`Session::stop`], [`Session::tcp_connected`],
//! [`Session::tcp_failed`], [`Session::tcp_closed`], bytes read from the
//! connection ([`Session::handle_bytes`]) and the time in milliseconds
//! ([`Session::handle_timeout`]) — and takes actions out: bytes to write
//! ([`Session::poll_transmit`]), the next deadline ([`Session::poll_timeout`])
//! and events ([`Session::poll_event`]): a TCP connection to open, the session
//! coming up with what it negotiated, UPDATE and ROUTE-REFRESH messages for
//! the engine, NOTIFICATIONs sent and received, and the connection to close.
//!
//! ```text
//!            start (active)                 tcp_connected / send OPEN
//!   Idle ──────────────────► Connect ───────────────────────────────► OpenSent
//!    │  start (passive)         │ tcp_failed                             │ OPEN ok / send KEEPALIVE
//!    └─────────────────────► Active ◄─┘ (connect-retry timer: Connect)    ▼
//!                               └── tcp_connected / send OPEN ──►     OpenConfirm
//!                                                                        │ KEEPALIVE
//!   any error: NOTIFICATION, Closed, Idle ◄──────────────────────── Established
//! ```
//!
//! Every error sends a NOTIFICATION with the RFC code and subcode: header
//! errors (1/x) from the framer, OPEN errors (2/x, including 2/2 Bad Peer AS,
//! 2/3 for an iBGP peer using our identifier and 2/11 Role Mismatch for BGP
//! Roles that do not pair on an eBGP session, RFC 9234), Hold Timer Expired (4/0),
//! Finite State Machine errors (5/1..5/3, RFC 6608) for a message the state
//! does not expect, and Cease (6/x) with an RFC 9003 shutdown communication
//! when the caller stops the session. Connection collisions (RFC 4271 §6.8)
//! involve two connections, so two sessions: [`collision_survivor`] says which
//! one the caller keeps.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use bytes::{Bytes, BytesMut};

use crate::engine;
use crate::error::{code, subcode, Error};
use crate::wire::capability::{
    AddPathFamily, BgpRole, CapabilityRepr, ExtendedNextHop, GracefulRestartFamily,
};
use crate::wire::header::{frame_len, MessageType, HEADER_LEN};
use crate::wire::message::KEEPALIVE;
use crate::wire::notification::{NotificationPacket, NotificationRepr};
use crate::wire::open::{Advertised, Negotiated, OpenPacket, OpenRepr};
use crate::wire::{Afi, AfiSafi, AfiSafiSet, Context};

/// The hold time proposed while waiting for the peer's OPEN (RFC 4271 §8.2.2: "a large value", 4 minutes).
pub const OPEN_HOLD_MS: u64 = 240_000;

/// FSM Error subcodes (RFC 6608).
pub mod fsm_subcode {
    /// Unspecified.
    pub const UNSPECIFIED: u8 = 0;
    /// Receive Unexpected Message in OpenSent State.
    pub const OPEN_SENT: u8 = 1;
    /// Receive Unexpected Message in OpenConfirm State.
    pub const OPEN_CONFIRM: u8 = 2;
    /// Receive Unexpected Message in Established State.
    pub const ESTABLISHED: u8 = 3;
}

/// The six states of RFC 4271 §8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Refuses connections; nothing happens until [`Session::start`].
    Idle,
    /// Waiting for an outgoing TCP connection to complete.
    Connect,
    /// Waiting for an incoming connection (or for the connect-retry timer).
    Active,
    /// Our OPEN is sent; waiting for the peer's.
    OpenSent,
    /// OPENs exchanged, our KEEPALIVE sent; waiting for the peer's KEEPALIVE.
    OpenConfirm,
    /// UPDATEs flow.
    Established,
}

impl State {
    /// The state's RFC name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

/// What we advertise and accept on one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// The AS the peer must announce (`None` accepts any: 2/2 Bad Peer AS otherwise).
    pub peer_as: Option<u32>,
    /// Wait for the peer to connect instead of connecting.
    pub passive: bool,
    /// Hold time we propose, in seconds (0, or 3 and above).
    pub hold_time: u16,
    /// Smallest non-zero hold time we accept from the peer (2/6 Unacceptable Hold Time below it).
    pub min_hold_time: u16,
    /// Delay between connection attempts, in milliseconds.
    pub connect_retry_ms: u64,
    /// Multiprotocol families we advertise (RFC 4760).
    pub families: Vec<AfiSafi>,
    /// ADD-PATH per family (RFC 7911): 1 receive, 2 send, 3 both.
    pub add_path: Vec<AddPathFamily>,
    /// Advertise ROUTE-REFRESH (RFC 2918).
    pub route_refresh: bool,
    /// Advertise enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Advertise extended messages (RFC 8654).
    pub extended_message: bool,
    /// Advertise graceful restart as a receiving speaker with this restart time (RFC 4724).
    pub graceful_restart_time: Option<u16>,
    /// Per-family entries of our graceful restart capability (RFC 4724 §3): the
    /// families a restart of ours preserves; empty for a receiving speaker only.
    pub graceful_restart_families: Vec<GracefulRestartFamily>,
    /// Set the Restart State bit (RFC 4724 §3): we have restarted and defer
    /// our route selection until the peers' End-of-RIB.
    pub graceful_restart_restarting: bool,
    /// Our BGP Role on this session (RFC 9234), advertised in capability 9 unless
    /// `peer_as` is our own AS: roles are for eBGP only. On a session that turns
    /// out to be iBGP (`peer_as` unset) the peer's role is ignored and never checked.
    pub role: Option<BgpRole>,
    /// With `role` set, refuse an eBGP peer that sends no role (2/11 Role Mismatch, RFC 9234 §4.2 strict mode).
    pub strict_role: bool,
    /// Advertise Extended Next Hop Encoding (RFC 8950) for IPv4 unicast with IPv6 next hops.
    pub extended_next_hop: bool,
}

impl SessionConfig {
    /// IPv4 and IPv6 unicast, 4-octet AS, route refresh, enhanced route refresh,
    /// extended messages, graceful restart (receiving speaker, 120 s), hold time 90 s.
    pub fn new(local_as: u32, router_id: Ipv4Addr, peer_as: Option<u32>) -> Self {
        SessionConfig {
            local_as,
            router_id,
            peer_as,
            passive: false,
            hold_time: 90,
            min_hold_time: 3,
            connect_retry_ms: 5_000,
            families: alloc::vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
            add_path: Vec::new(),
            route_refresh: true,
            enhanced_route_refresh: true,
            extended_message: true,
            graceful_restart_time: Some(120),
            graceful_restart_families: Vec::new(),
            graceful_restart_restarting: false,
            role: None,
            strict_role: false,
            extended_next_hop: false,
        }
    }

    /// Our OPEN message.
    pub fn open(&self) -> OpenRepr {
        let mut caps: Vec<CapabilityRepr> = self
            .families
            .iter()
            .map(|f| CapabilityRepr::Multiprotocol(*f))
            .collect();
        if self.route_refresh {
            caps.push(CapabilityRepr::RouteRefresh);
        }
        if self.enhanced_route_refresh {
            caps.push(CapabilityRepr::EnhancedRouteRefresh);
        }
        if self.extended_message {
            caps.push(CapabilityRepr::ExtendedMessage);
        }
        if self.extended_next_hop {
            // RFC 8950 §3: IPv4 unicast, and VPN-IPv4 when it is advertised.
            let mut enh = alloc::vec![ExtendedNextHop {
                afi_safi: AfiSafi::IPV4_UNICAST,
                next_hop_afi: Afi::IPV6,
            }];
            for f in [AfiSafi::IPV4_MULTICAST, AfiSafi::VPNV4] {
                if self.families.contains(&f) {
                    enh.push(ExtendedNextHop {
                        afi_safi: f,
                        next_hop_afi: Afi::IPV6,
                    });
                }
            }
            caps.push(CapabilityRepr::ExtendedNextHop(enh));
        }
        if let Some(r) = self.role.filter(|_| self.peer_as != Some(self.local_as)) {
            caps.push(CapabilityRepr::Role(r));
        }
        if let Some(t) = self.graceful_restart_time {
            // No per-family entries unless configured: a receiving speaker only
            // retains nothing across its own restarts (RFC 4724 §3).
            caps.push(CapabilityRepr::GracefulRestart {
                restart_flags: if self.graceful_restart_restarting {
                    0x8
                } else {
                    0
                },
                restart_time: t.min(0x0fff),
                families: self.graceful_restart_families.clone(),
            });
        }
        caps.push(CapabilityRepr::FourOctetAs(self.local_as));
        if !self.add_path.is_empty() {
            caps.push(CapabilityRepr::AddPath(self.add_path.clone()));
        }
        OpenRepr::new(
            self.local_as,
            self.hold_time,
            self.router_id.to_bits(),
            caps,
        )
    }
}

/// Why the caller stops a session (sent as a Cease NOTIFICATION, RFC 4486).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Administrative Shutdown (6/2) with an RFC 9003 shutdown communication.
    Shutdown(String),
    /// Administrative Reset (6/4) with an RFC 9003 shutdown communication.
    Reset(String),
    /// Peer De-configured (6/3).
    Deconfigured,
    /// Connection Rejected (6/5).
    ConnectionRejected,
    /// Connection Collision Resolution (6/7).
    Collision,
    /// Out of Resources (6/8).
    OutOfResources,
}

impl StopReason {
    /// The Cease NOTIFICATION for this reason.
    pub fn notification(&self) -> NotificationRepr {
        let bare = |s: u8| NotificationRepr {
            code: code::CEASE,
            subcode: s,
            data: Vec::new(),
        };
        match self {
            StopReason::Shutdown(t) => NotificationRepr::shutdown(subcode::CEASE_ADMIN_SHUTDOWN, t),
            StopReason::Reset(t) => NotificationRepr::shutdown(subcode::CEASE_ADMIN_RESET, t),
            StopReason::Deconfigured => bare(subcode::CEASE_PEER_DECONFIGURED),
            StopReason::ConnectionRejected => bare(subcode::CEASE_CONNECTION_REJECTED),
            StopReason::Collision => bare(subcode::CEASE_COLLISION),
            StopReason::OutOfResources => bare(subcode::CEASE_OUT_OF_RESOURCES),
        }
    }
}

/// Why a session closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The caller stopped it; the Cease NOTIFICATION was sent if a connection was open.
    Stopped,
    /// We found an error and sent this NOTIFICATION.
    NotificationSent(NotificationRepr),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(NotificationRepr),
    /// The TCP connection closed without a NOTIFICATION.
    TcpClosed,
}

/// What the caller must do or may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Open a TCP connection to the peer, then call [`Session::tcp_connected`] or [`Session::tcp_failed`].
    Connect,
    /// The peer's OPEN was accepted (for collision detection: its BGP identifier is known now).
    OpenReceived(Advertised),
    /// The session is up: hand this to the engine ([`engine::Negotiated::from`]).
    Established(Negotiated),
    /// An UPDATE or ROUTE-REFRESH message, header included, for the engine.
    Message(Bytes),
    /// We sent this NOTIFICATION.
    NotificationSent(NotificationRepr),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(NotificationRepr),
    /// Close the TCP connection (after writing what [`Session::poll_transmit`] returns).
    Closed(CloseReason),
}

/// Which of two colliding connections survives (RFC 4271 §6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Survivor {
    /// The connection we initiated.
    Outbound,
    /// The connection the peer initiated.
    Inbound,
}

/// RFC 4271 §6.8: the connection initiated by the speaker with the higher BGP
/// identifier survives; the other one is closed with Cease / Connection
/// Collision Resolution (6/7).
pub fn collision_survivor(local_id: Ipv4Addr, remote_id: Ipv4Addr) -> Survivor {
    if local_id.to_bits() > remote_id.to_bits() {
        Survivor::Outbound
    } else {
        Survivor::Inbound
    }
}

/// The text of an RFC 9003 shutdown communication, when the NOTIFICATION carries a valid one.
pub fn shutdown_text(n: &NotificationRepr) -> Option<String> {
    let bytes = n.to_vec().ok()?;
    let p = NotificationPacket::new_checked(&bytes[..]).ok()?;
    p.shutdown_communication()?.ok().map(String::from)
}

impl From<&Negotiated> for engine::Negotiated {
    fn from(n: &Negotiated) -> Self {
        let mut families = AfiSafiSet::EMPTY;
        for f in n.families.as_slice() {
            families.insert(*f);
        }
        engine::Negotiated {
            router_id: Ipv4Addr::from_bits(n.peer_bgp_id),
            four_octet_as: n.four_octet_as,
            extended_message: n.extended_message,
            families,
            add_path_receive: n.add_path_receive,
            add_path_send: n.add_path_send,
            enhanced_route_refresh: n.enhanced_route_refresh,
            remote_role: n.remote_role(),
            extended_next_hop: n.extended_next_hop,
        }
    }
}

/// One BGP session's state machine.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    ours: Advertised,
    state: State,
    rx: BytesMut,
    max_len: usize,
    out: Vec<u8>,
    events: VecDeque<SessionEvent>,
    peer: Option<Advertised>,
    negotiated: Option<Negotiated>,
    connect_retry_at: Option<u64>,
    hold_at: Option<u64>,
    keepalive_at: Option<u64>,
    hold_ms: u64,
    keepalive_ms: u64,
}

impl Session {
    /// A session in Idle.
    pub fn new(cfg: SessionConfig) -> Self {
        let ours = cfg
            .open()
            .to_vec()
            .ok()
            .and_then(|b| OpenPacket::new_checked(b).ok())
            .map(|p| Advertised::from_open(&p))
            .unwrap_or_default();
        Session {
            cfg,
            ours,
            state: State::Idle,
            rx: BytesMut::new(),
            max_len: Context::MODERN.max_message_len(),
            out: Vec::new(),
            events: VecDeque::new(),
            peer: None,
            negotiated: None,
            connect_retry_at: None,
            hold_at: None,
            keepalive_at: None,
            hold_ms: 0,
            keepalive_ms: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What the peer's OPEN advertised (from OpenConfirm on).
    pub fn peer(&self) -> Option<&Advertised> {
        self.peer.as_ref()
    }

    /// What the OPEN exchange negotiated (from OpenConfirm on).
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The context for decoding the peer's UPDATEs (defaults until negotiated).
    pub fn receive_context(&self) -> Context {
        self.negotiated
            .map_or(Context::MODERN, |n| n.receive_context())
    }

    /// ManualStart (RFC 4271 §8.1.2, events 1 and 4): connect, or wait for the peer when passive.
    pub fn start(&mut self, now: u64) {
        if self.state != State::Idle {
            return;
        }
        self.reset_connection();
        if self.cfg.passive {
            self.state = State::Active;
        } else {
            self.state = State::Connect;
            self.connect_retry_at = Some(now.saturating_add(self.cfg.connect_retry_ms));
            self.events.push_back(SessionEvent::Connect);
        }
    }

    /// ManualStop (event 2): a Cease NOTIFICATION if a connection is open, then Idle.
    pub fn stop(&mut self, reason: StopReason) {
        if self.state == State::Idle {
            return;
        }
        if self.has_connection() {
            let n = reason.notification();
            self.send_notification(&n);
        }
        self.close(CloseReason::Stopped);
    }

    /// The TCP connection is up (events 16/17): send our OPEN.
    pub fn tcp_connected(&mut self, now: u64) {
        match self.state {
            State::Connect | State::Active => {
                self.reset_connection();
                self.connect_retry_at = None;
                match self.cfg.open().to_vec() {
                    Ok(open) => self.out.extend_from_slice(&open),
                    Err(_) => {
                        self.close(CloseReason::TcpClosed);
                        return;
                    }
                }
                self.hold_at = Some(now.saturating_add(OPEN_HOLD_MS));
                self.state = State::OpenSent;
            }
            State::Idle => self
                .events
                .push_back(SessionEvent::Closed(CloseReason::Stopped)),
            // A second connection for a session that has one: the caller runs
            // collision detection with another Session; this one refuses.
            _ => {}
        }
    }

    /// The outgoing connection failed (event 18): wait for the connect-retry timer.
    pub fn tcp_failed(&mut self, now: u64) {
        if self.state == State::Connect {
            self.state = State::Active;
            self.connect_retry_at = Some(now.saturating_add(self.cfg.connect_retry_ms));
        }
    }

    /// The connection closed under us (event 18 in the later states).
    pub fn tcp_closed(&mut self, now: u64) {
        if self.has_connection() {
            self.close(CloseReason::TcpClosed);
            let _ = now;
        }
    }

    /// Bytes read from the connection.
    pub fn handle_bytes(&mut self, now: u64, data: &[u8]) {
        if !self.has_connection() {
            return;
        }
        self.rx.extend_from_slice(data);
        loop {
            if !self.has_connection() {
                self.rx.clear();
                return;
            }
            match frame_len(&self.rx, self.max_len) {
                Ok(Some(n)) if self.rx.len() >= n => {
                    let msg = self.rx.split_to(n).freeze();
                    self.handle_message(now, msg);
                }
                Ok(_) => return,
                Err(e) => {
                    // Header errors point into the 19-byte header (marker, length, type).
                    let head = self
                        .rx
                        .get(..HEADER_LEN)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default();
                    self.fail(&e, &head);
                    return;
                }
            }
        }
    }

    /// Report an error the caller found in a message this session delivered
    /// (an UPDATE the engine rejected): send its NOTIFICATION and close.
    pub fn fail(&mut self, error: &Error, message: &[u8]) {
        let n = NotificationRepr::from_error(error, message);
        self.notify_and_close(n);
    }

    /// Send this NOTIFICATION and close.
    pub fn notify_and_close(&mut self, n: NotificationRepr) {
        if !self.has_connection() {
            return;
        }
        self.send_notification(&n);
        self.close(CloseReason::NotificationSent(n));
    }

    /// Timers: call when [`Session::poll_timeout`] says so (calling early is harmless).
    pub fn handle_timeout(&mut self, now: u64) {
        if self.hold_at.is_some_and(|t| now >= t) {
            self.hold_at = None;
            self.notify_and_close(NotificationRepr {
                code: code::HOLD_TIMER_EXPIRED,
                subcode: 0,
                data: Vec::new(),
            });
            return;
        }
        if self.keepalive_at.is_some_and(|t| now >= t) {
            self.out.extend_from_slice(&KEEPALIVE);
            self.keepalive_at = Some(now.saturating_add(self.keepalive_ms));
        }
        if self.connect_retry_at.is_some_and(|t| now >= t) {
            self.connect_retry_at = None;
            if matches!(self.state, State::Connect | State::Active) && !self.cfg.passive {
                self.state = State::Connect;
                self.connect_retry_at = Some(now.saturating_add(self.cfg.connect_retry_ms));
                self.events.push_back(SessionEvent::Connect);
            }
        }
    }

    /// The earliest deadline (milliseconds, the caller's clock), if any timer is armed.
    pub fn poll_timeout(&self) -> Option<u64> {
        [self.hold_at, self.keepalive_at, self.connect_retry_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Bytes to write to the connection, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(core::mem::take(&mut self.out))
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    fn has_connection(&self) -> bool {
        matches!(
            self.state,
            State::OpenSent | State::OpenConfirm | State::Established
        )
    }

    fn reset_connection(&mut self) {
        self.rx = BytesMut::new();
        self.max_len = Context::MODERN.max_message_len();
        self.peer = None;
        self.negotiated = None;
        self.hold_at = None;
        self.keepalive_at = None;
    }

    fn send_notification(&mut self, n: &NotificationRepr) {
        if let Ok(b) = n.to_vec() {
            self.out.extend_from_slice(&b);
        }
        self.events
            .push_back(SessionEvent::NotificationSent(n.clone()));
    }

    fn close(&mut self, reason: CloseReason) {
        self.state = State::Idle;
        self.hold_at = None;
        self.keepalive_at = None;
        self.connect_retry_at = None;
        self.rx.clear();
        self.events.push_back(SessionEvent::Closed(reason));
    }

    fn fsm_error(&mut self) {
        let sub = match self.state {
            State::OpenSent => fsm_subcode::OPEN_SENT,
            State::OpenConfirm => fsm_subcode::OPEN_CONFIRM,
            State::Established => fsm_subcode::ESTABLISHED,
            _ => fsm_subcode::UNSPECIFIED,
        };
        self.notify_and_close(NotificationRepr {
            code: code::FSM,
            subcode: sub,
            data: Vec::new(),
        });
    }

    fn restart_hold(&mut self, now: u64) {
        if self.hold_ms > 0 {
            self.hold_at = Some(now.saturating_add(self.hold_ms));
        }
    }

    fn handle_message(&mut self, now: u64, msg: Bytes) {
        let ty = msg.get(18).copied().and_then(MessageType::from_u8);
        if ty == Some(MessageType::Notification) {
            let n = match NotificationPacket::new_checked(&msg[..]) {
                Ok(p) => NotificationRepr::parse(&p),
                Err(_) => NotificationRepr {
                    code: msg.get(19).copied().unwrap_or(0),
                    subcode: msg.get(20).copied().unwrap_or(0),
                    data: msg.get(21..).map(<[u8]>::to_vec).unwrap_or_default(),
                },
            };
            self.events
                .push_back(SessionEvent::NotificationReceived(n.clone()));
            self.close(CloseReason::NotificationReceived(n));
            return;
        }
        match (self.state, ty) {
            (State::OpenSent, Some(MessageType::Open)) => self.handle_open(now, &msg),
            (State::OpenConfirm, Some(MessageType::Keepalive)) => {
                self.restart_hold(now);
                self.state = State::Established;
                if let Some(n) = self.negotiated {
                    self.events.push_back(SessionEvent::Established(n));
                }
            }
            (State::Established, Some(MessageType::Keepalive)) => self.restart_hold(now),
            (State::Established, Some(MessageType::Update | MessageType::RouteRefresh)) => {
                self.restart_hold(now);
                self.events.push_back(SessionEvent::Message(msg));
            }
            _ => self.fsm_error(),
        }
    }

    fn handle_open(&mut self, now: u64, msg: &[u8]) {
        let open = match OpenPacket::new_checked(msg) {
            Ok(o) => o,
            Err(e) => return self.fail(&e, msg),
        };
        let theirs = Advertised::from_open(&open);
        let open_err = |s: u8, data: Vec<u8>| NotificationRepr {
            code: code::OPEN_MESSAGE,
            subcode: s,
            data,
        };
        if self.cfg.peer_as.is_some_and(|a| a != theirs.asn) {
            let my_as = open.my_as().to_be_bytes().to_vec();
            return self.notify_and_close(open_err(subcode::BAD_PEER_AS, my_as));
        }
        // RFC 6286 §2.2: an internal peer must not use our identifier.
        if theirs.asn == self.cfg.local_as && theirs.bgp_id == self.cfg.router_id.to_bits() {
            return self.notify_and_close(open_err(subcode::BAD_BGP_IDENTIFIER, Vec::new()));
        }
        if theirs.hold_time != 0 && theirs.hold_time < self.cfg.min_hold_time {
            return self.notify_and_close(open_err(subcode::UNACCEPTABLE_HOLD_TIME, Vec::new()));
        }
        // RFC 9234 §4.2, on eBGP sessions where we advertised a role.
        if let Some(ours) = self.ours.role.filter(|_| theirs.asn != self.cfg.local_as) {
            let ok = match theirs.role {
                Some(r) => ours.pairs_with(r),
                None => !self.cfg.strict_role,
            };
            if !ok {
                return self.notify_and_close(open_err(subcode::ROLE_MISMATCH, Vec::new()));
            }
        }
        let neg = Negotiated::from_advertised(&self.ours, &theirs);
        self.peer = Some(theirs);
        self.negotiated = Some(neg);
        self.max_len = neg.receive_context().max_message_len();
        self.hold_ms = u64::from(neg.hold_time) * 1000;
        self.keepalive_ms = self.hold_ms / 3;
        self.out.extend_from_slice(&KEEPALIVE);
        if self.hold_ms > 0 {
            self.hold_at = Some(now.saturating_add(self.hold_ms));
            self.keepalive_at = Some(now.saturating_add(self.keepalive_ms));
        } else {
            self.hold_at = None;
            self.keepalive_at = None;
        }
        self.state = State::OpenConfirm;
        self.events.push_back(SessionEvent::OpenReceived(theirs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::open::OpenRepr;
    use std::vec;

    const LOCAL_AS: u32 = 65000;

    fn cfg(peer_as: u32, role: Option<BgpRole>, strict: bool) -> SessionConfig {
        let mut c = SessionConfig::new(LOCAL_AS, Ipv4Addr::new(10, 0, 0, 1), Some(peer_as));
        c.passive = true;
        c.role = role;
        c.strict_role = strict;
        c
    }

    /// A passive session fed the peer's OPEN (AS `peer_as`, role `role`);
    /// returns the session and our OPEN.
    fn exchange(c: SessionConfig, peer_as: u32, role: Option<BgpRole>) -> (Session, Vec<u8>) {
        let mut s = Session::new(c);
        s.start(0);
        s.tcp_connected(0);
        let ours = s.poll_transmit().unwrap_or_default();
        let mut caps = vec![CapabilityRepr::FourOctetAs(peer_as)];
        caps.extend(role.map(CapabilityRepr::Role));
        let theirs = OpenRepr::new(peer_as, 90, 0x0a00_0002, caps)
            .to_vec()
            .unwrap();
        s.handle_bytes(1, &theirs);
        (s, ours)
    }

    fn role_mismatch_sent(s: &mut Session) -> bool {
        let n = NotificationRepr {
            code: code::OPEN_MESSAGE,
            subcode: subcode::ROLE_MISMATCH,
            data: Vec::new(),
        };
        core::iter::from_fn(|| s.poll_event())
            .any(|e| e == SessionEvent::Closed(CloseReason::NotificationSent(n.clone())))
    }

    fn advertised_role(open: &[u8]) -> Option<BgpRole> {
        Advertised::from_open(&OpenPacket::new_checked(open).unwrap()).role
    }

    #[test]
    fn rfc9234_4_2_allowed_pair_comes_up_with_the_peer_role() {
        let (mut s, ours) = exchange(
            cfg(65001, Some(BgpRole::PROVIDER), true),
            65001,
            Some(BgpRole::CUSTOMER),
        );
        assert_eq!(advertised_role(&ours), Some(BgpRole::PROVIDER));
        assert_eq!(s.state(), State::OpenConfirm);
        let n = s.negotiated().copied().unwrap();
        assert_eq!(n.peer_role, Some(BgpRole::CUSTOMER));
        assert_eq!(
            engine::Negotiated::from(&n).remote_role,
            Some(BgpRole::CUSTOMER)
        );
        assert!(!role_mismatch_sent(&mut s));
    }

    #[test]
    fn rfc9234_4_2_mismatched_pair_is_role_mismatch_2_11() {
        for (ours, theirs) in [
            (BgpRole::PROVIDER, BgpRole::PROVIDER),
            (BgpRole::CUSTOMER, BgpRole::PEER),
            (BgpRole::RS, BgpRole::RS),
            (BgpRole::PEER, BgpRole::CUSTOMER),
            (BgpRole::PEER, BgpRole(9)),
        ] {
            let (mut s, _) = exchange(cfg(65001, Some(ours), false), 65001, Some(theirs));
            assert_eq!(s.state(), State::Idle, "{ours:?} {theirs:?}");
            assert!(role_mismatch_sent(&mut s), "{ours:?} {theirs:?}");
        }
    }

    #[test]
    fn rfc9234_4_2_strict_mode_refuses_a_peer_without_role() {
        let (mut s, _) = exchange(cfg(65001, Some(BgpRole::PEER), true), 65001, None);
        assert_eq!(s.state(), State::Idle);
        assert!(role_mismatch_sent(&mut s));
        // Not strict: the session comes up; the peer is taken as the counterpart of our role.
        let (mut s, _) = exchange(cfg(65001, Some(BgpRole::PEER), false), 65001, None);
        assert_eq!(s.state(), State::OpenConfirm);
        assert!(!role_mismatch_sent(&mut s));
        let n = s.negotiated().copied().unwrap();
        assert_eq!(n.peer_role, None);
        assert_eq!(n.remote_role(), Some(BgpRole::PEER));
    }

    #[test]
    fn rfc9234_4_roles_are_not_used_on_ibgp() {
        // Not advertised toward a configured iBGP peer, and its role is not checked.
        let (mut s, ours) = exchange(
            cfg(LOCAL_AS, Some(BgpRole::PROVIDER), true),
            LOCAL_AS,
            Some(BgpRole::PROVIDER),
        );
        assert_eq!(advertised_role(&ours), None);
        assert_eq!(s.state(), State::OpenConfirm);
        assert!(!role_mismatch_sent(&mut s));
        assert_eq!(s.negotiated().and_then(|n| n.remote_role()), None);
        // Any AS accepted: advertised, but an iBGP peer is neither checked nor given a role.
        let mut c = cfg(LOCAL_AS, Some(BgpRole::PROVIDER), true);
        c.peer_as = None;
        let (mut s, ours) = exchange(c, LOCAL_AS, None);
        assert_eq!(advertised_role(&ours), Some(BgpRole::PROVIDER));
        assert_eq!(s.state(), State::OpenConfirm);
        assert!(!role_mismatch_sent(&mut s));
        assert_eq!(s.negotiated().and_then(|n| n.remote_role()), None);
    }

    #[test]
    fn rfc8950_extended_next_hop_is_advertised_when_configured_and_negotiated() {
        let mut c = cfg(65001, None, false);
        let (s, ours) = exchange(c.clone(), 65001, None);
        let p = OpenPacket::new_checked(&ours[..]).unwrap();
        assert!(Advertised::from_open(&p).extended_next_hop.is_empty());
        assert!(s.negotiated().unwrap().extended_next_hop.is_empty());
        c.extended_next_hop = true;
        let mut s = Session::new(c);
        s.start(0);
        s.tcp_connected(0);
        let ours = s.poll_transmit().unwrap();
        let p = OpenPacket::new_checked(&ours[..]).unwrap();
        assert!(Advertised::from_open(&p)
            .extended_next_hop
            .contains(AfiSafi::IPV4_UNICAST));
        // The peer advertises it too (same OPEN shape): negotiated.
        let mut theirs = OpenRepr::parse(&p);
        theirs.bgp_id = 0x0a00_0002;
        theirs.my_as = 65001;
        for c in theirs.params.iter_mut().flatten() {
            if let CapabilityRepr::FourOctetAs(a) = c {
                *a = 65001;
            }
        }
        s.handle_bytes(1, &theirs.to_vec().unwrap());
        let n = engine::Negotiated::from(s.negotiated().unwrap());
        assert!(n.extended_next_hop.contains(AfiSafi::IPV4_UNICAST));
    }
}
