package realhost

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"time"

	"github.com/loglab/loglab/host"
)

const (
	// closeLinger bounds how long a closed connection may take to flush
	// its queue and then see the peer's FIN.
	closeLinger = 5 * time.Second
	// readBufferBytes is the reader's bufio size; frames already buffered
	// behind the one just read are posted together (at most maxReadBatch).
	readBufferBytes = 64 << 10
	maxReadBatch    = 64
	// coalesceMaxBytes: frames up to this size are copied next to their
	// length prefix so a batch of small frames is one iovec, not two each.
	coalesceMaxBytes = 4 << 10
	// scratchKeepBytes: a larger coalescing buffer is not kept between
	// batches.
	scratchKeepBytes = 1 << 20
)

type connState uint8

const (
	statePending connState = iota // accepted, accept callback not run yet
	stateDialing
	stateOpen
	stateClosing // Close called: OnClose(nil) queued, writer flushing
	stateClosed  // OnClose delivered (or never will be)
)

// conn is a TCP connection. Fields under "loop" are touched only on the
// loop; the rest are shared with the dial, reader and writer goroutines.
type conn struct {
	r   *Runtime
	max int

	// loop
	h             host.ConnHandler
	state         connState
	local, remote string

	mu      sync.Mutex
	cond    sync.Cond // writer waits here for frames, closing or dead
	nc      net.Conn  // set once, before the reader and writer start
	out     [][]byte  // frames queued for the writer
	closing bool      // flush out, then close
	dead    bool      // the socket is closed (or will never open)
}

var _ host.Conn = (*conn)(nil)

func newConn(r *Runtime, max int) *conn {
	c := &conn{r: r, max: max}
	c.cond.L = &c.mu
	return c
}

func (c *conn) LocalAddr() string  { return c.local }
func (c *conn) RemoteAddr() string { return c.remote }

// Send queues frame for the writer goroutine; it never blocks on the socket.
// It fails only once the node itself has closed the conn or seen OnClose.
func (c *conn) Send(frame []byte) error {
	if c.state != stateOpen && c.state != stateDialing {
		return host.ErrClosed
	}
	if len(frame) > math.MaxInt32 {
		return fmt.Errorf("realhost: send %d bytes: %w", len(frame), host.ErrFrameTooLarge)
	}
	c.mu.Lock()
	if c.dead {
		// The socket is gone but OnClose has not run yet: like any frame
		// in flight at a reset, this one is lost. Returning nil keeps
		// Send's result a function of the loop's own state.
		c.mu.Unlock()
		return nil
	}
	c.out = append(c.out, frame)
	wake := len(c.out) == 1
	c.mu.Unlock()
	if wake {
		c.cond.Signal()
	}
	return nil
}

// Close delivers OnClose(nil) on a later loop turn; the writer flushes the
// queue, half-closes, and the socket is closed when the peer's FIN arrives
// (or after closeLinger). Closing the whole socket at once would let a RST
// destroy frames the peer has not read yet.
func (c *conn) Close() {
	if c.state != stateOpen && c.state != stateDialing {
		return
	}
	c.state = stateClosing
	c.mu.Lock()
	c.closing = true
	if c.nc != nil {
		c.nc.SetWriteDeadline(time.Now().Add(closeLinger))
	}
	c.mu.Unlock()
	c.cond.Broadcast()
	c.r.post(func() { c.finish(nil) })
}

// finish runs on the loop: the one place OnClose is called.
func (c *conn) finish(err error) {
	if c.state == stateClosed || c.state == statePending {
		// A pending conn's handler never existed; its accept was refused.
		c.state = stateClosed
		return
	}
	c.state = stateClosed
	c.h.OnClose(c, err)
}

// abort closes the socket because of err (nil: orderly end) and queues
// OnClose(err). Only the first cause counts. Any goroutine.
func (c *conn) abort(err error) {
	if c.markDead() {
		c.r.post(func() { c.finish(err) })
	}
}

// kill closes the socket without a callback (teardown, refused accept).
func (c *conn) kill() { c.markDead() }

func (c *conn) markDead() bool {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return false
	}
	c.dead = true
	nc := c.nc
	c.out = nil
	c.mu.Unlock()
	c.cond.Broadcast()
	if nc != nil {
		nc.Close()
	}
	c.r.unregister(c)
	return true
}

func (c *conn) startIO() {
	c.r.goIO(c.readLoop)
	c.r.goIO(c.writeLoop)
}

func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, readBufferBytes)
	for {
		f, err := host.ReadFrame(br, c.max)
		if err != nil {
			if err == io.EOF {
				err = nil // the peer closed between frames
			}
			c.abort(mapNetErr(err))
			return
		}
		frames := [][]byte{f}
		for len(frames) < maxReadBatch && c.nextBuffered(br) {
			if f, err = host.ReadFrame(br, c.max); err != nil {
				break // cannot happen: the whole frame is buffered
			}
			frames = append(frames, f)
		}
		c.r.post(func() { c.deliver(frames) })
	}
}

// nextBuffered reports whether a whole valid frame is already in br, so it
// can join the batch without blocking.
func (c *conn) nextBuffered(br *bufio.Reader) bool {
	if br.Buffered() < host.FrameHeaderBytes {
		return false
	}
	hdr, err := br.Peek(host.FrameHeaderBytes)
	if err != nil {
		return false
	}
	size := int64(int32(binary.BigEndian.Uint32(hdr)))
	return size >= 0 && size <= int64(c.max) && int64(br.Buffered()) >= host.FrameHeaderBytes+size
}

func (c *conn) deliver(frames [][]byte) {
	for _, f := range frames {
		if c.state != stateOpen {
			return
		}
		c.h.OnFrame(c, f)
	}
}

func (c *conn) writeLoop() {
	var (
		batch   [][]byte
		bufs    net.Buffers
		scratch []byte
	)
	for {
		c.mu.Lock()
		for len(c.out) == 0 && !c.closing && !c.dead {
			c.cond.Wait()
		}
		if c.dead {
			c.mu.Unlock()
			return
		}
		if len(c.out) == 0 { // closing, and everything is written
			c.mu.Unlock()
			c.halfClose()
			return
		}
		batch, c.out = c.out, batch[:0]
		c.mu.Unlock()

		bufs, scratch = appendBatch(bufs[:0], scratch[:0], batch)
		w := bufs
		_, err := w.WriteTo(c.nc) // writev
		clear(bufs)
		clear(batch)
		if cap(scratch) > scratchKeepBytes {
			scratch = nil
		}
		if err != nil {
			c.abort(mapNetErr(err))
			return
		}
	}
}

// appendBatch lays frames out for one writev: each length prefix goes in
// scratch, followed by the frame itself when it is small; large frames are
// their own iovec (no copy).
func appendBatch(bufs net.Buffers, scratch []byte, frames [][]byte) (net.Buffers, []byte) {
	need := 0
	for _, f := range frames {
		need += host.FrameHeaderBytes
		if len(f) <= coalesceMaxBytes {
			need += len(f)
		}
	}
	if cap(scratch) < need {
		scratch = make([]byte, 0, need)
	}
	// scratch never grows below, so segments cut from it stay valid.
	start := 0
	for _, f := range frames {
		scratch = binary.BigEndian.AppendUint32(scratch, uint32(len(f)))
		if len(f) <= coalesceMaxBytes {
			scratch = append(scratch, f...)
			continue
		}
		bufs = append(bufs, scratch[start:len(scratch)], f)
		start = len(scratch)
	}
	if start < len(scratch) {
		bufs = append(bufs, scratch[start:])
	}
	return bufs, scratch
}

// halfClose sends FIN after the last frame and waits (in the reader) for the
// peer's, bounded by closeLinger.
func (c *conn) halfClose() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		if err := tc.CloseWrite(); err == nil {
			c.nc.SetReadDeadline(time.Now().Add(closeLinger))
			return
		}
	}
	c.kill()
}
