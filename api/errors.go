package api

import (
	"errors"
	"fmt"
	"net/http"

	"pacer/crm/cib"
	"pacer/crm/store"
)

// Error codes. Each maps to one HTTP status; clients switch on the code.
const (
	CodeInvalid     = "invalid"      // the request is wrong; Problems lists each issue
	CodeNotFound    = "not_found"    // a named thing does not exist
	CodeExists      = "exists"       // it already exists
	CodeNotLeader   = "not_leader"   // forwarding to the leader failed
	CodeNoLeader    = "no_leader"    // no quorum or election in progress: retry
	CodeUncertain   = "uncertain"    // leadership moved mid-write: it may have been applied; read, then retry
	CodeUnavailable = "unavailable"  // the node cannot serve this now
	CodeBadRequest  = "bad_request"  // malformed JSON or path
	CodeInternal    = "internal"     // a bug or an I/O failure; see the node's log
	CodeForbidden   = "unauthorized" // no valid cluster certificate
)

// Error is the body of every failed response: {code, message}, plus every
// validation problem when there are several.
type Error struct {
	Code     string        `json:"code"`
	Message  string        `json:"message"`
	Problems []cib.Problem `json:"problems,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Status maps the code to an HTTP status.
func (e *Error) Status() int {
	switch e.Code {
	case CodeInvalid, CodeBadRequest:
		return http.StatusBadRequest
	case CodeNotFound:
		return http.StatusNotFound
	case CodeExists:
		return http.StatusConflict
	case CodeNotLeader, CodeNoLeader, CodeUnavailable, CodeUncertain:
		return http.StatusServiceUnavailable
	case CodeForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// FromError turns any error into an *Error with the matching code.
func FromError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ve *cib.ValidationError
	switch {
	case errors.As(err, &ve):
		return &Error{Code: CodeInvalid, Message: fmt.Sprintf("the change was refused: %d problem(s); nothing was written", len(ve.Problems)), Problems: ve.Problems}
	case errors.Is(err, store.ErrMaybeApplied):
		return &Error{Code: CodeUncertain, Message: err.Error() + "; check with 'pcsctl status' or 'cib export' before repeating it"}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, store.ErrExists):
		return &Error{Code: CodeExists, Message: err.Error()}
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrUnknownCommand):
		return &Error{Code: CodeInvalid, Message: err.Error()}
	case errors.Is(err, store.ErrNoLeader):
		return &Error{Code: CodeNoLeader, Message: err.Error()}
	case errors.Is(err, store.ErrNotLeader):
		return &Error{Code: CodeNotLeader, Message: err.Error()}
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}
