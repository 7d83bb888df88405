package store

import (
	"pacer/crm/cib"
)

func init() {
	register(func() Command { return &CreateAlert{} })
	register(func() Command { return &UpdateAlert{} })
	register(func() Command { return &DeleteAlert{} })
	register(func() Command { return &AddAlertRecipient{} })
	register(func() Command { return &UpdateAlertRecipient{} })
	register(func() Command { return &RemoveAlertRecipient{} })
}

// CreateAlert adds an alert ('pcs alert create'). Without an id it gets
// "alert" (or "alert-N"), and recipients without one get
// "<alert>-recipient", as pcs names them.
type CreateAlert struct {
	Alert cib.Alert `json:"alert"`
}

func (*CreateAlert) Kind() string     { return "alert.create" }
func (*CreateAlert) Section() Section { return SectionConfig }
func (c *CreateAlert) Apply(x *cib.CIB) error {
	a := c.Alert
	if a.ID == "" {
		a.ID = freeID(x, "alert")
	} else if usedIDs(x)[a.ID] {
		return errorf(ErrExists, "id %q is already used: choose another alert id", a.ID)
	}
	x.Config.Alerts = append(x.Config.Alerts, a)
	al := &x.Config.Alerts[len(x.Config.Alerts)-1]
	for i := range al.Recipients {
		if al.Recipients[i].ID == "" {
			al.Recipients[i].ID = freeID(x, al.ID+"-recipient")
		}
	}
	return nil
}

// UpdateAlert changes an alert ('pcs alert update'). Nil fields stay;
// an option or meta attribute with an empty value is removed.
type UpdateAlert struct {
	ID          string            `json:"id"`
	Path        *string           `json:"path,omitempty"`
	Description *string           `json:"description,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
}

func (*UpdateAlert) Kind() string     { return "alert.update" }
func (*UpdateAlert) Section() Section { return SectionConfig }
func (c *UpdateAlert) Apply(x *cib.CIB) error {
	a := x.Config.Alert(c.ID)
	if a == nil {
		return errorf(ErrNotFound, "alert %q does not exist; 'pcsctl alert config' lists them", c.ID)
	}
	if c.Path != nil {
		a.Path = *c.Path
	}
	if c.Description != nil {
		a.Description = *c.Description
	}
	mergeMap(&a.Options, c.Options)
	mergeMap(&a.Meta, c.Meta)
	return nil
}

// DeleteAlert removes alerts with their recipients ('pcs alert delete').
type DeleteAlert struct {
	IDs []string `json:"ids"`
}

func (*DeleteAlert) Kind() string     { return "alert.delete" }
func (*DeleteAlert) Section() Section { return SectionConfig }
func (c *DeleteAlert) Apply(x *cib.CIB) error {
	if len(c.IDs) == 0 {
		return errorf(ErrInvalid, "name at least one alert to delete")
	}
	for _, id := range c.IDs {
		if x.Config.Alert(id) == nil {
			return errorf(ErrNotFound, "alert %q does not exist; 'pcsctl alert config' lists them", id)
		}
		x.Config.Alerts = filter(x.Config.Alerts, func(a cib.Alert) bool { return a.ID != id })
	}
	if len(x.Config.Alerts) == 0 {
		x.Config.Alerts = nil
	}
	return nil
}

// AddAlertRecipient adds a recipient to an alert ('pcs alert recipient
// add'). A second recipient with the same value is refused unless
// AllowDuplicate, as pcs refuses it without --force.
type AddAlertRecipient struct {
	Alert          string             `json:"alert"`
	Recipient      cib.AlertRecipient `json:"recipient"`
	AllowDuplicate bool               `json:"allow_duplicate,omitempty"`
}

func (*AddAlertRecipient) Kind() string     { return "alert.recipient.add" }
func (*AddAlertRecipient) Section() Section { return SectionConfig }
func (c *AddAlertRecipient) Apply(x *cib.CIB) error {
	a := x.Config.Alert(c.Alert)
	if a == nil {
		return errorf(ErrNotFound, "alert %q does not exist; create it first with 'pcsctl alert create path=...'", c.Alert)
	}
	r := c.Recipient
	if err := checkDuplicateValue(a, r.Value, "", c.AllowDuplicate); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = freeID(x, a.ID+"-recipient")
	} else if usedIDs(x)[r.ID] {
		return errorf(ErrExists, "id %q is already used: choose another recipient id", r.ID)
	}
	a.Recipients = append(a.Recipients, r)
	return nil
}

func checkDuplicateValue(a *cib.Alert, value, except string, allow bool) error {
	if allow {
		return nil
	}
	for _, r := range a.Recipients {
		if r.Value == value && r.ID != except {
			return errorf(ErrExists, "alert %q already has recipient %s with value %q: use --force to add another", a.ID, r.ID, value)
		}
	}
	return nil
}

// UpdateAlertRecipient changes a recipient ('pcs alert recipient update').
type UpdateAlertRecipient struct {
	ID             string            `json:"id"`
	Value          *string           `json:"value,omitempty"`
	Description    *string           `json:"description,omitempty"`
	Options        map[string]string `json:"options,omitempty"`
	Meta           map[string]string `json:"meta,omitempty"`
	AllowDuplicate bool              `json:"allow_duplicate,omitempty"`
}

func (*UpdateAlertRecipient) Kind() string     { return "alert.recipient.update" }
func (*UpdateAlertRecipient) Section() Section { return SectionConfig }
func (c *UpdateAlertRecipient) Apply(x *cib.CIB) error {
	a, i := x.Config.AlertOfRecipient(c.ID)
	if a == nil {
		return errorf(ErrNotFound, "recipient %q does not exist; 'pcsctl alert config' lists them", c.ID)
	}
	r := &a.Recipients[i]
	if c.Value != nil {
		if err := checkDuplicateValue(a, *c.Value, r.ID, c.AllowDuplicate); err != nil {
			return err
		}
		r.Value = *c.Value
	}
	if c.Description != nil {
		r.Description = *c.Description
	}
	mergeMap(&r.Options, c.Options)
	mergeMap(&r.Meta, c.Meta)
	return nil
}

// RemoveAlertRecipient removes recipients by id ('pcs alert recipient
// delete').
type RemoveAlertRecipient struct {
	IDs []string `json:"ids"`
}

func (*RemoveAlertRecipient) Kind() string     { return "alert.recipient.remove" }
func (*RemoveAlertRecipient) Section() Section { return SectionConfig }
func (c *RemoveAlertRecipient) Apply(x *cib.CIB) error {
	if len(c.IDs) == 0 {
		return errorf(ErrInvalid, "name at least one recipient to remove")
	}
	for _, id := range c.IDs {
		a, i := x.Config.AlertOfRecipient(id)
		if a == nil {
			return errorf(ErrNotFound, "recipient %q does not exist; 'pcsctl alert config' lists them", id)
		}
		a.Recipients = append(a.Recipients[:i], a.Recipients[i+1:]...)
		if len(a.Recipients) == 0 {
			a.Recipients = nil
		}
	}
	return nil
}
