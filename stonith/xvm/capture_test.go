package xvm

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"testing"

	"pacer/stonith"
	"pacer/stonith/internal/pcap"
)

// Golden vectors: testdata/xvm.pcap is shared/fencing/captures/xvm.pcap —
// Debian 12's fence_xvm 4.12.1 (and the Python probe) against the real
// fence_virtd — and testdata/fence_xvm.key is the throwaway key it used.

type capturedReq struct {
	op     Op
	hash   Hash
	flags  uint8
	domain string
	cb     string
	random string
	seqno  uint32
}

var capturedReqs = []capturedReq{
	{OpList, HashSHA256, 0, "", "127.0.0.1:1229", "961e910fadfe", 948565},
	{OpStatus, HashSHA256, 0, "node1", "127.0.0.1:1229", "c8e0b1590b24", 961509},
	{OpOff, HashSHA256, 0, "node1", "127.0.0.1:1229", "5eab4a2e9176", 975121},
	{OpStatus, HashSHA256, 0, "node1", "127.0.0.1:1229", "dc1cfacbe138", 192637},
	{OpOn, HashSHA256, 0, "node1", "127.0.0.1:1229", "35557612df31", 208918},
	{OpReboot, HashSHA256, 0, "node1", "127.0.0.1:1229", "f5bbfc47f8ac", 295451},
	{OpStatus, HashSHA256, FlagUUID, "9b7f321f-183c-4ee2-8f67-4087e270133a", "127.0.0.1:1229", "81731f215982", 660328},
	{OpStatus, HashSHA512, 0, "node2", "127.0.0.1:1229", "4d7d526b3c1f", 675177},
	{OpStatus, HashSHA256, 0, "node2", "127.0.0.1:1229", "4c3826a318a7", 685575},
	{OpOff, HashSHA256, 0, "nosuch", "127.0.0.1:1229", "2b180f34d750", 694160},
	{OpMonitor, HashSHA256, 0, "", "127.0.0.1:1229", "02749663a7fb", 704062},
	{OpList, HashSHA256, 0, "", "127.0.0.9:40050", "0909be02e08c", 1342187787},
	{OpOff, HashSHA256, 0, "node3", "127.0.0.1:40051", "0b623897fd10", 1342327606},
	{OpOn, HashSHA256, 0, "node3", "127.0.0.1:40052", "4c048c40db0f", 1342673951},
}

var capturedHosts = []HostRecord{
	{"node1", "9b7f321f-183c-4ee2-8f67-4087e270133a", 1},
	{"node2", "317eb5fe-cdcb-487c-9ced-f523c39e2379", 1},
	{"node3", "89886907-708d-4d3e-8384-5a8846eac9d3", 1},
}

func readCapture(t *testing.T, pcapFile, keyFile string) ([]pcap.Packet, []byte) {
	t.Helper()
	pkts, err := pcap.Read(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pkts, key
}

func TestCapturedRequests(t *testing.T) {
	pkts, key := readCapture(t, "testdata/xvm.pcap", "testdata/fence_xvm.key")
	var dgrams [][]byte
	for _, p := range pkts {
		if !p.TCP {
			if p.Dst != netip.MustParseAddrPort("225.0.0.12:1229") {
				t.Fatalf("unexpected datagram to %v", p.Dst)
			}
			dgrams = append(dgrams, p.Payload)
		}
	}
	if len(dgrams) != len(capturedReqs) {
		t.Fatalf("%d datagrams, want %d", len(dgrams), len(capturedReqs))
	}
	for i, b := range dgrams {
		want := capturedReqs[i]
		if err := VerifyRequest(b, key, HashSHA256); err != nil {
			t.Errorf("#%d: captured request does not verify: %v", i, err)
		}
		if err := VerifyRequest(b, key[:511], HashNone); !errors.Is(err, ErrBadSignature) {
			t.Errorf("#%d: verifies with a different key: %v", i, err)
		}
		r, err := ParseRequest(b)
		if err != nil {
			t.Fatal(err)
		}
		cb := netip.AddrPortFrom(r.Addr, r.Port).String()
		if r.Op != want.op || r.Hash != want.hash || r.Flags != want.flags || r.Domain != want.domain ||
			cb != want.cb || hex.EncodeToString(r.Random[:]) != want.random || r.Seqno != want.seqno ||
			r.Family != 2 || r.AddrLen != 4 {
			t.Errorf("#%d: parsed %+v, want %+v", i, r, want)
		}
		// Build the same request from its fields and sign it: byte-exact.
		mine := Request{Op: want.op, Hash: want.hash, Flags: want.flags, Domain: want.domain,
			Addr: r.Addr, Port: r.Port, Random: r.Random, Seqno: want.seqno, Family: 2}
		got, err := mine.Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:], b) {
			t.Errorf("#%d: our signed request differs from fence_xvm's\n got %x\nwant %x", i, got, b)
		}
	}
}

func TestCapturedCallbacks(t *testing.T) {
	pkts, key := readCapture(t, "testdata/xvm.pcap", "testdata/fence_xvm.key")
	streams := pcap.Streams(pkts)
	// Result per callback, in capture order; -1 marks the session where the
	// client used -C sha512 against the sha256 daemon.
	wantCodes := []int{0, 0, 0, 2, 0, 0, 0, 0, -1, 1, 0, 0, 0, 0}
	if len(streams) != len(wantCodes) {
		t.Fatalf("%d TCP streams, want %d", len(streams), len(wantCodes))
	}
	for i, s := range streams {
		toDaemon, toClient := s.AtoB, s.BtoA // fence_xvm speaks first
		c1, r1 := toDaemon[:64], toClient[:64]
		if d := Digest(HashSHA256, key, c1); !bytes.Equal(d[:], r1) {
			t.Errorf("#%d: daemon's answer to the client challenge is not sha256(key||C1)", i)
		}
		if wantCodes[i] == -1 {
			if d := Digest(HashSHA512, key, c1); bytes.Equal(d[:], r1) {
				t.Errorf("#%d: sha512 answer matched a sha256 daemon", i)
			}
			if len(toDaemon) != 64 || len(toClient) != 128 {
				t.Errorf("#%d: auth-mismatch session has %d/%d bytes", i, len(toDaemon), len(toClient))
			}
			// Replay the daemon's bytes into our client handshake with
			// the right key: our random challenge is not C1, so it fails
			// exactly as a wrong key would.
			err := ClientHandshake(&replay{r: bytes.NewReader(toClient)}, HashSHA512, key)
			if !errors.Is(err, ErrChallengeFailed) {
				t.Errorf("#%d: handshake against captured bytes: %v", i, err)
			}
			continue
		}
		c2, r2 := toClient[64:128], toDaemon[64:128]
		if d := Digest(HashSHA256, key, c2); !bytes.Equal(d[:], r2) {
			t.Errorf("#%d: client's answer to the daemon challenge is not sha256(key||C2)", i)
		}
		rep, err := ReadReply(bytes.NewReader(toClient[128:]))
		if err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		if int(rep.Code) != wantCodes[i] {
			t.Errorf("#%d: code %d, want %d", i, rep.Code, wantCodes[i])
		}
		if i == 0 || i == 11 { // the two list sessions
			if len(rep.Hosts) != 3 {
				t.Fatalf("#%d: %d hosts, want 3", i, len(rep.Hosts))
			}
			for j, h := range rep.Hosts {
				if h != capturedHosts[j] {
					t.Errorf("#%d host %d: %+v, want %+v", i, j, h, capturedHosts[j])
				}
			}
			// 0xFD + 4 records + final byte; the pad byte is garbage
			// (0xAF), so compare re-encoding without pads.
			var buf bytes.Buffer
			WriteReply(&buf, rep, true)
			if buf.Len() != len(toClient)-128 {
				t.Errorf("#%d: re-encoded list is %d bytes, want %d", i, buf.Len(), len(toClient)-128)
			}
		} else if len(toClient) != 129 {
			t.Errorf("#%d: daemon sent %d bytes, want 129", i, len(toClient))
		}
	}
}

// replay feeds captured bytes to a handshake and swallows its writes.
type replay struct{ r *bytes.Reader }

func (p *replay) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *replay) Write(b []byte) (int, error) { return len(b), nil }

// The fence-virtd 4.12.1 bug with two backend URIs: the list reply starts
// with an uninitialised record, so fence_xvm prints nothing and exits 0.
// We must report an error instead of an empty list.
func TestCapturedBrokenList(t *testing.T) {
	pkts, key := readCapture(t, "testdata/bug-multi-uri-list.pcap", "testdata/bug-multi-uri-list.key")
	s := pcap.Streams(pkts)
	if len(s) != 1 {
		t.Fatalf("%d streams", len(s))
	}
	toClient := s[0].BtoA
	rep, err := ReadReply(bytes.NewReader(toClient[128:]))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 0 || rep.Code != 0x6e {
		t.Fatalf("got %d hosts, code %#x; want 0 hosts and the garbage code 0x6e", len(rep.Hosts), rep.Code)
	}
	// Through a fake daemon that replays those exact bytes, Device.List
	// must fail with a protocol error.
	fd := startFake(t, fakeConfig{key: key, rawReply: toClient[128:]})
	dev := fd.device(t, Config{Key: key})
	_, err = dev.List(context.Background())
	if !errors.Is(err, stonith.ErrProtocol) {
		t.Fatalf("List on the broken reply: %v, want ErrProtocol", err)
	}
	t.Logf("broken list reported as: %v", err)
}
