// Command reflector-rr is a BGP route reflector in a few lines of Go, built on
// reflector.Speaker: it listens on one address and reflects between the
// neighbours named on the command line (iBGP, our AS).
//
//	reflector-rr LISTEN_ADDR PORT LOCAL_AS ROUTER_ID [--cluster-id ID] [--max-seconds N] PEER_ADDR:client|nonclient ...
//
// It stops on SIGINT or SIGTERM (or after --max-seconds), sending every peer a
// Cease, and exits 0. ffi/ci.sh runs it between two BIRD clients.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	reflector "github.com/reflector-bgp/reflector/go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		log.Fatalf("reflector-rr: %v", err)
	}
}

func run(args []string) error {
	if len(args) < 5 {
		return errors.New("usage: reflector-rr LISTEN_ADDR PORT LOCAL_AS ROUTER_ID [--cluster-id ID] [--max-seconds N] PEER_ADDR:client|nonclient ...")
	}
	listen, port := args[0], args[1]
	as, err := strconv.ParseUint(args[2], 10, 32)
	if err != nil {
		return fmt.Errorf("LOCAL_AS: %v", err)
	}
	rid, err := netip.ParseAddr(args[3])
	if err != nil {
		return fmt.Errorf("ROUTER_ID: %v", err)
	}
	cfg := reflector.SpeakerConfig{LocalAS: uint32(as), RouterID: rid, Logf: log.Printf}
	var maxSeconds int
	var neighbors []reflector.Neighbor
	for i := 4; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--cluster-id" && i+1 < len(args):
			i++
			if cfg.ClusterID, err = netip.ParseAddr(args[i]); err != nil {
				return fmt.Errorf("--cluster-id: %v", err)
			}
		case a == "--max-seconds" && i+1 < len(args):
			i++
			if maxSeconds, err = strconv.Atoi(args[i]); err != nil {
				return fmt.Errorf("--max-seconds: %v", err)
			}
		default:
			addr, role, ok := strings.Cut(a, ":")
			ip, err := netip.ParseAddr(addr)
			if !ok || err != nil || (role != "client" && role != "nonclient") {
				return fmt.Errorf("bad neighbour %q (want ADDR:client or ADDR:nonclient)", a)
			}
			r := reflector.Client
			if role == "nonclient" {
				r = reflector.NonClient
			}
			neighbors = append(neighbors, reflector.Neighbor{Address: ip, AS: uint32(as), Role: r})
		}
	}

	sp, err := reflector.NewSpeaker(cfg)
	if err != nil {
		return err
	}
	defer sp.Close()
	for _, n := range neighbors {
		if err := sp.AddNeighbor(n); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(listen, port))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if maxSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(maxSeconds)*time.Second)
		defer cancel()
	}
	log.Printf("listening on %s with %d neighbours (library %s)", l.Addr(), len(neighbors), reflector.Version())
	err = sp.Serve(ctx, l)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		log.Printf("stopped")
		return nil
	}
	return err
}
