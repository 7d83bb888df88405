package external

import (
	"context"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"

	"pacer/stonith"
)

// Meta is a fence agent's meta-data (the <resource-agent> XML every
// fence agent prints for action=metadata).
type Meta struct {
	Name       string       `xml:"name,attr"`
	ShortDesc  string       `xml:"shortdesc,attr"`
	LongDesc   string       `xml:"longdesc"`
	VendorURL  string       `xml:"vendor-url"`
	Parameters []Param      `xml:"parameters>parameter"`
	Actions    []MetaAction `xml:"actions>action"`
}

// Param is one parameter an agent accepts.
type Param struct {
	Name       string `xml:"name,attr"`
	Unique     Bool   `xml:"unique,attr"`
	Required   Bool   `xml:"required,attr"`
	Deprecated Bool   `xml:"deprecated,attr"`
	Obsoletes  string `xml:"obsoletes,attr"`
	Getopt     struct {
		Mixed string `xml:"mixed,attr"`
	} `xml:"getopt"`
	Content struct {
		Type    string `xml:"type,attr"`
		Default string `xml:"default,attr"`
		Options []struct {
			Value string `xml:"value,attr"`
		} `xml:"option"`
	} `xml:"content"`
	ShortDesc []LangText `xml:"shortdesc"`
}

// Bool is a meta-data flag: "1", "true", "yes" or "on" (any case) is
// true, anything else false — agents are not consistent.
type Bool bool

// UnmarshalXMLAttr implements xml.UnmarshalerAttr.
func (b *Bool) UnmarshalXMLAttr(a xml.Attr) error {
	switch strings.ToLower(strings.TrimSpace(a.Value)) {
	case "1", "true", "yes", "on":
		*b = true
	default:
		*b = false
	}
	return nil
}

// LangText is a description in one language.
type LangText struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

// MetaAction is one supported action.
type MetaAction struct {
	Name      string `xml:"name,attr"`
	OnTarget  Bool   `xml:"on_target,attr"`
	Automatic Bool   `xml:"automatic,attr"`
	Timeout   string `xml:"timeout,attr"`
}

// Description returns the English short description (or the first one).
func (p Param) Description() string {
	for _, t := range p.ShortDesc {
		if t.Lang == "en" || t.Lang == "" {
			return strings.TrimSpace(t.Text)
		}
	}
	if len(p.ShortDesc) > 0 {
		return strings.TrimSpace(p.ShortDesc[0].Text)
	}
	return ""
}

// maxMetadata bounds the meta-data accepted from an agent.
const maxMetadata = 1 << 20

// ParseMetadata decodes meta-data XML.
func ParseMetadata(b []byte) (*Meta, error) {
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("external: meta-data of %d bytes is too large", len(b))
	}
	var m Meta
	if err := xml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("external: parsing meta-data: %w", err)
	}
	if m.Name == "" {
		return nil, fmt.Errorf("external: meta-data has no <resource-agent name=...>")
	}
	return &m, nil
}

// Metadata runs the agent at path with action=metadata and parses the
// result.
func Metadata(ctx context.Context, path string) (*Meta, error) {
	a := Agent{Path: path}
	out, err := a.Run(ctx, "metadata", "", "")
	if err != nil {
		return nil, err
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("external: %s metadata exited %d: %s", filepath.Base(path), out.ExitCode, out.Tail())
	}
	m, err := ParseMetadata([]byte(out.Stdout))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return m, nil
}

// Param returns the parameter called name.
func (m *Meta) Param(name string) (Param, bool) {
	for _, p := range m.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// HasAction reports whether the agent lists action.
func (m *Meta) HasAction(name string) bool {
	for _, a := range m.Actions {
		if strings.EqualFold(a.Name, name) {
			return true
		}
	}
	return false
}

// HostArgument is the parameter that carries the target, as Pacemaker
// picks it when pcmk_host_argument is unset: "plug" if the agent has it,
// else "port", else "" (the agent takes no target).
func (m *Meta) HostArgument() string {
	for _, n := range []string{"plug", "port"} {
		if _, ok := m.Param(n); ok {
			return n
		}
	}
	return ""
}

// Capabilities says whether the agent can list and report status, which
// picks the default pcmk_host_check.
func (m *Meta) Capabilities() stonith.Capabilities {
	return stonith.Capabilities{List: m.HasAction("list"), Status: m.HasAction("status")}
}
