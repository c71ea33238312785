package reflector

/*
#include <stdlib.h>
#include "reflector.h"
*/
import "C"

import (
	"net/netip"
	"runtime"
	"unsafe"
)

// SessionConfig configures a Session. Zero values keep the library defaults
// except where a field says otherwise.
type SessionConfig struct {
	// LocalAS is our AS.
	LocalAS uint32
	// RouterID is our BGP identifier (IPv4).
	RouterID netip.Addr
	// PeerAS, when non-zero, is the AS the peer must announce.
	PeerAS uint32
	// Passive waits for the peer to connect.
	Passive bool
	// HoldTime in seconds (0 keeps the default, 90).
	HoldTime uint16
	// MinHoldTime refuses a peer's smaller non-zero hold time (0 keeps the default).
	MinHoldTime uint16
	// ConnectRetryMs is the connect retry time (0 keeps the default, 5 s).
	ConnectRetryMs uint64
	// Families to advertise (0 keeps the default: IPv4 and IPv6 unicast).
	Families Family
	// AddPathReceive and AddPathSend: ADD-PATH per family (RFC 7911).
	AddPathReceive, AddPathSend Family
	// NoRouteRefresh, NoEnhancedRouteRefresh, NoExtendedMessage turn default capabilities off.
	NoRouteRefresh, NoEnhancedRouteRefresh, NoExtendedMessage bool
	// NoGracefulRestart turns the graceful restart capability off.
	NoGracefulRestart bool
	// GracefulRestartTime in seconds (0 keeps the default, 120).
	GracefulRestartTime uint16
	// LocalRole, when HasLocalRole, is our BGP Role (RFC 9234): 0 provider ... 4 peer.
	HasLocalRole bool
	LocalRole    uint8
	// StrictRole refuses a peer that sends no role.
	StrictRole bool
	// ExtendedNextHop advertises IPv4 unicast with IPv6 next hops (RFC 8950).
	ExtendedNextHop bool
}

// State is a session's RFC 4271 state.
type State uint32

// States.
const (
	Idle        State = C.RFL_SESSION_STATE_IDLE
	Connect     State = C.RFL_SESSION_STATE_CONNECT
	Active      State = C.RFL_SESSION_STATE_ACTIVE
	OpenSent    State = C.RFL_SESSION_STATE_OPEN_SENT
	OpenConfirm State = C.RFL_SESSION_STATE_OPEN_CONFIRM
	Established State = C.RFL_SESSION_STATE_ESTABLISHED
)

// SessionEventKind is the kind of a SessionEvent.
type SessionEventKind uint32

// Session event kinds.
const (
	SessionConnect              SessionEventKind = C.RFL_SESSION_EVENT_KIND_CONNECT
	SessionOpenReceived         SessionEventKind = C.RFL_SESSION_EVENT_KIND_OPEN_RECEIVED
	SessionEstablished          SessionEventKind = C.RFL_SESSION_EVENT_KIND_ESTABLISHED
	SessionMessage              SessionEventKind = C.RFL_SESSION_EVENT_KIND_MESSAGE
	SessionNotificationSent     SessionEventKind = C.RFL_SESSION_EVENT_KIND_NOTIFICATION_SENT
	SessionNotificationReceived SessionEventKind = C.RFL_SESSION_EVENT_KIND_NOTIFICATION_RECEIVED
	SessionClosed               SessionEventKind = C.RFL_SESSION_EVENT_KIND_CLOSED
)

// CloseReason says why a session closed.
type CloseReason uint32

// Close reasons.
const (
	CloseNone                 CloseReason = C.RFL_CLOSE_REASON_NONE
	CloseStopped              CloseReason = C.RFL_CLOSE_REASON_STOPPED
	CloseNotificationSent     CloseReason = C.RFL_CLOSE_REASON_NOTIFICATION_SENT
	CloseNotificationReceived CloseReason = C.RFL_CLOSE_REASON_NOTIFICATION_RECEIVED
	CloseTCPClosed            CloseReason = C.RFL_CLOSE_REASON_TCP_CLOSED
)

// StopReason is the Cease subcode family of Session.Stop.
type StopReason uint32

// Stop reasons.
const (
	StopShutdown           StopReason = C.RFL_STOP_REASON_SHUTDOWN
	StopReset              StopReason = C.RFL_STOP_REASON_RESET
	StopDeconfigured       StopReason = C.RFL_STOP_REASON_DECONFIGURED
	StopConnectionRejected StopReason = C.RFL_STOP_REASON_CONNECTION_REJECTED
	StopCollision          StopReason = C.RFL_STOP_REASON_COLLISION
	StopOutOfResources     StopReason = C.RFL_STOP_REASON_OUT_OF_RESOURCES
)

// SessionEvent is something the caller must act on.
type SessionEvent struct {
	Kind SessionEventKind
	// Message is the UPDATE/ROUTE-REFRESH (SessionMessage) or NOTIFICATION data (copied).
	Message []byte
	// PeerAS and PeerRouterID: OPEN_RECEIVED and ESTABLISHED.
	PeerAS       uint32
	PeerRouterID netip.Addr
	// HoldTime: the peer's (OPEN_RECEIVED) or the negotiated one (ESTABLISHED), seconds.
	HoldTime uint16
	// ErrorCode and ErrorSub: NOTIFICATION_*.
	ErrorCode, ErrorSub uint8
	// CloseReason: CLOSED.
	CloseReason CloseReason
}

// Session is one BGP session's state machine (rfl_session); the caller owns
// the socket and the clock (milliseconds, any monotonic origin). Not safe for
// concurrent use.
type Session struct {
	p   *C.rfl_session
	buf []byte
}

// NewSession creates a session in Idle; release it with Close.
func NewSession(cfg SessionConfig) (*Session, error) {
	if !cfg.RouterID.Is4() {
		return nil, invalid("RouterID must be an IPv4 address")
	}
	var c C.rfl_session_config
	if err := call(func() C.rfl_result {
		return C.rfl_session_config_init(C.uint32_t(cfg.LocalAS), idOf(cfg.RouterID), &c, C.size_t(unsafe.Sizeof(c)))
	}); err != nil {
		return nil, err
	}
	if cfg.PeerAS != 0 {
		c.peer_as = C.uint32_t(cfg.PeerAS)
		c.check_peer_as = true
	}
	c.passive = C.bool(cfg.Passive)
	if cfg.HoldTime != 0 {
		c.hold_time = C.uint16_t(cfg.HoldTime)
	}
	if cfg.MinHoldTime != 0 {
		c.min_hold_time = C.uint16_t(cfg.MinHoldTime)
	}
	if cfg.ConnectRetryMs != 0 {
		c.connect_retry_ms = C.uint64_t(cfg.ConnectRetryMs)
	}
	if cfg.Families != 0 {
		c.families = C.uint32_t(cfg.Families)
	}
	c.add_path_receive = C.uint32_t(cfg.AddPathReceive)
	c.add_path_send = C.uint32_t(cfg.AddPathSend)
	c.route_refresh = C.bool(!cfg.NoRouteRefresh)
	c.enhanced_route_refresh = C.bool(!cfg.NoEnhancedRouteRefresh)
	c.extended_message = C.bool(!cfg.NoExtendedMessage)
	c.graceful_restart = C.bool(!cfg.NoGracefulRestart)
	if cfg.GracefulRestartTime != 0 {
		c.graceful_restart_time = C.uint16_t(cfg.GracefulRestartTime)
	}
	c.has_local_role = C.bool(cfg.HasLocalRole)
	c.local_role = C.uint8_t(cfg.LocalRole)
	c.strict_role = C.bool(cfg.StrictRole)
	c.extended_next_hop = C.bool(cfg.ExtendedNextHop)
	s := &Session{buf: make([]byte, 65536)}
	if err := call(func() C.rfl_result { return C.rfl_session_new(&c, &s.p) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(s, (*Session).Close)
	return s, nil
}

// Close frees the session; closing twice is allowed.
func (s *Session) Close() error {
	if s.p == nil {
		return nil
	}
	runtime.SetFinalizer(s, nil)
	p := s.p
	s.p = nil
	return call(func() C.rfl_result { return C.rfl_session_free(p) })
}

func (s *Session) now(f func(C.uint64_t) C.rfl_result, nowMs uint64) error {
	if s.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return f(C.uint64_t(nowMs)) })
}

// Start is ManualStart at nowMs.
func (s *Session) Start(nowMs uint64) error {
	return s.now(func(n C.uint64_t) C.rfl_result { return C.rfl_session_start(s.p, n) }, nowMs)
}

// Stop is ManualStop: a Cease NOTIFICATION for reason (with the shutdown
// communication text for StopShutdown and StopReset) if connected, then Idle.
func (s *Session) Stop(reason StopReason, text string) error {
	if s.p == nil {
		return ErrClosed
	}
	t := []byte(text)
	return call(func() C.rfl_result {
		return C.rfl_session_stop(s.p, C.uint32_t(reason), (*C.char)(unsafe.Pointer(bytesPtr(t))), C.size_t(len(t)))
	})
}

// TCPConnected reports the connection up.
func (s *Session) TCPConnected(nowMs uint64) error {
	return s.now(func(n C.uint64_t) C.rfl_result { return C.rfl_session_tcp_connected(s.p, n) }, nowMs)
}

// TCPFailed reports that the connection attempt failed.
func (s *Session) TCPFailed(nowMs uint64) error {
	return s.now(func(n C.uint64_t) C.rfl_result { return C.rfl_session_tcp_failed(s.p, n) }, nowMs)
}

// TCPClosed reports that the connection closed under the session.
func (s *Session) TCPClosed(nowMs uint64) error {
	return s.now(func(n C.uint64_t) C.rfl_result { return C.rfl_session_tcp_closed(s.p, n) }, nowMs)
}

// HandleBytes feeds bytes read from the connection (any split of the stream).
func (s *Session) HandleBytes(nowMs uint64, data []byte) error {
	if s.p == nil {
		return ErrClosed
	}
	if len(data) == 0 {
		return nil
	}
	return call(func() C.rfl_result {
		return C.rfl_session_handle_bytes(s.p, C.uint64_t(nowMs), bytesPtr(data), C.size_t(len(data)))
	})
}

// SendNotification sends a whole NOTIFICATION message (e.g. Outcome.Notification) and closes.
func (s *Session) SendNotification(msg []byte) error {
	if s.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result {
		return C.rfl_session_send_notification(s.p, bytesPtr(msg), C.size_t(len(msg)))
	})
}

// HandleTimeout runs the timers at nowMs.
func (s *Session) HandleTimeout(nowMs uint64) error {
	return s.now(func(n C.uint64_t) C.rfl_result { return C.rfl_session_handle_timeout(s.p, n) }, nowMs)
}

// Timeout returns the next deadline; ok is false when no timer is armed.
func (s *Session) Timeout() (deadline uint64, ok bool, err error) {
	if s.p == nil {
		return 0, false, ErrClosed
	}
	var d C.uint64_t
	r, err := do(func() C.rfl_result { return C.rfl_session_poll_timeout(s.p, &d) })
	if err != nil || r == ResultEmpty {
		return 0, false, err
	}
	return uint64(d), true, nil
}

// Transmit returns the bytes to write, or nil when there are none (valid until the next call).
func (s *Session) Transmit() ([]byte, error) {
	if s.p == nil {
		return nil, ErrClosed
	}
	var n C.size_t
	r, err := do(func() C.rfl_result {
		return C.rfl_session_poll_transmit(s.p, (*C.uint8_t)(unsafe.Pointer(&s.buf[0])), C.size_t(len(s.buf)), &n)
	})
	if err != nil || r == ResultEmpty {
		return nil, err
	}
	return s.buf[:n], nil
}

// PollEvent returns the next event; ok is false when there is none.
func (s *Session) PollEvent() (ev SessionEvent, ok bool, err error) {
	if s.p == nil {
		return SessionEvent{}, false, ErrClosed
	}
	var e C.rfl_session_event
	e.struct_size = C.uint32_t(unsafe.Sizeof(e))
	r, err := do(func() C.rfl_result { return C.rfl_session_poll_event(s.p, &e) })
	if err != nil || r == ResultEmpty {
		return SessionEvent{}, false, err
	}
	ev = SessionEvent{
		Kind:         SessionEventKind(e.kind),
		PeerAS:       uint32(e.peer_as),
		PeerRouterID: addrOfID(e.peer_router_id),
		HoldTime:     uint16(e.hold_time),
		ErrorCode:    uint8(e.error_code),
		ErrorSub:     uint8(e.error_subcode),
		CloseReason:  CloseReason(e.close_reason),
	}
	if e.message != nil && e.message_len > 0 {
		ev.Message = C.GoBytes(unsafe.Pointer(e.message), C.int(e.message_len))
	}
	return ev, true, nil
}

// State returns the current state.
func (s *Session) State() (State, error) {
	if s.p == nil {
		return Idle, ErrClosed
	}
	var st C.rfl_session_state
	err := call(func() C.rfl_result { return C.rfl_session_get_state(s.p, &st) })
	return State(st), err
}

// Negotiated returns what the OPEN exchange negotiated (from OpenConfirm on),
// graceful restart and route refresh included, ready for Engine.PeerUp.
func (s *Session) Negotiated() (Negotiated, error) {
	if s.p == nil {
		return Negotiated{}, ErrClosed
	}
	var n C.rfl_negotiated
	n.struct_size = C.uint32_t(unsafe.Sizeof(n))
	if err := call(func() C.rfl_result { return C.rfl_session_negotiated(s.p, &n) }); err != nil {
		return Negotiated{}, err
	}
	return goNegotiated(n), nil
}
