package pcs

import (
	"fmt"
	"strings"

	"pacer/crm/cib"
)

// resourceArgs is what follows 'resource create ID AGENT': instance
// params, then optional 'op NAME k=v... [NAME k=v...]' and 'meta k=v...'
// blocks, in pcs's order-free way.
type resourceArgs struct {
	params map[string]string
	meta   map[string]string
	ops    []cib.Op
}

// parseResourceArgs collects every problem instead of stopping at the
// first, so one run of the command shows them all.
func parseResourceArgs(args []string) (resourceArgs, []string) {
	ra := resourceArgs{params: map[string]string{}, meta: map[string]string{}}
	var problems []string
	section := "params"
	var op *cib.Op
	flushOp := func() {
		if op != nil {
			ra.ops = append(ra.ops, *op)
			op = nil
		}
	}
	for _, a := range args {
		switch a {
		case "op":
			flushOp()
			section = "op"
			continue
		case "meta":
			flushOp()
			section = "meta"
			continue
		}
		k, v, hasEq := strings.Cut(a, "=")
		switch section {
		case "params", "meta":
			if !hasEq || k == "" {
				problems = append(problems, fmt.Sprintf("%q is not name=value: write e.g. ip=192.0.2.10 (params), 'op monitor interval=10s' or 'meta target-role=Stopped'", a))
				continue
			}
			if section == "params" {
				ra.params[k] = v
			} else {
				ra.meta[k] = v
			}
		case "op":
			if !hasEq {
				flushOp()
				op = &cib.Op{Name: a}
				continue
			}
			if op == nil {
				problems = append(problems, fmt.Sprintf("%q after 'op' needs an operation name first: write e.g. 'op monitor interval=10s'", a))
				continue
			}
			switch k {
			case "interval":
				op.Interval = v
			case "timeout":
				op.Timeout = v
			case "on-fail":
				op.OnFail = v
			case "role":
				op.Role = v
			case "id":
				op.ID = v
			default:
				problems = append(problems, fmt.Sprintf("op %s: unknown option %q: use interval, timeout, on-fail, role or id", op.Name, k))
				continue
			}
			if k == "interval" || k == "timeout" {
				if _, err := cib.ParseDuration(v); err != nil {
					problems = append(problems, fmt.Sprintf("op %s %s: %v", op.Name, k, err))
				}
			}
		}
	}
	flushOp()
	for k, v := range ra.meta {
		if o, ok := cib.MetaAttributes[k]; !ok {
			problems = append(problems, fmt.Sprintf("meta %s: unknown meta attribute; use one of %s", k, strings.Join(cib.OptionNames(cib.MetaAttributes), ", ")))
		} else if v != "" {
			if err := o.Check(v); err != nil {
				problems = append(problems, "meta "+err.Error())
			}
		}
	}
	return ra, problems
}

// parsePairs reads name=value arguments.
func parsePairs(args []string, what string) (map[string]string, []string) {
	m := map[string]string{}
	var problems []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			problems = append(problems, fmt.Sprintf("%q is not name=value: write e.g. %s", a, what))
			continue
		}
		m[k] = v
	}
	return m, problems
}

func problemsErr(p []string) error {
	if len(p) == 0 {
		return nil
	}
	return &usageError{problems: p}
}
