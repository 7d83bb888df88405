package pcs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/daemon"
)

func clusterCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Set up, start, stop and inspect the cluster"}
	var dir, dataDir, socket string
	var witnesses []string
	setup := &cobra.Command{
		Use:   "setup NAME NODE=ADDR...",
		Short: "Make the cluster key, CA and one pacerd config per node",
		Long: `Make the cluster key, the cluster CA and one config directory per node.

ADDR is the node's IP address (gossip 7946, Raft 7947, API 2224) or IP:PORT
(gossip PORT, Raft PORT+1, API PORT+2). Copy DIR/NODE/ to /etc/pacer on each
node and run 'pcsctl cluster start' there. DIR/admin/ holds a client
certificate for remote 'pcsctl --node'; DIR/ca/ holds the CA key: keep it safe.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var problems []string
			if msg := cibCheckName(args[0]); msg != "" {
				problems = append(problems, msg)
			}
			nodes, more := parseSetupNodes(args[1:])
			problems = append(problems, more...)
			problems = append(problems, markWitnesses(nodes, witnesses)...)
			if len(problems) == 0 && len(nodes) == 0 {
				problems = append(problems, "name at least one node: NODE=ADDR")
			}
			if err := problemsErr(problems); err != nil {
				return err
			}
			if dir == "" {
				dir = "pacer-" + args[0]
			}
			if err := Setup(SetupOptions{Name: args[0], Nodes: nodes, Dir: dir, DataDir: dataDir, Socket: socket, Now: time.Now()}); err != nil {
				return err
			}
			g.printf("Cluster %s set up in %s:\n", args[0], dir)
			for _, n := range nodes {
				g.printf("  %s/%s/  -> copy to /etc/pacer on %s (%s)\n", dir, n.Name, n.Name, n.Host)
			}
			g.printf("  %s/admin/ -> client certificate for 'pcsctl --node %s:%d --tls-dir %s/admin'\n", dir, nodes[0].Host, nodes[0].APIPort, dir)
			g.printf("  %s/ca/    -> the CA key: keep it off the nodes\n", dir)
			g.printf("Then run 'pcsctl cluster start' on every node.\n")
			return nil
		},
	}
	setup.Flags().StringVar(&dir, "dir", "", "output directory (default ./pacer-NAME)")
	setup.Flags().StringSliceVar(&witnesses, "witness", nil, "NODE is a witness: it votes in Raft but never runs resources (two nodes + a witness have a real majority)")
	setup.Flags().StringVar(&dataDir, "data-dir", "", "data_dir in every config (default /var/lib/pacer)")
	setup.Flags().StringVar(&socket, "socket-path", "", "socket in every config (default "+daemon.DefaultSocket+")")

	var config string
	var all bool
	start := &cobra.Command{
		Use:   "start [--config FILE] [--all --dir DIR]",
		Short: "Start pacerd on this host (--all --dir: every node configured under DIR on this host)",
		Args:  noArgs("use --config FILE, or --all --dir DIR"),
		RunE: func(c *cobra.Command, args []string) error {
			var configs []string
			switch {
			case all && dir == "":
				return usage("--all starts the nodes whose configs are on this host: give --dir DIR (from 'cluster setup'); on separate hosts run 'pcsctl cluster start' on each")
			case all:
				found, err := filepath.Glob(filepath.Join(dir, "*", "pacerd.toml"))
				if err != nil || len(found) == 0 {
					return usage("no */pacerd.toml under %s", dir)
				}
				sort.Strings(found)
				configs = found
			default:
				configs = []string{config}
			}
			for _, cf := range configs {
				pid, sock, err := startDaemon(cf)
				if err != nil {
					return err
				}
				g.printf("Started pacerd (pid %d) from %s; socket %s\n", pid, cf, sock)
			}
			return nil
		},
	}
	start.Flags().StringVar(&config, "config", "/etc/pacer/pacerd.toml", "this node's config")
	start.Flags().BoolVar(&all, "all", false, "every node configured under --dir")
	start.Flags().StringVar(&dir, "dir", "", "with --all: the directory 'cluster setup' wrote")

	var stopAll bool
	stop := &cobra.Command{
		Use:   "stop [--all]",
		Short: "Stop pacerd gracefully on this node (--all: on every node)",
		Args:  noArgs("use --node HOST:PORT to stop another node, or --all for every node"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := g.with(func(cl *api.Client, cx context.Context) error {
				return cl.Shutdown(cx, "pcsctl cluster stop", stopAll)
			}); err != nil {
				return err
			}
			g.printf("Stopping pacerd on %s\n", map[bool]string{true: "every node", false: "this node"}[stopAll])
			return nil
		},
	}
	stop.Flags().BoolVar(&stopAll, "all", false, "stop every node of the cluster")

	status := &cobra.Command{
		Use:   "status",
		Short: "Show gossip members and Raft voters as this node sees them",
		Args:  noArgs(""),
		RunE: func(c *cobra.Command, args []string) error {
			var m *api.MembersResponse
			if err := g.with(func(cl *api.Client, cx context.Context) (err error) {
				m, err = cl.Members(cx)
				return err
			}); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(m)
			}
			g.printf("Cluster membership as seen by %s (raft: %s, leader: %s)\n\n", m.Node, m.Raft, orDefault(m.Leader, "NONE"))
			role := map[string]string{}
			for _, s := range m.Servers {
				role[s.ID] = map[bool]string{true: "voter", false: "non-voter"}[s.Voter]
			}
			g.printf("%-16s %-8s %-10s %-22s %-22s %s\n", "NODE", "GOSSIP", "RAFT", "GOSSIP ADDR", "API ADDR", "VERSION")
			for _, mem := range m.Members {
				r := orDefault(role[mem.Name], "none")
				if mem.Name == m.Leader {
					r += "*"
				}
				g.printf("%-16s %-8s %-10s %-22s %-22s %s\n", mem.Name, mem.State, r, mem.Gossip, mem.APIAddr, mem.Version)
			}
			var missing []string
			for _, s := range m.Servers {
				found := false
				for _, mem := range m.Members {
					found = found || mem.Name == s.ID
				}
				if !found {
					missing = append(missing, s.ID)
				}
			}
			if len(missing) > 0 {
				g.printf("\nRaft servers not in gossip: %s\n", strings.Join(missing, ", "))
			}
			g.printf("\n* = Raft leader (the DC)\n")
			return nil
		},
	}
	addJSON(status, g)
	cmd.AddCommand(setup, start, stop, status)
	return cmd
}

func cibCheckName(name string) string {
	if name == "" || strings.ContainsAny(name, " /\\\t\n") {
		return fmt.Sprintf("cluster name %q: use letters, digits, '-' or '_'", name)
	}
	return ""
}

// pacerdCommand returns how to run pacerd: a pacerd next to pcsctl or on
// PATH, else pcsctl itself in daemon mode.
func pacerdCommand() (string, []string) {
	self, err := os.Executable()
	if err == nil {
		if p := filepath.Join(filepath.Dir(self), "pacerd"); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := lookPath("pacerd"); err == nil {
		return p, nil
	}
	return self, []string{"daemon"}
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// markWitnesses flags the nodes --witness names; a name that is not in
// the node list is an error, and at least one node must run resources.
func markWitnesses(nodes []SetupNode, names []string) []string {
	var problems []string
	for _, w := range names {
		found := false
		for i := range nodes {
			if nodes[i].Name == w {
				nodes[i].Witness, found = true, true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("--witness %s: no such node in the list; give it as %s=ADDR too", w, w))
		}
	}
	if len(names) > 0 && len(names) >= len(nodes) {
		problems = append(problems, "every node is a witness: at least one must run resources")
	}
	return problems
}
