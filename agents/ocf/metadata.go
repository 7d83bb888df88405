package ocf

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"pacer/agents"
	"pacer/crm/cib"
)

// maxMetaData bounds the XML accepted (the largest in resource-agents is
// about 60 KB).
const maxMetaData = 1 << 20

type xmlText struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type xmlOption struct {
	Value string `xml:"value,attr"`
}

type xmlContent struct {
	Type    string      `xml:"type,attr"`
	Default string      `xml:"default,attr"`
	Options []xmlOption `xml:"option"`
}

type xmlParameter struct {
	Name        string     `xml:"name,attr"`
	Required    string     `xml:"required,attr"`
	Unique      string     `xml:"unique,attr"`
	UniqueGroup string     `xml:"unique-group,attr"`
	Reloadable  string     `xml:"reloadable,attr"`
	Deprecated  *struct{}  `xml:"deprecated"`
	DeprAttr    string     `xml:"deprecated,attr"`
	ShortDesc   []xmlText  `xml:"shortdesc"`
	LongDesc    []xmlText  `xml:"longdesc"`
	Content     xmlContent `xml:"content"`
}

type xmlAction struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr"`
	Depth    string `xml:"depth,attr"`
	Role     string `xml:"role,attr"`
}

type xmlAgent struct {
	XMLName    xml.Name       `xml:"resource-agent"`
	Name       string         `xml:"name,attr"`
	Version    string         `xml:"version,attr"`
	OCFVersion string         `xml:"version"`
	ShortDesc  []xmlText      `xml:"shortdesc"`
	LongDesc   []xmlText      `xml:"longdesc"`
	Parameters []xmlParameter `xml:"parameters>parameter"`
	Actions    []xmlAction    `xml:"actions>action"`
	Special    []struct {
		Tag string `xml:"tag,attr"`
	} `xml:"special"`
}

// ParseMetaData parses an OCF agent's meta-data XML (OCF 1.0 and 1.1).
// It is defensive: it accepts what real agents print (a DOCTYPE line,
// several languages, missing optional attributes, bad durations, which it
// drops) and fails only when the document is not a resource-agent
// element at all. It never panics, whatever the input (fuzzed).
func ParseMetaData(data []byte) (*agents.MetaData, error) {
	if len(data) > maxMetaData {
		return nil, fmt.Errorf("meta-data is %d bytes, more than the %d accepted", len(data), maxMetaData)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("meta-data is empty")
	}
	var x xmlAgent
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("meta-data is not valid XML: %w", err)
	}
	if x.XMLName.Local != "resource-agent" {
		return nil, fmt.Errorf("meta-data root element is <%s>, want <resource-agent>", x.XMLName.Local)
	}
	md := &agents.MetaData{
		Name:       strings.TrimSpace(x.Name),
		Version:    strings.TrimSpace(x.Version),
		OCFVersion: strings.TrimSpace(x.OCFVersion),
		ShortDesc:  pickText(x.ShortDesc),
		LongDesc:   pickText(x.LongDesc),
	}
	seen := map[string]bool{}
	for _, p := range x.Parameters {
		name := strings.TrimSpace(p.Name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		param := agents.Parameter{
			Name:        name,
			Required:    isTrue(p.Required),
			Unique:      isTrue(p.Unique),
			UniqueGroup: strings.TrimSpace(p.UniqueGroup),
			Reloadable:  isTrue(p.Reloadable),
			Deprecated:  p.Deprecated != nil || isTrue(p.DeprAttr),
			Type:        strings.TrimSpace(p.Content.Type),
			Default:     p.Content.Default,
			ShortDesc:   pickText(p.ShortDesc),
			LongDesc:    pickText(p.LongDesc),
		}
		for _, o := range p.Content.Options {
			param.Options = append(param.Options, o.Value)
		}
		md.Parameters = append(md.Parameters, param)
	}
	for _, a := range x.Actions {
		name := strings.TrimSpace(a.Name)
		if name == "" {
			continue
		}
		spec := agents.ActionSpec{Name: name, Timeout: duration(a.Timeout), Interval: duration(a.Interval),
			Role: strings.TrimSpace(a.Role)}
		if d, err := strconv.Atoi(strings.TrimSpace(a.Depth)); err == nil && d >= 0 {
			spec.Depth = d
		}
		md.Actions = append(md.Actions, spec)
	}
	for _, s := range x.Special {
		if s.Tag != "" {
			md.Special = append(md.Special, s.Tag)
		}
	}
	return md, nil
}

// pickText prefers the English text, then the first one; whitespace is
// collapsed.
func pickText(texts []xmlText) string {
	if len(texts) == 0 {
		return ""
	}
	t := texts[0]
	for _, x := range texts {
		if x.Lang == "en" || strings.HasPrefix(x.Lang, "en_") || strings.HasPrefix(x.Lang, "en-") {
			t = x
			break
		}
	}
	return strings.Join(strings.Fields(t.Text), " ")
}

// isTrue reads an OCF boolean attribute ("1", "true", "yes", "on").
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "y":
		return true
	}
	return false
}

// duration parses "20s", "20", "2min", "500ms"; bad or empty values give 0.
func duration(s string) time.Duration {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	d, err := cib.ParseDuration(s)
	if err != nil || d < 0 {
		return 0
	}
	return d
}
