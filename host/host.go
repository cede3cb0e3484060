package host

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Host is what a node is given to act on the world.
type Host interface {
	// Name is the node's name, e.g. "broker-1". Stable across restarts.
	Name() string

	// Now is the node's wall clock. In simulation it is virtual time plus the
	// node's clock offset, so it can jump under clock faults.
	Now() time.Time
	// Monotonic is time elapsed on the node's monotonic clock since an
	// arbitrary origin. Use it for durations and timeouts; it never jumps.
	Monotonic() time.Duration
	// AfterFunc runs f on the node's loop once d has elapsed on the
	// monotonic clock. d <= 0 runs f as soon as possible, after the current
	// callback returns.
	AfterFunc(d time.Duration, f func()) Timer
	// Post runs f on the node's loop after the current callback returns,
	// in Post order. It is how work is deferred without a timer.
	Post(f func())

	// Rand is the node's random source: seeded from the run seed in
	// simulation, from crypto/rand in the real world. Only the node's loop
	// may use it.
	Rand() *rand.Rand

	Net() Network
	Disk() Disk

	// Logger logs with the node's name attached (virtual timestamps in
	// simulation).
	Logger() *slog.Logger
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the timer's function from running. It reports whether
	// the call stopped it (false if it already ran or was stopped).
	Stop() bool
}

// Node is a state machine that runs on a Host.
type Node interface {
	// Start is called once on the node's loop when the node (re)starts. A
	// restarted node is a fresh value built by its factory: it recovers
	// from the Disk, never from memory.
	Start(h Host)
}

// Stopper is implemented by nodes that can shut down cleanly (SIGTERM in the
// real world, a planned stop in simulation). Stop is called on the node's
// loop; the node calls done once it has flushed what it must. After done the
// node receives no more callbacks.
type Stopper interface {
	Stop(done func())
}

// Errors shared by every implementation; classify with errors.Is.
var (
	// ErrClosed: the connection, listener or file is closed.
	ErrClosed = errors.New("host: closed")
	// ErrConnRefused: nobody listens at the dialled address.
	ErrConnRefused = errors.New("host: connection refused")
	// ErrConnReset: the connection was reset; frames in flight are lost.
	ErrConnReset = errors.New("host: connection reset")
	// ErrTimeout: a dial or an I/O operation timed out.
	ErrTimeout = errors.New("host: timeout")
	// ErrFrameTooLarge: a frame's length prefix exceeds the limit; the
	// connection is closed with this error.
	ErrFrameTooLarge = errors.New("host: frame too large")
	// ErrAddrInUse: Listen on an address that is already taken.
	ErrAddrInUse = errors.New("host: address in use")
	// ErrNotExist: no such file (wraps fs.ErrNotExist in the real world).
	ErrNotExist = errors.New("host: file does not exist")
	// ErrIO: a read, write or sync failed (EIO).
	ErrIO = errors.New("host: i/o error")
	// ErrNoSpace: the device is full (ENOSPC).
	ErrNoSpace = errors.New("host: no space left on device")
)
