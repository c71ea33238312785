package reflector

/*
#include <stdlib.h>
#include "reflector.h"

uint32_t rfl_go_hook(void *user_data, rfl_direction dir, uint32_t peer, const rfl_route *route,
                     rfl_attr_edit *edit);
*/
import "C"

import (
	"net/netip"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Verdict is what a policy statement (or a policy's default) decides.
type Verdict uint32

// Verdicts.
const (
	Accept Verdict = C.RFL_VERDICT_ACCEPT
	Reject Verdict = C.RFL_VERDICT_REJECT
	Next   Verdict = C.RFL_VERDICT_NEXT
)

// MatchKind is the kind of a statement condition (rfl_match); its value is
// given in text form ("10.0.0.0/8{16,24}", "65000:*", "* 65001 ?": see
// reflector.h).
type MatchKind uint32

// Condition kinds.
const (
	MatchPrefix         MatchKind = C.RFL_MATCH_PREFIX
	MatchNeighbor       MatchKind = C.RFL_MATCH_NEIGHBOR
	MatchFamily         MatchKind = C.RFL_MATCH_FAMILY
	MatchOriginAS       MatchKind = C.RFL_MATCH_ORIGIN_AS
	MatchASPathContains MatchKind = C.RFL_MATCH_AS_PATH_CONTAINS
	MatchASPathLength   MatchKind = C.RFL_MATCH_AS_PATH_LENGTH
	MatchASPath         MatchKind = C.RFL_MATCH_AS_PATH
	MatchCommunity      MatchKind = C.RFL_MATCH_COMMUNITY
	MatchExtCommunity   MatchKind = C.RFL_MATCH_EXT_COMMUNITY
	MatchLargeCommunity MatchKind = C.RFL_MATCH_LARGE_COMMUNITY
	MatchNextHop        MatchKind = C.RFL_MATCH_NEXT_HOP
)

// SetKind is the kind of a statement action (rfl_set), with a text value.
type SetKind uint32

// Action kinds.
const (
	SetLocalPref             SetKind = C.RFL_SET_LOCAL_PREF
	SetMED                   SetKind = C.RFL_SET_MED
	SetRemoveMED             SetKind = C.RFL_SET_REMOVE_MED
	SetNextHop               SetKind = C.RFL_SET_NEXT_HOP
	SetPrepend               SetKind = C.RFL_SET_PREPEND
	SetCommunityAdd          SetKind = C.RFL_SET_COMMUNITY_ADD
	SetCommunityRemove       SetKind = C.RFL_SET_COMMUNITY_REMOVE
	SetCommunityReplace      SetKind = C.RFL_SET_COMMUNITY_REPLACE
	SetExtCommunityAdd       SetKind = C.RFL_SET_EXT_COMMUNITY_ADD
	SetExtCommunityRemove    SetKind = C.RFL_SET_EXT_COMMUNITY_REMOVE
	SetExtCommunityReplace   SetKind = C.RFL_SET_EXT_COMMUNITY_REPLACE
	SetLargeCommunityAdd     SetKind = C.RFL_SET_LARGE_COMMUNITY_ADD
	SetLargeCommunityRemove  SetKind = C.RFL_SET_LARGE_COMMUNITY_REMOVE
	SetLargeCommunityReplace SetKind = C.RFL_SET_LARGE_COMMUNITY_REPLACE
)

// Match is one condition value; values of one kind are alternatives, kinds
// must all hold. With Not, the route must match none of the kind's negated values.
type Match struct {
	Kind  MatchKind
	Value string
	Not   bool
}

// Set is one action, applied in order.
type Set struct {
	Kind  SetKind
	Value string
}

// Statement is a policy statement: when every match holds, apply the sets, then the verdict.
type Statement struct {
	Name    string
	Matches []Match
	Sets    []Set
	Verdict Verdict
}

// Policy is a routing policy (rfl_policy). Installing it on a peer copies it;
// release it with Close.
type Policy struct {
	p *C.rfl_policy
}

// NewPolicy builds a policy from its statements; def applies when none accepts or rejects.
func NewPolicy(name string, def Verdict, statements ...Statement) (*Policy, error) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	p := &Policy{}
	if err := call(func() C.rfl_result { return C.rfl_policy_new(cn, C.uint32_t(def), &p.p) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(p, (*Policy).Close)
	for _, s := range statements {
		if err := p.Add(s); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Add appends a statement; an invalid value gives an *Error naming the form expected.
func (p *Policy) Add(s Statement) error {
	if p.p == nil {
		return ErrClosed
	}
	cn := C.CString(s.Name)
	defer C.free(unsafe.Pointer(cn))
	var st *C.rfl_statement
	if err := call(func() C.rfl_result { return C.rfl_statement_new(cn, C.uint32_t(s.Verdict), &st) }); err != nil {
		return err
	}
	err := func() error {
		for _, m := range s.Matches {
			v := C.CString(m.Value)
			err := call(func() C.rfl_result {
				if m.Not {
					return C.rfl_statement_match_not(st, C.uint32_t(m.Kind), v)
				}
				return C.rfl_statement_match(st, C.uint32_t(m.Kind), v)
			})
			C.free(unsafe.Pointer(v))
			if err != nil {
				return err
			}
		}
		for _, a := range s.Sets {
			v := C.CString(a.Value)
			err := call(func() C.rfl_result { return C.rfl_statement_set(st, C.uint32_t(a.Kind), v) })
			C.free(unsafe.Pointer(v))
			if err != nil {
				return err
			}
		}
		return call(func() C.rfl_result { return C.rfl_policy_add_statement(p.p, st) })
	}()
	if err != nil {
		C.rfl_statement_free(st)
	}
	return err
}

// Close frees the policy; peers keep their copies. Closing twice is allowed.
func (p *Policy) Close() error {
	if p.p == nil {
		return nil
	}
	runtime.SetFinalizer(p, nil)
	q := p.p
	p.p = nil
	return call(func() C.rfl_result { return C.rfl_policy_free(q) })
}

// StatementCount returns the number of statements in the policy.
func (p *Policy) StatementCount() (int, error) {
	if p.p == nil {
		return 0, ErrClosed
	}
	var n C.size_t
	err := call(func() C.rfl_result { return C.rfl_policy_statement_count(p.p, &n) })
	return int(n), err
}

func (p *Policy) c() *C.rfl_policy {
	if p == nil {
		return nil
	}
	return p.p
}

// Reimport says what to do after an import policy changed.
type Reimport uint32

// Reimport values.
const (
	// ReimportNothing: the peer is down.
	ReimportNothing Reimport = C.RFL_REIMPORT_NOTHING
	// ReimportRefresh: the peer is up; ask for its routes again (RequestRefresh).
	ReimportRefresh Reimport = C.RFL_REIMPORT_REFRESH
)

// SetImportPolicy sets peer's import policy to a copy of p (nil clears it).
func (e *Engine) SetImportPolicy(peer PeerID, p *Policy) (Reimport, error) {
	if e.p == nil {
		return ReimportNothing, ErrClosed
	}
	var r C.rfl_reimport
	cp := p.c()
	err := call(func() C.rfl_result { return C.rfl_engine_set_import_policy(e.p, C.uint32_t(peer), cp, &r) })
	runtime.KeepAlive(p)
	return Reimport(r), err
}

// SetExportPolicy sets peer's export policy to a copy of p (nil clears it);
// on a live session the difference is queued now.
func (e *Engine) SetExportPolicy(peer PeerID, p *Policy) error {
	if e.p == nil {
		return ErrClosed
	}
	cp := p.c()
	err := call(func() C.rfl_result { return C.rfl_engine_set_export_policy(e.p, C.uint32_t(peer), cp) })
	runtime.KeepAlive(p)
	return err
}

// RequestRefresh queues a ROUTE-REFRESH to peer for one family.
func (e *Engine) RequestRefresh(peer PeerID, f Family) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_request_refresh(e.p, C.uint32_t(peer), C.uint32_t(f)) })
}

// SetEBGPRequiresPolicy turns RFC 8212 default-deny toward and from eBGP
// peers on (the default) or off; only before peers or routes are added.
func (e *Engine) SetEBGPRequiresPolicy(required bool) error {
	if e.p == nil {
		return ErrClosed
	}
	return call(func() C.rfl_result { return C.rfl_engine_set_ebgp_requires_policy(e.p, C.bool(required)) })
}

// EBGPRequiresPolicy reports whether RFC 8212 default-deny is on.
func (e *Engine) EBGPRequiresPolicy() (bool, error) {
	if e.p == nil {
		return false, ErrClosed
	}
	var b C.bool
	err := call(func() C.rfl_result { return C.rfl_engine_ebgp_requires_policy(e.p, &b) })
	return bool(b), err
}

// Direction is the way a route passes a hook.
type Direction uint32

// Directions.
const (
	Import Direction = C.RFL_DIRECTION_IMPORT
	Export Direction = C.RFL_DIRECTION_EXPORT
)

// HookVerdict is what a Hook decides.
type HookVerdict uint32

// Hook verdicts.
const (
	HookAccept HookVerdict = C.RFL_HOOK_VERDICT_ACCEPT
	HookReject HookVerdict = C.RFL_HOOK_VERDICT_REJECT
	// HookModify accepts the route with the changes made through the AttrEdit.
	HookModify HookVerdict = C.RFL_HOOK_VERDICT_MODIFY
)

// HookRoute is a route as a hook sees it (copied: it may be kept).
type HookRoute struct {
	// Prefix is the IP prefix: a unicast route's, the one inside a multicast,
	// labeled or VPN route, an EVPN IP Prefix route's; invalid for a route
	// without one (a flow rule, RT membership, other EVPN routes).
	Prefix netip.Prefix
	// AFI and SAFI are the route's family (1/1 IPv4 unicast, 1/128 VPN-IPv4, 25/70 EVPN, ...).
	AFI  uint16
	SAFI uint8
	// NLRI is the route's NLRI without path identifier (nil for IPv4 and IPv6 unicast).
	NLRI []byte
	// Neighbor is the peer it came from (invalid: originated by the engine).
	Neighbor netip.Addr
	// Attrs is the canonical attribute block (TLVs sorted by type code).
	Attrs []byte
	// MPNextHop is the MP_REACH_NLRI next hop field (nil when none).
	MPNextHop []byte
}

// AttrEdit changes a route inside a Hook; valid during that call only.
type AttrEdit struct {
	p *C.rfl_attr_edit
}

func (a *AttrEdit) do(f func() C.rfl_result) error {
	if a.p == nil {
		return ErrClosed
	}
	return call(f)
}

// SetLocalPref sets LOCAL_PREF.
func (a *AttrEdit) SetLocalPref(v uint32) error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_set_local_pref(a.p, C.uint32_t(v)) })
}

// SetMED sets MULTI_EXIT_DISC.
func (a *AttrEdit) SetMED(v uint32) error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_set_med(a.p, C.uint32_t(v)) })
}

// RemoveMED removes MULTI_EXIT_DISC.
func (a *AttrEdit) RemoveMED() error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_remove_med(a.p) })
}

// SetNextHop sets the next hop.
func (a *AttrEdit) SetNextHop(nh netip.Addr) error {
	c := cAddr(nh)
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_set_next_hop(a.p, &c) })
}

// AddCommunity adds a standard community (ASN<<16 | value).
func (a *AttrEdit) AddCommunity(c uint32) error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_add_community(a.p, C.uint32_t(c)) })
}

// RemoveCommunity removes a standard community.
func (a *AttrEdit) RemoveCommunity(c uint32) error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_remove_community(a.p, C.uint32_t(c)) })
}

// Prepend prepends asn count times to the AS_PATH.
func (a *AttrEdit) Prepend(asn uint32, count uint8) error {
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_prepend(a.p, C.uint32_t(asn), C.uint8_t(count)) })
}

// Set applies one policy action in text form (as Statement sets).
func (a *AttrEdit) Set(kind SetKind, value string) error {
	v := C.CString(value)
	defer C.free(unsafe.Pointer(v))
	return a.do(func() C.rfl_result { return C.rfl_attr_edit_set(a.p, C.uint32_t(kind), v) })
}

// SetBlock replaces the attributes with a wire-format block.
func (a *AttrEdit) SetBlock(attrs []byte) error {
	return a.do(func() C.rfl_result {
		return C.rfl_attr_edit_set_block(a.p, bytesPtr(attrs), C.size_t(len(attrs)))
	})
}

// Hook decides per route, on the goroutine calling into the engine, during
// that call; it must not call the engine.
type Hook func(dir Direction, peer PeerID, route HookRoute, edit *AttrEdit) HookVerdict

type hookKey struct {
	peer PeerID
	dir  Direction
}

// hookSlot is the C memory holding a hook's cgo.Handle (the user_data).
type hookSlot struct {
	slot *C.uintptr_t
	h    cgo.Handle
}

func newHookSlot(f Hook) *hookSlot {
	h := cgo.NewHandle(f)
	slot := (*C.uintptr_t)(C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	*slot = C.uintptr_t(h)
	return &hookSlot{slot: slot, h: h}
}

func (s *hookSlot) free() {
	C.free(unsafe.Pointer(s.slot))
	s.h.Delete()
}

//export rflGoHook
func rflGoHook(userData unsafe.Pointer, dir C.rfl_direction, peer C.uint32_t, route *C.rfl_route, edit *C.rfl_attr_edit) C.uint32_t {
	f := cgo.Handle(*(*C.uintptr_t)(userData)).Value().(Hook)
	r := HookRoute{Neighbor: goAddr(route.neighbor), AFI: uint16(route.afi), SAFI: uint8(route.safi)}
	if route.prefix.addr.family != 0 {
		r.Prefix = goPrefix(route.prefix)
	}
	if route.nlri != nil {
		r.NLRI = C.GoBytes(unsafe.Pointer(route.nlri), C.int(route.nlri_len))
	}
	if route.attrs != nil {
		r.Attrs = C.GoBytes(unsafe.Pointer(route.attrs), C.int(route.attrs_len))
	}
	if route.mp_next_hop != nil {
		r.MPNextHop = C.GoBytes(unsafe.Pointer(route.mp_next_hop), C.int(route.mp_next_hop_len))
	}
	ed := &AttrEdit{p: edit}
	v := f(Direction(dir), PeerID(peer), r, ed)
	ed.p = nil
	return C.uint32_t(v)
}

func (e *Engine) setHook(peer PeerID, dir Direction, f Hook, set func(cb C.rfl_hook_callback, ud unsafe.Pointer) C.rfl_result) error {
	if e.p == nil {
		return ErrClosed
	}
	key := hookKey{peer, dir}
	var s *hookSlot
	var cb C.rfl_hook_callback
	var ud unsafe.Pointer
	if f != nil {
		s = newHookSlot(f)
		cb, ud = C.rfl_hook_callback(C.rfl_go_hook), unsafe.Pointer(s.slot)
	}
	if err := call(func() C.rfl_result { return set(cb, ud) }); err != nil {
		if s != nil {
			s.free()
		}
		return err
	}
	if old, ok := e.hooks[key]; ok {
		old.free()
		delete(e.hooks, key)
	}
	if s != nil {
		e.hooks[key] = s
	}
	return nil
}

// SetImportHook installs f on routes received from peer (nil removes it).
func (e *Engine) SetImportHook(peer PeerID, f Hook) (Reimport, error) {
	var r C.rfl_reimport
	err := e.setHook(peer, Import, f, func(cb C.rfl_hook_callback, ud unsafe.Pointer) C.rfl_result {
		return C.rfl_engine_set_import_hook(e.p, C.uint32_t(peer), cb, ud, &r)
	})
	return Reimport(r), err
}

// SetExportHook installs f on routes about to be sent to peer (nil removes it).
func (e *Engine) SetExportHook(peer PeerID, f Hook) error {
	return e.setHook(peer, Export, f, func(cb C.rfl_hook_callback, ud unsafe.Pointer) C.rfl_result {
		return C.rfl_engine_set_export_hook(e.p, C.uint32_t(peer), cb, ud)
	})
}
