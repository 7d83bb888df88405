package pcs

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/crm/cib"
)

// deviceStatus is one fencing device as 'stonith status' shows it.
type deviceStatus struct {
	ID      string `json:"id"`
	Agent   string `json:"agent"`
	Role    string `json:"role"`
	Node    string `json:"node,omitempty"`
	Failed  bool   `json:"failed,omitempty"`
	Monitor string `json:"last_monitor,omitempty"` // the newest monitor's answer
	At      string `json:"last_monitor_at,omitempty"`
}

func stonithStatusCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show where each fencing device runs and whether its last monitor reached it",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			st, err := g.status()
			if err != nil {
				return err
			}
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			devs := devicesStatus(st, x)
			if g.json {
				return g.printJSON(devs)
			}
			if len(devs) == 0 {
				g.printf("No fencing devices configured: 'pcsctl stonith create' makes one\n")
			}
			for _, d := range devs {
				where := d.Role
				if d.Node != "" {
					where += " " + d.Node
				}
				if d.Failed {
					where = "FAILED " + d.Node
				}
				g.printf("  * %s\t(%s):\t %s", d.ID, d.Agent, where)
				if d.Monitor != "" {
					g.printf(" (last monitor %s: %s)", d.At, d.Monitor)
				}
				g.printf("\n")
			}
			return nil
		},
	}
	addJSON(cmd, g)
	return cmd
}

// devicesStatus joins the status (where each device runs) with the
// device's newest monitor record in the CIB (what the device answered).
func devicesStatus(st *api.StatusResponse, x *cib.CIB) []deviceStatus {
	var out []deviceStatus
	for _, r := range st.Resources {
		if !strings.HasPrefix(r.Agent, "stonith:") {
			continue
		}
		d := deviceStatus{ID: r.ID, Agent: r.Agent, Role: r.Role, Node: r.Node, Failed: r.Failed}
		var newest *cib.OpRecord
		for _, ns := range x.Status.Nodes {
			h := ns.Resources[r.ID]
			if h == nil {
				continue
			}
			for i := range h.Ops {
				op := &h.Ops[i]
				if op.Operation == "monitor" && op.IntervalMS > 0 && (newest == nil || op.LastRun.After(newest.LastRun)) {
					newest = op
				}
			}
		}
		if newest != nil {
			d.Monitor = newest.Output
			if d.Monitor == "" {
				d.Monitor = "rc " + strconv.Itoa(newest.RC)
			}
			d.At = newest.LastRun.Local().Format("15:04:05")
		}
		out = append(out, d)
	}
	return out
}
