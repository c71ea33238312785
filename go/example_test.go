package reflector_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"

	reflector "github.com/reflector-bgp/reflector/go"
)

// An engine with one client: a route it originates is queued for the client.
func ExampleNewEngine() {
	eng, err := reflector.NewEngine(reflector.EngineConfig{LocalAS: 65000, RouterID: netip.MustParseAddr("10.0.0.254")})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	peer, err := eng.AddPeer(reflector.PeerConfig{Role: reflector.Client, AS: 65000, Address: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		log.Fatal(err)
	}
	if err := eng.PeerUp(peer, reflector.UnicastNegotiated(netip.MustParseAddr("10.0.0.1"))); err != nil {
		log.Fatal(err)
	}
	if err := eng.Originate(netip.MustParsePrefix("203.0.113.0/24"), netip.MustParseAddr("192.0.2.254"), nil); err != nil {
		log.Fatal(err)
	}
	rib, _ := eng.LocRIB()
	for _, r := range rib {
		fmt.Println(r.Prefix, r.Path.Peer == reflector.LocalPeer, r.Path.NextHop)
	}
	_, err = eng.AddPeer(reflector.PeerConfig{Role: 9})
	fmt.Println(err != nil)
	// Output:
	// 203.0.113.0/24 true 192.0.2.254
	// true
}

// A route reflector for two clients in a few lines: Serve runs until
// interrupted, then sends both a Cease.
func ExampleSpeaker_Serve() {
	sp, err := reflector.NewSpeaker(reflector.SpeakerConfig{LocalAS: 65000, RouterID: netip.MustParseAddr("10.0.0.254")})
	if err != nil {
		log.Fatal(err)
	}
	defer sp.Close()
	for _, a := range []string{"192.0.2.1", "192.0.2.2"} {
		if err := sp.AddNeighbor(reflector.Neighbor{Address: netip.MustParseAddr(a), AS: 65000, Role: reflector.Client}); err != nil {
			log.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", ":179")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log.Println(sp.Serve(ctx, l))
}
