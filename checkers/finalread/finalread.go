package finalread

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// Name is this checker's name in reports and on the command line.
const Name = "final-read"

// DefaultFinalReader is Options.FinalReader when empty: the process that
// makes the final read in loglab's scenarios.
const DefaultFinalReader = "final-reader"

// Anomaly kinds (package doc). LostWrite and DivergentOffset share their
// names with package queue's kinds, which they refine.
const (
	LostWrite       = "lost-write"
	DivergentOffset = "divergent-offset"
	UnstableRead    = "unstable-read"
	Phantom         = "phantom"
)

// Kinds lists every anomaly kind this checker reports, sorted.
var Kinds = []string{DivergentOffset, LostWrite, Phantom, UnstableRead}

// Options name the final reader.
type Options struct {
	// FinalReader is the process whose polls are the final read
	// (DefaultFinalReader when empty).
	FinalReader string `json:"final_reader,omitempty"`
}

// Stats count what the history holds and what the final read kept.
type Stats struct {
	SendsOK   int `json:"sends_ok"`
	SendsFail int `json:"sends_fail"`
	// SendsInfo counts info and pending sends.
	SendsInfo int `json:"sends_info"`
	PollsOK   int `json:"polls_ok"`
	// RecordsRead counts the records every ok poll returned.
	RecordsRead int `json:"records_read"`
	// FinalRecords counts the distinct positions the final read returned.
	FinalRecords int `json:"final_records"`
	// AckedLost counts lost writes; UnstableReads every read the final
	// read contradicts that is not a lost write (an anomaly or not, the
	// caller's spec decides); Duplicates the extra positions of values the
	// final read holds more than once.
	AckedLost     int `json:"acked_lost"`
	UnstableReads int `json:"unstable_reads"`
	Duplicates    int `json:"duplicates"`
}

// Result is the checker's output.
type Result struct {
	Verdict verdict.Verdict `json:"verdict"`
	// FinalReader is the process whose polls were the final read.
	FinalReader string              `json:"final_reader"`
	Stats       Stats               `json:"stats"`
	Counts      []verdict.KindCount `json:"counts"`
	Anomalies   []verdict.Anomaly   `json:"anomalies"`
}

type tp = history.TopicPartition

// read is one record an ok poll returned.
type read struct {
	op int // index into the paired history
	v  string
}

// part is one partition's final read, its offsets and values in maps of
// their own: a read that agrees with the final read (nearly every one)
// costs one lookup by offset.
type part struct {
	tp      tp
	at      map[int64]read     // by offset: the first value the final read saw there
	offsets []int64            // at's keys, in the order read
	has     map[string][]int64 // the final read's offsets of each value
	values  []string           // has's keys, in the order read
}

// odd is a read that disagrees with the final read (or the final read's
// second value at an offset).
type odd struct {
	part *part
	tp   tp
	o    int64
	read read
}

// Check judges a paired history (history.Pair) by its final read.
func Check(ops []history.Operation, opts Options) Result {
	final := opts.FinalReader
	if final == "" {
		final = DefaultFinalReader
	}
	res := Result{Verdict: verdict.Pass, FinalReader: final, Counts: []verdict.KindCount{}, Anomalies: []verdict.Anomaly{}}
	add := func(kind string, t tp, o int64, value, format string, args ...any) *verdict.Anomaly {
		res.Anomalies = append(res.Anomalies, verdict.Anomaly{Kind: kind, Topic: t.Topic, Partition: t.Partition,
			Offset: o, Value: value, Explanation: fmt.Sprintf(format, args...), Ops: []verdict.OpRef{}})
		return &res.Anomalies[len(res.Anomalies)-1]
	}

	// The sends, and the final read by partition.
	sends := map[string]int{} // by value (workloads make values unique): the send's op
	var acked, polls []int
	parts := map[tp]*part{}
	var order []*part // parts in the order first read
	var odds []odd
	hasFinal := false
	for i, op := range ops {
		switch op.Invoke.F {
		case history.Send:
			switch op.Outcome() {
			case history.OK:
				res.Stats.SendsOK++
				acked = append(acked, i)
			case history.Fail:
				res.Stats.SendsFail++
			default:
				res.Stats.SendsInfo++
			}
			sends[op.Invoke.Value] = i
		case history.Poll:
			if op.Outcome() != history.OK {
				continue
			}
			res.Stats.PollsOK++
			res.Stats.RecordsRead += len(op.Completion.Records)
			if op.Invoke.Process != final {
				polls = append(polls, i) // judged once the final read is known
				continue
			}
			hasFinal = true
			t := tp{Topic: op.Invoke.Topic, Partition: op.Partition()}
			pt := parts[t]
			if pt == nil {
				pt = &part{tp: t, at: map[int64]read{}, has: map[string][]int64{}}
				parts[t] = pt
				order = append(order, pt)
			}
			for _, r := range op.Completion.Records {
				prev, seen := pt.at[r.Offset]
				switch {
				case !seen:
					pt.at[r.Offset] = read{i, r.Value}
					pt.offsets = append(pt.offsets, r.Offset)
					if _, ok := pt.has[r.Value]; !ok {
						pt.values = append(pt.values, r.Value)
					}
					pt.has[r.Value] = append(pt.has[r.Value], r.Offset)
					res.Stats.FinalRecords++
				case prev.v != r.Value:
					a := add(DivergentOffset, t, r.Offset, r.Value, "the final read saw %q and %q at offset %d of %s/%d", prev.v, r.Value, r.Offset, t.Topic, t.Partition)
					a.Ops = append(a.Ops, verdict.Ref(ops[prev.op]), verdict.Ref(op))
					odds = append(odds, odd{pt, t, r.Offset, read{i, r.Value}})
				}
			}
		}
	}
	if !hasFinal {
		res.Verdict = verdict.Unknown
		return res
	}
	holds := func(pt *part, o int64) (read, bool) {
		if pt == nil {
			return read{}, false
		}
		r, ok := pt.at[o]
		return r, ok
	}

	// Every acknowledgement against the final read.
	lost := map[string]bool{}
	for _, i := range acked {
		op := ops[i]
		t, o, v := tp{Topic: op.Invoke.Topic, Partition: op.Partition()}, op.Offset(), op.Invoke.Value
		pt := parts[t]
		var offs []int64
		if pt != nil {
			offs = pt.has[v]
		}
		there, has := holds(pt, o)
		var a *verdict.Anomaly
		switch {
		case len(offs) == 0:
			res.Stats.AckedLost++
			lost[v] = true
			a = add(LostWrite, t, o, v, "value %q was acknowledged at offset %d of %s/%d and is absent from the final read (which holds %s there)",
				v, o, t.Topic, t.Partition, describe(there, has))
		case !has || there.v != v:
			a = add(DivergentOffset, t, o, v, "value %q was acknowledged at offset %d of %s/%d, but the final read holds it at offsets %v (and %s at %d)",
				v, o, t.Topic, t.Partition, offs, describe(there, has), o)
		default:
			continue
		}
		a.Ops = append(a.Ops, verdict.Ref(op))
		if has {
			a.Ops = append(a.Ops, verdict.Ref(ops[there.op]))
		}
	}

	// What the final read holds must have been sent.
	phantom := func(t tp, o int64, r read) bool {
		si, sent := sends[r.v]
		if sent && ops[si].Outcome() != history.Fail {
			return false
		}
		poll := ops[r.op]
		a := add(Phantom, t, o, r.v, "%s read %q at offset %d of %s/%d, a value never sent or whose send failed",
			poll.Invoke.Process, r.v, o, t.Topic, t.Partition)
		a.Ops = append(a.Ops, verdict.Ref(poll))
		if sent {
			a.Ops = append(a.Ops, verdict.Ref(ops[si]))
		}
		return true
	}
	for _, pt := range order {
		for _, o := range pt.offsets {
			phantom(pt.tp, o, pt.at[o])
		}
		for _, v := range pt.values {
			res.Stats.Duplicates += len(pt.has[v]) - 1
		}
	}

	// Every other read: one that agrees with the final read is stable; the
	// others, each distinct value at each offset once, are phantoms, lost
	// writes (reported above) or unstable reads.
	for _, i := range polls {
		op := ops[i]
		t := tp{Topic: op.Invoke.Topic, Partition: op.Partition()}
		pt := parts[t]
		for _, r := range op.Completion.Records {
			if there, ok := holds(pt, r.Offset); ok && there.v == r.Value {
				continue
			}
			odds = append(odds, odd{pt, t, r.Offset, read{i, r.Value}})
		}
	}
	slices.SortFunc(odds, func(a, b odd) int {
		return cmp.Or(strings.Compare(a.tp.Topic, b.tp.Topic), cmp.Compare(a.tp.Partition, b.tp.Partition),
			cmp.Compare(a.o, b.o), cmp.Compare(a.read.op, b.read.op))
	})
	group := 0 // odds[group:] share an offset
	for j, d := range odds {
		if g := odds[group]; g.tp != d.tp || g.o != d.o {
			group = j
		}
		if slices.ContainsFunc(odds[group:j], func(e odd) bool { return e.read.v == d.read.v }) {
			continue // judged at its first read
		}
		if phantom(d.tp, d.o, d.read) || lost[d.read.v] {
			continue // a lost write is reported above
		}
		res.Stats.UnstableReads++
		there, has := holds(d.part, d.o)
		var elsewhere []int64
		if d.part != nil {
			elsewhere = d.part.has[d.read.v]
		}
		si := sends[d.read.v]
		poll := ops[d.read.op]
		a := add(UnstableRead, d.tp, d.o, d.read.v, "%s read %q at offset %d of %s/%d (its send: %s); the final read holds %s there (and %q at offsets %v)",
			poll.Invoke.Process, d.read.v, d.o, d.tp.Topic, d.tp.Partition, ops[si].Outcome(), describe(there, has), d.read.v, elsewhere)
		a.Ops = append(a.Ops, verdict.Ref(poll), verdict.Ref(ops[si]))
	}

	verdict.Sort(res.Anomalies)
	res.Counts = verdict.Count(res.Anomalies)
	if len(res.Anomalies) > 0 {
		res.Verdict = verdict.Fail
	}
	return res
}

func describe(r read, ok bool) string {
	if !ok {
		return "nothing"
	}
	return fmt.Sprintf("%q", r.v)
}
