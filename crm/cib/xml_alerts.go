package cib

import (
	"github.com/beevik/etree"
)

// <alerts> in Pacemaker's schema: alert (id, path, description) with an
// optional <select>, attribute sets and recipients.

func (x *xmlIn) alerts(e *etree.Element, cfg *Configuration) {
	for _, a := range x.kids(e, "alert") {
		x.attrs(a, "id path description", "")
		al := Alert{ID: x.need(a, "id"), Path: x.need(a, "path"), Description: attr(a, "description")}
		for _, k := range x.kids(a, "select meta_attributes instance_attributes recipient") {
			switch k.Tag {
			case "select":
				al.Select = x.alertSelect(k)
			case "meta_attributes":
				x.noRules(k)
				al.Meta = x.nvset(k, al.Meta)
			case "instance_attributes":
				x.noRules(k)
				al.Options = x.nvset(k, al.Options)
			case "recipient":
				x.attrs(k, "id value description", "")
				r := AlertRecipient{ID: x.need(k, "id"), Value: x.need(k, "value"), Description: attr(k, "description")}
				for _, set := range x.kids(k, "meta_attributes instance_attributes") {
					x.noRules(set)
					if set.Tag == "meta_attributes" {
						r.Meta = x.nvset(set, r.Meta)
					} else {
						r.Options = x.nvset(set, r.Options)
					}
				}
				al.Recipients = append(al.Recipients, r)
			}
		}
		cfg.Alerts = append(cfg.Alerts, al)
	}
}

func (x *xmlIn) alertSelect(e *etree.Element) *AlertSelect {
	x.attrs(e, "", "")
	s := &AlertSelect{}
	for _, k := range x.kids(e, "select_nodes select_fencing select_resources select_attributes") {
		x.attrs(k, "", "")
		switch k.Tag {
		case "select_nodes":
			s.Nodes = true
			x.kids(k, "")
		case "select_fencing":
			s.Fencing = true
			x.kids(k, "")
		case "select_resources":
			s.Resources = true
			x.kids(k, "")
		case "select_attributes":
			s.Attributes = true
			for _, at := range x.kids(k, "attribute") {
				x.attrs(at, "id name", "")
				if n := x.need(at, "name"); n != "" {
					s.AttributeNames = append(s.AttributeNames, n)
				}
			}
		}
	}
	return s
}

func (w *xmlOut) reserveAlerts(cfg *Configuration) {
	for _, a := range cfg.Alerts {
		w.ids[a.ID] = true
		for _, r := range a.Recipients {
			w.ids[r.ID] = true
		}
	}
}

func (w *xmlOut) alerts(parent *etree.Element, cfg *Configuration) {
	if len(cfg.Alerts) == 0 {
		return
	}
	ae := parent.CreateElement("alerts")
	for _, a := range cfg.Alerts {
		e := ae.CreateElement("alert")
		e.CreateAttr("id", a.ID)
		setAttr(e, "description", a.Description)
		e.CreateAttr("path", a.Path)
		if s := a.Select; s != nil {
			se := e.CreateElement("select")
			if s.Nodes {
				se.CreateElement("select_nodes")
			}
			if s.Fencing {
				se.CreateElement("select_fencing")
			}
			if s.Resources {
				se.CreateElement("select_resources")
			}
			if s.Attributes {
				sa := se.CreateElement("select_attributes")
				for _, n := range s.AttributeNames {
					at := sa.CreateElement("attribute")
					at.CreateAttr("id", w.newID(a.ID+"-select-"+n))
					at.CreateAttr("name", n)
				}
			}
		}
		w.nvset(e, "meta_attributes", a.ID+"-meta_attributes", a.Meta)
		w.nvset(e, "instance_attributes", a.ID+"-instance_attributes", a.Options)
		for _, r := range a.Recipients {
			re := e.CreateElement("recipient")
			re.CreateAttr("id", r.ID)
			setAttr(re, "description", r.Description)
			re.CreateAttr("value", r.Value)
			w.nvset(re, "meta_attributes", r.ID+"-meta_attributes", r.Meta)
			w.nvset(re, "instance_attributes", r.ID+"-instance_attributes", r.Options)
		}
	}
}
