package reflector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// SpeakerConfig configures a Speaker.
type SpeakerConfig struct {
	// LocalAS is our AS.
	LocalAS uint32
	// RouterID is our BGP identifier (IPv4).
	RouterID netip.Addr
	// ClusterID defaults to the router ID.
	ClusterID netip.Addr
	// HoldTime we propose, in seconds (0: 90).
	HoldTime uint16
	// NoGracefulRestart stops advertising graceful restart (RFC 4724): every
	// session that drops then withdraws its peer's routes at once.
	NoGracefulRestart bool
	// Engine holds the other engine settings (its LocalAS, RouterID and ClusterID are ignored).
	Engine EngineConfig
	// Logf, when set, is told about connections, session changes and NOTIFICATIONs.
	Logf func(format string, args ...interface{})
	// WriteTimeout bounds each write to a peer (0: 30 s); a peer that does not
	// read for that long loses its session.
	WriteTimeout time.Duration
}

// Neighbor is a peer a Speaker accepts a session from.
type Neighbor struct {
	// Address is the peer's address; connections from other addresses are refused.
	Address netip.Addr
	// AS is the AS the peer must announce.
	AS uint32
	// Role is the peer's role toward us.
	Role Role
	// LocalV4 and LocalV6 are our addresses on the session (next hop toward eBGP).
	LocalV4, LocalV6 netip.Addr
}

type neighbor struct {
	cfg       Neighbor
	id        PeerID
	connected bool
	up        bool
	neg       Negotiated
	wake      chan struct{}
	restart   *time.Timer
}

// Speaker runs BGP sessions over net.Conn around one Engine: each connection
// from a configured neighbour gets a Session (passive; OPEN, keepalives, hold
// timer), a read loop feeding the engine and writes draining it. A session
// that drops without a NOTIFICATION from a peer that negotiated graceful
// restart keeps the peer's routes, stale, for its restart time.
//
// All methods are safe for concurrent use.
type Speaker struct {
	mu     sync.Mutex
	eng    *Engine
	cfg    SpeakerConfig
	nbrs   map[netip.Addr]*neighbor
	start  time.Time
	closed bool
}

// NewSpeaker creates a Speaker with its Engine; release it with Close.
func NewSpeaker(cfg SpeakerConfig) (*Speaker, error) {
	ec := cfg.Engine
	ec.LocalAS, ec.RouterID, ec.ClusterID = cfg.LocalAS, cfg.RouterID, cfg.ClusterID
	eng, err := NewEngine(ec)
	if err != nil {
		return nil, err
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	return &Speaker{eng: eng, cfg: cfg, nbrs: map[netip.Addr]*neighbor{}, start: time.Now()}, nil
}

func (s *Speaker) logf(format string, args ...interface{}) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

func (s *Speaker) now() uint64 { return uint64(time.Since(s.start).Milliseconds()) }

// AddNeighbor configures a peer (its engine peer is added now, down).
func (s *Speaker) AddNeighbor(n Neighbor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	a := n.Address.Unmap()
	if _, dup := s.nbrs[a]; dup {
		return invalid(fmt.Sprintf("neighbor %s is already configured", a))
	}
	id, err := s.eng.AddPeer(PeerConfig{Role: n.Role, AS: n.AS, Address: a, LocalV4: n.LocalV4, LocalV6: n.LocalV6})
	if err != nil {
		return err
	}
	s.nbrs[a] = &neighbor{cfg: n, id: id, wake: make(chan struct{}, 1)}
	return nil
}

// Peer returns the engine's PeerID for a configured neighbour.
func (s *Speaker) Peer(addr netip.Addr) (PeerID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nbrs[addr.Unmap()]
	if !ok {
		return 0, false
	}
	return n.id, true
}

// Do runs f with the Engine, exclusively (originate routes, install
// policies, read the RIB); afterwards every session sends what changed. f
// must not keep the Engine.
func (s *Speaker) Do(f func(*Engine) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	err := f(s.eng)
	s.wakeOthers(nil)
	return err
}

// Close stops the restart timers and frees the Engine. Cancel Serve's
// context and let it return first: sessions still running then fail.
func (s *Speaker) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, n := range s.nbrs {
		if n.restart != nil {
			n.restart.Stop()
		}
	}
	return s.eng.Close()
}

// Serve accepts connections on l and runs a session for each configured
// neighbour until ctx is done; then it sends every peer a Cease
// (administrative shutdown), closes l, waits for the sessions to end and
// returns ctx.Err(). It returns early with the error if Accept fails.
func (s *Speaker) Serve(ctx context.Context, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			cancel()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ServeConn(ctx, c); err != nil && !errors.Is(err, context.Canceled) {
				s.logf("%v", err)
			}
		}()
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// ServeConn runs one BGP session over c, an established connection from a
// configured neighbour, until the session ends or ctx is done (then the peer
// gets a Cease first). It closes c. It returns nil when the session ended,
// ctx.Err() when ctx ended it, and an error when c is not from a configured,
// unconnected neighbour.
func (s *Speaker) ServeConn(ctx context.Context, c net.Conn) error {
	defer c.Close()
	addr := remoteAddr(c)
	s.mu.Lock()
	nb := s.nbrs[addr]
	if s.closed || nb == nil || nb.connected {
		s.mu.Unlock()
		return fmt.Errorf("reflector: refusing connection from %s", c.RemoteAddr())
	}
	nb.connected = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		nb.connected = false
		s.mu.Unlock()
	}()
	s.logf("%s: connection", addr)

	sess, err := NewSession(SessionConfig{LocalAS: s.cfg.LocalAS, RouterID: s.cfg.RouterID, PeerAS: nb.cfg.AS,
		Passive: true, HoldTime: s.cfg.HoldTime, NoGracefulRestart: s.cfg.NoGracefulRestart})
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := sess.Start(s.now()); err != nil {
		return err
	}
	if err := sess.TCPConnected(s.now()); err != nil {
		return err
	}

	// The read loop: chunks to the session goroutine; closed on EOF or error.
	in := make(chan []byte, 16)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(in)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				select {
				case in <- append([]byte(nil), buf[:n]...):
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var out []byte
	stopping := false
	for {
		var closed bool
		out, closed = s.step(sess, nb, addr, out[:0], stopping)
		if len(out) > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if _, err := c.Write(out); err != nil && !closed {
				_ = sess.TCPClosed(s.now())
				out, closed = s.step(sess, nb, addr, out[:0], stopping)
			}
		}
		if closed {
			if stopping {
				return ctx.Err()
			}
			return nil
		}
		// Wait for input, the session's next deadline, other peers' changes or the end.
		wait := time.Second
		if d, ok, err := sess.Timeout(); err == nil && ok {
			now := s.now()
			wait = 0
			if d > now {
				wait = time.Duration(d-now) * time.Millisecond
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		ctxDone := ctx.Done()
		if stopping {
			ctxDone = nil
		}
		err = nil
		select {
		case <-ctxDone:
			stopping = true
			_ = sess.Stop(StopShutdown, "route reflector shutting down")
		case b, ok := <-in:
			if ok {
				err = sess.HandleBytes(s.now(), b)
			} else {
				err = sess.TCPClosed(s.now())
				in = nil
			}
		case <-timer.C:
			err = sess.HandleTimeout(s.now())
		case <-nb.wake:
		}
		if err != nil {
			return err
		}
	}
}

// step handles the session's events with the engine locked and returns what
// to write to the peer (session bytes, then the engine's UPDATEs for it), and
// whether the session has closed.
func (s *Speaker) step(sess *Session, nb *neighbor, addr netip.Addr, out []byte, stopping bool) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	drainSession := func() {
		for {
			b, err := sess.Transmit()
			if err != nil || b == nil {
				return
			}
			out = append(out, b...)
		}
	}
	drainSession()
	closed, changed := false, false
	for {
		ev, ok, err := sess.PollEvent()
		if err != nil || !ok {
			break
		}
		switch ev.Kind {
		case SessionEstablished:
			n, err := sess.Negotiated()
			if err == nil {
				err = s.eng.PeerUp(nb.id, n)
			}
			if err != nil {
				s.logf("%s: engine peer up: %v", addr, err)
				_ = sess.Stop(StopOutOfResources, "")
				break
			}
			if nb.restart != nil {
				nb.restart.Stop()
				nb.restart = nil
			}
			nb.up, nb.neg, changed = true, n, true
			s.logf("%s: established (AS %d, hold %d s)", addr, ev.PeerAS, ev.HoldTime)
		case SessionMessage:
			if !nb.up {
				break
			}
			oc, err := s.eng.HandleMessage(nb.id, ev.Message)
			if err != nil {
				s.logf("%s: %v", addr, err)
				break
			}
			changed = true
			if oc.Kind == Reset {
				s.logf("%s: bad message (%d/%d): resetting", addr, oc.ErrorCode, oc.ErrorSubcode)
				nb.up = false
				_ = sess.SendNotification(oc.Notification)
			}
		case SessionNotificationSent, SessionNotificationReceived:
			dir := "sent"
			if ev.Kind == SessionNotificationReceived {
				dir = "received"
			}
			s.logf("%s: NOTIFICATION %s %d/%d", addr, dir, ev.ErrorCode, ev.ErrorSub)
		case SessionClosed:
			s.logf("%s: closed (%d)", addr, ev.CloseReason)
			closed = true
			if !nb.up {
				break
			}
			nb.up, changed = false, true
			gr := nb.neg.GracefulRestart && ev.CloseReason == CloseTCPClosed && !stopping
			if gr {
				_ = s.eng.PeerDownGraceful(nb.id, nb.neg.Families)
				s.armRestart(nb, addr, time.Duration(nb.neg.GracefulRestartTime)*time.Second)
				s.logf("%s: graceful restart: routes kept for %d s", addr, nb.neg.GracefulRestartTime)
			} else {
				_ = s.eng.PeerDown(nb.id)
			}
		}
	}
	drainSession()
	if nb.up {
		for {
			m, err := s.eng.Transmit(nb.id)
			if err != nil || m == nil {
				break
			}
			out = append(out, m...)
		}
	}
	if changed {
		s.wakeOthers(nb)
	}
	return out, closed
}

// armRestart removes nb's stale routes if it is not back within d (s.mu held).
func (s *Speaker) armRestart(nb *neighbor, addr netip.Addr, d time.Duration) {
	if nb.restart != nil {
		nb.restart.Stop()
	}
	nb.restart = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || nb.up {
			return
		}
		if err := s.eng.RestartTimerExpired(nb.id); err == nil {
			s.logf("%s: restart timer expired: stale routes removed", addr)
		}
		s.wakeOthers(nb)
	})
}

// wakeOthers tells every other session that the engine may have messages for it (s.mu held).
func (s *Speaker) wakeOthers(except *neighbor) {
	for _, n := range s.nbrs {
		if n == except || !n.connected {
			continue
		}
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
}
