package reflector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// endOfRIB is the IPv4 unicast End-of-RIB: an empty UPDATE.
var endOfRIB = []byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 23, 2, 0, 0, 0, 0}

func TestGracefulRestartThroughTheCABI(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID, RecordEvents: true, MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	a, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	b, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.2")})
	n := UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))
	n.GracefulRestart, n.GracefulRestartTime, n.GracefulRestartPreserved = true, 120, IPv4Unicast
	if err := eng.PeerUp(a, n); err != nil {
		t.Fatal(err)
	}
	if err := eng.PeerUp(b, UnicastNegotiated(netip.MustParseAddr("10.0.0.2"))); err != nil {
		t.Fatal(err)
	}
	if oc, err := eng.HandleMessage(a, policyUpdate()); err != nil || oc.Announced != 3 {
		t.Fatalf("%+v %v", oc, err)
	}
	pfx := netip.MustParsePrefix("10.1.0.0/16")
	learned(t, eng, b)

	if err := eng.PeerDownGraceful(a, IPv4Unicast|IPv6Unicast); err != nil {
		t.Fatal(err)
	}
	if f, err := eng.StaleFamilies(a); err != nil || f != IPv4Unicast|IPv6Unicast {
		t.Fatalf("stale families %v %v", f, err)
	}
	if _, ok, err := eng.Best(pfx); !ok || err != nil {
		t.Fatalf("the stale route is gone: %v", err)
	}
	if got := learned(t, eng, b); len(got) != 0 {
		t.Fatalf("B was told %v during the restart", got)
	}
	restarting := false
	for {
		ev, ok, err := eng.PollEvent()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if ev.Kind == EventPeerRestarting && ev.Peer == a && ev.Paths == 3 && ev.Families&IPv4Unicast != 0 {
			restarting = true
		}
	}
	if !restarting {
		t.Fatal("no PEER_RESTARTING event with 3 stale paths")
	}
	// Back with graceful restart: the stale routes stay until End-of-RIB,
	// then the ones not announced again go.
	if err := eng.PeerUp(a, n); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := eng.Best(pfx); !ok {
		t.Fatal("the stale route went before End-of-RIB")
	}
	if _, err := eng.HandleMessage(a, endOfRIB); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := eng.Best(pfx); ok {
		t.Fatal("the stale route survived End-of-RIB")
	}
	c, err := eng.Counters(a)
	if err != nil || c.GracefulRestarts != 1 || c.StaleMarked != 3 || c.StaleRemoved != 3 {
		t.Fatalf("counters %+v %v", c, err)
	}
	if got := learned(t, eng, b); len(got) != 0 {
		t.Fatalf("unexpected announcements %v", got)
	}
	// A restart timer with nothing stale does nothing.
	if err := eng.RestartTimerExpired(a); err != nil {
		t.Fatal(err)
	}
	if err := eng.RestartTimerExpired(a + 100); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("unknown peer: %v", err)
	}
}

func TestOriginateHooksEventsAndLimits(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID, RecordEvents: true, MaxEvents: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	a, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	var seen []netip.Prefix
	if _, err := eng.SetImportHook(a, func(dir Direction, peer PeerID, r HookRoute, ed *AttrEdit) HookVerdict {
		seen = append(seen, r.Prefix)
		if r.Prefix == netip.MustParsePrefix("172.16.0.0/12") {
			return HookReject
		}
		if err := ed.SetLocalPref(250); err != nil {
			t.Error(err)
		}
		return HookModify
	}); err != nil {
		t.Fatal(err)
	}
	if err := eng.PeerUp(a, UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.HandleMessage(a, policyUpdate()); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Fatalf("the hook saw %v", seen)
	}
	p, ok, err := eng.Best(netip.MustParsePrefix("10.1.0.0/16"))
	if !ok || err != nil || p.LocalPref != 250 {
		t.Fatalf("hooked path %+v %v", p, err)
	}
	if _, ok, _ := eng.Best(netip.MustParsePrefix("172.16.0.0/12")); ok {
		t.Fatal("the hook's rejection was ignored")
	}
	attrs, err := eng.AttrSet(p.Attrs)
	if err != nil || len(attrs) == 0 {
		t.Fatalf("attribute set %v %v", attrs, err)
	}
	local := netip.MustParsePrefix("203.0.113.0/24")
	if err := eng.Originate(local, netip.MustParseAddr("192.0.2.254"), nil); err != nil {
		t.Fatal(err)
	}
	if p, ok, _ := eng.Best(local); !ok || p.Peer != LocalPeer {
		t.Fatalf("originated route %+v", p)
	}
	out, err := eng.AdjRIBOut(a)
	if err != nil || len(out) != 1 || out[0].Prefix != local {
		t.Fatalf("Adj-RIB-Out of A %v %v", out, err)
	}
	if err := eng.WithdrawLocal(local); err != nil {
		t.Fatal(err)
	}
	if err := eng.WithdrawLocal(local); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second withdrawal: %v", err)
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if d, err := eng.EventsDropped(); err != nil || d == 0 {
		t.Fatalf("events dropped %d %v (queue of 2)", d, err)
	}
	if err := eng.SetPrefixLimit(a, IPv4Unicast, 10, true); err != nil {
		t.Fatal(err)
	}
	if n, err := eng.AcceptedPaths(a, IPv4Unicast); err != nil || n != 2 {
		t.Fatalf("accepted paths %d %v", n, err)
	}
	if _, err := eng.TransmitState(a); err != nil {
		t.Fatal(err)
	}
	if ids, err := eng.Peers(); err != nil || len(ids) != 1 || ids[0] != a {
		t.Fatalf("peers %v %v", ids, err)
	}
	if pc, err := eng.PeerConfig(a); err != nil || pc.Role != Client || pc.AS != 65000 || pc.Address != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("peer config %+v %v", pc, err)
	}
	x, err := eng.AddPeer(PeerConfig{Role: EBGP, AS: 65051, Address: netip.MustParseAddr("192.0.2.7"),
		LocalAS: 64999, NextHopUnchanged: true, AllowOwnAS: 2})
	if err != nil {
		t.Fatal(err)
	}
	if pc, err := eng.PeerConfig(x); err != nil || pc.LocalAS != 64999 || !pc.NextHopUnchanged || pc.AllowOwnAS != 2 {
		t.Fatalf("eBGP session options %+v %v", pc, err)
	}
	if err := eng.RemovePeer(x); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SetImportHook(a, nil); err != nil {
		t.Fatal(err)
	}
	if err := eng.RemovePeer(a); err != nil {
		t.Fatal(err)
	}
	if ids, err := eng.Peers(); err != nil || len(ids) != 0 {
		t.Fatalf("peers after removal %v %v", ids, err)
	}
	if rib, err := eng.LocRIB(); err != nil || len(rib) != 0 {
		t.Fatalf("Loc-RIB after the peer's removal: %v %v", rib, err)
	}
	if _, _, err := eng.PrefixCounts(); err != nil {
		t.Fatal(err)
	}
}

func TestSelectionDeferralAndPreferLocal(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID, PreferLocal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if d, err := eng.IsDeferring(); err != nil || d {
		t.Fatalf("deferring at first: %v %v", d, err)
	}
	if err := eng.DeferSelection(); err != nil {
		t.Fatal(err)
	}
	if d, err := eng.IsDeferring(); err != nil || !d {
		t.Fatalf("not deferring: %v %v", d, err)
	}
	a, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	b, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.2")})
	if err := eng.PeerUp(a, UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))); err != nil {
		t.Fatal(err)
	}
	if err := eng.PeerUp(b, UnicastNegotiated(netip.MustParseAddr("10.0.0.2"))); err != nil {
		t.Fatal(err)
	}
	if oc, err := eng.HandleMessage(a, policyUpdate()); err != nil || oc.Announced != 3 {
		t.Fatalf("%+v %v", oc, err)
	}
	if got := learned(t, eng, b); len(got) != 0 {
		t.Fatalf("B was sent %v while the selection is deferred", got)
	}
	if n, err := eng.EndDeferral(); err != nil || n != 2 {
		t.Fatalf("the deferral held %d sessions: %v", n, err)
	}
	pfx := netip.MustParsePrefix("10.1.0.0/16")
	if got := learned(t, eng, b); got[pfx] == nil {
		t.Fatalf("after the deferral B has %v", got)
	}
	// A local route with a lower LOCAL_PREF (50 against 100) wins at local-origin.
	if err := eng.Originate(pfx, netip.MustParseAddr("192.0.2.10"), []byte{0x40, 5, 4, 0, 0, 0, 50}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := eng.Best(pfx); err != nil || !ok || p.Peer != LocalPeer {
		t.Fatalf("best %+v %v %v, want the local path", p, ok, err)
	}
}

func TestKeyedRoutesThroughTheCABI(t *testing.T) {
	eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	a, _ := eng.AddPeer(PeerConfig{Role: Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	n := UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))
	n.Families |= VPNv4
	if err := eng.PeerUp(a, n); err != nil {
		t.Fatal(err)
	}
	// An import hook sees the route's family, its NLRI and the prefix inside it.
	var seen []HookRoute
	if _, err := eng.SetImportHook(a, func(dir Direction, peer PeerID, r HookRoute, ed *AttrEdit) HookVerdict {
		seen = append(seen, r)
		return HookAccept
	}); err != nil {
		t.Fatal(err)
	}
	// ORIGIN, empty AS_PATH, LOCAL_PREF 100, MP_REACH_NLRI VPN-IPv4 (next hop RD 0 + 10.0.0.1;
	// label 1001, RD 65000:1, 10.43.0.0/16).
	nlri := []byte{104, 0, 0x3e, 0x91, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 10, 43}
	mp := append([]byte{0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1, 0}, nlri...)
	attrs := append([]byte{0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0, 100, 0x90, 14, 0, byte(len(mp))}, mp...)
	m := make([]byte, 23, 23+len(attrs))
	for i := 0; i < 16; i++ {
		m[i] = 0xff
	}
	m[18] = 2
	binary.BigEndian.PutUint16(m[21:], uint16(len(attrs)))
	m = append(m, attrs...)
	binary.BigEndian.PutUint16(m[16:], uint16(len(m)))
	if oc, err := eng.HandleMessage(a, m); err != nil || oc.Announced != 1 {
		t.Fatalf("%+v %v", oc, err)
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].AFI != 1 || seen[0].SAFI != 128 || !bytes.Equal(seen[0].NLRI, nlri) ||
		seen[0].Prefix != netip.MustParsePrefix("10.43.0.0/16") {
		t.Fatalf("hook saw %+v", seen)
	}
	routes, err := eng.KeyedRoutes(VPNv4)
	if err != nil || len(routes) != 1 {
		t.Fatalf("%v %v", routes, err)
	}
	if !bytes.Equal(routes[0].NLRI, nlri) || routes[0].Path.Peer != a {
		t.Fatalf("route %x from %v", routes[0].NLRI, routes[0].Path.Peer)
	}
	if _, err := eng.KeyedRoutes(IPv4Unicast); err == nil {
		t.Fatal("unicast accepted as a keyed family")
	}
}
