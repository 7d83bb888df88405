package cib

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// XMLHeader holds what a Pacemaker <cib> element says beyond the CIB
// model: the schema, the quorum the DC saw, which node was DC, and the
// time the document stands for. crm_simulate reads have-quorum and
// execution-date as its quorum and "now"; so does `pcsctl simulate`.
type XMLHeader struct {
	ValidateWith  string    `json:"validate_with,omitempty"`
	HaveQuorum    bool      `json:"have_quorum"`
	DCUUID        string    `json:"dc_uuid,omitempty"`
	ExecutionDate time.Time `json:"execution_date,omitzero"`
}

// ImportXML reads a Pacemaker CIB document (what `cibadmin --query`
// prints, validate-with pacemaker-3.x) into the CIB model. Only the
// subset pacer implements is accepted: any other element, and any
// attribute that would change what the cluster does, is reported with
// its line instead of being dropped. Informational attributes (digests,
// debug origins, timestamps of the CIB file) are skipped; the list is in
// docs/reference/simulate.md. The result is not validated: call
// Config.Validate for that.
func ImportXML(data []byte) (*CIB, XMLHeader, error) {
	lines, err := elementLines(data)
	if err != nil {
		return nil, XMLHeader{}, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, XMLHeader{}, &XMLError{Problems: []XMLProblem{{Message: "not well-formed XML: " + err.Error()}}}
	}
	root := doc.Root()
	if root == nil {
		return nil, XMLHeader{}, &XMLError{Problems: []XMLProblem{{Line: 1, Message: "empty document: a Pacemaker CIB starts with <cib> (cibadmin --query prints one)"}}}
	}
	x := newXMLIn(root, lines)
	c, h := x.cib(root)
	if len(x.probs) > 0 {
		return nil, XMLHeader{}, &XMLError{Problems: x.probs}
	}
	return c, h, nil
}

func (x *xmlIn) cib(root *etree.Element) (*CIB, XMLHeader) {
	c := New()
	var h XMLHeader
	if root.Space != "" || root.Tag != "cib" {
		x.errf(root, "the document starts with <%s>; a Pacemaker CIB starts with <cib> (cibadmin --query prints one)", tagName(root))
		return c, h
	}
	x.attrs(root, "validate-with admin_epoch epoch num_updates have-quorum dc-uuid execution-date",
		"crm_feature_set cib-last-written update-origin update-client update-user remote-tls-port remote-clear-port")
	h.ValidateWith = attr(root, "validate-with")
	if v := h.ValidateWith; v != "" && !strings.HasPrefix(v, "pacemaker-3.") && !strings.HasPrefix(v, "pacemaker-4.") {
		x.errf(root, "validate-with=%q: pacer reads pacemaker-3.x CIBs; upgrade it first with 'cibadmin --upgrade --force' on the Pacemaker cluster", v)
	}
	c.Version.AdminEpoch = x.uintAttr(root, "admin_epoch")
	c.Version.Epoch = x.uintAttr(root, "epoch")
	c.Version.NumUpdates = x.uintAttr(root, "num_updates")
	h.HaveQuorum = x.boolAttr(root, "have-quorum", nil)
	h.DCUUID = attr(root, "dc-uuid")
	h.ExecutionDate = x.timeAttr(root, "execution-date")
	var config, status []*etree.Element
	for _, e := range x.kids(root, "configuration status") {
		if e.Tag == "configuration" {
			config = append(config, e)
		} else {
			status = append(status, e)
		}
	}
	if len(config) != 1 {
		x.errf(root, "<cib> needs exactly one <configuration>, found %d", len(config))
	}
	if len(status) > 1 {
		x.errf(status[1], "<cib> has more than one <status>")
	}
	if len(config) > 0 {
		x.configuration(config[0], &c.Config)
	}
	if len(status) > 0 {
		x.status(status[0], c)
	}
	return c, h
}

func (x *xmlIn) uintAttr(e *etree.Element, name string) uint64 {
	v := attr(e, name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		x.errf(e, "%s=%q on <%s> is not a non-negative integer", name, v, tagName(e))
	}
	return n
}

func (x *xmlIn) configuration(e *etree.Element, cfg *Configuration) {
	x.attrs(e, "", "")
	seen := map[string]bool{}
	for _, s := range x.kids(e, "crm_config nodes resources constraints rsc_defaults op_defaults fencing-topology alerts") {
		if seen[s.Tag] {
			x.errf(s, "<configuration> has more than one <%s>", s.Tag)
			continue
		}
		seen[s.Tag] = true
		x.attrs(s, "", "")
		switch s.Tag {
		case "crm_config":
			for _, set := range x.kids(s, "cluster_property_set") {
				x.noRules(set)
				cfg.Properties = x.nvset(set, cfg.Properties)
			}
		case "nodes":
			for _, n := range x.kids(s, "node") {
				cfg.Nodes = append(cfg.Nodes, x.node(n))
			}
		case "resources":
			x.resources(s, cfg)
		case "constraints":
			x.constraints(s, &cfg.Constraints)
		case "rsc_defaults":
			for _, set := range x.kids(s, "meta_attributes") {
				x.noRules(set)
				cfg.RscDefaults = x.nvset(set, cfg.RscDefaults)
			}
		case "op_defaults":
			for _, set := range x.kids(s, "meta_attributes") {
				x.noRules(set)
				cfg.OpDefaults = x.nvset(set, cfg.OpDefaults)
			}
		case "fencing-topology":
			for _, l := range x.kids(s, "fencing-level") {
				cfg.FencingLevels = append(cfg.FencingLevels, x.fencingLevel(l))
			}
		case "alerts":
			x.alerts(s, cfg)
		}
	}
}

// noRules reports a <rule> inside an attribute set (time- or
// node-dependent values), which nvset would otherwise refuse without
// saying why.
func (x *xmlIn) noRules(set *etree.Element) {
	for _, r := range set.SelectElements("rule") {
		x.errf(r, "rules inside <%s> (values that depend on time or node) are not supported by pacer: give plain values", tagName(set))
		set.RemoveChild(r)
	}
}

func (x *xmlIn) node(e *etree.Element) Node {
	x.attrs(e, "id uname type", "description")
	x.only(e, "type", "member", "normal")
	n := Node{ID: x.need(e, "id"), Name: x.need(e, "uname")}
	for _, set := range x.kids(e, "instance_attributes") {
		x.noRules(set)
		n.Attributes = x.nvset(set, n.Attributes)
	}
	return n
}

func (x *xmlIn) resources(e *etree.Element, cfg *Configuration) {
	for _, r := range x.kids(e, "primitive group clone") {
		switch r.Tag {
		case "primitive":
			cfg.Resources = append(cfg.Resources, Resource{Primitive: x.primitive(r)})
		case "group":
			cfg.Resources = append(cfg.Resources, Resource{Group: x.group(r)})
		case "clone":
			cfg.Resources = append(cfg.Resources, Resource{Clone: x.clone(r)})
		}
	}
}

func (x *xmlIn) primitive(e *etree.Element) *Primitive {
	x.attrs(e, "id class provider type", "description")
	p := &Primitive{ID: x.need(e, "id"), Class: x.need(e, "class"), Provider: attr(e, "provider"), Type: x.need(e, "type")}
	for _, c := range x.kids(e, "instance_attributes meta_attributes operations") {
		switch c.Tag {
		case "instance_attributes":
			x.noRules(c)
			p.Params = x.nvset(c, p.Params)
		case "meta_attributes":
			x.noRules(c)
			p.Meta = x.nvset(c, p.Meta)
		case "operations":
			x.attrs(c, "id", "")
			if c.SelectAttr("id-ref") != nil {
				x.errf(c, "references (id-ref) in <operations> are not supported by pacer: copy the operations here")
			}
			for _, o := range x.kids(c, "op") {
				p.Ops = append(p.Ops, x.op(o))
			}
		}
	}
	return p
}

func (x *xmlIn) op(e *etree.Element) Op {
	x.attrs(e, "id name interval timeout on-fail role", "description record-pending")
	x.kids(e, "")
	return Op{ID: x.need(e, "id"), Name: x.need(e, "name"), Interval: attr(e, "interval"),
		Timeout: attr(e, "timeout"), OnFail: attr(e, "on-fail"), Role: attr(e, "role")}
}

func (x *xmlIn) group(e *etree.Element) *Group {
	x.attrs(e, "id", "description")
	g := &Group{ID: x.need(e, "id")}
	for _, c := range x.kids(e, "primitive meta_attributes") {
		if c.Tag == "primitive" {
			g.Members = append(g.Members, x.primitive(c))
		} else {
			x.noRules(c)
			g.Meta = x.nvset(c, g.Meta)
		}
	}
	return g
}

func (x *xmlIn) clone(e *etree.Element) *Clone {
	x.attrs(e, "id", "description")
	cl := &Clone{ID: x.need(e, "id")}
	n := 0
	for _, c := range x.kids(e, "primitive group meta_attributes") {
		switch c.Tag {
		case "primitive":
			cl.Primitive = x.primitive(c)
			n++
		case "group":
			cl.Group = x.group(c)
			n++
		default:
			x.noRules(c)
			cl.Meta = x.nvset(c, cl.Meta)
		}
	}
	if n != 1 {
		x.errf(e, "<clone> needs exactly one <primitive> or <group>, found %d", n)
	}
	if IsTrue(cl.Meta["promotable"]) {
		x.errf(e, "promotable clones are not supported by pacer (meta promotable=%s)", cl.Meta["promotable"])
	}
	return cl
}

func (x *xmlIn) fencingLevel(e *etree.Element) FencingLevel {
	x.attrs(e, "id target index devices", "")
	l := FencingLevel{ID: x.need(e, "id"), Target: x.need(e, "target"), Index: int(x.int64Attr(e, "index"))}
	for _, d := range strings.Split(x.need(e, "devices"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			l.Devices = append(l.Devices, d)
		}
	}
	x.kids(e, "")
	return l
}

func (x *xmlIn) constraints(e *etree.Element, cs *Constraints) {
	for _, c := range x.kids(e, "rsc_location rsc_colocation rsc_order") {
		switch c.Tag {
		case "rsc_location":
			cs.Locations = append(cs.Locations, x.location(c))
		case "rsc_colocation":
			x.attrs(c, "id rsc with-rsc score rsc-role with-rsc-role node-attribute influence", "")
			x.only(c, "rsc-role", "Started")
			x.only(c, "with-rsc-role", "Started")
			x.only(c, "node-attribute", "#uname")
			x.only(c, "influence", "true")
			x.kids(c, "")
			cs.Colocations = append(cs.Colocations, Colocation{ID: x.need(c, "id"), Resource: x.need(c, "rsc"),
				WithResource: x.need(c, "with-rsc"), Score: x.need(c, "score")})
		case "rsc_order":
			cs.Orders = append(cs.Orders, x.order(c))
		}
	}
}

func (x *xmlIn) location(e *etree.Element) Location {
	x.attrs(e, "id rsc node score role resource-discovery", "")
	x.only(e, "role", "Started")
	x.only(e, "resource-discovery", "always")
	l := Location{ID: x.need(e, "id"), Resource: x.need(e, "rsc"), Node: attr(e, "node"), Score: attr(e, "score")}
	for _, r := range x.kids(e, "rule") {
		l.Rules = append(l.Rules, x.rule(r))
	}
	switch {
	case l.Node != "" && len(l.Rules) > 0:
		x.errf(e, "<rsc_location> has both a node and rules: give one or the other")
	case l.Node == "" && len(l.Rules) == 0:
		x.errf(e, "<rsc_location> needs a node and score, or a <rule>")
	case l.Node != "" && l.Score == "":
		x.errf(e, "<rsc_location> with a node needs a score")
	case len(l.Rules) > 0 && l.Score != "":
		x.errf(e, "<rsc_location> with rules takes its score from each <rule>: move score=%q there", l.Score)
	}
	return l
}

func (x *xmlIn) rule(e *etree.Element) Rule {
	x.attrs(e, "id score boolean-op role", "")
	x.only(e, "role", "Started")
	r := Rule{ID: x.need(e, "id"), Score: attr(e, "score"), BooleanOp: attr(e, "boolean-op")}
	for _, ex := range x.kids(e, "expression") {
		x.attrs(ex, "id attribute operation value type value-source", "")
		x.only(ex, "value-source", "literal")
		x.kids(ex, "")
		r.Expressions = append(r.Expressions, Expression{ID: x.need(ex, "id"), Attribute: x.need(ex, "attribute"),
			Operation: x.need(ex, "operation"), Value: attr(ex, "value"), Type: attr(ex, "type")})
	}
	return r
}

func (x *xmlIn) order(e *etree.Element) Order {
	x.attrs(e, "id first then first-action then-action kind symmetrical score", "")
	x.kids(e, "")
	o := Order{ID: x.need(e, "id"), First: x.need(e, "first"), Then: x.need(e, "then"),
		FirstAction: attr(e, "first-action"), ThenAction: attr(e, "then-action"), Kind: attr(e, "kind")}
	if s := attr(e, "score"); s != "" && o.Kind == "" {
		// Pacemaker 1.x orders: score 0 is optional, any other mandatory.
		v, err := ParseScore(s)
		if err != nil {
			x.errf(e, "score=%q on <rsc_order>: %v", s, err)
		} else if v == 0 {
			o.Kind = "Optional"
		}
	}
	if s := attr(e, "symmetrical"); s != "" {
		b, ok := parseBool(s)
		if !ok {
			x.errf(e, "symmetrical=%q on <rsc_order> is not a boolean", s)
		}
		o.Symmetrical = &b
	}
	return o
}
