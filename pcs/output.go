package pcs

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/pcs/mon"
)

// statusOutput is how 'pcsctl status' and 'pcsctl mon -1' print.
type statusOutput struct {
	as        string // text, json, xml
	nodeAttrs bool
	inactive  bool
}

func addStatusOutput(c *cobra.Command, o *statusOutput) {
	c.Flags().StringVar(&o.as, "output-as", "text", "text, json or xml (xml is shaped like crm_mon --output-as=xml)")
	c.Flags().BoolVarP(&o.nodeAttrs, "show-node-attributes", "A", false, "show node attributes (text)")
	c.Flags().BoolVar(&o.inactive, "inactive", true, "show inactive resources too (text; --inactive=false leaves them out)")
}

// check settles the format: --json is kept as the older spelling of
// --output-as json.
func (o *statusOutput) check(g *globals) error {
	if g.json {
		if o.as != "text" && o.as != "json" {
			return usage("--json and --output-as %s do not go together", o.as)
		}
		o.as = "json"
	}
	switch o.as {
	case "text", "json", "xml":
		return nil
	}
	return usage("--output-as takes text, json or xml, not %q", o.as)
}

// print writes one status in the chosen format; request is the command
// line the XML echoes, as crm_mon's does.
// view is the text view the flags ask for.
func (o *statusOutput) view() mon.Options {
	return mon.Options{NodeAttrs: o.nodeAttrs, HideInactive: !o.inactive}
}

func (o *statusOutput) print(g *globals, st *api.StatusResponse, request string) error {
	switch o.as {
	case "json":
		return g.printJSON(st)
	case "xml":
		return mon.WriteXML(g.out, st, request, time.Now(), nil)
	}
	printStatusText(g.out, st, o.view())
	return nil
}

// printStatusText is the one-shot text view, the same lines 'pcsctl mon'
// shows, with the events the status itself tells of.
func printStatusText(w io.Writer, st *api.StatusResponse, o mon.Options) {
	io.WriteString(w, mon.Text(mon.Snapshot{Status: st, Events: mon.Seed(st)}, o))
}

func requestLine() string {
	return strings.Join(append([]string{"pcsctl"}, os.Args[1:]...), " ")
}
