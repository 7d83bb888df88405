package ipaddr2

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"pacer/agents"
)

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]string
		meta   map[string]string
		code   agents.Code // 0: accepted
		check  func(*config) bool
	}{
		{"minimal", map[string]string{"ip": "10.0.0.5"}, nil, 0, func(c *config) bool {
			return c.prefix == -1 && c.nic == "" && c.arpCount == 5 && c.arpIntvl == 200*time.Millisecond && c.arpBG && !c.v6
		}},
		{"full", map[string]string{"ip": "10.0.0.5", "cidr_netmask": "24", "nic": "eth0", "iflabel": "vip",
			"broadcast": "10.0.0.255", "arp_count": "2", "arp_interval": "50", "arp_bg": "false"}, nil, 0,
			func(c *config) bool {
				return c.prefix == 24 && c.nic == "eth0" && c.iflabel == "vip" && c.brd == "10.0.0.255" &&
					c.arpCount == 2 && c.arpIntvl == 50*time.Millisecond && !c.arpBG
			}},
		{"nic:label", map[string]string{"ip": "10.0.0.5", "nic": "eth0:web"}, nil, 0,
			func(c *config) bool { return c.nic == "eth0" && c.iflabel == "web" }},
		{"dotted netmask", map[string]string{"ip": "10.0.0.5", "cidr_netmask": "255.255.255.0"}, nil, 0,
			func(c *config) bool { return c.prefix == 24 }},
		{"old netmask alias", map[string]string{"ip": "10.0.0.5", "netmask": "16"}, nil, 0,
			func(c *config) bool { return c.prefix == 16 }},
		{"ipv6", map[string]string{"ip": "2001:db8::5", "cidr_netmask": "64", "nodad": "true", "preferred_lft": "0"}, nil, 0,
			func(c *config) bool { return c.v6 && c.prefix == 64 && c.noDAD && c.prefLft == 0 && !c.arpBG }},
		{"unknown params ignored", map[string]string{"ip": "10.0.0.5", "OCF_CHECK_LEVEL": "10", "clusterip_hash": "x"}, nil, 0, nil},
		{"harmless defaults", map[string]string{"ip": "10.0.0.5", "lvs_support": "false", "mac": ""}, nil, 0, nil},
		{"no ip", map[string]string{"nic": "eth0"}, nil, agents.ErrNotConfigured, nil},
		{"bad ip", map[string]string{"ip": "10.0.0.300"}, nil, agents.ErrNotConfigured, nil},
		{"bad netmask", map[string]string{"ip": "10.0.0.5", "cidr_netmask": "33"}, nil, agents.ErrNotConfigured, nil},
		{"non-contiguous netmask", map[string]string{"ip": "10.0.0.5", "cidr_netmask": "255.0.255.0"}, nil, agents.ErrNotConfigured, nil},
		{"bad broadcast", map[string]string{"ip": "10.0.0.5", "broadcast": "x"}, nil, agents.ErrNotConfigured, nil},
		{"bad arp_count", map[string]string{"ip": "10.0.0.5", "arp_count": "-1"}, nil, agents.ErrNotConfigured, nil},
		{"long nic", map[string]string{"ip": "10.0.0.5", "nic": "averyverylongname0"}, nil, agents.ErrNotConfigured, nil},
		{"lvs", map[string]string{"ip": "10.0.0.5", "lvs_support": "true"}, nil, agents.ErrUnimplemented, nil},
		{"mac", map[string]string{"ip": "10.0.0.5", "mac": "01:02:03:04:05:06"}, nil, agents.ErrUnimplemented, nil},
		{"clone", map[string]string{"ip": "10.0.0.5"}, map[string]string{"clone-max": "2"}, agents.ErrUnimplemented, nil},
	}
	for _, tc := range cases {
		c, err := parseConfig(tc.params, tc.meta)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if tc.check != nil && !tc.check(c) {
				t.Errorf("%s: got %+v", tc.name, c)
			}
			continue
		}
		res := result(err)
		if err == nil || res.Code != tc.code {
			t.Errorf("%s: got %v (%s), want code %d", tc.name, err, res, tc.code)
		}
	}
	_, err := parseConfig(map[string]string{"ip": "10.0.0.5", "lvs_support": "yes"}, nil)
	if err == nil || !strings.Contains(err.Error(), "agent-implementation=script") {
		t.Errorf("unimplemented message should point at the script: %v", err)
	}
}

func TestLabelLength(t *testing.T) {
	c := &config{nic: "enp0s31f6", iflabel: "toolong"}
	if err := c.setLabel(); err == nil {
		t.Error("accepted a 17-character label")
	}
	c = &config{nic: "eth0", iflabel: "vip"}
	if err := c.setLabel(); err != nil || c.label != "eth0:vip" {
		t.Errorf("label %q %v", c.label, err)
	}
}

func TestGARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	ip := net.ParseIP("192.0.2.100")
	req, err := GARPFrame(mac, ip, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06, // Ethernet
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet/IPv4, request
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 100, // sender: MAC, VIP
		0, 0, 0, 0, 0, 0, 192, 0, 2, 100, // target: zero, VIP
	}
	if !bytes.Equal(req, want) {
		t.Errorf("request\n got % x\nwant % x", req, want)
	}
	rep, _ := GARPFrame(mac, ip, true)
	copy(want[20:22], []byte{0, 2})
	copy(want[32:38], mac)
	if !bytes.Equal(rep, want) {
		t.Errorf("reply\n got % x\nwant % x", rep, want)
	}
	if _, err := GARPFrame(mac, net.ParseIP("2001:db8::1"), false); err == nil {
		t.Error("built a GARP for IPv6")
	}
}
