package reflector

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// policyUpdate is an iBGP UPDATE: ORIGIN IGP, empty AS_PATH, NEXT_HOP
// 192.0.2.1, LOCAL_PREF 100, for 10.1.0.0/16, 192.168.1.0/24, 172.16.0.0/12.
func policyUpdate() []byte {
	attrs := []byte{0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1, 0x40, 5, 4, 0, 0, 0, 100}
	nlri := []byte{16, 10, 1, 24, 192, 168, 1, 12, 172, 16}
	m := make([]byte, 23, 23+len(attrs)+len(nlri))
	for i := 0; i < 16; i++ {
		m[i] = 0xff
	}
	m[18] = 2
	binary.BigEndian.PutUint16(m[21:], uint16(len(attrs)))
	m = append(append(m, attrs...), nlri...)
	binary.BigEndian.PutUint16(m[16:], uint16(len(m)))
	return m
}

// learned drains p's queue: the attributes of each prefix's last announcement.
func learned(t *testing.T, e *Engine, p PeerID) map[netip.Prefix]map[uint8][]byte {
	out := map[netip.Prefix]map[uint8][]byte{}
	for {
		m, err := e.Transmit(p)
		if err != nil {
			t.Fatal(err)
		}
		if m == nil {
			return out
		}
		if m[18] != 2 {
			continue
		}
		u := parseUpdate(t, m)
		for _, a := range u.announced {
			attrs := map[uint8][]byte{}
			for k, v := range u.attrs {
				attrs[k] = append([]byte(nil), v...)
			}
			out[a] = attrs
		}
	}
}

func hasCommunity(v []byte, c uint32) bool {
	for i := 0; i+4 <= len(v); i += 4 {
		if binary.BigEndian.Uint32(v[i:]) == c {
			return true
		}
	}
	return false
}

func TestPolicies(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	add := func(role Role, as uint32, last byte) PeerID {
		id, err := eng.AddPeer(PeerConfig{Role: role, AS: as, Address: netip.AddrFrom4([4]byte{192, 0, 2, last}),
			LocalV4: netip.MustParseAddr("192.0.2.254")})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	up := func(p PeerID, last byte) {
		if err := eng.PeerUp(p, UnicastNegotiated(netip.AddrFrom4([4]byte{10, 0, 1, last}))); err != nil {
			t.Fatal(err)
		}
	}
	src, dst, ext := add(Client, 65000, 1), add(Client, 65000, 2), add(EBGP, 65010, 9)

	pol, err := NewPolicy("client-out", Accept,
		Statement{Name: "drop", Verdict: Reject, Matches: []Match{{Kind: MatchPrefix, Value: "10.0.0.0/8{16,24}"}}},
		Statement{Name: "prefer", Verdict: Accept,
			Matches: []Match{{Kind: MatchPrefix, Value: "192.168.0.0/16+"}},
			Sets:    []Set{{Kind: SetLocalPref, Value: "200"}, {Kind: SetCommunityAdd, Value: "65000:100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetExportPolicy(dst, pol); err != nil {
		t.Fatal(err)
	}
	pol.Close() // the engine keeps its copy
	for i, p := range []PeerID{src, dst, ext} {
		up(p, byte(i+1))
	}
	if _, err := eng.HandleMessage(src, policyUpdate()); err != nil {
		t.Fatal(err)
	}

	got := learned(t, eng, dst)
	if _, ok := got[netip.MustParsePrefix("10.1.0.0/16")]; ok {
		t.Error("10.1.0.0/16 sent despite the reject")
	}
	a := got[netip.MustParsePrefix("192.168.1.0/24")]
	if lp := a[5]; len(lp) != 4 || binary.BigEndian.Uint32(lp) != 200 {
		t.Errorf("LOCAL_PREF %x, want 200", lp)
	}
	if !hasCommunity(a[8], 65000<<16|100) {
		t.Errorf("COMMUNITIES %x lack 65000:100", a[8])
	}
	if a := got[netip.MustParsePrefix("172.16.0.0/12")]; a == nil || binary.BigEndian.Uint32(a[5]) != 100 {
		t.Errorf("172.16.0.0/12: %v", a)
	}
	c, err := eng.Counters(dst)
	if err != nil {
		t.Fatal(err)
	}
	if c.PolicyRejectedOut != 1 {
		t.Errorf("PolicyRejectedOut %d", c.PolicyRejectedOut)
	}

	// RFC 8212: the eBGP peer has no export policy, so it gets nothing; an
	// accept-all policy opens it.
	if n := len(learned(t, eng, ext)); n != 0 {
		t.Errorf("eBGP peer without export policy got %d prefixes", n)
	}
	all, err := NewPolicy("all", Accept)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if err := eng.SetExportPolicy(ext, all); err != nil {
		t.Fatal(err)
	}
	if n := len(learned(t, eng, ext)); n != 3 {
		t.Errorf("eBGP peer with an export policy got %d prefixes", n)
	}
	var re *Error
	if err := eng.SetEBGPRequiresPolicy(false); !errors.As(err, &re) || re.Code != ResultInvalidState {
		t.Errorf("opt-out after peers: %v", err)
	}

	// An import policy on a live peer asks for its routes again.
	learned(t, eng, src) // its End-of-RIB markers
	r, err := eng.SetImportPolicy(src, all)
	if err != nil || r != ReimportRefresh {
		t.Fatalf("SetImportPolicy: %v, %v", r, err)
	}
	if err := eng.RequestRefresh(src, IPv4Unicast); err != nil {
		t.Fatal(err)
	}
	m, err := eng.Transmit(src)
	if err != nil || len(m) != 23 || m[18] != 5 {
		t.Errorf("ROUTE-REFRESH %x, %v", m, err)
	}
	if _, err := eng.SetImportPolicy(src, nil); err != nil {
		t.Fatal(err)
	}

	// Errors are values with the library's message.
	_, err = NewPolicy("bad", Accept, Statement{Matches: []Match{{Kind: MatchPrefix, Value: "10.0.0.0/8{4,24}"}}})
	if !errors.As(err, &re) || re.Code != ResultInvalidParameter || !strings.Contains(re.Message, "prefix") {
		t.Errorf("bad prefix range: %v", err)
	}
	_, err = NewPolicy("bad", Accept, Statement{Sets: []Set{{Kind: SetCommunityAdd, Value: "65000:*"}}})
	if !errors.As(err, &re) || re.Code != ResultInvalidParameter {
		t.Errorf("community with *: %v", err)
	}
}

func TestEBGPRequiresPolicyOptOut(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.SetEBGPRequiresPolicy(false); err != nil {
		t.Fatal(err)
	}
	src, err := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := eng.AddPeer(PeerConfig{Role: EBGP, AS: 65010, Address: netip.MustParseAddr("192.0.2.9"),
		LocalV4: netip.MustParseAddr("192.0.2.254")})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []PeerID{src, ext} {
		if err := eng.PeerUp(p, UnicastNegotiated(netip.AddrFrom4([4]byte{10, 0, 1, byte(i + 1)}))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eng.HandleMessage(src, policyUpdate()); err != nil {
		t.Fatal(err)
	}
	if n := len(learned(t, eng, ext)); n != 3 {
		t.Errorf("eBGP peer after the opt-out got %d prefixes", n)
	}
}
