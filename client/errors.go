package client

import "errors"

// Errors returned to callbacks; classify with errors.Is. Broker errors are
// franz-go kerr values (*kerr.Error), also matched with errors.Is.
var (
	// ErrClosed: the client was closed before the operation completed.
	ErrClosed = errors.New("client: closed")
	// ErrDeliveryTimeout: a record was not acknowledged within
	// Config.DeliveryTimeout (it wraps the last attempt's error).
	ErrDeliveryTimeout = errors.New("client: delivery timeout")
	// ErrRequestTimeout: no response within Config.RequestTimeout; the
	// connection is closed, as Kafka clients do, since responses come in
	// request order.
	ErrRequestTimeout = errors.New("client: request timed out")
	// ErrUnknownOutcome is wrapped (with the cause) when a record may or
	// may not have been written: a request carrying it was sent and its
	// answer was lost, or the broker said it appended but could not
	// replicate in time. History records such an outcome as info.
	ErrUnknownOutcome = errors.New("client: outcome unknown")
	// ErrSequenceUnresolved: an idempotent producer had to take a new
	// producer id while an earlier attempt of this batch may have been
	// written under the old one; re-sent, it could be stored twice, so it
	// ends with its outcome unknown instead.
	ErrSequenceUnresolved = errors.New("client: idempotent sequence unresolved")
	// ErrRecordTooLarge: the record alone exceeds Config.MaxRequestBytes.
	ErrRecordTooLarge = errors.New("client: record too large")
	// ErrUnsupportedVersion: the broker speaks no version of an API that
	// this client implements.
	ErrUnsupportedVersion = errors.New("client: no common API version")
	// ErrProtocol: a response could not be matched or decoded (wrong
	// correlation id, malformed bytes); the connection is closed.
	ErrProtocol = errors.New("client: protocol error")
	// ErrConnLost: the connection closed while the request was
	// outstanding (it wraps the host error, e.g. host.ErrConnReset).
	ErrConnLost = errors.New("client: connection lost")
	// errNotSent: the request never left the client (its connection died
	// first), so it certainly had no effect.
	errNotSent = errors.New("client: request not sent")
)
