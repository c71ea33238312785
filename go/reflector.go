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
	"runtime"
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

// String is the library's description of the code (rfl_result_message).
func (r Result) String() string {
	var s *C.char
	if C.rfl_result_message(C.uint32_t(r), &s) != C.RFL_RESULT_OK {
		return fmt.Sprintf("result %d", uint32(r))
	}
	return C.GoString(s)
}

// Error is a failed call: its code and the library's message for that call.
type Error struct {
	Code    Result
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("reflector: %s (%s)", e.Message, e.Code) }

// Is makes errors.Is(err, ErrUnknownPeer) and the like match on the code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is: each matches any *Error with its code.
var (
	ErrNullParameter    = &Error{Code: ResultNullParameter}
	ErrInvalidHandle    = &Error{Code: ResultInvalidHandle}
	ErrInvalidParameter = &Error{Code: ResultInvalidParameter}
	ErrBufferTooSmall   = &Error{Code: ResultBufferTooSmall}
	ErrUnknownPeer      = &Error{Code: ResultUnknownPeer}
	ErrPeerNotUp        = &Error{Code: ResultPeerNotUp}
	ErrNotFound         = &Error{Code: ResultNotFound}
	ErrMalformed        = &Error{Code: ResultMalformed}
	ErrInvalidState     = &Error{Code: ResultInvalidState}
	ErrPanic            = &Error{Code: ResultPanic}
)

// ErrClosed is returned by methods of a closed Engine, Session or Policy.
var ErrClosed = errors.New("reflector: handle is closed")

// lastError reads the calling OS thread's message (the caller holds the thread).
func lastError() string {
	var buf [1024]byte
	var n C.size_t
	if C.rfl_last_error((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n) != C.RFL_RESULT_OK {
		return ""
	}
	return string(buf[:n])
}

// do runs one C call with the goroutine locked to its OS thread, so that on
// failure the thread-local message read afterwards is this call's. OK and
// EMPTY are not errors.
func do(f func() C.rfl_result) (Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := Result(f())
	if r == ResultOK || r == ResultEmpty {
		return r, nil
	}
	return r, &Error{Code: r, Message: lastError()}
}

// call is do for calls whose only success is OK.
func call(f func() C.rfl_result) error {
	_, err := do(f)
	return err
}

func invalid(msg string) error { return &Error{Code: ResultInvalidParameter, Message: msg} }

// Version is the library's version string (rfl_version).
func Version() string {
	var s *C.char
	if C.rfl_version(&s) != C.RFL_RESULT_OK {
		return ""
	}
	return C.GoString(s)
}

// VersionNumber is the library's version as major*10000 + minor*100 + patch.
func VersionNumber() uint32 {
	var n C.uint32_t
	if C.rfl_version_number(&n) != C.RFL_RESULT_OK {
		return 0
	}
	return uint32(n)
}

// HeaderVersion is the version of the reflector.h this package was built with.
func HeaderVersion() string { return C.RFL_VERSION_STRING }

// Family is a set of address families (RFL_FAMILY_* bits).
type Family uint32

// Families.
const (
	IPv4Unicast        Family = C.RFL_FAMILY_IPV4_UNICAST
	IPv4Multicast      Family = C.RFL_FAMILY_IPV4_MULTICAST
	IPv6Unicast        Family = C.RFL_FAMILY_IPV6_UNICAST
	IPv6Multicast      Family = C.RFL_FAMILY_IPV6_MULTICAST
	IPv4LabeledUnicast Family = C.RFL_FAMILY_IPV4_LABELED_UNICAST
	IPv6LabeledUnicast Family = C.RFL_FAMILY_IPV6_LABELED_UNICAST
	VPNv4              Family = C.RFL_FAMILY_VPNV4
	VPNv6              Family = C.RFL_FAMILY_VPNV6
	EVPN               Family = C.RFL_FAMILY_EVPN
	RTConstraint       Family = C.RFL_FAMILY_RT_CONSTRAINT
	IPv4FlowSpec       Family = C.RFL_FAMILY_IPV4_FLOWSPEC
	IPv6FlowSpec       Family = C.RFL_FAMILY_IPV6_FLOWSPEC
)

// Role of a peer toward the reflector (RFC 4456).
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

// MaxMessageLen is the largest BGP message (extended messages).
const MaxMessageLen = C.RFL_MAX_MESSAGE_LEN

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

func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// EngineConfig configures an Engine. Zero values mean the library defaults.
type EngineConfig struct {
	// LocalAS is our AS number.
	LocalAS uint32
	// RouterID is our BGP identifier (IPv4).
	RouterID netip.Addr
	// ClusterID defaults to the router ID when not valid.
	ClusterID netip.Addr
	// NoClientToClient turns client-to-client reflection off.
	NoClientToClient bool
	// AlwaysCompareMED compares MED between paths from different ASes.
	AlwaysCompareMED bool
	// MissingMEDWorst treats a missing MED as the worst value.
	MissingMEDWorst bool
	// PreferOldest keeps the oldest of otherwise equal eBGP paths.
	PreferOldest bool
	// IgnoreIGPCost skips the IGP cost step of the decision process.
	IgnoreIGPCost bool
	// DefaultLocalPref is the LOCAL_PREF assumed where absent (0: 100).
	DefaultLocalPref uint32
	// RecordEvents keeps events for PollEvent (at most MaxEvents; 0: the default).
	RecordEvents bool
	// MaxEvents bounds the event queue; older events are dropped (EventsDropped).
	MaxEvents int
	// PreferLocal makes a path the engine originates win, after next-hop
	// reachability, over learned ones (decision step local-origin).
	PreferLocal bool
}

// Engine is a route reflection engine (rfl_engine). Not safe for concurrent use.
type Engine struct {
	p        *C.rfl_engine
	resolver *C.uintptr_t
	handle   cgo.Handle
	hooks    map[hookKey]*hookSlot
	buf      []byte
}

// NewEngine creates an engine; release it with Close.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if !cfg.RouterID.Is4() {
		return nil, invalid("RouterID must be an IPv4 address")
	}
	var c C.rfl_engine_config
	if err := call(func() C.rfl_result {
		return C.rfl_engine_config_init(C.uint32_t(cfg.LocalAS), idOf(cfg.RouterID), &c, C.size_t(unsafe.Sizeof(c)))
	}); err != nil {
		return nil, err
	}
	if cfg.ClusterID.Is4() {
		c.cluster_id = idOf(cfg.ClusterID)
	}
	c.client_to_client = C.bool(!cfg.NoClientToClient)
	c.always_compare_med = C.bool(cfg.AlwaysCompareMED)
	c.missing_med_worst = C.bool(cfg.MissingMEDWorst)
	c.prefer_oldest = C.bool(cfg.PreferOldest)
	c.ignore_igp_cost = C.bool(cfg.IgnoreIGPCost)
	if cfg.DefaultLocalPref != 0 {
		c.default_local_pref = C.uint32_t(cfg.DefaultLocalPref)
	}
	c.record_events = C.bool(cfg.RecordEvents)
	c.prefer_local = C.bool(cfg.PreferLocal)
	if cfg.MaxEvents > 0 {
		c.max_events = C.size_t(cfg.MaxEvents)
	}
	e := &Engine{buf: make([]byte, C.RFL_MAX_MESSAGE_LEN), hooks: map[hookKey]*hookSlot{}}
	if err := call(func() C.rfl_result { return C.rfl_engine_new(&c, &e.p) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(e, (*Engine).Close)
	return e, nil
}

// Close frees the engine; later calls return ErrClosed. Closing twice is allowed.
func (e *Engine) Close() error {
	if e.p == nil {
		return nil
	}
	runtime.SetFinalizer(e, nil)
	p := e.p
	e.p = nil
	err := call(func() C.rfl_result { return C.rfl_engine_free(p) })
	e.dropResolver()
	for k, s := range e.hooks {
		s.free()
		delete(e.hooks, k)
	}
	return err
}

func (e *Engine) dropResolver() {
	if e.resolver != nil {
		C.free(unsafe.Pointer(e.resolver))
		e.resolver = nil
		e.handle.Delete()
	}
}

// AddPathSend says how many paths per prefix a peer with ADD-PATH sending gets.
type AddPathSend uint32

// ADD-PATH send modes.
const (
	AddPathOff  AddPathSend = C.RFL_ADD_PATH_SEND_OFF
	AddPathAll  AddPathSend = C.RFL_ADD_PATH_SEND_ALL
	AddPathBest AddPathSend = C.RFL_ADD_PATH_SEND_BEST
)

// PeerConfig configures a peer of an Engine.
type PeerConfig struct {
	// Role is the peer's role toward us.
	Role Role
	// AS is the peer's AS.
	AS uint32
	// Address is the peer's address.
	Address netip.Addr
	// LocalV4 is our IPv4 address on the session (NEXT_HOP toward eBGP); optional.
	LocalV4 netip.Addr
	// LocalV6 is our IPv6 address on the session (MP next hop toward eBGP); optional.
	LocalV6 netip.Addr
	// AddPathSend and AddPathBest: ADD-PATH sending (AddPathBest paths with AddPathBest mode).
	AddPathSend AddPathSend
	// AddPathBest is the number of paths with AddPathBest (at least 1).
	AddPathBest uint8
	// AllowOwnAS is how many times our AS may be in an eBGP peer's AS_PATH before its routes are loops.
	AllowOwnAS uint8
	// NextHopUnchanged sends this eBGP peer unicast routes with their own next hop, not ours.
	NextHopUnchanged bool
	// LocalAS is the AS we use on this session instead of the engine's (0: the engine's).
	LocalAS uint32
}

// AddPeer adds a peer (down until PeerUp).
func (e *Engine) AddPeer(pc PeerConfig) (PeerID, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	a := cAddr(pc.Address)
	var c C.rfl_peer_config
	if err := call(func() C.rfl_result {
		return C.rfl_peer_config_init(C.uint32_t(pc.Role), C.uint32_t(pc.AS), &a, &c, C.size_t(unsafe.Sizeof(c)))
	}); err != nil {
		return 0, err
	}
	c.local_v4 = cAddr(pc.LocalV4)
	c.local_v6 = cAddr(pc.LocalV6)
	c.add_path_send = C.uint32_t(pc.AddPathSend)
	if pc.AddPathBest > 0 {
		c.add_path_best = C.uint8_t(pc.AddPathBest)
	}
	c.allow_own_as = C.uint8_t(pc.AllowOwnAS)
	c.next_hop_unchanged = C.bool(pc.NextHopUnchanged)
	c.local_as = C.uint32_t(pc.LocalAS)
	var id C.uint32_t
	if err := call(func() C.rfl_result { return C.rfl_engine_add_peer(e.p, &c, &id) }); err != nil {
		return 0, err
	}
	return PeerID(id), nil
}

// RemovePeer removes a peer; its routes are withdrawn and its ID is not reused.
func (e *Engine) RemovePeer(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	err := call(func() C.rfl_result { return C.rfl_engine_remove_peer(e.p, C.uint32_t(p)) })
	for _, d := range []Direction{Import, Export} {
		if s, ok := e.hooks[hookKey{p, d}]; ok {
			s.free()
			delete(e.hooks, hookKey{p, d})
		}
	}
	return err
}

// Peers returns the IDs of the peers that exist, ascending.
func (e *Engine) Peers() ([]PeerID, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var n C.size_t
	err := call(func() C.rfl_result { return C.rfl_engine_peers(e.p, nil, 0, &n) })
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, ErrBufferTooSmall) {
		return nil, err
	}
	ids := make([]C.uint32_t, n)
	if err := call(func() C.rfl_result { return C.rfl_engine_peers(e.p, &ids[0], n, &n) }); err != nil {
		return nil, err
	}
	out := make([]PeerID, n)
	for i := range out {
		out[i] = PeerID(ids[i])
	}
	return out, nil
}

// PeerConfig returns p's configuration as added.
func (e *Engine) PeerConfig(p PeerID) (PeerConfig, error) {
	if e.p == nil {
		return PeerConfig{}, ErrClosed
	}
	var c C.rfl_peer_config
	c.struct_size = C.uint32_t(unsafe.Sizeof(c))
	if err := call(func() C.rfl_result { return C.rfl_engine_peer_config(e.p, C.uint32_t(p), &c) }); err != nil {
		return PeerConfig{}, err
	}
	return PeerConfig{Role: Role(c.role), AS: uint32(c.asn), Address: goAddr(c.address), LocalV4: goAddr(c.local_v4),
		LocalV6: goAddr(c.local_v6), AddPathSend: AddPathSend(c.add_path_send), AddPathBest: uint8(c.add_path_best),
		AllowOwnAS: uint8(c.allow_own_as), NextHopUnchanged: bool(c.next_hop_unchanged), LocalAS: uint32(c.local_as)}, nil
}

// Negotiated is what a session negotiated (rfl_negotiated).
type Negotiated struct {
	// RouterID is the peer's BGP identifier.
	RouterID netip.Addr
	// FourOctetAS: both sides support 4-octet AS numbers.
	FourOctetAS bool
	// ExtendedMessage: both sides support 65,535-byte messages.
	ExtendedMessage bool
	// Families both sides support.
	Families Family
	// AddPathReceive: families in which the peer sends us path identifiers.
	AddPathReceive Family
	// AddPathSend: families in which we may send path identifiers.
	AddPathSend Family
	// EnhancedRouteRefresh: both sides support enhanced route refresh (RFC 7313).
	EnhancedRouteRefresh bool
	// HasRemoteRole says RemoteRole is set: the session uses BGP Roles (RFC 9234).
	HasRemoteRole bool
	// RemoteRole is the role the peer plays: 0 provider, 1 RS, 2 RS-client, 3 customer, 4 peer.
	RemoteRole uint8
	// ExtendedNextHop holds the families the peer takes with an IPv6 next hop (RFC 8950).
	ExtendedNextHop Family
	// RouteRefresh: both sides support ROUTE-REFRESH (RFC 2918).
	RouteRefresh bool
	// GracefulRestart: both sides advertised graceful restart (RFC 4724).
	GracefulRestart bool
	// GracefulRestartTime is the peer's restart time in seconds.
	GracefulRestartTime uint16
	// GracefulRestartPreserved holds the families whose forwarding state the peer preserved.
	GracefulRestartPreserved Family
}

// UnicastNegotiated is IPv4 and IPv6 unicast, 4-octet AS, route refresh, no ADD-PATH.
func UnicastNegotiated(routerID netip.Addr) Negotiated {
	return Negotiated{RouterID: routerID, FourOctetAS: true, Families: IPv4Unicast | IPv6Unicast, RouteRefresh: true}
}

func (n Negotiated) c() C.rfl_negotiated {
	var c C.rfl_negotiated
	c.struct_size = C.uint32_t(unsafe.Sizeof(c))
	c.router_id = idOf(n.RouterID)
	c.four_octet_as = C.bool(n.FourOctetAS)
	c.extended_message = C.bool(n.ExtendedMessage)
	c.families = C.uint32_t(n.Families)
	c.add_path_receive = C.uint32_t(n.AddPathReceive)
	c.add_path_send = C.uint32_t(n.AddPathSend)
	c.enhanced_route_refresh = C.bool(n.EnhancedRouteRefresh)
	c.has_remote_role = C.bool(n.HasRemoteRole)
	c.remote_role = C.uint8_t(n.RemoteRole)
	c.extended_next_hop = C.uint32_t(n.ExtendedNextHop)
	c.route_refresh = C.bool(n.RouteRefresh)
	c.graceful_restart = C.bool(n.GracefulRestart)
	c.graceful_restart_time = C.uint16_t(n.GracefulRestartTime)
	c.graceful_restart_preserved = C.uint32_t(n.GracefulRestartPreserved)
	return c
}

func goNegotiated(c C.rfl_negotiated) Negotiated {
	return Negotiated{
		RouterID:                 addrOfID(c.router_id),
		FourOctetAS:              bool(c.four_octet_as),
		ExtendedMessage:          bool(c.extended_message),
		Families:                 Family(c.families),
		AddPathReceive:           Family(c.add_path_receive),
		AddPathSend:              Family(c.add_path_send),
		EnhancedRouteRefresh:     bool(c.enhanced_route_refresh),
		HasRemoteRole:            bool(c.has_remote_role),
		RemoteRole:               uint8(c.remote_role),
		ExtendedNextHop:          Family(c.extended_next_hop),
		RouteRefresh:             bool(c.route_refresh),
		GracefulRestart:          bool(c.graceful_restart),
		GracefulRestartTime:      uint16(c.graceful_restart_time),
		GracefulRestartPreserved: Family(c.graceful_restart_preserved),
	}
}

// PeerUp tells the engine the session with p is established: the table is
// queued for it. With n.GracefulRestart, p's stale paths in
// n.GracefulRestartPreserved stay until its End-of-RIB; other stale paths go.
func (e *Engine) PeerUp(p PeerID, n Negotiated) error {
	if e.p == nil {
		return ErrClosed
	}
	c := n.c()
	return call(func() C.rfl_result { return C.rfl_engine_peer_up(e.p, C.uint32_t(p), &c) })
}

// PeerDown tells the engine the session with p went down: its paths are withdrawn.
func (e *Engine) PeerDown(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_peer_down(e.p, C.uint32_t(p)) })
}

// PeerDownGraceful tells the engine the session with p went down without a
// NOTIFICATION and p advertised graceful restart (RFC 4724): its paths in
// families stay, marked stale. Call RestartTimerExpired if it is not back in time.
func (e *Engine) PeerDownGraceful(p PeerID, families Family) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result {
		return C.rfl_engine_peer_down_graceful(e.p, C.uint32_t(p), C.uint32_t(families))
	})
}

// RestartTimerExpired removes every path of p still stale.
func (e *Engine) RestartTimerExpired(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_restart_timer_expired(e.p, C.uint32_t(p)) })
}

// StaleFamilies returns the families in which p has stale paths.
func (e *Engine) StaleFamilies(p PeerID) (Family, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var f C.uint32_t
	err := call(func() C.rfl_result { return C.rfl_engine_stale_families(e.p, C.uint32_t(p), &f) })
	return Family(f), err
}

// PeerIsUp reports whether p is up.
func (e *Engine) PeerIsUp(p PeerID) (bool, error) {
	if e.p == nil {
		return false, ErrClosed
	}
	var up C.bool
	err := call(func() C.rfl_result { return C.rfl_engine_peer_is_up(e.p, C.uint32_t(p), &up) })
	return bool(up), err
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
	FamilyDisabled     OutcomeKind = C.RFL_OUTCOME_KIND_FAMILY_DISABLED
)

// Action is an RFC 7606 error action.
type Action uint32

// Actions.
const (
	ActionNone             Action = C.RFL_ACTION_NONE
	ActionSessionReset     Action = C.RFL_ACTION_SESSION_RESET
	ActionAfiSafiDisable   Action = C.RFL_ACTION_AFI_SAFI_DISABLE
	ActionTreatAsWithdraw  Action = C.RFL_ACTION_TREAT_AS_WITHDRAW
	ActionAttributeDiscard Action = C.RFL_ACTION_ATTRIBUTE_DISCARD
)

// Outcome is the result of HandleMessage.
type Outcome struct {
	Kind                           OutcomeKind
	Announced, Withdrawn, Rejected uint32
	ErrorCode, ErrorSubcode        uint8
	ErrorAction                    Action
	ErrorOffset                    int
	// MessageType is the BGP message type (1 OPEN, 3 NOTIFICATION, 4 KEEPALIVE for Ignored).
	MessageType uint8
	// Family is the family of a ROUTE-REFRESH or of FamilyDisabled.
	Family Family
	// Notification is the NOTIFICATION to send for Reset.
	Notification []byte
}

// HandleMessage feeds one framed BGP message (header included) received from p.
func (e *Engine) HandleMessage(p PeerID, msg []byte) (Outcome, error) {
	if e.p == nil {
		return Outcome{}, ErrClosed
	}
	if len(msg) == 0 {
		return Outcome{}, invalid("empty message")
	}
	var notif [C.RFL_MAX_NOTIFICATION_LEN]byte
	var oc C.rfl_outcome
	oc.struct_size = C.uint32_t(unsafe.Sizeof(oc))
	if err := call(func() C.rfl_result {
		return C.rfl_engine_handle_message(e.p, C.uint32_t(p), bytesPtr(msg), C.size_t(len(msg)),
			(*C.uint8_t)(unsafe.Pointer(&notif[0])), C.size_t(len(notif)), &oc)
	}); err != nil {
		return Outcome{}, err
	}
	o := Outcome{
		Kind:         OutcomeKind(oc.kind),
		Announced:    uint32(oc.announced),
		Withdrawn:    uint32(oc.withdrawn),
		Rejected:     uint32(oc.rejected),
		ErrorCode:    uint8(oc.error_code),
		ErrorSubcode: uint8(oc.error_subcode),
		ErrorAction:  Action(oc.error_action),
		ErrorOffset:  int(oc.error_offset),
		MessageType:  uint8(oc.message_type),
		Family:       Family(oc.family),
	}
	if o.Kind == Reset {
		o.Notification = append([]byte(nil), notif[:oc.notification_len]...)
	}
	return o, nil
}

// LastNotification returns the NOTIFICATION of the last Reset outcome.
func (e *Engine) LastNotification() ([]byte, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var buf [C.RFL_MAX_NOTIFICATION_LEN]byte
	var n C.size_t
	if err := call(func() C.rfl_result {
		return C.rfl_engine_last_notification(e.p, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
	}); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

// Transmit returns the next message queued for p, or nil when there is none.
// The slice is valid until the next call on the engine.
func (e *Engine) Transmit(p PeerID) ([]byte, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var n C.size_t
	r, err := do(func() C.rfl_result {
		return C.rfl_engine_poll_transmit(e.p, C.uint32_t(p), (*C.uint8_t)(unsafe.Pointer(&e.buf[0])), C.size_t(len(e.buf)), &n)
	})
	if err != nil || r == ResultEmpty {
		return nil, err
	}
	return e.buf[:n], nil
}

// PendingBytes returns the bytes queued for p and not yet taken.
func (e *Engine) PendingBytes(p PeerID) (int, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var n C.size_t
	err := call(func() C.rfl_result { return C.rfl_engine_pending_bytes(e.p, C.uint32_t(p), &n) })
	return int(n), err
}

// RouteRefresh queues p's routes of family (one bit) again, then End-of-RIB.
func (e *Engine) RouteRefresh(p PeerID, family Family) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_route_refresh(e.p, C.uint32_t(p), C.uint32_t(family)) })
}

// PauseTransmit pauses p's output (its socket takes nothing).
func (e *Engine) PauseTransmit(p PeerID) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_pause_transmit(e.p, C.uint32_t(p)) })
}

// ResumeTransmit lets a paused p catch up; more tells whether more steps are pending.
func (e *Engine) ResumeTransmit(p PeerID) (more bool, err error) {
	if e.p == nil {
		return false, ErrClosed
	}
	var m C.bool
	err = call(func() C.rfl_result { return C.rfl_engine_resume_transmit(e.p, C.uint32_t(p), &m) })
	return bool(m), err
}

// TransmitState is a peer's output state.
type TransmitState struct {
	Paused, CatchingUp bool
	PendingPrefixes    int
}

// TransmitState returns p's output state.
func (e *Engine) TransmitState(p PeerID) (TransmitState, error) {
	if e.p == nil {
		return TransmitState{}, ErrClosed
	}
	var paused, catching C.bool
	var n C.size_t
	err := call(func() C.rfl_result {
		return C.rfl_engine_transmit_state(e.p, C.uint32_t(p), &paused, &catching, &n)
	})
	return TransmitState{Paused: bool(paused), CatchingUp: bool(catching), PendingPrefixes: int(n)}, err
}

// SetPrefixLimit limits p's accepted paths in family to max (0 removes it).
func (e *Engine) SetPrefixLimit(p PeerID, family Family, max uint32, warningOnly bool) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result {
		return C.rfl_engine_set_prefix_limit(e.p, C.uint32_t(p), C.uint32_t(family), C.uint32_t(max), C.bool(warningOnly))
	})
}

// SetMaxPathsPerPrefix refuses ADD-PATH paths from p beyond max per prefix (0: no limit).
func (e *Engine) SetMaxPathsPerPrefix(p PeerID, max uint16) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_set_max_paths_per_prefix(e.p, C.uint32_t(p), C.uint16_t(max)) })
}

// SetAttrMemoryLimit limits the attribute memory p's routes may hold (0: no limit).
func (e *Engine) SetAttrMemoryLimit(p PeerID, maxBytes uint64) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result {
		return C.rfl_engine_set_attr_memory_limit(e.p, C.uint32_t(p), C.uint64_t(maxBytes))
	})
}

// AttrBytes returns the attribute-set bytes p's routes hold.
func (e *Engine) AttrBytes(p PeerID) (uint64, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var n C.uint64_t
	err := call(func() C.rfl_result { return C.rfl_engine_attr_bytes(e.p, C.uint32_t(p), &n) })
	return uint64(n), err
}

// AcceptedPaths returns the paths accepted from p in family (one bit).
func (e *Engine) AcceptedPaths(p PeerID, family Family) (uint64, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var n C.uint64_t
	err := call(func() C.rfl_result {
		return C.rfl_engine_accepted_paths(e.p, C.uint32_t(p), C.uint32_t(family), &n)
	})
	return uint64(n), err
}

// Originate originates prefix from the engine with nextHop and the wire-format
// path attributes attrs (may be nil: ORIGIN IGP and an empty AS_PATH are added).
func (e *Engine) Originate(prefix netip.Prefix, nextHop netip.Addr, attrs []byte) error {
	if e.p == nil {
		return ErrClosed
	}
	cp, nh := cPrefix(prefix), cAddr(nextHop)
	return call(func() C.rfl_result {
		return C.rfl_engine_originate(e.p, &cp, &nh, bytesPtr(attrs), C.size_t(len(attrs)))
	})
}

// WithdrawLocal withdraws a route the engine originated (ErrNotFound if none).
func (e *Engine) WithdrawLocal(prefix netip.Prefix) error {
	if e.p == nil {
		return ErrClosed
	}
	cp := cPrefix(prefix)
	return call(func() C.rfl_result { return C.rfl_engine_withdraw_local(e.p, &cp) })
}

// Path is one candidate path.
type Path struct {
	Peer           PeerID
	RemoteID       uint32
	LocalID        uint32
	Attrs          uint32
	Reachable      bool
	Origin         uint8
	ASPathLen      uint32
	NeighborAS     uint32
	MED            uint32
	HasMED         bool
	LocalPref      uint32
	HasLocalPref   bool
	OriginatorID   netip.Addr // invalid when absent
	ClusterListLen uint32
	NextHop        netip.Addr
}

func goPath(p C.rfl_path) Path {
	r := Path{
		Peer:           PeerID(p.peer),
		RemoteID:       uint32(p.remote_id),
		LocalID:        uint32(p.local_id),
		Attrs:          uint32(p.attrs),
		Reachable:      bool(p.reachable),
		Origin:         uint8(p.origin),
		ASPathLen:      uint32(p.as_path_len),
		NeighborAS:     uint32(p.neighbor_as),
		MED:            uint32(p.med),
		HasMED:         bool(p.has_med),
		LocalPref:      uint32(p.local_pref),
		HasLocalPref:   bool(p.has_local_pref),
		ClusterListLen: uint32(p.cluster_list_len),
		NextHop:        goAddr(p.next_hop),
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
	err = call(func() C.rfl_result { return C.rfl_engine_best(e.p, &cp, &p) })
	if errors.Is(err, ErrNotFound) {
		return Path{}, false, nil
	}
	if err != nil {
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
	err := call(func() C.rfl_result { return C.rfl_engine_candidates(e.p, &cp, nil, 0, &n) })
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, ErrBufferTooSmall) {
		return nil, err
	}
	paths := make([]C.rfl_path, n)
	if err := call(func() C.rfl_result { return C.rfl_engine_candidates(e.p, &cp, &paths[0], n, &n) }); err != nil {
		return nil, err
	}
	out := make([]Path, n)
	for i := range out {
		out[i] = goPath(paths[i])
	}
	return out, nil
}

// AttrSet returns a copy of the canonical attribute block of set id (Path.Attrs).
func (e *Engine) AttrSet(id uint32) ([]byte, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var p *C.uint8_t
	var n C.size_t
	if err := call(func() C.rfl_result { return C.rfl_engine_attr_set(e.p, C.uint32_t(id), &p, &n) }); err != nil {
		return nil, err
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

// Route is a prefix with a path (a Loc-RIB or Adj-RIB entry).
type Route struct {
	Prefix netip.Prefix
	Path   Path
}

func drain(it *C.rfl_loc_rib_iter) ([]Route, error) {
	defer C.rfl_loc_rib_iter_free(it)
	var n C.size_t
	if err := call(func() C.rfl_result { return C.rfl_loc_rib_iter_count(it, &n) }); err != nil {
		return nil, err
	}
	out := make([]Route, 0, n)
	for {
		var p C.rfl_prefix
		var path C.rfl_path
		r, err := do(func() C.rfl_result { return C.rfl_loc_rib_iter_next(it, &p, &path) })
		if err != nil {
			return nil, err
		}
		if r == ResultEmpty {
			return out, nil
		}
		out = append(out, Route{Prefix: goPrefix(p), Path: goPath(path)})
	}
}

// LocRIB returns every prefix with its best path (IPv4 then IPv6, ascending).
func (e *Engine) LocRIB() ([]Route, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var it *C.rfl_loc_rib_iter
	if err := call(func() C.rfl_result { return C.rfl_engine_loc_rib(e.p, &it) }); err != nil {
		return nil, err
	}
	return drain(it)
}

// AdjRIBIn returns the paths the engine holds from p (after import policy).
func (e *Engine) AdjRIBIn(p PeerID) ([]Route, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var it *C.rfl_loc_rib_iter
	if err := call(func() C.rfl_result { return C.rfl_engine_adj_rib_in(e.p, C.uint32_t(p), &it) }); err != nil {
		return nil, err
	}
	return drain(it)
}

// AdjRIBOut returns the best paths the reflection rules let reach p (before export policy).
func (e *Engine) AdjRIBOut(p PeerID) ([]Route, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var it *C.rfl_loc_rib_iter
	if err := call(func() C.rfl_result { return C.rfl_engine_adj_rib_out(e.p, C.uint32_t(p), &it) }); err != nil {
		return nil, err
	}
	return drain(it)
}

// KeyedRoute is a route of a family beyond unicast: the NLRI its best path
// came with (without path identifier) and that path.
type KeyedRoute struct {
	NLRI []byte
	Path Path
}

// KeyedRoutes returns the routes of one family beyond unicast (VPNv4, EVPN,
// ...: one Family bit), each with its best path.
func (e *Engine) KeyedRoutes(f Family) ([]KeyedRoute, error) {
	if e.p == nil {
		return nil, ErrClosed
	}
	var it *C.rfl_keyed_iter
	if err := call(func() C.rfl_result { return C.rfl_engine_keyed_routes(e.p, C.uint32_t(f), &it) }); err != nil {
		return nil, err
	}
	defer C.rfl_keyed_iter_free(it)
	var n C.size_t
	if err := call(func() C.rfl_result { return C.rfl_keyed_iter_count(it, &n) }); err != nil {
		return nil, err
	}
	out := make([]KeyedRoute, 0, n)
	for {
		var nlri *C.uint8_t
		var nlen C.size_t
		var path C.rfl_path
		r, err := do(func() C.rfl_result { return C.rfl_keyed_iter_next(it, &nlri, &nlen, &path) })
		if err != nil {
			return nil, err
		}
		if r == ResultEmpty {
			return out, nil
		}
		b := C.GoBytes(unsafe.Pointer(nlri), C.int(nlen))
		out = append(out, KeyedRoute{NLRI: b, Path: goPath(path)})
	}
}

// DeferSelection holds every session that comes up from now on: it is sent
// neither routes nor End-of-RIB until EndDeferral (RFC 4724 §4.1, for a
// restarting speaker); the routes it sends are taken in as usual.
func (e *Engine) DeferSelection() error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_defer_selection(e.p) })
}

// IsDeferring tells whether sessions that come up are held by DeferSelection.
func (e *Engine) IsDeferring() (bool, error) {
	if e.p == nil {
		return false, ErrClosed
	}
	var d C.bool
	err := call(func() C.rfl_result { return C.rfl_engine_is_deferring(e.p, &d) })
	return bool(d), err
}

// EndDeferral ends the selection deferral: every session it held is sent the
// current table and End-of-RIB (through Transmit). It returns how many it held.
func (e *Engine) EndDeferral() (int, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var n C.uint32_t
	err := call(func() C.rfl_result { return C.rfl_engine_end_deferral(e.p, &n) })
	return int(n), err
}

// Flush decides every pending change now.
func (e *Engine) Flush() error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_flush(e.p) })
}

// Counters are a peer's counters (rfl_peer_counters).
type Counters struct {
	UpdatesReceived, PrefixesReceived, WithdrawalsReceived uint64
	Accepted, RejectedLoop, TreatAsWithdraw                uint64
	AttributeDiscard, SessionResets, RouteRefreshes        uint64
	UpdatesSent, PrefixesSent, WithdrawalsSent             uint64
	EncodeOverflows                                        uint64
	PolicyRejectedIn, PolicyModifiedIn, PolicyRejectedOut  uint64
	GracefulRestarts, StaleMarked, StaleRemoved            uint64
	TransmitPauses, PrefixLimitHits, PathsRefused          uint64
	AttrLimitRefused, UnnegotiatedPrefixes                 uint64
	FamiliesDisabled                                       uint64
}

// Counters returns p's counters.
func (e *Engine) Counters(p PeerID) (Counters, error) {
	if e.p == nil {
		return Counters{}, ErrClosed
	}
	var c C.rfl_peer_counters
	c.struct_size = C.uint32_t(unsafe.Sizeof(c))
	if err := call(func() C.rfl_result { return C.rfl_engine_counters(e.p, C.uint32_t(p), &c) }); err != nil {
		return Counters{}, err
	}
	return Counters{
		UpdatesReceived: uint64(c.updates_received), PrefixesReceived: uint64(c.prefixes_received),
		WithdrawalsReceived: uint64(c.withdrawals_received), Accepted: uint64(c.accepted),
		RejectedLoop: uint64(c.rejected_loop), TreatAsWithdraw: uint64(c.treat_as_withdraw),
		AttributeDiscard: uint64(c.attribute_discard), SessionResets: uint64(c.session_resets),
		RouteRefreshes: uint64(c.route_refreshes),
		UpdatesSent:    uint64(c.updates_sent), PrefixesSent: uint64(c.prefixes_sent),
		WithdrawalsSent: uint64(c.withdrawals_sent), EncodeOverflows: uint64(c.encode_overflows),
		PolicyRejectedIn: uint64(c.policy_rejected_in), PolicyModifiedIn: uint64(c.policy_modified_in),
		PolicyRejectedOut: uint64(c.policy_rejected_out),
		GracefulRestarts:  uint64(c.graceful_restarts), StaleMarked: uint64(c.stale_marked),
		StaleRemoved: uint64(c.stale_removed), TransmitPauses: uint64(c.transmit_pauses),
		PrefixLimitHits: uint64(c.prefix_limit_hits), PathsRefused: uint64(c.paths_refused),
		AttrLimitRefused: uint64(c.attr_limit_refused), UnnegotiatedPrefixes: uint64(c.unnegotiated_prefixes),
		FamiliesDisabled: uint64(c.families_disabled),
	}, nil
}

// MemoryStats is the memory held by the RIB.
type MemoryStats struct {
	Prefixes, Paths, AttrSets, TableBytes, AttrBytes int
}

// Memory returns the memory held by the RIB.
func (e *Engine) Memory() (MemoryStats, error) {
	if e.p == nil {
		return MemoryStats{}, ErrClosed
	}
	var m C.rfl_memory_stats
	m.struct_size = C.uint32_t(unsafe.Sizeof(m))
	if err := call(func() C.rfl_result { return C.rfl_engine_memory(e.p, &m) }); err != nil {
		return MemoryStats{}, err
	}
	return MemoryStats{Prefixes: int(m.prefixes), Paths: int(m.paths), AttrSets: int(m.attr_sets),
		TableBytes: int(m.table_bytes), AttrBytes: int(m.attr_bytes)}, nil
}

// PrefixCounts returns the number of IPv4 and IPv6 prefixes in the table.
func (e *Engine) PrefixCounts() (v4, v6 int, err error) {
	if e.p == nil {
		return 0, 0, ErrClosed
	}
	var a, b C.size_t
	err = call(func() C.rfl_result { return C.rfl_engine_prefix_counts(e.p, &a, &b) })
	return int(a), int(b), err
}

// EventKind is the kind of an engine Event.
type EventKind uint32

// Engine event kinds.
const (
	EventBestChanged     EventKind = C.RFL_EVENT_KIND_BEST_CHANGED
	EventLoopRejected    EventKind = C.RFL_EVENT_KIND_LOOP_REJECTED
	EventUpdateError     EventKind = C.RFL_EVENT_KIND_UPDATE_ERROR
	EventEncodeOverflow  EventKind = C.RFL_EVENT_KIND_ENCODE_OVERFLOW
	EventPeerUp          EventKind = C.RFL_EVENT_KIND_PEER_UP
	EventPeerDown        EventKind = C.RFL_EVENT_KIND_PEER_DOWN
	EventPeerRestarting  EventKind = C.RFL_EVENT_KIND_PEER_RESTARTING
	EventStaleRemoved    EventKind = C.RFL_EVENT_KIND_STALE_REMOVED
	EventPrefixLimit     EventKind = C.RFL_EVENT_KIND_PREFIX_LIMIT
	EventPathLimit       EventKind = C.RFL_EVENT_KIND_PATH_LIMIT
	EventAttrMemoryLimit EventKind = C.RFL_EVENT_KIND_ATTR_MEMORY_LIMIT
	EventUnknownFamily   EventKind = C.RFL_EVENT_KIND_UNKNOWN_FAMILY
	// EventKeyedBestChanged: the best path of a route of a family beyond
	// unicast changed (Families: the family's bit; HasBest/Best: its peer).
	EventKeyedBestChanged EventKind = C.RFL_EVENT_KIND_KEYED_BEST_CHANGED
)

// Event is an engine event (fields the kind does not use are zero).
type Event struct {
	Kind       EventKind
	Peer       PeerID
	Prefix     netip.Prefix
	HasBest    bool
	Best       PeerID
	LoopReason uint32
	ErrorCode  uint8
	ErrorSub   uint8
	Action     Action
	// Families: PEER_RESTARTING the families kept stale, STALE_REMOVED the family swept.
	Families Family
	// Paths: PEER_RESTARTING paths marked stale, STALE_REMOVED paths removed.
	Paths uint64
}

// PollEvent returns the next event; ok is false when there is none.
func (e *Engine) PollEvent() (ev Event, ok bool, err error) {
	if e.p == nil {
		return Event{}, false, ErrClosed
	}
	var c C.rfl_event
	c.struct_size = C.uint32_t(unsafe.Sizeof(c))
	r, err := do(func() C.rfl_result { return C.rfl_engine_poll_event(e.p, &c) })
	if err != nil || r == ResultEmpty {
		return Event{}, false, err
	}
	ev = Event{Kind: EventKind(c.kind), Peer: PeerID(c.peer), HasBest: bool(c.has_best), Best: PeerID(c.best),
		LoopReason: uint32(c.loop_reason), ErrorCode: uint8(c.error_code), ErrorSub: uint8(c.error_subcode),
		Action: Action(c.error_action), Families: Family(c.families), Paths: uint64(c.paths)}
	if c.prefix.addr.family != 0 {
		ev.Prefix = goPrefix(c.prefix)
	}
	return ev, true, nil
}

// EventsDropped returns the events dropped because the queue was full.
func (e *Engine) EventsDropped() (uint64, error) {
	if e.p == nil {
		return 0, ErrClosed
	}
	var n C.uint64_t
	err := call(func() C.rfl_result { return C.rfl_engine_events_dropped(e.p, &n) })
	return uint64(n), err
}

// Resolver reports whether a next hop is reachable and at what IGP cost. It
// runs on the goroutine calling into the engine and must not call the engine.
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
		err := call(func() C.rfl_result { return C.rfl_engine_set_resolver(e.p, nil, nil) })
		e.dropResolver()
		return err
	}
	h := cgo.NewHandle(f)
	slot := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	*slot = C.uintptr_t(h)
	if err := call(func() C.rfl_result {
		return C.rfl_engine_set_resolver(e.p, C.rfl_resolver_callback(C.rfl_go_resolver), unsafe.Pointer(slot))
	}); err != nil {
		C.free(unsafe.Pointer(slot))
		h.Delete()
		return err
	}
	e.dropResolver()
	e.resolver, e.handle = slot, h
	return nil
}

// ResolverChanged tells the engine the resolver's answers changed: every prefix is decided again.
func (e *Engine) ResolverChanged() error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_resolver_changed(e.p) })
}
