package history

import (
	"errors"
	"fmt"
	"sort"
)

// ErrIllFormed: the records parse but do not form a history (a completion
// without its invoke, a reused id, a completion that contradicts its invoke).
var ErrIllFormed = errors.New("history: ill-formed history")

// Operation is an invoke paired with its completion.
type Operation struct {
	Invoke Op
	// Completion is the ok, fail or info record; zero when Pending.
	Completion Op
	// Pending: the history ended before the operation completed. Checkers
	// treat it as info.
	Pending bool
}

// Outcome is the completion's type, Info when pending.
func (o Operation) Outcome() Type {
	if o.Pending {
		return Info
	}
	return o.Completion.Type
}

// Partition is the operation's partition: the completion's when the invoke
// was recorded before the partition was chosen (NoPartition if never known).
func (o Operation) Partition() int32 {
	if o.Invoke.Partition == NoPartition && !o.Pending {
		return o.Completion.Partition
	}
	return o.Invoke.Partition
}

// Offset is the offset an ok send was assigned, else NoOffset.
func (o Operation) Offset() int64 {
	if o.Invoke.F == Send && o.Outcome() == OK {
		return o.Completion.Offset
	}
	return NoOffset
}

type opKey struct {
	process string
	id      int64
}

// Pair matches every invoke with its completion. The result is in invoke
// order. Errors wrap ErrIllFormed and name the record's index.
//
// Cost: one map lookup per record and one Operation copy per invoke; the
// result is allocated once (an Operation is two records, ~350 bytes, so
// letting append grow a million of them copied ~5 times as much).
func Pair(ops []Op) ([]Operation, error) {
	invokes := 0
	for i := range ops {
		if ops[i].Type == Invoke {
			invokes++
		}
	}
	var out []Operation
	if invokes > 0 {
		out = make([]Operation, 0, invokes)
	}
	// at maps every invoked key to its position in out, for good: a key
	// whose operation completed (Pending false) is closed but stays, so a
	// reuse is still caught.
	at := make(map[opKey]int, invokes)
	for j := range ops {
		op := &ops[j]
		k := opKey{op.Process, op.ID}
		if op.Type == Invoke {
			if _, dup := at[k]; dup {
				return nil, illFormed(op, "id reused")
			}
			at[k] = len(out)
			out = append(out, Operation{Invoke: *op, Pending: true})
			continue
		}
		i, ok := at[k]
		if !ok || !out[i].Pending {
			return nil, illFormed(op, "%s without an open invoke", op.Type)
		}
		inv := &out[i].Invoke
		switch {
		case op.F != inv.F:
			return nil, illFormed(op, "completes a %s with f %s", inv.F, op.F)
		case op.Topic != inv.Topic:
			return nil, illFormed(op, "topic %q, invoked on %q", op.Topic, inv.Topic)
		case inv.Partition != NoPartition && op.Partition != inv.Partition:
			return nil, illFormed(op, "partition %d, invoked on %d", op.Partition, inv.Partition)
		case op.Time < inv.Time:
			return nil, illFormed(op, "completed at %d before its invoke at %d", op.Time, inv.Time)
		case inv.F == Send && (op.Value != inv.Value || !sameKey(op.Key, inv.Key)):
			return nil, illFormed(op, "send completion changes the key or value")
		case inv.F == Poll && op.Offset != inv.Offset:
			return nil, illFormed(op, "poll completion at position %d, invoked at %d", op.Offset, inv.Offset)
		}
		out[i].Completion = *op
		out[i].Pending = false
	}
	return out, nil
}

// illFormed is Pair's error for record op.
func illFormed(op *Op, format string, args ...any) error {
	return fmt.Errorf("%w: record %d (process %q id %d): "+format,
		append([]any{ErrIllFormed, op.Index, op.Process, op.ID}, args...)...)
}

func sameKey(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// ByPartition groups operations by partition (Operation.Partition), each
// group in invoke order, and returns the partitions sorted by topic then
// partition. Sends whose partition was never known are grouped under
// NoPartition.
func ByPartition(ops []Operation) ([]TopicPartition, map[TopicPartition][]Operation) {
	groups := map[TopicPartition][]Operation{}
	var keys []TopicPartition
	for _, o := range ops {
		tp := TopicPartition{o.Invoke.Topic, o.Partition()}
		if _, ok := groups[tp]; !ok {
			keys = append(keys, tp)
		}
		groups[tp] = append(groups[tp], o)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Topic != keys[j].Topic {
			return keys[i].Topic < keys[j].Topic
		}
		return keys[i].Partition < keys[j].Partition
	})
	return keys, groups
}
