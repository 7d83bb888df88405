// Command fence-host serves fence_xvm requests on a libvirt host: the job
// of fence_virtd (multicast and/or tcp listener, libvirt backend) as one
// static binary that talks to libvirtd over its own RPC client.
//
//	fence-host -key /etc/cluster/fence_xvm.key -interface br0 \
//	    -uri qemu:///system [-multicast 225.0.0.12:1229] [-tcp 192.0.2.1:1229]
//
// Cluster nodes fence through it with pacer's fence_xvm device or Debian's
// fence_xvm, unchanged.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"pacer/stonith/fencehost"
	"pacer/stonith/xvm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fence-host:", err)
		os.Exit(1)
	}
}

func run() error {
	keyFile := flag.String("key", "/etc/cluster/fence_xvm.key", "shared key file")
	hash := flag.String("hash", "sha256", "weakest request hash accepted: none, sha1, sha256, sha512")
	auth := flag.String("auth", "sha256", "challenge-response hash: none, sha1, sha256, sha512")
	uri := flag.String("uri", "qemu:///system", "libvirt URI of the domains to fence")
	mcast := flag.String("multicast", "225.0.0.12:1229", "multicast group:port to listen on (empty: none)")
	ifname := flag.String("interface", "", "interface to join the multicast group on")
	tcp := flag.String("tcp", "", "also serve fence_virtd's tcp listener protocol on this address:port")
	flag.Parse()

	h, err := xvm.ParseHash(*hash)
	if err != nil {
		return err
	}
	a, err := xvm.ParseHash(*auth)
	if err != nil {
		return err
	}
	cfg := fencehost.Config{MinHash: h, Auth: a, URI: *uri, NoAuth: h == xvm.HashNone && a == xvm.HashNone,
		Logf: log.New(os.Stderr, "", log.LstdFlags).Printf}
	if !cfg.NoAuth {
		if cfg.Key, err = xvm.ReadKeyFile(*keyFile); err != nil {
			return err
		}
	}
	host, err := fencehost.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	n := 0
	if *mcast != "" {
		conn, err := fencehost.ListenMulticast(*mcast, *ifname)
		if err != nil {
			return err
		}
		defer conn.Close()
		n++
		go func() { errc <- host.ServeUDP(ctx, conn) }()
	}
	if *tcp != "" {
		ln, err := net.Listen("tcp", *tcp)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", *tcp, err)
		}
		defer ln.Close()
		n++
		go func() { errc <- host.ServeTCP(ctx, ln) }()
	}
	if n == 0 {
		return fmt.Errorf("nothing to serve: give -multicast and/or -tcp")
	}
	log.Printf("fence-host: serving %s (multicast %q, tcp %q)", *uri, *mcast, *tcp)
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil {
			stop()
			return err
		}
	}
	return nil
}
