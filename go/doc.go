// Package reflector embeds Reflector, a BGP route-reflection engine, in Go
// programs through its C library (libreflector, reflector.h).
//
// Three layers, each usable alone:
//
//   - Engine: the route reflection engine (RFC 4456). Feed it the BGP messages
//     each peer sent (HandleMessage) and send each peer what Transmit returns.
//     It keeps candidates, ranks them, reflects, and supports policies and
//     hooks, graceful restart (RFC 4724), route refresh, ADD-PATH, prefix
//     limits, local origination and Adj-RIB/Loc-RIB views.
//
//   - Session: one BGP session's finite state machine (RFC 4271): OPEN
//     negotiation, keepalives and hold timer; the caller owns the socket and the clock.
//
//   - Speaker: both wired to net.Conn. Serve(ctx, listener) accepts the
//     configured neighbours and runs their sessions (timers, keepalives, a read
//     loop feeding the engine, a write loop draining it), so a working route
//     reflector is a few lines:
//
//     sp, _ := reflector.NewSpeaker(reflector.SpeakerConfig{LocalAS: 65000, RouterID: rid})
//     defer sp.Close()
//     sp.AddNeighbor(reflector.Neighbor{Address: a, AS: 65000, Role: reflector.Client})
//     sp.AddNeighbor(reflector.Neighbor{Address: b, AS: 65000, Role: reflector.Client})
//     l, _ := net.Listen("tcp", ":179")
//     err := sp.Serve(ctx, l)
//
// # Errors
//
// Every call that can fail returns an error value from that call: an *Error
// with the library's code (Result) and message. The C library keeps its last
// message per OS thread; this package reads it on the same OS thread as the
// failing call (the goroutine is locked to its thread around both), so
// goroutines never see each other's messages. Use errors.As to get the code,
// or errors.Is with the Err* values (ErrUnknownPeer, ...).
//
// # Resources and concurrency
//
// Engine, Session and Policy hold C memory: release them with Close. A
// finalizer frees a handle that was forgotten, as a safety net only. An
// Engine or Session is not safe for concurrent use (the C library's thread
// rule): use each from one goroutine at a time, or guard it with a mutex, as
// Speaker does. Separate handles are independent.
//
// # Building
//
// cgo finds the library with pkg-config: install it (cargo cinstall -p
// reflector-ffi --release --prefix P, or ffi/install.sh P) and set
// PKG_CONFIG_PATH=P/lib/pkgconfig (and LD_LIBRARY_PATH=P/lib unless P is a
// system prefix). See README.md in this directory.
package reflector
