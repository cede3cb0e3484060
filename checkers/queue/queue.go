package queue

import (
	"fmt"
	"sort"

	"github.com/loglab/loglab/checkers/history"
	"github.com/loglab/loglab/checkers/verdict"
)

// Name is this checker's name in reports and on the command line.
const Name = "queue"

// Anomaly kinds, Jepsen's names where they coincide (package doc).
const (
	LostWrite       = "lost-write"
	Duplicate       = "duplicate"
	DivergentOffset = "divergent-offset"
	Gap             = "gap"
	Reorder         = "reorder"
	NonMonotonic    = "non-monotonic"
)

// Kinds lists every anomaly kind this checker reports, sorted.
var Kinds = []string{DivergentOffset, Duplicate, Gap, LostWrite, NonMonotonic, Reorder}

// Options tune the check.
type Options struct {
	// FinalReadsComplete says the history ends with reads that drained every
	// partition (the scenario healed everything and then read to the end):
	// an acknowledged value never read at all is then a lost write, not
	// merely unseen.
	FinalReadsComplete bool
}

// Stats count what the history holds.
type Stats struct {
	SendsOK   int `json:"sends_ok"`
	SendsFail int `json:"sends_fail"`
	// SendsInfo counts info and pending sends.
	SendsInfo int `json:"sends_info"`
	PollsOK   int `json:"polls_ok"`
	PollsFail int `json:"polls_fail"`
	PollsInfo int `json:"polls_info"`
	// RecordsRead counts records returned by ok polls.
	RecordsRead int `json:"records_read"`
	// UniqueValuesSent counts distinct values over all sends; UniqueValuesRead
	// over all ok polls.
	UniqueValuesSent int `json:"unique_values_sent"`
	UniqueValuesRead int `json:"unique_values_read"`
	// Unseen counts acknowledged values never read, where no read proves
	// them lost (Jepsen's "unseen"); not an anomaly by itself.
	Unseen int `json:"unseen"`
}

// Result is the checker's output.
type Result struct {
	Verdict   verdict.Verdict     `json:"verdict"`
	Stats     Stats               `json:"stats"`
	Counts    []verdict.KindCount `json:"counts"`
	Anomalies []verdict.Anomaly   `json:"anomalies"`
}

type tpo struct {
	tp     history.TopicPartition
	offset int64
}

// obs is the first operation that saw a value at a position.
type obs struct {
	value string
	pos   tpo
	op    int32 // index into ops
}

type valueInfo struct {
	at   []obs // distinct positions, first observer of each
	read bool
}

type checker struct {
	ops     []history.Operation
	opts    Options
	res     Result
	atPos   map[tpo][]obs // distinct values at a position
	values  map[string]*valueInfo
	offsets map[history.TopicPartition][]int64 // sorted, distinct: offsets known to exist
}

// Check looks for queue and durability anomalies in a paired history
// (history.Pair). It runs in O(n log n) for n operations and records read,
// the log factor from sorting offsets.
func Check(ops []history.Operation, opts Options) Result {
	c := &checker{
		ops: ops, opts: opts,
		atPos:  map[tpo][]obs{},
		values: map[string]*valueInfo{},
	}
	c.res.Anomalies = []verdict.Anomaly{}
	c.observe()
	c.knownOffsets()
	c.divergentAndDuplicate()
	c.lostWrites()
	c.consumers()
	c.producers()
	verdict.Sort(c.res.Anomalies)
	c.res.Counts = verdict.Count(c.res.Anomalies)
	c.res.Verdict = verdict.Pass
	if len(c.res.Anomalies) > 0 {
		c.res.Verdict = verdict.Fail
	}
	return c.res
}

func (c *checker) add(a verdict.Anomaly) { c.res.Anomalies = append(c.res.Anomalies, a) }

func (c *checker) ref(i int32) verdict.OpRef { return verdict.Ref(c.ops[i]) }

func tpOf(o *history.Operation) history.TopicPartition {
	return history.TopicPartition{Topic: o.Invoke.Topic, Partition: o.Partition()}
}

// observe records every acknowledged and every read (position, value) and
// counts the history.
func (c *checker) observe() {
	s := &c.res.Stats
	sent := map[string]bool{}
	readVals := 0
	for i := range c.ops {
		o := &c.ops[i]
		switch o.Invoke.F {
		case history.Send:
			sent[o.Invoke.Value] = true
			switch o.Outcome() {
			case history.OK:
				s.SendsOK++
				c.see(int32(i), tpo{tpOf(o), o.Offset()}, o.Invoke.Value, false)
			case history.Fail:
				s.SendsFail++
			default:
				s.SendsInfo++
			}
		case history.Poll:
			switch o.Outcome() {
			case history.OK:
				s.PollsOK++
				for _, r := range o.Completion.Records {
					s.RecordsRead++
					v := c.see(int32(i), tpo{tpOf(o), r.Offset}, r.Value, true)
					if !v.read {
						v.read = true
						readVals++
					}
				}
			case history.Fail:
				s.PollsFail++
			default:
				s.PollsInfo++
			}
		}
	}
	s.UniqueValuesSent, s.UniqueValuesRead = len(sent), readVals
}

func (c *checker) see(op int32, pos tpo, value string, read bool) *valueInfo {
	at := c.atPos[pos]
	found := false
	for _, x := range at {
		if x.value == value {
			found = true
			break
		}
	}
	if !found {
		c.atPos[pos] = append(at, obs{value, pos, op})
	}
	v := c.values[value]
	if v == nil {
		v = &valueInfo{}
		c.values[value] = v
	}
	found = false
	for _, x := range v.at {
		if x.pos == pos {
			found = true
			break
		}
	}
	if !found {
		v.at = append(v.at, obs{value, pos, op})
	}
	return v
}

// knownOffsets builds, per partition, the sorted offsets some operation
// proved to exist (acknowledged or read).
func (c *checker) knownOffsets() {
	c.offsets = map[history.TopicPartition][]int64{}
	for pos := range c.atPos { //detcheck:ordered each slice is sorted right after the loop
		c.offsets[pos.tp] = append(c.offsets[pos.tp], pos.offset)
	}
	for tp, offs := range c.offsets { //detcheck:ordered each key's slice is sorted independently
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		c.offsets[tp] = offs
	}
}

// known returns how many offsets in [from, to) are known to exist in tp, and
// the first of them.
func (c *checker) known(tp history.TopicPartition, from, to int64) (int, int64) {
	offs := c.offsets[tp]
	i := sort.Search(len(offs), func(i int) bool { return offs[i] >= from })
	j := sort.Search(len(offs), func(i int) bool { return offs[i] >= to })
	if i >= j {
		return 0, history.NoOffset
	}
	return j - i, offs[i]
}

func (c *checker) divergentAndDuplicate() {
	for pos, at := range c.atPos { //detcheck:ordered anomalies are sorted by (kind, position) in Check
		if len(at) < 2 {
			continue
		}
		a := verdict.Anomaly{Kind: DivergentOffset, Topic: pos.tp.Topic, Partition: pos.tp.Partition, Offset: pos.offset}
		vals := ""
		for i, x := range sortedObs(at) {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				vals += ", "
			}
			vals += fmt.Sprintf("%q", x.value)
		}
		a.Explanation = fmt.Sprintf("offset %d of %s/%d holds different values: %s", pos.offset, pos.tp.Topic, pos.tp.Partition, vals)
		c.add(a)
	}
	for value, v := range c.values { //detcheck:ordered anomalies are sorted by (kind, position, value) in Check
		if len(v.at) < 2 {
			continue
		}
		at := sortedObs(v.at)
		a := verdict.Anomaly{Kind: Duplicate, Topic: at[0].pos.tp.Topic, Partition: at[0].pos.tp.Partition, Offset: at[0].pos.offset, Value: value}
		where := ""
		for i, x := range at {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				where += ", "
			}
			where += fmt.Sprintf("%s/%d@%d", x.pos.tp.Topic, x.pos.tp.Partition, x.pos.offset)
		}
		a.Explanation = fmt.Sprintf("value %q is at %d positions: %s", value, len(at), where)
		c.add(a)
	}
}

// sortedObs orders observations by position then value, so evidence does
// not depend on the order a map was walked in.
func sortedObs(at []obs) []obs {
	out := append([]obs(nil), at...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.pos.tp.Topic != b.pos.tp.Topic:
			return a.pos.tp.Topic < b.pos.tp.Topic
		case a.pos.tp.Partition != b.pos.tp.Partition:
			return a.pos.tp.Partition < b.pos.tp.Partition
		case a.pos.offset != b.pos.offset:
			return a.pos.offset < b.pos.offset
		}
		return a.value < b.value
	})
	return out
}
