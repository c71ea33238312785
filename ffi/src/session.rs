//! `rfl_session`: the sans-IO BGP session state machine (RFC 4271 §8) behind a C handle.
//!
//! The caller owns the socket and the clock: it reports the TCP connection
//! (`rfl_session_tcp_connected` / `_tcp_failed` / `_tcp_closed`), feeds the
//! bytes it reads with the time in milliseconds (`rfl_session_handle_bytes`),
//! calls `rfl_session_handle_timeout` when `rfl_session_poll_timeout` says,
//! writes what `rfl_session_poll_transmit` gives, and acts on
//! `rfl_session_poll_event` (connect, established: `rfl_engine_peer_up`,
//! message: `rfl_engine_handle_message`, closed: `rfl_engine_peer_down`).

use core::ffi::c_char;
use core::net::Ipv4Addr;

use reflector_core::engine;
use reflector_core::session::{
    CloseReason, Session, SessionConfig, SessionEvent, State, StopReason,
};
use reflector_core::wire::capability::AddPathFamily;
use reflector_core::wire::notification::{NotificationPacket, NotificationRepr};

use crate::engine::{negotiated_to, rfl_negotiated};
use crate::handle::{self, with, Handle};
use crate::{
    boundary, families_from_bits, out, rfl_result, slice, slice_mut, write, Fail, FAMILY_BITS,
};

/// One BGP session's state machine (opaque). Create with `rfl_session_new`, free with `rfl_session_free`.
pub struct rfl_session {
    _private: [u8; 0],
}

/// The value behind an `rfl_session` handle.
pub(crate) struct SessionHandle {
    session: Session,
    tx: Vec<u8>,
    tx_pos: usize,
    event_bytes: Vec<u8>,
}

impl Handle for rfl_session {
    type Value = SessionHandle;
    const MAGIC: u64 = 0x7266_6c5f_7365_7373;
    const NAME: &'static str = "session";
    const TYPE: &'static str = "rfl_session";
}

/// The six states of RFC 4271 §8.2.2.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_session_state {
    /// Nothing happens until `rfl_session_start`.
    Idle = 0,
    /// Waiting for an outgoing TCP connection.
    Connect = 1,
    /// Waiting for an incoming connection (or the connect-retry timer).
    Active = 2,
    /// Our OPEN is sent; waiting for the peer's.
    OpenSent = 3,
    /// OPENs exchanged; waiting for the peer's KEEPALIVE.
    OpenConfirm = 4,
    /// UPDATEs flow.
    Established = 5,
}

/// Why the caller stops a session (the Cease subcode sent).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_stop_reason {
    /// Administrative Shutdown (6/2), with the text as RFC 9003 shutdown communication.
    Shutdown = 0,
    /// Administrative Reset (6/4), with the text as RFC 9003 shutdown communication.
    Reset = 1,
    /// Peer De-configured (6/3).
    Deconfigured = 2,
    /// Connection Rejected (6/5).
    ConnectionRejected = 3,
    /// Connection Collision Resolution (6/7).
    Collision = 4,
    /// Out of Resources (6/8).
    OutOfResources = 5,
}

/// The kind of a session event.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_session_event_kind {
    /// Open a TCP connection to the peer, then call `_tcp_connected` or `_tcp_failed`.
    Connect = 0,
    /// The peer's OPEN was accepted (`peer_as`, `peer_router_id`, `hold_time` are set).
    OpenReceived = 1,
    /// The session is up: take `rfl_session_negotiated` and pass it to `rfl_engine_peer_up`.
    Established = 2,
    /// An UPDATE or ROUTE-REFRESH (`message`, `message_len`) for `rfl_engine_handle_message`.
    Message = 3,
    /// We sent a NOTIFICATION (`error_code`, `error_subcode`; its data in `message`).
    NotificationSent = 4,
    /// The peer sent a NOTIFICATION (`error_code`, `error_subcode`; its data in `message`).
    NotificationReceived = 5,
    /// Close the TCP connection after writing what `_poll_transmit` gives (`close_reason`).
    Closed = 6,
}

/// Why a session closed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rfl_close_reason {
    /// Not a close event.
    None = 0,
    /// The caller stopped it.
    Stopped = 1,
    /// We found an error and sent a NOTIFICATION.
    NotificationSent = 2,
    /// The peer sent a NOTIFICATION.
    NotificationReceived = 3,
    /// The TCP connection closed without a NOTIFICATION.
    TcpClosed = 4,
}

/// A session's configuration. Fill with `rfl_session_config_init`, then adjust.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_session_config {
    /// Size of this struct in bytes, set by `rfl_session_config_init`: the ABI version.
    pub struct_size: u32,
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP identifier (host order, non-zero).
    pub router_id: u32,
    /// The AS the peer must announce; checked only when `check_peer_as`.
    pub peer_as: u32,
    /// Refuse (2/2 Bad Peer AS) a peer announcing another AS than `peer_as`.
    pub check_peer_as: bool,
    /// Wait for the peer to connect instead of connecting.
    pub passive: bool,
    /// Hold time we propose, in seconds (0, or 3 and above).
    pub hold_time: u16,
    /// Smallest non-zero hold time accepted from the peer.
    pub min_hold_time: u16,
    /// Delay between connection attempts, in milliseconds.
    pub connect_retry_ms: u64,
    /// Multiprotocol families advertised (RFL_FAMILY_* bits, at least one).
    pub families: u32,
    /// Families in which we advertise receiving ADD-PATH identifiers.
    pub add_path_receive: u32,
    /// Families in which we advertise sending ADD-PATH identifiers.
    pub add_path_send: u32,
    /// Advertise ROUTE-REFRESH (RFC 2918).
    pub route_refresh: bool,
    /// Advertise enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Advertise extended messages (RFC 8654).
    pub extended_message: bool,
    /// Advertise graceful restart (receiving speaker) with `graceful_restart_time`.
    pub graceful_restart: bool,
    /// Restart time in seconds for the graceful restart capability.
    pub graceful_restart_time: u16,
    /// Advertise our BGP Role `local_role` (RFC 9234; eBGP sessions only).
    pub has_local_role: bool,
    /// Our BGP Role on the session: 0 Provider, 1 Route Server, 2 RS Client, 3 Customer, 4 Peer.
    pub local_role: u8,
    /// With a role: refuse (2/11 Role Mismatch) an eBGP peer that sends no role.
    pub strict_role: bool,
    /// Advertise extended next hop (RFC 8950) for IPv4 unicast with IPv6 next hops.
    pub extended_next_hop: bool,
}

/// A session event. Pointers in it are borrowed from the session and valid
/// until the next call taking a non-const pointer to the same session.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rfl_session_event {
    /// Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
    /// library writes that many bytes at most and sets it to the number it wrote.
    pub struct_size: u32,
    /// What happened.
    pub kind: rfl_session_event_kind,
    /// MESSAGE: the message, header included; NOTIFICATION_*: the NOTIFICATION data. Else NULL.
    pub message: *const u8,
    /// Length of `message` in bytes.
    pub message_len: usize,
    /// OPEN_RECEIVED / ESTABLISHED: the peer's AS.
    pub peer_as: u32,
    /// OPEN_RECEIVED / ESTABLISHED: the peer's BGP identifier (host order).
    pub peer_router_id: u32,
    /// OPEN_RECEIVED: the peer's hold time; ESTABLISHED: the negotiated hold time (seconds).
    pub hold_time: u16,
    /// NOTIFICATION_*: error code.
    pub error_code: u8,
    /// NOTIFICATION_*: error subcode.
    pub error_subcode: u8,
    /// CLOSED: why.
    pub close_reason: rfl_close_reason,
}

crate::sized!(
    rfl_session_config,
    core::mem::size_of::<rfl_session_config>()
);
crate::sized!(rfl_session_event, core::mem::size_of::<rfl_session_event>());

/// The session defaults for `local_as` and `router_id`.
fn session_config_defaults(local_as: u32, router_id: u32) -> rfl_session_config {
    let d = SessionConfig::new(local_as, Ipv4Addr::from_bits(router_id), None);
    let families = d
        .families
        .iter()
        .map(|f| crate::family_bit(*f))
        .fold(0, |a, b| a | b);
    rfl_session_config {
        struct_size: core::mem::size_of::<rfl_session_config>() as u32,
        local_as,
        router_id,
        peer_as: 0,
        check_peer_as: false,
        passive: d.passive,
        hold_time: d.hold_time,
        min_hold_time: d.min_hold_time,
        connect_retry_ms: d.connect_retry_ms,
        families,
        add_path_receive: 0,
        add_path_send: 0,
        route_refresh: d.route_refresh,
        enhanced_route_refresh: d.enhanced_route_refresh,
        extended_message: d.extended_message,
        graceful_restart: d.graceful_restart_time.is_some(),
        graceful_restart_time: d.graceful_restart_time.unwrap_or(0),
        has_local_role: d.role.is_some(),
        local_role: d.role.map_or(0, |r| r.0),
        strict_role: d.strict_role,
        extended_next_hop: d.extended_next_hop,
    }
}

/// The C summary of a negotiated session, graceful restart included.
fn negotiated_of(n: &reflector_core::wire::open::Negotiated) -> rfl_negotiated {
    let mut r = negotiated_to(&engine::Negotiated::from(n));
    r.route_refresh = n.route_refresh;
    r.graceful_restart = n.graceful_restart.is_some();
    r.graceful_restart_time = n.graceful_restart.unwrap_or(0);
    r.graceful_restart_preserved = crate::families_to_bits(n.graceful_restart_preserved);
    r
}

/// Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) with
/// defaults: IPv4 and IPv6 unicast, route refresh, enhanced route refresh,
/// extended messages, graceful restart (120 s), hold time 90 s, connect retry
/// 5 s, active, any peer AS; sets its `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_config_init(
    local_as: u32,
    router_id: u32,
    out_config: *mut rfl_session_config,
    config_size: usize,
) -> rfl_result {
    boundary(|| {
        let c = session_config_defaults(local_as, router_id);
        // SAFETY: the caller gives `config_size` writable bytes.
        unsafe { crate::init_sized(out_config, config_size, c, "out_config")? };
        Ok(rfl_result::Ok)
    })
}

/// Create a session in Idle from `*config`; the caller owns `*out_session`
/// and frees it with `rfl_session_free`.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_new(
    config: *const rfl_session_config,
    out_session: *mut *mut rfl_session,
) -> rfl_result {
    boundary(|| {
        let o = out(out_session, "out_session")?;
        // SAFETY: checked by `read_sized`; fields past the caller's size keep their defaults.
        let c = unsafe { crate::read_sized(config, session_config_defaults(0, 0), "config")? };
        if c.router_id == 0 {
            return Err(Fail::invalid("config.router_id is 0"));
        }
        if c.hold_time != 0 && c.hold_time < 3 {
            return Err(Fail::invalid("config.hold_time must be 0 or at least 3"));
        }
        let fams = families_from_bits(c.families, "config.families")?;
        let rx = families_from_bits(c.add_path_receive, "config.add_path_receive")?;
        let tx = families_from_bits(c.add_path_send, "config.add_path_send")?;
        let mut cfg = SessionConfig::new(
            c.local_as,
            Ipv4Addr::from_bits(c.router_id),
            c.check_peer_as.then_some(c.peer_as),
        );
        cfg.passive = c.passive;
        cfg.hold_time = c.hold_time;
        cfg.min_hold_time = c.min_hold_time;
        cfg.connect_retry_ms = c.connect_retry_ms;
        cfg.families = FAMILY_BITS
            .iter()
            .filter(|(_, f)| fams.contains(*f))
            .map(|(_, f)| *f)
            .collect();
        if cfg.families.is_empty() {
            return Err(Fail::invalid("config.families is empty"));
        }
        cfg.add_path = FAMILY_BITS
            .iter()
            .filter_map(|(_, f)| {
                let sr = u8::from(rx.contains(*f)) | (u8::from(tx.contains(*f)) << 1);
                (sr != 0).then_some(AddPathFamily {
                    afi_safi: *f,
                    send_receive: sr,
                })
            })
            .collect();
        cfg.route_refresh = c.route_refresh;
        cfg.enhanced_route_refresh = c.enhanced_route_refresh;
        cfg.extended_message = c.extended_message;
        cfg.graceful_restart_time = c.graceful_restart.then_some(c.graceful_restart_time);
        if c.has_local_role && c.local_role > 4 {
            return Err(Fail::invalid(format!(
                "config.local_role {} is not a BGP Role (0-4)",
                c.local_role
            )));
        }
        cfg.role = c
            .has_local_role
            .then_some(reflector_core::wire::capability::BgpRole(c.local_role));
        cfg.strict_role = c.strict_role;
        cfg.extended_next_hop = c.extended_next_hop;
        let h = SessionHandle {
            session: Session::new(cfg),
            tx: Vec::new(),
            tx_pos: 0,
            event_bytes: Vec::new(),
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, handle::into_raw(h)) };
        Ok(rfl_result::Ok)
    })
}

/// Free a session (NULL is ignored). The handle must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_free(session: *mut rfl_session) -> rfl_result {
    // SAFETY: checked by `free`.
    unsafe { handle::free(session) }
}

/// ManualStart: connect (a CONNECT event follows), or wait for the peer when passive.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_start(session: *mut rfl_session, now_ms: u64) -> rfl_result {
    with(session, |s| {
        s.session.start(now_ms);
        Ok(rfl_result::Ok)
    })
}

/// ManualStop: send a Cease NOTIFICATION for `reason` (an rfl_stop_reason) if
/// connected, then Idle. `text` (UTF-8, `text_len` bytes, NULL with 0 for
/// none) is the shutdown communication for SHUTDOWN and RESET.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_stop(
    session: *mut rfl_session,
    reason: u32,
    text: *const c_char,
    text_len: usize,
) -> rfl_result {
    with(session, |s| {
        // SAFETY: the caller gives `text_len` readable bytes.
        let t = unsafe { slice(text.cast::<u8>(), text_len, "text")? };
        let t = core::str::from_utf8(t)
            .map_err(|_| Fail::invalid("text is not UTF-8"))?
            .to_string();
        let r = match reason {
            0 => StopReason::Shutdown(t),
            1 => StopReason::Reset(t),
            2 => StopReason::Deconfigured,
            3 => StopReason::ConnectionRejected,
            4 => StopReason::Collision,
            5 => StopReason::OutOfResources,
            v => return Err(Fail::invalid(format!("{v} is not an rfl_stop_reason"))),
        };
        s.session.stop(r);
        Ok(rfl_result::Ok)
    })
}

/// The TCP connection is up: the session sends its OPEN.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_tcp_connected(
    session: *mut rfl_session,
    now_ms: u64,
) -> rfl_result {
    with(session, |s| {
        s.session.tcp_connected(now_ms);
        Ok(rfl_result::Ok)
    })
}

/// The outgoing connection attempt failed: wait for the connect-retry timer.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_tcp_failed(
    session: *mut rfl_session,
    now_ms: u64,
) -> rfl_result {
    with(session, |s| {
        s.session.tcp_failed(now_ms);
        Ok(rfl_result::Ok)
    })
}

/// The connection closed under the session (EOF or error on the socket).
#[no_mangle]
pub unsafe extern "C" fn rfl_session_tcp_closed(
    session: *mut rfl_session,
    now_ms: u64,
) -> rfl_result {
    with(session, |s| {
        s.session.tcp_closed(now_ms);
        Ok(rfl_result::Ok)
    })
}

/// Bytes read from the connection (`data_len` bytes; any split of the stream).
#[no_mangle]
pub unsafe extern "C" fn rfl_session_handle_bytes(
    session: *mut rfl_session,
    now_ms: u64,
    data: *const u8,
    data_len: usize,
) -> rfl_result {
    with(session, |s| {
        // SAFETY: the caller gives `data_len` readable bytes.
        let d = unsafe { slice(data, data_len, "data")? };
        s.session.handle_bytes(now_ms, d);
        Ok(rfl_result::Ok)
    })
}

/// Send this NOTIFICATION (a whole message, header included, e.g. from an
/// RFL_OUTCOME_KIND_RESET outcome) and close the session.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_send_notification(
    session: *mut rfl_session,
    notification: *const u8,
    notification_len: usize,
) -> rfl_result {
    with(session, |s| {
        // SAFETY: the caller gives `notification_len` readable bytes.
        let b = unsafe { slice(notification, notification_len, "notification")? };
        let p = NotificationPacket::new_checked(b)
            .map_err(|e| Fail::new(rfl_result::Malformed, format!("notification: {e}")))?;
        s.session.notify_and_close(NotificationRepr::parse(&p));
        Ok(rfl_result::Ok)
    })
}

/// Timers: call at (or after) the deadline `rfl_session_poll_timeout` gives.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_handle_timeout(
    session: *mut rfl_session,
    now_ms: u64,
) -> rfl_result {
    with(session, |s| {
        s.session.handle_timeout(now_ms);
        Ok(rfl_result::Ok)
    })
}

/// The earliest armed deadline (milliseconds, the caller's clock) into
/// `*out_deadline_ms`; RFL_RESULT_EMPTY when no timer is armed.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_poll_timeout(
    session: *const rfl_session,
    out_deadline_ms: *mut u64,
) -> rfl_result {
    boundary(|| {
        let o = out(out_deadline_ms, "out_deadline_ms")?;
        // SAFETY: checked by `live_ref`.
        let s = unsafe { handle::live_ref(session)? };
        match s.session.poll_timeout() {
            Some(t) => {
                // SAFETY: checked by `out`.
                unsafe { write(o, t) };
                Ok(rfl_result::Ok)
            }
            None => Ok(rfl_result::Empty),
        }
    })
}

/// Bytes to write to the connection, into `buf` (up to `buf_len`); `*out_len`
/// gets how many were copied. RFL_RESULT_EMPTY when nothing is waiting. What
/// does not fit stays for the next call; any buffer size works.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_poll_transmit(
    session: *mut rfl_session,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> rfl_result {
    with(session, |s| {
        let o = out(out_len, "out_len")?;
        if buf_len == 0 {
            return Err(Fail::invalid("buf_len is 0"));
        }
        // SAFETY: the caller gives `buf_len` writable bytes.
        let dst = unsafe { slice_mut(buf, buf_len, "buf")? };
        if s.tx_pos >= s.tx.len() {
            s.tx.clear();
            s.tx_pos = 0;
            match s.session.poll_transmit() {
                Some(b) => s.tx = b,
                None => return Ok(rfl_result::Empty),
            }
        }
        let rest = s.tx.get(s.tx_pos..).unwrap_or(&[]);
        let n = rest.len().min(dst.len());
        if let (Some(d), Some(src)) = (dst.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(src);
        }
        s.tx_pos += n;
        // SAFETY: checked by `out`.
        unsafe { write(o, n) };
        Ok(rfl_result::Ok)
    })
}

/// The next event into `*out_event`; RFL_RESULT_EMPTY when there is none.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_poll_event(
    session: *mut rfl_session,
    out_event: *mut rfl_session_event,
) -> rfl_result {
    with(session, |s| {
        let o = crate::out_sized(out_event, "out_event")?;
        let Some(ev) = s.session.poll_event() else {
            return Ok(rfl_result::Empty);
        };
        let mut r = rfl_session_event {
            struct_size: 0,
            kind: rfl_session_event_kind::Connect,
            message: core::ptr::null(),
            message_len: 0,
            peer_as: 0,
            peer_router_id: 0,
            hold_time: 0,
            error_code: 0,
            error_subcode: 0,
            close_reason: rfl_close_reason::None,
        };
        let mut bytes: Option<Vec<u8>> = None;
        match ev {
            SessionEvent::Connect => {}
            SessionEvent::OpenReceived(a) => {
                r.kind = rfl_session_event_kind::OpenReceived;
                r.peer_as = a.asn;
                r.peer_router_id = a.bgp_id;
                r.hold_time = a.hold_time;
            }
            SessionEvent::Established(n) => {
                r.kind = rfl_session_event_kind::Established;
                r.peer_as = n.peer_as;
                r.peer_router_id = n.peer_bgp_id;
                r.hold_time = n.hold_time;
            }
            SessionEvent::Message(m) => {
                r.kind = rfl_session_event_kind::Message;
                bytes = Some(m.to_vec());
            }
            SessionEvent::NotificationSent(n) => {
                r.kind = rfl_session_event_kind::NotificationSent;
                r.error_code = n.code;
                r.error_subcode = n.subcode;
                bytes = Some(n.data);
            }
            SessionEvent::NotificationReceived(n) => {
                r.kind = rfl_session_event_kind::NotificationReceived;
                r.error_code = n.code;
                r.error_subcode = n.subcode;
                bytes = Some(n.data);
            }
            SessionEvent::Closed(c) => {
                r.kind = rfl_session_event_kind::Closed;
                r.close_reason = match c {
                    CloseReason::Stopped => rfl_close_reason::Stopped,
                    CloseReason::NotificationSent(_) => rfl_close_reason::NotificationSent,
                    CloseReason::NotificationReceived(_) => rfl_close_reason::NotificationReceived,
                    CloseReason::TcpClosed => rfl_close_reason::TcpClosed,
                };
            }
        }
        if let Some(b) = bytes {
            s.event_bytes = b;
            r.message = s.event_bytes.as_ptr();
            r.message_len = s.event_bytes.len();
        }
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, r) };
        Ok(rfl_result::Ok)
    })
}

/// The current state into `*out_state`.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_get_state(
    session: *const rfl_session,
    out_state: *mut rfl_session_state,
) -> rfl_result {
    boundary(|| {
        let o = out(out_state, "out_state")?;
        // SAFETY: checked by `live_ref`.
        let s = unsafe { handle::live_ref(session)? };
        let st = match s.session.state() {
            State::Idle => rfl_session_state::Idle,
            State::Connect => rfl_session_state::Connect,
            State::Active => rfl_session_state::Active,
            State::OpenSent => rfl_session_state::OpenSent,
            State::OpenConfirm => rfl_session_state::OpenConfirm,
            State::Established => rfl_session_state::Established,
        };
        // SAFETY: checked by `out`.
        unsafe { write(o, st) };
        Ok(rfl_result::Ok)
    })
}

/// What the OPEN exchange negotiated, graceful restart included, into
/// `*out_negotiated` (set its `struct_size` first; from OpenConfirm on), ready for
/// `rfl_engine_peer_up`; RFL_RESULT_INVALID_STATE before that.
#[no_mangle]
pub unsafe extern "C" fn rfl_session_negotiated(
    session: *const rfl_session,
    out_negotiated: *mut rfl_negotiated,
) -> rfl_result {
    boundary(|| {
        let o = crate::out_sized(out_negotiated, "out_negotiated")?;
        // SAFETY: checked by `live_ref`.
        let s = unsafe { handle::live_ref(session)? };
        let n = s
            .session
            .negotiated()
            .ok_or_else(|| Fail::new(rfl_result::InvalidState, "no OPEN exchange completed yet"))?;
        // SAFETY: checked by `out_sized`.
        unsafe { crate::write_sized(o, negotiated_of(n)) };
        Ok(rfl_result::Ok)
    })
}
