package xvm

import (
	"bytes"
	"os"
	"testing"

	"pacer/stonith/internal/pcap"
)

// seedCapture adds the captured datagrams and callback streams as seeds.
func seedCapture(f *testing.F, udp bool) {
	pkts, err := pcap.Read("testdata/xvm.pcap")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range pkts {
		if p.TCP != udp {
			f.Add(p.Payload)
		}
	}
	for _, s := range pcap.Streams(pkts) {
		if !udp {
			f.Add(s.BtoA)
			if len(s.BtoA) > 128 {
				f.Add(s.BtoA[128:])
			}
		}
	}
}

// FuzzRequest: the daemon side parses and verifies datagrams from the
// network. Neither may panic; a datagram that verifies must re-encode to
// the same bytes when its fields are canonical.
func FuzzRequest(f *testing.F) {
	seedCapture(f, true)
	key, err := os.ReadFile("testdata/fence_xvm.key")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, perr := ParseRequest(b)
		verr := VerifyRequest(b, key, HashNone)
		if perr != nil {
			if verr == nil {
				t.Fatal("verified a packet that does not parse")
			}
			return
		}
		if verr == nil && r.Hash != HashNone {
			// Only someone with the key can make this happen (the seeds).
			again, err := r.Sign(key)
			canonical := err == nil && bytes.Equal(again[:112], b[:112])
			if canonical && !bytes.Equal(again[:], b) {
				t.Fatalf("re-signing a verified packet changed it")
			}
		}
	})
}

// FuzzReadReply: the client parses whatever the daemon writes after the
// handshake (result byte, host lists).
func FuzzReadReply(f *testing.F) {
	seedCapture(f, false)
	f.Add([]byte{CodeHostList})
	f.Add(append([]byte{CodeHostList}, make([]byte, HostRecordSize+1)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ReadReply(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(rep.Hosts) > maxHosts {
			t.Fatal("host list not bounded")
		}
		for _, h := range rep.Hosts {
			if h.IsTerminator() {
				t.Fatal("terminator returned as a host")
			}
		}
	})
}

// FuzzClientHandshake: the client reads the peer's challenge answer and
// challenge from the network.
func FuzzClientHandshake(f *testing.F) {
	seedCapture(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, h := range []Hash{HashNone, HashSHA1, HashSHA256, HashSHA512, 9} {
			ClientHandshake(&replay{r: bytes.NewReader(b)}, h, testKey)
			DaemonHandshake(&replay{r: bytes.NewReader(b)}, h, testKey)
		}
	})
}
