package pcs

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"pacer/crm/cib"
	"pacer/crm/store"
)

func propertyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "property", Short: "Set, unset and show cluster properties"}
	set := &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set cluster properties (an empty value unsets)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pairs, problems := parsePairs(args, "stonith-enabled=false")
			names := make([]string, 0, len(pairs))
			for k := range pairs {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				o, ok := cib.Properties[k]
				if !ok {
					problems = append(problems, fmt.Sprintf("unknown cluster property %q: 'pcsctl property describe' lists them", k))
				} else if pairs[k] != "" {
					if err := o.Check(pairs[k]); err != nil {
						problems = append(problems, err.Error())
					}
				}
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			return g.applyAll(propertyCommands(names, pairs))
		},
	}
	unset := &cobra.Command{
		Use:   "unset NAME...",
		Short: "Remove cluster properties (back to their defaults)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var cmds []store.Command
			for _, a := range args {
				cmds = append(cmds, &store.SetProperty{Name: a})
			}
			return g.applyAll(cmds)
		},
	}
	var all bool
	show := &cobra.Command{
		Use:     "show [NAME]",
		Aliases: []string{"config"},
		Short:   "Show the cluster properties that are set (--all: with defaults)",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			x, err := g.readCIB()
			if err != nil {
				return err
			}
			props := map[string]string{}
			for k, v := range x.Config.Properties {
				props[k] = v
			}
			if all {
				for name, o := range cib.Properties {
					if _, ok := props[name]; !ok && o.Default != "" {
						props[name] = o.Default
					}
				}
			}
			if len(args) == 1 {
				v := x.Config.Property(args[0])
				if _, known := cib.Properties[args[0]]; !known {
					return usage("unknown cluster property %q", args[0])
				}
				props = map[string]string{args[0]: v}
			}
			if g.json {
				return g.printJSON(props)
			}
			g.printf("Cluster Properties:\n")
			keys := make([]string, 0, len(props))
			for k := range props {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				g.printf("  %s: %s\n", k, props[k])
			}
			return nil
		},
	}
	show.Flags().BoolVar(&all, "all", false, "also show properties left at their defaults")
	addJSON(show, g)
	describe := &cobra.Command{
		Use:   "describe",
		Short: "List every cluster property with its default and meaning",
		RunE: func(c *cobra.Command, args []string) error {
			if g.json {
				return g.printJSON(cib.Properties)
			}
			for _, n := range cib.OptionNames(cib.Properties) {
				o := cib.Properties[n]
				g.printf("%s (default %q)\n    %s\n", n, o.Default, o.Help)
			}
			return nil
		},
	}
	addJSON(describe, g)
	cmd.AddCommand(set, unset, show, describe)
	return cmd
}

func propertyCommands(names []string, pairs map[string]string) []store.Command {
	var cmds []store.Command
	for _, k := range names {
		cmds = append(cmds, &store.SetProperty{Name: k, Value: pairs[k]})
	}
	return cmds
}

func addJSON(c *cobra.Command, g *globals) {
	c.Flags().BoolVar(&g.json, "json", false, "print JSON for scripts")
}
