// Package histgen builds histories for the checkers' tests and benchmarks:
// a Builder for hand-written histories, and Generate, which records a
// correct history — operations concurrent at random, some ending info or
// pending — from a sequential log, so every checker must find it clean.
//
// Ownership and imports: test and benchmark support for the checkers and
// the history package; imports history and math/rand/v2 with an explicit
// seed. Nothing in production imports it.
package histgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/loglab/loglab/history"
)

// Builder appends records; times advance by Step per record unless set
// with At.
type Builder struct {
	ops  []history.Op
	ids  map[string]int64
	open map[[2]any]history.Op
	now  int64
	Step int64
}

// New returns a Builder whose records are 1 ms apart.
func New() *Builder {
	return &Builder{ids: map[string]int64{}, open: map[[2]any]history.Op{}, Step: 1_000_000}
}

// At sets the time of the next record.
func (b *Builder) At(t int64) *Builder { b.now = t; return b }

func (b *Builder) record(op history.Op) {
	op.Index = int64(len(b.ops))
	op.Time = b.now
	b.now += b.Step
	b.ops = append(b.ops, op)
}

// Ref names an open operation.
type Ref struct {
	Process string
	ID      int64
}

func (b *Builder) invoke(op history.Op) Ref {
	b.ids[op.Process]++
	op.ID = b.ids[op.Process]
	op.Type = history.Invoke
	r := Ref{op.Process, op.ID}
	b.open[[2]any{r.Process, r.ID}] = op
	b.record(op)
	return r
}

func (b *Builder) complete(r Ref, t history.Type, f func(*history.Op)) {
	k := [2]any{r.Process, r.ID}
	op, ok := b.open[k]
	if !ok {
		panic(fmt.Sprintf("histgen: %v is not open", r))
	}
	delete(b.open, k)
	op.Type = t
	if t != history.OK {
		op.Error = "test"
		if op.F == history.Send {
			op.Offset = history.NoOffset
		}
	}
	if f != nil {
		f(&op)
	}
	b.record(op)
}

// InvokeSend begins a send of value to topic/partition (NoPartition: chosen
// at completion).
func (b *Builder) InvokeSend(process, topic string, partition int32, value string) Ref {
	return b.invoke(history.Op{Process: process, F: history.Send, Topic: topic, Partition: partition, Value: value, Offset: history.NoOffset})
}

// SendOK completes a send at offset (in partition, if it was not chosen).
func (b *Builder) SendOK(r Ref, partition int32, offset int64) {
	b.complete(r, history.OK, func(op *history.Op) {
		if op.Partition == history.NoPartition {
			op.Partition = partition
		}
		op.Offset = offset
	})
}

// SendFail and SendInfo complete a send without an offset.
func (b *Builder) SendFail(r Ref) { b.complete(r, history.Fail, nil) }

// SendInfo completes a send with an unknown outcome.
func (b *Builder) SendInfo(r Ref) { b.complete(r, history.Info, nil) }

// InvokePoll begins a poll of topic/partition at position.
func (b *Builder) InvokePoll(process, topic string, partition int32, position int64) Ref {
	return b.invoke(history.Op{Process: process, F: history.Poll, Topic: topic, Partition: partition, Offset: position})
}

// PollOK completes a poll with records.
func (b *Builder) PollOK(r Ref, recs ...history.Read) {
	b.complete(r, history.OK, func(op *history.Op) { op.Records = recs })
}

// PollFail completes a poll with an error.
func (b *Builder) PollFail(r Ref) { b.complete(r, history.Fail, nil) }

// Send is a send invoked and acknowledged at offset, with nothing between.
func (b *Builder) Send(process, topic string, partition int32, value string, offset int64) {
	b.SendOK(b.InvokeSend(process, topic, partition, value), partition, offset)
}

// Poll is a poll invoked and completed with records, with nothing between.
func (b *Builder) Poll(process, topic string, partition int32, position int64, recs ...history.Read) {
	b.PollOK(b.InvokePoll(process, topic, partition, position), recs...)
}

// Ops returns the records.
func (b *Builder) Ops() []history.Op { return append([]history.Op(nil), b.ops...) }

// Pairs returns the paired operations; it panics on an ill-formed history
// (a bug in the test).
func (b *Builder) Pairs() []history.Operation {
	p, err := history.Pair(b.ops)
	if err != nil {
		panic(err)
	}
	return p
}

// R is a record read at offset.
func R(offset int64, value string) history.Read { return history.Read{Offset: offset, Value: value} }

// Config shapes a generated history.
type Config struct {
	Seed       uint64
	Ops        int // operations to start (sends and polls)
	Partitions int32
	Producers  int
	InFlight   int // sends in flight per producer
	Consumers  int // each polls every partition, one poll at a time
	// InfoPercent of completed sends end info (half applied, half not);
	// FailPercent end fail (never applied).
	InfoPercent, FailPercent int
	// PollPercent of started operations are polls.
	PollPercent int
	// MaxRecords bounds a poll's records.
	MaxRecords int
}

type inflight struct {
	ref       Ref
	partition int32
	poll      bool
	applied   bool
	offset    int64
	value     string
	recs      []history.Read
	outcome   history.Type
}

// Generate records a correct history: every operation takes effect on a
// sequential log (one per partition) at an instant between its invoke and
// completion, polls read contiguously from their position up to the log end,
// consumers advance contiguously, and some sends end info (applied or not)
// or fail (not applied). Operations left open at the end are pending.
func Generate(cfg Config) []history.Op {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x10c1ab))
	b := New()
	logs := make([][]string, cfg.Partitions)
	var fly []*inflight
	busy := map[string]int{} // in-flight ops per process
	pos := map[[2]any]int64{}
	started, nvalue := 0, 0
	for started < cfg.Ops || len(fly) > 0 {
		if started >= cfg.Ops && rng.IntN(50) == 0 {
			break // leave the rest pending
		}
		if started < cfg.Ops && (len(fly) == 0 || rng.IntN(3) == 0) {
			p := int32(rng.IntN(int(cfg.Partitions)))
			if rng.IntN(100) < cfg.PollPercent && cfg.Consumers > 0 {
				c := fmt.Sprintf("consumer-%d", rng.IntN(cfg.Consumers))
				k := [2]any{c, p}
				if busy[fmt.Sprint(c, p)] > 0 {
					continue
				}
				at := pos[k]
				if rng.IntN(20) == 0 {
					at = rng.Int64N(int64(len(logs[p])) + 1) // a seek
				}
				busy[fmt.Sprint(c, p)]++
				fly = append(fly, &inflight{ref: b.InvokePoll(c, "t", p, at), partition: p, poll: true, offset: at})
			} else {
				pr := fmt.Sprintf("producer-%d", rng.IntN(cfg.Producers))
				if busy[pr] >= cfg.InFlight {
					continue
				}
				busy[pr]++
				nvalue++
				v := fmt.Sprintf("v%d", nvalue)
				fly = append(fly, &inflight{ref: b.InvokeSend(pr, "t", p, v), partition: p, value: v})
			}
			started++
			continue
		}
		i := rng.IntN(len(fly))
		f := fly[i]
		lg := &logs[f.partition]
		if !f.applied {
			// Take effect now (or, for doomed sends, decide never to).
			f.applied = true
			if f.poll {
				end := min(int64(len(*lg)), f.offset+1+int64(rng.IntN(max(cfg.MaxRecords, 1))))
				for o := f.offset; o < end; o++ {
					f.recs = append(f.recs, R(o, (*lg)[o]))
				}
				continue
			}
			f.outcome = history.OK
			switch r := rng.IntN(100); {
			case r < cfg.FailPercent:
				f.outcome = history.Fail
			case r < cfg.FailPercent+cfg.InfoPercent:
				f.outcome = history.Info
				if rng.IntN(2) == 0 {
					continue // info, never applied
				}
			}
			if f.outcome != history.Fail {
				f.offset = int64(len(*lg))
				*lg = append(*lg, f.value)
			}
			continue
		}
		fly = append(fly[:i], fly[i+1:]...)
		if f.poll {
			busy[fmt.Sprint(f.ref.Process, f.partition)]--
			b.PollOK(f.ref, f.recs...)
			next := f.offset
			if len(f.recs) > 0 {
				next = f.recs[len(f.recs)-1].Offset + 1
			}
			pos[[2]any{f.ref.Process, f.partition}] = next
			continue
		}
		busy[f.ref.Process]--
		switch f.outcome {
		case history.OK:
			b.SendOK(f.ref, f.partition, f.offset)
		case history.Fail:
			b.SendFail(f.ref)
		default:
			b.SendInfo(f.ref)
		}
	}
	return b.Ops()
}
