package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"pacer/api"
)

// PollLeader calls agreed every 50 ms until it names a leader, and
// returns that leader; when ctx ends first, the error says why the last
// try did not agree. test/clusterbed waits for its LXC nodes with it too.
func PollLeader(ctx context.Context, agreed func(context.Context) (string, error)) (string, error) {
	var last error
	for {
		leader, err := agreed(ctx)
		if err == nil {
			return leader, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no agreed leader: %v", last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// AgreeLeader adds one node's answer to the leader the nodes asked before
// it agree on ("" for the first) and returns the leader so far. The node
// must see a DC, the same as the others, and its CIB must list at least
// want nodes: the leader adds every configured node to the CIB when it
// takes over, and until then 'node standby NODE' would not find it.
func AgreeLeader(leader, node string, st *api.StatusResponse, x *api.CIBResponse, want int) (string, error) {
	if st.DC == "" {
		return "", fmt.Errorf("%s sees no leader", node)
	}
	if len(x.CIB.Config.Nodes) < want {
		return "", fmt.Errorf("%s's CIB lists %d of %d nodes", node, len(x.CIB.Config.Nodes), want)
	}
	if leader != "" && st.DC != leader {
		return "", fmt.Errorf("%s sees %s, others %s", node, st.DC, leader)
	}
	return st.DC, nil
}

// InsertTopLevel puts the key = value lines of extra into the pacerd.toml
// at path, before the first table, where TOML top-level keys must be. It
// drops the lines that set the same keys before: TOML refuses duplicates.
func InsertTopLevel(path, extra string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(data, []byte("\n["))
	if i < 0 {
		i = len(data) - 1
	}
	head := string(data[:i+1])
	for _, line := range strings.Split(strings.TrimSpace(extra), "\n") {
		key, _, _ := strings.Cut(line, "=")
		var kept []string
		for _, l := range strings.Split(head, "\n") {
			if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == strings.TrimSpace(key) {
				continue
			}
			kept = append(kept, l)
		}
		head = strings.Join(kept, "\n")
	}
	out := head + strings.TrimSpace(extra) + "\n" + string(data[i+1:])
	return os.WriteFile(path, []byte(out), 0o600)
}
