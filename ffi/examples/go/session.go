package reflector

/*
#include "reflector.h"
*/
import "C"

import (
	"net/netip"
	"unsafe"
)

// SessionConfig configures a Session.
type SessionConfig struct {
	LocalAS  uint32
	RouterID netip.Addr
	// PeerAS, when non-zero, is the AS the peer must announce.
	PeerAS   uint32
	Passive  bool
	HoldTime uint16 // seconds; 0 keeps the default (90)
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

// EventKind is the kind of a SessionEvent.
type EventKind uint32

// Session event kinds.
const (
	EventConnect              EventKind = C.RFL_SESSION_EVENT_KIND_CONNECT
	EventOpenReceived         EventKind = C.RFL_SESSION_EVENT_KIND_OPEN_RECEIVED
	EventEstablished          EventKind = C.RFL_SESSION_EVENT_KIND_ESTABLISHED
	EventMessage              EventKind = C.RFL_SESSION_EVENT_KIND_MESSAGE
	EventNotificationSent     EventKind = C.RFL_SESSION_EVENT_KIND_NOTIFICATION_SENT
	EventNotificationReceived EventKind = C.RFL_SESSION_EVENT_KIND_NOTIFICATION_RECEIVED
	EventClosed               EventKind = C.RFL_SESSION_EVENT_KIND_CLOSED
)

// SessionEvent is something the caller must act on.
type SessionEvent struct {
	Kind EventKind
	// Message is the UPDATE/ROUTE-REFRESH (EventMessage) or NOTIFICATION data (copied).
	Message    []byte
	Negotiated Negotiated // EventEstablished
	PeerAS     uint32
	HoldTime   uint16
	ErrorCode  uint8
	ErrorSub   uint8
}

// Session is one BGP session's state machine; the caller owns the socket and the clock.
type Session struct {
	p   *C.rfl_session
	buf []byte
}

// NewSession creates a session in Idle; release it with Close.
func NewSession(cfg SessionConfig) (*Session, error) {
	if !cfg.RouterID.Is4() {
		return nil, &Error{Code: ResultInvalidParameter, Message: "RouterID must be an IPv4 address"}
	}
	var c C.rfl_session_config
	if err := check(C.rfl_session_config_init(C.uint32_t(cfg.LocalAS), idOf(cfg.RouterID), &c)); err != nil {
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
	s := &Session{buf: make([]byte, 65536)}
	if err := check(C.rfl_session_new(&c, &s.p)); err != nil {
		return nil, err
	}
	return s, nil
}

// Close frees the session; closing twice is allowed.
func (s *Session) Close() error {
	if s.p == nil {
		return nil
	}
	err := check(C.rfl_session_free(s.p))
	s.p = nil
	return err
}

// Start is ManualStart at time nowMs (milliseconds, the caller's clock).
func (s *Session) Start(nowMs uint64) error {
	if s.p == nil {
		return ErrClosed
	}
	return check(C.rfl_session_start(s.p, C.uint64_t(nowMs)))
}

// TCPConnected reports the connection up.
func (s *Session) TCPConnected(nowMs uint64) error {
	if s.p == nil {
		return ErrClosed
	}
	return check(C.rfl_session_tcp_connected(s.p, C.uint64_t(nowMs)))
}

// HandleBytes feeds bytes read from the connection.
func (s *Session) HandleBytes(nowMs uint64, data []byte) error {
	if s.p == nil {
		return ErrClosed
	}
	if len(data) == 0 {
		return nil
	}
	return check(C.rfl_session_handle_bytes(s.p, C.uint64_t(nowMs), (*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data))))
}

// HandleTimeout runs the timers at nowMs.
func (s *Session) HandleTimeout(nowMs uint64) error {
	if s.p == nil {
		return ErrClosed
	}
	return check(C.rfl_session_handle_timeout(s.p, C.uint64_t(nowMs)))
}

// Timeout returns the next deadline; ok is false when no timer is armed.
func (s *Session) Timeout() (deadline uint64, ok bool, err error) {
	if s.p == nil {
		return 0, false, ErrClosed
	}
	var d C.uint64_t
	r := C.rfl_session_poll_timeout(s.p, &d)
	if Result(r) == ResultEmpty {
		return 0, false, nil
	}
	if err := check(r); err != nil {
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
	r := C.rfl_session_poll_transmit(s.p, (*C.uint8_t)(unsafe.Pointer(&s.buf[0])), C.size_t(len(s.buf)), &n)
	if Result(r) == ResultEmpty {
		return nil, nil
	}
	if err := check(r); err != nil {
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
	r := C.rfl_session_poll_event(s.p, &e)
	if Result(r) == ResultEmpty {
		return SessionEvent{}, false, nil
	}
	if err := check(r); err != nil {
		return SessionEvent{}, false, err
	}
	ev = SessionEvent{
		Kind:       EventKind(e.kind),
		Negotiated: goNegotiated(e.negotiated),
		PeerAS:     uint32(e.peer_as),
		HoldTime:   uint16(e.hold_time),
		ErrorCode:  uint8(e.error_code),
		ErrorSub:   uint8(e.error_subcode),
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
	if err := check(C.rfl_session_get_state(s.p, &st)); err != nil {
		return Idle, err
	}
	return State(st), nil
}
