// Package reflector wraps Reflector's C ABI (libreflector, reflector.h) for Go:
// a route reflection engine and the BGP session state machine, with errors as
// error values and handles released with Close.
//
// An Engine or Session is not safe for concurrent use: use each from one
// goroutine at a time (the C library's thread rule).
package reflector

/*
#cgo pkg-config: reflector
#include <stdlib.h>
#include "reflector.h"

bool rfl_go_resolver(void *userdata, const rfl_addr *next_hop, uint32_t *out_igp_cost);
*/
import "C"

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime/cgo"
	"unsafe"
)

// Result is a status code of the C library (rfl_result).
type Result uint32

// Status codes.
const (
	ResultOK               Result = C.RFL_RESULT_OK
	ResultEmpty            Result = C.RFL_RESULT_EMPTY
	ResultNullParameter    Result = C.RFL_RESULT_NULL_PARAMETER
	ResultInvalidHandle    Result = C.RFL_RESULT_INVALID_HANDLE
	ResultInvalidParameter Result = C.RFL_RESULT_INVALID_PARAMETER
	ResultBufferTooSmall   Result = C.RFL_RESULT_BUFFER_TOO_SMALL
	ResultUnknownPeer      Result = C.RFL_RESULT_UNKNOWN_PEER
	ResultPeerNotUp        Result = C.RFL_RESULT_PEER_NOT_UP
	ResultNotFound         Result = C.RFL_RESULT_NOT_FOUND
	ResultMalformed        Result = C.RFL_RESULT_MALFORMED
	ResultInvalidState     Result = C.RFL_RESULT_INVALID_STATE
	ResultPanic            Result = C.RFL_RESULT_PANIC
)

// Error is a failed call: its code and the library's message.
type Error struct {
	Code    Result
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("reflector: %s (code %d)", e.Message, e.Code) }

// ErrClosed is returned by methods of a closed Engine or Session.
var ErrClosed = errors.New("reflector: handle is closed")

func check(r C.rfl_result) error {
	if Result(r) == ResultOK {
		return nil
	}
	buf := make([]byte, 512)
	var n C.size_t
	msg := ""
	if C.rfl_last_error((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n) == C.RFL_RESULT_OK {
		msg = string(buf[:n])
	}
	return &Error{Code: Result(r), Message: msg}
}

// Version is the library's version string.
func Version() string {
	var s *C.char
	if C.rfl_version(&s) != C.RFL_RESULT_OK {
		return ""
	}
	return C.GoString(s)
}

// HeaderVersion is the version of the reflector.h this package was built with.
func HeaderVersion() string { return C.RFL_VERSION_STRING }

// Family bits (RFL_FAMILY_*).
type Family uint32

// Families.
const (
	IPv4Unicast Family = C.RFL_FAMILY_IPV4_UNICAST
	IPv6Unicast Family = C.RFL_FAMILY_IPV6_UNICAST
)

// Role of a peer toward the reflector.
type Role uint32

// Roles.
const (
	Client    Role = C.RFL_ROLE_CLIENT
	NonClient Role = C.RFL_ROLE_NON_CLIENT
	EBGP      Role = C.RFL_ROLE_EBGP
)

// PeerID names a peer of an Engine.
type PeerID uint32

// LocalPeer is the engine itself, as the source of routes it originates.
const LocalPeer PeerID = C.RFL_PEER_LOCAL

func idOf(a netip.Addr) C.uint32_t {
	b := a.As4()
	return C.uint32_t(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
}

func addrOfID(v C.uint32_t) netip.Addr {
	u := uint32(v)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}

func cAddr(a netip.Addr) C.rfl_addr {
	var r C.rfl_addr
	if !a.IsValid() {
		return r
	}
	if a.Is4() {
		r.family = 4
		b := a.As4()
		for i := 0; i < 4; i++ {
			r.octets[i] = C.uint8_t(b[i])
		}
	} else {
		r.family = 6
		b := a.As16()
		for i := 0; i < 16; i++ {
			r.octets[i] = C.uint8_t(b[i])
		}
	}
	return r
}

func goAddr(r C.rfl_addr) netip.Addr {
	switch r.family {
	case 4:
		return netip.AddrFrom4([4]byte{byte(r.octets[0]), byte(r.octets[1]), byte(r.octets[2]), byte(r.octets[3])})
	case 6:
		var b [16]byte
		for i := range b {
			b[i] = byte(r.octets[i])
		}
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

func cPrefix(p netip.Prefix) C.rfl_prefix {
	return C.rfl_prefix{addr: cAddr(p.Addr()), len: C.uint8_t(p.Bits())}
}

func goPrefix(p C.rfl_prefix) netip.Prefix {
	return netip.PrefixFrom(goAddr(p.addr), int(p.len))
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	LocalAS  uint32
	RouterID netip.Addr // IPv4
	// ClusterID defaults to the router ID when not valid.
	ClusterID netip.Addr
	// NoClientToClient turns client-to-client reflection off.
	NoClientToClient bool
	// RecordEvents keeps events for PollEvent (at most MaxEvents; default 65,536).
	RecordEvents bool
	MaxEvents    int
}

// Engine is a route reflection engine.
type Engine struct {
	p        *C.rfl_engine
	resolver *C.uintptr_t
	handle   cgo.Handle
	buf      []byte
}

// NewEngine creates an engine; release it with Close.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if !cfg.RouterID.Is4() {
		return nil, &Error{Code: ResultInvalidParameter, Message: "RouterID must be an IPv4 address"}
	}
	var c C.rfl_engine_config
	if err := check(C.rfl_engine_config_init(C.uint32_t(cfg.LocalAS), idOf(cfg.RouterID), &c)); err != nil {
		return nil, err
	}
	if cfg.ClusterID.Is4() {
		c.cluster_id = idOf(cfg.ClusterID)
	}
	c.client_to_client = C.bool(!cfg.NoClientToClient)
	c.record_events = C.bool(cfg.RecordEvents)
	if cfg.MaxEvents > 0 {
		c.max_events = C.size_t(cfg.MaxEvents)
	}
	e := &Engine{buf: make([]byte, C.RFL_MAX_MESSAGE_LEN)}
	if err := check(C.rfl_engine_new(&c, &e.p)); err != nil {
		return nil, err
	}
	return e, nil
}

// Close frees the engine; later calls return ErrClosed. Closing twice is allowed.
func (e *Engine) Close() error {
	if e.p == nil {
		return nil
	}
	err := check(C.rfl_engine_free(e.p))
	e.p = nil
	e.dropResolver()
	return err
}

func (e *Engine) dropResolver() {
	if e.resolver != nil {
		C.free(unsafe.Pointer(e.resolver))
		e.resolver = nil
		e.handle.Delete()
	}
}

// PeerConfig configures a peer.
type PeerConfig struct {
	Role    Role
	AS      uint32
	Address netip.Addr
	// LocalV4 is our IPv4 address on the session (NEXT_HOP toward eBGP); optional.
	LocalV4 netip.Addr
}

// AddPeer adds a peer (down until PeerUp).
func (e *Engine) AddPeer(pc PeerConfig) (PeerID, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	a := cAddr(pc.Address)
	var c C.rfl_peer_config
	if err := check(C.rfl_peer_config_init(C.uint32_t(pc.Role), C.uint32_t(pc.AS), &a, &c)); err != nil {
		return 0, err
	}
	if pc.LocalV4.Is4() {
		c.local_v4 = cAddr(pc.LocalV4)
	}
	var id C.uint32_t
	if err := check(C.rfl_engine_add_peer(e.p, &c, &id)); err != nil {
		return 0, err
	}
	return PeerID(id), nil
}

// RemovePeer removes a peer; its routes are withdrawn.
func (e *Engine) RemovePeer(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	return check(C.rfl_engine_remove_peer(e.p, C.uint32_t(p)))
}

// Negotiated is what a session negotiated.
type Negotiated struct {
	RouterID        netip.Addr
	FourOctetAS     bool
	ExtendedMessage bool
	Families        Family
	AddPathReceive  Family
	AddPathSend     Family
	// HasRemoteRole says RemoteRole is set: the session uses BGP Roles (RFC 9234).
	HasRemoteRole bool
	// RemoteRole is the role the peer plays: 0 provider, 1 RS, 2 RS-client, 3 customer, 4 peer.
	RemoteRole uint8
	// ExtendedNextHop holds the families the peer takes with an IPv6 next hop (RFC 8950).
	ExtendedNextHop Family
}

// UnicastNegotiated is IPv4 and IPv6 unicast, 4-octet AS, no ADD-PATH.
func UnicastNegotiated(routerID netip.Addr) Negotiated {
	return Negotiated{RouterID: routerID, FourOctetAS: true, Families: IPv4Unicast | IPv6Unicast}
}

func (n Negotiated) c() C.rfl_negotiated {
	return C.rfl_negotiated{
		router_id:         idOf(n.RouterID),
		four_octet_as:     C.bool(n.FourOctetAS),
		extended_message:  C.bool(n.ExtendedMessage),
		families:          C.uint32_t(n.Families),
		add_path_receive:  C.uint32_t(n.AddPathReceive),
		add_path_send:     C.uint32_t(n.AddPathSend),
		has_remote_role:   C.bool(n.HasRemoteRole),
		remote_role:       C.uint8_t(n.RemoteRole),
		extended_next_hop: C.uint32_t(n.ExtendedNextHop),
	}
}

func goNegotiated(c C.rfl_negotiated) Negotiated {
	return Negotiated{
		RouterID:        addrOfID(c.router_id),
		FourOctetAS:     bool(c.four_octet_as),
		ExtendedMessage: bool(c.extended_message),
		Families:        Family(c.families),
		AddPathReceive:  Family(c.add_path_receive),
		AddPathSend:     Family(c.add_path_send),
		HasRemoteRole:   bool(c.has_remote_role),
		RemoteRole:      uint8(c.remote_role),
		ExtendedNextHop: Family(c.extended_next_hop),
	}
}

// PeerUp tells the engine the session with p is established.
func (e *Engine) PeerUp(p PeerID, n Negotiated) error {
	if e.p == nil {
		return ErrClosed
	}
	c := n.c()
	return check(C.rfl_engine_peer_up(e.p, C.uint32_t(p), &c))
}

// PeerDown tells the engine the session with p went down.
func (e *Engine) PeerDown(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	return check(C.rfl_engine_peer_down(e.p, C.uint32_t(p)))
}

// OutcomeKind says what the engine did with a message.
type OutcomeKind uint32

// Outcome kinds.
const (
	Accepted           OutcomeKind = C.RFL_OUTCOME_KIND_ACCEPTED
	TreatAsWithdraw    OutcomeKind = C.RFL_OUTCOME_KIND_TREAT_AS_WITHDRAW
	AttributeDiscarded OutcomeKind = C.RFL_OUTCOME_KIND_ATTRIBUTE_DISCARDED
	Reset              OutcomeKind = C.RFL_OUTCOME_KIND_RESET
	RouteRefresh       OutcomeKind = C.RFL_OUTCOME_KIND_ROUTE_REFRESH
	Ignored            OutcomeKind = C.RFL_OUTCOME_KIND_IGNORED
)

// Outcome is the result of HandleMessage.
type Outcome struct {
	Kind                           OutcomeKind
	Announced, Withdrawn, Rejected uint32
	ErrorCode, ErrorSubcode        uint8
	// Notification is the NOTIFICATION to send for Reset.
	Notification []byte
}

// HandleMessage feeds one framed BGP message received from p.
func (e *Engine) HandleMessage(p PeerID, msg []byte) (Outcome, error) {
	if e.p == nil {
		return Outcome{}, ErrClosed
	}
	if len(msg) == 0 {
		return Outcome{}, &Error{Code: ResultInvalidParameter, Message: "empty message"}
	}
	var notif [C.RFL_MAX_NOTIFICATION_LEN]byte
	var oc C.rfl_outcome
	r := C.rfl_engine_handle_message(e.p, C.uint32_t(p), (*C.uint8_t)(unsafe.Pointer(&msg[0])), C.size_t(len(msg)),
		(*C.uint8_t)(unsafe.Pointer(&notif[0])), C.size_t(len(notif)), &oc)
	if err := check(r); err != nil {
		return Outcome{}, err
	}
	o := Outcome{
		Kind:         OutcomeKind(oc.kind),
		Announced:    uint32(oc.announced),
		Withdrawn:    uint32(oc.withdrawn),
		Rejected:     uint32(oc.rejected),
		ErrorCode:    uint8(oc.error_code),
		ErrorSubcode: uint8(oc.error_subcode),
	}
	if o.Kind == Reset {
		o.Notification = append([]byte(nil), notif[:oc.notification_len]...)
	}
	return o, nil
}

// Transmit returns the next message queued for p, or nil when there is none.
// The slice is valid until the next call on the engine.
func (e *Engine) Transmit(p PeerID) ([]byte, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var n C.size_t
	r := C.rfl_engine_poll_transmit(e.p, C.uint32_t(p), (*C.uint8_t)(unsafe.Pointer(&e.buf[0])), C.size_t(len(e.buf)), &n)
	if Result(r) == ResultEmpty {
		return nil, nil
	}
	if err := check(r); err != nil {
		return nil, err
	}
	return e.buf[:n], nil
}

// Path is one candidate path.
type Path struct {
	Peer           PeerID
	Reachable      bool
	NextHop        netip.Addr
	LocalPref      uint32
	HasLocalPref   bool
	ASPathLen      uint32
	OriginatorID   netip.Addr // invalid when absent
	ClusterListLen uint32
}

func goPath(p C.rfl_path) Path {
	r := Path{
		Peer:           PeerID(p.peer),
		Reachable:      bool(p.reachable),
		NextHop:        goAddr(p.next_hop),
		LocalPref:      uint32(p.local_pref),
		HasLocalPref:   bool(p.has_local_pref),
		ASPathLen:      uint32(p.as_path_len),
		ClusterListLen: uint32(p.cluster_list_len),
	}
	if p.has_originator_id {
		r.OriginatorID = addrOfID(p.originator_id)
	}
	return r
}

// Best returns the best path for prefix; ok is false when it has none.
func (e *Engine) Best(prefix netip.Prefix) (path Path, ok bool, err error) {
	if e.p == nil {
		return Path{}, false, ErrClosed
	}
	cp := cPrefix(prefix)
	var p C.rfl_path
	r := C.rfl_engine_best(e.p, &cp, &p)
	if Result(r) == ResultNotFound {
		return Path{}, false, nil
	}
	if err := check(r); err != nil {
		return Path{}, false, err
	}
	return goPath(p), true, nil
}

// Candidates returns every candidate path for prefix, best first.
func (e *Engine) Candidates(prefix netip.Prefix) ([]Path, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	cp := cPrefix(prefix)
	var n C.size_t
	r := C.rfl_engine_candidates(e.p, &cp, nil, 0, &n)
	if Result(r) == ResultOK {
		return nil, nil
	}
	if Result(r) != ResultBufferTooSmall {
		return nil, check(r)
	}
	paths := make([]C.rfl_path, n)
	if err := check(C.rfl_engine_candidates(e.p, &cp, &paths[0], n, &n)); err != nil {
		return nil, err
	}
	out := make([]Path, n)
	for i := range out {
		out[i] = goPath(paths[i])
	}
	return out, nil
}

// Route is a Loc-RIB entry.
type Route struct {
	Prefix netip.Prefix
	Best   Path
}

// LocRIB returns every prefix with its best path (IPv4 then IPv6, ascending).
func (e *Engine) LocRIB() ([]Route, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var it *C.rfl_loc_rib_iter
	if err := check(C.rfl_engine_loc_rib(e.p, &it)); err != nil {
		return nil, err
	}
	defer C.rfl_loc_rib_iter_free(it)
	var n C.size_t
	if err := check(C.rfl_loc_rib_iter_count(it, &n)); err != nil {
		return nil, err
	}
	out := make([]Route, 0, n)
	for {
		var p C.rfl_prefix
		var path C.rfl_path
		r := C.rfl_loc_rib_iter_next(it, &p, &path)
		if Result(r) == ResultEmpty {
			return out, nil
		}
		if err := check(r); err != nil {
			return nil, err
		}
		out = append(out, Route{Prefix: goPrefix(p), Best: goPath(path)})
	}
}

// Counters are a peer's counters.
type Counters struct {
	UpdatesReceived, PrefixesReceived, WithdrawalsReceived uint64
	Accepted, RejectedLoop, SessionResets                  uint64
	UpdatesSent, PrefixesSent, WithdrawalsSent             uint64
	PolicyRejectedIn, PolicyModifiedIn, PolicyRejectedOut  uint64
}

// Counters returns p's counters.
func (e *Engine) Counters(p PeerID) (Counters, error) {
	if e.p == nil {
		return Counters{}, ErrClosed
	}
	var c C.rfl_peer_counters
	if err := check(C.rfl_engine_counters(e.p, C.uint32_t(p), &c)); err != nil {
		return Counters{}, err
	}
	return Counters{
		UpdatesReceived: uint64(c.updates_received), PrefixesReceived: uint64(c.prefixes_received),
		WithdrawalsReceived: uint64(c.withdrawals_received), Accepted: uint64(c.accepted),
		RejectedLoop: uint64(c.rejected_loop), SessionResets: uint64(c.session_resets),
		UpdatesSent: uint64(c.updates_sent), PrefixesSent: uint64(c.prefixes_sent),
		WithdrawalsSent:  uint64(c.withdrawals_sent),
		PolicyRejectedIn: uint64(c.policy_rejected_in), PolicyModifiedIn: uint64(c.policy_modified_in),
		PolicyRejectedOut: uint64(c.policy_rejected_out),
	}, nil
}

// Resolver reports whether a next hop is reachable and at what IGP cost.
type Resolver func(nextHop netip.Addr) (cost uint32, reachable bool)

//export rflGoResolve
func rflGoResolve(userdata unsafe.Pointer, nh *C.rfl_addr, cost *C.uint32_t) C.bool {
	h := cgo.Handle(*(*C.uintptr_t)(userdata))
	f := h.Value().(Resolver)
	c, ok := f(goAddr(*nh))
	if ok {
		*cost = C.uint32_t(c)
	}
	return C.bool(ok)
}

// SetResolver installs f as the next-hop resolver (nil removes it).
func (e *Engine) SetResolver(f Resolver) error {
	if e.p == nil {
		return ErrClosed
	}
	if f == nil {
		err := check(C.rfl_engine_set_resolver(e.p, nil, nil))
		e.dropResolver()
		return err
	}
	h := cgo.NewHandle(f)
	slot := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	*slot = C.uintptr_t(h)
	if err := check(C.rfl_engine_set_resolver(e.p, C.rfl_resolver_callback(C.rfl_go_resolver), unsafe.Pointer(slot))); err != nil {
		C.free(unsafe.Pointer(slot))
		h.Delete()
		return err
	}
	e.dropResolver()
	e.resolver, e.handle = slot, h
	return nil
}
