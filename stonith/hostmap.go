package stonith

import (
	"fmt"
	"strings"
)

// Device parameters (CIB instance attributes of a stonith resource) that
// decide which cluster nodes a device can fence and under which name.
const (
	ParamHostMap   = "pcmk_host_map"
	ParamHostList  = "pcmk_host_list"
	ParamHostCheck = "pcmk_host_check"
)

// HostCheck is the value of pcmk_host_check: how the fencer decides whether
// a device can fence a node.
type HostCheck string

// The pcmk_host_check values Pacemaker accepts.
const (
	CheckStaticList  HostCheck = "static-list"  // pcmk_host_list / pcmk_host_map decide
	CheckDynamicList HostCheck = "dynamic-list" // the device's list output decides
	CheckStatus      HostCheck = "status"       // a status query for the node decides
	CheckNone        HostCheck = "none"         // every device can fence every node
)

// Capabilities says which query actions a device supports; it picks the
// default pcmk_host_check when none is configured. (Pacemaker reads them
// from the agent's meta-data; the native devices support both.)
type Capabilities struct {
	List   bool
	Status bool
}

// HostAlias is one node → plug pair of pcmk_host_map, in the order written.
type HostAlias struct {
	Node string
	Plug string
}

// ParseHostMap parses pcmk_host_map exactly as Pacemaker's fencer does
// (build_port_aliases): pairs "node:plug" or "node=plug", separated by ';',
// space or tab; a ',' stays inside the plug ("node2:2,3" gives plug "2,3").
// A backslash escapes the next character; backslashes are removed from the
// plug but kept in the node name. A pair without a node name is skipped.
// Later pairs for the same node (case-insensitively) win in Targeting.
func ParseHostMap(s string) []HostAlias {
	var (
		out     []HostAlias
		name    string
		hasName bool
		last    int
	)
	// The loop runs over the string plus a virtual NUL terminator, as the
	// C code does; a trailing backslash skips the terminator, so the last
	// pair is then dropped (as in Pacemaker).
	for i := 0; i <= len(s); i++ {
		c := byte(0)
		if i < len(s) {
			c = s[i]
		}
		switch c {
		case '\\':
			i++
		case '=', ':':
			if i > last {
				name, hasName = s[last:i], true
			}
			last = i + 1
		case 0, ';', ' ', '\t':
			if hasName {
				plug := strings.ReplaceAll(s[last:i], "\\", "")
				out = append(out, HostAlias{Node: name, Plug: plug})
				name, hasName = "", false
			}
			last = i + 1
		}
		if i >= len(s) {
			break
		}
	}
	return out
}

// ParseTargets parses a target list as Pacemaker does for pcmk_host_list
// and for a device's list output (stonith__parse_targets): lines split at
// newlines or a literal backslash-n; a line containing "invalid" or
// "variable" is ignored; entries split at white space, ',' and ';'; an entry
// keeps its leading run of letters, digits, '_', '-' and '.' (one starting
// with another character is dropped); "on" and "off" are dropped.
func ParseTargets(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		end := i == len(s) || s[i] == '\n'
		backslashN := !end && s[i] == '\\' && i+1 < len(s) && s[i+1] == 'n'
		if !end && !backslashN {
			continue
		}
		out = parseTargetLine(s[start:i], out)
		if backslashN {
			i++
		}
		start = i + 1
	}
	return out
}

func parseTargetLine(line string, out []string) []string {
	if strings.Contains(line, "invalid") || strings.Contains(line, "variable") {
		return out
	}
	isSep := func(c byte) bool {
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r', ',', ';':
			return true
		}
		return false
	}
	for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r < 0x80 && isSep(byte(r)) }) {
		n := 0
		for n < len(field) && isTargetChar(field[n]) {
			n++
		}
		entry := field[:n]
		if entry == "" || strings.EqualFold(entry, "on") || strings.EqualFold(entry, "off") {
			continue
		}
		out = append(out, entry)
	}
	return out
}

func isTargetChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// Eligibility is Targeting.Check's answer.
type Eligibility int

// Possible answers of Targeting.Check.
const (
	NotEligible Eligibility = iota
	Eligible
	// NeedList: ask the device for its list and call Targeting.Listed.
	NeedList
	// NeedStatus: query Device.Status(Plug(node)) and call StatusSays.
	NeedStatus
)

// Targeting is the node → plug mapping and eligibility rule of one device,
// built from its parameters. It is a pure value: no I/O.
type Targeting struct {
	Mode     HostCheck
	hostList []string          // pcmk_host_list entries + map plugs (static-list only)
	aliases  map[string]string // lower-case node → plug, from pcmk_host_map
	hasMap   bool
}

// NewTargeting builds the Targeting of a device from its parameters, as
// Pacemaker does: pcmk_host_check if set; otherwise static-list when
// pcmk_host_list or pcmk_host_map is set, else dynamic-list when the device
// can list, else status when it has a status action, else none.
//
// Deviation: Pacemaker accepts an invalid pcmk_host_check and then finds
// the device eligible for no node; NewTargeting refuses it with an error,
// so the mistake surfaces when the device is configured.
func NewTargeting(params map[string]string, caps Capabilities) (*Targeting, error) {
	t := &Targeting{aliases: map[string]string{}}
	hostMap, hasMap := params[ParamHostMap]
	hostList, hasList := params[ParamHostList]
	t.hasMap = hasMap
	var mapPlugs []string
	for _, a := range ParseHostMap(hostMap) {
		t.aliases[strings.ToLower(a.Node)] = a.Plug
		// Pacemaker also adds each plug to the static target list.
		mapPlugs = append(mapPlugs, a.Plug)
	}
	if v, ok := params[ParamHostCheck]; ok {
		switch c := HostCheck(strings.ToLower(v)); c {
		case CheckStaticList, CheckDynamicList, CheckStatus, CheckNone:
			t.Mode = c
		default:
			return nil, fmt.Errorf("stonith: invalid %s %q (want static-list, dynamic-list, status or none)", ParamHostCheck, v)
		}
	} else {
		switch {
		case hasList, hasMap:
			t.Mode = CheckStaticList
		case caps.List:
			t.Mode = CheckDynamicList
		case caps.Status:
			t.Mode = CheckStatus
		default:
			t.Mode = CheckNone
		}
	}
	if t.Mode == CheckStaticList {
		t.hostList = append(ParseTargets(hostList), mapPlugs...)
	}
	return t, nil
}

// Plug is the name to send to the device for node: its pcmk_host_map entry
// (matched case-insensitively), or the node name itself.
func (t *Targeting) Plug(node string) string {
	if p, ok := t.aliases[strings.ToLower(node)]; ok {
		return p
	}
	return node
}

// Check says whether the device can fence node, or what to ask the device
// to find out.
func (t *Targeting) Check(node string) Eligibility {
	switch t.Mode {
	case CheckNone:
		return Eligible
	case CheckStaticList:
		if containsFold(t.hostList, node) {
			return Eligible
		}
		if _, ok := t.aliases[strings.ToLower(node)]; ok && t.hasMap {
			return Eligible
		}
		return NotEligible
	case CheckDynamicList:
		return NeedList
	case CheckStatus:
		return NeedStatus
	}
	return NotEligible
}

// Listed answers a NeedList: node is eligible when its plug appears
// (case-insensitively) among the names the device listed.
func (t *Targeting) Listed(node string, listed []string) bool {
	return containsFold(listed, t.Plug(node))
}

// StatusSays answers a NeedStatus from the device's status reply: any
// definite on/off answer means the device can fence the node; an error or
// an unknown state means it cannot.
func StatusSays(state PowerState, err error) bool {
	return err == nil && (state == PowerOn || state == PowerOff)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
