package pcs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"pacer/api"
	"pacer/daemon"
	"pacer/pki"
)

// globals are the flags every command shares.
type globals struct {
	socket string
	node   string
	tlsDir string
	json   bool
	// lastWrite is the answer to the last change this run made (--wait).
	lastWrite *api.CommandResponse
	out       io.Writer
	errOut    io.Writer

	// settled, when a command sets it, checks after --wait that the
	// settled cluster did what the command asked.
	settled func() error
}

// Main runs pcsctl with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	g := &globals{out: stdout, errOut: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// printError prints one "Error: ..." line per problem, as pcs does.
func printError(w io.Writer, err error) {
	var ae *api.Error
	if errors.As(err, &ae) && len(ae.Problems) > 0 {
		for _, p := range ae.Problems {
			fmt.Fprintf(w, "Error: %s\n", p.String())
		}
		fmt.Fprintf(w, "Error: %s\n", ae.Message)
		return
	}
	var ue *usageError
	if errors.As(err, &ue) {
		for _, p := range ue.problems {
			fmt.Fprintf(w, "Error: %s\n", p)
		}
		return
	}
	fmt.Fprintf(w, "Error: %v\n", err)
}

// usageError carries every problem found in the arguments, so the user
// sees them all at once; nothing is sent to the cluster.
type usageError struct{ problems []string }

func (e *usageError) Error() string {
	if len(e.problems) == 1 {
		return e.problems[0]
	}
	return fmt.Sprintf("%d problems: %v", len(e.problems), e.problems)
}

func usage(format string, args ...any) error {
	return &usageError{problems: []string{fmt.Sprintf(format, args...)}}
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "pcsctl",
		Short:         "Manage a pacer high-availability cluster",
		Long:          "pcsctl manages a pacer cluster with pcs's command words.\nIt talks to the local pacerd (--socket, $PACER_SOCKET) or a remote one (--node HOST:PORT).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.socket, "socket", "", "pacerd's unix socket (default $PACER_SOCKET or "+daemon.DefaultSocket+")")
	pf.StringVar(&g.node, "node", "", "talk to a remote pacerd's TLS API at HOST:PORT")
	pf.StringVar(&g.tlsDir, "tls-dir", "", "directory with ca.pem and admin.pem/admin-key.pem for --node (default $PACER_TLS_DIR or /etc/pacer/tls)")
	root.AddCommand(
		clusterCmd(g), statusCmd(g), propertyCmd(g), nodeCmd(g), resourceCmd(g),
		constraintCmd(g), cibCmd(g), demoCmd(g), daemonCmd(), stonithCmd(g),
		simulateCmd(g),
		explainCmd(g),
		monCmd(g),
		quorumCmd(g),
		alertCmd(g),
	)
	addWait(g, root)
	return root
}

// client returns the API client the flags select.
func (g *globals) client() (*api.Client, error) {
	if g.node != "" {
		dir := cmp.Or(g.tlsDir, os.Getenv("PACER_TLS_DIR"), "/etc/pacer/tls")
		cert, key := filepath.Join(dir, "admin.pem"), filepath.Join(dir, "admin-key.pem")
		if _, err := os.Stat(cert); err != nil {
			cert, key = filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem")
		}
		cfg, err := pki.LoadConfig(filepath.Join(dir, "ca.pem"), cert, key)
		if err != nil {
			return nil, fmt.Errorf("--node needs the cluster's TLS files: %w", err)
		}
		c := api.NewTCP(g.node, cfg)
		c.Consistent = true
		return c, nil
	}
	// pcsctl reads are consistent, as pcs's are: a change made through
	// any node is visible to the next command on any other.
	c := api.NewUnix(cmp.Or(g.socket, os.Getenv("PACER_SOCKET"), daemon.DefaultSocket))
	c.Consistent = true
	return c, nil
}

// noArgs refuses stray arguments instead of ignoring them, with a hint.
func noArgs(hint string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("'pcsctl %s' takes no arguments, got %q", c.CommandPath()[len("pcsctl "):], args)
		if hint != "" {
			msg += ": " + hint
		}
		return usage("%s", msg)
	}
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), api.DefaultTimeout)
}

func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (g *globals) printf(format string, args ...any) {
	fmt.Fprintf(g.out, format, args...)
}
