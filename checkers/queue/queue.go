package queue

import (
	"fmt"
	"slices"
	"sort"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
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

// The checker works on small integer ids instead of maps of structs: a
// partition id per (topic, partition), a value id per distinct value, a slot
// per position (partition id, offset) observed (positions.go). The first
// observation of each (value, position) is one obs, linked into two lists —
// the values at its slot and the positions of its value — which are almost
// always one long; the first entry of each is also kept inline in the slot
// and the value, so the common cases touch one or two cache lines.

// slot is a position some operation observed.
type slot struct {
	offset int64
	tp     int32
	first  int32 // head of the slot's obs list (nextAtSlot)
	n      int32 // distinct values observed there
	value0 int32 // the first value observed there
}

// obs is the first operation that saw a value at a position.
type obs struct {
	value, slot, op         int32
	nextAtSlot, nextOfValue int32 // -1 ends a list
}

type valueInfo struct {
	offset0    int64 // the first position the value was observed at (if n > 0)
	tp0        int32
	first      int32 // head of the value's obs list (nextOfValue), -1 if none
	n          int32 // distinct positions observed
	sent, read bool
}

type checker struct {
	ops  []history.Operation
	opts Options
	res  Result

	tps    []history.TopicPartition // by partition id, in order of first appearance
	tpID   map[history.TopicPartition]int32
	lastTP int32   // the partition id partition returned last
	opTP   []int32 // by op: partition id
	opVal  []int32 // by op: a send's value id, -1 for polls

	okSends, okPolls []int32 // ok operations, in op order

	valueID   map[string]int32
	values    []valueInfo // by value id
	valueText []string    // by value id
	positions
	obs     []obs
	offsets [][]int64 // by partition id: sorted, distinct offsets known to exist
}

// Check looks for queue and durability anomalies in a paired history
// (history.Pair). It runs in O(n log n) for n operations and records read:
// one pass with at most a hash lookup or two per send and per record, the
// log factor from sorting offsets (nearly sorted already, so it is cheap).
func Check(ops []history.Operation, opts Options) Result {
	sends := 0
	for i := range ops {
		if ops[i].Invoke.F == history.Send {
			sends++
		}
	}
	c := &checker{
		ops: ops, opts: opts,
		tpID:      map[history.TopicPartition]int32{},
		opTP:      make([]int32, len(ops)),
		opVal:     make([]int32, len(ops)),
		valueID:   make(map[string]int32, sends),
		values:    make([]valueInfo, 0, sends),
		valueText: make([]string, 0, sends),
		obs:       make([]obs, 0, sends),
		okSends:   make([]int32, 0, sends),
		okPolls:   make([]int32, 0, len(ops)-sends),
	}
	c.positions.init(len(ops), sends)
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

// partition interns o's partition (Operation.Partition); the last one is
// checked first, since runs of operations on one partition are common.
func (c *checker) partition(o *history.Operation) int32 {
	tp := history.TopicPartition{Topic: o.Invoke.Topic, Partition: o.Partition()}
	if len(c.tps) > 0 && tp == c.tps[c.lastTP] {
		return c.lastTP
	}
	id, ok := c.tpID[tp]
	if !ok {
		id = int32(len(c.tps))
		c.tpID[tp] = id
		c.tps = append(c.tps, tp)
		c.positions.addPartition()
	}
	c.lastTP = id
	return id
}

func (c *checker) value(v string) int32 {
	id, ok := c.valueID[v]
	if !ok {
		id = int32(len(c.values))
		c.valueID[v] = id
		c.values = append(c.values, valueInfo{first: -1})
		c.valueText = append(c.valueText, v)
	}
	return id
}

// observe records every acknowledged and every read (position, value) and
// counts the history.
func (c *checker) observe() {
	s := &c.res.Stats
	readVals := 0
	for i := range c.ops {
		o := &c.ops[i]
		tp := c.partition(o)
		c.opTP[i], c.opVal[i] = tp, -1
		switch o.Invoke.F {
		case history.Send:
			v := c.value(o.Invoke.Value)
			c.opVal[i] = v
			if !c.values[v].sent {
				c.values[v].sent = true
				s.UniqueValuesSent++
			}
			switch o.Outcome() {
			case history.OK:
				s.SendsOK++
				c.okSends = append(c.okSends, int32(i))
				c.see(int32(i), tp, o.Offset(), v)
			case history.Fail:
				s.SendsFail++
			default:
				s.SendsInfo++
			}
		case history.Poll:
			switch o.Outcome() {
			case history.OK:
				s.PollsOK++
				c.okPolls = append(c.okPolls, int32(i))
				for _, r := range o.Completion.Records {
					s.RecordsRead++
					v := c.read(int32(i), tp, r)
					if !c.values[v].read {
						c.values[v].read = true
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
	s.UniqueValuesRead = readVals
}

// read observes record r returned by poll op and returns its value id. Most
// records were acknowledged or read before at the same position with the
// same value: that is decided from the position alone, without hashing the
// value.
func (c *checker) read(op, tp int32, r history.Read) int32 {
	if sl := c.lookup(tp, r.Offset); sl >= 0 {
		if v := c.slots[sl].value0; c.valueText[v] == r.Value {
			return v
		}
	}
	v := c.value(r.Value)
	c.see(op, tp, r.Offset, v)
	return v
}

// see records that op observed value v at (tp, offset), unless an earlier
// operation did. A value is at a position iff the position holds the value
// (both lists gain the same obs), so the value's list — usually its inline
// first position alone — decides.
func (c *checker) see(op, tp int32, offset int64, v int32) {
	vi := &c.values[v]
	if vi.n > 0 {
		if vi.tp0 == tp && vi.offset0 == offset {
			return
		}
		for x := vi.first; x >= 0; x = c.obs[x].nextOfValue {
			if s := &c.slots[c.obs[x].slot]; s.tp == tp && s.offset == offset {
				return
			}
		}
	} else {
		vi.tp0, vi.offset0 = tp, offset
	}
	sl := c.slot(tp, offset)
	id := int32(len(c.obs))
	c.obs = append(c.obs, obs{value: v, slot: sl, op: op, nextAtSlot: c.slots[sl].first, nextOfValue: vi.first})
	s := &c.slots[sl]
	if s.n == 0 {
		s.value0 = v
	}
	s.first, s.n = id, s.n+1
	vi.first, vi.n = id, vi.n+1
}

// knownOffsets builds, per partition, the sorted offsets some operation
// proved to exist (acknowledged or read).
func (c *checker) knownOffsets() {
	n := make([]int, len(c.tps))
	for i := range c.slots {
		n[c.slots[i].tp]++
	}
	c.offsets = make([][]int64, len(c.tps))
	for tp := range c.offsets {
		c.offsets[tp] = make([]int64, 0, n[tp])
	}
	for i := range c.slots {
		s := &c.slots[i]
		c.offsets[s.tp] = append(c.offsets[s.tp], s.offset)
	}
	for _, offs := range c.offsets {
		slices.Sort(offs)
	}
}

// known returns how many offsets in [from, to) are known to exist in tp, and
// the first of them.
func (c *checker) known(tp int32, from, to int64) (int, int64) {
	offs := c.offsets[tp]
	i, _ := slices.BinarySearch(offs, from)
	j, _ := slices.BinarySearch(offs, to)
	if i >= j {
		return 0, history.NoOffset
	}
	return j - i, offs[i]
}

// seen is one observation spelled out, for evidence.
type seen struct {
	value  string
	tp     history.TopicPartition
	offset int64
	op     int32
}

// atSlot lists the first observation of each value at slot sl, sorted.
func (c *checker) atSlot(sl int32) []seen {
	var out []seen
	for x := c.slots[sl].first; x >= 0; x = c.obs[x].nextAtSlot {
		out = append(out, c.spell(x))
	}
	return sortedObs(out)
}

func (c *checker) spell(x int32) seen {
	o := &c.obs[x]
	s := &c.slots[o.slot]
	return seen{c.valueText[o.value], c.tps[s.tp], s.offset, o.op}
}

func (c *checker) divergentAndDuplicate() {
	for sl := range c.slots {
		if c.slots[sl].n < 2 {
			continue
		}
		at := c.atSlot(int32(sl))
		tp, offset := at[0].tp, at[0].offset
		a := verdict.Anomaly{Kind: DivergentOffset, Topic: tp.Topic, Partition: tp.Partition, Offset: offset}
		vals := ""
		for i, x := range at {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				vals += ", "
			}
			vals += fmt.Sprintf("%q", x.value)
		}
		a.Explanation = fmt.Sprintf("offset %d of %s/%d holds different values: %s", offset, tp.Topic, tp.Partition, vals)
		c.add(a)
	}
	for v := range c.values {
		if c.values[v].n < 2 {
			continue
		}
		var at []seen
		for x := c.values[v].first; x >= 0; x = c.obs[x].nextOfValue {
			at = append(at, c.spell(x))
		}
		at = sortedObs(at)
		value := c.valueText[v]
		a := verdict.Anomaly{Kind: Duplicate, Topic: at[0].tp.Topic, Partition: at[0].tp.Partition, Offset: at[0].offset, Value: value}
		where := ""
		for i, x := range at {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				where += ", "
			}
			where += fmt.Sprintf("%s/%d@%d", x.tp.Topic, x.tp.Partition, x.offset)
		}
		a.Explanation = fmt.Sprintf("value %q is at %d positions: %s", value, len(at), where)
		c.add(a)
	}
}

// sortedObs orders observations by position then value, so evidence does
// not depend on the order they were recorded in.
func sortedObs(out []seen) []seen {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.tp.Topic != b.tp.Topic:
			return a.tp.Topic < b.tp.Topic
		case a.tp.Partition != b.tp.Partition:
			return a.tp.Partition < b.tp.Partition
		case a.offset != b.offset:
			return a.offset < b.offset
		}
		return a.value < b.value
	})
	return out
}
