package client

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire"
)

// A call is one request on one connection and the callback awaiting it.
// done is called exactly once: with the response, or with an error that
// wraps errNotSent (the request never left) or not (its fate is unknown).
type call struct {
	req        kmsg.Request
	corr       int32
	noResponse bool // acks=0 Produce: the broker does not answer
	timeout    time.Duration
	timer      host.Timer
	done       func(resp kmsg.Response, err error)
}

// brokerConn is the client's connection to one address. Its first request is
// always ApiVersions; other requests wait in queue until versions are known,
// then go out while fewer than MaxInFlightPerConn await responses. Kafka
// answers a connection's requests in order, so inflight is a FIFO and each
// response must carry the head's correlation id.
type brokerConn struct {
	cl       *Client
	key      connKey
	addr     string
	conn     host.Conn
	versions map[int16]int16 // negotiated max per key; nil until ApiVersions answers
	nextCorr int32
	queue    []*call
	inflight []*call
	dead     bool
}

// connKind separates traffic to one broker onto its own connections, as
// franz-go does: a broker answers a connection's requests one at a time and
// in order, so a Fetch held for FetchMaxWait would otherwise delay every
// Produce behind it.
type connKind uint8

const (
	connGeneral connKind = iota // metadata, ListOffsets
	connProduce
	connFetch
	connGroup // the group coordinator: joins, syncs, heartbeats, commits
)

type connKey struct {
	addr string
	kind connKind
}

func (a connKey) less(b connKey) bool {
	if a.addr != b.addr {
		return a.addr < b.addr
	}
	return a.kind < b.kind
}

// conn returns the live connection of kind to addr, dialling it if needed.
func (cl *Client) conn(addr string, kind connKind) *brokerConn {
	k := connKey{addr, kind}
	if bc := cl.conns[k]; bc != nil {
		return bc
	}
	bc := &brokerConn{cl: cl, key: k, addr: addr}
	cl.conns[k] = bc
	bc.conn = cl.h.Net().Dial(addr, host.DialOptions{Timeout: cl.cfg.DialTimeout}, bc)
	bc.sendApiVersions(3)
	return bc
}

// request sends req to addr and calls done with its response.
func (cl *Client) request(addr string, kind connKind, req kmsg.Request, timeout time.Duration, done func(kmsg.Response, error)) {
	if cl.closed {
		done(nil, fmt.Errorf("%w (%w)", ErrClosed, errNotSent))
		return
	}
	c := &call{req: req, timeout: timeout, done: done}
	if p, ok := req.(*kmsg.ProduceRequest); ok && p.Acks == 0 {
		c.noResponse = true
	}
	bc := cl.conn(addr, kind)
	bc.queue = append(bc.queue, c)
	bc.pump()
}

func (bc *brokerConn) sendApiVersions(version int16) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(version)
	req.ClientSoftwareName = "loglab"
	req.ClientSoftwareVersion = "0.1"
	bc.send(&call{req: req, timeout: bc.cl.cfg.RequestTimeout, done: bc.onApiVersions})
}

func (bc *brokerConn) onApiVersions(resp kmsg.Response, err error) {
	if err != nil {
		return // the connection is already dead; queued calls were failed
	}
	r := resp.(*kmsg.ApiVersionsResponse)
	// A broker that does not know our ApiVersions version answers in the v0
	// format with UNSUPPORTED_VERSION and its ranges (KIP-511); the ranges
	// are all we need, so use them rather than asking again.
	if r.ErrorCode != 0 && len(r.ApiKeys) == 0 {
		bc.kill(fmt.Errorf("%w: ApiVersions error %d", ErrProtocol, r.ErrorCode))
		return
	}
	bc.versions = map[int16]int16{}
	for _, k := range r.ApiKeys {
		ours, ok := supported[k.ApiKey]
		if !ok || k.MaxVersion < ours[0] || k.MinVersion > ours[1] {
			continue
		}
		bc.versions[k.ApiKey] = min(ours[1], k.MaxVersion)
	}
	bc.pump()
}

// pump sends queued calls while versions are known and slots are free.
func (bc *brokerConn) pump() {
	for !bc.dead && bc.versions != nil && len(bc.queue) > 0 && len(bc.inflight) < bc.cl.cfg.MaxInFlightPerConn {
		c := bc.queue[0]
		bc.queue = bc.queue[1:]
		v, ok := bc.versions[c.req.Key()]
		if !ok {
			c.done(nil, fmt.Errorf("%w: %s (%w)", ErrUnsupportedVersion, kmsg.NameForKey(c.req.Key()), errNotSent))
			continue
		}
		c.req.SetVersion(v)
		bc.send(c)
	}
}

// send writes c and arms its timeout.
func (bc *brokerConn) send(c *call) {
	bc.nextCorr++
	c.corr = bc.nextCorr
	frame := wire.AppendRequest(nil, c.req, c.corr, bc.cl.cfg.ClientID)
	if err := bc.conn.Send(frame); err != nil {
		c.done(nil, fmt.Errorf("%w: %w (%w)", ErrConnLost, err, errNotSent))
		bc.kill(err)
		return
	}
	if c.noResponse {
		c.done(nil, nil)
		return
	}
	bc.inflight = append(bc.inflight, c)
	c.timer = bc.cl.h.AfterFunc(c.timeout, func() {
		if bc.dead {
			return
		}
		bc.kill(fmt.Errorf("%w: %s after %v", ErrRequestTimeout, kmsg.NameForKey(c.req.Key()), c.timeout))
	})
}

// OnFrame matches a response to the oldest outstanding request.
func (bc *brokerConn) OnFrame(_ host.Conn, frame []byte) {
	if bc.dead {
		return
	}
	if len(bc.inflight) == 0 {
		bc.kill(fmt.Errorf("%w: response with no request outstanding", ErrProtocol))
		return
	}
	c := bc.inflight[0]
	corr, body, err := wire.ParseResponseHeader(frame, wire.ResponseHeaderFlexible(c.req.Key(), c.req.IsFlexible()))
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrProtocol, err)
	} else if corr != c.corr {
		err = fmt.Errorf("%w: correlation id %d, want %d", ErrProtocol, corr, c.corr)
	}
	if err != nil {
		bc.kill(err)
		return
	}
	bc.inflight = bc.inflight[1:]
	c.timer.Stop()
	resp := c.req.ResponseKind()
	resp.SetVersion(c.req.GetVersion())
	err = resp.ReadFrom(body)
	if c.req.Key() == wire.ApiVersionsKey && c.req.GetVersion() > 0 &&
		(err != nil || resp.(*kmsg.ApiVersionsResponse).ErrorCode == kerr.UnsupportedVersion.Code) {
		// KIP-511: a broker that does not know our version answers in
		// the v0 format, whatever version we asked for.
		resp = kmsg.NewPtrApiVersionsResponse()
		err = resp.ReadFrom(body)
	}
	if err != nil {
		c.done(nil, fmt.Errorf("%w: undecodable response", ErrProtocol))
		bc.kill(fmt.Errorf("%w: decode %s v%d: %v", ErrProtocol, kmsg.NameForKey(c.req.Key()), c.req.GetVersion(), err))
		return
	}
	c.done(resp, nil)
	bc.pump()
}

// OnClose fails everything outstanding.
func (bc *brokerConn) OnClose(_ host.Conn, err error) {
	if err == nil {
		err = host.ErrClosed
	}
	bc.kill(err)
}

// kill closes the connection once and fails its calls: sent ones with an
// unknown outcome, queued ones as not sent. Metadata may be stale when a
// broker goes away, so a refresh is requested.
func (bc *brokerConn) kill(cause error) {
	if bc.dead {
		return
	}
	bc.dead = true
	if bc.cl.conns[bc.key] == bc {
		delete(bc.cl.conns, bc.key)
	}
	bc.conn.Close()
	bc.cl.log.Debug("connection closed", "addr", bc.addr, "err", cause)
	inflight, queue := bc.inflight, bc.queue
	bc.inflight, bc.queue = nil, nil
	for _, c := range inflight {
		c.timer.Stop()
		c.done(nil, fmt.Errorf("%w: %w", ErrConnLost, cause))
	}
	for _, c := range queue {
		c.done(nil, fmt.Errorf("%w: %w (%w)", ErrConnLost, cause, errNotSent))
	}
	if !bc.cl.closed {
		bc.cl.needMetadata()
	}
}
