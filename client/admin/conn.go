package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
	"github.com/loglab/loglab/wire"
)

// ErrUnreachable classifies a broker the client could not talk to.
var ErrUnreachable = errors.New("admin: cannot reach broker")

// conn is one connection, one request at a time, versions negotiated.
type conn struct {
	rt       *realhost.Runtime
	addr     string
	clientID string
	c        host.Conn
	frames   chan []byte
	closed   chan error
	corr     int32
	versions map[int16][2]int16
}

// handler forwards connection events from the loop to the waiting caller.
type handler struct{ w *conn }

func (h handler) OnFrame(_ host.Conn, frame []byte) {
	select {
	case h.w.frames <- frame:
	default: // more frames than requests: a broken peer; the caller will time out
	}
}

func (h handler) OnClose(_ host.Conn, err error) {
	if err == nil {
		err = host.ErrClosed
	}
	select {
	case h.w.closed <- err:
	default:
	}
}

// dial connects to addr and negotiates versions before ctx ends.
func dial(ctx context.Context, rt *realhost.Runtime, addr, clientID string) (*conn, error) {
	w := &conn{rt: rt, addr: addr, clientID: clientID, frames: make(chan []byte, 4), closed: make(chan error, 1)}
	timeout := host.DefaultDialTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := rt.Do(func(h host.Host) {
		w.c = h.Net().Dial(addr, host.DialOptions{Timeout: timeout}, handler{w})
	}); err != nil {
		return nil, err
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0 // every broker answers v0; the table is all we need
	resp, err := w.roundTrip(ctx, req)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("%w %s: %w", ErrUnreachable, addr, err)
	}
	av := resp.(*kmsg.ApiVersionsResponse)
	if err := codeErr(av.ErrorCode); err != nil {
		w.close()
		return nil, fmt.Errorf("%s: ApiVersions: %w", addr, err)
	}
	w.versions = make(map[int16][2]int16, len(av.ApiKeys))
	for _, k := range av.ApiKeys {
		w.versions[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
	}
	return w, nil
}

// do sends req at the highest version both sides speak, capped at maxV
// (the newest version this package was checked against).
func (w *conn) do(ctx context.Context, req kmsg.Request, maxV int16) (kmsg.Response, error) {
	r, ok := w.versions[req.Key()]
	if !ok {
		return nil, fmt.Errorf("broker %s does not serve %s", w.addr, kmsg.NameForKey(req.Key()))
	}
	v := min(r[1], maxV, req.MaxVersion())
	if v < r[0] {
		return nil, fmt.Errorf("broker %s needs %s v%d+, this client speaks up to v%d", w.addr, kmsg.NameForKey(req.Key()), r[0], v)
	}
	req.SetVersion(v)
	return w.roundTrip(ctx, req)
}

func (w *conn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	w.corr++
	corr := w.corr
	payload := wire.AppendRequest(nil, req, corr, w.clientID)
	var sendErr error
	if err := w.rt.Do(func(host.Host) { sendErr = w.c.Send(payload) }); err != nil {
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
	resp, err := wire.ReadResponse(frame, req, corr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.addr, err)
	}
	return resp, nil
}

func (w *conn) close() {
	_ = w.rt.Do(func(host.Host) { w.c.Close() })
}
