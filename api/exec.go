package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"pacer/agents"
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

// AgentsResponse lists the agents a node has (GET /v1/agents).
type AgentsResponse struct {
	Node   string          `json:"node"`
	Agents []cib.AgentName `json:"agents"`
}

// Agents lists the node's agents of a class ("" for all) and provider.
func (c *Client) Agents(ctx context.Context, class, provider string) (*AgentsResponse, error) {
	var r AgentsResponse
	q := url.Values{}
	q.Set("class", class)
	q.Set("provider", provider)
	return &r, c.Do(ctx, http.MethodGet, "/v1/agents?"+q.Encode(), nil, &r)
}

// Describe returns an agent's meta-data as the node's agent reports it.
func (c *Client) Describe(ctx context.Context, agent cib.AgentName) (*agents.MetaData, error) {
	var r agents.MetaData
	return &r, c.Do(ctx, http.MethodGet, "/v1/agents/describe?agent="+url.QueryEscape(agent.String()), nil, &r)
}

// ActiveResponse lists what a node's executor last saw running.
type ActiveResponse struct {
	Node      string   `json:"node"`
	Resources []string `json:"resources"`
}

// ProbeRequest asks a node which of these resources already run there.
type ProbeRequest struct {
	Primitives []cib.Primitive `json:"primitives"`
}

// Active lists the resources the node's executor last saw running.
func (c *Client) Active(ctx context.Context) (*ActiveResponse, error) {
	var r ActiveResponse
	return &r, c.Do(ctx, http.MethodGet, "/v1/active", nil, &r)
}

// Probe runs a one-shot monitor of each primitive on the node.
func (c *Client) Probe(ctx context.Context, prims []cib.Primitive) (map[string]cib.OpRecord, error) {
	r := map[string]cib.OpRecord{}
	return r, c.Do(ctx, http.MethodPost, "/v1/probe", ProbeRequest{Primitives: prims}, &r)
}

// FenceRequest asks the DC to fence a node ('pcsctl stonith fence').
type FenceRequest struct {
	Node   string `json:"node"`
	Action string `json:"action"` // reboot (default in pcsctl), off, on
}

// FenceResponse lists every attempt the fencer made.
type FenceResponse struct {
	Target   string           `json:"target"`
	Action   string           `json:"action"`
	Attempts []cib.FenceEvent `json:"attempts"`
}

// Fence asks the DC (through any node) to fence a node.
func (c *Client) Fence(ctx context.Context, req FenceRequest) (*FenceResponse, error) {
	var r FenceResponse
	return &r, c.Do(ctx, http.MethodPost, "/v1/fence", req, &r)
}
