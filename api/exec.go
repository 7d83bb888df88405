package api

import (
	"context"
	"net/http"
	"time"

	"pacer/crm/cib"
	"pacer/resources"
)

// ExecRequest asks a node's executor to run one operation. The DC sends
// it; pcsctl's debug-* commands send it to the local node.
type ExecRequest struct {
	Action resources.Action `json:"action"`
}

// CancelRequest stops a recurring operation on a node.
type CancelRequest struct {
	Resource   string `json:"resource"`
	Op         string `json:"op"`
	IntervalMS int64  `json:"interval_ms"`
}

// Execute runs an operation on the node and returns its record.
func (c *Client) Execute(ctx context.Context, a resources.Action) (cib.OpRecord, error) {
	var r cib.OpRecord
	return r, c.Do(ctx, http.MethodPost, "/v1/exec", ExecRequest{Action: a}, &r)
}

// Recur starts a recurring monitor on the node and returns its first result.
func (c *Client) Recur(ctx context.Context, a resources.Action) (cib.OpRecord, error) {
	var r cib.OpRecord
	return r, c.Do(ctx, http.MethodPost, "/v1/recur", ExecRequest{Action: a}, &r)
}

// Cancel stops a recurring operation on the node.
func (c *Client) Cancel(ctx context.Context, rsc, op string, interval time.Duration) error {
	return c.Do(ctx, http.MethodPost, "/v1/cancel", CancelRequest{Resource: rsc, Op: op, IntervalMS: interval.Milliseconds()}, nil)
}
