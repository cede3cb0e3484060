package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// The admin commands (topic create/list/describe/delete) and the checks that
// produce and consume make before they start need single requests the
// project's client does not expose (CreateTopics, DeleteTopics,
// DescribeConfigs, Metadata for every topic). wireConn is the smallest thing
// that sends them: one connection dialled through realhost's Network, one
// request at a time, versions negotiated with ApiVersions. The CLI runs
// outside the simulator, so it may block on channels here.

// idleNode is the CLI's node: it only lends its loop to the client and to
// wireConn.
type idleNode struct{}

func (idleNode) Start(host.Host) {}

// cliRuntime starts the CLI's own node (no disk).
func cliRuntime() (*realhost.Runtime, error) {
	return realhost.Run(idleNode{}, realhost.Config{Name: "loglab-cli", Logger: quietLogger()})
}

// errUnreachable classifies a bootstrap the CLI could not talk to.
var errUnreachable = errors.New("cannot reach broker")

type wireConn struct {
	rt       *realhost.Runtime
	addr     string
	conn     host.Conn
	frames   chan []byte
	closed   chan error
	corr     int32
	format   *kmsg.RequestFormatter
	versions map[int16][2]int16
}

// wireHandler forwards connection events from the loop to the waiting
// command goroutine.
type wireHandler struct{ w *wireConn }

func (h wireHandler) OnFrame(_ host.Conn, frame []byte) {
	select {
	case h.w.frames <- frame:
	default: // more frames than requests: a broken peer; the reader will time out
	}
}

func (h wireHandler) OnClose(_ host.Conn, err error) {
	if err == nil {
		err = host.ErrClosed
	}
	select {
	case h.w.closed <- err:
	default:
	}
}

// dialWire connects to addr and negotiates versions before ctx ends.
func dialWire(ctx context.Context, rt *realhost.Runtime, addr string) (*wireConn, error) {
	w := &wireConn{
		rt:     rt,
		addr:   addr,
		frames: make(chan []byte, 4),
		closed: make(chan error, 1),
		format: kmsg.NewRequestFormatter(kmsg.FormatterClientID("loglab-cli")),
	}
	timeout := host.DefaultDialTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := rt.Do(func(h host.Host) {
		w.conn = h.Net().Dial(addr, host.DialOptions{Timeout: timeout}, wireHandler{w})
	}); err != nil {
		return nil, err
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0 // every broker answers v0; the table is all we need
	resp, err := w.roundTrip(ctx, req)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("%w %s: %w", errUnreachable, addr, err)
	}
	av := resp.(*kmsg.ApiVersionsResponse)
	if av.ErrorCode != 0 {
		w.Close()
		return nil, fmt.Errorf("%s: ApiVersions: %w", addr, kerrFor(av.ErrorCode))
	}
	w.versions = make(map[int16][2]int16, len(av.ApiKeys))
	for _, k := range av.ApiKeys {
		w.versions[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	return w, nil
}

// Do sends req at the highest version both sides speak, capped at maxV (the
// newest version the CLI was checked against), and returns the response.
func (w *wireConn) Do(ctx context.Context, req kmsg.Request, maxV int16) (kmsg.Response, error) {
	r, ok := w.versions[req.Key()]
	if !ok {
		return nil, fmt.Errorf("broker %s does not serve %s", w.addr, kmsg.NameForKey(req.Key()))
	}
	v := min(r[1], maxV, req.MaxVersion())
	if v < r[0] {
		return nil, fmt.Errorf("broker %s needs %s v%d+, the CLI speaks up to v%d", w.addr, kmsg.NameForKey(req.Key()), r[0], v)
	}
	req.SetVersion(v)
	return w.roundTrip(ctx, req)
}

func (w *wireConn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	w.corr++
	corr := w.corr
	// AppendRequest writes the 4-byte length prefix too; the Host adds its own.
	payload := w.format.AppendRequest(nil, req, corr)[host.FrameHeaderBytes:]
	var sendErr error
	if err := w.rt.Do(func(host.Host) { sendErr = w.conn.Send(payload) }); err != nil {
		return nil, err
	}
	if sendErr != nil {
		return nil, sendErr
	}
	var frame []byte
	select {
	case frame = <-w.frames:
	case err := <-w.closed:
		w.closed <- err // later calls see it too
		return nil, err
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer to %s: %w", kmsg.NameForKey(req.Key()), host.ErrTimeout)
	}
	if len(frame) < 4 || int32(binary.BigEndian.Uint32(frame)) != corr {
		return nil, fmt.Errorf("%s: response does not match request %d", w.addr, corr)
	}
	body := frame[4:]
	// ApiVersions responses always use header v0; others v1 when flexible.
	if req.IsFlexible() && req.Key() != 18 {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%s: malformed %s response: %w", w.addr, kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

func (w *wireConn) Close() {
	_ = w.rt.Do(func(host.Host) { w.conn.Close() })
}

// skipTags skips a KIP-482 tagged-field section.
func skipTags(b []byte) ([]byte, error) {
	bad := errors.New("malformed response header tags")
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, bad
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, bad
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, bad
		}
		b = b[k+int(size):]
	}
	return b, nil
}
