package liveness

import (
	"fmt"
	"time"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// Name is this checker's name in reports and on the command line.
const Name = "liveness"

// Kind is the anomaly kind of a recovery slower than the bound, or none.
const Kind = "liveness"

// DefaultBound is the recovery bound when Options.Bound is zero.
const DefaultBound = 10 * time.Second

// Options say when faults healed and how fast the cluster must recover.
type Options struct {
	// HealTimes are the history times (ns) at which faults healed; the
	// check measures from the last. None: from the history's first record.
	HealTimes []int64
	// Bound is the longest acceptable time to recover (0: DefaultBound).
	Bound time.Duration
}

// Recovery is the time to the first success after the heal, in ns; -1 when
// there was none.
type Recovery struct {
	// Send: the first ok send completing at or after the heal.
	Send int64 `json:"send_ns"`
	// Poll: the first ok poll completing at or after the heal with at least
	// one record.
	Poll int64 `json:"poll_ns"`
}

// PartitionResult is one partition's recovery.
type PartitionResult struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Recovery
	// SendsTried and PollsTried: whether the workload asked this partition
	// for a write (any send invoked at or after the heal) or a non-empty
	// read (a poll invoked at or after the heal, where some record is known
	// to exist); only what was asked for is judged.
	SendsTried bool            `json:"sends_tried"`
	PollsTried bool            `json:"polls_tried"`
	Verdict    verdict.Verdict `json:"verdict"`
}

// Result is the checker's output.
type Result struct {
	Verdict verdict.Verdict `json:"verdict"`
	// Heal is the time measured from; Bound the bound applied (ns); End the
	// history's last record time.
	Heal  int64 `json:"heal_ns"`
	Bound int64 `json:"bound_ns"`
	End   int64 `json:"end_ns"`
	// Overall: the first ok send and non-empty poll after the heal on any
	// partition.
	Overall    Recovery          `json:"overall"`
	Partitions []PartitionResult `json:"partitions"`
	Anomalies  []verdict.Anomaly `json:"anomalies"`
}

// Check measures time to recover after the last heal (package doc).
func Check(ops []history.Operation, opts Options) Result {
	bound := int64(opts.Bound)
	if bound <= 0 {
		bound = int64(DefaultBound)
	}
	res := Result{Verdict: verdict.Pass, Bound: bound, Overall: Recovery{-1, -1}, Partitions: []PartitionResult{}, Anomalies: []verdict.Anomaly{}}
	heal, end := int64(-1), int64(0)
	for _, t := range opts.HealTimes {
		heal = max(heal, t)
	}
	for _, o := range ops {
		end = max(end, o.Invoke.Time)
		if !o.Pending {
			end = max(end, o.Completion.Time)
		}
		if len(opts.HealTimes) == 0 && (heal < 0 || o.Invoke.Time < heal) {
			heal = o.Invoke.Time
		}
	}
	heal = max(heal, 0)
	res.Heal, res.End = heal, end
	keys, groups := history.ByPartition(ops)
	overallFirst := map[history.F]*history.Operation{}
	judged := false
	for _, tp := range keys {
		if tp.Partition == history.NoPartition {
			continue
		}
		pr := PartitionResult{Topic: tp.Topic, Partition: tp.Partition, Recovery: Recovery{-1, -1}}
		hasData := false
		var firstSend, firstPoll *history.Operation
		group := groups[tp]
		for i := range group {
			o := &group[i]
			ok := o.Outcome() == history.OK
			if ok && (o.Invoke.F == history.Send || len(o.Completion.Records) > 0) {
				hasData = true
			}
			if o.Invoke.Time >= heal && o.Invoke.F == history.Send {
				pr.SendsTried = true
			}
			if o.Invoke.Time >= heal && o.Invoke.F == history.Poll {
				pr.PollsTried = true
			}
			if !ok || o.Completion.Time < heal {
				continue
			}
			switch {
			case o.Invoke.F == history.Send:
				firstSend = earlier(firstSend, o)
			case len(o.Completion.Records) > 0:
				firstPoll = earlier(firstPoll, o)
			}
		}
		pr.PollsTried = pr.PollsTried && hasData
		judged = judged || pr.SendsTried || pr.PollsTried
		pr.Send, pr.Poll = since(firstSend, heal), since(firstPoll, heal)
		overallFirst[history.Send] = earlier(overallFirst[history.Send], firstSend)
		overallFirst[history.Poll] = earlier(overallFirst[history.Poll], firstPoll)
		pr.Verdict = verdict.Pass
		for _, w := range []struct {
			what    string
			tried   bool
			first   *history.Operation
			elapsed int64
		}{{"an acknowledged send", pr.SendsTried, firstSend, pr.Send}, {"a non-empty poll", pr.PollsTried, firstPoll, pr.Poll}} {
			v, why := judge(w.tried, w.elapsed, heal, bound, end)
			pr.Verdict = verdict.Worst(pr.Verdict, v)
			if v != verdict.Fail {
				continue
			}
			a := verdict.Anomaly{Kind: Kind, Topic: tp.Topic, Partition: tp.Partition, Offset: history.NoOffset, Ops: []verdict.OpRef{},
				Explanation: fmt.Sprintf("%s/%d: %s %s", tp.Topic, tp.Partition, w.what, why)}
			if w.first != nil {
				a.Ops = append(a.Ops, verdict.Ref(*w.first))
			}
			res.Anomalies = append(res.Anomalies, a)
		}
		res.Partitions = append(res.Partitions, pr)
		res.Verdict = verdict.Worst(res.Verdict, pr.Verdict)
	}
	res.Overall = Recovery{since(overallFirst[history.Send], heal), since(overallFirst[history.Poll], heal)}
	if !judged {
		res.Verdict = verdict.Unknown // nothing was asked of the cluster after the heal
	}
	verdict.Sort(res.Anomalies)
	return res
}

// judge: recovered within the bound passes; later, or never although the
// history ran past the bound, fails; never, with the history ending before
// the bound elapsed, is unknown (the run stopped too soon to tell).
func judge(tried bool, elapsed, heal, bound, end int64) (verdict.Verdict, string) {
	switch {
	case !tried:
		return verdict.Pass, ""
	case elapsed >= 0 && elapsed <= bound:
		return verdict.Pass, ""
	case elapsed > bound:
		return verdict.Fail, fmt.Sprintf("took %v after the heal, more than the bound %v", time.Duration(elapsed), time.Duration(bound))
	case end-heal > bound:
		return verdict.Fail, fmt.Sprintf("never happened in the %v after the heal (bound %v)", time.Duration(end-heal), time.Duration(bound))
	default:
		return verdict.Unknown, ""
	}
}

func earlier(a, b *history.Operation) *history.Operation {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.Completion.Time < a.Completion.Time ||
		b.Completion.Time == a.Completion.Time && b.Completion.Index < a.Completion.Index:
		return b
	}
	return a
}

func since(o *history.Operation, heal int64) int64 {
	if o == nil {
		return -1
	}
	return o.Completion.Time - heal
}
