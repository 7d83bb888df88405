package cib

import "time"

// FenceEvent is one fencing attempt in the CIB's fence history: who
// fenced whom, with which device, how, and how it ended.
type FenceEvent struct {
	Target     string        `json:"target"`
	Action     string        `json:"action"` // off, reboot, on
	Device     string        `json:"device,omitempty"`
	Agent      string        `json:"agent,omitempty"`
	Executor   string        `json:"executor"`         // the node that ran it
	Origin     string        `json:"origin,omitempty"` // who asked: "dc" or "pcsctl"
	Result     string        `json:"result"`           // ok, failed, timeout
	Error      string        `json:"error,omitempty"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"duration"`
	Level      int           `json:"level,omitempty"` // topology level, when one was used
	Completion time.Time     `json:"completion"`
}

// MaxFenceHistory bounds the history kept in the CIB (newest kept).
const MaxFenceHistory = 64

func cloneFenceHistory(h []FenceEvent) []FenceEvent {
	if h == nil {
		return nil
	}
	return append([]FenceEvent(nil), h...)
}
