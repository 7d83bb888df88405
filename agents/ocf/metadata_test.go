package ocf

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pacer/agents"
)

const fixture11 = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Thing" version="2.3">
<version>1.1</version>
<longdesc lang="de">Ein Ding</longdesc>
<longdesc lang="en">
  A thing,   on
  several lines.
</longdesc>
<shortdesc lang="en">Manages a thing</shortdesc>
<parameters>
<parameter name="ip" unique-group="address" required="1">
<shortdesc lang="en">IPv4 or IPv6 address</shortdesc>
<content type="string" />
</parameter>
<parameter name="mode" reloadable="true">
<content type="select" default="fast"><option value="fast"/><option value="slow"/></content>
</parameter>
<parameter name="old">
<deprecated><replaced-with name="mode"/></deprecated>
<content type="boolean" default="false"/>
</parameter>
<parameter name="ip"><content type="string"/></parameter>
<parameter name=""/>
</parameters>
<actions>
<action name="start" timeout="20s" />
<action name="monitor" depth="10" timeout="40" interval="30s"/>
<action name="monitor" depth="0" timeout="20s" interval="10s" />
<action name="promote" role="Promoted" timeout="1min"/>
<action name="stop" timeout="bogus" />
<action name="meta-data" timeout="5s" />
</actions>
<special tag="heartbeat"><x/></special>
</resource-agent>
`

func TestParseMetaDataFixture(t *testing.T) {
	md, err := ParseMetaData([]byte(fixture11))
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "Thing" || md.Version != "2.3" || md.OCFVersion != "1.1" {
		t.Errorf("header: %+v", md)
	}
	if md.LongDesc != "A thing, on several lines." || md.ShortDesc != "Manages a thing" {
		t.Errorf("descs: %q %q", md.LongDesc, md.ShortDesc)
	}
	if len(md.Parameters) != 3 {
		t.Fatalf("parameters: %+v", md.Parameters)
	}
	ip, _ := md.Param("ip")
	if !ip.Required || ip.UniqueGroup != "address" || ip.Type != "string" {
		t.Errorf("ip: %+v", ip)
	}
	mode, _ := md.Param("mode")
	if !mode.Reloadable || mode.Default != "fast" || strings.Join(mode.Options, ",") != "fast,slow" {
		t.Errorf("mode: %+v", mode)
	}
	if old, _ := md.Param("old"); !old.Deprecated || old.Type != "boolean" {
		t.Errorf("old: %+v", old)
	}
	mon, _ := md.Action("monitor")
	if mon.Depth != 0 || mon.Interval != 10*time.Second || mon.Timeout != 20*time.Second {
		t.Errorf("monitor: %+v", mon)
	}
	if p, _ := md.Action("promote"); p.Timeout != time.Minute || p.Role != "Promoted" {
		t.Errorf("promote: %+v", p)
	}
	if s, _ := md.Action("stop"); s.Timeout != 0 {
		t.Errorf("stop with a bogus timeout: %+v", s)
	}
	if len(md.Special) != 1 || md.Special[0] != "heartbeat" {
		t.Errorf("special: %v", md.Special)
	}

	err = md.CheckParams(map[string]string{"mode": "medium", "colour": "red"})
	var pe *agents.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("CheckParams: %v", err)
	}
	if strings.Join(pe.Missing, ",") != "ip" || strings.Join(pe.Unknown, ",") != "colour" || len(pe.Invalid) != 1 {
		t.Errorf("ParamError: %+v", pe)
	}
	if !strings.Contains(err.Error(), "required option(s) 'ip' missing") {
		t.Errorf("message: %v", err)
	}
	if err := md.CheckParams(map[string]string{"ip": "10.0.0.1", "mode": "slow"}); err != nil {
		t.Errorf("good params: %v", err)
	}
}

func TestParseMetaDataRejects(t *testing.T) {
	for _, in := range []string{"", "   ", "not xml", "<other/>", "<resource-agent", strings.Repeat("x", maxMetaData+1)} {
		if _, err := ParseMetaData([]byte(in)); err == nil {
			t.Errorf("accepted %.30q", in)
		}
	}
}

// TestRealMetaData parses what the installed agents print.
func TestRealMetaData(t *testing.T) {
	r := requireAgent(t, "heartbeat", "IPaddr2", "resource-agents")
	md, err := r.Agent("heartbeat", "IPaddr2").MetaData(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ip, ok := md.Param("ip")
	if !ok || !ip.Required || !ip.Unique {
		t.Errorf("IPaddr2 ip: %+v", ip)
	}
	if n, _ := md.Param("arp_count"); n.Default != "5" {
		t.Errorf("IPaddr2 arp_count: %+v", n)
	}
	if a, _ := md.Action("monitor"); a.Interval != 10*time.Second || a.Timeout != 20*time.Second {
		t.Errorf("IPaddr2 monitor: %+v", a)
	}
	list, err := r.List("heartbeat")
	if err != nil || len(list) < 10 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	// Every installed heartbeat agent's meta-data must parse. Running all of
	// them takes seconds, so only a sample.
	for _, name := range []string{"Dummy", "Filesystem", "apache", "nginx", "IPsrcaddr", "anything"} {
		if !r.Installed("heartbeat", name) {
			continue
		}
		md, err := r.Agent("heartbeat", name).MetaData(context.Background())
		if err != nil || len(md.Parameters) == 0 || len(md.Actions) == 0 {
			t.Errorf("%s: %v %+v", name, err, md)
		}
	}
}

func FuzzParseMetaData(f *testing.F) {
	f.Add([]byte(fixture11))
	f.Add([]byte(`<resource-agent name="x"><parameters><parameter name="a" required="1"><content/></parameter></parameters></resource-agent>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><resource-agent><actions><action name="a" timeout="99999999999999999999h" depth="-1"/></actions></resource-agent>`))
	f.Add([]byte(`<resource-agent>&amp;&nbsp;<![CDATA[x]]></resource-agent>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseMetaData(data)
		if err != nil {
			return
		}
		for _, p := range md.Parameters {
			if p.Name == "" {
				t.Fatal("empty parameter name accepted")
			}
		}
		for _, a := range md.Actions {
			if a.Timeout < 0 || a.Interval < 0 || a.Depth < 0 {
				t.Fatalf("negative action spec %+v", a)
			}
		}
		_ = md.CheckParams(map[string]string{"a": "b"})
	})
}
