package xvm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pacer/stonith"
)

func TestDeviceFromParams(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "fence_xvm.key")
	if err := os.WriteFile(keyFile, testKey, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := DeviceFromParams(map[string]string{
		"key_file": keyFile, "hash": "sha512", "auth": "SHA1", "multicast_address": "225.0.0.13",
		"ipport": "1300", "retrans": "5", "timeout": "7", "use_uuid": "1", "delay": "3",
		"pcmk_host_map": "a:b", "callback_address": "127.0.0.5", "callback_port": "4000",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := d.c.cfg
	if string(c.Key) != string(testKey) || c.Hash != HashSHA512 || c.Auth != HashSHA1 || d.c.dest.String() != "225.0.0.13:1300" ||
		c.Retransmit != 500*time.Millisecond || c.Timeout != 7*time.Second || !d.UseUUID || d.Delay != 3*time.Second ||
		c.CallbackAddr.String() != "127.0.0.5" || c.CallbackPort != 4000 || c.Transport != UDP {
		t.Fatalf("parsed %+v / %+v", c, d)
	}
	d, err = DeviceFromParams(map[string]string{"key_file": keyFile, "ipaddr": "192.0.2.7"})
	if err != nil || d.c.cfg.Transport != TCP || d.c.dest.String() != "192.0.2.7:1229" {
		t.Fatalf("ipaddr: %+v %v", d, err)
	}
	d, err = DeviceFromParams(map[string]string{"key_file": keyFile, "ip_family": "ipv6"})
	if err != nil || d.c.dest.String() != "[ff05::3:1]:1229" {
		t.Fatalf("ipv6: %v %v", d.c.dest, err)
	}
	d, err = DeviceFromParams(map[string]string{"hash": "none", "auth": "none", "key_file": "/nonexistent"})
	if err != nil || !d.c.cfg.NoAuth {
		t.Fatalf("none/none: %v", err)
	}
	for _, bad := range []map[string]string{
		{"key_file": "/nonexistent"},
		{"key_file": keyFile, "hash": "md5"},
		{"key_file": keyFile, "hash": "none"},
		{"key_file": keyFile, "ipport": "0"},
		{"key_file": keyFile, "retrans": "x"},
		{"key_file": keyFile, "multicast_address": "host.example"},
		{"key_file": keyFile, "delay": "-1"},
	} {
		if _, err := DeviceFromParams(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestDelay(t *testing.T) {
	f := startFake(t, fakeConfig{key: testKey})
	d := f.device(t, Config{Key: testKey})
	d.Delay = 150 * time.Millisecond
	start := time.Now()
	if _, err := d.Fence(context.Background(), "node1", stonith.ActionOff); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("delay not applied: %v", el)
	}
	start = time.Now()
	if _, err := d.Status(context.Background(), "node1"); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("status delayed or failed: %v %v", time.Since(start), err)
	}
	d.Delay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.Fence(ctx, "node1", stonith.ActionOff); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delay ignores ctx: %v", err)
	}
}
