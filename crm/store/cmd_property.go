package store

import (
	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &SetProperty{} })
	register(func() Command { return &SetDefault{} })
}

// SetProperty sets (or, with an empty Value, unsets) a cluster property.
type SetProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (*SetProperty) Kind() string     { return "property.set" }
func (*SetProperty) Section() Section { return SectionConfig }
func (c *SetProperty) Apply(x *cib.CIB) error {
	if _, ok := cib.Properties[c.Name]; !ok {
		return errorf(ErrInvalid, "unknown cluster property %q; 'pcsctl property describe' lists them", c.Name)
	}
	if c.Value == "" {
		if _, ok := x.Config.Properties[c.Name]; !ok {
			return errorf(ErrNotFound, "property %q is not set", c.Name)
		}
		delete(x.Config.Properties, c.Name)
		return nil
	}
	if x.Config.Properties == nil {
		x.Config.Properties = map[string]string{}
	}
	x.Config.Properties[c.Name] = c.Value
	return nil
}

// SetDefault sets or unsets an rsc_defaults or op_defaults entry.
type SetDefault struct {
	Section_ string `json:"section"` // "rsc" or "op"
	Name     string `json:"name"`
	Value    string `json:"value"`
}

func (*SetDefault) Kind() string     { return "defaults.set" }
func (*SetDefault) Section() Section { return SectionConfig }
func (c *SetDefault) Apply(x *cib.CIB) error {
	var m *map[string]string
	switch c.Section_ {
	case "rsc":
		m = &x.Config.RscDefaults
	case "op":
		m = &x.Config.OpDefaults
	default:
		return errorf(ErrInvalid, "defaults section %q: use rsc or op", c.Section_)
	}
	if c.Value == "" {
		if _, ok := (*m)[c.Name]; !ok {
			return errorf(ErrNotFound, "%s default %q is not set", c.Section_, c.Name)
		}
		delete(*m, c.Name)
		return nil
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[c.Name] = c.Value
	return nil
}
