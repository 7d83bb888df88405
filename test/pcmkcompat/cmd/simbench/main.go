// Command simbench times pacer's scheduler against Pacemaker's
// crm_simulate on the same CIBs: for each size it writes the benchmark
// cluster of test/pcmkcompat.Large (primitives in groups and alone, with
// location, colocation and order constraints, one lost node to fence) as
// Pacemaker XML, runs scheduler.Schedule on it in-process, and runs
// `crm_simulate -R -x FILE` (compute the transition) and
// `crm_simulate -S -x FILE` (compute it and simulate running it) on the
// file, one process at a time. It prints a Markdown table.
//
//	go run ./test/pcmkcompat/cmd/simbench -sizes 100,1000,10000 -nodes 8,32 -timeout 10m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"pacer/crm/scheduler"
	"pacer/test/pcmkcompat"
)

func main() {
	sizes := flag.String("sizes", "100,1000,10000", "numbers of primitives, comma-separated")
	nodes := flag.String("nodes", "8,32", "numbers of nodes, comma-separated")
	timeout := flag.Duration("timeout", 10*time.Minute, "limit for one crm_simulate run")
	dir := flag.String("dir", "", "where to write the XML files (default: a temporary directory, removed afterwards)")
	probes := flag.Bool("probes", true, "record a probe of every resource on every node, as a settled cluster has")
	modes := flag.String("modes", "R,S", "crm_simulate modes to time: R (--run), S (--simulate)")
	flag.Parse()
	if err := run(ints(*sizes), ints(*nodes), *timeout, *dir, *probes, strings.Split(*modes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "simbench:", err)
		os.Exit(1)
	}
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func run(sizes, nodes []int, timeout time.Duration, dir string, probes bool, modes []string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "simbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin := pcmkcompat.CRMSimulate()
	if bin == "" {
		fmt.Println("crm_simulate not found (Debian: apt-get install pacemaker-cli-utils): timing pacer only")
	}
	fmt.Printf("| primitives | nodes | XML size | pacer Schedule (median) | allocs | crm_simulate -R | crm_simulate -S | placement and fencing |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, nn := range nodes {
		for _, np := range sizes {
			in := pcmkcompat.Large(np, nn, probes)
			x, err := in.XML()
			if err != nil {
				return err
			}
			file := filepath.Join(dir, fmt.Sprintf("large-%d-%d.xml", np, nn))
			if err := os.WriteFile(file, x, 0o644); err != nil {
				return err
			}
			ours, allocs, tr, err := timeOurs(in)
			if err != nil {
				return err
			}
			row := []string{strconv.Itoa(np), strconv.Itoa(nn), size(len(x)), ours.Round(time.Microsecond).String(), strconv.FormatUint(allocs, 10)}
			agree := "-"
			timedOut := false
			for _, m := range []string{"R", "S"} {
				if bin == "" || !contains(modes, m) {
					row = append(row, "-")
					continue
				}
				if timedOut {
					// -S does all that -R does and more.
					row = append(row, "> "+timeout.String()+" (not run)")
					continue
				}
				took, out, err := timeCRM(bin, m, file, timeout)
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					timedOut = true
					row = append(row, "> "+timeout.String())
				case err != nil:
					row = append(row, "error")
					fmt.Fprintln(os.Stderr, err)
				default:
					row = append(row, took.Round(time.Millisecond).String())
					if m == "S" {
						if o, perr := pcmkcompat.ParseCRMSimulate(out); perr == nil {
							if d := pcmkcompat.Diff(pcmkcompat.OutcomeOf(tr), o); len(d) == 0 {
								agree = "identical"
							} else {
								agree = fmt.Sprintf("%d differences", len(d))
							}
						}
					}
				}
			}
			row = append(row, agree)
			fmt.Println("| " + strings.Join(row, " | ") + " |")
		}
	}
	return nil
}

// timeOurs runs Schedule at least 5 times (and for at least a second)
// and returns the median time and the allocations of one run.
func timeOurs(in *pcmkcompat.Input) (time.Duration, uint64, *scheduler.Transition, error) {
	var times []time.Duration
	var tr *scheduler.Transition
	start := time.Now()
	for len(times) < 5 || time.Since(start) < time.Second {
		t0 := time.Now()
		var err error
		tr, err = scheduler.Schedule(scheduler.Input{CIB: in.CIB, Quorum: in.Quorum, Now: in.Now})
		if err != nil {
			return 0, 0, nil, err
		}
		times = append(times, time.Since(t0))
		if len(times) >= 50 {
			break
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], allocsOf(in), tr, nil
}

func timeCRM(bin, mode, file string, timeout time.Duration) (time.Duration, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"--run", "--xml-file", file}
	if mode == "S" {
		args = []string{"--simulate", "--xml-file", file, "--output-as=xml"}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	start := time.Now()
	out, err := cmd.Output()
	took := time.Since(start)
	if ctx.Err() != nil {
		return took, nil, ctx.Err()
	}
	if err != nil && len(out) == 0 {
		return took, nil, fmt.Errorf("crm_simulate -%s %s: %v", mode, file, err)
	}
	return took, out, nil
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

// allocsOf counts the heap allocations of one Schedule run.
func allocsOf(in *pcmkcompat.Input) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _ = scheduler.Schedule(scheduler.Input{CIB: in.CIB, Quorum: in.Quorum, Now: in.Now})
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}
