package reflector

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// client is a BGP speaker built on Session over a real loopback connection.
type client struct {
	conn  net.Conn
	msgs  chan []byte // UPDATEs received
	notes chan [2]uint8
	est   chan struct{}
	done  chan struct{}
	wmu   sync.Mutex
	wg    sync.WaitGroup
}

func startClient(t *testing.T, addr net.Addr, local string, rid netip.Addr, grTime uint16) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := NewSession(SessionConfig{LocalAS: 65000, RouterID: rid, PeerAS: 65000, HoldTime: 9, GracefulRestartTime: grTime})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{conn: conn, msgs: make(chan []byte, 1024), notes: make(chan [2]uint8, 8), est: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	now := func() uint64 { return uint64(time.Since(start).Milliseconds()) + 1 }
	if err := sess.Start(now()); err != nil {
		t.Fatal(err)
	}
	if err := sess.TCPConnected(now()); err != nil {
		t.Fatal(err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer sess.Close()
		buf := make([]byte, 65536)
		established := false
		for {
			select {
			case <-c.done:
				return
			default:
			}
			for {
				b, err := sess.Transmit()
				if err != nil || b == nil {
					break
				}
				c.wmu.Lock()
				_, _ = conn.Write(b)
				c.wmu.Unlock()
			}
			for {
				ev, ok, err := sess.PollEvent()
				if err != nil || !ok {
					break
				}
				switch ev.Kind {
				case SessionEstablished:
					if !established {
						established = true
						close(c.est)
					}
				case SessionMessage:
					if len(ev.Message) > 18 && ev.Message[18] == 2 {
						c.msgs <- ev.Message
					}
				case SessionNotificationReceived:
					c.notes <- [2]uint8{ev.ErrorCode, ev.ErrorSub}
				case SessionClosed:
					return
				}
			}
			_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := conn.Read(buf)
			if n > 0 {
				_ = sess.HandleBytes(now(), buf[:n])
			}
			var ne net.Error
			if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
				_ = sess.TCPClosed(now())
			}
			_ = sess.HandleTimeout(now())
		}
	}()
	return c
}

func (c *client) send(t *testing.T, m []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.conn.Write(m); err != nil {
		t.Fatal(err)
	}
}

// kill drops the connection without a NOTIFICATION, as a crashing speaker does.
func (c *client) kill() {
	close(c.done)
	c.conn.Close()
	c.wg.Wait()
}

func waitEstablished(t *testing.T, c *client) {
	t.Helper()
	select {
	case <-c.est:
	case <-time.After(15 * time.Second):
		t.Fatal("session not established within 15 s")
	}
}

// nextUpdate returns the next UPDATE that announces or withdraws something.
func nextUpdate(t *testing.T, c *client, within time.Duration) (update, bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-c.msgs:
			u := parseUpdate(t, m)
			if len(u.announced)+len(u.withdrawn) > 0 {
				return u, true
			}
		case <-deadline:
			return update{}, false
		}
	}
}

func TestSpeakerReflectsAndKeepsGracefulRestartRoutes(t *testing.T) {
	var logMu sync.Mutex
	var logs []string
	sp, err := NewSpeaker(SpeakerConfig{LocalAS: 65000, RouterID: rrID, ClusterID: clusterID, HoldTime: 9,
		Logf: func(f string, a ...interface{}) {
			logMu.Lock()
			logs = append(logs, f)
			logMu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	addrA, addrB := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	for _, a := range []netip.Addr{addrA, addrB} {
		if err := sp.AddNeighbor(Neighbor{Address: a, AS: 65000, Role: Client}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.AddNeighbor(Neighbor{Address: addrA, AS: 65000}); !errors.Is(err, ErrInvalidParameter) {
		t.Fatalf("duplicate neighbour: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- sp.Serve(ctx, l) }()

	ridA := netip.MustParseAddr("10.0.0.1")
	a := startClient(t, l.Addr(), "127.0.0.2", ridA, 1)
	b := startClient(t, l.Addr(), "127.0.0.3", netip.MustParseAddr("10.0.0.2"), 120)
	waitEstablished(t, a)
	waitEstablished(t, b)

	// A stranger is refused.
	if stranger, err := net.Dial("tcp", l.Addr().String()); err == nil {
		_ = stranger.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := stranger.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Fatalf("a connection from 127.0.0.1 was served: %d %v", n, err)
		}
		stranger.Close()
	}

	a.send(t, policyUpdate())
	got := map[netip.Prefix]bool{}
	for len(got) < 3 {
		u, ok := nextUpdate(t, b, 10*time.Second)
		if !ok {
			t.Fatalf("B got %v of A's 3 prefixes", got)
		}
		if oid := u.attrs[9]; len(oid) != 4 || netip.AddrFrom4([4]byte{oid[0], oid[1], oid[2], oid[3]}) != ridA {
			t.Fatalf("ORIGINATOR_ID %x, want A's router ID", oid)
		}
		if cl := u.attrs[10]; len(cl) != 4 || netip.AddrFrom4([4]byte{cl[0], cl[1], cl[2], cl[3]}) != clusterID {
			t.Fatalf("CLUSTER_LIST %x, want the cluster ID", cl)
		}
		for _, p := range u.announced {
			got[p] = true
		}
	}
	peerA, _ := sp.Peer(addrA)
	peerB, _ := sp.Peer(addrB)
	if err := sp.Do(func(e *Engine) error {
		c, err := e.Counters(peerA)
		if err != nil || c.PrefixesReceived != 3 {
			t.Errorf("A's counters %+v %v", c, err)
		}
		in, err := e.AdjRIBIn(peerA)
		if err != nil || len(in) != 3 {
			t.Errorf("A's Adj-RIB-In %v %v", in, err)
		}
		out, err := e.AdjRIBOut(peerB)
		if err != nil || len(out) != 3 {
			t.Errorf("B's Adj-RIB-Out %v %v", out, err)
		}
		out, err = e.AdjRIBOut(peerA)
		if err != nil || len(out) != 0 {
			t.Errorf("A's own routes in its Adj-RIB-Out: %v %v", out, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// A crashes (no NOTIFICATION): its routes stay, stale, for its 1 s restart time.
	a.kill()
	staleSeen := false
	for i := 0; i < 100 && !staleSeen; i++ {
		_ = sp.Do(func(e *Engine) error {
			f, err := e.StaleFamilies(peerA)
			staleSeen = err == nil && f&IPv4Unicast != 0
			return nil
		})
		if !staleSeen {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !staleSeen {
		t.Fatal("A's routes were not kept stale after its session dropped")
	}
	if u, ok := nextUpdate(t, b, 300*time.Millisecond); ok {
		t.Fatalf("B got %+v while A was restarting", u)
	}
	// Then the restart timer expires: B loses the routes.
	withdrawn := map[netip.Prefix]bool{}
	for len(withdrawn) < 3 {
		u, ok := nextUpdate(t, b, 5*time.Second)
		if !ok {
			t.Fatalf("B saw %v withdrawn after A's restart time", withdrawn)
		}
		for _, p := range u.withdrawn {
			withdrawn[p] = true
		}
	}
	_ = sp.Do(func(e *Engine) error {
		c, err := e.Counters(peerA)
		if err != nil || c.GracefulRestarts != 1 || c.StaleMarked != 3 || c.StaleRemoved != 3 {
			t.Errorf("A's graceful restart counters %+v %v", c, err)
		}
		return nil
	})

	// Shutdown: B gets a Cease (administrative shutdown), Serve returns ctx's error.
	cancel()
	select {
	case n := <-b.notes:
		if n != [2]uint8{6, 2} {
			t.Fatalf("B got NOTIFICATION %v, want 6/2", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("B got no Cease")
	}
	select {
	case err := <-served:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	b.kill()
}

// Errors are read on the thread of the call that failed: many goroutines
// failing at once each get their own message.
func TestErrorsStayWithTheirGoroutine(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			eng, err := NewEngine(EngineConfig{LocalAS: 65000, RouterID: rrID})
			if err != nil {
				errs <- err
				return
			}
			defer eng.Close()
			for i := 0; i < 300; i++ {
				id := PeerID(1000*(g+1) + i)
				err := eng.RemovePeer(id)
				var e *Error
				want := "peer " + itoa(int(id)) + " does not exist"
				if !errors.As(err, &e) || e.Code != ResultUnknownPeer || e.Message != want {
					errs <- errors.New("goroutine got " + err.Error() + ", want " + want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
