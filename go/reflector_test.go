package reflector

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func dataPath(t *testing.T, name string) string {
	dir := os.Getenv("REFLECTOR_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test data %s: %v", p, err)
	}
	return p
}

type mrtMessage struct {
	peer netip.Addr
	as4  bool
	msg  []byte
}

// readUpdates returns up to max UPDATE messages of BGP4MP MESSAGE/MESSAGE_AS4 records.
func readUpdates(t *testing.T, path string, max int) []mrtMessage {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(zr)
	var out []mrtMessage
	hdr := make([]byte, 12)
	for len(out) < max {
		if _, err := io.ReadFull(r, hdr); err != nil {
			break
		}
		typ, sub, n := binary.BigEndian.Uint16(hdr[4:]), binary.BigEndian.Uint16(hdr[6:]), binary.BigEndian.Uint32(hdr[8:])
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		if typ != 16 || (sub != 1 && sub != 4) {
			continue
		}
		asl := 2
		if sub == 4 {
			asl = 4
		}
		afi := binary.BigEndian.Uint16(body[2*asl+2:])
		off := 2*asl + 4
		var peer netip.Addr
		if afi == 1 {
			peer = netip.AddrFrom4(*(*[4]byte)(body[off : off+4]))
			off += 8
		} else {
			peer = netip.AddrFrom16(*(*[16]byte)(body[off : off+16]))
			off += 32
		}
		msg := body[off:]
		if len(msg) >= 19 && msg[18] == 2 {
			out = append(out, mrtMessage{peer: peer, as4: sub == 4, msg: msg})
		}
	}
	return out
}

// nlri calls f for each prefix of an NLRI field of the given family.
func nlri(b []byte, v6 bool, f func(netip.Prefix)) {
	for len(b) > 0 {
		l := int(b[0])
		n := (l + 7) / 8
		if 1+n > len(b) {
			return
		}
		var a [16]byte
		copy(a[:], b[1:1+n])
		if v6 {
			f(netip.PrefixFrom(netip.AddrFrom16(a), l).Masked())
		} else {
			f(netip.PrefixFrom(netip.AddrFrom4(*(*[4]byte)(a[:4])), l).Masked())
		}
		b = b[1+n:]
	}
}

type update struct {
	withdrawn, announced []netip.Prefix
	attrs                map[uint8][]byte
}

func parseUpdate(t *testing.T, m []byte) update {
	if len(m) < 23 || m[18] != 2 {
		t.Fatalf("not an UPDATE: %x", m)
	}
	u := update{attrs: map[uint8][]byte{}}
	wl := int(binary.BigEndian.Uint16(m[19:]))
	nlri(m[21:21+wl], false, func(p netip.Prefix) { u.withdrawn = append(u.withdrawn, p) })
	al := int(binary.BigEndian.Uint16(m[21+wl:]))
	a := m[23+wl : 23+wl+al]
	for len(a) >= 3 {
		fl, ty := a[0], a[1]
		hl, l := 3, int(a[2])
		if fl&0x10 != 0 {
			hl, l = 4, int(binary.BigEndian.Uint16(a[2:]))
		}
		v := a[hl : hl+l]
		u.attrs[ty] = v
		switch ty {
		case 14:
			nhl := int(v[3])
			if v[2] == 1 {
				nlri(v[5+nhl:], v[1] == 2, func(p netip.Prefix) { u.announced = append(u.announced, p) })
			}
		case 15:
			if v[2] == 1 {
				nlri(v[3:], v[1] == 2, func(p netip.Prefix) { u.withdrawn = append(u.withdrawn, p) })
			}
		}
		a = a[hl+l:]
	}
	nlri(m[23+wl+al:], false, func(p netip.Prefix) { u.announced = append(u.announced, p) })
	return u
}

var (
	rrID      = netip.MustParseAddr("10.255.255.254")
	clusterID = netip.MustParseAddr("10.255.255.1")
)

func TestVersion(t *testing.T) {
	if Version() == "" || Version() != HeaderVersion() {
		t.Fatalf("library %q, header %q", Version(), HeaderVersion())
	}
}

func TestErrorsAreValues(t *testing.T) {
	_, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: netip.MustParseAddr("0.0.0.0")})
	var e *Error
	if !errors.As(err, &e) || e.Code != ResultInvalidParameter || e.Message == "" {
		t.Fatalf("router ID 0: %v", err)
	}
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.AddPeer(PeerConfig{Role: 7, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")}); !errors.As(err, &e) || e.Code != ResultInvalidParameter {
		t.Fatalf("bad role: %v", err)
	}
	p, err := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	keepalive := append(make([]byte, 0, 19), []byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 19, 4}...)
	if _, err := eng.HandleMessage(p, keepalive); !errors.As(err, &e) || e.Code != ResultPeerNotUp {
		t.Fatalf("down peer: %v", err)
	}
	if err := eng.PeerUp(p+5, UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))); !errors.As(err, &e) || e.Code != ResultUnknownPeer {
		t.Fatalf("unknown peer: %v", err)
	}
	if err := eng.PeerUp(p, UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), keepalive...)
	bad[0] = 0
	oc, err := eng.HandleMessage(p, bad)
	if err != nil || oc.Kind != Reset || oc.ErrorCode != 1 || len(oc.Notification) < 21 || oc.Notification[18] != 3 {
		t.Fatalf("bad marker: %+v %v", oc, err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.LocRIB(); err != ErrClosed {
		t.Fatalf("closed engine: %v", err)
	}
}

// The real round: several peers' UPDATEs from a RIPE RIS dump into the
// engine, reflected to a listener, whose view must equal the Loc-RIB.
func TestMRTRoundReflectsLocRIB(t *testing.T) {
	msgs := readUpdates(t, dataPath(t, "mrt/updates.20190101.0000.gz"), 20000)
	if len(msgs) != 20000 {
		t.Fatalf("read %d UPDATEs", len(msgs))
	}
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID, ClusterID: clusterID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	listener, err := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("10.254.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.PeerUp(listener, UnicastNegotiated(netip.MustParseAddr("10.254.0.1"))); err != nil {
		t.Fatal(err)
	}
	type key struct {
		a   netip.Addr
		as4 bool
	}
	peers := map[key]PeerID{}
	routerIDs := map[netip.Addr]bool{}
	view := map[netip.Prefix]bool{}
	drain := func() {
		for {
			m, err := eng.Transmit(listener)
			if err != nil {
				t.Fatal(err)
			}
			if m == nil {
				return
			}
			u := parseUpdate(t, m)
			for _, p := range u.withdrawn {
				delete(view, p)
			}
			if len(u.announced) > 0 {
				o, c := u.attrs[9], u.attrs[10]
				if len(o) != 4 || len(c) < 4 || netip.AddrFrom4(*(*[4]byte)(c[:4])) != clusterID {
					t.Fatalf("reflected UPDATE without ORIGINATOR_ID/CLUSTER_LIST: %x", m)
				}
			}
			for _, p := range u.announced {
				view[p] = true
			}
		}
	}
	for i, m := range msgs {
		k := key{m.peer, m.as4}
		id, ok := peers[k]
		if !ok {
			rid := netip.AddrFrom4([4]byte{10, 1, byte(len(peers) >> 8), byte(len(peers) + 1)})
			routerIDs[rid] = true
			id, err = eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: m.peer})
			if err != nil {
				t.Fatal(err)
			}
			n := UnicastNegotiated(rid)
			n.FourOctetAS = m.as4
			if err := eng.PeerUp(id, n); err != nil {
				t.Fatal(err)
			}
			peers[k] = id
		}
		oc, err := eng.HandleMessage(id, m.msg)
		if err != nil {
			t.Fatal(err)
		}
		if oc.Kind == Reset {
			t.Fatalf("UPDATE %d reset the session: %d/%d", i, oc.ErrorCode, oc.ErrorSubcode)
		}
		if i%2048 == 0 {
			drain()
		}
	}
	drain()
	rib, err := eng.LocRIB()
	if err != nil {
		t.Fatal(err)
	}
	if len(rib) == 0 || len(peers) < 2 {
		t.Fatalf("Loc-RIB %d prefixes from %d peers", len(rib), len(peers))
	}
	for _, r := range rib {
		if !view[r.Prefix] {
			t.Fatalf("listener was not told about %v", r.Prefix)
		}
		if r.Path.Peer == listener {
			t.Fatalf("%v best from the listener", r.Prefix)
		}
		cands, err := eng.Candidates(r.Prefix)
		if err != nil || len(cands) == 0 || cands[0].Peer != r.Path.Peer {
			t.Fatalf("%v: candidates %v %v, best %+v", r.Prefix, cands, err, r.Path)
		}
	}
	if len(view) != len(rib) {
		t.Fatalf("listener knows %d prefixes, Loc-RIB has %d", len(view), len(rib))
	}
	var updates uint64
	for _, id := range peers {
		c, err := eng.Counters(id)
		if err != nil {
			t.Fatal(err)
		}
		updates += c.UpdatesReceived
	}
	if updates != uint64(len(msgs)) {
		t.Fatalf("counters say %d UPDATEs, fed %d", updates, len(msgs))
	}
	lc, _ := eng.Counters(listener)
	if lc.PrefixesSent < uint64(len(rib)) {
		t.Fatalf("listener sent %d prefixes for a Loc-RIB of %d", lc.PrefixesSent, len(rib))
	}

	// A resolver that finds no next hop reachable empties the Loc-RIB, and
	// the listener is told to withdraw everything.
	calls := 0
	if err := eng.SetResolver(func(netip.Addr) (uint32, bool) { calls++; return 0, false }); err != nil {
		t.Fatal(err)
	}
	drain()
	rib, err = eng.LocRIB()
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || len(rib) != 0 || len(view) != 0 {
		t.Fatalf("resolver: %d calls, Loc-RIB %d, listener view %d", calls, len(rib), len(view))
	}
	if err := eng.SetResolver(nil); err != nil {
		t.Fatal(err)
	}
	drain()
	if rib, _ = eng.LocRIB(); len(rib) == 0 || len(view) != len(rib) {
		t.Fatalf("after removing the resolver: Loc-RIB %d, view %d", len(rib), len(view))
	}
}

// Two clients and the reflector, each side a Session, bytes carried in
// memory: an UPDATE sent by client 1 arrives at client 2 reflected.
func TestSessionsCarryAReflectedUpdate(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID, ClusterID: clusterID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	type side struct {
		rr, client *Session
		peer       PeerID
	}
	var sides [2]side
	now := uint64(1000)
	for i := range sides {
		rr, err := NewSession(SessionConfig{LocalAS: 65000, RouterID: rrID, PeerAS: 65000, Passive: true})
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Close()
		cl, err := NewSession(SessionConfig{LocalAS: 65000, RouterID: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		id, err := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 2)})})
		if err != nil {
			t.Fatal(err)
		}
		sides[i] = side{rr, cl, id}
		for _, s := range []*Session{rr, cl} {
			if err := s.Start(now); err != nil {
				t.Fatal(err)
			}
			if err := s.TCPConnected(now); err != nil {
				t.Fatal(err)
			}
		}
	}
	received := [2][][]byte{}
	// pump moves bytes both ways and hands the reflector's events to the engine.
	pump := func() {
		for i := range sides {
			s := &sides[i]
			for _, pair := range [][2]*Session{{s.rr, s.client}, {s.client, s.rr}} {
				for {
					b, err := pair[0].Transmit()
					if err != nil {
						t.Fatal(err)
					}
					if b == nil {
						break
					}
					if err := pair[1].HandleBytes(now, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			for {
				ev, ok, err := s.rr.PollEvent()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				switch ev.Kind {
				case SessionEstablished:
					n, err := s.rr.Negotiated()
					if err != nil {
						t.Fatal(err)
					}
					if !n.RouteRefresh || !n.EnhancedRouteRefresh || !n.GracefulRestart || n.GracefulRestartTime != 120 {
						t.Fatalf("negotiated %+v: route refresh, enhanced route refresh and graceful restart (120 s) expected", n)
					}
					if err := eng.PeerUp(s.peer, n); err != nil {
						t.Fatal(err)
					}
				case SessionMessage:
					if _, err := eng.HandleMessage(s.peer, ev.Message); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The session's own bytes (its KEEPALIVE) go on the stream before the engine's UPDATEs.
			for {
				b, err := s.rr.Transmit()
				if err != nil {
					t.Fatal(err)
				}
				if b == nil {
					break
				}
				if err := s.client.HandleBytes(now, b); err != nil {
					t.Fatal(err)
				}
			}
			for {
				m, err := eng.Transmit(s.peer)
				if err != nil {
					t.Fatal(err)
				}
				if m == nil {
					break
				}
				if err := s.client.HandleBytes(now, m); err != nil {
					t.Fatal(err)
				}
			}
			for {
				ev, ok, err := s.client.PollEvent()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if ev.Kind == SessionMessage {
					received[i] = append(received[i], ev.Message)
				}
			}
		}
	}
	for i := 0; i < 10; i++ {
		pump()
	}
	for i := range sides {
		for _, s := range []*Session{sides[i].rr, sides[i].client} {
			if st, err := s.State(); err != nil || st != Established {
				t.Fatalf("side %d: state %v, %v", i, st, err)
			}
		}
	}
	// Client 1 sends a real UPDATE (the first IPv4 one of the RIS dump).
	var upd []byte
	for _, m := range readUpdates(t, dataPath(t, "mrt/updates.20190101.0000.gz"), 200) {
		if u := parseUpdate(t, m.msg); m.as4 && len(u.announced) > 0 && u.announced[0].Addr().Is4() && len(u.withdrawn) == 0 {
			upd = m.msg
			break
		}
	}
	if upd == nil {
		t.Fatal("no IPv4 UPDATE in the first 200")
	}
	want := parseUpdate(t, upd).announced
	if err := sides[0].rr.HandleBytes(now, upd); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		pump()
	}
	got := map[netip.Prefix]bool{}
	for _, m := range received[1] {
		u := parseUpdate(t, m)
		for _, p := range u.announced {
			got[p] = true
			if o := u.attrs[9]; len(o) != 4 || netip.AddrFrom4(*(*[4]byte)(o)) != netip.MustParseAddr("10.0.0.1") {
				t.Fatalf("ORIGINATOR_ID %x", o)
			}
			if c := u.attrs[10]; len(c) != 4 || netip.AddrFrom4(*(*[4]byte)(c)) != clusterID {
				t.Fatalf("CLUSTER_LIST %x", c)
			}
		}
	}
	for _, p := range want {
		if !got[p] {
			t.Fatalf("client 2 did not get %v (got %v)", p, got)
		}
	}
	for _, m := range received[0] {
		if u := parseUpdate(t, m); len(u.announced) > 0 {
			t.Fatalf("client 1 got its own route back: %v", u.announced)
		}
	}
	if _, ok, err := sides[0].rr.Timeout(); err != nil || !ok {
		t.Fatalf("no keepalive/hold timer armed: %v", err)
	}
}
