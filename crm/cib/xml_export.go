package cib

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// DefaultValidateWith is the schema ExportXML declares unless the header
// names another pacemaker-3.x one: the newest that Pacemaker 2.1 (Debian
// 12, RHEL 9) validates.
const DefaultValidateWith = "pacemaker-3.9"

// transitionUUID is the transition-graph UUID in the transition keys
// ExportXML writes: pacer has no Pacemaker transitions, only the
// expected result matters.
const transitionUUID = "70616365-7200-0000-0000-000000000000"

// crmFeatureSet is the CRM feature set ExportXML declares. Pacemaker
// reads per-operation fail counts (fail-count-RSC#op_INTERVAL) only from
// CIBs of feature set 3.0.13 or later (without the attribute it expects
// the legacy per-resource form), and refuses updates to a CIB whose
// feature set is newer than its own: so the oldest set that has
// per-operation fail counts.
const crmFeatureSet = "3.0.14"

// ExportXML writes the CIB as a Pacemaker CIB document, configuration
// and status, that `crm_verify -x` accepts and ImportXML reads back to
// an equal CIB. The header supplies have-quorum, dc-uuid and
// execution-date (so crm_simulate sees the same quorum and time as
// pacer's scheduler). Elements that Pacemaker requires ids for get ids
// made from their owner when the model has none. Operation history gets
// transition keys with the expected result and parameter digests of the
// current configuration: pacer does not restart resources on parameter
// changes, so its history always stands for the current parameters.
func ExportXML(c *CIB, h XMLHeader) ([]byte, error) { return exportXML(c, h, true) }

// ExportConfigXML is ExportXML without the <status> section, as a
// Pacemaker configuration to load with `cibadmin --replace`.
func ExportConfigXML(c *CIB, h XMLHeader) ([]byte, error) { return exportXML(c, h, false) }

func exportXML(c *CIB, h XMLHeader, withStatus bool) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("export: no CIB")
	}
	w := &xmlOut{ids: map[string]bool{}, cfg: &c.Config, nodeIDs: map[string]string{}}
	w.reserve(c)
	doc := etree.NewDocument()
	doc.WriteSettings.CanonicalAttrVal = true
	root := doc.CreateElement("cib")
	vw := h.ValidateWith
	if !strings.HasPrefix(vw, "pacemaker-3.") {
		vw = DefaultValidateWith
	}
	root.CreateAttr("validate-with", vw)
	root.CreateAttr("admin_epoch", strconv.FormatUint(c.Version.AdminEpoch, 10))
	root.CreateAttr("epoch", strconv.FormatUint(c.Version.Epoch, 10))
	root.CreateAttr("num_updates", strconv.FormatUint(c.Version.NumUpdates, 10))
	root.CreateAttr("crm_feature_set", crmFeatureSet)
	root.CreateAttr("have-quorum", boolText(h.HaveQuorum, "1", "0"))
	if h.DCUUID != "" {
		root.CreateAttr("dc-uuid", h.DCUUID)
	}
	if !h.ExecutionDate.IsZero() {
		root.CreateAttr("execution-date", strconv.FormatInt(h.ExecutionDate.Unix(), 10))
	}
	w.configuration(root.CreateElement("configuration"), &c.Config)
	if withStatus {
		w.status(root.CreateElement("status"), c)
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}

func boolText(b bool, t, f string) string {
	if b {
		return t
	}
	return f
}

// xmlOut builds the document and hands out ids that are valid and
// unique: every id the model already uses is reserved first.
type xmlOut struct {
	ids     map[string]bool
	cfg     *Configuration
	nodeIDs map[string]string // node name -> id written
}

func (w *xmlOut) reserve(c *CIB) {
	cfg := &c.Config
	add := func(id string) {
		if id != "" {
			w.ids[id] = true
		}
	}
	for _, n := range cfg.Nodes {
		add(n.ID)
	}
	for _, r := range cfg.Resources {
		add(r.ID())
		if r.Clone != nil {
			add(r.Clone.Child())
		}
	}
	for _, p := range cfg.Primitives() {
		add(p.ID)
		for _, o := range p.Ops {
			add(o.ID)
		}
	}
	for _, l := range cfg.Constraints.Locations {
		add(l.ID)
		for _, r := range l.Rules {
			add(r.ID)
			for _, e := range r.Expressions {
				add(e.ID)
			}
		}
	}
	for _, id := range cfg.Constraints.ConstraintIDs() {
		add(id)
	}
	for _, l := range cfg.FencingLevels {
		add(l.ID)
	}
	w.reserveAlerts(cfg)
}

// newID turns base into a valid id not used yet.
func (w *xmlOut) newID(base string) string {
	b := []byte(base)
	for i, r := range b {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if i > 0 {
			ok = ok || r == '.' || r == '-' || (r >= '0' && r <= '9')
		}
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		b = []byte("_")
	}
	id := string(b)
	for n := 1; w.ids[id]; n++ {
		id = string(b) + "-" + strconv.Itoa(n)
	}
	w.ids[id] = true
	return id
}

// idOr returns id when set, else a new one made from base.
func (w *xmlOut) idOr(id, base string) string {
	if id != "" {
		return id
	}
	return w.newID(base)
}

// nvset writes one attribute set (nothing when m is empty).
func (w *xmlOut) nvset(parent *etree.Element, tag, id string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	set := parent.CreateElement(tag)
	set.CreateAttr("id", w.newID(id))
	setID := set.SelectAttrValue("id", "")
	for _, k := range sortedKeys(m) {
		nv := set.CreateElement("nvpair")
		nv.CreateAttr("id", w.newID(setID+"-"+k))
		nv.CreateAttr("name", k)
		nv.CreateAttr("value", m[k])
	}
}

func setAttr(e *etree.Element, key, value string) {
	if value != "" {
		e.CreateAttr(key, value)
	}
}

func (w *xmlOut) configuration(e *etree.Element, cfg *Configuration) {
	crm := e.CreateElement("crm_config")
	w.nvset(crm, "cluster_property_set", "cib-bootstrap-options", cfg.Properties)
	if len(cfg.RscDefaults) > 0 {
		w.nvset(e.CreateElement("rsc_defaults"), "meta_attributes", "rsc_defaults-options", cfg.RscDefaults)
	}
	if len(cfg.OpDefaults) > 0 {
		w.nvset(e.CreateElement("op_defaults"), "meta_attributes", "op_defaults-options", cfg.OpDefaults)
	}
	nodes := e.CreateElement("nodes")
	for _, n := range cfg.Nodes {
		ne := nodes.CreateElement("node")
		id := w.idOr(n.ID, n.Name)
		w.nodeIDs[n.Name] = id
		ne.CreateAttr("id", id)
		ne.CreateAttr("uname", n.Name)
		w.nvset(ne, "instance_attributes", "nodes-"+ne.SelectAttrValue("id", ""), n.Attributes)
	}
	rs := e.CreateElement("resources")
	for _, r := range cfg.Resources {
		switch {
		case r.Primitive != nil:
			w.primitive(rs, r.Primitive)
		case r.Group != nil:
			w.group(rs, r.Group)
		case r.Clone != nil:
			ce := rs.CreateElement("clone")
			ce.CreateAttr("id", r.Clone.ID)
			if r.Clone.Primitive != nil {
				w.primitive(ce, r.Clone.Primitive)
			}
			if r.Clone.Group != nil {
				w.group(ce, r.Clone.Group)
			}
			w.nvset(ce, "meta_attributes", r.Clone.ID+"-meta_attributes", r.Clone.Meta)
		}
	}
	w.constraints(e.CreateElement("constraints"), &cfg.Constraints)
	if len(cfg.FencingLevels) > 0 {
		ft := e.CreateElement("fencing-topology")
		for _, l := range cfg.FencingLevels {
			fl := ft.CreateElement("fencing-level")
			fl.CreateAttr("id", w.idOr(l.ID, "fl-"+l.Target+"-"+strconv.Itoa(l.Index)))
			fl.CreateAttr("target", l.Target)
			fl.CreateAttr("index", strconv.Itoa(l.Index))
			fl.CreateAttr("devices", strings.Join(l.Devices, ","))
		}
	}
	w.alerts(e, cfg)
}

func (w *xmlOut) primitive(parent *etree.Element, p *Primitive) {
	e := parent.CreateElement("primitive")
	e.CreateAttr("id", p.ID)
	e.CreateAttr("class", p.Class)
	setAttr(e, "provider", p.Provider)
	e.CreateAttr("type", p.Type)
	w.nvset(e, "instance_attributes", p.ID+"-instance_attributes", p.Params)
	w.nvset(e, "meta_attributes", p.ID+"-meta_attributes", p.Meta)
	if len(p.Ops) == 0 {
		return
	}
	ops := e.CreateElement("operations")
	for _, o := range p.Ops {
		oe := ops.CreateElement("op")
		iv := o.Interval
		if iv == "" {
			iv = "0s"
		}
		oe.CreateAttr("id", w.idOr(o.ID, p.ID+"-"+o.Name+"-interval-"+iv))
		oe.CreateAttr("name", o.Name)
		oe.CreateAttr("interval", iv)
		setAttr(oe, "timeout", o.Timeout)
		setAttr(oe, "on-fail", o.OnFail)
		setAttr(oe, "role", o.Role)
	}
}

func (w *xmlOut) group(parent *etree.Element, g *Group) {
	e := parent.CreateElement("group")
	e.CreateAttr("id", g.ID)
	for _, m := range g.Members {
		if m != nil {
			w.primitive(e, m)
		}
	}
	w.nvset(e, "meta_attributes", g.ID+"-meta_attributes", g.Meta)
}

func (w *xmlOut) constraints(e *etree.Element, cs *Constraints) {
	for _, l := range cs.Locations {
		le := e.CreateElement("rsc_location")
		le.CreateAttr("id", l.ID)
		le.CreateAttr("rsc", l.Resource)
		if len(l.Rules) == 0 {
			le.CreateAttr("node", l.Node)
			le.CreateAttr("score", l.Score)
			continue
		}
		for _, r := range l.Rules {
			re := le.CreateElement("rule")
			re.CreateAttr("id", w.idOr(r.ID, l.ID+"-rule"))
			setAttr(re, "score", r.Score)
			setAttr(re, "boolean-op", r.BooleanOp)
			ruleID := re.SelectAttrValue("id", "")
			for _, x := range r.Expressions {
				xe := re.CreateElement("expression")
				xe.CreateAttr("id", w.idOr(x.ID, ruleID+"-expr"))
				xe.CreateAttr("attribute", x.Attribute)
				xe.CreateAttr("operation", x.Operation)
				setAttr(xe, "value", x.Value)
				setAttr(xe, "type", x.Type)
			}
		}
	}
	for _, c := range cs.Colocations {
		ce := e.CreateElement("rsc_colocation")
		ce.CreateAttr("id", c.ID)
		ce.CreateAttr("rsc", c.Resource)
		ce.CreateAttr("with-rsc", c.WithResource)
		ce.CreateAttr("score", c.Score)
	}
	for _, o := range cs.Orders {
		oe := e.CreateElement("rsc_order")
		oe.CreateAttr("id", o.ID)
		oe.CreateAttr("first", o.First)
		setAttr(oe, "first-action", o.FirstAction)
		oe.CreateAttr("then", o.Then)
		setAttr(oe, "then-action", o.ThenAction)
		setAttr(oe, "kind", o.Kind)
		if o.Symmetrical != nil {
			oe.CreateAttr("symmetrical", boolText(*o.Symmetrical, "true", "false"))
		}
	}
}

// status writes one node_state per configured node that has a status
// entry, in configuration order, then entries of unconfigured nodes by
// name.
func (w *xmlOut) status(e *etree.Element, c *CIB) {
	var names []string
	ids := w.nodeIDs
	seen := map[string]bool{}
	for _, n := range c.Config.Nodes {
		if c.Status.Nodes[n.Name] != nil && !seen[n.Name] {
			seen[n.Name] = true
			names = append(names, n.Name)
		}
	}
	var extra []string
	for name, st := range c.Status.Nodes {
		if _, ok := ids[name]; !ok && st != nil {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range append(names, extra...) {
		st := c.Status.Nodes[name]
		id := ids[name]
		if id == "" {
			id = name
		}
		ns := e.CreateElement("node_state")
		ns.CreateAttr("id", id)
		ns.CreateAttr("uname", name)
		ns.CreateAttr("in_ccm", boolText(st.InCCM, "true", "false"))
		ns.CreateAttr("crmd", boolText(st.Crmd, "online", "offline"))
		setAttr(ns, "join", st.Join)
		setAttr(ns, "expected", st.Expected)
		if st.Unclean {
			ns.CreateAttr("pacer-unclean", "true")
		}
		if st.LastFenced != nil {
			ns.CreateAttr("pacer-last-fenced", strconv.FormatInt(st.LastFenced.Unix(), 10))
		}
		setAttr(ns, "pacer-boot", st.Boot)
		if len(st.Attributes) > 0 {
			ta := ns.CreateElement("transient_attributes")
			ta.CreateAttr("id", id)
			set := ta.CreateElement("instance_attributes")
			set.CreateAttr("id", "status-"+id)
			for _, k := range sortedKeys(st.Attributes) {
				nv := set.CreateElement("nvpair")
				nv.CreateAttr("id", "status-"+id+"-"+k)
				nv.CreateAttr("name", k)
				nv.CreateAttr("value", st.Attributes[k])
			}
		}
		if len(st.Resources) > 0 {
			w.lrm(ns, id, name, st)
		}
	}
}

func (w *xmlOut) lrm(ns *etree.Element, id, node string, st *NodeStatus) {
	lrm := ns.CreateElement("lrm")
	lrm.CreateAttr("id", id)
	rs := lrm.CreateElement("lrm_resources")
	rids := make([]string, 0, len(st.Resources))
	for rid, h := range st.Resources {
		if h != nil {
			rids = append(rids, rid)
		}
	}
	sort.Strings(rids)
	for _, rid := range rids {
		h := st.Resources[rid]
		re := rs.CreateElement("lrm_resource")
		re.CreateAttr("id", rid)
		re.CreateAttr("class", h.Class)
		setAttr(re, "provider", h.Provider)
		re.CreateAttr("type", h.Type)
		prim := w.cfg.Primitive(baseID(rid))
		opIDs := map[string]bool{}
		for _, op := range h.Ops {
			oe := re.CreateElement("lrm_rsc_op")
			key := fmt.Sprintf("0:0:%d:%s", op.Expected(), transitionUUID)
			oe.CreateAttr("id", uniqueOpID(opIDs, op))
			oe.CreateAttr("operation_key", fmt.Sprintf("%s_%s_%d", rid, op.Operation, op.IntervalMS))
			oe.CreateAttr("operation", op.Operation)
			oe.CreateAttr("transition-key", key)
			oe.CreateAttr("transition-magic", fmt.Sprintf("%d:%d;%s", op.OpStatus, op.RC, key))
			setAttr(oe, "exit-reason", op.Output)
			oe.CreateAttr("on_node", node)
			oe.CreateAttr("call-id", strconv.FormatInt(op.CallID, 10))
			oe.CreateAttr("rc-code", strconv.Itoa(op.RC))
			oe.CreateAttr("op-status", strconv.Itoa(op.OpStatus))
			oe.CreateAttr("interval", strconv.FormatInt(op.IntervalMS, 10))
			if !op.LastRun.IsZero() {
				oe.CreateAttr("last-run", strconv.FormatInt(op.LastRun.Unix(), 10))
			}
			if !op.LastRCChange.IsZero() {
				oe.CreateAttr("last-rc-change", strconv.FormatInt(op.LastRCChange.Unix(), 10))
			}
			oe.CreateAttr("exec-time", strconv.FormatInt(op.ExecTimeMS, 10))
			oe.CreateAttr("queue-time", strconv.FormatInt(op.QueueTimeMS, 10))
			if prim != nil {
				oe.CreateAttr("op-digest", opDigest(prim, w.cfg, op.Operation, op.IntervalMS))
			}
		}
	}
}

// baseID strips a clone instance suffix (":N") from a history id.
func baseID(id string) string {
	for i := len(id) - 1; i > 0; i-- {
		if id[i] == ':' {
			if _, err := strconv.Atoi(id[i+1:]); err == nil && i+1 < len(id) {
				return id[:i]
			}
			return id
		}
	}
	return id
}

// uniqueOpID returns the record's id, or, when an earlier record of the
// same resource already has it, the id with the call id appended.
// Pacemaker keeps one record per id (a recurring monitor's record is
// replaced in place) and mis-sorts duplicates. pacer's store does the
// same, but hand-made histories (tests, generators) may keep every
// result: distinct ids let Pacemaker replay them all in call-id order,
// as pacer's scheduler does.
func uniqueOpID(seen map[string]bool, op OpRecord) string {
	id := op.ID
	if seen[id] {
		id = op.ID + "-" + strconv.FormatInt(op.CallID, 10)
		for n := 2; seen[id]; n++ {
			id = op.ID + "-" + strconv.FormatInt(op.CallID, 10) + "-" + strconv.Itoa(n)
		}
	}
	seen[id] = true
	return id
}
