package store

import (
	"errors"
	"strings"
	"testing"

	"pacer/crm/cib"
)

func TestAlertCommands(t *testing.T) {
	x := apply(t, cib.New(),
		&CreateAlert{Alert: cib.Alert{Path: "/usr/local/bin/notify.sh", Meta: map[string]string{"timeout": "15s"}}},
		&CreateAlert{Alert: cib.Alert{Path: "/bin/true", Recipients: []cib.AlertRecipient{{Value: "x"}}}},
		&AddAlertRecipient{Alert: "alert", Recipient: cib.AlertRecipient{Value: "ops@example.com"}},
		&AddAlertRecipient{Alert: "alert", Recipient: cib.AlertRecipient{Value: "dev@example.com"}},
	)
	as := x.Config.Alerts
	// pcs's ids: "alert", then "alert-1"; recipients "<alert>-recipient", then "-1".
	if len(as) != 2 || as[0].ID != "alert" || as[1].ID != "alert-1" || as[1].Recipients[0].ID != "alert-1-recipient" ||
		len(as[0].Recipients) != 2 || as[0].Recipients[0].ID != "alert-recipient" || as[0].Recipients[1].ID != "alert-recipient-1" {
		t.Fatalf("alerts %+v", as)
	}
	if x.Version.Epoch != 4 {
		t.Errorf("alert commands change the configuration: epoch %d", x.Version.Epoch)
	}
	desc := "pager"
	x = apply(t, x,
		&UpdateAlert{ID: "alert", Description: &desc, Options: map[string]string{"debug": "1"}, Meta: map[string]string{"timeout": ""}},
		&UpdateAlertRecipient{ID: "alert-recipient-1", Meta: map[string]string{"timestamp-format": "%s"}},
	)
	a := x.Config.Alert("alert")
	if a.Description != "pager" || a.Options["debug"] != "1" || a.Meta != nil || a.Recipients[1].Meta["timestamp-format"] != "%s" {
		t.Errorf("after update %+v", a)
	}
	x = apply(t, x, &RemoveAlertRecipient{IDs: []string{"alert-recipient"}}, &DeleteAlert{IDs: []string{"alert-1"}})
	if len(x.Config.Alerts) != 1 || len(x.Config.Alerts[0].Recipients) != 1 || x.Config.Alerts[0].Recipients[0].ID != "alert-recipient-1" {
		t.Errorf("after removals %+v", x.Config.Alerts)
	}

	for _, c := range []struct {
		cmd  Command
		kind error
		msg  string
	}{
		{&AddAlertRecipient{Alert: "alert", Recipient: cib.AlertRecipient{Value: "dev@example.com"}}, ErrExists, "use --force"},
		{&AddAlertRecipient{Alert: "nope", Recipient: cib.AlertRecipient{Value: "v"}}, ErrNotFound, "create it first"},
		{&CreateAlert{Alert: cib.Alert{ID: "alert", Path: "/x"}}, ErrExists, "already used"},
		{&UpdateAlert{ID: "nope"}, ErrNotFound, "alert config"},
		{&DeleteAlert{IDs: []string{"nope"}}, ErrNotFound, "does not exist"},
		{&RemoveAlertRecipient{IDs: []string{"nope"}}, ErrNotFound, "does not exist"},
	} {
		_, err := Next(x, c.cmd)
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v containing %q", c.cmd.Kind(), err, c.kind, c.msg)
		}
	}
	if _, err := Next(x, &CreateAlert{Alert: cib.Alert{Path: "relative.sh"}}); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("a relative path must be refused by validation: %v", err)
	}
	// The duplicate is allowed on request, and the commands survive the wire.
	x = apply(t, x, &AddAlertRecipient{Alert: "alert", Recipient: cib.AlertRecipient{Value: "dev@example.com"}, AllowDuplicate: true})
	dups := 0
	for _, r := range x.Config.Alert("alert").Recipients {
		if r.Value == "dev@example.com" {
			dups++
		}
	}
	if dups != 2 {
		t.Errorf("with AllowDuplicate the second dev@example.com recipient must be added: %d of them", dups)
	}
	for _, cmd := range []Command{&CreateAlert{Alert: cib.Alert{Path: "/x"}}, &UpdateAlertRecipient{ID: "r"}, &RemoveAlertRecipient{IDs: []string{"r"}}} {
		b, err := Encode(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Decode(b); err != nil || back.Kind() != cmd.Kind() {
			t.Errorf("round trip of %s: %v", cmd.Kind(), err)
		}
	}
}
