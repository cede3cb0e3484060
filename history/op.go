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
	// Assign: a group member starts owning Partitions of Topic (after its
	// SyncGroup); invoke and ok are written together.
	Assign F = "assign"
	// Revoke: a group member stops consuming Partitions of Topic (before
	// it rejoins, when fenced, when it leaves); invoke and ok together.
	Revoke F = "revoke"
	// Commit is an OffsetCommit of one partition: the invoke carries the
	// offset (the next to consume), Group, Member and Generation.
	Commit F = "commit"
	// FetchOffset is an OffsetFetch of one partition: ok carries the
	// committed offset (absent: none).
	FetchOffset F = "fetch-offset"
)

// IsGroupOp reports whether f is a consumer-group operation (the group
// checker's), rather than a send or a poll.
func IsGroupOp(f F) bool { return f == Assign || f == Revoke || f == Commit || f == FetchOffset }

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
	// Consumer groups: set on group operations, and on polls by a group
	// member. Generation is meaningful only with Group set (-1: an
	// administrator's commit outside any generation).
	Group      string
	Member     string
	Generation int32
	Partitions []int32 // assign and revoke
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

	Group      string  `json:"group,omitempty"`
	Member     string  `json:"member,omitempty"`
	Generation *int32  `json:"generation,omitempty"`
	Partitions []int32 `json:"partitions,omitempty"`
}

// Marshal encodes op as one JSON line without the newline. It does not
// validate op (Validate does).
func Marshal(op Op) ([]byte, error) {
	w := wire{
		Index: &op.Index, Time: &op.Time, Process: op.Process, ID: &op.ID,
		Type: op.Type, F: op.F, Topic: op.Topic, Partition: &op.Partition,
		Key: op.Key, Records: op.Records, Error: op.Error,
		Group: op.Group, Member: op.Member, Partitions: op.Partitions,
	}
	if op.Group != "" {
		w.Generation = &op.Generation
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
		Group: w.Group, Member: w.Member, Partitions: w.Partitions,
	}
	if w.Generation != nil {
		if w.Group == "" {
			return Op{}, fmt.Errorf("%w: generation without a group", ErrMalformed)
		}
		op.Generation = *w.Generation
	} else if w.Group != "" {
		return Op{}, fmt.Errorf("%w: group without a generation", ErrMalformed)
	}
	if w.Partitions != nil && len(w.Partitions) == 0 {
		op.Partitions = nil
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
	membership := op.F == Assign || op.F == Revoke
	if op.Partition < NoPartition || (op.Partition == NoPartition && !membership && (op.F != Send || (op.Type != Invoke && op.Type != Fail))) {
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
	case Assign, Revoke:
		if op.Group == "" || op.Partition != NoPartition || op.Offset != NoOffset || op.Key != nil || op.Records != nil {
			return bad("%s needs a group, partition -1, and no offset, key or records", op.F)
		}
		if op.Type != Invoke && op.Type != OK {
			return bad("%s %s: membership changes are invoke and ok only", op.F, op.Type)
		}
		for i, p := range op.Partitions {
			if p < 0 || i > 0 && p <= op.Partitions[i-1] {
				return bad("%s partitions %v: want ascending, non-negative", op.F, op.Partitions)
			}
		}
	case Commit, FetchOffset:
		if op.Group == "" || op.Key != nil || op.Records != nil || op.Partitions != nil {
			return bad("%s needs a group and no key, records or partitions", op.F)
		}
		if op.F == Commit && op.Offset == NoOffset {
			return bad("commit without an offset")
		}
		if op.F == FetchOffset && op.Type != OK && op.Offset != NoOffset {
			return bad("offset on a fetch-offset %s", op.Type)
		}
	default:
		return bad("unknown f %q", op.F)
	}
	if op.Group == "" && (op.Member != "" || op.Generation != 0) {
		return bad("member or generation without a group")
	}
	if op.F == Send && op.Group != "" {
		return bad("group on a send")
	}
	return nil
}
