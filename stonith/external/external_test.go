package external

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pacer/stonith"
)

// writeAgent writes a shell fence agent into dir and returns its path.
func writeAgent(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStdinProtocol(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "stdin")
	p := writeAgent(t, dir, "fence_echo", `cat > `+dump+`
case "$(sed -n 's/^action=//p' `+dump+`)" in
status) echo "Status: OFF"; exit 2;;
list) printf '1,server1\n2,server2\n';;
off) echo "failed to reach the PDU" >&2; exit 1;;
esac
exit 0
`)
	d := NewDevice(p, map[string]string{
		"ipaddr": "192.0.2.1", "password": "s3cret with spaces", "pcmk_host_map": "a:1", "pcmk_host_argument": "plug",
	}, nil)
	ctx := context.Background()
	if st, err := d.Status(ctx, "2"); err != nil || st != stonith.PowerOff {
		t.Fatalf("status = %v, %v", st, err)
	}
	got, _ := os.ReadFile(dump)
	want := "action=status\nipaddr=192.0.2.1\npassword=s3cret with spaces\nplug=2\n"
	if string(got) != want {
		t.Fatalf("stdin:\n%s\nwant:\n%s", got, want)
	}
	list, err := d.List(ctx)
	if err != nil || !reflect.DeepEqual(list, []stonith.Target{{Name: "1", Alias: "server1"}, {Name: "2", Alias: "server2"}}) {
		t.Fatalf("list = %+v, %v", list, err)
	}
	res, err := d.Fence(ctx, "1", stonith.ActionOff)
	if !errors.Is(err, stonith.ErrFailed) || !strings.Contains(err.Error(), "failed to reach the PDU") || res.Output == "" {
		t.Fatalf("off = %+v, %v", res, err)
	}
	if _, err := d.Fence(ctx, "1", stonith.ActionReboot); err != nil {
		t.Fatal(err)
	}
	if err := d.Monitor(ctx); err != nil {
		t.Fatal(err)
	}
	// A newline in a value would smuggle in another parameter.
	bad := NewDevice(p, map[string]string{"ipaddr": "x\naction=off"}, nil)
	if _, err := bad.Status(ctx, "1"); err == nil {
		t.Fatal("newline in a parameter accepted")
	}
}

// A timed-out agent is killed with its whole process group, including a
// child that would otherwise keep running.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p := writeAgent(t, dir, "fence_hang", `sleep 60 &
echo $! > `+pidFile+`
sleep 60
`)
	d := NewDevice(p, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Fence(ctx, "n1", stonith.ActionOff)
	if !errors.Is(err, stonith.ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("got %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("took %v", el)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of the killed agent is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestFindAndList(t *testing.T) {
	dir := t.TempDir()
	writeAgent(t, dir, "fence_b", "exit 0\n")
	writeAgent(t, dir, "fence_a", "exit 0\n")
	os.WriteFile(filepath.Join(dir, "fence_notexec"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o755)
	if got := List(dir); !reflect.DeepEqual(got, []string{"fence_a", "fence_b"}) {
		t.Fatalf("List = %v", got)
	}
	if p, err := Find("fence_b", dir); err != nil || p != filepath.Join(dir, "fence_b") {
		t.Fatalf("Find = %q, %v", p, err)
	}
	if _, err := Find("fence_notexec", dir); !errors.Is(err, stonith.ErrUnsupported) {
		t.Fatalf("non-executable found: %v", err)
	}
	if _, err := Find("../bin/sh", dir); err == nil {
		t.Fatal("path accepted as agent name")
	}
}

const sampleMeta = `<?xml version="1.0" ?>
<resource-agent name="fence_sample" shortdesc="Sample agent">
<longdesc>Long text.</longdesc>
<parameters>
	<parameter name="port" unique="0" required="1" deprecated="1"><content type="string"/><shortdesc lang="en">Port</shortdesc></parameter>
	<parameter name="plug" unique="0" required="yes" obsoletes="port"><getopt mixed="-n, --plug=[id]"/><content type="string"/><shortdesc lang="en">Plug</shortdesc></parameter>
	<parameter name="hash"><content type="select" default="sha256"><option value="sha1"/><option value="sha256"/></content></parameter>
</parameters>
<actions><action name="on" automatic="0"/><action name="off"/><action name="status"/><action name="list"/><action name="metadata"/></actions>
</resource-agent>`

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata([]byte(sampleMeta))
	if err != nil {
		t.Fatal(err)
	}
	plug, _ := m.Param("plug")
	port, _ := m.Param("port")
	hash, _ := m.Param("hash")
	if m.Name != "fence_sample" || m.LongDesc != "Long text." || len(m.Parameters) != 3 || !bool(plug.Required) ||
		plug.Obsoletes != "port" || !bool(port.Deprecated) || plug.Description() != "Plug" || plug.Getopt.Mixed != "-n, --plug=[id]" ||
		hash.Content.Default != "sha256" || len(hash.Content.Options) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	if m.HostArgument() != "plug" || m.Capabilities() != (stonith.Capabilities{List: true, Status: true}) || m.HasAction("reboot") {
		t.Fatalf("host arg %q caps %+v", m.HostArgument(), m.Capabilities())
	}
	for _, bad := range []string{"", "<resource-agent>", "not xml"} {
		if _, err := ParseMetadata([]byte(bad)); err == nil {
			t.Errorf("ParseMetadata(%q) accepted", bad)
		}
	}
}

// The real fence_dummy from Debian's fence-agents: meta-data, status,
// off, on, reboot, monitor, through the stdin protocol.
func TestRealFenceDummy(t *testing.T) {
	path, err := Find("fence_dummy")
	if err != nil {
		t.Skip("fence_dummy not installed (Debian package fence-agents)")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 missing (fence_dummy is a Python script)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := Metadata(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "fence_dummy" || !m.HasAction("status") || m.HasAction("list") {
		t.Fatalf("meta-data: %+v", m)
	}
	tg, err := stonith.NewTargeting(map[string]string{}, m.Capabilities())
	if err != nil || tg.Mode != stonith.CheckStatus {
		t.Fatalf("default host check for fence_dummy: %v %v", tg.Mode, err)
	}
	statusFile := filepath.Join(t.TempDir(), "status")
	d := NewDevice(path, map[string]string{"status_file": statusFile, "type": "file"}, m)
	if st, err := d.Status(ctx, "node1"); err != nil || st != stonith.PowerOff {
		t.Fatalf("initial status = %v, %v", st, err)
	}
	for _, step := range []struct {
		a    stonith.Action
		want string
	}{{stonith.ActionOn, "on"}, {stonith.ActionOff, "off"}, {stonith.ActionReboot, "on"}} {
		res, err := d.Fence(ctx, "node1", step.a)
		if err != nil {
			t.Fatalf("%s: %v", step.a, err)
		}
		b, _ := os.ReadFile(statusFile)
		if strings.TrimSpace(string(b)) != step.want {
			t.Fatalf("after %s the status file says %q, want %q", step.a, b, step.want)
		}
		t.Logf("fence_dummy %s: %v, %q", step.a, res.Duration.Round(time.Millisecond), res.Output)
	}
	if st, err := d.Status(ctx, "node1"); err != nil || st != stonith.PowerOn {
		t.Fatalf("status = %v, %v", st, err)
	}
	if err := d.Monitor(ctx); err != nil {
		t.Fatal(err)
	}
	// type=fail: the agent reports failure (power_timeout keeps it short).
	fail := NewDevice(path, map[string]string{"type": "fail", "power_timeout": "1"}, m)
	if _, err := fail.Fence(ctx, "node1", stonith.ActionOff); !errors.Is(err, stonith.ErrFailed) {
		t.Fatalf("type=fail: %v", err)
	}
}

func TestParseList(t *testing.T) {
	got := ParseList("node1                            9b7f321f-183c-4ee2-8f67-4087e270133a on\nnode2 317eb5fe-cdcb-487c-9ced-f523c39e2379 off\n\n1,server1\n")
	want := []stonith.Target{
		{Name: "node1", UUID: "9b7f321f-183c-4ee2-8f67-4087e270133a", State: stonith.PowerOn},
		{Name: "node2", UUID: "317eb5fe-cdcb-487c-9ced-f523c39e2379", State: stonith.PowerOff},
		{Name: "1", Alias: "server1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(sampleMeta))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMetadata(b); err == nil {
			m.HostArgument()
			m.Capabilities()
		}
		ParseList(string(b))
	})
}
