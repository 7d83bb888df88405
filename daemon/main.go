package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is pacerd's entry point; it returns the exit code. SIGTERM and
// SIGINT stop the node gracefully and exit 0.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pacerd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "/etc/pacer/pacerd.toml", "config file written by 'pcsctl cluster setup'")
	level := fs.String("log-level", "", "override log_level: debug, info, warn, error")
	witness := fs.Bool("witness", false, "vote in Raft but never run resources (a tie-breaker for two-node clusters)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stderr, "pacerd", Version)
		return 0
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "pacerd: %v\n", err)
		return 1
	}
	if *level != "" {
		cfg.LogLevel = *level
	}
	if *witness {
		cfg.Witness = true
	}
	log, err := NewLogger(stderr, cfg.LogLevel, cfg.NodeName)
	if err != nil {
		fmt.Fprintf(stderr, "pacerd: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	d, err := Start(cfg, Options{Logger: log})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := d.Wait(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
