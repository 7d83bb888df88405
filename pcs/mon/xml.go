package mon

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"pacer/agents"
	"pacer/api"
	"pacer/crm/cib"
)

// XMLAPIVersion is the crm_mon XML API version whose shape the XML output
// follows (Pacemaker's xml/api/crm_mon-2.25.rng), so scripts written for
// 'crm_mon --output-as=xml' read it unchanged. Elements pacer has no
// equivalent for (tickets, bans, bundles) are left out, as crm_mon does
// when there are none.
const XMLAPIVersion = "2.25"

type xmlResult struct {
	XMLName     xml.Name        `xml:"pacemaker-result"`
	APIVersion  string          `xml:"api-version,attr"`
	Request     string          `xml:"request,attr"`
	Summary     xmlSummary      `xml:"summary"`
	Nodes       []xmlNode       `xml:"nodes>node"`
	Resources   xmlResources    `xml:"resources"`
	NodeAttrs   *xmlNodeAttrs   `xml:"node_attributes,omitempty"`
	NodeHistory xmlNodeHistory  `xml:"node_history"`
	Failures    *xmlFailures    `xml:"failures,omitempty"`
	Fencing     *xmlFenceEvents `xml:"fence_history,omitempty"`
	Status      xmlStatus       `xml:"status"`
}

type xmlSummary struct {
	Stack struct {
		Type string `xml:"type,attr"`
	} `xml:"stack"`
	CurrentDC  xmlDC `xml:"current_dc"`
	LastUpdate struct {
		Time string `xml:"time,attr"`
	} `xml:"last_update"`
	LastChange struct {
		Time   string `xml:"time,attr"`
		User   string `xml:"user,attr"`
		Client string `xml:"client,attr"`
		Origin string `xml:"origin,attr"`
	} `xml:"last_change"`
	NodesConfigured struct {
		Number int `xml:"number,attr"`
	} `xml:"nodes_configured"`
	ResourcesConfigured struct {
		Number   int `xml:"number,attr"`
		Disabled int `xml:"disabled,attr"`
		Blocked  int `xml:"blocked,attr"`
	} `xml:"resources_configured"`
	Options struct {
		StonithEnabled  bool   `xml:"stonith-enabled,attr"`
		Symmetric       bool   `xml:"symmetric-cluster,attr"`
		NoQuorumPolicy  string `xml:"no-quorum-policy,attr"`
		MaintenanceMode bool   `xml:"maintenance-mode,attr"`
		StopAll         bool   `xml:"stop-all-resources,attr"`
		StonithTimeout  int64  `xml:"stonith-timeout-ms,attr"`
		PriorityDelay   int64  `xml:"priority-fencing-delay-ms,attr"`
	} `xml:"cluster_options"`
}

type xmlDC struct {
	Present    bool   `xml:"present,attr"`
	Version    string `xml:"version,attr,omitempty"`
	Name       string `xml:"name,attr,omitempty"`
	ID         string `xml:"id,attr,omitempty"`
	WithQuorum *bool  `xml:"with_quorum,attr,omitempty"`
	Mixed      *bool  `xml:"mixed_version,attr,omitempty"`
}

type xmlNode struct {
	Name             string `xml:"name,attr"`
	ID               string `xml:"id,attr"`
	Online           bool   `xml:"online,attr"`
	Standby          bool   `xml:"standby,attr"`
	StandbyOnFail    bool   `xml:"standby_onfail,attr"`
	Maintenance      bool   `xml:"maintenance,attr"`
	Pending          bool   `xml:"pending,attr"`
	Unclean          bool   `xml:"unclean,attr"`
	Health           string `xml:"health,attr"`
	Shutdown         bool   `xml:"shutdown,attr"`
	ExpectedUp       bool   `xml:"expected_up,attr"`
	IsDC             bool   `xml:"is_dc,attr"`
	ResourcesRunning int    `xml:"resources_running,attr"`
	Type             string `xml:"type,attr"`
}

// xmlResources holds groups, clones and lone primitives in configuration
// order, each marshalled as its own element.
type xmlResources struct {
	Items []any
}

func (r xmlResources) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range r.Items {
		if err := e.Encode(it); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type xmlGroup struct {
	XMLName   xml.Name      `xml:"group"`
	ID        string        `xml:"id,attr"`
	Number    int           `xml:"number_resources,attr"`
	Managed   bool          `xml:"managed,attr"`
	Disabled  bool          `xml:"disabled,attr"`
	Resources []xmlResource `xml:"resource"`
}

type xmlClone struct {
	XMLName        xml.Name      `xml:"clone"`
	ID             string        `xml:"id,attr"`
	MultiState     bool          `xml:"multi_state,attr"`
	Unique         bool          `xml:"unique,attr"`
	Managed        bool          `xml:"managed,attr"`
	Disabled       bool          `xml:"disabled,attr"`
	Failed         bool          `xml:"failed,attr"`
	FailureIgnored bool          `xml:"failure_ignored,attr"`
	Groups         []xmlGroup    `xml:"group,omitempty"`
	Resources      []xmlResource `xml:"resource,omitempty"`
}

type xmlResource struct {
	XMLName        xml.Name `xml:"resource"`
	ID             string   `xml:"id,attr"`
	Agent          string   `xml:"resource_agent,attr"`
	Role           string   `xml:"role,attr"`
	TargetRole     string   `xml:"target_role,attr,omitempty"`
	Active         bool     `xml:"active,attr"`
	Orphaned       bool     `xml:"orphaned,attr"`
	Blocked        bool     `xml:"blocked,attr"`
	Managed        bool     `xml:"managed,attr"`
	Failed         bool     `xml:"failed,attr"`
	FailureIgnored bool     `xml:"failure_ignored,attr"`
	NodesRunningOn int      `xml:"nodes_running_on,attr"`
	Pending        string   `xml:"pending,attr,omitempty"`
	Nodes          []struct {
		Name   string `xml:"name,attr"`
		ID     string `xml:"id,attr"`
		Cached bool   `xml:"cached,attr"`
	} `xml:"node"`
}

type xmlNodeAttrs struct {
	Nodes []struct {
		Name  string `xml:"name,attr"`
		Attrs []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"attribute"`
	} `xml:"node"`
}

type xmlNodeHistory struct {
	Nodes []xmlHistoryNode `xml:"node"`
}

type xmlHistoryNode struct {
	Name      string               `xml:"name,attr"`
	Resources []xmlResourceHistory `xml:"resource_history"`
}

type xmlResourceHistory struct {
	ID        string `xml:"id,attr"`
	Orphan    bool   `xml:"orphan,attr"`
	Threshold string `xml:"migration-threshold,attr,omitempty"`
	FailCount string `xml:"fail-count,attr,omitempty"`
}

type xmlFailures struct {
	Failures []xmlFailure `xml:"failure"`
}

type xmlFailure struct {
	OpKey        string `xml:"op_key,attr"`
	Node         string `xml:"node,attr"`
	ExitStatus   string `xml:"exitstatus,attr"`
	ExitReason   string `xml:"exitreason,attr"`
	ExitCode     int    `xml:"exitcode,attr"`
	Call         int64  `xml:"call,attr"`
	Status       string `xml:"status,attr"`
	LastRCChange string `xml:"last-rc-change,attr"`
	Queued       int64  `xml:"queued,attr"`
	Exec         int64  `xml:"exec,attr"`
	Interval     int64  `xml:"interval,attr"`
	Task         string `xml:"task,attr"`
}

type xmlFenceEvents struct {
	Events []xmlFenceEvent `xml:"fence_event"`
}

type xmlFenceEvent struct {
	Status     string `xml:"status,attr"`
	ExtStatus  string `xml:"extended-status,attr,omitempty"`
	ExitReason string `xml:"exit-reason,attr,omitempty"`
	Delegate   string `xml:"delegate,attr,omitempty"`
	Action     string `xml:"action,attr"`
	Target     string `xml:"target,attr"`
	Client     string `xml:"client,attr"`
	Origin     string `xml:"origin,attr"`
	Completed  string `xml:"completed,attr,omitempty"`
}

type xmlStatus struct {
	Code    int    `xml:"code,attr"`
	Message string `xml:"message,attr"`
}

// crm_mon's two time formats: ctime in the summary, ISO-ish with the
// zone offset for operations and fencing.
const (
	ctimeLayout = "Mon Jan _2 15:04:05 2006"
	opLayout    = "2006-01-02 15:04:05 -07:00"
)

// WriteXML writes a status shaped like 'crm_mon --output-as=xml'. request
// is the command line to echo; now stamps last_update.
func WriteXML(w io.Writer, st *api.StatusResponse, request string, now time.Time, loc *time.Location) error {
	if loc == nil {
		loc = time.Local
	}
	x := xmlResult{APIVersion: XMLAPIVersion, Request: request, Status: xmlStatus{0, "OK"}}
	s := &x.Summary
	s.Stack.Type = "pacer"
	ids := map[string]string{}
	for _, n := range st.Nodes {
		ids[n.Name] = cmp.Or(n.ID, n.Name)
	}
	if st.DC != "" {
		t, f := true, false
		s.CurrentDC = xmlDC{Present: true, Version: st.PacerVersion, Name: st.DC, ID: ids[st.DC], WithQuorum: &t, Mixed: &f}
		for _, n := range st.Nodes {
			if n.Version != "" && st.PacerVersion != "" && n.Version != st.PacerVersion {
				s.CurrentDC.Mixed = &t
			}
		}
	}
	s.LastUpdate.Time = now.In(loc).Format(ctimeLayout)
	if !st.LastChange.IsZero() {
		s.LastChange.Time = st.LastChange.In(loc).Format(ctimeLayout)
	}
	s.NodesConfigured.Number = len(st.Nodes)
	s.ResourcesConfigured.Number = len(st.Resources)
	running := map[string]int{}
	blocked := map[string]bool{}
	for _, b := range blockers(st) {
		blocked[b.resource] = true
	}
	for _, r := range st.Resources {
		if r.TargetRole == "Stopped" {
			s.ResourcesConfigured.Disabled++
		}
		if blocked[r.ID] {
			s.ResourcesConfigured.Blocked++
		}
		if r.Node != "" {
			running[r.Node]++
		}
	}
	o := &s.Options
	o.StonithEnabled = cib.IsTrue(prop(st, "stonith-enabled", "true"))
	o.Symmetric = cib.IsTrue(prop(st, "symmetric-cluster", "true"))
	o.NoQuorumPolicy = prop(st, "no-quorum-policy", "stop")
	o.MaintenanceMode = cib.IsTrue(prop(st, "maintenance-mode", "false"))
	o.StopAll = cib.IsTrue(prop(st, "stop-all-resources", "false"))
	o.StonithTimeout = durMS(prop(st, "stonith-timeout", "60s"))
	o.PriorityDelay = durMS(prop(st, "priority-fencing-delay", "0"))

	for _, n := range st.Nodes {
		x.Nodes = append(x.Nodes, xmlNode{
			Name: n.Name, ID: ids[n.Name], Online: n.State != "offline", Standby: n.Standby, Maintenance: n.Maintenance,
			Unclean: n.Unclean || n.Fencing, Health: "green", ExpectedUp: n.State != "offline" || n.Unclean,
			IsDC: n.Name == st.DC, ResourcesRunning: running[n.Name], Type: "member",
		})
	}
	x.Resources = xmlResources{Items: xmlResourceTree(st, ids, blocked)}

	attrs := &xmlNodeAttrs{}
	for _, n := range st.Nodes {
		if len(n.Attributes) == 0 {
			continue
		}
		an := struct {
			Name  string `xml:"name,attr"`
			Attrs []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"attribute"`
		}{Name: n.Name}
		for _, k := range slices.Sorted(maps.Keys(n.Attributes)) {
			an.Attrs = append(an.Attrs, struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			}{k, n.Attributes[k]})
		}
		attrs.Nodes = append(attrs.Nodes, an)
	}
	if len(attrs.Nodes) > 0 {
		x.NodeAttrs = attrs
	}
	x.NodeHistory = xmlHistory(st)

	if len(st.Failures) > 0 {
		x.Failures = &xmlFailures{}
		for _, f := range st.Failures {
			x.Failures.Failures = append(x.Failures.Failures, xmlFailure{
				OpKey: fmt.Sprintf("%s_%s_%d", f.Resource, f.Op, f.IntervalMS), Node: f.Node,
				ExitStatus: agents.Code(f.RC).String(), ExitReason: cmp.Or(f.Reason, "none"), ExitCode: f.RC,
				Call: f.CallID, Status: f.Status, LastRCChange: f.At.In(loc).Format(opLayout),
				Queued: f.QueueMS, Exec: f.ExecMS, Interval: f.IntervalMS, Task: f.Op,
			})
		}
	}
	if len(st.FenceHistory) > 0 {
		x.Fencing = &xmlFenceEvents{}
		for i := len(st.FenceHistory) - 1; i >= 0; i-- {
			e := st.FenceHistory[i]
			fe := xmlFenceEvent{Status: "success", Delegate: e.Executor, Action: e.Action, Target: e.Target,
				Client: cmp.Or(e.Origin, "unknown"), Origin: e.Executor, Completed: e.Completion.In(loc).Format(opLayout)}
			if e.Result != "ok" {
				fe.Status, fe.ExtStatus, fe.ExitReason = "failed", e.Result, firstLine(e.Error)
			}
			x.Fencing.Events = append(x.Fencing.Events, fe)
		}
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(x); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func xmlResourceTree(st *api.StatusResponse, ids map[string]string, blocked map[string]bool) []any {
	var items []any
	res := func(r api.ResourceStatus) xmlResource {
		xr := xmlResource{ID: r.ID, Agent: r.Agent, Role: r.Role, Active: r.Node != "", Blocked: blocked[r.ID],
			Managed: r.Managed, Failed: r.Failed, Pending: r.Pending}
		if r.Failed && r.Node != "" {
			xr.Role = "Failed"
		}
		if r.TargetRole != "Started" {
			xr.TargetRole = r.TargetRole
		}
		if r.Node != "" {
			xr.NodesRunningOn = 1
			xr.Nodes = append(xr.Nodes, struct {
				Name   string `xml:"name,attr"`
				ID     string `xml:"id,attr"`
				Cached bool   `xml:"cached,attr"`
			}{r.Node, ids[r.Node], true})
		}
		return xr
	}
	var group *xmlGroup
	var clone *xmlClone
	for _, r := range st.Resources {
		switch {
		case r.Clone != "":
			if clone == nil || clone.ID != r.Clone {
				clone = &xmlClone{ID: r.Clone, Managed: true}
				items = append(items, clone)
				group = nil
			}
			clone.Managed = clone.Managed && r.Managed
			clone.Failed = clone.Failed || r.Failed
			clone.Disabled = r.TargetRole == "Stopped"
			if r.Group == "" {
				clone.Resources = append(clone.Resources, res(r))
				continue
			}
			if n := len(clone.Groups); n == 0 || clone.Groups[n-1].ID != r.Group {
				clone.Groups = append(clone.Groups, xmlGroup{ID: r.Group, Managed: true})
			}
			g := &clone.Groups[len(clone.Groups)-1]
			g.Resources = append(g.Resources, res(r))
			g.Number++
		case r.Group != "":
			clone = nil
			if group == nil || group.ID != r.Group {
				group = &xmlGroup{ID: r.Group, Managed: true, Disabled: true}
				items = append(items, group)
			}
			group.Resources = append(group.Resources, res(r))
			group.Number++
			group.Managed = group.Managed && r.Managed
			group.Disabled = group.Disabled && r.TargetRole == "Stopped"
		default:
			group, clone = nil, nil
			items = append(items, res(r))
		}
	}
	return items
}

func xmlHistory(st *api.StatusResponse) xmlNodeHistory {
	var h xmlNodeHistory
	byNode := map[string]*xmlHistoryNode{}
	for _, n := range st.Nodes {
		h.Nodes = append(h.Nodes, xmlHistoryNode{Name: n.Name})
	}
	for i := range h.Nodes {
		byNode[h.Nodes[i].Name] = &h.Nodes[i]
	}
	for _, r := range st.Resources {
		for _, node := range []string{r.Node, r.FailCountNode} {
			hn := byNode[node]
			if hn == nil || (node == r.FailCountNode && node == r.Node && hn.Resources != nil && hn.Resources[len(hn.Resources)-1].ID == r.ID) {
				continue
			}
			rh := xmlResourceHistory{ID: r.ID, Threshold: cmp.Or(r.MigrationThreshold, "1000000")}
			if r.FailCount > 0 && node == r.FailCountNode {
				rh.FailCount = failCountText(r.FailCount)
			}
			hn.Resources = append(hn.Resources, rh)
		}
	}
	kept := h.Nodes[:0]
	for _, n := range h.Nodes {
		if len(n.Resources) > 0 {
			kept = append(kept, n)
		}
	}
	h.Nodes = kept
	return h
}

func durMS(s string) int64 {
	d, err := cib.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d.Milliseconds()
}
