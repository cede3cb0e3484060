package realhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"

	"github.com/loglab/loglab/host"
)

// The OS's errors are mapped onto host's sentinels with both kept in the
// chain ("%w: %w"), so errors.Is works for host.ErrNotExist and for
// fs.ErrNotExist or syscall.ECONNREFUSED alike.

func classify(sentinel, err error) error {
	if errors.Is(err, sentinel) {
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// mapNetErr classifies an error from an established connection or a
// listener. nil stays nil.
func mapNetErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, host.ErrFrameTooLarge), errors.Is(err, host.ErrConnReset),
		errors.Is(err, host.ErrTimeout), errors.Is(err, host.ErrConnRefused),
		errors.Is(err, host.ErrAddrInUse), errors.Is(err, host.ErrClosed):
		return err
	case errors.Is(err, syscall.ECONNREFUSED):
		return classify(host.ErrConnRefused, err)
	case errors.Is(err, syscall.EADDRINUSE):
		return classify(host.ErrAddrInUse, err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, io.ErrUnexpectedEOF):
		// A frame cut short by the peer is a reset: what was in flight is lost.
		return classify(host.ErrConnReset, err)
	case isTimeout(err):
		return classify(host.ErrTimeout, err)
	case errors.Is(err, net.ErrClosed):
		return classify(host.ErrClosed, err)
	}
	return err
}

// mapDialErr classifies a failed dial: by the host contract it is either a
// timeout or a refusal (unreachable hosts, unknown names and the like count
// as refused: nobody could be reached).
func mapDialErr(err error) error {
	if isTimeout(err) {
		return classify(host.ErrTimeout, err)
	}
	return classify(host.ErrConnRefused, err)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// mapDiskErr classifies a file system error. io.EOF is passed through
// untouched: short reads at the end of a file report it like os.File.
func mapDiskErr(err error) error {
	switch {
	case err == nil || err == io.EOF:
		return err
	case errors.Is(err, fs.ErrNotExist):
		return classify(host.ErrNotExist, err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return classify(host.ErrNoSpace, err)
	case errors.Is(err, syscall.EIO):
		return classify(host.ErrIO, err)
	case errors.Is(err, fs.ErrClosed):
		return classify(host.ErrClosed, err)
	}
	return err
}
