package pcs

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

func constraintCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "constraint", Short: "Location, colocation and order constraints"}
	location := &cobra.Command{
		Use:   "location RESOURCE prefers|avoids NODE[=SCORE]...",
		Short: "Make a resource prefer or avoid nodes (score INFINITY unless given)",
		Args:  cobra.MinimumNArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			rsc, verb := args[0], args[1]
			if verb != "prefers" && verb != "avoids" {
				return usage("%q: write 'pcsctl constraint location %s prefers NODE[=SCORE]' or '... avoids NODE[=SCORE]'", verb, rsc)
			}
			var cmds []store.Command
			var problems []string
			for _, a := range args[2:] {
				node, score, hasScore := strings.Cut(a, "=")
				if !hasScore {
					score = "INFINITY"
				}
				s, err := cib.ParseScore(score)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", a, err))
					continue
				}
				if verb == "avoids" {
					s = -s
				}
				if node == "" {
					problems = append(problems, fmt.Sprintf("%q: name a node", a))
					continue
				}
				cmds = append(cmds, &store.AddConstraint{Location: &cib.Location{Resource: rsc, Node: node, Score: s.String()}})
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll(cmds)
		},
	}
	colocation := &cobra.Command{Use: "colocation", Short: "Keep resources together or apart"}
	colocationAdd := &cobra.Command{
		Use:   "add RESOURCE with WITH-RESOURCE [SCORE]",
		Short: "Place RESOURCE where WITH-RESOURCE runs (negative score: apart)",
		Args:  cobra.RangeArgs(2, 4),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) >= 3 && args[1] == "with" {
				args = append(args[:1], args[2:]...)
			}
			score := "INFINITY"
			if len(args) == 3 {
				score = args[2]
			}
			if len(args) < 2 || len(args) > 3 {
				return usage("write 'pcsctl constraint colocation add RESOURCE with WITH-RESOURCE [SCORE]'")
			}
			if _, err := cib.ParseScore(score); err != nil {
				return usage("%v", err)
			}
			return g.applyAll([]store.Command{&store.AddConstraint{Colocation: &cib.Colocation{Resource: args[0], WithResource: args[1], Score: score}}})
		},
	}
	// A negative score such as -INFINITY must not be read as a flag.
	colocationAdd.Flags().SetInterspersed(false)
	colocation.AddCommand(colocationAdd)
	order := &cobra.Command{
		Use:   "order [ACTION] FIRST then [ACTION] THEN [kind=Mandatory|Optional|Serialize] [symmetrical=true|false]",
		Short: "Start THEN only after FIRST (and stop it first)",
		Args:  cobra.MinimumNArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := parseOrder(args)
			if err != nil {
				return err
			}
			return g.applyAll([]store.Command{&store.AddConstraint{Order: o}})
		},
	}
	var full bool
	show := &cobra.Command{
		Use:     "show",
		Aliases: []string{"config", "list"},
		Short:   "Show constraints (--full: with ids)",
		Args:    noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			cs := x.Config.Constraints
			if g.json {
				return g.printJSON(cs)
			}
			id := func(s string) string {
				if full {
					return " (id:" + s + ")"
				}
				return ""
			}
			g.printf("Location Constraints:\n")
			for _, l := range cs.Locations {
				if l.Node != "" {
					verb := "prefers"
					if s, _ := cib.ParseScore(l.Score); s < 0 {
						verb = "avoids"
					}
					g.printf("  Resource: %s %s %s (score:%s)%s\n", l.Resource, verb, l.Node, l.Score, id(l.ID))
					continue
				}
				for _, r := range l.Rules {
					var ex []string
					for _, e := range r.Expressions {
						ex = append(ex, strings.TrimSpace(e.Attribute+" "+e.Operation+" "+e.Value))
					}
					op := r.BooleanOp
					if op == "" {
						op = "and"
					}
					g.printf("  Resource: %s rule (score:%s): %s%s\n", l.Resource, r.Score, strings.Join(ex, " "+op+" "), id(l.ID))
				}
			}
			g.printf("Colocation Constraints:\n")
			for _, c := range cs.Colocations {
				g.printf("  %s with %s (score:%s)%s\n", c.Resource, c.WithResource, c.Score, id(c.ID))
			}
			g.printf("Ordering Constraints:\n")
			for _, o := range cs.Orders {
				fa, ta := orDefault(o.FirstAction, "start"), orDefault(o.ThenAction, orDefault(o.FirstAction, "start"))
				g.printf("  %s %s then %s %s (kind:%s)%s\n", fa, o.First, ta, o.Then, orDefault(o.Kind, "Mandatory"), id(o.ID))
			}
			return nil
		},
	}
	show.Flags().BoolVar(&full, "full", false, "show constraint ids")
	addJSON(show, g)
	remove := &cobra.Command{
		Use:     "remove ID...",
		Aliases: []string{"delete"},
		Short:   "Remove constraints by id ('constraint show --full' lists them)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.applyAll([]store.Command{&store.RemoveConstraint{IDs: args}})
		},
	}
	cmd.AddCommand(location, colocation, order, show, remove)
	return cmd
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

var orderActions = map[string]bool{"start": true, "stop": true, "promote": true, "demote": true}

// parseOrder reads pcs's "[action] A then [action] B [options]".
func parseOrder(args []string) (*cib.Order, error) {
	o := &cib.Order{}
	i := 0
	if orderActions[args[i]] {
		o.FirstAction = args[i]
		i++
	}
	if i >= len(args) {
		return nil, usage("write 'pcsctl constraint order A then B'")
	}
	o.First = args[i]
	i++
	if i >= len(args) || args[i] != "then" {
		return nil, usage("expected 'then' after %q: write 'pcsctl constraint order %s then B'", o.First, o.First)
	}
	i++
	if i < len(args) && orderActions[args[i]] {
		o.ThenAction = args[i]
		i++
	}
	if i >= len(args) {
		return nil, usage("name the resource after 'then'")
	}
	o.Then = args[i]
	i++
	var problems []string
	for _, a := range args[i:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "kind":
			o.Kind = v
			if v != "Mandatory" && v != "Optional" && v != "Serialize" {
				problems = append(problems, fmt.Sprintf("kind=%q: use Mandatory, Optional or Serialize", v))
			}
		case "symmetrical":
			b := cib.IsTrue(v)
			if !b && !(v == "false" || v == "off" || v == "no" || v == "0") {
				problems = append(problems, fmt.Sprintf("symmetrical=%q: use true or false", v))
			}
			o.Symmetrical = &b
		case "id":
			o.ID = v
		default:
			problems = append(problems, fmt.Sprintf("unknown option %q: use kind=, symmetrical= or id=", a))
		}
	}
	return o, problemsErr(problems)
}
