package verdict

import (
	"sort"

	"github.com/loglab/loglab/history"
)

// Verdict is a checker's conclusion.
type Verdict string

// Verdicts.
const (
	// Pass: the checker looked and found nothing wrong.
	Pass Verdict = "pass"
	// Fail: the checker found at least one anomaly.
	Fail Verdict = "fail"
	// Unknown: the checker could not decide (timeout, too little history).
	// Never read it as pass.
	Unknown Verdict = "unknown"
)

func rank(v Verdict) int {
	switch v {
	case Pass:
		return 0
	case Unknown:
		return 1
	default:
		return 2
	}
}

// Worst combines verdicts: fail beats unknown beats pass. Worst() is Pass.
func Worst(vs ...Verdict) Verdict {
	out := Pass
	for _, v := range vs {
		if rank(v) > rank(out) {
			out = v
		}
	}
	return out
}

// Anomaly is one finding with the evidence for it.
type Anomaly struct {
	// Kind is the anomaly's name (lost-write, duplicate, ...).
	Kind      string `json:"kind"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Offset is the offset the finding is about, history.NoOffset if none.
	Offset int64 `json:"offset"`
	// Value is the record value the finding is about, if any.
	Value string `json:"value,omitempty"`
	// Explanation says, in one sentence, why the evidence is an anomaly.
	Explanation string `json:"explanation"`
	// Ops are the operations that prove it, in history order.
	Ops []OpRef `json:"ops"`
}

// OpRef points at one operation of the history.
type OpRef struct {
	Process string    `json:"process"`
	ID      int64     `json:"id"`
	F       history.F `json:"f"`
	// Outcome is ok, fail or info (info also when pending).
	Outcome history.Type `json:"outcome"`
	// Invoke and Completion are the records' indexes; Completion is -1 when
	// the operation is pending.
	Invoke     int64 `json:"invoke"`
	Completion int64 `json:"completion"`
	// InvokeTime and CompletionTime are in ns; CompletionTime is -1 when
	// pending.
	InvokeTime     int64 `json:"invoke_time"`
	CompletionTime int64 `json:"completion_time"`
	// Value is a send's value.
	Value string `json:"value,omitempty"`
	// Offset is a send's assigned offset or a poll's fetch position
	// (history.NoOffset when absent).
	Offset int64 `json:"offset"`
	// FirstRead and LastRead are the offsets of an ok poll's first and last
	// record (history.NoOffset when it read nothing).
	FirstRead int64 `json:"first_read"`
	LastRead  int64 `json:"last_read"`
}

// Ref summarises o for evidence.
func Ref(o history.Operation) OpRef {
	r := OpRef{
		Process: o.Invoke.Process, ID: o.Invoke.ID, F: o.Invoke.F, Outcome: o.Outcome(),
		Invoke: o.Invoke.Index, Completion: -1, InvokeTime: o.Invoke.Time, CompletionTime: -1,
		Offset: history.NoOffset, FirstRead: history.NoOffset, LastRead: history.NoOffset,
	}
	if !o.Pending {
		r.Completion, r.CompletionTime = o.Completion.Index, o.Completion.Time
	}
	switch o.Invoke.F {
	case history.Send:
		r.Value, r.Offset = o.Invoke.Value, o.Offset()
	case history.Poll:
		r.Offset = o.Invoke.Offset
		if recs := o.Completion.Records; !o.Pending && len(recs) > 0 {
			r.FirstRead, r.LastRead = recs[0].Offset, recs[len(recs)-1].Offset
		}
	}
	return r
}

// Sort orders anomalies by kind, topic, partition, offset, value, then the
// first op's invoke index, and each anomaly's ops by invoke index: the
// report's order never depends on map iteration.
func Sort(as []Anomaly) {
	for i := range as {
		ops := as[i].Ops
		sort.SliceStable(ops, func(a, b int) bool { return ops[a].Invoke < ops[b].Invoke })
	}
	sort.SliceStable(as, func(i, j int) bool {
		a, b := &as[i], &as[j]
		switch {
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case a.Topic != b.Topic:
			return a.Topic < b.Topic
		case a.Partition != b.Partition:
			return a.Partition < b.Partition
		case a.Offset != b.Offset:
			return a.Offset < b.Offset
		case a.Value != b.Value:
			return a.Value < b.Value
		}
		return firstInvoke(a) < firstInvoke(b)
	})
}

func firstInvoke(a *Anomaly) int64 {
	if len(a.Ops) == 0 {
		return -1
	}
	return a.Ops[0].Invoke
}

// KindCount is the number of anomalies of one kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// Count tallies anomalies by kind, sorted by kind.
func Count(as []Anomaly) []KindCount {
	n := map[string]int{}
	var kinds []string
	for _, a := range as {
		if n[a.Kind] == 0 {
			kinds = append(kinds, a.Kind)
		}
		n[a.Kind]++
	}
	sort.Strings(kinds)
	out := make([]KindCount, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, KindCount{k, n[k]})
	}
	return out
}
