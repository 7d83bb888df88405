package ocf

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"pacer/agents"
	"pacer/test/netns"
)

// Latency of the real scripts (fork + bash + ocf-shellfuncs each time).
// go test -run '^$' -bench . -benchtime 50x ./agents/ocf

func BenchmarkRealDummy(b *testing.B) {
	r := NewRunner(Options{})
	if !r.Installed("heartbeat", "Dummy") {
		b.Skip("needs Debian package resource-agents")
	}
	a := r.Agent("heartbeat", "Dummy")
	req := agents.Request{Resource: "d", Params: map[string]string{"state": filepath.Join(b.TempDir(), "s")}, Timeout: 20 * time.Second}
	ctx := context.Background()
	for _, action := range []string{"start", "monitor", "stop"} {
		b.Run(action, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if res := a.(*Agent).Run(ctx, action, req); res.Code != agents.OK && res.Code != agents.NotRunning {
					b.Fatal(res)
				}
			}
		})
	}
}

func BenchmarkRealIPaddr2(b *testing.B) {
	r0 := NewRunner(Options{})
	if !r0.Installed("heartbeat", "IPaddr2") || os.Geteuid() != 0 {
		b.Skip("needs root and Debian package resource-agents")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		b.Skip("needs nsenter")
	}
	a, n := netns.New(b), netns.New(b)
	netns.Veth(b, a, "ra0", "198.51.100.1/24", n, "rb0", "198.51.100.2/24")
	r := NewRunner(Options{Wrapper: []string{"nsenter", "--net=" + a.Path(), "--"}})
	ag := r.Agent("heartbeat", "IPaddr2")
	ctx := context.Background()
	req := agents.Request{Resource: "vip", Timeout: 20 * time.Second,
		Params: map[string]string{"ip": "198.51.100.100", "cidr_netmask": "24", "nic": "ra0", "arp_count": "1"}}
	b.Run("start", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if res := ag.Start(ctx, req); !res.Succeeded() {
				b.Fatal(res)
			}
			b.StopTimer()
			if res := ag.Stop(ctx, req); !res.Succeeded() {
				b.Fatal(res)
			}
			b.StartTimer()
		}
	})
	b.Run("monitor", func(b *testing.B) {
		if res := ag.Start(ctx, req); !res.Succeeded() {
			b.Fatal(res)
		}
		req := req
		req.Interval = 10 * time.Second
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if res := ag.Monitor(ctx, req); !res.Succeeded() {
				b.Fatal(res)
			}
		}
	})
}
