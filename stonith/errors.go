package stonith

import "errors"

// Sentinel errors. Devices wrap them with a sentence naming the device, the
// target and what to check; callers match with errors.Is.
var (
	// ErrNoAnswer: the device did not answer in time (unreachable, or it
	// silently dropped the request — fence_virtd does that on a key or
	// hash mismatch).
	ErrNoAnswer = errors.New("stonith: no answer from fencing device")
	// ErrAuth: the device answered but authentication failed (wrong key,
	// wrong challenge–response hash).
	ErrAuth = errors.New("stonith: fencing device authentication failed")
	// ErrPermission: the device refused this client for this target.
	ErrPermission = errors.New("stonith: fencing device denied permission")
	// ErrNoSuchTarget: the device does not know the plug.
	ErrNoSuchTarget = errors.New("stonith: no such target on fencing device")
	// ErrFailed: the device tried and reported failure.
	ErrFailed = errors.New("stonith: fencing action failed")
	// ErrUnsupported: the device cannot perform this action.
	ErrUnsupported = errors.New("stonith: action not supported by fencing device")
	// ErrProtocol: the device sent something this client cannot parse.
	ErrProtocol = errors.New("stonith: protocol error")
)
