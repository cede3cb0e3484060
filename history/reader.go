package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Reader parses a JSONL history record by record.
type Reader struct {
	br        *bufio.Reader
	line      int
	lastIndex int64
	err       error
}

// NewReader reads a history from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReader(r), lastIndex: -1}
}

// Next returns the next record, io.EOF after the last one, or an *Error
// (wrapping ErrMalformed) naming the line. Blank lines are skipped. Indexes
// must strictly increase. After an error, Next keeps returning it.
func (r *Reader) Next() (Op, error) {
	if r.err != nil {
		return Op{}, r.err
	}
	for {
		raw, err := r.br.ReadBytes('\n')
		if len(raw) == 0 && err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = fmt.Errorf("history: read after line %d: %w", r.line, err)
			} else {
				r.err = io.EOF
			}
			return Op{}, r.err
		}
		r.line++
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		op, perr := Unmarshal(line)
		if perr == nil && op.Index <= r.lastIndex {
			perr = fmt.Errorf("%w: index %d after %d", ErrMalformed, op.Index, r.lastIndex)
		}
		if perr != nil {
			r.err = &Error{Line: r.line, Err: perr}
			return Op{}, r.err
		}
		r.lastIndex = op.Index
		return op, nil
	}
}

// Parse reads a whole history.
func Parse(r io.Reader) ([]Op, error) {
	rd := NewReader(r)
	var ops []Op
	for {
		op, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return ops, nil
		}
		if err != nil {
			return ops, err
		}
		ops = append(ops, op)
	}
}

// ParseBytes is Parse over a byte slice.
func ParseBytes(b []byte) ([]Op, error) { return Parse(bytes.NewReader(b)) }
