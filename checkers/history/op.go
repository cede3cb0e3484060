package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Type is a record's kind: an invocation or one of the three completions.
type Type string

// Record types.
const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// F names the operation.
type F string

// Operations.
const (
	// Send appends one record to a partition.
	Send F = "send"
	// Poll reads a partition from a position (one Fetch of one partition).
	Poll F = "poll"
)

// NoOffset marks an absent offset (Kafka's -1).
const NoOffset int64 = -1

// NoPartition marks a send invoked before its partition was chosen.
const NoPartition int32 = -1

// Op is one history record. Offset is NoOffset when absent; it is written to
// the JSON only when present.
type Op struct {
	Index     int64
	Time      int64 // ns
	Process   string
	ID        int64
	Type      Type
	F         F
	Topic     string
	Partition int32
	Key       *string // nil = Kafka's null key
	Value     string
	Offset    int64
	Records   []Read
	Error     string
}

// Read is one record returned by a poll.
type Read struct {
	Offset int64   `json:"offset"`
	Key    *string `json:"key,omitempty"`
	Value  string  `json:"value"`
}

// Str returns a pointer to s, for Op.Key and Read.Key.
func Str(s string) *string { return &s }

// ErrMalformed classifies every parse error: the line is not a valid record.
var ErrMalformed = errors.New("history: malformed record")

// Error is a parse error at a line of a history.
type Error struct {
	Line int // 1-based
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("history: line %d: %v", e.Line, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// wire is the JSON form; the field order is the documented one.
type wire struct {
	Index     *int64  `json:"index"`
	Time      *int64  `json:"time"`
	Process   string  `json:"process"`
	ID        *int64  `json:"id"`
	Type      Type    `json:"type"`
	F         F       `json:"f"`
	Topic     string  `json:"topic"`
	Partition *int32  `json:"partition"`
	Key       *string `json:"key,omitempty"`
	Value     *string `json:"value,omitempty"`
	Offset    *int64  `json:"offset,omitempty"`
	Records   []Read  `json:"records,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// Marshal encodes op as one JSON line without the newline. It does not
// validate op (Validate does).
func Marshal(op Op) ([]byte, error) {
	w := wire{
		Index: &op.Index, Time: &op.Time, Process: op.Process, ID: &op.ID,
		Type: op.Type, F: op.F, Topic: op.Topic, Partition: &op.Partition,
		Key: op.Key, Records: op.Records, Error: op.Error,
	}
	if op.F == Send {
		w.Value = &op.Value
	}
	if op.Offset != NoOffset {
		w.Offset = &op.Offset
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes and validates one JSON record (no line number: Reader
// adds it). Errors wrap ErrMalformed.
func Unmarshal(line []byte) (Op, error) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Op{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Op{}, fmt.Errorf("%w: more than one JSON value on the line", ErrMalformed)
	}
	for _, f := range []struct {
		name    string
		missing bool
	}{{"index", w.Index == nil}, {"time", w.Time == nil}, {"id", w.ID == nil}, {"partition", w.Partition == nil}} {
		if f.missing {
			return Op{}, fmt.Errorf("%w: missing field %q", ErrMalformed, f.name)
		}
	}
	op := Op{
		Index: *w.Index, Time: *w.Time, Process: w.Process, ID: *w.ID,
		Type: w.Type, F: w.F, Topic: w.Topic, Partition: *w.Partition,
		Key: w.Key, Records: w.Records, Error: w.Error, Offset: NoOffset,
	}
	if w.Value != nil {
		if w.F != Send {
			return Op{}, fmt.Errorf("%w: value on a %s record", ErrMalformed, w.F)
		}
		op.Value = *w.Value
	} else if w.F == Send {
		return Op{}, fmt.Errorf("%w: send without a value", ErrMalformed)
	}
	if w.Offset != nil {
		op.Offset = *w.Offset
		if op.Offset == NoOffset {
			return Op{}, fmt.Errorf("%w: offset -1 is written as an absent offset", ErrMalformed)
		}
	}
	if w.Records != nil && len(w.Records) == 0 {
		op.Records = nil
	}
	if err := Validate(op); err != nil {
		return Op{}, err
	}
	return op, nil
}

// Validate checks the rules of one record (the field table of the package
// doc). Errors wrap ErrMalformed.
func Validate(op Op) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if op.Index < 0 {
		return bad("negative index %d", op.Index)
	}
	if op.Time < 0 {
		return bad("negative time %d", op.Time)
	}
	if op.Process == "" {
		return bad("empty process")
	}
	if op.Topic == "" {
		return bad("empty topic")
	}
	switch op.Type {
	case Invoke, OK, Info:
	case Fail:
		if op.Error == "" {
			return bad("fail without an error")
		}
	default:
		return bad("unknown type %q", op.Type)
	}
	if op.Type == Invoke && op.Error != "" {
		return bad("invoke with an error")
	}
	if op.Partition < NoPartition || (op.Partition == NoPartition && (op.F != Send || (op.Type != Invoke && op.Type != Fail))) {
		return bad("partition %d on a %s %s", op.Partition, op.F, op.Type)
	}
	if op.Offset < NoOffset {
		return bad("negative offset %d", op.Offset)
	}
	switch op.F {
	case Send:
		if op.Records != nil {
			return bad("records on a send")
		}
		if op.Type == OK && op.Offset == NoOffset {
			return bad("send ok without an offset")
		}
		if op.Type != OK && op.Offset != NoOffset {
			return bad("offset on a send %s", op.Type)
		}
	case Poll:
		if op.Key != nil {
			return bad("key on a poll")
		}
		if op.Offset == NoOffset {
			return bad("poll without a position")
		}
		if op.Type != OK && op.Records != nil {
			return bad("records on a poll %s", op.Type)
		}
		for i, r := range op.Records {
			if r.Offset < 0 {
				return bad("record %d: negative offset %d", i, r.Offset)
			}
			if i > 0 && r.Offset <= op.Records[i-1].Offset {
				return bad("record %d: offset %d after %d", i, r.Offset, op.Records[i-1].Offset)
			}
		}
	default:
		return bad("unknown f %q", op.F)
	}
	return nil
}
