package netsim

import (
	"errors"
	"strconv"

	"github.com/loglab/loglab/host"
)

// detail is "c<id> <from>><to>" for the direction sent by side.
func (c *conn) detail(side int) string {
	return string(c.appendDetail(make([]byte, 0, 8+len(c.laddr)+len(c.raddr)), side))
}

// appendDetail appends "c<id> <from>><to>" for the direction sent by side.
func (c *conn) appendDetail(b []byte, side int) []byte {
	from, to := c.laddr, c.raddr
	if side == 1 {
		from, to = to, from
	}
	b = append(b, 'c')
	b = strconv.AppendUint(b, c.id, 10)
	b = append(b, ' ')
	b = append(b, from...)
	b = append(b, '>')
	return append(b, to...)
}

// frameDetail adds the frame's length and FNV-64a hash, so the trace hash
// covers every byte delivered.
func (c *conn) frameDetail(side int, frame []byte) string {
	b := c.appendDetail(make([]byte, 0, 48+len(c.laddr)+len(c.raddr)), side)
	b = append(b, " len="...)
	b = strconv.AppendInt(b, int64(len(frame)), 10)
	b = append(b, " fnv="...)
	b = strconv.AppendUint(b, FrameHash(frame), 16)
	return string(b)
}

// FrameHash is FNV-64a of frame, as written in the trace.
func FrameHash(frame []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range frame {
		h ^= uint64(x)
		h *= 1099511628211
	}
	return h
}

// errClass names err's sentinel for the trace (never its text).
func errClass(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, host.ErrFrameTooLarge):
		return "toolarge"
	case errors.Is(err, host.ErrConnRefused):
		return "refused"
	case errors.Is(err, host.ErrTimeout):
		return "timeout"
	case errors.Is(err, host.ErrConnReset):
		return "reset"
	}
	return "other"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
