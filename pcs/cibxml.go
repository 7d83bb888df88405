package pcs

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

// cibImportCmd is `pcsctl cib import FILE.xml`: the migration path from
// Pacemaker. Only the configuration is taken; the cluster keeps its own
// status (node states, operation history, fail counts).
func cibImportCmd(g *globals) *cobra.Command {
	var force, dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE.xml",
		Short: "Replace the cluster's configuration with a Pacemaker CIB's (cibadmin --query > FILE.xml)",
		Long: `Reads a Pacemaker CIB (validate-with pacemaker-3.x, as 'cibadmin --query'
prints it) and replaces this cluster's whole configuration with its
configuration section: properties, nodes, resources, constraints, defaults
and fencing levels. The status section of the file is not imported.

Everything pacer cannot honour is refused with its line, before anything is
sent: elements outside pacer's subset (rsc_ticket, bundles, promotable
clones, ...), attributes that would change behaviour, and values that
'pcsctl' itself would refuse. A node of this cluster that the file does not
list is refused too (it would be dropped from the configuration) unless
--force is given.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage("name one file: pcsctl cib import FILE.xml (on the Pacemaker cluster: cibadmin --query > FILE.xml)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			file := args[0]
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			x, _, err := cib.ImportXML(b)
			if err != nil {
				return xmlErr(file, err)
			}
			var problems []string
			for _, p := range x.Config.Validate() {
				problems = append(problems, file+": "+p.String())
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			if dryRun {
				g.printf("Would import %s: %s\n", file, importSummary(&x.Config))
				return nil
			}
			if !force {
				live, err := g.readCIB()
				if err != nil {
					return err
				}
				if missing := missingNodes(&live.Config, &x.Config); len(missing) > 0 {
					return usage("%s does not list node(s) %s of this cluster: importing would remove them from the configuration; add them to the file, or give --force",
						file, strings.Join(missing, ", "))
				}
			}
			if err := g.applyAll([]store.Command{&store.ReplaceConfig{Config: x.Config}}); err != nil {
				return err
			}
			g.printf("Imported %s: %s\nThe file's status section was not imported: the cluster keeps its own node states and history.\n",
				file, importSummary(&x.Config))
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "import even if the file drops nodes of this cluster")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and say what would be imported, send nothing")
	return cmd
}

// importSummary counts what a configuration holds.
func importSummary(c *cib.Configuration) string {
	cs := c.Constraints
	n := len(cs.Locations) + len(cs.Colocations) + len(cs.Orders)
	s := fmt.Sprintf("%d nodes, %d resources (%d primitives), %d constraints (%d location, %d colocation, %d order), %d cluster properties",
		len(c.Nodes), len(c.Resources), len(c.Primitives()), n, len(cs.Locations), len(cs.Colocations), len(cs.Orders), len(c.Properties))
	if len(c.FencingLevels) > 0 {
		s += fmt.Sprintf(", %d fencing levels", len(c.FencingLevels))
	}
	return s
}

// missingNodes lists the live configuration's nodes that next lacks.
func missingNodes(live, next *cib.Configuration) []string {
	var out []string
	for _, n := range live.Nodes {
		if next.Node(n.Name) == nil {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// xmlErr turns an import error into one "Error:" line per problem.
func xmlErr(file string, err error) error {
	var xe *cib.XMLError
	if !errors.As(err, &xe) {
		return fmt.Errorf("%s: %w", file, err)
	}
	problems := make([]string, len(xe.Problems))
	for i, p := range xe.Problems {
		problems[i] = file + ": " + p.String()
	}
	return &usageError{problems: problems}
}

// exportXML prints the live CIB as a Pacemaker CIB document, with the
// quorum and DC this node sees and the time of the export (so that
// `pcsctl simulate --cib` and crm_simulate replay the same moment).
func (g *globals) exportXML() error {
	x, err := g.readCIB()
	if err != nil {
		return err
	}
	st, err := g.status()
	if err != nil {
		return err
	}
	h := cib.XMLHeader{HaveQuorum: st.DC != "", ExecutionDate: time.Now().UTC()}
	if n := x.Config.Node(st.DC); n != nil {
		h.DCUUID = n.ID
	}
	b, err := cib.ExportXML(x, h)
	if err != nil {
		return err
	}
	_, err = g.out.Write(b)
	return err
}
