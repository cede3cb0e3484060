// Package wire owns the bytes of the Apache Kafka protocol that loglab
// reads and writes itself: the request and response headers around every
// message body, and (in wire/batch) the v2 record batch. Message bodies
// are franz-go's kmsg types; kmsg encodes and decodes bodies only, so the
// headers are ours, here, once.
//
// Ownership and imports: this package imports the standard library and
// kmsg. It has no state and does no I/O; the broker, the client, the
// admin client and scenarios' admin node call it (and the log, the group
// coordinator and bench call wire/batch), and no other package parses a
// header or a batch. It runs in simulation as in real runs.
//
// # Frames
//
// On a connection every message is a frame: a 4-byte big-endian size, then
// that many bytes. The size prefix is transport framing, not Kafka
// content: the Host writes and strips it (host/frame.go) and enforces the
// limit (host.DefaultMaxFrameBytes, Kafka's socket.request.max.bytes of
// 100 MiB; an oversized frame closes the connection). Every function here
// takes or returns the frame's payload, after the size prefix.
//
// # Requests
//
//	offset size field
//	     0    2 api key            which API (0 Produce, 1 Fetch, 18 ApiVersions, ...)
//	     2    2 api version
//	     4    4 correlation id     echoed by the response
//	     8    2 client id length   -1 = null
//	    10    n client id
//	10+n      tagged fields        header v2 only (flexible versions, KIP-482)
//	          body                 kmsg's encoding of the request at that version
//
// Request header v1 is the first five fields; v2 (used when the request's
// version is flexible) adds a tagged-field section. The client id stays a
// classic int16-length string in v2, so a broker can read it before it
// knows which versions the client speaks. The first 8 bytes are the same in
// every version: PeekRequestHeader reads them, which is all a broker needs
// to answer a request it cannot otherwise parse (an ApiVersions newer than
// it knows, KIP-511).
//
// # Responses
//
//	offset size field
//	     0    4 correlation id     the request's
//	     4      tagged fields      header v1 only
//	          body
//
// Response header v0 is the correlation id alone; v1 (flexible responses)
// adds a tagged-field section, except for ApiVersions, whose response
// header is always v0 so that a client that does not yet know the broker's
// versions can read it (ResponseHeaderFlexible).
//
// # Tagged fields
//
// A tagged-field section is a uvarint count, then per field a uvarint tag,
// a uvarint size and size bytes. loglab knows no header tags: it writes an
// empty section (one zero byte) and skips what it reads (SkipTags).
//
// # Correlation
//
// A connection carries requests in order and its responses come back in
// the same order, each with its request's correlation id. ReadResponse
// checks the id against the one the caller sent and decodes the body into
// the request's response type at the request's version.
//
// # Invariants (fuzzed)
//
// ParseRequestHeader, ParseResponseHeader, SkipTags and ReadResponse never
// panic on any input, never read beyond it, return bodies that alias the
// input, and classify every failure with ErrMalformed.
package wire
