package reflector

/*
#include <stdlib.h>
#include "reflector.h"
*/
import "C"

import (
	"runtime"
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
	if err := check(C.rfl_policy_new(cn, C.uint32_t(def), &p.p)); err != nil {
		return nil, err
	}
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
	if err := check(C.rfl_statement_new(cn, C.uint32_t(s.Verdict), &st)); err != nil {
		return err
	}
	err := func() error {
		for _, m := range s.Matches {
			v := C.CString(m.Value)
			var r C.rfl_result
			if m.Not {
				r = C.rfl_statement_match_not(st, C.uint32_t(m.Kind), v)
			} else {
				r = C.rfl_statement_match(st, C.uint32_t(m.Kind), v)
			}
			C.free(unsafe.Pointer(v))
			if err := check(r); err != nil {
				return err
			}
		}
		for _, a := range s.Sets {
			v := C.CString(a.Value)
			r := C.rfl_statement_set(st, C.uint32_t(a.Kind), v)
			C.free(unsafe.Pointer(v))
			if err := check(r); err != nil {
				return err
			}
		}
		return check(C.rfl_policy_add_statement(p.p, st))
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
	err := check(C.rfl_policy_free(p.p))
	p.p = nil
	return err
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
	err := check(C.rfl_engine_set_import_policy(e.p, C.uint32_t(peer), p.c(), &r))
	runtime.KeepAlive(p)
	return Reimport(r), err
}

// SetExportPolicy sets peer's export policy to a copy of p (nil clears it);
// on a live session the difference is queued now.
func (e *Engine) SetExportPolicy(peer PeerID, p *Policy) error {
	if e.p == nil {
		return ErrClosed
	}
	err := check(C.rfl_engine_set_export_policy(e.p, C.uint32_t(peer), p.c()))
	runtime.KeepAlive(p)
	return err
}

// RequestRefresh queues a ROUTE-REFRESH to peer for one family.
func (e *Engine) RequestRefresh(peer PeerID, f Family) error {
	if e.p == nil {
		return ErrClosed
	}
	return check(C.rfl_engine_request_refresh(e.p, C.uint32_t(peer), C.uint32_t(f)))
}

// SetEBGPRequiresPolicy turns RFC 8212 default-deny toward and from eBGP
// peers on (the default) or off; only before peers or routes are added.
func (e *Engine) SetEBGPRequiresPolicy(required bool) error {
	if e.p == nil {
		return ErrClosed
	}
	return check(C.rfl_engine_set_ebgp_requires_policy(e.p, C.bool(required)))
}
