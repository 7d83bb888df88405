package devices

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pacer/stonith"
	"pacer/stonith/external"
	"pacer/stonith/libvirt"
	"pacer/stonith/xvm"
)

const fakeMeta = `<?xml version="1.0" ?>
<resource-agent name="fence_fake" shortdesc="fake">
<parameters><parameter name="plug"><content type="string"/></parameter></parameters>
<actions><action name="off"/><action name="status"/></actions>
</resource-agent>`

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "fence_fake"), []byte("#!/bin/sh\ncat <<'X'\n"+fakeMeta+"\nX\n"), 0o755)
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("secret"), 0o600)
	ctx := context.Background()

	s, err := Open(ctx, "fence_xvm", map[string]string{"key_file": keyFile, "pcmk_host_map": "server1:server1;server4:server4"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Device.(*xvm.Device); !ok || !s.Native || s.Targeting.Mode != stonith.CheckStaticList ||
		s.Targeting.Check("server4") != stonith.Eligible || s.Targeting.Check("server2") != stonith.NotEligible {
		t.Fatalf("fence_xvm spec %+v", s)
	}
	s, err = Open(ctx, "fence_libvirt", map[string]string{"uri": "qemu:///system"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Device.(*libvirt.Device); !ok || s.Targeting.Mode != stonith.CheckDynamicList {
		t.Fatalf("fence_libvirt spec %+v", s)
	}
	s, err = Open(ctx, "fence_fake", nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Device.(*external.Device); !ok || s.Native || s.Targeting.Mode != stonith.CheckStatus || s.Meta.HostArgument() != "plug" {
		t.Fatalf("fence_fake spec %+v", s)
	}
	if _, err := Open(ctx, "fence_nosuch", nil, dir); !errors.Is(err, stonith.ErrUnsupported) {
		t.Fatalf("unknown agent: %v", err)
	}
	if _, err := Open(ctx, "fence_libvirt", nil, dir); err == nil {
		t.Fatal("fence_libvirt without uri accepted")
	}
	if got := Agents(dir); !slices.Equal(got, []string{"fence_fake", "fence_libvirt", "fence_xvm"}) {
		t.Fatalf("Agents = %v", got)
	}
	for _, a := range []string{"fence_xvm", "fence_libvirt", "fence_fake"} {
		m, err := Describe(ctx, a, dir)
		if err != nil || m.Name != a || len(m.Parameters) == 0 {
			t.Fatalf("Describe(%s) = %+v, %v", a, m, err)
		}
	}
}
