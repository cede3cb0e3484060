package history

import (
	"fmt"
	"io"
)

// Writer appends records to a history: JSONL to an io.Writer, in memory, or
// both. It numbers records 0, 1, ... in Append order.
//
// A Writer is used from one goroutine: clients of one simulated world share
// it on the world's goroutine. In real runs, where clients run on different
// event loops, give it a lock with SetLocker (e.g. a *sync.Mutex) so that
// index order is append order.
type Writer struct {
	mu   Locker
	out  io.Writer
	keep bool
	ops  []Op
	next int64
	err  error
}

// Locker is sync.Locker, declared here so that simulated code need not
// import sync.
type Locker interface {
	Lock()
	Unlock()
}

type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

// SetLocker makes every method hold l. Call it before sharing the Writer.
func (w *Writer) SetLocker(l Locker) { w.mu = l }

// NewWriter returns a Writer that writes JSONL to out.
func NewWriter(out io.Writer) *Writer { return &Writer{mu: noLock{}, out: out} }

// NewMemory returns a Writer that keeps the records in memory (see Ops).
func NewMemory() *Writer { return &Writer{mu: noLock{}, keep: true} }

// Tee returns a Writer that writes JSONL to out and keeps the records.
func Tee(out io.Writer) *Writer { return &Writer{mu: noLock{}, out: out, keep: true} }

// Append numbers op, validates it and writes it; it returns op with its
// Index. An invalid op or a write error is kept as the Writer's first error
// (Err) and the op is not recorded: a client bug must not silently produce a
// history the checkers misread.
func (w *Writer) Append(op Op) Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	op.Index = w.next
	if err := Validate(op); err != nil {
		w.setErr(fmt.Errorf("history: append record %d: %w", op.Index, err))
		return op
	}
	if w.out != nil {
		line, err := Marshal(op)
		if err == nil {
			_, err = w.out.Write(append(line, '\n'))
		}
		if err != nil {
			w.setErr(fmt.Errorf("history: write record %d: %w", op.Index, err))
			return op
		}
	}
	if w.keep {
		op.Records = append([]Read(nil), op.Records...)
		w.ops = append(w.ops, op)
	}
	w.next++
	return op
}

func (w *Writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Err is the first error Append met, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Len is the number of records appended.
func (w *Writer) Len() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// Ops returns a copy of the records kept (NewMemory, Tee); nil otherwise.
func (w *Writer) Ops() []Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Op(nil), w.ops...)
}
