package host

import "time"

// Network lets a node listen and dial. Every message crosses it as a frame:
// the payload of one Kafka request or response, without its 4-byte length
// prefix (the implementation adds and strips the prefix).
type Network interface {
	// Listen accepts connections at addr ("host:port"; in simulation the
	// host part is the node's name). accept is called on the node's loop
	// for each new connection and returns the handler for its events.
	Listen(addr string, opts ListenOptions, accept func(c Conn) ConnHandler) (Listener, error)
	// Dial connects to addr asynchronously. Frames sent before the
	// connection is established are queued. If the connection cannot be
	// made, h.OnClose is called with ErrConnRefused or ErrTimeout.
	Dial(addr string, opts DialOptions, h ConnHandler) Conn
}

// ListenOptions bounds what a listener accepts.
type ListenOptions struct {
	// MaxFrameBytes is the largest frame payload accepted from a peer;
	// a larger length prefix closes the connection with ErrFrameTooLarge.
	// 0 means DefaultMaxFrameBytes.
	MaxFrameBytes int
}

// DialOptions bounds an outgoing connection.
type DialOptions struct {
	// MaxFrameBytes as in ListenOptions (frames received by the dialer).
	MaxFrameBytes int
	// Timeout for establishing the connection; 0 means DefaultDialTimeout.
	Timeout time.Duration
}

// DefaultDialTimeout bounds a dial when DialOptions.Timeout is 0.
const DefaultDialTimeout = 10 * time.Second

// DefaultMaxFrameBytes is Kafka's socket.request.max.bytes default (100 MiB).
const DefaultMaxFrameBytes = 100 << 20

// ConnHandler receives a connection's events on the node's loop.
type ConnHandler interface {
	// OnFrame delivers one frame. The handler owns frame and may keep it.
	OnFrame(c Conn, frame []byte)
	// OnClose is called exactly once when the connection ends, for any
	// reason (peer close, reset, local Close, crash of the peer, refused
	// dial). err is nil for an orderly close by the peer or by Close.
	OnClose(c Conn, err error)
}

// Conn is one connection: an ordered, reliable stream of frames in each
// direction, until it closes.
type Conn interface {
	// Send queues frame for delivery. The Conn takes ownership of frame:
	// the caller must not modify it afterwards. Send on a closed Conn
	// returns ErrClosed; frames queued before a reset may be lost.
	Send(frame []byte) error
	// Close closes the connection after queued frames are sent. The
	// handler's OnClose is still called (with nil).
	Close()
	// LocalAddr and RemoteAddr are "host:port" strings. In simulation they
	// are deterministic.
	LocalAddr() string
	RemoteAddr() string
}

// Listener is an open listen socket.
type Listener interface {
	Addr() string
	Close()
}
