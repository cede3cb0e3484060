package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire"
)

// conn is one client connection. Requests are handled in arrival order
// and answered in that order (Kafka's guarantee), but handling is
// pipelined: a request whose answer waits (a long-polling Fetch, a
// Produce waiting for fsync) does not stop the next ones from being
// handled, only from being answered before it.
//
// Back-pressure in a sans-IO node: the broker cannot stop reading a
// socket, so frames beyond MaxInFlightRequests unanswered requests wait
// unparsed in a backlog, and past MaxQueuedRequests waiting frames the
// connection is closed. A client that pipelines within Kafka's usual
// limits (5 in-flight produce requests) never meets either limit.
type conn struct {
	b       *Broker
	id      uint64
	c       host.Conn
	pending []*slot  // handled, not yet answered (request order)
	backlog [][]byte // received, not yet handled
	closed  bool
	pumping bool
	// waits are this connection's long-polling fetches, cancelled when
	// it closes.
	waits []*fetchWait
}

// slot is a request's place in the answer order.
type slot struct {
	done  bool
	frame []byte // nil: the request has no answer (Produce with acks=0)
}

// request is one parsed request being handled.
type request struct {
	cn       *conn
	hdr      wire.RequestHeader
	kreq     kmsg.Request
	slot     *slot
	answered bool
	start    time.Duration // when it was parsed (host monotonic), for its latency metric
}

// measured records a request's count and latency once it is answered.
func (r *request) measured() {
	b := r.cn.b
	api := kmsg.NameForKey(r.hdr.Key)
	b.cfg.Metrics.Add("loglab_broker_requests_total", 1, "api", api)
	b.cfg.Metrics.Observe("loglab_broker_request_duration_seconds", (b.h.Monotonic() - r.start).Seconds(), "api", api)
}

func (cn *conn) OnFrame(_ host.Conn, frame []byte) {
	if cn.closed {
		return
	}
	if len(cn.backlog) >= cn.b.cfg.MaxQueuedRequests {
		cn.fail(fmt.Sprintf("more than %d requests queued behind %d unanswered ones", cn.b.cfg.MaxQueuedRequests, len(cn.pending)), nil)
		return
	}
	cn.backlog = append(cn.backlog, frame)
	cn.pump()
}

func (cn *conn) OnClose(_ host.Conn, err error) {
	cn.closed = true
	cn.pending, cn.backlog = nil, nil
	cn.cancelWaits()
	cn.b.forgetConn(cn)
	switch {
	case errors.Is(err, host.ErrFrameTooLarge):
		// The Host refused a frame over MaxFrameBytes; this is the one
		// place the broker hears of it.
		cn.b.log.Warn("connection closed: frame too large", "remote", cn.c.RemoteAddr(), "limit", cn.b.cfg.MaxFrameBytes, "err", err)
	case err != nil:
		cn.b.log.Debug("connection closed", "remote", cn.c.RemoteAddr(), "err", err)
	}
}

// pump handles backlog frames while the in-flight limit allows. It is not
// re-entrant: an answer given synchronously inside a handler frees a slot
// and the loop here picks up the next frame.
func (cn *conn) pump() {
	if cn.pumping {
		return
	}
	cn.pumping = true
	for !cn.closed && len(cn.backlog) > 0 && len(cn.pending) < cn.b.cfg.MaxInFlightRequests {
		f := cn.backlog[0]
		cn.backlog[0] = nil
		cn.backlog = cn.backlog[1:]
		cn.handleFrame(f)
	}
	cn.pumping = false
}

// handleFrame parses one request and dispatches it by API key.
func (cn *conn) handleFrame(frame []byte) {
	key, version, corr, err := wire.PeekRequestHeader(frame)
	if err != nil {
		cn.fail("unparseable request header", err)
		return
	}
	a, ok := lookupAPI(key)
	if !ok {
		cn.fail(fmt.Sprintf("unknown api key %d (version %d)", key, version), nil)
		return
	}
	if version < a.min || version > a.max {
		if key == keyApiVersions && version > a.max {
			cn.answerTooNewApiVersions(corr, version)
			return
		}
		cn.fail(fmt.Sprintf("unsupported version %d of api key %d (serving %d-%d)", version, key, a.min, a.max), nil)
		return
	}
	kreq := kmsg.RequestForKey(key)
	kreq.SetVersion(version)
	hdr, body, err := wire.ParseRequestHeader(frame, kreq.IsFlexible())
	if err != nil {
		cn.fail(fmt.Sprintf("api key %d v%d", key, version), err)
		return
	}
	if err := kreq.ReadFrom(body); err != nil {
		cn.fail(fmt.Sprintf("api key %d v%d body", key, version), fmt.Errorf("%w: %w", wire.ErrMalformed, err))
		return
	}
	s := &slot{}
	cn.pending = append(cn.pending, s)
	cn.b.log.Debug("request", "remote", cn.c.RemoteAddr(), "api_key", key, "version", version, "correlation_id", corr)
	a.handle(cn.b, &request{cn: cn, hdr: hdr, kreq: kreq, slot: s, start: cn.b.h.Monotonic()})
}

// answerTooNewApiVersions is KIP-511: a client that opens with an
// ApiVersions version newer than the broker's gets, in the v0 format it
// is sure to parse, UNSUPPORTED_VERSION and the supported ranges, and
// retries with a version both know.
func (cn *conn) answerTooNewApiVersions(corr int32, version int16) {
	cn.b.log.Info("ApiVersions version too new, answering in v0 format", "remote", cn.c.RemoteAddr(), "version", version)
	resp := apiVersionsResponse(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	s := &slot{}
	cn.pending = append(cn.pending, s)
	cn.complete(s, resp.AppendTo(wire.AppendResponseHeader(nil, keyApiVersions, corr, false)))
}

// fail logs why a connection is being closed (once) and closes it.
// Frames already answered have been sent; unanswered ones are dropped, as
// Kafka drops them when it closes a connection over bad input.
func (cn *conn) fail(reason string, err error) {
	if cn.closed {
		return
	}
	attrs := []any{"remote", cn.c.RemoteAddr(), "reason", reason}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	cn.b.log.Warn("closing connection", attrs...)
	cn.close()
}

func (cn *conn) close() {
	if cn.closed {
		return
	}
	cn.closed = true
	cn.pending, cn.backlog = nil, nil
	cn.cancelWaits()
	cn.c.Close()
}

func (cn *conn) cancelWaits() {
	ws := cn.waits
	cn.waits = nil
	for _, w := range ws {
		w.cancel()
	}
}

// complete records a request's answer and sends every answer that is now
// at the head of the order.
func (cn *conn) complete(s *slot, frame []byte) {
	if cn.closed || s.done {
		return
	}
	s.done, s.frame = true, frame
	for len(cn.pending) > 0 && cn.pending[0].done {
		head := cn.pending[0]
		cn.pending[0] = nil
		cn.pending = cn.pending[1:]
		if head.frame != nil {
			if err := cn.c.Send(head.frame); err != nil {
				cn.close()
				return
			}
		}
	}
	cn.pump()
}

// respond encodes resp at the request's version and queues it.
func (r *request) respond(resp kmsg.Response) {
	if r.answered {
		panic("broker: request answered twice")
	}
	r.answered = true
	r.measured()
	resp.SetVersion(r.hdr.Version)
	frame := wire.AppendResponseHeader(make([]byte, 0, responseSizeHint(resp)), r.hdr.Key, r.hdr.CorrelationID, resp.IsFlexible())
	r.cn.complete(r.slot, resp.AppendTo(frame))
}

// responseSizeHint is a capacity for resp's frame: for a fetch response,
// its record bytes plus a generous allowance for the fields, so that
// encoding it copies the records once instead of growing the frame by
// doubling.
func responseSizeHint(resp kmsg.Response) int {
	fr, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 256
	}
	n := 64
	for i := range fr.Topics {
		t := &fr.Topics[i]
		n += 64 + len(t.Topic)
		for j := range t.Partitions {
			n += 96 + len(t.Partitions[j].RecordBatches)
		}
	}
	return n
}

// noResponse ends a request that Kafka does not answer (acks=0).
func (r *request) noResponse() {
	if r.answered {
		panic("broker: request answered twice")
	}
	r.answered = true
	r.measured()
	r.cn.complete(r.slot, nil)
}

// closeConn ends a request by closing its connection (how Kafka reports
// an acks=0 produce failure).
func (r *request) closeConn(reason string, err error) {
	r.answered = true
	r.cn.fail(reason, err)
}

// logAttrs identify a request in logs.
func (r *request) logAttrs() []any {
	cid := ""
	if r.hdr.ClientID != nil {
		cid = *r.hdr.ClientID
	}
	return []any{"remote", r.cn.c.RemoteAddr(), "client_id", cid, "api_key", r.hdr.Key, "version", r.hdr.Version}
}

func (r *request) warn(msg string, attrs ...any) {
	r.cn.b.log.Warn(msg, append(r.logAttrs(), attrs...)...)
}
